//! kiswatch's integration tests: one test binary for the crate (each file under `tests/` used to be
//! a binary of its own, and each linked the whole crate: `make test` spent much of its time linking).
//!
//! * `cli*`, `serve_acceptance_cli`: the real `kiswatch` binary as a child process.
//! * `serve_*`: the service started in-process on port 0 (the same `App` the binary runs) against
//!   the simulator, driven through its HTTP API and WebSocket as a browser or a script would.

#![allow(dead_code)]

mod binary;
mod common;
mod fakes;
#[path = "../../../kis/tests/it/redis_server.rs"]
mod redis_server;
mod smtp;

mod cli;
mod cli_channels;
mod cli_keys_redis;
mod cli_shared_budget;
mod cli_store;
mod serve_acceptance;
mod serve_acceptance_cli;
mod serve_api;
mod serve_candles;
mod serve_channels;
mod serve_governor;
mod serve_keys;
mod serve_limits;
mod serve_openapi;
mod serve_realtime;
mod serve_scan;
mod serve_search;
mod serve_security;
mod serve_store;
mod serve_triggers;
mod serve_upstream;
mod serve_webhooks;
mod serve_ws;
mod serve_ws_drop;
