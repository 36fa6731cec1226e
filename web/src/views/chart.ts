// The candle chart: lightweight-charts 5 with Korean colours, MA20/60/120/240 as unlabeled lines, a volume
// pane, and trigger arrows as a DOM overlay.
//
// * Colours are set explicitly (up red, down blue) for candles and volume bars: the library's defaults are
//   green-up.
// * Each average is a `LineSeries` with its price line, last-value label, crosshair marker and title turned
//   off, so no MA text is drawn on the canvas; the legend outside the canvas names the colours.
// * Bar times are shifted to KST (`chartTime`) because the library shows timestamps as UTC.
// * Trigger arrows are DOM elements placed with `timeToCoordinate` / `priceToCoordinate` and re-placed on every
//   scroll, zoom, resize and data change. A canvas marker cannot blink; a DOM arrow blinks with CSS and can be
//   counted by a test (`data-markers` on the chart element).

import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { h } from "../dom";
import { chartTime, formatKrw } from "../format";
import { fillAverages, MA_WINDOWS, type Candle } from "../model";

export { MA_WINDOWS };

export const UP = "#e0313b";
export const DOWN = "#1f5fd6";
export const MA_COLORS: Record<(typeof MA_WINDOWS)[number], string> = {
  "20": "#f08c00",
  "60": "#2b8a3e",
  "120": "#7048e8",
  "240": "#0c8599",
};

export interface Marker {
  id: number;
  /** RFC 3339 start of the bar that fired. */
  barTime: string;
  /** A trigger (blinking, counted in `data-markers`) or a backtest signal (steady). */
  kind?: "trigger" | "signal";
}

const INTRADAY = new Set(["1m", "3m", "5m", "10m", "15m", "30m", "60m"]);

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
  /** Whether a marker waits for a bar the chart does not have yet. */
  pendingMarkers = false;

  constructor() {
    this.canvasHost = h("div", { class: "chart-canvas" });
    this.overlay = h("div", { class: "chart-overlay", "aria-hidden": "true" });
    this.el = h("div", { class: "chart", "data-testid": "chart", "data-markers": "0" }, this.canvasHost, this.overlay);
    this.chart = createChart(this.canvasHost, {
      autoSize: true,
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
      timeScale: { borderColor: "#dee2e6", rightOffset: 4, secondsVisible: false },
      localization: { locale: "ko-KR", priceFormatter: (p: number) => formatKrw(Math.round(p)) },
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
    this.chart.timeScale().subscribeVisibleLogicalRangeChange(() => this.placeMarkers());
    this.resize = new ResizeObserver(() => requestAnimationFrame(() => this.placeMarkers()));
    this.resize.observe(this.canvasHost);
  }

  /** Replaces the data (a page open or a period switch). */
  setData(period: string, bars: Candle[], keepView = false): void {
    this.period = period;
    // A refresh keeps the user's place in history, but a chart showing the latest bar keeps following it.
    const following = !keepView || this.times.length === 0 || this.chart.timeScale().scrollPosition() > -2;
    this.chart.applyOptions({ timeScale: { timeVisible: INTRADAY.has(period) } });
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
    if (following) this.chart.timeScale().scrollToRealTime();
    this.el.dataset.period = period;
    this.el.dataset.bars = String(bars.length);
    this.placeMarkersAfterPaint();
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
    // A chart showing the latest bar keeps showing it when the next one opens (a trigger's arrow sits
    // under that bar); one scrolled back into history stays where the user put it.
    const following = last === undefined || this.chart.timeScale().scrollPosition() > -2;
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
      if (following) this.chart.timeScale().scrollToRealTime();
    }
    this.placeMarkersAfterPaint();
  }

  get lastBar(): Candle | undefined {
    return this.bars[this.bars.length - 1];
  }

  setMarkers(markers: Marker[]): void {
    this.markers = markers;
    this.placeMarkers();
  }

  /**
   * The index of the bar a trigger belongs to: the bar starting at its bar time (intraday), or the daily /
   * weekly / monthly bar containing it; -1 when the chart does not have that bar (yet).
   */
  private barIndex(barTime: string): number {
    const t = chartTime(barTime);
    if (INTRADAY.has(this.period)) {
      const i = this.times.indexOf(t);
      return i;
    }
    let lo = 0;
    let hi = this.times.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid] <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Places the arrows now and again after the chart's next paint: new data can move the price scale
   * (autoscale), and the coordinates an arrow needs are only right once the chart has drawn with it.
   */
  private placeMarkersAfterPaint(): void {
    this.placeMarkers();
    requestAnimationFrame(() => requestAnimationFrame(() => this.placeMarkers()));
  }

  private placeMarkers(): void {
    const arrows: HTMLElement[] = [];
    const seen = new Set<number>();
    const lastTime = this.times[this.times.length - 1] ?? Infinity;
    this.pendingMarkers = false;
    this.el.dataset.lastBar = this.bars[this.bars.length - 1]?.time ?? "";
    this.el.dataset.lastClose = String(this.bars[this.bars.length - 1]?.close ?? "");
    for (const m of this.markers) {
      const i = this.barIndex(m.barTime);
      if (i < 0) {
        if (chartTime(m.barTime) > lastTime) this.pendingMarkers = true;
        continue;
      }
      const slot = m.kind === "signal" ? -1 - i : i;
      if (seen.has(slot)) continue;
      seen.add(slot);
      const x = this.chart.timeScale().timeToCoordinate(this.times[i] as UTCTimestamp);
      const y = this.candles.priceToCoordinate(this.bars[i].low);
      const arrow =
        m.kind === "signal"
          ? h("div", { class: "signal-arrow", "data-bar-time": this.bars[i].time }, "▲")
          : h("div", { class: "trigger-arrow", "data-trigger-id": m.id, "data-bar-time": this.bars[i].time }, "▲");
      const width = this.chart.timeScale().width();
      const height = this.chart.panes()[0]?.getHeight() ?? Infinity;
      // Scrolled out of the plot (or under the price axis): not shown, still counted as drawn.
      if (x === null || y === null || x < 0 || x > width || y < 0 || y > height) {
        arrow.hidden = true;
        arrow.dataset.off = `${x},${y} of ${width}x${height}`;
      }
      else arrow.style.transform = `translate(${Math.round(x)}px, ${Math.round(y) + 6}px)`;
      arrows.push(arrow);
    }
    this.overlay.replaceChildren(...arrows);
    this.el.dataset.markers = String(arrows.filter((a) => a.classList.contains("trigger-arrow")).length);
  }

  destroy(): void {
    this.resize.disconnect();
    this.chart.remove();
  }
}

function volumeColor(b: Candle): string {
  return b.close >= b.open ? "rgba(224, 49, 59, 0.45)" : "rgba(31, 95, 214, 0.45)";
}
