// Courtesy between the kiswatch windows of one browser.
//
// A trigger's window is opened by the watchlist (`window.open`), and a window opened that way shares its
// opener's renderer process — one main thread for the watchlist and every stock window it opened. Each of
// those windows repaints its live data on every frame, so the newest window, the one a trigger just put in
// front of the user, waited for the others before it could draw its chart and arrow: with five live stock
// windows open the arrow came 1.5–2.4 s after the navigation instead of under 1 s (BENCHMARKS.md).
//
// So the window that opens another says so on a `BroadcastChannel` before it calls `window.open` (the new
// window's own script runs only after its HTML, its script and its style have loaded: too late to spare its
// start), the new window says so again when its script starts and once it is drawn, and while a window is
// opening the live data of every other one waits (`LiveStore.hold`: coalesced, delivered right after) — for
// as long as that window takes, and never more than `OPENING_HOLD_MS`. A window is known by its name (the
// watchlist names a stock's window `kiswatch-<code>`), or by a random id when it has none.
//
// A window of its own process (`window.open(url, name, "noopener")`) was measured instead and was no faster
// (it pays a process start, and the two cores are shared all the same), while it would cost the watchlist
// its handle on the window: no popup-blocker detection, no refocusing (BENCHMARKS.md, issue 20).

import type { LiveStore } from "./ws";

const CHANNEL = "kiswatch-windows";

/** The longest a window holds its live data for another window's opening, in a row (`LiveStore.hold`): well
 * under the second within which the header and the chart must show one price again. */
export const OPENING_HOLD_MS = 800;

interface Message {
  type: "opening" | "opened";
  id: string;
}

export interface WindowCourtesy {
  /** This window is about to open the window named `name`: every window, this one too, holds until it is drawn. */
  opening(name: string): void;
  /** The window named `name` will not open after all (the popup blocker refused it). */
  abandon(name: string): void;
  /** This window is drawn: the others may go on (idempotent). */
  opened(): void;
}

/** Announces this window's opening and holds `live` while other windows open. */
export function joinWindows(
  live: Pick<LiveStore, "hold" | "release">,
  channel: BroadcastChannel | null = makeChannel(),
  name: string = typeof window === "undefined" ? "" : window.name,
): WindowCourtesy {
  const id = name || Math.random().toString(36).slice(2);
  /** The windows opening now, with when they said so (one that closed unopened is forgotten after the cap). */
  const opening = new Map<string, number>();
  let said = false;
  const hear = (m: Partial<Message> | null) => {
    if (!m || typeof m.id !== "string" || m.id === id) return;
    const at = now();
    for (const [other, since] of opening) if (at - since > OPENING_HOLD_MS) opening.delete(other);
    if (m.type === "opening") {
      opening.set(m.id, at);
      live.hold(OPENING_HOLD_MS);
    } else if (m.type === "opened" && opening.delete(m.id) && opening.size === 0) {
      live.release();
    }
  };
  if (channel) {
    channel.onmessage = (ev: MessageEvent<unknown>) => hear(ev.data as Partial<Message> | null);
    channel.postMessage({ type: "opening", id } satisfies Message);
  }
  joined = {
    opening(other: string) {
      if (!channel) return;
      const m: Message = { type: "opening", id: other };
      hear(m);
      channel.postMessage(m);
    },
    abandon(other: string) {
      if (!channel) return;
      const m: Message = { type: "opened", id: other };
      hear(m);
      channel.postMessage(m);
    },
    opened() {
      if (said || !channel) return;
      said = true;
      channel.postMessage({ type: "opened", id } satisfies Message);
    },
  };
  return joined;
}

let joined: WindowCourtesy | null = null;

/** This window's place among the others, once it joined them (`null` before, and in unit tests). */
export function thisWindow(): WindowCourtesy | null {
  return joined;
}

function now(): number {
  return typeof performance === "undefined" ? Date.now() : performance.now();
}

function makeChannel(): BroadcastChannel | null {
  return typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
}
