import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LIVE_FRESH_MS, StockFeed } from "../src/feed";
import {
  LiveStore,
  readStatusMessage,
  scanChannel,
  type ConnectionState,
  type MessageOf,
  type ProtocolError,
  type ScanEventMessage,
  type ScanSweepMessage,
  type ServerMessage,
  type SocketLike,
  type StatusUpdate,
} from "../src/ws";
import { book, candle, executions, refused, status, tick, trade, trigger } from "./messages";

/** A WebSocket double the test opens, feeds and drops by hand; it records what the store sent. */
class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  sent: unknown[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    if (this.closed) throw new Error("send on a closed socket");
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
  }
  // Test controls.
  open(): void {
    this.onopen?.({});
  }
  drop(code = 1006, reason = ""): void {
    this.closed = true;
    this.onclose?.({ code, reason });
  }
  push(msg: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

let frames: Array<() => void> = [];
const LINGER_MS = 2_000;

/** Lets the store's lingering unsubscribes go out. */
function endTask(): void {
  vi.advanceTimersByTime(LINGER_MS);
}

function makeStore(): LiveStore {
  return new LiveStore({
    url: "ws://test/api/v1/ws",
    createSocket: (url) => new FakeSocket(url),
    scheduleFrame: (cb) => frames.push(cb),
    random: () => 0.5, // no jitter: the delays below are exact
    now: () => Date.now(), // vitest's fake clock
    releaseLingerMs: LINGER_MS,
    initialBackoffMs: 500,
    maxBackoffMs: 8_000,
  });
}

function runFrame(): void {
  const f = frames;
  frames = [];
  for (const cb of f) cb();
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1];

beforeEach(() => {
  FakeSocket.all = [];
  frames = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("subscriptions", () => {
  it("sends what was asked for before the socket opened, grouped by channel set", () => {
    const store = makeStore();
    store.subscribe(["005930", "000660"], ["tick", "candle:30m"]);
    store.connect();
    expect(last().sent).toEqual([]);
    last().open();
    expect(last().sent).toEqual([{ op: "subscribe", codes: ["005930", "000660"], channels: ["candle:30m", "tick"] }]);
  });

  it("reference-counts pairs: a shared pair is subscribed once and unsubscribed when the last user leaves", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const a = store.subscribe(["005930"], ["tick"]);
    const b = store.subscribe(["005930"], ["tick", "orderbook"]);
    expect(last().sent).toEqual([
      { op: "subscribe", codes: ["005930"], channels: ["tick"] },
      { op: "subscribe", codes: ["005930"], channels: ["orderbook"] },
    ]);
    a();
    a(); // releasing twice changes nothing
    endTask();
    expect(last().sent).toHaveLength(2);
    b();
    vi.advanceTimersByTime(LINGER_MS - 1);
    expect(last().sent).toHaveLength(2); // it lingers first
    vi.advanceTimersByTime(1);
    expect(last().sent[2]).toEqual({ op: "unsubscribe", codes: ["005930"], channels: ["orderbook", "tick"] });
  });
});

describe("reconnect", () => {
  it("reconnects with exponential backoff, reports the state, and resets after a successful open", () => {
    const store = makeStore();
    const states: ConnectionState[] = [];
    store.on("connection", (s) => states.push(s));
    store.connect();
    last().open();
    last().drop();
    expect(store.connection).toBe("reconnecting");
    expect(FakeSocket.all).toHaveLength(1);

    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2); // attempt 1 after 500 ms

    last().drop(); // the server is still down
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3); // attempt 2 after 1 s

    last().open();
    expect(store.connection).toBe("open");
    last().drop();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(4); // back to 500 ms after a good connection
    expect(states).toEqual(["connecting", "open", "reconnecting", "open", "reconnecting"]);
  });

  it("caps the backoff", () => {
    const store = makeStore();
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => store.backoffMs(n))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("replays every live subscription after a reconnect", () => {
    const store = makeStore();
    store.connect();
    last().open();
    store.subscribe(["005930"], ["tick", "executions"]);
    const release = store.subscribe(["035720"], ["tick"]);
    release();
    last().drop();
    vi.advanceTimersByTime(500);
    last().open();
    endTask(); // the pair given back before the drop is not unsubscribed on the new session
    expect(last().sent).toEqual([{ op: "subscribe", codes: ["005930"], channels: ["executions", "tick"] }]);
  });

  it("does not reconnect after close()", () => {
    const store = makeStore();
    store.connect();
    last().open();
    store.close();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(store.connection).toBe("closed");
  });
});

describe("resume", () => {
  it("resumes after the last trigger it saw, and delivers each trigger once", () => {
    const store = makeStore();
    const got: Array<number | null> = [];
    store.on("trigger", (m) => got.push(m.id));
    store.noteTriggerId(7); // the page loaded triggers up to 7 over HTTP
    store.connect();
    last().open();
    expect(last().sent).toEqual([{ op: "resume", after_trigger_id: 7 }]);

    last().push(trigger(8));
    last().push(trigger(9));
    last().drop();
    vi.advanceTimersByTime(500);
    last().open();
    expect(last().sent).toEqual([{ op: "resume", after_trigger_id: 9 }]);

    // The service replays from the store; an overlap (9) is not delivered twice.
    last().push(trigger(9));
    last().push(trigger(10, "000660"));
    expect(got).toEqual([8, 9, 10]);
    expect(store.lastTriggerId).toBe(10);
  });

  it("delivers the trigger as it came and sends no resume before any trigger is known", () => {
    const store = makeStore();
    const got: Array<MessageOf<"trigger"> | MessageOf<"trigger_unstored">> = [];
    store.on("trigger", (m) => got.push(m));
    store.connect();
    last().open();
    expect(last().sent).toEqual([]);
    last().push(trigger(3));
    expect(got).toEqual([trigger(3)]);
    expect(store.lastTriggerId).toBe(3);
  });
});

describe("coalescing", () => {
  it("keeps the latest tick and order book per stock within a frame, in first-arrival order", () => {
    const store = makeStore();
    const ticks: MessageOf<"tick">[] = [];
    const books: MessageOf<"orderbook">[] = [];
    store.on("tick", (m) => ticks.push(m));
    store.on("orderbook", (m) => books.push(m));
    store.connect();
    last().open();
    for (let i = 1; i <= 50; i++) last().push(tick("005930", 70_000 + i));
    last().push(tick("000660", 180_000));
    last().push(book("005930", [{ price: 1, quantity: 1 }]));
    last().push(book("005930", [{ price: 2, quantity: 2 }]));
    expect(ticks).toEqual([]); // nothing before the frame
    expect(frames).toHaveLength(1); // one frame requested for the whole burst
    runFrame();
    expect(ticks.map((t) => [t.code, t.price])).toEqual([
      ["005930", 70_050],
      ["000660", 180_000],
    ]);
    expect(books).toHaveLength(1);
    expect(books[0].asks).toEqual([{ price: 2, quantity: 2 }]);
  });

  it("never coalesces executions: all of a frame's batches arrive, in order", () => {
    const store = makeStore();
    const batches: MessageOf<"executions">[][] = [];
    store.on("executions", (b) => batches.push(b));
    store.connect();
    last().open();
    last().push(executions("005930", [trade(1)]));
    last().push(executions("005930", [trade(2)]));
    runFrame();
    expect(batches).toHaveLength(1);
    expect(batches[0].map((m) => m.executions[0].price)).toEqual([1, 2]);
  });

  /** A store on an open socket, its ticks collected, holding for 1 s (another window is opening). */
  function heldStore(): { store: LiveStore; ticks: MessageOf<"tick">[] } {
    const store = makeStore();
    const ticks: MessageOf<"tick">[] = [];
    store.on("tick", (m) => ticks.push(m));
    store.connect();
    last().open();
    store.hold(1_000);
    return { store, ticks };
  }

  it("holds delivery while another window opens, loses nothing, and delivers the newest at the hold's end", () => {
    const { store, ticks } = heldStore();
    const batches: MessageOf<"executions">[][] = [];
    store.on("executions", (b) => batches.push(b));
    last().push(tick("005930", 70_000));
    last().push(executions("005930", [trade(1)]));
    runFrame();
    expect(ticks).toEqual([]); // the frame came during the hold: nothing drawn
    last().push(tick("005930", 70_100));
    last().push(executions("005930", [trade(2)]));
    expect(frames).toHaveLength(0); // the held frame stands for what arrives meanwhile
    vi.advanceTimersByTime(999);
    expect(ticks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ticks.map((t) => t.price)).toEqual([70_100]);
    expect(batches.flat().map((m) => m.executions[0].price)).toEqual([1, 2]);
    // After the hold, frames deliver as before.
    last().push(tick("005930", 70_200));
    runFrame();
    expect(ticks.map((t) => t.price)).toEqual([70_100, 70_200]);
  });

  it("never holds longer than one hold in a row: a second hold during the first ends with it", () => {
    const { store, ticks } = heldStore();
    last().push(tick("005930", 70_000));
    runFrame();
    vi.advanceTimersByTime(600);
    store.hold(1_000); // the opening window announces itself
    vi.advanceTimersByTime(399);
    expect(ticks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ticks.map((t) => t.price)).toEqual([70_000]);
    // Once it ended, a new hold holds again.
    store.hold(1_000);
    last().push(tick("005930", 70_100));
    runFrame();
    expect(ticks).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(ticks.map((t) => t.price)).toEqual([70_000, 70_100]);
  });

  it("ends a hold early when released, on the next frame", () => {
    const { store, ticks } = heldStore();
    last().push(tick("005930", 70_000));
    runFrame();
    vi.advanceTimersByTime(300);
    store.release();
    expect(ticks).toEqual([]);
    runFrame();
    expect(ticks.map((t) => t.price)).toEqual([70_000]);
    vi.advanceTimersByTime(1_000); // the hold's own timer is gone: nothing delivered twice
    expect(ticks).toHaveLength(1);
  });

  it("keeps the last update of a closed bar when the next bar starts in the same frame", () => {
    const store = makeStore();
    const candles: MessageOf<"candle">[] = [];
    store.on("candle", (m) => candles.push(m));
    store.connect();
    last().open();
    const bar = (time: string, close: number) => candle("005930", "1m", time, close);
    last().push(bar("2026-11-27T09:00:00+09:00", 100));
    last().push(bar("2026-11-27T09:00:00+09:00", 101));
    last().push(bar("2026-11-27T09:01:00+09:00", 102));
    runFrame();
    expect(candles.map((c) => c.candle.close)).toEqual([101, 102]);
  });

  it("delivers triggers and status at once, without waiting for a frame", () => {
    const store = makeStore();
    const seen: string[] = [];
    store.on("trigger", () => seen.push("trigger"));
    store.on("status", () => seen.push("status"));
    store.connect();
    last().open();
    last().push(status("reconnecting"));
    last().push(trigger(1));
    expect(seen).toEqual(["status", "trigger"]);
    expect(frames).toHaveLength(0);
  });

  it("ignores malformed frames", () => {
    const store = makeStore();
    const seen: unknown[] = [];
    store.on("tick", (m) => seen.push(m));
    store.connect();
    last().open();
    last().onmessage?.({ data: "not json" });
    last().onmessage?.({ data: JSON.stringify({ no: "type" }) });
    runFrame();
    expect(seen).toEqual([]);
  });
});

describe("the protocol of the realtime hub", () => {
  it("subscribes a page's channels as the hub's protocol spells them, and unsubscribes them when the page is left", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const feed = new StockFeed(store, "005930", "D", () => Date.now());
    expect(last().sent).toEqual([
      { op: "subscribe", codes: ["005930"], channels: ["executions", "orderbook", "tick"] },
      { op: "subscribe", codes: ["005930"], channels: ["candle:D"] },
    ]);
    // A period switch swaps the candle channel only: the stock's realtime registrations never churn.
    feed.setPeriod("30m");
    feed.setPeriod("30m");
    endTask();
    expect(last().sent.slice(2)).toEqual([
      { op: "subscribe", codes: ["005930"], channels: ["candle:30m"] },
      { op: "unsubscribe", codes: ["005930"], channels: ["candle:D"] },
    ]);
    feed.close();
    feed.close();
    endTask();
    expect(last().sent.slice(4)).toEqual([{ op: "unsubscribe", codes: ["005930"], channels: ["candle:30m", "executions", "orderbook", "tick"] }]);
    // Nothing of the page is replayed after a reconnect.
    last().drop();
    vi.advanceTimersByTime(500);
    last().open();
    expect(last().sent).toEqual([]);
  });

  it("keeps a watchlist row's tick when the home page leaves while a stock page of it stays open", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const home = store.subscribe(["005930", "000660"], ["tick"]);
    const feed = new StockFeed(store, "005930", "D", () => Date.now());
    last().sent = [];
    home();
    endTask();
    expect(last().sent).toEqual([{ op: "unsubscribe", codes: ["000660"], channels: ["tick"] }]);
    feed.close();
  });

  it("sends nothing for a stock both views show when a route swaps the stock page for the watchlist", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const feed = new StockFeed(store, "005930", "D", () => Date.now());
    last().sent = [];
    // The router unmounts the stock page and mounts home, which subscribes once its list has loaded.
    feed.close();
    vi.advanceTimersByTime(300);
    const home = store.subscribe(["005930", "000660"], ["tick"]);
    endTask();
    expect(last().sent).toEqual([
      { op: "subscribe", codes: ["000660"], channels: ["tick"] },
      { op: "unsubscribe", codes: ["005930"], channels: ["candle:D", "executions", "orderbook"] },
    ]);
    home();
    endTask();
    expect(last().sent[2]).toEqual({ op: "unsubscribe", codes: ["005930", "000660"], channels: ["tick"] });
  });

  it("sends only the difference when a list is re-taken before the old one is given back", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const before = store.subscribe(["005930", "000660"], ["tick"]);
    const after = store.subscribe(["005930", "035720"], ["tick"]);
    before();
    endTask();
    expect(last().sent.slice(1)).toEqual([
      { op: "subscribe", codes: ["035720"], channels: ["tick"] },
      { op: "unsubscribe", codes: ["000660"], channels: ["tick"] },
    ]);
    after();
  });

  it("splits a long watchlist into requests of at most 200 codes", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const codes = Array.from({ length: 450 }, (_, i) => String(i).padStart(6, "0"));
    store.subscribe(codes, ["tick"]);
    const sent = last().sent as Array<{ op: string; codes: string[]; channels: string[] }>;
    expect(sent.map((m) => m.codes.length)).toEqual([200, 200, 50]);
    expect(sent.flatMap((m) => m.codes)).toEqual(codes);
    expect(sent.every((m) => m.op === "subscribe" && m.channels.join() === "tick")).toBe(true);
  });

  it("reads status messages: the upstream state and each stock's realtime / polled / stale", () => {
    const store = makeStore();
    const updates: StatusUpdate[] = [];
    store.on("status", (u) => updates.push(u));
    store.connect();
    last().open();
    last().push(status("connected", [{ code: "005930", status: "realtime", age_ms: 120, bound_ms: null }]));
    last().push(status(undefined, [{ code: "000660", status: "polled", age_ms: 900, bound_ms: 4000 }]));
    expect(store.upstream).toBe("connected"); // a message without `upstream` leaves it as it was
    expect(store.stockStatus("005930")).toEqual({ code: "005930", status: "realtime", ageMs: 120, boundMs: null });
    expect(store.stockStatus("000660")?.status).toBe("polled");
    expect(store.stockStatus("035720")).toBeNull();
    expect(updates.map((u) => [u.upstream, u.stocks.map((e) => e.code)])).toEqual([
      ["connected", ["005930"]],
      [null, ["000660"]],
    ]);
    last().push(status("reconnecting"));
    expect(store.upstream).toBe("reconnecting");
    // Each part of a status message may be left out.
    expect(readStatusMessage(status("polling"))).toEqual({ upstream: "polling", stocks: [] });
    expect(readStatusMessage(status(undefined, [{ code: "005930", status: "stale", age_ms: null, bound_ms: 8000 }]))).toEqual({
      upstream: null,
      stocks: [{ code: "005930", status: "stale", ageMs: null, boundMs: 8000 }],
    });
  });

  it("reports a refused request as an error event and keeps the connection", () => {
    const store = makeStore();
    const errors: ProtocolError[] = [];
    store.on("error", (e) => errors.push(e));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    store.connect();
    last().open();
    last().push(refused("bad_channel", 'bad channel "candle:7m" at channels[1]'));
    expect(errors).toEqual([{ code: "bad_channel", message: 'bad channel "candle:7m" at channels[1]' }]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("bad_channel"));
    expect(store.connection).toBe("open");
    expect(last().closed).toBe(false);
    warn.mockRestore();
  });

  it("after a close for being too slow (1008) reconnects, re-subscribes and resumes after the last trigger", () => {
    const store = makeStore();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    store.connect();
    last().open();
    store.subscribe(["005930"], ["tick", "orderbook"]);
    last().push(trigger(12));
    last().drop(1008, "too slow");
    expect(store.tooSlowCloses).toBe(1);
    expect(store.connection).toBe("reconnecting");
    vi.advanceTimersByTime(500);
    last().open();
    expect(last().sent).toEqual([
      { op: "subscribe", codes: ["005930"], channels: ["orderbook", "tick"] },
      { op: "resume", after_trigger_id: 12 },
    ]);
    warn.mockRestore();
  });

  it("does not poll a realtime stock that is merely quiet, and trusts no old status after a drop", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const feed = new StockFeed(store, "005930", "D", () => Date.now());
    last().push(status(undefined, [{ code: "005930", status: "realtime", age_ms: 60_000, bound_ms: null }]));
    expect(feed.needsSnapshotPoll).toBe(false); // no trade for a minute, but registered on a live session
    last().push(status(undefined, [{ code: "005930", status: "polled", age_ms: 100, bound_ms: 4000 }]));
    expect(feed.needsSnapshotPoll).toBe(true);
    last().push(status(undefined, [{ code: "005930", status: "realtime", age_ms: 0, bound_ms: null }]));
    last().drop();
    expect(feed.needsSnapshotPoll).toBe(true); // the socket is gone
    vi.advanceTimersByTime(500);
    last().open();
    expect(store.stockStatus("005930")).toBeNull();
    expect(feed.needsSnapshotPoll).toBe(true);
    feed.close();
  });

  it("says whether live data arrives for a stock, so the page polls REST only while it does not", () => {
    const store = makeStore();
    store.connect();
    last().open();
    const feed = new StockFeed(store, "005930", "30m", () => Date.now());
    expect(feed.needsSnapshotPoll).toBe(true); // nothing live yet (e.g. today's server without the hub)
    expect(feed.needsCandlePoll).toBe(true);
    last().push(book("005930"));
    last().push(tick("000660", 1));
    expect(feed.needsSnapshotPoll).toBe(false);
    expect(store.isLive("000660", LIVE_FRESH_MS)).toBe(true);
    feed.noteCandle("D"); // another period's bar does not count
    expect(feed.needsCandlePoll).toBe(true);
    feed.noteCandle("30m");
    expect(feed.needsCandlePoll).toBe(false);
    vi.advanceTimersByTime(LIVE_FRESH_MS + 1);
    expect(feed.needsSnapshotPoll).toBe(true); // the stream went quiet (a dropped socket, a polled stock)
    expect(feed.needsCandlePoll).toBe(true);
    feed.setPeriod("D");
    expect(feed.needsCandlePoll).toBe(true);
    feed.close();
  });
});

describe("조건검색 channels", () => {
  const raw = (msg: unknown) => last().onmessage?.({ data: JSON.stringify(msg) });
  const enter: ScanEventMessage = {
    type: "scan_event",
    id: 7,
    condition_id: 3,
    code: "005930",
    name: "삼성전자",
    kind: "enter",
    time: "2026-11-27T10:00:00+09:00",
    price: 74_200,
    change_rate: 1.2,
    turnover: 1_200_000_000_000,
    values: { "ma(20)": 73_000.5, "ma(60)": 71_000 },
  };
  const sweep: ScanSweepMessage = { type: "scan_sweep", condition_id: 3, as_of: "2026-11-27T10:00:00+09:00", matches: 42, universe: 2_565, evaluated: 2_431, closed: false };

  it("subscribes a scan channel without codes, next to the stocks' pairs, and unsubscribes it after the linger", () => {
    const store = makeStore();
    store.connect();
    last().open();
    store.subscribe(["005930"], ["tick"]);
    const release = store.subscribeChannels([scanChannel(3)]);
    const again = store.subscribeChannels(["scan:3"]);
    expect(last().sent).toEqual([
      { op: "subscribe", codes: ["005930"], channels: ["tick"] },
      { op: "subscribe", channels: ["scan:3"] },
    ]);
    release();
    endTask();
    expect(last().sent).toHaveLength(2); // still taken by the other user
    again();
    endTask();
    expect(last().sent[2]).toEqual({ op: "unsubscribe", channels: ["scan:3"] });
  });

  it("re-sends the scan channels after a reconnect", () => {
    const store = makeStore();
    store.subscribeChannels(["scan:3", "scan:1"]);
    store.subscribe(["005930"], ["tick"]);
    store.connect();
    last().open();
    expect(last().sent).toEqual([
      { op: "subscribe", channels: ["scan:1", "scan:3"] },
      { op: "subscribe", codes: ["005930"], channels: ["tick"] },
    ]);
    last().drop();
    vi.advanceTimersByTime(500);
    last().open();
    expect(last().sent).toEqual([
      { op: "subscribe", channels: ["scan:1", "scan:3"] },
      { op: "subscribe", codes: ["005930"], channels: ["tick"] },
    ]);
  });

  it("delivers scan_event and scan_sweep at once, as they came", () => {
    const store = makeStore();
    const got: unknown[] = [];
    store.on("scanEvent", (m) => got.push(m));
    store.on("scanSweep", (m) => got.push(m));
    store.connect();
    last().open();
    raw(enter);
    raw(sweep);
    expect(got).toEqual([enter, sweep]);
    expect(frames).toHaveLength(0); // nothing waited for a frame
  });
});
