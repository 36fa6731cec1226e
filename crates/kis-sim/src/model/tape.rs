//! A trading day as a tape of trades, and the minute and daily bars aggregated from it.
//!
//! A day is generated in one go from its plan (base price, drift, volatility, expected volume) and its
//! own random stream: an opening-auction print at the open, continuous trading minute by minute
//! (a U-shaped number of trades per minute, trades at the bid or ask around a hidden "fair" price), and a
//! closing-auction print at the close. The fair price opens at the planned gap and follows a Brownian
//! bridge to the planned close, so the day's return is the one its plan (the factor model) chose; the
//! bridge's variance per minute is U-shaped like the trading (the first minutes ~3× midday's
//! volatility, the last ones ~1.5×), as real intraday volatility is. A scenario's push moves the
//! bridge's end along with the price, so steering adds to the day's move exactly as a drift would.
//! Every trade price is on the tick grid and inside the day's limits, and each trade carries the day's
//! running aggregates after it, so quotes, minute bars, the daily bar and executions all derive from the
//! same trades and agree by construction.

use jiff::civil::{Date, Time};
use market::krx::{PriceLimits, SessionHours, floor_to_tick, round_to_tick, step_ticks};
use rand::Rng;

use super::bars::{DailyBar, MinuteBar};
use super::quote::Side;
use super::rng::{normal, uniform};
use super::steer::Steer;

/// Seconds since midnight.
pub(crate) fn secs_of(t: Time) -> u32 {
    t.hour() as u32 * 3600 + t.minute() as u32 * 60 + t.second() as u32
}

/// The time `secs` seconds after midnight (saturating at 23:59:59).
pub(crate) fn time_at(secs: u32) -> Time {
    let secs = secs.min(86_399);
    Time::new((secs / 3600) as i8, (secs / 60 % 60) as i8, (secs % 60) as i8, 0).unwrap_or(Time::MIN)
}

/// Everything a day's generation needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DayPlan {
    pub date: Date,
    pub hours: SessionHours,
    pub limits: PriceLimits,
    /// Log return from the base price to the planned close.
    pub ret: f64,
    /// Log return from the base price to the opening print.
    pub gap: f64,
    /// The day's volatility (the scale of the intraday path).
    pub vol: f64,
    /// Expected shares traded.
    pub volume: f64,
    pub trades_per_min: f64,
}

/// One trade and the day's running state right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tick {
    /// Seconds since midnight.
    pub sec: u32,
    pub price: i64,
    pub qty: u64,
    pub side: Side,
    pub high: i64,
    pub low: i64,
    pub volume: u64,
    pub turnover: u64,
    pub buy_volume: u64,
    pub sell_volume: u64,
    pub buy_count: u32,
    pub sell_count: u32,
    pub high_sec: u32,
    pub low_sec: u32,
}

impl Tick {
    fn after(prev: Option<&Tick>, sec: u32, price: i64, qty: u64, side: Side) -> Tick {
        let (buy, sell) = match side {
            Side::Buy => (qty, 0),
            Side::Sell => (0, qty),
        };
        let value = price as u64 * qty;
        match prev {
            None => Tick {
                sec,
                price,
                qty,
                side,
                high: price,
                low: price,
                volume: qty,
                turnover: value,
                buy_volume: buy,
                sell_volume: sell,
                buy_count: u32::from(side == Side::Buy),
                sell_count: u32::from(side == Side::Sell),
                high_sec: sec,
                low_sec: sec,
            },
            Some(p) => Tick {
                sec,
                price,
                qty,
                side,
                high: p.high.max(price),
                low: p.low.min(price),
                volume: p.volume + qty,
                turnover: p.turnover + value,
                buy_volume: p.buy_volume + buy,
                sell_volume: p.sell_volume + sell,
                buy_count: p.buy_count + u32::from(side == Side::Buy),
                sell_count: p.sell_count + u32::from(side == Side::Sell),
                high_sec: if price > p.high { sec } else { p.high_sec },
                low_sec: if price < p.low { sec } else { p.low_sec },
            },
        }
    }
}

/// A whole trading day of trades, indexed into minute bars.
#[derive(Debug, Clone)]
pub(crate) struct Tape {
    pub plan: DayPlan,
    pub ticks: Vec<Tick>,
    /// Minute bars of the whole day.
    bars: Vec<MinuteBar>,
    /// For each bar, the index just past its last tick.
    bar_ends: Vec<u32>,
}

impl Tape {
    /// A day with no trades (yet).
    pub fn empty(plan: DayPlan) -> Tape {
        Tape {
            plan,
            ticks: Vec::new(),
            bars: Vec::new(),
            bar_ends: Vec::new(),
        }
    }

    /// Generates the whole day.
    pub fn generate(plan: DayPlan, rng: &mut impl Rng, steer: Option<&mut Steer>) -> Tape {
        let mut tape = Tape::empty(plan);
        write_session(&tape.plan, &mut tape.ticks, None, rng, steer);
        tape.index();
        tape
    }

    /// Keeps the first `keep` trades and regenerates everything after `after` (a scenario changed the
    /// future).
    pub fn regenerate_after(
        &mut self,
        keep: usize,
        after: Time,
        rng: &mut impl Rng,
        steer: Option<&mut Steer>,
    ) {
        self.ticks.truncate(keep);
        write_session(&self.plan, &mut self.ticks, Some(secs_of(after)), rng, steer);
        self.index();
    }

    fn index(&mut self) {
        self.bars.clear();
        self.bar_ends.clear();
        for (i, t) in self.ticks.iter().enumerate() {
            let minute = t.sec / 60 * 60;
            match self.bars.last_mut() {
                Some(bar) if secs_of(bar.time) == minute => {
                    bar.high = bar.high.max(t.price);
                    bar.low = bar.low.min(t.price);
                    bar.close = t.price;
                    bar.volume += t.qty;
                    bar.turnover = t.turnover;
                    if let Some(end) = self.bar_ends.last_mut() {
                        *end = i as u32 + 1;
                    }
                }
                _ => {
                    self.bars.push(MinuteBar {
                        date: self.plan.date,
                        time: time_at(minute),
                        open: t.price,
                        high: t.price,
                        low: t.price,
                        close: t.price,
                        volume: t.qty,
                        turnover: t.turnover,
                    });
                    self.bar_ends.push(i as u32 + 1);
                }
            }
        }
    }

    pub fn date(&self) -> Date {
        self.plan.date
    }

    /// How many trades happened at or before `until`.
    pub fn visible(&self, until: Time) -> usize {
        let until = if until == Time::MAX {
            u32::MAX
        } else {
            secs_of(until)
        };
        self.ticks.partition_point(|t| t.sec <= until)
    }

    /// The minute bars of the first `k` trades whose start is at or before `until`.
    pub fn minute_bars(&self, k: usize, until: Time) -> Vec<MinuteBar> {
        let k = k.min(self.ticks.len());
        let full = self.bar_ends.partition_point(|&end| end as usize <= k);
        let mut out: Vec<MinuteBar> = self.bars[..full]
            .iter()
            .take_while(|b| b.time <= until)
            .copied()
            .collect();
        let start = if full == 0 {
            0
        } else {
            self.bar_ends[full - 1] as usize
        };
        if start < k && out.len() == full {
            let ticks = &self.ticks[start..k];
            let first = ticks[0];
            let time = time_at(first.sec / 60 * 60);
            if time <= until {
                out.push(MinuteBar {
                    date: self.plan.date,
                    time,
                    open: first.price,
                    high: ticks.iter().map(|t| t.price).max().unwrap_or(first.price),
                    low: ticks.iter().map(|t| t.price).min().unwrap_or(first.price),
                    close: ticks[ticks.len() - 1].price,
                    volume: ticks.iter().map(|t| t.qty).sum(),
                    turnover: ticks[ticks.len() - 1].turnover,
                });
            }
        }
        out
    }

    /// All minute bars of the day.
    pub fn all_minute_bars(&self) -> &[MinuteBar] {
        &self.bars
    }

    /// The day's bar over the first `k` trades (`None` before the first trade).
    pub fn daily_bar(&self, k: usize) -> Option<DailyBar> {
        let k = k.min(self.ticks.len());
        let last = self.ticks[..k].last()?;
        Some(DailyBar {
            date: self.plan.date,
            open: self.ticks[0].price,
            high: last.high,
            low: last.low,
            close: last.price,
            volume: last.volume,
            turnover: last.turnover,
        })
    }

    /// The whole day's bar; a day without trades is flat at the base price.
    pub fn full_daily_bar(&self) -> DailyBar {
        self.daily_bar(self.ticks.len()).unwrap_or(DailyBar {
            date: self.plan.date,
            open: self.plan.limits.base,
            high: self.plan.limits.base,
            low: self.plan.limits.base,
            close: self.plan.limits.base,
            volume: 0,
            turnover: 0,
        })
    }
}

/// Appends the session's trades after `after` (seconds since midnight; `None` = the whole day, opening
/// print included) to `ticks`.
fn write_session(
    plan: &DayPlan,
    ticks: &mut Vec<Tick>,
    after: Option<u32>,
    rng: &mut impl Rng,
    steer: Option<&mut Steer>,
) {
    let minutes = continuous_minutes(plan);
    let expected_trades = plan.trades_per_min * f64::from(minutes);
    let mut writer = Writer {
        plan,
        per_trade: (plan.volume * 0.92 / expected_trades).max(1.0),
        fair: 0.0,
        target: (plan.limits.base.max(1) as f64).ln() + plan.ret,
        cursor: after.unwrap_or(0),
        ticks,
        rng,
        steer,
    };
    writer.fair = match writer.ticks.last() {
        Some(t) => t.price as f64,
        None => writer.clamp(plan.limits.base as f64 * plan.gap.exp()),
    };
    let open = secs_of(plan.hours.open);
    if after.is_none_or(|a| a < open) && writer.ticks.is_empty() {
        writer.opening_print();
    }
    writer.path();
    writer.continuous();
    if after.is_none_or(|a| a < secs_of(plan.hours.close)) {
        writer.observe();
        writer.closing_print();
    }
    writer.observe();
}

/// Minutes of continuous trading (from the open to the closing auction).
fn continuous_minutes(plan: &DayPlan) -> u32 {
    let (open, end) = (secs_of(plan.hours.open), secs_of(plan.hours.closing_auction));
    (end.saturating_sub(open) / 60).max(1)
}

/// The state of a day's generation: the hidden fair price, how far the tape has been written, and the
/// active scenario.
struct Writer<'a, R: Rng> {
    plan: &'a DayPlan,
    ticks: &'a mut Vec<Tick>,
    rng: &'a mut R,
    steer: Option<&'a mut Steer>,
    /// The price trades gravitate to (not on the grid).
    fair: f64,
    /// The log price the fair price is bridged to at the closing auction (the plan's close, moved by
    /// scenario pushes and paths).
    target: f64,
    /// Seconds since midnight up to which the tape is written.
    cursor: u32,
    /// Typical shares per continuous trade.
    per_trade: f64,
}

impl<R: Rng> Writer<'_, R> {
    fn clamp(&self, x: f64) -> f64 {
        x.clamp(self.plan.limits.lower as f64, self.plan.limits.upper as f64)
    }

    /// One random step of the fair price, kept inside the limits.
    fn walk(&mut self, drift: f64, sigma: f64) {
        let z = normal(self.rng);
        self.fair = self.clamp(self.fair * (drift + sigma * z).exp());
    }

    /// A trade's quantity: log-normal around the typical one.
    fn quantity(&mut self) -> u64 {
        (self.per_trade * (0.9 * normal(self.rng) - 0.4).exp()).max(1.0) as u64
    }

    fn push(&mut self, sec: u32, price: i64, qty: u64, side: Side) {
        let tick = Tick::after(self.ticks.last(), sec, price, qty, side);
        self.ticks.push(tick);
    }

    /// Shows the scenario controller the last trade.
    fn observe(&mut self) {
        if let (Some(s), Some(last)) = (self.steer.as_deref_mut(), self.ticks.last()) {
            s.observe(self.plan.date, last.sec, last.price);
        }
    }

    /// The opening auction's uncrossing at the open: 1–3% of the day's volume.
    fn opening_print(&mut self) {
        let limits = self.plan.limits;
        let price = limits.clamp(round_to_tick(self.fair.round() as i64));
        let qty = (self.plan.volume * uniform(self.rng, 0.01, 0.03)).max(1.0) as u64;
        let side = if price >= limits.base {
            Side::Buy
        } else {
            Side::Sell
        };
        let open = secs_of(self.plan.hours.open);
        self.push(open, price, qty, side);
        self.cursor = open;
    }

    /// A path scenario's trades, two to four seconds apart; what does not fit before the closing
    /// auction waits for the next day.
    fn path(&mut self) {
        let limits = self.plan.limits;
        let continuous_end = secs_of(self.plan.hours.closing_auction);
        let mut sec = self.cursor.max(secs_of(self.plan.hours.open));
        if sec + 4 >= continuous_end {
            return;
        }
        let Some(prices) = self.steer.as_deref_mut().and_then(Steer::take_path) else {
            return;
        };
        for (i, &target) in prices.iter().enumerate() {
            let next = sec + self.rng.random_range(2..=4);
            if next >= continuous_end {
                if let Some(s) = self.steer.as_deref_mut() {
                    s.put_back_path(prices[i..].to_vec());
                }
                break;
            }
            sec = next;
            // Clamp before rounding: a wild price from outside must not overflow the grid arithmetic.
            let price = limits.clamp(round_to_tick(limits.clamp(target)));
            let side = match self.ticks.last() {
                Some(t) if price < t.price => Side::Sell,
                Some(t) if price == t.price && self.rng.random_bool(0.5) => Side::Sell,
                _ => Side::Buy,
            };
            let qty = self.quantity();
            self.push(sec, price, qty, side);
            // The bridge's end moves with the path: the stock moves on from the path's last price.
            self.target += (price as f64 / self.fair.max(1.0)).ln();
            self.fair = price as f64;
        }
        self.cursor = sec;
    }

    /// Continuous trading, minute by minute, after the cursor.
    fn continuous(&mut self) {
        let plan = self.plan;
        let open = secs_of(plan.hours.open);
        let minutes = continuous_minutes(plan);
        // Variance per minute, U-shaped, summing to the continuous session's share of the day's (0.8).
        let total: f64 = (0..minutes).map(|m| volatility_shape(m, minutes).powi(2)).sum();
        let scale = 0.8 * plan.vol * plan.vol / total;
        let mut remaining = 0.8 * plan.vol * plan.vol;
        let mut seconds: Vec<u32> = Vec::with_capacity(64);
        for m in 0..minutes {
            let start = open + m * 60;
            let variance = scale * volatility_shape(m, minutes).powi(2);
            let left = remaining.max(variance);
            remaining -= variance;
            if start + 59 <= self.cursor {
                continue;
            }
            self.observe();
            let push_drift = self.steer.as_deref_mut().map_or(0.0, Steer::push);
            self.target += push_drift;
            // A Brownian bridge step towards the target: its share of the remaining gap, and the
            // bridge's noise (none in the last minute, which lands on the target).
            let gap = self.target - self.fair.max(1.0).ln();
            let drift = gap * variance / left + push_drift;
            let sigma_min = (variance * (1.0 - variance / left)).max(0.0).sqrt();

            let lambda = plan.trades_per_min * intensity(m, minutes);
            let n = (lambda * uniform(self.rng, 0.3, 1.7)).round() as u32;
            let first = if m == 0 { 1 } else { 0 };
            seconds.clear();
            for _ in 0..n {
                seconds.push(start + self.rng.random_range(first..60));
            }
            seconds.sort_unstable();
            let cursor = self.cursor;
            seconds.retain(|&s| s > cursor);
            if seconds.is_empty() {
                self.walk(drift, sigma_min);
                continue;
            }
            let k = seconds.len() as f64;
            let (step_drift, step_sigma) = (drift / k, sigma_min / k.sqrt());
            for &sec in &seconds {
                self.walk(step_drift, step_sigma);
                self.trade_near_fair(sec);
            }
        }
    }

    /// A continuous trade at the bid or the ask around the fair price (more often on the nearer side).
    fn trade_near_fair(&mut self, sec: u32) {
        let limits = self.plan.limits;
        let bid = limits.clamp(floor_to_tick(self.fair.floor() as i64));
        let ask = step_ticks(bid, 1);
        let p_buy = ((self.fair - bid as f64) / (ask - bid) as f64).clamp(0.05, 0.95);
        let mut side = if self.rng.random_bool(p_buy) {
            Side::Buy
        } else {
            Side::Sell
        };
        let price = limits.clamp(if side == Side::Buy { ask } else { bid });
        // At a limit only one side of the book exists.
        if price == limits.upper {
            side = Side::Buy;
        } else if price == limits.lower {
            side = Side::Sell;
        }
        let qty = self.quantity();
        self.push(sec, price, qty, side);
    }

    /// The closing auction's uncrossing at the close: 2–5% of the day's volume.
    fn closing_print(&mut self) {
        let price = self.plan.limits.clamp(round_to_tick(self.fair.round() as i64));
        let qty = (self.plan.volume * uniform(self.rng, 0.02, 0.05)).max(1.0) as u64;
        let side = match self.ticks.last() {
            Some(t) if price < t.price => Side::Sell,
            _ => Side::Buy,
        };
        self.push(secs_of(self.plan.hours.close), price, qty, side);
    }
}

/// Intraday volatility relative to midday: ~3× in the first minutes, ~1.5× in the last (Andersen &
/// Bollerslev 1997's U-shape).
fn volatility_shape(m: u32, minutes: u32) -> f64 {
    let m = f64::from(m);
    let to_close = f64::from(minutes) - m;
    1.0 + 2.0 * (-m / 20.0).exp() + 0.5 * (-to_close / 20.0).exp()
}

/// More trading near the open and the close.
fn intensity(m: u32, minutes: u32) -> f64 {
    let m = f64::from(m);
    let to_close = f64::from(minutes) - m;
    0.7 + 1.5 * (-m / 20.0).exp() + 0.8 * (-to_close / 25.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use market::krx::{is_on_tick, price_limits};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn plan(base: i64) -> DayPlan {
        DayPlan {
            date: date(2026, 11, 20),
            hours: SessionHours::REGULAR,
            limits: price_limits(base),
            ret: 0.01,
            gap: 0.002,
            vol: 0.03,
            volume: 1_000_000.0,
            trades_per_min: 8.0,
        }
    }

    #[test]
    fn a_day_opens_at_the_open_closes_at_the_close_and_stays_on_the_grid() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let tape = Tape::generate(plan(57_300), &mut rng, None);
        let first = tape.ticks[0];
        let last = tape.ticks[tape.ticks.len() - 1];
        assert_eq!(first.sec, secs_of(time(9, 0, 0, 0)));
        assert_eq!(last.sec, secs_of(time(15, 30, 0, 0)));
        assert!(tape.ticks.len() > 1000);
        for w in tape.ticks.windows(2) {
            assert!(w[0].sec <= w[1].sec);
            let continuous = secs_of(time(9, 0, 0, 0))..secs_of(time(15, 20, 0, 0));
            assert!(w[1].sec == last.sec || continuous.contains(&w[1].sec));
        }
        for t in &tape.ticks {
            assert!(is_on_tick(t.price) && tape.plan.limits.contains(t.price));
        }
        let day = tape.full_daily_bar();
        assert_eq!(Some(day), DailyBar::from_minutes(tape.all_minute_bars()));
        assert_eq!(day.volume, tape.ticks.iter().map(|t| t.qty).sum::<u64>());
        let turnover: u64 = tape.ticks.iter().map(|t| t.price as u64 * t.qty).sum();
        assert_eq!(day.turnover, turnover);
    }

    #[test]
    fn partial_minute_bars_aggregate_the_visible_trades() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let tape = Tape::generate(plan(10_000), &mut rng, None);
        let until = time(10, 15, 30, 0);
        let k = tape.visible(until);
        let bars = tape.minute_bars(k, until);
        assert_eq!(bars.last().map(|b| b.time), Some(time(10, 15, 0, 0)));
        let day = DailyBar::from_minutes(&bars);
        assert_eq!(day, tape.daily_bar(k));
        assert_eq!(
            tape.minute_bars(k, time(9, 30, 0, 0)).last().map(|b| b.time),
            Some(time(9, 30, 0, 0))
        );
    }

    #[test]
    fn regenerating_keeps_the_past() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut tape = Tape::generate(plan(10_000), &mut rng, None);
        let until = time(11, 0, 0, 0);
        let k = tape.visible(until);
        let before = tape.ticks[..k].to_vec();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        tape.regenerate_after(k, until, &mut rng, None);
        assert_eq!(&tape.ticks[..k], &before[..]);
        assert!(tape.ticks[k].sec > secs_of(until));
        assert_eq!(
            tape.ticks.last().map(|t| t.sec),
            Some(secs_of(time(15, 30, 0, 0)))
        );
        assert_eq!(
            tape.ticks
                .iter()
                .filter(|t| t.sec == secs_of(time(9, 0, 0, 0)))
                .count(),
            1
        );
    }
}
