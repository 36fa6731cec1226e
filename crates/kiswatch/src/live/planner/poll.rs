//! Polling for the stocks past the realtime cap, inside a bounded share of the REST rate budget.
//!
//! KIS allows N requests per second per app key (20 real, 2 VTS) and the governor makes sure no
//! window ever holds more. Polling is background work that must leave interactive requests most of
//! that: [`PollConfig::share`] of N (25 % by default) is all it may use. The scheduler spaces *every*
//! poll at least `1 / (N × share)` apart, so no one-second window holds more than
//! `ceil(N × share)` polls whatever the number of stocks; with `n` stocks each is polled every
//! `n / (N × share)` seconds (never more often than [`PollConfig::min_interval`]).
//!
//! Who next: the stock polled longest ago (never polled first, in the planner's priority order).
//! A stock's data is fresh for [`PollScheduler::bound`] (two intervals: one slow or failed poll is
//! tolerated) and `stale` after that.
//!
//! Pure: the caller passes `now`, runs the poll through the gateway at background priority, and
//! reports the outcome with [`PollScheduler::record`].

use std::collections::HashMap;
use std::time::Duration;

use market::StockCode;
use tokio::time::Instant;

/// The polling budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollConfig {
    /// N: the upstream's REST requests per second (20 real, 2 VTS).
    pub rate_per_sec: u32,
    /// The share of N background polling may use, in (0, 1].
    pub share: f64,
    /// No stock is polled more often than this.
    pub min_interval: Duration,
    /// The freshness bound is never below this.
    pub min_bound: Duration,
}

impl Default for PollConfig {
    /// 20/s, 25 %, at most once a second per stock, fresh for at least 5 s.
    fn default() -> PollConfig {
        PollConfig {
            rate_per_sec: 20,
            share: 0.25,
            min_interval: Duration::from_secs(1),
            min_bound: Duration::from_secs(5),
        }
    }
}

impl PollConfig {
    /// Polls per second allowed (at least one poll per minute, whatever the configuration says).
    pub fn polls_per_sec(&self) -> f64 {
        let share = if self.share.is_finite() {
            self.share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        (f64::from(self.rate_per_sec) * share).max(1.0 / 60.0)
    }

    /// How often each of `stocks` polled stocks is polled.
    pub fn interval(&self, stocks: usize) -> Duration {
        let n = u32::try_from(stocks.max(1)).unwrap_or(u32::MAX);
        self.spacing().saturating_mul(n).max(self.min_interval)
    }

    /// How old a polled stock's data may be and still count as fresh, with `stocks` polled stocks.
    pub fn bound(&self, stocks: usize) -> Duration {
        self.interval(stocks).saturating_mul(2).max(self.min_bound)
    }

    /// The least time between two polls, rounded up to the nanosecond so that rounding can never
    /// fit one poll too many into a second.
    pub fn spacing(&self) -> Duration {
        Duration::from_nanos((1e9 / self.polls_per_sec()).ceil() as u64)
    }
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollDecision {
    /// Poll this stock now (the scheduler has counted it as sent).
    Poll(StockCode),
    /// Nothing may be sent before this instant.
    WaitUntil(Instant),
    /// Nothing is polled.
    Idle,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Position in the planner's priority order (ties among never-polled stocks).
    order: usize,
    last_sent: Option<Instant>,
    last_ok: Option<Instant>,
}

/// Chooses who to poll and when.
#[derive(Debug, Clone)]
pub struct PollScheduler {
    config: PollConfig,
    stocks: HashMap<StockCode, Entry>,
    last_sent: Option<Instant>,
}

impl PollScheduler {
    pub fn new(config: PollConfig) -> PollScheduler {
        PollScheduler {
            config,
            stocks: HashMap::new(),
            last_sent: None,
        }
    }

    pub fn config(&self) -> &PollConfig {
        &self.config
    }

    /// The stocks to poll, in priority order ([`super::Round::polled`]). Stocks that stay keep their
    /// history; a stock that left and comes back starts as never polled.
    pub fn set_stocks(&mut self, stocks: impl IntoIterator<Item = StockCode>) {
        let mut next = HashMap::new();
        for (order, code) in stocks.into_iter().enumerate() {
            let entry = self.stocks.get(&code).copied().unwrap_or(Entry {
                order,
                last_sent: None,
                last_ok: None,
            });
            next.entry(code).or_insert(Entry { order, ..entry });
        }
        self.stocks = next;
    }

    pub fn len(&self) -> usize {
        self.stocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stocks.is_empty()
    }

    pub fn contains(&self, code: StockCode) -> bool {
        self.stocks.contains_key(&code)
    }

    /// How often each stock is polled with the current number of stocks.
    pub fn interval(&self) -> Duration {
        self.config.interval(self.stocks.len())
    }

    /// How old a polled stock's data may be and still count as fresh.
    pub fn bound(&self) -> Duration {
        self.config.bound(self.stocks.len())
    }

    /// The last successful poll of a stock.
    pub fn last_ok(&self, code: StockCode) -> Option<Instant> {
        self.stocks.get(&code).and_then(|e| e.last_ok)
    }

    /// The next poll, or how long to wait. A returned [`PollDecision::Poll`] counts as sent.
    pub fn next(&mut self, now: Instant) -> PollDecision {
        let Some((code, entry)) = self
            .stocks
            .iter()
            .min_by_key(|(code, e)| (e.last_sent.is_some(), e.last_sent, e.order, **code))
            .map(|(c, e)| (*c, *e))
        else {
            return PollDecision::Idle;
        };
        let mut earliest = now;
        if let Some(last) = self.last_sent {
            earliest = earliest.max(last + self.config.spacing());
        }
        if let Some(last) = entry.last_sent {
            earliest = earliest.max(last + self.config.min_interval);
        }
        if earliest > now {
            return PollDecision::WaitUntil(earliest);
        }
        self.last_sent = Some(now);
        if let Some(e) = self.stocks.get_mut(&code) {
            e.last_sent = Some(now);
        }
        PollDecision::Poll(code)
    }

    /// The outcome of a poll: a success makes the stock's data fresh as of `now`.
    pub fn record(&mut self, code: StockCode, ok: bool, now: Instant) {
        if !ok {
            return;
        }
        if let Some(e) = self.stocks.get_mut(&code) {
            e.last_ok = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(i: usize) -> StockCode {
        StockCode::parse(&format!("{:06}", 100 + i)).unwrap()
    }

    #[test]
    fn nineteen_stocks_at_a_quarter_of_twenty() {
        let mut s = PollScheduler::new(PollConfig::default());
        s.set_stocks((0..19).map(code));
        // 5 polls/s → 200 ms apart; 19 stocks → each every 3.8 s, fresh for 7.6 s.
        assert_eq!(s.config().spacing(), Duration::from_millis(200));
        assert_eq!(s.interval(), Duration::from_millis(3800));
        assert_eq!(s.bound(), Duration::from_millis(7600));
        let t0 = Instant::now();
        let mut polled = Vec::new();
        let mut now = t0;
        while polled.len() < 38 {
            match s.next(now) {
                PollDecision::Poll(c) => {
                    s.record(c, true, now);
                    polled.push((c, now));
                }
                PollDecision::WaitUntil(t) => now = t,
                PollDecision::Idle => unreachable!(),
            }
        }
        // Round robin in priority order, twice.
        let order: Vec<StockCode> = polled.iter().map(|(c, _)| *c).collect();
        let expected: Vec<StockCode> = (0..19).chain(0..19).map(code).collect();
        assert_eq!(order, expected);
        assert_eq!(polled[37].1 - t0, Duration::from_millis(200 * 37));
        assert_eq!(s.last_ok(code(0)), Some(t0 + Duration::from_millis(3800)));
    }

    #[test]
    fn few_stocks_respect_the_per_stock_floor() {
        let mut s = PollScheduler::new(PollConfig::default());
        s.set_stocks([code(1)]);
        let t0 = Instant::now();
        assert_eq!(s.next(t0), PollDecision::Poll(code(1)));
        assert_eq!(
            s.next(t0 + Duration::from_millis(300)),
            PollDecision::WaitUntil(t0 + Duration::from_secs(1))
        );
        assert_eq!(s.bound(), Duration::from_secs(5));
        s.set_stocks([]);
        assert_eq!(s.next(t0), PollDecision::Idle);
    }

    #[test]
    fn a_failed_poll_leaves_the_data_as_old_as_it_was() {
        let mut s = PollScheduler::new(PollConfig::default());
        s.set_stocks([code(1)]);
        let t0 = Instant::now();
        s.record(code(1), true, t0);
        s.record(code(1), false, t0 + Duration::from_secs(3));
        assert_eq!(s.last_ok(code(1)), Some(t0));
    }

    proptest! {
        /// Whatever the stock churn and the caller's timing, no one-second window holds more than
        /// ceil(N × share) polls.
        #[test]
        fn polls_stay_inside_the_budget(
            rate in 1u32..=30,
            share_pct in 5u32..=100,
            steps in proptest::collection::vec((0u64..400, 0usize..40, any::<bool>()), 1..300),
        ) {
            let config = PollConfig { rate_per_sec: rate, share: f64::from(share_pct) / 100.0, ..PollConfig::default() };
            let cap = (f64::from(rate) * f64::from(share_pct) / 100.0).ceil().max(1.0) as usize;
            let mut s = PollScheduler::new(config);
            let t0 = Instant::now();
            let mut now = t0;
            let mut sent: Vec<Instant> = Vec::new();
            for (advance_ms, stocks, follow_wait) in steps {
                now += Duration::from_millis(advance_ms);
                s.set_stocks((0..stocks).map(code));
                for _ in 0..5 {
                    match s.next(now) {
                        PollDecision::Poll(_) => sent.push(now),
                        PollDecision::WaitUntil(t) => {
                            prop_assert!(t > now);
                            if follow_wait { now = t } else { break }
                        }
                        PollDecision::Idle => { prop_assert_eq!(stocks, 0); break }
                    }
                }
            }
            for (i, start) in sent.iter().enumerate() {
                let in_window = sent[i..].iter().take_while(|t| **t < *start + Duration::from_secs(1)).count();
                prop_assert!(in_window <= cap, "{} polls in one second, cap {}", in_window, cap);
            }
        }
    }
}
