//! The realtime sessions of an upstream: one KIS WebSocket session per app key, 41 registrations
//! each, seen by the rest of the service as one session with 41 × keys registrations.
//!
//! ```text
//! key 1 session ─┐                                   ┌─ subscribe: the session already holding the
//! key 2 session ─┼─▶ merged events ─▶ live::Ingest    │  stock's other topic, else the emptiest
//! key 3 session ─┘                                   └─ unsubscribe: the session holding the topic
//! ```
//!
//! * **Sharding.** [`RealtimeSessions::subscribe_topic`] puts a stock's executions and order book on
//!   the same session when it can (one stock's data arrives in one order), otherwise on the session
//!   with the most free registrations. The planner ([`crate::live::PlannerTask`]) reads
//!   [`RealtimeSessions::capacity`] every round and plans for that many registrations.
//! * **Connection state.** The merged stream says `Connected` once every open session is connected
//!   and passes each drop (`Disconnected`, `ConnectFailed`) and `Reconnected { gap }` on, so the
//!   ingest's gap repair and the upstream state work as with one session.
//! * **A refused key.** A session that drops or cannot connect makes its key answer one REST probe
//!   (at most every [`PROBE_EVERY`]); when KIS refuses the key ([`KeyPool::report`]), or when a REST
//!   call anywhere did, the session is closed at the planner's next look: its registrations vanish
//!   from [`RealtimeSessions::registrations`], capacity drops by 41, and the planner re-homes its
//!   stocks on the other sessions (or polls them when those are full). When KIS accepts the key again
//!   its session is reopened.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kis::Priority;
use kis::realtime::{
    ApprovalSource, MAX_REGISTRATIONS, RealtimeClient, RealtimeConfig, RealtimeError, RealtimeEvent,
    RealtimeHandle, Topic,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::PROBE_CODE;
use super::keys::KeyPool;

/// The least time between two REST probes of one key after its session dropped.
pub const PROBE_EVERY: Duration = Duration::from_secs(10);

/// Events buffered between the sessions and the ingest task.
const MERGED_CAPACITY: usize = 4096;

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct RealtimeSessions {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Arc<KeyPool>,
    /// One per key, in key order.
    sessions: Vec<Mutex<Session>>,
    events: mpsc::Sender<RealtimeEvent>,
}

struct Session {
    /// `None` while closed (its key refused).
    handle: Option<RealtimeHandle>,
    connected: bool,
    last_probe: Option<Instant>,
}

impl std::fmt::Debug for RealtimeSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeSessions")
            .field("sessions", &self.inner.sessions.len())
            .finish()
    }
}

fn lock(session: &Mutex<Session>) -> std::sync::MutexGuard<'_, Session> {
    session.lock().unwrap_or_else(|p| p.into_inner())
}

/// Which stock a topic is about (its key: the code for stock topics).
fn stock_of(topic: &Topic) -> &str {
    &topic.key
}

impl RealtimeSessions {
    /// Opens a session for every key; their events arrive merged on the returned receiver.
    pub fn open(keys: Arc<KeyPool>) -> (RealtimeSessions, mpsc::Receiver<RealtimeEvent>) {
        let (events, merged) = mpsc::channel(MERGED_CAPACITY);
        let sessions = keys
            .keys()
            .iter()
            .map(|_| {
                Mutex::new(Session {
                    handle: None,
                    connected: false,
                    last_probe: None,
                })
            })
            .collect();
        let me = RealtimeSessions {
            inner: Arc::new(Inner {
                keys,
                sessions,
                events,
            }),
        };
        for i in 0..me.inner.sessions.len() {
            me.connect(i);
        }
        (me, merged)
    }

    /// How many sessions are open now (one per usable key).
    pub fn open_sessions(&self) -> usize {
        self.inner
            .sessions
            .iter()
            .filter(|s| lock(s).handle.is_some())
            .count()
    }

    fn connect(&self, i: usize) {
        let key = &self.inner.keys.keys()[i];
        let config = RealtimeConfig::new(key.client.environment().ws_url());
        let approval: Arc<dyn ApprovalSource> = key.client.tokens().clone();
        let (handle, events) = RealtimeClient::connect(config, approval);
        {
            let mut s = lock(&self.inner.sessions[i]);
            s.handle = Some(handle.clone());
            s.connected = false;
        }
        tokio::spawn(self.clone().forward(i, handle, events));
    }

    /// Passes session `i`'s events on until it closes.
    async fn forward(self, i: usize, handle: RealtimeHandle, mut events: mpsc::Receiver<RealtimeEvent>) {
        while let Some(event) = events.recv().await {
            if !self.is_current(i, &handle) {
                return;
            }
            let event = match event {
                RealtimeEvent::Connected => {
                    lock(&self.inner.sessions[i]).connected = true;
                    if !self.all_connected() {
                        continue;
                    }
                    RealtimeEvent::Connected
                }
                e @ (RealtimeEvent::Disconnected { .. } | RealtimeEvent::ConnectFailed { .. }) => {
                    lock(&self.inner.sessions[i]).connected = false;
                    self.probe(i);
                    e
                }
                e => e,
            };
            if self.inner.events.send(event).await.is_err() {
                return;
            }
        }
    }

    /// Whether `handle` is still session `i`'s (a closed or replaced session's events are dropped).
    fn is_current(&self, i: usize, handle: &RealtimeHandle) -> bool {
        lock(&self.inner.sessions[i])
            .handle
            .as_ref()
            .is_some_and(|h| h.same_session(handle))
    }

    fn all_connected(&self) -> bool {
        self.inner.sessions.iter().all(|s| {
            let s = lock(s);
            s.handle.is_none() || s.connected
        })
    }

    /// Asks KIS, over REST, whether session `i`'s key is still accepted (at most every
    /// [`PROBE_EVERY`]); a refusal takes the key out ([`KeyPool::report`]).
    fn probe(&self, i: usize) {
        {
            let mut s = lock(&self.inner.sessions[i]);
            if s.last_probe.is_some_and(|t| t.elapsed() < PROBE_EVERY) {
                return;
            }
            s.last_probe = Some(Instant::now());
        }
        let me = self.clone();
        tokio::spawn(async move {
            let key = &me.inner.keys.keys()[i];
            let code = market::StockCode::parse(PROBE_CODE).expect("the probe code is valid");
            if let Err(e) = key.client.with_priority(Priority::Background).price(code).await
                && me.inner.keys.report(key, &e)
            {
                me.refresh().await;
            }
        });
    }

    /// Closes the sessions of refused keys and reopens those of keys accepted again; returns how many
    /// registrations the open sessions allow together. The planner calls it every round.
    pub async fn capacity(&self) -> usize {
        self.refresh().await;
        self.open_sessions() * MAX_REGISTRATIONS
    }

    async fn refresh(&self) {
        for (i, key) in self.inner.keys.keys().iter().enumerate() {
            let (open, refused) = (
                lock(&self.inner.sessions[i]).handle.is_some(),
                key.refusal().is_some(),
            );
            if open && refused {
                let handle = lock(&self.inner.sessions[i]).handle.take();
                if let Some(h) = handle {
                    tracing::warn!(
                        key = key.number,
                        fingerprint = %key.fingerprint,
                        "closing the realtime session of a refused key: its stocks move to the other keys"
                    );
                    h.close().await;
                }
                if self.all_connected() && self.open_sessions() > 0 {
                    let _ = self.inner.events.send(RealtimeEvent::Connected).await;
                }
            } else if !open && !refused {
                tracing::info!(
                    key = key.number,
                    "reopening the realtime session of a key accepted again"
                );
                self.connect(i);
            }
        }
    }

    fn handles(&self) -> Vec<(usize, RealtimeHandle)> {
        self.inner
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| lock(s).handle.clone().map(|h| (i, h)))
            .collect()
    }

    /// Every registration of the open sessions (acknowledged or pending).
    pub async fn registrations(&self) -> Result<Vec<Topic>, RealtimeError> {
        Ok(self
            .by_session()
            .await?
            .into_iter()
            .flat_map(|(_, _, t)| t)
            .collect())
    }

    /// Each open session's handle and registrations.
    async fn by_session(&self) -> Result<Vec<(usize, RealtimeHandle, BTreeSet<Topic>)>, RealtimeError> {
        let mut out = Vec::new();
        for (i, handle) in self.handles() {
            match handle.registrations().await {
                Ok(topics) => out.push((i, handle, topics.into_iter().collect())),
                // Closed while we asked (a refused key): it holds nothing any more.
                Err(RealtimeError::Closed) => {}
                Err(e) => return Err(e),
            }
        }
        if out.is_empty() && !self.inner.sessions.is_empty() && self.open_sessions() > 0 {
            return Err(RealtimeError::Closed);
        }
        Ok(out)
    }

    /// Registers `topic` on the session holding the same stock's other topic when it has room, else
    /// on the session with the most room.
    pub async fn subscribe_topic(&self, topic: Topic) -> Result<(), RealtimeError> {
        let sessions = self.by_session().await?;
        if let Some((_, h, _)) = sessions.iter().find(|(_, _, t)| t.contains(&topic)) {
            return h.subscribe_topic(topic).await;
        }
        let room = |t: &BTreeSet<Topic>| MAX_REGISTRATIONS.saturating_sub(t.len());
        let sibling = sessions
            .iter()
            .find(|(_, _, t)| room(t) > 0 && t.iter().any(|x| stock_of(x) == stock_of(&topic)));
        let target = sibling.or_else(|| {
            sessions
                .iter()
                .filter(|(_, _, t)| room(t) > 0)
                .max_by_key(|(i, _, t)| (room(t), std::cmp::Reverse(*i)))
        });
        match target {
            Some((_, h, _)) => h.subscribe_topic(topic).await,
            None => Err(RealtimeError::TooManyRegistrations {
                limit: MAX_REGISTRATIONS * sessions.len().max(1),
            }),
        }
    }

    /// Removes `topic` from the session that holds it (nothing to do when none does).
    pub async fn unsubscribe_topic(&self, topic: Topic) -> Result<(), RealtimeError> {
        for (_, h, topics) in self.by_session().await? {
            if topics.contains(&topic) {
                return h.unsubscribe_topic(topic).await;
            }
        }
        Ok(())
    }

    /// Closes every session.
    pub async fn close(&self) {
        let handles: Vec<RealtimeHandle> = self
            .inner
            .sessions
            .iter()
            .filter_map(|s| lock(s).handle.take())
            .collect();
        for h in handles {
            h.close().await;
        }
    }
}
