// The typed client for kiswatch's HTTP API (docs/design.md, "The external contract").
//
// Every failure becomes an `ApiError` carrying what the service said: its error code, the Korean and English
// messages, the parse position of a bad condition (422), and for an upstream outage (503) the `Retry-After`
// seconds. Views show `messageKo` (or `message` in English) and never a raw status line.

import {
  readBackfill,
  readBacktest,
  readCandleSet,
  readCondition,
  readQuote,
  readSearchHit,
  readSnapshot,
  readTrigger,
  readWatchItem,
  type Backfill,
  type BacktestResult,
  type CandleSet,
  type Condition,
  type Quote,
  type SearchHit,
  type Snapshot,
  type Trigger,
  type WatchItem,
} from "./model";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly messageKo: string;
  /** Character offset (0-based) of a condition parse error. */
  readonly position: number | null;
  /** Seconds the service asked us to wait (503 + `Retry-After`). */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    messageKo?: string;
    position?: number | null;
    retryAfter?: number | null;
  }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.messageKo = init.messageKo ?? init.message;
    this.position = init.position ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }
}

/** Reads an error response: the contract's `{"error":{code,message,message_ko,position}}`, or whatever came. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retry = res.headers.get("Retry-After");
  const retryAfter = retry !== null && /^\d+$/.test(retry.trim()) ? Number(retry.trim()) : null;
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const e = (body && typeof body === "object" ? (body as Record<string, unknown>).error : null) as Record<
    string,
    unknown
  > | null;
  if (e && typeof e === "object") {
    return new ApiError({
      status: res.status,
      code: typeof e.code === "string" ? e.code : `http_${res.status}`,
      message: typeof e.message === "string" ? e.message : `HTTP ${res.status}`,
      messageKo: typeof e.message_ko === "string" ? e.message_ko : undefined,
      position: typeof e.position === "number" ? e.position : null,
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
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        signal,
        headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
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

  /** The stock's facts and its history backfill's progress (answered without an upstream call once known). */
  stock(code: string, signal?: AbortSignal): Promise<{ backfill: Backfill | null }> {
    return this.request("GET", `/api/v1/stocks/${enc(code)}`, undefined, signal).then((r) => ({
      backfill: readBackfill(r && typeof r === "object" ? (r as Record<string, unknown>).backfill : null),
    }));
  }

  snapshot(code: string, signal?: AbortSignal): Promise<Snapshot> {
    return this.request("GET", `/api/v1/stocks/${enc(code)}/snapshot`, undefined, signal).then((r) => readSnapshot(r, code));
  }

  price(code: string, signal?: AbortSignal): Promise<Quote> {
    return this.request("GET", `/api/v1/stocks/${enc(code)}/price`, undefined, signal).then((r) => readQuote(r, { code }));
  }

  candles(code: string, period: string, count = 400, signal?: AbortSignal): Promise<CandleSet> {
    return this.request("GET", `/api/v1/stocks/${enc(code)}/candles?period=${enc(period)}&count=${count}`, undefined, signal).then(
      readCandleSet,
    );
  }

  search(q: string, limit = 10, signal?: AbortSignal): Promise<SearchHit[]> {
    return this.request<unknown[]>("GET", `/api/v1/stocks/search?q=${enc(q)}&limit=${limit}`, undefined, signal).then((r) =>
      list(r).map(readSearchHit).filter(notNull),
    );
  }

  watchlist(): Promise<WatchItem[]> {
    return this.request("GET", "/api/v1/watchlist").then((r) => list(r).map(readWatchItem).filter(notNull));
  }

  addToWatchlist(code: string): Promise<unknown> {
    return this.request("POST", "/api/v1/watchlist", { code });
  }

  reorderWatchlist(codes: string[]): Promise<unknown> {
    return this.request("PUT", "/api/v1/watchlist", { codes });
  }

  removeFromWatchlist(code: string): Promise<unknown> {
    return this.request("DELETE", `/api/v1/watchlist/${enc(code)}`);
  }

  triggers(query: { after?: number; limit?: number; code?: string } = {}): Promise<Trigger[]> {
    const qs = new URLSearchParams();
    if (query.after !== undefined) qs.set("after", String(query.after));
    if (query.limit !== undefined) qs.set("limit", String(query.limit));
    if (query.code !== undefined) qs.set("code", query.code);
    const suffix = qs.toString() ? `?${qs}` : "";
    return this.request("GET", `/api/v1/triggers${suffix}`).then((r) => list(r).map(readTrigger).filter(notNull));
  }

  ackTrigger(id: number): Promise<unknown> {
    return this.request("POST", `/api/v1/triggers/${id}/ack`);
  }

  conditions(): Promise<Condition[]> {
    return this.request("GET", "/api/v1/conditions").then((r) => list(r).map(readCondition).filter(notNull));
  }

  createCondition(body: ConditionBody): Promise<Condition | null> {
    return this.request("POST", "/api/v1/conditions", body).then(readCondition);
  }

  updateCondition(id: number, body: ConditionBody): Promise<Condition | null> {
    return this.request("PUT", `/api/v1/conditions/${id}`, body).then(readCondition);
  }

  deleteCondition(id: number): Promise<unknown> {
    return this.request("DELETE", `/api/v1/conditions/${id}`);
  }

  backtest(code: string, condition: string, from?: string): Promise<BacktestResult> {
    const body: Record<string, string> = { code, condition };
    if (from) body.from = from;
    return this.request("POST", "/api/v1/backtest", body).then(readBacktest);
  }
}

export interface ConditionBody {
  name: string;
  expr: string;
  enabled: boolean;
  mode?: string;
  cooldown_secs?: number;
  webhook?: string | null;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function list(r: unknown): unknown[] {
  if (Array.isArray(r)) return r;
  // Tolerate a wrapped list (`{"items":[...]}`) although the contract says lists are bare arrays.
  if (r && typeof r === "object") {
    for (const v of Object.values(r)) if (Array.isArray(v)) return v;
  }
  return [];
}

function notNull<T>(v: T | null): v is T {
  return v !== null;
}

export const api = new Api();
