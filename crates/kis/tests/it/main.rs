//! The kis crate's one integration-test binary (`cargo test -p kis --test it`).
//!
//! Each module here used to be its own `tests/NAME.rs`, which Cargo builds as a separate crate that
//! links `kis`, the simulator, tokio and reqwest again: one link per file on every change to the
//! library. As modules of one binary they are compiled and linked once. A new integration test is a
//! new module here, not a new file directly under `tests/`; `cargo test -p kis --test it
//! governor_processes` runs one module's tests.
//!
//! One binary is one process for every module, with tests of different modules running in
//! parallel: a test changes no process-wide state (environment variables, the current directory, a
//! global subscriber), and each passes its own name to [`common::temp_dir`] (the directory is named
//! by that name and the process id). `governor_processes` and `token_sim` run this binary again as
//! child processes and name the child test by its full path (`MODULE::child_process_entry`).

mod common;

mod governor_adaptive;
mod governor_processes;
mod governor_sim;
mod ledger_redis;
mod master_parse;
mod master_sim;
mod master_universe_sim;
mod product_info_sim;
mod realtime_fake;
mod realtime_props;
mod realtime_samples;
mod realtime_sim;
mod redis_server;
mod rest_sim;
mod samples;
mod scan_sim;
mod token_sim;
