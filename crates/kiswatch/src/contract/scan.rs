//! 조건검색 over the whole market: a market-scope condition's result set (`GET
//! /api/v1/conditions/{id}/matches`), its 편입/이탈 events (`GET /api/v1/conditions/{id}/events`, the
//! WebSocket's `scan:<id>` channel), and the universe backfill's progress.

use serde::Serialize;
use utoipa::ToSchema;

use super::TriggerValues;

/// Entering (편입) or leaving (이탈) a result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanEventKind {
    Enter,
    Leave,
}

impl ScanEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanEventKind::Enter => "enter",
            ScanEventKind::Leave => "leave",
        }
    }

    pub fn parse(s: &str) -> Option<ScanEventKind> {
        match s {
            "enter" => Some(ScanEventKind::Enter),
            "leave" => Some(ScanEventKind::Leave),
            _ => None,
        }
    }
}

/// A stock entering or leaving a market scan's result set. Stored (history survives a restart); not a
/// trigger: no popup, no row blink.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanEvent {
    pub id: u64,
    pub condition_id: u64,
    pub code: String,
    pub name: String,
    pub kind: ScanEventKind,
    /// The market time of the sweep that saw it (RFC 3339, +09:00).
    pub time: String,
    /// The price at that sweep.
    pub price: i64,
    /// 등락률 against the previous close, in percent.
    pub change_rate: f64,
    /// 거래대금 of the day so far, in won.
    pub turnover: u64,
    /// The condition's values at that sweep (for a leave: the values that no longer hold).
    pub values: TriggerValues,
}

/// One stock in a result set, with today's quote from the last sweep.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanMatch {
    pub code: String,
    pub name: String,
    pub market: String,
    pub price: i64,
    /// 대비 against the previous close, in won.
    pub change: i64,
    pub change_rate: f64,
    pub turnover: u64,
    pub volume: u64,
    /// When it entered (the market time of that sweep).
    pub since: String,
    /// The condition's values at the last sweep.
    pub values: TriggerValues,
}

/// The universe's daily history: 500 sessions a listing, fetched once, breadth-first.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, ToSchema)]
pub struct UniverseProgress {
    /// Listings whose daily history is stored.
    pub stocks_done: usize,
    /// Listings in the universe (every market-scope condition's, together).
    pub stocks_total: usize,
    /// Upstream calls still to make (about 5 a listing).
    pub calls_left: u64,
    /// At the rate measured so far (`null` before any call).
    #[schema(required = true)]
    pub eta_secs: Option<u64>,
    pub complete: bool,
}

/// How far the kept daily history carries a condition: weekly and monthly averages go only as far
/// as 500 sessions allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScanHistory {
    /// Daily sessions kept for every listing.
    pub sessions_kept: usize,
    /// Bars of the condition's period its longest average needs.
    pub bars_needed: usize,
    /// About that many sessions (5 a week, 21 a month).
    pub sessions_needed: usize,
    /// `sessions_kept` covers the need: listings with a full history are evaluated.
    pub enough: bool,
}

/// `GET /api/v1/conditions/{id}/matches`: who matches now, since when, with what values.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanMatches {
    pub condition_id: u64,
    pub name: String,
    pub expr: String,
    pub period: String,
    /// The market time of the last sweep (`null` before the first).
    #[schema(required = true)]
    pub as_of: Option<String>,
    /// The last sweep was after the close: today's bar is final.
    pub closed: bool,
    /// Listings the condition's filters admit.
    pub universe: usize,
    /// Listings with history enough to evaluate at the last sweep.
    pub evaluated: usize,
    pub progress: UniverseProgress,
    /// Whether the kept history is long enough for the condition (`null` before its scan is built).
    #[schema(required = true)]
    pub history: Option<ScanHistory>,
    /// By 등락률, highest first.
    pub matches: Vec<ScanMatch>,
}

/// After every sweep, to the condition's `scan:<id>` subscribers (the page refetches its matches).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanSweep {
    pub condition_id: u64,
    pub as_of: String,
    pub closed: bool,
    pub matches: usize,
    pub universe: usize,
    pub evaluated: usize,
}

/// One row of KIS's own scans (a ranking or an HTS condition's result).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KisScanRow {
    /// The ranking's rank (1 = first); for an HTS condition the row's place.
    pub rank: u32,
    pub code: String,
    pub name: String,
    pub price: i64,
    pub change: i64,
    pub change_rate: f64,
    pub volume: u64,
    /// 거래대금 where KIS gives it (`null` for 등락률순위).
    #[schema(required = true)]
    pub turnover: Option<u64>,
}

/// `GET /api/v1/scans/kis/{kind}` and `/api/v1/scans/hts/{seq}`: KIS's own scans, with their limits
/// stated. On 모의투자 (or without `KIS_HTS_ID` for HTS conditions) `available` is false and
/// `reason` says why: unavailable, not failing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KisScan {
    /// `volume`, `turnover`, `rise`, `fall` or `hts:<seq>`.
    pub source: String,
    pub available: bool,
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub reason_ko: Option<String>,
    /// What KIS limits (30 rows with no next page; 100 results, polled at most once a minute).
    pub limits_ko: String,
    pub rows: Vec<KisScanRow>,
}

/// A condition saved in the HTS ([0] 조건검색 in 한국투자 HTS, "서버저장").
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HtsCondition {
    pub seq: String,
    pub group: String,
    pub name: String,
}

/// `GET /api/v1/scans/hts`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HtsConditions {
    pub available: bool,
    #[schema(required = true)]
    pub reason: Option<String>,
    #[schema(required = true)]
    pub reason_ko: Option<String>,
    pub conditions: Vec<HtsCondition>,
}

/// One day of a market scan's backtest.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanBacktestDay {
    /// `2026-11-27`
    pub date: String,
    /// Listings whose condition value was known that day.
    pub evaluated: usize,
    /// Listings matching.
    pub matches: usize,
    /// Listings entering (편입).
    pub entries: usize,
}

/// Forward returns after 편입 at one horizon, against the universe's average over the same days.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanBacktestHorizon {
    /// Bars of the condition's period (days for a daily condition).
    pub bars: usize,
    pub samples: usize,
    /// Mean gross percent return after an entry (`null` without samples).
    #[schema(required = true)]
    pub mean_return: Option<f64>,
    /// Share (0..=1) of entries with a positive return.
    #[schema(required = true)]
    pub hit_rate: Option<f64>,
    /// Every evaluated listing-day with a bar that far ahead.
    pub universe_samples: usize,
    #[schema(required = true)]
    pub universe_mean_return: Option<f64>,
    #[schema(required = true)]
    pub universe_hit_rate: Option<f64>,
}

/// `GET /api/v1/conditions/{id}/backtest`: the market scan over the universe's stored history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScanBacktestReport {
    pub condition_id: u64,
    pub expr: String,
    pub period: String,
    /// Listings the filters admit (by the master's flags; the price and 거래대금 floors are today's
    /// and do not apply to the past).
    pub universe: usize,
    /// Listings with stored history (fewer than `universe` while the backfill runs).
    pub stocks: usize,
    /// The first and last day evaluated (`null` without any).
    #[schema(required = true)]
    pub first: Option<String>,
    #[schema(required = true)]
    pub last: Option<String>,
    pub days: Vec<ScanBacktestDay>,
    pub entries: usize,
    pub horizons: Vec<ScanBacktestHorizon>,
    /// Fewer than 20 entries, fewer than 100 days, or the backfill is not done: read the figures as
    /// anecdotes.
    pub short_history: bool,
    /// Milliseconds the run took (reading the store and evaluating).
    pub took_ms: u64,
}
