// The executions (체결) panel: a fixed-height box that scrolls on its own (`overscroll-behavior: contain`, so
// reaching its end never scrolls the page), newest on top. When the reader has scrolled down, new rows are
// inserted above without moving what they read (the scroll offset grows by the inserted height) and a
// "새 체결 N건" button offers the way back to the top.
//
// Colours follow one rule each, as on an HTS: the price and 대비 against the previous close (like the header:
// above red, below blue), the quantity by who initiated the trade (buyer red, seller blue) — with a legend —
// and neutral where the source does not say (trades loaded over REST carry no side). 체결강도 is the latest
// trade's.

import { h } from "../dom";
import { direction, formatChange, formatKrw, formatKstTime } from "../format";
import { t } from "../i18n";
import type { Execution, Quote } from "../model";

/** The rows kept: five boxes of scrolling back. Each row is nine layout objects the page walks on every frame
 * (at 300 rows they were most of a stock page's objects, and its per-frame layout and paint with them). */
const MAX_ROWS = 100;

export class ExecutionsPanel {
  readonly el: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly list: HTMLElement;
  private readonly pill: HTMLButtonElement;
  private readonly seen = new Set<string>();
  private newest = "";
  private newestStrength: number | null = null;
  private unseen = 0;
  /** The reader has scrolled away from the top (kept from scroll events: reading `scrollTop` on every batch
   * would force a layout of the whole page each time trades arrive). */
  private away = false;
  /** The legend for the quantity colours (the page puts it in the panel's head). */
  readonly legend: HTMLElement;

  constructor() {
    this.legend = h(
      "span",
      { class: "ex-legend", "data-testid": "executions-legend" },
      h("span", { class: "muted" }, `${t("quantity")}: `),
      h("span", { class: "side-buy" }, `● ${t("buySide")}`),
      " ",
      h("span", { class: "side-sell" }, `● ${t("sellSide")}`),
    );
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
      this.away = this.scroller.scrollTop > 2;
      if (!this.away) {
        this.unseen = 0;
        this.pill.hidden = true;
      }
    });
  }

  /**
   * Adds executions (any order); ones already shown are skipped. Trades newer than the newest shown go on top;
   * older ones (a REST answer that arrives after the first live trades) take their place by time below, so
   * nothing is lost to the order in which the two sources answer.
   */
  merge(list: Execution[], quote: Quote | null): void {
    const fresh = list.filter((e) => !this.seen.has(key(e))).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    if (fresh.length === 0) return;
    const base = quote && quote.price !== null && quote.change !== null ? quote.price - quote.change : null;
    const rows: HTMLElement[] = [];
    const older: Execution[] = [];
    for (const e of fresh) {
      this.seen.add(key(e));
      if (e.time >= this.newest) {
        this.newest = e.time;
        if (Number.isFinite(e.strength) && e.strength > 0) this.newestStrength = e.strength;
        rows.unshift(row(e, base));
      } else {
        older.push(e);
      }
    }
    for (const e of older) this.placeByTime(row(e, base), e.time);
    if (rows.length === 0) return;
    // Layout is read only while the reader is scrolled away (then their rows must stay where they are).
    const reading = this.away && this.list.childElementCount > 0;
    const before = reading ? this.list.scrollHeight : 0;
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

  /** Puts an older trade below every row at least as new (the list runs newest first); past a full list it is left out. */
  private placeByTime(el: HTMLElement, time: string): void {
    let after: Element | null = this.list.lastElementChild;
    while (after && ((after as HTMLElement).dataset.key ?? "") < time) after = after.previousElementSibling;
    if (after === this.list.lastElementChild && this.list.childElementCount >= MAX_ROWS) return;
    if (after) after.after(el);
    else this.list.prepend(el);
  }

  /** 체결강도 of the newest trade shown (`null` before any). */
  get strength(): number | null {
    return this.newestStrength;
  }

  private toTop(): void {
    this.scroller.scrollTo({ top: 0 });
    this.away = false;
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

/** The colours of one trade: price and 대비 against the previous close, the quantity by side. */
export function executionTones(e: Pick<Execution, "price" | "change" | "side">, base: number | null): { price: string; quantity: string } {
  const price = base !== null ? direction(e.price - base) : direction(e.change);
  const quantity = e.side === "buy" ? "up" : e.side === "sell" ? "down" : "neutral";
  return { price, quantity };
}

function row(e: Execution, base: number | null): HTMLElement {
  const tone = executionTones(e, base);
  return h(
    "div",
    { class: "ex-row", "data-key": key(e), "data-side": e.side ?? "" },
    h("span", { class: "ex-time" }, formatKstTime(e.time)),
    h("span", { class: `num ex-price ${tone.price}` }, formatKrw(e.price)),
    h("span", { class: `num ex-change ${tone.price}` }, formatChange(e.change)),
    h("span", { class: `num ex-qty ${tone.quantity}` }, formatKrw(e.quantity)),
  );
}
