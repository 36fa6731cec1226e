// The report of a market scan's backtest (`GET /api/v1/conditions/{id}/backtest`) on the 조건검색 page: the span
// and the stocks it covered, the 편입 count, one row per horizon (the mean return and win rate after 편입, the
// universe's over the same days, the excess in percentage points, red above and blue below), a warning when
// the history is too short to mean much, what the returns leave out, and a small chart of the stocks matching
// per day with the day's entries as bars (inline SVG: no chart library for 500 points). Worded like the
// per-stock report of the conditions page.

import { h } from "../dom";
import { direction, formatKrw, formatRate } from "../format";
import { t, type MessageKey } from "../i18n";
import type { ScanBacktest, ScanBacktestDay } from "../model";
import { formatValue } from "./common";
import { backtestSpan, barsPath, dayIndexAt, formatPoints, formatShare, horizonRows, linePath, niceCeil, shortReasons } from "../scan";

const SVG_NS = "http://www.w3.org/2000/svg";
/** The chart's height in its own units (its width is one unit a day). */
const CHART_H = 100;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: Array<SVGElement | string>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** `up` above zero, `down` below, `flat` at zero, nothing when unknown. */
const tone = (v: number | null) => (v === null ? "" : direction(v));

const definition = (key: MessageKey) => t(key).replace(/^[^:]+:\s*/, "");

export function renderScanBacktest(r: ScanBacktest): HTMLElement {
  const span = backtestSpan(r);
  const reasons = shortReasons(r);
  const rows = horizonRows(r);
  return h(
    "div",
    { class: "bt-result scan-bt-result" },
    h("p", { class: "bt-span", "data-testid": "scan-backtest-span" }, span ?? t("btNoDays")),
    h(
      "p",
      { class: "bt-count scan-bt-facts", "data-testid": "scan-backtest-stocks" },
      h("span", null, t("btStocks", { stocks: formatKrw(r.stocks), universe: formatKrw(r.universe) }), r.stocks < r.universe ? ` ${t("btStocksCollecting")}` : ""),
      h("span", { class: "scan-bt-entries", "data-testid": "scan-backtest-entries" }, t("btEntries", { n: formatKrw(r.entries) })),
      h("span", { class: "muted" }, t("btTook", { s: (r.tookMs / 1000).toFixed(1) })),
    ),
    r.shortHistory ? h("p", { class: "warning", role: "note", "data-testid": "scan-backtest-short" }, t("btShortScan", { reasons: reasons.length ? reasons.join(" · ") : t("btShortGeneric") })) : null,
    h(
      "div",
      { class: "scan-bt-table-box" },
      h(
        "table",
        { class: "bt-summary scan-bt-table", "data-testid": "scan-backtest-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", null, t("btHorizon")),
            h("th", { class: "num", title: t("btDefMean") }, t("btEntryMean")),
            h("th", { class: "num", title: t("btDefHit") }, t("btEntryHit")),
            h("th", { class: "num universe", title: t("btDefUniverse") }, t("btUniverseMean")),
            h("th", { class: "num universe", title: t("btDefUniverse") }, t("btUniverseHit")),
            h("th", { class: "num", title: t("btDefExcess") }, t("btExcess")),
          ),
        ),
        h(
          "tbody",
          null,
          rows.map((x) =>
            h(
              "tr",
              { "data-testid": "scan-backtest-horizon", "data-bars": x.bars },
              h("th", null, x.label, h("span", { class: "bt-samples muted" }, t("btSamples", { n: formatKrw(x.samples) }))),
              h("td", { class: `num ${tone(x.meanReturn)}` }, formatRate(x.meanReturn)),
              h("td", { class: "num" }, formatShare(x.hitRate)),
              h("td", { class: `num universe ${tone(x.universeMeanReturn)}`, title: t("btSamples", { n: formatKrw(x.universeSamples) }) }, formatRate(x.universeMeanReturn)),
              h("td", { class: "num universe", title: t("btSamples", { n: formatKrw(x.universeSamples) }) }, formatShare(x.universeHitRate)),
              h("td", { class: `num excess ${tone(x.excess)}`, "data-testid": "scan-backtest-excess" }, formatPoints(x.excess)),
            ),
          ),
        ),
      ),
    ),
    h("p", { class: "hint scan-bt-note", "data-testid": "scan-backtest-note" }, t("btGross")),
    dayChart(r.days),
    h(
      "details",
      { class: "bt-definitions" },
      h("summary", null, t("definitions")),
      h(
        "dl",
        null,
        (["btDefEntry", "btDefMean", "btDefHit", "btDefUniverse", "btDefExcess"] as const).flatMap((k) => [h("dt", null, t(k).replace(/:.*$/, "")), h("dd", null, definition(k))]),
      ),
    ),
  );
}

/** Matches per day as a line, entries as bars on the same axis; a pointer over it reads the day out. */
function dayChart(days: ScanBacktestDay[]): HTMLElement {
  const n = days.length;
  // Counts: at least 2 at the top, so the middle line is a whole number too.
  const top = Math.max(2, niceCeil(Math.max(0, ...days.map((d) => Math.max(d.matches, d.entries)))));
  const width = Math.max(1, n);
  const cursor = svg("line", { class: "bt-chart-cursor", x1: 0, x2: 0, y1: 0, y2: CHART_H, "vector-effect": "non-scaling-stroke", visibility: "hidden" });
  const chart = svg(
    "svg",
    {
      class: "bt-chart-svg",
      "data-testid": "scan-backtest-chart",
      "data-days": n,
      viewBox: `0 0 ${width} ${CHART_H}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": t("btChartTitle"),
    },
    svg("title", {}, t("btChartTitle")),
    svg("path", { class: "bt-chart-grid", d: `M0,${CHART_H / 2}H${width}M0,${CHART_H}H${width}`, "vector-effect": "non-scaling-stroke" }),
    svg("path", { class: "bt-chart-bars", d: barsPath(days.map((d) => d.entries), top, width, CHART_H) }),
    svg("path", { class: "bt-chart-line", d: linePath(days.map((d) => d.matches), top, width, CHART_H), "vector-effect": "non-scaling-stroke" }),
    cursor,
  );
  const readout = h("span", { class: "bt-chart-readout", "data-testid": "scan-backtest-readout" });
  const read = (i: number) => {
    const d = days[i];
    readout.textContent = d ? t("btDayReadout", { date: d.date, matches: formatKrw(d.matches), entries: formatKrw(d.entries), evaluated: formatKrw(d.evaluated) }) : "";
  };
  read(n - 1);
  const plot = h("div", { class: "bt-chart-plot" });
  plot.append(chart);
  if (n > 0) {
    plot.addEventListener("pointermove", (ev: PointerEvent) => {
      const box = plot.getBoundingClientRect();
      if (box.width <= 0) return;
      const i = dayIndexAt((ev.clientX - box.left) / box.width, n);
      cursor.setAttribute("x1", String(i + 0.5));
      cursor.setAttribute("x2", String(i + 0.5));
      cursor.setAttribute("visibility", "visible");
      read(i);
    });
    plot.addEventListener("pointerleave", () => {
      cursor.setAttribute("visibility", "hidden");
      read(n - 1);
    });
  }
  return h(
    "figure",
    { class: "bt-chart" },
    h(
      "figcaption",
      { class: "bt-chart-head" },
      h("span", { class: "bt-chart-title" }, t("btChartTitle")),
      h("span", { class: "bt-chart-legend" }, h("i", { class: "key-line", "aria-hidden": "true" }), t("btLegendMatches"), h("i", { class: "key-bar", "aria-hidden": "true" }), t("btLegendEntries")),
      readout,
    ),
    h(
      "div",
      { class: "bt-chart-body" },
      h("div", { class: "bt-chart-axis", "aria-hidden": "true" }, h("span", null, formatKrw(top)), h("span", null, formatValue(top / 2)), h("span", null, "0")),
      plot,
      n > 0 ? [h("span"), h("div", { class: "bt-chart-dates", "aria-hidden": "true" }, h("span", null, days[0].date), h("span", null, days[n - 1].date))] : null,
    ),
  );
}
