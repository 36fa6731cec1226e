// What one stock page asks of the WebSocket, in one place the unit tests can drive without a DOM.
//
// The page holds two subscriptions of its stock: the market data (`tick`, `orderbook`, `executions`), taken
// once, and `candle:<period>` for the period on screen. A period switch swaps only the candle channel, so the
// service sees one `subscribe` and one `unsubscribe` of a candle channel and never a churn of the stock's
// realtime registrations; leaving the page gives both back.
//
// The page polls REST for what the WebSocket does not bring: while no live data arrived for the stock within
// `LIVE_FRESH_MS` and the service does not say it is realtime (a stock the service polls, a service without
// the realtime hub, or a dropped socket), it refreshes with a snapshot every few seconds; the candles likewise
// while no live bar of the period arrived.

import type { LiveStore } from "./ws";

/** Live data older than this counts as "no live data": the page polls REST instead. */
export const LIVE_FRESH_MS = 5_000;

/** The market-data channels a stock page subscribes besides its candle period. */
export const PAGE_CHANNELS = ["tick", "orderbook", "executions"] as const;

export class StockFeed {
  private releaseMarket: (() => void) | null;
  private releaseCandle: (() => void) | null = null;
  private candlePeriod: string | null = null;
  private lastCandleAt = -Infinity;

  constructor(
    private readonly live: LiveStore,
    readonly code: string,
    period: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.releaseMarket = live.subscribe([code], [...PAGE_CHANNELS]);
    this.setPeriod(period);
  }

  /** Shows `period`: subscribes its candle channel, then gives back the previous one. */
  setPeriod(period: string): void {
    if (period === this.candlePeriod || this.releaseMarket === null) return;
    const previous = this.releaseCandle;
    this.releaseCandle = this.live.subscribe([this.code], [`candle:${period}`]);
    this.candlePeriod = period;
    this.lastCandleAt = -Infinity;
    previous?.();
  }

  /** Notes a live bar of the shown period (the page calls it from its `candle` listener). */
  noteCandle(period: string): void {
    if (period === this.candlePeriod) this.lastCandleAt = this.now();
  }

  /** Whether the price, order book and executions must come from REST now. */
  get needsSnapshotPoll(): boolean {
    return !this.live.coversLive(this.code, LIVE_FRESH_MS);
  }

  /** Whether the shown period's bars must come from REST now. */
  get needsCandlePoll(): boolean {
    return this.now() - this.lastCandleAt > LIVE_FRESH_MS;
  }

  /** Gives every subscription back (the page is left). */
  close(): void {
    this.releaseCandle?.();
    this.releaseMarket?.();
    this.releaseCandle = null;
    this.releaseMarket = null;
    this.candlePeriod = null;
  }
}
