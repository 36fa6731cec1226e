// 조건검색's backtest report and KIS's scans without a browser: the report mapped from the service's JSON, one
// row per horizon named by the condition's period, the excess over the universe in percentage points, why a
// report is short, the span line, and the chart's axis and SVG paths; KIS's answers mapped, unavailable ones
// included.

import { describe, expect, it } from "vitest";
import { htsConditionsFrom, kisScanFrom, scanBacktestFrom, type ScanBacktest, type Wire } from "../src/model";
import { backtestSpan, barsPath, dayIndexAt, excessReturn, formatPoints, formatShare, horizonLabel, horizonRows, linePath, niceCeil, shortReasons } from "../src/scan";

const wire: Wire["ScanBacktestReport"] = {
  condition_id: 7,
  expr: "D: close > ma(20)",
  period: "D",
  universe: 1_930,
  stocks: 914,
  first: "2025-11-13",
  last: "2026-12-04",
  days: [
    { date: "2025-11-13", evaluated: 900, matches: 400, entries: 400 },
    { date: "2025-11-14", evaluated: 905, matches: 380, entries: 35 },
    { date: "2025-11-17", evaluated: 910, matches: 410, entries: 60 },
  ],
  entries: 495,
  horizons: [
    { bars: 20, samples: 400, mean_return: 1.0002, hit_rate: 0.4552, universe_samples: 21_667, universe_mean_return: 0.9268, universe_hit_rate: 0.461 },
    { bars: 1, samples: 495, mean_return: -0.2047, hit_rate: 0.4465, universe_samples: 9_120, universe_mean_return: 0.0286, universe_hit_rate: 0.4742 },
    { bars: 5, samples: 480, mean_return: null, hit_rate: null, universe_samples: 0, universe_mean_return: null, universe_hit_rate: null },
  ],
  short_history: true,
  took_ms: 1_234,
};

const report = (over: Partial<ScanBacktest> = {}): ScanBacktest => ({ ...scanBacktestFrom(wire), ...over });

describe("the backtest report", () => {
  it("is mapped from the service's JSON field by field", () => {
    const r = scanBacktestFrom(wire);
    expect(r.conditionId).toBe(7);
    expect(r.stocks).toBe(914);
    expect(r.universe).toBe(1_930);
    expect(r.shortHistory).toBe(true);
    expect(r.tookMs).toBe(1_234);
    expect(r.days[1]).toEqual({ date: "2025-11-14", evaluated: 905, matches: 380, entries: 35 });
    expect(r.horizons[1]).toEqual({ bars: 1, samples: 495, meanReturn: -0.2047, hitRate: 0.4465, universeSamples: 9_120, universeMeanReturn: 0.0286, universeHitRate: 0.4742 });
  });

  it("has one row per horizon, shortest first, named in the period's unit", () => {
    const rows = horizonRows(report());
    expect(rows.map((r) => r.label)).toEqual(["1일 후", "5일 후", "20일 후"]);
    expect(horizonRows(report({ period: "W" })).map((r) => r.label)).toEqual(["1주 후", "5주 후", "20주 후"]);
    expect(horizonRows(report({ period: "M" })).map((r) => r.label)).toEqual(["1개월 후", "5개월 후", "20개월 후"]);
    expect(horizonLabel(20, "D")).toBe("20일 후");
  });

  it("says the excess over the universe in percentage points, unknown without both means", () => {
    const rows = horizonRows(report());
    expect(rows[0].excess).toBeCloseTo(-0.2333, 4);
    expect(rows[2].excess).toBeCloseTo(0.0734, 4);
    expect(rows[1].excess).toBeNull();
    expect(excessReturn({ meanReturn: 1.5, universeMeanReturn: null })).toBeNull();
    expect(formatPoints(rows[0].excess)).toBe("-0.23%p");
    expect(formatPoints(0.0734)).toBe("+0.07%p");
    expect(formatPoints(null)).toBe("—");
    expect(formatShare(0.4472)).toBe("44.7%");
    expect(formatShare(1)).toBe("100.0%");
    expect(formatShare(null)).toBe("—");
  });

  it("reads its span in the period's bars", () => {
    expect(backtestSpan(report())).toBe("2025-11-13 ~ 2026-12-04, 일봉 3일");
    expect(backtestSpan(report({ period: "W" }))).toBe("2025-11-13 ~ 2026-12-04, 주봉 3주");
    expect(backtestSpan(report({ first: null, last: null, days: [] }))).toBeNull();
  });

  it("names why it is short: few entries, few days, the daily bars still collected", () => {
    expect(shortReasons(report())).toEqual(["3일치", "일봉 수집 중 (914 / 1,930 종목)"]);
    expect(shortReasons(report({ entries: 12, stocks: 1_930 }))).toEqual(["편입 12회", "3일치"]);
    const long = Array.from({ length: 150 }, (_, i) => ({ date: `d${i}`, evaluated: 1, matches: 1, entries: 0 }));
    expect(shortReasons(report({ days: long, stocks: 1_930 }))).toEqual([]);
  });
});

describe("the matches-per-day chart", () => {
  it("tops its axis at 1, 2 or 5 × 10ⁿ", () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(1)).toBe(1);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(10)).toBe(10);
    expect(niceCeil(11)).toBe(20);
    expect(niceCeil(410)).toBe(500);
    expect(niceCeil(1_930)).toBe(2_000);
    expect(niceCeil(5_001)).toBe(10_000);
  });

  it("draws the line through each day's middle, the top of the axis at y 0", () => {
    expect(linePath([0, 5, 10], 10, 3, 100)).toBe("M0.5,100L1.5,50L2.5,0");
    // Clamped into the axis; a zero axis keeps the line on the floor.
    expect(linePath([-1, 20], 10, 2, 100)).toBe("M0.5,100L1.5,0");
    expect(linePath([3, 4], 0, 2, 100)).toBe("M0.5,100L1.5,100");
    // One day: a flat stroke across it.
    expect(linePath([5], 10, 1, 100)).toBe("M0,50H1");
    expect(linePath([], 10, 0, 100)).toBe("");
  });

  it("draws a bar per day with entries, none for a day without, on the same axis", () => {
    expect(barsPath([0, 5, 10], 10, 3, 100)).toBe("M1.15,100V50H1.85V100ZM2.15,100V0H2.85V100Z");
    expect(barsPath([0, 0], 10, 2, 100)).toBe("");
    expect(barsPath([1], 0, 1, 100)).toBe("");
  });

  it("finds the day under the pointer", () => {
    expect(dayIndexAt(0, 481)).toBe(0);
    expect(dayIndexAt(0.5, 4)).toBe(2);
    expect(dayIndexAt(1, 481)).toBe(480);
    expect(dayIndexAt(-0.2, 10)).toBe(0);
    expect(dayIndexAt(0.3, 0)).toBe(-1);
  });
});

describe("KIS's scans", () => {
  it("map a ranking's rows and keep its limits", () => {
    const s = kisScanFrom({
      source: "volume",
      available: true,
      reason: null,
      reason_ko: null,
      limits_ko: "KIS 순위 조회는 30종목까지이며 다음 페이지가 없습니다",
      rows: [{ rank: 1, code: "321780", name: "동아오토모티브", price: 2_360, change: 170, change_rate: 7.76, volume: 638_280, turnover: 1_506_618_980 }],
    });
    expect(s.rows[0]).toEqual({ rank: 1, code: "321780", name: "동아오토모티브", price: 2_360, change: 170, rate: 7.76, volume: 638_280, turnover: 1_506_618_980 });
    expect(s.limitsKo).toContain("30종목");
  });

  it("carry the reason when KIS does not offer them", () => {
    const h = htsConditionsFrom({ available: false, reason: "KIS_HTS_ID is not set", reason_ko: "KIS_HTS_ID가 설정되지 않았습니다", conditions: [] });
    expect(h).toEqual({ available: false, reason: "KIS_HTS_ID is not set", reasonKo: "KIS_HTS_ID가 설정되지 않았습니다", conditions: [] });
    const s = kisScanFrom({ source: "rise", available: false, reason: "not on 모의투자", reason_ko: "모의투자에서는 제공되지 않습니다", limits_ko: "30종목", rows: [] });
    expect([s.available, s.reasonKo, s.rows.length]).toEqual([false, "모의투자에서는 제공되지 않습니다", 0]);
  });
});
