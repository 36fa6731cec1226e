//! `/api/v1/watchlist`: the ordered list of watched stocks (with names), add, reorder, remove.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::json::Body;
use super::{ApiError, ApiResult, AppState, parse_code};
use crate::contract::{ErrorBody, StockRef, WatchlistAdded, WatchlistItem};

async fn listing(state: &AppState) -> ApiResult<Vec<WatchlistItem>> {
    let items = state.store.watchlist().await?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let meta = state.stocks.get(w.code);
            let feed = super::stocks::feed(state, w.code);
            WatchlistItem {
                stock: StockRef {
                    code: w.code.as_str().to_owned(),
                    name: meta
                        .as_ref()
                        .map_or_else(|| w.code.to_string(), |m| m.name.clone()),
                    market: meta.map(|m| m.market).unwrap_or_default(),
                },
                position: i,
                added_at: w.added_at.clone(),
                status: feed.state,
                feed,
            }
        })
        .collect())
}

#[utoipa::path(get, operation_id = "watchlist_list", path = "/api/v1/watchlist", tag = "watchlist", responses((status = 200, description = "the watchlist in order, with names", body = Vec<WatchlistItem>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<WatchlistItem>>> {
    Ok(Json(listing(&state).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    code: String,
}

/// Adds a stock at the end (201), or leaves the list as it is if it is already there (200).
#[utoipa::path(post, operation_id = "watchlist_add", path = "/api/v1/watchlist", tag = "watchlist", request_body = AddRequest, responses((status = 201, description = "added at the end", body = WatchlistAdded), (status = 200, description = "already watched", body = WatchlistAdded), (status = 400, description = "bad code or body", body = ErrorBody), (status = 404, description = "unknown code", body = ErrorBody)))]
pub async fn add(State(state): State<AppState>, Body(req): Body<AddRequest>) -> ApiResult<Response> {
    let code = parse_code(&req.code)?;
    let meta = state.gateway.stock(code).await?;
    let added = state.store.watch(code).await?;
    state.changed.send_modify(|v| *v += 1);
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(WatchlistAdded {
            stock: StockRef {
                code: code.as_str().to_owned(),
                name: meta.name,
                market: meta.market,
            },
            added,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderRequest {
    codes: Vec<String>,
}

#[utoipa::path(put, operation_id = "watchlist_reorder", path = "/api/v1/watchlist", tag = "watchlist", request_body = ReorderRequest, responses((status = 200, description = "the watchlist in the new order", body = Vec<WatchlistItem>), (status = 400, description = "not every watched code exactly once", body = ErrorBody)))]
pub async fn reorder(
    State(state): State<AppState>,
    Body(req): Body<ReorderRequest>,
) -> ApiResult<Json<Vec<WatchlistItem>>> {
    let codes = req
        .codes
        .iter()
        .map(|c| parse_code(c))
        .collect::<ApiResult<Vec<_>>>()?;
    if let Err(message) = state.store.reorder(codes).await? {
        return Err(ApiError::bad_request(
            "invalid_order",
            message,
            "codes에는 관심종목 전체가 한 번씩 들어 있어야 합니다",
        ));
    }
    Ok(Json(listing(&state).await?))
}

#[utoipa::path(delete, operation_id = "watchlist_remove", path = "/api/v1/watchlist/{code}", tag = "watchlist", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 204, description = "removed"), (status = 404, description = "not watched", body = ErrorBody)))]
pub async fn remove(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<StatusCode> {
    let code = parse_code(&raw)?;
    if !state.store.unwatch(code).await? {
        return Err(ApiError::not_found(
            format!("{code} is not in the watchlist"),
            format!("{code}은(는) 관심종목에 없습니다"),
        ));
    }
    state.changed.send_modify(|v| *v += 1);
    Ok(StatusCode::NO_CONTENT)
}
