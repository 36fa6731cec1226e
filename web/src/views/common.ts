// Small pieces several views draw the same way: price cells, badges, the error panel, skeletons.

import type { ApiError } from "../api";
import { h, setChildren } from "../dom";
import { direction, formatChange, formatKrw, formatMaybe, formatRate, limitBadge, signDirection } from "../format";
import { lang, t } from "../i18n";
import type { Alignment, Quote, StockStatus } from "../model";

export function statusBadge(status: StockStatus | null): HTMLElement {
  const s = status ?? "stale";
  return h("span", { class: `badge status-${s}`, "data-status": s }, t(s));
}

export function alignmentLabel(a: Alignment | null): string {
  return a ? t(a) : t("unknownAlignment");
}

export function alignmentBadge(a: Alignment | null, period?: string): HTMLElement {
  return h(
    "span",
    { class: `badge align align-${a ?? "unknown"}`, title: period ?? "" },
    period ? h("span", { class: "align-period" }, period) : null,
    alignmentLabel(a),
  );
}

/** Fills the price, change and rate cells with text and colour from a quote. */
export function paintQuote(
  q: Pick<Quote, "price" | "change" | "rate" | "sign">,
  cells: { price: HTMLElement; change: HTMLElement; rate: HTMLElement; badge?: HTMLElement },
): void {
  const d = q.sign ? signDirection(q.sign) : direction(q.change);
  for (const el of [cells.price, cells.change, cells.rate]) {
    el.classList.remove("up", "down", "flat");
    el.classList.add(d);
  }
  cells.price.textContent = formatMaybe(q.price);
  cells.change.textContent = formatChange(q.change);
  cells.rate.textContent = formatRate(q.rate);
  if (cells.badge) {
    const b = limitBadge(q.sign);
    cells.badge.className = b ? `badge ${b.cls}` : "";
    cells.badge.textContent = b ? b.text : "";
    cells.badge.hidden = !b;
  }
}

export function errorMessage(err: unknown): string {
  const e = err as Partial<ApiError> | null;
  if (e && typeof e === "object" && typeof e.messageKo === "string") {
    return lang() === "en" ? (e.message ?? e.messageKo) : e.messageKo;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The panel shown instead of a blank chart: what failed, in the user's language, and a 재시도 button. */
export function errorPanel(err: unknown, retry: () => void): HTMLElement {
  const e = err as Partial<ApiError> | null;
  const after = e && typeof e.retryAfter === "number" ? e.retryAfter : null;
  return h(
    "div",
    { class: "error-panel", role: "alert" },
    h("div", { class: "error-title" }, t("loadFailed")),
    h("div", { class: "error-reason" }, errorMessage(err)),
    after !== null ? h("div", { class: "error-hint" }, t("retryAfter", { n: after })) : null,
    h("button", { type: "button", class: "primary", "data-testid": "error-retry", onclick: retry }, t("retry")),
  );
}

export function skeleton(cls: string, lines = 6): HTMLElement {
  return h(
    "div",
    { class: `skeleton ${cls}`, "aria-busy": "true" },
    Array.from({ length: lines }, () => h("div", { class: "skeleton-line" })),
  );
}

const KOREAN_PERIODS: Record<string, string> = { 일: "D", 주: "W", 월: "M" };

/** The period a condition expression runs on: its `30m:` (or `30분:`, `일:`) prefix, or daily without one. */
export function conditionPeriod(expr: string): string {
  const m = /^\s*(1m|3m|5m|10m|15m|30m|60m|D|W|M|\d+분|일|주|월)\s*:/.exec(expr);
  if (!m) return "D";
  const p = m[1];
  if (p.endsWith("분")) return `${p.slice(0, -1)}m`;
  return KOREAN_PERIODS[p] ?? p;
}

const PERIOD_LABEL_KO: Record<string, string> = {
  "1m": "1분",
  "3m": "3분",
  "5m": "5분",
  "10m": "10분",
  "15m": "15분",
  "30m": "30분",
  "60m": "60분",
  D: "일",
  W: "주",
  M: "월",
};

/** A period as the UI names it: `1분`, `30분`, `일` (`1m`, `30m`, `D` in English). */
export function periodLabel(p: string): string {
  return lang() === "en" ? p : (PERIOD_LABEL_KO[p] ?? p);
}

/** A value of a condition (an average, a price, a volume): whole numbers with separators, else two decimals. */
export function formatValue(v: number): string {
  return Number.isInteger(v) ? formatKrw(v) : v.toLocaleString("ko-KR", { minimumFractionDigits: 0, maximumFractionDigits: 2 });
}

/** `text` with the word at `pos` (letters, digits, Hangul) replaced by `word`. */
export function replaceWordAt(text: string, pos: number, word: string): string {
  const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);
  let start = Math.min(pos, text.length);
  let end = start;
  while (start > 0 && isWord(text[start - 1])) start--;
  while (end < text.length && isWord(text[end])) end++;
  return text.slice(0, start) + word + text.slice(end);
}


/**
 * Shows a condition the service refused under its field: for a parse error (422 with `position`) the text
 * with the character the parser stopped at marked, a caret under it, the message and the parser's "did you
 * mean"; for any other refusal (a 400 such as `intraday_market_scope`) the message alone.
 */
export function showExprError(box: HTMLElement, input: HTMLInputElement | HTMLTextAreaElement, err: unknown, clear: () => void): void {
  const e = err as Partial<ApiError> | null;
  const position = e && typeof e === "object" && typeof e.position === "number" ? e.position : null;
  input.classList.add("invalid");
  box.hidden = false;
  if (position === null) {
    setChildren(box, h("div", { class: "expr-message" }, errorMessage(err)));
    return;
  }
  const expr = input.value;
  const pos = Math.max(0, Math.min(position, expr.length));
  const message = errorMessage(err);
  const suggestion = e?.suggestion ?? null;
  setChildren(
    box,
    h("pre", { class: "expr-echo" }, h("span", null, expr.slice(0, pos)), h("mark", null, expr.slice(pos, pos + 1) || " "), h("span", null, expr.slice(pos + 1))),
    h("pre", { class: "expr-caret" }, `${" ".repeat(pos)}^`),
    // People count characters from 1; the caret above uses the service's 0-based offset.
    h("div", { class: "expr-message" }, /번째|character|position/.test(message) ? message : `${t("atPosition", { n: pos + 1 })}: ${message}`),
    suggestion
      ? h(
          "div",
          { class: "expr-suggestion" },
          `${t("didYouMean", { name: suggestion })} `,
          h(
            "button",
            {
              type: "button",
              class: "small",
              "data-testid": "apply-suggestion",
              onclick: () => {
                input.value = replaceWordAt(input.value, pos, suggestion);
                clear();
                input.focus();
              },
            },
            t("applySuggestion"),
          ),
        )
      : null,
  );
  input.focus();
  input.setSelectionRange(pos, Math.min(expr.length, pos + 1));
}
