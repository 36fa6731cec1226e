// The executions (체결) panel: a fixed-height box that scrolls on its own (`overscroll-behavior: contain`, so
// reaching its end never scrolls the page), newest on top. When the reader has scrolled down, new rows are
// inserted above without moving what they read (the scroll offset grows by the inserted height) and a
// "새 체결 N건" button offers the way back to the top.

import { h } from "../dom";
import { direction, formatChange, formatKrw, formatKstTime } from "../format";
import { t } from "../i18n";
import type { Execution, Quote } from "../model";

const MAX_ROWS = 300;

export class ExecutionsPanel {
  readonly el: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly list: HTMLElement;
  private readonly pill: HTMLButtonElement;
  private readonly seen = new Set<string>();
  private newest = "";
  private unseen = 0;

  constructor() {
    this.list = h("div", { class: "ex-list" });
    this.scroller = h("div", { class: "ex-scroll" }, this.list);
    this.pill = h("button", { type: "button", class: "new-pill", hidden: true, onclick: () => this.toTop() });
    this.el = h(
      "div",
      { class: "executions", "data-testid": "executions" },
      h("div", { class: "ex-row ex-head" }, h("span", null, t("time")), h("span", { class: "num" }, t("price")), h("span", { class: "num" }, t("change")), h("span", { class: "num" }, t("quantity"))),
      this.scroller,
      this.pill,
    );
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop <= 2) {
        this.unseen = 0;
        this.pill.hidden = true;
      }
    });
  }

  /** Adds executions (any order); ones already shown are skipped. */
  merge(list: Execution[], quote: Quote | null): void {
    const fresh = list
      .filter((e) => e.time >= this.newest || this.seen.size === 0)
      .filter((e) => !this.seen.has(key(e)))
      .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    if (fresh.length === 0) return;
    const base = quote && quote.price !== null && quote.change !== null ? quote.price - quote.change : null;
    const rows: HTMLElement[] = [];
    for (const e of fresh) {
      this.seen.add(key(e));
      if (e.time > this.newest) this.newest = e.time;
      rows.unshift(row(e, base));
    }
    const reading = this.scroller.scrollTop > 2;
    const before = this.list.scrollHeight;
    this.list.prepend(...rows);
    while (this.list.childElementCount > MAX_ROWS) this.list.lastElementChild?.remove();
    if (reading) {
      // Keep what the reader looks at where it is.
      this.scroller.scrollTop += this.list.scrollHeight - before;
      this.unseen += rows.length;
      this.pill.textContent = t("newExecutions", { n: this.unseen });
      this.pill.hidden = false;
    }
    if (this.seen.size > MAX_ROWS * 4) {
      this.seen.clear();
      for (const r of this.list.children) this.seen.add((r as HTMLElement).dataset.key ?? "");
    }
  }

  private toTop(): void {
    this.scroller.scrollTo({ top: 0 });
    this.unseen = 0;
    this.pill.hidden = true;
  }

  destroy(): void {
    this.seen.clear();
  }
}

function key(e: Execution): string {
  return `${e.time}|${e.price}|${e.quantity}|${e.change}`;
}

function row(e: Execution, base: number | null): HTMLElement {
  const d = e.side === "buy" ? "up" : e.side === "sell" ? "down" : base !== null ? direction(e.price - base) : direction(e.change);
  return h(
    "div",
    { class: `ex-row ${d}`, "data-key": key(e) },
    h("span", { class: "ex-time" }, formatKstTime(e.time)),
    h("span", { class: "num" }, formatKrw(e.price)),
    h("span", { class: "num" }, formatChange(e.change)),
    h("span", { class: "num" }, formatKrw(e.quantity)),
  );
}
