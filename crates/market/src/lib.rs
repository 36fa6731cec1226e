//! The kiswatch domain without I/O: stock codes, KRX rules, KST time, candles, moving averages,
//! the condition language, the trigger engine and backtests.

pub mod code;
pub mod krx;
pub mod time;

pub use code::{CodeError, StockCode};
