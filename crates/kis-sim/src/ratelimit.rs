//! The per-app-key REST rate limit: a sliding 1-second window on arrival time.
//!
//! An arrival at instant `t` is counted in the window `(t - 1 s, t]` together with every earlier arrival
//! of the same app key inside it, accepted or rejected (rejected requests count too, as at a real
//! gateway: hammering keeps a key locked out). The request is accepted when that count is at most the
//! limit. The arrival instant is taken *after* any injected latency (see `faults`), i.e. when the
//! request reaches the server, which is what KIS counts.
//!
//! Time is tokio's (`tokio::time::Instant`): real time, unless a test pauses it.
//!
//! `max_window` is exact: the most arrivals inside any half-open 1-second window, since such a maximum
//! is always attained by a window that ends at an arrival.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::auth::tokens::lock;

pub const WINDOW: Duration = Duration::from_secs(1);
/// Number of tracked app keys above which idle ones are forgotten.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Rejected,
}

#[derive(Default)]
struct Inner {
    arrivals: HashMap<String, VecDeque<Instant>>,
    max_window: u64,
}

pub struct RateLimiter {
    /// Requests per second per app key; `None` = unlimited (arrivals are still counted).
    limit: Option<u32>,
    inner: Mutex<Inner>,
}

impl RateLimiter {
    pub fn new(limit: Option<u32>) -> RateLimiter {
        RateLimiter {
            limit,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn limit(&self) -> Option<u32> {
        self.limit
    }

    /// Records an arrival of `app_key` at `now` and decides it.
    pub fn arrive(&self, app_key: &str, now: Instant) -> Verdict {
        let mut inner = lock(&self.inner);
        if !inner.arrivals.contains_key(app_key) && inner.arrivals.len() >= PRUNE_AT {
            // forget keys idle for a whole window, so made-up keys cannot grow the map without bound
            inner.arrivals.retain(|_, w| {
                w.back()
                    .is_some_and(|&last| now.saturating_duration_since(last) < WINDOW)
            });
        }
        let window = inner.arrivals.entry(app_key.to_string()).or_default();
        while let Some(&front) = window.front() {
            if now.saturating_duration_since(front) >= WINDOW {
                window.pop_front();
            } else {
                break;
            }
        }
        window.push_back(now);
        let count = window.len() as u64;
        if count > inner.max_window {
            inner.max_window = count;
        }
        match self.limit {
            Some(limit) if count > u64::from(limit) => Verdict::Rejected,
            _ => Verdict::Accepted,
        }
    }

    /// The most arrivals from one app key seen inside any 1-second window.
    pub fn max_window(&self) -> u64 {
        lock(&self.inner).max_window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_plus_one_inside_a_second_rejects_exactly_one() {
        let rl = RateLimiter::new(Some(2));
        let t0 = Instant::now();
        assert_eq!(rl.arrive("K", t0), Verdict::Accepted);
        assert_eq!(rl.arrive("K", t0 + Duration::from_millis(500)), Verdict::Accepted);
        assert_eq!(rl.arrive("K", t0 + Duration::from_millis(999)), Verdict::Rejected);
        assert_eq!(rl.max_window(), 3);
        // another key has its own window
        assert_eq!(rl.arrive("L", t0 + Duration::from_millis(999)), Verdict::Accepted);
    }

    #[test]
    fn an_arrival_exactly_one_second_later_starts_a_new_window() {
        let rl = RateLimiter::new(Some(1));
        let t0 = Instant::now();
        assert_eq!(rl.arrive("K", t0), Verdict::Accepted);
        assert_eq!(rl.arrive("K", t0 + WINDOW), Verdict::Accepted);
        assert_eq!(rl.max_window(), 1);
    }

    #[test]
    fn rejected_arrivals_count_against_the_window() {
        let rl = RateLimiter::new(Some(1));
        let t0 = Instant::now();
        assert_eq!(rl.arrive("K", t0), Verdict::Accepted);
        assert_eq!(rl.arrive("K", t0 + Duration::from_millis(900)), Verdict::Rejected);
        // t0 has left the window but the rejected arrival at 900 ms has not
        assert_eq!(
            rl.arrive("K", t0 + Duration::from_millis(1500)),
            Verdict::Rejected
        );
        assert_eq!(
            rl.arrive("K", t0 + Duration::from_millis(2600)),
            Verdict::Accepted
        );
    }

    #[test]
    fn unlimited_still_measures_the_window() {
        let rl = RateLimiter::new(None);
        let t0 = Instant::now();
        for i in 0..50 {
            assert_eq!(
                rl.arrive("K", t0 + Duration::from_millis(i * 10)),
                Verdict::Accepted
            );
        }
        assert_eq!(rl.max_window(), 50);
    }
}
