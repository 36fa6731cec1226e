//! `/api/v1/conditions`: a stored buy condition with its options.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorDetail;

/// When a condition is evaluated and how often it may fire: on every trade, at most once a bar
/// (`every_tick`, on the forming bar); when a bar closes (`on_close`); on every trade, at most once a
/// trading day (`once_per_day`). In every mode a condition that fired re-arms only after a closed bar
/// of its period was false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionMode {
    EveryTick,
    OnClose,
    OncePerDay,
}

/// Where a condition looks: the watchlist (any period, today's behaviour) or the whole market (every
/// KOSPI and KOSDAQ listing of the master; daily, weekly and monthly periods only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionScope {
    #[default]
    Watchlist,
    Market,
}

impl ConditionScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionScope::Watchlist => "watchlist",
            ConditionScope::Market => "market",
        }
    }

    pub fn parse(s: &str) -> Option<ConditionScope> {
        match s {
            "watchlist" => Some(ConditionScope::Watchlist),
            "market" => Some(ConditionScope::Market),
            _ => None,
        }
    }
}

/// A listing the market scope can leave out, by the master's own flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanExclusion {
    Etf,
    Etn,
    Spac,
    /// 우선주.
    Preferred,
    /// 관리종목.
    Managed,
    /// 거래정지.
    Halted,
    /// 투자경고 / 투자위험.
    Warning,
}

/// Which listings a market-scope condition covers. Every field is optional: no filters is every
/// KOSPI and KOSDAQ listing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanFilters {
    /// `KOSPI`, `KOSDAQ`; empty or absent: both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markets: Vec<String>,
    /// Listings left out by their master flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<ScanExclusion>,
    /// The lowest current price in KRW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<i64>,
    /// The lowest 거래대금 today in KRW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_turnover: Option<u64>,
}

/// A condition as `/api/v1/conditions` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Condition {
    pub id: u64,
    pub name: String,
    /// In the condition language, e.g. `30m: ma(20) > ma(60)` or `D: 정배열`.
    pub expr: String,
    /// The period of its bars (`1m` … `60m`, `D`, `W`, `M`).
    #[schema(required = true)]
    pub period: Option<String>,
    pub enabled: bool,
    pub mode: ConditionMode,
    /// Market seconds after a trigger before the same condition may fire again on the same stock
    /// (default 1800: 30 market minutes; 0 for none).
    pub cooldown_secs: u64,
    /// Whether its triggers raise a browser notification (where the browser allows it).
    pub notify: bool,
    /// Whether its triggers play the alert sound (where the browser allows it).
    pub sound: bool,
    /// Deprecated: the first webhook channel among `channels`, masked (a request's `webhook` becomes
    /// a webhook channel listed in `channels`).
    #[schema(required = true)]
    pub webhook: Option<String>,
    /// The alert channels (`/api/v1/channels`) each trigger is delivered to.
    pub channels: Vec<u64>,
    /// No alert leaves through the channels inside these hours (the browser still gets it).
    #[schema(required = true)]
    pub quiet_hours: Option<super::QuietHours>,
    /// RFC 3339: after this the condition fires no more.
    #[schema(required = true)]
    pub expires_at: Option<String>,
    /// `watchlist` (the default) or `market`.
    pub scope: ConditionScope,
    /// The universe's filters of a market-scope condition (`null` for a watchlist one).
    #[schema(required = true)]
    pub filters: Option<ScanFilters>,
    /// When it was stored (RFC 3339).
    pub created_at: String,
    /// Why it is disabled although it may have been stored enabled: its `expr` no longer compiles
    /// (written by an older version, or before the condition language's limits), with the parse
    /// error (`code` `invalid_condition`, `position`); `null` for a condition that compiles. A `PUT`
    /// with a new `expr` clears it.
    #[schema(required = true)]
    pub error: Option<ErrorDetail>,
}
