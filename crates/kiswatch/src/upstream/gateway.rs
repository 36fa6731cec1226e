//! The gateway: every upstream call kiswatch makes, behind TTL caches with single-flight.
//!
//! A browser opening a stock page, a second browser opening the same page, the live poller and the
//! backfill may all want the same price at the same moment. Each cache ([`moka::future::Cache`] with
//! `try_get_with`) makes the first caller fetch while the others wait for its answer, and keeps the
//! answer for its TTL: price 2 s, order book 1 s, executions 3 s, today's minutes 2 s. Below the
//! caches, [`kis::KisClient`] sends every call through the governor (zero rate-limit rejections) at
//! the caller's priority: a page open is [`Priority::Interactive`], and so are polls (paced by
//! their own scheduler to a bounded share); backfill and gap repair are [`Priority::Background`].
//!
//! Every answer from upstream also moves the [`MarketClock`]: the dates of minute bars and the
//! times of executions are the market's own time.
//!
//! The gateway knows nothing of the realtime feed: [`crate::live::Quotes`] asks the live feed first
//! and comes here only for stocks that are not realtime.
//!
//! Errors are shared too (an `Arc` of the one upstream error) and are not cached: the next caller
//! tries again. One answer is an exception: a well-formed code that upstream says does not exist
//! (`NotFound`) is remembered as unknown for the rest of the trading day (a bounded cache of
//! [`UNKNOWN_CODES`] codes), so a flood of made-up codes costs at most one upstream call each
//! instead of a share of the rate budget that pages of real stocks need. A code the stock
//! directory learns (a new listing in the day's master) is known again at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time};
use kis::wire::chart::{BarPeriod, MinuteBar, PERIOD_ROWS_PER_CALL, TODAY_MINUTE_ROWS_PER_CALL};
use kis::wire::quotations::{Execution, OrderBook, Price};
use kis::{KisClient, KisError, Priority};
use market::{Candle, StockCode};
use moka::future::Cache;

pub use super::counters::{CallKind, UpstreamCounters};
use super::directory::{StockDirectory, StockMeta};
use super::keys::KeyPool;
use super::names;
use crate::clock::MarketClock;
use crate::store::{DailyCoverage, Store, StoreError};

/// Why the gateway could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Upstream(Arc<KisError>),
    #[error("store: {0}")]
    Store(Arc<StoreError>),
}

impl From<Arc<KisError>> for GatewayError {
    fn from(e: Arc<KisError>) -> Self {
        GatewayError::Upstream(e)
    }
}

impl From<StoreError> for GatewayError {
    fn from(e: StoreError) -> Self {
        GatewayError::Store(Arc::new(e))
    }
}

impl From<KisError> for GatewayError {
    fn from(e: KisError) -> Self {
        GatewayError::Upstream(Arc::new(e))
    }
}

/// Today's minutes as last fetched: the closed ones are in the store, the newest (still forming)
/// is kept here.
#[derive(Debug, Clone, PartialEq)]
pub struct TodayMinutes {
    pub date: Date,
    pub forming: Option<Candle>,
    /// The market time of the read (`None` while no market time is known).
    pub as_of: Option<DateTime>,
}

/// The TTLs of the caches.
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    pub price: Duration,
    pub order_book: Duration,
    pub executions: Duration,
    pub candles: Duration,
}

impl Default for Ttls {
    fn default() -> Ttls {
        Ttls {
            price: Duration::from_secs(2),
            order_book: Duration::from_secs(1),
            executions: Duration::from_secs(3),
            // Single flight for a burst (a page and the backfill asking together), not a cache of
            // the chart: today's chart is the live bars, and this read only fills what came
            // before the feed started (see `live::bars`).
            candles: Duration::from_secs(2),
        }
    }
}

/// See the module docs.
pub struct Gateway {
    keys: Arc<KeyPool>,
    store: Store,
    pub clock: Arc<MarketClock>,
    pub stocks: Arc<StockDirectory>,
    pub counters: Arc<UpstreamCounters>,
    prices: Cache<StockCode, Arc<Price>>,
    books: Cache<StockCode, Arc<OrderBook>>,
    executions: Cache<StockCode, Arc<Vec<Execution>>>,
    today: Cache<StockCode, Arc<TodayMinutes>>,
    names: Cache<StockCode, StockMeta>,
    /// Codes upstream said do not exist, with the trading day it said so (`None`: before market
    /// time was known).
    unknown: Cache<StockCode, Option<Date>>,
}

/// How many unknown codes are remembered at most (the least recently used are forgotten first).
pub const UNKNOWN_CODES: u64 = 100_000;

/// The longest an unknown code is remembered, whatever the market clock says.
const UNKNOWN_TTL: Duration = Duration::from_secs(24 * 3600);

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("keys", &self.keys).finish()
    }
}

fn cache<V: Clone + Send + Sync + 'static>(ttl: Duration) -> Cache<StockCode, V> {
    Cache::builder().max_capacity(10_000).time_to_live(ttl).build()
}

fn minute_candle(b: &MinuteBar) -> Candle {
    Candle {
        time: b.date.to_datetime(b.time),
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
    }
}

impl Gateway {
    pub fn new(keys: Arc<KeyPool>, store: Store, stocks: Arc<StockDirectory>, ttls: Ttls) -> Gateway {
        Gateway {
            keys,
            store,
            clock: Arc::new(MarketClock::new()),
            stocks,
            counters: Arc::new(UpstreamCounters::default()),
            prices: cache(ttls.price),
            books: cache(ttls.order_book),
            executions: cache(ttls.executions),
            today: cache(ttls.candles),
            names: cache(Duration::from_secs(3600)),
            unknown: Cache::builder()
                .max_capacity(UNKNOWN_CODES)
                .time_to_live(UNKNOWN_TTL)
                .build(),
        }
    }

    /// Whether upstream said today that `code` does not exist (a day has passed: forgotten).
    async fn known_unknown(&self, code: StockCode) -> bool {
        match self.unknown.get(&code).await {
            Some(day) if day == self.clock.today() => true,
            Some(_) => {
                self.unknown.invalidate(&code).await;
                false
            }
            None => false,
        }
    }

    /// The store the gateway writes fetched bars to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Key 1's client (the environment is the same on every key).
    pub fn client(&self) -> &KisClient {
        &self.keys.first().client
    }

    /// Every app key's client.
    pub fn keys(&self) -> &Arc<KeyPool> {
        &self.keys
    }

    /// The key with the most free slots now, at `priority` (for a sequence of calls that belong
    /// together; single calls go through [`KeyPool::call`], which moves off a refused key).
    fn at(&self, priority: Priority) -> KisClient {
        self.keys.pick().client.with_priority(priority)
    }

    fn hit(&self, hit: bool) {
        let c = if hit {
            &self.counters.cache_hits
        } else {
            &self.counters.cache_misses
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// 주식현재가 (cached 2 s).
    pub async fn price(&self, code: StockCode, priority: Priority) -> Result<Arc<Price>, GatewayError> {
        self.hit(self.prices.contains_key(&code));
        let fetch = async {
            let r = self
                .keys
                .call(priority, |c| async move { c.price(code).await })
                .await;
            self.counters.record(CallKind::Price, &r);
            r.map(Arc::new)
        };
        Ok(self.prices.try_get_with(code, fetch).await?)
    }

    /// One uncached price call at background priority, to learn whether a failing upstream is
    /// well again (a service whose stocks are all realtime makes no REST call of its own).
    pub async fn probe(&self, code: StockCode) -> bool {
        let r = self
            .keys
            .call(Priority::Background, |c| async move { c.price(code).await })
            .await;
        self.counters.record(CallKind::Price, &r);
        r.is_ok()
    }

    /// The 10-level order book (cached 1 s).
    pub async fn order_book(
        &self,
        code: StockCode,
        priority: Priority,
    ) -> Result<Arc<OrderBook>, GatewayError> {
        self.hit(self.books.contains_key(&code));
        let fetch = async {
            let r = self
                .keys
                .call(priority, |c| async move { c.order_book(code).await })
                .await;
            self.counters.record(CallKind::OrderBook, &r);
            r.map(Arc::new)
        };
        Ok(self.books.try_get_with(code, fetch).await?)
    }

    /// The latest executions, newest first (cached 3 s). Their times move the market clock.
    pub async fn executions(
        &self,
        code: StockCode,
        priority: Priority,
    ) -> Result<Arc<Vec<Execution>>, GatewayError> {
        self.hit(self.executions.contains_key(&code));
        let fetch = async {
            let r = self
                .keys
                .call(priority, |c| async move { c.executions(code).await })
                .await;
            self.counters.record(CallKind::Executions, &r);
            r.map(Arc::new)
        };
        let list = self.executions.try_get_with(code, fetch).await?;
        if let Some(newest) = list.first() {
            self.clock.observe_time(newest.time);
        }
        Ok(list)
    }

    /// Today's minutes (single-flight for 2 s): the closed ones go to the store, the forming one is
    /// returned.
    /// A fetch walks back from now only until it reaches what is stored.
    pub async fn today_minutes(
        &self,
        code: StockCode,
        priority: Priority,
    ) -> Result<Arc<TodayMinutes>, GatewayError> {
        self.hit(self.today.contains_key(&code));
        let fetch = async { self.fetch_today(code, priority).await.map(Arc::new) };
        self.today
            .try_get_with(code, fetch)
            .await
            .map_err(|e: Arc<GatewayError>| (*e).clone())
    }

    /// Forgets the cached today's minutes of a stock (e.g. when a new trading day starts).
    pub async fn invalidate_today(&self, code: StockCode) {
        self.today.invalidate(&code).await;
    }

    async fn fetch_today(&self, code: StockCode, priority: Priority) -> Result<TodayMinutes, GatewayError> {
        let client = self.at(priority);
        let mut until = Time::constant(23, 59, 59, 0);
        let mut day: Option<Date> = None;
        let mut stored_last: Option<DateTime> = None;
        let mut bars: BTreeMap<DateTime, Candle> = BTreeMap::new();
        // A day has at most 400 minutes: 30 a call, with margin.
        for _ in 0..20 {
            let r = client.today_minute_chart(code, until).await;
            self.counters.record(CallKind::TodayMinutes, &r);
            let page = r?.bars;
            if day.is_none() {
                let Some(date) = page.iter().map(|b| b.date).max() else {
                    break;
                };
                day = Some(date);
                stored_last = self.store.last_minute_of(code, date).await?;
            }
            let rows = page.len();
            let oldest = page.iter().filter(|b| Some(b.date) == day).map(|b| b.time).min();
            for b in page.iter().filter(|b| Some(b.date) == day) {
                let c = minute_candle(b);
                bars.insert(c.time, c);
            }
            let Some(oldest) = oldest else { break };
            let reached_store = stored_last.is_some_and(|s| day.map(|d| d.to_datetime(oldest)) <= Some(s));
            if rows < TODAY_MINUTE_ROWS_PER_CALL || reached_store {
                break;
            }
            match oldest.checked_sub(1.minute()) {
                Ok(next) if next < oldest => until = next,
                _ => break,
            }
        }
        let Some(date) = day else {
            // No trade yet today: nothing forms.
            return Ok(TodayMinutes {
                as_of: self.clock.now(),
                date: self
                    .clock
                    .today()
                    .unwrap_or_else(|| market::time::now_kst().date()),
                forming: None,
            });
        };
        let forming = bars.pop_last().map(|(_, c)| c);
        if let Some(f) = &forming {
            self.clock.observe(f.time);
        }
        self.store.put_minutes(code, bars.into_values().collect()).await?;
        Ok(TodayMinutes {
            date,
            forming,
            as_of: self.clock.now(),
        })
    }

    /// Learns the trading day (and time) upstream is on from one minute-chart call; nothing stored.
    /// `priority`: interactive when a page waits on the answer, background for the scan's rounds.
    pub async fn learn_today(
        &self,
        code: StockCode,
        priority: Priority,
    ) -> Result<Option<DateTime>, GatewayError> {
        let r = self
            .keys
            .call(priority, |c| async move {
                c.today_minute_chart(code, Time::constant(23, 59, 59, 0)).await
            })
            .await;
        self.counters.record(CallKind::TodayMinutes, &r);
        let newest = r?.bars.iter().map(|b| b.date.to_datetime(b.time)).max();
        if let Some(t) = newest {
            self.clock.observe(t);
        }
        Ok(newest)
    }

    /// One past day's minutes, oldest first (real accounts and real-like servers only).
    pub async fn past_minutes(&self, code: StockCode, date: Date) -> Result<Vec<Candle>, GatewayError> {
        let r = self
            .keys
            .call(Priority::Background, |c| async move {
                c.minute_bars(code, date).await
            })
            .await;
        self.counters.record(CallKind::PastMinutes, &r);
        Ok(r?.iter().map(minute_candle).collect())
    }

    /// Current quotes of 1 to 30 stocks in one call (조건검색's sweeps, background priority); codes
    /// upstream does not know are left out.
    pub async fn multi_price(
        &self,
        codes: Vec<StockCode>,
    ) -> Result<Vec<kis::wire::scan::MultPrice>, GatewayError> {
        let r = self
            .keys
            .call(Priority::Background, |c| {
                let codes = codes.clone();
                async move { c.multi_price(codes).await }
            })
            .await;
        self.counters.record(CallKind::MultiPrice, &r);
        Ok(r?)
    }

    /// 거래량순위 or 등락률순위 (real accounts only): 30 rows at most, by rank.
    pub async fn ranking(&self, ranking: Ranking) -> Result<Vec<kis::wire::scan::RankRow>, GatewayError> {
        use kis::wire::scan::{FluctuationRequest, FluctuationSort, VolumeRankRequest, VolumeRankSort};
        let r = self
            .keys
            .call(Priority::Interactive, |c| async move {
                match ranking {
                    Ranking::Volume | Ranking::Turnover => {
                        let sort = if ranking == Ranking::Volume {
                            VolumeRankSort::Volume
                        } else {
                            VolumeRankSort::Turnover
                        };
                        c.volume_rank(&VolumeRankRequest {
                            sort,
                            ..Default::default()
                        })
                        .await
                    }
                    Ranking::Rise | Ranking::Fall => {
                        let sort = if ranking == Ranking::Rise {
                            FluctuationSort::Rise
                        } else {
                            FluctuationSort::Fall
                        };
                        c.fluctuation_rank(&FluctuationRequest {
                            sort,
                            ..Default::default()
                        })
                        .await
                    }
                }
            })
            .await;
        Ok(r?)
    }

    /// The HTS user's saved conditions (real accounts only).
    pub async fn hts_conditions(
        &self,
        user_id: &str,
    ) -> Result<Vec<kis::wire::scan::ConditionTitle>, GatewayError> {
        let r = self
            .keys
            .call(Priority::Interactive, |c| async move {
                c.condition_titles(user_id).await
            })
            .await;
        Ok(r?)
    }

    /// The stocks a saved HTS condition matches now (100 at most; real accounts only).
    pub async fn hts_matches(
        &self,
        user_id: &str,
        seq: &str,
    ) -> Result<Vec<kis::wire::scan::ConditionMatch>, GatewayError> {
        let r = self
            .keys
            .call(Priority::Interactive, |c| async move {
                c.condition_matches(user_id, seq).await
            })
            .await;
        Ok(r?)
    }

    /// Daily bars with dates in `from..=to`, oldest first.
    pub async fn daily_bars(
        &self,
        code: StockCode,
        from: Date,
        to: Date,
        priority: Priority,
    ) -> Result<Vec<Candle>, GatewayError> {
        let r = self
            .keys
            .call(priority, |c| async move {
                c.period_bars(code, BarPeriod::Day, from, to).await
            })
            .await;
        self.counters.record(CallKind::Daily, &r);
        Ok(r?.iter().map(period_candle).collect())
    }

    /// A stock's name and market: from the directory, else from upstream (주식기본조회, or on VTS
    /// the daily chart's summary), then remembered. An unknown code is `NotFound`.
    pub async fn stock(&self, code: StockCode) -> Result<StockMeta, GatewayError> {
        if let Some(meta) = self.stocks.get(code) {
            return Ok(meta);
        }
        let fetch = async {
            let client = self.at(Priority::Interactive);
            if !self.client().environment().is_vts() {
                let today = self
                    .clock
                    .today()
                    .unwrap_or_else(|| market::time::now_kst().date());
                let r = names::lookup(&client, code, today).await;
                self.counters.record(CallKind::StockInfo, &r);
                let found = r?;
                return Ok(StockMeta {
                    code,
                    name: found.name,
                    market: found.market.unwrap_or_default(),
                    kind: "stock".into(),
                });
            }
            let today = self
                .clock
                .today()
                .unwrap_or_else(|| market::time::now_kst().date());
            // The span a chart's first draw needs (one page): the same call then serves the stock
            // page's candles, which a cold page asks for right after its name.
            let from = today
                .checked_sub(daily_span_days(FIRST_DRAW_DAYS).days())
                .unwrap_or(today);
            let r = names::vts_chart(&client, code, from, today).await;
            self.counters.record(CallKind::Daily, &r);
            let (name, chart) = r?;
            // Only on the market's own date (a wall-clock guess could keep today's forming bar).
            if self.clock.today() == Some(today) {
                let bars = chart.bars.iter().map(period_candle).collect();
                if let Err(e) = adopt_daily(&self.store, code, today, from, bars).await {
                    tracing::warn!(%code, error = %e, "keeping the name lookup's daily bars failed");
                }
            }
            // 모의투자 has no 주식기본조회; the price tells the market's name.
            let market = match self.price(code, Priority::Interactive).await {
                Ok(p) => p.market_name.clone(),
                Err(_) => String::new(),
            };
            Ok(StockMeta {
                code,
                name,
                market,
                kind: "stock".into(),
            })
        };
        if self.known_unknown(code).await {
            return Err(KisError::NotFound {
                code: code.to_string(),
            }
            .into());
        }
        let meta = match self.names.try_get_with(code, fetch).await {
            Ok(meta) => meta,
            Err(e) => {
                if matches!(*e, KisError::NotFound { .. }) {
                    self.unknown.insert(code, self.clock.today()).await;
                }
                return Err(e.into());
            }
        };
        self.stocks.insert(meta.clone()).await?;
        Ok(meta)
    }
}

/// A daily chart row as a bar starting at midnight of its date.
fn period_candle(b: &kis::wire::chart::PeriodBar) -> Candle {
    Candle {
        time: b.date.to_datetime(Time::midnight()),
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
    }
}

/// Daily bars a page waits for when its history is not stored: their span (see
/// [`daily_span_days`]) fits one upstream page of 100 sessions, so a cold daily chart costs one call
/// before it is drawn. On VTS the name lookup fetches this span too, so that call serves the chart.
pub const FIRST_DRAW_DAYS: usize = 60;

/// KIS's own quick scans: 30 rows each, no next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ranking {
    /// 거래량순위.
    Volume,
    /// 거래대금순위 (거래량순위 sorted by 거래금액).
    Turnover,
    /// 상승률순위.
    Rise,
    /// 하락률순위.
    Fall,
}

/// Calendar days that surely hold `need` sessions (about 245 a year: weekends and ~15 holidays).
pub fn daily_span_days(need: usize) -> i64 {
    (need as i64 * 3 / 2 + 30).min(20_000)
}

/// Keeps daily bars fetched for another reason (on VTS the name lookup reads the daily chart of the
/// span a first draw needs) as the covered range, so `history::ensure_daily` does not ask for them
/// again. Only for a stock with nothing covered yet (joining ranges is `ensure_daily`'s job). `bars`
/// are the chart's rows for `from..=today`; a full page (100 rows) may have been cut short, so the
/// range then starts at its oldest row.
async fn adopt_daily(
    store: &Store,
    code: StockCode,
    today: Date,
    from: Date,
    bars: Vec<Candle>,
) -> Result<(), StoreError> {
    let Ok(yesterday) = today.yesterday() else {
        return Ok(());
    };
    if bars.is_empty() || store.daily_coverage(code).await?.is_some() {
        return Ok(());
    }
    let first = if bars.len() >= PERIOD_ROWS_PER_CALL {
        bars.iter().map(|b| b.time.date()).min().unwrap_or(from)
    } else {
        from
    };
    let past: Vec<Candle> = bars.into_iter().filter(|b| b.time.date() < today).collect();
    store.put_daily(code, past).await?;
    store
        .set_daily_coverage(
            code,
            DailyCoverage {
                first,
                last: yesterday,
                complete: false,
            },
        )
        .await
}
