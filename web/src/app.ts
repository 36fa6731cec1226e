// What every view of a page shares: the API client, the one WebSocket, the settings, the upstream status and
// the trigger history.

import { api } from "./api";
import { triggerFrom, type Trigger } from "./model";
import { loadSettings, saveSettings, type Settings } from "./settings";
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

  constructor(private readonly live: LiveStore) {
    live.on("trigger", (msg) => {
      const tr = triggerFrom(msg);
      this.add(tr);
      for (const cb of [...this.fresh]) cb(tr);
    });
  }

  async load(): Promise<void> {
    const list = await api.triggers({ limit: 100 });
    const known = new Set(this.items.map((t) => t.id));
    for (const tr of list) if (!known.has(tr.id)) this.items.push(tr);
    this.items.sort((a, b) => b.id - a.id);
    if (this.items.length > 0) this.live.noteTriggerId(this.items[0].id);
    this.changed.emit();
  }

  private add(tr: Trigger): void {
    if (this.items.some((t) => t.id === tr.id)) return;
    this.items.unshift(tr);
    this.items.sort((a, b) => b.id - a.id);
    this.changed.emit();
  }

  /** Called for each trigger that arrives live (not for the history). */
  onNew(cb: (t: Trigger) => void): () => void {
    this.fresh.add(cb);
    return () => this.fresh.delete(cb);
  }

  unackedCodes(): Set<string> {
    return new Set(this.items.filter((t) => !t.acked).map((t) => t.code));
  }

  async ack(ids: number[]): Promise<void> {
    await Promise.all(ids.map((id) => api.ackTrigger(id)));
    for (const tr of this.items) if (ids.includes(tr.id)) tr.acked = true;
    this.changed.emit();
  }
}

export const live = new LiveStore({ url: wsUrl() });
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
