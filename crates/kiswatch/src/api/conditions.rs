//! `/api/v1/conditions`: buy conditions in the condition language, with their options. A condition
//! that does not parse is refused with 422, the position of the mistake and the parser's message in
//! Korean and English; nothing is stored.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use market::Condition;
use market::trigger::Mode;
use serde::Deserialize;

use super::json::Body;
use super::{ApiError, ApiResult, AppState};
use crate::contract::{self, ConditionScope, ErrorBody};
use crate::outbound::Outbound;
use crate::store::NewCondition;

/// The longest cooldown accepted (a week).
const MAX_COOLDOWN_SECS: u64 = 7 * 24 * 3600;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionRequest {
    name: Option<String>,
    expr: String,
    enabled: Option<bool>,
    mode: Option<String>,
    cooldown_secs: Option<u64>,
    webhook: Option<String>,
    /// `watchlist` (the default) or `market`.
    scope: Option<String>,
    /// Only with `"scope": "market"`: which listings the condition covers.
    filters: Option<contract::ScanFilters>,
}

/// The scope and filters of a request: intraday periods are refused for the market (minute bars for
/// ~2,500 listings cannot be had at 20 requests a second), filters for the watchlist.
fn scope_and_filters(
    req_scope: Option<&str>,
    filters: Option<contract::ScanFilters>,
    condition: &Condition,
) -> ApiResult<(ConditionScope, Option<contract::ScanFilters>)> {
    let scope = match req_scope {
        None => ConditionScope::Watchlist,
        Some(s) => ConditionScope::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_scope",
                format!("scope must be \"watchlist\" or \"market\", got {s:?}"),
                format!("scope는 \"watchlist\" 또는 \"market\"이어야 합니다 (입력: {s:?})"),
            )
        })?,
    };
    match scope {
        ConditionScope::Watchlist => {
            if filters.is_some() {
                return Err(ApiError::bad_request(
                    "invalid_filters",
                    "filters apply only to a condition with \"scope\": \"market\"",
                    "filters는 scope가 \"market\"인 조건에만 쓸 수 있습니다",
                ));
            }
            Ok((scope, None))
        }
        ConditionScope::Market => {
            let period = condition.period;
            if period.is_intraday() {
                return Err(ApiError::bad_request(
                    "intraday_market_scope",
                    format!(
                        "a market-scope condition runs on daily, weekly or monthly bars (D, W, M), not {}: \
                         minute bars for ~2,500 listings cannot be fetched at 20 requests a second; \
                         use scope \"watchlist\" for an intraday condition",
                        period.as_str()
                    ),
                    format!(
                        "전체 시장 조건은 일/주/월봉(D, W, M)만 쓸 수 있습니다 ({}분봉 불가): 약 2,500 종목의 \
                         분봉은 초당 20건으로 받을 수 없습니다. 분봉 조건은 scope \"watchlist\"로 만드세요",
                        period.minutes().unwrap_or_default()
                    ),
                ));
            }
            let filters = filters.unwrap_or_default();
            if let Some(m) = filters
                .markets
                .iter()
                .find(|m| !matches!(m.as_str(), "KOSPI" | "KOSDAQ"))
            {
                return Err(ApiError::bad_request(
                    "invalid_filters",
                    format!("filters.markets takes \"KOSPI\" and \"KOSDAQ\", got {m:?}"),
                    format!("filters.markets는 \"KOSPI\", \"KOSDAQ\"만 받습니다 (입력: {m:?})"),
                ));
            }
            if filters.min_price.is_some_and(|p| p < 0) {
                return Err(ApiError::bad_request(
                    "invalid_filters",
                    "filters.min_price cannot be negative",
                    "filters.min_price는 음수일 수 없습니다",
                ));
            }
            Ok((scope, Some(filters)))
        }
    }
}

/// Checks a request; the 422 for an expression that does not parse carries its position. A webhook
/// must pass `outbound`'s policy ([`crate::outbound`]: http(s), no user info, no private, loopback,
/// link-local or metadata address unless `--allow-private-webhooks`); a refused one is a 400
/// `invalid_webhook` saying what was refused and why.
pub fn validate(req: ConditionRequest, outbound: &Outbound) -> ApiResult<NewCondition> {
    let condition = Condition::parse(&req.expr)?;
    let (scope, filters) = scope_and_filters(req.scope.as_deref(), req.filters, &condition)?;
    let name = req.name.map(|n| n.trim().to_string()).unwrap_or_default();
    let name = if name.is_empty() {
        condition.source().to_string()
    } else {
        name
    };
    if name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name is longer than 100 characters",
            "이름이 100자를 넘습니다",
        ));
    }
    let mode = match req.mode.as_deref() {
        None => Mode::default(),
        Some(m) => Mode::parse(m).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_mode",
                format!("mode must be \"every_tick\", \"on_close\" or \"once_per_day\", got {m:?}"),
                format!(
                    "mode는 \"every_tick\", \"on_close\", \"once_per_day\" 중 하나여야 합니다 (입력: {m:?})"
                ),
            )
        })?,
    };
    let cooldown_secs = req.cooldown_secs.unwrap_or(0);
    if cooldown_secs > MAX_COOLDOWN_SECS {
        return Err(ApiError::bad_request(
            "invalid_cooldown",
            format!("cooldown_secs must be at most {MAX_COOLDOWN_SECS} (a week)"),
            format!("cooldown_secs는 최대 {MAX_COOLDOWN_SECS}초(일주일)입니다"),
        ));
    }
    let webhook = req
        .webhook
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty());
    if let Some(w) = &webhook
        && let Err(e) = outbound.check(w)
    {
        return Err(ApiError::bad_request(
            "invalid_webhook",
            format!("webhook refused: {e}"),
            format!("webhook을 저장할 수 없습니다: {}", e.message_ko()),
        ));
    }
    Ok(NewCondition {
        name,
        expr: condition.source().to_string(),
        enabled: req.enabled.unwrap_or(true),
        mode,
        cooldown_secs,
        webhook,
        scope,
        filters,
    })
}

fn no_such(id: u64) -> ApiError {
    ApiError::not_found(format!("no condition {id}"), format!("조건 {id}이(가) 없습니다"))
}

fn id_of(raw: &str) -> ApiResult<u64> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            format!("condition id must be a whole number, got {raw:?}"),
            format!("조건 id는 정수여야 합니다 (입력: {raw:?})"),
        )
    })
}

#[utoipa::path(get, operation_id = "conditions_list", path = "/api/v1/conditions", tag = "conditions", responses((status = 200, description = "every condition", body = Vec<contract::Condition>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<contract::Condition>>> {
    let rows = state.store.conditions().await?;
    Ok(Json(rows.iter().map(contract::Condition::from).collect()))
}

#[utoipa::path(get, operation_id = "conditions_get_one", path = "/api/v1/conditions/{id}", tag = "conditions", params(("id" = u64, Path, description = "condition id")), responses((status = 200, description = "the condition", body = contract::Condition), (status = 404, description = "no such condition", body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<contract::Condition>> {
    let id = id_of(&raw)?;
    let row = state.store.condition(id).await?.ok_or_else(|| no_such(id))?;
    Ok(Json(contract::Condition::from(&row)))
}

#[utoipa::path(post, operation_id = "conditions_create", path = "/api/v1/conditions", tag = "conditions", request_body = ConditionRequest, responses((status = 201, description = "stored", body = contract::Condition), (status = 400, description = "bad option", body = ErrorBody), (status = 422, description = "the expression does not parse (with position)", body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, Body(req): Body<ConditionRequest>) -> ApiResult<Response> {
    let new = validate(req, &state.outbound)?;
    let row = state.store.add_condition(new).await?;
    state.changed.send_modify(|v| *v += 1);
    Ok((StatusCode::CREATED, Json(contract::Condition::from(&row))).into_response())
}

#[utoipa::path(put, operation_id = "conditions_update", path = "/api/v1/conditions/{id}", tag = "conditions", params(("id" = u64, Path, description = "condition id")), request_body = ConditionRequest, responses((status = 200, description = "replaced", body = contract::Condition), (status = 404, description = "no such condition", body = ErrorBody), (status = 422, description = "the expression does not parse (with position)", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Body(req): Body<ConditionRequest>,
) -> ApiResult<Json<contract::Condition>> {
    let id = id_of(&raw)?;
    let new = validate(req, &state.outbound)?;
    let row = state
        .store
        .update_condition(id, new)
        .await?
        .ok_or_else(|| no_such(id))?;
    state.changed.send_modify(|v| *v += 1);
    Ok(Json(contract::Condition::from(&row)))
}

#[utoipa::path(delete, operation_id = "conditions_delete", path = "/api/v1/conditions/{id}", tag = "conditions", params(("id" = u64, Path, description = "condition id")), responses((status = 204, description = "deleted"), (status = 404, description = "no such condition", body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    let id = id_of(&raw)?;
    if !state.store.delete_condition(id).await? {
        return Err(no_such(id));
    }
    state.changed.send_modify(|v| *v += 1);
    Ok(StatusCode::NO_CONTENT)
}
