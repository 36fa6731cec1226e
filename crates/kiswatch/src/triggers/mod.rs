//! Triggers: where a condition becoming true turns into an alert.
//!
//! ```text
//! live::ingest ── trades ──▶ Evaluator (market::TriggerEngine) ── decided ──▶ Recorder ──▶ store (stored first)
//!     ──▶ Delivery ──┬▶ hub (every browser; resumable from the store)
//!                    └▶ the condition's webhook (outbound policy, retried, off the evaluation path)
//!   (store failing: Recorder ──▶ Delivery, unstored ──▶ held ──▶ stored when it writes again ──▶ hub)
//! ```
//!
//! * [`evaluator`]: the engine wired to the watchlist, the conditions and their history; decides
//!   each trigger and hands it to the recorder.
//! * [`backlog`]: the [`Recorder`]: store, then deliver; when the store cannot write, deliver
//!   unstored and hold the trigger until it can (none dropped; ids only for stored triggers).
//! * [`delivery`]: triggers to the hub and to webhooks (through [`crate::outbound`]).
//! * [`message`]: the trigger's text in Korean and English.
//!
//! The JSON shape of a trigger is [`crate::contract::Trigger`], the same for REST, the WebSocket and
//! webhooks. [`TriggerService`] is the handle the API holds.

pub mod backlog;
pub mod delivery;
pub mod evaluator;
pub mod message;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use market::{Period, StockCode};
use tokio::sync::broadcast;

pub use backlog::{BacklogStatus, Recorder};
pub use delivery::{Delivery, TriggerEvent};
pub use evaluator::Evaluator;

use crate::history::Backfill;
use crate::hub::Hub;
use crate::outbound::Outbound;
use crate::store::Store;
use crate::tasks::Tasks;
use crate::upstream::StockDirectory;

/// What the API needs of the trigger side: the stream of stored triggers, counters, and which
/// periods of a stock can fire.
pub struct TriggerService {
    delivery: Delivery,
    recorder: Recorder,
    fired: Arc<AtomicU64>,
    armed: evaluator::Armed,
}

impl TriggerService {
    /// The service and the evaluator it reports on; the evaluator goes to the live ingest task.
    /// Starts the backlog's retry task (see [`backlog`]); webhooks go through `outbound`.
    pub fn new(
        store: Store,
        stocks: Arc<StockDirectory>,
        backfill: Option<Arc<Backfill>>,
        tasks: Tasks,
        outbound: Outbound,
    ) -> (Arc<TriggerService>, Evaluator) {
        let delivery = Delivery::new(tasks.clone(), outbound);
        let recorder = Recorder::new(store.clone(), delivery.clone());
        tasks.spawn_finishing(recorder.clone().run(tasks.clone()));
        let fired = Arc::new(AtomicU64::new(0));
        let armed = Arc::new(RwLock::new(HashSet::new()));
        let evaluator = Evaluator::new(
            store,
            stocks,
            backfill,
            recorder.clone(),
            fired.clone(),
            armed.clone(),
        );
        let service = TriggerService {
            delivery,
            recorder,
            fired,
            armed,
        };
        (Arc::new(service), evaluator)
    }

    /// Where triggers go.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Forwards every trigger to the hub (one task for the service; see
    /// [`Delivery::forward_to_hub`]).
    pub fn forward_to_hub(&self, hub: Arc<Hub>, store: Store) -> impl Future<Output = ()> + Send + 'static {
        let recorder = self.recorder.clone();
        self.delivery
            .clone()
            .forward_to_hub(hub, store, move || recorder.waiting())
    }

    /// Triggers as they are delivered and stored.
    pub fn subscribe(&self) -> broadcast::Receiver<TriggerEvent> {
        self.delivery.subscribe()
    }

    /// The triggers held while the store cannot write, and what became of held ones.
    pub fn backlog(&self) -> BacklogStatus {
        self.recorder.status()
    }

    /// The periods on which the stock's conditions can fire now (its history covers MA240 there and
    /// the engine has seen where the conditions stand).
    pub fn armed_periods(&self, code: StockCode) -> Vec<Period> {
        let armed = self.armed.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Period> = armed
            .iter()
            .filter(|(c, _)| *c == code)
            .map(|(_, p)| *p)
            .collect();
        out.sort();
        out
    }

    /// Triggers delivered so far (stored, or held for the store).
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }

    /// Webhook deliveries that failed after every attempt.
    pub fn webhooks_failed(&self) -> u64 {
        self.delivery.webhooks_failed()
    }
}
