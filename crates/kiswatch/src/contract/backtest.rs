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
    /// Every bar where the condition turned true, oldest first.
    pub signals: Vec<BacktestSignal>,
    pub summary: BacktestSummary,
}

/// A bar where the condition would have fired.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestSignal {
    /// The bar's start.
    pub time: String,
    pub close: i64,
    /// The values that made it true, as in a trigger.
    pub values: TriggerValues,
    pub returns: ForwardReturns,
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
    /// Share of those with a positive return (0..=1), `null` without samples.
    #[schema(required = true)]
    pub hit_rate: Option<f64>,
    /// Mean percent return, `null` without samples.
    #[schema(required = true)]
    pub mean_return: Option<f64>,
}
