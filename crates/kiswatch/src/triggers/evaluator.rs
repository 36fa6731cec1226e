//! The evaluator: `market::TriggerEngine` with the watched stocks, the enabled conditions and their
//! history, deciding which trades make a trigger — and store-then-deliver for each one.
//!
//! * The engine watches the enabled conditions on every watched stock. It is rebuilt when either
//!   changes ([`Evaluator::reload`]), and each stock's series are seeded from the store (1-minute
//!   bars for intraday periods, daily bars for D/W/M) whenever the backfill brings more history
//!   ([`Evaluator::reseed`]), so averages are right from the first trade. A rebuilt engine only
//!   records where each condition stands: nothing fires for a condition that was already true.
//! * A condition that "became true" because older history arrived is an artifact of the backfill,
//!   not a market event: a (stock, period) counts as armed only once its history covered MA240
//!   *before* the trades that made the trigger ([`Readiness`]).
//! * Each trigger is stored before it is delivered ([`super::delivery`]): the stored row, with its
//!   id, is what browsers and webhooks get. The store keeps one trigger per (condition, stock, bar).
//!   When the store cannot write, the trigger is delivered unstored and held until it can
//!   ([`super::backlog`]): none is dropped.
//! * Minutes refetched after a feed gap are replayed through a scratch engine seeded with the
//!   history before them ([`Evaluator::on_gap`]): what became true inside the gap fires once, marked
//!   `late`.
//!
//! The evaluator has no task of its own: the live ingest task ([`crate::live::ingest`]) owns it and
//! calls it with each trade, so nothing stands between a trade and its trigger.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use market::alignment::DEFAULT_PERIODS;
use market::trigger::{ConditionOptions, Tick, Trigger};
use market::{Candle, Condition, Period, StockCode, Trade, TriggerEngine};

use super::backlog::{Recorded, Recorder};
use super::message::describe;
use crate::channels::Channels;
use crate::clock::rfc3339;
use crate::contract::{Fired, TriggerValues};
use crate::history::{Backfill, LONGEST_AVERAGE, Need, SESSION_MINUTES, Urgency};
use crate::store::{ConditionRow, Store};
use crate::upstream::StockDirectory;

/// Whether a (stock, period)'s history supports firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// Less than MA240 needs: conditions on it are not trusted to fire.
    Short,
    /// Enough since the last reseed: the next trades only show the engine where things stand.
    Priming,
    Armed,
}

/// The (stock, period) pairs whose conditions can fire now, shared with the API.
pub type Armed = Arc<RwLock<HashSet<(StockCode, Period)>>>;

/// See the module docs.
pub struct Evaluator {
    store: Store,
    stocks: Arc<StockDirectory>,
    backfill: Option<Arc<Backfill>>,
    recorder: Recorder,
    fired: Arc<AtomicU64>,
    engine: TriggerEngine,
    conditions: HashMap<u64, ConditionRow>,
    watched: Vec<StockCode>,
    readiness: HashMap<(StockCode, Period), Readiness>,
    armed: Armed,
    channels: Option<Channels>,
}

impl Evaluator {
    pub(super) fn new(
        store: Store,
        stocks: Arc<StockDirectory>,
        backfill: Option<Arc<Backfill>>,
        recorder: Recorder,
        fired: Arc<AtomicU64>,
        armed: Armed,
        channels: Option<Channels>,
    ) -> Evaluator {
        Evaluator {
            store,
            stocks,
            backfill,
            recorder,
            fired,
            engine: TriggerEngine::default(),
            conditions: HashMap::new(),
            watched: Vec::new(),
            readiness: HashMap::new(),
            armed,
            channels,
        }
    }

    /// The watched stocks.
    pub fn watched(&self) -> &[StockCode] {
        &self.watched
    }

    /// Rebuilds the engine from the stored watchlist and enabled conditions, seeds it, and asks the
    /// backfill for the history the conditions need. `live_today(code)`: today's bars built from
    /// live trades since the store was last written (put back on top of the stored ones).
    pub async fn reload(&mut self, live_today: &(dyn Fn(StockCode) -> Vec<Candle> + Sync)) {
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
            // Market-scope conditions cover the whole market, not the watchlist: they are not triggers.
            .filter(|c| c.active() && c.spec.scope == crate::contract::ConditionScope::Watchlist)
            .map(|c| (c.id, c))
            .collect();
        if watched == self.watched && enabled == self.conditions {
            return;
        }
        let mut engine = TriggerEngine::default();
        let mut periods: Vec<Period> = Vec::new();
        for c in enabled.values() {
            let Ok(parsed) = Condition::parse(&c.spec.expr) else {
                tracing::warn!(id = c.id, expr = %c.spec.expr, "triggers: a stored condition no longer parses; skipped");
                continue;
            };
            periods.push(parsed.period);
            if let Err(e) = engine.add_condition(c.id, parsed, options(c)) {
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
            self.reseed(code, &live_today(code)).await;
        }
    }

    /// The periods the enabled conditions watch.
    fn periods(&self) -> Vec<Period> {
        self.conditions
            .values()
            .filter_map(|c| Condition::parse(&c.spec.expr).ok().map(|p| p.period))
            .collect()
    }

    /// Loads a stock's stored history into the engine (only the periods conditions watch), with
    /// `live_today` (today's live bars) on top of the stored minutes.
    pub async fn reseed(&mut self, code: StockCode, live_today: &[Candle]) {
        let Some(stock) = self.engine.stock_id(code) else {
            return;
        };
        let periods = self.periods();
        let longest = DEFAULT_PERIODS[DEFAULT_PERIODS.len() - 1] + 2;
        if let Some(minutes) = periods.iter().filter_map(|p| p.minutes()).max() {
            let want = longest * minutes as usize + SESSION_MINUTES;
            match self.store.minutes(code, None, want).await {
                Ok(mut bars) => {
                    let last = bars.last().map(|b| b.time);
                    bars.extend(
                        live_today
                            .iter()
                            .copied()
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

    fn is_armed(&self, code: StockCode, period: Period) -> bool {
        self.readiness.get(&(code, period)) == Some(&Readiness::Armed)
    }

    /// New trades of a stock, oldest first: the engine sees each, and what fires is recorded.
    pub async fn on_trades(&mut self, code: StockCode, trades: &[Trade]) {
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
            if self.is_armed(code, t.period) {
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

    /// Closed minutes refetched after a gap, already merged into the live bars (`live_today`): the
    /// engine is reseeded, and what would have fired inside the gap fires now, marked late.
    pub async fn on_gap(&mut self, code: StockCode, bars: &[Candle], live_today: &[Candle]) {
        let Some(first) = bars.first().map(|b| b.time) else {
            return;
        };
        self.reseed(code, live_today).await;
        let conditions: Vec<(u64, Condition, ConditionOptions)> = self
            .conditions
            .values()
            .filter_map(|c| {
                let parsed = Condition::parse(&c.spec.expr).ok()?;
                Some((
                    c.id,
                    parsed,
                    ConditionOptions {
                        mode: c.spec.mode,
                        cooldown: None,
                    },
                ))
            })
            .collect();
        // The history the replay needs: enough for the longest average of the longest intraday
        // period watched, and the gap day's minutes before the gap.
        let longest = DEFAULT_PERIODS[DEFAULT_PERIODS.len() - 1] + 2;
        let Some(minutes) = conditions.iter().filter_map(|(_, c, _)| c.period.minutes()).max() else {
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
        for t in TriggerEngine::replay(&conditions, code, &before, bars) {
            if self.is_armed(code, t.period) {
                self.record(t, true).await;
            }
        }
    }

    /// Stores a trigger, then tells everyone (or, when the store cannot write, tells everyone and
    /// holds it until it can: [`Recorder::record`]).
    async fn record(&mut self, t: Trigger, late: bool) {
        let Some(condition) = self.conditions.get(&t.condition).cloned() else {
            return;
        };
        if expired(condition.spec.expires_at.as_deref()) {
            tracing::debug!(
                id = condition.id,
                "triggers: the condition has expired; not fired"
            );
            return;
        }
        let code = t.stock.to_string();
        let name = self.stocks.name(t.stock);
        let (ko, en) = describe(&name, &code, &condition.spec.name, &t);
        let new = Fired {
            code,
            name,
            condition_id: t.condition,
            condition_name: condition.spec.name.clone(),
            period: t.period.as_str().to_string(),
            bar_time: rfc3339(t.bar_time),
            time: rfc3339(t.time),
            price: t.price,
            values: TriggerValues(t.values.clone()),
            late,
            message: en,
            message_ko: ko,
        };
        let message = new.message.clone();
        let routes = self
            .channels
            .as_ref()
            .map(|c| c.route(&condition.spec))
            .unwrap_or_default();
        match self.recorder.record(new, routes).await {
            Recorded::Stored(id) => {
                self.fired.fetch_add(1, Ordering::Relaxed);
                tracing::info!(id, code = %t.stock, "{message}");
            }
            Recorded::Held | Recorded::Unkept => {
                self.fired.fetch_add(1, Ordering::Relaxed);
                tracing::info!(code = %t.stock, "not stored yet: {message}");
            }
            Recorded::Duplicate => {
                tracing::debug!(code = %t.stock, condition = t.condition, "triggers: already fired on this bar");
            }
        }
    }
}

/// Whether a condition's `expires_at` (RFC 3339) has passed, by this machine's clock.
fn expired(at: Option<&str>) -> bool {
    at.and_then(|a| a.parse::<jiff::Timestamp>().ok())
        .is_some_and(|a| a <= jiff::Timestamp::now())
}

/// A condition's engine options from its stored row.
fn options(c: &ConditionRow) -> ConditionOptions {
    ConditionOptions {
        mode: c.spec.mode,
        cooldown: (c.spec.cooldown_secs > 0)
            .then(|| jiff::SignedDuration::from_secs(c.spec.cooldown_secs as i64)),
    }
}
