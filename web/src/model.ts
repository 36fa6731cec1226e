// The shapes the views work with, made from the service's JSON.
//
// The service's JSON is typed by its OpenAPI document: `api-types.ts` is generated from it (`npm run gen:api`;
// `npm run lint` fails while it is out of date), so a field the service renames breaks the build here rather
// than a page. The views keep shapes of their own (camelCase, a quote that a tick and a REST price both fill);
// the functions below map the service's types onto them, field by field, and guess nothing.

import type { components } from "./api-types";
import { direction, type Sign } from "./format";

/** The service's JSON by schema name: `Wire["Snapshot"]`, `Wire["ServerMessage"]`, … */
export type Wire = components["schemas"];

/** The moving averages drawn and sent by the service (`ma` keys of a candle). */
export const MA_WINDOWS = ["20", "60", "120", "240"] as const;

/** One fixed colour per average, everywhere (the chart's lines and the legends). */
export const MA_COLORS: Record<(typeof MA_WINDOWS)[number], string> = {
  "20": "#f08c00",
  "60": "#2b8a3e",
  "120": "#7048e8",
  "240": "#0c8599",
};

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
  /** 전일종가 (기준가): the base of the day's change and limits. */
  basePrice: number | null;
  upperLimit: number | null;
  lowerLimit: number | null;
  w52High: number | null;
  w52Low: number | null;
}

/** The periods a stock page's chart offers (the page opens on `D` when the URL names none of them). */
export const CHART_PERIODS = ["1m", "5m", "30m", "60m", "D", "W", "M"] as const;

/**
 * The bars a stock page first asks for at a window `viewport` px wide (or a chart box `box` px wide once it is
 * laid out): the bars the chart shows at the library's default 6 px a bar, with a margin for a little
 * scrolling back; history beyond that is not worth a slower first draw. At least 260: a live bar's MA240 is
 * computed from the 239 closes before it, so a new bar (the next minute) gets its MA240 too. The side panels
 * take 364 px of a wide window. `public/prefetch.js` computes the same (checked by `test/prefetch.test.ts`).
 */
export function firstBars(viewport: number, box?: number): number {
  const width = box ?? (viewport > 1000 ? viewport - 364 : viewport - 16);
  return Math.min(400, Math.max(260, Math.ceil(width / 6) + 20));
}

/** A quote with nothing known yet but its stock. */
export function emptyQuote(code: string, name = "", market = ""): Quote {
  return {
    code,
    name,
    market,
    price: null,
    change: null,
    rate: null,
    sign: "flat",
    open: null,
    high: null,
    low: null,
    volume: null,
    turnover: null,
    status: null,
    basePrice: null,
    upperLimit: null,
    lowerLimit: null,
    w52High: null,
    w52Low: null,
  };
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
  /** 체결강도 in percent. */
  strength: number;
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
  /** `null` while the service could not store it yet (a `trigger_unstored`); the stored copy brings it. */
  id: number | null;
  /** `<condition_id>:<code>:<period>:<bar_time>`: the same before and after it is stored. */
  key: string;
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
  notify: boolean;
  sound: boolean;
  /** Alert channel ids (`/channels`). */
  channels: number[];
  /** The period of its bars, as the service parsed it (`null`: it does not parse any more). */
  period: string | null;
  /** Where it looks: the watchlist, or every KOSPI/KOSDAQ listing (조건검색, D/W/M only). */
  scope: ConditionScope;
  /** Which listings a market-scope condition covers (`null` for the watchlist scope). */
  filters: ScanFilters | null;
}

// ---- 조건검색 (market-scope conditions) ---------------------------------------------------------------------
// `ConditionScope`, `ScanExclusion` and `ScanFilters` mirror the OpenAPI schemas of the same names (the form
// edits them with every field present); the scan's answers (`/conditions/{id}/matches`, `/events`, the
// `scan_event` and `scan_sweep` messages) are the generated types (`…Wire`), mapped like the others.

export type ConditionScope = "watchlist" | "market";
export type ScanExclusion = "etf" | "etn" | "spac" | "preferred" | "managed" | "halted" | "warning";

/** Every exclusion, in the order the form offers them. */
export const SCAN_EXCLUSIONS: readonly ScanExclusion[] = ["etf", "etn", "spac", "preferred", "managed", "halted", "warning"];

export interface ScanFilters {
  /** `KOSPI`, `KOSDAQ`; empty: both. */
  markets: string[];
  exclude: ScanExclusion[];
  /** The lowest current price, KRW. */
  min_price: number | null;
  /** The lowest 거래대금 today, KRW. */
  min_turnover: number | null;
}

/** Filters as the service may send them (every field optional), with the missing ones filled. */
export function scanFiltersFrom(f: { markets?: string[]; exclude?: string[]; min_price?: number | null; min_turnover?: number | null } | null | undefined): ScanFilters | null {
  if (!f) return null;
  return {
    markets: [...(f.markets ?? [])],
    exclude: (f.exclude ?? []).filter((x): x is ScanExclusion => (SCAN_EXCLUSIONS as readonly string[]).includes(x)),
    min_price: f.min_price ?? null,
    min_turnover: f.min_turnover ?? null,
  };
}

/** `GET /api/v1/conditions/{id}/matches`'s `progress`: the universe's daily history being built. */
export type ScanProgressWire = Wire["UniverseProgress"];
export type ScanMatchWire = Wire["ScanMatch"];
/** `GET /api/v1/conditions/{id}/matches`. */
export type ScanMatchesWire = Wire["ScanMatches"];
/** An item of `GET /api/v1/conditions/{id}/events`, and the body of a `scan_event` message. */
export type ScanEventWire = Wire["ScanEvent"];
/** A `scan_sweep` message's body: a sweep of the condition ended. */
export type ScanSweepWire = Wire["ScanSweep"];

export interface ScanProgress {
  stocksDone: number;
  stocksTotal: number;
  callsLeft: number;
  etaSecs: number | null;
  complete: boolean;
}

export interface ScanMatch {
  code: string;
  name: string;
  market: string;
  price: number | null;
  change: number | null;
  rate: number | null;
  turnover: number | null;
  volume: number | null;
  since: string;
  values: Record<string, number>;
}

export interface ScanResult {
  conditionId: number;
  name: string;
  expr: string;
  period: string;
  /** The market time of the last sweep (`null`: none yet). */
  asOf: string | null;
  /** The session is over: today's bar is final. */
  closed: boolean;
  universe: number;
  evaluated: number;
  progress: ScanProgress;
  /** The kept history is too short for the condition's longest average (sessions needed, sessions kept). */
  shortHistory: { needed: number; kept: number } | null;
  matches: ScanMatch[];
}

export interface ScanEvent {
  id: number;
  conditionId: number;
  code: string;
  name: string;
  kind: "enter" | "leave";
  time: string;
  price: number | null;
  rate: number | null;
  turnover: number | null;
  values: Record<string, number>;
}

export function scanMatchFrom(m: ScanMatchWire): ScanMatch {
  return {
    code: m.code,
    name: m.name,
    market: m.market,
    price: m.price,
    change: m.change,
    rate: m.change_rate,
    turnover: m.turnover,
    volume: m.volume,
    since: m.since,
    values: { ...m.values },
  };
}

export function scanResultFrom(r: ScanMatchesWire): ScanResult {
  const p = r.progress;
  return {
    conditionId: r.condition_id,
    name: r.name,
    expr: r.expr,
    period: r.period,
    asOf: r.as_of,
    closed: r.closed,
    universe: r.universe,
    evaluated: r.evaluated,
    progress: { stocksDone: p.stocks_done, stocksTotal: p.stocks_total, callsLeft: p.calls_left, etaSecs: p.eta_secs, complete: p.complete },
    shortHistory: r.history && !r.history.enough ? { needed: r.history.sessions_needed, kept: r.history.sessions_kept } : null,
    matches: r.matches.map(scanMatchFrom),
  };
}

export function scanEventFrom(e: ScanEventWire): ScanEvent {
  return {
    id: e.id,
    conditionId: e.condition_id,
    code: e.code,
    name: e.name,
    kind: e.kind,
    time: e.time,
    price: e.price,
    rate: e.change_rate,
    turnover: e.turnover,
    values: { ...e.values },
  };
}

/** One day of a market scan's backtest. */
export interface ScanBacktestDay {
  /** `2026-11-27` */
  date: string;
  /** Listings whose condition value was known that day. */
  evaluated: number;
  matches: number;
  /** Listings entering (편입): true that day, false or unknown the day before. */
  entries: number;
}

/** Forward returns after 편입 at one horizon, beside the universe's over the same days. */
export interface ScanBacktestHorizon {
  /** Bars of the condition's period. */
  bars: number;
  samples: number;
  /** Mean gross percent return after an entry. */
  meanReturn: number | null;
  /** Share (0..1) of entries with a positive return. */
  hitRate: number | null;
  universeSamples: number;
  universeMeanReturn: number | null;
  universeHitRate: number | null;
}

/** `GET /api/v1/conditions/{id}/backtest`: a market scan run over the universe's stored history. */
export interface ScanBacktest {
  conditionId: number;
  expr: string;
  period: string;
  /** Listings the filters admit (by the master's flags only). */
  universe: number;
  /** Listings with stored history (fewer than `universe` while the backfill runs). */
  stocks: number;
  first: string | null;
  last: string | null;
  days: ScanBacktestDay[];
  entries: number;
  horizons: ScanBacktestHorizon[];
  shortHistory: boolean;
  tookMs: number;
}

export function scanBacktestFrom(r: Wire["ScanBacktestReport"]): ScanBacktest {
  return {
    conditionId: r.condition_id,
    expr: r.expr,
    period: r.period,
    universe: r.universe,
    stocks: r.stocks,
    first: r.first,
    last: r.last,
    days: r.days.map((d) => ({ date: d.date, evaluated: d.evaluated, matches: d.matches, entries: d.entries })),
    entries: r.entries,
    horizons: r.horizons.map((x) => ({
      bars: x.bars,
      samples: x.samples,
      meanReturn: x.mean_return,
      hitRate: x.hit_rate,
      universeSamples: x.universe_samples,
      universeMeanReturn: x.universe_mean_return,
      universeHitRate: x.universe_hit_rate,
    })),
    shortHistory: r.short_history,
    tookMs: r.took_ms,
  };
}

// ---- KIS's own scans (순위, HTS 조건검색) ----

export type KisRanking = "volume" | "turnover" | "rise" | "fall";

export interface KisScanRow {
  rank: number;
  code: string;
  name: string;
  price: number;
  change: number;
  rate: number;
  volume: number;
  /** 거래대금 where KIS gives it (`null` for 등락률순위). */
  turnover: number | null;
}

/** A KIS ranking or an HTS condition's result; `available: false` (모의투자, no HTS ID) is not a failure. */
export interface KisScan {
  source: string;
  available: boolean;
  reasonKo: string | null;
  reason: string | null;
  /** What KIS limits (30 rows with no next page; 100 results, once a minute). */
  limitsKo: string;
  rows: KisScanRow[];
}

export interface HtsConditions {
  available: boolean;
  reasonKo: string | null;
  reason: string | null;
  conditions: Wire["HtsCondition"][];
}

export function kisScanFrom(s: Wire["KisScan"]): KisScan {
  return {
    source: s.source,
    available: s.available,
    reason: s.reason,
    reasonKo: s.reason_ko,
    limitsKo: s.limits_ko,
    rows: s.rows.map((r) => ({ rank: r.rank, code: r.code, name: r.name, price: r.price, change: r.change, rate: r.change_rate, volume: r.volume, turnover: r.turnover })),
  };
}

export function htsConditionsFrom(c: Wire["HtsConditions"]): HtsConditions {
  return { available: c.available, reason: c.reason, reasonKo: c.reason_ko, conditions: c.conditions.map((x) => ({ seq: x.seq, group: x.group, name: x.name })) };
}

export interface BacktestSignal {
  time: string;
  /** The signal bar's close (the price a trade at the signal would have paid). */
  close: number;
  /** Percent return after 1, 5 and 20 bars (`null` where the history ends first). */
  returns: Record<string, number | null>;
  /** The same net of the costs. */
  netReturns: Record<string, number | null>;
}

export interface BacktestHorizon {
  bars: number;
  samples: number;
  /** Share of signals whose return net of costs is above zero, 0..1. */
  hitRate: number | null;
  /** Mean gross percent return. */
  meanReturn: number | null;
  /** Mean percent return net of costs. */
  netMeanReturn: number | null;
  /** The same from every bar of the span: what a signal must beat. */
  baseline: { samples: number; hitRate: number | null; meanReturn: number | null; netMeanReturn: number | null };
}

export interface BacktestResult {
  code: string;
  name: string;
  period: string;
  bars: number;
  /** The first and last bar tested. */
  from: string | null;
  to: string | null;
  evaluatedBars: number;
  shortHistory: boolean;
  costs: { commissionRate: number; taxRate: number };
  buyAndHold: { gross: number; net: number | null } | null;
  signals: BacktestSignal[];
  count: number;
  horizons: BacktestHorizon[];
}

/** The day's move of a REST price or a tick, as a quote's fields. */
function moved(p: Wire["PriceMove"]): Pick<Quote, "price" | "change" | "rate" | "sign" | "open" | "high" | "low"> {
  return { price: p.price, change: p.change, rate: p.change_rate, sign: p.sign, open: p.open, high: p.high, low: p.low };
}

/** What a REST price says beyond the move: the base, the limits, the year's range. */
function priceFacts(p: Wire["Price"]): Pick<Quote, "basePrice" | "upperLimit" | "lowerLimit" | "w52High" | "w52Low"> {
  return { basePrice: p.base_price, upperLimit: p.upper_limit, lowerLimit: p.lower_limit, w52High: p.w52_high, w52Low: p.w52_low };
}

/** `GET /stocks/{code}/price` (no feed status: the page keeps the one it has). */
export function quoteFromPrice(p: Wire["StockPrice"]): Quote {
  return { code: p.code, name: p.name, market: p.market, ...moved(p), volume: p.volume, turnover: p.turnover, status: null, ...priceFacts(p) };
}

/**
 * A WebSocket `tick` as a quote. Its `volume` is that one trade's size; the day's volume is `acc_volume` (a tick
 * carries no market, turnover or status: those stay as the page last had them).
 */
export function quoteFromTick(t: Wire["TickMessage"], market = ""): Quote {
  return {
    ...emptyQuote(t.code, t.name, market),
    ...moved(t),
    volume: t.acc_volume,
    turnover: t.acc_turnover,
    // The base follows from the move (price − change); the limits and the year's range stay as known.
    basePrice: t.price - t.change,
  };
}

/** A quote's price and what follows from it against the day's base price (전일종가) and limits. */
export function priceFields(price: number, q: Pick<Quote, "basePrice" | "upperLimit" | "lowerLimit">): Pick<Quote, "price" | "change" | "rate" | "sign"> {
  const base = q.basePrice;
  const change = base === null ? null : price - base;
  const rate = base === null || base === 0 || change === null ? null : Math.round((change / base) * 10_000) / 100;
  const sign: Sign = q.upperLimit !== null && price >= q.upperLimit ? "upper_limit" : q.lowerLimit !== null && price <= q.lowerLimit ? "lower_limit" : direction(change);
  return { price, change, rate, sign };
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
  return { time: e.time, price: e.price, change: e.change, quantity: e.volume, side: e.side, strength: e.strength };
}

/** Executions newest first (REST sends them newest first, the WebSocket oldest first). */
export function executionsFrom(list: Wire["Execution"][]): Execution[] {
  const out = list.map(executionFrom).filter((e): e is Execution => e !== null);
  return out.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

export function snapshotFrom(s: Wire["Snapshot"]): Snapshot {
  const p = s.price;
  return {
    quote: { code: s.code, name: s.name, market: s.market, ...moved(p), volume: p.volume, turnover: p.turnover, status: s.status, ...priceFacts(p) },
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

export function triggerFrom(t: Wire["Trigger"] | Wire["UnstoredTrigger"]): Trigger {
  return {
    id: t.id ?? null,
    key: t.key,
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
    acked: "acked" in t ? t.acked : false,
  };
}

/** Newest first: the ones not stored yet (the newest, as the store has not caught up), then by id. */
export function byNewest(a: Trigger, b: Trigger): number {
  if (a.id === null || b.id === null) return (a.id === null ? 0 : 1) - (b.id === null ? 0 : 1) || b.time.localeCompare(a.time);
  return b.id - a.id;
}

/** A trigger's identity in the page: its id once stored, its key before. */
export function triggerRef(t: Trigger): string {
  return t.id === null ? t.key : String(t.id);
}

export function watchItemFrom(w: Wire["WatchlistItem"]): WatchItem {
  return { code: w.code, name: w.name, market: w.market, quote: null, status: w.status, alignment: {} };
}

/** A condition as the service sends it; `scope` and `filters` are read whether or not the generated types know them. */
type ConditionWire = Wire["Condition"] & { scope?: string; filters?: Parameters<typeof scanFiltersFrom>[0] };

export function conditionFrom(c: ConditionWire): Condition {
  const scope: ConditionScope = c.scope === "market" ? "market" : "watchlist";
  return {
    id: c.id,
    name: c.name,
    expr: c.expr,
    enabled: c.enabled,
    mode: c.mode,
    cooldownSecs: c.cooldown_secs,
    webhook: c.webhook,
    notify: c.notify,
    sound: c.sound,
    period: c.period,
    channels: c.channels,
    scope,
    filters: scope === "market" ? (scanFiltersFrom(c.filters) ?? { markets: [], exclude: [], min_price: null, min_turnover: null }) : null,
  };
}

export function backtestFrom(r: Wire["BacktestReport"]): BacktestResult {
  return {
    code: r.code,
    name: r.name,
    period: r.period,
    bars: r.bars,
    from: r.from,
    to: r.to,
    evaluatedBars: r.evaluated_bars,
    shortHistory: r.short_history,
    costs: { commissionRate: r.costs.commission_rate, taxRate: r.costs.tax_rate },
    buyAndHold: r.buy_and_hold ? { gross: r.buy_and_hold.gross, net: r.buy_and_hold.net } : null,
    signals: r.signals.map((s) => ({ time: s.time, close: s.close, returns: { ...s.returns }, netReturns: { ...s.net_returns } })),
    count: r.summary.count,
    horizons: r.summary.horizons.map((h) => ({
      bars: h.bars,
      samples: h.samples,
      hitRate: h.hit_rate,
      meanReturn: h.mean_return,
      netMeanReturn: h.net_mean_return,
      baseline: { samples: h.baseline.samples, hitRate: h.baseline.hit_rate, meanReturn: h.baseline.mean_return, netMeanReturn: h.baseline.net_mean_return },
    })),
  };
}

/**
 * A trigger's values in the order a trader reads them: moving averages by window (20, 60, 120, 240),
 * then everything else in the condition's order.
 */
export function orderedValues(values: Record<string, number>): Array<[string, number]> {
  const window = (k: string) => {
    const m = /^ma\((\d+)\)$/.exec(k);
    return m ? Number(m[1]) : Infinity;
  };
  return Object.entries(values)
    .map((e, i) => ({ e, i, w: window(e[0]) }))
    .sort((a, b) => a.w - b.w || a.i - b.i)
    .map((x) => x.e);
}

/** Triggers of one (stock, condition) on one trading day, newest first: one line of the signal list. */
export interface TriggerGroup {
  key: string;
  latest: Trigger;
  /** Every trigger of the group, newest first (`latest` included). */
  items: Trigger[];
}

/** Groups repeats (same stock, same condition, same trading day) keeping the newest-first order of their newest. */
export function groupTriggers(list: readonly Trigger[]): TriggerGroup[] {
  const groups = new Map<string, TriggerGroup>();
  const sorted = [...list].sort(byNewest);
  for (const tr of sorted) {
    const key = `${tr.code}|${tr.conditionId}|${tr.barTime.slice(0, 10)}`;
    const g = groups.get(key);
    if (g) g.items.push(tr);
    else groups.set(key, { key, latest: tr, items: [tr] });
  }
  return [...groups.values()];
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
