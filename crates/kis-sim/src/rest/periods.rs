//! Daily bars grouped into weeks, months and years (`FID_PERIOD_DIV_CODE` D/W/M/Y).
//!
//! A period bar is dated by its first trading day (weeks run Monday to Sunday); its open is the first
//! day's open, its close the last day's close, volume and turnover the sums.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use market::krx::{Sign, price_limits};

use crate::envelope::KisError;
use crate::model::DailyBar;
use crate::rest::params::invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    pub fn parse(s: &str, allow_year: bool) -> Result<Period, KisError> {
        match s {
            "D" => Ok(Period::Day),
            "W" => Ok(Period::Week),
            "M" => Ok(Period::Month),
            "Y" if allow_year => Ok(Period::Year),
            _ => Err(invalid(
                "PERIOD_DIV_CODE",
                if allow_year {
                    "expected D, W, M or Y"
                } else {
                    "expected D, W or M"
                },
            )),
        }
    }

    /// The first day of the period containing `d`.
    pub fn start_of(self, d: Date) -> Date {
        match self {
            Period::Day => d,
            Period::Week => d
                .checked_sub(i64::from(d.weekday().since(Weekday::Monday)).days())
                .unwrap_or(d),
            Period::Month => d.first_of_month(),
            Period::Year => d.first_of_year(),
        }
    }

    /// A bar's previous close, change and sign against the bar before it (`prev`); the oldest bar,
    /// with nothing before it, is measured against its own open. Daily bars use the day's limits
    /// (signs 1 and 4); longer periods have no limits, only up, flat or down.
    pub fn change(self, bar: &DailyBar, prev: Option<&DailyBar>) -> (i64, i64, Sign) {
        let prev_close = prev.map_or(bar.open, |p| p.close);
        let change = bar.close - prev_close;
        let sign = match (self, prev) {
            (Period::Day, Some(_)) => Sign::of(bar.close, &price_limits(prev_close)),
            _ => Sign::of_change(change),
        };
        (prev_close, change, sign)
    }

    /// Calendar days that surely hold `n` periods (used to bound history reads).
    pub fn days_for(self, n: i64) -> i64 {
        match self {
            Period::Day => n * 7 / 4 + 20,
            Period::Week => n * 7 + 14,
            Period::Month => n * 31 + 62,
            Period::Year => n * 366 + 366,
        }
    }
}

/// Groups oldest-first daily bars into oldest-first period bars.
pub fn aggregate(bars: &[DailyBar], period: Period) -> Vec<DailyBar> {
    if period == Period::Day {
        return bars.to_vec();
    }
    let mut out: Vec<(Date, DailyBar)> = Vec::new();
    for b in bars {
        let key = period.start_of(b.date);
        match out.last_mut() {
            Some((k, acc)) if *k == key => {
                acc.high = acc.high.max(b.high);
                acc.low = acc.low.min(b.low);
                acc.close = b.close;
                acc.volume += b.volume;
                acc.turnover += b.turnover;
            }
            _ => out.push((key, *b)),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn bar(d: Date, o: i64, h: i64, l: i64, c: i64) -> DailyBar {
        DailyBar {
            date: d,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 10,
            turnover: 10 * c as u64,
        }
    }

    #[test]
    fn weeks_start_on_monday_and_aggregate() {
        // 2026-01-02 is a Friday, 2026-01-05 a Monday
        let bars = [
            bar(date(2026, 1, 2), 10, 12, 9, 11),
            bar(date(2026, 1, 5), 11, 15, 10, 14),
            bar(date(2026, 1, 6), 14, 14, 8, 9),
        ];
        let weeks = aggregate(&bars, Period::Week);
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[1].date, date(2026, 1, 5));
        assert_eq!(
            (weeks[1].open, weeks[1].high, weeks[1].low, weeks[1].close),
            (11, 15, 8, 9)
        );
        assert_eq!(weeks[1].volume, 20);
        let months = aggregate(&bars, Period::Month);
        assert_eq!(months.len(), 1);
        assert_eq!(months[0].date, date(2026, 1, 2));
    }

    #[test]
    fn period_codes() {
        assert_eq!(Period::parse("Y", true).unwrap(), Period::Year);
        assert!(Period::parse("Y", false).is_err());
        assert!(Period::parse("X", true).is_err());
    }
}
