//! Fault injection: latency with jitter, random gateway errors, dropping every WebSocket session,
//! revoking every token, disabling one app key (as KIS does to a key deleted or suspended: every call
//! with it answers `EGW00103`, its WebSocket session closes and it cannot register again). Settable at start (flags) and at run time (`POST /sim/faults`).
//!
//! Latency models the network between client and server: a REST request sleeps a uniform random
//! duration in `[min, max]` ms *before* it "arrives", and only then is it counted by the rate limiter.
//! So two requests sent 10 ms apart may arrive in either order and closer together or further apart
//! than they were sent, as on a real network.
//!
//! Both draws (latency and injected errors) come from one generator seeded by the simulator's `seed`,
//! so a test that sends its requests one after another sees the same faults on every run: the same
//! seed, the same requests failed. (Concurrent requests draw in the order they arrive, which the
//! scheduler decides.)

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;

use crate::auth::tokens::lock;

/// Keeps the fault generator's stream apart from the market's streams of the same seed.
const FAULT_SALT: u64 = 0x6661_756c_7473; // "faults"

pub struct Faults {
    latency_ms: Mutex<Option<(u64, u64)>>,
    error_rate_bits: AtomicU64,
    /// Every fault draw, seeded by the simulator's seed.
    rng: Mutex<ChaCha8Rng>,
    /// Bumped to close every WebSocket session.
    drop_ws: watch::Sender<u64>,
    /// Whether the stock master download answers HTTP 500.
    master_error: AtomicBool,
    /// App keys refused as if deleted; bumping `keys_changed` tells their sessions to close.
    disabled_keys: Mutex<HashSet<String>>,
    keys_changed: watch::Sender<u64>,
}

impl Faults {
    /// Faults drawn from a generator seeded by `seed` (the simulator's seed; its stream is kept
    /// apart from the market's by a fixed salt).
    pub fn new(latency_ms: Option<(u64, u64)>, error_rate: f64, seed: u64) -> Faults {
        let (drop_ws, _) = watch::channel(0);
        let (keys_changed, _) = watch::channel(0);
        let faults = Faults {
            latency_ms: Mutex::new(None),
            error_rate_bits: AtomicU64::new(0),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ FAULT_SALT)),
            drop_ws,
            master_error: AtomicBool::new(false),
            disabled_keys: Mutex::new(HashSet::new()),
            keys_changed,
        };
        faults.set_latency(latency_ms);
        faults.set_error_rate(error_rate);
        faults
    }

    pub fn set_latency(&self, latency_ms: Option<(u64, u64)>) {
        *lock(&self.latency_ms) = latency_ms.map(|(a, b)| (a.min(b), a.max(b)));
    }

    pub fn latency(&self) -> Option<(u64, u64)> {
        *lock(&self.latency_ms)
    }

    /// Clamped to `[0, 1]`; NaN counts as 0.
    pub fn set_error_rate(&self, p: f64) {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self.error_rate_bits.store(p.to_bits(), Ordering::Relaxed);
    }

    pub fn error_rate(&self) -> f64 {
        f64::from_bits(self.error_rate_bits.load(Ordering::Relaxed))
    }

    /// A latency to inject now, if any.
    pub fn sample_latency(&self) -> Option<Duration> {
        let (min, max) = self.latency()?;
        if max == 0 {
            return None;
        }
        let ms = if min == max {
            min
        } else {
            lock(&self.rng).random_range(min..=max)
        };
        Some(Duration::from_millis(ms))
    }

    /// Whether this request should fail with an injected server error.
    pub fn roll_error(&self) -> bool {
        let p = self.error_rate();
        p > 0.0 && lock(&self.rng).random_bool(p)
    }

    pub fn set_master_error(&self, on: bool) {
        self.master_error.store(on, Ordering::Relaxed);
    }

    pub fn master_error(&self) -> bool {
        self.master_error.load(Ordering::Relaxed)
    }

    /// Closes every WebSocket session.
    pub fn drop_ws(&self) {
        self.drop_ws.send_modify(|generation| *generation += 1);
    }

    /// A receiver that changes whenever sessions must be dropped.
    pub fn drop_ws_signal(&self) -> watch::Receiver<u64> {
        self.drop_ws.subscribe()
    }

    /// Refuses `app_key` from now on (`false`: allows it again) and tells its sessions.
    pub fn set_key_disabled(&self, app_key: &str, disabled: bool) {
        let mut keys = lock(&self.disabled_keys);
        let changed = if disabled {
            keys.insert(app_key.to_string())
        } else {
            keys.remove(app_key)
        };
        drop(keys);
        if changed {
            self.keys_changed.send_modify(|generation| *generation += 1);
        }
    }

    pub fn is_key_disabled(&self, app_key: &str) -> bool {
        lock(&self.disabled_keys).contains(app_key)
    }

    /// How many app keys are disabled (the keys themselves are not shown).
    pub fn disabled_keys(&self) -> usize {
        lock(&self.disabled_keys).len()
    }

    /// A receiver that changes whenever a key is disabled or enabled.
    pub fn keys_signal(&self) -> watch::Receiver<u64> {
        self.keys_changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_within_bounds_and_normalised() {
        let f = Faults::new(Some((30, 10)), 0.0, 1);
        assert_eq!(f.latency(), Some((10, 30)));
        for _ in 0..100 {
            let d = f.sample_latency().unwrap();
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(30));
        }
        f.set_latency(None);
        assert_eq!(f.sample_latency(), None);
    }

    #[test]
    fn error_rate_extremes() {
        let f = Faults::new(None, 1.0, 1);
        assert!((0..50).all(|_| f.roll_error()));
        f.set_error_rate(0.0);
        assert!((0..50).all(|_| !f.roll_error()));
        f.set_error_rate(f64::NAN);
        assert_eq!(f.error_rate(), 0.0);
    }

    #[test]
    fn the_same_seed_fails_the_same_requests() {
        let draws = |seed| {
            let f = Faults::new(Some((0, 1_000)), 0.3, seed);
            (0..200)
                .map(|_| (f.roll_error(), f.sample_latency()))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let errors = draws(7).iter().filter(|(e, _)| *e).count();
        assert!((30..=90).contains(&errors), "about 30% of 200: {errors}");
    }

    #[test]
    fn drop_ws_notifies_subscribers() {
        let f = Faults::new(None, 0.0, 1);
        let mut rx = f.drop_ws_signal();
        f.drop_ws();
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 1);
    }
}
