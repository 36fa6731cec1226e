// The conditions page: list, create, edit, enable/disable, delete; presets in one click; how often a condition
// may alert (매 봉 / 봉 마감 / 하루 한 번, the re-alert interval, notification and sound per condition); parse
// errors shown inline under the character the parser stopped at (422 `position`, counted from 1 where the
// text says it) with the parser's "did you mean"; "test on history" runs the backtest and shows a report a
// person can read: the span tested, buy and hold over it, the costs paid, each figure defined, the signals
// with their dates, and a warning when the history is too short to mean much.

import { ApiError, api, type ConditionBody } from "../api";
import { triggers } from "../app";
import { h, setChildren } from "../dom";
import { formatBarTime, formatKrw, formatRate } from "../format";
import { lang, t } from "../i18n";
import type { BacktestResult, Condition, Wire } from "../model";
import { navigate, scanUrl, stockUrl } from "../router";
import { channelPicker } from "./channels";
import { BACKTEST_KEY } from "./stock";
import { conditionPeriod, errorMessage, errorPanel, periodLabel, showExprError, skeleton } from "./common";
import { searchBox } from "./search";

const PRESETS: Array<{ ko: string; en: string; expr: string }> = [
  { ko: "정배열", en: "Bullish alignment", expr: "정배열" },
  { ko: "역배열", en: "Bearish alignment", expr: "역배열" },
  { ko: "골든크로스", en: "Golden cross", expr: "골든크로스" },
  { ko: "데드크로스", en: "Dead cross", expr: "데드크로스" },
  { ko: "이평선돌파", en: "MA breakout", expr: "이평선돌파" },
];
const PERIODS = ["1m", "3m", "5m", "10m", "15m", "30m", "60m", "D", "W", "M"];
type Mode = Wire["ConditionMode"];
const MODES: Mode[] = ["every_tick", "on_close", "once_per_day"];
/** The re-alert interval a new condition gets (the service's default: 30 market minutes). */
const DEFAULT_COOLDOWN_MIN = 30;

function modeLabel(m: Mode): string {
  return t(m === "every_tick" ? "modeEveryTick" : m === "on_close" ? "modeOnClose" : "modeOncePerDay");
}

export function mountConditions(root: HTMLElement): () => void {
  let editing: Condition | null = null;
  const listBox = h("div", { class: "cond-list" }, skeleton("rows", 4));

  // Editor
  const nameInput = h("input", { type: "text", class: "cond-name", maxlength: 100, placeholder: t("conditionName") });
  const exprInput = h("textarea", { class: "cond-expr", rows: 3, spellcheck: "false", placeholder: "30분: ma(20) > ma(60) > ma(120) > ma(240)" });
  const exprError = h("div", { class: "expr-error", role: "alert", "data-testid": "expr-error", hidden: true });
  const enabledInput = h("input", { type: "checkbox", checked: true });
  const modeSelect = h("select", { class: "cond-mode", "data-testid": "cond-mode", "aria-label": t("mode") }, MODES.map((m) => h("option", { value: m }, modeLabel(m))));
  const cooldownInput = h("input", { type: "number", min: 0, step: 1, class: "cooldown", "data-testid": "cond-cooldown", value: DEFAULT_COOLDOWN_MIN });
  const notifyInput = h("input", { type: "checkbox", checked: true, "data-testid": "cond-notify" });
  const soundInput = h("input", { type: "checkbox", checked: true, "data-testid": "cond-sound" });
  const webhookInput = h("input", { type: "url", class: "webhook", placeholder: "https://…" });
  const picker = channelPicker();
  const periodSelect = h("select", { class: "preset-period", "aria-label": t("presetPeriod") }, PERIODS.map((p) => h("option", { value: p, selected: p === "30m" }, periodLabel(p))));
  const title = h("h2", null, t("newCondition"));
  const saveBtn = h("button", { type: "submit", class: "primary" }, t("save"));
  const cancelBtn = h("button", { type: "button", onclick: () => startNew() }, t("cancel"));
  const form = h(
    "form",
    { class: "cond-editor", novalidate: true },
    title,
    h(
      "div",
      { class: "presets" },
      h("span", { class: "muted" }, t("presets")),
      periodSelect,
      PRESETS.map((p) =>
        h(
          "button",
          {
            type: "button",
            class: "preset",
            onclick: () => {
              exprInput.value = `${periodSelect.value}: ${p.expr}`;
              if (!nameInput.value.trim() || PRESETS.some((x) => nameInput.value.includes(x.ko) || nameInput.value.includes(x.en))) {
                nameInput.value = `${periodLabel(periodSelect.value)} ${lang() === "en" ? p.en : p.ko}`;
              }
              clearError();
              exprInput.focus();
            },
          },
          lang() === "en" ? p.en : p.ko,
        ),
      ),
    ),
    h("label", { class: "field" }, h("span", null, t("conditionName")), nameInput),
    h("label", { class: "field" }, h("span", null, t("expression")), exprInput),
    exprError,
    h(
      "fieldset",
      { class: "alert-options" },
      h("legend", null, t("alertOptions")),
      h(
        "div",
        { class: "field-row" },
        h("label", { class: "check" }, enabledInput, t("enabled")),
        h("label", { class: "field inline" }, h("span", null, t("mode")), modeSelect),
        h("label", { class: "field inline" }, h("span", null, t("cooldownMin")), cooldownInput),
        h("label", { class: "check" }, notifyInput, t("notifyShort")),
        h("label", { class: "check" }, soundInput, t("soundShort")),
      ),
      h("p", { class: "hint" }, t("alertHint")),
    ),
    picker.el,
    h("div", { class: "actions" }, saveBtn, cancelBtn),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void save();
  });
  exprInput.addEventListener("input", clearError);

  // Backtest: the stock by name, 초성 or code.
  let btCode = "005930";
  const btSearch = searchBox(
    (hit) => {
      btCode = hit.code;
    },
    { keepValue: true, placeholder: t("backtestStockPlaceholder"), testid: "bt-stock" },
  );
  btSearch.input.value = "삼성전자 (005930)";
  btSearch.input.dataset.code = btCode;
  const btFrom = h("input", { type: "date", class: "bt-from", "aria-label": t("backtestFrom") });
  const btCommission = h("input", { type: "number", class: "bt-cost", "data-testid": "bt-commission", step: 0.001, min: 0, value: 0.015 });
  const btTax = h("input", { type: "number", class: "bt-cost", "data-testid": "bt-tax", step: 0.01, min: 0, value: 0.18 });
  const btOut = h("div", { class: "bt-out" });
  const btBtn = h("button", { type: "button", class: "primary", "data-testid": "bt-run", onclick: () => void runBacktest() }, t("run"));
  const bt = h(
    "section",
    { class: "panel backtest" },
    h("div", { class: "panel-head" }, h("h2", null, t("backtest"))),
    h(
      "div",
      { class: "field-row bt-form" },
      h("label", { class: "field inline grow" }, h("span", null, t("backtestStock")), btSearch.el),
      h("label", { class: "field inline" }, h("span", null, t("backtestFrom")), btFrom),
      h("label", { class: "field inline" }, h("span", null, t("commission")), btCommission, "%"),
      h("label", { class: "field inline" }, h("span", null, t("tax")), btTax, "%"),
      btBtn,
    ),
    btOut,
  );

  setChildren(
    root,
    h(
      "div",
      { class: "conditions-page" },
      h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", null, t("conditions")), h("button", { type: "button", class: "small", onclick: () => startNew() }, `+ ${t("newCondition")}`)), listBox),
      h("div", { class: "cond-side" }, h("section", { class: "panel" }, form), bt),
    ),
  );

  function clearError(): void {
    exprError.hidden = true;
    exprInput.classList.remove("invalid");
  }

  function showError(err: ApiError): void {
    showExprError(exprError, exprInput, err, clearError);
  }

  function startNew(): void {
    editing = null;
    title.textContent = t("newCondition");
    nameInput.value = "";
    exprInput.value = "";
    enabledInput.checked = true;
    modeSelect.value = "every_tick";
    cooldownInput.value = String(DEFAULT_COOLDOWN_MIN);
    notifyInput.checked = true;
    soundInput.checked = true;
    webhookInput.value = "";
    picker.set(null);
    clearError();
  }

  function startEdit(c: Condition): void {
    editing = c;
    title.textContent = `${t("edit")}: ${c.name}`;
    nameInput.value = c.name;
    exprInput.value = c.expr;
    enabledInput.checked = c.enabled;
    modeSelect.value = c.mode;
    cooldownInput.value = String(Math.round(c.cooldownSecs / 60));
    notifyInput.checked = c.notify;
    soundInput.checked = c.sound;
    webhookInput.value = c.webhook ?? "";
    picker.set(c.channels);
    clearError();
    nameInput.focus();
  }

  /** A PUT replaces the whole condition: every field is sent. */
  function body(): ConditionBody {
    const minutes = Number(cooldownInput.value);
    const b: ConditionBody = {
      name: nameInput.value.trim(),
      expr: exprInput.value.trim(),
      enabled: enabledInput.checked,
      mode: modeSelect.value as Mode,
      cooldown_secs: Number.isFinite(minutes) && cooldownInput.value.trim() !== "" ? Math.max(0, Math.round(minutes * 60)) : DEFAULT_COOLDOWN_MIN * 60,
      notify: notifyInput.checked,
      sound: soundInput.checked,
    };
    if (webhookInput.value.trim()) b.webhook = webhookInput.value.trim();
    b.channels = picker.get();
    keepScope(b, editing);
    return b;
  }

  async function save(): Promise<void> {
    clearError();
    saveBtn.disabled = true;
    try {
      if (editing) await api.updateCondition(editing.id, body());
      else await api.createCondition(body());
      triggers.conditionsChanged();
      startNew();
      await load();
    } catch (err) {
      if (err instanceof ApiError && err.position !== null) showError(err);
      else {
        setChildren(exprError, h("div", null, errorMessage(err)));
        exprError.hidden = false;
      }
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function toggle(c: Condition, enabled: boolean): Promise<void> {
    const b: ConditionBody = { name: c.name, expr: c.expr, enabled, mode: c.mode, cooldown_secs: c.cooldownSecs, notify: c.notify, sound: c.sound };
    if (c.webhook) b.webhook = c.webhook;
    keepScope(b, c);
    try {
      await api.updateCondition(c.id, b);
      triggers.conditionsChanged();
    } catch (err) {
      console.warn("kiswatch: toggle failed", err);
    }
    await load();
  }

  async function remove(c: Condition): Promise<void> {
    if (!confirm(`${t("confirmDelete")}\n${c.name}`)) return;
    try {
      await api.deleteCondition(c.id);
      triggers.conditionsChanged();
    } catch (err) {
      console.warn("kiswatch: delete failed", err);
    }
    if (editing?.id === c.id) startNew();
    await load();
  }

  function alertSummary(c: Condition): string {
    const parts = [modeLabel(c.mode), c.cooldownSecs > 0 ? t("cooldownEvery", { n: Math.round(c.cooldownSecs / 60) }) : t("noCooldown")];
    if (c.notify) parts.push(t("notifyShort"));
    if (c.sound) parts.push(t("soundShort"));
    return parts.join(" · ");
  }

  async function load(): Promise<void> {
    try {
      const list = await api.conditions();
      if (list.length === 0) {
        setChildren(listBox, h("p", { class: "empty" }, t("noConditions")));
        return;
      }
      setChildren(
        listBox,
        h(
          "table",
          { class: "cond-table" },
          h("thead", null, h("tr", null, h("th", null, t("enabled")), h("th", null, t("conditionName")), h("th", null, t("period")), h("th", null, t("expression")), h("th"))),
          h(
            "tbody",
            null,
            list.map((c) => {
              const toggleInput = h("input", { type: "checkbox", checked: c.enabled, "aria-label": t("enabled") });
              toggleInput.addEventListener("change", () => void toggle(c, toggleInput.checked));
              return h(
                "tr",
                { class: c.enabled ? "" : "disabled", "data-condition-id": c.id },
                h("td", null, toggleInput),
                h("td", { class: "cond-name-cell" }, c.name, h("div", { class: "cond-alerts muted" }, alertSummary(c))),
                h(
                  "td",
                  null,
                  h("span", { class: "badge period" }, periodLabel(c.period ?? conditionPeriod(c.expr))),
                  c.scope === "market" ? h("a", { href: scanUrl(c.id), "data-nav": true, class: "badge scan-scope", "data-testid": "cond-scope-market" }, t("navScan")) : null,
                ),
                h("td", null, h("code", null, c.expr)),
                h(
                  "td",
                  { class: "row-actions" },
                  h("button", { type: "button", class: "small", onclick: () => startEdit(c) }, t("edit")),
                  h("button", { type: "button", class: "small", onclick: () => void backtestOf(c.expr) }, t("backtest")),
                  h("button", { type: "button", class: "small danger", onclick: () => void remove(c) }, t("del")),
                ),
              );
            }),
          ),
        ),
      );
    } catch (err) {
      setChildren(listBox, errorPanel(err, () => void load()));
    }
  }

  function backtestOf(expr: string): void {
    exprInput.value = expr;
    void runBacktest();
  }

  async function runBacktest(): Promise<void> {
    const expr = exprInput.value.trim();
    if (!expr) {
      exprInput.focus();
      return;
    }
    // A code typed by hand works too.
    const typed = /^\s*([0-9A-Za-z]{6})\s*$/.exec(btSearch.input.value);
    const code = btSearch.input.dataset.code ?? typed?.[1] ?? btCode;
    if (!btSearch.input.dataset.code && !typed) {
      setChildren(btOut, h("p", { class: "warning" }, t("pickStock")));
      btSearch.focus();
      return;
    }
    setChildren(btOut, skeleton("rows", 3));
    btBtn.disabled = true;
    try {
      const fraction = (input: HTMLInputElement) => (input.value.trim() === "" ? undefined : Number(input.value) / 100);
      const r = await api.backtest(code, expr, { from: btFrom.value || undefined, commissionRate: fraction(btCommission), taxRate: fraction(btTax) });
      setChildren(btOut, renderBacktest(r));
    } catch (err) {
      if (err instanceof ApiError && err.position !== null) {
        setChildren(btOut);
        showError(err);
      } else setChildren(btOut, errorPanel(err, () => void runBacktest()));
    } finally {
      btBtn.disabled = false;
    }
  }

  startNew();
  void load();
  return () => {};
}

/**
 * A PUT replaces the whole condition, and one without `scope` is a watchlist condition: a 조건검색 condition
 * (made on `/scan`) edited or switched on here stays one, with its filters.
 */
function keepScope(b: ConditionBody, c: Condition | null): void {
  if (c?.scope !== "market") return;
  b.scope = "market";
  b.filters = c.filters ?? { markets: [], exclude: [], min_price: null, min_turnover: null };
}

/** A definition without its leading term (the list names it already). */
const definition = (key: "defHitRate" | "defMean" | "defNet" | "defBaseline" | "defBuyHold" | "defSignalClose") => t(key).replace(/^[^:]+:\s*/, "");
const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`);
const tone = (v: number | null) => (v === null ? "" : v > 0 ? "up" : v < 0 ? "down" : "flat");

function renderBacktest(r: BacktestResult): HTMLElement {
  const unit = t("bars");
  const span =
    r.from && r.to
      ? t("btSpan", { from: formatBarTime(r.from, r.period), to: formatBarTime(r.to, r.period), n: formatKrw(r.bars), unit, period: periodLabel(r.period) })
      : t("btNoBars");
  const costs = t("btCosts", { c: (r.costs.commissionRate * 100).toFixed(3), tax: (r.costs.taxRate * 100).toFixed(2) });
  const bh = r.buyAndHold;
  const horizonHead = (x: { bars: number }) => h("th", { class: "num" }, t("afterBars", { n: x.bars }));
  return h(
    "div",
    { class: "bt-result", "data-testid": "bt-result" },
    h("p", { class: "bt-span", "data-testid": "bt-span" }, `${r.name} (${r.code}) · ${span}`),
    r.shortHistory ? h("p", { class: "warning", "data-testid": "bt-short" }, t("btShort", { signals: r.count, bars: formatKrw(r.evaluatedBars) })) : null,
    h(
      "table",
      { class: "bt-summary" },
      h("thead", null, h("tr", null, h("th", null, ""), ...r.horizons.map(horizonHead))),
      h(
        "tbody",
        null,
        h("tr", null, h("th", { title: t("defHitRate") }, t("hitRate")), ...r.horizons.map((x) => h("td", { class: "num" }, pct(x.hitRate)))),
        h("tr", null, h("th", { title: t("defMean") }, t("meanReturn")), ...r.horizons.map((x) => h("td", { class: `num ${tone(x.meanReturn)}` }, formatRate(x.meanReturn)))),
        h("tr", null, h("th", { title: t("defNet") }, t("netReturn")), ...r.horizons.map((x) => h("td", { class: `num ${tone(x.netMeanReturn)}` }, formatRate(x.netMeanReturn)))),
        h(
          "tr",
          { class: "baseline" },
          h("th", { title: t("defBaseline") }, t("baselineHit")),
          ...r.horizons.map((x) => h("td", { class: "num" }, pct(x.baseline.hitRate))),
        ),
        h(
          "tr",
          { class: "baseline" },
          h("th", { title: t("defBaseline") }, t("baselineNet")),
          ...r.horizons.map((x) => h("td", { class: `num ${tone(x.baseline.netMeanReturn)}` }, formatRate(x.baseline.netMeanReturn))),
        ),
      ),
    ),
    h(
      "p",
      { class: "bt-count" },
      `${t("count")}: ${formatKrw(r.count)} · `,
      h("span", { "data-testid": "bt-buy-hold" }, bh ? t("btBuyHold", { gross: formatRate(bh.gross), net: formatRate(bh.net) }) : t("btBuyHoldNone")),
      ` · ${costs}`,
      r.signals.length
        ? h(
            "button",
            {
              type: "button",
              class: "small show-on-chart",
              onclick: () => {
                sessionStorage.setItem(BACKTEST_KEY, JSON.stringify({ code: r.code, times: r.signals.map((s) => s.time) }));
                navigate(`${stockUrl(r.code, { period: r.period })}&backtest=1`);
              },
            },
            t("showOnChart"),
          )
        : null,
    ),
    h(
      "details",
      { class: "bt-definitions", "data-testid": "bt-definitions" },
      h("summary", null, t("definitions")),
      h(
        "dl",
        null,
        h("dt", null, t("hitRate")),
        h("dd", null, definition("defHitRate")),
        h("dt", null, t("meanReturn")),
        h("dd", null, definition("defMean")),
        h("dt", null, t("netReturn")),
        h("dd", null, definition("defNet")),
        h("dt", null, t("baselineShort")),
        h("dd", null, definition("defBaseline")),
        h("dt", null, t("buyHold")),
        h("dd", null, definition("defBuyHold")),
        h("dt", null, t("signalClose")),
        h("dd", null, definition("defSignalClose")),
      ),
    ),
    h(
      "div",
      { class: "bt-signals" },
      h(
        "table",
        null,
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", null, t("signalTime")),
            h("th", { class: "num" }, t("signalClose")),
            ...["1", "5", "20"].map((n) => h("th", { class: "num" }, t("afterBarsNet", { n }))),
          ),
        ),
        h(
          "tbody",
          null,
          [...r.signals].reverse().slice(0, 200).map((s) =>
            h(
              "tr",
              { "data-testid": "bt-signal" },
              h("td", null, h("a", { href: stockUrl(r.code, { period: r.period }), "data-nav": true }, formatBarTime(s.time, r.period))),
              h("td", { class: "num" }, formatKrw(s.close)),
              ...["1", "5", "20"].map((n) => {
                const v = s.netReturns[n] ?? null;
                return h("td", { class: `num ${tone(v)}` }, formatRate(v));
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
