// The typed client for kiswatch's HTTP API (docs/design.md, "The external contract"). Each call names its path
// and method of the OpenAPI document (`paths` of the generated `api-types.ts`), so its body and its answer have
// the document's types; the answer is then mapped to the views' shapes (`model.ts`).
//
// Every failure becomes an `ApiError` carrying what the service said: its error code, the Korean and English
// messages, the parse position of a bad condition (422), and for an upstream outage (503) the `Retry-After`
// seconds. Views show `messageKo` (or `message` in English) and never a raw status line.

import type { paths } from "./api-types";
import {
  backtestFrom,
  candleSetFrom,
  conditionFrom,
  htsConditionsFrom,
  kisScanFrom,
  quoteFromPrice,
  scanBacktestFrom,
  scanEventFrom,
  scanResultFrom,
  snapshotFrom,
  triggerFrom,
  watchItemFrom,
  type Backfill,
  type BacktestResult,
  type CandleSet,
  type Condition,
  type HtsConditions,
  type KisRanking,
  type KisScan,
  type Quote,
  type ScanBacktest,
  type ScanEvent,
  type ScanEventWire,
  type ScanFilters,
  type ScanMatchesWire,
  type ScanResult,
  type SearchHit,
  type Snapshot,
  type Trigger,
  type WatchItem,
  type Wire,
} from "./model";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly messageKo: string;
  /** Character offset (0-based) of a condition parse error. */
  readonly position: number | null;
  /** A name the parser thinks was meant (`정배열` for `정배얼`). */
  readonly suggestion: string | null;
  /** Seconds the service asked us to wait (503 + `Retry-After`). */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    messageKo?: string;
    position?: number | null;
    suggestion?: string | null;
    retryAfter?: number | null;
  }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.messageKo = init.messageKo ?? init.message;
    this.position = init.position ?? null;
    this.suggestion = init.suggestion ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }
}

/**
 * Reads an error response: the contract's `ErrorBody` (`{"error":{code,message,message_ko,position}}`), or, from
 * something in front of the service (a proxy, a restart), whatever came.
 */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retry = res.headers.get("Retry-After");
  const retryAfter = retry !== null && /^\d+$/.test(retry.trim()) ? Number(retry.trim()) : null;
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const e = body && typeof body === "object" && "error" in body ? (body as Wire["ErrorBody"]).error : null;
  if (e && typeof e === "object") {
    return new ApiError({
      status: res.status,
      code: e.code,
      message: e.message,
      messageKo: e.message_ko,
      position: e.position ?? null,
      suggestion: e.suggestion ?? null,
      retryAfter,
    });
  }
  return new ApiError({
    status: res.status,
    code: `http_${res.status}`,
    message: `HTTP ${res.status} ${res.statusText}`.trim(),
    messageKo: `서버 응답 오류 (HTTP ${res.status})`,
    retryAfter,
  });
}

type Fetch = typeof fetch;

/** How long after the page's start an answer `public/prefetch.js` asked for is still taken (it is as old as
 * the page; the page's own first requests take it within a second). */
export const EARLY_TAKEN_MS = 5_000;

/**
 * The answer `public/prefetch.js` asked for in the page's <head> for exactly this GET `path`, once: a stock
 * page's first requests go out while its code is still loading. `null` when there is none (any other request,
 * the same one a second time, another page, or a page that has been open a while).
 */
export function takeEarly(path: string): Promise<Response> | null {
  const early = (globalThis as { __kiswatchEarly?: { at: number; answers: Record<string, Promise<Response> | undefined> } }).__kiswatchEarly;
  const res = early?.answers[path];
  if (!early || !res || performance.now() - early.at > EARLY_TAKEN_MS) return null;
  delete early.answers[path];
  return res;
}

export class Api {
  private readonly base: string;
  private readonly fetchImpl: Fetch;

  constructor(base = "", fetchImpl: Fetch = (...args) => fetch(...args)) {
    this.base = base;
    this.fetchImpl = fetchImpl;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      const early = method === "GET" && body === undefined && signal === undefined && this.base === "" ? takeEarly(path) : null;
      res = await (early ??
        this.fetchImpl(`${this.base}${path}`, {
          method,
          signal,
          headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }));
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError({
        status: 0,
        code: "network",
        message: "The kiswatch service cannot be reached",
        messageKo: "kiswatch 서버에 연결할 수 없습니다",
      });
    }
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Calls `method path` of the document: `{name}` segments of the path are filled from `params`, the answer
   * (200 or 201) has the type the document gives it, a body the type it asks for.
   */
  call<P extends keyof paths, M extends Method & keyof paths[P]>(
    method: M,
    path: P,
    opts: { params?: Record<string, string | number>; query?: Record<string, string | number | undefined>; body?: Body<paths[P][M]>; signal?: AbortSignal } = {},
  ): Promise<Answer<paths[P][M]>> {
    let url: string = path.replace(/\{(\w+)\}/g, (_, name: string) => enc(String(opts.params?.[name] ?? "")));
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const search = qs.toString();
    if (search) url += `?${search}`;
    return this.request(method.toUpperCase(), url, opts.body, opts.signal);
  }

  /** The stock's facts and its history backfill's progress (answered without an upstream call once known). */
  stock(code: string, signal?: AbortSignal): Promise<{ backfill: Backfill | null }> {
    return this.call("get", "/api/v1/stocks/{code}", { params: { code }, signal }).then((s) => ({ backfill: s.backfill }));
  }

  snapshot(code: string, signal?: AbortSignal): Promise<Snapshot> {
    return this.call("get", "/api/v1/stocks/{code}/snapshot", { params: { code }, signal }).then(snapshotFrom);
  }

  price(code: string, signal?: AbortSignal): Promise<Quote> {
    return this.call("get", "/api/v1/stocks/{code}/price", { params: { code }, signal }).then(quoteFromPrice);
  }

  candles(code: string, period: string, count = 400, signal?: AbortSignal): Promise<CandleSet> {
    return this.call("get", "/api/v1/stocks/{code}/candles", { params: { code }, query: { period, count }, signal }).then(candleSetFrom);
  }

  search(q: string, limit = 10, signal?: AbortSignal): Promise<SearchHit[]> {
    return this.call("get", "/api/v1/stocks/search", { query: { q, limit }, signal });
  }

  watchlist(): Promise<WatchItem[]> {
    return this.call("get", "/api/v1/watchlist").then((list) => list.map(watchItemFrom));
  }

  addToWatchlist(code: string): Promise<Wire["WatchlistAdded"]> {
    return this.call("post", "/api/v1/watchlist", { body: { code } });
  }

  reorderWatchlist(codes: string[]): Promise<WatchItem[]> {
    return this.call("put", "/api/v1/watchlist", { body: { codes } }).then((list) => list.map(watchItemFrom));
  }

  removeFromWatchlist(code: string): Promise<void> {
    return this.call("delete", "/api/v1/watchlist/{code}", { params: { code } });
  }

  triggers(query: { after?: number; limit?: number; code?: string } = {}): Promise<Trigger[]> {
    return this.call("get", "/api/v1/triggers", { query }).then((list) => list.map(triggerFrom));
  }

  ackTrigger(id: number): Promise<Trigger> {
    return this.call("post", "/api/v1/triggers/{id}/ack", { params: { id } }).then(triggerFrom);
  }

  conditions(): Promise<Condition[]> {
    return this.call("get", "/api/v1/conditions").then((list) => list.map(conditionFrom));
  }

  createCondition(body: ConditionBody): Promise<Condition> {
    return this.call("post", "/api/v1/conditions", { body }).then(conditionFrom);
  }

  updateCondition(id: number, body: ConditionBody): Promise<Condition> {
    return this.call("put", "/api/v1/conditions/{id}", { params: { id }, body }).then(conditionFrom);
  }

  deleteCondition(id: number): Promise<void> {
    return this.call("delete", "/api/v1/conditions/{id}", { params: { id } });
  }

  /** A market-scope condition (조건검색): D/W/M only; an intraday period is a 400 `intraday_market_scope`. */
  createMarketCondition(body: MarketConditionBody): Promise<Condition> {
    return this.call("post", "/api/v1/conditions", { body }).then(conditionFrom);
  }

  // The scan's own endpoints are not in the OpenAPI document's types yet: plain requests, typed here.

  /** Who matches a market-scope condition now, the last sweep, and the history collection's progress. */
  scanMatches(id: number, signal?: AbortSignal): Promise<ScanResult> {
    return this.request<ScanMatchesWire>("GET", `/api/v1/conditions/${id}/matches`, undefined, signal).then(scanResultFrom);
  }

  /** 편입/이탈 events, ascending by id: those after `after`, or the latest `limit`. */
  scanEvents(id: number, query: { after?: number; limit?: number } = {}, signal?: AbortSignal): Promise<ScanEvent[]> {
    const qs = new URLSearchParams();
    if (query.after !== undefined) qs.set("after", String(query.after));
    if (query.limit !== undefined) qs.set("limit", String(query.limit));
    const search = qs.toString();
    return this.request<ScanEventWire[]>("GET", `/api/v1/conditions/${id}/events${search ? `?${search}` : ""}`, undefined, signal).then((list) => list.map(scanEventFrom));
  }

  /** The market scan run over the universe's stored daily history (about a second over ~2,500 listings). */
  scanBacktest(id: number, signal?: AbortSignal): Promise<ScanBacktest> {
    return this.call("get", "/api/v1/conditions/{id}/backtest", { params: { id }, signal }).then(scanBacktestFrom);
  }

  /** KIS's ranking (거래량·거래대금·상승률·하락률순위): 30 rows at most; unavailable on 모의투자. */
  kisRanking(kind: KisRanking, signal?: AbortSignal): Promise<KisScan> {
    return this.call("get", "/api/v1/scans/kis/{kind}", { params: { kind }, signal }).then(kisScanFrom);
  }

  /** The conditions saved in the HTS of `KIS_HTS_ID` (unavailable without it, or on 모의투자). */
  htsConditions(signal?: AbortSignal): Promise<HtsConditions> {
    return this.call("get", "/api/v1/scans/hts", { signal }).then(htsConditionsFrom);
  }

  /** What an HTS condition matches now: 100 stocks at most, refetched by the service at most once a minute. */
  htsMatches(seq: string, signal?: AbortSignal): Promise<KisScan> {
    return this.call("get", "/api/v1/scans/hts/{seq}", { params: { seq }, signal }).then(kisScanFrom);
  }

  backtest(code: string, condition: string, opts: { from?: string; commissionRate?: number; taxRate?: number } = {}): Promise<BacktestResult> {
    const body: Wire["BacktestRequest"] = { code, condition };
    if (opts.from) body.from = opts.from;
    if (opts.commissionRate !== undefined || opts.taxRate !== undefined) body.costs = { commission_rate: opts.commissionRate, tax_rate: opts.taxRate };
    return this.call("post", "/api/v1/backtest", { body }).then(backtestFrom);
  }

  /** The market's time, trading day and phase, and whether it is the demo's simulated market. */
  market(signal?: AbortSignal): Promise<Wire["Market"]> {
    return this.call("get", "/api/v1/market", { signal });
  }
}

export type ConditionBody = Wire["ConditionRequest"] & { scope?: "watchlist" | "market"; filters?: ScanFilters | null };

/** A new 조건검색 condition: scope `market` and its filters. */
export type MarketConditionBody = ConditionBody & { scope: "market"; filters: ScanFilters };

type Method = "get" | "post" | "put" | "delete";

/** The JSON answer of an operation: its 200, or its 201; nothing for a 204. */
type Answer<Op> = Op extends { responses: infer R }
  ? R extends { 200: { content: { "application/json": infer B } } }
    ? B
    : R extends { 201: { content: { "application/json": infer B } } }
      ? B
      : void
  : never;

/** The JSON body an operation takes (`never` for none). */
type Body<Op> = Op extends { requestBody: { content: { "application/json": infer B } } } ? B : never;

function enc(s: string): string {
  return encodeURIComponent(s);
}

export const api = new Api();
