//! `GET /api/v1/health`: is the service well, and what is it doing — the upstream (calls and errors
//! by kind, whether it is failing), the store (how it was found at start, whether writes succeed,
//! triggers waiting for it), the governor of each app key (named by its fingerprint, never the key:
//! slots, the effective rate, rate-limit rejections seen), the caches, market time, backfill
//! progress, and the stock master (whether a current copy is in use, and why not). `degraded` while
//! the upstream fails or the store cannot write, with a line per reason.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;

use super::{ApiResult, AppState};
use crate::clock::rfc3339;
use crate::contract::{
    Health, HealthCache, HealthGovernor, HealthKey, HealthLive, HealthMarket, HealthStatus, HealthStore,
    HealthUpstream, KeyState,
};
use crate::upstream::CallKind;

#[utoipa::path(get, operation_id = "health", path = "/api/v1/health", tag = "service", responses((status = 200, description = "status ok|degraded with its reasons, upstream calls and errors, the store (origin, emptied, integrity check time, failing writes, triggers waiting to be stored), the governor of each app key (key_fingerprint, slots, effective_rate, rate_limited_seen), caches, market time, backfill progress, live feed, stock master (state loading|loaded|stale|failed, records, as_of, fetched_at, origin, source, error)", body = Health)))]
pub async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let g = &state.gateway;
    let c = &g.counters;
    let calls = CallKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), c.calls(*k)))
        .collect();
    let history_calls: u64 = CallKind::ALL
        .iter()
        .filter(|k| k.is_history())
        .map(|k| c.calls(*k))
        .sum();
    let failing = c.is_failing();
    let backfill = state.backfill.as_ref().map(|b| b.progress()).unwrap_or_default();
    let store = store_health(&state);
    let keys = keys(&state);
    let mut reasons = Vec::new();
    for k in keys.iter().filter(|k| k.state == KeyState::Refused) {
        reasons.push(format!(
            "upstream: KIS refuses app key {} ({}): {}",
            k.number,
            k.key_fingerprint,
            k.reason.as_deref().unwrap_or_default()
        ));
    }
    if failing {
        reasons.push("upstream: its calls are failing (see upstream.errors)".to_owned());
    }
    let channels = match &state.channels {
        Some(c) => c.health().await,
        None => Vec::new(),
    };
    for c in &channels {
        if let Some(f) = &c.failing {
            reasons.push(format!(
                "channels: {} ({} {}) is failing since {}: {}",
                c.name,
                c.kind.as_str(),
                c.id,
                f.since,
                f.error
            ));
        }
    }
    let webhooks_failed: u64 = channels
        .iter()
        .filter(|c| c.kind == crate::contract::ChannelKind::Webhook)
        .map(|c| c.counts.failed)
        .sum();
    let backlog = state.triggers.as_ref().and_then(|t| t.backlog().reason());
    match (backlog, &store.failing) {
        (Some(waiting), _) => reasons.push(waiting),
        (None, Some(f)) => reasons.push(format!(
            "store: writes fail since {} ({} so far): {}",
            f.since, f.count, f.error
        )),
        (None, None) => {}
    }
    Ok(Json(Health {
        status: if reasons.is_empty() {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        },
        reasons,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_secs: state.started.elapsed().as_secs(),
        upstream: HealthUpstream {
            kind: state.upstream.as_str().to_owned(),
            namespace: state.namespace.clone(),
            failing,
            calls,
            history_calls,
            errors: c.errors(),
        },
        store,
        governor: governors(&state),
        keys,
        cache: HealthCache {
            hits: c.cache_hits.load(Ordering::Relaxed),
            misses: c.cache_misses.load(Ordering::Relaxed),
        },
        market: HealthMarket {
            now: g.clock.now().map(rfc3339),
            today: g.clock.today().map(|d| d.to_string()),
        },
        backfill,
        live: state.triggers.as_ref().map(|t| HealthLive {
            feed: state.live.stats(),
            triggers_fired: t.fired(),
            webhooks_failed,
        }),
        master: state.stocks.master_health(),
        channels,
        scan: state
            .scans
            .as_ref()
            .filter(|s| s.is_scanning())
            .map(|s| s.progress()),
    }))
}

/// The store's part of the health report.
fn store_health(state: &AppState) -> HealthStore {
    let opened = state.store.opened();
    let writes = state.store.write_health();
    let backlog = state.triggers.as_ref().map(|t| t.backlog()).unwrap_or_default();
    HealthStore {
        path: state.store.path().display().to_string(),
        origin: opened.origin,
        emptied: opened.emptied.clone(),
        check_ms: opened.check.as_secs_f64() * 1000.0,
        failing: writes.failing,
        write_failures: writes.failures,
        triggers_waiting: backlog.waiting,
        oldest_waiting: backlog.oldest,
        triggers_stored_late: backlog.stored_late,
        triggers_unkept: backlog.unkept,
    }
}

/// One entry per app key, key 1 first.
fn governors(state: &AppState) -> Vec<HealthGovernor> {
    state
        .gateway
        .keys()
        .keys()
        .iter()
        .map(|k| HealthGovernor::from(&k.client.governor_metrics()))
        .collect()
}

/// Every app key with its state.
fn keys(state: &AppState) -> Vec<HealthKey> {
    state
        .gateway
        .keys()
        .keys()
        .iter()
        .map(|k| {
            let refusal = k.refusal();
            HealthKey {
                number: k.number,
                key_fingerprint: k.fingerprint.to_string(),
                state: if refusal.is_some() {
                    KeyState::Refused
                } else {
                    KeyState::Ok
                },
                since: refusal.as_ref().map(|r| r.at.to_string()),
                reason: refusal.map(|r| r.reason),
            }
        })
        .collect()
}
