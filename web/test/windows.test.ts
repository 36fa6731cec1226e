import { describe, expect, it } from "vitest";
import { joinWindows, OPENING_HOLD_MS } from "../src/windows";

/** BroadcastChannels of one origin, by hand: a message reaches every other channel object, never its sender. */
class Bus {
  readonly members: FakeChannel[] = [];
  channel(): FakeChannel {
    const c = new FakeChannel(this);
    this.members.push(c);
    return c;
  }
}

class FakeChannel {
  onmessage: ((ev: MessageEvent<unknown>) => void) | null = null;
  constructor(private readonly bus: Bus) {}
  postMessage(data: unknown): void {
    for (const c of this.bus.members) if (c !== this) c.onmessage?.({ data } as MessageEvent<unknown>);
  }
}

/** The two calls of `LiveStore` the courtesy makes, recorded. */
function recorder() {
  const calls: string[] = [];
  return { calls, live: { hold: (ms: number) => calls.push(`hold ${ms}`), release: () => calls.push("release") } };
}

const join = (bus: Bus, live: ReturnType<typeof recorder>["live"], name = "") => joinWindows(live, bus.channel() as unknown as BroadcastChannel, name);

describe("windows make room for one that opens", () => {
  it("holds every other window, the opener too, from before the open until the new window is drawn", () => {
    const bus = new Bus();
    const home = recorder();
    const other = recorder();
    const watchlist = join(bus, home.live);
    join(bus, other.live, "kiswatch-000660").opened(); // a stock window opened earlier, drawn long ago
    watchlist.opened();
    home.calls.length = other.calls.length = 0;
    watchlist.opening("kiswatch-005930");
    expect(home.calls).toEqual([`hold ${OPENING_HOLD_MS}`]);
    expect(other.calls).toEqual([`hold ${OPENING_HOLD_MS}`]);
    // The new window starts (it says so again) and draws its chart.
    const popup = recorder();
    const page = join(bus, popup.live, "kiswatch-005930");
    page.opened();
    page.opened(); // said once
    expect(home.calls).toEqual([`hold ${OPENING_HOLD_MS}`, `hold ${OPENING_HOLD_MS}`, "release"]);
    expect(other.calls).toEqual([`hold ${OPENING_HOLD_MS}`, `hold ${OPENING_HOLD_MS}`, "release"]);
    expect(popup.calls).toEqual([]); // a window does not wait for itself
  });

  it("releases only when every opening window is drawn, and gives up a blocked popup at once", () => {
    const bus = new Bus();
    const home = recorder();
    const watchlist = join(bus, home.live);
    watchlist.opening("kiswatch-005930");
    watchlist.opening("kiswatch-000660");
    const a = join(bus, recorder().live, "kiswatch-005930");
    a.opened();
    expect(home.calls.filter((c) => c === "release")).toEqual([]);
    watchlist.abandon("kiswatch-000660"); // the popup blocker said no
    expect(home.calls.filter((c) => c === "release")).toEqual(["release"]);
  });

  it("works without BroadcastChannel (nothing held, nothing thrown)", () => {
    const rec = recorder();
    const w = joinWindows(rec.live, null, "");
    w.opening("kiswatch-005930");
    w.opened();
    expect(rec.calls).toEqual([]);
  });
});
