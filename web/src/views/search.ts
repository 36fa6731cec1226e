// The stock search box: Korean name, 초성 (ㅅㅅㅈㅈ) or code, keyboard-first (type, arrows, Enter, Escape).
//
// Enter takes the highlighted hit. The highlight is a stock, not a row number: when the list is refreshed
// under it (Enter pressed while a query was still on its way, or a Korean IME committing its last syllable on
// the arrow key), the same stock stays highlighted. Stocks already on the watchlist are marked (관심종목), and
// picking one says so rather than doing nothing.

import { api } from "../api";
import { h, setChildren } from "../dom";
import { t } from "../i18n";
import type { SearchHit } from "../model";

export interface SearchOptions {
  /** Codes to mark as already watched. */
  watched?: () => ReadonlySet<string>;
  /** Keep the picked stock's name in the box (a form field) instead of clearing it. */
  keepValue?: boolean;
  placeholder?: string;
  testid?: string;
}

/** The index to highlight in `next` after `prev` with `active` highlighted: the same stock where it is still listed. */
export function keepHighlight(prev: readonly SearchHit[], active: number, next: readonly SearchHit[]): number {
  const code = prev[active]?.code;
  const i = code === undefined ? -1 : next.findIndex((x) => x.code === code);
  return i >= 0 ? i : 0;
}

export function searchBox(onPick: (hit: SearchHit) => void, opts: SearchOptions = {}): { el: HTMLElement; focus: () => void; input: HTMLInputElement } {
  const listId = `search-results-${Math.random().toString(36).slice(2, 8)}`;
  const input = h("input", {
    type: "search",
    class: "search-input",
    "data-testid": opts.testid ?? "search",
    placeholder: opts.placeholder ?? t("searchPlaceholder"),
    autocomplete: "off",
    spellcheck: "false",
    role: "combobox",
    "aria-expanded": "false",
    "aria-controls": listId,
  });
  const list = h("ul", { class: "search-results", id: listId, role: "listbox", hidden: true });
  let hits: SearchHit[] = [];
  let active = 0;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inflight: AbortController | null = null;
  let pending: Promise<void> | null = null;

  const render = () => {
    list.hidden = input.value.trim() === "";
    input.setAttribute("aria-expanded", String(!list.hidden));
    if (hits.length === 0) {
      setChildren(list, h("li", { class: "empty" }, t("searchEmpty")));
      return;
    }
    const watched = opts.watched?.() ?? new Set<string>();
    setChildren(
      list,
      hits.map((hit, i) =>
        h(
          "li",
          {
            role: "option",
            id: `${listId}-${i}`,
            class: `${i === active ? "active" : ""}${watched.has(hit.code) ? " watched" : ""}`,
            "aria-selected": String(i === active),
            "data-code": hit.code,
            onmousedown: (ev: Event) => {
              ev.preventDefault();
              pick(i);
            },
          },
          h("span", { class: "hit-name" }, hit.name),
          h("span", { class: "code" }, hit.code),
          watched.has(hit.code) ? h("span", { class: "badge watched-badge" }, t("alreadyWatched")) : null,
          h("span", { class: "hit-market" }, hit.market),
        ),
      ),
    );
    input.setAttribute("aria-activedescendant", `${listId}-${active}`);
  };

  const pick = (i: number) => {
    const hit = hits[i];
    if (!hit) return;
    input.value = opts.keepValue ? `${hit.name} (${hit.code})` : "";
    input.dataset.code = hit.code;
    hits = [];
    // The picked query's hits go with it: a hidden list must not hold the last query's rows for the next.
    setChildren(list);
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    onPick(hit);
  };

  const query = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    inflight?.abort();
    if (!q) {
      hits = [];
      render();
      return;
    }
    inflight = new AbortController();
    try {
      const result = await api.search(q, 10, inflight.signal);
      if (mine !== seq) return;
      active = keepHighlight(hits, active, result);
      hits = result;
      render();
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      if (mine !== seq) return;
      hits = [];
      render();
    }
  };

  const runQuery = () => {
    pending = query().finally(() => {
      pending = null;
    });
    return pending;
  };

  input.addEventListener("input", () => {
    delete input.dataset.code;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void runQuery();
    }, 120);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" && hits.length) {
      active = (active + 1) % hits.length;
      render();
      ev.preventDefault();
    } else if (ev.key === "ArrowUp" && hits.length) {
      active = (active - 1 + hits.length) % hits.length;
      render();
      ev.preventDefault();
    } else if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      // Enter right after typing must not lose the query still in flight; the highlight survives it.
      if (timer) {
        clearTimeout(timer);
        timer = null;
        void runQuery().then(() => pick(active));
      } else if (pending) {
        void pending.then(() => pick(active));
      } else {
        pick(active);
      }
    } else if (ev.key === "Escape") {
      if (!opts.keepValue) input.value = "";
      hits = [];
      list.hidden = true;
    }
  });
  input.addEventListener("blur", () => {
    list.hidden = true;
  });
  input.addEventListener("focus", () => {
    if (input.value.trim() && hits.length) render();
  });

  return { el: h("div", { class: "search" }, input, list), focus: () => input.focus(), input };
}
