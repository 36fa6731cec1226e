//! Moving averages (property: incremental equals naive, through many revisions of the forming bar),
//! alignment and crossings (golden, hand-checked).

use std::cmp::Ordering;

use jiff::civil::{DateTime, date};
use market::alignment::{Alignment, average_table};
use market::candle::Candle;
use market::ma::MovingAverages;
use market::ratio::Ratio;
use market::state::{Field, Layout, SeriesState};
use proptest::prelude::*;

/// A bar operation: open a new bar at a value, or revise the forming bar to a value.
#[derive(Debug, Clone, Copy)]
enum Op {
    Push(i64),
    Revise(i64),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            (1i64..2_000_000).prop_map(Op::Push),
            (1i64..2_000_000).prop_map(Op::Revise),
            // Many revisions to nearby prices, as ticks do.
            (99_000i64..101_000).prop_map(Op::Revise),
        ],
        1..400,
    )
}

fn naive_mean(values: &[i64], n: usize) -> Option<Ratio> {
    if values.len() < n {
        return None;
    }
    let sum: i128 = values[values.len() - n..].iter().map(|&v| i128::from(v)).sum();
    Ratio::new(sum, n as i128)
}

fn same(a: Option<Ratio>, b: Option<Ratio>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.num() == b.num() && a.den() == b.den(),
        _ => false,
    }
}

proptest! {
    #[test]
    fn incremental_equals_naive(ops in ops(), lens in prop::collection::vec(1usize..50, 1..5), late in 1usize..60) {
        let mut ma = MovingAverages::new();
        let ids: Vec<_> = lens.iter().map(|&n| ma.register(n)).collect();
        let mut values: Vec<i64> = Vec::new();
        let mut late_id = None;
        for (step, op) in ops.iter().enumerate() {
            match *op {
                Op::Push(v) => { ma.push(v); values.push(v); }
                Op::Revise(v) => {
                    ma.revise_last(v);
                    match values.last_mut() { Some(last) => *last = v, None => values.push(v) }
                }
            }
            // A window registered midway must agree too.
            if step == ops.len() / 2 { late_id = Some(ma.register(late)); }
            let prev = &values[..values.len().saturating_sub(1)];
            for (&id, &n) in ids.iter().zip(&lens) {
                prop_assert!(same(ma.mean(id), naive_mean(&values, n)), "mean n={} step={}", n, step);
                prop_assert!(same(ma.prev_mean(id), naive_mean(prev, n)), "prev n={} step={}", n, step);
            }
            // Values older than the longest window at registration time are gone, so a late, longer
            // window is unknown until it has seen enough bars; when known, it is exact.
            if let Some(id) = late_id {
                match ma.mean(id) {
                    Some(_) => prop_assert!(same(ma.mean(id), naive_mean(&values, late))),
                    None => prop_assert!(ma.len() < late),
                }
            }
        }
    }

    /// The per-series state (shared ring, several fields) agrees with naive recomputation from its bars.
    #[test]
    fn series_state_equals_naive(ops in ops()) {
        let mut layout = Layout::new();
        let w = [layout.window(Field::Close, 3), layout.window(Field::Close, 20), layout.window(Field::Volume, 5)];
        let mut s = SeriesState::new(&layout);
        let mut bars: Vec<Candle> = Vec::new();
        let t0 = date(2026, 11, 20).at(9, 0, 0, 0);
        for op in ops {
            let (v, new) = match op { Op::Push(v) => (v, true), Op::Revise(v) => (v, bars.is_empty()) };
            let part = Candle::from_trade(t0, v, (v % 97) as u64);
            if new {
                let t = t0.checked_add(jiff::SignedDuration::from_mins(bars.len() as i64)).unwrap();
                let bar = Candle { time: t, ..part };
                s.open(bar);
                bars.push(bar);
            } else {
                let last = bars.last_mut().unwrap();
                last.absorb(&part);
                s.revise(*last);
            }
            let closes: Vec<i64> = bars.iter().map(|b| b.close).collect();
            let volumes: Vec<i64> = bars.iter().map(|b| b.volume as i64).collect();
            prop_assert!(same(s.mean(w[0], 0), naive_mean(&closes, 3)));
            prop_assert!(same(s.mean(w[1], 0), naive_mean(&closes, 20)));
            prop_assert!(same(s.mean(w[2], 0), naive_mean(&volumes, 5)));
            prop_assert!(same(s.mean(w[1], 1), naive_mean(&closes[..closes.len() - 1], 20)));
        }
    }

    /// Comparisons are exact at ties: an average equal to a value compares equal, one unit of sum away
    /// compares strictly.
    #[test]
    fn comparisons_are_exact_at_ties(values in prop::collection::vec(1i64..10_000_000, 1..300)) {
        let n = values.len();
        let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
        let mut ma = MovingAverages::new();
        let id = ma.register(n);
        for &v in &values { ma.push(v); }
        let mean = ma.mean(id).unwrap();
        // mean == sum / n; the same value written as another fraction compares equal.
        let other = Ratio::new(sum * 7, n as i128 * 7).unwrap();
        prop_assert_eq!(mean.checked_cmp(other), Some(Ordering::Equal));
        let above = Ratio::new(sum * 7 + 1, n as i128 * 7).unwrap();
        prop_assert_eq!(mean.checked_cmp(above), Some(Ordering::Less));
        // Two windows with equal averages compare equal (e.g. MA of [a, a] vs MA of [a]).
        let mut flat = MovingAverages::new();
        let (short, long) = (flat.register(1), flat.register(3));
        for _ in 0..3 { flat.push(values[0]); }
        prop_assert_eq!(flat.mean(short).unwrap().checked_cmp(flat.mean(long).unwrap()), Some(Ordering::Equal));
    }
}

fn daily(closes: &[i64]) -> Vec<Candle> {
    let t0 = date(2026, 1, 5).at(0, 0, 0, 0);
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let t: DateTime = t0
                .checked_add(jiff::SignedDuration::from_hours(24 * i as i64))
                .unwrap();
            Candle {
                time: t,
                open: c,
                high: c,
                low: c,
                close: c,
                volume: 1,
            }
        })
        .collect()
}

#[test]
fn alignment_on_a_hand_checked_sequence() {
    // MA(2), MA(3), MA(4) of a rising series 1..=6: at 6, (5+6)/2 = 5.5 > 5 > 4.5: bullish.
    let t = average_table(&daily(&[1, 2, 3, 4, 5, 6]), &[2, 3, 4]);
    assert_eq!(t.alignment, Some(Alignment::Bullish));
    assert_eq!(t.values[2], vec![Some(2.5), Some(2.0), None]);
    assert_eq!(t.values[5], vec![Some(5.5), Some(5.0), Some(4.5)]);
    // Falling: bearish.
    assert_eq!(
        average_table(&daily(&[6, 5, 4, 3, 2, 1]), &[2, 3, 4]).alignment,
        Some(Alignment::Bearish)
    );
    // 1, 2, 3, 4, 10, 1: MA2 = 5.5, MA3 = 5, MA4 = 4.5 → bullish; then a tie: 4,4,4,4 → mixed.
    assert_eq!(
        average_table(&daily(&[1, 2, 3, 4, 10, 1]), &[2, 3, 4]).alignment,
        Some(Alignment::Bullish)
    );
    assert_eq!(
        average_table(&daily(&[4, 4, 4, 4]), &[2, 3, 4]).alignment,
        Some(Alignment::Mixed)
    );
    // 3, 1, 2, 4: MA2 = 3, MA3 = 7/3, MA4 = 2.5 → 3 > 2.33 < 2.5: mixed.
    assert_eq!(
        average_table(&daily(&[3, 1, 2, 4]), &[2, 3, 4]).alignment,
        Some(Alignment::Mixed)
    );
    // Not enough history: unknown.
    assert_eq!(average_table(&daily(&[1, 2, 3]), &[2, 3, 4]).alignment, None);
}

#[test]
fn default_alignment_needs_240_bars() {
    let rising: Vec<i64> = (1..=240).map(|i| 10_000 + i * 10).collect();
    let t = average_table(&daily(&rising), &[20, 60, 120, 240]);
    assert_eq!(t.alignment, Some(Alignment::Bullish));
    assert_eq!(
        average_table(&daily(&rising[..239]), &[20, 60, 120, 240]).alignment,
        None
    );
}
