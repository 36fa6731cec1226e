//! `/sim/*` in demo: the embedded simulator's control API (stats, stocks, faults, scenario, clock),
//! proxied as it is. Outside the demo there is no simulator to steer: 404.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::extract::Path;
use super::{ApiError, AppState};

pub async fn proxy(
    State(state): State<AppState>,
    method: Method,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(base) = &state.sim_url else {
        return ApiError::not_found(
            "/sim/* exists only in the demo (the embedded simulator)",
            "/sim/* 는 데모(내장 시뮬레이터)에서만 쓸 수 있습니다",
        )
        .into_response();
    };
    let url = format!("{base}/sim/{rest}");
    let mut request = state.http.request(method, &url).body(body);
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    match request.send().await {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let ct = r.headers().get(header::CONTENT_TYPE).cloned();
            let bytes = r.bytes().await.unwrap_or_default();
            let mut response = (status, bytes).into_response();
            if let Some(ct) = ct {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            response
        }
        Err(e) => ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "simulator_unavailable",
                format!("the embedded simulator did not answer: {}", e.without_url()),
                "내장 시뮬레이터가 응답하지 않습니다",
            )
        }
        .into_response(),
    }
}
