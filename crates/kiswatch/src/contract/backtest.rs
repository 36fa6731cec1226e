//! `POST /api/v1/backtest`: a condition run over a stock's stored history
//! ([`crate::history::backtest::report`] builds it).

use serde::Serialize;
use utoipa::ToSchema;

use super::TriggerValues;

/// The report of a backtest.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestReport {
    pub code: String,
    pub name: String,
    /// The condition as parsed (its source).
    pub condition: String,
    /// The condition's period.
    pub period: String,
    /// Closed bars of the period the condition ran over.
    pub bars: usize,
    /// The first bar's start (`null` without bars).
    #[schema(required = true)]
    pub from: Option<String>,
    /// The last bar's start (`null` without bars).
    #[schema(required = true)]
    pub to: Option<String>,
    /// Bars on which the condition's value was known (an average is unknown until it has its bars).
    pub evaluated_bars: usize,
    /// Too little history to read much into the figures: fewer than 20 signals or fewer than 100
    /// evaluated bars.
    pub short_history: bool,
    /// What a round trip paid in the net figures.
    pub costs: BacktestCosts,
    /// Holding from the first bar's close to the last bar's over the whole span: percent, gross and
    /// net of the costs (as one trade); `null` with fewer than two bars.
    #[schema(required = true)]
    pub buy_and_hold: Option<BuyAndHold>,
    /// Every bar where the condition turned true, oldest first.
    pub signals: Vec<BacktestSignal>,
    pub summary: BacktestSummary,
}

/// Costs as fractions of the traded value: commission per side (`0.00015` is 0.015 %) and the
/// securities transaction tax (증권거래세) on the sell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct BacktestCosts {
    pub commission_rate: f64,
    pub tax_rate: f64,
}

/// Buy and hold over the span tested, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct BuyAndHold {
    pub gross: f64,
    #[schema(required = true)]
    pub net: Option<f64>,
}

/// A bar where the condition would have fired.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestSignal {
    /// The bar's start.
    pub time: String,
    pub close: i64,
    /// The values that made it true, as in a trigger.
    pub values: TriggerValues,
    /// Gross percent returns.
    pub returns: ForwardReturns,
    /// The same trades net of the costs.
    pub net_returns: ForwardReturns,
}

/// Percent return after 1, 5 and 20 bars, `null` where the history ends first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct ForwardReturns {
    #[serde(rename = "1")]
    #[schema(required = true)]
    pub after1: Option<f64>,
    #[serde(rename = "5")]
    #[schema(required = true)]
    pub after5: Option<f64>,
    #[serde(rename = "20")]
    #[schema(required = true)]
    pub after20: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestSummary {
    /// Signals in all.
    pub count: usize,
    /// By horizon: 1, 5 and 20 bars.
    pub horizons: Vec<Horizon>,
}

/// What followed the signals after one horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Horizon {
    /// The horizon in bars.
    pub bars: usize,
    /// Signals with a bar that far ahead.
    pub samples: usize,
    /// Share (0..=1) of those whose return net of costs is above zero, `null` without samples.
    #[schema(required = true)]
    pub hit_rate: Option<f64>,
    /// Mean gross percent return, `null` without samples.
    #[schema(required = true)]
    pub mean_return: Option<f64>,
    /// Mean percent return net of costs, `null` without samples.
    #[schema(required = true)]
    pub net_mean_return: Option<f64>,
    /// The same figures from every bar, signal or not (what holding that long from any bar gave).
    pub baseline: Baseline,
}

/// What holding `bars` bars from every bar of the span gave: the figures a signal must beat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Baseline {
    /// Bars with a bar that far ahead.
    pub samples: usize,
    #[schema(required = true)]
    pub hit_rate: Option<f64>,
    #[schema(required = true)]
    pub mean_return: Option<f64>,
    #[schema(required = true)]
    pub net_mean_return: Option<f64>,
}
