//! Delivery: a trigger goes to every browser (through the hub) and to its condition's webhook.
//! A trigger normally reaches here once it is stored (see [`super::evaluator`]), so a delivery that
//! fails or is cut short by a shutdown leaves it in the store, where a browser's `resume` finds it.
//! One the store could not take is delivered at once all the same, unstored (no id), and again to
//! the browsers once the backlog has stored it ([`super::backlog`]).
//!
//! * **Browsers**: [`Delivery::forward_to_hub`] runs as one task for the service. It forwards each
//!   [`TriggerEvent`] from the broadcast in order: stored triggers by id, each once, re-reading the
//!   store after the last forwarded id when the broadcast lagged (and asking the backlog which
//!   triggers are still unstored), so no trigger is lost between the store and the hub.
//! * **Webhooks**: posted through [`Outbound`] (the outgoing-URL policy: public addresses only
//!   unless `--allow-private-webhooks`, no redirects, timeouts, a capped answer) from tasks of their
//!   own, with retries and backoff for failures that may pass, so a slow or dead endpoint never
//!   holds up evaluation. A webhook gets each trigger once, when it is first delivered: an unstored
//!   trigger is posted with `"persisted": false` and `"id": null` and not posted again once stored
//!   (a receiver cannot tell a second post from a second trigger; the alert is what is urgent).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::contract::{Fired, Trigger, UnstoredTrigger};
use crate::hub::Hub;
use crate::outbound::Outbound;
use crate::store::Store;
use crate::tasks::Tasks;

/// Webhook attempts in all (1 s, 2 s, 4 s … between them).
const WEBHOOK_ATTEMPTS: u32 = 4;

/// What a webhook receives: the trigger as stored, or as delivered before it could be.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Body {
    Stored(Trigger),
    Unstored(UnstoredTrigger),
}

/// What happened to a trigger, in the order it happened.
#[derive(Debug, Clone)]
pub enum TriggerEvent {
    /// Stored (at once, or from the backlog once the store wrote again).
    Stored(Arc<Trigger>),
    /// Delivered before it could be stored. `kept`: the backlog holds it and will store it;
    /// `false` when the backlog was full (it will never be stored).
    Unstored { trigger: Arc<Fired>, kept: bool },
    /// A held trigger the backlog will not store after all (already stored, or refused): by key.
    Settled(String),
}

/// Where triggers go. Cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    events: broadcast::Sender<TriggerEvent>,
    outbound: Outbound,
    webhooks_failed: Arc<AtomicU64>,
    tasks: Tasks,
}

impl Delivery {
    pub fn new(tasks: Tasks, outbound: Outbound) -> Delivery {
        Delivery {
            events: broadcast::channel(1024).0,
            outbound,
            webhooks_failed: Arc::new(AtomicU64::new(0)),
            tasks,
        }
    }

    /// Triggers as they are delivered and stored.
    pub fn subscribe(&self) -> broadcast::Receiver<TriggerEvent> {
        self.events.subscribe()
    }

    /// Webhook deliveries that failed after every attempt (or were refused).
    pub fn webhooks_failed(&self) -> u64 {
        self.webhooks_failed.load(Ordering::Relaxed)
    }

    /// Tells everyone about a trigger stored at once.
    pub fn deliver(&self, row: &Trigger, webhook: Option<String>) {
        let _ = self.events.send(TriggerEvent::Stored(Arc::new(row.clone())));
        if let Some(url) = webhook {
            self.post(url, Body::Stored(row.clone()));
        }
    }

    /// Tells everyone about a trigger the store could not take (yet).
    pub fn deliver_unstored(&self, trigger: Arc<Fired>, kept: bool, webhook: Option<String>) {
        let body = Body::Unstored(UnstoredTrigger::new((*trigger).clone()));
        let _ = self.events.send(TriggerEvent::Unstored { trigger, kept });
        if let Some(url) = webhook {
            self.post(url, body);
        }
    }

    /// A held trigger, stored now: to the browsers again, with its id (its webhook had it already).
    pub fn stored_late(&self, row: &Trigger) {
        let _ = self.events.send(TriggerEvent::Stored(Arc::new(row.clone())));
    }

    /// A held trigger the backlog gave up on or found stored already.
    pub fn settle(&self, key: String) {
        let _ = self.events.send(TriggerEvent::Settled(key));
    }

    fn post(&self, url: String, body: Body) {
        let outbound = self.outbound.clone();
        let failed = self.webhooks_failed.clone();
        self.tasks.spawn(async move {
            if !post_webhook(&outbound, &url, &body).await {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    /// Forwards every trigger event to the hub, in order; stored triggers by id, each once.
    /// Subscribes before reading the store's last id, so a trigger stored in between is in the
    /// broadcast; on `Lagged` the store is read after the last forwarded id, and `unstored` (the
    /// backlog's triggers still waiting) re-sent. Runs until the broadcast closes.
    pub async fn forward_to_hub(
        self,
        hub: Arc<Hub>,
        store: Store,
        unstored: impl Fn() -> Vec<Arc<Fired>> + Send + 'static,
    ) {
        let mut live = self.subscribe();
        let mut last = match store.last_trigger_id().await {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "no trigger pushes: the store's last trigger id is unreadable");
                return;
            }
        };
        drop(self);
        loop {
            match live.recv().await {
                Ok(TriggerEvent::Stored(row)) => {
                    if row.id > last {
                        last = row.id;
                        hub.publish_trigger(&row);
                    }
                }
                Ok(TriggerEvent::Unstored { trigger, kept }) => {
                    hub.publish_unstored_trigger(&UnstoredTrigger::new((*trigger).clone()), kept);
                }
                Ok(TriggerEvent::Settled(key)) => hub.settle_unstored(&key),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "trigger broadcast lagged: catching up from the store");
                    loop {
                        match store.triggers_after(last).await {
                            Ok(rows) => {
                                for row in rows {
                                    last = row.id;
                                    hub.publish_trigger(&row);
                                }
                                break;
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "catching up triggers from the store failed");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    }
                    // The hub's unstored triggers become the backlog's: missed ones are sent now
                    // (a browser knows them by key), stored ones are no longer replayed.
                    let waiting: Vec<UnstoredTrigger> = unstored()
                        .iter()
                        .map(|t| UnstoredTrigger::new((**t).clone()))
                        .collect();
                    hub.sync_unstored(&waiting);
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// POSTs `body` to `url` through `outbound`, retrying failures that may pass with backoff; `true`
/// once a 2xx came back. A refused destination is not retried. Logs name the destination's host,
/// never its path or query.
pub async fn post_webhook(outbound: &Outbound, url: &str, body: &Body) -> bool {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match outbound.post_json(url, body).await {
            Ok(a) if a.is_success() => return true,
            Ok(a) => tracing::warn!(attempt, status = a.status, "webhook answered with an error"),
            Err(e) if !e.is_transient() => {
                tracing::warn!(error = %e, "webhook not delivered");
                return false;
            }
            Err(e) => tracing::warn!(attempt, error = %e, "webhook failed"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    false
}
