// Small pieces several views draw the same way: price cells, badges, the error panel, skeletons.

import type { ApiError } from "../api";
import { h } from "../dom";
import { direction, formatChange, formatMaybe, formatRate, limitBadge, signDirection } from "../format";
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

/** The period a condition expression runs on: its `30m:` prefix, or daily without one. */
export function conditionPeriod(expr: string): string {
  const m = /^\s*(1m|3m|5m|10m|15m|30m|60m|D|W|M)\s*:/.exec(expr);
  return m ? m[1] : "D";
}
