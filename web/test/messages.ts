// Messages and answers of the service in their real shapes (the OpenAPI document's types), for the tests.

import type { Wire } from "../src/model";
import type { MessageOf } from "../src/ws";

const NAMES: Record<string, string> = { "005930": "삼성전자", "000660": "SK하이닉스", "035720": "카카오" };
const name = (code: string) => NAMES[code] ?? code;
const T = "2026-11-27T10:00:01+09:00";

export function tick(code: string, price: number, over: Partial<MessageOf<"tick">> = {}): MessageOf<"tick"> {
  return { type: "tick", code, name: name(code), time: T, price, change: 0, change_rate: 0, sign: "flat", open: price, high: price, low: price, volume: 1, acc_volume: 1, ...over };
}

export function book(code: string, asks: Wire["Level"][] = [], bids: Wire["Level"][] = []): MessageOf<"orderbook"> {
  const total = (side: Wire["Level"][]) => side.reduce((s, l) => s + l.quantity, 0);
  return { type: "orderbook", code, name: name(code), time: null, asks, bids, total_ask_quantity: total(asks), total_bid_quantity: total(bids), expected: null };
}

export function trade(price: number, over: Partial<Wire["Execution"]> = {}): Wire["Execution"] {
  return { time: T, price, change: 0, change_rate: 0, sign: "flat", volume: 1, side: "buy", strength: 100, ...over };
}

export function executions(code: string, trades: Wire["Execution"][]): MessageOf<"executions"> {
  return { type: "executions", code, name: name(code), executions: trades };
}

export function candle(code: string, period: string, time: string, close: number): MessageOf<"candle"> {
  return { type: "candle", code, name: name(code), period, candle: { time, open: close, high: close, low: close, close, volume: 1 }, closed: false };
}

export function trigger(id: number, code = "005930", over: Partial<Wire["Trigger"]> = {}): MessageOf<"trigger"> {
  return {
    type: "trigger",
    id,
    code,
    name: name(code),
    condition_id: 1,
    condition_name: "돌파",
    period: "1m",
    bar_time: "2026-11-27T10:00:00+09:00",
    time: T,
    price: 74_200,
    values: { close: 74_200 },
    late: false,
    acked: false,
    key: `1:${code}:1m:2026-11-27T10:00:00+09:00`,
    persisted: true,
    message: "close 74,200 >= 74,000",
    message_ko: "종가 74,200 >= 74,000",
    recorded_at: T,
    ...over,
  };
}

export function status(upstream?: Wire["UpstreamState"], stocks?: Wire["StockStatusEntry"][]): MessageOf<"status"> {
  return { type: "status", ...(upstream ? { upstream } : {}), ...(stocks ? { stocks } : {}) };
}

export function refused(code: string, message: string): MessageOf<"error"> {
  return { type: "error", code, message };
}
