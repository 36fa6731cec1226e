//! Delivery: a stored trigger goes to every browser (through the hub) and to its condition's
//! webhook. A trigger reaches here only once it is stored (see [`super::evaluator`]), so a delivery
//! that fails or is cut short by a shutdown leaves the trigger in the store, where a browser's
//! `resume` finds it.
//!
//! * **Browsers**: [`Delivery::forward_to_hub`] runs as one task for the service. It forwards each
//!   stored trigger from the broadcast, in id order, each once, and re-reads the store after the last
//!   forwarded id when the broadcast lagged, so no trigger is lost between the store and the hub.
//! * **Webhooks**: posted from tasks of their own with retries and backoff, so a slow or dead
//!   endpoint never holds up evaluation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::contract::Trigger;
use crate::hub::Hub;
use crate::store::Store;
use crate::tasks::Tasks;

/// Webhook attempts in all (1 s, 2 s, 4 s … between them).
const WEBHOOK_ATTEMPTS: u32 = 4;

/// Where stored triggers go. Cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    events: broadcast::Sender<Trigger>,
    http: reqwest::Client,
    webhooks_failed: Arc<AtomicU64>,
    tasks: Tasks,
}

impl Delivery {
    pub fn new(tasks: Tasks) -> Delivery {
        Delivery {
            events: broadcast::channel(1024).0,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            webhooks_failed: Arc::new(AtomicU64::new(0)),
            tasks,
        }
    }

    /// Triggers as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<Trigger> {
        self.events.subscribe()
    }

    /// Webhook deliveries that failed after every attempt.
    pub fn webhooks_failed(&self) -> u64 {
        self.webhooks_failed.load(Ordering::Relaxed)
    }

    /// Tells everyone about a stored trigger.
    pub fn deliver(&self, row: &Trigger, webhook: Option<String>) {
        let _ = self.events.send(row.clone());
        if let Some(url) = webhook {
            let http = self.http.clone();
            let failed = self.webhooks_failed.clone();
            let body = row.clone();
            self.tasks.spawn(async move {
                if !post_webhook(&http, &url, &body).await {
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
                        hub.publish_trigger(&row);
                    }
                }
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
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// POSTs `body` to `url`, retrying failures with backoff; `true` once a 2xx came back.
pub async fn post_webhook(http: &reqwest::Client, url: &str, body: &Trigger) -> bool {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match http.post(url).json(body).send().await {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => tracing::warn!(
                attempt,
                status = r.status().as_u16(),
                "webhook answered with an error"
            ),
            Err(e) => tracing::warn!(attempt, error = %e.without_url(), "webhook failed"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    false
}
