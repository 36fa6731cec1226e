//! The browser side of realtime: every connected browser, what it subscribed to, and a bounded,
//! coalescing queue per browser that never drops a trigger.
//!
//! ```text
//! live::ingest ── Hub::publish_{execution,order_book,candle,upstream,stock_status} ─┐
//! triggers::delivery ── Hub::publish_trigger (stored triggers, in id order) ─────────┼▶ Outbox per browser ─▶ /api/v1/ws
//! browser ops ─▶ Hub::handle_text ─▶ Registry ─▶ Hub::open_pages / watched ─▶ live::planner
//! ```
//!
//! * [`protocol`]: the client ops and server messages of `/api/v1/ws`, with specific errors.
//! * [`queue`]: one client's bounded queue (latest wins for ticks, books, candles; trades batched;
//!   triggers never dropped; a client whose socket stops draining cut off with a reason).
//! * [`registry`]: who watches what, reference-counted per stock.
//! * [`fanout`]: the [`Hub`] tying them together for the WebSocket handler ([`crate::api::ws`]).
//!
//! The hub knows nothing of where the data comes from: producers push into it, the socket handler
//! drains it. It reads no clock but tokio's, and does no I/O.

pub mod fanout;
pub mod protocol;
pub mod queue;
pub mod registry;

pub use fanout::{ClientAction, Hub};
pub use queue::{Outbox, Outgoing, QueueConfig};
pub use registry::{ClientId, Registry};
