// The home page: the watchlist (dense rows, live prices, alignment per condition period), the search that
// adds to it, and the trigger list. A trigger arriving here marks its row (a yellow blink, then a steady mark
// until acknowledged) and opens the stock's page as the settings say.

import { beep, notify, openTriggerPage, popupBlockedBanner, soundUnlocked } from "../alerts";
import { api } from "../api";
import { live, settings, triggers } from "../app";
import { flash, h, setChildren, setText } from "../dom";
import { formatKoreanAmount, formatKrw, formatKstDateTime, formatKstShort, formatMaybe } from "../format";
import { t } from "../i18n";
import { LIVE_FRESH_MS } from "../feed";
import { groupTriggers, orderedValues, quoteFromTick, type Quote, type Trigger, type TriggerGroup, type WatchItem } from "../model";
import { stockUrl } from "../router";
import { alignmentBadge, conditionPeriod, errorMessage, errorPanel, formatValue, paintQuote, periodLabel, skeleton, statusBadge } from "./common";
import { searchBox } from "./search";
import { toast } from "./toast";

interface Row {
  item: WatchItem;
  tr: HTMLTableRowElement;
  price: HTMLElement;
  change: HTMLElement;
  rate: HTMLElement;
  volume: HTMLElement;
  turnover: HTMLElement;
  limit: HTMLElement;
  align: HTMLElement;
  status: HTMLElement;
  ack: HTMLButtonElement;
}

export function mountHome(root: HTMLElement, banners: HTMLElement): () => void {
  const cleanups: Array<() => void> = [];
  let rows = new Map<string, Row>();
  let order: string[] = [];
  let periods: string[] = [];
  let releaseLive: (() => void) | null = null;
  const blinking = new Set<string>();
  const lastAlignment = new Map<string, number>();
  let lastConditions = -Infinity;
  let destroyed = false;

  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "watchlist" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { class: "col-handle" }),
        h("th", { class: "col-name" }, t("name")),
        h("th", { class: "num" }, t("price")),
        h("th", { class: "num col-change" }, t("change")),
        h("th", { class: "num col-rate" }, t("rate")),
        h("th", { class: "num col-volume" }, t("volume")),
        h("th", { class: "num col-turnover" }, t("turnover")),
        h("th", { class: "col-align" }, t("alignment")),
        h("th", { class: "col-status" }, t("status")),
        h("th", { class: "col-actions" }),
      ),
    ),
    tbody,
  );
  const listBox = h("section", { class: "watchlist-box" }, skeleton("rows", 8));
  const triggerList = h("ol", { class: "trigger-list" });
  const ackAll = h("button", { type: "button", class: "small", onclick: () => void acknowledge(triggers.items.filter((x) => !x.acked)) }, t("ackAll"));
  const search = searchBox((hit) => void add(hit.code, hit.name), { watched: () => new Set(order) });

  setChildren(
    root,
    h(
      "div",
      { class: "home" },
      h("div", { class: "home-main" }, h("div", { class: "toolbar" }, search.el), listBox),
      h("aside", { class: "home-side" }, h("div", { class: "panel-head" }, h("h2", null, t("triggers")), ackAll), triggerList),
    ),
  );

  async function load(): Promise<void> {
    try {
      const [items, conds] = await Promise.all([api.watchlist(), api.conditions().catch(() => [])]);
      periods = conditionPeriods(conds);
      lastConditions = performance.now();
      for (const it of items) for (const p of Object.keys(it.alignment)) if (!periods.includes(p)) periods.push(p);
      build(items);
    } catch (err) {
      setChildren(listBox, errorPanel(err, () => void load()));
    }
  }

  function build(items: WatchItem[]): void {
    const old = rows;
    rows = new Map();
    order = items.map((i) => i.code);
    for (const item of items) {
      const prev = old.get(item.code);
      if (prev && !item.quote) item.quote = prev.item.quote;
      for (const [p, a] of Object.entries(prev?.item.alignment ?? {})) if (!(p in item.alignment)) item.alignment[p] = a;
      rows.set(item.code, makeRow(item));
    }
    setChildren(tbody, order.map((c) => rows.get(c)!.tr));
    setChildren(listBox, items.length ? table : h("p", { class: "empty" }, t("emptyWatchlist")));
    markTriggered();
    resubscribe();
  }

  /**
   * Ticks of every row. The new set is taken before the old one is given back, so the reference counts of the
   * stocks in both never reach zero: adding or removing a row sends only that row's (un)subscribe.
   * (Alignment is not on the WebSocket: it comes with the candles over HTTP, about once a minute.)
   */
  function resubscribe(): void {
    const previous = releaseLive;
    releaseLive = order.length ? live.subscribe(order, ["tick"]) : null;
    previous?.();
  }

  function makeRow(item: WatchItem): Row {
    const price = h("td", { class: "num price" });
    const change = h("td", { class: "num col-change" });
    const rate = h("td", { class: "num col-rate" });
    const volume = h("td", { class: "num col-volume" });
    const turnover = h("td", { class: "num col-turnover" });
    const limit = h("span", { hidden: true });
    const align = h("td", { class: "col-align" });
    const status = h("td", { class: "col-status" });
    const ack = h("button", { type: "button", class: "small ack", hidden: true, onclick: () => void acknowledge(unacked(item.code)) }, t("ack"));
    const tr = h(
      "tr",
      { "data-testid": "watchlist-row", "data-code": item.code, draggable: "true" },
      h("td", { class: "col-handle", title: "drag" }, "⠿"),
      h(
        "td",
        { class: "col-name" },
        h("a", { href: stockUrl(item.code), "data-nav": true, class: "stock-name" }, item.name),
        h("span", { class: "code" }, item.code),
        limit,
      ),
      price,
      change,
      rate,
      volume,
      turnover,
      align,
      status,
      h(
        "td",
        { class: "col-actions" },
        ack,
        h("button", { type: "button", class: "icon remove", "data-testid": "remove", title: t("remove"), "aria-label": `${t("remove")} ${item.name}`, onclick: () => void remove(item.code) }, "×"),
      ),
    ) as HTMLTableRowElement;
    const row: Row = { item, tr, price, change, rate, volume, turnover, limit, align, status, ack };
    paintRow(row, false);
    wireDrag(tr, item.code);
    return row;
  }

  function paintRow(row: Row, animate: boolean): void {
    const q = row.item.quote;
    const pushed = live.connection === "open" ? live.stockStatus(row.item.code) : null;
    if (pushed) row.item.status = pushed.status;
    const before = row.price.textContent;
    if (q) {
      paintQuote(q, { price: row.price, change: row.change, rate: row.rate, badge: row.limit });
      setText(row.volume, formatMaybe(q.volume));
      setText(row.turnover, formatKoreanAmount(q.turnover));
    } else {
      for (const el of [row.price, row.change, row.rate, row.volume, row.turnover]) el.textContent = "—";
    }
    if (animate && before !== row.price.textContent) flash(row.price, q && (q.change ?? 0) < 0 ? "flash-down" : "flash-up");
    // Badges are rebuilt only when they change (a tick changes the price, not these).
    const alignKey = periods.map((p) => `${p}:${row.item.alignment[p] ?? ""}`).join(",");
    if (row.align.dataset.key !== alignKey) {
      row.align.dataset.key = alignKey;
      setChildren(row.align, periods.map((p) => alignmentBadge(row.item.alignment[p] ?? null, periodLabel(p))));
    }
    const status = row.item.status ?? q?.status ?? null;
    if (row.status.dataset.key !== String(status)) {
      row.status.dataset.key = String(status);
      setChildren(row.status, statusBadge(status));
    }
  }

  function unacked(code: string): Trigger[] {
    return triggers.items.filter((x) => x.code === code && !x.acked);
  }

  function markTriggered(): void {
    const codes = triggers.unackedCodes();
    for (const [code, row] of rows) {
      const on = codes.has(code);
      row.tr.classList.toggle("triggered", on);
      row.tr.classList.toggle("blink", on && blinking.has(code));
      row.ack.hidden = !on;
    }
  }

  function renderTriggers(): void {
    ackAll.hidden = !triggers.items.some((x) => !x.acked);
    if (triggers.items.length === 0) {
      setChildren(triggerList, h("li", { class: "empty" }, t("noTriggers")));
      return;
    }
    setChildren(triggerList, groupTriggers(triggers.items.slice(0, 200)).slice(0, 100).map(triggerItem));
  }

  /** One line per (stock, condition, day): the newest trigger, and the repeats folded under it. */
  function triggerItem(g: TriggerGroup): HTMLElement {
    const tr = g.latest;
    const unacked = g.items.filter((x) => !x.acked);
    const values = orderedValues(tr.values).map(([k, v]) => h("span", { class: "value" }, h("span", { class: "value-key" }, k), " ", formatValue(v)));
    const repeats =
      g.items.length > 1
        ? h(
            "details",
            { class: "trigger-repeats" },
            h("summary", null, t("repeats", { n: g.items.length })),
            h(
              "ol",
              null,
              g.items.map((x) =>
                h(
                  "li",
                  { "data-trigger-id": x.id },
                  h("a", { href: stockUrl(x.code, { period: x.period || undefined, trigger: x.id ?? undefined }), "data-nav": true }, formatKstShort(x.time)),
                  " ",
                  h("span", { class: "num" }, formatKrw(x.price)),
                ),
              ),
            ),
          )
        : null;
    return h(
      "li",
      { class: `trigger-item${unacked.length === 0 ? " acked" : ""}`, "data-trigger-id": tr.id, "data-trigger-key": tr.key, "data-persisted": tr.id !== null, "data-count": g.items.length },
      h(
        "div",
        { class: "trigger-head" },
        h("span", { class: "trigger-time", title: formatKstDateTime(tr.time) }, formatKstShort(tr.time)),
        h("a", { href: stockUrl(tr.code, { period: tr.period || undefined, trigger: tr.id ?? undefined }), "data-nav": true, class: "stock-name" }, tr.name),
        h("span", { class: "code" }, tr.code),
        g.items.length > 1 ? h("span", { class: "badge repeat-count", "data-testid": "repeat-count" }, `×${g.items.length}`) : null,
        tr.late ? h("span", { class: "badge late" }, t("late")) : null,
        unacked.length === 0
          ? h("span", { class: "muted" }, t("acked"))
          : h("button", { type: "button", class: "small ack", onclick: () => void acknowledge(unacked) }, t("ack")),
      ),
      h(
        "div",
        { class: "trigger-body" },
        h("span", { class: "badge period" }, periodLabel(tr.period)),
        h("span", { class: "trigger-cond" }, tr.conditionName),
        tr.price !== null ? h("span", { class: "num" }, formatKrw(tr.price)) : null,
      ),
      values.length ? h("div", { class: "trigger-values" }, values) : null,
      repeats,
    );
  }

  async function acknowledge(list: Trigger[]): Promise<void> {
    if (list.length === 0) return;
    try {
      await triggers.ack(list);
    } catch (err) {
      console.warn("kiswatch: ack failed", err);
    }
  }

  function showRow(code: string): void {
    const row = rows.get(code);
    if (!row) return;
    row.tr.scrollIntoView({ block: "nearest" });
    flash(row.tr, "flash-new");
  }

  async function add(code: string, name = code): Promise<void> {
    if (rows.has(code)) {
      showRow(code);
      toast(t("alreadyWatchedToast", { name }));
      return;
    }
    try {
      await api.addToWatchlist(code);
      build(await api.watchlist());
      showRow(code);
    } catch (err) {
      console.warn("kiswatch: add failed", err);
      toast(errorMessage(err));
    }
  }

  /** Removes at once, with 되돌리기 in the toast for a few seconds (back in its place). */
  async function remove(code: string): Promise<void> {
    const before = [...order];
    const name = rows.get(code)?.item.name ?? code;
    try {
      await api.removeFromWatchlist(code);
      build(await api.watchlist());
    } catch (err) {
      console.warn("kiswatch: remove failed", err);
      toast(errorMessage(err));
      return;
    }
    toast(t("removedToast", { name }), {
      label: t("undo"),
      run: () => void restore(code, before),
    });
  }

  async function restore(code: string, before: string[]): Promise<void> {
    try {
      await api.addToWatchlist(code);
      const now = (await api.watchlist()).map((w) => w.code);
      // The old order, with whatever was added meanwhile at the end.
      const next = [...before.filter((c) => now.includes(c)), ...now.filter((c) => !before.includes(c))];
      build(await api.reorderWatchlist(next));
      showRow(code);
    } catch (err) {
      console.warn("kiswatch: undo failed", err);
      toast(errorMessage(err));
    }
  }

  let dragging: string | null = null;
  function wireDrag(tr: HTMLTableRowElement, code: string): void {
    tr.addEventListener("dragstart", (ev) => {
      dragging = code;
      tr.classList.add("dragging");
      ev.dataTransfer?.setData("text/plain", code);
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
    });
    tr.addEventListener("dragend", () => {
      tr.classList.remove("dragging");
      dragging = null;
    });
    tr.addEventListener("dragover", (ev) => {
      if (!dragging || dragging === code) return;
      ev.preventDefault();
      const rect = tr.getBoundingClientRect();
      const after = ev.clientY > rect.top + rect.height / 2;
      const moving = rows.get(dragging)?.tr;
      if (moving) tbody.insertBefore(moving, after ? tr.nextSibling : tr);
    });
    tr.addEventListener("drop", (ev) => {
      ev.preventDefault();
      void commitOrder();
    });
  }

  async function commitOrder(): Promise<void> {
    const next = [...tbody.querySelectorAll<HTMLElement>("tr[data-code]")].map((r) => r.dataset.code!);
    if (next.join() === order.join()) return;
    order = next;
    try {
      await api.reorderWatchlist(next);
    } catch (err) {
      console.warn("kiswatch: reorder failed", err);
      build(await api.watchlist());
    }
  }

  cleanups.push(
    live.on("tick", (msg) => {
      const row = rows.get(msg.code);
      if (!row) return;
      row.item.quote = merge(row.item.quote, quoteFromTick(msg, row.item.market));
      paintRow(row, true);
    }),
    live.on("status", (update) => {
      for (const entry of update.stocks) {
        const row = rows.get(entry.code);
        if (row && row.item.status !== entry.status) {
          row.item.status = entry.status;
          paintRow(row, false);
        }
      }
    }),
    triggers.changed.on(() => {
      markTriggered();
      renderTriggers();
    }),
    triggers.onNew((tr) => {
      blinking.add(tr.code);
      setTimeout(() => {
        blinking.delete(tr.code);
        rows.get(tr.code)?.tr.classList.remove("blink");
      }, 4000);
      markTriggered();
      const s = settings();
      if (openTriggerPage(tr, s) === "blocked") popupBlockedBanner(tr, banners);
      // Notification and sound as the condition chose them (and the browser allows).
      void triggers.condition(tr.conditionId).then((cond) => {
        if (s.notify && (cond?.notify ?? true)) notify(tr);
        if (s.sound && (cond?.sound ?? true) && soundUnlocked()) beep();
      });
    }),
  );

  /**
   * While the WebSocket brings no ticks for a stock (the service polls it, or has no realtime hub), its row is
   * refreshed over HTTP: one request at a time, each price at most every few seconds, each alignment about once
   * a minute. The service answers these from its caches; a live tick stops them for that stock.
   */
  /** The periods the enabled conditions use, read again now and then (they may change on another page). */
  async function refreshPeriods(): Promise<void> {
    if (performance.now() - lastConditions < ALIGNMENT_REFRESH_MS) return;
    lastConditions = performance.now();
    const next = conditionPeriods(await api.conditions());
    if (destroyed || next.join() === periods.join()) return;
    periods = next;
    lastAlignment.clear();
    for (const row of rows.values()) paintRow(row, false);
  }

  async function refreshLoop(): Promise<void> {
    while (!destroyed) {
      await refreshPeriods().catch(() => undefined);
      for (const code of [...order]) {
        if (destroyed) return;
        const row = rows.get(code);
        if (!row) continue;
        const now = performance.now();
        try {
          // Every row is priced on load (a realtime stock that has not traded yet has no tick to show),
          // then kept by its ticks, or by these refreshes while none come.
          if (!row.item.quote || row.item.quote.basePrice === null || !live.coversLive(code, LIVE_FRESH_MS)) {
            const q = await api.price(code);
            if (destroyed) return;
            const current = rows.get(code);
            if (current) {
              // A tick newer than this answer keeps its price; the facts a tick lacks are filled in.
              const fresh = live.isLive(code, LIVE_FRESH_MS) && current.item.quote ? { ...q, ...pickTick(current.item.quote) } : q;
              current.item.quote = merge(current.item.quote, fresh);
              paintRow(current, true);
            }
          }
          if (periods.length && now - (lastAlignment.get(code) ?? -Infinity) > ALIGNMENT_REFRESH_MS) {
            lastAlignment.set(code, now);
            for (const p of periods) {
              const set = await api.candles(code, p, 1);
              if (destroyed) return;
              const current = rows.get(code);
              if (current) {
                current.item.alignment[p] = set.alignment;
                paintRow(current, false);
              }
            }
          }
        } catch {
          // The status line tells about the upstream; the row keeps its last values.
        }
      }
      await new Promise((r) => setTimeout(r, PRICE_REFRESH_MS));
    }
  }

  renderTriggers();
  void load().then(() => refreshLoop());
  search.focus();

  return () => {
    destroyed = true;
    for (const c of cleanups) c();
    releaseLive?.();
  };
}

/** The fields a tick brings (kept over an older REST price). */
function pickTick(q: Quote): Partial<Quote> {
  const out: Partial<Quote> = {};
  for (const k of ["price", "change", "rate", "sign", "open", "high", "low", "volume", "turnover"] as const) {
    if (q[k] !== null) (out as Record<string, unknown>)[k] = q[k];
  }
  return out;
}

function merge(prev: Quote | null, next: Quote): Quote {
  if (!prev) return next;
  const out = { ...prev };
  for (const [k, v] of Object.entries(next) as Array<[keyof Quote, Quote[keyof Quote]]>) {
    if (v !== null && v !== "") (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** The periods of the enabled watchlist conditions (a 조건검색 condition looks at the whole market, not these rows). */
function conditionPeriods(conds: Array<{ enabled: boolean; expr: string; period: string | null; scope?: string }>): string[] {
  return [...new Set(conds.filter((c) => c.enabled && c.scope !== "market").map((c) => c.period ?? conditionPeriod(c.expr)))].sort(periodOrder);
}

const PRICE_REFRESH_MS = 4000;
const ALIGNMENT_REFRESH_MS = 60_000;

const PERIOD_ORDER = ["1m", "3m", "5m", "10m", "15m", "30m", "60m", "D", "W", "M"];
function periodOrder(a: string, b: string): number {
  return PERIOD_ORDER.indexOf(a) - PERIOD_ORDER.indexOf(b);
}

