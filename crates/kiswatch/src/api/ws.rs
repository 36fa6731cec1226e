//! `GET /api/v1/ws`: the browser WebSocket, through the realtime [`Hub`] (protocol:
//! [`crate::hub::protocol`]).
//!
//! Each connection is two halves:
//!
//! * the **reader** hands every text frame to [`Hub::handle_text`]; a `resume` is answered from the
//!   store (every trigger after the id, paged) through [`Hub::finish_resume`];
//! * the **writer** takes everything pending in the client's [`crate::hub::Outbox`] at once, feeds it
//!   to the socket and flushes once, so a burst costs one write, not one per message. A write that
//!   stays blocked longer than the queue's `max_stall` (the browser stopped reading) cuts the client
//!   off with close 1008 and the queue's reason; a server shutdown closes with 1001.
//!
//! Live triggers reach the hub from [`crate::triggers::delivery`]. The `KISWATCH_TOKEN` rule is the
//! API's (`Authorization: Bearer`, or `?token=` on this route only, see `api::authorize`); the
//! `Origin` rule is [`super::guard`]'s (a page of another site cannot open it). A request here that
//! is not an upgrade gets a JSON error (`websocket_required`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt as _, StreamExt as _};

use super::{ApiError, AppState, WS_PATH};
use crate::contract::Trigger;
use crate::hub::queue::CloseReason;
use crate::hub::{ClientAction, ClientId, Hub, Outbox};
use crate::store::StoreError;

/// Messages written per flush at most (bounds one write's memory; the rest goes in the next).
const BATCH: usize = 512;

/// How long a new connection's triggers wait for its `resume` before they go out anyway (a
/// browser sends it as soon as the socket opens; one that has nothing to resume waits this long
/// for the triggers of its first moments only).
const RESUME_GRACE: Duration = Duration::from_secs(1);

/// How long a close frame may take to leave before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

#[utoipa::path(get, operation_id = "ws_upgrade", path = "/api/v1/ws", tag = "service", responses((status = 101, description = "WebSocket: {\"op\":\"subscribe\"|\"unsubscribe\",\"codes\",\"channels\"} and {\"op\":\"resume\",\"after_trigger_id\":N}; {\"op\":\"subscribe\",\"channels\":[\"scan:<condition id>\"]} (no codes) and {\"op\":\"resume\",\"after_scan_event_id\":N}; messages typed tick, orderbook, executions, candle, trigger, scan_event, scan_sweep, trigger_unstored (a trigger the store could not write yet: persisted false, no id, its key), status, error")))]
pub async fn upgrade(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match ws {
        Ok(ws) => ws.on_upgrade(move |socket| session(state, socket)),
        Err(rejection) => ApiError::new(
            rejection.status(),
            "websocket_required",
            format!(
                "{WS_PATH} is a WebSocket (GET with Upgrade: websocket): {}",
                rejection.body_text()
            ),
            format!("{WS_PATH}는 WebSocket 주소입니다 (Upgrade: websocket 헤더가 필요합니다)"),
        )
        .into_response(),
    }
}

async fn session(state: AppState, socket: WebSocket) {
    let hub = state.hub.clone();
    let (id, outbox) = hub.connect_resumable();
    let (sink, mut stream) = socket.split();
    let mut writer = tokio::spawn(write(hub.clone(), id, outbox.clone(), sink));
    let hold = tokio::time::sleep(RESUME_GRACE);
    tokio::pin!(hold);
    let mut holding = true;
    loop {
        tokio::select! {
            _ = &mut hold, if holding => {
                holding = false;
                hub.release_hold(id);
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Err(e) = handle(&state, id, &text).await {
                        tracing::warn!(error = %e, "reading stored triggers for a resume failed");
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = &mut writer => {
                hub.disconnect(id);
                return;
            }
        }
    }
    // The browser left (or the store failed): end the writer with a close frame.
    outbox.close(1000, "closing");
    if tokio::time::timeout(CLOSE_GRACE, &mut writer).await.is_err() {
        writer.abort();
    }
    hub.disconnect(id);
}

/// One client frame.
async fn handle(state: &AppState, id: ClientId, text: &str) -> Result<(), StoreError> {
    match state.hub.handle_text(id, text) {
        ClientAction::Resume { after_trigger_id } => {
            let stored: Vec<Trigger> = state.store.triggers_after(after_trigger_id).await?;
            state.hub.finish_resume(id, &stored);
        }
        ClientAction::ResumeScans {
            conditions,
            after_scan_event_id,
        } => {
            let stored = state
                .store
                .scan_events_after(conditions, after_scan_event_id)
                .await?;
            state.hub.send_scan_events(id, &stored);
        }
        _ => {}
    }
    // `Interest` changes are read by the subscription planner from `Hub::open_pages`/`watched`.
    Ok(())
}

/// The writer half: batches out of the outbox, one flush each.
async fn write(hub: Arc<Hub>, id: ClientId, outbox: Outbox, mut sink: SplitSink<WebSocket, Message>) {
    let max_stall = outbox.config().max_stall;
    let mut batch = Vec::with_capacity(64);
    loop {
        batch.clear();
        if let Err(reason) = outbox.recv_batch(&mut batch, BATCH).await {
            close(&mut sink, reason).await;
            return;
        }
        let sent = tokio::time::timeout(max_stall, async {
            for d in batch.drain(..) {
                sink.feed(Message::Text(d.text.as_ref().into())).await?;
            }
            sink.flush().await
        })
        .await;
        match sent {
            Ok(Ok(())) => outbox.written(),
            Ok(Err(_)) => return,
            Err(_) => {
                // The socket did not drain within the bound: the browser stopped reading.
                hub.cut_off(id);
                if let Some(reason) = outbox.close_reason() {
                    close(&mut sink, reason).await;
                }
                return;
            }
        }
    }
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, reason: CloseReason) {
    let frame = Message::Close(Some(CloseFrame {
        code: reason.code,
        reason: reason.reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(frame)).await;
}
