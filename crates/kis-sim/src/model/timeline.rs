//! One stock's life: daily history from about 650 trading days back, the minute bars of the most recent
//! days, today's tape, and the active scenario.
//!
//! The history before the first simulated session is **anchored**: its daily moves are drawn forward in
//! time (each day from its own random streams, see `rng`, with the factors and the stock's volatility
//! state carrying from day to day), and its closes are then laid backwards from the last one, which is
//! the stock's price level of the table, so every seed's history ends where the table says the stock
//! stands and today's session starts from there (the master file's 기준가 is that level). A close
//! that would lie outside the ±30% limits of the day before is pulled onto the limit (a limit day).
//! Days older than the minute horizon get their OHLCV drawn directly (on the grid, inside the limits,
//! `low <= open, close <= high`); the last [`MINUTE_DAYS`] days before the first session are written at
//! minute resolution (`tape::summarised_day`): their daily bar is computed once, their minute bars are
//! regenerated from the day's plan whenever someone asks (a few hundred microseconds), so they cost no
//! memory. Today and every later day are generated trade by trade; a finished day keeps its minute bars
//! (the last [`MINUTE_DAYS`] of them) and becomes a daily bar.
//!
//! Memory per generated stock: today's trades at ~13 bytes each as far as the clock has shown them (a
//! large cap trading several times a second: ~1 MB for a whole day; a small cap a few KB), today's
//! minute bars (32 bytes each, ≤ 13 KB), the plans of the days inside the minute horizon (~3 KB), once
//! asked for the daily history (~650 days at 24 bytes, ~16 KB), plus ~12 KB per day simulated since the
//! start. Stocks nobody asks about are never generated.

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::sync::Arc;

use jiff::civil::{Date, Time};
use market::code::StockCode;
use market::krx::{
    Calendar, Phase, PriceLimits, Sign, ceil_to_tick, floor_to_tick, price_limits, round_to_tick, step_ticks,
};

use super::bars::{DailyBar, MinuteBar, PackedDay, PackedMinute, narrow};
use super::book::{self, OrderBook};
use super::clock::session_hours;
use super::factors::Factors;
use super::profile::{DayMove, Profile, StockState};
use super::quote::{Execution, Quote};
use super::rng::{Stream, code_key, date_key, normal, rng_for};
use super::scenario::{Scenario, ScenarioPeriod};
use super::steer::Steer;
use super::stocks::StockInfo;
use super::tape::{DayPlan, Tape, flat_bar, secs_of, summarised_day, time_at};

/// Trading days of daily history before the first simulated session.
pub(crate) const HISTORY_DAYS: usize = 650;
/// Finished trading days whose minute bars are kept (at least 20 are promised).
pub(crate) const MINUTE_DAYS: usize = 22;

/// Where history starts and from which day on days are generated at minute resolution; fixed when the
/// market is created, the same for every stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Horizon {
    pub history_start: Date,
    pub detail_from: Date,
    /// The market's first simulated session: the anchored history ends the trading day before.
    pub first_session: Date,
}

impl Horizon {
    /// The horizon for a market whose first session is `first_day`.
    pub fn before(first_day: Date) -> Horizon {
        let calendar = Calendar::krx();
        let mut day = first_day;
        let mut detail_from = first_day;
        for i in 0..HISTORY_DAYS {
            day = calendar.prev_trading_day(day);
            if i < MINUTE_DAYS {
                detail_from = day;
            }
        }
        Horizon {
            history_start: day,
            detail_from,
            first_session: first_day,
        }
    }
}

/// One day of the anchored history at minute resolution: its plan, and its daily bar once asked for.
struct DetailDay {
    plan: DayPlan,
    bar: OnceCell<DailyBar>,
}

/// What the history before the first session is built from (see [`Timeline::anchored`]).
struct Anchoring {
    dates: Vec<Date>,
    moves: Vec<DayMove>,
    /// Each day's close; the last is the level.
    closes: Vec<i64>,
    /// The first day's base price.
    start: i64,
    /// The stock's state after the last day.
    state: StockState,
}

pub(crate) struct Timeline {
    seed: u64,
    code: StockCode,
    profile: Profile,
    state: StockState,
    /// The market's factor series, shared by every stock.
    factors: Arc<Factors>,
    horizon: Horizon,
    /// Days generated so far (the index of the next day in the factor series).
    day_number: usize,
    /// The anchored days before the minute horizon, drawn directly when first asked for.
    direct: OnceCell<Vec<PackedDay>>,
    /// The anchored days inside the minute horizon (before the first session).
    detail: Vec<DetailDay>,
    /// Days generated trade by trade and finished, oldest first, and the minute bars of the last
    /// [`MINUTE_DAYS`] of them.
    later: Vec<DailyBar>,
    kept: VecDeque<(Date, Vec<PackedMinute>)>,
    today: Tape,
    steer: Option<Steer>,
    scenarios_set: u64,
}

impl Timeline {
    /// The stock on the session of `trading_date`: today's trades at once, the history when first
    /// asked for.
    pub fn new(
        seed: u64,
        info: &StockInfo,
        level: i64,
        factors: Arc<Factors>,
        horizon: &Horizon,
        trading_date: Date,
    ) -> Timeline {
        let mut rng = rng_for(seed, &info.code, None, Stream::Profile);
        let profile = Profile::new(info, level, factors.industry_of(info.sector), &mut rng);
        let state = profile.start_state();
        let mut timeline = Timeline {
            seed,
            code: info.code,
            profile,
            state,
            factors,
            horizon: *horizon,
            day_number: 0,
            direct: OnceCell::new(),
            detail: Vec::with_capacity(MINUTE_DAYS),
            later: Vec::new(),
            kept: VecDeque::new(),
            // Replaced below; a placeholder so generation can use the struct's methods.
            today: placeholder_tape(horizon.history_start, level.max(1)),
            steer: None,
            scenarios_set: 0,
        };
        let anchoring = timeline.anchored();
        for (i, &date) in anchoring.dates.iter().enumerate() {
            if date >= horizon.detail_from {
                let plan = timeline.anchored_plan(&anchoring, i);
                timeline.detail.push(DetailDay {
                    plan,
                    bar: OnceCell::new(),
                });
            }
        }
        timeline.state = anchoring.state;
        timeline.day_number = anchoring.dates.len();
        // Every session since the market's first is generated trade by trade, whenever the stock is
        // first asked about: the same days as if it had been followed from the start.
        timeline.today = timeline.traded_day(horizon.first_session.min(trading_date));
        timeline.catch_up(trading_date);
        timeline
    }

    /// The anchored history's moves and closes: moves forward, closes backward from the level (see
    /// the module doc). Deterministic, so it is simply recomputed when the older days are first needed.
    fn anchored(&self) -> Anchoring {
        let calendar = Calendar::krx();
        let mut dates = Vec::with_capacity(HISTORY_DAYS + 8);
        let mut date = self.horizon.history_start;
        while date < self.horizon.first_session {
            dates.push(date);
            date = calendar.next_trading_day(date);
        }
        let level = round_to_tick(self.profile.level.max(1));
        let mut state = self.profile.start_state();
        let factors = self
            .factors
            .days(0..dates.len(), self.profile.kosdaq, self.profile.industry);
        let moves: Vec<DayMove> = dates
            .iter()
            .zip(factors)
            .map(|(&d, f)| {
                let mut rng = rng_for(self.seed, &self.code, Some(d), Stream::Daily);
                self.profile
                    .day(&mut state, f, self.profile.level as f64, &mut rng)
            })
            .collect();
        // Laid backwards, each day's move gets the pull towards the level that its start price implies,
        // as the days after the first session get it going forwards.
        let back = |close: i64, ret: f64| {
            let estimate = close as f64 * (-ret).exp();
            base_before(close, ret + self.profile.pull(estimate))
        };
        let mut closes = vec![level; dates.len()];
        for i in (1..dates.len()).rev() {
            closes[i - 1] = back(closes[i], moves[i].ret);
        }
        let start = closes.first().map_or(level, |&c| back(c, moves[0].ret));
        Anchoring {
            dates,
            moves,
            closes,
            start,
            state,
        }
    }

    /// The plan of anchored day `i`.
    fn anchored_plan(&self, a: &Anchoring, i: usize) -> DayPlan {
        let base = if i == 0 { a.start } else { a.closes[i - 1] };
        let close = a.closes[i];
        let day = DayMove {
            ret: (close as f64 / base as f64).ln(),
            ..a.moves[i]
        };
        self.plan_from(a.dates[i], base, &day, Some(close))
    }

    /// The anchored days before the minute horizon.
    fn direct_days(&self) -> &[PackedDay] {
        self.direct.get_or_init(|| {
            let a = self.anchored();
            a.dates
                .iter()
                .enumerate()
                .take_while(|(_, d)| **d < self.horizon.detail_from)
                .map(|(i, _)| self.direct_day(self.anchored_plan(&a, i)))
                .collect()
        })
    }

    /// The daily bar of anchored day `d` inside the minute horizon.
    fn detail_bar(&self, d: &DetailDay) -> DailyBar {
        *d.bar.get_or_init(|| {
            let bars = self.summarised(&d.plan);
            DailyBar::from_minutes(&bars).unwrap_or(flat_bar(d.plan.date, d.plan.limits.base))
        })
    }

    /// Moves "today" forward to `trading_date`, archiving the days in between.
    pub fn catch_up(&mut self, trading_date: Date) {
        let calendar = Calendar::krx();
        while self.today.date() < trading_date {
            self.written_until(Time::MAX);
            let next = calendar.next_trading_day(self.today.date());
            let finished = std::mem::replace(&mut self.today, placeholder_tape(next, 1));
            self.archive(&finished);
            self.today = self.traded_day(next);
        }
    }

    /// Writes today's trades up to `until` (the clock's visible time; [`Time::MAX`]: the whole day).
    pub fn written_until(&mut self, until: Time) {
        let sec = if until == Time::MAX {
            u32::MAX
        } else {
            secs_of(until)
        };
        self.today.extend_to(sec, self.steer.as_mut());
        self.drop_finished_steer();
    }

    /// The last finished day's close: today's base price.
    fn base_price(&self) -> i64 {
        match (self.later.last(), self.detail.last()) {
            (Some(b), _) => b.close,
            (None, Some(d)) => d.plan.close.unwrap_or(d.plan.limits.base),
            (None, None) => round_to_tick(self.profile.level.max(1)),
        }
    }

    /// The stock's move on `date` (the next day of the factor series), the price standing at `price`.
    fn next_move(&mut self, date: Date, price: f64) -> DayMove {
        let mut rng = rng_for(self.seed, &self.code, Some(date), Stream::Daily);
        let factors = self
            .factors
            .day(self.day_number, self.profile.kosdaq, self.profile.industry);
        self.day_number += 1;
        self.profile.day(&mut self.state, factors, price, &mut rng)
    }

    /// The plan of a day starting from `base`.
    fn plan_from(&self, date: Date, base: i64, day: &DayMove, close: Option<i64>) -> DayPlan {
        DayPlan {
            date,
            hours: session_hours(date),
            limits: price_limits(base),
            ret: day.ret,
            gap: day.gap,
            vol: day.vol,
            volume: self.profile.volume * day.activity,
            // More trades, not only bigger ones, on busy days.
            trades_per_min: self.profile.trades_per_min * day.activity.sqrt().clamp(0.6, 2.0),
            close,
            halted: false,
        }
    }

    /// A day generated trade by trade (the active scenario steers it).
    fn traded_day(&mut self, date: Date) -> Tape {
        let base = self.base_price();
        let day = self.next_move(date, base as f64);
        let mut plan = self.plan_from(date, base, &day, None);
        plan.halted = self.profile.halted;
        let rng = rng_for(self.seed, &self.code, Some(date), Stream::Day);
        let tape = Tape::begin(plan, rng, self.steer.as_mut());
        self.drop_finished_steer();
        tape
    }

    /// The minute bars of a day before the first session, from its plan.
    fn summarised(&self, plan: &DayPlan) -> Vec<MinuteBar> {
        let mut rng = rng_for(self.seed, &self.code, Some(plan.date), Stream::Day);
        summarised_day(*plan, &mut rng)
    }

    /// A day of the older history: OHLCV drawn directly, closing at the plan's close (its turnover is
    /// the volume at the bar's typical price, see [`PackedDay`]).
    fn direct_day(&self, plan: DayPlan) -> PackedDay {
        let mut rng = rng_for(self.seed, &self.code, Some(plan.date), Stream::Day);
        let limits = plan.limits;
        let base = limits.base as f64;
        let (ret, gap) = (plan.ret, plan.gap);
        let snap = |x: f64| limits.clamp(round_to_tick(x.round().max(1.0) as i64));
        let open = snap(base * gap.exp());
        let close = plan
            .close
            .map_or_else(|| snap(base * ret.exp()), |c| limits.clamp(c));
        let up = (plan.vol * 0.5 * normal(&mut rng).abs()).exp();
        let down = (-plan.vol * 0.5 * normal(&mut rng).abs()).exp();
        let high = limits
            .clamp(ceil_to_tick((open.max(close) as f64 * up).ceil() as i64))
            .max(open.max(close));
        let low = limits
            .clamp(floor_to_tick(
                (open.min(close) as f64 * down).floor().max(1.0) as i64
            ))
            .min(open.min(close));
        let volume = (plan.volume * (0.15 * normal(&mut rng)).exp()).clamp(1.0, f64::from(u32::MAX)) as u32;
        PackedDay {
            date: plan.date,
            open: narrow(open),
            high: narrow(high),
            low: narrow(low),
            close: narrow(close),
            volume,
        }
    }

    fn archive(&mut self, tape: &Tape) {
        self.later.push(tape.full_daily_bar());
        self.kept
            .push_back((tape.date(), tape.packed_minute_bars().to_vec()));
        while self.kept.len() > MINUTE_DAYS {
            self.kept.pop_front();
        }
    }

    /// The anchored days that are still inside the minute horizon (the kept days push them out).
    fn detail_in_horizon(&self) -> &[DetailDay] {
        let room = MINUTE_DAYS.saturating_sub(self.later.len());
        &self.detail[self.detail.len().saturating_sub(room)..]
    }

    fn drop_finished_steer(&mut self) {
        if self.steer.as_ref().is_some_and(Steer::is_done) {
            self.steer = None;
        }
    }

    pub fn today(&self) -> &Tape {
        &self.today
    }

    fn limits(&self) -> PriceLimits {
        self.today.plan.limits
    }

    /// The last finished day's volume.
    fn prev_volume(&self) -> u64 {
        match (self.later.last(), self.detail.last()) {
            (Some(b), _) => b.volume,
            (None, Some(d)) => self.detail_bar(d).volume,
            (None, None) => 0,
        }
    }

    /// The closes of the last `n` finished days (date, close), oldest first; cheap for the days of the
    /// minute horizon (their closes are in their plans).
    pub fn recent_closes(&self, n: usize) -> Vec<(Date, i64)> {
        let mut out: Vec<(Date, i64)> = self
            .later
            .iter()
            .rev()
            .take(n)
            .map(|b| (b.date, b.close))
            .collect();
        for d in self.detail.iter().rev() {
            if out.len() >= n {
                break;
            }
            out.push((d.plan.date, d.plan.close.unwrap_or(d.plan.limits.base)));
        }
        if out.len() < n {
            let missing = n - out.len();
            let direct = self.direct_days();
            for b in direct.iter().rev().take(missing) {
                out.push((b.date, i64::from(b.close)));
            }
        }
        out.reverse();
        out
    }

    /// Every finished day's bar in `[from, to]`, oldest first.
    fn finished_bars(&self, from: Date, to: Date) -> Vec<DailyBar> {
        let mut out = Vec::new();
        if from < self.horizon.detail_from {
            let direct = self.direct_days();
            let start = direct.partition_point(|b| b.date < from);
            let end = direct.partition_point(|b| b.date <= to);
            out.extend(direct[start..end.max(start)].iter().map(PackedDay::bar));
        }
        for d in &self.detail {
            if (from..=to).contains(&d.plan.date) {
                out.push(self.detail_bar(d));
            }
        }
        let start = self.later.partition_point(|b| b.date < from);
        let end = self.later.partition_point(|b| b.date <= to);
        out.extend_from_slice(&self.later[start..end.max(start)]);
        out
    }

    /// The quote after the first `k` trades of today, in `phase`.
    pub fn quote_at(&self, k: usize, phase: Phase) -> Quote {
        let first = self.today.log.first();
        self.quote_with(first, self.today.log.state(k), phase)
    }

    /// The quote after the trade whose running state is `last` (`None`: before the first trade).
    fn quote_with(
        &self,
        first: Option<super::tape::Trade>,
        last: Option<super::tape::Tick>,
        phase: Phase,
    ) -> Quote {
        let limits = self.limits();
        let base = limits.base;
        let hours = self.today.plan.hours;
        let mut quote = Quote {
            code: self.code,
            date: self.today.date(),
            time: hours.open,
            price: base,
            open: base,
            high: base,
            low: base,
            prev_close: base,
            limits,
            sign: Sign::Flat,
            change: 0,
            volume: 0,
            turnover: 0,
            prev_volume: self.prev_volume(),
            ask1: if step_ticks(base, 1) <= limits.upper {
                step_ticks(base, 1)
            } else {
                0
            },
            bid1: base,
            buy_volume: 0,
            sell_volume: 0,
            buy_count: 0,
            sell_count: 0,
            open_time: hours.open,
            high_time: hours.open,
            low_time: hours.open,
            phase,
        };
        if let (Some(first), Some(t)) = (first, last) {
            let (ask1, bid1) = book::best_after(t.price, t.side, &limits);
            quote.time = time_at(t.sec);
            quote.price = t.price;
            quote.open = first.price;
            quote.high = t.high;
            quote.low = t.low;
            quote.sign = Sign::of(t.price, &limits);
            quote.change = t.price - base;
            quote.volume = t.volume;
            quote.turnover = t.turnover;
            quote.ask1 = ask1;
            quote.bid1 = bid1;
            quote.buy_volume = t.buy_volume;
            quote.sell_volume = t.sell_volume;
            quote.buy_count = u64::from(t.buy_count);
            quote.sell_count = u64::from(t.sell_count);
            quote.open_time = time_at(first.sec);
            quote.high_time = time_at(t.high_sec);
            quote.low_time = time_at(t.low_sec);
        }
        quote
    }

    /// Today's trades `range` (0-based indices) as executions.
    pub fn executions(&self, range: std::ops::Range<usize>) -> Vec<Execution> {
        let close = secs_of(self.today.plan.hours.close);
        let hours = self.today.plan.hours;
        let first = self.today.log.first();
        self.today
            .log
            .states(range)
            .map(|(i, t)| {
                let time = time_at(t.sec);
                let phase = if t.sec == close {
                    Phase::ClosingAuction
                } else {
                    hours.phase_at(time)
                };
                Execution {
                    seq: self.seq_base() + i as u64 + 1,
                    time,
                    price: t.price,
                    volume: t.qty,
                    side: t.side,
                    state: self.quote_with(first, Some(t), phase),
                }
            })
            .collect()
    }

    /// Today's trades are numbered from `seq_base() + 1`: the date (YYYYMMDD) × 10⁷ plus the trade's
    /// number in the day, so numbers grow across days too.
    fn seq_base(&self) -> u64 {
        date_key(self.today.date()) * 10_000_000
    }

    /// How many of today's trades have a number at or below `seq` (all of them for a later `seq`, none
    /// for an earlier day's).
    pub fn count_through(&self, seq: u64) -> usize {
        usize::try_from(seq.saturating_sub(self.seq_base())).unwrap_or(usize::MAX)
    }

    /// The order book after the first `k` trades, in `phase`.
    pub fn order_book(&self, k: usize, phase: Phase) -> OrderBook {
        let quote = self.quote_at(k, phase);
        let per_trade = self.profile.volume / (self.profile.trades_per_min * 380.0).max(1.0);
        let typical = (per_trade * 4.0) as u64;
        let key = [
            self.seed,
            code_key(&self.code),
            date_key(self.today.date()) << 24 | k as u64,
        ];
        let mut book = book::build(quote.time, quote.ask1, quote.bid1, &quote.limits, typical, key);
        let log = &self.today.log;
        book.expected = match phase {
            Phase::OpeningAuction if k == 0 => log.first().map(|t| (t.price, t.qty)),
            Phase::ClosingAuction if k < log.len() => log.last().map(|t| (t.price, t.qty)),
            _ => None,
        };
        book
    }

    /// Daily bars in `[from, to]`, today's (over its first `k` trades) included once it has traded.
    pub fn daily_bars(&self, from: Date, to: Date, k: usize) -> Vec<DailyBar> {
        let mut out = self.finished_bars(from, to);
        let today = self.today.date();
        if from <= today
            && today <= to
            && let Some(bar) = self.today.daily_bar(k)
        {
            out.push(bar);
        }
        out
    }

    /// Minute bars of `date` starting at or before `until` (today: over its first `k` trades).
    pub fn minute_bars(&self, date: Date, until: Time, k: usize) -> Vec<MinuteBar> {
        if date == self.today.date() {
            return self.today.minute_bars(k, until);
        }
        let mut bars = if let Some(d) = self.detail_in_horizon().iter().find(|d| d.plan.date == date) {
            self.summarised(&d.plan)
        } else if let Some((_, kept)) = self.kept.iter().find(|(d, _)| *d == date) {
            kept.iter().map(|b| b.unpack(date)).collect()
        } else {
            return Vec::new();
        };
        let n = bars.partition_point(|b| b.time <= until);
        bars.truncate(n);
        bars
    }

    /// Starts a scenario now (after the first `k` trades of today, at `now`): today's remaining trades are
    /// regenerated under it; it carries into the following days until it is done.
    pub fn set_scenario(&mut self, scenario: &Scenario, k: usize, now: Time) {
        self.scenarios_set += 1;
        let mut steer = Steer::new(scenario);
        if !matches!(scenario, Scenario::Path { .. }) {
            self.feed_history(&mut steer, k);
        }
        let rng = rng_for(
            self.seed,
            &self.code,
            Some(self.today.date()),
            Stream::Steered(self.scenarios_set),
        );
        let k = k.min(self.today.len());
        self.today.regenerate_after(k, now, rng, Some(&mut steer));
        self.steer = Some(steer);
        self.drop_finished_steer();
    }

    /// Shows the steering controller the bars it starts from.
    fn feed_history(&self, steer: &mut Steer, k: usize) {
        let close_sec = secs_of(jiff::civil::time(15, 30, 0, 0));
        match steer.period() {
            ScenarioPeriod::Day => {
                let history = self.finished_bars(self.horizon.history_start, self.today.date());
                let from = history.len().saturating_sub(300);
                for bar in &history[from..] {
                    steer.observe(bar.date, close_sec, bar.close);
                }
            }
            ScenarioPeriod::Minutes(_) => {
                for d in self.detail_in_horizon() {
                    for bar in &self.summarised(&d.plan) {
                        steer.observe(d.plan.date, secs_of(bar.time), bar.close);
                    }
                }
                for (date, bars) in &self.kept {
                    for bar in bars {
                        steer.observe(*date, u32::from(bar.minute) * 60, i64::from(bar.close));
                    }
                }
            }
        }
        for t in self.today.log.trades(0..k) {
            steer.observe(self.today.date(), t.sec, t.price);
        }
    }
}

/// The base price (previous close) from which a day closing at `close` moved by `ret` (log): the
/// close rounded back by the move, then moved until the close lies inside the base's daily limits (a
/// move beyond ±30% becomes a limit day). On the tick grid, at least 1.
fn base_before(close: i64, ret: f64) -> i64 {
    let close = close.max(1);
    let mut base = round_to_tick(((close as f64) * (-ret).exp()).round().clamp(1.0, 1e12) as i64).max(1);
    let limits = price_limits(base);
    if close > limits.upper {
        base = ceil_to_tick((close as f64 / 1.3).ceil() as i64).max(1);
    } else if close < limits.lower {
        base = floor_to_tick((close as f64 / 0.7).floor() as i64).max(1);
    }
    for _ in 0..64 {
        let limits = price_limits(base);
        if close > limits.upper {
            base = step_ticks(base, 1);
        } else if close < limits.lower {
            base = step_ticks(base, -1).max(1);
        } else {
            return base;
        }
    }
    close
}

fn placeholder_tape(date: Date, base: i64) -> Tape {
    let plan = DayPlan {
        date,
        hours: session_hours(date),
        limits: price_limits(base),
        ret: 0.0,
        gap: 0.0,
        vol: 0.0,
        volume: 0.0,
        trades_per_min: 0.0,
        close: None,
        halted: false,
    };
    Tape::empty(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stocks;
    use jiff::civil::date;
    use market::krx::is_on_tick;

    fn timeline() -> Timeline {
        let (infos, levels) = stocks::build();
        let day = date(2026, 11, 20);
        let horizon = Horizon::before(day);
        let factors = Factors::new(9, infos.iter().map(|s| s.sector), horizon.history_start);
        Timeline::new(9, &infos[0], levels[0], Arc::new(factors), &horizon, day)
    }

    #[test]
    fn auctions_show_the_expected_uncrossing() {
        let mut tl = timeline();
        tl.written_until(Time::MAX);
        let log = &tl.today().log;
        let (first, last) = (log.first().unwrap(), log.last().unwrap());
        let book = tl.order_book(0, Phase::OpeningAuction);
        assert_eq!(book.expected, Some((first.price, first.qty)));
        let before_close = tl.today().visible(jiff::civil::time(15, 25, 0, 0));
        let book = tl.order_book(before_close, Phase::ClosingAuction);
        assert_eq!(book.expected, Some((last.price, last.qty)));
        assert_eq!(tl.order_book(before_close, Phase::Continuous).expected, None);
        let quote = tl.quote_at(0, Phase::OpeningAuction);
        assert_eq!((quote.price, quote.volume), (quote.prev_close, 0));
    }

    #[test]
    fn the_history_ends_at_the_level_and_today_starts_from_it() {
        let (infos, levels) = stocks::build();
        let tl = timeline();
        let history = tl.finished_bars(date(2000, 1, 1), date(2100, 1, 1));
        assert_eq!(history.len(), HISTORY_DAYS);
        let last = history.last().unwrap();
        assert_eq!(last.close, levels[0]);
        assert_eq!(tl.today().plan.limits.base, levels[0]);
        assert_eq!(tl.quote_at(0, Phase::OpeningAuction).prev_close, levels[0]);
        assert_eq!(infos[0].code.as_str(), "005930");
        for w in history.windows(2) {
            let limits = price_limits(w[0].close);
            for p in [w[1].open, w[1].high, w[1].low, w[1].close] {
                assert!(is_on_tick(p) && limits.contains(p), "{:?}", w[1]);
            }
        }
    }

    #[test]
    fn a_base_is_found_for_any_move() {
        for close in [1, 7, 1_995, 2_000, 49_950, 98_000, 1_020_000] {
            for ret in [-0.4, -0.3, -0.01, 0.0, 0.01, 0.26, 0.3, 0.4] {
                let base = base_before(close, ret);
                assert!(is_on_tick(base) && base >= 1);
                assert!(price_limits(base).contains(close), "{close} {ret} {base}");
            }
        }
    }

    #[test]
    fn the_horizon_keeps_22_days_of_minutes_within_650_days_of_history() {
        let day = date(2026, 11, 20);
        let h = Horizon::before(day);
        let calendar = Calendar::krx();
        assert_eq!(
            calendar.trading_days(h.history_start, day).count(),
            HISTORY_DAYS + 1
        );
        assert_eq!(calendar.trading_days(h.detail_from, day).count(), MINUTE_DAYS + 1);
    }
}
