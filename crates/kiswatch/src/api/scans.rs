//! 조건검색: a market-scope condition's result set and its 편입/이탈 events (`/api/v1/conditions/{id}/
//! matches`, `/events`). Live changes reach the browser on the WebSocket's `scan:<id>` channel.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::conditions::{id_of, no_such};
use super::extract::{Path, Query};
use super::triggers::whole;
use super::{ApiError, ApiResult, AppState};
use crate::contract::{
    ConditionScope, ErrorBody, ScanBacktestReport, ScanEvent, ScanMatch, ScanMatches, TriggerValues,
    UniverseProgress,
};
use crate::store::ConditionRow;

/// The condition, which must be a market-scope one.
async fn market_condition(state: &AppState, raw: &str) -> ApiResult<ConditionRow> {
    let id = id_of(raw)?;
    let row = state.store.condition(id).await?.ok_or_else(|| no_such(id))?;
    if row.spec.scope != ConditionScope::Market {
        return Err(ApiError::bad_request(
            "not_market_scope",
            format!(
                "condition {id} watches the watchlist (scope \"watchlist\"): it has triggers, not matches"
            ),
            format!("조건 {id}은(는) 관심종목 조건입니다 (scope \"watchlist\"): 조건검색 결과가 없습니다"),
        ));
    }
    Ok(row)
}

#[utoipa::path(get, operation_id = "conditions_matches", path = "/api/v1/conditions/{id}/matches", tag = "conditions", params(("id" = u64, Path, description = "a market-scope condition's id")), responses((status = 200, description = "who matches now (by 등락률), since when, with the values; the last sweep's time; the universe backfill's progress", body = ScanMatches), (status = 400, description = "a watchlist-scope condition", body = ErrorBody), (status = 404, description = "no such condition", body = ErrorBody)))]
pub async fn matches(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<ScanMatches>> {
    let row = market_condition(&state, &raw).await?;
    if let Some(m) = state.scans.as_ref().and_then(|s| s.matches(row.id)) {
        return Ok(Json(m));
    }
    // Not scanned (disabled, or the scan is being built): the stored result set, without quotes.
    let stored = state.store.scan_members(row.id).await?;
    let matches = stored
        .into_iter()
        .map(|m| {
            let meta = market::StockCode::parse(&m.code)
                .ok()
                .and_then(|c| state.stocks.get(c));
            ScanMatch {
                name: meta.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                market: meta.map(|x| x.market).unwrap_or_default(),
                code: m.code,
                price: 0,
                change: 0,
                change_rate: 0.0,
                turnover: 0,
                volume: 0,
                since: m.since,
                values: TriggerValues(m.values),
            }
        })
        .collect();
    let condition = market::Condition::parse(&row.spec.expr).ok();
    let period = condition
        .as_ref()
        .map(|c| c.period.as_str().to_string())
        .unwrap_or_default();
    Ok(Json(ScanMatches {
        condition_id: row.id,
        name: row.spec.name.clone(),
        expr: row.spec.expr.clone(),
        period,
        as_of: None,
        closed: false,
        universe: 0,
        evaluated: 0,
        progress: state
            .scans
            .as_ref()
            .map(|s| s.progress())
            .unwrap_or(UniverseProgress::default()),
        history: condition
            .and_then(|c| market::scan::MarketScan::new(c).ok())
            .map(|s| crate::scan::service::history_of(&s)),
        matches,
    }))
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    after: Option<String>,
    limit: Option<String>,
}

#[utoipa::path(get, operation_id = "conditions_events", path = "/api/v1/conditions/{id}/events", tag = "conditions", params(("id" = u64, Path, description = "a market-scope condition's id"), ("after" = Option<u64>, Query, description = "only event ids above"), ("limit" = Option<u32>, Query, description = "1..=1000 (default 100)")), responses((status = 200, description = "편입 (enter) and 이탈 (leave) events, oldest first (without after: the latest)", body = Vec<ScanEvent>), (status = 400, description = "bad parameter, or a watchlist-scope condition", body = ErrorBody), (status = 404, description = "no such condition", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<Vec<ScanEvent>>> {
    let row = market_condition(&state, &raw).await?;
    let after = q
        .after
        .as_deref()
        .map(|a| whole("after", a, i64::MAX as u64))
        .transpose()?;
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => whole("limit", l, 1000)?.max(1) as usize,
    };
    Ok(Json(state.store.scan_events(row.id, after, limit).await?))
}

#[utoipa::path(get, operation_id = "conditions_scan_backtest", path = "/api/v1/conditions/{id}/backtest", tag = "conditions", params(("id" = u64, Path, description = "a market-scope condition's id")), responses((status = 200, description = "the scan over the universe's stored daily history: matches and entries per day, forward returns after 편입 (1/5/20 bars) against the universe's average", body = ScanBacktestReport), (status = 400, description = "a watchlist-scope condition", body = ErrorBody), (status = 404, description = "no such condition", body = ErrorBody), (status = 422, description = "the condition no longer compiles", body = ErrorBody)))]
pub async fn backtest(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<ScanBacktestReport>> {
    let row = market_condition(&state, &raw).await?;
    crate::scan::backtest::run(&state.store, &state.stocks, &row)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_condition",
                format!("condition {} does not compile any more", row.id),
                format!("조건 {}을(를) 더 이상 해석할 수 없습니다", row.id),
            )
        })
}
