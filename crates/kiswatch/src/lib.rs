//! kiswatch, the application: the `serve` service (gateway, candle store, backfill, triggers, HTTP API,
//! embedded web UI) and the CLI subcommands around it. `main.rs` only dispatches.
//!
//! The data flow of `serve` (one room per part, see DESIGN.md "Layout"):
//!
//! ```text
//! upstream (KIS or the embedded simulator) ─▶ gateway (TTL caches + single-flight, priorities)
//!     ├─▶ api (HTTP)                          ─▶ browser
//!     ├─▶ backfill ─▶ store (SQLite)          ─▶ candles ─▶ api
//!     └─▶ live (polled executions) ─▶ triggers (engine, store-then-deliver, webhooks)
//! ```

pub mod api;
pub mod backfill;
pub mod backtest;
pub mod backtest_cmd;
pub mod candles;
pub mod clock;
pub mod config;
pub mod demo;
pub mod gateway;
pub mod live;
pub mod quote_cmd;
pub mod serve_cmd;
pub mod sim_cmd;
pub mod stocks;
pub mod store;
pub mod triggers;
pub mod upstream;
pub mod web;

pub use serve_cmd::App;
