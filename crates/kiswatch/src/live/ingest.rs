//! The ingest task: the one task that turns the realtime session's events and the polled trades
//! into live state, live 1-minute bars, browser pushes and trigger evaluation.
//!
//! ```text
//! kis::realtime events ─┐                      ┌▶ LiveFeed: live state, today's 1-minute bars, upstream state
//! poll task (Feed) ─────┼▶ Ingest (one task) ──┼▶ hub: ticks, order books, candles, upstream status
//! gap repair (Feed) ────┘                      └▶ triggers::Evaluator: engine, store-then-deliver
//! watchlist/conditions changed, backfill advanced ──▶ Evaluator::reload / reseed
//! ```
//!
//! * A trade updates the live state, the live bars, the hub and the engine in this task: no hop
//!   between a trade and its trigger. A minute it closes is stored right after (see
//!   [`super::bars`]): the store holds today's closed minutes, the live feed the forming one.
//! * Upstream state changes (connected / reconnecting / down) go to the hub as they happen. After
//!   `Reconnected { gap }` the missed minutes are refetched in the background ([`GapRepair`]); when
//!   they come back they replace the live bars, and the evaluator reseeds and replays them (a
//!   condition that became true inside the gap fires once, marked `late`).
//! * A stock that moves between realtime and polling gets its latest executions again in its first
//!   poll; trades no newer than what was already taken in are dropped, so no bar counts a trade twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::civil::DateTime;
use kis::realtime::RealtimeEvent;
use market::{Candle, Period, StockCode, Trade};
use tokio::sync::{broadcast, mpsc, watch};

use super::feed::{Feed, LiveFeed};
use super::gap::GapRepair;
use crate::history::Advanced;
use crate::hub::Hub;
use crate::status::UpstreamState;
use crate::store::Store;
use crate::triggers::Evaluator;
use crate::upstream::Gateway;

/// Where the ingest task's input comes from.
pub struct Inputs {
    /// Polled trades and repaired gaps.
    pub feed: mpsc::Receiver<Feed>,
    /// The realtime session's events (`None`: no session).
    pub realtime: Option<mpsc::Receiver<RealtimeEvent>>,
    /// Moves when the watchlist or the conditions change.
    pub changed: watch::Receiver<u64>,
    /// The backfill's progress (`None`: no backfill).
    pub advanced: Option<broadcast::Receiver<Advanced>>,
}

/// See the module docs.
pub struct Ingest {
    pub live: Arc<LiveFeed>,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub gateway: Arc<Gateway>,
    pub gaps: GapRepair,
    pub evaluator: Evaluator,
    /// Each stock's last realtime trade when the session dropped (where its gap starts).
    at_drop: HashMap<StockCode, DateTime>,
    /// A reconnect whose gap is repaired once the first trade after it shows the market time.
    pending_gap: Option<Duration>,
    /// Per stock, the time of the newest trade taken in from the realtime feed and from polls.
    newest_live: HashMap<StockCode, DateTime>,
    newest_polled: HashMap<StockCode, DateTime>,
}

impl Ingest {
    pub fn new(
        live: Arc<LiveFeed>,
        store: Store,
        hub: Arc<Hub>,
        gateway: Arc<Gateway>,
        gaps: GapRepair,
        evaluator: Evaluator,
    ) -> Ingest {
        Ingest {
            live,
            store,
            hub,
            gateway,
            gaps,
            evaluator,
            at_drop: HashMap::new(),
            pending_gap: None,
            newest_live: HashMap::new(),
            newest_polled: HashMap::new(),
        }
    }

    /// Runs until the feed or the change channel closes.
    pub async fn run(mut self, inputs: Inputs) {
        let Inputs {
            mut feed,
            mut realtime,
            mut changed,
            mut advanced,
        } = inputs;
        self.reload().await;
        loop {
            tokio::select! {
                msg = feed.recv() => match msg {
                    Some(Feed::Trades { code, trades }) => self.on_polled(code, trades).await,
                    Some(Feed::Gap { code, bars }) => self.on_gap(code, bars).await,
                    None => return,
                },
                event = async {
                    match realtime.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => match event {
                    Some(e) => self.on_realtime(e).await,
                    None => {
                        tracing::warn!("ingest: the realtime session ended");
                        realtime = None;
                    }
                },
                r = changed.changed() => match r {
                    Ok(()) => self.reload().await,
                    Err(_) => return,
                },
                a = async {
                    match advanced.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => match a {
                    Ok(a) => self.evaluator.reseed(a.code, &self.live.minutes(a.code)).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        for code in self.evaluator.watched().to_vec() {
                            self.evaluator.reseed(code, &self.live.minutes(code)).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => advanced = None,
                },
            }
        }
    }

    async fn reload(&mut self) {
        let live = self.live.clone();
        self.evaluator.reload(&|code| live.minutes(code)).await;
    }

    /// One event of the realtime session.
    async fn on_realtime(&mut self, event: RealtimeEvent) {
        match event {
            RealtimeEvent::Execution(e) => {
                let now = tokio::time::Instant::now();
                self.live.with_state(|s| s.on_execution(&e, now));
                self.live.trades.fetch_add(1, Ordering::Relaxed);
                let at = e.datetime();
                self.gateway.clock.observe(at);
                if let Some(gap) = self.pending_gap.take() {
                    self.repair_gap(at, gap);
                }
                self.hub.publish_execution(&e);
                let trade = Trade {
                    time: at,
                    price: e.price,
                    volume: e.volume,
                };
                // A poll that ran while the session was down may have taken this trade in already.
                let live = self.newest_live.get(&e.code).copied();
                let polled = self.newest_polled.get(&e.code).copied();
                let newest = self.newest_live.entry(e.code).or_insert(at);
                *newest = (*newest).max(at);
                if polled.is_some_and(|p| Some(p) > live && at <= p) {
                    return;
                }
                // The first realtime trade of the day, or the first after polls: trades before it
                // (since the last poll) may be missing from the live bars.
                match (live, polled) {
                    (None, None) => self.live.mark_unsure(e.code, at, at),
                    (_, Some(p)) if Some(p) > live => self.live.mark_unsure(e.code, p, at),
                    _ => {}
                }
                self.on_trades(e.code, &[trade]).await;
            }
            RealtimeEvent::OrderBook(b) => {
                let now = tokio::time::Instant::now();
                self.live.with_state(|s| s.on_order_book(&b, now));
                self.hub.publish_order_book(&b, self.live.market_date(b.code));
            }
            RealtimeEvent::Connected => self.upstream(UpstreamState::Connected),
            RealtimeEvent::Disconnected { reason, retry_in } => {
                tracing::warn!(%reason, ?retry_in, "realtime: session lost; reconnecting");
                if self.pending_gap.is_none() {
                    self.at_drop = self.newest_live.clone();
                }
                self.upstream(UpstreamState::Reconnecting);
            }
            RealtimeEvent::ConnectFailed { reason, retry_in } => {
                tracing::warn!(%reason, ?retry_in, "realtime: could not connect");
                let state = if self.gateway.counters.is_failing() {
                    UpstreamState::Down
                } else {
                    UpstreamState::Reconnecting
                };
                self.upstream(state);
            }
            RealtimeEvent::Reconnected { gap } => {
                self.upstream(UpstreamState::Connected);
                // The market time moves with data only: the first trade after the reconnect says
                // where the gap ends.
                self.pending_gap = Some(self.pending_gap.map_or(gap, |g| g.max(gap)));
            }
            RealtimeEvent::SubscriptionLost { topic, error } => {
                tracing::warn!(?topic, %error, "realtime: a registration was not restored");
            }
            RealtimeEvent::Notice(_) => {}
            RealtimeEvent::Malformed(e) => tracing::debug!(error = %e, "realtime: unreadable message"),
        }
    }

    /// Refetches, for every realtime stock, the minutes from its last trade before the drop to
    /// `resumed_at`.
    fn repair_gap(&self, resumed_at: DateTime, gap: Duration) {
        let codes = self.live.realtime_codes();
        tracing::info!(?gap, %resumed_at, stocks = codes.len(), "realtime: back; repairing the gap");
        for code in codes {
            self.gaps
                .repair(vec![code], self.at_drop.get(&code).copied(), resumed_at, gap);
        }
    }

    fn upstream(&self, state: UpstreamState) {
        if self.live.set_upstream(state) {
            self.hub.publish_upstream(state);
        }
    }

    /// Closed minutes refetched after a gap replace the live bars; the evaluator replays them.
    async fn on_gap(&mut self, code: StockCode, bars: Vec<Candle>) {
        if bars.is_empty() {
            return;
        }
        self.live.repair(code, &bars);
        self.live.gaps_repaired.fetch_add(1, Ordering::Relaxed);
        self.persist(code, bars.clone()).await;
        for b in &bars {
            self.hub.publish_candle(code, Period::M1, b, true);
        }
        self.evaluator.on_gap(code, &bars, &self.live.minutes(code)).await;
    }

    /// Polled trades: only those newer than anything already taken in. A stock that moves between
    /// realtime and polling (a drop, a page closed) gets its latest executions again in its first
    /// poll; counting them twice would double its bars' volume.
    async fn on_polled(&mut self, code: StockCode, mut trades: Vec<Trade>) {
        let live = self.newest_live.get(&code).copied();
        let polled = self.newest_polled.get(&code).copied();
        let seen = live.max(polled);
        // The first poll of the day, or the first after realtime: its oldest minute may lack earlier
        // trades, and trades between the last realtime one and it may be missing. (Polls after
        // polls find their own gaps: see the poll task.)
        if let Some(oldest) = trades.first().map(|t| t.time) {
            match seen {
                None => self.live.mark_unsure(code, oldest, oldest),
                Some(s) if live == seen && oldest > s => self.live.mark_unsure(code, s, oldest),
                _ => {}
            }
        }
        if let Some(newest) = seen {
            trades.retain(|t| t.time > newest);
        }
        if let Some(last) = trades.last() {
            self.newest_polled.insert(code, last.time);
        }
        if !trades.is_empty() {
            self.on_trades(code, &trades).await;
        }
    }

    async fn on_trades(&mut self, code: StockCode, trades: &[Trade]) {
        let touched = self.live.absorb(code, trades);
        for bar in &touched {
            self.hub.publish_candle(code, Period::M1, bar, false);
        }
        self.evaluator.on_trades(code, trades).await;
        // Minutes this trade closed are final: stored, so the chart and the engine's next reseed
        // read them from the store (after the evaluation, off the trade-to-trigger path).
        if let Some(last) = trades.last() {
            let closed = self.live.take_closed(code, last.time);
            self.persist(code, closed).await;
        }
    }

    async fn persist(&self, code: StockCode, bars: Vec<Candle>) {
        if bars.is_empty() {
            return;
        }
        if let Err(e) = self.store.put_minutes(code, bars).await {
            tracing::warn!(%code, error = %e, "ingest: storing closed live minutes failed");
        }
    }
}
