//! 조건검색 across the whole market (issue 22): the universe of a market-scope condition, from the
//! stock master's listings and the condition's `filters`.
//!
//! The evaluation itself is `market::scan::MarketScan` (no I/O); [`service`] sweeps the market,
//! backfills the universe's daily history and keeps the result sets and 편입/이탈 events.

pub mod backtest;
pub mod service;
pub mod universe;

pub use service::ScanService;
