// The one browser WebSocket to kiswatch (`/api/v1/ws`), shared by every view of a page.
//
// Why a store and not a socket per view: the service fans one upstream registration out to many browsers,
// and the UI does the same inside a page. Views ask for (code, channel) pairs; the store reference-counts
// them, sends `subscribe`/`unsubscribe` only when a pair appears or disappears (an unsubscribe lingers two seconds,
// so a route change that gives a pair back and takes it again once the next view has loaded sends nothing),
// and replays
// every live pair after a reconnect. It also:
// * reconnects with exponential backoff and jitter (never a tight loop against a restarting server);
// * after every (re)connect sends `{"op":"resume","after_trigger_id":N}` with the last trigger it saw, so the
//   triggers fired while it was away arrive from the service's store, in order; a trigger id it has already
//   seen is dropped, so a trigger is delivered to the views exactly once;
// * delivers a `trigger_unstored` (a trigger the service could not store yet: no id, its `key`) as a new
//   trigger at once, and the stored `trigger` with the same key that follows as `triggerStored` — the same
//   trigger with its id, not a second alert;
// * coalesces bursts per animation frame: ticks and order books keep the latest per stock, candles the latest
//   per (stock, period, bar), executions are batched; triggers, status and error messages are never coalesced
//   and are delivered at once;
// * keeps what `status` messages say (the upstream state and each stock's realtime / polled / stale) and when
//   live data last arrived for each stock, so a view can fall back to REST polling for a stock the service
//   sends nothing for (a polled stock, or a service without the realtime hub);
// * carries 조건검색: `subscribeChannels(["scan:<id>"])` asks for channels that name no stock (sent without
//   `codes`, reference-counted and replayed after a reconnect like the pairs), and `scan_event` (편입/이탈) and
//   `scan_sweep` messages are delivered at once, never coalesced;
// * treats a close with 1008 (the service dropping a client too slow to keep up) like any other drop: it
//   reconnects, re-subscribes and resumes, so nothing but coalesced market data is lost.
// Everything time-related (sockets, timers, frames, randomness) is injected so the unit tests drive it with a
// fake socket and vitest's fake timers.

import type { ScanEventWire, ScanSweepWire, Wire } from "./model";

/** What waits for the next frame: the latest tick, book or bar of a key, or a stock's executions messages. */
type Coalesced = MessageOf<"tick"> | MessageOf<"orderbook"> | MessageOf<"candle"> | MessageOf<"executions">[];

export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** Every message the service sends, told apart by `type` (`ServerMessage` of the OpenAPI document). */
export type ServerMessage = Wire["ServerMessage"];

/** The message of one `type`. */
export type MessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

export type UpstreamState = Wire["UpstreamState"];
export type FeedStatus = Wire["FeedState"];

/** One stock's line of a `status` message. */
export interface StockStatusEntry {
  code: string;
  status: FeedStatus;
  /** Milliseconds since its last data (`null` when nothing arrived yet). */
  ageMs: number | null;
  /** How old its data may get before it is stale (`null` while realtime). */
  boundMs: number | null;
}

/** What a `status` message says: `{"upstream":..,"stocks":[{code,status,age_ms,bound_ms}]}`, either part optional. */
export interface StatusUpdate {
  upstream: UpstreamState | null;
  stocks: StockStatusEntry[];
}

/** Reads a `status` message. */
export function readStatusMessage(msg: MessageOf<"status">): StatusUpdate {
  const stocks = (msg.stocks ?? []).map((e) => ({ code: e.code, status: e.status, ageMs: e.age_ms, boundMs: e.bound_ms }));
  return { upstream: msg.upstream ?? null, stocks };
}

/** An `error` message: the service refused a request (nothing of it was applied). */
export interface ProtocolError {
  code: string;
  message: string;
}

/** A `scan_event` message: a stock entered (편입) or left (이탈) a market-scope condition's result set. */
export type ScanEventMessage = ScanEventWire & { type: "scan_event" };

/** A `scan_sweep` message: a sweep of a market-scope condition ended. */
export type ScanSweepMessage = ScanSweepWire & { type: "scan_sweep" };

/** The channel of a market-scope condition's events and sweeps. */
export function scanChannel(conditionId: number): string {
  return `scan:${conditionId}`;
}

/** The most codes the service accepts in one request (`MAX_CODES_PER_REQUEST` of the hub's protocol). */
export const MAX_CODES_PER_REQUEST = 200;

/** The close code a service uses when it drops a client that cannot keep up (RFC 6455 "policy violation"). */
export const CLOSE_TOO_SLOW = 1008;

export interface StoreEvents {
  tick: MessageOf<"tick">;
  orderbook: MessageOf<"orderbook">;
  candle: MessageOf<"candle">;
  /** All executions messages for one stock that arrived within one frame, oldest first. */
  executions: MessageOf<"executions">[];
  /** A trigger seen for the first time: stored (`trigger`), or not stored yet (`trigger_unstored`). */
  trigger: MessageOf<"trigger"> | MessageOf<"trigger_unstored">;
  /** A stored trigger already delivered as `trigger_unstored` (same `key`): it now has its id. */
  triggerStored: MessageOf<"trigger">;
  /** A `status` message, read. The store's `upstream` and `stockStatus` are updated before it is emitted. */
  status: StatusUpdate;
  error: ProtocolError;
  connection: ConnectionState;
  scanEvent: ScanEventMessage;
  scanSweep: ScanSweepMessage;
}

export interface LiveStoreOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  scheduleFrame?: (cb: () => void) => void;
  setTimer?: (cb: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  random?: () => number;
  /** Milliseconds on a monotonic clock (liveness of stocks). */
  now?: () => number;
  /** How long a pair given back stays subscribed in case a view takes it again (a route change). */
  releaseLingerMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

type Listener<K extends keyof StoreEvents> = (value: StoreEvents[K]) => void;

/** How long market data may wait for an animation frame: one frame at 60 Hz. */
export const FRAME_MS = 16;

/**
 * How long market data may wait in a window without focus when no animation frame comes first. Every
 * kiswatch window of a browser shares one renderer thread with the windows it opened (a trigger's popup
 * shares it with the watchlist that opened it); six windows each repainting on a 16 ms timer starved the
 * newest popup, which drew its chart a second late. A window the user is not in still follows every
 * animation frame the browser gives it, and its timer falls back to 4 updates a second.
 */
export const UNFOCUSED_FRAME_MS = 250;

/**
 * The next animation frame, or {@link FRAME_MS} at the latest ({@link UNFOCUSED_FRAME_MS} in a window
 * without focus): a frame's updates are applied together, and never later than a 60 Hz display would show
 * them. Animation frames pause in a background tab and come hundreds of milliseconds apart in a headless or
 * starved browser (measured: 600 ms in headless Chromium on the CI machine, BENCHMARKS.md); the timer covers
 * both (a background tab clamps it to its own rate).
 */
export function defaultScheduleFrame(cb: () => void): void {
  let done = false;
  const run = () => {
    if (!done) {
      done = true;
      cb();
    }
  };
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
  const focused = typeof document === "undefined" || document.hasFocus();
  setTimeout(run, focused ? FRAME_MS : UNFOCUSED_FRAME_MS);
}

/** How many trigger keys are kept to tell a stored trigger from its unstored copy. */
const KEYS_KEPT = 1_000;

function remember(set: Set<string>, key: string): void {
  set.add(key);
  if (set.size > KEYS_KEPT) set.delete(set.values().next().value as string);
}

export class LiveStore {
  private readonly opts: Required<Omit<LiveStoreOptions, "url">> & { url: string };
  private socket: SocketLike | null = null;
  private state: ConnectionState = "idle";
  private attempts = 0;
  private reconnectTimer: unknown = null;
  private stopped = false;
  private lastTrigger: number | null = null;
  /** Keys of the triggers delivered unstored, waiting for their stored copy (insertion order, bounded). */
  private readonly unstoredKeys = new Set<string>();
  /** Keys of the stored triggers delivered (an unstored copy arriving after its stored one is no news). */
  private readonly storedKeys = new Set<string>();
  private readonly refs = new Map<string, number>();
  private readonly listeners = new Map<keyof StoreEvents, Set<Listener<keyof StoreEvents>>>();
  private pending = new Map<string, Coalesced>();
  private frameRequested = false;
  /** Until when (on `now`) live data waits while another window opens (see `windows.ts`); 0: no wait. */
  private heldUntil = 0;
  private heldSince = 0;
  private holdTimer: unknown = null;
  private upstreamState: UpstreamState | null = null;
  private readonly statuses = new Map<string, StockStatusEntry>();
  private readonly liveAt = new Map<string, number>();
  private closes = { tooSlow: 0 };
  /** Pairs given back, unsubscribed after `releaseLingerMs` unless taken again. */
  private readonly releasing = new Set<string>();
  private releaseScheduled = false;

  constructor(options: LiveStoreOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      scheduleFrame: defaultScheduleFrame,
      setTimer: (cb, ms) => setTimeout(cb, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      random: Math.random,
      now: () => performance.now(),
      releaseLingerMs: 2_000,
      initialBackoffMs: 500,
      maxBackoffMs: 15_000,
      ...options,
    };
  }

  get connection(): ConnectionState {
    return this.state;
  }

  get lastTriggerId(): number | null {
    return this.lastTrigger;
  }

  /** The upstream state the service last reported (`null` before any `status`). */
  get upstream(): UpstreamState | null {
    return this.upstreamState;
  }

  /** A stock's feed status as the service last reported it. */
  stockStatus(code: string): StockStatusEntry | null {
    return this.statuses.get(code) ?? null;
  }

  /** How often the service dropped this page for being too slow (close 1008). */
  get tooSlowCloses(): number {
    return this.closes.tooSlow;
  }

  /**
   * Whether live market data (tick, order book, executions or a candle) arrived for `code` within the last
   * `withinMs`. A view polls REST for a stock while this is false.
   */
  isLive(code: string, withinMs: number): boolean {
    const at = this.liveAt.get(code);
    return at !== undefined && this.opts.now() - at <= withinMs;
  }

  /**
   * Whether the WebSocket covers `code` now: live data arrived within `withinMs`, or the service says the
   * stock is realtime on this open connection (an illiquid stock can be silent for minutes without being
   * stale). A view polls REST for a stock only while this is false.
   */
  coversLive(code: string, withinMs: number): boolean {
    if (this.isLive(code, withinMs)) return true;
    return this.state === "open" && this.statuses.get(code)?.status === "realtime";
  }

  /** Tells the store the newest trigger the page already has (from `GET /api/v1/triggers`). */
  noteTriggerId(id: number): void {
    if (this.lastTrigger === null || id > this.lastTrigger) this.lastTrigger = id;
  }

  on<K extends keyof StoreEvents>(type: K, cb: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(cb as Listener<keyof StoreEvents>);
    return () => set.delete(cb as Listener<keyof StoreEvents>);
  }

  connect(): void {
    this.stopped = false;
    if (this.socket || this.state === "connecting") return;
    this.open();
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) this.opts.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = null;
      s.close(1000, "page closed");
    }
    this.setState("closed");
  }

  /**
   * Asks for `channels` of `codes`; returns the function that gives them back. Pairs are reference-counted:
   * two views watching the same stock cost one subscription.
   */
  subscribe(codes: string[], channels: string[]): () => void {
    const added: Array<[string, string]> = [];
    for (const code of codes) {
      for (const ch of channels) {
        const key = `${code}\u0000${ch}`;
        const n = this.refs.get(key) ?? 0;
        this.refs.set(key, n + 1);
        // A pair given back earlier in this task is still subscribed at the service: nothing to send.
        if (n === 0 && !this.releasing.delete(key)) added.push([code, ch]);
      }
    }
    if (this.state === "open") this.sendGrouped("subscribe", added);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const code of codes) {
        for (const ch of channels) {
          const key = `${code}\u0000${ch}`;
          const n = (this.refs.get(key) ?? 0) - 1;
          if (n <= 0) {
            this.refs.delete(key);
            this.releasing.add(key);
          } else {
            this.refs.set(key, n);
          }
        }
      }
      if (this.releasing.size > 0 && !this.releaseScheduled) {
        this.releaseScheduled = true;
        this.opts.setTimer(() => this.sendReleases(), this.opts.releaseLingerMs);
      }
    };
  }

  /**
   * Asks for channels that name no stock (`scan:<id>`); returns the function that gives them back. They are
   * counted, lingered and replayed like the (code, channel) pairs, and sent as `{"op":…,"channels":[…]}`.
   */
  subscribeChannels(channels: string[]): () => void {
    return this.subscribe([NO_CODE], channels);
  }

  /**
   * Unsubscribes what was given back and not taken again since: a route change unmounts one view and mounts
   * the next, which may take the same stock a moment later (once its list has loaded); the service's
   * realtime registration of that stock should not churn for it.
   */
  private sendReleases(): void {
    this.releaseScheduled = false;
    const pairs = [...this.releasing].map((k) => k.split("\u0000") as [string, string]);
    this.releasing.clear();
    if (this.state === "open") this.sendGrouped("unsubscribe", pairs);
  }

  private open(): void {
    this.setState(this.attempts === 0 && this.state !== "reconnecting" ? "connecting" : "reconnecting");
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempts = 0;
      this.setState("open");
      // A new session holds only what is replayed below: nothing lingers on it.
      this.releasing.clear();
      // Statuses are the old session's word until the service speaks again.
      this.statuses.clear();
      const pairs = [...this.refs.keys()].map((k) => k.split("\u0000") as [string, string]);
      this.sendGrouped("subscribe", pairs);
      if (this.lastTrigger !== null) this.send({ op: "resume", after_trigger_id: this.lastTrigger });
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.receive(ev.data);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev?.code === CLOSE_TOO_SLOW) {
        this.closes.tooSlow += 1;
        console.warn("kiswatch: the service dropped this page for falling behind; reconnecting", ev.reason ?? "");
      }
      if (this.stopped) {
        this.setState("closed");
        return;
      }
      this.scheduleReconnect();
    };
  }

  /** The delay before reconnect attempt `attempt` (1-based): exponential, capped, with ±25% jitter. */
  backoffMs(attempt: number): number {
    const base = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (0.75 + this.opts.random() * 0.5));
  }

  private scheduleReconnect(): void {
    this.attempts += 1;
    this.setState("reconnecting");
    const delay = this.backoffMs(this.attempts);
    this.reconnectTimer = this.opts.setTimer(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.open();
    }, delay);
  }

  private setState(next: ConnectionState): void {
    if (next === this.state) return;
    this.state = next;
    this.emit("connection", next);
  }

  private send(msg: unknown): void {
    try {
      this.socket?.send(JSON.stringify(msg));
    } catch {
      // The socket is closing; the replay after reconnect sends it again.
    }
  }

  /** One message per distinct channel set, so a watchlist of 40 stocks is one `subscribe`, not 40. */
  private sendGrouped(op: "subscribe" | "unsubscribe", pairs: Array<[string, string]>): void {
    if (pairs.length === 0) return;
    const bare = pairs.filter(([code]) => code === NO_CODE).map(([, ch]) => ch);
    if (bare.length > 0) this.send({ op, channels: [...bare].sort() });
    const byCode = new Map<string, string[]>();
    for (const [code, ch] of pairs) {
      if (code === NO_CODE) continue;
      const list = byCode.get(code) ?? [];
      list.push(ch);
      byCode.set(code, list);
    }
    const byChannels = new Map<string, { codes: string[]; channels: string[] }>();
    for (const [code, chs] of byCode) {
      const channels = [...chs].sort();
      const key = channels.join(",");
      const group = byChannels.get(key) ?? { codes: [], channels };
      group.codes.push(code);
      byChannels.set(key, group);
    }
    for (const g of byChannels.values()) {
      for (let i = 0; i < g.codes.length; i += MAX_CODES_PER_REQUEST) {
        this.send({ op, codes: g.codes.slice(i, i + MAX_CODES_PER_REQUEST), channels: g.channels });
      }
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: ServerMessage;
    try {
      const parsed: unknown = JSON.parse(data);
      if (!parsed || typeof parsed !== "object" || typeof (parsed as { type?: unknown }).type !== "string") return;
      msg = parsed as ServerMessage;
    } catch {
      return;
    }
    // 조건검색's messages (not in the generated `ServerMessage` yet): delivered at once.
    const type: string = msg.type;
    if (type === "scan_event") {
      this.emit("scanEvent", msg as unknown as ScanEventMessage);
      return;
    }
    if (type === "scan_sweep") {
      this.emit("scanSweep", msg as unknown as ScanSweepMessage);
      return;
    }
    switch (msg.type) {
      case "trigger": {
        if (this.lastTrigger !== null && msg.id <= this.lastTrigger) return;
        this.lastTrigger = msg.id;
        remember(this.storedKeys, msg.key);
        if (this.unstoredKeys.delete(msg.key)) this.emit("triggerStored", msg);
        else this.emit("trigger", msg);
        return;
      }
      case "trigger_unstored": {
        if (this.unstoredKeys.has(msg.key) || this.storedKeys.has(msg.key)) return;
        remember(this.unstoredKeys, msg.key);
        this.emit("trigger", msg);
        return;
      }
      case "status": {
        const update = readStatusMessage(msg);
        if (update.upstream !== null) this.upstreamState = update.upstream;
        for (const e of update.stocks) this.statuses.set(e.code, e);
        this.emit("status", update);
        return;
      }
      case "error": {
        const err = { code: msg.code, message: msg.message };
        // A refused request is a bug in this page, not the user's problem: tell the developer console.
        console.warn(`kiswatch: the service refused a request (${err.code}): ${err.message}`);
        this.emit("error", err);
        return;
      }
      case "tick":
      case "orderbook":
        this.markLive(msg.code);
        this.queue(`${msg.type}\u0000${msg.code}`, msg);
        return;
      case "candle":
        this.markLive(msg.code);
        this.queue(`candle\u0000${msg.code}\u0000${msg.period}\u0000${msg.candle.time}`, msg);
        return;
      case "executions": {
        this.markLive(msg.code);
        const key = `executions\u0000${msg.code}`;
        const batch = this.pending.get(key);
        if (Array.isArray(batch)) batch.push(msg);
        else this.queue(key, [msg]);
        return;
      }
      default:
        // A message type this page does not know yet (a newer service): nothing to do with it.
        return;
    }
  }

  private markLive(code: string): void {
    this.liveAt.set(code, this.opts.now());
  }

  private queue(key: string, value: Coalesced): void {
    // Re-inserting moves nothing in a Map: the first arrival keeps its place, the latest value wins.
    this.pending.set(key, value);
    if (!this.frameRequested) {
      this.frameRequested = true;
      this.opts.scheduleFrame(() => this.flush());
    }
  }

  /**
   * Holds the delivery of live market data for `ms` at most (another window of this browser is opening and
   * needs the renderer thread they share). Nothing is dropped: messages keep coalescing as they do between
   * two frames, and the first frame after the hold delivers the newest of each.
   */
  hold(ms: number): void {
    const now = this.opts.now();
    // A hold under way is not stretched by the next one (the opening window announces itself again, a second
    // window may open right after): live data never waits more than `ms` in a row, so the header and the
    // chart, which a hold can catch between a trade's `tick` and its `candle`, are apart for less than that.
    if (this.heldUntil <= now) this.heldSince = now;
    this.heldUntil = Math.max(this.heldUntil, Math.min(now + ms, this.heldSince + ms));
  }

  /** Ends a {@link hold} early (the opening window is drawn). */
  release(): void {
    this.heldUntil = 0;
    if (this.holdTimer === null) return;
    this.opts.clearTimer(this.holdTimer);
    this.holdTimer = null;
    this.opts.scheduleFrame(() => this.flush());
  }

  /** Delivers everything queued since the last frame (after a {@link hold}, once it ends). */
  flush(): void {
    const wait = this.heldUntil - this.opts.now();
    if (wait > 0) {
      // `frameRequested` stays set: what arrives meanwhile only joins the queue.
      this.holdTimer ??= this.opts.setTimer(() => {
        this.holdTimer = null;
        this.flush();
      }, wait);
      return;
    }
    this.frameRequested = false;
    const batch = this.pending;
    this.pending = new Map();
    for (const value of batch.values()) {
      if (Array.isArray(value)) this.emit("executions", value);
      else if (value.type === "tick") this.emit("tick", value);
      else if (value.type === "orderbook") this.emit("orderbook", value);
      else this.emit("candle", value);
    }
  }

  private emit<K extends keyof StoreEvents>(type: K, value: StoreEvents[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const cb of [...set]) {
      try {
        (cb as Listener<K>)(value);
      } catch (err) {
        // One broken view must not starve the others of data.
        console.warn("kiswatch: a live-data listener failed", err);
      }
    }
  }
}

/** The "code" of a channel that names no stock (`scan:<id>`) in the store's (code, channel) pairs. */
const NO_CODE = "";

/** The URL of the service's WebSocket for this page. */
export function wsUrl(loc: Pick<Location, "protocol" | "host"> = location): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/api/v1/ws`;
}
