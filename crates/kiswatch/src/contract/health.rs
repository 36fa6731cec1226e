//! `GET /api/v1/health`: is the service well, and what is it doing.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{BackfillProgress, UpstreamState};

/// `ok`, or `degraded` while the upstream fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

/// The service's health.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    pub version: String,
    pub uptime_secs: u64,
    pub upstream: HealthUpstream,
    pub governor: HealthGovernor,
    pub cache: HealthCache,
    pub market: HealthMarket,
    /// Every stock's history backfill, most urgent first.
    pub backfill: Vec<BackfillProgress>,
    /// The live feed and the triggers (`null` without a trigger service).
    #[schema(required = true)]
    pub live: Option<HealthLive>,
    /// The stock master (`null` when none is loaded by this service).
    #[schema(required = true)]
    pub master: Option<StockMaster>,
}

/// The upstream: which, and its calls and errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthUpstream {
    /// `demo`, `real`, `vts` or `custom`.
    pub kind: String,
    /// The store's namespace (simulated bars never mix with real ones).
    pub namespace: String,
    /// Whether its last call failed transiently.
    pub failing: bool,
    /// Calls by kind (`price`, `orderbook`, `executions`, `today_minutes`, `past_minutes`, `daily`,
    /// …), each logical call once whatever its retries.
    pub calls: BTreeMap<String, u64>,
    /// Calls for history (`past_minutes` and `daily`).
    pub history_calls: u64,
    /// Errors by KIS code (`msg_cd`) or by kind (`timeout`, `transport`, `http_503`, …).
    pub errors: BTreeMap<String, u64>,
}

/// The request governor (the rate limit).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HealthGovernor {
    pub slots: u32,
    pub in_flight: u64,
    pub cooling: u64,
    pub queued_interactive: u64,
    pub queued_background: u64,
    pub granted: u64,
    pub mean_wait_ms: f64,
    pub max_wait_ms: f64,
    /// Rate-limit rejections (EGW00201) seen: should stay 0.
    pub rate_limited_seen: u64,
}

/// The gateway's caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthCache {
    pub hits: u64,
    pub misses: u64,
}

/// Market time, as the upstream shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthMarket {
    /// The latest market moment seen (RFC 3339), `null` before any.
    #[schema(required = true)]
    pub now: Option<String>,
    /// The current trading day (`2026-11-27`), `null` before any.
    #[schema(required = true)]
    pub today: Option<String>,
}

/// The live feed and the trigger service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthLive {
    pub feed: LiveFeedStats,
    pub triggers_fired: u64,
    pub webhooks_failed: u64,
}

/// The live feed's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiveFeedStats {
    pub upstream: UpstreamState,
    /// Stocks registered on the realtime session.
    pub realtime: usize,
    /// Stocks in the poll schedule.
    pub polled: usize,
    pub polls: u64,
    pub failures: u64,
    pub trades: u64,
    pub gaps_repaired: u64,
}

/// The stock master's state: `loading` (no copy yet, first download under way), `loaded` (a
/// current copy), `stale` (a copy older than the current trading day's: a refresh failed, see
/// `error`) or `failed` (no copy at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MasterState {
    Loading,
    Loaded,
    Stale,
    Failed,
}

/// Where the copy in use came from: a `download`, or the `cache` in the data dir at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MasterOrigin {
    Download,
    Cache,
}

/// The stock master (the listings search runs over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockMaster {
    pub state: MasterState,
    /// Listings in the copy in use (0 before any).
    pub records: usize,
    /// The trading day the copy in use is the master of.
    #[schema(required = true)]
    pub as_of: Option<String>,
    /// When the copy in use was fetched (RFC 3339, UTC).
    #[schema(required = true)]
    pub fetched_at: Option<String>,
    #[schema(required = true)]
    pub origin: Option<MasterOrigin>,
    /// The base URL it came from.
    #[schema(required = true)]
    pub source: Option<String>,
    /// Why the last download attempt failed.
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(required = true)]
    pub last_attempt: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_reads_as_health_has_always_shown_it() {
        let m = StockMaster {
            state: MasterState::Stale,
            records: 4_200,
            as_of: Some("2026-11-26".into()),
            fetched_at: Some("2026-11-27T00:05:03.25Z".into()),
            origin: Some(MasterOrigin::Cache),
            source: Some("http://127.0.0.1:1/master".into()),
            error: Some("timeout".into()),
            last_attempt: None,
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({
                "state": "stale", "records": 4200, "as_of": "2026-11-26",
                "fetched_at": "2026-11-27T00:05:03.25Z", "origin": "cache",
                "source": "http://127.0.0.1:1/master", "error": "timeout", "last_attempt": null,
            })
        );
    }
}
