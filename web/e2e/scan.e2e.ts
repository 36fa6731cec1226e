// 조건검색 in a real browser against the real service (demo simulator): the page with no market-scope condition
// yet, an intraday condition refused inline, a daily one created through the form and selected, the
// collection's progress, the result rows (or the empty message), live 편입/이탈 played into the page's socket,
// ＋ to the watchlist, and the phone layout. Screenshots go to target/e2e-screenshots/.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page, WebSocketRoute } from "playwright-core";
import { api, launchBrowser, missingPrerequisite, screenshot, startServe, until, type Browser, type Proc } from "./harness";

const missing = missingPrerequisite();
if (missing) console.warn(`\n  e2e SKIPPED: ${missing}\n`);

/** A rate cell's number (`+1.23%` → 1.23), `null` for `—`. */
function rateOf(text: string | null): number | null {
  const m = /^([+-]?)([\d.,]+)%$/.exec((text ?? "").trim());
  return m ? Number(`${m[1]}${m[2].replace(/,/g, "")}`) : null;
}

describe.skipIf(missing !== null)("조건검색", () => {
  let app: Proc;
  let browser: Browser;
  let page: Page;
  let wsRoute: WebSocketRoute | null = null;
  const wsSent: Array<{ op?: string; codes?: string[]; channels?: string[] }> = [];
  let conditionId = 0;

  beforeAll(async () => {
    app = await startServe(["--no-demo-content"]);
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
});
