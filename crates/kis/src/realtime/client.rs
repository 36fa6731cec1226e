//! The realtime client: one task owns the WebSocket, reads it all the time, answers PINGPONG,
//! reconciles the wanted registrations with the acknowledged ones, and reconnects with backoff.
//!
//! * Requests from [`RealtimeHandle`] reach the task through an mpsc channel; subscribe and
//!   unsubscribe requests are sent one at a time, [`RealtimeConfig::request_interval`] apart, so a
//!   reconnect never bursts 41 requests at KIS.
//! * A subscribe call returns once KIS acknowledges it. While disconnected it waits for the
//!   reconnect (wrap it in a timeout if that matters). If it fails, nothing stays registered.
//! * Nothing inside the session loop waits on anything but the socket, the commands and its timers:
//!   renewing a rejected approval key (which can wait up to a minute for KIS's one-issuance-a-minute
//!   rule) runs in a task of its own, and its answer comes back as one more input of the loop. Until
//!   it does, subscribe/unsubscribe requests are held back (they would only meet the rejected key
//!   again), while PINGPONG is echoed and frames keep flowing.
//! * Events go out on a bounded channel. When the consumer is slow the task waits for room: nothing
//!   is dropped, but the socket is not read meanwhile and KIS may end the session, which then counts
//!   as a drop (reconnect, resubscribe, `Reconnected { gap }`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use market::StockCode;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::approval::{ApprovalError, ApprovalSource};
use super::control::{self, Ack, AckOutcome, Control};
use super::crypto::FrameCipher;
use super::error::{ParseError, RealtimeError};
use super::frame;
use super::messages::{self, Execution, ExecutionNotice, Message, OrderBook};
use super::reconnect::Backoff;
use super::subscriptions::{Channel, MAX_REGISTRATIONS, Registrations, Topic};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sink = SplitSink<Socket, WsMessage>;
type Reply = oneshot::Sender<Result<(), RealtimeError>>;

/// How the realtime client connects and paces itself.
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// The WebSocket URL, e.g. `ws://ops.koreainvestment.com:21000/tryitout`.
    pub url: String,
    /// At most this many registrations (capped at [`MAX_REGISTRATIONS`]).
    pub registration_limit: usize,
    /// Room in the event channel.
    pub event_capacity: usize,
    pub backoff: Backoff,
    /// A session that lasted this long resets the backoff to its floor.
    pub stable_after: Duration,
    /// How long KIS may take to acknowledge a request.
    pub ack_timeout: Duration,
    /// The pause between two subscribe/unsubscribe requests.
    pub request_interval: Duration,
    /// With nothing received for this long (KIS sends PINGPONG about every 100 s) the session is
    /// considered dead and replaced.
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
}

impl RealtimeConfig {
    /// Defaults: 41 registrations, 4096 events, backoff 1 s..60 s, stable after 60 s, acks within
    /// 10 s, 100 ms between requests, 250 s idle, 10 s to connect.
    ///
    /// A base URL without a path (`ws://ops.koreainvestment.com:21000`) gets KIS's `/tryitout`.
    pub fn new(url: impl Into<String>) -> RealtimeConfig {
        RealtimeConfig {
            url: with_default_path(url.into()),
            registration_limit: MAX_REGISTRATIONS,
            event_capacity: 4096,
            backoff: Backoff::default(),
            stable_after: Duration::from_secs(60),
            ack_timeout: Duration::from_secs(10),
            request_interval: Duration::from_millis(100),
            idle_timeout: Duration::from_secs(250),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What the client reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealtimeEvent {
    /// A session is open (every time, first connection and reconnects alike).
    Connected,
    /// The session ended; the next attempt starts in `retry_in`.
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
    /// A connection attempt failed; the next one starts in `retry_in`.
    ConnectFailed {
        reason: String,
        retry_in: Duration,
    },
    /// After a drop, every registration is active again; `gap` runs from the drop to now, so a
    /// consumer can backfill that stretch over REST.
    Reconnected {
        gap: Duration,
    },
    Execution(Execution),
    OrderBook(OrderBook),
    Notice(ExecutionNotice),
    /// KIS refused to restore a registration after a reconnect; it is no longer registered.
    SubscriptionLost {
        topic: Topic,
        error: RealtimeError,
    },
    /// A message that could not be read (it is skipped).
    Malformed(ParseError),
}

/// Starts realtime clients.
pub struct RealtimeClient;

impl RealtimeClient {
    /// Spawns the connection task (on the current tokio runtime) and returns its handle and events.
    /// The task ends when [`RealtimeHandle::close`] is called, when every handle is dropped, or when
    /// the event receiver is dropped.
    pub fn connect(
        config: RealtimeConfig,
        approval: Arc<dyn ApprovalSource>,
    ) -> (RealtimeHandle, mpsc::Receiver<RealtimeEvent>) {
        let (commands_tx, commands) = mpsc::channel(64);
        let (events, events_rx) = mpsc::channel(config.event_capacity.max(1));
        let task = Task {
            wanted: Registrations::new(config.registration_limit),
            config,
            approval,
            commands,
            events,
            active: HashSet::new(),
            inflight: HashMap::new(),
            subscribe_waiters: HashMap::new(),
            unsubscribe_waiters: HashMap::new(),
            ciphers: HashMap::new(),
            key: String::new(),
            key_generation: 0,
            renewed_this_session: false,
            renewal: None,
            feed_lost_at: None,
            close_reply: None,
        };
        tokio::spawn(task.run());
        (
            RealtimeHandle {
                commands: commands_tx,
            },
            events_rx,
        )
    }
}

/// Talks to the connection task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RealtimeHandle {
    commands: mpsc::Sender<Command>,
}

enum Command {
    Subscribe { topic: Topic, reply: Reply },
    Unsubscribe { topic: Topic, reply: Reply },
    Registrations { reply: oneshot::Sender<Vec<Topic>> },
    Close { reply: oneshot::Sender<()> },
}

impl RealtimeHandle {
    /// Registers a stock's executions or order book; returns once KIS acknowledged it.
    /// A registration past the cap fails with [`RealtimeError::TooManyRegistrations`] without
    /// anything being sent.
    pub async fn subscribe(&self, channel: Channel, code: StockCode) -> Result<(), RealtimeError> {
        self.subscribe_topic(Topic::stock(channel, code)).await
    }

    /// Registers the account's execution notices (keyed by HTS id).
    pub async fn subscribe_notices(&self, channel: Channel, hts_id: &str) -> Result<(), RealtimeError> {
        self.subscribe_topic(Topic::notices(channel, hts_id)?).await
    }

    pub async fn subscribe_topic(&self, topic: Topic) -> Result<(), RealtimeError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Subscribe { topic, reply }).await?;
        answer.await.map_err(|_| RealtimeError::Closed)?
    }

    /// Removes a registration; returns once KIS acknowledged it (at once when it was not active).
    pub async fn unsubscribe(&self, channel: Channel, code: StockCode) -> Result<(), RealtimeError> {
        self.unsubscribe_topic(Topic::stock(channel, code)).await
    }

    pub async fn unsubscribe_topic(&self, topic: Topic) -> Result<(), RealtimeError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Unsubscribe { topic, reply }).await?;
        answer.await.map_err(|_| RealtimeError::Closed)?
    }

    /// The registrations the client holds (acknowledged or pending).
    pub async fn registrations(&self) -> Result<Vec<Topic>, RealtimeError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Registrations { reply }).await?;
        answer.await.map_err(|_| RealtimeError::Closed)
    }

    /// Whether both handles talk to the same connection task.
    pub fn same_session(&self, other: &RealtimeHandle) -> bool {
        self.commands.same_channel(&other.commands)
    }

    /// Closes the session and stops the task.
    pub async fn close(&self) {
        let (reply, answer) = oneshot::channel();
        if self.send(Command::Close { reply }).await.is_ok() {
            let _ = answer.await;
        }
    }

    async fn send(&self, command: Command) -> Result<(), RealtimeError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| RealtimeError::Closed)
    }
}

/// Why a session or the task ended.
enum Stop {
    /// Close was asked for, or nobody listens any more.
    Closed,
    /// The session was lost.
    Dropped(String),
    /// No session could be opened.
    Failed(String),
}

struct Inflight {
    subscribe: bool,
    sent_at: Instant,
    key_generation: u64,
}

/// A pending approval-key renewal.
struct Renewal {
    key: oneshot::Receiver<Result<String, ApprovalError>>,
    topic: Topic,
    subscribe: bool,
}

struct Task {
    config: RealtimeConfig,
    approval: Arc<dyn ApprovalSource>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<RealtimeEvent>,
    /// What the user wants registered.
    wanted: Registrations,
    /// What KIS acknowledged on the current session.
    active: HashSet<Topic>,
    /// Requests sent and not yet acknowledged (at most one per topic).
    inflight: HashMap<Topic, Inflight>,
    subscribe_waiters: HashMap<Topic, Vec<Reply>>,
    unsubscribe_waiters: HashMap<Topic, Vec<Reply>>,
    /// AES keys from the acks, by TR id.
    ciphers: HashMap<String, FrameCipher>,
    /// The approval key (a secret: never logged).
    key: String,
    key_generation: u64,
    renewed_this_session: bool,
    /// A renewal of the approval key running in its own task, with the registration whose rejection
    /// asked for it (failed if no new key comes).
    renewal: Option<Renewal>,
    /// When the feed was lost; cleared by `Reconnected`.
    feed_lost_at: Option<Instant>,
    close_reply: Option<oneshot::Sender<()>>,
}

impl Task {
    async fn run(mut self) {
        let mut attempt = 0u32;
        loop {
            let stop = match self.open().await {
                Ok(socket) => {
                    let opened = Instant::now();
                    let stop = self.session(socket).await;
                    if opened.elapsed() >= self.config.stable_after {
                        attempt = 0;
                    }
                    stop
                }
                Err(reason) => Stop::Failed(reason),
            };
            self.forget_session();
            let retry_in = self.config.backoff.delay(attempt, rand::random::<f64>());
            attempt = attempt.saturating_add(1);
            let event = match stop {
                Stop::Closed => break,
                Stop::Dropped(reason) => {
                    tracing::warn!(%reason, ?retry_in, "realtime session lost");
                    self.feed_lost_at.get_or_insert_with(Instant::now);
                    RealtimeEvent::Disconnected { reason, retry_in }
                }
                Stop::Failed(reason) => {
                    tracing::warn!(%reason, ?retry_in, "realtime connection failed");
                    RealtimeEvent::ConnectFailed { reason, retry_in }
                }
            };
            if self.emit(event).await.is_err() || !self.wait_offline(retry_in).await {
                break;
            }
        }
        self.shut_down();
    }

    /// Gets an approval key and opens the socket.
    async fn open(&mut self) -> Result<Socket, String> {
        self.key = self
            .approval
            .approval_key(false)
            .await
            .map_err(|e| e.to_string())?;
        self.key_generation += 1;
        // Nagle off: subscriptions and PINGPONG answers are small frames that must not wait for an ACK.
        let connect = tokio_tungstenite::connect_async_with_config(self.config.url.as_str(), None, true);
        match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Err(_) => Err(format!("no connection within {:?}", self.config.connect_timeout)),
            Ok(Err(e)) => Err(format!("cannot connect: {e}")),
            Ok(Ok((socket, _response))) => Ok(socket),
        }
    }

    async fn session(&mut self, socket: Socket) -> Stop {
        tracing::info!("realtime session open");
        self.renewed_this_session = false;
        let (mut sink, mut stream) = socket.split();
        if let Err(stop) = self.emit(RealtimeEvent::Connected).await {
            return stop;
        }
        if let Err(stop) = self.settle().await {
            return stop;
        }
        let mut pacer = tokio::time::interval(self.config.request_interval.max(Duration::from_millis(1)));
        pacer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        loop {
            let ack_deadline = self
                .inflight
                .values()
                .map(|i| i.sent_at + self.config.ack_timeout)
                .min();
            // While a new approval key is on its way, requests would only meet the rejected one.
            let has_work = self.renewal.is_none() && self.next_request().is_some();
            let result = tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    match incoming {
                        None => Err(Stop::Dropped("the server closed the connection".into())),
                        Some(Err(e)) => Err(Stop::Dropped(format!("read failed: {e}"))),
                        Some(Ok(WsMessage::Text(text))) => self.on_text(&mut sink, text.as_str()).await,
                        Some(Ok(WsMessage::Close(frame))) => Err(Stop::Dropped(match frame {
                            Some(f) => format!("closed by the server ({}: {})", f.code, f.reason),
                            None => "closed by the server".into(),
                        })),
                        Some(Ok(_)) => Ok(()),
                    }
                }
                command = self.commands.recv() => match self.command(command) {
                    true => self.settle().await,
                    false => Err(Stop::Closed),
                },
                _ = pacer.tick(), if has_work => self.send_next(&mut sink).await,
                _ = sleep_until(ack_deadline), if ack_deadline.is_some() => self.expire_acks().await,
                renewed = renewal_done(&mut self.renewal), if self.renewal.is_some() => {
                    self.on_renewal(renewed).await
                }
                _ = tokio::time::sleep_until(last_heard + self.config.idle_timeout) => Err(Stop::Dropped(
                    format!("nothing received for {:?}", self.config.idle_timeout),
                )),
            };
            if let Err(stop) = result {
                if let Stop::Closed = stop {
                    let _ = sink.send(WsMessage::Close(None)).await;
                }
                return stop;
            }
        }
    }

    /// Serves commands while disconnected; `false` when the task should stop.
    async fn wait_offline(&mut self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return true,
                command = self.commands.recv() => if !self.command(command) {
                    return false;
                },
            }
        }
    }

    /// Applies a command to the wanted set; `false` for close (or when every handle is gone).
    fn command(&mut self, command: Option<Command>) -> bool {
        let Some(command) = command else {
            return false;
        };
        match command {
            Command::Subscribe { topic, reply } => {
                if let Err(e) = self.wanted.add(topic.clone()) {
                    let _ = reply.send(Err(e));
                } else if self.active.contains(&topic) && !self.inflight.contains_key(&topic) {
                    let _ = reply.send(Ok(()));
                } else {
                    self.subscribe_waiters.entry(topic).or_default().push(reply);
                }
            }
            Command::Unsubscribe { topic, reply } => {
                self.wanted.remove(&topic);
                for waiter in self.subscribe_waiters.remove(&topic).unwrap_or_default() {
                    let _ = waiter.send(Err(RealtimeError::Withdrawn {
                        topic: topic.to_string(),
                    }));
                }
                if self.active.contains(&topic) || self.inflight.contains_key(&topic) {
                    self.unsubscribe_waiters.entry(topic).or_default().push(reply);
                } else {
                    let _ = reply.send(Ok(()));
                }
            }
            Command::Registrations { reply } => {
                let _ = reply.send(self.wanted.iter().cloned().collect());
            }
            Command::Close { reply } => {
                self.close_reply = Some(reply);
                return false;
            }
        }
        true
    }

    /// The next request that brings the server closer to the wanted set: unsubscribes first (they
    /// free slots), then subscribes; never two requests for one topic at once.
    fn next_request(&self) -> Option<(Topic, bool)> {
        let idle = |t: &&Topic| !self.inflight.contains_key(*t);
        self.active
            .iter()
            .filter(idle)
            .find(|t| !self.wanted.contains(t))
            .map(|t| (t.clone(), false))
            .or_else(|| {
                self.wanted
                    .iter()
                    .filter(idle)
                    .find(|t| !self.active.contains(*t))
                    .map(|t| (t.clone(), true))
            })
    }

    async fn send_next(&mut self, sink: &mut Sink) -> Result<(), Stop> {
        let Some((topic, subscribe)) = self.next_request() else {
            return Ok(());
        };
        let request = serde_json::json!({
            "header": {
                "approval_key": self.key,
                "custtype": "P",
                "tr_type": if subscribe { "1" } else { "2" },
                "content-type": "utf-8",
            },
            "body": {"input": {"tr_id": topic.channel.tr_id(), "tr_key": topic.key}},
        });
        sink.send(WsMessage::text(request.to_string()))
            .await
            .map_err(|e| Stop::Dropped(format!("send failed: {e}")))?;
        tracing::debug!(%topic, subscribe, "realtime request sent");
        self.inflight.insert(
            topic,
            Inflight {
                subscribe,
                sent_at: Instant::now(),
                key_generation: self.key_generation,
            },
        );
        Ok(())
    }

    async fn on_text(&mut self, sink: &mut Sink, text: &str) -> Result<(), Stop> {
        if frame::is_data_frame(text) {
            let decoded = messages::decode_frame(text, |tr_id| self.ciphers.get(tr_id).cloned());
            match decoded {
                Ok(records) => {
                    for record in records {
                        self.emit(match record {
                            Message::Execution(e) => RealtimeEvent::Execution(e),
                            Message::OrderBook(b) => RealtimeEvent::OrderBook(b),
                            Message::Notice(n) => RealtimeEvent::Notice(n),
                        })
                        .await?;
                    }
                    Ok(())
                }
                Err(e) => self.malformed(e).await,
            }
        } else {
            match control::parse(text) {
                Ok(Control::PingPong) => sink
                    .send(WsMessage::text(text))
                    .await
                    .map_err(|e| Stop::Dropped(format!("PINGPONG echo failed: {e}"))),
                Ok(Control::Ack(ack)) => self.on_ack(ack).await,
                Err(e) => self.malformed(e).await,
            }
        }
    }

    async fn malformed(&mut self, error: ParseError) -> Result<(), Stop> {
        tracing::warn!(%error, "unreadable realtime message skipped");
        self.emit(RealtimeEvent::Malformed(error)).await
    }

    async fn on_ack(&mut self, ack: Ack) -> Result<(), Stop> {
        let Some(topic) = Topic::from_wire(&ack.tr_id, &ack.tr_key) else {
            tracing::warn!(tr_id = %ack.tr_id, code = %ack.code, message = %ack.message, "realtime answer for no known registration");
            return Ok(());
        };
        if let Some((key, iv)) = &ack.cipher
            && let Ok(cipher) = FrameCipher::new(key, iv)
        {
            self.ciphers.insert(ack.tr_id.clone(), cipher);
        }
        let inflight = self.inflight.remove(&topic);
        let subscribe = inflight
            .as_ref()
            .map_or(self.wanted.contains(&topic), |i| i.subscribe);
        match ack.outcome {
            AckOutcome::Subscribed | AckOutcome::AlreadySubscribed => {
                self.active.insert(topic.clone());
                if self.wanted.contains(&topic) {
                    resolve(self.subscribe_waiters.remove(&topic), Ok(()));
                }
            }
            AckOutcome::Unsubscribed | AckOutcome::NotSubscribed => {
                self.active.remove(&topic);
                resolve(self.unsubscribe_waiters.remove(&topic), Ok(()));
            }
            AckOutcome::InvalidApproval => {
                let stale = inflight.is_some_and(|i| i.key_generation < self.key_generation);
                if stale || self.renewal.is_some() {
                    // Sent with a key replaced since (or being replaced): the request is simply
                    // sent again with the new one.
                } else if !self.renewed_this_session {
                    self.renewed_this_session = true;
                    tracing::warn!("KIS rejected the approval key; asking for a new one");
                    self.renewal = Some(self.renew_approval(topic.clone(), subscribe));
                } else {
                    let error = RealtimeError::ApprovalRejected {
                        message: ack.message.clone(),
                    };
                    self.fail(&topic, subscribe, error).await?;
                }
            }
            AckOutcome::SessionInUse => {
                return Err(Stop::Dropped(format!(
                    "KIS says the app key already has a session ({}: {})",
                    ack.code, ack.message
                )));
            }
            AckOutcome::Failed => {
                let error = RealtimeError::Rejected {
                    tr_id: ack.tr_id.clone(),
                    tr_key: ack.tr_key.clone(),
                    code: ack.code.clone(),
                    message: ack.message.clone(),
                };
                self.fail(&topic, subscribe, error).await?;
            }
        }
        self.settle().await
    }

    /// Asks for a new approval key in a task of its own, so the session loop keeps reading the
    /// socket while the source waits (KIS allows one issuance a minute).
    fn renew_approval(&self, topic: Topic, subscribe: bool) -> Renewal {
        let (reply, key) = oneshot::channel();
        let approval = self.approval.clone();
        tokio::spawn(async move {
            let _ = reply.send(approval.approval_key(true).await);
        });
        Renewal {
            key,
            topic,
            subscribe,
        }
    }

    /// The renewal's answer: the new key is used from the next request on; without one, the
    /// registration that asked for it fails.
    async fn on_renewal(
        &mut self,
        renewed: (Result<String, ApprovalError>, Topic, bool),
    ) -> Result<(), Stop> {
        let (result, topic, subscribe) = renewed;
        match result {
            Ok(key) => {
                self.key = key;
                self.key_generation += 1;
            }
            Err(e) => self.fail(&topic, subscribe, e.into()).await?,
        }
        self.settle().await
    }

    /// Gives up a request: a failed subscribe leaves nothing registered, a failed unsubscribe
    /// forgets the registration locally.
    async fn fail(&mut self, topic: &Topic, subscribe: bool, error: RealtimeError) -> Result<(), Stop> {
        if subscribe {
            let was_wanted = self.wanted.remove(topic);
            match self.subscribe_waiters.remove(topic) {
                Some(waiters) if !waiters.is_empty() => resolve(Some(waiters), Err(error)),
                _ if !was_wanted => {}
                _ => {
                    tracing::warn!(%topic, %error, "realtime registration lost");
                    let topic = topic.clone();
                    self.emit(RealtimeEvent::SubscriptionLost { topic, error })
                        .await?;
                }
            }
        } else {
            self.active.remove(topic);
            resolve(self.unsubscribe_waiters.remove(topic), Err(error));
        }
        Ok(())
    }

    async fn expire_acks(&mut self) -> Result<(), Stop> {
        let now = Instant::now();
        let expired: Vec<(Topic, bool)> = self
            .inflight
            .iter()
            .filter(|(_, i)| now >= i.sent_at + self.config.ack_timeout)
            .map(|(t, i)| (t.clone(), i.subscribe))
            .collect();
        for (topic, subscribe) in expired {
            self.inflight.remove(&topic);
            let error = RealtimeError::AckTimeout {
                tr_id: topic.channel.tr_id().to_owned(),
                tr_key: topic.key.clone(),
            };
            if subscribe {
                // KIS may have registered it after all: count it as active so that it gets
                // unsubscribed, and never silently holds a slot.
                self.active.insert(topic.clone());
            }
            self.fail(&topic, subscribe, error).await?;
        }
        self.settle().await
    }

    /// Resolves unsubscribe calls whose topic is gone from the server; after a drop, once every
    /// wanted registration is active again, reports `Reconnected`.
    async fn settle(&mut self) -> Result<(), Stop> {
        let gone: Vec<Topic> = self
            .unsubscribe_waiters
            .keys()
            .filter(|t| !self.active.contains(*t) && !self.inflight.contains_key(*t))
            .cloned()
            .collect();
        for topic in gone {
            resolve(self.unsubscribe_waiters.remove(&topic), Ok(()));
        }
        let Some(lost_at) = self.feed_lost_at else {
            return Ok(());
        };
        if self.wanted.iter().all(|t| self.active.contains(t)) {
            self.feed_lost_at = None;
            let gap = lost_at.elapsed();
            tracing::info!(?gap, registrations = self.wanted.len(), "realtime feed restored");
            self.emit(RealtimeEvent::Reconnected { gap }).await?;
        }
        Ok(())
    }

    /// The session is gone and its registrations with it.
    fn forget_session(&mut self) {
        // The next session starts with a key of its own (`open`).
        self.renewal = None;
        self.active.clear();
        self.inflight.clear();
        self.ciphers.clear();
        for (_, waiters) in self.unsubscribe_waiters.drain() {
            resolve(Some(waiters), Ok(()));
        }
    }

    fn shut_down(&mut self) {
        for (_, waiters) in self
            .subscribe_waiters
            .drain()
            .chain(self.unsubscribe_waiters.drain())
        {
            resolve(Some(waiters), Err(RealtimeError::Closed));
        }
        if let Some(reply) = self.close_reply.take() {
            let _ = reply.send(());
        }
        tracing::info!("realtime client stopped");
    }

    async fn emit(&self, event: RealtimeEvent) -> Result<(), Stop> {
        self.events.send(event).await.map_err(|_| Stop::Closed)
    }
}

fn with_default_path(url: String) -> String {
    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    if after_scheme.contains('/') {
        url
    } else {
        format!("{url}/tryitout")
    }
}

fn resolve(waiters: Option<Vec<Reply>>, result: Result<(), RealtimeError>) {
    for waiter in waiters.unwrap_or_default() {
        let _ = waiter.send(result.clone());
    }
}

/// Waits for the pending renewal's answer and clears it (pending forever when there is none).
async fn renewal_done(renewal: &mut Option<Renewal>) -> (Result<String, ApprovalError>, Topic, bool) {
    let Some(pending) = renewal.as_mut() else {
        return std::future::pending().await;
    };
    let result = (&mut pending.key)
        .await
        .unwrap_or_else(|_| Err(ApprovalError("the approval-key renewal stopped".into())));
    let Some(done) = renewal.take() else {
        return std::future::pending().await;
    };
    (result, done.topic, done.subscribe)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_kis_path() {
        let url = |u: &str| RealtimeConfig::new(u).url;
        assert_eq!(
            url("ws://ops.koreainvestment.com:21000"),
            "ws://ops.koreainvestment.com:21000/tryitout"
        );
        assert_eq!(url("ws://127.0.0.1:9/"), "ws://127.0.0.1:9/");
        assert_eq!(url("ws://127.0.0.1:9/tryitout"), "ws://127.0.0.1:9/tryitout");
    }
}
