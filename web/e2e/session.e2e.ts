// A trading session, as a person would have it: `kiswatch serve` in demo (its seeded watchlist, its two
// conditions, the simulator at 10×) for several minutes, the watchlist open, one stock page on 1m and one on D,
// reloads, period switches, a phone width, and every trigger's window as it opens. Checked continuously, in
// every page (a watcher injected into each one, see `WATCHER`):
//
// * after every tick the chart's `data-last-close` equals the header's `data-value` within 1 s;
// * on every page open, reload and period switch the newest bar is in view (`data-visible-last-time` equals
//   `data-last-time`) within 1 s, and stays in view while the chart follows;
// * every trigger page shows its arrow (visible, no `data-off`) within 1 s of its navigation, and again within
//   1 s of a reload; a trigger added to an open page's banner within 1 s of arriving; after a period switch and
//   back it is shown again;
// * today's 1-minute bars have no minute missing against the simulator's own minute chart;
// * with the default alert settings no (condition, stock) fires more than twice in any market hour.
//
// Pacing is by the market's own clock (the service's `GET /api/v1/market`): nothing waits on a sleep.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { api, launchBrowser, missingPrerequisite, screenshot, startServe, until, type Browser, type Proc } from "./harness";

const missing = missingPrerequisite();
if (missing) console.warn(`\n  e2e SKIPPED: ${missing}\n`);

/** Market minutes the session runs for (10× in the demo: 3 real minutes per 30 market minutes). */
const SESSION_MARKET_MINUTES = Number(process.env.KISWATCH_SESSION_MINUTES ?? 33);
/** At least this many triggers are waited for (the demo steers stocks into 정배열; the first fires within ~1 min). */
const MIN_TRIGGERS = 2;

/** Runs in every page of the browser: checks the screen's promises continuously, records what it saw. */
const WATCHER = () => {
  type Violation = Record<string, unknown>;
  const w = {
    violations: [] as Violation[],
    equal: 0,
    priceChanges: 0,
    /** ms after navigation when the page's own trigger arrow (`?trigger=`) was first visible. */
    arrowMs: null as number | null,
    /** ms after navigation when the chart first showed bars (`data-last-time` set). */
    chartMs: null as number | null,
    /** Every chart view (open, reload, period switch): when it got data, when the newest bar was in view. */
    views: [] as Array<{ period: string; startedAt: number; settledAt: number | null }>,
    /** Triggers seen in the banner: when they appeared and when their arrow was visible. */
    banner: {} as Record<string, { seenAt: number; arrowAt: number | null; period: string; state?: string }>,
  };
  (window as unknown as { __kw: typeof w }).__kw = w;
  let closeSince: number | null = null;
  let followSince: number | null = null;
  let lastPrice: string | undefined;
  const recent: Array<[number, string, string]> = [];
  let chartEl: Element | null = null;
  let viewKey = "";
  const arrowShown = (id: string) => {
    const a = document.querySelector<HTMLElement>(`.trigger-arrow[data-trigger-id="${id}"]`);
    return a !== null && !a.hidden && !a.dataset.off;
  };
  const check = () => {
    const now = performance.now();
    const price = document.querySelector<HTMLElement>('[data-testid="price"]');
    const chart = document.querySelector<HTMLElement>('[data-testid="chart"]');
    if (!price || !chart) {
      closeSince = followSince = null;
      return;
    }
    const period = chart.dataset.period ?? "";
    const last = chart.dataset.lastTime ?? "";
    const visible = chart.dataset.visibleLastTime ?? "";
    // A new view: another chart element (a page open or reload) or another period.
    const key = `${period}`;
    if (chart !== chartEl || key !== viewKey) {
      if (last) {
        chartEl = chart;
        viewKey = key;
        w.views.push({ period, startedAt: now, settledAt: null });
      }
    }
    const view = w.views[w.views.length - 1];
    if (view && view.settledAt === null) {
      if (last && visible === last) view.settledAt = now;
      else if (now - view.startedAt > 1000) {
        w.violations.push({ kind: "newest bar not in view after opening", period, last, visible, url: location.href });
        view.settledAt = -1;
      }
    }
    const loading = chart.classList.contains("loading");
    const pv = price.dataset.value;
    const cv = chart.dataset.lastClose;
    if (!loading && pv && cv) {
      if (pv !== lastPrice) {
        w.priceChanges++;
        lastPrice = pv;
      }
      if (pv !== recent[recent.length - 1]?.[1] || cv !== recent[recent.length - 1]?.[2]) {
        recent.push([Math.round(now), pv, cv]);
        if (recent.length > 8) recent.shift();
      }
      if (pv === cv) {
        closeSince = null;
        w.equal++;
      } else if (closeSince === null) closeSince = now;
      else if (now - closeSince > 1000) {
        // `recent`: the last changes of either, [ms after navigation, header, chart], to tell which one stood still.
        w.violations.push({ kind: "chart close differs from the header price for 1 s", period, price: pv, close: cv, last, url: location.href, at: Math.round(now), recent: recent.map((r) => r.join(" ")) });
        closeSince = null;
      }
    } else closeSince = null;
    if (!loading && chart.dataset.following === "true" && last) {
      if (visible === last) followSince = null;
      else if (followSince === null) followSince = now;
      else if (now - followSince > 1000) {
        w.violations.push({ kind: "newest bar hidden while following", period, last, visible, url: location.href });
        followSince = null;
      }
    } else followSince = null;
    const own = new URLSearchParams(location.search).get("trigger");
    if (w.chartMs === null && last) w.chartMs = now;
    if (own && w.arrowMs === null && arrowShown(own)) w.arrowMs = now;
    for (const item of document.querySelectorAll<HTMLElement>('[data-testid="trigger-banner"] .banner-item')) {
      const id = item.dataset.triggerId ?? "";
      const b = (w.banner[id] ??= { seenAt: now, arrowAt: null, period });
      if (b.arrowAt === null && arrowShown(id)) b.arrowAt = now;
      else if (b.arrowAt === null) {
        const a = document.querySelector<HTMLElement>(`.trigger-arrow[data-trigger-id="${id}"]`);
        b.state = `${location.pathname}${location.search} on ${period}, ${document.visibilityState}: ${a ? (a.hidden ? "hidden" : `off ${a.dataset.off}`) : `no arrow (markers ${chart.dataset.markers})`}`;
      }
    }
  };
  setInterval(check, 25);
};

type Kw = {
  violations: Array<Record<string, unknown>>;
  equal: number;
  priceChanges: number;
  arrowMs: number | null;
  chartMs: number | null;
  views: Array<{ period: string; startedAt: number; settledAt: number | null }>;
  banner: Record<string, { seenAt: number; arrowAt: number | null; period: string; state?: string }>;
};

const kw = (p: Page) => p.evaluate(() => (window as unknown as { __kw?: Kw }).__kw ?? null);

interface MarketAnswer {
  now: string | null;
  phase: string | null;
}

interface StoredTrigger {
  id: number;
  code: string;
  condition_id: number;
  period: string;
  bar_time: string;
  time: string;
}

describe.skipIf(missing !== null)("a trading session on the demo", () => {
  let app: Proc;
  let browser: Browser;
  const opened: Page[] = [];
  const popups: Page[] = [];

  beforeAll(async () => {
    app = await startServe([]);
    browser = await launchBrowser();
    await browser.context.addInitScript(WATCHER);
    // A trigger's window has the watchlist as its opener; the pages this test opens have none.
    browser.context.on("page", (p) => {
      void p.opener().then((o) => {
        if (o) popups.push(p);
      });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const marketNow = async () => {
    const m = (await api<MarketAnswer>(app.url, "GET", "/api/v1/market")).body;
    return m.now ? Date.parse(m.now) : null;
  };

  /** Waits until the market's clock moved `minutes` on from `from`. */
  const marketMinutesAfter = async (from: number, minutes: number) =>
    until(async () => ((await marketNow()) ?? 0) >= from + minutes * 60_000, `${minutes} market minutes`, minutes * 6_000 + 30_000);

  /** The newest view of a page settled (its newest bar in view), failing on the watcher's word. */
  const settled = async (p: Page, what: string) => {
    await p.locator('.stock-page[data-ready="true"]').waitFor({ timeout: 30_000 });
    await until(async () => {
      const w = await kw(p);
      const v = w?.views[w.views.length - 1];
      return v && v.settledAt !== null ? v : null;
    }, `${what}: the chart's newest bar in view`);
    const w = (await kw(p))!;
    const v = w.views[w.views.length - 1];
    expect(v.settledAt, `${what}: newest bar in view within 1 s (${JSON.stringify(w.violations)})`).toBeGreaterThanOrEqual(0);
  };

  const newPage = async (url: string) => {
    const p = await browser.context.newPage();
    opened.push(p);
    await p.setViewportSize({ width: 1440, height: 900 });
    await p.goto(url);
    return p;
  };

  const switchPeriod = async (p: Page, period: string) => {
    await p.locator(`.period-tab[data-period="${period}"]`).click();
    await p.locator(`[data-testid="chart"][data-period="${period}"]`).waitFor();
    await settled(p, `${period} switch`);
  };

  const handled = new Set<Page>();
  let triggerPages = 0;

  /** A trigger's window: its arrow within 1 s of its navigation, and again after a period switch and back. */
  const checkTriggerPage = async (p: Page) => {
    handled.add(p);
    await p.waitForURL(/\/stocks\/\d{6}\?period=\w+&trigger=\d+/);
    const url = new URL(p.url());
    const id = url.searchParams.get("trigger")!;
    const period = url.searchParams.get("period")!;
    await p.locator('.stock-page[data-ready="true"]').waitFor({ timeout: 30_000 });
    const arrowMs = await until(async () => (await kw(p))?.arrowMs ?? null, `the arrow of trigger ${id}`, 10_000);
    const timing = await p.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
      const res = performance
        .getEntriesByType("resource")
        .filter((e) => /\/api\/|\.js$/.test(e.name))
        .map((e) => `${new URL(e.name).pathname.replace(/^\/api\/v1/, "")} ${Math.round(e.startTime)}→${Math.round((e as PerformanceResourceTiming).responseEnd)}`);
      const page = document.querySelector<HTMLElement>(".stock-page")?.dataset ?? {};
      return `html ${Math.round(nav?.responseEnd ?? 0)}, DOMContentLoaded ${Math.round(nav?.domContentLoadedEventEnd ?? 0)}; ${res.join(", ")}; candles ${page.candlesMs ?? "?"} ms, snapshot ${page.snapshotMs ?? "?"} ms after mount`;
    });
    const chartMs = (await kw(p))!.chartMs!;
    console.log(`trigger page ${url.pathname}?${url.searchParams}: arrow ${Math.round(arrowMs)} ms after navigation, ${Math.round(arrowMs - chartMs)} ms after the chart's first bars (${timing})`);
    // The contract: the arrow within 1 s of the page's navigation (the defect was 3–6 s after the chart, or
    // never). The page's own timeline above says where the time went when it is not.
    expect(arrowMs, `trigger ${id}: arrow within 1 s of the navigation (${timing})`).toBeLessThanOrEqual(1000);
    const banner = p.getByTestId("trigger-banner");
    await banner.waitFor();
    // Its trigger is in the banner (a later trigger of the same stock joins it on top, not in its place).
    expect(await banner.locator(`.banner-item[data-trigger-id="${id}"]`).count(), `trigger ${id} in the banner`).toBe(1);
    expect(await p.locator(".period-tab[aria-selected=true]").getAttribute("data-period")).toBe(period);
    if (triggerPages++ === 0) await screenshot(p, "trigger-page");
    for (const other of [period === "D" ? "1m" : "D", period]) {
      await switchPeriod(p, other);
      const arrow = p.locator(`.trigger-arrow[data-trigger-id="${id}"]`);
      await until(async () => (await arrow.count()) === 1 && (await arrow.isVisible()) && (await arrow.getAttribute("data-off")) === null, `trigger ${id}'s arrow on ${other}`, 1_000);
    }
  };

  const checkNewPopups = async () => {
    for (const p of popups.filter((x) => !handled.has(x))) await checkTriggerPage(p);
  };

  const violations = async () => {
    const out: Array<Record<string, unknown>> = [];
    for (const p of [...opened, ...popups]) {
      if (p.isClosed()) continue;
      const w = await kw(p);
      if (!w) continue;
      out.push(...w.violations);
      for (const [id, b] of Object.entries(w.banner)) {
        if (b.arrowAt !== null && b.arrowAt - b.seenAt > 1000) out.push({ kind: "banner trigger's arrow later than 1 s", id, ms: b.arrowAt - b.seenAt, before: b.state });
      }
    }
    return out;
  };

  it(
    "keeps the chart, the header and the arrows true through several minutes of trading",
    { timeout: 900_000 },
    async () => {
      const home = browser.page;
      opened.push(home);
      await home.setViewportSize({ width: 1440, height: 900 });
      await home.goto(app.url);
      await home.locator('[data-testid="watchlist-row"]').first().waitFor({ timeout: 30_000 });
      // Every row is priced on load.
      await until(async () => (await home.locator('[data-testid="watchlist-row"] td.price', { hasText: "—" }).count()) === 0, "every row priced", 30_000);
      const clock = home.getByTestId("market-clock");
      await until(async () => ["continuous", "closing_auction", "opening_auction", "closed", "pre_open", "after_hours", "holiday"].includes((await clock.getAttribute("data-phase")) ?? ""), "the market clock");
      expect(await home.getByTestId("demo-badge").textContent()).toBe("데모 · 가상 시장 · 10배속");

      const oneMinute = await newPage(`${app.url}/stocks/005930?period=1m`);
      await settled(oneMinute, "005930 1m open");
      const daily = await newPage(`${app.url}/stocks/000660?period=D`);
      await settled(daily, "000660 D open");
      await screenshot(oneMinute, "stock-1m");
      await screenshot(daily, "stock-D");

      const start = (await marketNow())!;
      const actions: Array<(n: number) => Promise<void>> = [
        async () => {
          await oneMinute.reload();
          await settled(oneMinute, "1m reload");
        },
        async () => {
          for (const p of ["1m", "5m", "30m", "D"]) await switchPeriod(daily, p);
        },
        async () => {
          await switchPeriod(oneMinute, "D");
          await switchPeriod(oneMinute, "1m");
        },
        async (n) => {
          // A phone: price, 등락률 and the alert state without sideways scrolling.
          await home.setViewportSize({ width: 390, height: 844 });
          const overflow = await home.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow).toBeLessThanOrEqual(0);
          const cut = await home.evaluate(() =>
            [...document.querySelectorAll<HTMLElement>('[data-testid="watchlist-row"] td.price, [data-testid="watchlist-row"] td.col-rate')]
              .filter((td) => td.offsetParent !== null && td.scrollWidth > td.clientWidth + 1)
              .map((td) => td.textContent),
          );
          expect(cut, "numbers cut on a phone").toEqual([]);
          if (n < 4) await screenshot(home, "phone-home");
          await home.setViewportSize({ width: 1440, height: 900 });
          await daily.setViewportSize({ width: 390, height: 844 });
          await settled(daily, "D at phone width");
          if (n < 4) await screenshot(daily, "phone-stock");
          await daily.setViewportSize({ width: 1440, height: 900 });
        },
      ];
      let step = 0;
      let at = start;
      for (;;) {
        at = Math.max(at + 3 * 60_000, 0);
        await marketMinutesAfter(at - 3 * 60_000, 3);
        await checkNewPopups();
        await actions[step % actions.length](step);
        step++;
        const seen = await violations();
        expect(seen, "the screen's promises").toEqual([]);
        const triggers = (await api<StoredTrigger[]>(app.url, "GET", "/api/v1/triggers?limit=500")).body;
        const elapsed = ((await marketNow())! - start) / 60_000;
        if (elapsed >= SESSION_MARKET_MINUTES && triggers.length >= MIN_TRIGGERS && popups.length > 0) break;
        if (elapsed >= SESSION_MARKET_MINUTES * 3) throw new Error(`only ${triggers.length} triggers in ${elapsed} market minutes`);
      }
      await checkNewPopups();
      // A trigger page reloaded shows its arrow within 1 s again.
      const firstPopup = popups.find((p) => !p.isClosed());
      if (firstPopup) {
        await firstPopup.reload();
        await firstPopup.locator('.stock-page[data-ready="true"]').waitFor();
        const ms = await until(async () => (await kw(firstPopup))?.arrowMs ?? null, "the arrow after a reload", 10_000);
        const chartMs = (await kw(firstPopup))!.chartMs!;
        console.log(`trigger page reloaded: arrow ${Math.round(ms)} ms after navigation, ${Math.round(ms - chartMs)} ms after the chart's first bars`);
        expect(ms, "arrow within 1 s of the navigation after a reload").toBeLessThanOrEqual(1000);
      }
      expect(await violations(), "the screen's promises").toEqual([]);

      // Today's 1-minute bars: no minute missing against the simulator's own, every closed one equal.
      for (const code of ["005930", "000660"]) {
        const chart = (await api<{ candles: Array<{ time: string; open: number; high: number; low: number; close: number; volume: number }> }>(app.url, "GET", `/api/v1/stocks/${code}/candles?period=1m&count=2000`)).body.candles;
        const truth = (await api<Array<{ time: string; open: number; high: number; low: number; close: number; volume: number }>>(app.url, "GET", `/sim/minutes/${code}`)).body;
        const today = truth[truth.length - 1].time.slice(0, 10);
        const mine = new Map(chart.filter((c) => c.time.startsWith(today)).map((c) => [c.time, c]));
        const closed = truth.slice(0, -1);
        const absent = closed.filter((b) => !mine.has(b.time)).map((b) => b.time);
        expect(absent, `${code}: minutes missing from the chart`).toEqual([]);
        const ohlcv = (c: { time: string; open: number; high: number; low: number; close: number; volume: number } | undefined) =>
          c && JSON.stringify([c.time, c.open, c.high, c.low, c.close, c.volume]);
        const differ = closed.filter((b) => ohlcv(mine.get(b.time)) !== ohlcv(b)).map((b) => ({ sim: b, chart: mine.get(b.time) }));
        expect(differ, `${code}: closed minutes differing from the simulator's`).toEqual([]);
      }

      // Alerts worth reading: with the defaults, at most two per (condition, stock) in any market hour.
      const triggers = (await api<StoredTrigger[]>(app.url, "GET", "/api/v1/triggers?limit=500")).body;
      const byPair = new Map<string, number[]>();
      for (const t of triggers) byPair.set(`${t.condition_id}|${t.code}`, [...(byPair.get(`${t.condition_id}|${t.code}`) ?? []), Date.parse(t.time)]);
      for (const [pair, times] of byPair) {
        times.sort((a, b) => a - b);
        for (let i = 0; i < times.length; i++) {
          const inHour = times.filter((x) => x >= times[i] && x < times[i] + 3_600_000).length;
          expect(inHour, `${pair}: triggers within one market hour`).toBeLessThanOrEqual(2);
        }
      }
      const figures = await Promise.all([...opened, ...popups].filter((p) => !p.isClosed()).map(async (p) => ({ url: p.url(), ...(await kw(p)) })));
      console.log(
        `session: ${Math.round(((await marketNow())! - start) / 60_000)} market minutes, ${triggers.length} triggers, ${popups.length} trigger windows, ` +
          figures.map((f) => `${new URL(f.url).pathname}${new URL(f.url).search}: ${f.priceChanges} prices, ${f.equal} equal checks, ${f.views?.length ?? 0} views`).join("; "),
      );
      expect(browser.consoleErrors.join("\n")).toBe("");
    },
  );
});
