//! `GET /api/v1/market`: the market's date, time and phase for the header's clock, and whether it is
//! the demo's simulated market. In the demo the time is the embedded simulator's clock (asked on
//! loopback, with its speed); elsewhere it is the latest market moment seen upstream.

use axum::Json;
use axum::extract::State;
use jiff::civil::DateTime;

use super::{ApiResult, AppState};
use crate::clock::rfc3339;
use crate::contract::{Market, MarketPhase};

/// The simulator's `/sim/clock` answer: its time and speed.
async fn simulator_clock(state: &AppState) -> Option<(DateTime, f64)> {
    let base = state.sim_url.as_ref()?;
    let v: serde_json::Value = state
        .http
        .get(format!("{base}/sim/clock"))
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let now = v["now"].as_str()?.get(..19)?.parse().ok()?;
    Some((now, v["speed"].as_f64().unwrap_or(1.0)))
}

#[utoipa::path(get, operation_id = "market", path = "/api/v1/market", tag = "service", responses((status = 200, description = "market time, trading day and phase (pre_open|opening_auction|continuous|closing_auction|after_hours|closed|holiday), upstream kind, simulated, speed", body = Market)))]
pub async fn market(State(state): State<AppState>) -> ApiResult<Json<Market>> {
    let simulated = state.sim_url.is_some();
    let (now, speed) = match simulator_clock(&state).await {
        Some((now, speed)) => (Some(now), speed),
        None => (state.gateway.clock.now(), 1.0),
    };
    Ok(Json(Market {
        now: now.map(rfc3339),
        today: now.map(|t| t.date().to_string()),
        phase: now.map(MarketPhase::at),
        upstream: state.upstream.as_str().to_owned(),
        simulated,
        speed,
    }))
}
