// The conditions page: list, create, edit, enable/disable, delete; presets in one click; parse errors shown
// inline under the character the parser stopped at (422 `position`, `message_ko`); "test on history" runs the
// backtest and shows the signals and the summary.

import { ApiError, api, type ConditionBody } from "../api";
import { h, setChildren } from "../dom";
import { formatKrw, formatKstDateTime, formatRate } from "../format";
import { lang, t } from "../i18n";
import type { BacktestResult, Condition } from "../model";
import { navigate, stockUrl } from "../router";
import { BACKTEST_KEY } from "./stock";
import { conditionPeriod, errorMessage, errorPanel, skeleton } from "./common";

const PRESETS: Array<{ ko: string; en: string; expr: string }> = [
  { ko: "정배열", en: "Bullish alignment", expr: "정배열" },
  { ko: "역배열", en: "Bearish alignment", expr: "역배열" },
  { ko: "골든크로스", en: "Golden cross", expr: "골든크로스" },
  { ko: "데드크로스", en: "Dead cross", expr: "데드크로스" },
  { ko: "이평선돌파", en: "MA breakout", expr: "이평선돌파" },
];
const PERIODS = ["1m", "3m", "5m", "10m", "15m", "30m", "60m", "D", "W", "M"];

export function mountConditions(root: HTMLElement): () => void {
  let editing: Condition | null = null;
  const listBox = h("div", { class: "cond-list" }, skeleton("rows", 4));

  // Editor
  const nameInput = h("input", { type: "text", class: "cond-name", maxlength: 100, placeholder: t("conditionName") });
  const exprInput = h("textarea", { class: "cond-expr", rows: 3, spellcheck: "false", placeholder: "30m: ma(20) > ma(60) > ma(120) > ma(240)" });
  const exprError = h("div", { class: "expr-error", role: "alert", hidden: true });
  const enabledInput = h("input", { type: "checkbox", checked: true });
  const cooldownInput = h("input", { type: "number", min: 0, step: 60, class: "cooldown", placeholder: "0" });
  const webhookInput = h("input", { type: "url", class: "webhook", placeholder: "https://…" });
  const periodSelect = h("select", { class: "preset-period", "aria-label": t("presetPeriod") }, PERIODS.map((p) => h("option", { value: p, selected: p === "30m" }, p)));
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
                nameInput.value = `${periodSelect.value} ${lang() === "en" ? p.en : p.ko}`;
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
      "div",
      { class: "field-row" },
      h("label", { class: "check" }, enabledInput, t("enabled")),
      h("label", { class: "field inline" }, h("span", null, t("cooldown")), cooldownInput),
      h("label", { class: "field inline grow" }, h("span", null, t("webhook")), webhookInput),
    ),
    h("div", { class: "actions" }, saveBtn, cancelBtn),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void save();
  });
  exprInput.addEventListener("input", clearError);

  // Backtest
  const btCode = h("input", { type: "text", class: "bt-code", value: "005930", maxlength: 6, "aria-label": t("backtestCode") });
  const btFrom = h("input", { type: "date", class: "bt-from", "aria-label": t("backtestFrom") });
  const btOut = h("div", { class: "bt-out" });
  const btBtn = h("button", { type: "button", onclick: () => void runBacktest() }, t("run"));
  const bt = h(
    "section",
    { class: "panel backtest" },
    h("div", { class: "panel-head" }, h("h2", null, t("backtest"))),
    h("div", { class: "field-row" }, h("label", { class: "field inline" }, h("span", null, t("backtestCode")), btCode), h("label", { class: "field inline" }, h("span", null, t("backtestFrom")), btFrom), btBtn),
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

  function showExprError(err: ApiError): void {
    const expr = exprInput.value;
    const pos = Math.max(0, Math.min(err.position ?? 0, expr.length));
    exprInput.classList.add("invalid");
    setChildren(
      exprError,
      h("pre", { class: "expr-echo" }, h("span", null, expr.slice(0, pos)), h("mark", null, expr.slice(pos, pos + 1) || " "), h("span", null, expr.slice(pos + 1))),
      h("pre", { class: "expr-caret" }, `${" ".repeat(pos)}^`),
      h("div", null, /번째|position/.test(errorMessage(err)) ? errorMessage(err) : `${t("atPosition", { n: pos + 1 })}: ${errorMessage(err)}`),
    );
    exprError.hidden = false;
    exprInput.focus();
    exprInput.setSelectionRange(pos, Math.min(expr.length, pos + 1));
  }

  function startNew(): void {
    editing = null;
    title.textContent = t("newCondition");
    nameInput.value = "";
    exprInput.value = "";
    enabledInput.checked = true;
    cooldownInput.value = "";
    webhookInput.value = "";
    clearError();
  }

  function startEdit(c: Condition): void {
    editing = c;
    title.textContent = `${t("edit")}: ${c.name}`;
    nameInput.value = c.name;
    exprInput.value = c.expr;
    enabledInput.checked = c.enabled;
    cooldownInput.value = c.cooldownSecs !== null ? String(c.cooldownSecs) : "";
    webhookInput.value = c.webhook ?? "";
    clearError();
    nameInput.focus();
  }

  function body(): ConditionBody {
    const b: ConditionBody = { name: nameInput.value.trim(), expr: exprInput.value.trim(), enabled: enabledInput.checked };
    if (cooldownInput.value.trim() !== "") b.cooldown_secs = Math.max(0, Math.floor(Number(cooldownInput.value)));
    if (webhookInput.value.trim()) b.webhook = webhookInput.value.trim();
    if (editing?.mode) b.mode = editing.mode;
    return b;
  }

  async function save(): Promise<void> {
    clearError();
    saveBtn.disabled = true;
    try {
      if (editing) await api.updateCondition(editing.id, body());
      else await api.createCondition(body());
      startNew();
      await load();
    } catch (err) {
      if (err instanceof ApiError && err.position !== null) showExprError(err);
      else {
        setChildren(exprError, h("div", null, errorMessage(err)));
        exprError.hidden = false;
      }
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function toggle(c: Condition, enabled: boolean): Promise<void> {
    const b: ConditionBody = { name: c.name, expr: c.expr, enabled };
    if (c.mode) b.mode = c.mode;
    if (c.cooldownSecs !== null) b.cooldown_secs = c.cooldownSecs;
    if (c.webhook) b.webhook = c.webhook;
    try {
      await api.updateCondition(c.id, b);
    } catch (err) {
      console.warn("kiswatch: toggle failed", err);
    }
    await load();
  }

  async function remove(c: Condition): Promise<void> {
    if (!confirm(`${t("confirmDelete")}\n${c.name}`)) return;
    try {
      await api.deleteCondition(c.id);
    } catch (err) {
      console.warn("kiswatch: delete failed", err);
    }
    if (editing?.id === c.id) startNew();
    await load();
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
                h("td", { class: "cond-name-cell" }, c.name),
                h("td", null, h("span", { class: "badge period" }, conditionPeriod(c.expr))),
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
    setChildren(btOut, skeleton("rows", 3));
    btBtn.disabled = true;
    try {
      const r = await api.backtest(btCode.value.trim(), expr, btFrom.value || undefined);
      setChildren(btOut, renderBacktest(r, btCode.value.trim()));
    } catch (err) {
      if (err instanceof ApiError && err.position !== null) {
        setChildren(btOut);
        showExprError(err);
      } else setChildren(btOut, errorPanel(err, () => void runBacktest()));
    } finally {
      btBtn.disabled = false;
    }
  }

  startNew();
  void load();
  return () => {};
}

function renderBacktest(r: BacktestResult, code: string): HTMLElement {
  const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`);
  return h(
    "div",
    { class: "bt-result" },
    h(
      "table",
      { class: "bt-summary" },
      h("thead", null, h("tr", null, h("th", null, ""), ...r.horizons.map((x) => h("th", { class: "num" }, lang() === "en" ? `+${x.bars} bars` : `${x.bars}봉 후`)))),
      h(
        "tbody",
        null,
        h("tr", null, h("th", null, t("hitRate")), ...r.horizons.map((x) => h("td", { class: "num" }, pct(x.hitRate)))),
        h("tr", null, h("th", null, t("meanReturn")), ...r.horizons.map((x) => h("td", { class: `num ${x.meanReturn === null ? "" : x.meanReturn > 0 ? "up" : x.meanReturn < 0 ? "down" : "flat"}` }, formatRate(x.meanReturn)))),
      ),
    ),
    h(
      "p",
      { class: "bt-count" },
      `${t("count")}: ${formatKrw(r.count)}`,
      r.bars !== null ? ` / ${formatKrw(r.bars)} bars (${r.period})` : "",
      r.signals.length
        ? h(
            "button",
            {
              type: "button",
              class: "small show-on-chart",
              onclick: () => {
                sessionStorage.setItem(BACKTEST_KEY, JSON.stringify({ code, times: r.signals.map((s) => s.time) }));
                navigate(`${stockUrl(code, { period: r.period })}&backtest=1`);
              },
            },
            t("showOnChart"),
          )
        : null,
    ),
    h(
      "div",
      { class: "bt-signals" },
      h(
        "table",
        null,
        h("thead", null, h("tr", null, h("th", null, t("time")), h("th", { class: "num" }, t("price")), h("th", { class: "num" }, "+1"), h("th", { class: "num" }, "+5"), h("th", { class: "num" }, "+20"))),
        h(
          "tbody",
          null,
          [...r.signals].reverse().slice(0, 200).map((s) =>
            h(
              "tr",
              null,
              h("td", null, h("a", { href: stockUrl(code, { period: r.period }), "data-nav": true }, formatKstDateTime(s.time))),
              h("td", { class: "num" }, s.price === null ? "—" : formatKrw(s.price)),
              ...["1", "5", "20"].map((n) => {
                const v = s.returns[n] ?? null;
                return h("td", { class: `num ${v === null ? "" : v > 0 ? "up" : v < 0 ? "down" : "flat"}` }, formatRate(v));
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
