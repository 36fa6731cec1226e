// The shapes the views work with, and the readers that build them from the service's JSON.
//
// The contract (docs/design.md, "The external contract") fixes the resources and most names but not every field of a
// quote, an order book or an execution. The readers here accept the few spellings such a field plausibly has
// (`change_rate` or `rate`, `quantity` or `qty`) and turn everything into one typed shape, so the views never
// guess and a renamed field degrades to "—" instead of breaking a page.

import { toSign, type Sign } from "./format";

/** The moving averages drawn and sent by the service (`ma` keys of a candle). */
export const MA_WINDOWS = ["20", "60", "120", "240"] as const;

export type Alignment = "bullish" | "bearish" | "mixed";
export type StockStatus = "realtime" | "polled" | "stale";

export interface Quote {
  code: string;
  name: string;
  market: string;
  price: number | null;
  change: number | null;
  rate: number | null;
  sign: Sign;
  open: number | null;
  high: number | null;
  low: number | null;
  volume: number | null;
  turnover: number | null;
  status: StockStatus | null;
}

export interface Level {
  price: number;
  quantity: number;
}

export interface OrderBook {
  /** Nearest (lowest) ask first. */
  asks: Level[];
  /** Nearest (highest) bid first. */
  bids: Level[];
  totalAsk: number;
  totalBid: number;
}

export interface Execution {
  time: string;
  price: number;
  change: number | null;
  quantity: number;
  /** Who initiated: a buyer lifting the offer (`buy`, red) or a seller hitting the bid (`sell`, blue). */
  side: "buy" | "sell" | null;
}

export interface Snapshot {
  quote: Quote;
  orderbook: OrderBook | null;
  executions: Execution[];
  strength: number | null;
}

export interface Candle {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  ma: Record<string, number | null>;
}

export interface CandleSet {
  code: string;
  period: string;
  candles: Candle[];
  alignment: Alignment | null;
  history: { have: number; need: number } | null;
  /** The service's history fetching for this stock, when it has a job for it. */
  backfill: Backfill | null;
}

/** A stock's history backfill as the service reports it (`backfill` of `/stocks/{code}` and `/candles`). */
export interface Backfill {
  done: boolean;
  daily: { have: number; need: number };
  minutes: { have: number; need: number };
}

export function readBackfill(raw: unknown): Backfill | null {
  if (!raw || typeof raw !== "object") return null;
  const o = obj(raw);
  const have = (v: unknown) => {
    const x = obj(v);
    return { have: num(x, "have") ?? 0, need: num(x, "need") ?? 0 };
  };
  return { done: o.done === true, daily: have(o.daily), minutes: have(o.minutes) };
}

/**
 * Whether the history behind a chart of `period` is still being fetched: the page asks for its candles again
 * once it is not. Daily, weekly and monthly charts stand on daily bars, intraday ones on minutes.
 */
export function historyPending(b: Backfill | null, period: string): boolean {
  if (!b || b.done) return false;
  const part = /^\d+m$/.test(period) ? b.minutes : b.daily;
  return part.have < part.need;
}

export interface Trigger {
  id: number;
  code: string;
  name: string;
  conditionId: number | null;
  conditionName: string;
  period: string;
  barTime: string;
  time: string;
  price: number | null;
  values: Record<string, number | string | boolean | null>;
  late: boolean;
  acked: boolean;
}

export interface WatchItem {
  code: string;
  name: string;
  market: string;
  quote: Quote | null;
  status: StockStatus | null;
  /** Alignment per period (`"30m"`, `"D"`…), as the watchlist reports it. */
  alignment: Record<string, Alignment | null>;
}

export interface SearchHit {
  code: string;
  name: string;
  market: string;
  kind: string;
}

export interface Condition {
  id: number;
  name: string;
  expr: string;
  enabled: boolean;
  mode: string | null;
  cooldownSecs: number | null;
  webhook: string | null;
}

export interface BacktestSignal {
  time: string;
  price: number | null;
  /** Percent return after 1, 5 and 20 bars (`null` where the history ends first). */
  returns: Record<string, number | null>;
}

export interface BacktestHorizon {
  bars: number;
  samples: number;
  /** Share of signals with a positive return, 0..1. */
  hitRate: number | null;
  /** Mean percent return. */
  meanReturn: number | null;
}

export interface BacktestResult {
  period: string;
  bars: number | null;
  signals: BacktestSignal[];
  count: number;
  horizons: BacktestHorizon[];
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

/** The first of `keys` that holds a finite number (numbers only: the contract forbids decimal strings). */
export function num(o: Json, ...keys: string[]): number | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return null;
}

function str(o: Json, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
  }
  return null;
}

function arr(o: Json, ...keys: string[]): unknown[] {
  for (const k of keys) {
    if (Array.isArray(o[k])) return o[k] as unknown[];
  }
  return [];
}

export function readAlignment(v: unknown): Alignment | null {
  return v === "bullish" || v === "bearish" || v === "mixed" ? v : null;
}

export function readStatus(v: unknown): StockStatus | null {
  const s = typeof v === "object" && v !== null ? (v as Json).status ?? (v as Json).state : v;
  return s === "realtime" || s === "polled" || s === "stale" ? s : null;
}

/** A quote from a flat object or one nested under `price` / `quote`. */
export function readQuote(raw: unknown, fallback: { code?: string; name?: string; market?: string } = {}): Quote {
  const outer = obj(raw);
  const inner = typeof outer.price === "object" ? obj(outer.price) : typeof outer.quote === "object" ? obj(outer.quote) : outer;
  const pick = (...keys: string[]) => num(inner, ...keys) ?? num(outer, ...keys);
  const change = pick("change", "diff", "change_amount");
  return {
    code: str(outer, "code") ?? str(inner, "code") ?? fallback.code ?? "",
    name: str(outer, "name") ?? str(inner, "name") ?? fallback.name ?? "",
    market: str(outer, "market") ?? str(inner, "market") ?? fallback.market ?? "",
    price: pick("price", "current", "last", "close"),
    change,
    rate: pick("change_rate", "rate", "change_pct", "change_percent"),
    sign: toSign(inner.sign ?? outer.sign, change),
    open: pick("open"),
    high: pick("high"),
    low: pick("low"),
    volume: pick("volume", "acc_volume", "accumulated_volume"),
    turnover: pick("turnover", "trading_value", "acc_turnover", "amount", "value"),
    status: readStatus(outer.status ?? inner.status),
  };
}

/**
 * A WebSocket `tick` as a quote. Its `volume` is that one trade's size; the day's volume is `acc_volume`
 * (a tick carries no turnover and no status: those stay as the page last had them).
 */
export function readTick(raw: unknown, fallback: { code?: string; name?: string; market?: string } = {}): Quote {
  const o = obj(raw);
  return { ...readQuote(o, fallback), volume: num(o, "acc_volume", "accumulated_volume"), turnover: null, status: null };
}

function readLevels(v: unknown[]): Level[] {
  return v
    .map((l) => {
      const o = obj(l);
      return { price: num(o, "price") ?? NaN, quantity: num(o, "quantity", "qty", "volume", "size") ?? 0 };
    })
    .filter((l) => Number.isFinite(l.price) && l.price > 0);
}

export function readOrderBook(raw: unknown): OrderBook | null {
  const o = obj(raw);
  const asks = readLevels(arr(o, "asks", "ask")).sort((a, b) => a.price - b.price).slice(0, 10);
  const bids = readLevels(arr(o, "bids", "bid")).sort((a, b) => b.price - a.price).slice(0, 10);
  if (asks.length === 0 && bids.length === 0) return null;
  const sum = (ls: Level[]) => ls.reduce((s, l) => s + l.quantity, 0);
  return {
    asks,
    bids,
    totalAsk: num(o, "total_ask", "total_ask_quantity", "ask_total") ?? sum(asks),
    totalBid: num(o, "total_bid", "total_bid_quantity", "bid_total") ?? sum(bids),
  };
}

export function readExecution(raw: unknown): Execution | null {
  const o = obj(raw);
  const price = num(o, "price");
  const time = str(o, "time");
  if (price === null || time === null) return null;
  const sideRaw = str(o, "side", "aggressor", "initiator");
  const side = sideRaw === "buy" || sideRaw === "bid" ? "buy" : sideRaw === "sell" || sideRaw === "ask" ? "sell" : null;
  return { time, price, change: num(o, "change"), quantity: num(o, "quantity", "qty", "volume") ?? 0, side };
}

export function readExecutions(raw: unknown): Execution[] {
  const list = Array.isArray(raw) ? raw : arr(obj(raw), "executions", "items", "trades");
  const out = list.map(readExecution).filter((e): e is Execution => e !== null);
  // Newest first, whatever order the server chose.
  return out.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

export function readSnapshot(raw: unknown, code: string): Snapshot {
  const o = obj(raw);
  const stock = obj(o.stock);
  const fallback = { code, name: str(stock, "name") ?? undefined, market: str(stock, "market") ?? undefined };
  const ex = o.executions;
  return {
    quote: readQuote(o.quote ?? o, fallback),
    orderbook: readOrderBook(o.orderbook ?? o.order_book),
    executions: readExecutions(ex ?? []),
    strength: num(o, "strength") ?? num(obj(ex), "strength", "execution_strength"),
  };
}

export function readCandle(raw: unknown): Candle | null {
  const o = obj(raw);
  const time = str(o, "time");
  const open = num(o, "open");
  const high = num(o, "high");
  const low = num(o, "low");
  const close = num(o, "close");
  if (time === null || open === null || high === null || low === null || close === null) return null;
  const ma: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(obj(o.ma))) ma[k] = typeof v === "number" ? v : null;
  return { time, open, high, low, close, volume: num(o, "volume") ?? 0, ma };
}

export function readCandleSet(raw: unknown): CandleSet {
  const o = obj(raw);
  const h = obj(o.history);
  const have = num(h, "have");
  const need = num(h, "need");
  return {
    code: str(o, "code") ?? "",
    period: str(o, "period") ?? "",
    candles: arr(o, "candles").map(readCandle).filter((c): c is Candle => c !== null),
    alignment: readAlignment(o.alignment),
    history: have !== null && need !== null ? { have, need } : null,
    backfill: readBackfill(o.backfill),
  };
}

export function readTrigger(raw: unknown): Trigger | null {
  const o = obj(raw);
  const id = num(o, "id");
  const code = str(o, "code");
  if (id === null || code === null) return null;
  const cond = obj(o.condition);
  const values: Trigger["values"] = {};
  for (const [k, v] of Object.entries(obj(o.values))) {
    values[k] = typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? v : null;
  }
  return {
    id,
    code,
    name: str(o, "name") ?? code,
    conditionId: num(o, "condition_id") ?? num(cond, "id"),
    conditionName: str(o, "condition_name") ?? str(cond, "name") ?? str(o, "expr") ?? "",
    period: str(o, "period") ?? "",
    barTime: str(o, "bar_time") ?? str(o, "time") ?? "",
    time: str(o, "time") ?? "",
    price: num(o, "price"),
    values,
    late: o.late === true,
    acked: o.acked === true,
  };
}

export function readWatchItem(raw: unknown): WatchItem | null {
  const o = obj(raw);
  const code = str(o, "code");
  if (code === null) return null;
  const hasQuote = num(o, "price") !== null || typeof o.price === "object" || typeof o.quote === "object";
  const alignment: Record<string, Alignment | null> = {};
  const al = o.alignment ?? o.alignments;
  if (Array.isArray(al)) {
    for (const a of al) {
      const p = str(obj(a), "period");
      if (p) alignment[p] = readAlignment(obj(a).alignment ?? obj(a).value);
    }
  } else {
    for (const [k, v] of Object.entries(obj(al))) alignment[k] = readAlignment(v);
  }
  return {
    code,
    name: str(o, "name") ?? code,
    market: str(o, "market") ?? "",
    quote: hasQuote ? readQuote(o) : null,
    status: readStatus(o.status),
    alignment,
  };
}

export function readSearchHit(raw: unknown): SearchHit | null {
  const o = obj(raw);
  const code = str(o, "code");
  if (code === null) return null;
  return { code, name: str(o, "name") ?? code, market: str(o, "market") ?? "", kind: str(o, "kind") ?? "" };
}

export function readCondition(raw: unknown): Condition | null {
  const o = obj(raw);
  const id = num(o, "id");
  if (id === null) return null;
  return {
    id,
    name: str(o, "name") ?? "",
    expr: str(o, "expr", "expression") ?? "",
    enabled: o.enabled !== false,
    mode: str(o, "mode"),
    cooldownSecs: num(o, "cooldown_secs"),
    webhook: str(o, "webhook"),
  };
}

export function readBacktest(raw: unknown): BacktestResult {
  const o = obj(raw);
  const summary = obj(o.summary);
  const signals = arr(o, "signals").map((s) => {
    const so = obj(s);
    const returns: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(obj(so.returns))) returns[k] = typeof v === "number" ? v : null;
    return { time: str(so, "bar_time", "time") ?? "", price: num(so, "close", "price"), returns };
  });
  const horizons = arr(summary, "horizons").map((x) => {
    const ho = obj(x);
    return {
      bars: num(ho, "bars") ?? 0,
      samples: num(ho, "samples") ?? 0,
      hitRate: num(ho, "hit_rate"),
      meanReturn: num(ho, "mean_return"),
    };
  });
  return {
    period: str(o, "period") ?? "",
    bars: num(o, "bars"),
    signals,
    count: num(summary, "count") ?? signals.length,
    horizons,
  };
}

/**
 * The bar with every missing average filled: the mean of the last `w` closes (this bar's included) when the
 * chart holds enough bars; otherwise, for an update of the bar already shown, the average it had (the
 * service's, exact over its full history, slightly behind the forming close). Left out when neither exists.
 */
export function fillAverages(bar: Candle, shown: readonly Candle[], replacesLast: boolean): Candle {
  const ma: Record<string, number | null> = { ...bar.ma };
  const before = replacesLast ? shown.slice(0, -1) : shown;
  for (const w of MA_WINDOWS) {
    if (typeof ma[w] === "number") continue;
    const n = Number(w);
    if (before.length >= n - 1) {
      let sum = bar.close;
      for (let i = before.length - (n - 1); i < before.length; i++) sum += before[i].close;
      ma[w] = sum / n;
    } else {
      const prev = replacesLast ? shown[shown.length - 1]?.ma[w] : undefined;
      ma[w] = typeof prev === "number" ? prev : null;
    }
  }
  return { ...bar, ma };
}
