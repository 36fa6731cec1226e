//! `/api/v1/channels`: alert channels (Telegram, Discord, Slack, ntfy, e-mail, webhooks, Web Push)
//! — saved once, secrets masked in every answer (a `PUT` that sends a masked value back keeps the
//! stored one), a test message on request; `/api/v1/triggers/{id}/deliveries`: where each channel's
//! delivery of a trigger stands; `/api/v1/push/key`: the VAPID key a browser subscribes with.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::json::Body;
use super::{ApiError, ApiResult, AppState};
use crate::channels::{ChannelError, ChannelSpec, Channels};
use crate::contract::{Channel, ChannelKind, ChannelTest, DeliveryEntry, ErrorBody, PushKey};

/// A channel to save.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRequest {
    /// `telegram`, `discord`, `slack`, `ntfy`, `email`, `webhook` or `webpush`.
    kind: String,
    name: Option<String>,
    /// The kind's settings (see `Channel.config`); a masked secret sent back keeps the stored one.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    config: serde_json::Value,
    /// New conditions route to it unless they name their channels (default `false`).
    default: Option<bool>,
}

impl From<ChannelError> for ApiError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Config(c) => ApiError::bad_request(
                "invalid_channel",
                format!("{}: {}", c.field, c.en),
                format!("{}: {}", c.field, c.ko),
            ),
            ChannelError::NotFound(id) => {
                ApiError::not_found(format!("no channel {id}"), format!("채널 {id}이(가) 없습니다"))
            }
            ChannelError::Invalid(m) => ApiError::bad_request("invalid_channel", m.clone(), m),
            ChannelError::Store(s) => s.into(),
            ChannelError::Seal(s) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "secrets_unreadable",
                s.to_string(),
                "저장된 비밀값을 열 수 없습니다 (secrets.key가 바뀌었거나 없습니다): 다시 입력하세요",
            ),
        }
    }
}

pub(super) fn service(state: &AppState) -> ApiResult<&Channels> {
    state.channels.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "channels_unavailable",
            "alert channels are not running in this service",
            "이 서비스에서는 알림 채널을 쓸 수 없습니다",
        )
    })
}

fn id_of(raw: &str) -> ApiResult<u64> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            format!("id must be a whole number, got {raw:?}"),
            format!("id는 정수여야 합니다 (입력: {raw:?})"),
        )
    })
}

fn spec(req: ChannelRequest) -> ApiResult<ChannelSpec> {
    let kind = ChannelKind::parse(&req.kind).ok_or_else(|| {
        let known: Vec<&str> = ChannelKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::bad_request(
            "invalid_channel",
            format!("kind must be one of {}, got {:?}", known.join(", "), req.kind),
            format!(
                "kind는 {} 중 하나여야 합니다 (입력: {:?})",
                known.join(", "),
                req.kind
            ),
        )
    })?;
    Ok(ChannelSpec {
        kind,
        name: req.name.unwrap_or_default(),
        config: req.config,
        default: req.default.unwrap_or(false),
    })
}

#[utoipa::path(get, operation_id = "channels_list", path = "/api/v1/channels", tag = "channels", responses((status = 200, description = "every channel, secrets masked", body = Vec<Channel>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Channel>>> {
    Ok(Json(service(&state)?.list().await?))
}

#[utoipa::path(get, operation_id = "channels_get_one", path = "/api/v1/channels/{id}", tag = "channels", params(("id" = u64, Path, description = "channel id")), responses((status = 200, description = "the channel, secrets masked", body = Channel), (status = 404, description = "no such channel", body = ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Channel>> {
    Ok(Json(service(&state)?.get(id_of(&raw)?).await?))
}

#[utoipa::path(post, operation_id = "channels_create", path = "/api/v1/channels", tag = "channels", request_body = ChannelRequest, responses((status = 201, description = "saved; secrets masked", body = Channel), (status = 400, description = "a setting refused (with the field and why)", body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, Body(req): Body<ChannelRequest>) -> ApiResult<Response> {
    let channel = service(&state)?.create(spec(req)?).await?;
    Ok((StatusCode::CREATED, Json(channel)).into_response())
}

#[utoipa::path(put, operation_id = "channels_update", path = "/api/v1/channels/{id}", tag = "channels", params(("id" = u64, Path, description = "channel id")), request_body = ChannelRequest, responses((status = 200, description = "replaced (masked secrets sent back are kept); its failing mark cleared", body = Channel), (status = 400, description = "a setting refused", body = ErrorBody), (status = 404, description = "no such channel", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Body(req): Body<ChannelRequest>,
) -> ApiResult<Json<Channel>> {
    let id = id_of(&raw)?;
    Ok(Json(service(&state)?.update(id, spec(req)?).await?))
}

#[utoipa::path(delete, operation_id = "channels_delete", path = "/api/v1/channels/{id}", tag = "channels", params(("id" = u64, Path, description = "channel id")), responses((status = 204, description = "deleted (and taken out of every condition; its pending deliveries fail)"), (status = 404, description = "no such channel", body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    service(&state)?.delete(id_of(&raw)?).await?;
    state.changed.send_modify(|v| *v += 1);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, operation_id = "channels_test", path = "/api/v1/channels/{id}/test", tag = "channels", params(("id" = u64, Path, description = "channel id")), responses((status = 200, description = "what the provider answered to a test message (`ok` false with the reason when it refused or could not be reached)", body = ChannelTest), (status = 404, description = "no such channel", body = ErrorBody)))]
pub async fn test(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<ChannelTest>> {
    Ok(Json(service(&state)?.test(id_of(&raw)?).await?))
}

#[utoipa::path(get, operation_id = "triggers_deliveries", path = "/api/v1/triggers/{id}/deliveries", tag = "triggers", params(("id" = u64, Path, description = "trigger id")), responses((status = 200, description = "the trigger's delivery to each channel: status pending|delivered|failed|skipped, attempts, last error", body = Vec<DeliveryEntry>), (status = 404, description = "no such trigger", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Vec<DeliveryEntry>>> {
    let id = id_of(&raw)?;
    if state.store.trigger(id).await?.is_none() {
        return Err(ApiError::not_found(
            format!("no trigger {id}"),
            format!("트리거 {id}이(가) 없습니다"),
        ));
    }
    Ok(Json(service(&state)?.deliveries(id).await?))
}

#[utoipa::path(get, operation_id = "push_key", path = "/api/v1/push/key", tag = "channels", responses((status = 200, description = "the VAPID public key for pushManager.subscribe", body = PushKey), (status = 503, description = "Web Push is off", body = ErrorBody)))]
pub async fn push_key(State(state): State<AppState>) -> ApiResult<Json<PushKey>> {
    let key = service(&state)?.push_key().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "push_unavailable",
            "Web Push is off (no VAPID key could be stored)",
            "웹 푸시를 쓸 수 없습니다 (VAPID 키를 저장하지 못했습니다)",
        )
    })?;
    Ok(Json(PushKey { public_key: key }))
}
