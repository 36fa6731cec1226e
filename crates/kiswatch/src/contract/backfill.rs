//! A stock's history backfill as the API shows it (`backfill` of `/stocks/{code}`, `/candles` and
//! `/health`), from [`crate::history::Progress`].

use serde::Serialize;
use utoipa::ToSchema;

use crate::history;

/// Bars held and bars needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct BarCount {
    pub have: usize,
    pub need: usize,
}

/// How urgent a stock's history is, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
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

impl From<&history::Progress> for BackfillProgress {
    fn from(p: &history::Progress) -> Self {
        let count = |h: history::Have| BarCount {
            have: h.have,
            need: h.need,
        };
        BackfillProgress {
            code: p.code.to_string(),
            urgency: match p.urgency {
                history::Urgency::OpenPage => Urgency::OpenPage,
                history::Urgency::Conditions => Urgency::Conditions,
                history::Urgency::Watched => Urgency::Watched,
            },
            minutes: count(p.minutes),
            daily: count(p.daily),
            calls_left: p.calls_left,
            eta_secs: p.eta_secs,
            done: p.done,
            note: p.note.clone(),
            error: p.error.clone(),
        }
    }
}
