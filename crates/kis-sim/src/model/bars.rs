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

/// A minute bar as the simulator keeps it in memory: 32 bytes instead of [`MinuteBar`]'s 64 (the date is
/// the day's, the time a minute of the day, prices and the minute's volume fit in 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackedMinute {
    /// Minutes since midnight.
    pub minute: u16,
    pub open: u32,
    pub high: u32,
    pub low: u32,
    pub close: u32,
    pub volume: u32,
    pub turnover: u64,
}

/// A price or count kept in 32 bits (saturating: prices are at most a few million won, a minute's or
/// a day's volume far below 2³²).
pub(crate) fn narrow(x: impl TryInto<u32>) -> u32 {
    x.try_into().unwrap_or(u32::MAX)
}

impl PackedMinute {
    #[cfg(test)]
    pub fn pack(b: &MinuteBar) -> PackedMinute {
        PackedMinute {
            minute: (b.time.hour() as u16) * 60 + b.time.minute() as u16,
            open: narrow(b.open.max(0)),
            high: narrow(b.high.max(0)),
            low: narrow(b.low.max(0)),
            close: narrow(b.close.max(0)),
            volume: narrow(b.volume),
            turnover: b.turnover,
        }
    }

    pub fn unpack(&self, date: Date) -> MinuteBar {
        MinuteBar {
            date,
            time: Time::new((self.minute / 60) as i8, (self.minute % 60) as i8, 0, 0).unwrap_or(Time::MIN),
            open: i64::from(self.open),
            high: i64::from(self.high),
            low: i64::from(self.low),
            close: i64::from(self.close),
            volume: u64::from(self.volume),
            turnover: self.turnover,
        }
    }
}

/// A day of the directly drawn history as kept: 24 bytes instead of [`DailyBar`]'s 56; its turnover
/// is by construction the volume at the bar's typical price `(open + high + low + close) / 4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackedDay {
    pub date: Date,
    pub open: u32,
    pub high: u32,
    pub low: u32,
    pub close: u32,
    pub volume: u32,
}

impl PackedDay {
    pub fn bar(&self) -> DailyBar {
        let (o, h, l, c) = (
            i64::from(self.open),
            i64::from(self.high),
            i64::from(self.low),
            i64::from(self.close),
        );
        let typical = (o + h + l + c) / 4;
        DailyBar {
            date: self.date,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: u64::from(self.volume),
            turnover: u64::from(self.volume) * typical as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_forms_are_small_and_lossless_for_market_values() {
        assert_eq!(std::mem::size_of::<PackedMinute>(), 32);
        assert_eq!(std::mem::size_of::<PackedDay>(), 24);
        let d = jiff::civil::date(2026, 11, 20);
        let bar = MinuteBar {
            date: d,
            time: jiff::civil::time(15, 19, 0, 0),
            open: 1_020_000,
            high: 1_021_000,
            low: 1_019_000,
            close: 1_020_000,
            volume: 123_456,
            turnover: 9_876_543_210_123,
        };
        assert_eq!(PackedMinute::pack(&bar).unpack(d), bar);
    }
}
