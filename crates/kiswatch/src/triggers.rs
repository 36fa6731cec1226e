//! The trigger service: `market::TriggerEngine` wired to the store, the live feed, the backfill and
//! the world outside.
//!
//! * One task owns the engine and reads the realtime session's events itself: a trade updates the
//!   live state, the live 1-minute bars and the engine, and goes to the hub, all in that task (no
//!   extra hop between a trade and its trigger). Polled trades and gap repairs ([`Feed`]) arrive on
//!   a channel into the same task.
//! * Upstream state changes (connected / reconnecting / down) go to the hub as they happen. After
//!   `Reconnected { gap }` the missed minutes are refetched in the background
//!   ([`crate::live::spawn_gap_repair`]); when they come back they replace the live bars, the engine
//!   is reseeded (bars and averages as if nothing had dropped), and the gap's bars are replayed
//!   through a scratch engine seeded with the history before them: a condition that became true
//!   inside the gap fires once, marked `late` (the store keeps one trigger per condition and bar).
//! * The engine watches the enabled conditions on every watched stock. It is rebuilt when either
//!   changes, and each stock's series are seeded from the store (1-minute bars for intraday periods,
//!   daily bars for D/W/M) whenever the backfill brings more history, so averages are right from the
//!   first trade. A rebuilt engine only records where each condition stands (nothing fires for a
//!   condition that was already true).
//! * Each trigger is stored before it is delivered: the stored row (with its id) is what is
//!   broadcast (to the WebSocket, issue 12) and posted to the condition's webhook.
//! * Webhooks are posted from their own tasks with retries and backoff, so a slow or dead endpoint
//!   never holds up evaluation.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::civil::DateTime;
use market::alignment::DEFAULT_PERIODS;
use market::trigger::{ConditionOptions, Tick, Trigger};
use market::{Candle, Condition, Period, StockCode, TriggerEngine};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};

use crate::api::triggers::trigger_json;
use crate::backfill::{Backfill, LONGEST_AVERAGE, Need, SESSION_MINUTES, Urgency};
use crate::clock::rfc3339;
use crate::gateway::Gateway;
use crate::hub::Hub;
use crate::hub::protocol::UpstreamState;
use crate::live::{Feed, LiveFeed, Trade, spawn_gap_repair};
use crate::stocks::StockDirectory;
use crate::store::{ConditionRow, NewTrigger, Store, TriggerRow};
use kis::realtime::RealtimeEvent;

/// Webhook attempts in all (1 s, 2 s, 4 s … between them).
const WEBHOOK_ATTEMPTS: u32 = 4;

/// Whether a (stock, period)'s history supports firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// Less than MA240 needs: conditions on it are not trusted to fire.
    Short,
    /// Enough since the last reseed: the next trades only show the engine where things stand.
    Priming,
    Armed,
}

/// See the module docs.
pub struct TriggerService {
    feed: mpsc::Sender<Feed>,
    armed: Arc<std::sync::RwLock<std::collections::HashSet<(StockCode, Period)>>>,
    live: Arc<LiveFeed>,
    events: broadcast::Sender<TriggerRow>,
    fired: Arc<AtomicU64>,
    webhooks_failed: Arc<AtomicU64>,
}

/// The engine task's state.
struct Worker {
    store: Store,
    stocks: Arc<StockDirectory>,
    backfill: Option<Arc<Backfill>>,
    http: reqwest::Client,
    events: broadcast::Sender<TriggerRow>,
    fired: Arc<AtomicU64>,
    webhooks_failed: Arc<AtomicU64>,
    engine: TriggerEngine,
    conditions: HashMap<u64, ConditionRow>,
    watched: Vec<StockCode>,
    /// Live state and today's 1-minute bars built from live trades: a reseed from the store (whose
    /// today's minutes end where the last fetch ended) puts those bars back on top, so bars formed
    /// since are not lost and conditions do not flap.
    live: Arc<LiveFeed>,
    hub: Arc<Hub>,
    gateway: Arc<Gateway>,
    feed: mpsc::Sender<Feed>,
    /// Each stock's last realtime trade when the session dropped (where its gap starts).
    at_drop: HashMap<StockCode, DateTime>,
    /// A reconnect whose gap is repaired once the first trade after it shows the market time.
    pending_gap: Option<Duration>,
    /// Per stock, the time of the newest trade taken in from the realtime feed and from polls.
    newest_live: HashMap<StockCode, DateTime>,
    newest_polled: HashMap<StockCode, DateTime>,
    /// Per (stock, period): whether its stored history covers MA240. A condition that "became true"
    /// because older history arrived is an artifact of the backfill, not a market event, so triggers
    /// count only once a stock's history was enough before the trades that made them.
    readiness: HashMap<(StockCode, Period), Readiness>,
    /// The armed (stock, period) pairs, for the API.
    armed: Arc<std::sync::RwLock<std::collections::HashSet<(StockCode, Period)>>>,
}

/// What the trigger service is wired to.
pub struct Wiring {
    pub store: Store,
    pub stocks: Arc<StockDirectory>,
    pub backfill: Option<Arc<Backfill>>,
    /// Moves when the watchlist or conditions change.
    pub changed: watch::Receiver<u64>,
    pub gateway: Arc<Gateway>,
    pub hub: Arc<Hub>,
    pub live: Arc<LiveFeed>,
    /// The realtime session's events (`None`: no session).
    pub realtime: Option<mpsc::Receiver<RealtimeEvent>>,
}

impl TriggerService {
    /// Starts the engine task.
    pub fn start(w: Wiring) -> Arc<TriggerService> {
        let Wiring {
            store,
            stocks,
            backfill,
            changed,
            gateway,
            hub,
            live,
            realtime,
        } = w;
        let (feed, rx) = mpsc::channel(1024);
        let events = broadcast::channel(1024).0;
        let fired = Arc::new(AtomicU64::new(0));
        let webhooks_failed = Arc::new(AtomicU64::new(0));
        let armed = Arc::new(std::sync::RwLock::new(std::collections::HashSet::new()));
        let worker = Worker {
            store,
            stocks,
            backfill: backfill.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            events: events.clone(),
            fired: fired.clone(),
            webhooks_failed: webhooks_failed.clone(),
            engine: TriggerEngine::default(),
            conditions: HashMap::new(),
            watched: Vec::new(),
            live: live.clone(),
            hub,
            gateway,
            feed: feed.clone(),
            at_drop: HashMap::new(),
            pending_gap: None,
            newest_live: HashMap::new(),
            newest_polled: HashMap::new(),
            readiness: HashMap::new(),
            armed: armed.clone(),
        };
        tokio::spawn(worker.run(rx, realtime, changed, backfill.map(|b| b.subscribe())));
        Arc::new(TriggerService {
            feed,
            armed,
            live,
            events,
            fired,
            webhooks_failed,
        })
    }

    /// Where live sources send trades.
    pub fn feed(&self) -> mpsc::Sender<Feed> {
        self.feed.clone()
    }

    /// The live feed (shared with the planner, the poller and the API).
    pub fn live(&self) -> &Arc<LiveFeed> {
        &self.live
    }

    /// Triggers as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<TriggerRow> {
        self.events.subscribe()
    }

    /// The periods on which the stock's conditions can fire now (its history covers MA240 there and
    /// the engine has seen where the conditions stand).
    pub fn armed_periods(&self, code: StockCode) -> Vec<Period> {
        let armed = self.armed.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Period> = armed
            .iter()
            .filter(|(c, _)| *c == code)
            .map(|(_, p)| *p)
            .collect();
        out.sort();
        out
    }

    /// Triggers stored and delivered so far.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> Value {
        json!({
            "feed": self.live.stats(),
            "triggers_fired": self.fired.load(Ordering::Relaxed),
            "webhooks_failed": self.webhooks_failed.load(Ordering::Relaxed),
        })
    }
}

/// Why a condition fired, in Korean and English.
fn describe(name: &str, code: &str, condition: &str, t: &Trigger) -> (String, String) {
    let values = t
        .values
        .iter()
        .map(|(k, v)| format!("{k} = {}", (v * 100.0).round() / 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    let bar = t.bar_time.strftime("%H:%M");
    let ko = format!(
        "{name}({code}) {period}봉 {bar} 봉에서 조건 '{condition}' 충족: 가격 {price}원 ({values})",
        period = t.period,
        price = t.price
    );
    let en = format!(
        "{name} ({code}): '{condition}' became true on the {period} bar of {bar} at {price} KRW ({values})",
        period = t.period,
        price = t.price
    );
    (ko, en)
}

impl Worker {
    async fn run(
        mut self,
        mut feed: mpsc::Receiver<Feed>,
        mut realtime: Option<mpsc::Receiver<RealtimeEvent>>,
        mut changed: watch::Receiver<u64>,
        mut advanced: Option<broadcast::Receiver<crate::backfill::Advanced>>,
    ) {
        self.reload().await;
        loop {
            tokio::select! {
                msg = feed.recv() => match msg {
                    Some(Feed::Trades { code, trades }) => self.on_polled(code, trades).await,
                    Some(Feed::Gap { code, bars }) => self.on_gap(code, bars).await,
                    None => return,
                },
                event = async {
                    match realtime.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => match event {
                    Some(e) => self.on_realtime(e).await,
                    None => {
                        tracing::warn!("triggers: the realtime session ended");
                        realtime = None;
                    }
                },
                r = changed.changed() => match r {
                    Ok(()) => self.reload().await,
                    Err(_) => return,
                },
                a = async {
                    match advanced.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => match a {
                    Ok(a) => self.reseed(a.code).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        for code in self.watched.clone() {
                            self.reseed(code).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => advanced = None,
                },
            }
        }
    }

    /// Rebuilds the engine from the stored watchlist and enabled conditions, seeds it, and asks the
    /// backfill for the history the conditions need.
    async fn reload(&mut self) {
        let (watchlist, conditions) = match (self.store.watchlist().await, self.store.conditions().await) {
            (Ok(w), Ok(c)) => (w, c),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "triggers: reading the watchlist or conditions failed");
                return;
            }
        };
        let watched: Vec<StockCode> = watchlist.iter().map(|w| w.code).collect();
        let enabled: HashMap<u64, ConditionRow> = conditions
            .into_iter()
            .filter(|c| c.enabled)
            .map(|c| (c.id, c))
            .collect();
        if watched == self.watched && enabled == self.conditions {
            return;
        }
        let mut engine = TriggerEngine::default();
        let mut periods: Vec<Period> = Vec::new();
        for c in enabled.values() {
            let Ok(parsed) = Condition::parse(&c.expr) else {
                tracing::warn!(id = c.id, expr = %c.expr, "triggers: a stored condition no longer parses; skipped");
                continue;
            };
            periods.push(parsed.period);
            let options = ConditionOptions {
                mode: c.mode,
                cooldown: (c.cooldown_secs > 0)
                    .then(|| jiff::SignedDuration::from_secs(c.cooldown_secs as i64)),
            };
            if let Err(e) = engine.add_condition(c.id, parsed, options) {
                tracing::warn!(id = c.id, error = %e, "triggers: condition not added");
            }
        }
        for code in &watched {
            let _ = engine.add_stock(*code);
        }
        self.engine = engine;
        // A new engine records where each condition stands before anything fires.
        self.readiness.clear();
        self.armed.write().unwrap_or_else(|p| p.into_inner()).clear();
        self.conditions = enabled;
        self.watched = watched.clone();
        if let Some(b) = &self.backfill {
            let urgency = if periods.is_empty() {
                Urgency::Watched
            } else {
                Urgency::Conditions
            };
            let need = Need::for_periods(periods.iter().copied().chain([Period::Day]), 0);
            for code in &watched {
                b.request(*code, urgency, need);
            }
        }
        for code in watched {
            self.reseed(code).await;
        }
    }

    /// Loads a stock's stored history into the engine (only the periods conditions watch).
    async fn reseed(&mut self, code: StockCode) {
        let Some(stock) = self.engine.stock_id(code) else {
            return;
        };
        let periods: Vec<Period> = self
            .conditions
            .values()
            .filter_map(|c| Condition::parse(&c.expr).ok().map(|p| p.period))
            .collect();
        let longest = DEFAULT_PERIODS[DEFAULT_PERIODS.len() - 1] + 2;
        if let Some(minutes) = periods.iter().filter_map(|p| p.minutes()).max() {
            let want = longest * minutes as usize + SESSION_MINUTES;
            match self.store.minutes(code, None, want).await {
                Ok(mut bars) => {
                    let last = bars.last().map(|b| b.time);
                    bars.extend(
                        self.live
                            .minutes(code)
                            .into_iter()
                            .filter(|b| last.is_none_or(|l| b.time > l)),
                    );
                    self.engine.seed_from_minutes(stock, &bars);
                    for p in periods.iter().filter(|p| p.is_intraday()) {
                        let enough = bars.len() >= LONGEST_AVERAGE * p.minutes().unwrap_or(1) as usize;
                        self.note_history(code, *p, enough);
                    }
                }
                Err(e) => tracing::warn!(%code, error = %e, "triggers: reading minutes failed"),
            }
        }
        let daily: Vec<Period> = periods.iter().copied().filter(|p| !p.is_intraday()).collect();
        if !daily.is_empty() {
            match self.store.daily(code, None, longest * 21).await {
                Ok(bars) => {
                    for p in daily {
                        let bars = if p == Period::Day {
                            bars.clone()
                        } else {
                            market::candle::aggregate(&bars, p, market::krx::Calendar::krx())
                        };
                        self.note_history(code, p, bars.len() >= LONGEST_AVERAGE);
                        self.engine.seed(stock, p, &bars);
                    }
                }
                Err(e) => tracing::warn!(%code, error = %e, "triggers: reading daily bars failed"),
            }
        }
    }

    /// Records whether a stock's history on `period` is enough for MA240; newly enough means "prime
    /// on the next trades, fire after".
    fn note_history(&mut self, code: StockCode, period: Period, enough: bool) {
        let entry = self.readiness.entry((code, period)).or_insert(Readiness::Short);
        *entry = match (enough, *entry) {
            (false, _) => Readiness::Short,
            (true, Readiness::Short) => Readiness::Priming,
            (true, other) => other,
        };
        if *entry != Readiness::Armed {
            self.armed
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&(code, period));
        }
    }

    /// One event of the realtime session.
    async fn on_realtime(&mut self, event: RealtimeEvent) {
        match event {
            RealtimeEvent::Execution(e) => {
                let now = tokio::time::Instant::now();
                self.live.with_state(|s| s.on_execution(&e, now));
                self.live
                    .trades
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let at = e.datetime();
                self.gateway.clock.observe(at);
                if let Some(gap) = self.pending_gap.take() {
                    self.repair_gap(at, gap);
                }
                self.hub.publish_execution(&e);
                let trade = Trade {
                    time: at,
                    price: e.price,
                    volume: e.volume,
                };
                // A poll that ran while the session was down may have taken this trade in already.
                let live = self.newest_live.get(&e.code).copied();
                let polled = self.newest_polled.get(&e.code).copied();
                let newest = self.newest_live.entry(e.code).or_insert(at);
                *newest = (*newest).max(at);
                if polled.is_some_and(|p| Some(p) > live && at <= p) {
                    return;
                }
                self.on_trades(e.code, &[trade]).await;
            }
            RealtimeEvent::OrderBook(b) => {
                let now = tokio::time::Instant::now();
                self.live.with_state(|s| s.on_order_book(&b, now));
                self.hub.publish_order_book(&b, self.live.market_date(b.code));
            }
            RealtimeEvent::Connected => self.upstream(UpstreamState::Connected),
            RealtimeEvent::Disconnected { reason, retry_in } => {
                tracing::warn!(%reason, ?retry_in, "realtime: session lost; reconnecting");
                if self.pending_gap.is_none() {
                    self.at_drop = self.newest_live.clone();
                }
                self.upstream(UpstreamState::Reconnecting);
            }
            RealtimeEvent::ConnectFailed { reason, retry_in } => {
                tracing::warn!(%reason, ?retry_in, "realtime: could not connect");
                let state = if self.gateway.counters.is_failing() {
                    UpstreamState::Down
                } else {
                    UpstreamState::Reconnecting
                };
                self.upstream(state);
            }
            RealtimeEvent::Reconnected { gap } => {
                self.upstream(UpstreamState::Connected);
                // The market time moves with data only: the first trade after the reconnect says
                // where the gap ends.
                self.pending_gap = Some(self.pending_gap.map_or(gap, |g| g.max(gap)));
            }
            RealtimeEvent::SubscriptionLost { topic, error } => {
                tracing::warn!(?topic, %error, "realtime: a registration was not restored");
            }
            RealtimeEvent::Notice(_) => {}
            RealtimeEvent::Malformed(e) => tracing::debug!(error = %e, "realtime: unreadable message"),
        }
    }

    /// Refetches, for every realtime stock, the minutes from its last trade before the drop to
    /// `resumed_at`.
    fn repair_gap(&self, resumed_at: DateTime, gap: Duration) {
        let codes = self.live.realtime_codes();
        tracing::info!(?gap, %resumed_at, stocks = codes.len(), "realtime: back; repairing the gap");
        for code in codes {
            spawn_gap_repair(
                self.gateway.clone(),
                self.feed.clone(),
                vec![code],
                self.at_drop.get(&code).copied(),
                resumed_at,
                gap,
            );
        }
    }

    fn upstream(&self, state: UpstreamState) {
        if self.live.set_upstream(state) {
            self.hub.publish_upstream(state);
        }
    }

    /// Closed minutes refetched after a gap: they replace the live bars, the engine is reseeded,
    /// and what would have fired inside the gap fires now, marked late.
    async fn on_gap(&mut self, code: StockCode, bars: Vec<Candle>) {
        let Some(first) = bars.first().map(|b| b.time) else {
            return;
        };
        self.live.repair(code, &bars);
        self.live
            .gaps_repaired
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for b in &bars {
            self.hub.publish_candle(code, Period::M1, b, true);
        }
        self.reseed(code).await;
        // Replay the gap through a scratch engine that knows the history before it.
        let mut scratch = TriggerEngine::default();
        let mut periods = Vec::new();
        for c in self.conditions.values() {
            let Ok(parsed) = Condition::parse(&c.expr) else {
                continue;
            };
            periods.push(parsed.period);
            let options = ConditionOptions {
                mode: c.mode,
                cooldown: None,
            };
            let _ = scratch.add_condition(c.id, parsed, options);
        }
        let Ok(stock) = scratch.add_stock(code) else {
            return;
        };
        let longest = DEFAULT_PERIODS[DEFAULT_PERIODS.len() - 1] + 2;
        let Some(minutes) = periods.iter().filter_map(|p| p.minutes()).max() else {
            return;
        };
        let want = longest * minutes as usize + SESSION_MINUTES;
        let before = match self.store.minutes(code, Some(first), want).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(%code, error = %e, "gap: reading minutes failed");
                return;
            }
        };
        // The engine fires on a condition turning true, so it must know where each condition stood
        // before the gap: seeded bars are never evaluated, so the last `minutes` of the history are
        // replayed (their triggers, seen live already, discarded) and the gap's first bar can fire.
        let (seeded, replayed) = before.split_at(before.len().saturating_sub(minutes as usize));
        scratch.seed_from_minutes(stock, seeded);
        let mut out = Vec::new();
        for b in replayed {
            scratch.on_minute_bar(stock, *b, &mut out);
        }
        out.clear();
        for b in &bars {
            scratch.on_minute_bar(stock, *b, &mut out);
        }
        if let Some(last) = bars.last() {
            scratch.close_bars_until(
                last.time.saturating_add(jiff::SignedDuration::from_mins(1)),
                &mut out,
            );
        }
        for t in out {
            if self.readiness.get(&(code, t.period)) == Some(&Readiness::Armed) {
                self.record(t, true).await;
            }
        }
    }

    /// Polled trades: only those newer than anything already taken in. A stock that moves between
    /// realtime and polling (a drop, a page closed) gets its latest executions again in its first
    /// poll; counting them twice would double its bars' volume.
    async fn on_polled(&mut self, code: StockCode, mut trades: Vec<Trade>) {
        let seen = [self.newest_live.get(&code), self.newest_polled.get(&code)]
            .into_iter()
            .flatten()
            .max()
            .copied();
        if let Some(newest) = seen {
            trades.retain(|t| t.time > newest);
        }
        if let Some(last) = trades.last() {
            self.newest_polled.insert(code, last.time);
        }
        if !trades.is_empty() {
            self.on_trades(code, &trades).await;
        }
    }

    async fn on_trades(&mut self, code: StockCode, trades: &[Trade]) {
        let touched = self.live.absorb(code, trades);
        for bar in &touched {
            self.hub.publish_candle(code, Period::M1, bar, false);
        }
        let Some(stock) = self.engine.stock_id(code) else {
            return;
        };
        let mut out = Vec::new();
        for t in trades {
            self.engine.on_tick(
                Tick {
                    stock,
                    time: t.time,
                    price: t.price,
                    volume: t.volume,
                },
                &mut out,
            );
        }
        if let Some(last) = trades.last() {
            self.engine.close_bars_until(last.time, &mut out);
        }
        for t in out {
            if self.readiness.get(&(code, t.period)) == Some(&Readiness::Armed) {
                self.record(t, false).await;
            } else {
                tracing::debug!(%code, period = %t.period, "triggers: priming after new history; not fired");
            }
        }
        // These trades primed every period of the stock whose history is enough by now.
        for ((c, p), r) in self.readiness.iter_mut() {
            if *c == code && *r == Readiness::Priming {
                *r = Readiness::Armed;
                self.armed
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((*c, *p));
            }
        }
    }

    /// Stores a trigger, then tells everyone.
    async fn record(&mut self, t: Trigger, late: bool) {
        let Some(condition) = self.conditions.get(&t.condition).cloned() else {
            return;
        };
        let code = t.stock.to_string();
        let name = self.stocks.name(t.stock);
        let (ko, en) = describe(&name, &code, &condition.name, &t);
        let new = NewTrigger {
            code,
            name,
            condition_id: t.condition,
            condition_name: condition.name.clone(),
            period: t.period.as_str().to_string(),
            bar_time: rfc3339(t.bar_time),
            time: rfc3339(t.time),
            price: t.price,
            values: t.values.clone(),
            late,
            message_ko: ko,
            message_en: en,
        };
        let row = match self.store.add_trigger(new).await {
            Ok(Some(row)) => row,
            Ok(None) => {
                tracing::debug!(code = %t.stock, condition = t.condition, "triggers: already fired on this bar");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "triggers: storing a trigger failed; not delivered");
                return;
            }
        };
        self.fired.fetch_add(1, Ordering::Relaxed);
        tracing::info!(id = row.id, code = %row.trigger.code, "{}", row.trigger.message_en);
        let _ = self.events.send(row.clone());
        if let Some(url) = condition.webhook {
            let http = self.http.clone();
            let failed = self.webhooks_failed.clone();
            tokio::spawn(async move {
                if !post_webhook(&http, &url, &trigger_json(&row)).await {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }
}

/// POSTs `body` to `url`, retrying failures with backoff; `true` once a 2xx came back.
pub async fn post_webhook(http: &reqwest::Client, url: &str, body: &Value) -> bool {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match http.post(url).json(body).send().await {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => tracing::warn!(
                attempt,
                status = r.status().as_u16(),
                "webhook answered with an error"
            ),
            Err(e) => tracing::warn!(attempt, error = %e.without_url(), "webhook failed"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    false
}
