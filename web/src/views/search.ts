// The stock search box: Korean name, 초성 (ㅅㅅㅈㅈ) or code, keyboard-first (type, arrows, Enter, Escape).

import { api } from "../api";
import { h, setChildren } from "../dom";
import { t } from "../i18n";
import type { SearchHit } from "../model";

export function searchBox(onPick: (hit: SearchHit) => void): { el: HTMLElement; focus: () => void } {
  const input = h("input", {
    type: "search",
    class: "search-input",
    "data-testid": "search",
    placeholder: t("searchPlaceholder"),
    autocomplete: "off",
    spellcheck: "false",
    role: "combobox",
    "aria-expanded": "false",
    "aria-controls": "search-results",
  });
  const list = h("ul", { class: "search-results", id: "search-results", role: "listbox", hidden: true });
  let hits: SearchHit[] = [];
  let active = 0;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inflight: AbortController | null = null;

  const render = () => {
    list.hidden = input.value.trim() === "";
    input.setAttribute("aria-expanded", String(!list.hidden));
    if (hits.length === 0) {
      setChildren(list, h("li", { class: "empty" }, t("searchEmpty")));
      return;
    }
    setChildren(
      list,
      hits.map((hit, i) =>
        h(
          "li",
          {
            role: "option",
            class: i === active ? "active" : "",
            "aria-selected": String(i === active),
            "data-code": hit.code,
            onmousedown: (ev: Event) => {
              ev.preventDefault();
              pick(i);
            },
          },
          h("span", { class: "hit-name" }, hit.name),
          h("span", { class: "code" }, hit.code),
          h("span", { class: "hit-market" }, hit.market),
        ),
      ),
    );
  };

  const pick = (i: number) => {
    const hit = hits[i];
    if (!hit) return;
    input.value = "";
    hits = [];
    list.hidden = true;
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
      hits = result;
      active = 0;
      render();
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      if (mine !== seq) return;
      hits = [];
      render();
    }
  };

  input.addEventListener("input", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void query(), 120);
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
      // Enter right after typing must not lose the query still in flight.
      if (timer) {
        clearTimeout(timer);
        timer = null;
        void query().then(() => pick(active));
      } else {
        pick(active);
      }
    } else if (ev.key === "Escape") {
      input.value = "";
      hits = [];
      list.hidden = true;
    }
  });
  input.addEventListener("blur", () => {
    list.hidden = true;
  });
  input.addEventListener("focus", () => {
    if (input.value.trim()) render();
  });

  return { el: h("div", { class: "search" }, input, list), focus: () => input.focus() };
}
