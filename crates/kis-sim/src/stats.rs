//! Counters behind `GET /sim/stats` and `SimServer::stats`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// A snapshot of the simulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// REST requests that arrived (after injected latency), every endpoint.
    pub requests: u64,
    /// Requests answered `EGW00201`.
    pub rate_limited: u64,
    /// The most requests (accepted or rejected) from one app key inside any 1-second window.
    pub max_window: u64,
    /// Requests per second per app key, `null` when unlimited.
    pub rate_limit: Option<u32>,
    /// WebSocket sessions open now.
    pub ws_sessions: u64,
    /// Realtime registrations open now, over every session.
    pub subscriptions: u64,
    /// Distinct access tokens issued (a token handed out again within 6 h is not counted).
    pub tokens_issued: u64,
    /// Successful `tokenP` calls (new or reused token).
    pub token_requests: u64,
    /// Realtime records sent (H0STCNT0 and H0STASP0).
    pub ws_records: u64,
    /// Requests failed by fault injection.
    pub injected_errors: u64,
    /// Requests inside their injected latency right now (sent, not yet arrived).
    pub in_flight: u64,
    /// Requests for a stock master file (`/common/master/*`), answered or failed.
    pub master_downloads: u64,
}

/// Live counters, updated with relaxed atomics.
#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub ws_sessions: AtomicU64,
    pub subscriptions: AtomicU64,
    pub token_requests: AtomicU64,
    pub ws_records: AtomicU64,
    pub injected_errors: AtomicU64,
    pub in_flight: AtomicU64,
    pub master_downloads: AtomicU64,
}

impl Counters {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
