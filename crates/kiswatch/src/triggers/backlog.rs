//! Recording a trigger so that none is dropped: stored first when the store writes; otherwise
//! delivered at once, unstored, kept in memory and stored as soon as the store writes again.
//!
//! ```text
//! Evaluator ── Recorder::record ──┬─ store writes ──▶ stored ──▶ Delivery::deliver (hub + webhook, with its id)
//!                                 └─ store fails ───▶ held ────▶ Delivery::deliver_unstored (hub + webhook, no id)
//!                                                      │
//!                      Recorder::run (its own task) ◀──┘ retries with backoff, and at once when
//!                                 any write succeeds again ──▶ stored ──▶ Delivery::stored_late (hub, with its id)
//! ```
//!
//! * **Order.** While anything is held, every new trigger is held behind it, and the retry stores
//!   them oldest first, one at a time, taking each off the backlog only once its write committed.
//!   So stored ids still increase in firing order.
//! * **Once each.** A held trigger is known by its key (condition, stock, period, bar: the store's
//!   unique key, [`Fired::key`]); the same key firing again while held is ignored like a
//!   stored duplicate, and the store's `INSERT OR IGNORE` makes a retry of a write that did land
//!   harmless.
//! * **Ids.** Only stored triggers have ids: an id is the store's row id and nothing else, so a
//!   browser that resumes after the highest id it saw, or drops ids it saw, is exact whatever was
//!   held meanwhile. A held trigger goes out with `"id": null`, `"persisted": false` and its `key`;
//!   once stored it goes to the browsers again with its id and `"persisted": true`, and a browser
//!   replaces the one with the same key. Provisional ids were the alternative and are wrong: one
//!   handed out and never stored (the process died with the disk still full) would be handed out
//!   again to the next stored trigger after a restart, and a browser that had seen it would drop
//!   that trigger as a repeat.
//! * **Bounded.** At most [`CAPACITY`] triggers are held (tens of megabytes at worst). A trigger
//!   beyond that is still delivered at once, unstored, but never stored: it is counted
//!   ([`BacklogStatus::unkept`], `kiswatch_triggers_unkept_total`), logged (its message, the first
//!   and every 1,000th), and health says so. The same holds for a trigger the store refuses for
//!   another reason than failing to write, and for those still held when the service stops: each
//!   one's message is logged at shutdown, so the log keeps what the store could not.
//! * **Health.** While anything is held, [`BacklogStatus::reason`] gives `/api/v1/health` its
//!   `degraded` reason: `store: N triggers waiting to be stored: <SQLite's error>`.
//!
//! One producer: the evaluator (in the live ingest task) calls [`Recorder::record`] one trigger at
//! a time.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::delivery::Delivery;
use crate::contract::Fired;
use crate::store::{Store, StoreError};
use crate::tasks::Tasks;

/// The most triggers held in memory while the store cannot write.
pub const CAPACITY: usize = 50_000;
/// The first wait before a retry; doubled after each failure up to [`LONGEST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(200);
const LONGEST_RETRY: Duration = Duration::from_secs(5);
/// Messages of unstored triggers logged at shutdown at most (the count of the rest follows).
const LOGGED_AT_SHUTDOWN: usize = 200;

/// What became of a trigger given to [`Recorder::record`].
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Stored at once, with this id.
    Stored(u64),
    /// Already stored (or held) for its condition, stock and bar: nobody is told again.
    Duplicate,
    /// Delivered unstored, held, and stored once the store writes again.
    Held,
    /// Delivered unstored; the backlog was full: it will not be stored.
    Unkept,
}

/// The backlog as health and metrics see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BacklogStatus {
    /// Triggers held, waiting to be stored.
    pub waiting: usize,
    /// RFC 3339: when the oldest of them fired.
    pub oldest: Option<String>,
    /// Why the last attempt to store failed.
    pub last_error: Option<String>,
    /// Triggers held since the start.
    pub held: u64,
    /// Held triggers stored later, since the start.
    pub stored_late: u64,
    /// Triggers delivered but never to be stored (backlog full, or refused by the store).
    pub unkept: u64,
    /// Attempts to store a held trigger that failed, since the start.
    pub retries_failed: u64,
}

impl BacklogStatus {
    /// Why health is degraded because of the backlog, if it is.
    pub fn reason(&self) -> Option<String> {
        if self.waiting == 0 {
            return None;
        }
        let error = self.last_error.as_deref().unwrap_or("the store does not write");
        let mut reason = format!(
            "store: {} trigger{} waiting to be stored: {error}",
            self.waiting,
            if self.waiting == 1 { "" } else { "s" }
        );
        if self.unkept > 0 {
            reason.push_str(&format!(
                " ({} more could not be kept and will not be stored)",
                self.unkept
            ));
        }
        Some(reason)
    }
}

struct Held {
    trigger: Arc<Fired>,
    key: String,
    /// RFC 3339, when it was held.
    at: String,
}

#[derive(Default)]
struct State {
    waiting: VecDeque<Held>,
    keys: HashSet<String>,
    last_error: Option<String>,
}

struct Shared {
    store: Store,
    delivery: Delivery,
    /// [`CAPACITY`] (tests use less).
    capacity: usize,
    state: Mutex<State>,
    wake: Notify,
    held: AtomicU64,
    stored_late: AtomicU64,
    unkept: AtomicU64,
    retries_failed: AtomicU64,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
}

impl Recorder {
    pub fn new(store: Store, delivery: Delivery) -> Recorder {
        Recorder::with_capacity(store, delivery, CAPACITY)
    }

    /// Holding at most `capacity` triggers.
    pub fn with_capacity(store: Store, delivery: Delivery, capacity: usize) -> Recorder {
        Recorder {
            shared: Arc::new(Shared {
                store,
                delivery,
                capacity,
                state: Mutex::new(State::default()),
                wake: Notify::new(),
                held: AtomicU64::new(0),
                stored_late: AtomicU64::new(0),
                unkept: AtomicU64::new(0),
                retries_failed: AtomicU64::new(0),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores the trigger and delivers it (to `webhook` too); or, when the store cannot write or
    /// triggers are held already, delivers it unstored and holds it.
    pub async fn record(&self, new: Fired, webhook: Option<String>) -> Recorded {
        let key = new.key();
        {
            let state = self.lock();
            if state.keys.contains(&key) {
                return Recorded::Duplicate;
            }
            if !state.waiting.is_empty() {
                drop(state);
                return self.hold(new, key, webhook, None);
            }
        }
        match self.shared.store.add_trigger(new.clone()).await {
            Ok(Some(row)) => {
                self.shared.delivery.deliver(&row, webhook);
                Recorded::Stored(row.id)
            }
            Ok(None) => Recorded::Duplicate,
            Err(e) => self.hold(new, key, webhook, Some(e)),
        }
    }

    fn hold(&self, new: Fired, key: String, webhook: Option<String>, error: Option<StoreError>) -> Recorded {
        let trigger = Arc::new(new);
        let refused = error.as_ref().is_some_and(|e| !e.is_write_failure());
        let mut state = self.lock();
        if let Some(e) = &error
            && !refused
        {
            state.last_error = Some(e.to_string());
        }
        let capacity = self.shared.capacity;
        let kept = !refused && state.waiting.len() < capacity;
        if kept {
            if state.waiting.is_empty() {
                tracing::error!(
                    error = state.last_error.as_deref().unwrap_or(""),
                    "triggers: the store cannot write; triggers are delivered now marked unstored, held \
                     in memory (up to {capacity}) and stored once it writes again"
                );
            }
            state.keys.insert(key);
            state.waiting.push_back(Held {
                trigger: trigger.clone(),
                key: trigger.key(),
                at: crate::store::now_text(),
            });
            let n = state.waiting.len();
            if n.is_multiple_of(1000) {
                tracing::warn!(waiting = n, "triggers: still waiting for the store");
            }
            // Told under the lock: the retry cannot store it (and say so) before it is told.
            self.shared.delivery.deliver_unstored(trigger, true, webhook);
            drop(state);
            self.shared.held.fetch_add(1, Ordering::Relaxed);
            self.shared.wake.notify_one();
            Recorded::Held
        } else {
            drop(state);
            let n = self.shared.unkept.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_multiple_of(1000) {
                match &error {
                    Some(e) if refused => tracing::error!(
                        error = %e,
                        unkept = n,
                        "triggers: the store refused a trigger; delivered unstored, it will not be stored: {}",
                        trigger.message
                    ),
                    _ => tracing::error!(
                        unkept = n,
                        "triggers: {capacity} triggers are waiting for the store already; this one is \
                         delivered unstored and will not be stored: {}",
                        trigger.message
                    ),
                }
            }
            self.shared.delivery.deliver_unstored(trigger, false, webhook);
            Recorded::Unkept
        }
    }

    /// The held triggers, oldest first.
    pub fn waiting(&self) -> Vec<Arc<Fired>> {
        self.lock().waiting.iter().map(|h| h.trigger.clone()).collect()
    }

    pub fn status(&self) -> BacklogStatus {
        let state = self.lock();
        BacklogStatus {
            waiting: state.waiting.len(),
            oldest: state.waiting.front().map(|h| h.at.clone()),
            last_error: if state.waiting.is_empty() {
                None
            } else {
                state.last_error.clone()
            },
            held: self.shared.held.load(Ordering::Relaxed),
            stored_late: self.shared.stored_late.load(Ordering::Relaxed),
            unkept: self.shared.unkept.load(Ordering::Relaxed),
            retries_failed: self.shared.retries_failed.load(Ordering::Relaxed),
        }
    }

    /// Stores held triggers until the service stops: retries with backoff (from
    /// [`FIRST_RETRY`] to [`LONGEST_RETRY`]) and at once when any write of the store succeeds
    /// again. At the stop, one last pass; what is still held is logged, message by message.
    pub async fn run(self, tasks: Tasks) {
        tokio::select! {
            _ = self.retry() => {}
            _ = tasks.stopping() => {}
        }
        while matches!(self.store_oldest().await, Some(true)) {}
        let left = self.waiting();
        if !left.is_empty() {
            tracing::error!(
                count = left.len(),
                "triggers: stopping with triggers the store never took; they were delivered unstored \
                 and are lost to the store"
            );
            for t in left.iter().take(LOGGED_AT_SHUTDOWN) {
                tracing::error!(code = %t.code, bar_time = %t.bar_time, "trigger not stored: {}", t.message);
            }
        }
    }

    async fn retry(&self) {
        let mut recovered = self.shared.store.recovered();
        let mut wait = FIRST_RETRY;
        loop {
            match self.store_oldest().await {
                None => {
                    wait = FIRST_RETRY;
                    self.shared.wake.notified().await;
                }
                Some(true) => wait = FIRST_RETRY,
                Some(false) => {
                    self.shared.retries_failed.fetch_add(1, Ordering::Relaxed);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        r = recovered.changed() => if r.is_err() {
                            tokio::time::sleep(wait).await;
                        },
                    }
                    wait = (wait * 2).min(LONGEST_RETRY);
                }
            }
        }
    }

    /// Tries to store the oldest held trigger: `None` when nothing is held, else whether the
    /// backlog moved on (stored, found stored, or given up on).
    async fn store_oldest(&self) -> Option<bool> {
        let trigger = self.lock().waiting.front()?.trigger.clone();
        let key = trigger.key();
        let outcome = self.shared.store.add_trigger((*trigger).clone()).await;
        let delivery = &self.shared.delivery;
        if let Err(e) = &outcome
            && e.is_write_failure()
        {
            self.lock().last_error = Some(e.to_string());
            return Some(false);
        }
        // Told and taken off under the lock: a trigger recorded meanwhile waits for it, so a
        // stored one never overtakes this one on its way to the browsers.
        let mut state = self.lock();
        match outcome {
            Ok(Some(row)) => {
                self.shared.stored_late.fetch_add(1, Ordering::Relaxed);
                delivery.stored_late(&row);
            }
            Ok(None) => delivery.settle(key.clone()),
            Err(e) => {
                let n = self.shared.unkept.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::error!(
                    error = %e,
                    unkept = n,
                    "triggers: the store refused a held trigger; it will not be stored: {}",
                    trigger.message
                );
                delivery.settle(key.clone());
            }
        }
        if state.waiting.front().is_some_and(|h| h.key == key) {
            state.waiting.pop_front();
            state.keys.remove(&key);
        }
        if state.waiting.is_empty() {
            state.last_error = None;
            tracing::warn!(
                stored_late = self.shared.stored_late.load(Ordering::Relaxed),
                "triggers: the store writes again; every held trigger is stored"
            );
        }
        Some(true)
    }
}

#[cfg(test)]
mod tests;
