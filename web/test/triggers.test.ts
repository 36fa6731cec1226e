// A trigger the service could not store yet (`trigger_unstored`: no id, its key) alerts like any trigger; its
// stored copy (`trigger`, same key, with an id) arriving later takes its place without a second alert.

import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SocketLike } from "../src/ws";
import { trigger, unstoredTrigger } from "./messages";

const acked: number[] = [];
vi.mock("../src/api", () => ({
  api: {
    ackTrigger: (id: number) => {
      acked.push(id);
      return Promise.resolve({});
    },
    triggers: () => Promise.resolve([]),
  },
}));

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: unknown[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {}
  push(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

// The app module makes the page's own store at load: give it an address (node has no `location`).
vi.stubGlobal("location", { protocol: "http:", host: "test" });
let mod: typeof import("../src/app");
let wsMod: typeof import("../src/ws");
beforeAll(async () => {
  mod = await import("../src/app");
  wsMod = await import("../src/ws");
});

function setUp() {
  let socket: FakeSocket | null = null;
  const store = new wsMod.LiveStore({
    url: "ws://test/api/v1/ws",
    createSocket: () => (socket = new FakeSocket()),
    scheduleFrame: (cb) => cb(),
    setTimer: () => 0,
    clearTimer: () => {},
  });
  const center = new mod.TriggerCenter(store);
  const alerts: Array<{ id: number | null; key: string }> = [];
  center.onNew((t) => alerts.push({ id: t.id, key: t.key }));
  let changes = 0;
  center.changed.on(() => changes++);
  store.connect();
  socket!.onopen?.({});
  return { store, center, alerts, socket: socket!, changes: () => changes };
}

beforeEach(() => {
  acked.length = 0;
});

describe("a trigger the store could not write yet", () => {
  it("alerts once, and its stored copy with the same key replaces it without a second alert", () => {
    const { center, alerts, socket, changes } = setUp();
    const u = unstoredTrigger("005930");
    socket.push(u);
    expect(alerts).toEqual([{ id: null, key: u.key }]);
    expect(center.items.map((t) => [t.id, t.key])).toEqual([[null, u.key]]);
    // Sent again (another fan-out path): still one.
    socket.push(u);
    expect(alerts).toHaveLength(1);
    const before = changes();
    socket.push(trigger(8, "005930", { key: u.key }));
    expect(alerts, "no second alert for the stored copy").toHaveLength(1);
    expect(center.items.map((t) => [t.id, t.key])).toEqual([[8, u.key]]);
    expect(changes()).toBeGreaterThan(before);
    // An unstored copy arriving after its stored one is no news either.
    socket.push(u);
    expect(alerts).toHaveLength(1);
    // A different trigger alerts as usual.
    socket.push(trigger(9, "000660", { key: "1:000660:1m:2026-11-27T10:00:00+09:00" }));
    expect(alerts.map((a) => a.id)).toEqual([null, 9]);
  });

  it("lists a trigger not stored yet first, and acknowledges it in the store once it has an id", async () => {
    const { center, socket } = setUp();
    socket.push(trigger(5, "000660", { key: "1:000660:1m:2026-11-27T09:59:00+09:00" }));
    const u = unstoredTrigger("005930");
    socket.push(u);
    expect(center.items.map((t) => t.id)).toEqual([null, 5]);
    await center.ack(center.items.filter((t) => t.id === null));
    expect(acked, "nothing to send without an id").toEqual([]);
    expect(center.items[0].acked).toBe(true);
    socket.push(trigger(6, "005930", { key: u.key }));
    expect(center.items.map((t) => [t.id, t.acked])).toEqual([
      [6, true],
      [5, false],
    ]);
    expect(acked, "the stored copy acknowledged").toEqual([6]);
  });
});
