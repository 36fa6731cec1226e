//! The browser fan-out: connections, their subscriptions, and every live message serialised once
//! and pushed to the [`Outbox`] of each client that wants it.
//!
//! The service's WebSocket handler for `/api/v1/ws` does three things with a [`Hub`]:
//!
//! 1. on upgrade, [`Hub::connect`] → a client id and its [`Outbox`]; a writer task loops on
//!    [`Outbox::recv_batch`], writes the batch with one flush and reports [`Outbox::written`] (or
//!    sends the close frame, then stops);
//! 2. each text frame from the browser goes to [`Hub::handle_text`]; bad requests are answered with
//!    an `error` message on the same socket; [`ClientAction::Resume`] asks the service to read the
//!    stored triggers after the id and hand them to [`Hub::finish_resume`];
//! 3. when the socket ends, [`Hub::disconnect`].
//!
//! A new connection first gets the latest upstream `status`; a `subscribe` is answered with a
//! `status` of the stocks it names, from the [`StatusSource`] the service installs. After
//! [`Hub::shutdown`] every connection (and any that arrives later) gets close 1001, and
//! [`Hub::sessions_ended`] resolves once every connection's handler has disconnected.
//!
//! The realtime side calls the `publish_*` methods from the task that reads the KIS feed (the same
//! task that updates live state, candles and the trigger engine: no extra hop). Publishing never
//! waits on a browser: a push into a bounded, coalescing queue is a short lock, and a client that
//! falls too far behind is cut off (its queue closes with 1008 "too slow: N messages behind") and
//! removed here.
//!
//! [`ClientAction::Interest`] and [`Hub::open_pages`] feed the planner's [`crate::live::planner::Demand`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jiff::civil::Date;
use kis::realtime::{Execution, OrderBook};
use market::{Candle, Period, StockCode};

use super::protocol::{
    BrowserChannel, CandleMessage, ClientOp, ErrorMessage, OrderBookMessage, ServerMessage, StatusMessage,
    StockStatusEntry, TickMessage, parse_client_op,
};
use super::queue::{Closed, Key, OutQueue, Outbox, QueueConfig};
use super::registry::{ClientId, InterestChange, Registry};
use crate::contract::{self, Trigger, UnstoredTrigger};
use crate::status::{StockStatus, UpstreamState};

/// The close code of a server shutdown ("going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;

const SHUTDOWN_REASON: &str = "server shutting down";

/// What the service must do after a client's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAction {
    /// Nothing (a bad request was answered with an `error` message, or nothing changed upstream).
    None,
    /// Upstream interest changed: re-plan the registrations.
    Interest(InterestChange),
    /// Read every stored trigger with an id above this and call [`Hub::finish_resume`].
    Resume { after_trigger_id: u64 },
    /// Read the stored scan events of these conditions after the id and hand them to
    /// [`Hub::send_scan_events`].
    ResumeScans {
        conditions: Vec<u64>,
        after_scan_event_id: u64,
    },
}

/// A stock's current status, for the answer to a `subscribe` (`None`: unknown, left out).
pub type StatusSource = Arc<dyn Fn(StockCode) -> Option<StockStatus> + Send + Sync>;

/// A stock's display name, asked when a client subscribes to a code the hub has no name for.
pub type NameSource = Arc<dyn Fn(StockCode) -> Option<String> + Send + Sync>;

struct State {
    config: QueueConfig,
    registry: Registry,
    clients: HashMap<ClientId, Outbox>,
    names: HashMap<StockCode, Arc<str>>,
    next_id: ClientId,
    /// The latest upstream `status` message, for new connections.
    upstream: Option<Arc<str>>,
    status_source: Option<StatusSource>,
    name_source: Option<NameSource>,
    shutting_down: bool,
    /// Triggers delivered while the store could not take them, oldest first, until stored (or
    /// settled otherwise): `(key, text)`, for connections that resume or connect meanwhile.
    unstored: VecDeque<(String, Arc<str>)>,
    unstored_keys: HashSet<String>,
    /// `scan:<id>` subscribers by condition id.
    scans: HashMap<u64, BTreeSet<ClientId>>,
}

/// Unstored triggers a resuming or new connection gets at most (the newest): more would cut it
/// off as too slow ([`QueueConfig::max_pending`]); each reaches it anyway once stored.
pub const UNSTORED_REPLAY: usize = 1000;

/// All browser connections of the service.
pub struct Hub {
    state: RwLock<State>,
    /// Connections whose handler has not called [`Hub::disconnect`] yet (cut-off ones included,
    /// while their close frame is being sent).
    sessions: std::sync::Mutex<HashSet<ClientId>>,
    sessions_changed: tokio::sync::watch::Sender<usize>,
    cut_offs: AtomicU64,
}

impl Hub {
    pub fn new(config: QueueConfig) -> Hub {
        Hub {
            state: RwLock::new(State {
                config,
                registry: Registry::default(),
                clients: HashMap::new(),
                names: HashMap::new(),
                next_id: 0,
                upstream: None,
                status_source: None,
                name_source: None,
                shutting_down: false,
                unstored: VecDeque::new(),
                unstored_keys: HashSet::new(),
                scans: HashMap::new(),
            }),
            sessions: std::sync::Mutex::new(HashSet::new()),
            sessions_changed: tokio::sync::watch::channel(0).0,
            cut_offs: AtomicU64::new(0),
        }
    }

    /// The queue limits of connections opened from now on.
    pub fn set_queue_config(&self, config: QueueConfig) {
        self.write().config = config;
    }

    /// Where names of subscribed codes come from when [`Hub::set_name`] did not give one.
    pub fn set_name_source(&self, source: NameSource) {
        self.write().name_source = Some(source);
    }

    /// Where the answer to a `subscribe` gets each stock's status.
    pub fn set_status_source(&self, source: StatusSource) {
        self.write().status_source = Some(source);
    }

    /// Clients cut off for being too slow, since the start.
    pub fn cut_offs(&self) -> u64 {
        self.cut_offs.load(Ordering::Relaxed)
    }

    /// Sets a stock's display name (messages carry `code` and `name`).
    pub fn set_name(&self, code: StockCode, name: &str) {
        self.write().names.insert(code, Arc::from(name));
    }

    /// A new browser connection.
    pub fn connect(&self) -> (ClientId, Outbox) {
        self.connect_with(false)
    }

    /// A browser's connection: its triggers are held until it resumes or [`Hub::release_hold`]
    /// (see [`OutQueue::hold_triggers`]), so a trigger fired while it reconnects is not sent
    /// ahead of the missed ones its `resume` asks for.
    pub fn connect_resumable(&self) -> (ClientId, Outbox) {
        self.connect_with(true)
    }

    fn connect_with(&self, hold: bool) -> (ClientId, Outbox) {
        let mut state = self.write();
        state.next_id += 1;
        let id = state.next_id;
        let outbox = Outbox::new(state.config);
        if hold {
            // Before the client is listed: no trigger can reach it unheld.
            outbox.with(|q| q.hold_triggers());
        }
        if state.shutting_down {
            outbox.close(CLOSE_GOING_AWAY, SHUTDOWN_REASON);
        } else {
            if let Some(text) = &state.upstream {
                let _ = outbox.push(Key::UpstreamStatus, text.clone());
            }
            state.clients.insert(id, outbox.clone());
        }
        drop(state);
        self.session_count(|s| {
            s.insert(id);
        });
        (id, outbox)
    }

    /// The connection's handler ended (closed, failed or cut off).
    pub fn disconnect(&self, id: ClientId) -> InterestChange {
        let change = {
            let mut state = self.write();
            state.clients.remove(&id);
            for subscribers in state.scans.values_mut() {
                subscribers.remove(&id);
            }
            state.scans.retain(|_, s| !s.is_empty());
            state.registry.remove_client(id)
        };
        self.session_count(|s| {
            s.remove(&id);
        });
        change
    }

    /// Resolves once no connection handler is left (after [`Hub::shutdown`]: every close frame
    /// was sent or its socket failed).
    pub async fn sessions_ended(&self) {
        let mut rx = self.sessions_changed.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    fn session_count(&self, f: impl FnOnce(&mut HashSet<ClientId>)) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut sessions);
        self.sessions_changed.send_replace(sessions.len());
    }

    pub fn clients(&self) -> usize {
        self.read().clients.len()
    }

    /// One text frame from a browser.
    pub fn handle_text(&self, id: ClientId, text: &str) -> ClientAction {
        let op = match parse_client_op(text) {
            Ok(op) => op,
            Err(e) => {
                let reply = ServerMessage::Error(ErrorMessage::from(&e)).to_text();
                if let Some(outbox) = self.read().clients.get(&id) {
                    let _ = outbox.push_reply(Arc::from(reply));
                }
                return ClientAction::None;
            }
        };
        let mut state = self.write();
        if !state.clients.contains_key(&id) {
            return ClientAction::None;
        }
        let change = match op {
            ClientOp::Subscribe { codes, channels } => {
                if let Some(source) = state.name_source.clone() {
                    for code in &codes {
                        if !state.names.contains_key(code)
                            && let Some(name) = source(*code)
                        {
                            state.names.insert(*code, Arc::from(name));
                        }
                    }
                }
                if let (Some(source), Some(outbox)) = (&state.status_source, state.clients.get(&id)) {
                    let stocks: Vec<StockStatusEntry> = codes
                        .iter()
                        .filter_map(|c| source(*c).map(|s| StockStatusEntry::new(*c, s)))
                        .collect();
                    if !stocks.is_empty() {
                        let text = ServerMessage::Status(StatusMessage {
                            upstream: None,
                            stocks,
                        })
                        .to_text();
                        let _ = outbox.push_reply(Arc::from(text));
                    }
                }
                state.registry.subscribe(id, &codes, &channels)
            }
            ClientOp::Unsubscribe { codes, channels } => {
                state.registry.unsubscribe(id, &codes, channels.as_deref())
            }
            ClientOp::Resume { after_trigger_id } => {
                if let Some(outbox) = state.clients.get(&id) {
                    outbox.with(|q| q.begin_resume(after_trigger_id));
                }
                return ClientAction::Resume { after_trigger_id };
            }
            ClientOp::SubscribeScans { conditions } => {
                for c in conditions {
                    state.scans.entry(c).or_default().insert(id);
                }
                return ClientAction::None;
            }
            ClientOp::UnsubscribeScans { conditions } => {
                for c in conditions {
                    if let Some(s) = state.scans.get_mut(&c) {
                        s.remove(&id);
                    }
                }
                state.scans.retain(|_, s| !s.is_empty());
                return ClientAction::None;
            }
            ClientOp::ResumeScans { after_scan_event_id } => {
                let conditions = state
                    .scans
                    .iter()
                    .filter(|(_, s)| s.contains(&id))
                    .map(|(c, _)| *c)
                    .collect();
                return ClientAction::ResumeScans {
                    conditions,
                    after_scan_event_id,
                };
            }
        };
        if change.is_empty() {
            ClientAction::None
        } else {
            ClientAction::Interest(change)
        }
    }

    /// Ends a connection's trigger hold if it did not resume (see [`Hub::connect_resumable`]).
    pub fn release_hold(&self, id: ClientId) {
        self.deliver_to(id, |q| q.release_hold(tokio::time::Instant::now()));
    }

    /// The stored triggers after the client's resume point (each as the API's trigger object),
    /// then the triggers still unstored.
    pub fn finish_resume(&self, id: ClientId, stored: &[Trigger]) {
        let texts = stored.iter().map(|t| (t.id, trigger_text(t))).collect();
        self.deliver_to(id, |q| q.finish_resume(texts, tokio::time::Instant::now()));
    }

    /// Runs `f` on one client's queue; when `f` ended the queue's trigger hold, the triggers still
    /// unstored follow (under the same lock as [`Hub::publish_unstored_trigger`], so each unstored
    /// trigger reaches the client once: live, or here). A queue that closed on it (the client fell
    /// too far behind) is dropped.
    fn deliver_to(&self, id: ClientId, f: impl FnOnce(&mut OutQueue) -> Result<(), Closed>) {
        let state = self.read();
        let closed = match state.clients.get(&id) {
            Some(outbox) => outbox
                .with(|q| {
                    let holding = q.is_holding();
                    f(q)?;
                    if holding && !q.is_holding() {
                        let now = tokio::time::Instant::now();
                        let skip = state.unstored.len().saturating_sub(UNSTORED_REPLAY);
                        for (_, text) in state.unstored.iter().skip(skip) {
                            q.push_unstored(text.clone(), now)?;
                        }
                    }
                    Ok::<(), Closed>(())
                })
                .is_err(),
            None => false,
        };
        drop(state);
        if closed {
            self.drop_clients(&[id]);
        }
    }

    /// A trade: a `tick` to its tick subscribers, the trade to its executions subscribers.
    pub fn publish_execution(&self, e: &Execution) {
        let mut closed = Vec::new();
        {
            let state = self.read();
            let name = name_of(&state, e.code);
            let mut ticks = state
                .registry
                .subscribers(e.code, BrowserChannel::Tick)
                .peekable();
            if ticks.peek().is_some() {
                let text: Arc<str> =
                    Arc::from(ServerMessage::Tick(TickMessage::from_execution(e, &name)).to_text());
                for id in ticks {
                    push(&state, id, &mut closed, |o| {
                        o.push(Key::Tick(e.code), text.clone())
                    });
                }
            }
            let mut trades = state
                .registry
                .subscribers(e.code, BrowserChannel::Executions)
                .peekable();
            if trades.peek().is_some() {
                let prefix = executions_prefix(e.code, &name);
                let item: Arc<str> = Arc::from(
                    serde_json::to_string(&contract::Execution::from_realtime(e)).unwrap_or_default(),
                );
                for id in trades {
                    push(&state, id, &mut closed, |o| {
                        o.with(|q| {
                            q.push_execution(e.code, &prefix, item.clone(), tokio::time::Instant::now())
                        })
                    });
                }
            }
        }
        self.drop_clients(&closed);
    }

    /// A tick made by the service rather than read from a realtime record (a polled stock's latest
    /// trade with the day's move, [`crate::live::DayMove`]).
    pub fn publish_tick(&self, tick: &TickMessage) {
        self.publish(tick.code, BrowserChannel::Tick, Key::Tick(tick.code), |name| {
            let mut t = tick.clone();
            if t.name.is_empty() {
                t.name = name.to_owned();
            }
            ServerMessage::Tick(t)
        });
    }

    /// Trades of a stock that did not come as realtime records (polled), oldest first.
    pub fn publish_executions(&self, code: StockCode, executions: &[contract::Execution]) {
        if executions.is_empty() {
            return;
        }
        let mut closed = Vec::new();
        {
            let state = self.read();
            let mut ids = state
                .registry
                .subscribers(code, BrowserChannel::Executions)
                .peekable();
            if ids.peek().is_none() {
                return;
            }
            let prefix = executions_prefix(code, &name_of(&state, code));
            let items: Vec<Arc<str>> = executions
                .iter()
                .map(|e| Arc::from(serde_json::to_string(e).unwrap_or_default()))
                .collect();
            for id in ids {
                push(&state, id, &mut closed, |o| {
                    o.with(|q| {
                        for item in &items {
                            q.push_execution(code, &prefix, item.clone(), tokio::time::Instant::now())?;
                        }
                        Ok(())
                    })
                });
            }
        }
        self.drop_clients(&closed);
    }

    /// The periods some client watches a stock's forming bar of (`candle:<period>`).
    pub fn candle_periods(&self, code: StockCode) -> Vec<Period> {
        let state = self.read();
        Period::ALL
            .into_iter()
            .filter(|p| {
                state
                    .registry
                    .subscribers(code, BrowserChannel::Candle(*p))
                    .next()
                    .is_some()
            })
            .collect()
    }

    /// An order book; `date` is the stock's market date (the frame has only a time of day).
    pub fn publish_order_book(&self, b: &OrderBook, date: Option<Date>) {
        self.publish(
            b.code,
            BrowserChannel::OrderBook,
            Key::OrderBook(b.code),
            |name| ServerMessage::OrderBook(OrderBookMessage::from_order_book(b, name, date)),
        );
    }

    /// The forming (or just closed) bar of a period.
    pub fn publish_candle(&self, code: StockCode, period: Period, candle: &Candle, closed: bool) {
        self.publish(
            code,
            BrowserChannel::Candle(period),
            Key::Candle(code, period),
            |name| ServerMessage::Candle(CandleMessage::new(code, name, period, candle, closed)),
        );
    }

    /// A market scan's event to its `scan:<id>` subscribers (never dropped, never coalesced).
    pub fn publish_scan_event(&self, event: &contract::ScanEvent) {
        let text: Arc<str> = Arc::from(ServerMessage::ScanEvent(event.clone()).to_text());
        self.to_scan_subscribers(event.condition_id, text);
    }

    /// A market scan's sweep to its `scan:<id>` subscribers.
    pub fn publish_scan_sweep(&self, sweep: &contract::ScanSweep) {
        let text: Arc<str> = Arc::from(ServerMessage::ScanSweep(sweep.clone()).to_text());
        self.to_scan_subscribers(sweep.condition_id, text);
    }

    fn to_scan_subscribers(&self, condition: u64, text: Arc<str>) {
        let mut closed = Vec::new();
        {
            let state = self.read();
            for cid in state.scans.get(&condition).into_iter().flatten() {
                push(&state, *cid, &mut closed, |o| o.push_reply(text.clone()));
            }
        }
        self.drop_clients(&closed);
    }

    /// Stored scan events for one client (the answer to its scan `resume`).
    pub fn send_scan_events(&self, id: ClientId, events: &[contract::ScanEvent]) {
        let state = self.read();
        if let Some(outbox) = state.clients.get(&id) {
            for e in events {
                let text = ServerMessage::ScanEvent(e.clone()).to_text();
                if outbox.push_reply(Arc::from(text)).is_err() {
                    break;
                }
            }
        }
    }

    /// A stored trigger to every client (never dropped, never coalesced). If it was delivered
    /// unstored before, it is no longer replayed as such.
    pub fn publish_trigger(&self, trigger: &Trigger) {
        let (id, text) = (trigger.id, trigger_text(trigger));
        if !self.read().unstored_keys.is_empty() {
            self.settle_unstored(&trigger.key);
        }
        let state = self.read();
        let mut closed = Vec::new();
        for cid in state.clients.keys() {
            push(&state, *cid, &mut closed, |o| o.push_trigger(id, text.clone()));
        }
        drop(state);
        self.drop_clients(&closed);
    }

    /// A trigger the store could not take yet (no id, `persisted: false`) to every client, at
    /// once (a key already delivered unstored is not sent again). `keep`: replay it to connections
    /// that resume or connect until it is stored (or settled); a trigger the backlog could not keep
    /// is delivered once, live.
    pub fn publish_unstored_trigger(&self, trigger: &UnstoredTrigger, keep: bool) {
        let key = trigger.key.clone();
        let text: Arc<str> = Arc::from(ServerMessage::TriggerUnstored(trigger.clone()).to_text());
        let mut state = self.write();
        if state.unstored_keys.contains(&key) {
            return;
        }
        if keep {
            state.unstored_keys.insert(key.clone());
            state.unstored.push_back((key, text.clone()));
        }
        let now = tokio::time::Instant::now();
        let mut closed = Vec::new();
        for (cid, outbox) in &state.clients {
            if outbox.with(|q| q.push_unstored(text.clone(), now)).is_err() {
                closed.push(*cid);
            }
        }
        drop(state);
        self.drop_clients(&closed);
    }

    /// An unstored trigger is no longer replayed (stored now, or given up on).
    pub fn settle_unstored(&self, key: &str) {
        let mut state = self.write();
        if !state.unstored_keys.remove(key) {
            return;
        }
        // Stored in firing order: the one settled is almost always the oldest.
        if let Some(i) = state.unstored.iter().position(|(k, _)| k == key) {
            state.unstored.remove(i);
        }
    }

    /// Makes `current` (oldest first) the unstored triggers: those not known yet go to every
    /// client, those no longer in it are no longer replayed (after the trigger broadcast lagged).
    pub fn sync_unstored(&self, current: &[UnstoredTrigger]) {
        let keys: HashSet<String> = current.iter().map(|t| t.key.clone()).collect();
        {
            let mut state = self.write();
            state.unstored.retain(|(k, _)| keys.contains(k));
            state.unstored_keys.retain(|k| keys.contains(k));
        }
        for t in current {
            self.publish_unstored_trigger(t, true);
        }
    }

    /// Triggers delivered unstored and not stored yet.
    pub fn unstored(&self) -> usize {
        self.read().unstored.len()
    }

    /// The upstream state to every client (the latest replaces an unsent one).
    pub fn publish_upstream(&self, upstream: UpstreamState) {
        let text: Arc<str> = Arc::from(
            ServerMessage::Status(StatusMessage {
                upstream: Some(upstream),
                stocks: Vec::new(),
            })
            .to_text(),
        );
        self.write().upstream = Some(text.clone());
        let state = self.read();
        let mut closed = Vec::new();
        for cid in state.clients.keys() {
            push(&state, *cid, &mut closed, |o| {
                o.push(Key::UpstreamStatus, text.clone())
            });
        }
        drop(state);
        self.drop_clients(&closed);
    }

    /// A stock's status to every client watching it on any channel.
    pub fn publish_stock_status(&self, code: StockCode, status: StockStatus) {
        let text: Arc<str> = Arc::from(
            ServerMessage::Status(StatusMessage {
                upstream: None,
                stocks: vec![StockStatusEntry::new(code, status)],
            })
            .to_text(),
        );
        let state = self.read();
        let channels = [
            BrowserChannel::Tick,
            BrowserChannel::OrderBook,
            BrowserChannel::Executions,
        ]
        .into_iter()
        .chain(Period::ALL.into_iter().map(BrowserChannel::Candle));
        let watchers: BTreeSet<ClientId> = channels
            .flat_map(|ch| state.registry.subscribers(code, ch))
            .collect();
        let mut closed = Vec::new();
        for cid in watchers {
            push(&state, cid, &mut closed, |o| {
                o.push(Key::StockStatus(code), text.clone())
            });
        }
        drop(state);
        self.drop_clients(&closed);
    }

    /// Stocks with an open detail page and their viewers (the planner's `open_pages`).
    pub fn open_pages(&self) -> BTreeMap<StockCode, u32> {
        self.read().registry.open_pages()
    }

    /// Every stock a client watches on any channel.
    pub fn watched(&self) -> BTreeMap<StockCode, u32> {
        self.read().registry.watched().clone()
    }

    /// Closes every connection with a close frame 1001 (server shutdown); later connections are
    /// closed at once.
    pub fn shutdown(&self) {
        let mut state = self.write();
        state.shutting_down = true;
        for outbox in state.clients.values() {
            outbox.close(CLOSE_GOING_AWAY, SHUTDOWN_REASON);
        }
    }

    fn publish(
        &self,
        code: StockCode,
        channel: BrowserChannel,
        key: Key,
        message: impl FnOnce(&str) -> ServerMessage,
    ) {
        let state = self.read();
        let mut ids = state.registry.subscribers(code, channel).peekable();
        if ids.peek().is_none() {
            return;
        }
        let text: Arc<str> = Arc::from(message(&name_of(&state, code)).to_text());
        let mut closed = Vec::new();
        for id in ids {
            push(&state, id, &mut closed, |o| o.push(key, text.clone()));
        }
        drop(state);
        self.drop_clients(&closed);
    }

    /// Removes clients whose queues closed (too slow); their writers send the close frame.
    fn drop_clients(&self, ids: &[ClientId]) {
        if ids.is_empty() {
            return;
        }
        let mut state = self.write();
        for id in ids {
            if state.clients.remove(id).is_some() {
                self.cut_offs.fetch_add(1, Ordering::Relaxed);
            }
            state.registry.remove_client(*id);
        }
    }

    /// A client whose writer gave up on a blocked socket write: cut off (close 1008) and forgotten.
    pub fn cut_off(&self, id: ClientId) {
        if let Some(outbox) = self.read().clients.get(&id) {
            outbox.cut_off();
        }
        self.drop_clients(&[id]);
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn name_of(state: &State, code: StockCode) -> Arc<str> {
    state.names.get(&code).cloned().unwrap_or_else(|| Arc::from(""))
}

fn push(
    state: &State,
    id: ClientId,
    closed: &mut Vec<ClientId>,
    f: impl FnOnce(&Outbox) -> Result<(), super::queue::Closed>,
) {
    if let Some(outbox) = state.clients.get(&id)
        && f(outbox).is_err()
    {
        closed.push(id);
    }
}

fn trigger_text(trigger: &Trigger) -> Arc<str> {
    Arc::from(ServerMessage::Trigger(trigger.clone()).to_text())
}

/// `{"type":"executions","code":..,"name":..,"executions":[` — the batch is closed by the queue.
fn executions_prefix(code: StockCode, name: &str) -> Arc<str> {
    let head = serde_json::json!({"type": "executions", "code": code, "name": name}).to_string();
    // `head` ends with `}`: reopen it for the array.
    let mut s = head[..head.len() - 1].to_owned();
    s.push_str(",\"executions\":[");
    Arc::from(s)
}

#[cfg(test)]
mod tests;
