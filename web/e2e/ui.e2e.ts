// The UI in a real browser against the real service (demo simulator): search and add, the stock page's chart
// (candles, four unlabeled MA lines), periods, the executions panel's own scrolling, a forced trigger from
// the row to the opened window's arrow, an upstream fault and its retry, a WebSocket drop and its banner.
// Screenshots go to target/e2e-screenshots/.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Page, WebSocketRoute } from "playwright-core";
import { api, launchBrowser, missingPrerequisite, screenshot, startServe, until, type Browser, type Proc } from "./harness";

const missing = missingPrerequisite();
if (missing) console.warn(`\n  e2e SKIPPED: ${missing}\n`);

const MA_COLORS = { ma20: [0xf0, 0x8c, 0x00], ma60: [0x2b, 0x8a, 0x3e], ma120: [0x70, 0x48, 0xe8], ma240: [0x0c, 0x85, 0x99] };
const CANDLE_COLORS = { up: [0xe0, 0x31, 0x3b], down: [0x1f, 0x5f, 0xd6] };

/** Counts pixels near each colour on the chart's canvases, split into the plot pane and the axes. */
async function chartPixels(page: Page): Promise<{ pane: Record<string, number>; axes: Record<string, number> }> {
  return page.evaluate(
    ({ colors }) => {
      const chart = document.querySelector('[data-testid="chart"]')!;
      const box = chart.getBoundingClientRect();
      const pane: Record<string, number> = {};
      const axes: Record<string, number> = {};
      for (const name of Object.keys(colors)) {
        pane[name] = 0;
        axes[name] = 0;
      }
      for (const canvas of chart.querySelectorAll("canvas")) {
        const r = canvas.getBoundingClientRect();
        if (r.width < 2 || r.height < 2) continue;
        const ctx = canvas.getContext("2d");
        if (!ctx) continue;
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        // The plot pane spans most of the width; price/time axes are narrow strips.
        const target = r.width > box.width * 0.6 && r.height > 60 ? pane : axes;
        for (let i = 0; i < data.length; i += 4) {
          for (const [name, [cr, cg, cb]] of Object.entries(colors)) {
            if (Math.abs(data[i] - cr) < 12 && Math.abs(data[i + 1] - cg) < 12 && Math.abs(data[i + 2] - cb) < 12 && data[i + 3] > 200) target[name]++;
          }
        }
      }
      return { pane, axes };
    },
    { colors: { ...MA_COLORS, ...CANDLE_COLORS } },
  );
}

describe.skipIf(missing !== null)("kiswatch UI", () => {
  let app: Proc;
  let browser: Browser;
  let page: Page;
  let wsRoute: WebSocketRoute | null = null;
  /** A stock whose messages from the service are not passed to the page (see the route below). */
  let muted: string | null = null;
  /** Every request the pages sent on the WebSocket, in order. */
  const wsSent: Array<{ op?: string; codes?: string[]; channels?: string[] }> = [];
  const sentOp = (op: string, code: string, channel: string) =>
    wsSent.some((m) => m.op === op && m.codes?.includes(code) && (m.channels === undefined || m.channels.includes(channel)));

  beforeAll(async () => {
    // No seeded watchlist or conditions: the test builds what it checks.
    app = await startServe(["--no-demo-content"]);
    await api(app.url, "POST", "/sim/clock", { speed: 10 });
    browser = await launchBrowser();
    page = browser.page;
    // Every page's WebSocket goes through a route the test can cut (the "drop" below).
    await browser.context.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
      wsRoute = ws;
      const server = ws.connectToServer();
      // The service's own live messages for a muted stock are held back while a test plays the hub's
      // messages into the page, so the two do not race.
      server.onMessage((m) => {
        if (muted !== null && typeof m === "string" && m.includes(`"code":"${muted}"`)) return;
        ws.send(m);
      });
      ws.onMessage((m) => {
        if (typeof m === "string") wsSent.push(JSON.parse(m) as (typeof wsSent)[number]);
        server.send(m);
      });
    });
  });

  afterEach(() => {
    muted = null;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("finds 삼성전자 by its initials ㅅㅅㅈㅈ and adds it with the keyboard", async () => {
    await page.goto(app.url);
    const search = page.getByTestId("search");
    await search.click();
    await search.pressSequentially("ㅅㅅㅈㅈ");
    await page.locator('.search-results li[data-code="005930"]').waitFor();
    await search.press("Enter");
    const row = page.locator('[data-testid="watchlist-row"][data-code="005930"]');
    await row.waitFor();
    expect(await row.locator(".stock-name").textContent()).toBe("삼성전자");
    // The price arrives (from the service's polling) and is formatted with separators.
    await until(async () => /^\d{1,3}(,\d{3})+$/.test((await row.locator("td.price").textContent()) ?? ""), "a price in the row");
    await screenshot(page, "home");
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("adds the highlighted hit on ↓ + Enter, marks watched hits, and says so instead of doing nothing", async () => {
    const search = page.getByTestId("search");
    await search.click();
    await search.pressSequentially("삼성");
    const hits = page.locator(".search-results li[data-code]");
    // The answer to 삼성 itself (not to 삼 on the way there): every hit is a 삼성 company.
    await until(async () => {
      const names = await hits.evaluateAll((els) => els.map((e) => e.querySelector(".hit-name")?.textContent ?? ""));
      return names.length >= 3 && names.every((n) => n.includes("삼성"));
    }, "several hits for 삼성");
    // The already watched 삼성전자 is marked.
    const watched = page.locator('.search-results li[data-code="005930"]');
    expect(await watched.getAttribute("class")).toContain("watched");
    expect(await watched.textContent()).toContain("관심종목");
    const codes = await hits.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.code!));
    await search.press("ArrowDown");
    await search.press("ArrowDown");
    expect(await page.locator(".search-results li.active").getAttribute("data-code")).toBe(codes[2]);
    await search.press("Enter");
    await page.locator(`[data-testid="watchlist-row"][data-code="${codes[2]}"]`).waitFor();
    expect(await page.locator(`[data-testid="watchlist-row"][data-code="${codes[0]}"]`).count(), "not the first hit").toBe(codes[0] === "005930" ? 1 : 0);
    // Enter on a stock already watched: a message, not silence, and no second row.
    await search.pressSequentially("005930");
    await page.locator('.search-results li[data-code="005930"].active').waitFor();
    await search.press("Enter");
    await until(async () => ((await page.getByTestId("toast").textContent()) ?? "").includes("이미 관심종목"), "the already-watched message");
    expect(await page.locator('[data-testid="watchlist-row"][data-code="005930"]').count()).toBe(1);
  });

  it("removes a row with ×, and 되돌리기 puts it back in its place", async () => {
    const rows = page.locator('[data-testid="watchlist-row"]');
    const before = await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.code!));
    expect(before.length).toBeGreaterThanOrEqual(2);
    const victim = before[0];
    await page.locator(`[data-testid="watchlist-row"][data-code="${victim}"] [data-testid="remove"]`).click();
    await page.locator(`[data-testid="watchlist-row"][data-code="${victim}"]`).waitFor({ state: "detached" });
    expect(await page.getByTestId("toast").textContent()).toContain("삭제했습니다");
    await page.getByTestId("toast-undo").click();
    await page.locator(`[data-testid="watchlist-row"][data-code="${victim}"]`).waitFor();
    expect(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.code!))).toEqual(before);
    const stored = (await api<Array<{ code: string }>>(app.url, "GET", "/api/v1/watchlist")).body.map((w) => w.code);
    expect(stored).toEqual(before);
  });

  it("closes the settings on Escape and on a click outside", async () => {
    const summary = page.locator(".settings summary");
    const panel = page.locator(".settings-panel");
    await summary.click();
    await panel.waitFor({ state: "visible" });
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "hidden" });
    await summary.click();
    await panel.waitFor({ state: "visible" });
    await page.locator(".home-side .panel-head h2").click();
    await panel.waitFor({ state: "hidden" });
  });

  it("shows a not-found page for an unknown address, and JSON to a non-browser", async () => {
    const res = await page.goto(`${app.url}/nonexistent`);
    expect(res?.status()).toBe(404);
    await page.getByTestId("not-found").waitFor();
    expect(await page.getByTestId("not-found").textContent()).toContain("페이지를 찾을 수 없습니다");
    const json = await fetch(`${app.url}/nonexistent`);
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toContain("application/json");
    await page.getByTestId("not-found").locator("a").click();
    await page.locator('[data-testid="watchlist-row"]').first().waitFor();
    // The browser logs the 404 of the page itself; nothing else may be logged.
    expect(browser.consoleErrors.filter((e) => !/status of 404/.test(e)).join("\n")).toBe("");
    browser.consoleErrors.length = 0;
  });

  it("takes live data and statuses as the realtime hub sends them", async () => {
    // The hub's messages are played into the page's own socket here, the service's own held back.
    muted = "005930";
    const row = page.locator('[data-testid="watchlist-row"][data-code="005930"]');
    await until(() => wsRoute !== null && sentOp("subscribe", "005930", "tick"), "the row's tick subscription");
    wsRoute!.send(JSON.stringify({ type: "status", upstream: "connected", stocks: [{ code: "005930", status: "realtime", age_ms: 40, bound_ms: null }] }));
    await row.locator('[data-status="realtime"]').waitFor();
    await until(async () => (await page.locator(".status-line").textContent()) === "실시간", "the upstream line saying realtime");
    const tick = {
      type: "tick",
      code: "005930",
      name: "삼성전자",
      time: "2026-11-27T10:00:00+09:00",
      price: 123_400,
      change: 1_400,
      change_rate: 1.15,
      sign: "up",
      volume: 7,
      acc_volume: 9_876_543,
      acc_turnover: 1_218_765_432_100,
      open: 122_000,
      high: 123_500,
      low: 121_900,
    };
    wsRoute!.send(JSON.stringify(tick));
    await until(async () => (await row.locator("td.price").textContent()) === "123,400", "the tick's price in the row");
    expect(await row.locator("td.col-volume").textContent()).toBe("9,876,543"); // the day's volume, not the trade's
    // A refused request is reported on the console as a warning, never as an error, and the page stays.
    wsRoute!.send(JSON.stringify({ type: "error", code: "bad_channel", message: "test" }));
    wsRoute!.send(JSON.stringify({ type: "status", upstream: "polling", stocks: [{ code: "005930", status: "polled", age_ms: 900, bound_ms: 4000 }] }));
    await row.locator('[data-status="polled"]').waitFor();
    expect(browser.consoleErrors.join("\n")).toBe("");
    // The service only says what changes: give the page its real upstream state back for the later tests.
    const real = (await api<{ live: { feed: { upstream: string } } }>(app.url, "GET", "/api/v1/health")).body.live.feed.upstream;
    wsRoute!.send(JSON.stringify({ type: "status", upstream: real, stocks: [] }));
    if (real === "connected") await until(async () => (await page.locator(".status-line").textContent()) === "실시간", "the page back on the real upstream state");
    muted = null;
  });

  it("opens the stock page: candles, four MA lines, no MA label on the chart, order book, executions", async () => {
    await page.locator('[data-testid="watchlist-row"][data-code="005930"] a.stock-name').click();
    await page.waitForURL(/\/stocks\/005930/);
    await page.locator('.stock-page[data-ready="true"]').waitFor();
    // Rows loaded over REST carry no side: a neutral quantity. Checked at once, since a busy stock's live
    // trades push them out of the panel's 300 rows within seconds at the test's clock speed.
    const loaded = page.getByTestId("executions").locator('.ex-row[data-side=""]').first();
    expect(await loaded.locator(".ex-qty").getAttribute("class", { timeout: 5_000 })).toContain("neutral");
    // A cold stock is drawn from its recent bars first; the page draws it again once the service's backfill
    // has the history the averages need.
    await page.locator(".stock-page[data-history-ms]").waitFor({ timeout: 30_000 });
    const chart = page.getByTestId("chart");
    expect(Number(await chart.getAttribute("data-bars"))).toBeGreaterThan(100);
    await page.getByTestId("orderbook").locator(".ob-row.ask").first().waitFor();
    expect(await page.getByTestId("orderbook").locator(".ob-row.ask").count()).toBe(10);
    expect(await page.getByTestId("orderbook").locator(".ob-row.bid").count()).toBe(10);
    await page.getByTestId("executions").locator(".ex-list .ex-row").first().waitFor();
    // The header: the price as a plain number for tests, the day's facts an HTS shows.
    const price = page.getByTestId("price");
    expect(await price.getAttribute("data-value")).toMatch(/^\d+$/);
    // Both read in one task: a tick between two reads would move one of them.
    const [shown, value] = await price.evaluate((el) => [el.textContent ?? "", el.dataset.value ?? ""]);
    expect(shown.replace(/,/g, "")).toBe(value);
    for (const id of ["stat-prev-close", "stat-upper", "stat-lower", "stat-w52"]) {
      expect(await page.getByTestId(id).textContent(), id).toMatch(/\d{1,3}(,\d{3})+/);
    }
    await until(async () => /\d+\.\d\d%/.test((await page.getByTestId("stat-strength").textContent()) ?? ""), "체결강도");
    // 호가 columns named.
    expect(await page.locator(".ob-head").textContent()).toContain("매도잔량");
    // The market's date, time and phase, and the demo badge.
    const clock = page.getByTestId("market-clock");
    await until(async () => ["pre_open", "opening_auction", "continuous", "closing_auction", "after_hours", "closed", "holiday"].includes((await clock.getAttribute("data-phase")) ?? ""), "the market clock's phase");
    expect(await clock.textContent()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d/);
    expect(await page.getByTestId("demo-badge").textContent()).toBe("데모 · 가상 시장 · 10배속");
    // The chart opens at the newest bar.
    const chartEl = page.getByTestId("chart");
    await until(async () => {
      const last = await chartEl.getAttribute("data-last-time");
      return last && (await chartEl.getAttribute("data-visible-last-time")) === last;
    }, "the newest bar in view", 2_000);
    // The chart paints on the next animation frame after its data: wait for the paint itself.
    const px = await until(async () => {
      const p = await chartPixels(page);
      return p.pane.up + p.pane.down > 200 && p.pane.ma240 > 20 ? p : null;
    }, "candles and the MA lines painted");
    expect(px.pane.up + px.pane.down, "candles drawn in the Korean colours").toBeGreaterThan(200);
    for (const ma of ["ma20", "ma60", "ma120", "ma240"]) {
      expect(px.pane[ma], `${ma} line drawn`).toBeGreaterThan(20);
      // A last-value label or price line label would paint a box of the line's colour on the price axis.
      expect(px.axes[ma], `${ma} label on the axis`).toBe(0);
    }
    // The legend naming the averages sits outside the canvas.
    expect(await page.locator(".ma-legend").textContent()).toContain("MA240");
    expect(await page.getByTestId("home").isVisible()).toBe(true);
    // Everything live over the one WebSocket: the page subscribed its stock's channels.
    for (const ch of ["tick", "orderbook", "executions", "candle:D"]) expect(sentOp("subscribe", "005930", ch), ch).toBe(true);
    await screenshot(page, "stock");
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("draws the hub's order book, executions and forming bar on the stock page", async () => {
    muted = "005930";
    const book = page.getByTestId("orderbook");
    const asks = Array.from({ length: 10 }, (_, i) => ({ price: 200_000 + i * 100, quantity: 1_000 + i }));
    const bids = Array.from({ length: 10 }, (_, i) => ({ price: 199_900 - i * 100, quantity: 2_000 + i }));
    wsRoute!.send(JSON.stringify({ type: "orderbook", code: "005930", name: "삼성전자", time: null, asks, bids, total_ask_quantity: 10_045, total_bid_quantity: 20_045, expected: null }));
    await until(async () => (await book.textContent())?.includes("200,900"), "the hub's order book");
    expect(await book.locator(".ob-row.ask").count()).toBe(10);

    // One trade a second after the newest shown, bought at the ask: on top, in red, with its own size.
    const newest = (await page.getByTestId("executions").locator(".ex-list .ex-row").first().getAttribute("data-key"))!.split("|")[0];
    const next = new Date(Date.parse(newest) + 1_000 + 9 * 3_600_000).toISOString().slice(0, 19) + "+09:00";
    const trade = { time: next, price: 199_950, change: 100, change_rate: 0.05, sign: "up", volume: 777_777, side: "buy", strength: 101.2 };
    wsRoute!.send(JSON.stringify({ type: "executions", code: "005930", name: "삼성전자", executions: [trade] }));
    const top = page.getByTestId("executions").locator(".ex-list .ex-row").first();
    await until(async () => (await top.textContent())?.includes("777,777"), "the hub's trade on top");
    // The quantity by side (bought at the ask: red), the price and 대비 against the previous close.
    expect(await top.locator(".ex-qty").getAttribute("class")).toContain("up");
    expect(await top.getAttribute("data-side")).toBe("buy");
    const prevClose = Number((await page.getByTestId("stat-prev-close").textContent())!.replace(/,/g, ""));
    expect(await top.locator(".ex-price").getAttribute("class")).toContain(199_950 > prevClose ? "up" : 199_950 < prevClose ? "down" : "flat");
    expect(await page.getByTestId("executions-legend").textContent()).toContain("매수");

    // The forming bar of the shown period (no averages on the wire: the page computes them).
    const chart = page.getByTestId("chart");
    const bars = await chart.getAttribute("data-bars");
    const lastBar = (await chart.getAttribute("data-last-time"))!;
    wsRoute!.send(
      JSON.stringify({ type: "candle", code: "005930", name: "삼성전자", period: "D", candle: { time: lastBar, open: 199_000, high: 201_000, low: 198_000, close: 199_950, volume: 5 }, closed: false }),
    );
    await until(async () => (await chart.getAttribute("data-last-close")) === "199950", "the forming bar updated");
    expect(await chart.getAttribute("data-bars")).toBe(bars);
    expect(await chart.getAttribute("data-last-time")).toBe(lastBar);
    expect(browser.consoleErrors.join("\n")).toBe("");
    muted = null;
  });

  it("switches periods", async () => {
    for (const p of ["1m", "5m", "30m", "60m", "W", "M", "D"]) {
      await page.locator(`.period-tab[data-period="${p}"]`).click();
      await page.locator(`[data-testid="chart"][data-period="${p}"]`).waitFor();
      expect(Number(await page.getByTestId("chart").getAttribute("data-bars")), `${p} bars`).toBeGreaterThan(0);
      expect(await page.locator(".period-tab[aria-selected=true]").getAttribute("data-period")).toBe(p);
    }
    expect(await page.getByTestId("error-retry").count()).toBe(0);
    // A period switch swaps the candle channel only (the one given back lingers a moment first).
    expect(sentOp("subscribe", "005930", "candle:1m")).toBe(true);
    await until(() => sentOp("unsubscribe", "005930", "candle:1m") && sentOp("unsubscribe", "005930", "candle:M"), "the candle channels given back");
    expect(sentOp("unsubscribe", "005930", "orderbook")).toBe(false);
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("scrolls the executions panel without scrolling the page", async () => {
    const scroller = page.getByTestId("executions").locator(".ex-scroll");
    const canScroll = await scroller.evaluate((el) => el.scrollHeight > el.clientHeight);
    expect(canScroll, "enough executions to scroll").toBe(true);
    await scroller.hover(); // brings the panel into view first
    const pageBefore = await page.evaluate(() => window.scrollY);
    // Wheel on until the panel's end (up to 300 rows; trades keep arriving on top meanwhile), then on past it.
    await until(async () => {
      await page.mouse.wheel(0, 800);
      return scroller.evaluate((el) => Math.abs(el.scrollHeight - el.clientHeight - el.scrollTop) < 2);
    }, "the panel reached its end");
    for (let i = 0; i < 3; i++) await page.mouse.wheel(0, 800);
    expect(await page.evaluate(() => window.scrollY), "the page stayed where it was").toBe(pageBefore);
  });

  it("a forced trigger marks the row, opens the stock window and puts the arrow under the bar", async () => {
    await page.getByTestId("home").click();
    await page.locator('[data-testid="watchlist-row"][data-code="005930"]').waitFor();
    // Leaving the stock page gave its channels back; the watchlist row keeps its ticks.
    await until(() => sentOp("unsubscribe", "005930", "orderbook") && sentOp("unsubscribe", "005930", "executions"), "the page's unsubscribe");
    expect(wsSent.filter((m) => m.op === "unsubscribe" && m.codes?.includes("005930") && m.channels?.includes("tick"))).toEqual([]);
    const code = "005930";
    const price = (await api<{ price: number }>(app.url, "GET", `/api/v1/stocks/${code}/price`)).body.price;
    const level = Math.ceil((price * 1.04) / 100) * 100;
    const cond = await api(app.url, "POST", "/api/v1/conditions", { name: "돌파", expr: `1m: close >= ${level}` });
    expect(cond.status, JSON.stringify(cond.body)).toBe(201);
    await until(async () => {
      const s = (await api<{ status: string; armed: string[] }>(app.url, "GET", `/api/v1/stocks/${code}`)).body;
      return s.armed?.includes("1m");
    }, "the condition armed on 005930", 30_000);
    const popup = browser.context.waitForEvent("page", { timeout: 60_000 });
    const path = [1, 2, 3, 4].map((i) => Math.round(price + ((level - price) * i) / 4 + 100));
    const scen = await api(app.url, "POST", "/sim/scenario", { code, pattern: "path", prices: path });
    expect(scen.status).toBe(200);

    const row = page.locator(`[data-testid="watchlist-row"][data-code="${code}"]`);
    await until(async () => (await row.getAttribute("class"))?.includes("triggered"), "the row marked triggered", 45_000);
    const win = await popup;
    await win.waitForURL(/\/stocks\/005930\?period=1m&trigger=\d+/);
    const triggerId = Number(new URL(win.url()).searchParams.get("trigger"));
    const stored = (await api<Array<{ id: number; bar_time: string }>>(app.url, "GET", `/api/v1/triggers?code=${code}`)).body.find((t) => t.id === triggerId);
    expect(stored).toBeDefined();
    await win.locator('.stock-page[data-ready="true"]').waitFor();
    // The trigger fired on the forming bar; the service's candles (60 s cache until the realtime hub pushes
    // `candle` messages) may need up to a minute to include it. The arrow sits under that bar only.
    try {
      await until(async () => Number(await win.getByTestId("chart").getAttribute("data-markers")) >= 1, "a marker on the chart", 90_000);
    } catch (err) {
      const candles = (await api<{ candles: Array<{ time: string }> }>(app.url, "GET", `/api/v1/stocks/${code}/candles?period=1m&count=3`)).body;
      const lastBar = await win.getByTestId("chart").getAttribute("data-last-time");
      throw new Error(`${String(err)}; trigger bar ${stored!.bar_time}; chart's last bar ${lastBar}; service's last bars ${candles.candles.map((c) => c.time).join(", ")}`, { cause: err });
    }
    const arrow = win.locator(`.trigger-arrow[data-trigger-id="${triggerId}"]`);
    await arrow.waitFor();
    expect(await arrow.getAttribute("data-trigger-bar-time")).toBe(stored!.bar_time);
    expect(await arrow.getAttribute("data-bar-time")).toBe(stored!.bar_time);
    await screenshot(page, "home-triggered");
    await win.setViewportSize({ width: 1280, height: 800 });
    // The arrow sits inside the plot, under its bar: close to the bar's x, below the bar's low.
    await until(async () => {
      const a = await arrow.boundingBox();
      const c = await win.getByTestId("chart").boundingBox();
      return a && c && a.x > c.x && a.x + a.width < c.x + c.width && a.y > c.y && a.y + a.height < c.y + c.height && (await arrow.getAttribute("data-off")) === null;
    }, "the arrow inside the chart");
    // The banner explains the trigger: the condition, the bar's date and time, the price, the values.
    const banner = win.getByTestId("trigger-banner");
    await banner.waitFor();
    expect(await banner.getAttribute("data-trigger-id")).toBe(String(triggerId));
    const text = (await banner.textContent()) ?? "";
    expect(text).toContain("돌파");
    expect(text).toContain(stored!.bar_time.slice(0, 10));
    expect(text).toContain(stored!.bar_time.slice(11, 16));
    // After a period switch and back, the arrow is still there, in view (the 1-minute bar's daily bar on D).
    for (const p of ["D", "1m"]) {
      await win.locator(`.period-tab[data-period="${p}"]`).click();
      await win.locator(`[data-testid="chart"][data-period="${p}"]`).waitFor();
      await until(async () => (await arrow.isVisible()) && (await arrow.getAttribute("data-off")) === null, `the arrow on ${p}`, 2_000);
    }
    await screenshot(win, "stock-trigger");

    // 확인 on the trigger page acknowledges it: the banner goes, and the watchlist's mark with it.
    await win.getByTestId("trigger-ack").click();
    await banner.waitFor({ state: "hidden" });
    await until(async () => !(await row.getAttribute("class"))?.includes("triggered"), "the mark cleared");
    await win.close();
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("shows the error state on an upstream fault, and retry recovers", async () => {
    await api(app.url, "POST", "/sim/faults", { error_rate: 1.0 });
    try {
      await page.goto(`${app.url}/stocks/000660`);
      await page.getByTestId("error-retry").waitFor({ timeout: 30_000 });
      expect(await page.locator(".error-panel").textContent()).toMatch(/[가-힣]/);
    } finally {
      await api(app.url, "POST", "/sim/faults", { error_rate: 0 });
    }
    await page.getByTestId("error-retry").click();
    await page.locator('.stock-page[data-ready="true"]').waitFor({ timeout: 30_000 });
    expect(Number(await page.getByTestId("chart").getAttribute("data-bars"))).toBeGreaterThan(0);
    // The 503s are logged by the browser as failed resources; nothing else may be.
    const unexpected = browser.consoleErrors.filter((e) => !/status of 503/.test(e));
    expect(unexpected.join("\n")).toBe("");
    browser.consoleErrors.length = 0;
  });

  it("shows the connection banner while the WebSocket is down and hides it after reconnecting", async () => {
    const banner = page.getByTestId("connection-banner");
    await until(() => wsRoute !== null, "a WebSocket");
    expect(await banner.isVisible()).toBe(false);
    const before = wsRoute;
    await before!.close({ code: 1012, reason: "test drop" });
    await banner.waitFor({ state: "visible" });
    await banner.waitFor({ state: "hidden", timeout: 20_000 });
    expect(wsRoute).not.toBe(before);
    // The upstream feed dropping (a simulator fault) does not break the page either.
    await api(app.url, "POST", "/sim/faults", { drop_ws: true });
    expect(await page.locator('.stock-page[data-ready="true"]').count()).toBe(1);
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("conditions page: inline parse error at the position, presets, and a screenshot", async () => {
    await page.goto(`${app.url}/conditions`);
    await page.locator(".cond-table").waitFor();
    await page.locator(".cond-expr").fill("30m: ma(20) >");
    await page.locator(".cond-editor button[type=submit]").click();
    const err = page.locator(".expr-error");
    await err.waitFor();
    // People count characters from 1 (the caret uses the 0-based `position`).
    expect(await err.textContent()).toContain("14번째 글자");
    // The browser logs the expected 422 as a failed resource; nothing else may be logged.
    expect(browser.consoleErrors.filter((e) => !/status of 422/.test(e)).join("\n")).toBe("");
    browser.consoleErrors.length = 0;
    // A period in Korean, a misspelt name, and the parser's suggestion applied with one click.
    await page.locator(".cond-expr").fill("30분: 정배얼");
    await page.locator(".cond-editor button[type=submit]").click();
    await page.getByTestId("apply-suggestion").waitFor();
    expect(await err.textContent()).toContain("정배열");
    expect(await err.textContent()).toContain("6번째 글자");
    await page.getByTestId("apply-suggestion").click();
    expect(await page.locator(".cond-expr").inputValue()).toBe("30분: 정배열");
    browser.consoleErrors.length = 0;
    await page.locator(".preset", { hasText: "정배열" }).first().click();
    expect(await page.locator(".cond-expr").inputValue()).toBe("30m: 정배열");
    await page.locator(".cond-editor button[type=submit]").click();
    await page.locator(".cond-table tr", { hasText: "30m: 정배열" }).waitFor();
    // The stored condition says how it alerts: once a bar, every 30 market minutes at most, by default.
    const stored = page.locator(".cond-table tr", { hasText: "30m: 정배열" });
    expect(await stored.locator(".cond-alerts").textContent()).toContain("30분 간격");
    // The previous test dropped the upstream feed: the picture is of the page once it is back.
    await page.getByTestId("connection-banner").waitFor({ state: "hidden", timeout: 30_000 });
    await screenshot(page, "conditions");
    // Test on history, the stock found by name: the span, buy and hold, the costs, the definitions.
    await page.locator(".cond-expr").fill("D: 골든크로스");
    const btStock = page.getByTestId("bt-stock");
    await btStock.fill("");
    await btStock.pressSequentially("카카오");
    await page.locator('.search-results li[data-code="035720"]').waitFor();
    await page.locator('.search-results li[data-code="035720"]').click();
    await page.getByTestId("bt-run").click();
    await page.getByTestId("bt-result").waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("bt-span").textContent()).toMatch(/카카오 \(035720\) · \d{4}-\d\d-\d\d ~ \d{4}-\d\d-\d\d, 일봉 [\d,]+봉/);
    expect(await page.getByTestId("bt-buy-hold").textContent()).toMatch(/같은 기간 보유: [+-]\d/);
    expect(await page.locator(".bt-count").textContent()).toContain("거래세 0.18%");
    // Daily signals are dated, with no 00:00.
    const firstSignal = (await page.getByTestId("bt-signal").first().locator("td").first().textContent()) ?? "";
    expect(firstSignal).toMatch(/^\d{4}-\d\d-\d\d$/);
    await page.getByTestId("bt-definitions").locator("summary").click();
    expect(await page.getByTestId("bt-definitions").textContent()).toContain("적중률");
    await screenshot(page, "backtest");
    // Intraday history is a few weeks: the report says it is short.
    await page.locator(".cond-expr").fill("30m: 정배열");
    await page.getByTestId("bt-run").click();
    await page.getByTestId("bt-short").waitFor({ timeout: 30_000 });
    // Back to 삼성전자 for the chart.
    await btStock.fill("");
    await btStock.pressSequentially("005930");
    await page.locator('.search-results li[data-code="005930"]').click();
    await page.locator(".cond-expr").fill("D: 골든크로스");
    await page.getByTestId("bt-run").click();
    await page.getByTestId("bt-result").waitFor({ timeout: 30_000 });
    const count = Number((await page.locator(".bt-count").textContent())?.match(/횟수: ([\d,]+)/)?.[1].replace(/,/g, ""));
    expect(count).toBeGreaterThan(0);
    await page.locator(".show-on-chart").click();
    await page.waitForURL(/\/stocks\/005930\?period=D&backtest=1/);
    await page.locator('.stock-page[data-ready="true"]').waitFor();
    const drawn = await page.locator(".signal-arrow").count();
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThanOrEqual(count);
    await page.goto(`${app.url}/conditions`);
    // Phone width: the watchlist still fits.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(app.url);
    await page.locator('[data-testid="watchlist-row"]').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // No sideways scroll inside the list either, and the price, 등락률 and alert state are on screen, uncut.
    const box = await page.locator(".watchlist-box").evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(box).toBeLessThanOrEqual(0);
    const firstRow = page.locator('[data-testid="watchlist-row"]').first();
    for (const cell of ["td.price", "td.col-rate", "td.col-actions"]) {
      expect(await firstRow.locator(cell).isVisible(), cell).toBe(true);
      expect(await firstRow.locator(cell).evaluate((el) => el.scrollWidth <= el.clientWidth + 1), `${cell} not cut`).toBe(true);
    }
    await screenshot(page, "home-phone");
    await page.goto(`${app.url}/stocks/005930`);
    await page.locator('.stock-page[data-ready="true"]').waitFor();
    const stockOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(stockOverflow).toBeLessThanOrEqual(0);
    expect(await page.getByTestId("home").isVisible()).toBe(true);
    await screenshot(page, "stock-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(browser.consoleErrors.join("\n")).toBe("");
  });
});
