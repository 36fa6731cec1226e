//! The kiswatch domain without I/O: stock codes, KRX rules, KST time, candles, moving averages,
//! the condition language, the trigger engine and backtests.

pub mod code;
pub mod krx;
pub mod time;

pub use code::{CodeError, StockCode};

pub mod alignment;
pub mod backtest;
pub mod candle;
pub mod condition;
pub mod ma;
mod prefetch;
pub mod preset;
pub mod ratio;
pub mod scan;
pub mod search;
pub mod series;
pub mod state;
pub mod trade;
pub mod trigger;

pub use alignment::Alignment;
pub use candle::{Candle, Period};
pub use condition::Condition;
pub use trade::Trade;
pub use trigger::{Tick, Trigger, TriggerEngine};
