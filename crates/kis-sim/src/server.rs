//! `SimServer`: binds, builds the router (REST, WebSocket, control), runs until shut down.
//!
//! Every route sits behind the host guard of [`host_guard`], as kiswatch's own service does: the
//! simulator listens on the user's machine too, and its demo credentials are public
//! ([`crate::demo_credentials`]), so a web page must not be able to drive it.
//!
//! * A request addressed to a `Host` other than `127.0.0.1`, `localhost` or `[::1]` with its port,
//!   its bound address when specific, or an `--allowed-host`, is refused (421): a DNS-rebinding page
//!   could otherwise read the control API and, with the public demo key, issue tokens, read quotes
//!   and hold the key's one WebSocket session.
//! * A state-changing request (anything but GET, HEAD, OPTIONS) or a WebSocket upgrade carrying an
//!   `Origin` of another host is refused (403). For the control API that is what keeps a page from
//!   steering the market or injecting faults. The KIS endpoints need no rule of their own: KIS
//!   clients are programs and send no `Origin`; what a cross-site page can send without one is a
//!   "simple" request, and the ones that would matter are a POST (`tokenP` would spend the key's
//!   one issuance a minute, `revokeP`, `Approval`) or the WebSocket (which would take the key's one
//!   session from the real client) — both refused by the same rule; a quotation GET needs the
//!   `authorization`/`appkey`/`tr_id` headers, which a browser sends cross-site only after a CORS
//!   preflight the simulator never grants.
//!
//! A refusal is `{"error":"…","code":"misdirected_host"|"foreign_origin"}`, the control API's error
//! shape with the guard's code.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{any, get, post};
use host_guard::HostGuard;
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
        let guard = HostGuard::new(addr, &state.config.allowed_hosts);
        let app = router(state.clone(), Arc::new(header_case), Arc::new(guard));
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

    /// `http://127.0.0.1:PORT` (bound to every interface: still the loopback name, one the host
    /// guard accepts).
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.reachable())
    }

    /// `ws://127.0.0.1:PORT`
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.reachable())
    }

    /// The bound address, or loopback on its port when bound to every interface.
    fn reachable(&self) -> SocketAddr {
        match self.addr.ip() {
            std::net::IpAddr::V4(a) if a.is_unspecified() => {
                SocketAddr::from(([127, 0, 0, 1], self.addr.port()))
            }
            std::net::IpAddr::V6(a) if a.is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, self.addr.port()))
            }
            _ => self.addr,
        }
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

/// Refuses requests addressed to a foreign host, and state changes or upgrades from a foreign page
/// (see the module docs).
async fn guard(State(guard): State<Arc<HostGuard>>, request: Request, next: Next) -> Response {
    match guard.check(request.method(), request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => (
            refusal.status(),
            Json(serde_json::json!({ "error": refusal.message_en(), "code": refusal.code() })),
        )
            .into_response(),
    }
}

fn router(
    state: Arc<AppState>,
    header_case: Arc<axum::http::Extensions>,
    host_guard: Arc<HostGuard>,
) -> Router {
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
        .layer(axum::middleware::from_fn_with_state(host_guard, guard))
        .layer(axum::middleware::map_response_with_state(
            header_case,
            http1::add_header_case,
        ))
        .with_state(state)
}
