//! kiswatch, the application library.
//!
//! The realtime core (issue 12), written before `serve` exists on this branch and wired into it later:
//!
//! * [`planner`]: which stocks get the 41 KIS realtime registrations, which are polled over REST and
//!   when, and each stock's `realtime` / `polled` / `stale` status.
//! * [`hub`]: live state per stock from the realtime feed, the browser WebSocket protocol, per-client
//!   outbound queues that coalesce market data and never drop a trigger, the subscription registry
//!   that feeds the planner, and the gap-repair plan after a reconnect.
//!
//! Both are pure or in-memory (no sockets, no clock reads): the service owns the I/O and passes the
//! time in, so every rule here is tested without a network.

pub mod hub;
pub mod planner;
