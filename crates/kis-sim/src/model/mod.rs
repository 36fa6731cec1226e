//! The simulated market: deterministic prices, history, executions and order books.
//!
//! * `universe`: the listing, 2,565 KOSPI/KOSDAQ listings in the market's proportions (ordinary and
//!   preferred shares, ETFs, ETNs, REITs, SPACs, with the exchange's designations), built once per
//!   process around `stocks`, the core table of 76 real stocks; `names` makes the generated names.
//! * `clock`: the simulator clock, `Live` (real KST and KRX sessions) or `Open` (a virtual session
//!   always running at a speed).
//! * The generation: `factors` (the KOSPI, KOSDAQ and industry factors every stock loads on),
//!   `profile` (a stock's betas, clustered idiosyncratic volatility, jumps and volume; volatility by
//!   size and sector, trade intensity by traded value; index products as leveraged factor trackers),
//!   `tape` (a day
//!   of trades and the bars aggregated from it), `timeline` (one stock's chain of days), `rng`
//!   (seeding by (seed, code, date) and, for the factors, (seed, date)). The stylized facts this
//!   reproduces are measured by `tests/it/stylized_facts.rs`.
//! * What it shows: `quote`, `book`, `bars`; what steers it: `scenario`, `steer`.
//!
//! Determinism: for a given seed and first session date, every stock's history and today's trades are
//! the same whatever the order or timing of the requests (each stock is generated on first use from its
//! own streams). Scenarios deliberately change the future from the moment they are set.
//!
//! Cost: [`Market::new`] does no generation (the listing is built once per process, ~3 ms); a stock is
//! generated on first use in layers: its character and the moves of its ~650 days of history (a few
//! draws a day), then today's trades only as far as the clock shows them (their number follows the
//! stock's liquidity; the rest of the day is written as the clock moves on, from the same random stream);
//! the history's daily bars are laid out only when first asked for, and the minute bars of the days
//! before the first session are regenerated from each day's plan on every request (`timeline`). Each
//! stock sits behind its own mutex, held only for the read. Touching every listing costs ~1.5 s of CPU
//! for a whole session of trades and ~5 s more for every history (BENCHMARKS.md).
//!
//! Memory: a generated stock keeps today's trades (~13 bytes each), today's minute bars (32 bytes each)
//! and, once asked for, its daily history (~16 KB); finished simulated days add their minute bars (the
//! last 22 kept). The whole universe touched: ~90 MB with a whole session of trades, ~150 MB with every
//! history. It does not grow with uptime otherwise.

mod bars;
mod book;
mod clock;
mod factors;
mod names;
mod profile;
mod quote;
mod rng;
mod scenario;
mod steer;
pub(crate) mod stocks;
mod tape;
mod timeline;
pub(crate) mod universe;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use jiff::civil::{Date, DateTime, Time};
use market::code::StockCode;
use market::krx::Phase;

pub use bars::{DailyBar, MinuteBar};
pub use book::{LEVELS, OrderBook};
pub use clock::{ClockMode, MAX_ADVANCE_SECS, MAX_SPEED};
pub use quote::{Execution, Quote, Side};
pub use scenario::{Scenario, ScenarioError, ScenarioPeriod};
pub use stocks::{Flags, MarketKind, Preferred, SecurityKind, StockInfo, Warning};

use clock::{Clock, Reading};
use factors::Factors;
use timeline::{Horizon, Timeline};
use universe::Universe;

/// How to run the market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketConfig {
    /// The same seed gives the same market.
    pub seed: u64,
    pub clock: ClockMode,
    /// Virtual seconds per real second (Open mode).
    pub speed: f64,
}

impl Default for MarketConfig {
    fn default() -> MarketConfig {
        MarketConfig {
            seed: 42,
            clock: ClockMode::Open,
            speed: 1.0,
        }
    }
}

/// The simulated market, shared as `Arc<Market>` by the simulator's servers.
pub struct Market {
    config: MarketConfig,
    universe: &'static Universe,
    /// One cell per listing, boxed so an untouched listing costs a pointer.
    timelines: Vec<OnceLock<Box<Mutex<Timeline>>>>,
    clock: Clock,
    horizon: Horizon,
    factors: Arc<Factors>,
}

impl Market {
    /// A market; cheap (no history is generated until a stock is first asked about). In Open mode the
    /// virtual session starts at the open of the most recent trading day at or before today (KST).
    pub fn new(config: MarketConfig) -> Market {
        Market::starting_on(config, market::time::now_kst().date())
    }

    /// A market as if created on `real_today` (KST): in Open mode the virtual session starts at the open
    /// of the most recent trading day at or before that date. Tests use it to pin the calendar.
    pub fn starting_on(config: MarketConfig, real_today: Date) -> Market {
        let universe = universe::universe();
        let timelines = universe.stocks.iter().map(|_| OnceLock::new()).collect();
        let clock = Clock::new(config.clock, config.speed, real_today);
        let horizon = Horizon::before(clock.read().trading_date);
        let factors = Factors::new(
            config.seed,
            universe.stocks.iter().map(|s| s.sector),
            horizon.history_start,
        );
        Market {
            config,
            universe,
            timelines,
            clock,
            horizon,
            factors: Arc::new(factors),
        }
    }

    pub fn config(&self) -> MarketConfig {
        self.config
    }

    pub fn clock_mode(&self) -> ClockMode {
        self.clock.mode()
    }

    /// Every simulated listing: the core table's stocks first, then the rest of the universe by market
    /// cap (see `universe`).
    pub fn stocks(&self) -> &'static [StockInfo] {
        &self.universe.stocks
    }

    /// The core table's real stocks (the first listings of [`Market::stocks`]).
    pub fn core(&self) -> &'static [StockInfo] {
        &self.universe.stocks[..stocks::LISTINGS.len().min(self.universe.stocks.len())]
    }

    pub fn stock(&self, code: &StockCode) -> Option<&'static StockInfo> {
        self.universe.index.get(code).map(|&i| &self.universe.stocks[i])
    }

    /// The listing a KIS query names: a code, or an ETN's code with KIS's `Q` prefix (`Q500012`).
    pub fn lookup(&self, code: &str) -> Option<&'static StockInfo> {
        self.universe.position(code).map(|i| &self.universe.stocks[i])
    }

    /// The stock's base price today (기준가: the previous close) without generating anything when
    /// the stock has not been asked about and the first session is still running (the anchored
    /// history ends at the stock's level); otherwise from its timeline.
    pub fn base_price(&self, code: &StockCode) -> Option<i64> {
        let &i = self.universe.index.get(code)?;
        if self.timelines[i].get().is_none() && self.trading_date() == self.horizon.first_session {
            return Some(market::krx::round_to_tick(self.universe.levels[i].max(1)));
        }
        self.quote(code).map(|q| q.prev_close)
    }

    /// The stock's typical daily volume (shares) from its character, without generating anything.
    pub fn typical_volume(&self, code: &StockCode) -> Option<u64> {
        let &i = self.universe.index.get(code)?;
        let info = &self.universe.stocks[i];
        let mut rng = rng::rng_for(self.config.seed, code, None, rng::Stream::Profile);
        let industry = self.factors.industry_of(info.sector);
        let profile = profile::Profile::new(info, self.universe.levels[i], industry, &mut rng);
        Some(profile.volume as u64)
    }

    /// Whether the stock's timeline has been generated (tests and benchmarks of laziness).
    pub fn is_generated(&self, code: &StockCode) -> bool {
        self.universe
            .index
            .get(code)
            .is_some_and(|&i| self.timelines[i].get().is_some())
    }

    /// The simulator clock (KST; virtual in Open mode).
    pub fn now(&self) -> DateTime {
        self.clock.read().now
    }

    /// Virtual seconds per real second (1 in Live mode).
    pub fn speed(&self) -> f64 {
        self.clock.speed()
    }

    /// Changes the virtual clock's speed (Open mode; ignored in Live mode; a negative or non-finite speed
    /// counts as 1, anything above 10,000 as 10,000).
    pub fn set_speed(&self, speed: f64) {
        self.clock.set_speed(speed);
    }

    /// Jumps the virtual clock forward by `secs` session seconds (at most 60 sessions per call), rolling
    /// into following trading days as needed (Open mode; ignored in Live mode, where time is real).
    pub fn advance(&self, secs: u64) {
        self.clock.advance(secs);
    }

    /// The session "today" refers to.
    pub fn trading_date(&self) -> Date {
        self.clock.read().trading_date
    }

    pub fn phase(&self) -> Phase {
        self.clock.read().phase()
    }

    /// The stock's quote now.
    pub fn quote(&self, code: &StockCode) -> Option<Quote> {
        self.with(code, |tl, r| {
            tl.quote_at(tl.today().visible(r.visible_until()), r.phase())
        })
    }

    /// The stock's 10-level order book now.
    pub fn order_book(&self, code: &StockCode) -> Option<OrderBook> {
        self.with(code, |tl, r| {
            tl.order_book(tl.today().visible(r.visible_until()), r.phase())
        })
    }

    /// The last `n` trades of today up to now, newest first.
    pub fn recent_executions(&self, code: &StockCode, n: usize) -> Vec<Execution> {
        self.with(code, |tl, r| {
            let k = tl.today().visible(r.visible_until());
            let mut out = tl.executions(k.saturating_sub(n)..k);
            out.reverse();
            out
        })
        .unwrap_or_default()
    }

    /// Every trade of today with a number above `seq` up to now, oldest first (`seq` 0, or any number
    /// from an earlier day, = from the open). See [`Execution::seq`].
    pub fn executions_after(&self, code: &StockCode, seq: u64) -> Vec<Execution> {
        self.with(code, |tl, r| {
            let k = tl.today().visible(r.visible_until());
            let from = tl.count_through(seq).min(k);
            tl.executions(from..k)
        })
        .unwrap_or_default()
    }

    /// Daily bars of the trading days in `[from, to]`, oldest first; today's forming bar is included
    /// once today's session has traded.
    pub fn daily_bars(&self, code: &StockCode, from: Date, to: Date) -> Vec<DailyBar> {
        self.with(code, |tl, r| {
            tl.daily_bars(from, to, tl.today().visible(r.visible_until()))
        })
        .unwrap_or_default()
    }

    /// The closes of the stock's last `n` finished trading days (date, close), oldest first.
    pub fn recent_closes(&self, code: &StockCode, n: usize) -> Vec<(Date, i64)> {
        self.with(code, |tl, _| tl.recent_closes(n)).unwrap_or_default()
    }

    /// 1-minute bars of `date` whose start is at or before `until` (and now, for today), oldest first.
    /// Empty for non-trading days and for days beyond the minute horizon (the last 22 finished trading
    /// days are kept, plus today).
    pub fn minute_bars(&self, code: &StockCode, date: Date, until: Time) -> Vec<MinuteBar> {
        self.with(code, |tl, r| {
            tl.minute_bars(date, until, tl.today().visible(r.visible_until()))
        })
        .unwrap_or_default()
    }

    /// Steers the stock from now on (see [`Scenario`]).
    pub fn set_scenario(&self, code: &StockCode, scenario: Scenario) -> Result<(), ScenarioError> {
        scenario.validate()?;
        self.with(code, |tl, r| {
            let k = tl.today().visible(r.visible_until());
            tl.set_scenario(&scenario, k, r.visible_until());
        })
        .ok_or_else(|| ScenarioError::UnknownStock(code.to_string()))
    }

    /// Runs `f` on the stock's timeline, caught up to the clock, with the clock reading it is caught up to.
    fn with<R>(&self, code: &StockCode, f: impl FnOnce(&mut Timeline, &Reading) -> R) -> Option<R> {
        let &i = self.universe.index.get(code)?;
        let cell = self.timelines[i].get_or_init(|| {
            let date = self.clock.read().trading_date;
            let timeline = Timeline::new(
                self.config.seed,
                &self.universe.stocks[i],
                self.universe.levels[i],
                self.factors.clone(),
                &self.horizon,
                date,
            );
            Box::new(Mutex::new(timeline))
        });
        let mut timeline: MutexGuard<'_, Timeline> =
            cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Read the clock under the lock, so a reader never sees a day older than the timeline's today.
        let mut reading = self.clock.read();
        timeline.catch_up(reading.trading_date);
        if timeline.today().date() > reading.trading_date {
            reading.trading_date = timeline.today().date();
        }
        // Today's trades are written as far as the clock shows them; the closing auction shows the
        // expected closing print, so then the whole day.
        let until = match reading.phase() {
            Phase::ClosingAuction => Time::MAX,
            _ => reading.visible_until(),
        };
        timeline.written_until(until);
        Some(f(&mut timeline, &reading))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use market::krx::Calendar;

    fn market(seed: u64) -> Market {
        let config = MarketConfig {
            seed,
            clock: ClockMode::Open,
            speed: 0.0,
        };
        Market::starting_on(config, date(2026, 11, 20))
    }

    fn code(s: &str) -> StockCode {
        StockCode::parse(s).unwrap()
    }

    #[test]
    fn the_market_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Market>();
        shareable::<std::sync::Arc<Market>>();
    }

    #[test]
    fn creation_generates_nothing_and_lists_the_stocks() {
        let m = market(1);
        assert!(m.stocks().len() >= 50);
        assert!(m.timelines.iter().all(|t| t.get().is_none()));
        assert_eq!(m.stock(&code("005930")).map(|s| s.name), Some("삼성전자"));
        assert_eq!(m.stock(&code("999999")), None);
        assert_eq!(m.quote(&code("999999")), None);
        assert!(m.executions_after(&code("999999"), 0).is_empty());
        assert_eq!(m.now(), date(2026, 11, 20).at(9, 0, 0, 0));
    }

    #[test]
    fn quote_executions_bars_and_book_agree() {
        let m = market(7);
        m.advance(2 * 3600 + 17);
        let c = code("005930");
        let q = m.quote(&c).unwrap();
        let ex = m.executions_after(&c, 0);
        let last = ex.last().unwrap();
        assert_eq!(
            Quote {
                phase: q.phase,
                ..last.state
            },
            q
        );
        assert_eq!(q.time, last.time);
        assert_eq!(q.open, ex[0].price);
        assert_eq!(q.high, ex.iter().map(|e| e.price).max().unwrap());
        assert_eq!(q.low, ex.iter().map(|e| e.price).min().unwrap());
        assert_eq!(q.volume, ex.iter().map(|e| e.volume).sum::<u64>());
        let turnover: u64 = ex.iter().map(|e| e.price as u64 * e.volume).sum();
        assert_eq!(q.turnover, turnover);
        assert!(ex.windows(2).all(|w| w[1].seq == w[0].seq + 1));
        assert_eq!(ex[0].seq, 20_261_120 * 10_000_000 + 1);

        let today = m.trading_date();
        let minutes = m.minute_bars(&c, today, time(23, 59, 0, 0));
        let day = m.daily_bars(&c, today, today);
        assert_eq!(day.len(), 1);
        assert_eq!(DailyBar::from_minutes(&minutes), Some(day[0]));
        assert_eq!(
            (day[0].close, day[0].volume, day[0].turnover),
            (q.price, q.volume, q.turnover)
        );

        let recent = m.recent_executions(&c, 5);
        let mut tail = ex[ex.len() - 5..].to_vec();
        tail.reverse();
        assert_eq!(recent, tail);
        let after = m.executions_after(&c, ex[ex.len() - 3].seq);
        assert_eq!(after, ex[ex.len() - 2..].to_vec());

        let book = m.order_book(&c).unwrap();
        assert_eq!((book.asks[0].0, book.bids[0].0), (q.ask1, q.bid1));
        assert!(q.ask1 > q.bid1);
        assert!(q.price == q.ask1 || q.price == q.bid1);
    }

    #[test]
    fn the_same_seed_gives_the_same_market_in_any_order() {
        let (a, b) = (code("000660"), code("035420"));
        let (m1, m2, m3) = (market(5), market(5), market(6));
        for m in [&m1, &m2, &m3] {
            m.advance(3600);
        }
        let _ = m1.quote(&a);
        let _ = m2.quote(&b);
        let span = (date(2024, 1, 1), date(2027, 1, 1));
        for c in [a, b] {
            assert_eq!(
                m1.daily_bars(&c, span.0, span.1),
                m2.daily_bars(&c, span.0, span.1)
            );
            assert_eq!(m1.executions_after(&c, 0), m2.executions_after(&c, 0));
            assert_ne!(
                m1.daily_bars(&c, span.0, span.1),
                m3.daily_bars(&c, span.0, span.1)
            );
        }
    }

    #[test]
    fn history_covers_600_trading_days_and_20_days_of_minutes() {
        let m = market(3);
        let c = code("035720");
        let calendar = Calendar::krx();
        let today = m.trading_date();
        let bars = m.daily_bars(&c, date(2020, 1, 1), today);
        assert!(bars.len() >= 600, "{} daily bars", bars.len());
        assert!(bars.windows(2).all(|w| w[0].date < w[1].date));
        assert!(bars.iter().all(|b| calendar.is_trading_day(b.date)));
        // Today has its opening print already (the clock starts at the open).
        assert_eq!(bars.last().map(|b| b.date), Some(today));

        let mut day = today;
        for back in 1..=25 {
            day = calendar.prev_trading_day(day);
            let minutes = m.minute_bars(&c, day, time(23, 59, 0, 0));
            if back <= 20 {
                assert!(minutes.len() > 300, "{day}: {} minute bars", minutes.len());
                let daily = m.daily_bars(&c, day, day);
                assert_eq!(DailyBar::from_minutes(&minutes).as_ref(), daily.first());
            }
            if back > MINUTE_DAYS_KEPT {
                assert!(minutes.is_empty(), "{day} is beyond the minute horizon");
            }
        }
        assert!(
            m.minute_bars(&c, date(2026, 11, 21), time(23, 0, 0, 0))
                .is_empty()
        );
        assert!(
            m.daily_bars(&c, date(2026, 11, 21), date(2026, 11, 22))
                .is_empty()
        );
    }

    #[test]
    fn the_exam_day_trades_from_10_00_to_16_30() {
        let exam_day = date(2026, 11, 19);
        assert!(Calendar::krx().is_exam_day(exam_day));
        let m = market(21);
        let bars = m.minute_bars(&code("005930"), exam_day, time(23, 59, 0, 0));
        assert_eq!(bars.first().map(|b| b.time), Some(time(10, 0, 0, 0)));
        assert_eq!(bars.last().map(|b| b.time), Some(time(16, 30, 0, 0)));
        let continuous_end = time(16, 20, 0, 0);
        assert!(
            bars.iter()
                .all(|b| b.time < continuous_end || b.time == time(16, 30, 0, 0))
        );
    }

    const MINUTE_DAYS_KEPT: u32 = timeline::MINUTE_DAYS as u32;

    #[test]
    fn a_finished_day_becomes_history_matching_its_last_quote() {
        let m = market(11);
        let c = code("005380");
        let first_day = m.trading_date();
        m.advance(6 * 3600 + 30 * 60 + 30);
        assert_eq!(m.now(), first_day.at(15, 30, 30, 0));
        let closing = m.quote(&c).unwrap();
        assert_eq!(closing.time, time(15, 30, 0, 0));
        let yesterday_last = m.recent_executions(&c, 1)[0].seq;
        m.advance(60);
        let next = m.trading_date();
        assert_eq!(next, Calendar::krx().next_trading_day(first_day));
        let bar = m.daily_bars(&c, first_day, first_day)[0];
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.turnover),
            (
                closing.open,
                closing.high,
                closing.low,
                closing.price,
                closing.volume,
                closing.turnover
            )
        );
        let q = m.quote(&c).unwrap();
        // A feed that last sent yesterday's closing print gets all of today's trades.
        let today = m.executions_after(&c, 0);
        assert!(!today.is_empty());
        assert_eq!(m.executions_after(&c, yesterday_last), today);
        assert!(today[0].seq > yesterday_last);
        assert_eq!(q.prev_close, closing.price);
        assert_eq!(q.prev_volume, closing.volume);
        assert_eq!(q.date, next);
        let minutes = m.minute_bars(&c, first_day, time(23, 0, 0, 0));
        assert_eq!(DailyBar::from_minutes(&minutes), Some(bar));
    }

    #[test]
    fn a_path_scenario_walks_through_the_prices() {
        let m = market(13);
        let c = code("035720");
        m.advance(3600);
        let q = m.quote(&c).unwrap();
        let seq = m.recent_executions(&c, 1)[0].seq;
        let up = market::krx::step_ticks(q.price, 3);
        let prices = vec![up, q.price, 1, i64::MAX];
        m.set_scenario(&c, Scenario::path(prices).unwrap()).unwrap();
        assert_eq!(
            m.executions_after(&c, seq),
            vec![],
            "the future is not visible yet"
        );
        m.advance(30);
        let walked: Vec<i64> = m
            .executions_after(&c, seq)
            .iter()
            .map(|e| e.price)
            .take(4)
            .collect();
        assert_eq!(walked, vec![up, q.price, q.limits.lower, q.limits.upper]);
        assert_eq!(
            m.set_scenario(&code("999999"), Scenario::path(vec![1]).unwrap()),
            Err(ScenarioError::UnknownStock("999999".into()))
        );
        assert_eq!(
            m.set_scenario(&c, Scenario::Path { prices: vec![] }),
            Err(ScenarioError::EmptyPath)
        );
    }

    /// Closes of `minutes`-minute bars (anchored at 09:00) from minute bars, oldest first.
    fn period_closes(bars: &[MinuteBar], minutes: i64) -> Vec<i64> {
        let mut out: Vec<((Date, i64), i64)> = Vec::new();
        for b in bars {
            let since = (b.time.hour() as i64 - 9) * 60 + b.time.minute() as i64;
            let key = (b.date, since.max(0) / minutes);
            match out.last_mut() {
                Some((k, close)) if *k == key => *close = b.close,
                _ => out.push((key, b.close)),
            }
        }
        out.into_iter().map(|(_, c)| c).collect()
    }

    fn ma(closes: &[i64], n: usize) -> f64 {
        closes[closes.len() - n..].iter().sum::<i64>() as f64 / n as f64
    }

    fn all_minutes(m: &Market, c: &StockCode) -> Vec<MinuteBar> {
        let calendar = Calendar::krx();
        let today = m.trading_date();
        let mut days = vec![today];
        for _ in 0..MINUTE_DAYS_KEPT {
            let d = calendar.prev_trading_day(*days.last().unwrap());
            days.push(d);
        }
        days.reverse();
        days.iter()
            .flat_map(|d| m.minute_bars(c, *d, time(23, 59, 0, 0)))
            .collect()
    }

    /// Sets `scenario` on `c` after 30 virtual minutes, then advances `step` seconds at a time, at most
    /// `steps` times, until `formed` turns from false to true on the `minutes`-minute closes; returns the
    /// seconds it took.
    fn forms_within(
        seed: u64,
        c: StockCode,
        scenario: Scenario,
        minutes: i64,
        step: u64,
        steps: u64,
        formed: impl Fn(&[i64]) -> bool,
    ) -> Option<u64> {
        let m = market(seed);
        m.advance(1800);
        m.set_scenario(&c, scenario).unwrap();
        let mut before = formed(&period_closes(&all_minutes(&m, &c), minutes));
        (1..=steps).find_map(|i| {
            m.advance(step);
            let now = formed(&period_closes(&all_minutes(&m, &c), minutes));
            let turned = now && !before;
            before = now;
            turned.then_some(i * step)
        })
    }

    fn aligned_up(closes: &[i64]) -> bool {
        let mas: Vec<f64> = [20, 60, 120, 240].iter().map(|&n| ma(closes, n)).collect();
        mas.windows(2).all(|w| w[0] > w[1])
    }

    #[test]
    fn a_bullish_alignment_on_1_minute_bars_forms_within_an_hour() {
        let scenario = Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(1),
        };
        let took = forms_within(17, code("000270"), scenario, 1, 60, 60, aligned_up);
        assert!(took.is_some(), "no 1m bullish alignment within an hour");
    }

    #[test]
    fn a_bullish_alignment_on_5_minute_bars_forms_within_the_session() {
        let scenario = Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(5),
        };
        let took = forms_within(17, code("000270"), scenario, 5, 300, 70, aligned_up);
        assert!(took.is_some(), "no 5m bullish alignment within the session");
    }

    #[test]
    fn a_dead_cross_on_30_minute_bars_forms_within_two_virtual_hours() {
        let scenario = Scenario::DeadCross {
            period: ScenarioPeriod::Minutes(30),
        };
        let below = |closes: &[i64]| ma(closes, 20) < ma(closes, 60);
        let took = forms_within(19, code("051910"), scenario, 30, 300, 24, below);
        assert!(
            took.is_some(),
            "MA20 did not cross below MA60 on 30m bars within 2 h"
        );
    }

    #[test]
    fn a_golden_cross_on_30_minute_bars_forms_within_four_virtual_hours() {
        let scenario = Scenario::GoldenCross {
            period: ScenarioPeriod::Minutes(30),
        };
        let above = |closes: &[i64]| ma(closes, 20) > ma(closes, 60);
        for (seed, stock) in [(0, "005930"), (23, "000660")] {
            let took = forms_within(seed, code(stock), scenario.clone(), 30, 300, 48, above);
            assert!(took.is_some(), "{stock}: no 30m golden cross within 4 h");
        }
    }

    /// How often, along `closes`, the 20/60/120/240 averages enter bullish and bearish alignment and
    /// MA20 crosses MA60 (up, down).
    fn pattern_counts(closes: &[i64]) -> [u32; 4] {
        let mut counts = [0; 4];
        let mut prev: Option<(bool, bool, bool)> = None;
        for end in 240..=closes.len() {
            let c = &closes[..end];
            let mas: Vec<f64> = [20, 60, 120, 240].iter().map(|&n| ma(c, n)).collect();
            let now = (
                mas.windows(2).all(|w| w[0] > w[1]),
                mas.windows(2).all(|w| w[0] < w[1]),
                mas[0] > mas[1],
            );
            if let Some(p) = prev {
                counts[0] += u32::from(now.0 && !p.0);
                counts[1] += u32::from(now.1 && !p.1);
                counts[2] += u32::from(now.2 && !p.2);
                counts[3] += u32::from(!now.2 && p.2);
            }
            prev = Some(now);
        }
        counts
    }

    #[test]
    fn noise_makes_alignments_and_crossings_on_daily_and_30_minute_bars() {
        let m = market(42);
        m.advance(6 * 3600);
        let (mut daily, mut intraday) = ([0; 4], [0; 4]);
        for info in &m.stocks()[..6] {
            let closes: Vec<i64> = m
                .daily_bars(&info.code, date(2000, 1, 1), m.trading_date())
                .iter()
                .map(|b| b.close)
                .collect();
            let d = pattern_counts(&closes);
            let t = pattern_counts(&period_closes(&all_minutes(&m, &info.code), 30));
            for i in 0..4 {
                daily[i] += d[i];
                intraday[i] += t[i];
            }
        }
        assert!(daily.iter().all(|&n| n >= 2), "daily {daily:?}");
        assert!(intraday[2] + intraday[3] >= 2, "30m {intraday:?}");
        assert!(intraday[0] + intraday[1] >= 1, "30m {intraday:?}");
    }
}
