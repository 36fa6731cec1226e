// 조건검색's arithmetic, apart from the page so the unit tests run it without a DOM: the result table's order
// and filter, the history collection's progress line, how live 편입/이탈 events land on a result set the page
// fetched earlier, the event list's merge, and the refetch that runs at most once a second.

import { formatKrw } from "./format";
import { t } from "./i18n";
import type { ScanEvent, ScanMatch, ScanProgress, ScanResult } from "./model";

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
