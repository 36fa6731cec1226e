//! kiswatch, the application: the `serve` service (gateway, candle store, backfill, triggers, HTTP API,
//! embedded web UI) and the CLI subcommands around it. `main.rs` only dispatches.
//!
//! The data flow of `serve` (one room per part, see docs/design.md):
//!
//! ```text
//! upstream (KIS or the embedded simulator) ─▶ gateway (TTL caches + single-flight, priorities)
//!     ├─▶ api (HTTP)                          ─▶ browser
//!     ├─▶ backfill ─▶ store (SQLite)          ─▶ candles ─▶ api
//!     └─▶ live (polled executions) ─▶ triggers (engine, store-then-deliver, webhooks)
//! ```
//!
//! The realtime core (issue 12) is built and tested but not yet wired into `serve`:
//!
//! * [`planner`]: which stocks get the 41 KIS realtime registrations, which are polled over REST and
//!   when, and each stock's `realtime` / `polled` / `stale` status.
//! * [`hub`]: live state per stock from the realtime feed, the browser WebSocket protocol, per-client
//!   outbound queues that coalesce market data and never drop a trigger, the subscription registry
//!   that feeds the planner, and the gap-repair plan after a reconnect.
//!
//! Both are pure or in-memory (no sockets, no clock reads): the service owns the I/O and passes the
//! time in, so every rule there is tested without a network.

pub mod api;
pub mod backfill;
pub mod backtest;
pub mod backtest_cmd;
pub mod candles;
pub mod clock;
pub mod config;
pub mod demo;
pub mod gateway;
pub mod hub;
pub mod live;
pub mod names;
pub mod planner;
pub mod quote_cmd;
pub mod serve_cmd;
pub mod sim_cmd;
pub mod stocks;
pub mod store;
pub mod triggers;
pub mod upstream;
pub mod web;

pub use serve_cmd::App;
