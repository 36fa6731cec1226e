// The rules the views follow, tested without a browser: the order of a trigger's values, repeats grouped in
// the signal list, the search's highlight surviving a refresh, where an arrow goes on each period, the colours of
// an execution, the did-you-mean replacement, the periods written in Korean, the market clock, and the flash
// on a changed value.

import { describe, expect, it, vi } from "vitest";
import { groupTriggers, orderedValues, triggerFrom } from "../src/model";
import { kstParts, phaseLabel, projected, readingFrom, speedLabel } from "../src/market";
import { placeIn } from "../src/views/chart";
import { conditionPeriod, replaceWordAt } from "../src/views/common";
import { executionTones } from "../src/views/executions";
import { keepHighlight } from "../src/views/search";
import { formatBarTime, formatKstShort } from "../src/format";
import { trigger } from "./messages";

describe("a trigger's values", () => {
  it("read as a trader reads them: MA20, MA60, MA120, MA240, then the rest in the condition's order", () => {
    const values = { "ma(120)": 3, "ma(20)": 1, volume: 9, "ma(240)": 4, "ma(60)": 2, close: 5 };
    expect(orderedValues(values).map(([k]) => k)).toEqual(["ma(20)", "ma(60)", "ma(120)", "ma(240)", "volume", "close"]);
  });
});

describe("the signal list", () => {
  it("groups repeats of one condition on one stock on one day, newest first", () => {
    const list = [
      trigger(1, "005930", { condition_id: 1, bar_time: "2026-11-27T10:00:00+09:00" }),
      trigger(2, "000660", { condition_id: 1, bar_time: "2026-11-27T10:01:00+09:00" }),
      trigger(3, "005930", { condition_id: 1, bar_time: "2026-11-27T10:05:00+09:00" }),
      trigger(4, "005930", { condition_id: 2, bar_time: "2026-11-27T10:06:00+09:00" }),
      trigger(5, "005930", { condition_id: 1, bar_time: "2026-11-30T09:01:00+09:00" }),
    ].map(triggerFrom);
    const groups = groupTriggers(list);
    expect(groups.map((g) => [g.latest.id, g.items.map((x) => x.id)])).toEqual([
      [5, [5]],
      [4, [4]],
      [3, [3, 1]],
      [2, [2]],
    ]);
  });

  it("dates every signal", () => {
    expect(formatKstShort("2026-11-27T10:31:05+09:00")).toBe("11-27 10:31");
    expect(formatBarTime("2026-11-27T00:00:00+09:00", "D")).toBe("2026-11-27");
    expect(formatBarTime("2026-11-27T10:30:00+09:00", "30m")).toBe("2026-11-27 10:30");
  });
});

describe("the search box", () => {
  const hit = (code: string) => ({ code, name: code, market: "KOSPI", kind: "stock" });
  it("keeps the highlighted stock when the list is refreshed under it", () => {
    const before = [hit("005930"), hit("005935"), hit("000660")];
    expect(keepHighlight(before, 1, [hit("005935"), hit("005930")])).toBe(0);
    expect(keepHighlight(before, 2, [hit("005930"), hit("000660")])).toBe(1);
    expect(keepHighlight(before, 1, [hit("035720")])).toBe(0);
    expect(keepHighlight([], 0, [hit("035720")])).toBe(0);
  });
});

describe("trigger arrows", () => {
  const t = (hm: string, day = "2026-11-27") => Math.floor(Date.parse(`${day}T${hm}:00Z`) / 1000);
  it("go under the bar containing the trigger's bar on every period", () => {
    const fives = ["09:00", "09:05", "09:10"].map((x) => t(x));
    expect(placeIn(fives, t("09:07"), "5m")).toEqual({ index: 1 });
    expect(placeIn(fives, t("09:12"), "5m")).toEqual({ index: 2 });
    expect(placeIn(fives, t("09:16"), "5m")).toEqual({ pending: true });
    expect(placeIn(fives, t("08:59"), "5m")).toEqual({ missing: true });
    const days = ["2026-11-26", "2026-11-27"].map((d) => t("00:00", d));
    expect(placeIn(days, t("10:31"), "D")).toEqual({ index: 1 });
    expect(placeIn(days, t("09:01", "2026-11-30"), "D")).toEqual({ pending: true });
    expect(placeIn(days, t("09:01", "2026-11-26"), "D")).toEqual({ index: 0 });
    // A gap in the intraday bars is not papered over with the bar before it.
    const gap = ["09:00", "09:01", "09:05"].map((x) => t(x));
    expect(placeIn(gap, t("09:03"), "1m")).toEqual({ missing: true });
  });
});

describe("execution colours", () => {
  it("price and 대비 against the previous close, the quantity by side", () => {
    expect(executionTones({ price: 70_000, change: -1_500, side: "buy" }, 71_500)).toEqual({ price: "down", quantity: "up" });
    expect(executionTones({ price: 73_000, change: 1_500, side: "sell" }, 71_500)).toEqual({ price: "up", quantity: "down" });
    // Loaded over REST: no side, a neutral quantity; the price still against the previous close.
    expect(executionTones({ price: 70_000, change: -1_500, side: null }, 71_500)).toEqual({ price: "down", quantity: "neutral" });
    expect(executionTones({ price: 70_000, change: -1_500, side: null }, null)).toEqual({ price: "down", quantity: "neutral" });
  });
});

describe("condition text", () => {
  it("takes the parser's suggestion in place of the misspelt word", () => {
    expect(replaceWordAt("30m: 정배얼", 5, "정배열")).toBe("30m: 정배열");
    expect(replaceWordAt("30m: 정배얼 and ma(20) > 1", 7, "정배열")).toBe("30m: 정배열 and ma(20) > 1");
  });
  it("reads the period written in Korean", () => {
    expect(conditionPeriod("30분: 정배열")).toBe("30m");
    expect(conditionPeriod("일: 골든크로스")).toBe("D");
    expect(conditionPeriod("주: 정배열")).toBe("W");
    expect(conditionPeriod("5m: close > 1")).toBe("5m");
    expect(conditionPeriod("정배열")).toBe("D");
  });
});

describe("the market clock", () => {
  it("runs on between readings at the market's speed, names the phase and the demo's speed", () => {
    const r = readingFrom({ now: "2026-11-27T10:30:00+09:00", today: "2026-11-27", phase: "continuous", upstream: "demo", simulated: true, speed: 10 });
    expect(kstParts(r.nowMs!)).toMatchObject({ date: "2026-11-27", time: "10:30" });
    expect(kstParts(projected(r, 6_000)!).time).toBe("10:31");
    const closed = readingFrom({ now: "2026-11-27T16:30:00+09:00", today: "2026-11-27", phase: "closed", upstream: "real", simulated: false, speed: 1 });
    expect(projected(closed, 600_000)).toBe(closed.nowMs);
    expect(phaseLabel("continuous", "ko")).toBe("장중");
    expect(phaseLabel("closing_auction", "ko")).toBe("장마감 동시호가");
    expect(phaseLabel("pre_open", "ko")).toBe("장전");
    expect(speedLabel(10)).toBe("10배속");
  });
});

describe("a flash on a changed value", () => {
  /** Just enough of an element for `flash`: its classes. */
  const element = () => {
    const set = new Set<string>();
    return { classList: { add: (c: string) => set.add(c), remove: (c: string) => set.delete(c), contains: (c: string) => set.has(c) }, set };
  };
  it("is a class for a moment, not an animation; a newer change replaces it and restarts the moment", async () => {
    const { flash } = await import("../src/dom");
    const root = element();
    vi.stubGlobal("document", { documentElement: root });
    vi.useFakeTimers();
    try {
      const el = element();
      flash(el as unknown as Element, "flash-up");
      expect([...el.set]).toEqual(["flash-up"]);
      vi.advanceTimersByTime(300);
      flash(el as unknown as Element, "flash-down");
      expect([...el.set]).toEqual(["flash-down"]);
      vi.advanceTimersByTime(300);
      expect([...el.set]).toEqual(["flash-down"]);
      vi.advanceTimersByTime(100);
      expect([...el.set]).toEqual([]);
      // Under reduced motion nothing blinks.
      root.classList.add("reduced-motion");
      flash(el as unknown as Element, "flash-new");
      expect([...el.set]).toEqual([]);
    } finally {
      vi.useRealTimers();
      vi.unstubAllGlobals();
    }
  });
});
