// KIS's own scans beside kiswatch's on the 조건검색 page, in a section closed until asked for: the rankings
// (거래량·거래대금·상승률·하락률순위, `/api/v1/scans/kis/{kind}`) and the conditions saved in the HTS
// (`/api/v1/scans/hts`, then `/scans/hts/{seq}`). Nothing is fetched before the section opens; a tab is fetched
// when first shown and kept until 다시 조회. What KIS limits is always said under the table; where KIS does
// not offer a scan (모의투자, no KIS_HTS_ID) its reason is shown as a calm note, not as an error.

import { api } from "../api";
import { h, setChildren } from "../dom";
import { direction, formatKoreanAmount, formatKrw, formatRate } from "../format";
import { lang, t, type MessageKey } from "../i18n";
import type { HtsConditions, KisRanking, KisScan } from "../model";
import { stockUrl } from "../router";
import { errorPanel, skeleton } from "./common";

type Tab = KisRanking | "hts";

const TABS: Array<{ key: Tab; label: MessageKey }> = [
  { key: "volume", label: "kisVolume" },
  { key: "turnover", label: "kisTurnover" },
  { key: "rise", label: "kisRise" },
  { key: "fall", label: "kisFall" },
  { key: "hts", label: "kisHts" },
];

export interface KisScansSection {
  el: HTMLDetailsElement;
  /** Draws the rows' ＋ cells again (the watchlist changed). */
  repaint: () => void;
  destroy: () => void;
}

/**
 * The section. `action` makes a row's last cell (the result table's ＋, or the 관심종목 badge); it is called
 * again for every row on `repaint`.
 */
export function kisScansSection(action: (code: string, name: string) => HTMLElement): KisScansSection {
  let active: Tab = "volume";
  let destroyed = false;
  /** Which load an answer belongs to: one for an older tab or HTS condition is dropped. */
  let gen = 0;
  let abort: AbortController | null = null;
  const rankings = new Map<KisRanking, KisScan>();
  let hts: HtsConditions | null = null;
  let htsSeq: string | null = null;
  const htsResults = new Map<string, KisScan>();
  /** The ＋ cells drawn, to fill again on `repaint`. */
  let actionCells: Array<{ td: HTMLElement; code: string; name: string }> = [];

  const tabs = TABS.map((x) =>
    h(
      "button",
      { type: "button", class: "period-tab kis-tab", role: "tab", "aria-selected": "false", "data-kind": x.key, "data-testid": `kis-tab-${x.key}`, onclick: () => show(x.key) },
      t(x.label),
    ),
  );
  const refreshBtn = h("button", { type: "button", class: "small kis-refresh", "data-testid": "kis-refresh", onclick: () => refresh() }, t("kisRefresh"));
  const body = h("div", { class: "kis-body", "data-testid": "kis-body", role: "tabpanel" });
  const el = h(
    "details",
    { class: "scan-kis", "data-testid": "kis-scans" },
    h("summary", null, t("kisScans")),
    h(
      "div",
      { class: "kis-inner" },
      h("p", { class: "hint kis-intro" }, t("kisIntro")),
      h("div", { class: "kis-tabs" }, h("div", { class: "period-tabs", role: "tablist", "aria-label": t("kisScans") }, tabs), refreshBtn),
      body,
    ),
  );
  el.addEventListener("toggle", () => {
    if (el.open && body.childElementCount === 0) show(active);
  });

  function show(tab: Tab): void {
    active = tab;
    for (const b of tabs) b.setAttribute("aria-selected", String(b.dataset.kind === tab));
    void load();
  }

  function refresh(): void {
    if (active === "hts") {
      hts = null;
      htsResults.clear();
    } else rankings.delete(active);
    void load();
  }

  function begin(): { my: number; signal: AbortSignal } {
    gen += 1;
    abort?.abort();
    abort = new AbortController();
    return { my: gen, signal: abort.signal };
  }

  async function load(): Promise<void> {
    const tab = active;
    const { my, signal } = begin();
    body.dataset.state = "loading";
    try {
      if (tab === "hts") {
        if (!hts) {
          setChildren(body, skeleton("rows", 4));
          const list = await api.htsConditions(signal);
          if (destroyed || my !== gen) return;
          hts = list;
        }
        drawHts();
        return;
      }
      let scan = rankings.get(tab);
      if (!scan) {
        setChildren(body, skeleton("rows", 6));
        scan = await api.kisRanking(tab, signal);
        if (destroyed || my !== gen) return;
        rankings.set(tab, scan);
      }
      actionCells = [];
      setChildren(body, scanView(scan));
      body.dataset.state = scan.available ? "done" : "unavailable";
    } catch (err) {
      if (destroyed || my !== gen || (err instanceof DOMException && err.name === "AbortError")) return;
      failed(err, () => void load());
    }
  }

  function failed(err: unknown, retry: () => void): void {
    actionCells = [];
    const panel = errorPanel(err, retry);
    panel.classList.add("compact");
    setChildren(body, panel);
    body.dataset.state = "error";
  }

  /** The HTS tab: why it is unavailable, or a picker of the saved conditions and the chosen one's result. */
  function drawHts(): void {
    actionCells = [];
    const list = hts;
    if (!list) return;
    if (!list.available) {
      setChildren(body, info(list));
      body.dataset.state = "unavailable";
      return;
    }
    if (list.conditions.length === 0) {
      setChildren(body, h("p", { class: "empty", "data-testid": "hts-none" }, t("htsNone")));
      body.dataset.state = "done";
      return;
    }
    if (htsSeq === null || !list.conditions.some((c) => c.seq === htsSeq)) htsSeq = list.conditions[0].seq;
    const picker = h(
      "select",
      { class: "scan-picker hts-picker", "data-testid": "hts-picker", "aria-label": t("htsPick") },
      list.conditions.map((c) => h("option", { value: c.seq, selected: c.seq === htsSeq }, c.group ? `${c.group} · ${c.name}` : c.name)),
    );
    const result = h("div", { class: "hts-result" });
    picker.addEventListener("change", () => {
      htsSeq = picker.value;
      void loadHts(result);
    });
    setChildren(body, h("label", { class: "field inline hts-pick" }, h("span", null, t("htsPick")), picker), result);
    void loadHts(result);
  }

  async function loadHts(result: HTMLElement): Promise<void> {
    const seq = htsSeq;
    if (seq === null) return;
    const { my, signal } = begin();
    body.dataset.state = "loading";
    try {
      let scan = htsResults.get(seq);
      if (!scan) {
        setChildren(result, skeleton("rows", 6));
        scan = await api.htsMatches(seq, signal);
        if (destroyed || my !== gen) return;
        htsResults.set(seq, scan);
      }
      actionCells = [];
      setChildren(result, scanView(scan));
      body.dataset.state = scan.available ? "done" : "unavailable";
    } catch (err) {
      if (destroyed || my !== gen || (err instanceof DOMException && err.name === "AbortError")) return;
      actionCells = [];
      const panel = errorPanel(err, () => void loadHts(result));
      panel.classList.add("compact");
      setChildren(result, panel);
      body.dataset.state = "error";
    }
  }

  /** A KIS scan: its rows (or why there are none) and, always, what KIS limits. */
  function scanView(scan: KisScan): HTMLElement {
    const limits = h("p", { class: "hint kis-limits", "data-testid": "kis-limits" }, scan.limitsKo);
    if (!scan.available) return h("div", null, info(scan), limits);
    if (scan.rows.length === 0) return h("div", null, h("p", { class: "empty", "data-testid": "kis-empty" }, t("kisEmpty")), limits);
    const withTurnover = scan.rows.some((r) => r.turnover !== null);
    return h(
      "div",
      null,
      h(
        "div",
        { class: "scan-table-box" },
        h(
          "table",
          { class: "scan-table kis-table", "data-testid": "kis-table", "data-source": scan.source },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { class: "num col-rank" }, t("kisRank")),
              h("th", { class: "col-name" }, t("name")),
              h("th", { class: "num col-price" }, t("price")),
              h("th", { class: "num col-rate" }, t("rate")),
              h("th", { class: "num col-volume" }, t("volume")),
              withTurnover ? h("th", { class: "num col-turnover" }, t("turnover")) : null,
              h("th", { class: "col-add" }),
            ),
          ),
          h(
            "tbody",
            null,
            scan.rows.map((r) => {
              const d = direction(r.rate || r.change);
              const td = h("td", { class: "col-add" }, action(r.code, r.name));
              actionCells.push({ td, code: r.code, name: r.name });
              return h(
                "tr",
                { "data-testid": "kis-row", "data-code": r.code },
                h("td", { class: "num col-rank muted" }, r.rank),
                h("td", { class: "col-name" }, h("a", { href: stockUrl(r.code), "data-nav": true, class: "stock-name" }, r.name), h("span", { class: "code" }, r.code)),
                h("td", { class: `num price col-price ${d}` }, formatKrw(r.price)),
                h("td", { class: `num col-rate ${d}` }, formatRate(r.rate)),
                h("td", { class: "num col-volume" }, formatKrw(r.volume)),
                withTurnover ? h("td", { class: "num col-turnover" }, formatKoreanAmount(r.turnover)) : null,
                td,
              );
            }),
          ),
        ),
      ),
      limits,
    );
  }

  function info(x: { reason: string | null; reasonKo: string | null }): HTMLElement {
    const reason = lang() === "en" ? (x.reason ?? x.reasonKo) : (x.reasonKo ?? x.reason);
    return h("p", { class: "kis-info", role: "note", "data-testid": "kis-unavailable" }, reason ?? "");
  }

  return {
    el,
    repaint: () => {
      for (const c of actionCells) setChildren(c.td, action(c.code, c.name));
    },
    destroy: () => {
      destroyed = true;
      abort?.abort();
    },
  };
}
