//! Backtests: run a condition over stored bars and list every bar where it would have fired, with what
//! happened next.
//!
//! The bars are closed bars of the condition's period, oldest first. The condition is evaluated on each
//! bar as it closes and fires when it turns from false to true (before the first bar it counts as
//! false, so a condition already true on the first evaluable bar fires there). The forward return after
//! `k` bars is `(close[i+k] - close[i]) / close[i]`, in percent; a hit is a positive return.

use serde::Serialize;

use crate::candle::Candle;
use crate::condition::{Condition, Program};
use crate::state::{Layout, SeriesState};

/// The horizons, in bars, of the forward returns.
pub const HORIZONS: [usize; 3] = [1, 5, 20];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// Index of the bar in the input.
    pub index: usize,
    pub bar: Candle,
    /// The values that made it true, as in a trigger.
    pub values: Vec<(String, f64)>,
    /// Percent return after 1, 5 and 20 bars; `None` where the history ends first.
    pub forward_returns: [Option<f64>; 3],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizonSummary {
    pub bars: usize,
    /// Signals with a bar that far ahead.
    pub samples: usize,
    /// Share of those with a positive return (0..=1), `None` without samples.
    pub hit_rate: Option<f64>,
    /// Mean percent return, `None` without samples.
    pub mean_return: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    pub condition: String,
    pub bars: usize,
    pub signals: Vec<Signal>,
    pub count: usize,
    pub horizons: Vec<HorizonSummary>,
}

/// Runs `condition` over `bars` (see the module docs).
pub fn backtest(condition: &Condition, bars: &[Candle]) -> Backtest {
    let mut layout = Layout::new();
    let program = Program::compile(&condition.expr, &mut layout);
    let mut state = SeriesState::new(&layout);
    let mut was = false;
    let mut signals = Vec::new();
    for (index, bar) in bars.iter().enumerate() {
        state.open(*bar);
        let holds = program.holds(&state);
        if holds && !was {
            let forward_returns = HORIZONS.map(|k| forward_return(bars, index, k));
            signals.push(Signal {
                index,
                bar: *bar,
                values: program.values(&state),
                forward_returns,
            });
        }
        was = holds;
    }
    let horizons = HORIZONS
        .iter()
        .enumerate()
        .map(|(h, &k)| {
            let returns: Vec<f64> = signals.iter().filter_map(|s| s.forward_returns[h]).collect();
            let samples = returns.len();
            let (hit_rate, mean_return) = if samples == 0 {
                (None, None)
            } else {
                let hits = returns.iter().filter(|&&r| r > 0.0).count();
                (
                    Some(hits as f64 / samples as f64),
                    Some(returns.iter().sum::<f64>() / samples as f64),
                )
            };
            HorizonSummary {
                bars: k,
                samples,
                hit_rate,
                mean_return,
            }
        })
        .collect();
    Backtest {
        condition: condition.to_string(),
        bars: bars.len(),
        count: signals.len(),
        signals,
        horizons,
    }
}

fn forward_return(bars: &[Candle], index: usize, k: usize) -> Option<f64> {
    let base = bars.get(index)?.close;
    let later = bars.get(index.checked_add(k)?)?.close;
    if base == 0 {
        return None;
    }
    // In floating point: prices come from stored data, and their difference must not overflow.
    Some((later as f64 - base as f64) / base as f64 * 100.0)
}
