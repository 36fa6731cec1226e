// The shapes the views work with, made from the service's JSON.
//
// The service's JSON is typed by its OpenAPI document: `api-types.ts` is generated from it (`npm run gen:api`;
// `npm run lint` fails while it is out of date), so a field the service renames breaks the build here rather
// than a page. The views keep shapes of their own (camelCase, a quote that a tick and a REST price both fill);
// the functions below map the service's types onto them, field by field, and guess nothing.

import type { components } from "./api-types";
import type { Sign } from "./format";

/** The service's JSON by schema name: `Wire["Snapshot"]`, `Wire["ServerMessage"]`, … */
export type Wire = components["schemas"];

/** The moving averages drawn and sent by the service (`ma` keys of a candle). */
export const MA_WINDOWS = ["20", "60", "120", "240"] as const;

export type Alignment = Wire["Alignment"];
export type StockStatus = Wire["FeedState"];

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
  change: number;
  quantity: number;
  /** Who initiated: a buyer lifting the offer (`buy`, red) or a seller hitting the bid (`sell`, blue). */
  side: "buy" | "sell" | null;
}

export interface Snapshot {
  quote: Quote;
  orderbook: OrderBook | null;
  executions: Execution[];
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
  history: Wire["BarCount"];
  /** The service's history fetching for this stock, when it has a job for it. */
  backfill: Backfill | null;
}

/** A stock's history backfill as the service reports it (`backfill` of `/stocks/{code}` and `/candles`). */
export type Backfill = Wire["BackfillProgress"];

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
  conditionId: number;
  conditionName: string;
  period: string;
  barTime: string;
  time: string;
  price: number;
  /** The values that made the condition true, by label, in the condition's order. */
  values: Record<string, number>;
  late: boolean;
  acked: boolean;
}

export interface WatchItem {
  code: string;
  name: string;
  market: string;
  /** Filled by ticks and price refreshes (the watchlist itself carries none). */
  quote: Quote | null;
  status: StockStatus | null;
  /** Alignment per period (`"30m"`, `"D"`…), filled from the candles of the periods conditions use. */
  alignment: Record<string, Alignment | null>;
}

export type SearchHit = Wire["SearchHit"];

export interface Condition {
  id: number;
  name: string;
  expr: string;
  enabled: boolean;
  mode: Wire["ConditionMode"];
  cooldownSecs: number;
  webhook: string | null;
}

export interface BacktestSignal {
  time: string;
  price: number;
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
  bars: number;
  signals: BacktestSignal[];
  count: number;
  horizons: BacktestHorizon[];
}

/** The day's move of a REST price or a tick, as a quote's fields. */
function moved(p: Wire["PriceMove"]): Pick<Quote, "price" | "change" | "rate" | "sign" | "open" | "high" | "low"> {
  return { price: p.price, change: p.change, rate: p.change_rate, sign: p.sign, open: p.open, high: p.high, low: p.low };
}

/** `GET /stocks/{code}/price` (no feed status: the page keeps the one it has). */
export function quoteFromPrice(p: Wire["StockPrice"]): Quote {
  return { code: p.code, name: p.name, market: p.market, ...moved(p), volume: p.volume, turnover: p.turnover, status: null };
}

/**
 * A WebSocket `tick` as a quote. Its `volume` is that one trade's size; the day's volume is `acc_volume` (a tick
 * carries no market, turnover or status: those stay as the page last had them).
 */
export function quoteFromTick(t: Wire["TickMessage"], market = ""): Quote {
  return { code: t.code, name: t.name, market, ...moved(t), volume: t.acc_volume, turnover: null, status: null };
}

/** An order book with its empty levels (price 0) left out, nearest first; `null` when both sides are empty. */
export function orderBookFrom(b: Wire["OrderBook"]): OrderBook | null {
  const levels = (side: Wire["Level"][]) => side.filter((l) => l.price > 0).map((l) => ({ price: l.price, quantity: l.quantity }));
  const asks = levels(b.asks).sort((x, y) => x.price - y.price).slice(0, 10);
  const bids = levels(b.bids).sort((x, y) => y.price - x.price).slice(0, 10);
  if (asks.length === 0 && bids.length === 0) return null;
  return { asks, bids, totalAsk: b.total_ask_quantity, totalBid: b.total_bid_quantity };
}

/** An execution, or `null` while its time is not known (a REST list before the market date is known). */
export function executionFrom(e: Wire["Execution"]): Execution | null {
  if (e.time === null) return null;
  return { time: e.time, price: e.price, change: e.change, quantity: e.volume, side: e.side };
}

/** Executions newest first (REST sends them newest first, the WebSocket oldest first). */
export function executionsFrom(list: Wire["Execution"][]): Execution[] {
  const out = list.map(executionFrom).filter((e): e is Execution => e !== null);
  return out.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

export function snapshotFrom(s: Wire["Snapshot"]): Snapshot {
  const p = s.price;
  return {
    quote: { code: s.code, name: s.name, market: s.market, ...moved(p), volume: p.volume, turnover: p.turnover, status: s.status },
    orderbook: orderBookFrom(s.orderbook),
    executions: executionsFrom(s.executions),
  };
}

/** A bar of `/candles` (with the service's averages) or of a `candle` message (none: the page fills them). */
export function candleFrom(c: Wire["ChartCandle"] | Wire["Candle"]): Candle {
  return { time: c.time, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, ma: "ma" in c ? { ...c.ma } : {} };
}

export function candleSetFrom(c: Wire["Candles"]): CandleSet {
  return { code: c.code, period: c.period, candles: c.candles.map(candleFrom), alignment: c.alignment, history: c.history, backfill: c.backfill };
}

export function triggerFrom(t: Wire["Trigger"]): Trigger {
  return {
    id: t.id,
    code: t.code,
    name: t.name,
    conditionId: t.condition_id,
    conditionName: t.condition_name,
    period: t.period,
    barTime: t.bar_time,
    time: t.time,
    price: t.price,
    values: { ...t.values },
    late: t.late,
    acked: t.acked,
  };
}

export function watchItemFrom(w: Wire["WatchlistItem"]): WatchItem {
  return { code: w.code, name: w.name, market: w.market, quote: null, status: w.status, alignment: {} };
}

export function conditionFrom(c: Wire["Condition"]): Condition {
  return { id: c.id, name: c.name, expr: c.expr, enabled: c.enabled, mode: c.mode, cooldownSecs: c.cooldown_secs, webhook: c.webhook };
}

export function backtestFrom(r: Wire["BacktestReport"]): BacktestResult {
  return {
    period: r.period,
    bars: r.bars,
    signals: r.signals.map((s) => ({ time: s.time, price: s.close, returns: { ...s.returns } })),
    count: r.summary.count,
    horizons: r.summary.horizons.map((h) => ({ bars: h.bars, samples: h.samples, hitRate: h.hit_rate, meanReturn: h.mean_return })),
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
