//! `/api/v1/triggers`: what fired, with the values that made it true; acknowledging one.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::ErrorBody;
use super::{ApiError, ApiResult, AppState, parse_code};
use crate::store::{TriggerQuery, TriggerRow};

/// A trigger as the API and the WebSocket show it.
pub fn trigger_json(t: &TriggerRow) -> Value {
    let values: Map<String, Value> = t
        .trigger
        .values
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "id": t.id,
        "code": t.trigger.code,
        "name": t.trigger.name,
        "condition_id": t.trigger.condition_id,
        "condition_name": t.trigger.condition_name,
        "period": t.trigger.period,
        "bar_time": t.trigger.bar_time,
        "time": t.trigger.time,
        "price": t.trigger.price,
        "values": values,
        "late": t.trigger.late,
        "acked": t.acked,
        "message": t.trigger.message_en,
        "message_ko": t.trigger.message_ko,
        "recorded_at": t.recorded_at,
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    limit: Option<String>,
    code: Option<String>,
}

fn whole(name: &'static str, raw: &str, max: u64) -> ApiResult<u64> {
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
#[utoipa::path(get, operation_id = "triggers_list", path = "/api/v1/triggers", tag = "triggers", params(("after" = Option<u64>, Query, description = "only ids above, oldest first"), ("limit" = Option<u32>, Query, description = "1..=1000 (default 100)"), ("code" = Option<String>, Query, description = "one stock")), responses((status = 200, description = "triggers with the values that made them true"), (status = 400, description = "bad parameter", body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
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
    Ok(Json(Value::Array(rows.iter().map(trigger_json).collect())))
}

#[utoipa::path(post, operation_id = "triggers_ack", path = "/api/v1/triggers/{id}/ack", tag = "triggers", params(("id" = u64, Path, description = "trigger id")), responses((status = 200, description = "the acknowledged trigger"), (status = 404, description = "no such trigger", body = ErrorBody)))]
pub async fn ack(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let id = whole("id", &raw, i64::MAX as u64)?;
    if !state.store.ack_trigger(id).await? {
        return Err(ApiError::not_found(
            format!("no trigger {id}"),
            format!("트리거 {id}이(가) 없습니다"),
        ));
    }
    let row = state.store.trigger(id).await?;
    Ok(Json(
        row.as_ref()
            .map_or(json!({"id": id, "acked": true}), trigger_json),
    ))
}
