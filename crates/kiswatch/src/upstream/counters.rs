//! What the upstream cost: calls by kind (each logical call once, whatever its retries), errors by
//! KIS code, cache hits and misses, and whether the upstream is failing now. Health and `/metrics`
//! read these.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use kis::KisError;

/// The kinds of upstream call, as counted by [`UpstreamCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallKind {
    Price,
    OrderBook,
    Executions,
    TodayMinutes,
    PastMinutes,
    Daily,
    StockInfo,
    /// 조건검색's sweeps (intstock-multprice, 30 codes a call).
    MultiPrice,
}

impl CallKind {
    pub const ALL: [CallKind; 8] = [
        CallKind::Price,
        CallKind::OrderBook,
        CallKind::Executions,
        CallKind::TodayMinutes,
        CallKind::PastMinutes,
        CallKind::Daily,
        CallKind::StockInfo,
        CallKind::MultiPrice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Price => "price",
            CallKind::OrderBook => "orderbook",
            CallKind::Executions => "executions",
            CallKind::TodayMinutes => "today_minutes",
            CallKind::PastMinutes => "past_minutes",
            CallKind::Daily => "daily",
            CallKind::StockInfo => "stock_info",
            CallKind::MultiPrice => "multi_price",
        }
    }

    /// Candle history (what a restart must not fetch again).
    pub fn is_history(self) -> bool {
        matches!(self, CallKind::PastMinutes | CallKind::Daily)
    }
}

/// Upstream calls by kind (each logical call once, whatever its retries), errors by KIS code, and
/// cache hits.
#[derive(Debug, Default)]
pub struct UpstreamCounters {
    calls: [AtomicU64; 8],
    errors: Mutex<BTreeMap<String, u64>>,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    /// The last upstream failure that may pass (rate limit, 5xx, timeout), as a Unix time in ms; 0
    /// when the last call succeeded.
    failing_since_ms: AtomicU64,
}

impl UpstreamCounters {
    fn index(kind: CallKind) -> usize {
        CallKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
    }

    pub fn calls(&self, kind: CallKind) -> u64 {
        self.calls[Self::index(kind)].load(Ordering::Relaxed)
    }

    /// Errors by KIS code (`msg_cd`) or by kind (`timeout`, `transport`, `http_503`, …).
    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the upstream failed transiently on its last call.
    pub fn is_failing(&self) -> bool {
        self.failing_since_ms.load(Ordering::Relaxed) != 0
    }

    pub(super) fn record<T>(&self, kind: CallKind, result: &Result<T, KisError>) {
        self.calls[Self::index(kind)].fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(_) => self.failing_since_ms.store(0, Ordering::Relaxed),
            Err(e) => {
                let key = match e {
                    KisError::Api { msg_cd, .. } => msg_cd.clone(),
                    KisError::RateLimited { .. } => kis::error::MSG_RATE_LIMITED.into(),
                    KisError::TokenExpired { .. } => kis::error::MSG_TOKEN_EXPIRED.into(),
                    KisError::NotFound { .. } => "not_found".into(),
                    KisError::Http { status, .. } => format!("http_{status}"),
                    KisError::Timeout { .. } => "timeout".into(),
                    KisError::Transport { .. } => "transport".into(),
                    KisError::Parse { .. } | KisError::Decode { .. } => "decode".into(),
                    KisError::TokenIssuance { code, .. } => code.clone(),
                    other => format!("{:?}", std::mem::discriminant(other)),
                };
                *self
                    .errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(key)
                    .or_default() += 1;
                if e.is_retryable() {
                    let now = jiff::Timestamp::now().as_millisecond().max(1) as u64;
                    let _ =
                        self.failing_since_ms
                            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
                }
            }
        }
    }
}
