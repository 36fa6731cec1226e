// What every view of a page shares: the API client, the one WebSocket, the settings, the upstream status and
// the trigger history.

import { api } from "./api";
import { byNewest, triggerFrom, type Condition, type Trigger } from "./model";
import { loadSettings, saveSettings, type Settings } from "./settings";
import { joinWindows } from "./windows";
import { LiveStore, wsUrl, type UpstreamState } from "./ws";

export type Upstream = UpstreamState | null;

type Listener = () => void;

class Emitter {
  private readonly set = new Set<Listener>();
  on(cb: Listener): () => void {
    this.set.add(cb);
    return () => this.set.delete(cb);
  }
  emit(): void {
    for (const cb of [...this.set]) cb();
  }
}

/** The trigger history of this session: loaded once over HTTP, then kept current by the WebSocket. */
export class TriggerCenter {
  items: Trigger[] = [];
  readonly changed = new Emitter();
  private readonly fresh = new Set<(t: Trigger) => void>();

  /** Acknowledgements made in another window of this service (a trigger's window, the watchlist). */
  private readonly peers: BroadcastChannel | null = typeof BroadcastChannel === "function" ? new BroadcastChannel("kiswatch-acks") : null;

  constructor(private readonly live: LiveStore) {
    if (this.peers) {
      this.peers.onmessage = (ev: MessageEvent<unknown>) => {
        const keys = Array.isArray(ev.data) ? ev.data.filter((x): x is string => typeof x === "string") : [];
        this.markAcked(keys);
      };
    }
    live.on("trigger", (msg) => {
      const tr = triggerFrom(msg);
      if (!this.add(tr)) return;
      for (const cb of [...this.fresh]) cb(tr);
    });
    // The stored copy of a trigger shown before the store could write it: the same trigger, now with its id.
    live.on("triggerStored", (msg) => {
      const tr = triggerFrom(msg);
      const i = this.items.findIndex((x) => x.key === tr.key);
      if (i < 0) {
        this.add(tr);
        return;
      }
      const before = this.items[i];
      tr.acked = tr.acked || before.acked;
      this.items[i] = tr;
      this.items.sort(byNewest);
      // Acknowledged while it had no id: the store hears it now.
      if (before.acked && !msg.acked) void api.ackTrigger(msg.id).catch((err: unknown) => console.warn("kiswatch: ack failed", err));
      this.changed.emit();
    });
  }

  async load(): Promise<void> {
    const list = await api.triggers({ limit: 100 });
    const known = new Set(this.items.map((t) => t.key));
    for (const tr of list) if (!known.has(tr.key)) this.items.push(tr);
    this.items.sort(byNewest);
    const newest = this.items.find((t) => t.id !== null);
    if (newest?.id != null) this.live.noteTriggerId(newest.id);
    this.changed.emit();
  }

  /** Adds a trigger not known yet; `false` when it was (the same key). */
  private add(tr: Trigger): boolean {
    if (this.items.some((t) => t.key === tr.key)) return false;
    this.items.unshift(tr);
    this.items.sort(byNewest);
    this.changed.emit();
    return true;
  }

  /** Called for each trigger that arrives live (not for the history). */
  onNew(cb: (t: Trigger) => void): () => void {
    this.fresh.add(cb);
    return () => this.fresh.delete(cb);
  }

  unackedCodes(): Set<string> {
    return new Set(this.items.filter((t) => !t.acked).map((t) => t.code));
  }

  /** Acknowledges triggers: in the store for the stored ones, here (and in the other windows) for all. A
   * trigger not stored yet is acknowledged in the store when its stored copy arrives. */
  async ack(list: readonly Trigger[]): Promise<void> {
    const keys = list.map((t) => t.key);
    const ids = list.flatMap((t) => (t.id === null ? [] : [t.id]));
    await Promise.all(ids.map((id) => api.ackTrigger(id)));
    this.markAcked(keys);
    this.peers?.postMessage(keys);
  }

  /** Marks triggers acknowledged, by key. */
  private markAcked(keys: string[]): void {
    if (keys.length === 0) return;
    const wanted = new Set(keys);
    for (const tr of this.items) if (wanted.has(tr.key)) tr.acked = true;
    this.changed.emit();
  }

  private conditions = new Map<number, Condition>();

  /** A condition by id (its alert choices: notification, sound), read again when not known yet. */
  async condition(id: number): Promise<Condition | undefined> {
    if (!this.conditions.has(id)) {
      try {
        this.conditions = new Map((await api.conditions()).map((c) => [c.id, c]));
      } catch {
        return undefined;
      }
    }
    return this.conditions.get(id);
  }

  /** Forgets the conditions read (they were edited on this page). */
  conditionsChanged(): void {
    this.conditions.clear();
  }
}

export const live = new LiveStore({ url: wsUrl() });
/** This window among the others of the browser: its live data waits while another one opens. */
export const windows = joinWindows(live);
export const triggers = new TriggerCenter(live);
export const settingsChanged = new Emitter();
let currentSettings: Settings = loadSettings();

export function settings(): Settings {
  return currentSettings;
}

export function updateSettings(patch: Partial<Settings>): void {
  currentSettings = { ...currentSettings, ...patch };
  saveSettings(currentSettings);
  settingsChanged.emit();
}

/** The upstream (KIS) state the service reports in `status` messages. */
export const upstream = { state: null as Upstream, changed: new Emitter() };

live.on("status", (update) => {
  if (update.upstream !== null && update.upstream !== upstream.state) {
    upstream.state = update.upstream;
    upstream.changed.emit();
  }
});
