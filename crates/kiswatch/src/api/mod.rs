//! The HTTP API of `kiswatch serve` (docs/design.md, "The external contract"), one module per resource.
//!
//! JSON everywhere; every number is a JSON number; times are RFC 3339 with `+09:00`; a stock appears
//! with its name wherever its code does. Errors are [`error::ApiError`]. With `KISWATCH_TOKEN` set,
//! `/api/*`, `/sim/*` and `/metrics` demand `Authorization: Bearer <token>` (the WebSocket may pass
//! `?token=` instead, since browsers cannot set headers on it); the web UI's static files do not.

pub mod backtest;
pub mod conditions;
pub mod error;
pub mod health;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod sim;
pub mod stocks;
pub mod triggers;
pub mod watchlist;
pub mod ws;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use market::StockCode;
use tokio::sync::watch;

use crate::history::Backfill;
use crate::hub::Hub;
use crate::live::{LiveFeed, Quotes};
use crate::outbound::Outbound;
use crate::store::Store;
use crate::triggers::TriggerService;
use crate::upstream::{Gateway, StockDirectory, UpstreamKind};

pub use error::{ApiError, ApiResult};

/// What the handlers share.
pub struct Services {
    pub gateway: Arc<Gateway>,
    /// Price, order book and executions: live while a stock is realtime, else the gateway.
    pub quotes: Quotes,
    pub store: Store,
    pub stocks: Arc<StockDirectory>,
    pub backfill: Option<Arc<Backfill>>,
    pub triggers: Option<Arc<TriggerService>>,
    pub upstream: UpstreamKind,
    pub namespace: String,
    /// The embedded simulator's base URL (demo only).
    pub sim_url: Option<String>,
    pub http: reqwest::Client,
    /// Destinations saved through the API (webhooks): checked when saved, and the client that
    /// reaches them ([`crate::outbound`]).
    pub outbound: Outbound,
    pub token: Option<String>,
    pub started: Instant,
    /// Bumped when the watchlist or the conditions change (a `watch` channel: a change is never
    /// missed by a listener that was busy when it happened).
    pub changed: Arc<watch::Sender<u64>>,
    /// The realtime hub: the browsers' WebSocket connections (`/api/v1/ws`), their subscriptions
    /// and the fan-out.
    pub hub: Arc<Hub>,
    /// The live feed: live state of realtime stocks, each stock's status, the upstream state.
    pub live: Arc<LiveFeed>,
    /// The recorder `/metrics` renders (this service's own).
    pub metrics: metrics_exporter_prometheus::PrometheusRecorder,
}

pub type AppState = Arc<Services>;

/// The router: the API, `/sim/*` in demo, and the web UI for everything else.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/health", get(health::health))
        .route("/api/v1/stocks/search", get(stocks::search))
        .route("/api/v1/stocks/{code}", get(stocks::stock))
        .route("/api/v1/stocks/{code}/price", get(stocks::price))
        .route("/api/v1/stocks/{code}/orderbook", get(stocks::order_book))
        .route("/api/v1/stocks/{code}/executions", get(stocks::executions))
        .route("/api/v1/stocks/{code}/snapshot", get(stocks::snapshot))
        .route("/api/v1/stocks/{code}/candles", get(stocks::candles))
        .route(
            "/api/v1/watchlist",
            get(watchlist::list).post(watchlist::add).put(watchlist::reorder),
        )
        .route(
            "/api/v1/watchlist/{code}",
            axum::routing::delete(watchlist::remove),
        )
        .route(
            "/api/v1/conditions",
            get(conditions::list).post(conditions::create),
        )
        .route(
            "/api/v1/conditions/{id}",
            get(conditions::get_one)
                .put(conditions::update)
                .delete(conditions::delete),
        )
        .route("/api/v1/triggers", get(triggers::list))
        .route("/api/v1/triggers/{id}/ack", post(triggers::ack))
        .route("/api/v1/ws", get(ws::upgrade))
        .route("/api/v1/backtest", post(backtest::run))
        .route("/api/{*rest}", axum::routing::any(not_found))
        .route("/sim/{*rest}", axum::routing::any(sim::proxy))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi::openapi))
        .layer(middleware::from_fn_with_state(state.clone(), authorize));
    api.fallback(ui).with_state(state)
}

/// Everything the API does not route: a file of the web UI, its `index.html` for the UI's own
/// routes, or a JSON 404.
async fn ui(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    crate::web::serve(&path).unwrap_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("nothing at {path}"),
            format!("{path}에는 아무것도 없습니다"),
        )
        .into_response()
    })
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such API endpoint", "없는 API 경로입니다")
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let query = request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .map(str::to_owned)
    });
    let given = bearer.or(query);
    if given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
        next.run(request).await
    } else {
        ApiError::unauthorized().into_response()
    }
}

/// A stock code from the path, or a 400 that says what is wrong with it.
pub fn parse_code(raw: &str) -> ApiResult<StockCode> {
    StockCode::parse(raw).map_err(|e| {
        ApiError::bilingual(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_code",
            &e.to_string(),
        )
    })
}
