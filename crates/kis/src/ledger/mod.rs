//! Slot ledgers: where the governor's N slots of one app key are counted.
//!
//! KIS counts requests per app key, not per process, so every kiswatch process on a machine that
//! uses one key (a `serve`, a `quote` in another terminal, a `backtest`) must draw from the same N
//! slots. The [`crate::governor::Governor`] keeps what is local — its queue of waiters in
//! priority order, cancel-safety, hand-over through channels — and asks a [`SlotLedger`] for the
//! one thing that is shared: may a request be sent now?
//!
//! * [`InProcessLedger`]: a counter behind the governor's mutex; the default when there is no data
//!   dir. Today's single-process governor, as fast as before.
//! * [`RedisLedger`]: Redis, for processes on several machines (below).
//! * [`FileLedger`]: a small file in the data dir, `governor/<env>-<fingerprint>.ledger` (the
//!   fingerprint is the token cache's hash of the app key, never the key), holding every process's
//!   slot leases and waiting-interactive markers, updated under an advisory file lock. See its
//!   module for the clock, the leases of dead processes and corruption.
//!
//! # The contract
//!
//! A ledger answers [`SlotLedger::claim`] with a [`Lease`] only while fewer than R leases are live
//! across everyone sharing it, where R ≤ N is the key's effective rate, stored in the ledger
//! beside the leases so that every process adapts together (lowered by an `EGW00201`, raised by
//! a probe at most every 10 minutes; see [`RateState`] and its module for the rules). A lease is live from its claim until `hold` (1 s + ε) after
//! [`SlotLedger::complete`] — or, if its holder vanishes, until `hold` after the ledger can tell
//! that it did (at the latest `lease + hold` after the claim). Background claims are refused while
//! interactive requests wait anywhere (only as many free slots as such waiters exist elsewhere).
//! [`SlotLedger::cancel`] returns a lease under which nothing was sent.
//!
//! A refused claim says when to ask again ([`Claim::Busy`]). The in-process ledger says "never
//! mind, a release in this process will wake you" (`None`): every lease is this process's own. A
//! shared ledger cannot signal other processes, so it computes the earliest instant at which a
//! slot *can* come free: the earliest deadline of a completed lease, and never later than
//! `now + hold`, because a lease still in flight cannot come free sooner than `hold` after a
//! completion that has not happened yet. The governor sleeps until then and asks again; that is a
//! computed deadline, not polling, and a process that has nothing queued never looks at the file.
//!
//! # A backend shared between machines
//!
//! [`RedisLedger`] (`redis://host:port/db`, [`crate::client::ClientConfig::ledger_url`]): the
//! leases as a sorted set scored by deadline, the markers and the rate beside them, each operation
//! an atomic Lua script on the server's clock; a client task talks to Redis so that no network
//! I/O runs under the governor's lock (see its module for why a task rather than an async trait,
//! the fallback to a conservative local share when Redis is away, and new epochs). It shares the
//! key's tokens too ([`RedisTokens`], through [`crate::token::SharedTokens`]).
//! [`SlotLedger::health`] says where the slots are counted now (exported as the governor's
//! `ledger` state).

mod adapt;
mod file;
mod redis;
mod redis_keys;
mod redis_tokens;

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub use adapt::{AdaptRules, PROBE_EVERY, RateChange, RateState, Rejection};
pub use file::{FileLedger, LedgerError, LedgerState, monotonic_now};
pub use redis::{RedisLedger, RedisLedgerError, is_redis_url};
pub use redis_tokens::RedisTokens;

/// How a ledger's holder tells the governor that a slot may be free now (a shared ledger whose
/// answers come from another task: [`RedisLedger`]).
pub type Waker = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Where the slots are counted right now (exported as the governor's `ledger` state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LedgerHealth {
    /// This process alone.
    #[default]
    Local = 0,
    /// Shared with other processes or machines, and reachable.
    Shared = 1,
    /// A shared ledger not reached yet.
    Connecting = 2,
    /// A shared ledger that cannot be reached: a conservative local share of the rate is used.
    Fallback = 3,
}

impl LedgerHealth {
    pub(crate) fn from_u8(v: u8) -> LedgerHealth {
        match v {
            1 => LedgerHealth::Shared,
            2 => LedgerHealth::Connecting,
            3 => LedgerHealth::Fallback,
            _ => LedgerHealth::Local,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerHealth::Local => "local",
            LedgerHealth::Shared => "shared",
            LedgerHealth::Connecting => "connecting",
            LedgerHealth::Fallback => "fallback",
        }
    }
}

use crate::priority::Priority;

/// One claimed slot, named by the ledger that granted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The ledger's name for it (unique among its live leases).
    pub id: u64,
    /// The grant's sequence number on the key (see [`RateState::seq`]).
    pub seq: u64,
    /// Leases live when it was granted, itself included.
    pub occupancy: u32,
}

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Granted(Lease),
    /// No slot for this priority now. `retry_in`: ask again after this long; `None` when a
    /// release in this process is the only thing that can free one (it will dispatch).
    Busy {
        retry_in: Option<Duration>,
    },
}

/// Where the slots of one app key are counted (see the module doc for the contract).
pub trait SlotLedger: Send + Sync + fmt::Debug {
    /// Claims a slot for a request about to be sent at `priority`. `waiting_interactive`: how many
    /// interactive requests of this process wait for a slot, this one included if interactive —
    /// a shared ledger publishes it so that other processes hold back their background work.
    fn claim(&self, priority: Priority, waiting_interactive: u32) -> Claim;

    /// The request sent under `lease` is complete (answered, failed or timed out): its slot comes
    /// free `hold` from now.
    fn complete(&self, lease: Lease, hold: Duration);

    /// `hold` has passed since [`SlotLedger::complete`]. The in-process ledger frees the slot
    /// here; a shared ledger wrote the deadline at completion and has nothing to do.
    fn cooled(&self, lease: Lease);

    /// Nothing was sent under `lease` (the waiter it was granted to had gone): free it now.
    fn cancel(&self, lease: Lease);

    /// The request sent under `lease` was refused with `EGW00201` (called before
    /// [`SlotLedger::complete`]): lower the key's rate for everyone sharing the ledger (see
    /// [`adapt`](RateState::rejected)). `floor`: the most accepted requests the caller saw inside
    /// one window recently.
    fn rate_limited(&self, lease: Lease, floor: u32);

    /// The effective rate R (≤ N) at the last look: how many leases may be live.
    fn effective_rate(&self) -> u32;

    /// The number of interactive requests of this process waiting for a slot changed without a
    /// claim (one gave up): a shared ledger republishes it, so that other processes do not hold
    /// back their background work for a request that left.
    fn waiting(&self, _waiting_interactive: u32) {}

    /// Registers how to wake the governor when a slot may be free without a release in this
    /// process (a ledger answering from another task). Local ledgers need none.
    fn set_waker(&self, _waker: Waker) {}

    /// Where the slots are counted right now.
    fn health(&self) -> LedgerHealth {
        if self.is_shared() {
            LedgerHealth::Shared
        } else {
            LedgerHealth::Local
        }
    }

    /// Whether other processes draw from these slots too.
    fn is_shared(&self) -> bool {
        false
    }

    /// Other live processes seen sharing the slots at the last look (0 for a local ledger).
    fn other_processes(&self) -> u32 {
        0
    }
}

/// The slots of one process: a count of live leases and the key's rate. Priorities and
/// hand-over are the governor's queues.
#[derive(Debug)]
pub struct InProcessLedger {
    rules: AdaptRules,
    /// The clock's origin: times are nanoseconds of tokio's clock since then (paused in tests).
    origin: tokio::time::Instant,
    state: Mutex<Local>,
    effective: AtomicU32,
}

#[derive(Debug)]
struct Local {
    live: u32,
    rate: RateState,
}

impl InProcessLedger {
    /// N slots at a fixed origin, no start pacing (see [`InProcessLedger::with_rules`]).
    pub fn new(slots: u32) -> InProcessLedger {
        InProcessLedger::with_rules(AdaptRules::new(slots))
    }

    pub fn with_rules(rules: AdaptRules) -> InProcessLedger {
        let rules = AdaptRules {
            profile: rules.profile.max(1),
            ..rules
        };
        InProcessLedger {
            rules,
            origin: tokio::time::Instant::now(),
            state: Mutex::new(Local {
                live: 0,
                rate: RateState::fresh(&rules, 0),
            }),
            effective: AtomicU32::new(rules.profile),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Local> {
        // Counters cannot be left half-updated by a panic elsewhere.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SlotLedger for InProcessLedger {
    fn claim(&self, _priority: Priority, _waiting_interactive: u32) -> Claim {
        let now = self.now();
        let mut state = self.state();
        if state.rate.probe(&self.rules, now) {
            self.effective
                .store(state.rate.effective(&self.rules), Ordering::Relaxed);
        }
        if state.live >= state.rate.effective(&self.rules) {
            return Claim::Busy { retry_in: None };
        }
        state.live += 1;
        let seq = state.rate.granted();
        Claim::Granted(Lease {
            id: seq,
            seq,
            occupancy: state.live,
        })
    }

    fn complete(&self, _lease: Lease, _hold: Duration) {}

    fn cooled(&self, _lease: Lease) {
        let mut state = self.state();
        state.live = state.live.saturating_sub(1);
    }

    fn cancel(&self, _lease: Lease) {
        let mut state = self.state();
        state.live = state.live.saturating_sub(1);
    }

    fn rate_limited(&self, lease: Lease, floor: u32) {
        let now = self.now();
        let mut state = self.state();
        let rejection = Rejection {
            seq: lease.seq,
            occupancy: lease.occupancy,
            floor,
        };
        if state.rate.rejected(&self.rules, rejection, now) {
            self.effective
                .store(state.rate.effective(&self.rules), Ordering::Relaxed);
        }
    }

    fn effective_rate(&self) -> u32 {
        self.effective.load(Ordering::Relaxed)
    }
}
