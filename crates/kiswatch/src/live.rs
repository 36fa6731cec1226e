//! The live feed: the realtime session's bookkeeping, the subscription planner's rounds and the
//! polling of the stocks past the realtime cap.
//!
//! ```text
//! planner task ── every second and on change ──▶ SubscriptionPlanner::plan
//!      │  Round.subscribe / unsubscribe ──▶ kis::realtime::RealtimeHandle
//!      │  Round.realtime ──▶ LiveFeed (who is realtime)       Round.polled ──▶ poll task
//! poll task ── PollScheduler (bounded share, interactive priority) ──▶ gateway.executions ──▶ Feed
//! realtime events + Feed ──▶ the trigger service's one task (crate::triggers)
//! ```
//!
//! [`LiveFeed`] is what the API and the gateway read: the [`LiveState`] of realtime stocks (price,
//! order book, executions from the feed, no REST call), today's 1-minute bars built from live trades,
//! each stock's [`StockStatus`] and the upstream state. Only the trigger service's task writes the
//! live data (it receives the realtime events); the planner task writes who is realtime and polled.
//!
//! Polling answers hold the latest executions (newest first, times of day only): those after the
//! previous answer's newest are new; the date is the market's current trading day
//! ([`crate::clock`]), and a time that jumps back by hours means a new session. An answer that does
//! not reach back to the previous one means trades were missed in between: those minutes are
//! repaired from the REST minute chart like a realtime gap ([`Feed::Gap`]).
//!
//! Polls go at [`POLL_PRIORITY`], ahead of the backfill: a watched stock's price being fresh matters
//! more than history arriving a little sooner, and the scheduler's pacing (a bounded share of the
//! rate, 25 % by default) is what keeps headroom for pages, not the governor's priority. At
//! background priority, the first polls of a 60-stock watchlist waited seven seconds behind its
//! backfill.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::civil::{DateTime, Time};
use kis::Priority;
use kis::realtime::{RealtimeHandle, Topic};

/// How long a new session may take to report before its stocks are polled instead (see
/// [`LiveFeed::session_expected`]).
pub const SESSION_STARTUP_GRACE: Duration = Duration::from_secs(5);

/// The governor priority of a poll (see the module doc for why not background).
pub const POLL_PRIORITY: Priority = Priority::Interactive;

/// How often the poll task, with nothing to poll, checks whether to probe a failing upstream.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// The stock asked for when only the upstream's health or the market's time is wanted (listed on
/// every KIS server).
pub const PROBE_CODE: &str = "005930";
use market::{Candle, StockCode};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::LiveConfig;
use crate::gateway::Gateway;
use crate::hub::Hub;
use crate::hub::live_state::LiveState;
use crate::hub::protocol::UpstreamState;
use crate::planner::poll::{PollConfig, PollDecision, PollScheduler};
use crate::planner::status::{FeedState, StatusInput, StockStatus};
use crate::planner::{Demand, PlannerConfig, Round, SubscriptionPlanner};
use crate::store::Store;

/// Executions kept per realtime stock (what the REST list holds).
pub const KEEP_EXECUTIONS: usize = 30;

/// How often the planner runs a round when nothing changed.
const ROUND_EVERY: Duration = Duration::from_secs(1);
/// How often the planner looks for newly opened pages.
const PAGES_EVERY: Duration = Duration::from_millis(200);
/// The longest a subscribe/unsubscribe may take before the round moves on.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One trade, in market time (KST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    pub time: DateTime,
    pub price: i64,
    pub volume: u64,
}

/// What the live sources send to the trigger service (besides the realtime events themselves).
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// New trades of one stock, oldest first (from polling).
    Trades { code: StockCode, trades: Vec<Trade> },
    /// Closed 1-minute bars refetched over REST for minutes the feed missed, oldest first.
    Gap { code: StockCode, bars: Vec<Candle> },
}

/// Counters for the health endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStats {
    pub upstream: UpstreamState,
    pub realtime: usize,
    pub polled: usize,
    pub polls: u64,
    pub failures: u64,
    pub trades: u64,
    pub gaps_repaired: u64,
}

#[derive(Debug, Default)]
struct Sources {
    /// Stocks whose executions are registered.
    realtime: HashSet<StockCode>,
    /// Stocks in the poll schedule and their last successful poll.
    polled: HashMap<StockCode, Option<Instant>>,
    poll_bound: Duration,
}

/// The shared live picture (see the module docs).
#[derive(Debug)]
pub struct LiveFeed {
    state: RwLock<LiveState>,
    /// Today's 1-minute bars built from live trades (and repaired from REST after gaps).
    minutes: RwLock<HashMap<StockCode, BTreeMap<DateTime, Candle>>>,
    sources: RwLock<Sources>,
    session_up: AtomicBool,
    /// Whether the session reported anything yet (connected, failed, lost).
    session_reported: AtomicBool,
    created: Instant,
    upstream: RwLock<UpstreamState>,
    pub polls: AtomicU64,
    pub poll_failures: AtomicU64,
    pub trades: AtomicU64,
    pub gaps_repaired: AtomicU64,
}

impl Default for LiveFeed {
    fn default() -> LiveFeed {
        LiveFeed {
            state: RwLock::new(LiveState::new(KEEP_EXECUTIONS)),
            minutes: RwLock::default(),
            sources: RwLock::default(),
            session_up: AtomicBool::new(false),
            session_reported: AtomicBool::new(false),
            created: Instant::now(),
            upstream: RwLock::new(UpstreamState::Reconnecting),
            polls: AtomicU64::new(0),
            poll_failures: AtomicU64::new(0),
            trades: AtomicU64::new(0),
            gaps_repaired: AtomicU64::new(0),
        }
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl LiveFeed {
    pub fn new() -> LiveFeed {
        LiveFeed::default()
    }

    /// Updates the live state (the trigger service's task only).
    pub fn with_state<T>(&self, f: impl FnOnce(&mut LiveState) -> T) -> T {
        f(&mut write(&self.state))
    }

    /// Whether the stock is realtime now: registered on a connected session.
    pub fn is_realtime(&self, code: StockCode) -> bool {
        self.session_up.load(Ordering::Relaxed) && read(&self.sources).realtime.contains(&code)
    }

    /// The stock's price from the feed while it is realtime and a trade has arrived.
    pub fn price(&self, code: StockCode) -> Option<kis::wire::quotations::Price> {
        self.is_realtime(code)
            .then(|| read(&self.state).price(code))
            .flatten()
    }

    /// The stock's order book from the feed while it is realtime and one has arrived.
    pub fn order_book(&self, code: StockCode) -> Option<kis::wire::quotations::OrderBook> {
        self.is_realtime(code)
            .then(|| read(&self.state).order_book(code))
            .flatten()
    }

    /// The stock's latest executions from the feed while it is realtime and one has arrived.
    pub fn executions(&self, code: StockCode) -> Option<Vec<kis::wire::quotations::Execution>> {
        self.is_realtime(code)
            .then(|| read(&self.state).executions(code))
            .flatten()
    }

    /// The market date of the stock's latest live trade.
    pub fn market_date(&self, code: StockCode) -> Option<jiff::civil::Date> {
        read(&self.state).market_date(code)
    }

    /// Today's live 1-minute bars of a stock, oldest first.
    pub fn minutes(&self, code: StockCode) -> Vec<Candle> {
        read(&self.minutes)
            .get(&code)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }

    /// Adds trades to today's live bars; returns the bars they touched (oldest first).
    pub fn absorb(&self, code: StockCode, trades: &[Trade]) -> Vec<Candle> {
        let mut all = write(&self.minutes);
        let minutes = all.entry(code).or_default();
        let mut touched = BTreeSet::new();
        for t in trades {
            // Bars of an earlier session are history now (the store has them).
            if minutes
                .last_key_value()
                .is_some_and(|(k, _)| k.date() != t.time.date())
            {
                minutes.clear();
            }
            let minute = minute_of(t.time);
            let part = Candle::from_trade(minute, t.price, t.volume);
            minutes
                .entry(minute)
                .and_modify(|b| b.absorb(&part))
                .or_insert(part);
            touched.insert(minute);
        }
        touched
            .into_iter()
            .filter_map(|m| minutes.get(&m).copied())
            .collect()
    }

    /// Replaces live bars with bars refetched over REST (closed minutes the feed missed part of).
    pub fn repair(&self, code: StockCode, bars: &[Candle]) {
        let mut all = write(&self.minutes);
        let minutes = all.entry(code).or_default();
        for b in bars {
            minutes.insert(b.time, *b);
        }
    }

    /// The stock's status at `now`.
    pub fn status(&self, code: StockCode, now: Instant) -> StockStatus {
        let sources = read(&self.sources);
        let registered = sources.realtime.contains(&code);
        let polled = sources.polled.get(&code).copied();
        let live = read(&self.state).last_update(code);
        let last_data = match (registered, polled) {
            (true, _) => live,
            (false, Some(p)) => p,
            (false, None) => None,
        };
        StockStatus::of(
            StatusInput {
                registered,
                session_up: self.session_up.load(Ordering::Relaxed),
                polled: polled.is_some(),
                last_data,
                poll_bound: sources.poll_bound,
            },
            now,
        )
    }

    pub fn upstream(&self) -> UpstreamState {
        *read(&self.upstream)
    }

    /// Records the session's state; `true` when it changed.
    pub fn set_upstream(&self, state: UpstreamState) -> bool {
        self.session_up
            .store(state == UpstreamState::Connected, Ordering::Relaxed);
        self.session_reported.store(true, Ordering::Relaxed);
        let mut u = write(&self.upstream);
        let changed = *u != state;
        *u = state;
        changed
    }

    pub fn session_up(&self) -> bool {
        self.session_up.load(Ordering::Relaxed)
    }

    /// The session is up, or it is still starting (it has not reported yet, for at most
    /// [`SESSION_STARTUP_GRACE`]). Stocks on their way to a registration are not polled meanwhile:
    /// at startup the approval key and the connection take about a second, and polling every
    /// open page and watched stock for that second spent the rate budget a page's first requests
    /// were waiting for (on VTS, 2 requests/s, a cold stock page drew a second later).
    pub fn session_expected(&self, now: Instant) -> bool {
        self.session_up()
            || (!self.session_reported.load(Ordering::Relaxed)
                && now.saturating_duration_since(self.created) < SESSION_STARTUP_GRACE)
    }

    /// The stocks whose executions are registered.
    pub fn realtime_codes(&self) -> Vec<StockCode> {
        let mut v: Vec<StockCode> = read(&self.sources).realtime.iter().copied().collect();
        v.sort();
        v
    }

    /// The stocks in the poll schedule.
    pub fn polled_codes(&self) -> Vec<StockCode> {
        let mut v: Vec<StockCode> = read(&self.sources).polled.keys().copied().collect();
        v.sort();
        v
    }

    fn set_sources(&self, realtime: HashSet<StockCode>, polled: &[StockCode], bound: Duration) {
        let gone: Vec<StockCode> = {
            let mut s = write(&self.sources);
            let gone = s.realtime.difference(&realtime).copied().collect();
            s.realtime = realtime;
            let old = std::mem::take(&mut s.polled);
            s.polled = polled
                .iter()
                .map(|c| (*c, old.get(c).copied().flatten()))
                .collect();
            s.poll_bound = bound;
            gone
        };
        // Data of a stock that is no longer realtime is never served as live.
        let mut state = write(&self.state);
        for code in gone {
            state.forget(code);
        }
    }

    fn record_poll(&self, code: StockCode, now: Instant) {
        if let Some(p) = write(&self.sources).polled.get_mut(&code) {
            *p = Some(now);
        }
    }

    pub fn stats(&self) -> LiveStats {
        let s = read(&self.sources);
        LiveStats {
            upstream: self.upstream(),
            realtime: s.realtime.len(),
            polled: s.polled.len(),
            polls: self.polls.load(Ordering::Relaxed),
            failures: self.poll_failures.load(Ordering::Relaxed),
            trades: self.trades.load(Ordering::Relaxed),
            gaps_repaired: self.gaps_repaired.load(Ordering::Relaxed),
        }
    }
}

/// The start of a moment's minute.
pub fn minute_of(t: DateTime) -> DateTime {
    t.date().to_datetime(Time::constant(t.hour(), t.minute(), 0, 0))
}

/// What the planner needs to know to run its rounds.
pub struct PlannerTask {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub live: Arc<LiveFeed>,
    /// `None`: no realtime session (everything is polled).
    pub realtime: Option<RealtimeHandle>,
    pub changed: watch::Receiver<u64>,
    pub polled: watch::Sender<Vec<StockCode>>,
    pub polls: PollConfig,
    pub config: PlannerConfig,
}

impl PlannerTask {
    /// Runs rounds until the service stops.
    pub async fn run(mut self) {
        let mut planner = SubscriptionPlanner::new(self.config);
        let mut published: HashMap<StockCode, FeedState> = HashMap::new();
        let mut last_pages = BTreeMap::new();
        let mut last_round = Instant::now() - ROUND_EVERY;
        let mut pending = false;
        loop {
            let pages = self.hub.open_pages();
            let due = pending || pages != last_pages || last_round.elapsed() >= ROUND_EVERY;
            if due {
                last_pages = pages.clone();
                last_round = Instant::now();
                match self.round(&mut planner, pages).await {
                    Some(round) => {
                        pending = round.pending > 0;
                        self.publish_statuses(&round, &mut published);
                    }
                    None => pending = false,
                }
            }
            // More changes to make: the next round at once (the client paces the requests).
            let pause = if pending { Duration::ZERO } else { PAGES_EVERY };
            tokio::select! {
                r = self.changed.changed() => {
                    if r.is_err() {
                        return;
                    }
                    pending = true;
                }
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn round(
        &self,
        planner: &mut SubscriptionPlanner,
        open_pages: BTreeMap<StockCode, u32>,
    ) -> Option<Round> {
        let (watchlist, conditions) = match (self.store.watchlist().await, self.store.conditions().await) {
            (Ok(w), Ok(c)) => (w, c),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "planner: reading the watchlist or conditions failed");
                return None;
            }
        };
        let watchlist: Vec<StockCode> = watchlist.into_iter().map(|w| w.code).collect();
        // Conditions apply to every watched stock.
        let with_conditions = if conditions.iter().any(|c| c.enabled) {
            watchlist.iter().copied().collect()
        } else {
            BTreeSet::new()
        };
        let demand = Demand {
            open_pages,
            with_conditions,
            watchlist,
        };
        let Some(handle) = &self.realtime else {
            // No session: every demanded stock is polled.
            let polled: Vec<StockCode> = demand.stocks().into_iter().map(|(c, _)| c).collect();
            self.live
                .set_sources(HashSet::new(), &polled, self.polls.bound(polled.len()));
            let _ = self.polled.send(polled);
            let round = planner.plan(&demand, &BTreeSet::new(), Instant::now());
            return Some(round);
        };
        let current: BTreeSet<Topic> = match handle.registrations().await {
            Ok(r) => r.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "planner: the realtime client is gone");
                return None;
            }
        };
        let round = planner.plan(&demand, &current, Instant::now());
        for topic in &round.unsubscribe {
            match tokio::time::timeout(REQUEST_TIMEOUT, handle.unsubscribe_topic(topic.clone())).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(?topic, error = %e, "planner: unsubscribe failed"),
                Err(_) => tracing::warn!(?topic, "planner: unsubscribe not acknowledged in time"),
            }
        }
        for topic in &round.subscribe {
            match tokio::time::timeout(REQUEST_TIMEOUT, handle.subscribe_topic(topic.clone())).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(?topic, error = %e, "planner: subscribe failed"),
                Err(_) => tracing::debug!(?topic, "planner: subscribe waits for the session"),
            }
        }
        // What the client holds now (a failed request leaves things as they were).
        let held: BTreeSet<Topic> = handle
            .registrations()
            .await
            .map(|r| r.into_iter().collect())
            .unwrap_or(round.after.clone());
        let realtime: HashSet<StockCode> = demand
            .stocks()
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| held.contains(&Topic::stock(kis::realtime::Channel::Executions, *c)))
            .collect();
        // Polled: what neither holds a registration nor is about to get one in the next rounds (a
        // stock on its way in would only spend the poll budget for a second or two). While the
        // session is down, everything is polled; while it is still starting, nothing it will take.
        let executions = |c: &StockCode| Topic::stock(kis::realtime::Channel::Executions, *c);
        let expected = self.live.session_expected(Instant::now());
        let polled: Vec<StockCode> = demand
            .stocks()
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| !expected || !(realtime.contains(c) || round.target.contains(&executions(c))))
            .collect();
        let bound = self.polls.bound(polled.len());
        self.live.set_sources(realtime, &polled, bound);
        self.polled.send_if_modified(|p| {
            let changed = *p != polled;
            *p = polled;
            changed
        });
        Some(round)
    }

    /// Publishes the status of every demanded stock whose state changed.
    fn publish_statuses(&self, round: &Round, published: &mut HashMap<StockCode, FeedState>) {
        let now = Instant::now();
        let demanded: HashSet<StockCode> = round
            .realtime
            .iter()
            .chain(&round.polled)
            .map(|(c, _)| *c)
            .collect();
        published.retain(|c, _| demanded.contains(c));
        for code in demanded {
            let status = self.live.status(code, now);
            if published.insert(code, status.state) != Some(status.state) {
                self.hub.publish_stock_status(code, status);
            }
        }
    }
}

/// The poll scheduler's budget for an upstream.
pub fn poll_config(gateway: &Gateway, live: LiveConfig) -> PollConfig {
    PollConfig {
        rate_per_sec: gateway.client().environment().rate().max(1),
        share: live.poll_share,
        min_interval: live.min_interval,
        ..PollConfig::default()
    }
}

/// Polls the stocks the planner leaves to polling.
pub struct PollTask {
    pub gateway: Arc<Gateway>,
    pub live: Arc<LiveFeed>,
    pub feed: mpsc::Sender<Feed>,
    pub stocks: watch::Receiver<Vec<StockCode>>,
    pub config: PollConfig,
}

impl PollTask {
    /// Polls until the feed's receiver or the planner is gone.
    pub async fn run(mut self) {
        let mut scheduler = PollScheduler::new(self.config);
        let mut cursors: HashMap<StockCode, Cursor> = HashMap::new();
        let mut refresh = true;
        loop {
            if std::mem::take(&mut refresh) || self.stocks.has_changed().unwrap_or(false) {
                let stocks = self.stocks.borrow_and_update().clone();
                cursors.retain(|c, _| stocks.contains(c));
                scheduler.set_stocks(stocks);
            }
            let wait = match scheduler.next(Instant::now()) {
                PollDecision::Poll(code) => {
                    let ok = match self.poll(code, &mut cursors).await {
                        Ok(ok) => ok,
                        Err(()) => return,
                    };
                    scheduler.record(code, ok, Instant::now());
                    if ok {
                        self.live.record_poll(code, Instant::now());
                    }
                    continue;
                }
                PollDecision::WaitUntil(t) => Some(t),
                // Nothing to poll: look again in a while, and if the upstream is failing then,
                // probe it, so the service notices the recovery by itself (503s stop, health is
                // `ok` again) even when every stock is realtime.
                PollDecision::Idle => Some(Instant::now() + PROBE_EVERY),
            };
            let idle = scheduler.is_empty();
            tokio::select! {
                r = self.stocks.changed() => match r {
                    Ok(()) => refresh = true,
                    Err(_) => return,
                },
                _ = async {
                    match wait {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => {
                    if idle && self.gateway.counters.is_failing() {
                        let code = StockCode::parse(PROBE_CODE).expect("a valid code");
                        let ok = self.gateway.probe(code).await;
                        tracing::debug!(ok, "live: probed the failing upstream");
                    }
                }
            }
        }
    }

    /// One poll: `Ok(true)` when it succeeded, `Err` when the feed is closed.
    async fn poll(&self, code: StockCode, cursors: &mut HashMap<StockCode, Cursor>) -> Result<bool, ()> {
        self.live.polls.fetch_add(1, Ordering::Relaxed);
        let list = match self.gateway.executions(code, POLL_PRIORITY).await {
            Ok(list) => list,
            Err(e) => {
                self.live.poll_failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%code, error = %e, "live: poll failed");
                return Ok(false);
            }
        };
        let rows: Vec<(Time, i64, u64)> = list.iter().map(|e| (e.time, e.price, e.volume)).collect();
        let previous = cursors.get(&code).copied();
        let (fresh, cursor, new_day) = new_since(previous, &rows);
        if new_day || self.gateway.clock.today().is_none() {
            // A new session (or none known yet): its date comes from today's minutes upstream.
            self.gateway.invalidate_today(code).await;
            if let Err(e) = self.gateway.today_minutes(code, POLL_PRIORITY).await {
                tracing::debug!(%code, error = %e, "live: learning the trading day failed");
                return Ok(false);
            }
        }
        if let Some(c) = cursor {
            cursors.insert(code, c);
        }
        let Some(today) = self.gateway.clock.today() else {
            return Ok(true);
        };
        if let Some(last) = fresh.last() {
            self.gateway.clock.observe(today.to_datetime(last.0));
        }
        // The answer does not reach back to the previous one: trades in between were missed.
        let missed = match (previous, rows.last()) {
            (Some(p), Some(oldest)) if !new_day => oldest.0 > p.time,
            _ => false,
        };
        if missed && let (Some(p), Some(newest)) = (previous, rows.first()) {
            spawn_gap_repair(
                self.gateway.clone(),
                self.feed.clone(),
                vec![code],
                Some(today.to_datetime(p.time)),
                today.to_datetime(newest.0),
                Duration::ZERO,
            );
        }
        if fresh.is_empty() {
            return Ok(true);
        }
        self.live.trades.fetch_add(fresh.len() as u64, Ordering::Relaxed);
        let trades = fresh
            .into_iter()
            .map(|(t, price, volume)| Trade {
                time: today.to_datetime(t),
                price,
                volume,
            })
            .collect();
        self.feed
            .send(Feed::Trades { code, trades })
            .await
            .map_err(|_| ())?;
        Ok(true)
    }
}

/// Refetches the minutes a feed gap covered, in the background, once they are closed, and sends
/// them to the trigger service as [`Feed::Gap`]. `last_received`: the market time of the last data
/// before the gap; `resumed_at`: the market time when data flowed again; `gap`: the drop's length.
pub fn spawn_gap_repair(
    gateway: Arc<Gateway>,
    feed: mpsc::Sender<Feed>,
    codes: Vec<StockCode>,
    last_received: Option<DateTime>,
    resumed_at: DateTime,
    gap: Duration,
) {
    let plan = crate::hub::gap::gap_repair_plan(
        &codes,
        last_received,
        resumed_at,
        gap,
        market::krx::Calendar::krx(),
    );
    if plan.is_empty() || plan.codes.is_empty() {
        return;
    }
    tracing::info!(spans = ?plan.spans, ?last_received, %resumed_at, "gap: refetching minutes");
    tokio::spawn(async move {
        let Some(last) = plan.spans.last().map(|s| s.date.to_datetime(s.last)) else {
            return;
        };
        // The resumption's minute was only partly missed: wait until it is closed upstream, so the
        // refetched bar is final (market time, which runs with the feed).
        let closed_at = last.saturating_add(jiff::SignedDuration::from_mins(1));
        while gateway.clock.now().is_none_or(|now| now < closed_at) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        for code in plan.codes.iter().copied() {
            let mut bars = Vec::new();
            for span in &plan.spans {
                let fetched = if Some(span.date) == gateway.clock.today() {
                    gateway.invalidate_today(code).await;
                    match gateway.today_minutes(code, Priority::Background).await {
                        // The closed minutes are in the store now; the newest one upstream (which
                        // the gateway keeps as forming) is closed too when it lies in the span.
                        Ok(today) => gateway
                            .store()
                            .minutes(
                                code,
                                Some(
                                    span.date
                                        .to_datetime(span.last)
                                        .saturating_add(jiff::SignedDuration::from_mins(1)),
                                ),
                                span.minutes() + 1,
                            )
                            .await
                            .map(|mut bars| {
                                if let Some(f) = today.forming
                                    && bars.last().is_none_or(|l| l.time < f.time)
                                {
                                    bars.push(f);
                                }
                                bars
                            })
                            .map_err(crate::gateway::GatewayError::from),
                        Err(e) => Err(e),
                    }
                } else {
                    gateway.past_minutes(code, span.date).await
                };
                match fetched {
                    Ok(got) => bars.extend(got.into_iter().filter(|b| {
                        b.time.date() == span.date
                            && b.time.time() >= span.first
                            && b.time.time() <= span.last
                    })),
                    Err(e) => tracing::warn!(%code, error = %e, "gap: refetching minutes failed"),
                }
            }
            if !bars.is_empty() && feed.send(Feed::Gap { code, bars }).await.is_err() {
                return;
            }
        }
    });
}

/// Where each stock's previous answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    time: Time,
    /// Executions at exactly `time` already passed on.
    at_time: usize,
}

/// The executions of an answer (newest first) that are new after `cursor`, oldest first, and the
/// cursor after them. A time far below the cursor's is a new session: everything is new.
fn new_since(
    cursor: Option<Cursor>,
    newest_first: &[(Time, i64, u64)],
) -> (Vec<(Time, i64, u64)>, Option<Cursor>, bool) {
    let Some(newest) = newest_first.first() else {
        return (Vec::new(), cursor, false);
    };
    let new_day = cursor.is_some_and(|c| c.time.duration_until(newest.0).as_secs() < -3600);
    let cursor = if new_day { None } else { cursor };
    let mut fresh: Vec<(Time, i64, u64)> = match cursor {
        None => newest_first.to_vec(),
        Some(c) => {
            let later: Vec<_> = newest_first.iter().copied().filter(|e| e.0 > c.time).collect();
            let same: Vec<_> = newest_first.iter().copied().filter(|e| e.0 == c.time).collect();
            // Executions at the cursor's second beyond those already seen (the list is newest first,
            // so the extra ones are the first of that second).
            let extra = same.len().saturating_sub(c.at_time);
            later.into_iter().chain(same.into_iter().take(extra)).collect()
        }
    };
    fresh.reverse();
    let at_time = newest_first.iter().filter(|e| e.0 == newest.0).count();
    (
        fresh,
        Some(Cursor {
            time: newest.0,
            at_time,
        }),
        new_day,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i8, m: i8, s: i8) -> Time {
        Time::constant(h, m, s, 0)
    }

    #[test]
    fn a_starting_session_is_expected_until_it_reports_or_the_grace_ends() {
        let feed = LiveFeed::new();
        let now = Instant::now();
        assert!(feed.session_expected(now), "starting: its stocks are not polled");
        assert!(
            !feed.session_expected(now + SESSION_STARTUP_GRACE),
            "never reported: polled"
        );
        feed.set_upstream(UpstreamState::Reconnecting);
        assert!(
            !feed.session_expected(now),
            "a failed first connection: polled at once"
        );
        feed.set_upstream(UpstreamState::Connected);
        assert!(feed.session_expected(now + SESSION_STARTUP_GRACE * 10));
        feed.set_upstream(UpstreamState::Reconnecting);
        assert!(!feed.session_expected(now), "lost after it was up: polled");
    }

    #[test]
    fn only_executions_after_the_previous_answer_are_new() {
        let first = [
            (t(9, 0, 3), 101, 1),
            (t(9, 0, 2), 100, 2),
            (t(9, 0, 2), 99, 3),
            (t(9, 0, 1), 98, 4),
        ];
        let (fresh, cursor, new_day) = new_since(None, &first);
        assert!(!new_day);
        assert_eq!(
            fresh.iter().map(|e| e.1).collect::<Vec<_>>(),
            [98, 99, 100, 101],
            "oldest first"
        );
        // Two more at 09:00:03 and one later.
        let second = [
            (t(9, 0, 5), 104, 1),
            (t(9, 0, 3), 103, 1),
            (t(9, 0, 3), 102, 1),
            (t(9, 0, 3), 101, 1),
        ];
        let (fresh, cursor, _) = new_since(cursor, &second);
        assert_eq!(fresh.iter().map(|e| e.1).collect::<Vec<_>>(), [102, 103, 104]);
        let (fresh, cursor, _) = new_since(cursor, &second);
        assert!(fresh.is_empty(), "the same answer again brings nothing");
        let close = [(t(15, 30, 0), 150, 1)];
        let (fresh, cursor, new_day) = new_since(cursor, &close);
        assert!(!new_day && fresh.len() == 1);
        // The next session starts at 09:00 again.
        let next_day = [(t(9, 0, 1), 200, 1)];
        let (fresh, _, new_day) = new_since(cursor, &next_day);
        assert!(new_day);
        assert_eq!(fresh.len(), 1);
    }
}
