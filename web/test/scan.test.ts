import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { conditionFrom, scanEventFrom, scanResultFrom, type ScanEvent, type ScanMatch, type ScanMatchesWire, type Wire } from "../src/model";
import { parseRoute, scanUrl } from "../src/router";
import {
  DEFAULT_SORT,
  filterMatches,
  formatEta,
  matchFromEvent,
  mergeEvents,
  newestEventId,
  nextSort,
  progressRatio,
  progressText,
  reconcile,
  sortMatches,
  Throttle,
} from "../src/scan";

function match(code: string, name: string, over: Partial<ScanMatch> = {}): ScanMatch {
  return { code, name, market: "KOSPI", price: 10_000, change: 100, rate: 1, turnover: 1e9, volume: 1_000, since: "2026-11-27T09:10:00+09:00", values: {}, ...over };
}

function event(id: number, code: string, kind: "enter" | "leave", time: string, over: Partial<ScanEvent> = {}): ScanEvent {
  return { id, conditionId: 3, code, name: code, kind, time, price: 5_000, rate: 2.5, turnover: 3e9, values: { "ma(60)": 2, "ma(20)": 1 }, ...over };
}

const codes = (list: readonly { code: string }[]) => list.map((m) => m.code);

describe("the result table's order", () => {
  const list = [
    match("000001", "가", { rate: 1.5, price: 3_000, turnover: 5e9, since: "2026-11-27T09:30:00+09:00" }),
    match("000002", "나", { rate: -2, price: 1_000, turnover: null, since: "2026-11-26T15:30:00+09:00" }),
    match("000003", "다", { rate: null, price: null, turnover: 1e8 }),
    match("000004", "라", { rate: 7.25, price: 2_000, turnover: 2e12, since: "2026-11-27T10:00:00+09:00" }),
    match("000005", "마", { rate: 1.5, price: 9_000, turnover: 7e9 }),
  ];

  it("opens on 등락률, highest first; a stock without a price goes last; ties by name", () => {
    expect(DEFAULT_SORT).toEqual({ key: "rate", dir: "desc" });
    expect(codes(sortMatches(list, DEFAULT_SORT))).toEqual(["000004", "000001", "000005", "000002", "000003"]);
    expect(codes(sortMatches(list, { key: "rate", dir: "asc" }))).toEqual(["000002", "000001", "000005", "000004", "000003"]);
  });

  it("sorts by price, 거래대금, 편입 시각 and name without touching its input", () => {
    const before = codes(list);
    expect(codes(sortMatches(list, { key: "price", dir: "desc" }))).toEqual(["000005", "000001", "000004", "000002", "000003"]);
    expect(codes(sortMatches(list, { key: "turnover", dir: "desc" }))).toEqual(["000004", "000005", "000001", "000003", "000002"]);
    expect(codes(sortMatches(list, { key: "since", dir: "asc" }))).toEqual(["000002", "000003", "000005", "000001", "000004"]);
    expect(codes(sortMatches(list, { key: "name", dir: "desc" }))).toEqual(["000005", "000004", "000003", "000002", "000001"]);
    expect(codes(list)).toEqual(before);
  });

  it("flips on a second click of the same header; another header starts high to low (names A to Z)", () => {
    expect(nextSort(DEFAULT_SORT, "rate")).toEqual({ key: "rate", dir: "asc" });
    expect(nextSort({ key: "rate", dir: "asc" }, "rate")).toEqual({ key: "rate", dir: "desc" });
    expect(nextSort(DEFAULT_SORT, "turnover")).toEqual({ key: "turnover", dir: "desc" });
    expect(nextSort(DEFAULT_SORT, "name")).toEqual({ key: "name", dir: "asc" });
  });

  it("filters by a part of the name or the start of the code, spaces and case ignored", () => {
    const named = [match("005930", "삼성전자"), match("000660", "SK하이닉스"), match("373220", "LG에너지솔루션")];
    expect(codes(filterMatches(named, "전자"))).toEqual(["005930"]);
    expect(codes(filterMatches(named, "sk 하이"))).toEqual(["000660"]);
    expect(codes(filterMatches(named, "0059"))).toEqual(["005930"]);
    expect(codes(filterMatches(named, "930"))).toEqual([]); // a code matches from its start
    expect(codes(filterMatches(named, "  "))).toEqual(["005930", "000660", "373220"]);
  });
});

describe("the collection's progress", () => {
  it("reads as the brief's line, with separators and the estimate rounded up", () => {
    expect(progressText({ stocksDone: 1_200, stocksTotal: 2_565, callsLeft: 6_825, etaSecs: 341.3, complete: false })).toBe(
      "일봉 수집 중: 1,200 / 2,565 종목 · 남은 호출 6,825 · 약 6분",
    );
    expect(progressText({ stocksDone: 0, stocksTotal: 2_565, callsLeft: 7_695, etaSecs: null, complete: false })).toBe("일봉 수집 중: 0 / 2,565 종목 · 남은 호출 7,695");
  });

  it("says seconds under a minute and hours past an hour", () => {
    expect(formatEta(0)).toBe("약 1초");
    expect(formatEta(42)).toBe("약 42초");
    expect(formatEta(60)).toBe("약 1분");
    expect(formatEta(61)).toBe("약 2분");
    expect(formatEta(3_900)).toBe("약 1시간 5분");
  });

  it("fills the bar by the stocks done, full once complete", () => {
    expect(progressRatio({ stocksDone: 1_200, stocksTotal: 2_400, callsLeft: 1, etaSecs: 1, complete: false })).toBe(0.5);
    expect(progressRatio({ stocksDone: 0, stocksTotal: 0, callsLeft: 0, etaSecs: null, complete: false })).toBe(0);
    expect(progressRatio({ stocksDone: 10, stocksTotal: 2_400, callsLeft: 0, etaSecs: null, complete: true })).toBe(1);
  });
});

describe("live events over a fetched result set", () => {
  const asOf = "2026-11-27T10:00:00+09:00";
  const fetched = { asOf, matches: [match("000001", "가"), match("000002", "나")] };

  it("lays only what happened after the answer's sweep over it", () => {
    const live = [
      event(1, "000003", "enter", "2026-11-27T09:59:00+09:00"), // counted by the answer already (it says 000003 is out)
      event(2, "000004", "enter", "2026-11-27T10:01:00+09:00"),
      event(3, "000001", "leave", "2026-11-27T10:01:00+09:00"),
    ];
    expect(codes(reconcile(fetched, live))).toEqual(["000002", "000004"]);
  });

  it("is idempotent: an event the answer counts, or one seen twice, changes nothing", () => {
    const live = [event(5, "000002", "enter", "2026-11-27T10:01:00+09:00"), event(5, "000002", "enter", "2026-11-27T10:01:00+09:00")];
    const out = reconcile(fetched, live);
    expect(codes(out)).toEqual(["000001", "000002"]);
    expect(out[1].price).toBe(10_000); // the answer's full line, not the event's
  });

  it("applies events in id order and all of them before any sweep", () => {
    const live = [event(9, "000007", "leave", "2026-11-27T10:02:00+09:00"), event(8, "000007", "enter", "2026-11-27T10:01:00+09:00")];
    expect(codes(reconcile({ asOf: null, matches: [] }, live))).toEqual([]);
    expect(codes(reconcile({ asOf: null, matches: [] }, [live[1]]))).toEqual(["000007"]);
  });

  it("makes an entering row from the event until the next answer", () => {
    const e = event(4, "005930", "enter", asOf, { name: "삼성전자", price: 74_200, rate: 1.2, turnover: 5e11 });
    expect(matchFromEvent(e)).toEqual({ code: "005930", name: "삼성전자", market: "", price: 74_200, change: null, rate: 1.2, turnover: 5e11, volume: null, since: asOf, values: e.values });
  });
});

describe("the 편입/이탈 list", () => {
  it("merges by id, newest first, each once, capped", () => {
    const a = [event(3, "A", "enter", "t"), event(1, "B", "enter", "t")];
    const b = [event(2, "C", "leave", "t"), event(3, "A", "enter", "t"), event(4, "D", "enter", "t")];
    expect(mergeEvents(a, b).map((e) => e.id)).toEqual([4, 3, 2, 1]);
    expect(mergeEvents(a, b, 2).map((e) => e.id)).toEqual([4, 3]);
    expect(newestEventId(b)).toBe(4);
    expect(newestEventId([])).toBeNull();
  });
});

describe("the refetch after sweeps", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs at most once a second, never twice at once, and answers the last request", async () => {
    let runs = 0;
    let finish: (() => void) | null = null;
    const clock = { now: () => Date.now(), setTimer: (cb: () => void, ms: number) => setTimeout(cb, ms), clearTimer: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>) };
    const throttle = new Throttle(
      () =>
        new Promise<void>((done) => {
          runs += 1;
          finish = done;
        }),
      1_000,
      clock,
    );
    throttle.request();
    expect(runs).toBe(1);
    throttle.request(); // while it runs: folded into one more
    throttle.request();
    expect(runs).toBe(1);
    vi.advanceTimersByTime(300);
    finish!();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1); // a second has not passed since the first started
    await vi.advanceTimersByTimeAsync(699);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    finish!();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(2); // nothing more was asked for
    throttle.request();
    expect(runs).toBe(3);
    throttle.stop();
    finish!();
    throttle.request();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(3);
  });
});

describe("the service's 조건검색 answers", () => {
  it("maps /matches and an event to the views' shapes", () => {
    const wire: ScanMatchesWire = {
      condition_id: 3,
      name: "일봉 정배열",
      expr: "일: 정배열",
      period: "D",
      as_of: "2026-11-27T15:31:00+09:00",
      closed: true,
      universe: 2_565,
      evaluated: 2_431,
      progress: { stocks_done: 2_565, stocks_total: 2_565, calls_left: 0, eta_secs: null, complete: true },
      history: { sessions_kept: 500, bars_needed: 241, sessions_needed: 241, enough: true },
      matches: [{ code: "005930", name: "삼성전자", market: "KOSPI", price: 74_200, change: 900, change_rate: 1.23, turnover: 5e11, volume: 7_000_000, since: "2026-11-27T09:05:00+09:00", values: { "ma(20)": 73_000 } }],
    };
    const r = scanResultFrom(wire);
    expect(r.progress).toEqual({ stocksDone: 2_565, stocksTotal: 2_565, callsLeft: 0, etaSecs: null, complete: true });
    expect(r.matches[0]).toMatchObject({ code: "005930", rate: 1.23, turnover: 5e11, since: "2026-11-27T09:05:00+09:00" });
    expect(r.asOf).toBe("2026-11-27T15:31:00+09:00");
    expect(r.shortHistory).toBeNull();
    // A weekly MA240 needs about 1,205 sessions: more than the 500 kept, and the page says so.
    expect(scanResultFrom({ ...wire, history: { sessions_kept: 500, bars_needed: 241, sessions_needed: 1_205, enough: false } }).shortHistory).toEqual({ needed: 1_205, kept: 500 });
    const e = scanEventFrom({ id: 1, condition_id: 3, code: "005930", name: "삼성전자", kind: "leave", time: "2026-11-27T10:00:00+09:00", price: 1, change_rate: -0.5, turnover: 2, values: {} });
    expect(e).toMatchObject({ id: 1, conditionId: 3, kind: "leave", rate: -0.5 });
  });

  it("reads a condition's scope and filters, a watchlist condition without filters", () => {
    const base = { id: 3, name: "n", expr: "일: 정배열", enabled: true, mode: "every_tick", cooldown_secs: 0, webhook: null, notify: true, sound: true, period: "D", channels: [], created_at: "" };
    const market = conditionFrom({ ...base, scope: "market", filters: { markets: ["KOSDAQ"], exclude: ["etf", "penny"] } } as unknown as Wire["Condition"]);
    expect(market.scope).toBe("market");
    expect(market.filters).toEqual({ markets: ["KOSDAQ"], exclude: ["etf"], min_price: null, min_turnover: null });
    const plain = conditionFrom(base as unknown as Wire["Condition"]);
    expect(plain.scope).toBe("watchlist");
    expect(plain.filters).toBeNull();
  });

  it("routes /scan with its condition", () => {
    expect(parseRoute("/scan")).toEqual({ name: "scan", id: null });
    expect(parseRoute("/scan/", "?id=12")).toEqual({ name: "scan", id: 12 });
    expect(parseRoute("/scan", "?id=x")).toEqual({ name: "scan", id: null });
    expect(scanUrl(12)).toBe("/scan?id=12");
  });
});
