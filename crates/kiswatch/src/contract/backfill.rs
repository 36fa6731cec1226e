//! A stock's history backfill as the API shows it (`backfill` of `/stocks/{code}`, `/candles` and
//! `/health`): the backfill keeps its progress in these types ([`crate::history::backfill`]).

use serde::Serialize;
use utoipa::ToSchema;

/// Bars held and bars needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct BarCount {
    pub have: usize,
    pub need: usize,
}

/// How urgent a stock's history is, most urgent first (lower is sooner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Someone has its detail page open.
    OpenPage,
    /// A watched stock that enabled conditions evaluate.
    Conditions,
    /// Any other watched stock.
    Watched,
}

/// One stock's backfill.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BackfillProgress {
    pub code: String,
    pub urgency: Urgency,
    /// 1-minute bars (today's included).
    pub minutes: BarCount,
    pub daily: BarCount,
    /// Upstream calls still to make (estimate).
    pub calls_left: usize,
    /// Seconds until done at the background rate (estimate).
    pub eta_secs: f64,
    pub done: bool,
    /// Why it stopped short of the need, if it did (e.g. VTS has no past minutes).
    #[schema(required = true)]
    pub note: Option<String>,
    #[schema(required = true)]
    pub error: Option<String>,
}
