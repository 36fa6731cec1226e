//! Moving-average alignment: 정배열 (bullish: the shorter average above the longer, all the way down the
//! list) and 역배열 (bearish: the reverse). Anything else is mixed, including ties; while any average is
//! still unknown the alignment is unknown.

use serde::{Deserialize, Serialize};

use crate::candle::Candle;
use crate::ma::MovingAverages;
use crate::ratio::Ratio;
use std::cmp::Ordering;

/// The default periods: MA20, MA60, MA120, MA240.
pub const DEFAULT_PERIODS: [usize; 4] = [20, 60, 120, 240];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// 정배열: MA(p1) > MA(p2) > … for periods p1 < p2 < ….
    Bullish,
    /// 역배열: MA(p1) < MA(p2) < ….
    Bearish,
    Mixed,
}

impl Alignment {
    /// The alignment of averages listed shortest period first; `None` if any is unknown (or the
    /// comparison overflowed, which real prices cannot make happen).
    pub fn of(averages: &[Option<Ratio>]) -> Option<Alignment> {
        let mut all_greater = true;
        let mut all_less = true;
        for pair in averages.windows(2) {
            match pair[0]?.checked_cmp(pair[1]?)? {
                Ordering::Greater => all_less = false,
                Ordering::Less => all_greater = false,
                Ordering::Equal => {
                    all_less = false;
                    all_greater = false;
                }
            }
        }
        // Every average must be known even when there is only one.
        if averages.iter().any(Option::is_none) {
            return None;
        }
        Some(match (all_greater, all_less) {
            (true, false) => Alignment::Bullish,
            (false, true) => Alignment::Bearish,
            _ => Alignment::Mixed,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alignment::Bullish => "bullish",
            Alignment::Bearish => "bearish",
            Alignment::Mixed => "mixed",
        }
    }
}

/// Closing-price averages for each period at every bar of a series, for charts: `values[i][j]` is the
/// MA of `periods[j]` at `candles[i]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AverageTable {
    pub periods: Vec<usize>,
    pub values: Vec<Vec<Option<f64>>>,
    /// The alignment at the last bar.
    pub alignment: Option<Alignment>,
}

/// Computes [`AverageTable`] over candles (oldest first), exactly, in one pass.
pub fn average_table(candles: &[Candle], periods: &[usize]) -> AverageTable {
    let mut ma = MovingAverages::new();
    let ids: Vec<_> = periods.iter().map(|&p| ma.register(p)).collect();
    let mut values = Vec::with_capacity(candles.len());
    let mut last: Vec<Option<Ratio>> = vec![None; periods.len()];
    for c in candles {
        ma.push(c.close);
        last = ids.iter().map(|&id| ma.mean(id)).collect();
        values.push(last.iter().map(|r| r.map(Ratio::to_f64)).collect());
    }
    let alignment = if candles.is_empty() {
        None
    } else {
        Alignment::of(&last)
    };
    AverageTable {
        periods: periods.to_vec(),
        values,
        alignment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: i64) -> Option<Ratio> {
        Some(Ratio::int(v))
    }

    #[test]
    fn classifies() {
        assert_eq!(Alignment::of(&[r(4), r(3), r(2), r(1)]), Some(Alignment::Bullish));
        assert_eq!(Alignment::of(&[r(1), r(2), r(3), r(4)]), Some(Alignment::Bearish));
        assert_eq!(Alignment::of(&[r(4), r(3), r(3), r(1)]), Some(Alignment::Mixed));
        assert_eq!(Alignment::of(&[r(4), r(5), r(3), r(1)]), Some(Alignment::Mixed));
        assert_eq!(Alignment::of(&[r(4), r(3), r(2), None]), None);
    }
}
