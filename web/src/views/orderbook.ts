// The 10-level order book (호가창): asks above (highest at the top, blue tint), the current price between,
// bids below (red tint); each level with its price, quantity and a quantity bar; totals at the bottom; the
// columns named at the top (매도잔량 · 호가 · 매수잔량). Prices are coloured against the previous close, like the
// header.
//
// The rows are made once and updated in place: a realtime book arrives every frame, and rebuilding a hundred
// elements each time made the page's layout work grow with the market's pace.

import { h, setText } from "../dom";
import { direction, formatChange, formatKrw, formatMaybe, formatRate } from "../format";
import { t } from "../i18n";
import type { Level, OrderBook, Quote } from "../model";

const LEVELS = 10;

interface Row {
  el: HTMLElement;
  price: HTMLElement;
  qty: HTMLElement;
  bar: HTMLElement;
}

export class OrderBookView {
  readonly el: HTMLElement;
  private readonly asks: Row[];
  private readonly bids: Row[];
  private readonly midChange: HTMLElement;
  private readonly midPrice: HTMLElement;
  private readonly midRate: HTMLElement;
  private readonly totalAsk: HTMLElement;
  private readonly totalBid: HTMLElement;

  constructor() {
    const row = (side: "ask" | "bid"): Row => {
      const bar = h("div", { class: "qty-bar" });
      const qtyText = h("span");
      const qty = h("div", { class: "ob-qty num" }, bar, qtyText);
      const price = h("div", { class: "ob-price num" });
      const el = side === "ask" ? h("div", { class: "ob-row ask" }, qty, price, h("div", { class: "ob-empty" })) : h("div", { class: "ob-row bid" }, h("div", { class: "ob-empty" }), price, qty);
      return { el, price, qty: qtyText, bar };
    };
    this.asks = Array.from({ length: LEVELS }, () => row("ask"));
    this.bids = Array.from({ length: LEVELS }, () => row("bid"));
    this.midChange = h("div", { class: "num" });
    this.midPrice = h("div", { class: "ob-price num current" });
    this.midRate = h("div", { class: "num" });
    this.totalAsk = h("div", { class: "num down" });
    this.totalBid = h("div", { class: "num up" });
    this.el = h(
      "div",
      { class: "ob" },
      h("div", { class: "ob-row ob-head" }, h("div", { class: "ob-label" }, t("totalAsk")), h("div", { class: "ob-label" }, t("askBidPrice")), h("div", { class: "ob-label" }, t("totalBid"))),
      // Highest ask at the top.
      [...this.asks].reverse().map((r) => r.el),
      h("div", { class: "ob-row mid" }, this.midChange, this.midPrice, this.midRate),
      this.bids.map((r) => r.el),
      h("div", { class: "ob-row totals" }, this.totalAsk, h("div", { class: "ob-label" }, t("totals")), this.totalBid),
    );
  }

  update(book: OrderBook, quote: Quote | null): void {
    const max = Math.max(1, ...book.asks.map((l) => l.quantity), ...book.bids.map((l) => l.quantity));
    const base = quote?.basePrice ?? (quote && quote.price !== null && quote.change !== null ? quote.price - quote.change : null);
    const current = quote?.price ?? null;
    const paint = (r: Row, l: Level | undefined) => {
      r.el.hidden = !l;
      if (!l) return;
      setText(r.price, formatKrw(l.price));
      r.price.className = `ob-price num ${base === null ? "" : direction(l.price - base)}${l.price === current ? " current" : ""}`;
      setText(r.qty, formatKrw(l.quantity));
      r.bar.style.width = `${((l.quantity / max) * 100).toFixed(1)}%`;
    };
    this.asks.forEach((r, i) => paint(r, book.asks[i]));
    this.bids.forEach((r, i) => paint(r, book.bids[i]));
    const d = direction(quote?.change);
    setText(this.midChange, formatChange(quote?.change));
    setText(this.midPrice, formatMaybe(current));
    setText(this.midRate, formatRate(quote?.rate));
    this.midChange.className = `num ${d}`;
    this.midPrice.className = `ob-price num current ${d}`;
    this.midRate.className = `num ${d}`;
    setText(this.totalAsk, formatKrw(book.totalAsk));
    setText(this.totalBid, formatKrw(book.totalBid));
  }
}
