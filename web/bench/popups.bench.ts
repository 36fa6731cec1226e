// A trigger's window among others: how soon after its navigation the arrow under the trigger's bar is
// visible, when the watchlist opens stock windows one after another and the earlier ones stay open and live.
//
// Every window `window.open` makes shares its opener's renderer process (one main thread), so each new
// window competes with the watchlist and every live stock window opened before it. The watchlist here
// opens them the way `alerts.ts` does — it says on the `kiswatch-windows` channel that a window is opening,
// then calls `window.open` with the stock's window name — for one trigger of each of six stocks, eight
// seconds apart, on the demo at 10× (`kiswatch serve` with its embedded simulator; a condition that is true
// on every bar, `1m: close > 0`, gives every watched stock a trigger within seconds). The watchlist's own
// opening of trigger windows is turned off (settings → 열지 않음) so that only this benchmark opens them.
//
// Run: `cd web && CHROMIUM=/usr/bin/chromium npm run bench:ui -- bench/popups.bench.ts` (after `make web-build`
// and `cargo build -p kiswatch`). BENCH_WINDOWS sets how many windows (default 6); BENCH_COURTESY=0 opens them
// without the `opening` message (the other windows then do not hold), to compare. BENCH_PAGES=1 first opens
// two stock pages in tabs of their own, as the session test does (005930 on 1m, the busiest stock, and 000660
// on D): they run in renderers of their own, on the same two cores. BENCH_NOOPENER=1 opens each window with
// `noopener`, which gives it a renderer process of its own instead of the watchlist's (and costs the page
// its handle on the window: no popup-blocker detection, no refocusing). Figures go to the console and into
// BENCHMARKS.md by hand.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { api, launchBrowser, missingPrerequisite, startServe, until, type Browser, type Proc } from "../e2e/harness";

const missing = missingPrerequisite();
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 6);
const COURTESY = process.env.BENCH_COURTESY !== "0";
const PAGES = process.env.BENCH_PAGES === "1";
const NOOPENER = process.env.BENCH_NOOPENER === "1";

/** In every page: when (after the navigation) the page's own trigger arrow was first visible. */
const PROBE = () => {
  const w = { arrowMs: null as number | null };
  (window as unknown as { __arrow: typeof w }).__arrow = w;
  const timer = setInterval(() => {
    const own = new URLSearchParams(location.search).get("trigger");
    if (!own) return;
    const a = document.querySelector<HTMLElement>(`.trigger-arrow[data-trigger-id="${own}"]`);
    if (a && !a.hidden && !a.dataset.off) {
      w.arrowMs = performance.now();
      clearInterval(timer);
    }
  }, 10);
};

describe.skipIf(missing !== null)("trigger windows opened one after another", () => {
  let app: Proc;
  let browser: Browser;
  const popups: Page[] = [];
  let collecting = false;

  beforeAll(async () => {
    app = await startServe([]);
    browser = await launchBrowser();
    await browser.context.addInitScript(PROBE);
    browser.context.on("page", (p) => {
      if (collecting) popups.push(p);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("shows each window's arrow soon after its navigation", async () => {
    const home = browser.page;
    await home.setViewportSize({ width: 1440, height: 900 });
    await home.goto(app.url);
    await home.evaluate(() => localStorage.setItem("kiswatch.settings", JSON.stringify({ openMode: "none", notify: false, sound: false })));
    await home.reload();
    await home.locator('[data-testid="watchlist-row"]').first().waitFor({ timeout: 30_000 });
    if (PAGES) {
      for (const path of ["/stocks/005930?period=1m", "/stocks/000660?period=D"]) {
        const p = await browser.context.newPage();
        await p.setViewportSize({ width: 1440, height: 900 });
        await p.goto(`${app.url}${path}`);
        await p.locator('.stock-page[data-ready="true"]').waitFor({ timeout: 30_000 });
      }
    }
    collecting = true;
    expect((await api(app.url, "POST", "/api/v1/conditions", { name: "bench", expr: "1m: close > 0" })).status).toBe(201);
    const triggers = await until(
      async () => {
        const list = (await api<Array<{ id: number; code: string; period: string }>>(app.url, "GET", "/api/v1/triggers?limit=100")).body;
        const byCode = new Map(list.map((x) => [x.code, x]));
        return byCode.size >= Math.min(WINDOWS, 5) ? [...byCode.values()].slice(0, WINDOWS) : null;
      },
      "a trigger for each stock",
      120_000,
    );
    const figures: number[] = [];
    for (const tr of triggers) {
      const n = popups.length;
      const url = `/stocks/${tr.code}?period=${tr.period}&trigger=${tr.id}`;
      await home.evaluate(
        ([u, name, courtesy, noopener]) => {
          if (courtesy) new BroadcastChannel("kiswatch-windows").postMessage({ type: "opening", id: name });
          window.open(u, name, noopener ? "noopener" : undefined);
        },
        [url, `kiswatch-${tr.code}`, COURTESY, NOOPENER] as const,
      );
      await until(async () => popups.length > n, "the window");
      const page = popups[n];
      const ms = await until(async () => page.evaluate(() => (window as unknown as { __arrow?: { arrowMs: number | null } }).__arrow?.arrowMs ?? null).catch(() => null), "the arrow", 20_000);
      figures.push(ms);
      console.log(`window ${n + 1} (${url}): arrow ${Math.round(ms)} ms after its navigation, ${n} stock windows already open`);
      // The next one opens while this one is live.
      await new Promise((r) => setTimeout(r, 8_000));
    }
    const sorted = [...figures].sort((a, b) => a - b);
    console.log(`${COURTESY ? "with" : "without"} the opening message${PAGES ? ", two stock pages in tabs" : ""}: arrows after the navigation: ${figures.map(Math.round).join(", ")} ms; median ${Math.round(sorted[sorted.length >> 1])} ms; within 1 s: ${figures.filter((x) => x <= 1000).length} of ${figures.length}`);
  });
});
