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
    /// The request governor of each app key, key 1 first, named by the key's fingerprint.
    pub governor: Vec<HealthGovernor>,
    /// The app keys, key 1 first, named by fingerprint (never the key): which are in use and which
    /// KIS refuses (their work moved to the others).
    pub keys: Vec<HealthKey>,
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
    /// Every alert channel: delivered, retried, failed and pending since the start, and whether it
    /// is failing (a failing channel makes the status `degraded`).
    pub channels: Vec<HealthChannel>,
    /// 조건검색: the universe's daily history (stocks done, calls left, ETA) while a market-scope
    /// condition is enabled (`null` otherwise).
    #[schema(required = true)]
    pub scan: Option<super::UniverseProgress>,
}

/// An alert channel's deliveries, for health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthChannel {
    pub id: u64,
    pub kind: super::ChannelKind,
    pub name: String,
    #[schema(required = true)]
    pub failing: Option<super::ChannelFailing>,
    pub counts: super::ChannelCounts,
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

/// One app key's request governor (the rate limit).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HealthGovernor {
    /// The app key's short fingerprint (8 hex digits of its SHA-256), never the key.
    pub key_fingerprint: String,
    /// N: the requests a second the profile allows the key (20 real, 2 VTS, or `--kis-rate`).
    pub slots: u32,
    /// R ≤ N: the rate in use now. A rate-limit rejection (EGW00201) lowers it at once, when KIS
    /// allows the key less than the profile says; it probes one step up at most every 10 minutes.
    pub effective_rate: u32,
    /// Rate-limit rejections (EGW00201) seen: a few while R finds a lower real limit, then none.
    pub rate_limited_seen: u64,
    /// Where the slots are counted: `local` (this process), `shared` (a file or Redis ledger every
    /// process on the key uses), `connecting`, or `fallback` (a shared ledger out of reach).
    pub ledger: String,
    pub in_flight: u64,
    pub cooling: u64,
    pub queued_interactive: u64,
    pub queued_background: u64,
    pub granted: u64,
    pub mean_wait_ms: f64,
    pub max_wait_ms: f64,
}

impl From<&kis::GovernorMetrics> for HealthGovernor {
    fn from(m: &kis::GovernorMetrics) -> Self {
        HealthGovernor {
            key_fingerprint: m.key_fingerprint.map(|k| k.to_string()).unwrap_or_default(),
            slots: m.slots,
            effective_rate: m.effective_rate,
            rate_limited_seen: m.rate_limited_seen,
            ledger: m.ledger.as_str().to_owned(),
            in_flight: m.in_flight,
            cooling: m.cooling,
            queued_interactive: m.queued_interactive,
            queued_background: m.queued_background,
            granted: m.granted,
            mean_wait_ms: m.mean_wait().as_secs_f64() * 1000.0,
            max_wait_ms: m.max_wait.as_secs_f64() * 1000.0,
        }
    }
}

/// Whether an app key is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// In use.
    Ok,
    /// KIS refuses it (EGW00102–EGW00105: deleted, suspended, wrong secret): no work goes to it; one
    /// call tries it again every 5 minutes.
    Refused,
}

/// One app key of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthKey {
    /// 1-based, as numbered in the credentials (`KIS_APP_KEY_1` …; a plain `KIS_APP_KEY` is 1).
    pub number: usize,
    /// 8 hex digits of the key's SHA-256, never the key.
    pub key_fingerprint: String,
    pub state: KeyState,
    /// KIS's answer when refused; `null` while `ok`.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// When it was refused (RFC 3339); `null` while `ok`.
    #[schema(required = true)]
    pub since: Option<String>,
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
