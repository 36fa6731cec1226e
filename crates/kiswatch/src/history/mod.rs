//! History: the past, fetched from upstream once and kept in the store.
//!
//! * [`backfill`]: enough stored bars for MA240 on every period the enabled conditions use, in order
//!   of urgency (an open page first), resumable, with progress per stock.
//! * [`daily`]: a stock's daily range, extended only by what is missing.
//! * [`backtest`]: the closed bars a backtest runs over, and its report.
//!
//! Nothing stored is fetched again: a restart asks only for what is missing.

pub mod backfill;
pub mod backtest;
pub mod daily;

pub use backfill::{Advanced, Backfill, Have, Need, Progress, Urgency};
pub use daily::ensure_daily;

/// The longest moving average kiswatch draws and evaluates.
pub const LONGEST_AVERAGE: usize = 240;

/// Regular-session minutes of an ordinary day (09:00–15:30, plus the closing print).
pub const SESSION_MINUTES: usize = 381;
