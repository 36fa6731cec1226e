// The 조건검색 page (`/scan`): conditions with `scope: "market"`, run by the service over every KOSPI and KOSDAQ
// listing its filters admit, on daily, weekly or monthly bars. A picker of those conditions and a small form
// for a new one (presets, the market and exclusion filters, a minimum price and 거래대금); while the service
// still collects the listings' daily history, how far it is; the result set as a table sorted and filtered here
// (a row lights up when it enters live, fades out when it leaves, ＋ puts it on the watchlist); the latest
// 편입/이탈 beside it. After every sweep of the chosen condition (`scan_sweep`) the result set is read again, at
// most once a second; after a reconnect the events missed and the result set are read again. 백테스트 runs the
// chosen condition over the stored daily history (`scan-backtest.ts` draws the report); KIS's own rankings and
// HTS conditions sit beside kiswatch's in a section closed until opened (`kis-scans.ts`).

import { api, type MarketConditionBody } from "../api";
import { live, triggers } from "../app";
import { h, setChildren, setText } from "../dom";
import { direction, formatKoreanAmount, formatKrw, formatKstDateTime, formatKstShort, formatKstTime, formatMaybe, formatRate } from "../format";
import { lang, t, type MessageKey } from "../i18n";
import { orderedValues, scanEventFrom, SCAN_EXCLUSIONS, type Condition, type ScanEvent, type ScanExclusion, type ScanFilters, type ScanMatch, type ScanResult } from "../model";
import { scanUrl, stockUrl } from "../router";
import { DEFAULT_SORT, filterMatches, matchFromEvent, mergeEvents, newestEventId, nextSort, progressRatio, progressText, reconcile, sortMatches, Throttle, type ScanSort, type ScanSortKey } from "../scan";
import { scanChannel } from "../ws";
import { conditionPeriod, errorMessage, errorPanel, formatValue, periodLabel, showExprError, skeleton } from "./common";
import { kisScansSection } from "./kis-scans";
import { renderScanBacktest } from "./scan-backtest";
import { toast } from "./toast";

const PRESETS: Array<{ ko: string; en: string; expr: string }> = [
  { ko: "일봉 정배열", en: "Daily bullish alignment", expr: "일: 정배열" },
  { ko: "일봉 골든크로스", en: "Daily golden cross", expr: "일: 골든크로스" },
  { ko: "정배열 + 거래량 2배", en: "Bullish on 2× volume", expr: "일: 정배열 and volume > 2 * avg(volume, 20)" },
  { ko: "주봉 정배열", en: "Weekly bullish alignment", expr: "주: 정배열" },
];

const MARKETS: Array<{ value: string; label: MessageKey }> = [
  { value: "KOSPI", label: "kospi" },
  { value: "KOSDAQ", label: "kosdaq" },
];

const EXCLUSION_LABELS: Record<ScanExclusion, MessageKey> = {
  etf: "excludeEtf",
  etn: "excludeEtn",
  spac: "excludeSpac",
  preferred: "excludePreferred",
  managed: "excludeManaged",
  halted: "excludeHalted",
  warning: "excludeWarning",
};

/** Left out unless unticked: what is not an operating company's common share, or cannot trade. */
const DEFAULT_EXCLUDED: ReadonlySet<ScanExclusion> = new Set(["etf", "etn", "spac", "managed", "halted"]);

/** How long a row entering live stays lit, and how long a leaving one takes to fade out. */
const ENTER_MS = 4_000;
const LEAVE_MS = 1_600;
/** Refetches of the result set: at most one a second; polled while the history is collected or the socket is down. */
const REFETCH_GAP_MS = 1_000;
const POLL_COLLECTING_MS = 3_000;
const POLL_OFFLINE_MS = 15_000;
/** Rows drawn at most (a condition that holds for most of the market would draw 2,500). */
const MAX_ROWS = 500;
const EVENTS_SHOWN = 100;

const COLUMNS: Array<{ key: ScanSortKey; label: MessageKey; cls: string }> = [
  { key: "name", label: "name", cls: "col-name" },
  { key: "price", label: "price", cls: "num col-price" },
  { key: "rate", label: "rate", cls: "num col-rate" },
  { key: "turnover", label: "turnover", cls: "num col-turnover" },
  { key: "since", label: "scanSince", cls: "num col-since" },
];

interface Row {
  tr: HTMLTableRowElement;
  name: HTMLAnchorElement;
  price: HTMLElement;
  rate: HTMLElement;
  turnover: HTMLElement;
  since: HTMLElement;
  action: HTMLElement;
  /** What the action cell shows (`watched`, `add`), to rebuild it only when that changes. */
  actionKey: string;
}

/** `일봉` (`D` in English): a condition's period in the picker. */
function barsLabel(period: string): string {
  return lang() === "en" ? period : `${periodLabel(period)}봉`;
}

/** The filters in a line: `코스피·코스닥 · ETF·ETN 제외 · 1,000원 이상 · 거래대금 10억 이상`. */
function filtersSummary(f: ScanFilters | null): string {
  if (!f) return "";
  const parts: string[] = [];
  const markets = f.markets.length ? f.markets : MARKETS.map((m) => m.value);
  parts.push(markets.map((m) => t(MARKETS.find((x) => x.value === m)?.label ?? "kospi")).join("·"));
  if (f.exclude.length) parts.push(`${f.exclude.map((x) => t(EXCLUSION_LABELS[x])).join("·")} ${t("scanExclude")}`);
  if (f.min_price !== null) parts.push(`${t("minPrice").replace(/\(.*\)/, "")} ${formatKrw(f.min_price)}`);
  if (f.min_turnover !== null) parts.push(`${t("turnover")} ${formatKoreanAmount(f.min_turnover)}`);
  return parts.join(" · ");
}

export function mountScan(root: HTMLElement, initialId: number | null): () => void {
  const cleanups: Array<() => void> = [];
  let destroyed = false;
  let conds: Condition[] = [];
  let selected: number | null = null;
  /** Which selection an answer belongs to: one for an older selection is dropped. */
  let gen = 0;
  let result: ScanResult | null = null;
  let matches = new Map<string, ScanMatch>();
  /** Rows fading out after an 이탈 (no longer in `matches`). */
  const ghosts = new Map<string, ScanMatch>();
  const entering = new Map<string, ReturnType<typeof setTimeout>>();
  const leaving = new Map<string, ReturnType<typeof setTimeout>>();
  /** Events received live for the selected condition: laid over a result set fetched before them. */
  let liveEvents: ScanEvent[] = [];
  let events: ScanEvent[] = [];
  let sort: ScanSort = DEFAULT_SORT;
  let watched = new Set<string>();
  const rows = new Map<string, Row>();
  let release: (() => void) | null = null;
  let throttle: Throttle | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;

  // ---- The picker and the form ----
  const picker = h("select", { class: "scan-picker", "data-testid": "scan-picker", "aria-label": t("scanPick") });
  picker.addEventListener("change", () => select(picker.value === "" ? null : Number(picker.value)));
  const condInfo = h("div", { class: "scan-cond-info", "data-testid": "scan-cond-info" });
  const noneBox = h("p", { class: "scan-none", "data-testid": "scan-none", hidden: true }, t("scanNone"));

  const exprInput = h("input", { type: "text", class: "cond-expr scan-expr", "data-testid": "scan-expr", placeholder: "일: 정배열", spellcheck: "false", autocomplete: "off" });
  const nameInput = h("input", { type: "text", class: "cond-name", "data-testid": "scan-name", maxlength: 100, placeholder: t("scanNameOptional") });
  const exprError = h("div", { class: "expr-error", role: "alert", "data-testid": "scan-expr-error", hidden: true });
  const marketInputs = MARKETS.map((m) => ({ value: m.value, input: h("input", { type: "checkbox", checked: true, "data-market": m.value }), label: m.label }));
  const excludeInputs = SCAN_EXCLUSIONS.map((x) => ({ value: x, input: h("input", { type: "checkbox", checked: DEFAULT_EXCLUDED.has(x), "data-exclude": x }) }));
  const minPriceInput = h("input", { type: "number", class: "scan-min", "data-testid": "scan-min-price", min: 0, step: 1, inputmode: "numeric", placeholder: "0" });
  const minTurnoverInput = h("input", { type: "number", class: "scan-min", "data-testid": "scan-min-turnover", min: 0, step: "any", inputmode: "decimal", placeholder: "0" });
  const createBtn = h("button", { type: "submit", class: "primary", "data-testid": "scan-create" }, t("scanCreate"));
  const form = h(
    "form",
    { class: "cond-editor scan-form", "data-testid": "scan-form", novalidate: true },
    h(
      "div",
      { class: "presets" },
      h("span", { class: "muted" }, t("presets")),
      PRESETS.map((p) =>
        h(
          "button",
          {
            type: "button",
            class: "preset",
            "data-testid": "scan-preset",
            onclick: () => {
              exprInput.value = p.expr;
              if (!nameInput.value.trim() || PRESETS.some((x) => nameInput.value === x.ko || nameInput.value === x.en)) nameInput.value = lang() === "en" ? p.en : p.ko;
              clearError();
              exprInput.focus();
            },
          },
          lang() === "en" ? p.en : p.ko,
        ),
      ),
    ),
    h("label", { class: "field" }, h("span", null, t("expression")), exprInput),
    exprError,
    h("label", { class: "field" }, h("span", null, t("conditionName")), nameInput),
    h(
      "fieldset",
      { class: "alert-options scan-filters" },
      h("legend", null, t("scanMarkets")),
      h("div", { class: "field-row" }, marketInputs.map((m) => h("label", { class: "check" }, m.input, t(m.label)))),
    ),
    h(
      "fieldset",
      { class: "alert-options scan-filters" },
      h("legend", null, t("scanExclude")),
      h("div", { class: "field-row" }, excludeInputs.map((x) => h("label", { class: "check" }, x.input, t(EXCLUSION_LABELS[x.value])))),
    ),
    h(
      "div",
      { class: "field-row" },
      h("label", { class: "field inline" }, h("span", null, t("minPrice")), minPriceInput),
      h("label", { class: "field inline" }, h("span", null, t("minTurnover")), minTurnoverInput),
    ),
    h("div", { class: "actions" }, createBtn),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void create();
  });
  exprInput.addEventListener("input", clearError);
  const newBox = h("details", { class: "scan-new", "data-testid": "scan-new" }, h("summary", null, `+ ${t("scanNew")}`), form);

  // ---- Progress, the table, the events ----
  const progressBar = h("progress", { class: "scan-progress-bar", max: 1, value: 0 });
  const progressLabel = h("span", { class: "scan-progress-text" });
  const progressBox = h("div", { class: "scan-progress", "data-testid": "scan-progress", role: "status", hidden: true }, progressBar, progressLabel);
  const meta = h("div", { class: "scan-meta", "data-testid": "scan-meta" });
  const filterInput = h("input", { type: "search", class: "search-input scan-filter", "data-testid": "scan-filter", placeholder: t("scanFilter"), autocomplete: "off", spellcheck: "false" });
  filterInput.addEventListener("input", () => renderTable());
  const headCells = COLUMNS.map((c) => {
    const arrow = h("span", { class: "sort-arrow", "aria-hidden": "true" });
    const th = h(
      "th",
      { class: c.cls, "data-sort": c.key, "aria-sort": "none" },
      h(
        "button",
        {
          type: "button",
          class: "sort",
          onclick: () => {
            sort = nextSort(sort, c.key);
            renderTable();
          },
        },
        t(c.label),
        arrow,
      ),
    );
    return { key: c.key, th, arrow };
  });
  const tbody = h("tbody");
  const table = h("table", { class: "scan-table", "data-testid": "scan-table" }, h("thead", null, h("tr", null, headCells.map((x) => x.th), h("th", { class: "col-add" }))), tbody);
  const tableNote = h("p", { class: "scan-note muted", "data-testid": "scan-note", hidden: true });
  const tableBox = h("div", { class: "scan-table-box" }, skeleton("rows", 6));
  const eventsList = h("ol", { class: "trigger-list scan-events", "data-testid": "scan-events" });
  const resultsPanel = h(
    "section",
    { class: "panel scan-results", hidden: true },
    h("div", { class: "scan-status" }, progressBox, meta),
    h("div", { class: "scan-toolbar" }, filterInput),
    tableBox,
    tableNote,
  );

  // ---- The backtest, KIS's scans ----
  const btRun = h("button", { type: "button", class: "primary", "data-testid": "scan-backtest-run", onclick: () => void runBacktest() }, t("scanBacktestRun"));
  const btOut = h("div", { class: "bt-out scan-bt-out", "data-testid": "scan-backtest", "data-state": "idle" });
  const btPanel = h("section", { class: "panel scan-bt", hidden: true }, h("div", { class: "panel-head" }, h("h2", null, t("backtest")), btRun), btOut);
  const kis = kisScansSection((code, name) => watchAction(code, name));
  cleanups.push(() => kis.destroy());

  setChildren(
    root,
    h(
      "div",
      { class: "scan-page" },
      h(
        "div",
        { class: "scan-main" },
        h(
          "section",
          { class: "panel scan-head" },
          h("div", { class: "panel-head" }, h("h2", null, t("scanTitle")), picker, h("a", { href: "/conditions", "data-nav": true, class: "small-link muted" }, t("scanEditConditions"))),
          h("div", { class: "scan-head-body" }, condInfo, noneBox, h("p", { class: "hint scan-period-hint", "data-testid": "scan-period-hint" }, t("scanPeriodHint")), newBox, kis.el),
        ),
        btPanel,
        resultsPanel,
      ),
      h("aside", { class: "home-side scan-side" }, h("div", { class: "panel-head" }, h("h2", null, t("scanEvents"))), eventsList),
    ),
  );

  function clearError(): void {
    exprError.hidden = true;
    exprInput.classList.remove("invalid");
  }

  function formFilters(): ScanFilters | null {
    const markets = marketInputs.filter((m) => m.input.checked).map((m) => m.value);
    if (markets.length === 0) return null;
    const number = (input: HTMLInputElement) => {
      const v = Number(input.value);
      return input.value.trim() === "" || !Number.isFinite(v) || v <= 0 ? null : v;
    };
    const price = number(minPriceInput);
    const turnover = number(minTurnoverInput);
    return {
      markets,
      exclude: excludeInputs.filter((x) => x.input.checked).map((x) => x.value),
      min_price: price === null ? null : Math.round(price),
      // Typed in 억원.
      min_turnover: turnover === null ? null : Math.round(turnover * 1e8),
    };
  }

  async function create(): Promise<void> {
    clearError();
    const expr = exprInput.value.trim();
    if (!expr) {
      exprInput.focus();
      return;
    }
    const filters = formFilters();
    if (!filters) {
      setChildren(exprError, h("div", { class: "expr-message" }, t("scanPickMarket")));
      exprError.hidden = false;
      return;
    }
    const body: MarketConditionBody = { expr, scope: "market", filters };
    const name = nameInput.value.trim();
    if (name) body.name = name;
    createBtn.disabled = true;
    try {
      const c = await api.createMarketCondition(body);
      if (destroyed) return;
      triggers.conditionsChanged();
      exprInput.value = "";
      nameInput.value = "";
      await loadConditions(c.id);
      newBox.open = false;
    } catch (err) {
      if (!destroyed) showExprError(exprError, exprInput, err, clearError);
    } finally {
      createBtn.disabled = false;
    }
  }

  // ---- Conditions and the selection ----
  async function loadConditions(want: number | null): Promise<void> {
    try {
      const all = await api.conditions();
      if (destroyed) return;
      conds = all.filter((c) => c.scope === "market");
      const has = (id: number | null) => id !== null && conds.some((c) => c.id === id);
      const id = has(want) ? want : has(selected) ? selected : (conds[0]?.id ?? null);
      renderPicker(id);
      if (id !== selected || result === null) select(id);
    } catch (err) {
      if (destroyed) return;
      resultsPanel.hidden = false;
      setChildren(tableBox, errorPanel(err, () => void loadConditions(want)));
    }
  }

  function renderPicker(id: number | null): void {
    picker.hidden = conds.length === 0;
    noneBox.hidden = conds.length > 0;
    if (conds.length === 0) newBox.open = true;
    setChildren(
      picker,
      conds.map((c) =>
        h(
          "option",
          { value: c.id, selected: c.id === id },
          `${c.name} · ${barsLabel(c.period ?? conditionPeriod(c.expr))}${c.enabled ? "" : ` (${t("scanDisabled")})`}`,
        ),
      ),
    );
  }

  function renderCondInfo(): void {
    const c = conds.find((x) => x.id === selected);
    if (!c) {
      setChildren(condInfo);
      return;
    }
    setChildren(condInfo, h("code", null, c.expr), h("span", { class: "muted" }, filtersSummary(c.filters)));
  }

  /** Forgets the previous condition's result set, events, timers and subscription. */
  function stopSelection(): void {
    gen += 1;
    release?.();
    release = null;
    throttle?.stop();
    throttle = null;
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
    for (const timer of [...entering.values(), ...leaving.values()]) clearTimeout(timer);
    entering.clear();
    leaving.clear();
    ghosts.clear();
    matches = new Map();
    result = null;
    liveEvents = [];
    events = [];
    rows.clear();
    setChildren(tbody);
  }

  function select(id: number | null): void {
    stopSelection();
    selected = id;
    if (location.pathname === "/scan" && location.pathname + location.search !== scanUrl(id)) history.replaceState(null, "", scanUrl(id));
    if (id !== null) picker.value = String(id);
    renderCondInfo();
    renderStatus();
    renderEvents();
    resultsPanel.hidden = id === null;
    resetBacktest(id);
    if (id === null) {
      setChildren(tableBox);
      tableNote.hidden = true;
      return;
    }
    setChildren(tableBox, skeleton("rows", 6));
    const my = gen;
    release = live.subscribeChannels([scanChannel(id)]);
    throttle = new Throttle(() => refresh(id, my), REFETCH_GAP_MS);
    throttle.request();
    void loadEvents(id, my, {});
  }

  async function refresh(id: number, my: number): Promise<void> {
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
    try {
      const r = await api.scanMatches(id);
      if (destroyed || my !== gen) return;
      result = r;
      matches = new Map(reconcile(r, liveEvents).map((m) => [m.code, m]));
      // What the answer counts needs no laying over any more.
      const asOf = r.asOf === null ? NaN : Date.parse(r.asOf);
      if (!Number.isNaN(asOf)) liveEvents = liveEvents.filter((e) => Date.parse(e.time) > asOf);
      renderStatus();
      renderTable();
    } catch (err) {
      if (destroyed || my !== gen) return;
      if (result === null) setChildren(tableBox, errorPanel(err, () => throttle?.request()));
      else console.warn("kiswatch: scan refresh failed", err);
      return;
    }
    schedulePoll();
  }

  /** While the history is collected the sweeps may not come yet, and without the socket none do: poll. */
  function schedulePoll(): void {
    const collecting = result !== null && !result.progress.complete;
    const offline = live.connection !== "open";
    if (!collecting && !offline) return;
    pollTimer = setTimeout(() => throttle?.request(), collecting ? POLL_COLLECTING_MS : POLL_OFFLINE_MS);
  }

  async function loadEvents(id: number, my: number, query: { after?: number }): Promise<void> {
    try {
      const list = await api.scanEvents(id, { ...query, limit: query.after === undefined ? 50 : 500 });
      if (destroyed || my !== gen) return;
      events = mergeEvents(events, list, EVENTS_SHOWN);
      renderEvents();
    } catch (err) {
      console.warn("kiswatch: scan events unavailable", err);
    }
  }

  // ---- The backtest ----
  function resetBacktest(id: number | null): void {
    btPanel.hidden = id === null;
    btRun.disabled = false;
    btOut.dataset.state = "idle";
    setChildren(btOut, h("p", { class: "hint scan-bt-intro" }, t("scanBtIntro")));
  }

  /** Runs the chosen condition over the stored history (about a second); an answer for an older choice is dropped. */
  async function runBacktest(): Promise<void> {
    const id = selected;
    if (id === null) return;
    const my = gen;
    btRun.disabled = true;
    btOut.dataset.state = "loading";
    setChildren(btOut, h("p", { class: "scan-bt-running", role: "status", "data-testid": "scan-backtest-running" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("scanBtRunning")));
    try {
      const r = await api.scanBacktest(id);
      if (destroyed || my !== gen) return;
      setChildren(btOut, renderScanBacktest(r));
      btOut.dataset.state = "done";
    } catch (err) {
      if (destroyed || my !== gen) return;
      const panel = errorPanel(err, () => void runBacktest());
      panel.classList.add("compact");
      setChildren(btOut, panel);
      btOut.dataset.state = "error";
    } finally {
      if (!destroyed && my === gen) btRun.disabled = false;
    }
  }

  // ---- Drawing ----
  function renderStatus(): void {
    if (!result) {
      progressBox.hidden = true;
      setChildren(meta);
      return;
    }
    const p = result.progress;
    progressBox.hidden = p.complete;
    progressBox.dataset.complete = String(p.complete);
    progressBar.value = progressRatio(p);
    setText(progressLabel, progressText(p));
    setChildren(
      meta,
      h("span", { class: "scan-as-of", "data-testid": "scan-as-of", title: t("marketTime") }, result.asOf ? t("scanAsOf", { time: formatKstDateTime(result.asOf) }) : t("scanNoSweep")),
      result.closed ? h("span", { class: "badge scan-closed", "data-testid": "scan-closed" }, t("scanClosed")) : null,
      h("span", null, t("scanUniverse", { n: formatKrw(result.universe) })),
      h("span", null, t("scanEvaluated", { n: formatKrw(result.evaluated) })),
      h("span", { class: "scan-count", "data-testid": "scan-count" }, t("scanCount", { n: formatKrw(matches.size) })),
      result.shortHistory
        ? h(
            "div",
            { class: "scan-history-short", "data-testid": "scan-history-short", role: "note" },
            t("scanHistoryShort", { needed: formatKrw(result.shortHistory.needed), kept: formatKrw(result.shortHistory.kept) }),
          )
        : null,
    );
  }

  function renderTable(): void {
    if (selected === null || (result === null && matches.size === 0 && ghosts.size === 0)) return;
    for (const x of headCells) {
      const on = sort.key === x.key;
      x.th.setAttribute("aria-sort", on ? (sort.dir === "asc" ? "ascending" : "descending") : "none");
      x.arrow.textContent = on ? (sort.dir === "asc" ? " ▲" : " ▼") : "";
    }
    const all = [...matches.values(), ...[...ghosts.values()].filter((g) => !matches.has(g.code))];
    if (all.length === 0) {
      rows.clear();
      setChildren(tbody);
      tableNote.hidden = true;
      const collecting = result !== null && !result.progress.complete;
      setChildren(tableBox, h("p", { class: "empty", "data-testid": "scan-empty" }, t("scanEmpty"), collecting ? ` ${t("scanEmptyCollecting")}` : ""));
      return;
    }
    if (table.parentElement !== tableBox) setChildren(tableBox, table);
    const shown = sortMatches(filterMatches(all, filterInput.value), sort);
    const drawn = shown.slice(0, MAX_ROWS);
    const keep = new Set(drawn.map((m) => m.code));
    for (const [code, row] of rows) {
      if (keep.has(code)) continue;
      row.tr.remove();
      rows.delete(code);
    }
    // Rows keep their elements and move only when out of place: a lit or fading row keeps its animation.
    let prev: Element | null = null;
    for (const m of drawn) {
      let row = rows.get(m.code);
      if (!row) {
        row = makeRow(m);
        rows.set(m.code, row);
      }
      paintRow(row, m);
      const want: Element | null = prev === null ? tbody.firstElementChild : prev.nextElementSibling;
      if (want !== row.tr) tbody.insertBefore(row.tr, want);
      prev = row.tr;
    }
    tableNote.hidden = shown.length > 0 && shown.length <= MAX_ROWS;
    tableNote.textContent = shown.length === 0 ? t("scanFilterEmpty") : t("scanShown", { n: formatKrw(drawn.length), total: formatKrw(shown.length) });
  }

  function makeRow(m: ScanMatch): Row {
    const name = h("a", { href: stockUrl(m.code), "data-nav": true, class: "stock-name" }, m.name);
    const price = h("td", { class: "num price col-price" });
    const rate = h("td", { class: "num col-rate" });
    const turnover = h("td", { class: "num col-turnover" });
    const since = h("td", { class: "num col-since" });
    const action = h("td", { class: "col-add" });
    const tr = h("tr", { "data-testid": "scan-row", "data-code": m.code }, h("td", { class: "col-name" }, name, h("span", { class: "code" }, m.code)), price, rate, turnover, since, action) as HTMLTableRowElement;
    return { tr, name, price, rate, turnover, since, action, actionKey: "" };
  }

  function paintRow(row: Row, m: ScanMatch): void {
    setText(row.name, m.name);
    const d = direction(m.rate ?? m.change);
    for (const el of [row.price, row.rate]) {
      el.classList.remove("up", "down", "flat");
      el.classList.add(d);
    }
    setText(row.price, formatMaybe(m.price));
    setText(row.rate, formatRate(m.rate));
    setText(row.turnover, formatKoreanAmount(m.turnover));
    setText(row.since, formatKstShort(m.since));
    row.since.title = formatKstDateTime(m.since);
    row.tr.classList.toggle("entering", entering.has(m.code));
    row.tr.classList.toggle("leaving", ghosts.has(m.code) && !matches.has(m.code));
    const key = watched.has(m.code) ? "watched" : "add";
    if (row.actionKey !== key) {
      row.actionKey = key;
      setChildren(row.action, watchAction(m.code, m.name));
    }
  }

  /** A row's last cell, here and in KIS's scans: ＋ to the watchlist, or 관심종목 once it is there. */
  function watchAction(code: string, name: string): HTMLElement {
    return watched.has(code)
      ? h("span", { class: "badge watched-badge", "data-testid": "scan-watched" }, t("alreadyWatched"))
      : h("button", { type: "button", class: "small scan-add", "data-testid": "scan-add", title: t("scanAdd"), "aria-label": `${t("scanAdd")}: ${name}`, onclick: (ev: Event) => void add(code, name, ev.currentTarget as HTMLButtonElement) }, "＋");
  }

  function renderEvents(): void {
    if (events.length === 0) {
      setChildren(eventsList, h("li", { class: "empty" }, t("scanNoEvents")));
      return;
    }
    setChildren(eventsList, events.slice(0, EVENTS_SHOWN).map(eventItem));
  }

  function eventItem(e: ScanEvent): HTMLElement {
    const values = orderedValues(e.values).map(([k, v]) => h("span", { class: "value" }, h("span", { class: "value-key" }, k), " ", formatValue(v)));
    return h(
      "li",
      { class: `trigger-item scan-event ${e.kind}`, "data-kind": e.kind, "data-event-id": e.id, "data-code": e.code },
      h(
        "div",
        { class: "trigger-head" },
        h("span", { class: "trigger-time", title: formatKstDateTime(e.time) }, formatKstTime(e.time)),
        h("span", { class: `badge scan-kind ${e.kind}` }, t(e.kind === "enter" ? "scanEnter" : "scanLeave")),
        h("a", { href: stockUrl(e.code), "data-nav": true, class: "stock-name" }, e.name),
        h("span", { class: "code" }, e.code),
        h("span", { class: `num scan-event-rate ${direction(e.rate)}` }, formatRate(e.rate)),
      ),
      h(
        "div",
        { class: "trigger-body" },
        h("span", { class: `num ${direction(e.rate)}` }, formatMaybe(e.price)),
        e.turnover !== null ? h("span", { class: "muted" }, `${t("turnover")} ${formatKoreanAmount(e.turnover)}`) : null,
      ),
      values.length ? h("div", { class: "trigger-values" }, values) : null,
    );
  }

  // ---- Live ----
  function onEvent(e: ScanEvent): void {
    if (events.some((x) => x.id === e.id) || liveEvents.some((x) => x.id === e.id)) return;
    events = mergeEvents(events, [e], EVENTS_SHOWN);
    liveEvents.push(e);
    if (liveEvents.length > 1_000) liveEvents = liveEvents.slice(-1_000);
    const code = e.code;
    if (e.kind === "enter") {
      const fading = leaving.get(code);
      if (fading !== undefined) clearTimeout(fading);
      leaving.delete(code);
      ghosts.delete(code);
      if (!matches.has(code)) matches.set(code, matchFromEvent(e));
      const lit = entering.get(code);
      if (lit !== undefined) clearTimeout(lit);
      entering.set(
        code,
        setTimeout(() => {
          entering.delete(code);
          rows.get(code)?.tr.classList.remove("entering");
        }, ENTER_MS),
      );
    } else {
      const lit = entering.get(code);
      if (lit !== undefined) clearTimeout(lit);
      entering.delete(code);
      const m = matches.get(code);
      matches.delete(code);
      if (m) {
        ghosts.set(code, m);
        const before = leaving.get(code);
        if (before !== undefined) clearTimeout(before);
        leaving.set(
          code,
          setTimeout(() => {
            leaving.delete(code);
            ghosts.delete(code);
            renderTable();
          }, LEAVE_MS),
        );
      }
    }
    renderTable();
    renderEvents();
    renderStatus();
  }

  async function add(code: string, name: string, btn: HTMLButtonElement): Promise<void> {
    btn.disabled = true;
    try {
      const r = await api.addToWatchlist(code);
      watched.add(code);
      toast(r.added ? t("addedToast", { name }) : t("alreadyWatchedToast", { name }));
      const row = rows.get(code);
      const m = matches.get(code) ?? ghosts.get(code);
      if (row && m && !destroyed) paintRow(row, m);
      if (!destroyed) kis.repaint();
    } catch (err) {
      btn.disabled = false;
      console.warn("kiswatch: add failed", err);
      toast(errorMessage(err));
    }
  }

  cleanups.push(
    live.on("scanEvent", (msg) => {
      if (msg.condition_id === selected) onEvent(scanEventFrom(msg));
    }),
    live.on("scanSweep", (msg) => {
      if (msg.condition_id !== selected) return;
      if (result) {
        result = { ...result, asOf: msg.as_of, closed: msg.closed, universe: msg.universe, evaluated: msg.evaluated };
        renderStatus();
      }
      throttle?.request();
    }),
    // Back from a drop (or the first open after this page mounted): the subscription is replayed by the store;
    // what happened meanwhile is read here.
    live.on("connection", (state) => {
      if (state !== "open" || selected === null) return;
      void loadEvents(selected, gen, { after: newestEventId(events) ?? undefined });
      throttle?.request();
    }),
  );

  void api
    .watchlist()
    .then((list) => {
      if (destroyed) return;
      watched = new Set(list.map((w) => w.code));
      renderTable();
      kis.repaint();
    })
    .catch((err: unknown) => console.warn("kiswatch: watchlist unavailable", err));
  document.title = `${t("scanTitle")} · kiswatch`;
  void loadConditions(initialId);

  return () => {
    destroyed = true;
    stopSelection();
    for (const c of cleanups) c();
    document.title = "kiswatch";
  };
}
