//! The realtime hub's core: live state per stock, the browser WebSocket protocol and fan-out, and
//! the gap-repair plan.
//!
//! ```text
//! kis::realtime events ─▶ (service task) ─┬▶ LiveState            ─▶ price / orderbook / executions API
//!                                          ├▶ candles + trigger engine (the service's, same task)
//!                                          └▶ Hub::publish_*       ─▶ Outbox per browser ─▶ /api/v1/ws
//! browser ops ─▶ Hub::handle_text ─▶ Registry ─▶ open pages ─▶ planner::SubscriptionPlanner
//! Reconnected { gap } ─▶ gap::gap_repair_plan ─▶ (service) REST minute bars ─▶ merge, re-evaluate
//! ```
//!
//! * [`live_state`]: last price and change, 10-level order book and latest executions per stock, in
//!   the REST wire types, so a realtime stock costs no REST call.
//! * [`protocol`]: the client ops and server messages of `/api/v1/ws`, with specific errors.
//! * [`queue`]: one client's bounded queue (latest wins for ticks, books, candles; trades batched;
//!   triggers never dropped; a client whose socket stops draining cut off with a reason).
//! * [`registry`]: who watches what, reference-counted per stock.
//! * [`fanout`]: the [`Hub`] tying them together for the service's WebSocket handler.
//! * [`gap`]: which minutes to refetch after a feed gap.
//!
//! The browser side is wired into `serve` by [`crate::api::ws`] (the `/api/v1/ws` route, the
//! store read for `resume`, stored triggers forwarded to [`Hub::publish_trigger`]); the task that
//! reads `RealtimeEvent`s calls the other `publish_*` functions.

pub mod fanout;
pub mod gap;
pub mod live_state;
pub mod protocol;
pub mod queue;
pub mod registry;

#[cfg(test)]
mod testdata;

pub use fanout::{ClientAction, Hub};
pub use live_state::LiveState;
pub use queue::{Outbox, Outgoing, QueueConfig};
pub use registry::{ClientId, Registry};
