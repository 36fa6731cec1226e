//! `SimServer`: binds, builds the router (REST, WebSocket, control), runs until shut down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::{ApprovalStore, TokenStore};
use crate::config::SimConfig;
use crate::faults::Faults;
use crate::model::{Market, MarketConfig};
use crate::ratelimit::RateLimiter;
use crate::stats::{Counters, SimStats};
use crate::{control, http1, master, rest, ws};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the bound address: {0}")]
    LocalAddr(std::io::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Everything the handlers share.
pub(crate) struct AppState {
    pub config: SimConfig,
    pub market: Arc<Market>,
    pub tokens: TokenStore,
    pub approvals: ApprovalStore,
    pub limiter: RateLimiter,
    pub faults: Faults,
    pub counters: Counters,
    /// App keys with an open WebSocket session → that session's id.
    pub ws_sessions: Mutex<HashMap<String, u64>>,
    /// Becomes true when the server shuts down (closes WebSocket sessions).
    pub shutdown: watch::Receiver<bool>,
    /// Daily-history facts of `inquire-price`, per stock and trading day.
    pub price_history: rest::price::HistoryCache,
}

impl AppState {
    /// Fresh state for `config`: a new market, no tokens, no sessions.
    pub fn new(config: SimConfig, shutdown: watch::Receiver<bool>) -> AppState {
        let market = Arc::new(Market::new(MarketConfig {
            seed: config.seed,
            clock: config.clock,
            speed: config.speed,
        }));
        AppState {
            tokens: TokenStore::new(config.token_ttl, config.token_interval),
            approvals: ApprovalStore::default(),
            limiter: RateLimiter::new(config.rate_limit()),
            faults: Faults::new(config.latency_ms, config.error_rate, config.seed),
            counters: Counters::default(),
            ws_sessions: Mutex::new(HashMap::new()),
            shutdown,
            price_history: Default::default(),
            market,
            config,
        }
    }

    pub fn stats(&self) -> SimStats {
        SimStats {
            requests: Counters::get(&self.counters.requests),
            rate_limited: Counters::get(&self.counters.rate_limited),
            max_window: self.limiter.max_window(),
            rate_limit: self.limiter.limit(),
            ws_sessions: Counters::get(&self.counters.ws_sessions),
            subscriptions: Counters::get(&self.counters.subscriptions),
            tokens_issued: self.tokens.issued(),
            token_requests: Counters::get(&self.counters.token_requests),
            ws_records: Counters::get(&self.counters.ws_records),
            injected_errors: Counters::get(&self.counters.injected_errors),
            in_flight: Counters::get(&self.counters.in_flight),
            master_downloads: Counters::get(&self.counters.master_downloads),
        }
    }
}

/// A running simulator.
pub struct SimServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl SimServer {
    /// Binds `bind` (port 0 picks a free port), spawns the server and returns at once.
    pub async fn start(config: SimConfig, bind: SocketAddr) -> Result<SimServer, SimError> {
        if !(config.speed.is_finite() && config.speed > 0.0) {
            return Err(SimError::Config(format!(
                "speed must be a positive number, got {}",
                config.speed
            )));
        }
        if config.ping_interval.is_zero() {
            return Err(SimError::Config("ping interval must be positive".into()));
        }
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| SimError::Bind { addr: bind, source })?;
        let addr = listener.local_addr().map_err(SimError::LocalAddr)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = Arc::new(AppState::new(config, shutdown_rx.clone()));
        let header_case = http1::kis_header_case()
            .await
            .map_err(|err| SimError::Config(format!("preparing the response header names: {err}")))?;
        let app = router(state.clone(), Arc::new(header_case));
        let task = tokio::spawn(http1::serve(listener, app, shutdown_rx));
        tracing::debug!(%addr, "simulator listening");
        Ok(SimServer {
            addr,
            state,
            shutdown: shutdown_tx,
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn market(&self) -> &Arc<Market> {
        &self.state.market
    }

    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// The same numbers as `GET /sim/stats`.
    pub fn stats(&self) -> SimStats {
        self.state.stats()
    }

    /// Stops accepting, closes every WebSocket session and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    /// A server dropped without [`SimServer::shutdown`] (e.g. by a failing test) still stops serving.
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

fn router(state: Arc<AppState>, header_case: Arc<axum::http::Extensions>) -> Router {
    let mut app = Router::new()
        .route("/oauth2/tokenP", post(rest::oauth::token))
        .route("/oauth2/revokeP", post(rest::oauth::revoke))
        .route("/oauth2/Approval", post(rest::oauth::approval))
        .route("/uapi/hashkey", post(rest::oauth::hashkey))
        .route("/uapi/domestic-stock/v1/quotations/{api}", any(rest::quotation))
        .route("/uapi/domestic-stock/v1/ranking/{api}", any(rest::ranking))
        .route(
            "/uapi/overseas-price/v1/quotations/price",
            any(rest::overseas_price),
        )
        .route("/common/master/{file}", get(master::download))
        .route("/", get(ws::upgrade))
        .route("/tryitout", get(ws::upgrade))
        .route("/tryitout/{*rest}", get(ws::upgrade));
    if state.config.control {
        app = app.nest("/sim", control::router());
    }
    app.fallback(rest::not_found)
        .layer(axum::middleware::map_response_with_state(
            header_case,
            http1::add_header_case,
        ))
        .with_state(state)
}
