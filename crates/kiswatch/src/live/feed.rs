//! [`LiveFeed`]: the service's shared live picture, written by the live side and read by everyone.
//!
//! * the [`LiveState`] of realtime stocks (price, order book, executions from the feed, so the API
//!   answers them without a REST call; see [`super::quotes`]);
//! * today's 1-minute bars built from live trades (realtime or polled) and repaired after gaps;
//! * which stocks are realtime and which are polled, so each stock's [`StockStatus`];
//! * the upstream session's [`UpstreamState`], and counters for health.
//!
//! Only the ingest task ([`super::ingest`]) writes the live data and the upstream state; the
//! planner task writes who is realtime and polled. Readers take short locks.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use jiff::civil::{Date, DateTime};
use market::{Candle, StockCode, Trade};
use tokio::time::Instant;

use super::bars::LiveBars;
pub use super::bars::minute_of;
use super::state::LiveState;
use crate::contract::LiveFeedStats;
use crate::status::{StatusInput, StockStatus, UpstreamState};

/// How long a new session may take to report before its stocks are polled instead (see
/// [`LiveFeed::session_expected`]).
pub const SESSION_STARTUP_GRACE: Duration = Duration::from_secs(5);

/// What the poll task and gap repair send to the ingest task (besides the realtime events, which it
/// reads itself).
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// New trades of one stock, oldest first (from polling).
    Trades { code: StockCode, trades: Vec<Trade> },
    /// Closed 1-minute bars refetched over REST for minutes the feed missed, oldest first.
    Gap { code: StockCode, bars: Vec<Candle> },
}

/// Executions kept per realtime stock (what the REST list holds).
pub const KEEP_EXECUTIONS: usize = 30;

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
    minutes: RwLock<HashMap<StockCode, LiveBars>>,
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
    pub fn market_date(&self, code: StockCode) -> Option<Date> {
        read(&self.state).market_date(code)
    }

    /// Today's live 1-minute bars of a stock, oldest first.
    pub fn minutes(&self, code: StockCode) -> Vec<Candle> {
        read(&self.minutes)
            .get(&code)
            .map(LiveBars::all)
            .unwrap_or_default()
    }

    /// A stock's live bars as they are now (for the chart).
    pub fn bars(&self, code: StockCode) -> Option<LiveBars> {
        read(&self.minutes).get(&code).cloned()
    }

    /// Adds trades to today's live bars; returns the bars they touched (oldest first).
    pub fn absorb(&self, code: StockCode, trades: &[Trade]) -> Vec<Candle> {
        let mut all = write(&self.minutes);
        let bars = all.entry(code).or_default();
        let touched = bars.absorb(trades);
        touched.into_iter().filter_map(|m| bars.get(m)).collect()
    }

    /// Marks a stock's minutes from `from`'s to `to`'s as possibly missing trades (see
    /// [`LiveBars::mark_unsure`]).
    pub fn mark_unsure(&self, code: StockCode, from: DateTime, to: DateTime) {
        write(&self.minutes)
            .entry(code)
            .or_default()
            .mark_unsure(from, to);
    }

    /// Replaces live bars with bars refetched over REST (closed minutes the feed missed part of).
    pub fn repair(&self, code: StockCode, bars: &[Candle]) {
        write(&self.minutes).entry(code).or_default().repair(bars);
    }

    /// The stock's complete live minutes that closed before `now`'s minute and were not taken yet
    /// (each once: the ingest stores them).
    pub fn take_closed(&self, code: StockCode, now: DateTime) -> Vec<Candle> {
        write(&self.minutes)
            .get_mut(&code)
            .map(|b| b.take_closed(now))
            .unwrap_or_default()
    }

    /// Notes that the stock's today's minutes were read from upstream at market time `at`.
    pub fn checked_upstream(&self, code: StockCode, at: DateTime) {
        write(&self.minutes).entry(code).or_default().checked_upstream(at);
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

    pub(super) fn set_sources(&self, realtime: HashSet<StockCode>, polled: &[StockCode], bound: Duration) {
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

    pub(super) fn record_poll(&self, code: StockCode, now: Instant) {
        if let Some(p) = write(&self.sources).polled.get_mut(&code) {
            *p = Some(now);
        }
    }

    /// Counters for health.
    pub fn stats(&self) -> LiveFeedStats {
        let s = read(&self.sources);
        LiveFeedStats {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
