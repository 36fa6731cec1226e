//! 조건검색 across the whole market (issue 22): the universe of a market-scope condition, from the
//! stock master's listings and the condition's `filters`.
//!
//! The evaluation itself is `market::scan::MarketScan` (no I/O). Still to come here: the sweep task
//! (current prices of the universe through `intstock-multprice` at background priority), the
//! universe's daily backfill, the stored result sets and 편입/이탈 events, and their API.

pub mod universe;
