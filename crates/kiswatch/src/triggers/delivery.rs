//! Delivery: a stored trigger goes to every browser (through the hub) and to its condition's
//! webhook. A trigger reaches here only once it is stored (see [`super::evaluator`]), so a delivery
//! that fails or is cut short by a shutdown leaves the trigger in the store, where a browser's
//! `resume` finds it.
//!
//! * **Browsers**: [`Delivery::forward_to_hub`] runs as one task for the service. It forwards each
//!   stored trigger from the broadcast, in id order, each once, and re-reads the store after the last
//!   forwarded id when the broadcast lagged, so no trigger is lost between the store and the hub.
//! * **Webhooks**: posted through [`Outbound`] (the outgoing-URL policy: public addresses only
//!   unless `--allow-private-webhooks`, no redirects, timeouts, a capped answer) from tasks of their
//!   own, with retries and backoff for failures that may pass, so a slow or dead endpoint never
//!   holds up evaluation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::contract::Trigger;
use crate::hub::Hub;
use crate::outbound::Outbound;
use crate::store::{Store, TriggerRow};
use crate::tasks::Tasks;

/// Webhook attempts in all (1 s, 2 s, 4 s … between them).
const WEBHOOK_ATTEMPTS: u32 = 4;

/// Where stored triggers go. Cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    events: broadcast::Sender<TriggerRow>,
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

    /// Triggers as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<TriggerRow> {
        self.events.subscribe()
    }

    /// Webhook deliveries that failed after every attempt (or were refused).
    pub fn webhooks_failed(&self) -> u64 {
        self.webhooks_failed.load(Ordering::Relaxed)
    }

    /// Tells everyone about a stored trigger.
    pub fn deliver(&self, row: &TriggerRow, webhook: Option<String>) {
        let _ = self.events.send(row.clone());
        if let Some(url) = webhook {
            let outbound = self.outbound.clone();
            let failed = self.webhooks_failed.clone();
            let body = Trigger::from(row);
            self.tasks.spawn(async move {
                if !post_webhook(&outbound, &url, &body).await {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }

    /// Forwards every stored trigger to the hub, in id order, each once. Subscribes before reading
    /// the store's last id, so a trigger stored in between is in the broadcast; on `Lagged` the store
    /// is read after the last forwarded id. Runs until the broadcast closes.
    pub async fn forward_to_hub(self, hub: Arc<Hub>, store: Store) {
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
                Ok(row) => {
                    if row.id > last {
                        last = row.id;
                        hub.publish_trigger(&Trigger::from(&row));
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "trigger broadcast lagged: catching up from the store");
                    loop {
                        match store.triggers_after(last).await {
                            Ok(rows) => {
                                for row in rows {
                                    last = row.id;
                                    hub.publish_trigger(&Trigger::from(&row));
                                }
                                break;
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "catching up triggers from the store failed");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// POSTs `body` to `url` through `outbound`, retrying failures that may pass with backoff; `true`
/// once a 2xx came back. A refused destination is not retried. Logs name the destination's host,
/// never its path or query.
pub async fn post_webhook(outbound: &Outbound, url: &str, body: &Trigger) -> bool {
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
