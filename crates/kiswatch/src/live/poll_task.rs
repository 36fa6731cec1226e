//! The poll task: polls the stocks the planner leaves to polling, inside the scheduler's bounded
//! share of the rate ([`super::planner::poll`]), and sends their new trades to the ingest task.
//!
//! Polling answers hold the latest executions (newest first, times of day only): those after the
//! previous answer's newest are new; the date is the market's current trading day
//! ([`crate::clock`]), and a time that jumps back by hours means a new session. An answer that does
//! not reach back to the previous one means trades were missed in between: those minutes are
//! repaired from the REST minute chart like a realtime gap ([`super::gap`]).
//!
//! Polls go at [`POLL_PRIORITY`], ahead of the backfill: a watched stock's price being fresh matters
//! more than history arriving a little sooner, and the scheduler's pacing (a bounded share of the
//! rate, 25 % by default) is what keeps headroom for pages, not the governor's priority. At
//! background priority, the first polls of a 60-stock watchlist waited seven seconds behind its
//! backfill.
//!
//! With nothing to poll, the task probes a failing upstream now and then, so the service notices
//! the recovery by itself even when every stock is realtime.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::civil::Time;
use kis::Priority;
use market::{StockCode, Trade};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::feed::{Feed, LiveFeed};
use super::gap::GapRepair;
use super::planner::poll::{PollConfig, PollDecision, PollScheduler};
use crate::config::LiveConfig;
use crate::upstream::{Gateway, PROBE_CODE};

/// The governor priority of a poll (see the module doc for why not background).
pub const POLL_PRIORITY: Priority = Priority::Interactive;

/// How often the poll task, with nothing to poll, checks whether to probe a failing upstream.
const PROBE_EVERY: Duration = Duration::from_secs(2);

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
    pub gaps: GapRepair,
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
            self.gaps.repair(
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
