// `public/prefetch.js` asks, from the page's <head>, for a stock page's first requests; `api.ts` takes those
// answers instead of asking again only when the URL is exactly the same. These tests run the script as a
// browser would and check its URLs against the ones the page's own code asks for, for every period and
// window width, and that an answer is taken once.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Api, EARLY_TAKEN_MS, takeEarly } from "../src/api";
import { CHART_PERIODS, firstBars } from "../src/model";

const script = readFileSync(new URL("../public/prefetch.js", import.meta.url), "utf8");

/** Runs the script in a page at `url` in a window `width` px wide; the URLs it fetched. */
function runPrefetch(url: string, width: number): { fetched: string[]; early: unknown } {
  const fetched: string[] = [];
  const win: { innerWidth: number; __kiswatchEarly?: unknown } = { innerWidth: width };
  const u = new URL(url, "http://127.0.0.1:8080");
  const fetchStub = (p: string) => {
    fetched.push(p);
    return Promise.resolve(new Response("{}"));
  };
  new Function("window", "location", "fetch", "URLSearchParams", "performance", script)(win, { pathname: u.pathname, search: u.search }, fetchStub, URLSearchParams, performance);
  return { fetched, early: win.__kiswatchEarly };
}

/** The URLs the stock page asks for first (`mountStock`'s `load`), through the real `Api`. */
async function pageRequests(code: string, period: string, width: number): Promise<string[]> {
  const asked: string[] = [];
  const api = new Api("", (input) => {
    asked.push(String(input));
    return Promise.reject(new Error("not needed"));
  });
  await Promise.allSettled([api.snapshot(code), api.candles(code, period, firstBars(width)), api.triggers({ code, limit: 200 })]);
  return asked;
}

describe("prefetch.js", () => {
  it("asks for exactly the stock page's first URLs, for every period and window width", async () => {
    for (const width of [390, 800, 1000, 1280, 1440, 2560, 3840]) {
      for (const period of [...CHART_PERIODS, null, "2m", "d"]) {
        const search = period === null ? "" : `?period=${period}&trigger=12`;
        const { fetched } = runPrefetch(`/stocks/005930${search}`, width);
        const shown = period !== null && (CHART_PERIODS as readonly string[]).includes(period) ? period : "D";
        expect(fetched, `${width} px, period ${period}`).toEqual(await pageRequests("005930", shown, width));
      }
    }
  });

  it("asks for nothing on any other page", () => {
    for (const url of ["/", "/conditions", "/scan?id=3", "/stocks/00593", "/stocks/005930/x", "/channels"]) {
      expect(runPrefetch(url, 1440).fetched, url).toEqual([]);
    }
  });

  it("hands each answer over once, to a GET of the same URL", async () => {
    const { early } = runPrefetch("/stocks/005930?period=1m", 1440);
    (globalThis as { __kiswatchEarly?: unknown }).__kiswatchEarly = early;
    try {
      const path = "/api/v1/stocks/005930/snapshot";
      expect(takeEarly("/api/v1/stocks/000660/snapshot")).toBeNull();
      expect(takeEarly(path)).not.toBeNull();
      expect(takeEarly(path)).toBeNull();
      // Through the client: the early answer is used and the client's own fetch is not called.
      let fetches = 0;
      const api = new Api("", () => {
        fetches++;
        return Promise.resolve(new Response("[]"));
      });
      await api.request("GET", "/api/v1/triggers?code=005930&limit=200");
      expect(fetches).toBe(0);
      await api.request("GET", "/api/v1/triggers?code=005930&limit=200");
      expect(fetches).toBe(1);
      // An answer is as old as the page: one not taken in the page's first seconds is not taken at all.
      (early as { at: number }).at = performance.now() - EARLY_TAKEN_MS - 1;
      await api.request("GET", `/api/v1/stocks/005930/candles?period=1m&count=${firstBars(1440)}`);
      expect(fetches).toBe(2);
    } finally {
      delete (globalThis as { __kiswatchEarly?: unknown }).__kiswatchEarly;
    }
  });
});
