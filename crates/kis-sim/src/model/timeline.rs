//! One stock's life: daily history from about 650 trading days back, the minute bars of the most recent
//! days, today's tape, and the active scenario.
//!
//! Days are generated in order, each from its own random streams (see `rng`), the previous close
//! being the next day's base price. Days older than the minute horizon get their OHLCV drawn directly
//! (on the grid, inside the limits, `low <= open, close <= high`); the last [`MINUTE_DAYS`] days before the
//! first simulated session, and every day after, are generated trade by trade, and their minute bars and
//! daily bar are aggregates of those trades.
//!
//! Memory per generated stock: ~650 daily bars (~40 KB), minute bars of at most [`MINUTE_DAYS`] finished
//! days (≤ 22 × 390 × 64 B ≈ 550 KB), today's trades (≤ ~6,000 × 88 B ≈ 530 KB). Stocks nobody asks about
//! are never generated.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::civil::{Date, Time};
use market::code::StockCode;
use market::krx::{
    Calendar, Phase, PriceLimits, Sign, ceil_to_tick, floor_to_tick, price_limits, round_to_tick, step_ticks,
};

use super::bars::{DailyBar, MinuteBar};
use super::book::{self, OrderBook};
use super::clock::session_hours;
use super::factors::Factors;
use super::profile::{Profile, StockState};
use super::quote::{Execution, Quote};
use super::rng::{Stream, code_key, date_key, normal, rng_for};
use super::scenario::{Scenario, ScenarioPeriod};
use super::steer::Steer;
use super::stocks::StockInfo;
use super::tape::{DayPlan, Tape, Tick, secs_of, time_at};

/// Trading days of daily history before the first simulated session.
pub(crate) const HISTORY_DAYS: usize = 650;
/// Finished trading days whose minute bars are kept (at least 20 are promised).
pub(crate) const MINUTE_DAYS: usize = 22;

/// Where history starts and from which day on days are generated trade by trade; fixed when the market
/// is created, the same for every stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Horizon {
    pub history_start: Date,
    pub detail_from: Date,
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
        }
    }
}

struct DayMinutes {
    date: Date,
    bars: Vec<MinuteBar>,
}

pub(crate) struct Timeline {
    seed: u64,
    code: StockCode,
    profile: Profile,
    state: StockState,
    /// The market's factor series, shared by every stock.
    factors: Arc<Factors>,
    /// Days generated so far (the index of the next day in the factor series).
    day_number: usize,
    start_price: i64,
    history: Vec<DailyBar>,
    minutes: VecDeque<DayMinutes>,
    today: Tape,
    steer: Option<Steer>,
    scenarios_set: u64,
}

impl Timeline {
    /// Generates the stock's history up to and including the session of `trading_date`.
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
        let start = profile.start_price(&mut rng);
        let start_price = round_to_tick(start.round().max(1.0) as i64);
        let state = profile.start_state();
        let calendar = Calendar::krx();
        let mut timeline = Timeline {
            seed,
            code: info.code,
            profile,
            state,
            factors,
            day_number: 0,
            start_price,
            history: Vec::with_capacity(HISTORY_DAYS + 64),
            minutes: VecDeque::with_capacity(MINUTE_DAYS + 1),
            // Replaced below; a placeholder so generation can use the struct's methods.
            today: placeholder_tape(horizon.history_start, start_price),
            steer: None,
            scenarios_set: 0,
        };
        let mut date = horizon.history_start;
        while date < trading_date {
            if date < horizon.detail_from {
                let bar = timeline.direct_day(date);
                timeline.history.push(bar);
            } else {
                let tape = timeline.traded_day(date);
                timeline.archive(&tape);
            }
            date = calendar.next_trading_day(date);
        }
        timeline.today = timeline.traded_day(trading_date);
        timeline
    }

    /// Moves "today" forward to `trading_date`, archiving the days in between.
    pub fn catch_up(&mut self, trading_date: Date) {
        let calendar = Calendar::krx();
        while self.today.date() < trading_date {
            let next = calendar.next_trading_day(self.today.date());
            let finished = std::mem::replace(&mut self.today, placeholder_tape(next, 1));
            self.archive(&finished);
            self.today = self.traded_day(next);
        }
    }

    fn base_price(&self) -> i64 {
        self.history.last().map_or(self.start_price, |b| b.close)
    }

    /// Plans the day `date` (the next one): the factors' move, the stock's own shock and volume.
    fn plan(&mut self, date: Date) -> DayPlan {
        let base = self.base_price();
        let mut rng = rng_for(self.seed, &self.code, Some(date), Stream::Daily);
        let factors = self
            .factors
            .day(self.day_number, self.profile.kosdaq, self.profile.industry);
        self.day_number += 1;
        let day = self.profile.day(&mut self.state, factors, base as f64, &mut rng);
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
        }
    }

    /// A day generated trade by trade (the active scenario steers it).
    fn traded_day(&mut self, date: Date) -> Tape {
        let plan = self.plan(date);
        let mut rng = rng_for(self.seed, &self.code, Some(date), Stream::Day);
        let tape = Tape::generate(plan, &mut rng, self.steer.as_mut());
        self.drop_finished_steer();
        tape
    }

    /// A day of the older history: OHLCV drawn directly.
    fn direct_day(&mut self, date: Date) -> DailyBar {
        let plan = self.plan(date);
        let mut rng = rng_for(self.seed, &self.code, Some(date), Stream::Day);
        let limits = plan.limits;
        let base = limits.base as f64;
        let (ret, gap) = (plan.ret, plan.gap);
        let snap = |x: f64| limits.clamp(round_to_tick(x.round().max(1.0) as i64));
        let open = snap(base * gap.exp());
        let close = snap(base * ret.exp());
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
        let volume = (plan.volume * (0.15 * normal(&mut rng)).exp()).max(1.0) as u64;
        let typical = (open + high + low + close) / 4;
        DailyBar {
            date,
            open,
            high,
            low,
            close,
            volume,
            turnover: volume * typical as u64,
        }
    }

    fn archive(&mut self, tape: &Tape) {
        self.history.push(tape.full_daily_bar());
        self.minutes.push_back(DayMinutes {
            date: tape.date(),
            bars: tape.all_minute_bars().to_vec(),
        });
        while self.minutes.len() > MINUTE_DAYS {
            self.minutes.pop_front();
        }
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

    fn prev_volume(&self) -> u64 {
        self.history.last().map_or(0, |b| b.volume)
    }

    /// The quote after the first `k` trades of today, in `phase`.
    pub fn quote_at(&self, k: usize, phase: Phase) -> Quote {
        let limits = self.limits();
        let base = limits.base;
        let hours = self.today.plan.hours;
        let ticks = &self.today.ticks[..k.min(self.today.ticks.len())];
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
        if let (Some(first), Some(t)) = (ticks.first(), ticks.last()) {
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
        range
            .filter_map(|i| {
                let t: &Tick = self.today.ticks.get(i)?;
                let time = time_at(t.sec);
                let phase = if t.sec == close {
                    Phase::ClosingAuction
                } else {
                    hours.phase_at(time)
                };
                Some(Execution {
                    seq: self.seq_base() + i as u64 + 1,
                    time,
                    price: t.price,
                    volume: t.qty,
                    side: t.side,
                    state: self.quote_at(i + 1, phase),
                })
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
        let typical = (self.profile.volume / (self.profile.trades_per_min * 380.0) * 4.0) as u64;
        let key = [
            self.seed,
            code_key(&self.code),
            date_key(self.today.date()) << 24 | k as u64,
        ];
        let mut book = book::build(quote.time, quote.ask1, quote.bid1, &quote.limits, typical, key);
        let ticks = &self.today.ticks;
        book.expected = match phase {
            Phase::OpeningAuction if k == 0 => ticks.first().map(|t| (t.price, t.qty)),
            Phase::ClosingAuction if k < ticks.len() => ticks.last().map(|t| (t.price, t.qty)),
            _ => None,
        };
        book
    }

    /// Daily bars in `[from, to]`, today's (over its first `k` trades) included once it has traded.
    pub fn daily_bars(&self, from: Date, to: Date, k: usize) -> Vec<DailyBar> {
        let start = self.history.partition_point(|b| b.date < from);
        let end = self.history.partition_point(|b| b.date <= to);
        let mut out = self.history[start..end.max(start)].to_vec();
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
        let Ok(i) = self.minutes.binary_search_by(|d| d.date.cmp(&date)) else {
            return Vec::new();
        };
        let bars = &self.minutes[i].bars;
        let n = bars.partition_point(|b| b.time <= until);
        bars[..n].to_vec()
    }

    /// Starts a scenario now (after the first `k` trades of today, at `now`): today's remaining trades are
    /// regenerated under it; it carries into the following days until it is done.
    pub fn set_scenario(&mut self, scenario: &Scenario, k: usize, now: Time) {
        self.scenarios_set += 1;
        let mut steer = Steer::new(scenario);
        if !matches!(scenario, Scenario::Path { .. }) {
            self.feed_history(&mut steer, k);
        }
        let mut rng = rng_for(
            self.seed,
            &self.code,
            Some(self.today.date()),
            Stream::Steered(self.scenarios_set),
        );
        let k = k.min(self.today.ticks.len());
        self.today.regenerate_after(k, now, &mut rng, Some(&mut steer));
        self.steer = Some(steer);
        self.drop_finished_steer();
    }

    /// Shows the steering controller the bars it starts from.
    fn feed_history(&self, steer: &mut Steer, k: usize) {
        let close_sec = secs_of(jiff::civil::time(15, 30, 0, 0));
        match steer.period() {
            ScenarioPeriod::Day => {
                let from = self.history.len().saturating_sub(300);
                for bar in &self.history[from..] {
                    steer.observe(bar.date, close_sec, bar.close);
                }
            }
            ScenarioPeriod::Minutes(_) => {
                for day in &self.minutes {
                    for bar in &day.bars {
                        steer.observe(day.date, secs_of(bar.time), bar.close);
                    }
                }
            }
        }
        for t in &self.today.ticks[..k.min(self.today.ticks.len())] {
            steer.observe(self.today.date(), t.sec, t.price);
        }
    }
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
    };
    Tape::empty(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stocks;
    use jiff::civil::date;

    fn timeline() -> Timeline {
        let (infos, levels) = stocks::build();
        let day = date(2026, 11, 20);
        let horizon = Horizon::before(day);
        let factors = Factors::new(9, infos.iter().map(|s| s.sector), horizon.history_start);
        Timeline::new(9, &infos[0], levels[0], Arc::new(factors), &horizon, day)
    }

    #[test]
    fn auctions_show_the_expected_uncrossing() {
        let tl = timeline();
        let ticks = &tl.today().ticks;
        let (first, last) = (ticks[0], ticks[ticks.len() - 1]);
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
