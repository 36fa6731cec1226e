//! The adaptive rate of one app key: how many of the profile's N slots may be used now, lowered
//! at once by an `EGW00201`, raised again one step at a time, and shared by everyone on the key.
//!
//! KIS documents 20 requests a second on a real key, but users measured 15–18, and KIS adjusts
//! limits per account. A governor that trusts the profile then meets rejections all the time
//! (rejected arrivals count in the server's window too, so they feed on themselves). So the
//! number of slots a ledger grants is not N but an effective rate `R ≤ N`, kept in the ledger
//! beside the leases (every process on the key reads and lowers the same `R`), with these rules:
//!
//! * **Decrease on a rejection.** A request refused with `EGW00201` was granted while `occupancy`
//!   leases were live, itself included: those are the requests of the key that could have been in
//!   the server's window with it, so the window held at most that many and refused the last: the
//!   limit is at most `occupancy − 1`. `R` drops to that at once (never below a *floor*: the most
//!   accepted requests this process saw inside one window recently, a proven lower bound, since
//!   requests that arrive out of the order they were sent can make one `occupancy` too small).
//!   Only `EGW00201` counts; other 5xx are faults, not rate.
//! * **Multiplicatively on repeated rejections.** A rejection of a request granted *after* a
//!   decrease means the decreased `R` was still too high (or the limit fell again): `R` drops to at
//!   most three quarters of itself as well. Rejections of requests granted *before* the last
//!   decrease (the rest of the burst that found the limit) only refine it downward, so one burst is
//!   one decrease, not one per rejected request.
//! * **Probe upward** by one slot at most once per `probe_every` (10 minutes) after the last
//!   change, never above N. A probe that is refused costs one rejection and goes back down.
//! * **Cautious start** is the governor's: it paces its first R grants `window / R` apart (see
//!   [`crate::governor`]), on its own clock.
//!
//! The slot invariant is untouched: a ledger never has more than `R ≤ N` leases live, each held
//! until `hold` after its completion, so at a correct profile no window can hold more than N
//! arrivals, whatever `R` does.
//!
//! Times are nanoseconds of the ledger's own clock (tokio's for the in-process ledger, so tests
//! run it in paused time; `CLOCK_MONOTONIC` for the file ledger; the server's for a shared one).

use std::time::Duration;

/// The parameters of the adaptive rate of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptRules {
    /// N: the profile's documented rate, the ceiling of the effective rate.
    pub profile: u32,
    /// The server's window (1 s for KIS).
    pub window: Duration,
    /// The shortest time between a change of the rate and the next step up.
    pub probe_every: Duration,
}

/// Ten minutes between upward probes.
pub const PROBE_EVERY: Duration = Duration::from_secs(600);

impl AdaptRules {
    /// N slots per second, probes every 10 minutes.
    pub fn new(profile: u32) -> AdaptRules {
        AdaptRules {
            profile: profile.max(1),
            window: Duration::from_secs(1),
            probe_every: PROBE_EVERY,
        }
    }
}

/// How the current rate came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateChange {
    /// The profile's rate (nothing refused yet).
    Profile = 0,
    /// Lowered after an `EGW00201`.
    Decreased = 1,
    /// Raised by a probe.
    Probed = 2,
}

impl RateChange {
    pub(crate) fn from_u8(v: u8) -> Option<RateChange> {
        match v {
            0 => Some(RateChange::Profile),
            1 => Some(RateChange::Decreased),
            2 => Some(RateChange::Probed),
            _ => None,
        }
    }
}

/// What a ledger stores about the rate of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    /// R: the slots that may be live now (1..=N).
    pub rate: u32,
    pub how: RateChange,
    /// When `rate` last changed.
    pub changed_at: u64,
    /// The grant sequence number at the last decrease: leases with a `seq` at or below it were
    /// granted under an earlier, higher rate.
    pub decreased_seq: u64,
    /// Grants so far (the last lease's `seq`).
    pub seq: u64,
}

/// An `EGW00201` for the request sent under a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// The lease's grant sequence number.
    pub seq: u64,
    /// Leases live when it was granted, itself included.
    pub occupancy: u32,
    /// The most accepted requests the reporter saw inside one window recently (0: none): the
    /// server's limit is at least this.
    pub floor: u32,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl RateState {
    /// A key seen for the first time: the profile's rate.
    pub fn fresh(rules: &AdaptRules, now: u64) -> RateState {
        RateState {
            rate: rules.profile.max(1),
            how: RateChange::Profile,
            changed_at: now,
            decreased_seq: 0,
            seq: 0,
        }
    }

    /// The rate under `rules` (a ledger written by a process with a higher profile is read
    /// within this one's).
    pub fn effective(&self, rules: &AdaptRules) -> u32 {
        self.rate.clamp(1, rules.profile.max(1))
    }

    /// Steps the rate up by one if it is below the profile and unchanged for `probe_every`.
    pub fn probe(&mut self, rules: &AdaptRules, now: u64) -> bool {
        if self.rate < rules.profile && now.saturating_sub(self.changed_at) >= nanos(rules.probe_every) {
            self.rate += 1;
            self.how = RateChange::Probed;
            self.changed_at = now;
            tracing::info!(rate = self.rate, "probing one more request per window");
            return true;
        }
        false
    }

    /// Records a grant; returns its sequence number.
    pub fn granted(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Applies an `EGW00201` (see the module doc); returns whether the rate changed.
    pub fn rejected(&mut self, rules: &AdaptRules, r: Rejection, now: u64) -> bool {
        let rate = self.effective(rules);
        let stale = r.seq <= self.decreased_seq;
        // Refused under the current rate, a floor at or above it is out of date: the limit fell.
        let floor = if stale || r.floor < rate { r.floor } else { 0 };
        let estimate = r.occupancy.saturating_sub(1).max(floor);
        let new = if stale {
            rate.min(estimate)
        } else {
            let mut new = estimate.min(rate - 1);
            if self.how == RateChange::Decreased {
                new = new.min((rate * 3 / 4).max(floor));
            }
            new
        }
        .max(1);
        if new >= rate {
            return false;
        }
        tracing::warn!(
            from = rate,
            to = new,
            occupancy = r.occupancy,
            floor = r.floor,
            "KIS refused a request (EGW00201): lowering this app key's rate"
        );
        self.rate = new;
        self.how = RateChange::Decreased;
        self.changed_at = now;
        self.decreased_seq = self.seq;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn rules() -> AdaptRules {
        AdaptRules::new(20)
    }

    fn grant(state: &mut RateState, n: u32, _at: u64) -> Vec<u64> {
        (0..n).map(|_| state.granted()).collect()
    }

    #[test]
    fn a_rejection_caps_the_rate_below_what_was_live_and_the_rest_of_the_burst_only_refines() {
        let r = rules();
        let mut s = RateState::fresh(&r, 0);
        grant(&mut s, 9, 0);
        // Request 6 (6 live at its grant) is refused first: the limit is at most 5.
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 6,
                occupancy: 6,
                floor: 0
            },
            S
        ));
        assert_eq!(
            (s.rate, s.how, s.decreased_seq, s.changed_at),
            (5, RateChange::Decreased, 9, S)
        );
        // 7, 8 and 9 were sent before the decrease: no further cut from them.
        for seq in 7..=9 {
            assert!(!s.rejected(
                &r,
                Rejection {
                    seq,
                    occupancy: seq as u32,
                    floor: 5
                },
                S
            ));
        }
        assert_eq!(s.rate, 5);
        // One sent out of order and refused with 4 live: refines, but not below the floor of 5
        // accepted requests seen inside one window.
        assert!(!s.rejected(
            &r,
            Rejection {
                seq: 4,
                occupancy: 4,
                floor: 5
            },
            S
        ));
        assert_eq!(s.rate, 5);
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 4,
                occupancy: 4,
                floor: 0
            },
            S
        ));
        assert_eq!(s.rate, 3);
    }

    #[test]
    fn a_rejection_under_a_decreased_rate_cuts_multiplicatively() {
        let r = rules();
        let mut s = RateState::fresh(&r, 0);
        grant(&mut s, 20, 0);
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 19,
                occupancy: 17,
                floor: 0
            },
            S
        ));
        assert_eq!(s.rate, 16);
        grant(&mut s, 16, 2 * S);
        // Refused again with 16 live: 15 by the occupancy, 12 by the three-quarter cut.
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 30,
                occupancy: 16,
                floor: 0
            },
            3 * S
        ));
        assert_eq!(s.rate, 12);
        // A proven floor of 14 is above 12 but not above the refused 12... it is stale: ignored.
        grant(&mut s, 12, 4 * S);
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 45,
                occupancy: 12,
                floor: 14
            },
            5 * S
        ));
        assert_eq!(s.rate, 9);
        // A floor below the rate bounds the cut.
        grant(&mut s, 9, 6 * S);
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 55,
                occupancy: 9,
                floor: 8
            },
            7 * S
        ));
        assert_eq!(s.rate, 8);
        // Never below one.
        let mut one = RateState { rate: 1, ..s };
        assert!(!one.rejected(
            &r,
            Rejection {
                seq: 99,
                occupancy: 1,
                floor: 0
            },
            8 * S
        ));
        assert_eq!(one.rate, 1);
    }

    #[test]
    fn probes_step_up_once_per_interval_up_to_the_profile() {
        let r = rules();
        let mut s = RateState::fresh(&r, 0);
        assert!(!s.probe(&r, 3600 * S), "at the profile: nothing to probe");
        grant(&mut s, 20, S);
        s.rejected(
            &r,
            Rejection {
                seq: 20,
                occupancy: 19,
                floor: 0,
            },
            2 * S,
        );
        assert_eq!(s.rate, 18);
        assert!(!s.probe(&r, 2 * S + 599 * S));
        assert!(s.probe(&r, 2 * S + 600 * S));
        assert_eq!((s.rate, s.how), (19, RateChange::Probed));
        assert!(!s.probe(&r, 2 * S + 1199 * S), "one step per interval");
        // A refused probe goes back down by one (not the multiplicative cut).
        grant(&mut s, 19, 1000 * S);
        assert!(s.rejected(
            &r,
            Rejection {
                seq: 50,
                occupancy: 19,
                floor: 0
            },
            1000 * S
        ));
        assert_eq!(s.rate, 18);
        assert!(s.probe(&r, 1600 * S));
        assert!(s.probe(&r, 2200 * S));
        assert!(!s.probe(&r, 9000 * S), "never above the profile");
        assert_eq!(s.rate, 20);
    }
}
