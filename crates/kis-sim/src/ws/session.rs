//! One WebSocket session: registrations, the realtime feed, PINGPONG liveness, and the one-session-
//! per-app-key rule.
//!
//! * The session is bound to an app key by its first valid subscription (the approval key names it).
//!   If another live session already holds that key, the client gets `OPSP8996 ALREADY IN USE appkey`
//!   and the connection is closed.
//! * At most [`MAX_REGISTRATIONS`] registrations; the 42nd gets `OPSP0008 MAX SUBSCRIBE OVER`.
//! * Every [`FEED_INTERVAL`], on one wall-clock grid for all sessions ([`feed_start`]), the session asks
//!   the model for new trades of each H0STCNT0 registration (bunched into frames of up to 30 records) and
//!   for a changed book of each H0STASP0 one.
//! * Every `ping_interval` a PINGPONG text is sent; if the client answered the previous one neither by
//!   echoing it nor with a pong frame, the session is dropped instead.
//! * `drop_ws` faults and server shutdown close the session; its registrations vanish with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use market::StockCode;
use tokio::time::MissedTickBehavior;

use crate::auth::tokens::lock;
use crate::model::OrderBook;
use crate::server::AppState;
use crate::stats::Counters;
use crate::ws::frames::{self, MAX_RECORDS_PER_FRAME};
use crate::ws::protocol::{self, Refusal, Registration, Request, TR_EXECUTION, TR_ORDER_BOOK};

/// Registrations allowed per session (체결 + 호가 + 체결통보 together).
pub const MAX_REGISTRATIONS: usize = 41;
/// How often (real time) the feed polls the model.
pub const FEED_INTERVAL: Duration = Duration::from_millis(50);
/// How long a frame may wait for a client that does not read before the session is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT_SESSION_ID: AtomicU64 = AtomicU64::new(1);

/// The first feed poll of a session: the next multiple of [`FEED_INTERVAL`] on the wall clock. Every session
/// polls on that one grid, so a trade reaches all the subscribers of its stock in the same poll, as KIS pushes
/// one trade to everyone at once. (With each session on its own phase, one client got a trade up to 50 ms
/// before another, and a second client of the simulator could not stamp when the first one was sent it.)
fn feed_start() -> tokio::time::Instant {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    tokio::time::Instant::now() + wait_for_grid(since_epoch)
}

/// How long from `since_epoch` (wall clock) to the next multiple of [`FEED_INTERVAL`] (zero on one).
fn wait_for_grid(since_epoch: Duration) -> Duration {
    let period = FEED_INTERVAL.as_nanos();
    let wait = (period - since_epoch.as_nanos() % period) % period;
    Duration::from_nanos(u64::try_from(wait).unwrap_or(0))
}

struct Subscription {
    tr_id: String,
    tr_key: String,
    code: Option<StockCode>,
    /// H0STCNT0: the trading day `last_seq` counts in (trade numbers restart every day).
    day: jiff::civil::Date,
    /// H0STCNT0: the last trade sent.
    last_seq: u64,
    /// H0STASP0: the last book sent.
    last_book: Option<OrderBook>,
}

enum Outcome {
    Continue,
    Close,
}

pub(crate) struct Session {
    id: u64,
    state: Arc<AppState>,
    app_key: Option<String>,
    subscriptions: Vec<Subscription>,
    cipher: (String, String),
}

impl Session {
    pub(crate) fn new(state: Arc<AppState>) -> Session {
        Counters::inc(&state.counters.ws_sessions);
        Session {
            id: NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed),
            state,
            app_key: None,
            subscriptions: Vec::new(),
            cipher: protocol::new_cipher_key(),
        }
    }

    pub(crate) async fn run(mut self, mut socket: WebSocket) {
        let mut drop_signal = self.state.faults.drop_ws_signal();
        let mut keys_signal = self.state.faults.keys_signal();
        let mut shutdown = self.state.shutdown.clone();
        let mut feed = tokio::time::interval_at(feed_start(), FEED_INTERVAL);
        feed.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let ping_every = self.state.config.ping_interval;
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut awaiting_pong = false;
        loop {
            let outcome = tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        match protocol::parse(text.as_str()) {
                            Ok(Request::PingPong) => {
                                awaiting_pong = false;
                                Outcome::Continue
                            }
                            Ok(request) => self.handle(&mut socket, request).await,
                            Err(refusal) => send(&mut socket, protocol::refusal(&refusal)).await,
                        }
                    }
                    Some(Ok(Message::Pong(_))) => {
                        awaiting_pong = false;
                        Outcome::Continue
                    }
                    Some(Ok(Message::Ping(_) | Message::Binary(_))) => Outcome::Continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Outcome::Close,
                },
                _ = feed.tick() => self.feed(&mut socket).await,
                _ = ping.tick() => {
                    if awaiting_pong {
                        tracing::debug!(session = self.id, "no PINGPONG answer: dropping the session");
                        Outcome::Close
                    } else {
                        awaiting_pong = true;
                        send(&mut socket, protocol::pingpong(market::time::now_kst().datetime())).await
                    }
                }
                _ = drop_signal.changed() => {
                    close(&mut socket).await;
                    Outcome::Close
                }
                _ = keys_signal.changed() => {
                    if self.app_key.as_deref().is_some_and(|k| self.state.faults.is_key_disabled(k)) {
                        close(&mut socket).await;
                        Outcome::Close
                    } else {
                        Outcome::Continue
                    }
                }
                _ = shutdown.changed() => {
                    close(&mut socket).await;
                    Outcome::Close
                }
            };
            if let Outcome::Close = outcome {
                break;
            }
        }
    }

    async fn handle(&mut self, socket: &mut WebSocket, request: Request) -> Outcome {
        let (registration, subscribe) = match request {
            Request::Subscribe(r) => (r, true),
            Request::Unsubscribe(r) => (r, false),
            Request::PingPong => return Outcome::Continue,
        };
        let refuse = |code, msg| Refusal::new(code, msg, &registration.tr_id, &registration.tr_key);
        let Some(app_key) = self.state.approvals.app_key_of(&registration.approval_key) else {
            return send(
                socket,
                protocol::refusal(&refuse("OPSP0011", "invalid approval(appkey) : NOT FOUND")),
            )
            .await;
        };
        if self.state.faults.is_key_disabled(&app_key) {
            let _ = send(
                socket,
                protocol::refusal(&refuse("OPSP0011", "invalid approval(appkey) : NOT FOUND")),
            )
            .await;
            close(socket).await;
            return Outcome::Close;
        }
        if let Err(refusal) = self.bind(&app_key, &registration) {
            let _ = send(socket, protocol::refusal(&refusal)).await;
            close(socket).await;
            return Outcome::Close;
        }
        let existing = self
            .subscriptions
            .iter()
            .position(|s| s.tr_id == registration.tr_id && s.tr_key == registration.tr_key);
        let answer = match (subscribe, existing) {
            (true, Some(_)) => protocol::refusal(&refuse("OPSP0002", "ALREADY IN SUBSCRIBE")),
            (true, None) if self.subscriptions.len() >= MAX_REGISTRATIONS => {
                protocol::refusal(&refuse("OPSP0008", "MAX SUBSCRIBE OVER"))
            }
            (true, None) => {
                self.subscriptions.push(self.new_subscription(&registration));
                Counters::inc(&self.state.counters.subscriptions);
                protocol::ack(&registration, true, &self.cipher.0, &self.cipher.1)
            }
            (false, Some(i)) => {
                self.subscriptions.remove(i);
                Counters::sub(&self.state.counters.subscriptions, 1);
                protocol::ack(&registration, false, &self.cipher.0, &self.cipher.1)
            }
            (false, None) => protocol::refusal(&refuse("OPSP0003", "UNSUBSCRIBE ERROR (not found!)")),
        };
        send(socket, answer).await
    }

    /// Binds the session to `app_key` on first use; refuses a key held by another live session.
    fn bind(&mut self, app_key: &str, r: &Registration) -> Result<(), Refusal> {
        let in_use = || Refusal::new("OPSP8996", "ALREADY IN USE appkey", &r.tr_id, &r.tr_key);
        match &self.app_key {
            Some(bound) if bound == app_key => Ok(()),
            Some(_) => Err(in_use()),
            None => {
                let mut sessions = lock(&self.state.ws_sessions);
                if sessions.contains_key(app_key) {
                    return Err(in_use());
                }
                sessions.insert(app_key.to_string(), self.id);
                self.app_key = Some(app_key.to_string());
                Ok(())
            }
        }
    }

    fn new_subscription(&self, r: &Registration) -> Subscription {
        let code = StockCode::parse(&r.tr_key)
            .ok()
            .filter(|c| self.state.market.stock(c).is_some());
        // Only trades after the subscription are streamed, as KIS does.
        let last_seq = match (r.tr_id.as_str(), code) {
            (TR_EXECUTION, Some(c)) => self
                .state
                .market
                .recent_executions(&c, 1)
                .first()
                .map_or(0, |e| e.seq),
            _ => 0,
        };
        Subscription {
            tr_id: r.tr_id.clone(),
            tr_key: r.tr_key.clone(),
            code,
            day: self.state.market.trading_date(),
            last_seq,
            last_book: None,
        }
    }

    /// Sends what happened since the last poll.
    async fn feed(&mut self, socket: &mut WebSocket) -> Outcome {
        let mut out: Vec<String> = Vec::new();
        let mut records = 0u64;
        let market = &self.state.market;
        let today = market.trading_date();
        for sub in &mut self.subscriptions {
            let Some(code) = sub.code else { continue };
            match sub.tr_id.as_str() {
                TR_EXECUTION => {
                    if sub.day != today {
                        (sub.day, sub.last_seq) = (today, 0);
                    }
                    let executions = market.executions_after(&code, sub.last_seq);
                    let Some(last) = executions.last() else { continue };
                    sub.last_seq = last.seq;
                    let Some(info) = market.stock(&code) else { continue };
                    let book = market.order_book(&code);
                    for chunk in executions.chunks(MAX_RECORDS_PER_FRAME) {
                        let mut payload = String::with_capacity(chunk.len() * 300);
                        for (i, e) in chunk.iter().enumerate() {
                            if i > 0 {
                                payload.push('^');
                            }
                            frames::write_execution(&mut payload, e, info, book.as_ref());
                        }
                        out.push(frames::frame(TR_EXECUTION, chunk.len(), &payload));
                        records += chunk.len() as u64;
                    }
                }
                TR_ORDER_BOOK => {
                    let (Some(book), Some(quote)) = (market.order_book(&code), market.quote(&code)) else {
                        continue;
                    };
                    if sub.last_book.as_ref() == Some(&book) {
                        continue;
                    }
                    sub.last_book = Some(book);
                    let mut payload = String::with_capacity(400);
                    frames::write_order_book(&mut payload, &book, &quote);
                    out.push(frames::frame(TR_ORDER_BOOK, 1, &payload));
                    records += 1;
                }
                _ => {}
            }
        }
        Counters::add(&self.state.counters.ws_records, records);
        for text in out {
            if let Outcome::Close = send(socket, text).await {
                return Outcome::Close;
            }
        }
        Outcome::Continue
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        Counters::sub(&self.state.counters.ws_sessions, 1);
        Counters::sub(
            &self.state.counters.subscriptions,
            self.subscriptions.len() as u64,
        );
        if let Some(key) = &self.app_key {
            let mut sessions = lock(&self.state.ws_sessions);
            if sessions.get(key) == Some(&self.id) {
                sessions.remove(key);
            }
        }
    }
}

/// Sends a text frame; a client that does not take it within [`SEND_TIMEOUT`] is dropped.
async fn send(socket: &mut WebSocket, text: String) -> Outcome {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Outcome::Continue,
        Ok(Err(_)) | Err(_) => Outcome::Close,
    }
}

async fn close(socket: &mut WebSocket) {
    let frame = CloseFrame {
        code: 1000,
        reason: "closed by server".into(),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_started_at_any_moment_poll_on_one_grid() {
        let ms = Duration::from_millis;
        // Sessions opened 1 ms, 17 ms and 49 ms into a 50 ms slot all poll first at its end.
        for opened in [1_000_001, 1_000_017, 1_000_049] {
            assert_eq!(ms(opened) + wait_for_grid(ms(opened)), ms(1_000_050));
        }
        // On the grid: at once.
        assert_eq!(wait_for_grid(ms(1_000_050)), Duration::ZERO);
        // Sub-millisecond phases are kept too.
        assert_eq!(
            wait_for_grid(ms(1_000_050) + Duration::from_nanos(1)),
            FEED_INTERVAL - Duration::from_nanos(1)
        );
    }
}
