//! kiswatch, the application: the `serve` service and the CLI subcommands around it. `main.rs` only
//! dispatches to [`cmd`].
//!
//! The modules follow the data flow of `serve`, from where data enters to where it leaves; each
//! module's doc says what it owns, and imports only run from later stages to earlier ones:
//!
//! ```text
//! upstream (KIS or the embedded simulator: client, gateway, stock directory)
//!   ├─▶ history (backfill, daily range)            ─▶ store (SQLite)
//!   └─▶ live (realtime session, polls, gap repair) ─▶ ingest ─┬▶ triggers (evaluate, store, deliver)
//!                                                              └▶ hub (browser fan-out)
//! candles (stored history + live bars) ─┐
//! api (HTTP + WebSocket, typed by contract) ◀── everything above ─▶ browser (web)
//! cmd (serve, sim, quote, backtest): argument parsing, wiring in dependency order, printing
//! ```
//!
//! Shared vocabulary at the bottom: [`config`], [`clock`] (market time), [`status`] (the feed's
//! health), [`contract`] (the JSON the service speaks), [`tasks`] (every background task under one
//! cancellation token), [`outbound`] (requests to destinations saved through the API, and the policy
//! they obey). `docs/design.md` has the map of where each thing lives.

pub mod api;
pub mod candles;
pub mod channels;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod contract;
pub mod demo;
pub mod history;
pub mod hub;
pub mod live;
pub mod outbound;
pub mod scan;
pub mod status;
pub mod store;
pub mod tasks;
pub mod triggers;
pub mod upstream;
pub mod web;

#[cfg(test)]
mod testdata;

pub use cmd::serve::App;
