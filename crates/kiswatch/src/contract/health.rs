//! `GET /api/v1/health`: is the service well, and what is it doing.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{BackfillProgress, UpstreamState};

/// `ok`, or `degraded` while the upstream fails or the store cannot write (`reasons` say why).
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
    /// Why the status is `degraded`, one line each (`upstream: …`, `store: 3 triggers waiting to
    /// be stored: database or disk is full`); empty while `ok`.
    pub reasons: Vec<String>,
    pub version: String,
    pub uptime_secs: u64,
    pub upstream: HealthUpstream,
    pub store: HealthStore,
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

/// The local database: how it was found at start, whether writes succeed, and the triggers waiting
/// for it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HealthStore {
    /// The database file.
    pub path: String,
    /// How the file was found at start: `created` (there was none: a first run), `existing`, or
    /// `emptied` (a file was there with its content gone, see `emptied`).
    pub origin: StoreOrigin,
    /// When a start found this database emptied, and how it was recognised (kept for every later
    /// start); `null` if never.
    #[schema(required = true)]
    pub emptied: Option<String>,
    /// How long the integrity check (`PRAGMA quick_check`) took at start.
    pub check_ms: f64,
    /// While writes fail: since when, SQLite's words, how many failed; `null` while they succeed.
    #[schema(required = true)]
    pub failing: Option<StoreFailure>,
    /// Writes that failed since the start.
    pub write_failures: u64,
    /// Triggers delivered (unstored) and waiting for the store to write again.
    pub triggers_waiting: usize,
    /// When the oldest of them fired (RFC 3339); `null` when none waits.
    #[schema(required = true)]
    pub oldest_waiting: Option<String>,
    /// Triggers stored after waiting, since the start.
    pub triggers_stored_late: u64,
    /// Triggers delivered that will never be stored (more were waiting than the backlog holds, or
    /// the store refused them), since the start.
    pub triggers_unkept: u64,
}

/// How the database file was found at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreOrigin {
    Created,
    Existing,
    Emptied,
}

/// Writes failing now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StoreFailure {
    /// SQLite's words for the latest failure (`database or disk is full`).
    pub error: String,
    /// The first failure of this run of failures (RFC 3339).
    pub since: String,
    /// Failed writes in this run.
    pub count: u64,
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
