//! Backtests: run a condition over stored bars and list every bar where it would have fired, with what
//! happened next, net of costs, against what simply holding the stock did.
//!
//! The bars are closed bars of the condition's period, oldest first. The condition is evaluated on each
//! bar as it closes and fires when it turns from false to true (before the first bar it counts as
//! false, so a condition already true on the first evaluable bar fires there).
//!
//! Every figure, precisely (returns are in percent; `close[i]` is the close of bar `i`; `c` and `t` are
//! the [`Costs`]' commission and tax rates):
//!
//! * **forward return** after `k` bars of a signal at bar `i` (gross): `(close[i+k] − close[i]) /
//!   close[i] × 100`; `None` where the history ends before bar `i+k` (or `close[i]` is 0).
//! * **net return**: the same trade paying costs: bought at `close[i]` with the commission,
//!   sold at `close[i+k]` paying the commission and the tax:
//!   `(close[i+k]·(1 − c − t) − close[i]·(1 + c)) / (close[i]·(1 + c)) × 100`.
//! * **hit rate** at horizon `k`: the share (0..=1) of signals with a bar `k` ahead whose *net*
//!   return is > 0 ([`HorizonSummary::gross_hit_rate`]: whose gross return is > 0).
//! * **mean return** / **net mean return**: the mean gross / net return of those signals.
//! * **baseline** at horizon `k`: the same figures over *every* bar with a bar `k` ahead, signal or
//!   not: what holding `k` bars from any bar gave. A signal has an edge when its figures beat the
//!   baseline's (a 60% hit rate is no edge in a market where 60% of all 5-bar holds gain).
//! * **buy and hold**: from the first bar's close to the last bar's close over the whole span
//!   ([`Backtest::buy_and_hold_net_return`]: as one trade, paying costs).
//! * **short history**: fewer than [`SHORT_HISTORY_SIGNALS`] signals, or fewer than
//!   [`SHORT_HISTORY_BARS`] bars on which the condition's value was known (an average is unknown
//!   until it has its `n` bars): too little to read the figures as more than anecdotes.

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use crate::candle::Candle;
use crate::condition::{Condition, Program};
use crate::state::{Layout, SeriesState};

/// The horizons, in bars, of the forward returns.
pub const HORIZONS: [usize; 3] = [1, 5, 20];

/// Fewer signals than this make a backtest's history short ([`Backtest::short_history`]).
pub const SHORT_HISTORY_SIGNALS: usize = 20;

/// Fewer bars with a known value than this make a backtest's history short
/// ([`Backtest::short_history`]).
pub const SHORT_HISTORY_BARS: usize = 100;

/// What a round trip costs, as fractions of the traded value. The defaults are a typical online
/// brokerage commission of **0.015 % per side** and the **0.18 %** securities transaction tax
/// (증권거래세, with the rural development tax) on the sell; both are configurable
/// ([`backtest_with`]), since commissions differ by broker and the tax by market and year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// Commission per side (buy and sell): `0.00015` is 0.015 %.
    pub commission_rate: f64,
    /// Tax on the sell only: `0.0018` is 0.18 %.
    pub tax_rate: f64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            commission_rate: 0.000_15,
            tax_rate: 0.001_8,
        }
    }
}

impl Costs {
    /// No costs: net returns equal gross ones.
    pub const NONE: Costs = Costs {
        commission_rate: 0.0,
        tax_rate: 0.0,
    };

    /// Whether both rates are finite and in `0..1`, and a sale still leaves something.
    pub fn is_valid(&self) -> bool {
        let rate = |r: f64| r.is_finite() && (0.0..1.0).contains(&r);
        rate(self.commission_rate) && rate(self.tax_rate) && self.commission_rate + self.tax_rate < 1.0
    }

    /// The net percent return of buying at `buy` and selling at `sell` (see the module docs); `None`
    /// for a price of zero or less.
    pub fn net_return(&self, buy: f64, sell: f64) -> Option<f64> {
        if buy <= 0.0 || sell < 0.0 {
            return None;
        }
        let cost = buy * (1.0 + self.commission_rate);
        let proceeds = sell * (1.0 - self.commission_rate - self.tax_rate);
        Some((proceeds - cost) / cost * 100.0)
    }
}

/// Costs a backtest cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error(
        "costs must be rates from 0 to 1 (commission {commission_rate}, tax {tax_rate}), together below 1"
    )]
    InvalidCosts { commission_rate: f64, tax_rate: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// Index of the bar in the input.
    pub index: usize,
    pub bar: Candle,
    /// The values that made it true, as in a trigger.
    pub values: Vec<(String, f64)>,
    /// Gross percent return after 1, 5 and 20 bars ([`HORIZONS`]); `None` where the history ends
    /// first.
    pub forward_returns: [Option<f64>; 3],
    /// The same, net of the [`Costs`] of buying and selling.
    pub net_returns: [Option<f64>; 3],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizonSummary {
    /// The horizon `k`, in bars.
    pub bars: usize,
    /// Signals with a bar `k` ahead.
    pub samples: usize,
    /// Share (0..=1) of those whose net return is > 0; `None` without samples.
    pub hit_rate: Option<f64>,
    /// Mean gross percent return of those signals; `None` without samples.
    pub mean_return: Option<f64>,
    /// Share (0..=1) of those whose gross return is > 0; `None` without samples.
    pub gross_hit_rate: Option<f64>,
    /// Mean net percent return of those signals; `None` without samples.
    pub net_mean_return: Option<f64>,
    /// Bars (every bar, signal or not) with a bar `k` ahead.
    pub baseline_samples: usize,
    /// Share (0..=1) of those bars whose net `k`-bar return is > 0: the hit rate of no signal.
    pub baseline_hit_rate: Option<f64>,
    /// Mean gross `k`-bar return from every bar: the mean return of no signal.
    pub baseline_mean_return: Option<f64>,
    /// Mean net `k`-bar return from every bar.
    pub baseline_net_mean_return: Option<f64>,
}

/// The bars a backtest covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The first bar's start.
    pub first: DateTime,
    /// The last bar's start.
    pub last: DateTime,
    /// How many bars.
    pub bars: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// The condition, canonical text with its period.
    pub condition: String,
    /// Bars tested.
    pub bars: usize,
    pub signals: Vec<Signal>,
    /// Signals (the length of `signals`).
    pub count: usize,
    /// One per [`HORIZONS`] entry.
    pub horizons: Vec<HorizonSummary>,
    /// The first and last bar tested; `None` without bars.
    pub span: Option<Span>,
    /// The costs the net figures paid.
    pub costs: Costs,
    /// Percent return from the first bar's close to the last bar's; `None` with fewer than two bars
    /// (or a first close of 0).
    pub buy_and_hold_return: Option<f64>,
    /// The same as one trade paying the costs.
    pub buy_and_hold_net_return: Option<f64>,
    /// Bars on which the condition's value was known (true or false, not unknown for want of bars).
    pub evaluated_bars: usize,
    /// Too little history to read much into the figures: fewer than [`SHORT_HISTORY_SIGNALS`]
    /// signals or fewer than [`SHORT_HISTORY_BARS`] evaluated bars. The UI should say so.
    pub short_history: bool,
}

/// Runs `condition` over `bars` with the default [`Costs`] (see the module docs).
pub fn backtest(condition: &Condition, bars: &[Candle]) -> Backtest {
    run(condition, bars, Costs::default())
}

/// Runs `condition` over `bars` paying `costs` (see the module docs).
pub fn backtest_with(
    condition: &Condition,
    bars: &[Candle],
    costs: Costs,
) -> Result<Backtest, BacktestError> {
    if !costs.is_valid() {
        return Err(BacktestError::InvalidCosts {
            commission_rate: costs.commission_rate,
            tax_rate: costs.tax_rate,
        });
    }
    Ok(run(condition, bars, costs))
}

fn run(condition: &Condition, bars: &[Candle], costs: Costs) -> Backtest {
    let mut layout = Layout::new();
    let program = Program::compile(&condition.expr, &mut layout);
    let mut state = SeriesState::new(&layout);
    let mut was = false;
    let mut evaluated_bars = 0;
    let mut signals = Vec::new();
    for (index, bar) in bars.iter().enumerate() {
        state.open(*bar);
        let truth = program.truth(&state);
        if truth.is_some() {
            evaluated_bars += 1;
        }
        let holds = truth == Some(true);
        if holds && !was {
            signals.push(Signal {
                index,
                bar: *bar,
                values: program.values(&state),
                forward_returns: HORIZONS.map(|k| forward_return(bars, index, k)),
                net_returns: HORIZONS.map(|k| net_forward_return(bars, index, k, &costs)),
            });
        }
        was = holds;
    }
    let horizons = HORIZONS
        .iter()
        .enumerate()
        .map(|(h, &k)| {
            let gross: Vec<f64> = signals.iter().filter_map(|s| s.forward_returns[h]).collect();
            let net: Vec<f64> = signals.iter().filter_map(|s| s.net_returns[h]).collect();
            let all_gross: Vec<f64> = (0..bars.len())
                .filter_map(|i| forward_return(bars, i, k))
                .collect();
            let all_net: Vec<f64> = (0..bars.len())
                .filter_map(|i| net_forward_return(bars, i, k, &costs))
                .collect();
            HorizonSummary {
                bars: k,
                samples: gross.len(),
                hit_rate: share_positive(&net),
                mean_return: mean(&gross),
                gross_hit_rate: share_positive(&gross),
                net_mean_return: mean(&net),
                baseline_samples: all_gross.len(),
                baseline_hit_rate: share_positive(&all_net),
                baseline_mean_return: mean(&all_gross),
                baseline_net_mean_return: mean(&all_net),
            }
        })
        .collect();
    let span = match (bars.first(), bars.last()) {
        (Some(first), Some(last)) => Some(Span {
            first: first.time,
            last: last.time,
            bars: bars.len(),
        }),
        _ => None,
    };
    let whole = bars.len().checked_sub(1);
    let short_history = signals.len() < SHORT_HISTORY_SIGNALS || evaluated_bars < SHORT_HISTORY_BARS;
    Backtest {
        condition: condition.to_string(),
        bars: bars.len(),
        count: signals.len(),
        signals,
        horizons,
        span,
        costs,
        buy_and_hold_return: whole.filter(|&k| k > 0).and_then(|k| forward_return(bars, 0, k)),
        buy_and_hold_net_return: whole
            .filter(|&k| k > 0)
            .and_then(|k| net_forward_return(bars, 0, k, &costs)),
        evaluated_bars,
        short_history,
    }
}

pub(crate) fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

pub(crate) fn share_positive(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().filter(|&&r| r > 0.0).count() as f64 / xs.len() as f64)
}

/// The closes of bar `index` and `k` bars later, in floating point: prices come from stored data,
/// and their difference must not overflow.
fn closes(bars: &[Candle], index: usize, k: usize) -> Option<(f64, f64)> {
    let base = bars.get(index)?.close;
    let later = bars.get(index.checked_add(k)?)?.close;
    (base != 0).then_some((base as f64, later as f64))
}

pub(crate) fn forward_return(bars: &[Candle], index: usize, k: usize) -> Option<f64> {
    let (base, later) = closes(bars, index, k)?;
    Some((later - base) / base * 100.0)
}

fn net_forward_return(bars: &[Candle], index: usize, k: usize, costs: &Costs) -> Option<f64> {
    let (base, later) = closes(bars, index, k)?;
    costs.net_return(base, later)
}
