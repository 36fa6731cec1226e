//! A stock's bars of one period with their full history: what a chart shows and a backtest reads.
//!
//! Live trades update the forming bar (the newest one, built from trades and not yet followed by
//! another). Stored or fetched history merges in by bar time, so the result has no duplicate:
//! * before the bar of the first live trade, history wins (live trades never saw those bars);
//! * in that bar, live trades saw only the end and history may have only the start (or all of it):
//!   history's open, the wider range, the live close, the larger volume ([`Candle::merged_with_live`]);
//! * after it, live trades saw every trade, while history may have been fetched mid-bar: live wins.
//!
//! Bars that only one side has stay, so as long as history reaches the first live bar there is no gap.

use jiff::civil::DateTime;
use serde::Serialize;

use crate::candle::{Candle, Period, session_hours};
use crate::krx::Calendar;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarSeries {
    period: Period,
    bars: Vec<Candle>,
    /// The last bar is being built from live trades.
    forming: bool,
    /// The start of the bar of the first live trade.
    live_from: Option<DateTime>,
}

/// What a trade did to a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeEffect {
    /// Opened a new bar (the previous newest one is closed).
    Opened,
    /// Updated the forming bar.
    Updated,
    /// Older than the newest bar, or outside the regular session: ignored.
    Ignored,
}

impl BarSeries {
    pub fn new(period: Period) -> BarSeries {
        BarSeries {
            period,
            bars: Vec::new(),
            forming: false,
            live_from: None,
        }
    }

    pub fn period(&self) -> Period {
        self.period
    }

    /// Every bar, oldest first (the forming one last).
    pub fn bars(&self) -> &[Candle] {
        &self.bars
    }

    /// The bar being built from live trades, if any.
    pub fn forming(&self) -> Option<&Candle> {
        if self.forming { self.bars.last() } else { None }
    }

    /// Applies a trade at `time` (KST).
    pub fn apply_trade(
        &mut self,
        time: DateTime,
        price: i64,
        volume: u64,
        calendar: &Calendar,
    ) -> TradeEffect {
        let hours = session_hours(calendar, time.date());
        let Some(start) = self.period.bar_start(time, &hours) else {
            return TradeEffect::Ignored;
        };
        let part = Candle::from_trade(start, price, volume);
        if self.live_from.is_none() {
            self.live_from = Some(start);
        }
        match self.bars.last_mut() {
            Some(last) if last.time == start => {
                // A stored bar that trades continue (fetched before the subscription) becomes the
                // forming bar: the trades come after what it holds.
                last.absorb(&part);
                self.forming = true;
                TradeEffect::Updated
            }
            Some(last) if last.time > start => TradeEffect::Ignored,
            _ => {
                self.bars.push(part);
                self.forming = true;
                TradeEffect::Opened
            }
        }
    }

    /// Merges stored or fetched bars of this period (oldest first) into the series.
    pub fn merge_history(&mut self, history: &[Candle]) {
        let forming_time = self.forming().map(|c| c.time);
        let live_from = self.live_from;
        let old = std::mem::take(&mut self.bars);
        let mut merged: Vec<Candle> = Vec::with_capacity(old.len() + history.len());
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < history.len() {
            let next = match (old.get(i), history.get(j)) {
                (Some(o), Some(h)) if o.time == h.time => {
                    i += 1;
                    j += 1;
                    match live_from {
                        Some(from) if o.time == from => h.merged_with_live(o),
                        Some(from) if o.time > from => *o,
                        _ => *h,
                    }
                }
                (Some(o), Some(h)) if o.time < h.time => {
                    i += 1;
                    *o
                }
                (Some(_), Some(h)) | (None, Some(h)) => {
                    j += 1;
                    *h
                }
                (Some(o), None) => {
                    i += 1;
                    *o
                }
                (None, None) => break,
            };
            // Repeated times inside `history`: the later one wins.
            match merged.last_mut() {
                Some(last) if last.time == next.time => *last = next,
                Some(last) if last.time > next.time => {}
                _ => merged.push(next),
            }
        }
        self.bars = merged;
        self.forming = forming_time.is_some() && self.bars.last().map(|c| c.time) == forming_time;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn trades_build_bars() {
        let cal = Calendar::krx();
        let mut s = BarSeries::new(Period::M30);
        let d = date(2026, 11, 20);
        assert_eq!(s.apply_trade(d.at(9, 0, 1, 0), 100, 1, cal), TradeEffect::Opened);
        assert_eq!(
            s.apply_trade(d.at(9, 29, 59, 0), 105, 2, cal),
            TradeEffect::Updated
        );
        assert_eq!(s.apply_trade(d.at(9, 30, 0, 0), 99, 3, cal), TradeEffect::Opened);
        assert_eq!(s.apply_trade(d.at(9, 10, 0, 0), 1, 3, cal), TradeEffect::Ignored);
        assert_eq!(s.apply_trade(d.at(20, 0, 0, 0), 1, 3, cal), TradeEffect::Ignored);
        assert_eq!(s.bars().len(), 2);
        assert_eq!(
            s.bars()[0],
            Candle {
                time: d.at(9, 0, 0, 0),
                open: 100,
                high: 105,
                low: 100,
                close: 105,
                volume: 3
            }
        );
        assert_eq!(s.forming().map(|c| c.close), Some(99));
    }
}
