// The candle chart: lightweight-charts 5 with Korean colours, MA20/60/120/240 as unlabeled lines, a volume
// pane, and trigger arrows as a DOM overlay.
//
// * Colours are set explicitly (up red, down blue) for candles and volume bars: the library's defaults are
//   green-up.
// * Each average is a `LineSeries` with its price line, last-value label, crosshair marker and title turned
//   off, so no MA text is drawn on the canvas; the legend outside the canvas names the colours and, under the
//   crosshair, their values (`onHover`).
// * Bar times are shifted to KST (`chartTime`) because the library shows timestamps as UTC.
// * The chart opens at the newest bar. A chart is often given its data before its box has its final size
//   (the page lays itself out around it), and the library then keeps a right edge computed for the wrong
//   width: the newest bars end up under the price axis. So the chart scrolls to the newest bar again after
//   every resize while it is "following" — until the user scrolls back into history (wheel, drag, keys on the
//   chart); it follows again once the user brings the newest bar back into view. New bars keep a following
//   chart at the right edge and leave a scrolled one where it is.
// * Trigger arrows are DOM elements placed with the time scale's coordinates and re-placed on every scroll,
//   zoom, resize and data change. A canvas marker cannot blink; a DOM arrow blinks with CSS and can be counted
//   by a test (`data-markers` on the chart element). An arrow sits under the bar *containing* its trigger's bar
//   on every period (a 1-minute trigger points at its 30-minute or daily bar too).
//
// Test hooks on the chart element (`data-testid=chart`), updated on every change: `data-last-time` (the newest
// bar's time exactly as the API's `candles[].time`), `data-last-close` (its close), `data-visible-last-time`
// (the newest bar inside the visible plot), `data-following`, `data-markers`, `data-period`, `data-bars`.

import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type Logical,
  type MouseEventParams,
  type Time,
  TickMarkType,
  type UTCTimestamp,
} from "lightweight-charts";
import { h } from "../dom";
import { chartTime, formatBarTime, formatKrw, fromChartTime } from "../format";
import { fillAverages, MA_COLORS, MA_WINDOWS, type Candle } from "../model";

export { MA_COLORS, MA_WINDOWS };

export const UP = "#e0313b";
export const DOWN = "#1f5fd6";

export interface Marker {
  /** The trigger's id, or its key while it is not stored yet. */
  id: number | string;
  /** RFC 3339 start of the bar that fired (of the trigger's own period). */
  barTime: string;
  /** A trigger (blinking, counted in `data-markers`) or a backtest signal (steady). */
  kind?: "trigger" | "signal";
  /** The trigger the page is about (its banner): preferred when two share a bar, and kept in view. */
  focus?: boolean;
}

/** The step between arrows of triggers sharing a bar. */
const STACK_PX = 13;

const INTRADAY_SECS: Record<string, number> = { "1m": 60, "3m": 180, "5m": 300, "10m": 600, "15m": 900, "30m": 1800, "60m": 3600 };

/** Bars between the newest bar and the price axis when the chart shows the newest bar. */
const RIGHT_OFFSET = 4;

/** How long after a wheel, drag or key on the chart a scroll counts as the user's. */
const GESTURE_MS = 1_500;

/** Where a marker's bar is on the chart. */
export type Placement = { index: number } | { pending: true } | { missing: true };

/**
 * The bar of `times` (bar starts, ascending, chart seconds) containing `t`: the last start at or before it, on
 * the same day for an intraday period and no further than one bar length; `pending` when `t` is past the
 * newest bar (the bar is still to come), `missing` when it is older than the chart's data or in a gap.
 */
export function placeIn(times: readonly number[], t: number, period: string): Placement {
  let lo = 0;
  let hi = times.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const last = times.length - 1;
  if (found < 0) return { missing: true };
  const span = INTRADAY_SECS[period];
  if (span !== undefined) {
    const sameDay = Math.floor(times[found] / 86_400) === Math.floor(t / 86_400);
    if (sameDay && t < times[found] + span) return { index: found };
    return found === last ? { pending: true } : { missing: true };
  }
  if (period === "D") {
    if (Math.floor(times[found] / 86_400) === Math.floor(t / 86_400)) return { index: found };
    return found === last ? { pending: true } : { missing: true };
  }
  // W, M: the bar holding every session from its start to the next bar's.
  return { index: found };
}

export class CandleChart {
  readonly el: HTMLElement;
  private readonly canvasHost: HTMLElement;
  private readonly overlay: HTMLElement;
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<"Candlestick">;
  private readonly volume: ISeriesApi<"Histogram">;
  private readonly mas = new Map<string, ISeriesApi<"Line">>();
  private bars: Candle[] = [];
  private times: number[] = [];
  private markers: Marker[] = [];
  private readonly resize: ResizeObserver;
  private period = "";
  private following = true;
  private gestureAt = -Infinity;
  private frame = 0;
  private refreshFrame = 0;
  /** The arrow elements on the overlay, by marker (kept between placements: only their position changes, so
   * a live chart does not rebuild them, and restart their blinking, on every frame). */
  private arrows = new Map<string, HTMLElement>();
  /** Whether a marker waits for a bar the chart does not have yet. */
  pendingMarkers = false;
  /** Whether a marker's bar is older than the chart's data (the page may load more). */
  missingMarkers = false;
  /** The bar under the crosshair (`null`: none; the legend then shows the newest bar). */
  onHover: ((bar: Candle | null) => void) | null = null;
  /** The user scrolled to the oldest bars: the page may load older history. */
  onNeedOlder: (() => void) | null = null;

  /** `size`: the box the chart will be put in, when the caller knows it (the chart's first paint then has
   * its real size; `fit` otherwise). */
  constructor(size?: { width: number; height: number }) {
    this.canvasHost = h("div", { class: "chart-canvas" });
    this.overlay = h("div", { class: "chart-overlay", "aria-hidden": "true" });
    this.el = h(
      "div",
      { class: "chart", "data-testid": "chart", "data-markers": "0", "data-last-time": "", "data-last-close": "", "data-visible-last-time": "", "data-following": "true" },
      this.canvasHost,
      this.overlay,
    );
    // Sized by hand (`fit`, and the resize observer below), not by `autoSize`: the library's own observer
    // reports the size a frame late, and a trigger's page must place its arrow as soon as it has bars.
    this.chart = createChart(this.canvasHost, {
      autoSize: false,
      width: size?.width,
      height: size?.height,
      layout: {
        background: { type: ColorType.Solid, color: "#ffffff" },
        textColor: "#343a40",
        fontFamily: "'Pretendard Variable', Pretendard, system-ui, sans-serif",
        fontSize: 11,
        attributionLogo: false,
        panes: { separatorColor: "#dee2e6", enableResize: false },
      },
      grid: { vertLines: { color: "#f1f3f5" }, horzLines: { color: "#f1f3f5" } },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { borderColor: "#dee2e6" },
      // The library's own time labels build a `Date` and an `Intl` formatter for every label on every paint;
      // chart times are KST wall-clock seconds, so the labels are plain arithmetic.
      timeScale: {
        borderColor: "#dee2e6",
        rightOffset: RIGHT_OFFSET,
        secondsVisible: false,
        shiftVisibleRangeOnNewBar: true,
        tickMarkFormatter: (t: Time, kind: TickMarkType) => tickLabel(t as number, kind),
      },
      localization: {
        locale: "ko-KR",
        priceFormatter: (p: number) => formatKrw(Math.round(p)),
        timeFormatter: (t: Time) => formatBarTime(fromChartTime(t as number), this.period),
      },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderUpColor: UP,
      borderDownColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
      priceFormat: { type: "price", precision: 0, minMove: 1 },
    });
    for (const w of MA_WINDOWS) {
      this.mas.set(
        w,
        this.chart.addSeries(LineSeries, {
          color: MA_COLORS[w],
          lineWidth: 1,
          lastValueVisible: false,
          priceLineVisible: false,
          crosshairMarkerVisible: false,
          title: "",
        }),
      );
    }
    this.volume = this.chart.addSeries(
      HistogramSeries,
      { priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false },
      1,
    );
    // Candles get four fifths of the height, volume the rest.
    this.chart.panes()[0]?.setStretchFactor(4);
    this.chart.panes()[1]?.setStretchFactor(1);
    this.chart.timeScale().subscribeVisibleLogicalRangeChange(() => this.onRangeChange());
    this.chart.subscribeCrosshairMove((p: MouseEventParams<Time>) => this.onCrosshair(p));
    // A gesture on the chart makes the scrolls that follow the user's.
    const gesture = () => {
      this.gestureAt = performance.now();
    };
    for (const type of ["wheel", "pointerdown", "touchstart", "keydown"]) this.canvasHost.addEventListener(type, gesture, { passive: true });
    // The box got its real size (or a new one): a following chart goes back to the newest bar.
    this.resize = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1]?.contentRect;
      if (box) this.sizeTo(box.width, box.height);
      this.afterLayout();
    });
    this.resize.observe(this.canvasHost);
  }

  /** Takes the size of the box the chart was put in (call once it is in the page). */
  fit(): void {
    this.sizeTo(this.canvasHost.clientWidth, this.canvasHost.clientHeight);
  }

  private sizeTo(width: number, height: number): void {
    const w = Math.floor(width);
    const hgt = Math.floor(height);
    if (w <= 0 || hgt <= 0) return;
    const now = this.chart.options();
    if (now.width === w && now.height === hgt) return;
    // Painted with the next frame, not at once: a forced paint here drew the chart twice on a page's start
    // (once empty), and each paint sizes every canvas with a forced layout.
    this.chart.resize(w, hgt);
  }

  /** After a resize: the library has its new width on the next frame. */
  private afterLayout(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => {
      if (this.following && this.times.length > 0 && this.chart.timeScale().width() > 0) this.toNewest();
      this.refresh();
    });
  }

  /** Shows the newest bar at the right edge, at once (`scrollToRealTime` animates). */
  private toNewest(): void {
    this.chart.timeScale().scrollToPosition(RIGHT_OFFSET, false);
  }

  private onRangeChange(): void {
    // Only the user's own scrolling decides whether the chart follows the newest bar.
    if (performance.now() - this.gestureAt < GESTURE_MS) {
      this.following = this.newestVisible();
      const range = this.chart.timeScale().getVisibleLogicalRange();
      if (range && range.from < 3 && this.times.length > 0) this.onNeedOlder?.();
    }
    this.refresh();
  }

  private onCrosshair(p: MouseEventParams<Time>): void {
    if (!this.onHover) return;
    if (p.time === undefined || p.point === undefined) {
      this.onHover(null);
      return;
    }
    const i = this.times.indexOf(p.time as number);
    this.onHover(i >= 0 ? this.bars[i] : null);
  }

  /** Whether the newest bar is inside the visible plot. */
  private newestVisible(): boolean {
    return this.visibleLastIndex() === this.times.length - 1 && this.times.length > 0;
  }

  /** The index of the newest bar whose centre is inside the plot, or -1. */
  private visibleLastIndex(): number {
    const ts = this.chart.timeScale();
    const range = ts.getVisibleLogicalRange();
    const width = ts.width();
    if (!range || width <= 0 || this.times.length === 0) return -1;
    let i = Math.min(this.times.length - 1, Math.floor(range.to));
    for (; i >= 0 && i >= Math.floor(range.from); i--) {
      const x = ts.logicalToCoordinate(i as Logical);
      if (x === null) return -1;
      if (x <= width && x >= 0) return i;
    }
    return -1;
  }

  /** Replaces the data (a page open, a period switch, or a refresh with `keepView`). */
  setData(period: string, bars: Candle[], keepView = false): void {
    const samePeriod = period === this.period;
    this.period = period;
    const oldFirst = this.times[0];
    const oldRange = this.chart.timeScale().getVisibleLogicalRange();
    // A refresh keeps the user's place in history; a new page or period shows the newest bar.
    if (!keepView || !samePeriod || this.times.length === 0) this.following = true;
    this.chart.applyOptions({ timeScale: { timeVisible: INTRADAY_SECS[period] !== undefined } });
    this.bars = bars.slice();
    this.times = bars.map((b) => chartTime(b.time));
    const t = (i: number) => this.times[i] as UTCTimestamp;
    this.candles.setData(bars.map((b, i) => ({ time: t(i), open: b.open, high: b.high, low: b.low, close: b.close })));
    this.volume.setData(bars.map((b, i) => ({ time: t(i), value: b.volume, color: volumeColor(b) })));
    for (const [w, series] of this.mas) {
      series.setData(
        bars.map((b, i) => {
          const v = b.ma[w];
          return typeof v === "number" ? { time: t(i), value: v } : { time: t(i) };
        }),
      );
    }
    if (this.following) this.toNewest();
    else if (oldRange && oldFirst !== undefined) {
      // Older bars were put in front: keep the same bars on screen.
      const added = this.times.indexOf(oldFirst);
      if (added > 0) this.chart.timeScale().setVisibleLogicalRange({ from: oldRange.from + added, to: oldRange.to + added });
    }
    this.el.dataset.period = period;
    this.el.dataset.bars = String(bars.length);
    this.refresh();
    this.afterLayout();
  }

  /**
   * Updates the forming bar (or appends the next one) without redrawing the rest. A live bar (the WebSocket's
   * `candle`) carries no averages: they are computed here from the closes the chart holds (see `fillAverages`).
   */
  update(input: Candle): void {
    const time = chartTime(input.time);
    const last = this.times[this.times.length - 1];
    if (last !== undefined && time < last) return; // older than what is shown: ignore
    const bar = fillAverages(input, this.bars, last === time);
    const ts = time as UTCTimestamp;
    this.candles.update({ time: ts, open: bar.open, high: bar.high, low: bar.low, close: bar.close });
    this.volume.update({ time: ts, value: bar.volume, color: volumeColor(bar) });
    for (const [w, series] of this.mas) {
      const v = bar.ma[w];
      series.update(typeof v === "number" ? { time: ts, value: v } : { time: ts });
    }
    if (last === time) this.bars[this.bars.length - 1] = bar;
    else {
      this.bars.push(bar);
      this.times.push(time);
      this.el.dataset.bars = String(this.bars.length);
      // A chart showing the newest bar keeps showing it (a trigger's arrow sits under it); one scrolled
      // back into history stays where the user put it.
      if (this.following) this.toNewest();
    }
    this.refresh();
  }

  /**
   * A trade's price onto the newest bar when the trade falls in it: the header's `tick` and the bar's `candle`
   * are two messages, and a frame (or another window's opening) between them must not show two prices. The
   * `candle` that follows brings the bar's volume and replaces it. Whether the bar moved.
   */
  followPrice(price: number, time: string): boolean {
    const last = this.bars[this.bars.length - 1];
    if (!last || last.close === price) return false;
    if (!("index" in placeIn([this.times[this.times.length - 1]], chartTime(time), this.period))) return false;
    this.update({ ...last, close: price, high: Math.max(last.high, price), low: Math.min(last.low, price) });
    return true;
  }

  /** The period of the bars the chart holds. */
  get shownPeriod(): string {
    return this.period;
  }

  get lastBar(): Candle | undefined {
    return this.bars[this.bars.length - 1];
  }

  get barCount(): number {
    return this.bars.length;
  }

  setMarkers(markers: Marker[]): void {
    this.markers = markers;
    this.placeMarkers();
  }

  /**
   * Brings the focused markers' bars into view when they are not (a trigger page always shows its arrow);
   * the newest bar stays in view when it can.
   */
  revealFocused(): void {
    const ts = this.chart.timeScale();
    const range = ts.getVisibleLogicalRange();
    if (!range) return;
    for (const m of this.markers.filter((x) => x.focus)) {
      const p = placeIn(this.times, chartTime(m.barTime), this.period);
      if (!("index" in p)) continue;
      const i = p.index;
      if (this.barInPlot(i)) continue;
      const span = Math.max(20, range.to - range.from);
      const to = Math.min(this.times.length - 1 + RIGHT_OFFSET, i + span * 0.3);
      ts.setVisibleLogicalRange({ from: to - span, to });
      this.following = this.newestVisible();
    }
    this.refresh();
  }

  private barInPlot(i: number): boolean {
    const x = this.chart.timeScale().logicalToCoordinate(i as Logical);
    return x !== null && x >= 0 && x <= this.chart.timeScale().width();
  }

  /** The test hooks, then the arrows, now and after the chart's next paint (one such frame at a time: a
   * busy stock updates the chart on every frame). */
  private refresh(): void {
    this.noteView();
    this.placeMarkers();
    if (this.refreshFrame !== 0) return;
    this.refreshFrame = requestAnimationFrame(() => {
      this.refreshFrame = 0;
      this.noteView();
      this.placeMarkers();
    });
  }

  private noteView(): void {
    const last = this.bars[this.bars.length - 1];
    this.el.dataset.lastTime = last?.time ?? "";
    this.el.dataset.lastClose = last ? String(last.close) : "";
    const v = this.visibleLastIndex();
    this.el.dataset.visibleLastTime = v >= 0 ? this.bars[v].time : "";
    this.el.dataset.following = String(this.following);
  }

  private placeMarkers(): void {
    /** Arrows already under each bar: another trigger of the same bar stacks below them. */
    const seen = new Map<number, number>();
    const placed = new Map<string, HTMLElement>();
    let triggers = 0;
    this.pendingMarkers = false;
    this.missingMarkers = false;
    // The page's own triggers first: theirs is the arrow next to the bar when others share it.
    const ordered = [...this.markers].sort((a, b) => Number(b.focus ?? false) - Number(a.focus ?? false));
    const ts = this.chart.timeScale();
    const width = ts.width();
    const height = this.chart.panes()[0]?.getHeight() ?? Infinity;
    for (const m of ordered) {
      const p = placeIn(this.times, chartTime(m.barTime), this.period);
      if ("pending" in p) {
        if (m.kind !== "signal") this.pendingMarkers = true;
        continue;
      }
      if ("missing" in p) {
        if (m.focus) this.missingMarkers = true;
        continue;
      }
      const i = p.index;
      const slot = m.kind === "signal" ? -1 - i : i;
      // A backtest signal is drawn once a bar; triggers sharing a bar (a daily bar holds many minutes) each
      // get an arrow, stacked below the bar.
      const stacked = seen.get(slot) ?? 0;
      if (m.kind === "signal" && stacked > 0) continue;
      seen.set(slot, stacked + 1);
      const x = ts.logicalToCoordinate(i as Logical);
      const low = this.candles.priceToCoordinate(this.bars[i].low);
      const y = low === null ? null : low + stacked * STACK_PX;
      const barTime = this.bars[i].time;
      const key = `${m.kind ?? "trigger"}|${m.id}|${m.focus ? 1 : 0}|${barTime}`;
      const arrow = this.arrows.get(key) ?? newArrow(m, barTime);
      placed.set(key, arrow);
      if (m.kind !== "signal") triggers++;
      // Scrolled out of the plot (or under the price axis): not shown, still counted as drawn.
      if (x === null || y === null || x < 0 || x > width || y < 0 || y > height) {
        arrow.hidden = true;
        arrow.dataset.off = `${x},${y} of ${width}x${height}`;
      } else {
        const transform = `translate(${Math.round(x)}px, ${Math.round(y) + 6}px)`;
        if (arrow.style.transform !== transform) arrow.style.transform = transform;
        if (arrow.hidden) arrow.hidden = false;
        if (arrow.dataset.off !== undefined) delete arrow.dataset.off;
      }
    }
    for (const [key, arrow] of this.arrows) if (!placed.has(key)) arrow.remove();
    for (const arrow of placed.values()) if (arrow.parentNode !== this.overlay) this.overlay.appendChild(arrow);
    this.arrows = placed;
    const count = String(triggers);
    if (this.el.dataset.markers !== count) this.el.dataset.markers = count;
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.refreshFrame);
    this.resize.disconnect();
    this.chart.remove();
  }
}

function newArrow(m: Marker, barTime: string): HTMLElement {
  return m.kind === "signal"
    ? h("div", { class: "signal-arrow", "data-bar-time": barTime }, "▲")
    : h("div", { class: `trigger-arrow${m.focus ? " focus" : ""}`, "data-trigger-id": m.id, "data-bar-time": barTime, "data-trigger-bar-time": m.barTime }, "▲");
}

function volumeColor(b: Candle): string {
  return b.close >= b.open ? "rgba(224, 49, 59, 0.45)" : "rgba(31, 95, 214, 0.45)";
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** A time-axis label for chart seconds (KST wall clock, see `chartTime`). */
export function tickLabel(t: number, kind: TickMarkType): string {
  const d = new Date(t * 1000);
  switch (kind) {
    case TickMarkType.Year:
      return `${d.getUTCFullYear()}년`;
    case TickMarkType.Month:
      return `${d.getUTCMonth() + 1}월`;
    case TickMarkType.DayOfMonth:
      return `${d.getUTCDate()}일`;
    default:
      return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  }
}
