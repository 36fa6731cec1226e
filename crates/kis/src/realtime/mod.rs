//! The realtime WebSocket feed: approval, subscriptions, frames, reconnects.
//!
//! Parsing lives in [`frame`] (the `flag|TR|count|payload` envelope), [`messages`] (typed records),
//! [`crypto`] (encrypted notices) and [`control`] (JSON acks and PINGPONG).

mod approval;
mod client;
pub mod control;
pub mod crypto;
mod error;
pub(crate) mod fields;
pub mod frame;
pub mod messages;
pub mod reconnect;
mod subscriptions;

pub use approval::{ApprovalError, ApprovalFuture, ApprovalSource, FixedApproval};
pub use client::{RealtimeClient, RealtimeConfig, RealtimeEvent, RealtimeHandle};
pub use error::{ParseError, RealtimeError};
pub use messages::{Execution, ExecutionNotice, Level, Message, NoticeKind, OrderBook, TradeSide};
pub use reconnect::Backoff;
pub use subscriptions::{Channel, MAX_REGISTRATIONS, Registrations, Topic};
