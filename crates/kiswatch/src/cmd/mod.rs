//! The subcommands: argument parsing, wiring and printing. The service's parts are built here in
//! dependency order and passed in ([`serve::App::start`]); nothing below reaches back up.

pub mod backtest;
pub mod quote;
pub mod serve;
pub mod sim;
