//! `GET /api/v1/ws`: the browser WebSocket, minimal for now — triggers pushed as they are stored, and
//! `{"op":"resume","after_trigger_id":N}` delivering every stored trigger after N first, in order,
//! once. Triggers are never dropped: a client that falls behind the live broadcast is caught up from
//! the store. `subscribe`/`unsubscribe` (ticks, order books, candles) belong to the realtime hub
//! (issue 12); until then they are acknowledged with a `status` message saying data is polled.
//!
//! Server messages are objects with `type`: `trigger` (the trigger's fields as in
//! `/api/v1/triggers`), `status`, `error`.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::triggers::trigger_json;
use crate::store::{StoreError, TriggerQuery};

/// Stored triggers sent per store read while catching up.
const PAGE: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum ClientMessage {
    Resume {
        after_trigger_id: u64,
    },
    Subscribe {
        #[serde(default)]
        codes: Vec<String>,
        #[serde(default)]
        channels: Vec<String>,
    },
    Unsubscribe {
        #[serde(default)]
        codes: Vec<String>,
        #[serde(default)]
        channels: Vec<String>,
    },
}

#[utoipa::path(get, operation_id = "ws_upgrade", path = "/api/v1/ws", tag = "service", responses((status = 101, description = "WebSocket: trigger pushes; {\"op\":\"resume\",\"after_trigger_id\":N}")))]
pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(state, socket))
}

fn trigger_message(row: &crate::store::TriggerRow) -> Message {
    let mut v = trigger_json(row);
    v["type"] = json!("trigger");
    Message::Text(v.to_string().into())
}

fn status(state: &AppState) -> Message {
    let failing = state.gateway.counters.is_failing();
    Message::Text(
        json!({
            "type": "status",
            "upstream": if failing { "down" } else { "polling" },
            "market_time": state.gateway.clock.now().map(crate::clock::rfc3339),
        })
        .to_string()
        .into(),
    )
}

/// Sends every stored trigger after `*last`, advancing it.
async fn catch_up(state: &AppState, socket: &mut WebSocket, last: &mut u64) -> Result<bool, StoreError> {
    loop {
        let rows = state
            .store
            .triggers(TriggerQuery {
                after: Some(*last),
                limit: PAGE,
                code: None,
            })
            .await?;
        for row in &rows {
            if socket.send(trigger_message(row)).await.is_err() {
                return Ok(false);
            }
            *last = row.id;
        }
        if rows.len() < PAGE {
            return Ok(true);
        }
    }
}

async fn session(state: AppState, mut socket: WebSocket) {
    let Some(triggers) = state.triggers.clone() else {
        return;
    };
    // Subscribe before reading the store, so nothing stored in between is missed.
    let mut live = triggers.subscribe();
    let mut last = match state.store.last_trigger_id().await {
        Ok(id) => id,
        Err(_) => return,
    };
    if socket.send(status(&state)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let reply = match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Resume { after_trigger_id }) => {
                        last = after_trigger_id;
                        match catch_up(&state, &mut socket, &mut last).await {
                            Ok(true) => None,
                            Ok(false) | Err(_) => return,
                        }
                    }
                    Ok(ClientMessage::Subscribe { codes, channels } | ClientMessage::Unsubscribe { codes, channels }) => {
                        Some(json!({
                            "type": "status",
                            "upstream": "polling",
                            "codes": codes,
                            "channels": channels,
                            "message": "live ticks, order books and candles over the WebSocket come with the realtime hub; triggers are pushed now",
                        }))
                    }
                    Err(e) => Some(json!({
                        "type": "error",
                        "code": "invalid_message",
                        "message": format!("unknown or malformed message: {e}"),
                        "message_ko": "알 수 없거나 잘못된 메시지입니다",
                    })),
                };
                if let Some(reply) = reply
                    && socket.send(Message::Text(reply.to_string().into())).await.is_err()
                {
                    return;
                }
            }
            pushed = live.recv() => match pushed {
                Ok(row) => {
                    if row.id > last {
                        if socket.send(trigger_message(&row)).await.is_err() {
                            return;
                        }
                        last = row.id;
                    }
                }
                // Behind the broadcast: the store has every trigger.
                Err(RecvError::Lagged(_)) => match catch_up(&state, &mut socket, &mut last).await {
                    Ok(true) => {}
                    Ok(false) | Err(_) => return,
                },
                Err(RecvError::Closed) => return,
            },
        }
    }
}
