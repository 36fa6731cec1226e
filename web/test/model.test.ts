import { describe, expect, it } from "vitest";
import { openTriggerPage, windowName } from "../src/alerts";
import { Api, errorFromResponse } from "../src/api";
import { backtestFrom, candleSetFrom, fillAverages, priceFields, quoteFromTick, snapshotFrom, triggerFrom, type Candle, type Wire } from "../src/model";
import { parseRoute } from "../src/router";
import { tick, trigger } from "./messages";

// A snapshot as `kiswatch serve` answers it (the OpenAPI document's `Snapshot`).
const snapshot: Wire["Snapshot"] = {
  code: "005930",
  name: "삼성전자",
  market: "KOSPI",
  status: "polled",
  feed: { status: "polled", age_ms: 800, bound_ms: 8000 },
  price: {
    price: 71300,
    change: -200,
    sign: "down",
    change_rate: -0.28,
    open: 71200,
    high: 71500,
    low: 71000,
    base_price: 71500,
    upper_limit: 92900,
    lower_limit: 50100,
    volume: 890693,
    turnover: 63_400_000_000,
    halted: false,
    w52_high: 88_800,
    w52_low: 49_900,
  },
  orderbook: {
    time: "2026-11-27T09:00:55+09:00",
    asks: [{ price: 71500, quantity: 20 }, { price: 71400, quantity: 10 }, { price: 0, quantity: 0 }],
    bids: [{ price: 71300, quantity: 30 }, { price: 71200, quantity: 40 }, { price: 0, quantity: 0 }],
    total_ask_quantity: 30,
    total_bid_quantity: 70,
    expected: null,
  },
  executions: [
    { time: "2026-11-27T09:00:53+09:00", price: 71200, change: -300, change_rate: -0.42, sign: "down", volume: 2394, side: null, strength: 98.5 },
    { time: "2026-11-27T09:00:55+09:00", price: 71300, change: -200, change_rate: -0.28, sign: "down", volume: 1039, side: null, strength: 98.6 },
    { time: null, price: 71300, change: -200, change_rate: -0.28, sign: "down", volume: 1, side: null, strength: 98.6 },
  ],
  time: "2026-11-27T09:00:55+09:00",
};

describe("the service's answers as the views' shapes", () => {
  it("maps the snapshot", () => {
    const s = snapshotFrom(snapshot);
    expect(s.quote).toEqual({
      code: "005930",
      name: "삼성전자",
      market: "KOSPI",
      price: 71300,
      change: -200,
      rate: -0.28,
      sign: "down",
      open: 71200,
      high: 71500,
      low: 71000,
      volume: 890693,
      turnover: 63_400_000_000,
      status: "polled",
      basePrice: 71500,
      upperLimit: 92900,
      lowerLimit: 50100,
      w52High: 88_800,
      w52Low: 49_900,
    });
    // Empty levels left out, nearest first.
    expect(s.orderbook).toEqual({
      asks: [{ price: 71400, quantity: 10 }, { price: 71500, quantity: 20 }],
      bids: [{ price: 71300, quantity: 30 }, { price: 71200, quantity: 40 }],
      totalAsk: 30,
      totalBid: 70,
    });
    // Newest first, quantity from `volume`, no side over REST; a trade without a time is left out.
    expect(s.executions.map((e) => [e.price, e.quantity, e.side])).toEqual([
      [71300, 1039, null],
      [71200, 2394, null],
    ]);
    expect(snapshotFrom({ ...snapshot, orderbook: { ...snapshot.orderbook, asks: [], bids: [] } }).orderbook).toBeNull();
  });

  it("maps a trigger message and the backtest summary", () => {
    const tr = triggerFrom(trigger(4, "005930", { values: { "ma(20)": 74_100.5, close: 74_200 } }));
    expect(tr).toMatchObject({ id: 4, conditionId: 1, conditionName: "돌파", period: "1m", barTime: "2026-11-27T10:00:00+09:00", price: 74_200 });
    expect(Object.keys(tr.values)).toEqual(["ma(20)", "close"]); // the condition's order
    const bt = backtestFrom({
      code: "005930",
      name: "삼성전자",
      condition: "D: cross_up(close, ma(20))",
      period: "D",
      bars: 400,
      from: "2025-06-02T00:00:00+09:00",
      to: "2026-01-05T00:00:00+09:00",
      evaluated_bars: 380,
      short_history: true,
      costs: { commission_rate: 0.00015, tax_rate: 0.0018 },
      buy_and_hold: { gross: 12.5, net: 12.2 },
      signals: [
        {
          time: "2026-01-05T00:00:00+09:00",
          close: 100,
          values: { close: 100 },
          returns: { "1": 1.5, "5": null, "20": -2 },
          net_returns: { "1": 1.3, "5": null, "20": -2.2 },
        },
      ],
      summary: {
        count: 1,
        horizons: [{ bars: 1, samples: 1, hit_rate: 1, mean_return: 1.5, net_mean_return: 1.3, baseline: { samples: 399, hit_rate: 0.48, mean_return: 0.05, net_mean_return: -0.16 } }],
      },
    });
    expect(bt.count).toBe(1);
    expect(bt.horizons[0]).toEqual({
      bars: 1,
      samples: 1,
      hitRate: 1,
      meanReturn: 1.5,
      netMeanReturn: 1.3,
      baseline: { samples: 399, hitRate: 0.48, meanReturn: 0.05, netMeanReturn: -0.16 },
    });
    expect(bt.signals[0]).toEqual({ time: "2026-01-05T00:00:00+09:00", close: 100, returns: { "1": 1.5, "5": null, "20": -2 }, netReturns: { "1": 1.3, "5": null, "20": -2.2 } });
    expect(bt).toMatchObject({ from: "2025-06-02T00:00:00+09:00", shortHistory: true, evaluatedBars: 380, buyAndHold: { gross: 12.5, net: 12.2 }, costs: { commissionRate: 0.00015, taxRate: 0.0018 } });
  });

  it("keeps a chart's averages and its history counts", () => {
    const set = candleSetFrom({
      code: "005930",
      name: "삼성전자",
      market: "KOSPI",
      period: "D",
      candles: [{ time: "2026-11-27T00:00:00+09:00", open: 1, high: 2, low: 1, close: 2, volume: 5, ma: { "20": 1.5, "60": null, "120": null, "240": null } }],
      alignment: null,
      history: { have: 100, need: 240 },
      backfill: null,
    });
    expect(set.candles[0].ma).toEqual({ "20": 1.5, "60": null, "120": null, "240": null });
    expect(set.history).toEqual({ have: 100, need: 240 });
  });

  it("turns the contract's error body and Retry-After into an ApiError", async () => {
    const res = new Response(JSON.stringify({ error: { code: "invalid_condition", message: "at position 13: …", message_ko: "13번째 위치: …", position: 13 } }), { status: 422 });
    const e = await errorFromResponse(res);
    expect([e.status, e.code, e.position, e.messageKo]).toEqual([422, "invalid_condition", 13, "13번째 위치: …"]);
    const busy = await errorFromResponse(new Response(JSON.stringify({ error: { code: "upstream_unavailable", message: "x", message_ko: "y" } }), { status: 503, headers: { "Retry-After": "5" } }));
    expect(busy.retryAfter).toBe(5);
    const bare = await errorFromResponse(new Response("oops", { status: 502 }));
    expect(bare.code).toBe("http_502");
  });
});

describe("the API client", () => {
  const calls: Array<[string, string, unknown]> = [];
  const answer = (body: unknown, status = 200) => new Response(body === undefined ? null : JSON.stringify(body), { status });
  const api = new Api("", async (input, init) => {
    calls.push([String(init?.method), String(input), init?.body === undefined ? undefined : JSON.parse(String(init.body))]);
    const url = String(input);
    if (url.includes("/snapshot")) return answer(snapshot);
    if (url.startsWith("/api/v1/stocks/search")) return answer([{ code: "005930", name: "삼성전자", market: "KOSPI", kind: "stock" }]);
    if (url.startsWith("/api/v1/watchlist/")) return answer(undefined, 204);
    return answer({ code: "035720", name: "카카오", market: "KOSPI", added: true }, 201);
  });

  it("fills the document's paths, queries and bodies", async () => {
    expect((await api.snapshot("005930")).quote.price).toBe(71300);
    expect(await api.search("삼성 전자", 5)).toEqual([{ code: "005930", name: "삼성전자", market: "KOSPI", kind: "stock" }]);
    expect(await api.addToWatchlist("035720")).toEqual({ code: "035720", name: "카카오", market: "KOSPI", added: true });
    expect(await api.removeFromWatchlist("035720")).toBeUndefined();
    expect(calls).toEqual([
      ["GET", "/api/v1/stocks/005930/snapshot", undefined],
      ["GET", "/api/v1/stocks/search?q=%EC%82%BC%EC%84%B1+%EC%A0%84%EC%9E%90&limit=5", undefined],
      ["POST", "/api/v1/watchlist", { code: "035720" }],
      ["DELETE", "/api/v1/watchlist/035720", undefined],
    ]);
  });
});

describe("opening a trigger's page", () => {
  const tr = triggerFrom(trigger(9, "005930", { period: "30m", bar_time: "2026-11-27T10:00:00+09:00" }));

  it("opens one named window per stock, and reports the popup blocker", () => {
    const opened: Array<[string, string]> = [];
    const windows = new Map();
    const win = { closed: false, focused: 0, focus() { this.focused++; } };
    const ok = openTriggerPage(tr, { openMode: "window", notify: false, sound: false }, { open: (u, n) => (opened.push([u, n]), win), navigate: () => {}, windows });
    expect(ok).toBe("window");
    expect(opened).toEqual([["/stocks/005930?period=30m&trigger=9", "kiswatch-005930"]]);
    // A second trigger of the same stock while its window is open: the window is focused, not sent elsewhere
    // (its page adds the trigger to its banner).
    const other = triggerFrom(trigger(10, "005930", { period: "1m" }));
    expect(openTriggerPage(other, { openMode: "window", notify: false, sound: false }, { open: (u, n) => (opened.push([u, n]), win), navigate: () => {}, windows })).toBe("focused");
    expect(opened).toHaveLength(1);
    expect(win.focused).toBe(1);
    // Once the user closed it, the next trigger opens it again.
    win.closed = true;
    expect(openTriggerPage(other, { openMode: "window", notify: false, sound: false }, { open: (u, n) => (opened.push([u, n]), { closed: false, focus() {} }), navigate: () => {}, windows })).toBe("window");
    expect(opened[1]).toEqual(["/stocks/005930?period=1m&trigger=10", "kiswatch-005930"]);
    const blocked = openTriggerPage(triggerFrom(trigger(11, "000660")), { openMode: "window", notify: false, sound: false }, { open: () => null, navigate: () => {}, windows });
    expect(blocked).toBe("blocked");
    expect(openTriggerPage(tr, { openMode: "none", notify: false, sound: false }, { open: () => { throw new Error("no window"); }, navigate: () => { throw new Error("no navigation"); } })).toBe("none");
    expect(windowName("000660")).toBe("kiswatch-000660");
  });

  it("navigates this tab when the setting says so", () => {
    const went: string[] = [];
    const r = openTriggerPage(tr, { openMode: "tab", notify: false, sound: false }, { open: () => { throw new Error("no window"); }, navigate: (u) => went.push(u) });
    expect(r).toBe("tab");
    expect(went).toEqual(["/stocks/005930?period=30m&trigger=9"]);
  });

  it("routes the trigger's URL back to the stock page with its period and id", () => {
    expect(parseRoute("/stocks/005930", "?period=30m&trigger=9")).toEqual({ name: "stock", code: "005930", period: "30m", trigger: 9 });
    expect(parseRoute("/")).toEqual({ name: "home" });
    expect(parseRoute("/conditions/")).toEqual({ name: "conditions" });
    expect(parseRoute("/stocks/12")).toEqual({ name: "notFound" });
  });
});

describe("settings", () => {
  it("keeps every valid field of a damaged stored value and defaults the rest", async () => {
    const { loadSettings } = await import("../src/settings");
    const store = (v: string | null) => ({ getItem: () => v });
    expect(loadSettings(store(null))).toEqual({ openMode: "window", notify: false, sound: false });
    expect(loadSettings(store("{not json"))).toEqual({ openMode: "window", notify: false, sound: false });
    expect(loadSettings(store(JSON.stringify({ openMode: "tab", notify: "yes", sound: true })))).toEqual({ openMode: "tab", notify: false, sound: true });
  });
});

describe("live messages", () => {
  it("reads a tick's day volume from acc_volume, not the trade's size", () => {
    const q = quoteFromTick(tick("005930", 71_200, { change: 700, change_rate: 0.99, sign: "up", volume: 15, acc_volume: 8_123_456, open: 70_600, high: 71_300, low: 70_500 }), "KOSPI");
    expect(q).toEqual({
      code: "005930",
      name: "삼성전자",
      market: "KOSPI",
      price: 71_200,
      change: 700,
      rate: 0.99,
      sign: "up",
      open: 70_600,
      high: 71_300,
      low: 70_500,
      volume: 8_123_456,
      turnover: 71_200,
      status: null,
      basePrice: 70_500,
      upperLimit: null,
      lowerLimit: null,
      w52High: null,
      w52Low: null,
    });
  });

  const bar = (i: number, close: number, ma: Record<string, number | null> = {}): Candle => ({
    time: `2026-11-27T09:${String(i).padStart(2, "0")}:00+09:00`,
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    ma,
  });

  it("fills a live bar's averages from the closes shown, exactly", () => {
    const shown = Array.from({ length: 59 }, (_, i) => bar(i, 100 + i));
    const next = fillAverages(bar(59, 200), shown, false);
    // MA20: closes 140..158 and 200; MA60: 100..158 and 200.
    const sum = (from: number, to: number) => ((from + to) * (to - from + 1)) / 2;
    expect(next.ma["20"]).toBe((sum(140, 158) + 200) / 20);
    expect(next.ma["60"]).toBe((sum(100, 158) + 200) / 60);
    expect(next.ma["120"]).toBeNull(); // not enough bars and no earlier value for this bar
  });

  it("recomputes the forming bar's averages without counting its old close, and keeps the service's where bars are too few", () => {
    const shown = [...Array.from({ length: 19 }, (_, i) => bar(i, 100)), bar(19, 100, { "20": 100, "60": 98.5, "120": null, "240": null })];
    const updated = fillAverages(bar(19, 120), shown, true);
    expect(updated.ma["20"]).toBe((19 * 100 + 120) / 20);
    expect(updated.ma["60"]).toBe(98.5); // too few bars here: the service's value for this bar
    expect(updated.ma["240"]).toBeNull();
    // An average that came with the bar is kept as it is.
    expect(fillAverages(bar(20, 130, { "20": 7 }), shown, false).ma["20"]).toBe(7);
  });
});

describe("priceFields", () => {
  const day = { basePrice: 70_000, upperLimit: 91_000, lowerLimit: 49_000 };
  it("derives the change, the rate in percent and the sign from a price and the day's base", () => {
    expect(priceFields(71_400, day)).toEqual({ price: 71_400, change: 1_400, rate: 2, sign: "up" });
    expect(priceFields(69_300, day)).toEqual({ price: 69_300, change: -700, rate: -1, sign: "down" });
    expect(priceFields(70_000, day)).toEqual({ price: 70_000, change: 0, rate: 0, sign: "flat" });
    expect(priceFields(70_123, day).rate).toBe(0.18);
  });
  it("names the limits", () => {
    expect(priceFields(91_000, day).sign).toBe("upper_limit");
    expect(priceFields(49_000, day).sign).toBe("lower_limit");
  });
  it("leaves the change unknown without a base", () => {
    expect(priceFields(1_000, { basePrice: null, upperLimit: null, lowerLimit: null })).toEqual({ price: 1_000, change: null, rate: null, sign: "flat" });
  });
});
