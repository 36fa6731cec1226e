//! Delivery: a trigger goes to every browser (through the hub) and to its condition's alert
//! channels (through the outbox of [`crate::channels`]). A trigger normally reaches here once it is
//! stored with its outbox rows (see [`super::evaluator`]), so a delivery that fails or is cut short
//! by a shutdown leaves it in the store, where a browser's `resume` and the outbox's next start find
//! it. One the store could not take is delivered at once all the same, unstored (no id), and again
//! to the browsers once the backlog has stored it ([`super::backlog`]).
//!
//! * **Browsers**: [`Delivery::forward_to_hub`] runs as one task for the service. It forwards each
//!   [`TriggerEvent`] from the broadcast in order: stored triggers by id, each once, re-reading the
//!   store after the last forwarded id when the broadcast lagged (and asking the backlog which
//!   triggers are still unstored), so no trigger is lost between the store and the hub.
//! * **Channels** (Telegram, Discord, Slack, ntfy, e-mail, webhooks, Web Push): the outbox rows
//!   written with the trigger are handed to the dispatcher ([`Channels::enqueued`]), which sends
//!   them off the evaluation path. An unstored trigger goes to its channels from memory, once
//!   ([`Channels::deliver_unstored`]), and not again once stored (the alert is what is urgent; a
//!   webhook receiver could not tell a second post from a second trigger).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::channels::Channels;
use crate::contract::{Fired, Trigger, UnstoredTrigger};
use crate::hub::Hub;
use crate::store::{OutboxRow, Routed, Store};

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
    channels: Option<Channels>,
}

impl Delivery {
    /// `channels`: the alert channels (none in tests of the hub side alone).
    pub fn new(_tasks: crate::tasks::Tasks, channels: Option<Channels>) -> Delivery {
        Delivery {
            events: broadcast::channel(1024).0,
            channels,
        }
    }

    /// Triggers as they are delivered and stored.
    pub fn subscribe(&self) -> broadcast::Receiver<TriggerEvent> {
        self.events.subscribe()
    }

    /// Tells everyone about a trigger stored at once (with its outbox rows).
    pub fn deliver(&self, row: &Trigger, outbox: &[OutboxRow]) {
        let _ = self.events.send(TriggerEvent::Stored(Arc::new(row.clone())));
        if let Some(c) = &self.channels {
            c.enqueued(outbox);
        }
    }

    /// Tells everyone about a trigger the store could not take (yet).
    pub fn deliver_unstored(&self, trigger: Arc<Fired>, kept: bool, routes: Vec<Routed>) {
        if let Some(c) = &self.channels {
            c.deliver_unstored(trigger.clone(), routes);
        }
        let _ = self.events.send(TriggerEvent::Unstored { trigger, kept });
    }

    /// A held trigger, stored now: to the browsers again, with its id (its channels had it already).
    pub fn stored_late(&self, row: &Trigger) {
        let _ = self.events.send(TriggerEvent::Stored(Arc::new(row.clone())));
    }

    /// A held trigger the backlog gave up on or found stored already.
    pub fn settle(&self, key: String) {
        let _ = self.events.send(TriggerEvent::Settled(key));
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
