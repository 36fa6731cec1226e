//! [`RedisLedger`]: the slots of one app key shared by every kiswatch process on every machine that
//! reaches one Redis (`redis://host:port/db`), and the key's tokens with them
//! ([`RedisLedger::tokens`]).
//!
//! # No network I/O under the governor's lock
//!
//! [`SlotLedger`] is synchronous and the governor calls it under its lock, which is right for a
//! counter or a file in the page cache and wrong for a round trip to another machine. So this
//! ledger is a *client task* that the governor talks to through channels: `claim()` never waits.
//! It hands out a lease the task has already obtained, or sends the claim to the task (one at a
//! time per process) and answers "busy, a release will wake you"; when Redis grants it, the task
//! parks the lease and wakes the governor (the waker it registered, [`SlotLedger::set_waker`]),
//! whose dispatch takes it for the first waiter in priority order; a lease nobody takes any more is
//! handed back at once. Completions, cancellations, rejections and interactive markers are
//! messages the task sends on. (Making the trait async instead would have moved every ledger,
//! the in-process counter included, behind boxed futures and spawned completions, for the sake
//! of the one ledger that needs the network: this keeps the local ledgers as fast as they were.)
//!
//! # In Redis
//!
//! Under `kiswatch:ledger:{<env>-<fingerprint>}:` (the token cache's naming: a hash of the app key,
//! never the key): `leases` (sorted set, member `<owner>:<lease>`, score = deadline), `mexp` and
//! `mcount` (interactive markers: expiry and count per owner), `rate` (a hash of
//! [`RateState`]), `epoch`, and the tokens. Each operation is one Lua script, atomic at the server,
//! reading the server's clock (`TIME`), so every machine shares one clock as the file ledger's
//! processes share `CLOCK_MONOTONIC`. A lease in flight has the deadline `claim + lease + hold`,
//! so a holder that crashes loses its slots within the lease; completion sets `now + hold`.
//! Background claims are refused while other owners have interactive requests waiting, as in the
//! file ledger. The rate rules are [`RateState`]'s, in Lua (`claim` probes, `rejected` lowers).
//! Every key expires a day after its last use.
//!
//! # When Redis is unreachable, and when it comes back empty
//!
//! An error or a timeout (1 s) turns the ledger to [`LedgerHealth::Fallback`]: claims are answered
//! here, from a *conservative local share* of the key, never the full rate: with k processes seen
//! on the key (at least two), `R / k` (half with two, or when none was seen), this process's
//! leases still live counted against it — and, until every lease of the outage has surely ended
//! (one lease plus hold), no more than it held at the outage, so that processes that held more
//! than their share then do not add up to more than R. (Limits: a process that never reached
//! Redis takes half at once; a Redis reachable from some machines only lets those add their
//! share to the full rate of the others.) The task
//! tries Redis again every second; back, it adds this process's live leases to Redis (they were
//! sent while nobody else could see them) and returns to [`LedgerHealth::Shared`].
//!
//! A Redis that comes back empty (restarted without persistence, flushed) has lost every lease,
//! and other machines may have sent in fallback meanwhile. So a process that had seen an earlier
//! epoch and finds none starts a new one in which every slot counts as taken for one lease plus
//! hold, as the file ledger does on corruption; a process that finds a new epoch adds its own live
//! leases to it. A process that never saw an epoch (a first start) cannot tell a new Redis from a
//! restarted one, but it can tell how long the server has been up: if that is less than two
//! reconnect intervals plus a timeout and a hold — the time in which every live client of an
//! earlier epoch has rejoined and added its leases — every slot counts as taken until then.
//! Otherwise the key is simply new.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::redis_keys::Keys;
use super::{AdaptRules, Claim, Lease, LedgerHealth, RateChange, RateState, Rejection, SlotLedger, Waker};
use crate::priority::Priority;

/// How long a waiting-interactive marker lives without renewal (as in the file ledger).
const MARKER_TTL: Duration = Duration::from_secs(2);
/// How soon to look again when holding back for another owner's interactive request.
const DEFER_RECHECK: Duration = Duration::from_millis(20);
/// One Redis operation may take this long before the ledger falls back.
const IO_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a ledger in fallback tries Redis again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// Keys expire this long after their last use.
const KEY_TTL: Duration = Duration::from_secs(86_400);

/// The ledger could not be set up (an unreachable server is not an error: it is fallback).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisLedgerError {
    /// Not a `redis://host:port/db` URL. The URL itself is not repeated: it may hold a password.
    #[error("ledger URL is not a valid redis:// URL ({0})")]
    Url(&'static str),
    /// The ledger's client task needs a tokio runtime.
    #[error("the Redis ledger needs a tokio runtime to run its client on")]
    NoRuntime,
}

/// Whether `url` names a Redis ledger.
pub fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

#[derive(Debug)]
enum Op {
    Claim {
        priority: Priority,
        waiting: u32,
        id: u64,
    },
    Complete {
        id: u64,
        hold: Duration,
    },
    Cancel {
        id: u64,
    },
    RateLimited {
        lease: Lease,
        floor: u32,
    },
    Waiting(u32),
}

/// What this process knows between messages.
struct Local {
    /// A claim is with the task.
    pending: bool,
    /// A lease Redis granted that no waiter has taken yet.
    ready: Option<Lease>,
    next_lease: u64,
    /// This process's live leases: id → when each frees at the latest (fallback share, rejoin).
    mine: HashMap<u64, Instant>,
    /// The key's rate as last seen.
    rate: RateState,
    /// Leases live in Redis (everyone's) at the last answer.
    last_live: u32,
    /// The budget while Redis is away (set on falling back).
    fallback: Option<Budget>,
}

/// What a process may hold while Redis is away (see [`Inner::fall_back`]).
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Until `until`: no more than it held at the outage.
    cap: u32,
    until: Instant,
    /// After that: an equal share of the rate, and never more than half.
    share: u32,
}

struct Inner {
    keys: Keys,
    rules: AdaptRules,
    hold: Duration,
    lease: Duration,
    owner: u64,
    tx: mpsc::UnboundedSender<Op>,
    local: Mutex<Local>,
    health: AtomicU8,
    others: AtomicU32,
    waker: Mutex<Option<Waker>>,
}

/// Slots (and tokens) shared through Redis (see the module doc).
pub struct RedisLedger {
    inner: Arc<Inner>,
    client: redis::Client,
}

impl fmt::Debug for RedisLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedger")
            .field("keys", &self.inner.keys.prefix)
            .field("slots", &self.inner.rules.profile)
            .field("health", &self.inner.health())
            .finish()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RedisLedger {
    /// A ledger for the key `name` (`<env>-<fingerprint>`) at `url`, with N = `rules.profile`
    /// slots held `hold` after completion and `lease` bounding a request. Starts its client task
    /// on the current tokio runtime; it connects in the background (until then, and whenever
    /// Redis cannot be reached, the ledger answers from its local share).
    pub fn open(
        url: &str,
        name: &str,
        rules: AdaptRules,
        hold: Duration,
        lease: Duration,
    ) -> Result<RedisLedger, RedisLedgerError> {
        if !is_redis_url(url) {
            return Err(RedisLedgerError::Url("expected redis://host:port/db"));
        }
        let client = redis::Client::open(url).map_err(|_| RedisLedgerError::Url("unparsable"))?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| RedisLedgerError::NoRuntime)?;
        let rules = AdaptRules {
            profile: rules.profile.max(1),
            ..rules
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            keys: Keys::new(name),
            rules,
            hold,
            lease,
            owner: rand::random::<u64>() | 1,
            tx,
            local: Mutex::new(Local {
                pending: false,
                ready: None,
                next_lease: 1,
                mine: HashMap::new(),
                rate: RateState::fresh(&rules, 0),
                last_live: 0,
                fallback: None,
            }),
            health: AtomicU8::new(LedgerHealth::Connecting as u8),
            others: AtomicU32::new(0),
            waker: Mutex::new(None),
        });
        let task = Task {
            inner: Arc::downgrade(&inner),
            client: client.clone(),
            conn: None,
            epoch: None,
            failing: false,
            scripts: Scripts::new(),
        };
        runtime.spawn(task.run(rx));
        Ok(RedisLedger { inner, client })
    }

    /// The token store's side of this Redis (see [`crate::token::SharedTokens`]).
    pub fn tokens(&self) -> Arc<super::redis_tokens::RedisTokens> {
        Arc::new(super::redis_tokens::RedisTokens::new(
            self.client.clone(),
            self.inner.keys.clone(),
        ))
    }
}

impl Inner {
    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn health(&self) -> LedgerHealth {
        LedgerHealth::from_u8(self.health.load(Ordering::Relaxed))
    }

    fn set_health(&self, health: LedgerHealth) {
        self.health.store(health as u8, Ordering::Relaxed);
    }

    fn wake(&self) {
        let waker = self.waker.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(waker) = waker {
            waker();
        }
    }

    fn send(&self, op: Op) {
        if self.tx.send(op).is_err() {
            // The task is gone (its runtime shut down): only the local share is left.
            self.set_health(LedgerHealth::Fallback);
        }
    }

    /// Falling back: the budget of this process while Redis is away. With k processes seen on
    /// the key (this one included, at least two) and R the rate, the share is `R / k` (half with
    /// two, or when none was seen). Until every lease of the outage has surely ended
    /// (`lease + hold` from now), a process that was connected holds no more than it held at the
    /// outage (`min(share, own)`: it only replaces its own leases), so however the leases were
    /// spread the processes together stay within what Redis had granted, at most R.
    fn fall_back(&self, local: &mut Local) {
        if local.fallback.is_some() {
            return;
        }
        let now = Instant::now();
        local.mine.retain(|_, until| *until > now);
        let rate = local.rate.effective(&self.rules);
        let k = (1 + self.others.load(Ordering::Relaxed)).max(2);
        let own = u32::try_from(local.mine.len()).unwrap_or(u32::MAX);
        let share = (rate / k).max(1);
        let connected = local.last_live > 0; // Redis has answered a claim
        let cap = if connected { share.min(own) } else { share };
        local.fallback = Some(Budget {
            cap,
            until: now + self.lease + self.hold,
            share,
        });
    }

    /// What this process may hold now while Redis is away.
    fn share(&self, local: &Local) -> u32 {
        match local.fallback {
            Some(b) if Instant::now() < b.until => b.cap,
            Some(b) => b.share,
            None => (local.rate.effective(&self.rules) / 2).max(1),
        }
    }

    fn claim_locally(&self, local: &mut Local) -> Claim {
        let now = Instant::now();
        local.mine.retain(|_, until| *until > now);
        let live = u32::try_from(local.mine.len()).unwrap_or(u32::MAX);
        if live < self.share(local) {
            let id = local.next_lease;
            local.next_lease += 1;
            local.mine.insert(id, now + self.lease + self.hold);
            return Claim::Granted(Lease {
                id,
                seq: 0,
                occupancy: live + 1,
            });
        }
        let next = local
            .mine
            .values()
            .min()
            .copied()
            .unwrap_or(now)
            .min(now + self.hold);
        Claim::Busy {
            retry_in: Some(next.saturating_duration_since(now).max(Duration::from_millis(1))),
        }
    }
}

impl SlotLedger for RedisLedger {
    fn claim(&self, priority: Priority, waiting_interactive: u32) -> Claim {
        let inner = &self.inner;
        let mut local = inner.local();
        if let Some(lease) = local.ready.take() {
            return Claim::Granted(lease);
        }
        match inner.health() {
            LedgerHealth::Fallback => return inner.claim_locally(&mut local),
            // The task wakes the governor once it knows where the slots are.
            LedgerHealth::Connecting => return Claim::Busy { retry_in: None },
            _ => {}
        }
        if !local.pending {
            local.pending = true;
            let id = local.next_lease;
            local.next_lease += 1;
            drop(local);
            inner.send(Op::Claim {
                priority,
                waiting: waiting_interactive,
                id,
            });
        }
        Claim::Busy { retry_in: None }
    }

    fn complete(&self, lease: Lease, hold: Duration) {
        self.inner.local().mine.insert(lease.id, Instant::now() + hold);
        self.inner.send(Op::Complete { id: lease.id, hold });
    }

    fn cooled(&self, lease: Lease) {
        let mut local = self.inner.local();
        if local
            .mine
            .get(&lease.id)
            .is_some_and(|until| *until <= Instant::now())
        {
            local.mine.remove(&lease.id);
        }
    }

    fn cancel(&self, lease: Lease) {
        self.inner.local().mine.remove(&lease.id);
        self.inner.send(Op::Cancel { id: lease.id });
    }

    fn rate_limited(&self, lease: Lease, floor: u32) {
        {
            // Known here at once (and in fallback, only here); Redis learns it from the task.
            let mut local = self.inner.local();
            let rejection = Rejection {
                seq: lease.seq,
                occupancy: lease.occupancy,
                floor,
            };
            let now = local.rate.changed_at;
            local.rate.rejected(&self.inner.rules, rejection, now);
        }
        self.inner.send(Op::RateLimited { lease, floor });
    }

    fn effective_rate(&self) -> u32 {
        let local = self.inner.local();
        match self.inner.health() {
            LedgerHealth::Fallback => self.inner.share(&local),
            _ => local.rate.effective(&self.inner.rules),
        }
    }

    fn waiting(&self, waiting_interactive: u32) {
        self.inner.send(Op::Waiting(waiting_interactive));
    }

    fn set_waker(&self, waker: Waker) {
        *self.inner.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(waker);
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn other_processes(&self) -> u32 {
        self.inner.others.load(Ordering::Relaxed)
    }

    fn health(&self) -> LedgerHealth {
        self.inner.health()
    }
}

impl Drop for RedisLedger {
    fn drop(&mut self) {
        // Leaving: the waker (a governor that is going away) is dropped; the task ends when the
        // last sender goes. Leases in flight keep their deadlines in Redis.
        *self.inner.waker.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

struct Scripts {
    claim: Script,
    complete: Script,
    cancel: Script,
    waiting: Script,
    rejected: Script,
    init: Script,
    rejoin: Script,
}

impl Scripts {
    fn new() -> Scripts {
        Scripts {
            claim: Script::new(CLAIM_LUA),
            complete: Script::new(COMPLETE_LUA),
            cancel: Script::new("return redis.call('ZREM', KEYS[1], ARGV[1])"),
            waiting: Script::new(WAITING_LUA),
            rejected: Script::new(REJECTED_LUA),
            init: Script::new(INIT_LUA),
            rejoin: Script::new(REJOIN_LUA),
        }
    }
}

/// What a claim script answered.
enum Reply {
    Granted { seq: u64, occupancy: u32, epoch: String },
    Busy { retry: Duration, epoch: String },
    NoEpoch,
}

/// The client task (see the module doc).
struct Task {
    inner: Weak<Inner>,
    client: redis::Client,
    conn: Option<MultiplexedConnection>,
    /// The epoch this process last saw.
    epoch: Option<String>,
    /// A failure was logged (log once per outage).
    failing: bool,
    scripts: Scripts,
}

#[derive(Debug)]
struct Failed(String);

impl From<redis::RedisError> for Failed {
    fn from(e: redis::RedisError) -> Failed {
        // The error's text names the server, never the password.
        Failed(format!("{:?}: {}", e.kind(), e.detail().unwrap_or("")))
    }
}

async fn io<T>(f: impl Future<Output = Result<T, Failed>>) -> Result<T, Failed> {
    tokio::time::timeout(IO_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| Err(Failed("timed out".into())))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Op>) {
        let mut wake_at: Option<Instant> = None;
        let mut reconnect_at: Option<Instant> = Some(Instant::now());
        loop {
            let op = tokio::select! {
                op = rx.recv() => match op {
                    Some(op) => op,
                    None => return, // the ledger is gone
                },
                _ = sleep_until(wake_at) => {
                    wake_at = None;
                    let Some(inner) = self.inner.upgrade() else { return };
                    inner.wake();
                    continue;
                }
                _ = sleep_until(reconnect_at) => {
                    reconnect_at = None;
                    let Some(inner) = self.inner.upgrade() else { return };
                    if let Err(e) = self.rejoin(&inner).await {
                        self.failed(&inner, &e);
                        reconnect_at = Some(Instant::now() + RECONNECT_EVERY);
                    }
                    continue;
                }
            };
            let Some(inner) = self.inner.upgrade() else { return };
            if inner.health() != LedgerHealth::Shared {
                // Connecting or in fallback: claims are answered locally; the others wait for
                // the rejoin, which adds this process's live leases.
                if let Op::Claim { .. } = op {
                    inner.local().pending = false;
                    inner.wake();
                }
                continue;
            }
            let result = match op {
                Op::Claim {
                    priority,
                    waiting,
                    id,
                } => self.claim(&inner, priority, waiting, id).await.map(|retry| {
                    if let Some(retry) = retry {
                        let at = Instant::now() + retry;
                        wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
                    }
                }),
                Op::Complete { id, hold } => self.complete(&inner, id, hold).await,
                Op::Cancel { id } => self.cancel(&inner, id).await,
                Op::RateLimited { lease, floor } => self.rejected(&inner, lease, floor).await,
                Op::Waiting(n) => self.waiting(&inner, n).await,
            };
            if let Err(e) = result {
                self.failed(&inner, &e);
                reconnect_at = Some(Instant::now() + RECONNECT_EVERY);
            }
        }
    }

    /// Redis failed: fall back to the local share, and let waiters be served from it.
    fn failed(&mut self, inner: &Inner, e: &Failed) {
        self.conn = None;
        if !self.failing {
            self.failing = true;
            tracing::warn!(keys = %inner.keys.prefix, error = %e.0,
                "slot ledger on Redis unreachable; using half the key's rate locally until it is back");
        }
        {
            let mut local = inner.local();
            inner.fall_back(&mut local);
            local.pending = false;
        }
        inner.set_health(LedgerHealth::Fallback);
        inner.wake();
    }

    async fn conn(&mut self) -> Result<MultiplexedConnection, Failed> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(IO_TIMEOUT))
            .set_response_timeout(Some(IO_TIMEOUT));
        let conn = io(async {
            Ok(self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?)
        })
        .await?;
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    /// Connects, makes sure there is an epoch, adds this process's live leases, and returns to
    /// the shared slots.
    async fn rejoin(&mut self, inner: &Inner) -> Result<(), Failed> {
        let mut conn = self.conn().await?;
        let epoch: Option<String> = io(async {
            Ok(redis::cmd("GET")
                .arg(inner.keys.key("epoch"))
                .query_async(&mut conn)
                .await?)
        })
        .await?;
        let epoch = match epoch {
            Some(epoch) => epoch,
            None => self.start_epoch(inner).await?,
        };
        self.push_mine(inner, &epoch).await?;
        self.epoch = Some(epoch);
        if self.failing {
            tracing::info!(keys = %inner.keys.prefix, "slot ledger on Redis reachable again");
        }
        self.failing = false;
        inner.local().fallback = None;
        inner.set_health(LedgerHealth::Shared);
        inner.wake();
        Ok(())
    }

    /// No epoch in Redis: start one, every slot taken for one lease plus hold if leases may have
    /// been lost (see the module doc). Returns the epoch now in Redis.
    async fn start_epoch(&mut self, inner: &Inner) -> Result<String, Failed> {
        let mut conn = self.conn().await?;
        let full = inner.lease + inner.hold;
        let phantoms = if self.epoch.is_some() {
            full
        } else {
            // Never connected: only a restart moments ago can have lost leases, and every live
            // client of the old epoch rejoins (adding its leases) within a reconnect or two.
            let info: String =
                io(async { Ok(redis::cmd("INFO").arg("server").query_async(&mut conn).await?) }).await?;
            let uptime = info
                .lines()
                .find_map(|l| l.strip_prefix("uptime_in_seconds:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(Duration::ZERO);
            (RECONNECT_EVERY * 2 + IO_TIMEOUT + inner.hold).saturating_sub(uptime)
        };
        let new_epoch = format!("{:016x}", rand::random::<u64>());
        let [epoch_key, leases, _, _, _] = inner.keys.slots();
        let stored: String = io(async {
            Ok(self
                .scripts
                .init
                .key(&epoch_key)
                .key(&leases)
                .arg(&new_epoch)
                .arg(micros(phantoms))
                .arg(inner.rules.profile)
                .arg(KEY_TTL.as_millis() as u64)
                .invoke_async(&mut conn)
                .await?)
        })
        .await?;
        if stored == new_epoch && !phantoms.is_zero() {
            tracing::warn!(keys = %inner.keys.prefix, hold_ms = phantoms.as_millis() as u64,
                "slot ledger on Redis was empty (restarted?): every slot counts as taken for one lease and window");
        }
        Ok(stored)
    }

    /// Adds this process's live leases to Redis (after a fallback or a new epoch).
    async fn push_mine(&mut self, inner: &Inner, epoch: &str) -> Result<(), Failed> {
        let now = Instant::now();
        let mine: Vec<(u64, u64)> = inner
            .local()
            .mine
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(id, until)| (*id, micros(until.duration_since(now))))
            .collect();
        if mine.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let leases = inner.keys.key("leases");
        let mut invocation = self.scripts.rejoin.key(&leases);
        for (id, remaining) in &mine {
            invocation
                .arg(*remaining)
                .arg(format!("{:016x}:{id}", inner.owner));
        }
        let _: Value = io(async { Ok(invocation.invoke_async(&mut conn).await?) }).await?;
        tracing::debug!(
            epoch,
            leases = mine.len(),
            "added this process's live leases to the Redis ledger"
        );
        Ok(())
    }

    /// One claim; `Ok(Some(retry))` when busy.
    async fn claim(
        &mut self,
        inner: &Inner,
        priority: Priority,
        waiting: u32,
        id: u64,
    ) -> Result<Option<Duration>, Failed> {
        for _ in 0..2 {
            let reply = self.claim_script(inner, priority, waiting, id).await?;
            let (epoch, retry) = match reply {
                Reply::NoEpoch => {
                    let epoch = self.start_epoch(inner).await?;
                    self.push_mine(inner, &epoch).await?;
                    self.epoch = Some(epoch);
                    continue;
                }
                Reply::Granted {
                    seq,
                    occupancy,
                    epoch,
                } => {
                    let lease = Lease { id, seq, occupancy };
                    {
                        let mut local = inner.local();
                        local.pending = false;
                        local.ready = Some(lease);
                        local.mine.insert(id, Instant::now() + inner.lease + inner.hold);
                    }
                    inner.wake();
                    // Nobody took it (the waiter left): hand it back at once.
                    let unclaimed = {
                        let mut local = inner.local();
                        match local.ready {
                            Some(l) if l.id == id => {
                                local.ready = None;
                                local.mine.remove(&id);
                                true
                            }
                            _ => false,
                        }
                    };
                    if unclaimed {
                        self.cancel(inner, id).await?;
                    }
                    (epoch, None)
                }
                Reply::Busy { retry, epoch } => {
                    inner.local().pending = false;
                    (epoch, Some(retry))
                }
            };
            if self.epoch.as_deref() != Some(epoch.as_str()) {
                // A new epoch since we last looked: our live leases are not in it.
                let first = self.epoch.is_none();
                self.epoch = Some(epoch.clone());
                if !first {
                    self.push_mine(inner, &epoch).await?;
                }
            }
            return Ok(retry);
        }
        Err(Failed("no epoch after starting one".into()))
    }

    async fn claim_script(
        &mut self,
        inner: &Inner,
        priority: Priority,
        waiting: u32,
        id: u64,
    ) -> Result<Reply, Failed> {
        let mut conn = self.conn().await?;
        let keys = inner.keys.slots();
        let rules = &inner.rules;
        let mut invocation = self.scripts.claim.prepare_invoke();
        for k in &keys {
            invocation.key(k);
        }
        invocation
            .arg(format!("{:016x}:{id}", inner.owner))
            .arg(format!("{:016x}", inner.owner))
            .arg(priority as u8)
            .arg(waiting)
            .arg(rules.profile)
            .arg(micros(rules.probe_every))
            .arg(micros(inner.lease))
            .arg(micros(inner.hold))
            .arg(micros(MARKER_TTL))
            .arg(micros(DEFER_RECHECK))
            .arg(KEY_TTL.as_millis() as u64);
        let reply: Vec<Value> = io(async { Ok(invocation.invoke_async(&mut conn).await?) }).await?;
        let kind = reply.first().and_then(text).unwrap_or_default();
        if kind == "noepoch" {
            return Ok(Reply::NoEpoch);
        }
        let field = |i: usize| reply.get(i).and_then(int);
        let bad = || Failed("unexpected reply from the claim script".into());
        let (Some(a), Some(live), Some(rate), Some(others), Some(epoch)) = (
            field(1),
            field(2),
            field(3),
            field(4),
            reply.get(5).and_then(text),
        ) else {
            return Err(bad());
        };
        {
            let mut local = inner.local();
            local.last_live = u32::try_from(live).unwrap_or(u32::MAX);
            let rate = u32::try_from(rate).unwrap_or(1);
            if local.rate.rate != rate {
                local.rate.rate = rate;
                local.rate.how = RateChange::Decreased;
            }
        }
        inner
            .others
            .store(u32::try_from(others).unwrap_or(0), Ordering::Relaxed);
        match kind.as_str() {
            "granted" => Ok(Reply::Granted {
                seq: u64::try_from(a).unwrap_or(0),
                occupancy: field(2).and_then(|o| u32::try_from(o).ok()).unwrap_or(u32::MAX),
                epoch,
            }),
            "busy" => Ok(Reply::Busy {
                retry: Duration::from_micros(u64::try_from(a).unwrap_or(1000).max(1000)),
                epoch,
            }),
            _ => Err(bad()),
        }
    }

    async fn complete(&mut self, inner: &Inner, id: u64, hold: Duration) -> Result<(), Failed> {
        let mut conn = self.conn().await?;
        let leases = inner.keys.key("leases");
        let _: Value = io(async {
            Ok(self
                .scripts
                .complete
                .key(&leases)
                .arg(format!("{:016x}:{id}", inner.owner))
                .arg(micros(hold))
                .invoke_async(&mut conn)
                .await?)
        })
        .await?;
        Ok(())
    }

    async fn cancel(&mut self, inner: &Inner, id: u64) -> Result<(), Failed> {
        let mut conn = self.conn().await?;
        let leases = inner.keys.key("leases");
        let _: Value = io(async {
            Ok(self
                .scripts
                .cancel
                .key(&leases)
                .arg(format!("{:016x}:{id}", inner.owner))
                .invoke_async(&mut conn)
                .await?)
        })
        .await?;
        Ok(())
    }

    async fn waiting(&mut self, inner: &Inner, n: u32) -> Result<(), Failed> {
        let mut conn = self.conn().await?;
        let [_, _, mexp, mcount, _] = inner.keys.slots();
        let _: Value = io(async {
            Ok(self
                .scripts
                .waiting
                .key(&mexp)
                .key(&mcount)
                .arg(format!("{:016x}", inner.owner))
                .arg(n)
                .arg(micros(MARKER_TTL))
                .invoke_async(&mut conn)
                .await?)
        })
        .await?;
        Ok(())
    }

    async fn rejected(&mut self, inner: &Inner, lease: Lease, floor: u32) -> Result<(), Failed> {
        let mut conn = self.conn().await?;
        let rate_key = inner.keys.key("rate");
        let reply: Vec<i64> = io(async {
            Ok(self
                .scripts
                .rejected
                .key(&rate_key)
                .arg(lease.seq)
                .arg(lease.occupancy)
                .arg(floor)
                .arg(inner.rules.profile)
                .invoke_async(&mut conn)
                .await?)
        })
        .await?;
        if let (Some(&changed), Some(&rate)) = (reply.first(), reply.get(1)) {
            let mut local = inner.local();
            local.rate.rate = u32::try_from(rate).unwrap_or(1).max(1);
            if changed == 1 {
                local.rate.how = RateChange::Decreased;
                tracing::warn!(keys = %inner.keys.prefix, rate, "the key's rate was lowered for every client of the Redis ledger");
            }
        }
        Ok(())
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// KEYS: epoch, leases, mexp, mcount, rate. ARGV: member, owner, priority (0 interactive),
/// waiting, profile, probe_every, lease, hold, marker_ttl, defer (µs), key ttl (ms).
/// Returns {'granted', seq, occupancy, rate, others, epoch} | {'busy', retry_us, live, rate,
/// others, epoch} | {'noepoch'}.
const CLAIM_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {'noepoch'} end
local member, owner = ARGV[1], ARGV[2]
local priority, waiting, profile = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local probe_every, lease, hold = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local marker_ttl, defer, ttl = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, o in ipairs(gone) do redis.call('HDEL', KEYS[4], o) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local r = redis.call('HMGET', KEYS[5], 'rate', 'how', 'changed_at', 'decreased_seq', 'seq')
local rate, how, changed_at, dseq, seq
local changed = false
if r[1] then
  rate, how, changed_at, dseq, seq = tonumber(r[1]), tonumber(r[2]), tonumber(r[3]), tonumber(r[4]), tonumber(r[5])
else
  rate, how, changed_at, dseq, seq = profile, 0, now, 0, 0
  changed = true
end
if rate < profile and now - changed_at >= probe_every then
  rate, how, changed_at, changed = rate + 1, 2, now, true
end
local eff = math.max(1, math.min(rate, profile))
local live = redis.call('ZCARD', KEYS[2])
local free = eff - live
local foreign = 0
local owners = {}
local counts = redis.call('HGETALL', KEYS[4])
for i = 1, #counts, 2 do
  if counts[i] ~= owner then
    foreign = foreign + tonumber(counts[i + 1])
    owners[counts[i]] = true
  end
end
local held = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, m in ipairs(held) do
  local o = string.match(m, '^([^:]+):')
  if o and o ~= owner and o ~= 'phantom' then owners[o] = true end
end
local others = 0
for _ in pairs(owners) do others = others + 1 end
local needed = 1
if priority ~= 0 then needed = foreign + 1 end
local result
if free >= needed then
  redis.call('ZADD', KEYS[2], now + lease + hold, member)
  seq = seq + 1
  changed = true
  if priority == 0 and waiting > 0 then waiting = waiting - 1 end
  result = {'granted', seq, live + 1, eff, others, epoch}
else
  local nxt = now + hold
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] and tonumber(first[2]) < nxt then nxt = tonumber(first[2]) end
  if free > 0 then
    nxt = math.min(nxt, now + defer)
    local m = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
    for i = 1, #m, 2 do
      if m[i] ~= owner then nxt = math.min(nxt, tonumber(m[i + 1])) end
    end
  end
  result = {'busy', math.max(nxt - now, 1000), live, eff, others, epoch}
end
if waiting > 0 then
  redis.call('HSET', KEYS[4], owner, waiting)
  redis.call('ZADD', KEYS[3], now + marker_ttl, owner)
else
  redis.call('HDEL', KEYS[4], owner)
  redis.call('ZREM', KEYS[3], owner)
end
if changed then
  redis.call('HSET', KEYS[5], 'rate', rate, 'how', how, 'changed_at', changed_at, 'decreased_seq', dseq, 'seq', seq)
end
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
return result
"#;

/// KEYS: leases. ARGV: member, hold (µs). The lease's slot is held until now + hold (added
/// again if it was pruned or lost: the window still counts).
const COMPLETE_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
"#;

/// KEYS: mexp, mcount. ARGV: owner, waiting, marker ttl (µs).
const WAITING_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
"#;

/// KEYS: rate. ARGV: seq, occupancy, floor, profile. RateState::rejected in Lua.
/// Returns {changed (0/1), rate}.
const REJECTED_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local r = redis.call('HMGET', KEYS[1], 'rate', 'how', 'changed_at', 'decreased_seq', 'seq')
local profile = tonumber(ARGV[4])
local rate, how, dseq, seq = profile, 0, 0, 0
if r[1] then rate, how, dseq, seq = tonumber(r[1]), tonumber(r[2]), tonumber(r[4]), tonumber(r[5]) end
local eff = math.max(1, math.min(rate, profile))
local lseq, occ, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local stale = lseq <= dseq
if not (stale or floor < eff) then floor = 0 end
local estimate = math.max(occ - 1, floor)
local new
if stale then
  new = math.min(eff, estimate)
else
  new = math.min(estimate, eff - 1)
  if how == 1 then new = math.min(new, math.max(math.floor(eff * 3 / 4), floor)) end
end
new = math.max(new, 1)
if new < eff then
  redis.call('HSET', KEYS[1], 'rate', new, 'how', 1, 'changed_at', now, 'decreased_seq', seq, 'seq', seq)
  return {1, new}
end
return {0, eff}
"#;

/// KEYS: epoch, leases. ARGV: new epoch, phantoms (µs, 0 = none), slots, key ttl (ms).
/// Returns the epoch now stored.
const INIT_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  local phantoms = tonumber(ARGV[2])
  if phantoms > 0 then
    for i = 1, tonumber(ARGV[3]) do
      redis.call('ZADD', KEYS[2], now + phantoms, 'phantom:' .. i)
    end
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return redis.call('GET', KEYS[1])
"#;

/// KEYS: leases. ARGV: pairs of (remaining µs, member): each lease live until now + remaining,
/// or later if Redis already has it later.
const REJOIN_LUA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #ARGV, 2 do
  local deadline = now + tonumber(ARGV[i])
  local cur = redis.call('ZSCORE', KEYS[1], ARGV[i + 1])
  if not cur or tonumber(cur) < deadline then
    redis.call('ZADD', KEYS[1], deadline, ARGV[i + 1])
  end
end
return 1
"#;
