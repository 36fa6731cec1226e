// The stock page: header, candle chart with period switch, order book and executions, all kept live over the
// page's one WebSocket. Opening it costs one `/snapshot`, one `/candles` and one read of this stock's stored
// triggers (which never reaches KIS), all sent at once; a failure shows an error panel with 재시도 instead of a
// blank chart.
//
// Drawing is progressive: the header and the order book as soon as the snapshot answers, the chart as soon as
// the candles do (each request alone; the slower one never holds the other back). The candles asked for are
// the bars the chart shows at its width (`barsToShow`), not the whole history: on a 2 requests/s account every
// extra page of history is another half second before the chart appears. Older bars are asked for when the
// user scrolls to the oldest one.
//
// One truth on screen: the header's price comes from the service's `tick`s and the chart's forming bar from its
// `candle`s of the shown period, both made from the same trades (realtime or polled), so the chart's last close
// is the header's price. While the service sends nothing live for this stock the page refreshes itself with one
// snapshot every few seconds and the last bars now and then — one request at a time, never a burst.
//
// A trigger's page (`?trigger=ID`, opened by the trigger) explains itself: a banner names the condition, the
// bar's date and time, the price and the values that made it true (averages in 20/60/120/240 order), with 확인;
// the arrow under the trigger's bar is in view on arrival and after every period switch. A later trigger of the
// same stock joins the banner instead of taking the window elsewhere.

import { api } from "../api";
import { live, triggers as triggerCenter, windows } from "../app";
import { StockFeed } from "../feed";
import { h, setChildren, setText } from "../dom";
import { direction, formatBarTime, formatKoreanAmount, formatKrw, formatKstDate, formatKstDateTime, formatMaybe } from "../format";
import { t } from "../i18n";
import {
  candleFrom,
  executionsFrom,
  byNewest,
  historyPending,
  CHART_PERIODS,
  firstBars,
  MA_COLORS,
  MA_WINDOWS,
  orderBookFrom,
  orderedValues,
  priceFields,
  quoteFromTick,
  type Alignment,
  type Candle,
  type CandleSet,
  type Execution,
  type OrderBook,
  type Quote,
  type Snapshot,
  type Trigger,
} from "../model";
import type { CandleChart, Marker } from "./chart";
import { alignmentBadge, errorPanel, formatValue, paintQuote, periodLabel, skeleton, statusBadge } from "./common";
import { ExecutionsPanel } from "./executions";
import { OrderBookView } from "./orderbook";

export const PERIODS = CHART_PERIODS;
const POLL_SNAPSHOT_MS = 3000;
const POLL_CANDLES_MS = 15000;
/** How often the page asks how far the history fetch got, and for how long at most. */
const HISTORY_POLL_MS = 1500;
const HISTORY_WATCH_MS = 180_000;
/** The most bars one chart holds (the service's limit per request). */
const MAX_BARS = 2000;
/** Price fields a tick brings; a snapshot read while ticks arrive must not move them back. */
const TICK_FIELDS = ["price", "change", "rate", "sign", "open", "high", "low", "volume", "turnover"] as const;

/** The chart's code (lightweight-charts) is its own file, fetched and compiled while the page's requests are
 * on their way instead of before they are sent. */
let ChartClass: typeof CandleChart | null = null;
function loadChart(): Promise<typeof CandleChart> {
  return ChartClass ? Promise.resolve(ChartClass) : import("./chart").then((m) => (ChartClass = m.CandleChart));
}

export function mountStock(root: HTMLElement, code: string, initialPeriod: string | null, triggerId: number | null = null): () => void {
  const chartReady = loadChart();
  let period = initialPeriod && (PERIODS as readonly string[]).includes(initialPeriod) ? initialPeriod : "D";
  let quote: Quote | null = null;
  let book: OrderBook | null = null;
  let alignment: Alignment | null = null;
  let chart: CandleChart | null = null;
  let stored: Trigger[] = [];
  let storedLoaded = false;
  /** The triggers the banner shows (the page's own), newest first. */
  let bannerItems: Trigger[] = [];
  let destroyed = false;
  const feed = new StockFeed(live, code, period);
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let historyTimer: ReturnType<typeof setTimeout> | null = null;
  /** The chart's history is still being fetched by the service (the first answer had the recent bars). */
  let historyLoading = false;
  let lastCandlePoll = 0;
  /** Bars asked for on the shown period (grows when the user scrolls back or a trigger's bar is older). */
  let wanted = 0;
  let loadingOlder = false;
  let lastTickAt = -Infinity;
  /** The KST date of the newest trade the service reported (its snapshot's executions): "today" for a bar. */
  let sessionDay: string | null = null;
  /** The newest live bar of each period (a REST answer older than it is brought up to it). */
  const latestLive = new Map<string, Candle>();
  const cleanups: Array<() => void> = [];
  const started = performance.now();

  // Header
  const nameEl = h("h1", { class: "stock-title" }, code);
  const codeEl = h("span", { class: "code" }, code);
  const marketEl = h("span", { class: "badge market" });
  const statusEl = h("span");
  const alignEl = h("span");
  const priceEl = h("span", { class: "big-price num", "data-testid": "price", "data-value": "" }, "—");
  const changeEl = h("span", { class: "num", "data-testid": "change" });
  const rateEl = h("span", { class: "num", "data-testid": "rate" });
  const limitEl = h("span", { hidden: true });
  const stat = (label: string, testid: string) => {
    const v = h("dd", { class: "num", "data-testid": testid }, "—");
    return { el: h("div", { class: "stat" }, h("dt", null, label), v), v };
  };
  const open = stat(t("open"), "stat-open");
  const high = stat(t("high"), "stat-high");
  const low = stat(t("low"), "stat-low");
  const prevClose = stat(t("prevClose"), "stat-prev-close");
  const upper = stat(t("upperLimit"), "stat-upper");
  const lower = stat(t("lowerLimit"), "stat-lower");
  const w52 = stat(t("w52"), "stat-w52");
  const volume = stat(t("volume"), "stat-volume");
  const turnover = stat(t("turnover"), "stat-turnover");
  const strength = stat(t("strength"), "stat-strength");
  const header = h(
    "header",
    { class: "stock-header" },
    h(
      "div",
      { class: "stock-id" },
      h("a", { href: "/", "data-nav": true, class: "home-button", "data-testid": "home", title: t("home"), "aria-label": t("home") }, "⌂ ", h("span", { class: "home-label" }, t("home"))),
      nameEl,
      codeEl,
      marketEl,
      statusEl,
      alignEl,
    ),
    h("div", { class: "stock-price" }, priceEl, limitEl, changeEl, rateEl),
    h(
      "dl",
      { class: "stock-stats" },
      h("div", { class: "stat-group" }, open.el, high.el, low.el),
      h("div", { class: "stat-group" }, prevClose.el, upper.el, lower.el),
      h("div", { class: "stat-group" }, w52.el, volume.el, turnover.el, strength.el),
    ),
  );

  // The trigger banner
  const banner = h("section", { class: "trigger-banner", "data-testid": "trigger-banner", role: "alert", hidden: true });

  // Chart area
  const periodTabs = h(
    "div",
    { class: "period-tabs", role: "tablist" },
    PERIODS.map((p) =>
      h("button", { type: "button", role: "tab", class: "period-tab", "data-period": p, "aria-selected": String(p === period), onclick: () => void switchPeriod(p) }, periodLabel(p)),
    ),
  );
  const legendValues = new Map<string, HTMLElement>();
  const legendHead = h("span", { class: "legend-bar num" });
  const legend = h(
    "div",
    { class: "ma-legend", "data-testid": "ma-legend" },
    legendHead,
    MA_WINDOWS.map((w) => {
      const v = h("span", { class: "ma-value num", "data-ma": w });
      legendValues.set(w, v);
      return h("span", { class: "ma-key" }, h("i", { style: `background:${MA_COLORS[w]}` }), `MA${w}`, v);
    }),
  );
  const historyNote = h("span", { class: "history-note", hidden: true });
  const chartBox = h("div", { class: "chart-box" }, skeleton("chart-skeleton", 1));
  const chartPanel = h("section", { class: "chart-panel" }, h("div", { class: "chart-toolbar" }, periodTabs, historyNote), legend, chartBox);

  // Side panels
  const bookBox = h("div", { class: "orderbook", "data-testid": "orderbook" }, skeleton("book-skeleton", 12));
  const executions = new ExecutionsPanel();
  const side = h(
    "div",
    { class: "stock-side" },
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", null, t("orderbook"))), bookBox),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", null, t("executions")), executions.legend), executions.el),
  );
  const body = h("div", { class: "stock-body" }, chartPanel, side);
  const page = h("div", { class: "stock-page" }, header, banner, body);
  setChildren(root, page);

  function paintHeader(): void {
    if (!quote) return;
    if (quote.name) {
      setText(nameEl, quote.name);
      document.title = `${quote.name} ${formatMaybe(quote.price)} · kiswatch`;
    }
    setText(marketEl, quote.market);
    marketEl.hidden = !quote.market;
    paintQuote(quote, { price: priceEl, change: changeEl, rate: rateEl, badge: limitEl });
    priceEl.dataset.value = quote.price === null ? "" : String(quote.price);
    const base = quote.basePrice ?? (quote.price !== null && quote.change !== null ? quote.price - quote.change : null);
    const tone = (v: number | null) => (base === null || v === null ? "flat" : direction(v - base));
    for (const [cell, v] of [
      [open, quote.open],
      [high, quote.high],
      [low, quote.low],
      [upper, quote.upperLimit],
      [lower, quote.lowerLimit],
    ] as const) {
      setText(cell.v, formatMaybe(v));
      cell.v.className = `num ${tone(v)}`;
    }
    setText(prevClose.v, formatMaybe(base));
    setText(w52.v, quote.w52High !== null && quote.w52Low !== null ? `${formatKrw(quote.w52High)} / ${formatKrw(quote.w52Low)}` : "—");
    setText(volume.v, formatMaybe(quote.volume));
    setText(turnover.v, formatKoreanAmount(quote.turnover));
    setChildren(statusEl, statusBadge(quote.status));
  }

  function paintStrength(value: number | null): void {
    setText(strength.v, value === null ? "—" : `${value.toFixed(2)}%`);
    strength.v.className = `num ${value === null ? "flat" : value >= 100 ? "up" : "down"}`;
  }

  function paintAlignment(): void {
    setChildren(alignEl, alignmentBadge(alignment, periodLabel(period)));
  }

  let bookView: OrderBookView | null = null;
  function paintBook(): void {
    if (!book) return;
    if (!bookView) {
      bookView = new OrderBookView();
      setChildren(bookBox, bookView.el);
    }
    bookView.update(book, quote);
  }

  /** The legend: the bar under the crosshair, or the newest bar, with its averages. */
  function paintLegend(bar: Candle | null | undefined): void {
    const b = bar ?? chart?.lastBar ?? null;
    if (!b) {
      legendHead.textContent = "";
      for (const v of legendValues.values()) v.textContent = "";
      return;
    }
    const when = /^\d+m$/.test(period) ? formatKstDateTime(b.time).slice(5) : formatKstDate(b.time);
    legendHead.textContent = `${when}  ${t("openShort")} ${formatKrw(b.open)}  ${t("highShort")} ${formatKrw(b.high)}  ${t("lowShort")} ${formatKrw(b.low)}  ${t("closeShort")} ${formatKrw(b.close)}`;
    legendHead.className = `legend-bar num ${b.close >= b.open ? "up" : "down"}`;
    for (const [w, el] of legendValues) {
      const v = b.ma[w];
      el.textContent = typeof v === "number" ? formatValue(Math.round(v * 100) / 100) : "—";
    }
  }

  function applySnapshot(s: Snapshot): void {
    // While ticks arrive they are the newer word on the price; the snapshot brings what ticks lack.
    const next: Partial<Quote> = definedOnly(s.quote);
    if (quote && performance.now() - lastTickAt < 5_000) for (const k of TICK_FIELDS) delete next[k];
    quote = quote ? { ...quote, ...next } : s.quote;
    const newest = s.executions[0] as Execution | undefined; // newest first (`executionsFrom`)
    if (newest) sessionDay = formatKstDate(newest.time);
    // A price from REST (no tick for a while) moves the chart's forming bar too.
    if (next.price != null && newest && chart && chart.shownPeriod === period && chart.followPrice(next.price, newest.time)) paintLegend(null);
    // The WebSocket's status is pushed on every change, so while it is open it is the newer word.
    const pushed = live.connection === "open" ? live.stockStatus(code) : null;
    if (pushed) quote.status = pushed.status;
    book = s.orderbook ?? book;
    paintHeader();
    paintBook();
    executions.merge(s.executions, quote);
    paintStrength(executions.strength);
  }

  /** The chart, made as soon as its code is here (while the candles are still on their way: making it is a
   * good part of the work before a trigger's arrow can be placed), at the size of its box. */
  function ensureChart(): CandleChart {
    if (!chart) {
      if (!ChartClass) throw new Error("the chart's code is not loaded");
      chart = new ChartClass({ width: chartBox.clientWidth, height: chartBox.clientHeight });
      chart.onHover = (bar) => paintLegend(bar);
      chart.onNeedOlder = () => void loadOlder();
      chart.el.classList.add("loading");
      setChildren(chartBox, chart.el);
    } else if (!chartBox.contains(chart.el)) {
      setChildren(chartBox, chart.el);
      chart.fit();
    }
    return chart;
  }
  void chartReady.then(() => {
    if (!destroyed && !chart && chartBox.isConnected && chartBox.querySelector(".chart-skeleton")) ensureChart();
  });

  function applyCandles(set: CandleSet, keepView = false): void {
    const chart = ensureChart();
    chart.setData(period, set.candles, keepView);
    chart.el.classList.remove("loading");
    // Live bars that arrived while the answer was on its way are newer than it.
    const liveBar = latestLive.get(period);
    const last = chart.lastBar;
    if (liveBar && last && newerBar(liveBar, last)) chart.update(liveBar);
    alignment = set.alignment;
    paintAlignment();
    paintLegend(null);
    const hist = set.history;
    historyLoading = historyPending(set.backfill, period);
    historyNote.hidden = !historyLoading && !(hist && hist.have < hist.need);
    if (historyLoading) historyNote.textContent = t("historyLoading");
    else if (hist && hist.have < hist.need) historyNote.textContent = t("maNeeds", { n: hist.need - hist.have });
    drawMarkers();
    if (historyLoading) watchHistory(period, performance.now());
    else if (page.dataset.ready === "true" && !page.dataset.historyMs) noteHistoryDrawn();
  }

  /** For the e2e's figures: when the chart first stood on its whole history. */
  function noteHistoryDrawn(): void {
    page.dataset.historyMs = String(Math.round(performance.now() - started));
  }

  /**
   * While the service still fetches the history behind the chart (a cold stock: the first answer has the
   * recent bars only), asks how far it got — an answer from the service's memory, no upstream call — and
   * draws the candles again once it is there.
   */
  function watchHistory(p: string, since: number): void {
    if (historyTimer) clearTimeout(historyTimer);
    historyTimer = setTimeout(async () => {
      historyTimer = null;
      if (destroyed || p !== period) return;
      try {
        const { backfill } = await api.stock(code);
        if (destroyed || p !== period) return;
        if (!historyPending(backfill, p)) {
          const set = await api.candles(code, p, wanted);
          if (!destroyed && p === period) applyCandles(set, true);
          return;
        }
      } catch {
        // Asked again below; the chart keeps what it has.
      }
      if (performance.now() - since < HISTORY_WATCH_MS) watchHistory(p, since);
    }, HISTORY_POLL_MS);
  }

  /** The user reached the oldest bars: the chart gets more history (the service's limit is 2,000 bars). */
  async function loadOlder(): Promise<void> {
    if (loadingOlder || !chart || wanted >= MAX_BARS || chart.barCount < wanted) return;
    loadingOlder = true;
    const p = period;
    try {
      wanted = Math.min(MAX_BARS, wanted * 2);
      const set = await api.candles(code, p, wanted);
      if (!destroyed && p === period) applyCandles(set, true);
    } catch {
      // The chart keeps what it has; the next scroll asks again.
    } finally {
      loadingOlder = false;
    }
  }

  /** Backtest signals handed over by the conditions page (`?backtest=1`), for the period they ran on. */
  const signals: Marker[] = readBacktestSignals(code);
  const signalPeriod = new URLSearchParams(location.search).get("backtest") === "1" ? initialPeriod : null;

  function drawMarkers(): void {
    if (!chart) return;
    const focus = new Set(bannerItems.map((x) => x.key));
    const own: Marker[] = stored.map((tr) => ({ id: tr.id ?? tr.key, barTime: tr.barTime, focus: focus.has(tr.key) }));
    chart.setMarkers(period === signalPeriod ? [...own, ...signals] : own);
    chart.revealFocused();
    // The trigger's bar is older than the bars shown: ask for enough bars to hold it.
    if (chart.missingMarkers && wanted < MAX_BARS && !loadingOlder) void loadOlder();
  }

  // ---- The banner ----------------------------------------------------------------------------------------
  function paintBanner(): void {
    const items = bannerItems.filter((x) => !x.acked);
    banner.hidden = items.length === 0;
    if (items.length === 0) {
      banner.removeAttribute("data-trigger-id");
      return;
    }
    banner.dataset.triggerId = items[0].id === null ? "" : String(items[0].id);
    banner.dataset.triggerKey = items[0].key;
    banner.dataset.count = String(items.length);
    const row = (tr: Trigger) =>
      h(
        "li",
        { class: "banner-item", "data-trigger-id": tr.id ?? tr.key, "data-trigger-key": tr.key },
        h("span", { class: "badge period" }, periodLabel(tr.period)),
        h("strong", { class: "banner-cond" }, tr.conditionName),
        h("span", { class: "banner-when num" }, formatBarTime(tr.barTime, tr.period)),
        h("span", { class: "banner-price num" }, `${formatKrw(tr.price)}${t("won")}`),
        h(
          "span",
          { class: "banner-values" },
          orderedValues(tr.values).map(([k, v]) => h("span", { class: "value" }, h("span", { class: "value-key" }, k), " ", formatValue(v))),
        ),
        tr.late ? h("span", { class: "badge late" }, t("late")) : null,
      );
    setChildren(
      banner,
      h("div", { class: "banner-icon", "aria-hidden": "true" }, "▲"),
      h("div", { class: "banner-main" }, h("div", { class: "banner-title" }, t("bannerTitle", { n: items.length })), h("ol", { class: "banner-list" }, items.map(row))),
      h("button", { type: "button", class: "primary", "data-testid": "trigger-ack", onclick: () => void acknowledge() }, t("ack")),
    );
  }

  async function acknowledge(): Promise<void> {
    const list = bannerItems.filter((x) => !x.acked).map((x) => ({ ...x }));
    for (const tr of bannerItems) tr.acked = true;
    paintBanner();
    try {
      await triggerCenter.ack(list);
    } catch (err) {
      console.warn("kiswatch: ack failed", err);
    }
  }

  function addToBanner(tr: Trigger): void {
    if (bannerItems.some((x) => x.key === tr.key)) return;
    bannerItems = [tr, ...bannerItems].sort(byNewest);
    paintBanner();
  }

  async function loadTriggers(): Promise<void> {
    try {
      const list = await api.triggers({ code, limit: 200 });
      if (destroyed) return;
      const known = new Set(stored.map((x) => x.key));
      stored = [...stored, ...list.filter((x) => !known.has(x.key))];
      storedLoaded = true;
      if (triggerId !== null) {
        const mine = stored.find((x) => x.id === triggerId) ?? triggerCenter.items.find((x) => x.id === triggerId);
        if (mine) addToBanner({ ...mine });
      }
      drawMarkers();
    } catch (err) {
      console.warn("kiswatch: trigger markers unavailable", err);
    }
  }

  async function load(): Promise<void> {
    setChildren(chartBox, skeleton("chart-skeleton", 1));
    wanted = barsToShow(chartBox);
    // Every request goes out together; each part of the page is drawn as soon as its answer arrives.
    if (!storedLoaded) void loadTriggers();
    let snapshotAt = Infinity;
    let candlesAt = -Infinity;
    const snap = api.snapshot(code).then((s) => {
      snapshotAt = performance.now();
      if (destroyed) return;
      applySnapshot(s);
      page.dataset.snapshotMs = String(Math.round(performance.now() - started));
    });
    const answer = api.candles(code, period, wanted).then((set) => {
      candlesAt = performance.now();
      return set;
    });
    const candles = Promise.all([answer, chartReady]).then(([set]) => {
      if (destroyed) return;
      applyCandles(set);
      page.dataset.candlesMs = String(Math.round(performance.now() - started));
    });
    try {
      await Promise.all([snap, candles]);
      if (destroyed) return;
      if (candlesAt > snapshotAt && lastTickAt < snapshotAt) headerFromChart();
      page.dataset.renderMs = String(Math.round(performance.now() - started));
      page.dataset.ready = "true";
      // The other windows wait until this one is on screen: its chart (and a trigger's arrow) is painted in
      // the next frame, and their catch-up work would otherwise land in that very frame.
      afterNextPaint(() => windows.opened());
      if (!historyLoading) noteHistoryDrawn();
      schedulePoll();
    } catch (err) {
      if (destroyed) return;
      // Wait for the other request too, so a retry never overlaps it.
      await Promise.allSettled([snap, candles]);
      windows.opened();
      showError(err, () => void load());
    }
  }

  /**
   * The header and the chart's forming bar show one price. Ticks move both (`followPrice`); a REST answer
   * moves one of them, and then brings the other along: candles answered after the last tick (a page's start,
   * a period switch, a refresh) closed their newest bar of the session at a price newer than the header's,
   * and the header shows it until the next tick.
   */
  function headerFromChart(): void {
    const last = chart?.lastBar;
    if (!quote || !last || sessionDay === null || last.close === quote.price || formatKstDate(last.time) !== sessionDay) return;
    quote = { ...quote, ...priceFields(last.close, quote) };
    paintHeader();
  }

  function showError(err: unknown, retry: () => void): void {
    page.dataset.ready = "error";
    setChildren(chartBox, errorPanel(err, retry));
  }

  async function switchPeriod(p: string): Promise<void> {
    if (p === period && chart) return;
    period = p;
    for (const b of periodTabs.querySelectorAll<HTMLElement>(".period-tab")) b.setAttribute("aria-selected", String(b.dataset.period === p));
    const url = new URL(location.href);
    url.searchParams.set("period", p);
    history.replaceState(null, "", url.pathname + url.search);
    feed.setPeriod(p);
    paintAlignment();
    if (chart) chart.el.classList.add("loading");
    wanted = barsToShow(chartBox);
    const asked = performance.now();
    try {
      const [set] = await Promise.all([api.candles(code, p, wanted), chartReady]);
      if (destroyed || p !== period) return;
      applyCandles(set);
      if (lastTickAt < asked) headerFromChart();
      chart?.el.classList.remove("loading");
    } catch (err) {
      if (destroyed || p !== period) return;
      showError(err, () => {
        period = "";
        void switchPeriod(p);
      });
    }
  }

  /** One request at a time, only while the WebSocket brings nothing for this stock. */
  function schedulePoll(): void {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = setTimeout(() => void poll(), POLL_SNAPSHOT_MS);
  }

  async function poll(): Promise<void> {
    if (destroyed) return;
    const now = performance.now();
    try {
      if (feed.needsSnapshotPoll) applySnapshot(await api.snapshot(code));
      // A trigger's bar not drawn yet (no live bar of this period came) is fetched at once rather than in 15 s.
      const due = (chart?.pendingMarkers && feed.needsCandlePoll) || (feed.needsCandlePoll && now - lastCandlePoll > POLL_CANDLES_MS);
      if (chart && due) {
        lastCandlePoll = now;
        const p = period;
        const asked = performance.now();
        const set = await api.candles(code, p, 3);
        if (!destroyed && p === period && chart) {
          const last = chart.lastBar;
          const first = set.candles[0];
          if (last && first && first.time > last.time) {
            // Bars were missed between the refreshes: load them all.
            const full = await api.candles(code, p, wanted);
            if (!destroyed && p === period) applyCandles(full, true);
          } else {
            // A live bar that came while the answer was on its way is newer than the answer's.
            const liveBar = latestLive.get(p);
            for (const c of set.candles) chart.update(liveBar && liveBar.time === c.time && newerBar(liveBar, c) ? liveBar : c);
            drawMarkers();
          }
          if (lastTickAt < asked) headerFromChart();
          if (set.alignment !== alignment) {
            alignment = set.alignment;
            paintAlignment();
          }
        }
      }
    } catch {
      // A failed refresh keeps what is shown; the status line tells about the upstream.
    }
    if (!destroyed) schedulePoll();
  }

  cleanups.push(
    live.on("tick", (msg) => {
      if (msg.code !== code) return;
      lastTickAt = performance.now();
      const tick = quoteFromTick(msg);
      quote = quote ? { ...quote, ...definedOnly(tick) } : tick;
      paintHeader();
      // The chart's forming bar shows the header's price from the same trade (its `candle` may come a frame later).
      if (chart && chart.shownPeriod === period && chart.followPrice(msg.price, msg.time)) paintLegend(null);
    }),
    live.on("orderbook", (msg) => {
      if (msg.code !== code) return;
      book = orderBookFrom(msg) ?? book;
      paintBook();
    }),
    live.on("executions", (batch) => {
      const list = executionsFrom(batch.filter((msg) => msg.code === code).flatMap((msg) => msg.executions));
      if (list.length) {
        executions.merge(list, quote);
        paintStrength(executions.strength);
      }
    }),
    live.on("candle", (msg) => {
      if (msg.code !== code) return;
      const bar = candleFrom(msg.candle);
      const known = latestLive.get(msg.period);
      if (!known || newerBar(bar, known)) latestLive.set(msg.period, bar);
      // Only onto a chart holding this period's bars (a switch keeps the old ones until the new arrive).
      if (msg.period !== period || !chart || chart.shownPeriod !== period) return;
      feed.noteCandle(period);
      const appended = chart.lastBar?.time !== msg.candle.time;
      chart.update(bar);
      paintLegend(null);
      if (appended || chart.pendingMarkers) drawMarkers();
    }),
    live.on("status", (update) => {
      const entry = update.stocks.find((e) => e.code === code);
      if (!entry || !quote || quote.status === entry.status) return;
      quote.status = entry.status;
      paintHeader();
    }),
    triggerCenter.onNew((tr) => {
      if (tr.code !== code) return;
      if (!stored.some((x) => x.key === tr.key)) stored = [...stored, tr];
      addToBanner({ ...tr });
      drawMarkers();
    }),
    triggerCenter.changed.on(() => {
      // Acknowledged elsewhere (the watchlist's 확인): the banner follows. A trigger shown before the store
      // wrote it gets its id when its stored copy arrives.
      let changed = false;
      let ids = false;
      for (const item of bannerItems) {
        const known = triggerCenter.items.find((x) => x.key === item.key);
        if (known?.acked && !item.acked) {
          item.acked = true;
          changed = true;
        }
        if (known && item.id === null && known.id !== null) {
          item.id = known.id;
          changed = ids = true;
        }
      }
      for (const [i, item] of stored.entries()) {
        const known = item.id === null ? triggerCenter.items.find((x) => x.key === item.key && x.id !== null) : undefined;
        if (known) {
          stored[i] = { ...item, id: known.id };
          ids = true;
        }
      }
      if (changed) paintBanner();
      if (ids) drawMarkers();
    }),
  );

  paintAlignment();
  paintStrength(null);
  void load();

  return () => {
    destroyed = true;
    if (pollTimer) clearTimeout(pollTimer);
    if (historyTimer) clearTimeout(historyTimer);
    for (const c of cleanups) c();
    feed.close();
    chart?.destroy();
    executions.destroy();
    document.title = "kiswatch";
  };
}

/** The bars to ask for first (see `firstBars`). */
export function barsToShow(box: HTMLElement): number {
  // The box's width from the window's, without asking for a layout (that would hold the page's first
  // requests back until the whole page is laid out); `readyState` first: reading `clientWidth` of a page
  // still loading is the layout this avoids.
  const viewport = typeof window === "undefined" ? 1280 : window.innerWidth;
  const laidOut = document.readyState === "complete" && box.isConnected && box.clientWidth > 0;
  return firstBars(viewport, laidOut ? box.clientWidth : undefined);
}

export const BACKTEST_KEY = "kiswatch.backtest";

function readBacktestSignals(code: string): Marker[] {
  if (new URLSearchParams(location.search).get("backtest") !== "1") return [];
  try {
    const saved = JSON.parse(sessionStorage.getItem(BACKTEST_KEY) ?? "null") as { code?: string; times?: unknown } | null;
    if (!saved || saved.code !== code || !Array.isArray(saved.times)) return [];
    return saved.times.filter((x): x is string => typeof x === "string").map((barTime, i) => ({ id: -1 - i, barTime, kind: "signal" as const }));
  } catch {
    return [];
  }
}

/** Whether live bar `a` is newer than `b`: a later bar, or the same bar further on (its volume only grows). */
function newerBar(a: Candle, b: Candle): boolean {
  return a.time > b.time || (a.time === b.time && a.volume > b.volume);
}

/** Runs `then` once the next frame has been painted (a task queued from its animation frame runs after it). */
function afterNextPaint(then: () => void): void {
  requestAnimationFrame(() => setTimeout(then, 0));
}

function definedOnly(q: Quote): Partial<Quote> {
  const out: Partial<Quote> = {};
  for (const [k, v] of Object.entries(q)) if (v !== null && v !== "") (out as Record<string, unknown>)[k] = v;
  return out;
}
