//! The app keys of one upstream: one [`KisClient`] (token, approval key, governor) per key, and the
//! rule that spreads REST work across them.
//!
//! KIS counts every limit per app key (20 requests a second, one WebSocket session of 41
//! registrations), so a service with three keys has three budgets. [`KeyPool::pick`] hands each call
//! to the usable key with the most free capacity *now* (its governor's effective rate minus the slots
//! in flight, cooling and queued), so interactive work keeps its priority on every key (each governor
//! serves interactive waiters first) and a burst spreads over all of them.
//!
//! A key KIS refuses (`EGW00102`–`EGW00105`: deleted, suspended, wrong secret — see
//! [`kis::KisError::is_key_refused`]) is taken out with the reason: [`KeyPool::call`] moves the
//! call to another key at once, the realtime sessions ([`crate::upstream::RealtimeSessions`]) close
//! its session so the planner re-homes its registrations, and health lists it as `refused`. A refused
//! key is tried again after [`RETRY_REFUSED`] (an operator may have fixed it); with every key refused,
//! calls still go out on the least recently refused one, so errors surface instead of hanging.
//!
//! Keys are numbered from 1 (`KIS_APP_KEY_1`, …) and named outside the process only by their
//! fingerprint ([`kis::credentials::KeyFingerprint`]), never by the key.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use kis::credentials::KeyFingerprint;
use kis::{GovernorMetrics, KisClient, KisError, Priority};
use tokio::time::Instant;

/// How long a refused key stays out before one call tries it again.
pub const RETRY_REFUSED: Duration = Duration::from_secs(300);

/// One app key of the pool.
pub struct Key {
    /// 1-based, in the order of the credentials.
    pub number: usize,
    pub client: KisClient,
    pub fingerprint: KeyFingerprint,
    refused: Mutex<Option<Refusal>>,
}

/// Why and since when a key is out.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// KIS's answer (code and message; never the key).
    pub reason: String,
    pub since: Instant,
    /// The wall-clock time of the refusal, for health.
    pub at: jiff::Timestamp,
}

impl Key {
    /// Why the key is out, while it is.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Usable now: never refused, or refused long enough ago to be tried again.
    pub fn usable(&self) -> bool {
        self.refusal().is_none_or(|r| r.since.elapsed() >= RETRY_REFUSED)
    }

    /// Slots the key could hand out now without waiting (negative: a queue).
    fn free(&self) -> i64 {
        let m: GovernorMetrics = self.client.governor_metrics();
        i64::from(m.effective_rate)
            - i64::try_from(m.in_flight + m.cooling + m.queued_interactive + m.queued_background)
                .unwrap_or(i64::MAX)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("number", &self.number)
            .field("fingerprint", &self.fingerprint.to_string())
            .field("refused", &self.refusal().map(|r| r.reason))
            .finish()
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct KeyPool {
    keys: Vec<Key>,
}

impl KeyPool {
    /// `clients` in key order. Panics when empty (an upstream has a key).
    pub fn new(clients: Vec<KisClient>) -> KeyPool {
        assert!(!clients.is_empty(), "an upstream has at least one app key");
        KeyPool {
            keys: clients
                .into_iter()
                .enumerate()
                .map(|(i, client)| Key {
                    number: i + 1,
                    fingerprint: client.key_fingerprint(),
                    client,
                    refused: Mutex::new(None),
                })
                .collect(),
        }
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Key 1: the environment, the master, the market clock are the same on every key.
    pub fn first(&self) -> &Key {
        &self.keys[0]
    }

    /// The keys in use now.
    pub fn usable(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter().filter(|k| k.usable())
    }

    /// Requests a second across the usable keys (at least one key's, so pacing never stops).
    pub fn rate(&self) -> u32 {
        let sum: u32 = self.usable().map(|k| k.client.environment().rate()).sum();
        sum.max(self.first().client.environment().rate())
    }

    /// The usable key with the most free slots now (ties: the lower number); with none usable, the
    /// least recently refused key.
    pub fn pick(&self) -> &Key {
        self.usable()
            .max_by_key(|k| (k.free(), std::cmp::Reverse(k.number)))
            .unwrap_or_else(|| {
                self.keys
                    .iter()
                    .min_by_key(|k| k.refusal().map(|r| r.since))
                    .expect("a pool has a key")
            })
    }

    /// Takes `key` out when `error` says KIS refuses it; true when it did.
    pub fn report(&self, key: &Key, error: &KisError) -> bool {
        if !error.is_key_refused() {
            return false;
        }
        let mut refused = key.refused.lock().unwrap_or_else(|p| p.into_inner());
        if refused.is_none() {
            tracing::warn!(
                key = key.number,
                fingerprint = %key.fingerprint,
                %error,
                "KIS refuses this app key: its work moves to the other keys"
            );
        }
        *refused = Some(Refusal {
            reason: error.to_string(),
            since: Instant::now(),
            at: jiff::Timestamp::now(),
        });
        true
    }

    /// Marks `key` good again after a call on it succeeded.
    fn accepted(&self, key: &Key) {
        let mut refused = key.refused.lock().unwrap_or_else(|p| p.into_inner());
        if refused.take().is_some() {
            tracing::info!(key = key.number, fingerprint = %key.fingerprint, "KIS accepts this app key again");
        }
    }

    /// Runs `call` on the best key at `priority`; a refused key is taken out and the call runs again
    /// on the next, until it succeeds, fails for another reason, or no usable key is left.
    pub async fn call<T, F, Fut>(&self, priority: Priority, call: F) -> Result<T, KisError>
    where
        F: Fn(KisClient) -> Fut,
        Fut: Future<Output = Result<T, KisError>>,
    {
        let mut tried = 0;
        loop {
            let key = self.pick();
            let result = call(key.client.with_priority(priority)).await;
            tried += 1;
            match &result {
                Ok(_) => self.accepted(key),
                Err(e)
                    if self.report(key, e) && tried < self.keys.len() && self.usable().next().is_some() =>
                {
                    continue;
                }
                Err(_) => {}
            }
            return result;
        }
    }
}
