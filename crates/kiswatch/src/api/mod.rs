//! The HTTP API of `kiswatch serve` (docs/design.md, "The external contract"), one module per resource.
//!
//! JSON everywhere; every number is a JSON number; times are RFC 3339 with `+09:00`; a stock appears
//! with its name wherever its code does. Errors are [`error::ApiError`], on every 4xx and 5xx
//! ([`error::json_errors`] turns the router's and extractors' own into the same JSON). With
//! `KISWATCH_TOKEN` set, `/api/*`, `/sim/*` and `/metrics` demand `Authorization: Bearer <token>`
//! (only the WebSocket, `/api/v1/ws`, may pass `?token=` instead, since browsers cannot set headers
//! on it; a token in any other URL is ignored, as it would end up in logs and histories); the web
//! UI's static files do not.
//!
//! Before any of it, [`guard`] refuses requests addressed to a foreign `Host` (DNS rebinding) and
//! state changes or WebSocket upgrades from a foreign `Origin`, and adds the security headers
//! (no framing, a CSP, `nosniff`, no referrer) to every answer.

pub mod backtest;
pub mod channels;
pub mod conditions;
pub mod error;
pub mod extract;
pub mod guard;
pub mod health;
pub mod json;
pub mod kis_scans;
pub mod market_time;
pub mod metrics;
pub mod openapi;
pub mod scans;
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
use host_guard::HostGuard;
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
    /// 조건검색 over the whole market (`None` without background work).
    pub scans: Option<Arc<crate::scan::ScanService>>,
    /// KIS's HTS condition results, reused for a minute ([`kis_scans::HTS_RESULT_TTL`]).
    pub hts_results: kis_scans::HtsCache,
    /// Alert channels and their outbox (`None` where no trigger service runs).
    pub channels: Option<crate::channels::Channels>,
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

/// The browser WebSocket's path (the one route that may take `?token=`).
pub const WS_PATH: &str = "/api/v1/ws";

/// The router: the API, `/sim/*` in demo, and the web UI for everything else; `guard` says which
/// hosts and origins may drive it.
pub fn router(state: AppState, guard: HostGuard) -> Router {
    let api = Router::new()
        .route("/api/v1/health", get(health::health))
        .route("/api/v1/market", get(market_time::market))
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
        .route("/api/v1/conditions/{id}/matches", get(scans::matches))
        .route("/api/v1/conditions/{id}/events", get(scans::events))
        .route("/api/v1/conditions/{id}/backtest", get(scans::backtest))
        .route("/api/v1/scans/kis/{kind}", get(kis_scans::ranking))
        .route("/api/v1/scans/hts", get(kis_scans::hts_conditions))
        .route("/api/v1/scans/hts/{seq}", get(kis_scans::hts_matches))
        .route(
            "/api/v1/conditions/{id}",
            get(conditions::get_one)
                .put(conditions::update)
                .delete(conditions::delete),
        )
        .route("/api/v1/triggers", get(triggers::list))
        .route("/api/v1/triggers/{id}/ack", post(triggers::ack))
        .route("/api/v1/triggers/{id}/deliveries", get(channels::deliveries))
        .route("/api/v1/channels", get(channels::list).post(channels::create))
        .route(
            "/api/v1/channels/{id}",
            get(channels::get_one)
                .put(channels::update)
                .delete(channels::delete),
        )
        .route("/api/v1/channels/{id}/test", post(channels::test))
        .route("/api/v1/push/key", get(channels::push_key))
        .route(WS_PATH, get(ws::upgrade))
        .route("/api/v1/backtest", post(backtest::run))
        .route("/api/{*rest}", axum::routing::any(not_found))
        .route("/sim/{*rest}", axum::routing::any(sim::proxy))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi::openapi))
        .layer(middleware::from_fn_with_state(state.clone(), authorize));
    let guard = Arc::new(guard);
    // Innermost first: JSON for every error the routes, the router (405) and the extractors
    // answer; the host guard before any of that; the security headers on every answer.
    api.fallback(ui)
        .layer(middleware::map_response(error::json_errors))
        .layer(middleware::from_fn_with_state(guard.clone(), guard::check))
        .layer(middleware::from_fn_with_state(guard, guard::headers))
        .with_state(state)
}

/// Everything the API does not route: a file of the web UI, its `index.html` for the UI's own
/// routes; for anything else a 404 — the UI's not-found page to a browser asking for a page, JSON to
/// everyone else.
async fn ui(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let wants_page = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    crate::web::serve(&path).unwrap_or_else(|| {
        if wants_page && let Some(page) = crate::web::not_found_page() {
            return page;
        }
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
    // Only the WebSocket may carry the token in its URL (a browser cannot set its headers).
    let query = (request.uri().path() == WS_PATH)
        .then(|| request.uri().query())
        .flatten()
        .and_then(|q| {
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
