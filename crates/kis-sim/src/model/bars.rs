//! Candles the simulator serves: 1-minute bars of recent days and daily bars of the whole history.

use jiff::civil::{Date, Time};

/// One minute of one trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteBar {
    pub date: Date,
    /// The bar's start, `HH:MM:00`; it holds the trades in `[time, time + 1 min)`.
    pub time: Time,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
    /// The day's accumulated turnover (KRW) at the end of this bar (KIS `acml_tr_pbmn`).
    pub turnover: u64,
}

/// One trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyBar {
    pub date: Date,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
    /// KRW traded that day.
    pub turnover: u64,
}

impl DailyBar {
    /// The aggregate of a day's minute bars (`None` when there are none).
    pub fn from_minutes(bars: &[MinuteBar]) -> Option<DailyBar> {
        let first = bars.first()?;
        let last = bars.last()?;
        Some(DailyBar {
            date: first.date,
            open: first.open,
            high: bars.iter().map(|b| b.high).max().unwrap_or(first.high),
            low: bars.iter().map(|b| b.low).min().unwrap_or(first.low),
            close: last.close,
            volume: bars.iter().map(|b| b.volume).sum(),
            turnover: last.turnover,
        })
    }
}
