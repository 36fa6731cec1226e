// The 10-level order book (호가창): asks above (highest at the top, blue tint), the current price between,
// bids below (red tint); each level with its price, quantity and a quantity bar; totals at the bottom; the
// columns named at the top (매도잔량 · 호가 · 매수잔량).

import { h } from "../dom";
import { direction, formatChange, formatKrw, formatMaybe, formatRate } from "../format";
import { t } from "../i18n";
import type { Level, OrderBook, Quote } from "../model";

export function renderOrderBook(book: OrderBook, quote: Quote | null): HTMLElement {
  const max = Math.max(1, ...book.asks.map((l) => l.quantity), ...book.bids.map((l) => l.quantity));
  const base = quote && quote.price !== null && quote.change !== null ? quote.price - quote.change : null;
  const priceClass = (p: number) => (base === null ? "" : direction(p - base));
  const current = quote?.price ?? null;
  const level = (l: Level, sideName: "ask" | "bid") => {
    const bar = h("div", { class: "qty-bar", style: `width:${((l.quantity / max) * 100).toFixed(1)}%` });
    const qty = h("div", { class: "ob-qty num" }, bar, h("span", null, formatKrw(l.quantity)));
    const price = h("div", { class: `ob-price num ${priceClass(l.price)}${l.price === current ? " current" : ""}` }, formatKrw(l.price));
    return sideName === "ask"
      ? h("div", { class: "ob-row ask" }, qty, price, h("div", { class: "ob-empty" }))
      : h("div", { class: "ob-row bid" }, h("div", { class: "ob-empty" }), price, qty);
  };
  const asks = [...book.asks].reverse().map((l) => level(l, "ask"));
  const bids = book.bids.map((l) => level(l, "bid"));
  const d = direction(quote?.change);
  const mid = h(
    "div",
    { class: "ob-row mid" },
    h("div", { class: `num ${d}` }, formatChange(quote?.change)),
    h("div", { class: `ob-price num current ${d}` }, formatMaybe(current)),
    h("div", { class: `num ${d}` }, formatRate(quote?.rate)),
  );
  const totals = h(
    "div",
    { class: "ob-row totals" },
    h("div", { class: "num down" }, formatKrw(book.totalAsk)),
    h("div", { class: "ob-label" }, t("totals")),
    h("div", { class: "num up" }, formatKrw(book.totalBid)),
  );
  const head = h(
    "div",
    { class: "ob-row ob-head" },
    h("div", { class: "ob-label" }, t("totalAsk")),
    h("div", { class: "ob-label" }, t("askBidPrice")),
    h("div", { class: "ob-label" }, t("totalBid")),
  );
  return h("div", { class: "ob" }, head, asks, mid, bids, totals);
}
