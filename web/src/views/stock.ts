// The stock page: header, candle chart with period switch, order book and executions, all kept live over the
// page's one WebSocket. Opening it costs one `/snapshot` and one `/candles` request (and a read of this stock's
// stored triggers, which never reaches KIS); a failure shows an error panel with 재시도 instead of a blank
// chart.
//
// Drawing is progressive: the header and the order book as soon as the snapshot answers, the chart as soon as
// the candles do (each request alone; the slower one never holds the other back). The candles asked for are
// the bars the chart shows at its width (`barsToShow`), not the whole history: on a 2 requests/s account every
// extra page of history is another half second before the chart appears.
//
// Live data comes over the one WebSocket (`StockFeed`: tick, order book, executions and the shown period's
// candle). While the service sends nothing live for this stock (a polled stock, or a service without the
// realtime hub), the page refreshes itself with one snapshot every few seconds and the last bars now and
// then — one request at a time, never a burst.

import { api } from "../api";
import { live, triggers as triggerCenter } from "../app";
import { StockFeed } from "../feed";
import { h, setChildren, setText } from "../dom";
import { formatKoreanAmount, formatMaybe } from "../format";
import { lang, t } from "../i18n";
import {
  candleFrom,
  executionsFrom,
  historyPending,
  orderBookFrom,
  quoteFromTick,
  type Alignment,
  type CandleSet,
  type OrderBook,
  type Quote,
  type Snapshot,
} from "../model";
import { CandleChart, MA_COLORS, MA_WINDOWS, type Marker } from "./chart";
import { alignmentBadge, errorPanel, paintQuote, skeleton, statusBadge } from "./common";
import { ExecutionsPanel } from "./executions";
import { renderOrderBook } from "./orderbook";

export const PERIODS = ["1m", "5m", "30m", "60m", "D", "W", "M"] as const;
const PERIOD_LABEL_KO: Record<string, string> = { "1m": "1분", "5m": "5분", "30m": "30분", "60m": "60분", D: "일", W: "주", M: "월" };
function periodLabel(p: string): string {
  return lang() === "en" ? p : (PERIOD_LABEL_KO[p] ?? p);
}
const POLL_SNAPSHOT_MS = 3000;
const POLL_CANDLES_MS = 15000;
/** How often the page asks how far the history fetch got, and for how long at most. */
const HISTORY_POLL_MS = 1500;
const HISTORY_WATCH_MS = 180_000;

export function mountStock(root: HTMLElement, code: string, initialPeriod: string | null): () => void {
  let period = initialPeriod && (PERIODS as readonly string[]).includes(initialPeriod) ? initialPeriod : "D";
  let quote: Quote | null = null;
  let book: OrderBook | null = null;
  let alignment: Alignment | null = null;
  let chart: CandleChart | null = null;
  let markers: Marker[] = [];
  let destroyed = false;
  const feed = new StockFeed(live, code, period);
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let historyTimer: ReturnType<typeof setTimeout> | null = null;
  /** The chart's history is still being fetched by the service (the first answer had the recent bars). */
  let historyLoading = false;
  let lastCandlePoll = 0;
  const cleanups: Array<() => void> = [];
  const started = performance.now();

  // Header
  const nameEl = h("h1", { class: "stock-title" }, code);
  const codeEl = h("span", { class: "code" }, code);
  const marketEl = h("span", { class: "badge market" });
  const statusEl = h("span");
  const alignEl = h("span");
  const priceEl = h("span", { class: "big-price num" }, "—");
  const changeEl = h("span", { class: "num" });
  const rateEl = h("span", { class: "num" });
  const limitEl = h("span", { hidden: true });
  const stat = (label: string) => {
    const v = h("dd", { class: "num" }, "—");
    return { el: h("div", { class: "stat" }, h("dt", null, label), v), v };
  };
  const open = stat(t("open"));
  const high = stat(t("high"));
  const low = stat(t("low"));
  const volume = stat(t("volume"));
  const turnover = stat(t("turnover"));
  const header = h(
    "header",
    { class: "stock-header" },
    h(
      "div",
      { class: "stock-id" },
      h("a", { href: "/", "data-nav": true, class: "home-button", "data-testid": "home", title: t("home"), "aria-label": t("home") }, "⌂ ", t("home")),
      nameEl,
      codeEl,
      marketEl,
      statusEl,
      alignEl,
    ),
    h("div", { class: "stock-price" }, priceEl, limitEl, changeEl, rateEl),
    h("dl", { class: "stock-stats" }, open.el, high.el, low.el, volume.el, turnover.el),
  );

  // Chart area
  const periodTabs = h(
    "div",
    { class: "period-tabs", role: "tablist" },
    PERIODS.map((p) =>
      h("button", { type: "button", role: "tab", class: "period-tab", "data-period": p, "aria-selected": String(p === period), onclick: () => switchPeriod(p) }, periodLabel(p)),
    ),
  );
  const legend = h(
    "div",
    { class: "ma-legend" },
    MA_WINDOWS.map((w) => h("span", { class: "ma-key" }, h("i", { style: `background:${MA_COLORS[w]}` }), `MA${w}`)),
  );
  const historyNote = h("span", { class: "history-note", hidden: true });
  const chartBox = h("div", { class: "chart-box" }, skeleton("chart-skeleton", 1));
  const chartPanel = h("section", { class: "chart-panel" }, h("div", { class: "chart-toolbar" }, periodTabs, legend, historyNote), chartBox);

  // Side panels
  const bookBox = h("div", { class: "orderbook", "data-testid": "orderbook" }, skeleton("book-skeleton", 12));
  const executions = new ExecutionsPanel();
  const side = h(
    "div",
    { class: "stock-side" },
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", null, t("orderbook"))), bookBox),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", null, t("executions"))), executions.el),
  );
  const body = h("div", { class: "stock-body" }, chartPanel, side);
  const page = h("div", { class: "stock-page" }, header, body);
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
    const base = quote.price !== null && quote.change !== null ? quote.price - quote.change : null;
    for (const [cell, v] of [
      [open, quote.open],
      [high, quote.high],
      [low, quote.low],
    ] as const) {
      setText(cell.v, formatMaybe(v));
      cell.v.className = `num ${base === null || v === null ? "flat" : v > base ? "up" : v < base ? "down" : "flat"}`;
    }
    setText(volume.v, formatMaybe(quote.volume));
    setText(turnover.v, formatKoreanAmount(quote.turnover));
    setChildren(statusEl, statusBadge(quote.status));
  }

  function paintAlignment(): void {
    setChildren(alignEl, alignmentBadge(alignment, periodLabel(period)));
  }

  function paintBook(): void {
    if (book) setChildren(bookBox, renderOrderBook(book, quote));
  }

  function applySnapshot(s: Snapshot): void {
    quote = quote ? { ...quote, ...definedOnly(s.quote) } : s.quote;
    // The WebSocket's status is pushed on every change, so while it is open it is the newer word.
    const pushed = live.connection === "open" ? live.stockStatus(code) : null;
    if (pushed) quote.status = pushed.status;
    book = s.orderbook ?? book;
    paintHeader();
    paintBook();
    executions.merge(s.executions, quote);
  }

  function applyCandles(set: CandleSet, keepView = false): void {
    if (!chart) {
      chart = new CandleChart();
      setChildren(chartBox, chart.el);
    } else if (!chartBox.contains(chart.el)) {
      setChildren(chartBox, chart.el);
    }
    chart.setData(period, set.candles, keepView);
    alignment = set.alignment;
    paintAlignment();
    const h = set.history;
    historyLoading = historyPending(set.backfill, period);
    historyNote.hidden = !historyLoading && !(h && h.have < h.need);
    if (historyLoading) historyNote.textContent = t("historyLoading");
    else if (h && h.have < h.need) historyNote.textContent = t("maNeeds", { n: h.need - h.have });
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
          const set = await api.candles(code, p, barsToShow(chartBox));
          if (!destroyed && p === period) applyCandles(set, true);
          return;
        }
      } catch {
        // Asked again below; the chart keeps what it has.
      }
      if (performance.now() - since < HISTORY_WATCH_MS) watchHistory(p, since);
    }, HISTORY_POLL_MS);
  }

  /** Backtest signals handed over by the conditions page (`?backtest=1`), for the period they ran on. */
  const signals: Marker[] = readBacktestSignals(code);
  const signalPeriod = new URLSearchParams(location.search).get("backtest") === "1" ? initialPeriod : null;

  function drawMarkers(): void {
    const own = markers.filter((m) => markerPeriod.get(m.id) === period);
    chart?.setMarkers(period === signalPeriod ? [...own, ...signals] : own);
  }

  const markerPeriod = new Map<number, string>();

  async function loadMarkers(): Promise<void> {
    try {
      const list = await api.triggers({ code, limit: 200 });
      if (destroyed) return;
      markers = list.map((tr) => {
        markerPeriod.set(tr.id, tr.period);
        return { id: tr.id, barTime: tr.barTime };
      });
      drawMarkers();
    } catch (err) {
      console.warn("kiswatch: trigger markers unavailable", err);
    }
  }

  async function load(): Promise<void> {
    setChildren(chartBox, skeleton("chart-skeleton", 1));
    // Both requests go out together; each part of the page is drawn as soon as its answer arrives.
    const snap = api.snapshot(code).then((s) => {
      if (destroyed) return;
      applySnapshot(s);
      page.dataset.snapshotMs = String(Math.round(performance.now() - started));
    });
    const candles = api.candles(code, period, barsToShow(chartBox)).then((set) => {
      if (destroyed) return;
      applyCandles(set);
      page.dataset.candlesMs = String(Math.round(performance.now() - started));
    });
    try {
      await Promise.all([snap, candles]);
      if (destroyed) return;
      page.dataset.renderMs = String(Math.round(performance.now() - started));
      page.dataset.ready = "true";
      if (!historyLoading) noteHistoryDrawn();
      void loadMarkers();
      schedulePoll();
    } catch (err) {
      if (destroyed) return;
      // Wait for the other request too, so a retry never overlaps it.
      await Promise.allSettled([snap, candles]);
      showError(err, () => void load());
    }
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
    if (chart) chart.el.classList.add("loading");
    try {
      const set = await api.candles(code, p, barsToShow(chartBox));
      if (destroyed || p !== period) return;
      applyCandles(set);
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
      // A trigger's bar not drawn yet (it fired on the forming bar) is fetched at once rather than in 15 s.
      const due = chart?.pendingMarkers || (feed.needsCandlePoll && now - lastCandlePoll > POLL_CANDLES_MS);
      if (chart && due) {
        lastCandlePoll = now;
        const p = period;
        const set = await api.candles(code, p, 3);
        if (!destroyed && p === period) {
          const last = chart.lastBar;
          const first = set.candles[0];
          if (last && first && first.time > last.time) {
            // Bars were missed between the refreshes (the service's candles come in steps): load them all.
            const full = await api.candles(code, p, barsToShow(chartBox));
            if (!destroyed && p === period) applyCandles(full, true);
          } else {
            for (const c of set.candles) chart.update(c);
          }
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
      const tick = quoteFromTick(msg);
      quote = quote ? { ...quote, ...definedOnly(tick) } : tick;
      paintHeader();
    }),
    live.on("orderbook", (msg) => {
      if (msg.code !== code) return;
      book = orderBookFrom(msg) ?? book;
      paintBook();
    }),
    live.on("executions", (batch) => {
      const list = executionsFrom(batch.filter((msg) => msg.code === code).flatMap((msg) => msg.executions));
      if (list.length) executions.merge(list, quote);
    }),
    live.on("candle", (msg) => {
      if (msg.code !== code || msg.period !== period || !chart) return;
      feed.noteCandle(period);
      chart.update(candleFrom(msg.candle));
    }),
    live.on("status", (update) => {
      const entry = update.stocks.find((e) => e.code === code);
      if (!entry || !quote || quote.status === entry.status) return;
      quote.status = entry.status;
      paintHeader();
    }),
    triggerCenter.onNew((tr) => {
      if (tr.code !== code) return;
      markerPeriod.set(tr.id, tr.period);
      markers = [...markers, { id: tr.id, barTime: tr.barTime }];
      drawMarkers();
    }),
  );

  paintAlignment();
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

/**
 * The bars the chart shows at its width (the library's default spacing is 6 px a bar), with a margin for a
 * little scrolling back; history beyond that is not worth a slower first draw.
 */
export function barsToShow(box: HTMLElement): number {
  const width = box.clientWidth || 800;
  return Math.min(400, Math.max(60, Math.ceil(width / 6) + 20));
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

function definedOnly(q: Quote): Partial<Quote> {
  const out: Partial<Quote> = {};
  for (const [k, v] of Object.entries(q)) if (v !== null && v !== "") (out as Record<string, unknown>)[k] = v;
  return out;
}

