//! The 조건검색 service: every enabled market-scope condition evaluated over its universe after each
//! sweep of the whole market's current prices, with the result sets and 편입/이탈 events stored and
//! pushed to the condition's `scan:<id>` WebSocket subscribers.
//!
//! One task ([`ScanService::run`]) alternates two kinds of background work, both at background
//! priority inside the governor (pages and the watchlist go first on every key):
//!
//! * **Sweeps.** `intstock-multprice` for the universe, 30 codes a call (2,565 listings: 86 calls),
//!   give each listing's open, high, low, price, volume and 거래대금 of the day: today's daily bar. While
//!   the market is open a sweep follows the previous one after [`SWEEP_PAUSE`] of backfill; after the
//!   close one more sweep marks today's bar final (`closed`). Before the open and on a holiday nothing
//!   is swept (a bar for today made of yesterday's prices would be false).
//! * **The universe backfill.** [`HISTORY_SESSIONS`] daily bars a listing (about 5 calls: MA240 plus
//!   enough past to backtest it), one listing after another over the whole universe (breadth-first:
//!   every listing gets its history before any is refreshed), through the same stored daily ranges as
//!   the watchlist's backfill (`history::daily::ensure_daily`): nothing stored is fetched again, a
//!   restart resumes where it stopped, and a new trading day asks only for the sessions since.
//!   A listing is evaluated once its history is in; until then it is neither in nor out.
//!
//! Enter/leave hysteresis is [`market::scan::MarketScan`]'s. The result set is stored with every
//! change (`store/scans.rs`), so after a restart the first sweep reports only real changes. A stock
//! whose price or 거래대금 falls under the condition's floors is left out of the sweep (a member stays
//! until the condition itself turns false).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::civil::{Date, DateTime, Time};
use kis::Priority;
use kis::wire::scan::MultPrice;
use market::krx::Calendar;
use market::scan::{ChangeKind, MarketScan, SweepBar};
use market::{Candle, StockCode};
use tokio::sync::watch;

use super::universe::{admits_quote, listings};
use crate::channels::Channels;
use crate::clock::rfc3339;
use crate::contract::{
    ConditionScope, MarketPhase, ScanEventKind, ScanFilters, ScanHistory, ScanMatch, ScanMatches, ScanSweep,
    TriggerValues, UniverseProgress, decimal,
};
use crate::history::daily::ensure_daily;
use crate::hub::Hub;
use crate::store::{ConditionRow, NewScanEvent, Store, StoreError};
use crate::upstream::{Gateway, GatewayError, StockDirectory};

/// Daily bars kept for every listing of the universe: MA240 and 260 sessions before it to backtest.
pub const HISTORY_SESSIONS: usize = 500;

/// Upstream calls a listing's history takes (100 bars a call).
const CALLS_PER_LISTING: u64 = HISTORY_SESSIONS.div_ceil(100) as u64;

/// Backfill between two sweeps while the market is open.
pub const SWEEP_PAUSE: Duration = Duration::from_secs(10);

/// How far [`HISTORY_SESSIONS`] carries a scan's condition.
pub fn history_of(scan: &MarketScan) -> ScanHistory {
    let bars_needed = scan.bars_needed();
    let per_bar = match scan.condition().period {
        market::Period::Week => 5,
        market::Period::Month => 21,
        _ => 1,
    };
    let sessions_needed = bars_needed * per_bar;
    ScanHistory {
        sessions_kept: HISTORY_SESSIONS,
        bars_needed,
        sessions_needed,
        enough: sessions_needed <= HISTORY_SESSIONS,
    }
}

/// Codes per `intstock-multprice` call.
const SWEEP_CHUNK: usize = 30;

/// Why a step of the task failed (it waits and tries again).
#[derive(Debug, thiserror::Error)]
pub enum ScanServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Upstream(#[from] GatewayError),
}

/// A listing's quote from the last sweep.
#[derive(Debug, Clone)]
struct Quote {
    name: String,
    price: i64,
    change: i64,
    change_rate: f64,
    turnover: u64,
    volume: u64,
}

impl From<&MultPrice> for Quote {
    fn from(m: &MultPrice) -> Quote {
        Quote {
            name: m.name.clone(),
            price: m.price,
            change: m.change,
            change_rate: decimal(m.change_rate),
            turnover: m.turnover,
            volume: m.volume,
        }
    }
}

/// One market-scope condition and its scan.
struct Scan {
    row: ConditionRow,
    filters: ScanFilters,
    /// The listings its filters admit by the master's flags.
    universe: BTreeSet<StockCode>,
    scan: MarketScan,
}

#[derive(Default)]
struct State {
    scans: BTreeMap<u64, Scan>,
    /// What the scans were built from (id, expr, filters): a change rebuilds them.
    signature: Vec<(u64, String, String)>,
    quotes: HashMap<StockCode, Quote>,
    as_of: Option<DateTime>,
    closed: bool,
    /// Listings whose history every scan has loaded (for `history_day`).
    loaded: HashSet<StockCode>,
    history_day: Option<Date>,
    /// Listings whose history is stored (whatever the scans loaded).
    stored: HashSet<StockCode>,
    universe: usize,
    /// Listings that needed fetching, and the time they took (for the ETA).
    fetched: u32,
    fetch_time: Duration,
    last_closed_sweep: Option<Date>,
}

/// See the module docs.
pub struct ScanService {
    gateway: Arc<Gateway>,
    store: Store,
    stocks: Arc<StockDirectory>,
    hub: Arc<Hub>,
    /// The alert channels 편입/이탈 go to (each condition's own, as its triggers would).
    channels: Option<Channels>,
    state: Mutex<State>,
}

impl ScanService {
    pub fn new(
        gateway: Arc<Gateway>,
        store: Store,
        stocks: Arc<StockDirectory>,
        hub: Arc<Hub>,
        channels: Option<Channels>,
    ) -> Arc<ScanService> {
        Arc::new(ScanService {
            gateway,
            store,
            stocks,
            hub,
            channels,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs until aborted; `changed` ticks when conditions change.
    pub async fn run(self: Arc<Self>, mut changed: watch::Receiver<u64>) {
        loop {
            match self.step().await {
                Ok(Some(wait)) => {
                    let _ = tokio::time::timeout(wait, changed.changed()).await;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "조건검색: a step failed; trying again shortly");
                    let _ = tokio::time::timeout(Duration::from_secs(5), changed.changed()).await;
                }
            }
        }
    }

    /// One round: rebuild the scans if conditions changed, sweep when one is due, then backfill.
    /// Returns how long to wait for a change before the next round (`None`: go on at once).
    async fn step(&self) -> Result<Option<Duration>, ScanServiceError> {
        let conditions = self.store.conditions().await?;
        self.rebuild(conditions).await?;
        let universe: Vec<StockCode> = {
            let s = self.lock();
            let all: BTreeSet<StockCode> = s
                .scans
                .values()
                .flat_map(|x| x.universe.iter().copied())
                .collect();
            all.into_iter().collect()
        };
        self.lock().universe = universe.len();
        let Some(first) = universe.first().copied() else {
            // No market-scope condition (or no master yet): nothing to do until one arrives.
            return Ok(Some(Duration::from_secs(30)));
        };
        // The market's time, from upstream (one quote's date and time), behind every page's request.
        let _ = self.gateway.learn_today(first, Priority::Background).await;
        let Some(now) = self.gateway.clock.now() else {
            return Ok(Some(Duration::from_secs(10)));
        };
        let today = now.date();
        {
            let mut s = self.lock();
            if s.history_day != Some(today) {
                s.history_day = Some(today);
                s.loaded.clear();
            }
        }
        let phase = MarketPhase::at(now);
        let open = matches!(
            phase,
            MarketPhase::OpeningAuction | MarketPhase::Continuous | MarketPhase::ClosingAuction
        );
        let after_close = matches!(phase, MarketPhase::AfterHours | MarketPhase::Closed);
        let closed_sweep_due = after_close && self.lock().last_closed_sweep != Some(today);
        if open || closed_sweep_due {
            self.sweep(&universe, now, !open).await?;
            if !open {
                self.lock().last_closed_sweep = Some(today);
            }
        }
        let missing: Vec<StockCode> = {
            let s = self.lock();
            universe
                .iter()
                .filter(|c| !s.loaded.contains(c))
                .copied()
                .collect()
        };
        let deadline = Instant::now() + SWEEP_PAUSE;
        for code in &missing {
            self.load_history(*code, today).await?;
            if open && Instant::now() >= deadline {
                return Ok(None);
            }
        }
        Ok(match (open, missing.is_empty()) {
            (true, true) => Some(SWEEP_PAUSE),
            (true, false) => None,
            // Closed: once the backfill is done, wait for the open (or a change).
            (false, _) => Some(Duration::from_secs(30)),
        })
    }

    /// Builds a scan for every active market-scope condition (when the set changed), with its
    /// stored result set.
    async fn rebuild(&self, conditions: Vec<ConditionRow>) -> Result<(), ScanServiceError> {
        let market: Vec<ConditionRow> = conditions
            .into_iter()
            .filter(|c| c.active() && c.spec.scope == ConditionScope::Market)
            .collect();
        let records = self.stocks.master_records();
        let signature: Vec<(u64, String, String)> = market
            .iter()
            .map(|c| {
                let filters = serde_json::to_string(&c.spec.filters).unwrap_or_default();
                (
                    c.id,
                    c.spec.expr.clone(),
                    format!("{filters}|{}", records.as_ref().map_or(0, |r| r.len())),
                )
            })
            .collect();
        if self.lock().signature == signature {
            return Ok(());
        }
        let mut scans = BTreeMap::new();
        for row in market {
            let Ok(condition) = market::Condition::parse(&row.spec.expr) else {
                continue;
            };
            let Ok(mut scan) = MarketScan::new(condition) else {
                continue;
            };
            let filters = row.spec.filters.clone().unwrap_or_default();
            let universe: BTreeSet<StockCode> =
                listings(records.as_deref().map(Vec::as_slice), &filters).collect();
            for m in self.store.scan_members(row.id).await? {
                // A member the (changed) filters no longer admit is not restored: it could never leave.
                if !universe.is_empty() && StockCode::parse(&m.code).is_ok_and(|c| !universe.contains(&c)) {
                    continue;
                }
                if let (Ok(code), Some(since)) = (
                    StockCode::parse(&m.code),
                    m.since.get(..19).and_then(|s| s.parse().ok()),
                ) {
                    scan.restore_member(code, since, m.values);
                }
            }
            scans.insert(
                row.id,
                Scan {
                    row,
                    filters,
                    universe,
                    scan,
                },
            );
        }
        let mut s = self.lock();
        s.scans = scans;
        s.signature = signature;
        // The new scans have no history yet: every listing is loaded again (from the store).
        s.loaded.clear();
        Ok(())
    }

    /// Makes sure a listing's history is stored (fetching what is missing) and gives it to every
    /// scan whose universe holds it.
    async fn load_history(&self, code: StockCode, today: Date) -> Result<(), ScanServiceError> {
        let started = Instant::now();
        let fetched = match ensure_daily(
            &self.gateway,
            &self.store,
            code,
            today,
            HISTORY_SESSIONS,
            Priority::Background,
        )
        .await
        {
            Ok(fetched) => fetched,
            // A listing upstream refuses (unknown, delisted) is skipped, not asked for again and again;
            // trouble that passes (rate, 5xx, timeouts, the store) ends the round and is tried again.
            Err(GatewayError::Upstream(e)) if !e.is_retryable() && !e.is_key_refused() => {
                tracing::debug!(%code, error = %e, "조건검색: no daily history for this listing");
                false
            }
            Err(e) => return Err(e.into()),
        };
        let bars: Vec<Candle> = self.store.daily(code, Some(today), HISTORY_SESSIONS).await?;
        let mut s = self.lock();
        if fetched {
            s.fetched += 1;
            s.fetch_time += started.elapsed();
        }
        for scan in s.scans.values_mut() {
            if scan.universe.contains(&code) {
                scan.scan.load_history(code, &bars, today, Calendar::krx());
            }
        }
        s.loaded.insert(code);
        s.stored.insert(code);
        Ok(())
    }

    /// One sweep of the universe's quotes, every scan evaluated on it; changes stored, then pushed.
    async fn sweep(
        &self,
        universe: &[StockCode],
        now: DateTime,
        closed: bool,
    ) -> Result<(), ScanServiceError> {
        let today = now.date();
        let mut bars = Vec::with_capacity(universe.len());
        let mut quotes = HashMap::with_capacity(universe.len());
        for chunk in universe.chunks(SWEEP_CHUNK) {
            match self.gateway.multi_price(chunk.to_vec()).await {
                Ok(rows) => {
                    for r in rows {
                        // No trade today (halted, or before its first trade): no bar for today.
                        if r.volume > 0 && r.open > 0 {
                            bars.push(SweepBar {
                                code: r.code,
                                today: Candle {
                                    time: today.to_datetime(Time::midnight()),
                                    open: r.open,
                                    high: r.high.max(r.price),
                                    low: if r.low > 0 { r.low.min(r.price) } else { r.price },
                                    close: r.price,
                                    volume: r.volume,
                                },
                            });
                        }
                        quotes.insert(r.code, Quote::from(&r));
                    }
                }
                Err(GatewayError::Upstream(e)) if e.is_not_offered() => {
                    tracing::warn!("조건검색: this upstream does not offer intstock-multprice; no sweeps");
                    return Ok(());
                }
                // A failed chunk keeps its listings' last quotes; the next sweep asks again.
                Err(e) => tracing::warn!(error = %e, "조건검색: a sweep call failed"),
            }
        }
        let mut events = Vec::new();
        let mut sweeps = Vec::new();
        {
            let mut s = self.lock();
            s.quotes.extend(quotes);
            s.as_of = Some(now);
            s.closed = closed;
            let state = &mut *s;
            for (id, scan) in state.scans.iter_mut() {
                let admitted: Vec<SweepBar> = bars
                    .iter()
                    .filter(|b| scan.universe.contains(&b.code))
                    .filter(|b| {
                        state
                            .quotes
                            .get(&b.code)
                            .is_some_and(|q| admits_quote(&scan.filters, q.price, q.turnover))
                    })
                    .copied()
                    .collect();
                let routes = self
                    .channels
                    .as_ref()
                    .map(|c| c.route(&scan.row.spec))
                    .unwrap_or_default();
                for change in scan.scan.sweep(now, &admitted, closed) {
                    let q = state.quotes.get(&change.code);
                    events.push((
                        NewScanEvent {
                            condition_id: *id,
                            code: change.code.to_string(),
                            name: q
                                .map(|q| q.name.clone())
                                .unwrap_or_else(|| self.stocks.name(change.code)),
                            kind: match change.kind {
                                ChangeKind::Enter => ScanEventKind::Enter,
                                ChangeKind::Leave => ScanEventKind::Leave,
                            },
                            time: rfc3339(now),
                            price: q.map_or(0, |q| q.price),
                            change_rate: q.map_or(0.0, |q| q.change_rate),
                            turnover: q.map_or(0, |q| q.turnover),
                            values: change.values,
                        },
                        routes.clone(),
                    ));
                }
                sweeps.push(ScanSweep {
                    condition_id: *id,
                    as_of: rfc3339(now),
                    closed,
                    matches: scan.scan.members().len(),
                    universe: scan.universe.len(),
                    evaluated: scan.scan.evaluated(),
                });
            }
        }
        let (stored, deliveries) = self.store.record_scan_changes(events).await?;
        if let Some(c) = &self.channels {
            c.enqueued(&deliveries);
        }
        for event in stored {
            self.hub.publish_scan_event(&event);
        }
        for sweep in &sweeps {
            self.hub.publish_scan_sweep(sweep);
        }
        Ok(())
    }

    /// The universe backfill's progress.
    pub fn progress(&self) -> UniverseProgress {
        let s = self.lock();
        let total = s.universe;
        let done = s.stored.len().min(total);
        let left = (total - done) as u64;
        let per_listing = (s.fetched > 0).then(|| s.fetch_time / s.fetched);
        UniverseProgress {
            stocks_done: done,
            stocks_total: total,
            calls_left: left * CALLS_PER_LISTING,
            eta_secs: per_listing.map(|p| (p * left as u32).as_secs()),
            complete: total > 0 && done >= total,
        }
    }

    /// Whether any market-scope condition is being scanned (health shows the progress then).
    pub fn is_scanning(&self) -> bool {
        !self.lock().scans.is_empty()
    }

    /// A market-scope condition's result set now (`None`: not scanned: disabled, or not yet built).
    pub fn matches(&self, id: u64) -> Option<ScanMatches> {
        let progress = self.progress();
        let s = self.lock();
        let scan = s.scans.get(&id)?;
        let mut matches: Vec<ScanMatch> = scan
            .scan
            .members()
            .iter()
            .map(|(code, m)| {
                let q = s.quotes.get(code);
                let meta = self.stocks.get(*code);
                ScanMatch {
                    code: code.to_string(),
                    name: q
                        .map(|q| q.name.clone())
                        .or_else(|| meta.as_ref().map(|m| m.name.clone()))
                        .unwrap_or_default(),
                    market: meta.map(|m| m.market).unwrap_or_default(),
                    price: q.map_or(0, |q| q.price),
                    change: q.map_or(0, |q| q.change),
                    change_rate: q.map_or(0.0, |q| q.change_rate),
                    turnover: q.map_or(0, |q| q.turnover),
                    volume: q.map_or(0, |q| q.volume),
                    since: rfc3339(m.since),
                    values: TriggerValues(scan.scan.values_now(code).unwrap_or_else(|| m.values.clone())),
                }
            })
            .collect();
        matches.sort_by(|a, b| {
            b.change_rate
                .total_cmp(&a.change_rate)
                .then_with(|| a.code.cmp(&b.code))
        });
        Some(ScanMatches {
            condition_id: id,
            name: scan.row.spec.name.clone(),
            expr: scan.row.spec.expr.clone(),
            period: scan.scan.condition().period.as_str().to_string(),
            as_of: s.as_of.map(rfc3339),
            closed: s.closed,
            universe: scan.universe.len(),
            evaluated: scan.scan.evaluated(),
            progress,
            history: Some(history_of(&scan.scan)),
            matches,
        })
    }
}
