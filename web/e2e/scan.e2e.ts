// 조건검색 in a real browser against the real service (demo simulator): the page with no market-scope condition
// yet, an intraday condition refused inline, a daily one created through the form and selected, the
// collection's progress, the result rows (or the empty message), live 편입/이탈 played into the page's socket,
// ＋ to the watchlist, and the phone layout; the backtest of a market scan over the stored history, and KIS's
// own rankings and HTS conditions beside kiswatch's. Screenshots go to target/e2e-screenshots/.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locator, Page, WebSocketRoute } from "playwright-core";
import { api, launchBrowser, missingPrerequisite, screenshot, startServe, until, type Browser, type Proc } from "./harness";

const missing = missingPrerequisite();
if (missing) console.warn(`\n  e2e SKIPPED: ${missing}\n`);

/** A rate cell's number (`+1.23%` → 1.23), `null` for `—`. */
function rateOf(text: string | null): number | null {
  const m = /^([+-]?)([\d.,]+)%$/.exec((text ?? "").trim());
  return m ? Number(`${m[1]}${m[2].replace(/,/g, "")}`) : null;
}

/** Scrolls the page so `target` starts just under the sticky top bar (for a screenshot of it). */
async function scrollUnderTopbar(target: Locator): Promise<void> {
  await target.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - (document.querySelector(".topbar")?.getBoundingClientRect().height ?? 0) - 8));
}

describe.skipIf(missing !== null)("조건검색", () => {
  let app: Proc;
  let browser: Browser;
  let page: Page;
  let wsRoute: WebSocketRoute | null = null;
  const wsSent: Array<{ op?: string; codes?: string[]; channels?: string[] }> = [];
  let conditionId = 0;

  beforeAll(async () => {
    // No HTS user: KIS's HTS conditions answer "unavailable" with the reason.
    app = await startServe(["--no-demo-content"], { KIS_HTS_ID: "" });
    await api(app.url, "POST", "/sim/clock", { speed: 10 });
    browser = await launchBrowser();
    page = browser.page;
    await browser.context.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
      wsRoute = ws;
      const server = ws.connectToServer();
      server.onMessage((m) => ws.send(m));
      ws.onMessage((m) => {
        if (typeof m === "string") wsSent.push(JSON.parse(m) as (typeof wsSent)[number]);
        server.send(m);
      });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("explains itself with no market-scope condition yet, and refuses minute bars inline", async () => {
    await page.goto(`${app.url}/scan`);
    await page.getByTestId("scan-none").waitFor();
    expect(await page.getByTestId("scan-period-hint").textContent()).toContain("일·주·월봉");
    expect(await page.locator(".nav a.active").textContent()).toBe("조건검색");
    // The form is open when there is nothing to pick.
    expect(await page.getByTestId("scan-new").evaluate((el) => (el as HTMLDetailsElement).open)).toBe(true);
    await page.getByTestId("scan-expr").fill("5분: 골든크로스");
    await page.getByTestId("scan-create").click();
    const error = page.getByTestId("scan-expr-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/일\/주\/월봉|분봉/);
    const stored = (await api<Array<{ scope?: string }>>(app.url, "GET", "/api/v1/conditions")).body;
    expect(stored.filter((c) => c.scope === "market")).toHaveLength(0);
    expect(browser.consoleErrors.filter((e) => !/status of 400/.test(e)).join("\n")).toBe("");
    browser.consoleErrors.length = 0;
  });

  it("creates a daily market-scope condition through the form and shows its progress and results", async () => {
    await page.getByTestId("scan-preset").first().click();
    expect(await page.getByTestId("scan-expr").inputValue()).toBe("일: 정배열");
    expect(await page.getByTestId("scan-expr-error").isHidden()).toBe(true);
    await page.getByTestId("scan-create").click();
    // The page names the condition in its address (replaceState: no navigation to wait for).
    await until(() => /\/scan\?id=\d+$/.test(page.url()), "the new condition in the address");
    conditionId = Number(new URL(page.url()).searchParams.get("id"));
    const picker = page.getByTestId("scan-picker");
    await until(async () => (await picker.inputValue()) === String(conditionId), "the new condition picked");
    const stored = (await api<Array<{ id: number; scope?: string; filters?: { markets?: string[]; exclude?: string[] } | null }>>(app.url, "GET", "/api/v1/conditions")).body;
    const created = stored.find((c) => c.id === conditionId);
    expect(created?.scope).toBe("market");
    expect(created?.filters?.markets).toEqual(["KOSPI", "KOSDAQ"]);
    expect([...(created?.filters?.exclude ?? [])].sort()).toEqual(["etf", "etn", "halted", "managed", "spac"]);
    // The page asks for the condition's channel, without codes.
    await until(() => wsSent.some((m) => m.op === "subscribe" && m.codes === undefined && m.channels?.includes(`scan:${conditionId}`)), "the scan subscription");
    // The collection's progress (hidden once complete) and the sweep's facts.
    await page.getByTestId("scan-progress").waitFor({ state: "attached", timeout: 60_000 });
    const progress = page.getByTestId("scan-progress");
    if (await progress.isVisible()) {
      expect(await progress.textContent()).toMatch(/일봉 수집 중: [\d,]+ \/ [\d,]+ 종목 · 남은 호출 [\d,]+/);
    }
    expect(await page.getByTestId("scan-meta").textContent()).toMatch(/대상 [\d,]+종목/);
    // Rows, or the empty message.
    const rows = page.getByTestId("scan-row");
    const empty = page.getByTestId("scan-empty");
    await until(async () => (await rows.count()) > 0 || (await empty.count()) > 0, "a result row or the empty message", 120_000);
    if ((await rows.count()) > 0) {
      const first = rows.first();
      await until(async () => /^\d{1,3}(,\d{3})*$/.test((await first.locator("td.price").textContent()) ?? ""), "a price with separators");
      // 등락률 high to low by default.
      const rates = (await rows.locator("td.col-rate").allTextContents()).map(rateOf).filter((r): r is number => r !== null);
      expect(rates).toEqual([...rates].sort((a, b) => b - a));
      expect(await page.locator('th[data-sort="rate"]').getAttribute("aria-sort")).toBe("descending");
    } else {
      expect(await empty.textContent()).toContain("조건에 맞는 종목이 없습니다");
    }
    await screenshot(page, "scan");
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("lights a stock entering live, fades one leaving, lists both, and adds a row to the watchlist with ＋", async () => {
    expect(wsRoute).not.toBeNull();
    // Later than any sweep of the service, so its answers do not undo them.
    const time = "2099-01-02T10:00:00+09:00";
    const base = { condition_id: conditionId, name: "삼성전자", code: "005930", price: 74_200, change_rate: 1.23, turnover: 512_300_000_000, values: { "ma(60)": 71_000, "ma(20)": 73_000.5 } };
    wsRoute!.send(JSON.stringify({ type: "scan_event", id: 900_000_001, kind: "enter", time, ...base }));
    const row = page.locator('[data-testid="scan-row"][data-code="005930"]');
    await row.waitFor();
    expect(await row.getAttribute("class")).toContain("entering");
    const item = page.locator('[data-testid="scan-events"] li[data-kind="enter"][data-code="005930"]').first();
    await item.waitFor();
    expect(await item.locator(".trigger-time").textContent()).toBe("10:00:00");
    // The averages in window order.
    expect(await item.locator(".value-key").allTextContents()).toEqual(["ma(20)", "ma(60)"]);
    // ＋: one click, a toast, and the row says 관심종목 from then on.
    await row.getByTestId("scan-add").click();
    await until(async () => ((await page.getByTestId("toast").textContent()) ?? "").includes("관심종목에 추가"), "the added toast");
    await row.getByTestId("scan-watched").waitFor();
    const watchlist = (await api<Array<{ code: string }>>(app.url, "GET", "/api/v1/watchlist")).body.map((w) => w.code);
    expect(watchlist).toContain("005930");
    wsRoute!.send(JSON.stringify({ type: "scan_event", id: 900_000_002, kind: "leave", time, ...base }));
    await until(async () => ((await row.getAttribute("class")) ?? "").includes("leaving") || (await row.count()) === 0, "the row leaving");
    await row.waitFor({ state: "detached", timeout: 10_000 });
    await page.locator('[data-testid="scan-events"] li[data-kind="leave"][data-code="005930"]').first().waitFor();
    expect(browser.consoleErrors.join("\n")).toBe("");
  });

  it("fits a phone: no sideways scroll, the numbers uncut", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${app.url}/scan?id=${conditionId}`);
    const rows = page.getByTestId("scan-row");
    await until(async () => (await rows.count()) > 0 || (await page.getByTestId("scan-empty").count()) > 0, "a result row or the empty message", 60_000);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    if ((await rows.count()) > 0) {
      const box = await page.locator(".scan-table-box").evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(box).toBeLessThanOrEqual(0);
      const first = rows.first();
      for (const cell of ["td.price", "td.col-rate", "td.col-add"]) {
        expect(await first.locator(cell).isVisible(), cell).toBe(true);
        expect(await first.locator(cell).evaluate((el) => el.scrollWidth <= el.clientWidth + 1), `${cell} not cut`).toBe(true);
      }
    }
    await screenshot(page, "scan-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(browser.consoleErrors.join("\n")).toBe("");
  });
  it("backtests a market scan over the stored history, and shows KIS's own scans beside kiswatch's", async () => {
    const created = await api<{ id: number }>(app.url, "POST", "/api/v1/conditions", {
      expr: "D: close > ma(20)",
      scope: "market",
      filters: { markets: ["KOSDAQ"], exclude: ["etf", "etn", "spac"] },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // The service backfills the listings' daily history in the background: wait until some is stored.
    await until(async () => (await api<{ stocks: number }>(app.url, "GET", `/api/v1/conditions/${id}/backtest`)).body.stocks > 0, "stored daily history to backtest", 90_000);
    const scanRequests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/scans/")) scanRequests.push(new URL(r.url()).pathname);
    });
    // The backtest's answer is held until the page has shown that it is computing.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    await page.route(`**/api/v1/conditions/${id}/backtest`, async (route) => {
      await gate;
      await route.continue();
    });
    await page.goto(`${app.url}/scan?id=${id}`);
    await until(async () => (await page.getByTestId("scan-picker").inputValue()) === String(id), "the condition picked");
    const panel = page.getByTestId("scan-backtest");
    expect(await panel.getAttribute("data-state")).toBe("idle");
    const run = page.getByTestId("scan-backtest-run");
    expect(await run.textContent()).toBe("백테스트");
    await run.click();
    await page.getByTestId("scan-backtest-running").waitFor();
    expect(await page.getByTestId("scan-backtest-running").textContent()).toContain("계산 중");
    expect(await run.isDisabled()).toBe(true);
    await scrollUnderTopbar(panel.locator("xpath=.."));
    console.log(`  screenshot: ${await screenshot(page, "scan-backtest-running")}`);
    release();
    await page.locator('[data-testid="scan-backtest"][data-state="done"]').waitFor({ timeout: 30_000 });
    expect(await run.isDisabled()).toBe(false);
    await page.unroute(`**/api/v1/conditions/${id}/backtest`);

    expect(await page.getByTestId("scan-backtest-span").textContent()).toMatch(/^\d{4}-\d{2}-\d{2} ~ \d{4}-\d{2}-\d{2}, 일봉 [\d,]+일$/);
    const facts = (await page.getByTestId("scan-backtest-stocks").textContent()) ?? "";
    const m = /종목 ([\d,]+) \/ ([\d,]+)/.exec(facts);
    expect(m, facts).not.toBeNull();
    const [stocks, universe] = [Number(m![1].replace(/,/g, "")), Number(m![2].replace(/,/g, ""))];
    expect(stocks).toBeGreaterThan(0);
    expect(facts).toMatch(/편입 [\d,]+회/);
    // One row per horizon, in days.
    const horizons = page.getByTestId("scan-backtest-horizon");
    expect(await horizons.count()).toBe(3);
    expect((await horizons.locator("th").allTextContents()).map((x) => x.replace(/표본.*$/, ""))).toEqual(["1일 후", "5일 후", "20일 후"]);
    for (const cell of await page.getByTestId("scan-backtest-excess").all()) {
      const text = ((await cell.textContent()) ?? "").trim();
      expect(text).toMatch(/^([+-]?\d+\.\d{2}%p|—)$/);
      const cls = (await cell.getAttribute("class")) ?? "";
      if (text.startsWith("+")) expect(cls).toContain("up");
      if (text.startsWith("-")) expect(cls).toContain("down");
    }
    expect(await horizons.first().locator("td").nth(0).textContent()).toMatch(/^([+-]?\d+\.\d{2}%|—)$/);
    expect(await horizons.first().locator("td").nth(1).textContent()).toMatch(/^(\d+\.\d%|—)$/);
    expect(await page.getByTestId("scan-backtest-note").textContent()).toContain("오늘 값이라 과거에는 적용하지 않았습니다");
    const chart = page.getByTestId("scan-backtest-chart");
    expect(Number(await chart.getAttribute("data-days"))).toBeGreaterThan(0);
    expect(await chart.locator("path.bt-chart-line").getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+/);
    // The backfill is still running (a thousand listings take minutes): the figures are anecdotes, and it says so.
    expect(stocks).toBeLessThan(universe);
    const short = page.getByTestId("scan-backtest-short");
    expect(await short.isVisible()).toBe(true);
    expect(await short.textContent()).toMatch(/일봉 수집 중.*일화 이상으로 읽지 마세요/);
    await scrollUnderTopbar(panel.locator("xpath=.."));
    console.log(`  screenshot: ${await screenshot(page, "scan-backtest")}`);

    // KIS's scans: nothing is fetched before the section opens.
    expect(scanRequests).toEqual([]);
    const kis = page.getByTestId("kis-scans");
    await kis.locator("summary").click();
    const kisRows = page.getByTestId("kis-row");
    await until(async () => (await kisRows.count()) > 0, "KIS's 거래량 ranking");
    expect(scanRequests).toEqual(["/api/v1/scans/kis/volume"]);
    expect(await page.getByTestId("kis-tab-volume").getAttribute("aria-selected")).toBe("true");
    expect(await kisRows.count()).toBeLessThanOrEqual(30);
    expect(await page.getByTestId("kis-limits").textContent()).toContain("30종목");
    const top = kisRows.first();
    expect(await top.locator("td.price").textContent()).toMatch(/^\d{1,3}(,\d{3})*$/);
    const code = (await top.getAttribute("data-code")) ?? "";
    expect(await top.locator("a.stock-name").getAttribute("href")).toBe(`/stocks/${code}`);
    // The result table's ＋.
    const addCode = (await kisRows.filter({ has: page.getByTestId("scan-add") }).first().getAttribute("data-code")) ?? "";
    const addRow = page.locator(`[data-testid="kis-row"][data-code="${addCode}"]`);
    await addRow.getByTestId("scan-add").click();
    await addRow.getByTestId("scan-watched").waitFor();
    expect((await api<Array<{ code: string }>>(app.url, "GET", "/api/v1/watchlist")).body.map((w) => w.code)).toContain(addCode);
    // 상승률: no 거래대금 from KIS, so no column for it.
    await page.getByTestId("kis-tab-rise").click();
    await until(async () => (await page.getByTestId("kis-table").getAttribute("data-source")) === "rise", "KIS's 상승률 ranking");
    expect(await kisRows.count()).toBeGreaterThan(0);
    expect(await kisRows.first().locator("td.col-rate").getAttribute("class")).toMatch(/\b(up|flat)\b/);
    await page.getByTestId("kis-tab-volume").click();
    await until(async () => (await page.getByTestId("kis-table").getAttribute("data-source")) === "volume", "거래량 again");
    expect(scanRequests.filter((p) => p.endsWith("/volume"))).toHaveLength(1);
    await scrollUnderTopbar(kis);
    console.log(`  screenshot: ${await screenshot(page, "scan-kis")}`);
    // HTS conditions without KIS_HTS_ID: a calm note with the reason, not an error.
    await page.getByTestId("kis-tab-hts").click();
    const note = page.getByTestId("kis-unavailable");
    await note.waitFor();
    expect(await note.textContent()).toContain("KIS_HTS_ID");
    expect(await page.getByTestId("kis-body").getAttribute("data-state")).toBe("unavailable");
    expect(await page.locator('[data-testid="kis-body"] [role="alert"]').count()).toBe(0);
    console.log(`  screenshot: ${await screenshot(page, "scan-kis-hts")}`);
    expect(browser.consoleErrors.join("\n")).toBe("");

    // A phone: the report and KIS's table fit without a sideways scroll.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId("kis-tab-volume").click();
    await until(async () => (await page.getByTestId("kis-table").getAttribute("data-source")) === "volume", "거래량 on the phone");
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    expect(await page.locator(".kis-body .scan-table-box").evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    expect(await page.locator(".scan-bt-table-box").evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    await scrollUnderTopbar(panel.locator("xpath=.."));
    console.log(`  screenshot: ${await screenshot(page, "scan-backtest-phone")}`);
    await scrollUnderTopbar(kis);
    console.log(`  screenshot: ${await screenshot(page, "scan-kis-phone")}`);
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(browser.consoleErrors.join("\n")).toBe("");
  });
});
