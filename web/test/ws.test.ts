import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveStore, type ConnectionState, type ServerMessage, type SocketLike } from "../src/ws";

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
  drop(): void {
    this.closed = true;
    this.onclose?.({ code: 1006, reason: "" });
  }
  push(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

let frames: Array<() => void> = [];

function makeStore(): LiveStore {
  return new LiveStore({
    url: "ws://test/api/v1/ws",
    createSocket: (url) => new FakeSocket(url),
    scheduleFrame: (cb) => frames.push(cb),
    random: () => 0.5, // no jitter: the delays below are exact
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
    expect(last().sent).toHaveLength(2);
    b();
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
    const got: number[] = [];
    store.on("trigger", (m) => got.push((m.trigger as { id: number }).id));
    store.noteTriggerId(7); // the page loaded triggers up to 7 over HTTP
    store.connect();
    last().open();
    expect(last().sent).toEqual([{ op: "resume", after_trigger_id: 7 }]);

    last().push({ type: "trigger", trigger: { id: 8, code: "005930" } });
    last().push({ type: "trigger", trigger: { id: 9, code: "005930" } });
    last().drop();
    vi.advanceTimersByTime(500);
    last().open();
    expect(last().sent).toEqual([{ op: "resume", after_trigger_id: 9 }]);

    // The service replays from the store; an overlap (9) is not delivered twice.
    last().push({ type: "trigger", trigger: { id: 9, code: "005930" } });
    last().push({ type: "trigger", trigger: { id: 10, code: "000660" } });
    expect(got).toEqual([8, 9, 10]);
    expect(store.lastTriggerId).toBe(10);
  });

  it("accepts a flat trigger message and sends no resume before any trigger is known", () => {
    const store = makeStore();
    const got: ServerMessage[] = [];
    store.on("trigger", (m) => got.push(m));
    store.connect();
    last().open();
    expect(last().sent).toEqual([]);
    last().push({ type: "trigger", id: 3, code: "005930" });
    expect(got).toHaveLength(1);
    expect(store.lastTriggerId).toBe(3);
  });
});

describe("coalescing", () => {
  it("keeps the latest tick and order book per stock within a frame, in first-arrival order", () => {
    const store = makeStore();
    const ticks: ServerMessage[] = [];
    const books: ServerMessage[] = [];
    store.on("tick", (m) => ticks.push(m));
    store.on("orderbook", (m) => books.push(m));
    store.connect();
    last().open();
    for (let i = 1; i <= 50; i++) last().push({ type: "tick", code: "005930", price: 70_000 + i });
    last().push({ type: "tick", code: "000660", price: 180_000 });
    last().push({ type: "orderbook", code: "005930", asks: [{ price: 1, quantity: 1 }] });
    last().push({ type: "orderbook", code: "005930", asks: [{ price: 2, quantity: 2 }] });
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
    const batches: ServerMessage[][] = [];
    store.on("executions", (b) => batches.push(b));
    store.connect();
    last().open();
    last().push({ type: "executions", code: "005930", executions: [{ price: 1 }] });
    last().push({ type: "executions", code: "005930", executions: [{ price: 2 }] });
    runFrame();
    expect(batches).toHaveLength(1);
    expect(batches[0].map((m) => (m.executions as Array<{ price: number }>)[0].price)).toEqual([1, 2]);
  });

  it("keeps the last update of a closed bar when the next bar starts in the same frame", () => {
    const store = makeStore();
    const candles: ServerMessage[] = [];
    store.on("candle", (m) => candles.push(m));
    store.connect();
    last().open();
    const bar = (time: string, close: number) => ({ type: "candle", code: "005930", period: "1m", candle: { time, close } });
    last().push(bar("2026-11-27T09:00:00+09:00", 100));
    last().push(bar("2026-11-27T09:00:00+09:00", 101));
    last().push(bar("2026-11-27T09:01:00+09:00", 102));
    runFrame();
    expect(candles.map((c) => (c.candle as { close: number }).close)).toEqual([101, 102]);
  });

  it("delivers triggers and status at once, without waiting for a frame", () => {
    const store = makeStore();
    const seen: string[] = [];
    store.on("trigger", () => seen.push("trigger"));
    store.on("status", () => seen.push("status"));
    store.connect();
    last().open();
    last().push({ type: "status", upstream: "reconnecting" });
    last().push({ type: "trigger", trigger: { id: 1 } });
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
