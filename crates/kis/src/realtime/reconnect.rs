//! The reconnect policy: jittered exponential backoff between a floor and a cap.
//!
//! KIS temporarily blocks an app key whose client reconnects in a loop, so the delay never drops
//! below the floor (at least [`MIN_FLOOR`], whatever the configuration says).

use std::time::Duration;

/// The smallest floor a configuration may set.
pub const MIN_FLOOR: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    floor: Duration,
    cap: Duration,
}

impl Default for Backoff {
    /// 1 s floor, 60 s cap.
    fn default() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    /// A policy; the floor is raised to [`MIN_FLOOR`] and the cap to the floor when lower.
    pub fn new(floor: Duration, cap: Duration) -> Backoff {
        let floor = floor.max(MIN_FLOOR);
        Backoff {
            floor,
            cap: cap.max(floor),
        }
    }

    pub fn floor(&self) -> Duration {
        self.floor
    }

    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The delay before reconnect attempt `attempt` (0 = the first after a drop), given a jitter
    /// draw in `[0, 1]`: `base = min(cap, floor × 2^attempt)`, delay = `min(cap, base × (1 + jitter/2))`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let base = self.floor.saturating_mul(1u32 << attempt.min(20)).min(self.cap);
        base.mul_f64(1.0 + jitter / 2.0).clamp(self.floor, self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 0.0), Duration::from_secs(1));
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(2));
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(8));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(12));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay(u32::MAX, 0.5), Duration::from_secs(60));
    }

    #[test]
    fn never_below_the_floor_whatever_the_inputs() {
        let b = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(b.floor(), MIN_FLOOR);
        for attempt in [0, 1, 5, 40] {
            for jitter in [-1.0, 0.0, 0.3, 1.0, 7.0, f64::NAN, f64::INFINITY] {
                let d = b.delay(attempt, jitter);
                assert!(d >= MIN_FLOOR && d <= b.cap(), "{attempt} {jitter} {d:?}");
            }
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let b = Backoff::default();
        assert!(b.delay(2, 0.0) < b.delay(2, 0.9));
    }
}
