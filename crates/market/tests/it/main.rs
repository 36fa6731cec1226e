//! The market crate's one integration-test binary (`cargo test -p market --test it`).
//!
//! Each module here used to be its own `tests/NAME.rs`, which Cargo builds as a separate crate that
//! links `market` and its dev-dependencies again: one link per file on every change to the library.
//! As modules of one binary they are compiled and linked once. A new integration test is a new
//! module here, not a new file directly under `tests/`; `cargo test -p market --test it averages`
//! runs one module's tests.
//!
//! proptest keeps its failure seeds for a module in `tests/proptest-regressions/NAME.txt` (its
//! default next to the directory holding `main.rs`).

mod alerts;
mod averages;
mod backtest_report;
mod candles;
mod condition_limits;
mod condition_messages;
mod conditions;
mod replay;
mod triggers;
