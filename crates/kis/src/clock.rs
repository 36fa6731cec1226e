//! The wall clock the token rules read: when a token expires, when the last one was issued.
//!
//! KIS's token rules are stated in wall-clock time (a token's `access_token_token_expired`, one
//! issuance a minute), and the cache file keeps them across restarts, so the token store needs a
//! `Timestamp`, not an `Instant`. It reads it through [`Clock`] so that tests can run the rules in
//! virtual time: [`TokioClock`] follows tokio's clock, which a test pauses and advances, instead of
//! sleeping through a real minute.
//!
//! Waits (the rest of the issuance interval) are tokio sleeps, so a clock must move with tokio's time:
//! [`SystemClock`] in a real run, [`TokioClock`] under `tokio::time::pause`.

use std::fmt;

use jiff::{SignedDuration, Timestamp};

/// A source of the current wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The system's wall clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A wall clock that starts at a given time and then advances exactly as tokio's clock does: in
/// virtual time when a test has paused tokio's clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: Timestamp,
    started: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `start` now (call it inside the runtime whose clock it should follow).
    pub fn starting_at(start: Timestamp) -> TokioClock {
        TokioClock {
            start,
            started: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = SignedDuration::try_from(self.started.elapsed()).unwrap_or(SignedDuration::MAX);
        self.start.saturating_add(elapsed).unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_tokio_clock_moves_with_paused_time_only() {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let clock = TokioClock::starting_at(start);
        assert_eq!(clock.now(), start);
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(clock.now(), start + SignedDuration::from_secs(61));
    }
}
