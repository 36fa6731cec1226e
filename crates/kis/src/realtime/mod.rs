//! The realtime WebSocket feed: approval, subscriptions, frames, reconnects.

mod approval;

pub use approval::{ApprovalError, ApprovalFuture, ApprovalSource, FixedApproval};
