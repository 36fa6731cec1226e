//! The request governor: zero rate-limit rejections while using almost all of the allowed rate.
//!
//! KIS counts the requests of an app key by arrival inside a sliding 1-second window, and a request
//! arrives somewhere between its send and its response. So the governor has N slots: a request holds
//! one from the moment it is sent until `hold + margin` (1 s + ε) after its response, timeout or
//! failure completes, and nothing is sent without a free slot. Two arrivals that use the same slot
//! are therefore more than 1 s apart, and no 1-second window at the server can ever hold N + 1
//! arrivals, whatever the latency. Throughput is N / (1 s + ε + RTT).
//!
//! Waiters queue by [`Priority`] (interactive before background, FIFO within a priority); a waiter
//! whose future is dropped leaves the queue at once, and a slot granted to a waiter that has just
//! gone is passed on. No polling and no sleeps stand in for synchronisation: slots are handed over
//! through oneshot channels, and the only timer is the hold after each completion.
//!
//! # When the server allows less than the profile
//!
//! KIS sometimes allows less than it documents (15–18 a second measured on keys documented at 20;
//! it adjusts limits per account). The promise above holds only if N is right, so N is a ceiling:
//! the ledger grants at most an *effective rate* R ≤ N of slots, and R adapts (the rules are in
//! [`crate::ledger::RateState`]). The client tells each permit how its request went: an `EGW00201`
//! ([`Permit::rate_limited`]) lowers R at once to below the number of slots that were live when
//! the refused request was granted (never below the most accepted requests this process saw in
//! one window), multiplicatively if a lowered R is refused again; R steps up by one at most every
//! 10 minutes, never above N. R lives in the ledger, so every process on the key adapts together.
//! Priorities are untouched: interactive requests still go first inside the reduced budget.
//!
//! The start is cautious: a governor paces its first N grants `window / R` apart instead of
//! letting N leave together (on its own clock, so each process paces its own start; tokio's
//! clock, so tests run it in paused time). Against a server allowing 5 with N = 20, a burst
//! would draw 15 rejections in the first second; paced, the sixth request is refused and only
//! those sent during its round trip follow it before R drops. At a correct profile the pacing
//! delays the first window's sends by half a window on average, once per process, and nothing
//! after; a slow start (doubling from N/4) would cost a few times more and still lose half a
//! burst. The slot invariant is unchanged, so at a correct profile no window holds more than N
//! arrivals, paced or not (the property test below runs both).
//!
//! Where the N slots are counted is a [`SlotLedger`]: by default a counter in this process
//! ([`InProcessLedger`]); with a data dir, a [`crate::ledger::FileLedger`] that every kiswatch
//! process using the same app key shares, because KIS counts per key, not per process. The queue
//! and the hand-over stay here either way. A shared ledger cannot signal this process when another
//! one's slot comes free, so when it refuses a claim it says when one can come free at the
//! earliest, and a single timer dispatches the queue then (see [`crate::ledger`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::credentials::KeyFingerprint;
use crate::ledger::{AdaptRules, Claim, InProcessLedger, Lease, LedgerHealth, PROBE_EVERY, SlotLedger};
pub use crate::priority::Priority;

/// The governor's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GovernorConfig {
    /// N: requests per window (per app key).
    pub slots: u32,
    /// The server's window (1 s for KIS).
    pub window: Duration,
    /// ε: extra hold after the window, absorbing timer and clock granularity.
    pub margin: Duration,
    /// Spread the first N grants of a fresh ledger over one window (the cautious start; see the
    /// module doc).
    pub pace_start: bool,
    /// The shortest time between a change of the effective rate and the next step up (10 min).
    pub probe_every: Duration,
}

impl GovernorConfig {
    /// The KIS window of 1 s with a 25 ms margin, a paced start, a probe every 10 minutes.
    pub fn per_second(slots: u32) -> GovernorConfig {
        GovernorConfig {
            slots: slots.max(1),
            window: Duration::from_secs(1),
            margin: Duration::from_millis(25),
            pace_start: true,
            probe_every: PROBE_EVERY,
        }
    }

    /// The same, letting the first N requests leave at once.
    pub fn without_start_pacing(self) -> GovernorConfig {
        GovernorConfig {
            pace_start: false,
            ..self
        }
    }

    /// The rules of the effective rate under this configuration.
    pub fn rules(&self) -> AdaptRules {
        AdaptRules {
            profile: self.slots.max(1),
            window: self.window,
            probe_every: self.probe_every,
        }
    }

    /// How long a slot stays taken after its request completes: window + margin.
    pub fn hold(&self) -> Duration {
        self.window + self.margin
    }
}

/// A point-in-time view of the governor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GovernorMetrics {
    /// N: the profile's rate, the most slots there can be.
    pub slots: u32,
    /// R ≤ N: the slots usable now, lowered after an `EGW00201` (shared by every process on the key).
    pub effective_rate: u32,
    /// Which app key (a short hash, never the key), when the governor was told.
    pub key_fingerprint: Option<KeyFingerprint>,
    /// Requests holding a slot and not yet completed.
    pub in_flight: u64,
    /// Completed requests whose slot is still held for the window.
    pub cooling: u64,
    pub queued_interactive: u64,
    pub queued_background: u64,
    /// How long the longest-waiting queued request has waited so far.
    pub longest_wait: Duration,
    /// Slots handed out so far.
    pub granted: u64,
    /// Sum and count of waits for a slot (granted requests only).
    pub wait_total: Duration,
    pub max_wait: Duration,
    /// Rate-limit rejections (EGW00201) reported by the client: should stay 0.
    pub rate_limited_seen: u64,
    /// Waiters that gave up (dropped) before getting a slot.
    pub cancelled: u64,
    /// Whether the slots are shared with other processes (a file or Redis ledger).
    pub shared: bool,
    /// Where the slots are counted now: local, shared, connecting, or fallback (a shared ledger
    /// out of reach: a conservative local share of the rate, never the full rate).
    pub ledger: LedgerHealth,
    /// Other processes seen drawing from the same slots at the last look.
    pub other_processes: u32,
}

impl GovernorMetrics {
    pub fn mean_wait(&self) -> Duration {
        if self.granted == 0 {
            Duration::ZERO
        } else {
            self.wait_total / u32::try_from(self.granted).unwrap_or(u32::MAX)
        }
    }
}

/// Shares N request slots among every caller of one app key. Cheap to clone.
#[derive(Clone)]
pub struct Governor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor")
            .field("config", &self.shared.config)
            .field("ledger", &self.shared.ledger)
            .field("metrics", &self.metrics())
            .finish()
    }
}

struct Shared {
    config: GovernorConfig,
    key: Option<KeyFingerprint>,
    ledger: Arc<dyn SlotLedger>,
    state: Mutex<State>,
    counters: Counters,
    /// Accepted requests of the last few windows, (sent, completed): the floor of a rejection.
    accepted: Mutex<VecDeque<(Instant, Instant)>>,
}

#[derive(Default)]
struct Counters {
    in_flight: AtomicU64,
    cooling: AtomicU64,
    granted: AtomicU64,
    wait_nanos: AtomicU64,
    max_wait_nanos: AtomicU64,
    rate_limited: AtomicU64,
    cancelled: AtomicU64,
}

struct State {
    next_id: u64,
    /// Index 0: interactive, 1: background.
    queues: [VecDeque<Waiter>; 2],
    /// When the timer set for a shared ledger's retry will dispatch the queue, if one is set.
    wake_at: Option<Instant>,
    /// Grants still to pace (the cautious start), and when the last grant was made.
    paced_left: u32,
    last_grant: Option<Instant>,
}

struct Waiter {
    id: u64,
    since: Instant,
    tx: oneshot::Sender<Grant>,
}

/// A slot in transit from the ledger to a waiter. If the waiter is gone by the time the grant is
/// dropped unreceived, the slot goes back at once (nothing was sent with it).
struct Grant {
    shared: Option<Arc<Shared>>,
    lease: Lease,
}

impl Drop for Grant {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.ledger.cancel(self.lease);
            Shared::dispatch(&shared);
        }
    }
}

impl Governor {
    /// A governor whose slots are this process's alone.
    pub fn new(config: GovernorConfig) -> Governor {
        Governor::with_ledger(config, Arc::new(InProcessLedger::with_rules(config.rules())))
    }

    /// A governor counting its slots in `ledger` (which knows N and the rate rules itself;
    /// `config.slots` is reported in the metrics).
    pub fn with_ledger(config: GovernorConfig, ledger: Arc<dyn SlotLedger>) -> Governor {
        Governor::for_key(config, ledger, None)
    }

    /// [`Governor::with_ledger`] for a named app key (its fingerprint shows in the metrics).
    pub fn for_key(
        config: GovernorConfig,
        ledger: Arc<dyn SlotLedger>,
        key: Option<KeyFingerprint>,
    ) -> Governor {
        let config = GovernorConfig {
            slots: config.slots.max(1),
            ..config
        };
        let governor = Governor {
            shared: Arc::new(Shared {
                config,
                key,
                accepted: Mutex::new(VecDeque::new()),
                ledger,
                state: Mutex::new(State {
                    next_id: 0,
                    queues: [VecDeque::new(), VecDeque::new()],
                    wake_at: None,
                    paced_left: if config.pace_start { config.slots } else { 0 },
                    last_grant: None,
                }),
                counters: Counters::default(),
            }),
        };
        // A ledger answering from another task wakes the queue when a slot may be free.
        let weak = Arc::downgrade(&governor.shared);
        governor.shared.ledger.set_waker(Arc::new(move || {
            if let Some(shared) = weak.upgrade() {
                Shared::dispatch(&shared);
            }
        }));
        governor
    }

    pub fn config(&self) -> GovernorConfig {
        self.shared.config
    }

    /// Waits for a free slot. Hold the returned permit while the request is in flight and drop it
    /// when the response (or failure) is complete; the slot comes free `window + margin` later.
    /// Cancel-safe: dropping the future gives up the place in the queue.
    pub async fn acquire(&self, priority: Priority) -> Permit {
        let started = Instant::now();
        let shared = &self.shared;
        loop {
            let (rx, id) = {
                let mut state = shared.lock();
                // Nobody of this priority or higher ahead in this process: ask the ledger now.
                let ahead = !state.queues[0].is_empty()
                    || (priority == Priority::Background && !state.queues[1].is_empty());
                if !ahead && let Some(wait) = shared.pace_wait(&state) {
                    Shared::wake_after(shared, &mut state, wait);
                } else if !ahead {
                    let waiting = state.queues[0].len() as u32 + u32::from(priority == Priority::Interactive);
                    match shared.ledger.claim(priority, waiting) {
                        Claim::Granted(lease) => {
                            Shared::note_grant(&mut state);
                            drop(state);
                            return Permit::new(shared.clone(), lease, started);
                        }
                        Claim::Busy { retry_in } => {
                            if let Some(after) = retry_in {
                                Shared::wake_after(shared, &mut state, after);
                            }
                        }
                    }
                }
                let id = state.next_id;
                state.next_id += 1;
                let (tx, rx) = oneshot::channel();
                state.queues[priority as usize].push_back(Waiter {
                    id,
                    since: started,
                    tx,
                });
                (rx, id)
            };
            let mut place = QueuePlace {
                shared,
                priority,
                id,
                waiting: true,
            };
            let grant = rx.await;
            place.waiting = false;
            match grant {
                Ok(mut grant) => {
                    grant.shared = None; // the slot now belongs to the permit
                    return Permit::new(shared.clone(), grant.lease, started);
                }
                // The sender was dropped unsent (cannot happen while we wait: only a dispatch or
                // our own place removes it). Queue again rather than send without a slot.
                Err(_) => continue,
            }
        }
    }

    /// Counts an `EGW00201` seen outside a permit (exported as `rate_limited_seen`). The client
    /// reports through [`Permit::rate_limited`] instead, which also lowers the key's rate.
    pub fn record_rate_limited(&self) {
        self.shared.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn metrics(&self) -> GovernorMetrics {
        let c = &self.shared.counters;
        let (qi, qb, oldest) = {
            let state = self.shared.lock();
            let oldest = state
                .queues
                .iter()
                .filter_map(|q| q.front())
                .map(|w| w.since)
                .min();
            (state.queues[0].len() as u64, state.queues[1].len() as u64, oldest)
        };
        GovernorMetrics {
            slots: self.shared.config.slots,
            effective_rate: self.shared.ledger.effective_rate().min(self.shared.config.slots),
            key_fingerprint: self.shared.key,
            in_flight: c.in_flight.load(Ordering::Relaxed),
            cooling: c.cooling.load(Ordering::Relaxed),
            queued_interactive: qi,
            queued_background: qb,
            longest_wait: oldest.map(|t| t.elapsed()).unwrap_or_default(),
            granted: c.granted.load(Ordering::Relaxed),
            wait_total: Duration::from_nanos(c.wait_nanos.load(Ordering::Relaxed)),
            max_wait: Duration::from_nanos(c.max_wait_nanos.load(Ordering::Relaxed)),
            rate_limited_seen: c.rate_limited.load(Ordering::Relaxed),
            cancelled: c.cancelled.load(Ordering::Relaxed),
            shared: self.shared.ledger.is_shared(),
            ledger: self.shared.ledger.health(),
            other_processes: self.shared.ledger.other_processes(),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two queues and a timer mark; a panic elsewhere cannot leave it half-updated.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cautious start: how long the next grant must wait to be `window / R` after the last
    /// (`None`: it may go now).
    fn pace_wait(&self, state: &State) -> Option<Duration> {
        if state.paced_left == 0 {
            return None;
        }
        let rate = self.ledger.effective_rate().clamp(1, self.config.slots);
        let next = state.last_grant? + self.config.window / rate;
        let now = Instant::now();
        (now < next).then(|| next - now)
    }

    fn note_grant(state: &mut State) {
        state.paced_left = state.paced_left.saturating_sub(1);
        state.last_grant = Some(Instant::now());
    }

    fn accepted(&self) -> MutexGuard<'_, VecDeque<(Instant, Instant)>> {
        self.accepted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remembers an accepted request, forgetting those that completed more than two windows ago.
    fn record_accepted(&self, sent: Instant, completed: Instant) {
        let keep = self.config.window * 2;
        let cap = 4 * self.config.slots as usize;
        let mut recent = self.accepted();
        while recent
            .front()
            .is_some_and(|&(_, c)| completed.saturating_duration_since(c) > keep || recent.len() >= cap)
        {
            recent.pop_front();
        }
        recent.push_back((sent, completed));
    }

    /// The most accepted requests of the last two windows that were sent and answered within less
    /// than one window: they all arrived inside one window of the server and were all accepted, so
    /// its limit is at least that many.
    fn floor(&self, now: Instant) -> u32 {
        let keep = self.config.window * 2;
        let recent = self.accepted();
        let recent: Vec<_> = recent
            .iter()
            .filter(|&&(_, c)| now.saturating_duration_since(c) <= keep)
            .collect();
        recent
            .iter()
            .map(|&&(start, _)| {
                recent
                    .iter()
                    .filter(|&&&(s, c)| s >= start && c < start + self.config.window)
                    .count()
            })
            .max()
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Hands free slots to the live waiters in order (interactive first) while the ledger grants
    /// them; when it refuses, sets the timer it asks for (a shared ledger) or waits for a release
    /// in this process (the in-process ledger).
    fn dispatch(shared: &Arc<Shared>) {
        let mut state = shared.lock();
        loop {
            let priority = if !state.queues[0].is_empty() {
                Priority::Interactive
            } else if !state.queues[1].is_empty() {
                Priority::Background
            } else {
                return;
            };
            if let Some(wait) = shared.pace_wait(&state) {
                Shared::wake_after(shared, &mut state, wait);
                return;
            }
            let waiting = state.queues[0].len() as u32;
            match shared.ledger.claim(priority, waiting) {
                Claim::Granted(lease) => {
                    Shared::note_grant(&mut state);
                    let Some(waiter) = state.queues[priority as usize].pop_front() else {
                        shared.ledger.cancel(lease);
                        return;
                    };
                    let grant = Grant {
                        shared: Some(shared.clone()),
                        lease,
                    };
                    if let Err(mut unsent) = waiter.tx.send(grant) {
                        // That waiter is gone; defuse the grant (we hold the lock) and go on.
                        unsent.shared = None;
                        shared.ledger.cancel(lease);
                    }
                }
                Claim::Busy { retry_in } => {
                    if let Some(after) = retry_in {
                        Shared::wake_after(shared, &mut state, after);
                    }
                    return;
                }
            }
        }
    }

    /// Dispatches the queue `after` from now, unless a timer already does so sooner.
    fn wake_after(shared: &Arc<Shared>, state: &mut State, after: Duration) {
        let at = Instant::now() + after;
        if state.wake_at.is_some_and(|w| w <= at) {
            return;
        }
        state.wake_at = Some(at);
        let shared = shared.clone();
        run_at(at, async move {
            {
                let mut state = shared.lock();
                if state.wake_at == Some(at) {
                    state.wake_at = None;
                }
            }
            Shared::dispatch(&shared);
        });
    }
}

/// Runs `job` at `at`: on the current runtime, or (dropped outside one) on a plain thread, so the
/// hold is kept either way.
fn run_at(at: Instant, job: impl std::future::Future<Output = ()> + Send + 'static) {
    let timed = async move {
        tokio::time::sleep_until(at).await;
        job.await;
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(timed);
        }
        Err(_) => {
            let wait = at.saturating_duration_since(Instant::now());
            std::thread::spawn(move || {
                std::thread::sleep(wait);
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    rt.block_on(timed);
                }
            });
        }
    }
}

/// A waiter's place in the queue; leaving it (future dropped) removes the entry.
struct QueuePlace<'a> {
    shared: &'a Arc<Shared>,
    priority: Priority,
    id: u64,
    waiting: bool,
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        if !self.waiting {
            return;
        }
        self.shared.counters.cancelled.fetch_add(1, Ordering::Relaxed);
        let mut state = self.shared.lock();
        let queue = &mut state.queues[self.priority as usize];
        if let Some(pos) = queue.iter().position(|w| w.id == self.id) {
            queue.remove(pos);
            if self.priority == Priority::Interactive {
                let waiting = state.queues[0].len() as u32;
                self.shared.ledger.waiting(waiting);
            }
        }
        // Not found: a grant is already in the channel; dropping the receiver returns the slot.
    }
}

/// One slot, held while a request is in flight. Dropping it starts the hold: the slot comes free
/// `window + margin` after the drop. Tell it how the request went when that is known
/// ([`Permit::accepted`], [`Permit::rate_limited`]): that is how the key's rate adapts.
pub struct Permit {
    shared: Option<Arc<Shared>>,
    lease: Lease,
    sent: Instant,
}

impl Permit {
    fn new(shared: Arc<Shared>, lease: Lease, started: Instant) -> Permit {
        let c = &shared.counters;
        let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        c.granted.fetch_add(1, Ordering::Relaxed);
        c.wait_nanos.fetch_add(waited, Ordering::Relaxed);
        c.max_wait_nanos.fetch_max(waited, Ordering::Relaxed);
        c.in_flight.fetch_add(1, Ordering::Relaxed);
        Permit {
            shared: Some(shared),
            lease,
            sent: Instant::now(),
        }
    }

    /// Marks the request complete (same as dropping the permit).
    pub fn complete(self) {}

    /// The server answered without `EGW00201` (whatever else it said): the request arrived and
    /// was inside the limit. Completes the request.
    pub fn accepted(self) {
        if let Some(shared) = &self.shared {
            shared.record_accepted(self.sent, Instant::now());
        }
    }

    /// The server refused the request with `EGW00201`: counted in `rate_limited_seen`, and the
    /// key's effective rate drops (see [`crate::ledger::RateState::rejected`]). Completes the
    /// request: its slot is held for the window like any other, since a refused arrival counts in
    /// the server's window too.
    pub fn rate_limited(self) {
        if let Some(shared) = &self.shared {
            shared.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let floor = shared.floor(Instant::now());
            shared.ledger.rate_limited(self.lease, floor);
        }
    }
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Permit")
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else { return };
        let lease = self.lease;
        let hold = shared.config.hold();
        shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        shared.counters.cooling.fetch_add(1, Ordering::Relaxed);
        shared.ledger.complete(lease, hold);
        run_at(Instant::now() + hold, async move {
            shared.counters.cooling.fetch_sub(1, Ordering::Relaxed);
            shared.ledger.cooled(lease);
            Shared::dispatch(&shared);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc as StdArc;

    fn paused_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_comes_free_one_window_after_completion() {
        let gov = Governor::new(GovernorConfig::per_second(1));
        let t0 = Instant::now();
        let p = gov.acquire(Priority::Interactive).await;
        tokio::time::sleep(Duration::from_millis(300)).await; // the request's round trip
        drop(p);
        let _p2 = gov.acquire(Priority::Interactive).await;
        assert_eq!(t0.elapsed(), Duration::from_millis(300 + 1025));
        let m = gov.metrics();
        assert_eq!((m.granted, m.in_flight, m.cooling), (2, 1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn interactive_waiters_go_before_background() {
        let gov = Governor::new(GovernorConfig::per_second(1));
        let first = gov.acquire(Priority::Background).await;
        let order = StdArc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, p) in [
            Priority::Background,
            Priority::Background,
            Priority::Interactive,
            Priority::Background,
            Priority::Interactive,
        ]
        .into_iter()
        .enumerate()
        {
            let gov = gov.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gov.acquire(p).await;
                order.lock().unwrap().push(i);
            }));
            tokio::task::yield_now().await; // enqueue in index order
        }
        assert_eq!(gov.metrics().queued_background, 3);
        assert_eq!(gov.metrics().queued_interactive, 2);
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![2, 4, 0, 1, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_interactive_request_waits_one_slot_behind_200_background_ones() {
        let gov = Governor::new(GovernorConfig::per_second(20).without_start_pacing());
        let rtt = Duration::from_millis(100);
        let mut tasks = Vec::new();
        for _ in 0..220 {
            let gov = gov.clone();
            tasks.push(tokio::spawn(async move {
                let permit = gov.acquire(Priority::Background).await;
                tokio::time::sleep(rtt).await;
                drop(permit);
            }));
        }
        // Let every task run up to its queue place (paused time does not advance while we yield).
        while gov.metrics().queued_background < 200 {
            tokio::task::yield_now().await;
        }
        let t0 = Instant::now();
        let _p = gov.acquire(Priority::Interactive).await;
        assert_eq!(
            t0.elapsed(),
            rtt + Duration::from_millis(1025),
            "the first slot to come free"
        );
        assert_eq!(gov.metrics().queued_background, 200 - 19, "it overtook the queue");
        for t in tasks {
            t.abort();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_frees_its_place() {
        let gov = Governor::new(GovernorConfig::per_second(1));
        let held = gov.acquire(Priority::Interactive).await;
        let g2 = gov.clone();
        let quitter = tokio::spawn(async move { g2.acquire(Priority::Interactive).await });
        tokio::task::yield_now().await;
        assert_eq!(gov.metrics().queued_interactive, 1);
        quitter.abort();
        let _ = quitter.await;
        assert_eq!(
            gov.metrics().queued_interactive,
            0,
            "the dropped waiter left the queue"
        );
        assert_eq!(gov.metrics().cancelled, 1);
        let t0 = Instant::now();
        drop(held);
        let _next = gov.acquire(Priority::Background).await;
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(1025),
            "the slot was not lost to the quitter"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_grant_to_a_vanished_waiter_is_passed_on() {
        let gov = Governor::new(GovernorConfig::per_second(1));
        let held = gov.acquire(Priority::Interactive).await;
        // Poll a waiter once so it is queued, then release the slot to it and drop it unpolled.
        let g2 = gov.clone();
        let mut waiter = Box::pin(async move { g2.acquire(Priority::Interactive).await });
        assert!(futures_util::poll!(waiter.as_mut()).is_pending());
        drop(held);
        tokio::time::sleep(Duration::from_millis(1100)).await; // the hold elapses; grant sent
        drop(waiter);
        let t0 = Instant::now();
        let _p = gov.acquire(Priority::Background).await;
        assert_eq!(t0.elapsed(), Duration::ZERO, "the slot came straight back");
    }

    /// A server's sliding 1-second window for one key, refused arrivals counted too (as KIS and
    /// kis-sim count them), with its log of (arrival, refused).
    struct Server {
        limit: usize,
        window: VecDeque<Instant>,
        log: Vec<(Instant, bool)>,
    }

    impl Server {
        fn new(limit: usize) -> StdArc<Mutex<Server>> {
            StdArc::new(Mutex::new(Server {
                limit,
                window: VecDeque::new(),
                log: Vec::new(),
            }))
        }

        fn arrive(&mut self, at: Instant) -> bool {
            while self
                .window
                .front()
                .is_some_and(|&a| at.duration_since(a) >= Duration::from_secs(1))
            {
                self.window.pop_front();
            }
            self.window.push_back(at);
            let accepted = self.window.len() <= self.limit;
            self.log.push((at, !accepted));
            accepted
        }

        /// Refused arrivals in `[from, to)` after `origin`.
        fn refused(&self, origin: Instant, from: Duration, to: Duration) -> usize {
            self.log
                .iter()
                .filter(|&&(at, refused)| refused && at >= origin + from && at < origin + to)
                .count()
        }
    }

    /// `tasks` callers send through `gov` for `run` (virtual time) to `server`: each request travels
    /// 5..100 ms each way (a seeded draw), a refused one is retried after 200 ms as the client does.
    /// Returns the requests completed (accepted).
    async fn load(gov: &Governor, server: &StdArc<Mutex<Server>>, tasks: usize, run: Duration) -> usize {
        use rand::{Rng, SeedableRng};
        let rng = StdArc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(7)));
        let end = Instant::now() + run;
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (gov, server, rng) = (gov.clone(), server.clone(), rng.clone());
                tokio::spawn(async move {
                    let mut done = 0;
                    while Instant::now() < end {
                        loop {
                            let permit = gov.acquire(Priority::Background).await;
                            let (up, down) = {
                                let mut rng = rng.lock().unwrap();
                                (rng.random_range(5..100), rng.random_range(5..100))
                            };
                            tokio::time::sleep(Duration::from_millis(up)).await;
                            let accepted = server.lock().unwrap().arrive(Instant::now());
                            tokio::time::sleep(Duration::from_millis(down)).await;
                            if accepted {
                                permit.accepted();
                                done += 1;
                                break;
                            }
                            permit.rate_limited();
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                    done
                })
            })
            .collect();
        let mut done = 0;
        for h in handles {
            done += h.await.unwrap();
        }
        done
    }

    /// A client configured for 20/s against a server allowing 5 or 12: a handful of refusals while
    /// the paced start finds the limit, none after, the rate settles at the server's, and every
    /// request completes.
    #[tokio::test(start_paused = true)]
    async fn a_server_allowing_less_than_the_profile_is_found_within_a_few_rejections() {
        for limit in [5, 12] {
            let gov = Governor::new(GovernorConfig::per_second(20));
            let server = Server::new(limit);
            let origin = Instant::now();
            let done = load(&gov, &server, 40, Duration::from_secs(60)).await;
            let server = server.lock().unwrap();
            let first_minute = server.refused(origin, Duration::ZERO, Duration::from_secs(60));
            let after_start = server.refused(origin, Duration::from_secs(5), Duration::from_secs(3600));
            let m = gov.metrics();
            eprintln!(
                "limit {limit}: {first_minute} refused in the first 60 s, {done} completed, rate {}",
                m.effective_rate
            );
            assert!(first_minute < 10, "limit {limit}: {first_minute} refused");
            assert_eq!(after_start, 0, "limit {limit}: none after the first seconds");
            assert_eq!(m.effective_rate, limit as u32, "settled at the server's limit");
            assert_eq!(m.rate_limited_seen as usize, first_minute);
            assert_eq!(m.slots, 20);
            let arrived = server.log.len();
            assert_eq!(
                arrived,
                done + first_minute,
                "every refused request was retried and completed"
            );
            assert_eq!((m.in_flight, m.queued_background), (0, 0));
        }
    }

    /// Ten minutes after the decrease the rate steps up by one; the server refuses it once and
    /// the rate goes back; nothing is refused in between.
    #[tokio::test(start_paused = true)]
    async fn the_rate_probes_upward_once_per_ten_minutes() {
        let gov = Governor::new(GovernorConfig::per_second(20));
        let server = Server::new(5);
        let origin = Instant::now();
        load(&gov, &server, 10, Duration::from_secs(700)).await;
        let server = server.lock().unwrap();
        let refusals: Vec<Duration> = server
            .log
            .iter()
            .filter(|(_, refused)| *refused)
            .map(|(at, _)| at.duration_since(origin))
            .collect();
        let start: Vec<_> = refusals.iter().filter(|t| **t < Duration::from_secs(5)).collect();
        let later: Vec<_> = refusals
            .iter()
            .filter(|t| **t >= Duration::from_secs(5))
            .collect();
        eprintln!("refusals at the start {start:?}, later {later:?}");
        assert!(!start.is_empty());
        let decreased = **start.last().unwrap();
        assert!(
            (1..=2).contains(&later.len()),
            "the probe is refused once (or twice, from one window): {later:?}"
        );
        let probe = *later[0];
        assert!(
            probe >= decreased + Duration::from_secs(600) && probe < decreased + Duration::from_secs(602),
            "one probe, ten minutes after the last change: {probe:?} (decreased at {decreased:?})"
        );
        assert_eq!(gov.metrics().effective_rate, 5);
    }

    /// After a decrease to 5 of 20, an interactive request still goes before queued background
    /// ones, and never more than 5 slots are live.
    #[tokio::test(start_paused = true)]
    async fn interactive_requests_keep_priority_inside_a_reduced_rate() {
        let gov = Governor::new(GovernorConfig::per_second(20).without_start_pacing());
        let mut held: Vec<Permit> = Vec::new();
        for _ in 0..6 {
            held.push(gov.acquire(Priority::Background).await);
        }
        held.pop().unwrap().rate_limited(); // refused with 6 live: the limit is at most 5
        assert_eq!(gov.metrics().effective_rate, 5);
        drop(held);
        let rtt = Duration::from_millis(100);
        let live = StdArc::new(std::sync::atomic::AtomicU32::new(0));
        let most = StdArc::new(std::sync::atomic::AtomicU32::new(0));
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let (gov, live, most) = (gov.clone(), live.clone(), most.clone());
                tokio::spawn(async move {
                    let permit = gov.acquire(Priority::Background).await;
                    let m = gov.metrics();
                    most.fetch_max((m.in_flight + m.cooling) as u32, Ordering::Relaxed);
                    live.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(rtt).await;
                    permit.accepted();
                })
            })
            .collect();
        while gov.metrics().queued_background < 30 {
            tokio::task::yield_now().await;
        }
        let t0 = Instant::now();
        let _p = gov.acquire(Priority::Interactive).await;
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(1025),
            "the first slot to come free (the 6 held ones cool for a window)"
        );
        assert!(gov.metrics().queued_background >= 25, "it overtook the queue");
        for t in tasks {
            t.await.unwrap();
        }
        assert!(
            most.load(Ordering::Relaxed) <= 5,
            "{}",
            most.load(Ordering::Relaxed)
        );
    }

    /// A latency in ms: mostly uniform, sometimes heavy-tailed (Pareto, alpha 1.1, up to 20 s).
    fn latency_ms() -> impl Strategy<Value = u64> {
        prop_oneof![
            3 => 1u64..300,
            2 => (1e-4f64..1.0).prop_map(|u| (5.0 * u.powf(-1.0 / 1.1)).min(20_000.0) as u64),
            1 => Just(0u64),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The acceptance property: with random latencies (heavy-tailed too), random priorities and
        /// start times, and each request arriving at a random point between its send and its
        /// response, no sliding 1-second window at the server ever holds more than N arrivals.
        #[test]
        fn no_window_ever_holds_more_than_n_arrivals(
            n in 1u32..8,
            paced in any::<bool>(),
            requests in prop::collection::vec(
                (0u64..3000, latency_ms(), 0.0f64..=1.0, any::<bool>(), any::<bool>()),
                1..120,
            ),
        ) {
            let rt = paused_runtime();
            let arrivals = rt.block_on(async move {
                let config = GovernorConfig::per_second(n);
                let gov = Governor::new(if paced { config } else { config.without_start_pacing() });
                let origin = Instant::now();
                let mut tasks = Vec::new();
                for (start, latency, where_, interactive, cancel) in requests {
                    let gov = gov.clone();
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(start)).await;
                        let priority = if interactive { Priority::Interactive } else { Priority::Background };
                        let acquired = if cancel {
                            // Some callers give up after 200 ms of waiting.
                            tokio::time::timeout(Duration::from_millis(200), gov.acquire(priority)).await.ok()
                        } else {
                            Some(gov.acquire(priority).await)
                        };
                        let permit = acquired?;
                        let sent = Instant::now();
                        let rtt = Duration::from_millis(latency);
                        tokio::time::sleep(rtt).await;
                        drop(permit);
                        Some((sent + rtt.mul_f64(where_)).duration_since(origin))
                    }));
                }
                let mut arrivals = Vec::new();
                for t in tasks {
                    if let Some(a) = t.await.unwrap() {
                        arrivals.push(a);
                    }
                }
                arrivals
            });
            let mut arrivals = arrivals;
            arrivals.sort();
            for (i, a) in arrivals.iter().enumerate() {
                let in_window = arrivals[i..].iter().take_while(|b| **b < *a + Duration::from_secs(1)).count();
                prop_assert!(in_window <= n as usize, "window at {:?} holds {} > {}", a, in_window, n);
            }
        }
    }
}
