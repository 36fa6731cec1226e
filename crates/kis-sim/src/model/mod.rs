//! The simulated market: deterministic prices, history, executions and order books.
//!
//! * [`stocks`]: the listing (≥ 50 real KOSPI/KOSDAQ stocks).
//! * [`clock`]: the simulator clock, `Live` (real KST and KRX sessions) or `Open` (a virtual session
//!   always running at a speed).
//! * The generation: [`regime`] (daily trends/ranges/reversals), [`tape`] (a day of trades and the bars
//!   aggregated from it), [`timeline`] (one stock's chain of days), [`rng`] (seeding by
//!   (seed, code, date)).
//! * What it shows: [`quote`], [`book`], [`bars`]; what steers it: [`scenario`], [`steer`].
//!
//! Determinism: for a given seed and first session date, every stock's history and today's trades are
//! the same whatever the order or timing of the requests (each stock is generated on first use from its
//! own streams). Scenarios deliberately change the future from the moment they are set.
//!
//! Cost: [`Market::new`] does no generation; a stock is generated on first use (a few milliseconds in a
//! release build) and then every read is a binary search plus the copy of what is returned. Each stock
//! sits behind its own mutex, held only for the read.

mod bars;
mod book;
mod clock;
mod quote;
mod regime;
mod rng;
mod scenario;
mod steer;
mod stocks;
mod tape;
mod timeline;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use jiff::civil::{Date, DateTime, Time};
use market::code::StockCode;
use market::krx::Phase;

pub use bars::{DailyBar, MinuteBar};
pub use book::{LEVELS, OrderBook};
pub use clock::ClockMode;
pub use quote::{Execution, Quote, Side};
pub use scenario::{Scenario, ScenarioError, ScenarioPeriod};
pub use stocks::{MarketKind, StockInfo};

use clock::{Clock, Reading};
use timeline::{Horizon, Timeline};

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
    stocks: Vec<StockInfo>,
    levels: Vec<i64>,
    index: HashMap<StockCode, usize>,
    timelines: Vec<OnceLock<Mutex<Timeline>>>,
    clock: Clock,
    horizon: Horizon,
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
        let (stocks, levels) = stocks::build();
        let index = stocks.iter().enumerate().map(|(i, s)| (s.code, i)).collect();
        let timelines = stocks.iter().map(|_| OnceLock::new()).collect();
        let clock = Clock::new(config.clock, config.speed, real_today);
        let horizon = Horizon::before(clock.read().trading_date);
        Market {
            config,
            stocks,
            levels,
            index,
            timelines,
            clock,
            horizon,
        }
    }

    pub fn config(&self) -> MarketConfig {
        self.config
    }

    pub fn clock_mode(&self) -> ClockMode {
        self.clock.mode()
    }

    /// Every simulated stock, in the table's order.
    pub fn stocks(&self) -> &[StockInfo] {
        &self.stocks
    }

    pub fn stock(&self, code: &StockCode) -> Option<&StockInfo> {
        self.index.get(code).map(|&i| &self.stocks[i])
    }

    /// The simulator clock (KST; virtual in Open mode).
    pub fn now(&self) -> DateTime {
        self.clock.read().now
    }

    /// Changes the virtual clock's speed (Open mode; ignored in Live mode; a negative or non-finite speed
    /// counts as 1).
    pub fn set_speed(&self, speed: f64) {
        self.clock.set_speed(speed);
    }

    /// Jumps the virtual clock forward by `secs` session seconds, rolling into following trading days as
    /// needed (Open mode; ignored in Live mode, where time is real).
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

    /// Every trade of today with `seq > seq` up to now, oldest first (`seq` 0 = from the open).
    pub fn executions_after(&self, code: &StockCode, seq: u64) -> Vec<Execution> {
        self.with(code, |tl, r| {
            let k = tl.today().visible(r.visible_until());
            let from = usize::try_from(seq).unwrap_or(usize::MAX).min(k);
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
        let &i = self.index.get(code)?;
        let cell = self.timelines[i].get_or_init(|| {
            let date = self.clock.read().trading_date;
            let timeline = Timeline::new(
                self.config.seed,
                &self.stocks[i],
                self.levels[i],
                &self.horizon,
                date,
            );
            Mutex::new(timeline)
        });
        let mut timeline: MutexGuard<'_, Timeline> =
            cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Read the clock under the lock, so a reader never sees a day older than the timeline's today.
        let mut reading = self.clock.read();
        timeline.catch_up(reading.trading_date);
        if timeline.today().date() > reading.trading_date {
            reading.trading_date = timeline.today().date();
        }
        Some(f(&mut timeline, &reading))
    }
}
