//! `/oauth2/tokenP`, `/oauth2/revokeP`, `/oauth2/Approval` and `/uapi/hashkey`.
//!
//! The `/oauth2/*` endpoints answer errors as HTTP 403 `{"error_code","error_description"}`. They
//! are not rate-limited per second (their own limit is one token per minute) but do go through
//! latency injection and the request counter.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::auth::TokenError;
use crate::auth::credentials::DigestStream;
use crate::envelope::{KisError, Shape, kis_json};
use crate::format::{Obj, write_json_str};
use crate::rest::{admit, check_credentials, on_the_wire};
use crate::server::AppState;
use crate::stats::Counters;

async fn arrive(state: &AppState) {
    on_the_wire(state).await;
    Counters::inc(&state.counters.requests);
}

fn json_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, KisError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(KisError::InvalidRequest),
    }
}

fn field<'a>(map: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    map.get(name).and_then(Value::as_str)
}

fn grant_type(map: &serde_json::Map<String, Value>) -> Result<(), KisError> {
    match field(map, "grant_type") {
        None | Some("") => Err(KisError::MissingGrantType),
        Some("client_credentials") => Ok(()),
        Some(_) => Err(KisError::UnsupportedGrantType),
    }
}

/// `POST /oauth2/tokenP` `{"grant_type":"client_credentials","appkey","appsecret"}`
pub(crate) async fn token(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    arrive(&state).await;
    match issue_token(&state, &body) {
        Ok(body) => kis_json(StatusCode::OK, None, body),
        Err(err) => err.response(Shape::OAuth, None),
    }
}

fn issue_token(state: &AppState, body: &[u8]) -> Result<String, KisError> {
    let map = json_body(body)?;
    grant_type(&map)?;
    let app_key = check_credentials(state, field(&map, "appkey"), field(&map, "appsecret"))?;
    let grant = state
        .tokens
        .issue(app_key, tokio::time::Instant::now(), jiff::Timestamp::now())
        .map_err(|err| match err {
            TokenError::TooSoon => KisError::TokenTooSoon,
            _ => KisError::InvalidRequest,
        })?;
    Counters::inc(&state.counters.token_requests);
    let expired = market::time::to_kst(grant.expires_at)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let mut o = Obj::with_capacity(400);
    o.text("access_token", &grant.access_token)
        .text("access_token_token_expired", &expired)
        .text("token_type", "Bearer")
        .raw("expires_in", &grant.expires_in.to_string());
    Ok(o.finish())
}

/// `POST /oauth2/revokeP` `{"appkey","appsecret","token"}`
pub(crate) async fn revoke(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    arrive(&state).await;
    let result = json_body(&body).and_then(|map| {
        let app_key = check_credentials(&state, field(&map, "appkey"), field(&map, "appsecret"))?;
        let token = field(&map, "token")
            .filter(|t| !t.is_empty())
            .ok_or(KisError::InvalidToken)?;
        if state.tokens.revoke(token, app_key) {
            Ok(())
        } else {
            Err(KisError::InvalidToken)
        }
    });
    match result {
        Ok(()) => kis_json(
            StatusCode::OK,
            None,
            r#"{"code":200,"message":"접근토큰 폐기에 성공하였습니다"}"#.to_string(),
        ),
        Err(err) => err.response(Shape::OAuth, None),
    }
}

/// `POST /oauth2/Approval` `{"grant_type":"client_credentials","appkey","secretkey"}` → `{"approval_key"}`
pub(crate) async fn approval(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    arrive(&state).await;
    let result = json_body(&body).and_then(|map| {
        grant_type(&map)?;
        let app_key = check_credentials(&state, field(&map, "appkey"), field(&map, "secretkey"))?;
        Ok(state.approvals.issue(app_key))
    });
    match result {
        Ok(key) => {
            let mut o = Obj::with_capacity(64);
            o.text("approval_key", &key);
            kis_json(StatusCode::OK, None, o.finish())
        }
        Err(err) => err.response(Shape::OAuth, None),
    }
}

/// `POST /uapi/hashkey`: headers `appkey`/`appsecret`, body = any JSON object → `{"BODY":…,"HASH":…}`.
pub(crate) async fn hashkey(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(err) = admit(&state, &headers, false).await {
        return err.response(Shape::Api, None);
    }
    let Ok(value @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return KisError::InvalidJson.response(Shape::Api, None);
    };
    let canonical = value.to_string();
    let mut stream = DigestStream::new(b"kis-sim hashkey v1", canonical.as_bytes());
    let hash: String = (0..4).map(|_| format!("{:016x}", stream.next_u64())).collect();
    let mut out = String::from("{\"BODY\":");
    out.push_str(&canonical);
    out.push_str(",\"HASH\":");
    write_json_str(&mut out, &hash);
    out.push('}');
    kis_json(StatusCode::OK, None, out)
}
