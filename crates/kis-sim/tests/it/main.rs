//! The kis-sim crate's one integration-test binary (`cargo test -p kis-sim --test it`).
//!
//! Each module here used to be its own `tests/NAME.rs`, which Cargo builds as a separate crate that
//! links `kis-sim`, axum, reqwest and tokio-tungstenite again: one link per file on every change to
//! the library. As modules of one binary they are compiled and linked once. A new integration test
//! is a new module here, not a new file directly under `tests/`; `cargo test -p kis-sim --test it
//! stylized_facts` runs one module's tests.
//!
//! One binary is one process for every module, with tests of different modules running in
//! parallel: a test changes no process-wide state (environment variables, the current directory, a
//! global subscriber); each simulator listens on its own port (`127.0.0.1:0`).

mod common;

mod auth;
mod client_compat;
mod conformance;
mod control;
mod endpoints;
mod guard;
mod market_wide;
mod master;
mod model_props;
mod model_scenarios;
mod rate_limit;
mod stylized_facts;
mod websocket;
