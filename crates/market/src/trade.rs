//! One trade as the domain sees it: when (KST), at what price, how many shares.

use jiff::civil::DateTime;

/// One trade, in market time (KST). The trigger engine's [`crate::Tick`] is this plus the stock's
/// index inside an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    pub time: DateTime,
    /// KRW.
    pub price: i64,
    /// Shares.
    pub volume: u64,
}
