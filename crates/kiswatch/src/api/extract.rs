//! Path and query extractors whose rejections are API errors instead of axum's plain-text ones: a
//! path segment that is not UTF-8 once percent-decoded is a 400 `invalid_path`, a query string that
//! does not fit (a key given twice, a malformed pair) a 400 `invalid_query`, each in both languages.
//! The JSON body's is [`super::json::Body`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Like `axum::extract::Path`, with [`ApiError`] rejections.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_path",
                format!("invalid path: {}", rejection.body_text()),
                format!("경로가 잘못되었습니다: {}", rejection.body_text()),
            )),
        }
    }
}

/// Like `axum::extract::Query`, with [`ApiError`] rejections.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                format!("invalid query string: {}", rejection.body_text()),
                format!(
                    "쿼리 문자열이 잘못되었습니다 (같은 키를 두 번 쓰지 마세요): {}",
                    rejection.body_text()
                ),
            )),
        }
    }
}
