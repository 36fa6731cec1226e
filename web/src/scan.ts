// 조건검색's arithmetic, apart from the page so the unit tests run it without a DOM: the result table's order
// and filter, the history collection's progress line, how live 편입/이탈 events land on a result set the page
// fetched earlier, the event list's merge, and the refetch that runs at most once a second; the backtest
// report's rows (horizons by period, the excess over the universe), why it is short, and its chart's paths.

import { formatKrw, formatRate } from "./format";
import { t } from "./i18n";
import type { ScanBacktest, ScanBacktestHorizon, ScanEvent, ScanMatch, ScanProgress, ScanResult } from "./model";

export type ScanSortKey = "name" | "price" | "rate" | "turnover" | "since";

export interface ScanSort {
  key: ScanSortKey;
  dir: "asc" | "desc";
}

/** The table's order when the page opens: the day's best performers first. */
export const DEFAULT_SORT: ScanSort = { key: "rate", dir: "desc" };

/** The sort after a click on `key`'s header: the same key flips, another starts descending (names ascending). */
export function nextSort(current: ScanSort, key: ScanSortKey): ScanSort {
  if (current.key === key) return { key, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key, dir: key === "name" ? "asc" : "desc" };
}

function sortValue(m: ScanMatch, key: ScanSortKey): number | string | null {
  switch (key) {
    case "name":
      return m.name;
    case "price":
      return m.price;
    case "rate":
      return m.rate;
    case "turnover":
      return m.turnover;
    case "since": {
      const ms = Date.parse(m.since);
      return Number.isNaN(ms) ? null : ms;
    }
  }
}

/**
 * The matches in `sort`'s order, a new array. A missing value (a stock not priced yet) goes last in either
 * direction; ties fall back to the name, then the code, so the order never jumps between two refetches.
 */
export function sortMatches(list: readonly ScanMatch[], sort: ScanSort): ScanMatch[] {
  const sign = sort.dir === "asc" ? 1 : -1;
  const byName = (a: ScanMatch, b: ScanMatch) => a.name.localeCompare(b.name, "ko") || a.code.localeCompare(b.code);
  return [...list].sort((a, b) => {
    const va = sortValue(a, sort.key);
    const vb = sortValue(b, sort.key);
    if (va === null || vb === null) return (va === null ? 1 : 0) - (vb === null ? 1 : 0) || byName(a, b);
    const c = typeof va === "string" && typeof vb === "string" ? va.localeCompare(vb, "ko") : Number(va) - Number(vb);
    return c * sign || byName(a, b);
  });
}

/** The matches whose name contains `query` or whose code starts with it (case and spaces ignored). */
export function filterMatches(list: readonly ScanMatch[], query: string): ScanMatch[] {
  const q = query.replace(/\s+/g, "").toLowerCase();
  if (!q) return [...list];
  return list.filter((m) => m.name.replace(/\s+/g, "").toLowerCase().includes(q) || m.code.toLowerCase().startsWith(q));
}

/** `약 6분`, `약 40초`, `약 1시간 5분` (rounded up: an estimate should not promise too early). */
export function formatEta(secs: number): string {
  const s = Math.max(1, Math.ceil(secs));
  if (s < 60) return t("etaSecs", { n: s });
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return t("etaMins", { n: minutes });
  return t("etaHours", { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** `일봉 수집 중: 1,200 / 2,565 종목 · 남은 호출 6,825 · 약 6분` (the estimate left out while unknown). */
export function progressText(p: ScanProgress): string {
  const text = t("scanProgress", { done: formatKrw(p.stocksDone), total: formatKrw(p.stocksTotal), calls: formatKrw(p.callsLeft) });
  return p.etaSecs === null ? text : `${text} · ${formatEta(p.etaSecs)}`;
}

/** How far the collection is, 0..1. */
export function progressRatio(p: ScanProgress): number {
  if (p.complete) return 1;
  if (p.stocksTotal <= 0) return 0;
  return Math.min(1, Math.max(0, p.stocksDone / p.stocksTotal));
}

/** The row an 편입 event stands for until the next `/matches` brings the stock's full line. */
export function matchFromEvent(e: ScanEvent): ScanMatch {
  return { code: e.code, name: e.name, market: "", price: e.price, change: null, rate: e.rate, turnover: e.turnover, volume: null, since: e.time, values: { ...e.values } };
}

/**
 * The result set a `/matches` answer says, with the live events it could not know yet laid over it: those of
 * a later sweep than its `as_of` (every live event when it has none). An 편입 adds the stock (its line from the
 * answer when it has one), an 이탈 takes it out; both are idempotent, so an event the answer already counts
 * changes nothing. Order: the answer's, entries appended.
 */
export function reconcile(result: Pick<ScanResult, "asOf" | "matches">, live: readonly ScanEvent[]): ScanMatch[] {
  const asOf = result.asOf === null ? null : Date.parse(result.asOf);
  const out = new Map(result.matches.map((m) => [m.code, m]));
  const later = live.filter((e) => asOf === null || Number.isNaN(asOf) || Date.parse(e.time) > asOf).sort((a, b) => a.id - b.id);
  for (const e of later) {
    if (e.kind === "enter") {
      if (!out.has(e.code)) out.set(e.code, matchFromEvent(e));
    } else out.delete(e.code);
  }
  return [...out.values()];
}

/** The event list after `incoming` arrived: newest (highest id) first, each id once, at most `cap`. */
export function mergeEvents(list: readonly ScanEvent[], incoming: readonly ScanEvent[], cap = 100): ScanEvent[] {
  const byId = new Map<number, ScanEvent>();
  for (const e of list) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, cap);
}

/** The newest event id known (the `after` of the next `/events` after a reconnect), `null` for none. */
export function newestEventId(list: readonly ScanEvent[]): number | null {
  let max: number | null = null;
  for (const e of list) if (max === null || e.id > max) max = e.id;
  return max;
}

export interface ThrottleClock {
  now: () => number;
  setTimer: (cb: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Runs `run` on request, at most once per `gapMs` (start to start) and never twice at once: a request while
 * it runs or waits is folded into one more run after it, so the last request is always answered.
 */
export class Throttle {
  private last = -Infinity;
  private running = false;
  private queued = false;
  private timer: unknown = null;
  private stopped = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly gapMs: number,
    private readonly clock: ThrottleClock = realClock,
  ) {}

  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.queued = true;
      return;
    }
    if (this.timer !== null) return;
    const wait = this.last + this.gapMs - this.clock.now();
    if (wait <= 0) {
      void this.fire();
      return;
    }
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      void this.fire();
    }, wait);
  }

  /** No more runs (a run under way finishes). */
  stop(): void {
    this.stopped = true;
    this.queued = false;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private async fire(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    this.last = this.clock.now();
    try {
      await this.run();
    } catch (err) {
      console.warn("kiswatch: a scan refresh failed", err);
    } finally {
      this.running = false;
      if (this.queued) {
        this.queued = false;
        this.request();
      }
    }
  }
}

// ---- The backtest of a market scan ----

/** The unit a horizon or a span is counted in on `period`'s bars: 일 (D), 주 (W), 개월 (M). */
export function barUnit(period: string): string {
  return t(period === "W" ? "unitWeek" : period === "M" ? "unitMonth" : "unitDay");
}

/** A horizon as its period reads: `1일 후`, `5주 후`, `20개월 후`. */
export function horizonLabel(bars: number, period: string): string {
  return t("btAfterUnit", { n: bars, unit: barUnit(period) });
}

/** Mean return after 편입 less the universe's over the same days, in percentage points (`null` without both). */
export function excessReturn(h: Pick<ScanBacktestHorizon, "meanReturn" | "universeMeanReturn">): number | null {
  if (h.meanReturn === null || h.universeMeanReturn === null || !Number.isFinite(h.meanReturn) || !Number.isFinite(h.universeMeanReturn)) return null;
  return h.meanReturn - h.universeMeanReturn;
}

export interface HorizonRow extends ScanBacktestHorizon {
  label: string;
  excess: number | null;
}

/** One row per horizon of the report's table, shortest first. */
export function horizonRows(r: Pick<ScanBacktest, "period" | "horizons">): HorizonRow[] {
  return [...r.horizons].sort((a, b) => a.bars - b.bars).map((h) => ({ ...h, label: horizonLabel(h.bars, r.period), excess: excessReturn(h) }));
}

/** `2025-11-13 ~ 2026-12-04, 일봉 481일` (`주봉 98주`, `월봉 24개월`); `null` when nothing was evaluated. */
export function backtestSpan(r: Pick<ScanBacktest, "period" | "first" | "last" | "days">): string | null {
  if (!r.first || !r.last) return null;
  return t("btSpanDays", { from: r.first, to: r.last, bars: t(r.period === "W" ? "barsWeek" : r.period === "M" ? "barsMonth" : "barsDay"), n: formatKrw(r.days.length), unit: barUnit(r.period) });
}

/** The service's thresholds of `short_history` (`scan::backtest`): fewer entries or days than these. */
export const SHORT_ENTRIES = 20;
export const SHORT_DAYS = 100;

/** Why a report reads as anecdotes: few entries, few days, the history still collected (empty: none known). */
export function shortReasons(r: Pick<ScanBacktest, "entries" | "days" | "stocks" | "universe" | "period">): string[] {
  const out: string[] = [];
  if (r.entries < SHORT_ENTRIES) out.push(t("btShortEntries", { n: formatKrw(r.entries) }));
  if (r.days.length < SHORT_DAYS) out.push(t("btShortDays", { n: formatKrw(r.days.length), unit: barUnit(r.period) }));
  if (r.stocks < r.universe) out.push(t("btShortCollecting", { stocks: formatKrw(r.stocks), universe: formatKrw(r.universe) }));
  return out;
}

/** A share 0..1 as a percent with one decimal: `44.6%` (`—` when unknown). */
export function formatShare(v: number | null): string {
  return v === null || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(1)}%`;
}

/** A difference of two percents, signed, in percentage points: `+0.12%p`, `-1.05%p`. */
export function formatPoints(v: number | null): string {
  const rate = formatRate(v);
  return rate === "—" ? rate : `${rate}p`;
}

/** The smallest 1, 2 or 5 × 10ⁿ at or above `n` (an axis' top); 1 for nothing above zero. */
export function niceCeil(n: number): number {
  if (!Number.isFinite(n) || n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** A coordinate for a path: at most two decimals, no `-0`. */
function coord(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/**
 * The line through `values`, one per slot of `width / values.length`, each at its slot's middle, `max` at the
 * top (y 0) and zero at the bottom (y `height`): an SVG path, empty for no values. One value draws a flat
 * line across its slot (a path of one point draws nothing).
 */
export function linePath(values: readonly number[], max: number, width: number, height: number): string {
  const n = values.length;
  if (n === 0) return "";
  const slot = width / n;
  const y = (v: number) => coord(max > 0 ? height - (Math.min(Math.max(v, 0), max) / max) * height : height);
  if (n === 1) return `M0,${y(values[0])}H${coord(width)}`;
  return values.map((v, i) => `${i === 0 ? "M" : "L"}${coord((i + 0.5) * slot)},${y(v)}`).join("");
}

/** Bars for `values` on the same axis as [`linePath`], one rectangle per non-zero value: an SVG path. */
export function barsPath(values: readonly number[], max: number, width: number, height: number): string {
  const n = values.length;
  if (n === 0 || max <= 0) return "";
  const slot = width / n;
  const gap = slot * 0.15;
  let d = "";
  values.forEach((v, i) => {
    if (!(v > 0)) return;
    const top = height - (Math.min(v, max) / max) * height;
    d += `M${coord(i * slot + gap)},${coord(height)}V${coord(top)}H${coord((i + 1) * slot - gap)}V${coord(height)}Z`;
  });
  return d;
}

/** The day under a pointer `fraction` (0..1) of the way across a chart of `n` days. */
export function dayIndexAt(fraction: number, n: number): number {
  if (n <= 0) return -1;
  return Math.min(n - 1, Math.max(0, Math.floor(fraction * n)));
}
