//! The realtime WebSocket server, on `/`, `/tryitout` and `/tryitout/*` (`docs/kis-wire.md` §7).

pub mod frames;
pub mod protocol;
pub mod session;

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;

use crate::server::AppState;

pub(crate) async fn upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session::Session::new(state).run(socket))
}
