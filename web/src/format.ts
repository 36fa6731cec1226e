// Number formatting and the Korean colour rules shared by every view.
//
// Korean screens read up as red and down as blue (the opposite of TradingView's defaults), show a change as
// `▲ 1,500` / `▼ 1,500` and a rate as `+1.23%`, and mark the daily price limits (상한가 / 하한가) with a
// filled badge. Every view asks this module instead of deciding on its own, so the rules cannot drift apart.

import type { components } from "./api-types";

const integer = new Intl.NumberFormat("ko-KR", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("ko-KR", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Formats a KRW amount or a share count with thousands separators: 1234567 → "1,234,567". */
export function formatKrw(value: number): string {
  return integer.format(value);
}

/** Formats a value that may be missing; missing shows as an em dash so a row keeps its shape. */
export function formatMaybe(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : formatKrw(value);
}

/** Which way a price moved, for colour and arrow. */
export type Direction = "up" | "down" | "flat";

/** The sign of a change from the base price, as the service names it (KIS 전일대비부호). */
export type Sign = components["schemas"]["Sign"];

/** The direction of a change: positive up, negative down, zero (or unknown) flat. */
export function direction(change: number | null | undefined): Direction {
  if (change === null || change === undefined || !Number.isFinite(change) || change === 0) return "flat";
  return change > 0 ? "up" : "down";
}

/** The direction a sign implies (limits count as up/down). */
export function signDirection(sign: Sign): Direction {
  if (sign === "upper_limit" || sign === "up") return "up";
  if (sign === "lower_limit" || sign === "down") return "down";
  return "flat";
}

/** CSS class for a direction: `up` (red), `down` (blue), `flat` (grey). */
export function directionClass(d: Direction): string {
  return d;
}

/** The change as Koreans read it: `▲ 1,500`, `▼ 1,500`, or `0` when flat. */
export function formatChange(change: number | null | undefined): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return "—";
  if (change === 0) return "0";
  return `${change > 0 ? "▲" : "▼"} ${formatKrw(Math.abs(change))}`;
}

/** The rate with an explicit sign and two decimals: `+1.23%`, `-1.23%`, `0.00%`. */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "—";
  const sign = rate > 0 ? "+" : rate < 0 ? "-" : "";
  return `${sign}${decimal.format(Math.abs(rate))}%`;
}

/** The filled badge for a price limit: `↑` at 상한가, `↓` at 하한가, nothing otherwise. */
export function limitBadge(sign: Sign): { text: string; cls: string } | null {
  if (sign === "upper_limit") return { text: "↑", cls: "limit up" };
  if (sign === "lower_limit") return { text: "↓", cls: "limit down" };
  return null;
}

/** Large amounts in Korean units for the header (거래대금): 1.2조, 3,456억, 7,890만. */
export function formatKoreanAmount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1e12) return `${decimal.format(value / 1e12)}조`;
  if (abs >= 1e8) return `${formatKrw(Math.round(value / 1e8))}억`;
  if (abs >= 1e4) return `${formatKrw(Math.round(value / 1e4))}만`;
  return formatKrw(value);
}

const KST_OFFSET_SECS = 9 * 3600;

/**
 * Seconds for the chart's time axis: the chart library shows timestamps as UTC, so a KST bar time is shifted
 * by +9 h and then reads 09:00 where the market opened at 09:00.
 */
export function chartTime(rfc3339: string): number {
  return Math.floor(Date.parse(rfc3339) / 1000) + KST_OFFSET_SECS;
}

/** The RFC 3339 time of chart seconds (the inverse of `chartTime`). */
export function fromChartTime(secs: number): string {
  return new Date((secs - KST_OFFSET_SECS) * 1000).toISOString();
}

/** `HH:MM:SS` in KST of an RFC 3339 time, whatever the browser's own time zone. */
export function formatKstTime(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return "—";
  return new Date(ms + KST_OFFSET_SECS * 1000).toISOString().slice(11, 19);
}

/** `YYYY-MM-DD HH:MM` in KST. */
export function formatKstDateTime(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return "—";
  const s = new Date(ms + KST_OFFSET_SECS * 1000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

/** `YYYY-MM-DD` in KST. */
export function formatKstDate(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return "—";
  return new Date(ms + KST_OFFSET_SECS * 1000).toISOString().slice(0, 10);
}

/** `MM-DD HH:MM` in KST: a signal's moment in a list. */
export function formatKstShort(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return "—";
  const s = new Date(ms + KST_OFFSET_SECS * 1000).toISOString();
  return `${s.slice(5, 10)} ${s.slice(11, 16)}`;
}

/** A bar's moment as its period reads: date and time for intraday bars, the date alone for D/W/M. */
export function formatBarTime(rfc3339: string, period: string): string {
  return /^\d+m$/.test(period) ? formatKstDateTime(rfc3339) : formatKstDate(rfc3339);
}
