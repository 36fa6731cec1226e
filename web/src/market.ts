// The market clock in the header: the market's date, time and phase (장전 / 장중 / 동시호가 / 장마감 / 휴장)
// as the service reports them (`GET /api/v1/market`), and the demo's badge ("데모 · 가상 시장 · 10배속") so
// nobody mistakes the simulated market for a real one.
//
// The service is asked every few seconds; between answers the clock runs on by itself at the market's speed
// (10 market seconds a second in the demo), so the minutes move smoothly. Trade times seen on the WebSocket
// (ticks) move it too: it never shows a time earlier than a trade on screen.

import type { Wire } from "./model";

export type MarketPhase = Wire["MarketPhase"];

export interface MarketReading {
  /** Market time in epoch milliseconds of the KST wall clock read as UTC (what `kstParts` formats). */
  nowMs: number | null;
  phase: MarketPhase | null;
  simulated: boolean;
  speed: number;
  upstream: string;
}

const KST_MS = 9 * 3_600_000;

/** An RFC 3339 market time as KST wall-clock milliseconds (read back as UTC by `kstParts`). */
export function kstMs(rfc3339: string): number {
  return Date.parse(rfc3339) + KST_MS;
}

/** `YYYY-MM-DD` and `HH:MM` of a KST wall-clock millisecond value. */
export function kstParts(ms: number): { date: string; time: string; seconds: string } {
  const iso = new Date(ms).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16), seconds: iso.slice(11, 19) };
}

const PHASE_KO: Record<MarketPhase, string> = {
  pre_open: "장전",
  opening_auction: "장전 동시호가",
  continuous: "장중",
  closing_auction: "장마감 동시호가",
  after_hours: "시간외",
  closed: "장마감",
  holiday: "휴장",
};
const PHASE_EN: Record<MarketPhase, string> = {
  pre_open: "Pre-open",
  opening_auction: "Opening auction",
  continuous: "Open",
  closing_auction: "Closing auction",
  after_hours: "After hours",
  closed: "Closed",
  holiday: "Holiday",
};

export function phaseLabel(phase: MarketPhase, lang: "ko" | "en"): string {
  return (lang === "en" ? PHASE_EN : PHASE_KO)[phase];
}

/** Whether the clock runs on between readings (the market's time moves only while a session is on). */
function running(phase: MarketPhase | null, simulated: boolean): boolean {
  // The demo's open clock always runs; a real market's time only moves with its data.
  return simulated || phase === "continuous" || phase === "opening_auction" || phase === "closing_auction";
}

/** The market time `elapsedMs` real milliseconds after a reading. */
export function projected(r: MarketReading, elapsedMs: number): number | null {
  if (r.nowMs === null) return null;
  return running(r.phase, r.simulated) ? r.nowMs + Math.max(0, elapsedMs) * r.speed : r.nowMs;
}

export function readingFrom(m: Wire["Market"]): MarketReading {
  return { nowMs: m.now ? kstMs(m.now) : null, phase: m.phase, simulated: m.simulated, speed: m.speed > 0 ? m.speed : 1, upstream: m.upstream };
}

/** `10배속`, `1.5배속`. */
export function speedLabel(speed: number): string {
  const s = Number.isInteger(speed) ? String(speed) : speed.toFixed(1);
  return `${s}배속`;
}
