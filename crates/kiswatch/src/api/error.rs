//! API errors: `{"error":{"code","message","message_ko"}}` ([`crate::contract::ErrorBody`]) with
//! a status that says what to do — 400 (fix the request), 404 (no such thing), 422 (a condition that
//! does not parse, with its `position`), 502/503 (upstream trouble; 503 carries `Retry-After`).
//! Upstream trouble is never a bare 500.
//!
//! Every other error answer becomes one too: [`json_errors`] rewrites any 4xx/5xx the router or an
//! extractor answered in plain text or with an empty body (a 405, a request that is not a WebSocket
//! upgrade, a body that is too large) into the same JSON, keeping its status and headers (`Allow`).

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kis::KisError;

use crate::contract::{ErrorBody, ErrorDetail};
use crate::store::StoreError;
use crate::upstream::GatewayError;

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 2;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub message_ko: String,
    pub position: Option<usize>,
    pub suggestion: Option<Box<str>>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        message_ko: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            message_ko: message_ko.into(),
            position: None,
            suggestion: None,
            retry_after: None,
        }
    }

    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        message_ko: impl Into<String>,
    ) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message, message_ko)
    }

    pub fn not_found(message: impl Into<String>, message_ko: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message, message_ko)
    }

    /// A bilingual text `"한국어 / English"` split into its two halves.
    pub fn bilingual(status: StatusCode, code: &'static str, text: &str) -> Self {
        match text.split_once(" / ") {
            Some((ko, en)) => ApiError::new(status, code, en, ko),
            None => ApiError::new(status, code, text, text),
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token (Authorization: Bearer <KISWATCH_TOKEN>)",
            "인증 토큰이 없거나 틀립니다 (Authorization: Bearer <KISWATCH_TOKEN>)",
        )
    }

    /// The error for a bare `status` whose only explanation is `detail` (axum's plain text, perhaps
    /// empty): a stable code and a message in both languages per status.
    pub fn for_status(status: StatusCode, detail: &str) -> Self {
        let (code, en, ko) = match status.as_u16() {
            400 => ("bad_request", "the request is malformed", "요청이 잘못되었습니다"),
            401 => ("unauthorized", "authentication is required", "인증이 필요합니다"),
            403 => (
                "forbidden",
                "this request is not allowed",
                "허용되지 않은 요청입니다",
            ),
            404 => ("not_found", "nothing here", "찾을 수 없습니다"),
            405 => (
                "method_not_allowed",
                "this method is not allowed here",
                "이 경로에서 허용되지 않는 메서드입니다",
            ),
            406 => (
                "not_acceptable",
                "no acceptable representation",
                "받을 수 있는 형식이 없습니다",
            ),
            408 => (
                "request_timeout",
                "the request took too long",
                "요청 시간이 초과되었습니다",
            ),
            411 => (
                "length_required",
                "the body needs a Content-Length",
                "Content-Length가 필요합니다",
            ),
            413 => (
                "payload_too_large",
                "the body is too large",
                "요청 본문이 너무 큽니다",
            ),
            414 => ("uri_too_long", "the URI is too long", "URI가 너무 깁니다"),
            415 => (
                "unsupported_media_type",
                "unsupported Content-Type (send application/json)",
                "지원하지 않는 Content-Type입니다 (application/json으로 보내세요)",
            ),
            422 => (
                "unprocessable",
                "the request cannot be processed",
                "요청을 처리할 수 없습니다",
            ),
            426 => (
                "upgrade_required",
                "this endpoint needs a WebSocket upgrade",
                "WebSocket 연결이 필요합니다",
            ),
            429 => ("too_many_requests", "too many requests", "요청이 너무 많습니다"),
            501 => ("not_implemented", "not implemented", "구현되지 않았습니다"),
            503 => (
                "unavailable",
                "the service is unavailable",
                "서비스를 쓸 수 없습니다",
            ),
            s if s >= 500 => (
                "internal_error",
                "the service failed",
                "서비스 오류가 발생했습니다",
            ),
            _ => ("error", "the request failed", "요청이 실패했습니다"),
        };
        let detail = detail.trim();
        if detail.is_empty() {
            ApiError::new(status, code, en, ko)
        } else {
            ApiError::new(status, code, format!("{en}: {detail}"), format!("{ko}: {detail}"))
        }
    }

    fn upstream_down(detail: &str) -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_unavailable",
                format!("KIS is not answering right now ({detail}); try again shortly"),
                format!("KIS 서버가 지금 응답하지 않습니다 ({detail}). 잠시 후 다시 시도하세요"),
            )
        }
    }
}

impl From<KisError> for ApiError {
    fn from(e: KisError) -> Self {
        match &e {
            KisError::NotFound { .. } => {
                ApiError::bilingual(StatusCode::NOT_FOUND, "not_found", &e.to_string())
            }
            KisError::Unsupported { what, env } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported_upstream",
                format!("{what} is not offered by the {env} server"),
                format!("{env} 서버는 {what}을(를) 제공하지 않습니다"),
            ),
            KisError::InvalidRequest(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m.clone(), m.clone())
            }
            e if e.is_retryable() => ApiError::upstream_down(&e.to_string()),
            KisError::TokenIssuance { .. } | KisError::TokenExpired { .. } | KisError::Credentials(_) => {
                ApiError {
                    retry_after: Some(60),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "upstream_auth",
                        format!("KIS refused the credentials or token: {e}"),
                        format!("KIS가 인증을 거절했습니다: {e}"),
                    )
                }
            }
            other => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("KIS answered something unusable: {other}"),
                format!("KIS 응답을 처리할 수 없습니다: {other}"),
            ),
        }
    }
}

impl From<Arc<KisError>> for ApiError {
    fn from(e: Arc<KisError>) -> Self {
        (*e).clone().into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_error",
            format!("the local database failed: {e}"),
            format!("로컬 데이터베이스 오류: {e}"),
        )
    }
}

impl From<GatewayError> for ApiError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Upstream(k) => k.into(),
            GatewayError::Store(s) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "store_error",
                format!("the local database failed: {s}"),
                format!("로컬 데이터베이스 오류: {s}"),
            ),
        }
    }
}

/// A condition that does not parse: 422 with the position of the mistake (and a suggestion for a
/// misspelt name).
impl From<market::condition::ParseError> for ApiError {
    fn from(e: market::condition::ParseError) -> Self {
        ApiError {
            position: Some(e.position),
            suggestion: e.suggestion.as_deref().map(Box::from),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_condition",
                e.message_en(),
                e.message_ko(),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                message_ko: self.message_ko,
                position: self.position,
                suggestion: self.suggestion.map(String::from),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// How much of a plain-text error body is kept as the JSON error's detail.
const DETAIL_BYTES: usize = 1024;

/// Makes every 4xx/5xx answer an [`ErrorBody`]: one that is already JSON passes as it is, and so
/// does an HTML page (the UI's own not-found page, `index.html` with 404, for a browser); any
/// other (axum's plain-text rejections, the router's empty 405) keeps its status and headers and
/// gets the JSON body of [`ApiError::for_status`], with its old text as the detail (a 405 names
/// the methods its `Allow` header lists).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let meant = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if meant {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, DETAIL_BYTES * 4).await {
        Ok(bytes) => {
            let cut = &bytes[..bytes.len().min(DETAIL_BYTES)];
            String::from_utf8_lossy(cut).into_owned()
        }
        Err(_) => String::new(),
    };
    let detail = match parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()) {
        Some(allow) if status == StatusCode::METHOD_NOT_ALLOWED && text.trim().is_empty() => {
            format!("allowed: {allow}")
        }
        _ => text,
    };
    let mut out = ApiError::for_status(status, &detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_uis_not_found_page_stays_a_page() {
        let page = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html>",
        )
            .into_response();
        let r = json_errors(page).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"<!doctype html>");
    }

    #[tokio::test]
    async fn plain_errors_become_json_and_keep_their_headers() {
        let plain = (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET,HEAD")], "").into_response();
        let r = json_errors(plain).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        let body = axum::body::to_bytes(r.into_body(), 10_000).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "method_not_allowed");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("GET,HEAD"),
            "{v}"
        );
        assert!(!v["error"]["message_ko"].as_str().unwrap().is_empty());
        let ok = json_errors((StatusCode::OK, "fine").into_response()).await;
        assert_eq!(axum::body::to_bytes(ok.into_body(), 100).await.unwrap(), "fine");
        let text = json_errors((StatusCode::BAD_REQUEST, "x".repeat(100_000)).into_response()).await;
        let body = axum::body::to_bytes(text.into_body(), 1_000_000).await.unwrap();
        assert!(body.len() < 3 * DETAIL_BYTES, "a huge text is cut");
    }

    #[test]
    fn upstream_trouble_is_503_with_retry_after_and_unknown_codes_404() {
        let e: ApiError = KisError::RateLimited {
            tr_id: "X".into(),
            status: 500,
        }
        .into();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(RETRY_AFTER_SECS));
        let e: ApiError = KisError::NotFound {
            code: "999990".into(),
        }
        .into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert!(
            e.message.contains("not found") && e.message_ko.contains("찾을 수 없습니다"),
            "{e:?}"
        );
        let e: ApiError = KisError::Decode {
            tr_id: "X".into(),
            detail: "d".into(),
        }
        .into();
        assert_eq!(e.status, StatusCode::BAD_GATEWAY);
    }
}
