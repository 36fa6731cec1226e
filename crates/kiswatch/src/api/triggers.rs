//! `/api/v1/triggers`: what fired, with the values that made it true; acknowledging one.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{Path, Query};
use super::{ApiError, ApiResult, AppState, parse_code};
use crate::contract::{ErrorBody, Trigger};
use crate::store::TriggerQuery;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<String>,
    code: Option<String>,
}

pub(super) fn whole(name: &'static str, raw: &str, max: u64) -> ApiResult<u64> {
    match raw.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("{name} must be a whole number up to {max}, got {raw:?}"),
            format!("{name}은(는) {max} 이하의 정수여야 합니다 (입력: {raw:?})"),
        )),
    }
}

/// `?after=ID` lists later triggers oldest first (for catching up); without it the newest come first.
#[utoipa::path(get, operation_id = "triggers_list", path = "/api/v1/triggers", tag = "triggers", params(("after" = Option<u64>, Query, description = "only ids above, oldest first"), ("limit" = Option<u32>, Query, description = "1..=1000 (default 100)"), ("code" = Option<String>, Query, description = "one stock")), responses((status = 200, description = "triggers with the values that made them true", body = Vec<Trigger>), (status = 400, description = "bad parameter", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<Trigger>>> {
    let after = q
        .after
        .as_deref()
        .map(|a| whole("after", a, i64::MAX as u64))
        .transpose()?;
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => match whole("limit", l, 1000)? {
            0 => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    "limit must be at least 1",
                    "limit는 1 이상이어야 합니다",
                ));
            }
            n => n as usize,
        },
    };
    let code = q.code.as_deref().map(parse_code).transpose()?;
    let rows = state
        .store
        .triggers(TriggerQuery {
            after,
            limit,
            code: code.map(|c| c.to_string()),
        })
        .await?;
    Ok(Json(rows))
}

#[utoipa::path(post, operation_id = "triggers_ack", path = "/api/v1/triggers/{id}/ack", tag = "triggers", params(("id" = u64, Path, description = "trigger id")), responses((status = 200, description = "the acknowledged trigger", body = Trigger), (status = 404, description = "no such trigger", body = ErrorBody)))]
pub async fn ack(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Trigger>> {
    let id = whole("id", &raw, i64::MAX as u64)?;
    if !state.store.ack_trigger(id).await? {
        return Err(ApiError::not_found(
            format!("no trigger {id}"),
            format!("트리거 {id}이(가) 없습니다"),
        ));
    }
    let row = state.store.trigger(id).await?.ok_or_else(|| {
        ApiError::not_found(format!("no trigger {id}"), format!("트리거 {id}이(가) 없습니다"))
    })?;
    Ok(Json(row))
}
