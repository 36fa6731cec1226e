// How fast the screen follows the market, in a real browser against the real service:
//
// 1. trade at the simulator → the stock page's header price (`data-testid=price`) and the chart's forming bar
//    (`data-last-close`) updated in the DOM, p50/p99, with the time until the frame showing it was painted;
// 2. trigger delivered to the browser → its page (a new window) showing the arrow under the trigger's bar, and
//    → the arrow in a page of that stock already open (the banner's path).
//
// Set-up: `kiswatch sim` (real profile, open clock at 10×, control API) and `kiswatch serve --kis custom`
// against it, on loopback, with Debian's Chromium. The simulator prints two key pairs: the service uses the
// first; this benchmark taps the simulator's realtime feed with the second, in a blank page of the same
// browser, so "a trade at the simulator" is the moment its record reaches a client of the simulator (the
// service gets the same record at the same time), on the same clock as the page's DOM updates
// (`performance.timeOrigin + performance.now()` in both pages).
//
// Run: `cd web && CHROMIUM=/usr/bin/chromium npm run bench:ui` (after `make web-build` and `cargo build -p
// kiswatch`; KISWATCH_BIN=../target/release/kiswatch for the release build). BENCH_SECS sets the tap's length
// (default 60). Figures go to the console and into BENCHMARKS.md by hand.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { api, launchBrowser, missingPrerequisite, startServe, startSim, until, type Browser, type Proc } from "../e2e/harness";

const missing = missingPrerequisite();
const CODE = "005930";
const SECS = Number(process.env.BENCH_SECS ?? 60);
const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 5);

/** Every page of the browser: DOM updates of the header price and the chart's last close, the arrow of the
 * page's own trigger, and triggers arriving on the page's WebSocket — each with its epoch time in ms. */
const PROBE = () => {
  const epoch = () => performance.timeOrigin + performance.now();
  const p = {
    updates: [] as Array<{ kind: string; value: string; at: number; painted: number | null }>,
    arrowAt: null as number | null,
    triggers: {} as Record<string, number>,
    /** `tick` messages as they reach the page's socket: the service's half of the path. */
    ticks: [] as Array<{ price: number; at: number }>,
    /** Gaps between animation frames: the page's half waits for the next one by design. */
    frames: [] as number[],
  };
  (window as unknown as { __probe: typeof p }).__probe = p;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (ev: MessageEvent) => {
        if (typeof ev.data === "string" && ev.data.startsWith('{"type":"trigger"')) {
          const id = /"id":(\d+)/.exec(ev.data)?.[1];
          if (id && !(id in p.triggers)) p.triggers[id] = epoch();
        } else if (typeof ev.data === "string" && ev.data.startsWith('{"type":"tick"')) {
          const price = /"price":(\d+)/.exec(ev.data)?.[1];
          if (price) p.ticks.push({ price: Number(price), at: epoch() });
        }
      });
    }
  } as typeof WebSocket;
  const record = (kind: string, value: string) => {
    const u = { kind, value, at: epoch(), painted: null as number | null };
    p.updates.push(u);
    // The frame that shows it: its animation-frame callback runs before its paint, a task queued there after.
    requestAnimationFrame(() => setTimeout(() => (u.painted = epoch()), 0));
  };
  const watch = () => {
    const price = document.querySelector<HTMLElement>('[data-testid="price"]');
    const chart = document.querySelector<HTMLElement>('[data-testid="chart"]');
    if (!price || !chart) return false;
    new MutationObserver(() => record("price", price.dataset.value ?? "")).observe(price, { attributes: true, attributeFilter: ["data-value"] });
    new MutationObserver(() => record("chart", chart.dataset.lastClose ?? "")).observe(chart, { attributes: true, attributeFilter: ["data-last-close"] });
    return true;
  };
  const timer = setInterval(() => {
    // Read each time: the page may put `trigger=` into its address after it loaded.
    const own = new URLSearchParams(location.search).get("trigger");
    if (own && p.arrowAt === null) {
      const a = document.querySelector<HTMLElement>(`.trigger-arrow[data-trigger-id="${own}"]`);
      if (a && !a.hidden && !a.dataset.off) p.arrowAt = epoch();
    }
  }, 2);
  let watching = false;
  const start = setInterval(() => {
    if (!watching) watching = watch();
    if (watching) clearInterval(start);
  }, 20);
  setTimeout(() => clearInterval(timer), 600_000);
  let last = 0;
  const frame = (t: number) => {
    if (last) p.frames.push(t - last);
    last = t;
    if (p.frames.length < 100_000) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
};

type Probe = {
  updates: Array<{ kind: string; value: string; at: number; painted: number | null }>;
  arrowAt: number | null;
  triggers: Record<string, number>;
  ticks: Array<{ price: number; at: number }>;
  frames: number[];
};
const probe = (p: Page) => p.evaluate(() => (window as unknown as { __probe: Probe }).__probe);

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const fmt = (xs: number[]) => (xs.length ? `p50 ${percentile(xs, 0.5).toFixed(1)} ms, p99 ${percentile(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})` : "no samples");

describe.skipIf(missing !== null)("screen latency", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let app: Proc;
  let browser: Browser;

  beforeAll(async () => {
    sim = await startSim(["--control", "--clock", "open", "--speed", "10"]);
    app = await startServe(["--kis", "custom", "--kis-rest-url", sim.url, "--kis-ws-url", sim.wsUrl], { KIS_APP_KEY: sim.key, KIS_APP_SECRET: sim.secret });
    browser = await launchBrowser();
    await browser.context.addInitScript(PROBE);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await sim?.stop();
  });

  it("trade at the simulator → header price and forming bar in the DOM", async () => {
    const second = /KIS_APP_KEY_2=(\S+)\s+KIS_APP_SECRET_2=(\S+)/.exec(sim.output());
    expect(second, "the simulator's second key pair").not.toBeNull();
    const approval = await fetch(`${sim.url}/oauth2/Approval`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials", appkey: second![1], secretkey: second![2] }),
    });
    const key = ((await approval.json()) as { approval_key: string }).approval_key;

    const page = browser.page;
    await page.goto(`${app.url}/stocks/${CODE}?period=1m`);
    await page.locator('.stock-page[data-ready="true"]').waitFor({ timeout: 60_000 });
    await until(async () => (await api<{ status: string }>(app.url, "GET", `/api/v1/stocks/${CODE}`)).body.status === "realtime", "the stock realtime", 30_000);

    // The tap: the simulator's H0STCNT0 records of the stock, stamped as they arrive.
    const tap = await browser.context.newPage();
    // A page of the simulator's own origin: from about:blank (an opaque origin) Chromium refuses a socket to a
    // loopback address.
    await tap.goto(`${sim.url}/sim/stats`);
    await tap.evaluate(
      ({ url, key, code }) => {
        const trades: Array<{ price: number; at: number }> = [];
        (window as unknown as { __trades: typeof trades }).__trades = trades;
        const ws = new WebSocket(`${url}/tryitout`);
        ws.onopen = () =>
          ws.send(JSON.stringify({ header: { approval_key: key, custtype: "P", tr_type: "1", "content-type": "utf-8" }, body: { input: { tr_id: "H0STCNT0", tr_key: code } } }));
        ws.onmessage = (ev) => {
          const at = performance.timeOrigin + performance.now();
          const text = String(ev.data);
          if (text.startsWith("0|H0STCNT0|")) {
            const [, , count, payload] = text.split("|");
            const fields = payload.split("^");
            const per = fields.length / Number(count);
            for (let i = 0; i < Number(count); i++) if (fields[i * per] === code) trades.push({ price: Number(fields[i * per + 2]), at });
          } else if (text.includes("PINGPONG")) ws.send(text);
        };
      },
      { url: sim.wsUrl, key, code: CODE },
    );
    await page.evaluate(() => {
      const p = (window as unknown as { __probe: Probe }).__probe;
      p.updates.length = 0;
      p.ticks.length = 0;
      p.frames.length = 0;
    });
    // A benchmark observes for a stretch of wall-clock time by design.
    await new Promise((r) => setTimeout(r, SECS * 1000));
    const trades = await tap.evaluate(() => (window as unknown as { __trades: Array<{ price: number; at: number }> }).__trades);
    const seen = await probe(page);
    const updates = seen.updates;
    const lat: Record<string, { dom: number[]; paint: number[] }> = { price: { dom: [], paint: [] }, chart: { dom: [], paint: [] } };
    for (const u of updates) {
      // The newest trade at that price before the update (a tick coalesced away has no update of its own).
      const value = Number(u.value);
      let trade: { price: number; at: number } | undefined;
      for (const t of trades) if (t.at <= u.at && t.price === value) trade = t;
      if (!trade || u.at - trade.at > 5_000) continue;
      lat[u.kind].dom.push(u.at - trade.at);
      if (u.painted !== null) lat[u.kind].paint.push(u.painted - trade.at);
    }
    // The split: trade → the tick message at the page (the service and the socket), tick → header price in the
    // DOM (the page, waiting for the next frame), and the frames' own cadence in this browser.
    const service: number[] = [];
    for (const k of seen.ticks) {
      let trade: { price: number; at: number } | undefined;
      for (const t of trades) if (t.at <= k.at && t.price === k.price) trade = t;
      if (trade && k.at - trade.at <= 5_000) service.push(k.at - trade.at);
    }
    const pageSide: number[] = [];
    for (const u of updates) {
      if (u.kind !== "price") continue;
      let tick: { price: number; at: number } | undefined;
      for (const k of seen.ticks) if (k.at <= u.at && k.price === Number(u.value)) tick = k;
      if (tick && u.at - tick.at <= 5_000) pageSide.push(u.at - tick.at);
    }
    console.log(`trade → tick message at the page's socket (service + socket): ${fmt(service)}`);
    console.log(`tick message → header price in the DOM (the page): ${fmt(pageSide)}`);
    console.log(`animation frame gaps in this browser: ${fmt(seen.frames)}`);
    console.log(`\n${trades.length} trades of ${CODE} tapped over ${SECS} s; ${updates.length} DOM updates`);
    console.log(`trade → header price in the DOM: ${fmt(lat.price.dom)}; painted: ${fmt(lat.price.paint)}`);
    console.log(`trade → chart's forming bar in the DOM: ${fmt(lat.chart.dom)}; painted: ${fmt(lat.chart.paint)}`);
    expect(lat.price.dom.length).toBeGreaterThan(10);
    await tap.close();
  });

  it("trigger delivered → its page showing the arrow", async () => {
    const home = browser.page;
    // On the watchlist before the page loads (the page lists what the service held when it loaded).
    await api(app.url, "POST", "/api/v1/watchlist", { code: CODE });
    await home.goto(app.url);
    await home.locator(`[data-testid="watchlist-row"][data-code="${CODE}"]`).waitFor();
    const fresh: number[] = [];
    const open: number[] = [];
    let stockPage: Page | null = null;
    for (let i = 0; i < TRIGGERS; i++) {
      const price = (await api<{ price: number }>(app.url, "GET", `/api/v1/stocks/${CODE}/price`)).body.price;
      const level = Math.ceil((price * 1.02) / 100) * 100;
      const cond = await api<{ id: number }>(app.url, "POST", "/api/v1/conditions", { name: `bench ${i}`, expr: `1m: close >= ${level}`, cooldown_secs: 0 });
      await until(async () => (await api<{ armed: string[] }>(app.url, "GET", `/api/v1/stocks/${CODE}`)).body.armed?.includes("1m"), "armed", 30_000);
      const popup: Promise<Page> | null = stockPage ? null : browser.context.waitForEvent("page", { timeout: 120_000 });
      await fetch(`${sim.url}/sim/scenario`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: CODE, pattern: "path", prices: [1, 2, 3, 4].map((k) => Math.round(price + ((level - price) * k) / 4 + 100)) }),
      });
      if (popup) {
        // Trigger delivered to the watchlist's socket → the new window's arrow.
        const win: Page = await popup;
        stockPage = win;
        await win.waitForURL(/trigger=\d+/);
        const id = new URL(win.url()).searchParams.get("trigger")!;
        const at = await until(async () => (await probe(win)).arrowAt, "the arrow", 60_000).catch(async (e: unknown) => {
          const seen = await win.evaluate(() =>
            [...document.querySelectorAll(".trigger-arrow")].map((a) => a.outerHTML).join("\n") + `\n${location.href}`,
          );
          throw new Error(`${String(e)}; the window's arrows: ${seen}`);
        });
        const delivered = (await probe(home)).triggers[id];
        fresh.push(at - delivered);
      } else {
        // A page of the stock already open: the trigger joins its banner, the arrow appears.
        const before = Object.keys((await probe(stockPage!)).triggers);
        const id = await until(async () => Object.keys((await probe(stockPage!)).triggers).find((x) => !before.includes(x)), "the next trigger", 120_000);
        const delivered = (await probe(stockPage!)).triggers[id];
        const at = await stockPage!.evaluate(
          (id) =>
            new Promise<number>((resolve) => {
              const check = () => {
                const a = document.querySelector<HTMLElement>(`.trigger-arrow[data-trigger-id="${id}"]`);
                if (a && !a.hidden && !a.dataset.off) resolve(performance.timeOrigin + performance.now());
                else requestAnimationFrame(check);
              };
              check();
            }),
          id,
        );
        open.push(Math.max(0, at - delivered));
      }
      await api(app.url, "DELETE", `/api/v1/conditions/${cond.body.id}`);
      // The first half with a fresh window each time, the rest with the page kept open.
      if (i < Math.floor(TRIGGERS / 2) && stockPage) {
        await stockPage.close();
        stockPage = null;
      }
    }
    console.log(`trigger delivered → arrow in a new window: ${fmt(fresh)}`);
    console.log(`trigger delivered → arrow in the stock's open page: ${fmt(open)}`);
    expect(fresh.length + open.length).toBe(TRIGGERS);
  });
});
