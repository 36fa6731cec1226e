//! Triggers: where a condition becoming true turns into an alert.
//!
//! ```text
//! live::ingest ── trades ──▶ Evaluator (market::TriggerEngine) ── decided ──▶ store (stored first)
//!     ──▶ Delivery ──┬▶ hub (every browser; resumable from the store)
//!                    └▶ the condition's webhook (retried, off the evaluation path)
//! ```
//!
//! * [`evaluator`]: the engine wired to the watchlist, the conditions and their history; decides and
//!   records each trigger (store, then deliver).
//! * [`delivery`]: the stored trigger to the hub and to webhooks.
//! * [`message`]: the trigger's text in Korean and English.
//!
//! The JSON shape of a trigger is [`crate::contract::Trigger`], the same for REST, the WebSocket and
//! webhooks. [`TriggerService`] is the handle the API holds.

pub mod delivery;
pub mod evaluator;
pub mod message;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use market::{Period, StockCode};
use tokio::sync::broadcast;

pub use delivery::Delivery;
pub use evaluator::Evaluator;

use crate::contract::Trigger;
use crate::history::Backfill;
use crate::store::Store;
use crate::tasks::Tasks;
use crate::upstream::StockDirectory;

/// What the API needs of the trigger side: the stream of stored triggers, counters, and which
/// periods of a stock can fire.
pub struct TriggerService {
    delivery: Delivery,
    fired: Arc<AtomicU64>,
    armed: evaluator::Armed,
}

impl TriggerService {
    /// The service and the evaluator it reports on; the evaluator goes to the live ingest task.
    pub fn new(
        store: Store,
        stocks: Arc<StockDirectory>,
        backfill: Option<Arc<Backfill>>,
        tasks: Tasks,
    ) -> (Arc<TriggerService>, Evaluator) {
        let delivery = Delivery::new(tasks);
        let fired = Arc::new(AtomicU64::new(0));
        let armed = Arc::new(RwLock::new(HashSet::new()));
        let evaluator = Evaluator::new(
            store,
            stocks,
            backfill,
            delivery.clone(),
            fired.clone(),
            armed.clone(),
        );
        let service = TriggerService {
            delivery,
            fired,
            armed,
        };
        (Arc::new(service), evaluator)
    }

    /// Where stored triggers go (the hub forwarder subscribes here).
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Triggers as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<Trigger> {
        self.delivery.subscribe()
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

    /// Triggers stored and delivered so far.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }

    /// Webhook deliveries that failed after every attempt.
    pub fn webhooks_failed(&self) -> u64 {
        self.delivery.webhooks_failed()
    }
}
