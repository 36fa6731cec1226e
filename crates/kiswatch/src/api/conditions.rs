//! `/api/v1/conditions`: buy conditions in the condition language, with their options. A condition
//! that does not parse is refused with 422, the position of the mistake and the parser's message in
//! Korean and English; nothing is stored.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use market::Condition;
use market::trigger::Mode;
use serde::Deserialize;

use super::extract::Path;
use super::json::Body;
use super::{ApiError, ApiResult, AppState};
use crate::contract::{self, ConditionScope, ErrorBody, QuietHours};
use crate::outbound::Outbound;
use crate::store::{ConditionRow, DEFAULT_COOLDOWN_SECS, NewCondition};

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
    /// Deprecated: a webhook URL; it becomes a webhook channel listed in `channels` (a masked value
    /// sent back changes nothing).
    webhook: Option<String>,
    /// Alert channel ids. Left out: the default channels for a new condition, the same channels
    /// for a replaced one.
    channels: Option<Vec<u64>>,
    /// `{"start":"15:30","end":"09:00"}` (Korean time): no alert leaves through the channels inside.
    quiet_hours: Option<QuietHours>,
    /// RFC 3339: after this the condition fires no more.
    expires_at: Option<String>,
    /// A browser notification for each trigger (default true).
    notify: Option<bool>,
    /// The alert sound for each trigger (default true).
    sound: Option<bool>,
    /// `watchlist` (the default) or `market`.
    scope: Option<String>,
    /// Only with `"scope": "market"`: which listings the condition covers.
    filters: Option<contract::ScanFilters>,
}

/// The channels part of a request, resolved by the handler (it needs the channel service).
pub struct Routing {
    channels: Option<Vec<u64>>,
    /// A webhook URL to turn into a channel.
    webhook: Option<String>,
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
pub fn validate(req: ConditionRequest, outbound: &Outbound) -> ApiResult<(NewCondition, Routing)> {
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
    let cooldown_secs = req.cooldown_secs.unwrap_or(DEFAULT_COOLDOWN_SECS);
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
        .filter(|w| !w.is_empty() && !w.contains(crate::channels::config::MASK));
    if let Some(q) = &req.quiet_hours
        && (crate::channels::parse_hhmm(&q.start).is_none() || crate::channels::parse_hhmm(&q.end).is_none())
    {
        return Err(ApiError::bad_request(
            "invalid_quiet_hours",
            "quiet_hours needs start and end as HH:MM (00:00-23:59)",
            "quiet_hours의 start와 end는 HH:MM(00:00~23:59) 형식이어야 합니다",
        ));
    }
    if let Some(e) = &req.expires_at
        && e.parse::<jiff::Timestamp>().is_err()
    {
        return Err(ApiError::bad_request(
            "invalid_expires_at",
            format!("expires_at must be an RFC 3339 time such as 2026-12-31T15:30:00+09:00, got {e:?}"),
            format!("expires_at은 2026-12-31T15:30:00+09:00 같은 RFC 3339 시각이어야 합니다 (입력: {e:?})"),
        ));
    }
    if let Some(w) = &webhook
        && let Err(e) = outbound.check(w)
    {
        return Err(ApiError::bad_request(
            "invalid_webhook",
            format!("webhook refused: {e}"),
            format!("webhook을 저장할 수 없습니다: {}", e.message_ko()),
        ));
    }
    Ok((
        NewCondition {
            name,
            expr: condition.source().to_string(),
            enabled: req.enabled.unwrap_or(true),
            mode,
            cooldown_secs,
            webhook: None,
            notify: req.notify.unwrap_or(true),
            sound: req.sound.unwrap_or(true),
            channels: Vec::new(),
            quiet_hours: req.quiet_hours,
            expires_at: req.expires_at,
            scope,
            filters,
        },
        Routing {
            channels: req.channels,
            webhook,
        },
    ))
}

/// The condition's channels: those asked for (else `fallback`), plus the webhook channel of a
/// legacy `webhook`; every id must name a channel.
async fn resolve(state: &AppState, routing: Routing, fallback: Vec<u64>) -> ApiResult<Vec<u64>> {
    let asked = routing.channels.is_some();
    let mut ids = routing.channels.unwrap_or(fallback);
    let Some(channels) = state.channels.as_ref() else {
        if routing.webhook.is_some() || (asked && !ids.is_empty()) {
            return Err(super::channels::service(state).unwrap_err());
        }
        return Ok(ids);
    };
    if let Some(url) = routing.webhook {
        let id = channels.webhook_channel(&url).await?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    if let Some(bad) = channels.unknown_channel(&ids) {
        return Err(ApiError::bad_request(
            "invalid_channels",
            format!("no channel {bad} (see /api/v1/channels)"),
            format!("채널 {bad}이(가) 없습니다 (/api/v1/channels 참고)"),
        ));
    }
    Ok(ids)
}

/// A condition as answered: its legacy `webhook` is the masked URL of its first webhook channel.
fn answer(state: &AppState, row: &ConditionRow) -> contract::Condition {
    let mut c = contract::Condition::from(row);
    c.webhook = state
        .channels
        .as_ref()
        .and_then(|ch| ch.webhook_of(&row.spec.channels));
    c
}

pub(super) fn no_such(id: u64) -> ApiError {
    ApiError::not_found(format!("no condition {id}"), format!("조건 {id}이(가) 없습니다"))
}

pub(super) fn id_of(raw: &str) -> ApiResult<u64> {
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
    Ok(Json(rows.iter().map(|r| answer(&state, r)).collect()))
}

#[utoipa::path(get, operation_id = "conditions_get_one", path = "/api/v1/conditions/{id}", tag = "conditions", params(("id" = u64, Path, description = "condition id")), responses((status = 200, description = "the condition", body = contract::Condition), (status = 404, description = "no such condition", body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<contract::Condition>> {
    let id = id_of(&raw)?;
    let row = state.store.condition(id).await?.ok_or_else(|| no_such(id))?;
    Ok(Json(answer(&state, &row)))
}

#[utoipa::path(post, operation_id = "conditions_create", path = "/api/v1/conditions", tag = "conditions", request_body = ConditionRequest, responses((status = 201, description = "stored", body = contract::Condition), (status = 400, description = "bad option", body = ErrorBody), (status = 422, description = "the expression does not parse (with position)", body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, Body(req): Body<ConditionRequest>) -> ApiResult<Response> {
    let (mut new, routing) = validate(req, &state.outbound)?;
    let defaults = match &state.channels {
        Some(c) => c.default_channels().await?,
        None => Vec::new(),
    };
    new.channels = resolve(&state, routing, defaults).await?;
    let row = state.store.add_condition(new).await?;
    state.changed.send_modify(|v| *v += 1);
    Ok((StatusCode::CREATED, Json(answer(&state, &row))).into_response())
}

#[utoipa::path(put, operation_id = "conditions_update", path = "/api/v1/conditions/{id}", tag = "conditions", params(("id" = u64, Path, description = "condition id")), request_body = ConditionRequest, responses((status = 200, description = "replaced", body = contract::Condition), (status = 404, description = "no such condition", body = ErrorBody), (status = 422, description = "the expression does not parse (with position)", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Body(req): Body<ConditionRequest>,
) -> ApiResult<Json<contract::Condition>> {
    let id = id_of(&raw)?;
    let existing = state.store.condition(id).await?.ok_or_else(|| no_such(id))?;
    let mut req = req;
    // Left out, the scope (and a market scan's filters) stay as stored, like the channels: a client
    // that only toggles `enabled` does not turn a 조건검색 into a watchlist condition.
    if req.scope.is_none() {
        req.scope = Some(existing.spec.scope.as_str().to_string());
        if req.filters.is_none() {
            req.filters = existing.spec.filters.clone();
        }
    }
    let (mut new, routing) = validate(req, &state.outbound)?;
    new.channels = resolve(&state, routing, existing.spec.channels).await?;
    let row = state
        .store
        .update_condition(id, new)
        .await?
        .ok_or_else(|| no_such(id))?;
    state.changed.send_modify(|v| *v += 1);
    Ok(Json(answer(&state, &row)))
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
