//! When and how long to wait before trying a request again.
//!
//! Only retryable errors ([`KisError::is_retryable`]: EGW00201, 5xx, timeouts, broken connections)
//! are retried, with jittered exponential backoff under a cap and a bounded number of attempts.
//! Every attempt goes through the governor again.

use std::time::Duration;

use rand::Rng;

use crate::error::KisError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (doubled each time, before jitter).
    pub base: Duration,
    /// Upper bound of one backoff.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all (the strategies compared in the benchmark, tests).
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Whether `error` after `attempt` attempts (1-based) deserves another.
    pub fn should_retry(&self, error: &KisError, attempt: u32) -> bool {
        error.is_retryable() && attempt < self.max_attempts
    }

    /// The wait after failed attempt number `attempt` (1-based): "equal jitter", uniformly between
    /// half and all of `min(cap, base * 2^(attempt-1))`, so it is never zero and never synchronised.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX))
            .min(self.cap);
        let half = exp / 2;
        let jitter = rand::rng().random_range(0..=half.as_micros().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_micros(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_jitters_and_is_capped() {
        let p = RetryPolicy::default();
        for _ in 0..200 {
            let b1 = p.backoff(1);
            assert!(
                b1 >= Duration::from_millis(100) && b1 <= Duration::from_millis(200),
                "{b1:?}"
            );
            let b3 = p.backoff(3);
            assert!(
                b3 >= Duration::from_millis(400) && b3 <= Duration::from_millis(800),
                "{b3:?}"
            );
            let b40 = p.backoff(40);
            assert!(
                b40 >= Duration::from_millis(2500) && b40 <= Duration::from_secs(5),
                "{b40:?}"
            );
        }
        let distinct: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(4)).collect();
        assert!(distinct.len() > 10, "backoffs are jittered");
    }

    #[test]
    fn only_retryable_errors_and_only_up_to_the_limit() {
        let p = RetryPolicy::default();
        let rate = KisError::RateLimited {
            tr_id: "T".into(),
            status: 500,
        };
        assert!(p.should_retry(&rate, 1));
        assert!(!p.should_retry(&rate, 5));
        let bad = KisError::NotFound {
            code: "999999".into(),
        };
        assert!(!p.should_retry(&bad, 1));
    }
}
