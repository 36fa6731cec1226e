//! API errors: `{"error":{"code","message","message_ko"}}` ([`crate::contract::ErrorBody`]) with
//! a status that says what to do — 400 (fix the request), 404 (no such thing), 422 (a condition that
//! does not parse, with its `position`), 502/503 (upstream trouble; 503 carries `Retry-After`).
//! Upstream trouble is never a bare 500.

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

#[cfg(test)]
mod tests {
    use super::*;

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
