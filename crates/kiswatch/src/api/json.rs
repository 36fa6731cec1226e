//! A JSON body extractor whose rejections are API errors (400 with a message in both languages)
//! instead of axum's plain-text ones.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Like `axum::Json`, with [`ApiError`] rejections.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("invalid JSON body: {}", rejection.body_text()),
                format!("요청 본문(JSON)이 잘못되었습니다: {}", rejection.body_text()),
            )),
        }
    }
}
