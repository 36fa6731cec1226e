//! `GET /metrics`: Prometheus text — the governor (queue, in flight, waits, rejections seen), upstream
//! calls by kind and errors by KIS code, cache hits, triggers fired, backfill progress, the live feed,
//! the stock master, the store (failing writes, the startup integrity check, triggers waiting to be
//! stored, stored late, never to be stored).
//!
//! The numbers live where they are produced (the governor, the gateway's counters, the trigger
//! service); at each scrape they are copied into a `metrics` recorder owned by this service (not a
//! process-global one, so several services in one process, as in tests, do not mix) and rendered by
//! `metrics-exporter-prometheus`.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

use super::AppState;
use crate::upstream::CallKind;

/// The service's own recorder.
pub fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new().build_recorder()
}

#[utoipa::path(get, operation_id = "metrics", path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let g = &state.gateway;
    let m = g.client().governor_metrics();
    let c = &g.counters;
    let backfill = state.backfill.as_ref().map(|b| b.progress()).unwrap_or_default();
    let live = state.triggers.as_ref().map(|t| (state.live.stats(), t.fired()));
    let master = state.stocks.master_health();
    let writes = state.store.write_health();
    let check = state.store.opened().check;
    let backlog = state.triggers.as_ref().map(|t| t.backlog());
    metrics::with_local_recorder(&state.metrics, || {
        gauge!("kiswatch_store_failing").set(if writes.failing.is_some() { 1.0 } else { 0.0 });
        counter!("kiswatch_store_write_failures_total").absolute(writes.failures);
        gauge!("kiswatch_store_quick_check_seconds").set(check.as_secs_f64());
        if let Some(b) = &backlog {
            gauge!("kiswatch_triggers_waiting").set(b.waiting as f64);
            counter!("kiswatch_triggers_held_total").absolute(b.held);
            counter!("kiswatch_triggers_stored_late_total").absolute(b.stored_late);
            counter!("kiswatch_triggers_unkept_total").absolute(b.unkept);
            counter!("kiswatch_triggers_store_retries_failed_total").absolute(b.retries_failed);
        }
        gauge!("kiswatch_governor_slots").set(f64::from(m.slots));
        gauge!("kiswatch_governor_in_flight").set(m.in_flight as f64);
        gauge!("kiswatch_governor_cooling").set(m.cooling as f64);
        gauge!("kiswatch_governor_queued", "priority" => "interactive").set(m.queued_interactive as f64);
        gauge!("kiswatch_governor_queued", "priority" => "background").set(m.queued_background as f64);
        counter!("kiswatch_governor_granted_total").absolute(m.granted);
        counter!("kiswatch_governor_cancelled_total").absolute(m.cancelled);
        counter!("kiswatch_governor_rate_limited_seen_total").absolute(m.rate_limited_seen);
        gauge!("kiswatch_governor_wait_seconds_mean").set(m.mean_wait().as_secs_f64());
        gauge!("kiswatch_governor_wait_seconds_max").set(m.max_wait.as_secs_f64());
        for kind in CallKind::ALL {
            counter!("kiswatch_upstream_calls_total", "kind" => kind.as_str()).absolute(c.calls(kind));
        }
        for (code, n) in c.errors() {
            counter!("kiswatch_upstream_errors_total", "code" => code).absolute(n);
        }
        counter!("kiswatch_cache_hits_total").absolute(c.cache_hits.load(Ordering::Relaxed));
        counter!("kiswatch_cache_misses_total").absolute(c.cache_misses.load(Ordering::Relaxed));
        gauge!("kiswatch_upstream_failing").set(if c.is_failing() { 1.0 } else { 0.0 });
        let sum = |f: fn(&crate::history::Progress) -> usize| backfill.iter().map(f).sum::<usize>() as f64;
        gauge!("kiswatch_backfill_stocks").set(backfill.len() as f64);
        gauge!("kiswatch_backfill_stocks_done").set(backfill.iter().filter(|p| p.done).count() as f64);
        gauge!("kiswatch_backfill_minute_bars", "of" => "have").set(sum(|p| p.minutes.have));
        gauge!("kiswatch_backfill_minute_bars", "of" => "need").set(sum(|p| p.minutes.need));
        gauge!("kiswatch_backfill_daily_bars", "of" => "have").set(sum(|p| p.daily.have));
        gauge!("kiswatch_backfill_daily_bars", "of" => "need").set(sum(|p| p.daily.need));
        gauge!("kiswatch_backfill_calls_left").set(sum(|p| p.calls_left));
        if let Some(m) = &master {
            gauge!("kiswatch_master_records").set(m.records as f64);
            gauge!("kiswatch_master_current").set(if m.state == crate::contract::MasterState::Loaded {
                1.0
            } else {
                0.0
            });
        }
        if let Some((live, fired)) = &live {
            counter!("kiswatch_triggers_fired_total").absolute(*fired);
            counter!("kiswatch_live_polls_total").absolute(live.polls);
            counter!("kiswatch_live_trades_total").absolute(live.trades);
            counter!("kiswatch_live_poll_failures_total").absolute(live.failures);
        }
    });
    let text = state.metrics.handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
