//! The live feed until the realtime hub exists: watched stocks' executions polled over REST at
//! background priority, inside a bounded share of the rate budget, turned into trades for the trigger
//! engine.
//!
//! The seam is [`Feed`]: whatever produces trades (this poller now, the realtime hub later) sends
//! them on the trigger service's channel; the service does not know where they came from.
//!
//! Polling: one stock per turn, round robin; the interval per stock is `stocks / (rate × share)`
//! (never below the configured minimum), so interactive requests keep most of the budget. Each
//! answer holds the latest executions (newest first, times of day only): those after the previous
//! answer's newest are new; the date is the market's current trading day ([`crate::clock`]), and a
//! time that jumps back by hours means a new session, whose date is asked upstream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jiff::civil::{DateTime, Time};
use kis::Priority;
use market::StockCode;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::config::LiveConfig;
use crate::gateway::Gateway;
use crate::store::Store;

/// One trade, in market time (KST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    pub time: DateTime,
    pub price: i64,
    pub volume: u64,
}

/// What the live sources send to the trigger service.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// New trades of one stock, oldest first.
    Trades { code: StockCode, trades: Vec<Trade> },
}

/// Freshness of each polled stock.
#[derive(Debug, Default)]
pub struct LiveStatus {
    last_ok: RwLock<HashMap<StockCode, Instant>>,
    pub polls: AtomicU64,
    pub trades: AtomicU64,
    pub failures: AtomicU64,
}

/// Counters for the health endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStats {
    pub source: &'static str,
    pub stocks: usize,
    pub polls: u64,
    pub trades: u64,
    pub failures: u64,
}

impl LiveStatus {
    /// Whether the stock was polled successfully within `fresh`.
    pub fn is_fresh(&self, code: StockCode, fresh: Duration) -> bool {
        self.last_ok
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&code)
            .is_some_and(|t| t.elapsed() <= fresh)
    }

    fn mark(&self, code: StockCode) {
        self.last_ok
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(code, Instant::now());
    }

    pub fn stats(&self) -> LiveStats {
        LiveStats {
            source: "polling",
            stocks: self.last_ok.read().unwrap_or_else(|p| p.into_inner()).len(),
            polls: self.polls.load(Ordering::Relaxed),
            trades: self.trades.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
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

/// The poller.
pub struct Poller {
    gateway: Arc<Gateway>,
    store: Store,
    feed: mpsc::Sender<Feed>,
    status: Arc<LiveStatus>,
    config: LiveConfig,
    changed: watch::Receiver<u64>,
}

impl Poller {
    pub fn new(
        gateway: Arc<Gateway>,
        store: Store,
        feed: mpsc::Sender<Feed>,
        status: Arc<LiveStatus>,
        config: LiveConfig,
        changed: watch::Receiver<u64>,
    ) -> Poller {
        Poller {
            gateway,
            store,
            feed,
            status,
            config,
            changed,
        }
    }

    /// Polls until the feed's receiver is gone.
    pub async fn run(mut self) {
        let rate = f64::from(self.gateway.client().environment().rate().max(1));
        let budget = (rate * self.config.poll_share.clamp(0.01, 1.0)).max(0.05);
        let mut cursors: HashMap<StockCode, Cursor> = HashMap::new();
        let mut codes: Vec<StockCode> = Vec::new();
        let mut refreshed = Instant::now() - Duration::from_secs(3600);
        let mut turn = 0usize;
        loop {
            if refreshed.elapsed() > Duration::from_secs(5) {
                match self.store.watchlist().await {
                    Ok(list) => codes = list.into_iter().map(|w| w.code).collect(),
                    Err(e) => tracing::warn!(error = %e, "live: reading the watchlist failed"),
                }
                refreshed = Instant::now();
            }
            if codes.is_empty() {
                tokio::select! {
                    r = self.changed.changed() => {
                        if r.is_err() {
                            return;
                        }
                        refreshed = Instant::now() - Duration::from_secs(3600);
                    }
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                continue;
            }
            // Each stock every `n / budget` seconds, at least `min_interval` apart.
            let per_stock = (codes.len() as f64 / budget).max(self.config.min_interval.as_secs_f64());
            let pause = Duration::from_secs_f64(per_stock / codes.len() as f64);
            let code = codes[turn % codes.len()];
            turn = turn.wrapping_add(1);
            if let Err(()) = self.poll(code, &mut cursors).await {
                return;
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// One poll; `Err` when the feed is closed.
    async fn poll(&self, code: StockCode, cursors: &mut HashMap<StockCode, Cursor>) -> Result<(), ()> {
        self.status.polls.fetch_add(1, Ordering::Relaxed);
        let list = match self.gateway.executions(code, Priority::Background).await {
            Ok(list) => list,
            Err(e) => {
                self.status.failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%code, error = %e, "live: poll failed");
                return Ok(());
            }
        };
        let rows: Vec<(Time, i64, u64)> = list.iter().map(|e| (e.time, e.price, e.volume)).collect();
        let (fresh, cursor, new_day) = new_since(cursors.get(&code).copied(), &rows);
        if new_day || self.gateway.clock.today().is_none() {
            // A new session (or none known yet): its date comes from today's minutes upstream.
            self.gateway.invalidate_today(code).await;
            if let Err(e) = self.gateway.today_minutes(code, Priority::Background).await {
                tracing::debug!(%code, error = %e, "live: learning the trading day failed");
                return Ok(());
            }
        }
        if let Some(c) = cursor {
            cursors.insert(code, c);
        }
        self.status.mark(code);
        let Some(today) = self.gateway.clock.today() else {
            return Ok(());
        };
        if let Some(last) = fresh.last() {
            self.gateway.clock.observe(today.to_datetime(last.0));
        }
        if fresh.is_empty() {
            return Ok(());
        }
        self.status
            .trades
            .fetch_add(fresh.len() as u64, Ordering::Relaxed);
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
            .map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i8, m: i8, s: i8) -> Time {
        Time::constant(h, m, s, 0)
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
