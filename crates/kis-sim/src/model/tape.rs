//! A trading day as a tape of trades, and the minute and daily bars aggregated from it.
//!
//! A day is generated in one go from its plan (base price, drift, volatility, expected volume, trade
//! intensity) and its own random stream: an opening-auction print at the open, continuous trading
//! minute by minute (a Poisson number of trades per minute around a U-shaped intensity, trades at the
//! bid or ask around a hidden "fair" price), and a closing-auction print at the close. The fair price
//! opens at the planned gap and follows a Brownian bridge to the planned close, so the day's return is
//! the one its plan (the factor model) chose; the bridge's variance per minute is U-shaped like the
//! trading (the first minutes ~3× midday's volatility, the last ones ~1.5×), as real intraday volatility
//! is. A scenario's push moves the bridge's end along with the price, so steering adds to the day's move
//! exactly as a drift would. Every trade price is on the tick grid and inside the day's limits, so
//! quotes, minute bars, the daily bar and executions all derive from the same trades and agree by
//! construction.
//!
//! Two ways to write a day, one generator:
//! * [`Tape::generate`]: every trade kept ([`TradeLog`], 12 bytes a trade plus the running aggregates
//!   every [`CHECKPOINT`] trades), for today, which quotes, executions and the realtime feed read
//!   trade by trade.
//! * [`summarised_day`]: the minute bars only, for the finished days before the first simulated
//!   session, which nobody reads trade by trade. A minute with more than [`SUMMARY_FROM`] trades is
//!   written as four prints (its open, its extremes, its close): the fair price's move over the minute
//!   and its maximum and minimum given that move are drawn from the Brownian bridge, and the minute's
//!   volume from the sum of its trades' quantities. Its cost no longer grows with a liquid stock's
//!   thousands of trades, and the bars are regenerated from the day's plan whenever they are asked for.

use std::ops::Range;

use jiff::civil::{Date, Time};
use market::krx::{SessionHours, floor_to_tick, round_to_tick, step_ticks};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::bars::{DailyBar, MinuteBar, PackedMinute, narrow};
use super::quote::Side;
use super::rng::{normal, poisson, uniform};
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
    pub limits: market::krx::PriceLimits,
    /// Log return from the base price to the planned close.
    pub ret: f64,
    /// Log return from the base price to the opening print.
    pub gap: f64,
    /// The day's volatility (the scale of the intraday path).
    pub vol: f64,
    /// Expected shares traded.
    pub volume: f64,
    /// Expected trades per minute of continuous trading (before the U-shape).
    pub trades_per_min: f64,
    /// The closing print's price when it is fixed in advance (the history before the first session is
    /// anchored on its closes); `None`: wherever the fair price ends.
    pub close: Option<i64>,
    /// 거래정지: no trade at all.
    pub halted: bool,
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
    fn after(prev: Option<&Tick>, t: Trade) -> Tick {
        let Trade {
            sec,
            price,
            qty,
            side,
        } = t;
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

/// One trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trade {
    /// Seconds since midnight.
    pub sec: u32,
    pub price: i64,
    pub qty: u64,
    pub side: Side,
}

/// A trade as stored: 12 bytes. Trades happen between 08:30 and 16:30, so the second of the day fits in
/// 16 bits; prices are at most a few million KRW and quantities far below 2³².
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stored {
    sec: u16,
    buy: bool,
    price: u32,
    qty: u32,
}

impl Stored {
    fn new(t: Trade) -> Stored {
        Stored {
            sec: u16::try_from(t.sec).unwrap_or(u16::MAX),
            buy: t.side == Side::Buy,
            price: u32::try_from(t.price.max(0)).unwrap_or(u32::MAX),
            qty: u32::try_from(t.qty).unwrap_or(u32::MAX),
        }
    }

    fn trade(self) -> Trade {
        Trade {
            sec: u32::from(self.sec),
            price: i64::from(self.price),
            qty: u64::from(self.qty),
            side: if self.buy { Side::Buy } else { Side::Sell },
        }
    }
}

/// How many trades apart the running aggregates are kept.
pub(crate) const CHECKPOINT: usize = 64;

/// Where a day's generation writes its trades.
trait Sink {
    fn push(&mut self, t: Trade);
    /// The last trade's price.
    fn last_price(&self) -> Option<i64>;
    /// The last trade's second of the day.
    fn last_sec(&self) -> Option<u32>;
    /// Minutes with more trades than this are written as a summary of four prints.
    fn summary_from(&self) -> u32;
}

/// A day's trades in order, with the running aggregates after every [`CHECKPOINT`]-th trade and after
/// the last one, so the state after any trade is at most `CHECKPOINT - 1` steps away.
#[derive(Debug, Clone, Default)]
pub(crate) struct TradeLog {
    trades: Vec<Stored>,
    /// `checkpoints[j]`: the state after the first `(j + 1) * CHECKPOINT` trades.
    checkpoints: Vec<Tick>,
    last: Option<Tick>,
}

impl TradeLog {
    pub fn len(&self) -> usize {
        self.trades.len()
    }

    pub fn trade(&self, i: usize) -> Option<Trade> {
        self.trades.get(i).map(|s| s.trade())
    }

    pub fn first(&self) -> Option<Trade> {
        self.trade(0)
    }

    /// The state after the last trade.
    pub fn last(&self) -> Option<Tick> {
        self.last
    }

    /// The running state after the first `k` trades (`None` for none).
    pub fn state(&self, k: usize) -> Option<Tick> {
        let k = k.min(self.trades.len());
        if k == 0 {
            return None;
        }
        if k == self.trades.len() {
            return self.last;
        }
        let j = k / CHECKPOINT;
        let mut state = j.checked_sub(1).and_then(|i| self.checkpoints.get(i).copied());
        for s in &self.trades[j * CHECKPOINT..k] {
            state = Some(Tick::after(state.as_ref(), s.trade()));
        }
        state
    }

    /// Each trade of `range` (0-based) with the running state right after it, in order.
    pub fn states(&self, range: Range<usize>) -> impl Iterator<Item = (usize, Tick)> + '_ {
        let end = range.end.min(self.trades.len());
        let start = range.start.min(end);
        let mut state = self.state(start);
        (start..end).map(move |i| {
            let tick = Tick::after(state.as_ref(), self.trades[i].trade());
            state = Some(tick);
            (i, tick)
        })
    }

    /// The trades of `range`, in order.
    pub fn trades(&self, range: Range<usize>) -> impl Iterator<Item = Trade> + '_ {
        let end = range.end.min(self.trades.len());
        let start = range.start.min(end);
        self.trades[start..end].iter().map(|s| s.trade())
    }

    /// How many trades happened at or before `sec` (seconds since midnight).
    fn count_until(&self, sec: u32) -> usize {
        self.trades.partition_point(|t| u32::from(t.sec) <= sec)
    }

    fn truncate(&mut self, keep: usize) {
        let keep = keep.min(self.trades.len());
        self.last = self.state(keep);
        self.trades.truncate(keep);
        self.checkpoints.truncate(keep / CHECKPOINT);
    }

    fn shrink(&mut self) {
        self.trades.shrink_to_fit();
        self.checkpoints.shrink_to_fit();
    }
}

impl Sink for TradeLog {
    fn push(&mut self, t: Trade) {
        let stored = Stored::new(t);
        let tick = Tick::after(self.last.as_ref(), stored.trade());
        self.trades.push(stored);
        self.last = Some(tick);
        if self.trades.len().is_multiple_of(CHECKPOINT) {
            self.checkpoints.push(tick);
        }
    }

    fn last_price(&self) -> Option<i64> {
        self.last.map(|t| t.price)
    }

    fn last_sec(&self) -> Option<u32> {
        self.last.map(|t| t.sec)
    }

    fn summary_from(&self) -> u32 {
        u32::MAX
    }
}

/// Minutes with more trades than this are summarised in [`summarised_day`].
pub(crate) const SUMMARY_FROM: u32 = 3;

/// Minute bars written directly (see the module doc).
struct BarSink {
    date: Date,
    bars: Vec<MinuteBar>,
    turnover: u64,
    last_sec: Option<u32>,
}

impl Sink for BarSink {
    fn push(&mut self, t: Trade) {
        self.last_sec = Some(t.sec);
        self.turnover += t.price as u64 * t.qty;
        let minute = t.sec / 60 * 60;
        match self.bars.last_mut() {
            Some(bar) if secs_of(bar.time) == minute => {
                bar.high = bar.high.max(t.price);
                bar.low = bar.low.min(t.price);
                bar.close = t.price;
                bar.volume += t.qty;
                bar.turnover = self.turnover;
            }
            _ => self.bars.push(MinuteBar {
                date: self.date,
                time: time_at(minute),
                open: t.price,
                high: t.price,
                low: t.price,
                close: t.price,
                volume: t.qty,
                turnover: self.turnover,
            }),
        }
    }

    fn last_price(&self) -> Option<i64> {
        self.bars.last().map(|b| b.close)
    }

    fn last_sec(&self) -> Option<u32> {
        self.last_sec
    }

    fn summary_from(&self) -> u32 {
        SUMMARY_FROM
    }
}

/// The minute bars of a day nobody reads trade by trade (see the module doc); deterministic in `plan`
/// and `rng`.
pub(crate) fn summarised_day(plan: DayPlan, rng: &mut impl Rng) -> Vec<MinuteBar> {
    let mut sink = BarSink {
        date: plan.date,
        bars: Vec::with_capacity(400),
        turnover: 0,
        last_sec: None,
    };
    let mut progress = Progress::begin(&plan, &mut sink, None, rng, None);
    progress.run(&plan, &mut sink, rng, None, u32::MAX);
    sink.bars
}

/// A trading day of trades, indexed into minute bars, generated as far as it has been asked for: the
/// generation goes minute by minute and can stop after any minute and resume later with the same random
/// stream, so a day written in pieces is the day written at once (and a stock first asked about at the
/// open costs one print, not a whole day of trades).
#[derive(Debug, Clone)]
pub(crate) struct Tape {
    pub plan: DayPlan,
    pub log: TradeLog,
    /// Minute bars of the trades written so far.
    bars: Vec<PackedMinute>,
    /// For each bar, the index just past its last trade.
    bar_ends: Vec<u32>,
    /// How far generation has got, and its random stream (`None` once the day is written).
    pending: Option<(Progress, ChaCha8Rng)>,
}

impl Tape {
    /// A day with no trades (yet).
    pub fn empty(plan: DayPlan) -> Tape {
        Tape {
            plan,
            log: TradeLog::default(),
            bars: Vec::new(),
            bar_ends: Vec::new(),
            pending: None,
        }
    }

    /// The day, to be written from `rng` as it is asked for ([`Tape::extend_to`]); the opening print
    /// (and what remains of a path scenario) is written at once.
    pub fn begin(plan: DayPlan, mut rng: ChaCha8Rng, steer: Option<&mut Steer>) -> Tape {
        let mut tape = Tape::empty(plan);
        let progress = Progress::begin(&tape.plan, &mut tape.log, None, &mut rng, steer);
        tape.pending = (!progress.done).then_some((progress, rng));
        tape.index();
        tape
    }

    /// Generates the whole day.
    #[cfg(test)]
    pub fn generate(plan: DayPlan, rng: ChaCha8Rng, mut steer: Option<&mut Steer>) -> Tape {
        let mut tape = Tape::begin(plan, rng, steer.as_deref_mut());
        tape.extend_to(u32::MAX, steer);
        tape
    }

    /// Writes every trade up to `until` (seconds since midnight; `u32::MAX`: the whole day).
    pub fn extend_to(&mut self, until: u32, steer: Option<&mut Steer>) {
        let Some((progress, rng)) = self.pending.as_mut() else {
            return;
        };
        if progress.written_until >= until {
            return;
        }
        progress.run(&self.plan, &mut self.log, rng, steer, until);
        if progress.done {
            self.pending = None;
            self.log.shrink();
        }
        self.index();
    }

    /// Whether every trade of the day is written.
    #[cfg(test)]
    pub fn is_complete(&self) -> bool {
        self.pending.is_none()
    }

    /// Keeps the first `keep` trades and regenerates everything after `after` from `rng` (a scenario
    /// changed the future); written as it is asked for, like the day itself.
    pub fn regenerate_after(
        &mut self,
        keep: usize,
        after: Time,
        mut rng: ChaCha8Rng,
        steer: Option<&mut Steer>,
    ) {
        self.log.truncate(keep);
        let progress = Progress::begin(&self.plan, &mut self.log, Some(secs_of(after)), &mut rng, steer);
        self.pending = (!progress.done).then_some((progress, rng));
        self.bars.clear();
        self.bar_ends.clear();
        self.index();
    }

    /// Brings the minute-bar index up to the trades written.
    fn index(&mut self) {
        let from = self.bar_ends.last().map_or(0, |&e| e as usize);
        if from >= self.log.len() {
            return;
        }
        // The last bar may grow: re-open it.
        let from = if from > 0
            && let (Some(bar), Some(t)) = (self.bars.last(), self.log.trade(from))
            && u32::from(bar.minute) == t.sec / 60
        {
            self.bars.pop();
            self.bar_ends.pop();
            self.bar_ends.last().map_or(0, |&e| e as usize)
        } else {
            from
        };
        for (i, t) in self.log.states(from..self.log.len()) {
            let minute = (t.sec / 60) as u16;
            let price = narrow(t.price.max(0));
            match self.bars.last_mut() {
                Some(bar) if bar.minute == minute => {
                    bar.high = bar.high.max(price);
                    bar.low = bar.low.min(price);
                    bar.close = price;
                    bar.volume = bar.volume.saturating_add(narrow(t.qty));
                    bar.turnover = t.turnover;
                    if let Some(end) = self.bar_ends.last_mut() {
                        *end = i as u32 + 1;
                    }
                }
                _ => {
                    self.bars.push(PackedMinute {
                        minute,
                        open: price,
                        high: price,
                        low: price,
                        close: price,
                        volume: narrow(t.qty),
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

    /// How many trades there are in the whole day.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// How many trades happened at or before `until`.
    pub fn visible(&self, until: Time) -> usize {
        if until == Time::MAX {
            return self.log.len();
        }
        self.log.count_until(secs_of(until))
    }

    /// The minute bars of the first `k` trades whose start is at or before `until`.
    pub fn minute_bars(&self, k: usize, until: Time) -> Vec<MinuteBar> {
        let k = k.min(self.log.len());
        let full = self.bar_ends.partition_point(|&end| end as usize <= k);
        let date = self.plan.date;
        let mut out: Vec<MinuteBar> = self.bars[..full]
            .iter()
            .map(|b| b.unpack(date))
            .take_while(|b| b.time <= until)
            .collect();
        let start = if full == 0 {
            0
        } else {
            self.bar_ends[full - 1] as usize
        };
        if start < k
            && out.len() == full
            && let Some(first) = self.log.trade(start)
        {
            let time = time_at(first.sec / 60 * 60);
            if time <= until {
                let mut bar = MinuteBar {
                    date: self.plan.date,
                    time,
                    open: first.price,
                    high: first.price,
                    low: first.price,
                    close: first.price,
                    volume: 0,
                    turnover: 0,
                };
                for t in self.log.trades(start..k) {
                    bar.high = bar.high.max(t.price);
                    bar.low = bar.low.min(t.price);
                    bar.close = t.price;
                    bar.volume += t.qty;
                }
                bar.turnover = self.log.state(k).map_or(0, |t| t.turnover);
                out.push(bar);
            }
        }
        out
    }

    /// All minute bars written, as kept.
    pub fn packed_minute_bars(&self) -> &[PackedMinute] {
        &self.bars
    }

    /// All minute bars written.
    #[cfg(test)]
    pub fn all_minute_bars(&self) -> Vec<MinuteBar> {
        self.bars.iter().map(|b| b.unpack(self.plan.date)).collect()
    }

    /// The day's bar over the first `k` trades (`None` before the first trade).
    pub fn daily_bar(&self, k: usize) -> Option<DailyBar> {
        let last = self.log.state(k)?;
        let first = self.log.first()?;
        Some(DailyBar {
            date: self.plan.date,
            open: first.price,
            high: last.high,
            low: last.low,
            close: last.price,
            volume: last.volume,
            turnover: last.turnover,
        })
    }

    /// The whole day's bar; a day without trades is flat at the base price.
    pub fn full_daily_bar(&self) -> DailyBar {
        self.daily_bar(self.log.len())
            .unwrap_or_else(|| flat_bar(self.plan.date, self.plan.limits.base))
    }
}

/// A day without trades: flat at `price`, no volume.
pub(crate) fn flat_bar(date: Date, price: i64) -> DailyBar {
    DailyBar {
        date,
        open: price,
        high: price,
        low: price,
        close: price,
        volume: 0,
        turnover: 0,
    }
}

/// How far a day's generation has got: everything the writer carries from one minute to the next.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    /// The price trades gravitate to (not on the grid).
    fair: f64,
    /// The log price the fair price is bridged to at the closing auction (the plan's close, moved by
    /// scenario pushes and paths).
    target: f64,
    /// Seconds since midnight up to which the tape is written.
    cursor: u32,
    /// Typical shares per continuous trade.
    per_trade: f64,
    /// The next continuous minute to write.
    minute: u32,
    /// The bridge's variance still to come at `minute`, and the per-minute scale of its U-shape.
    remaining: f64,
    scale: f64,
    /// Every trade at or before this second is written.
    written_until: u32,
    done: bool,
}

impl Progress {
    /// Starts the session's trades after `after` (seconds since midnight; `None`: the whole day, opening
    /// print included), writing at once the opening print (when due) and a path scenario's trades.
    fn begin(
        plan: &DayPlan,
        sink: &mut impl Sink,
        after: Option<u32>,
        rng: &mut impl Rng,
        steer: Option<&mut Steer>,
    ) -> Progress {
        let minutes = continuous_minutes(plan);
        let expected_trades = (plan.trades_per_min * f64::from(minutes)).max(1.0);
        let shapes = shapes(minutes);
        let total: f64 = shapes.iter().map(|s| s.variance).sum();
        let scale = 0.8 * plan.vol * plan.vol / total;
        let mut progress = Progress {
            fair: 0.0,
            target: plan
                .close
                .map_or((plan.limits.base.max(1) as f64).ln() + plan.ret, |c| {
                    (c.max(1) as f64).ln()
                }),
            cursor: after.unwrap_or(0),
            per_trade: (plan.volume * 0.92 / expected_trades).max(1.0),
            minute: 0,
            remaining: 0.8 * plan.vol * plan.vol,
            scale,
            written_until: after.unwrap_or(0),
            done: plan.halted || after.is_some_and(|a| a >= secs_of(plan.hours.close)),
        };
        if progress.done {
            return progress;
        }
        let open = secs_of(plan.hours.open);
        // Skip the minutes already behind the cursor (their variance is spent).
        while progress.minute < minutes && open + progress.minute * 60 + 59 <= progress.cursor {
            progress.remaining -= scale * shapes[progress.minute as usize].variance;
            progress.minute += 1;
        }
        let mut w = Writer {
            plan,
            sink,
            rng,
            steer,
            p: progress,
        };
        w.p.fair = match w.sink.last_price() {
            Some(p) => p as f64,
            None => w.clamp(plan.limits.base as f64 * plan.gap.exp()),
        };
        if after.is_none_or(|a| a < open) && w.sink.last_price().is_none() {
            w.opening_print();
        }
        w.path();
        w.p
    }

    /// Writes the trades up to `until` (seconds since midnight).
    fn run(
        &mut self,
        plan: &DayPlan,
        sink: &mut impl Sink,
        rng: &mut impl Rng,
        steer: Option<&mut Steer>,
        until: u32,
    ) {
        if self.done {
            return;
        }
        let mut w = Writer {
            plan,
            sink,
            rng,
            steer,
            p: *self,
        };
        w.continuous(until);
        let close = secs_of(plan.hours.close);
        if w.p.minute >= continuous_minutes(plan) && until >= close {
            w.observe();
            w.closing_print();
            w.observe();
            w.p.done = true;
        }
        w.p.written_until = w.p.written_until.max(until);
        *self = w.p;
    }
}

/// Minutes of continuous trading (from the open to the closing auction).
fn continuous_minutes(plan: &DayPlan) -> u32 {
    let (open, end) = (secs_of(plan.hours.open), secs_of(plan.hours.closing_auction));
    (end.saturating_sub(open) / 60).max(1)
}

/// A day's generation at work: the plan, where trades go, the random stream, the active scenario and
/// the progress.
struct Writer<'a, S: Sink, R: Rng> {
    plan: &'a DayPlan,
    sink: &'a mut S,
    rng: &'a mut R,
    steer: Option<&'a mut Steer>,
    p: Progress,
}

impl<S: Sink, R: Rng> Writer<'_, S, R> {
    fn clamp(&self, x: f64) -> f64 {
        x.clamp(self.plan.limits.lower as f64, self.plan.limits.upper as f64)
    }

    /// One random step of the fair price, kept inside the limits.
    fn walk(&mut self, drift: f64, sigma: f64) {
        let z = normal(self.rng);
        self.p.fair = self.clamp(self.p.fair * (drift + sigma * z).exp());
    }

    /// A trade's quantity: log-normal around the typical one.
    fn quantity(&mut self) -> u64 {
        (self.p.per_trade * (0.9 * normal(self.rng) - 0.4).exp()).max(1.0) as u64
    }

    fn push(&mut self, sec: u32, price: i64, qty: u64, side: Side) {
        self.sink.push(Trade {
            sec,
            price,
            qty,
            side,
        });
    }

    /// Shows the scenario controller the last trade.
    fn observe(&mut self) {
        if let (Some(s), Some(price), Some(sec)) = (
            self.steer.as_deref_mut(),
            self.sink.last_price(),
            self.sink.last_sec(),
        ) {
            s.observe(self.plan.date, sec, price);
        }
    }

    /// The opening auction's uncrossing at the open: 1–3% of the day's volume.
    fn opening_print(&mut self) {
        let limits = self.plan.limits;
        let price = limits.clamp(round_to_tick(self.p.fair.round() as i64));
        let qty = (self.plan.volume * uniform(self.rng, 0.01, 0.03)).max(1.0) as u64;
        let side = if price >= limits.base {
            Side::Buy
        } else {
            Side::Sell
        };
        let open = secs_of(self.plan.hours.open);
        self.push(open, price, qty, side);
        self.p.cursor = open;
    }

    /// A path scenario's trades, two to four seconds apart; what does not fit before the closing
    /// auction waits for the next day.
    fn path(&mut self) {
        let limits = self.plan.limits;
        let continuous_end = secs_of(self.plan.hours.closing_auction);
        let mut sec = self.p.cursor.max(secs_of(self.plan.hours.open));
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
            let side = match self.sink.last_price() {
                Some(last) if price < last => Side::Sell,
                Some(last) if price == last && self.rng.random_bool(0.5) => Side::Sell,
                _ => Side::Buy,
            };
            let qty = self.quantity();
            self.push(sec, price, qty, side);
            self.p.cursor = sec;
            // The bridge's end moves with the path: the stock moves on from the path's last price.
            self.p.target += (price as f64 / self.p.fair.max(1.0)).ln();
            self.p.fair = price as f64;
        }
        self.p.cursor = sec;
    }

    /// Continuous trading, minute by minute, after the cursor: every minute starting at or before
    /// `until`.
    fn continuous(&mut self, until: u32) {
        let plan = self.plan;
        let open = secs_of(plan.hours.open);
        let minutes = continuous_minutes(plan);
        let shapes = shapes(minutes);
        let mut seconds: Vec<u32> = Vec::with_capacity(64);
        while self.p.minute < minutes {
            let m = self.p.minute;
            let start = open + m * 60;
            if start > until {
                break;
            }
            self.p.minute += 1;
            // Variance per minute, U-shaped, summing to the continuous session's share of the day's (0.8).
            let shape = shapes[m as usize];
            let variance = self.p.scale * shape.variance;
            let left = self.p.remaining.max(variance);
            self.p.remaining -= variance;
            self.observe();
            let push_drift = self.steer.as_deref_mut().map_or(0.0, Steer::push);
            self.p.target += push_drift;
            // A Brownian bridge step towards the target: its share of the remaining gap, and the
            // bridge's noise (none in the last minute, which lands on the target).
            let gap = self.p.target - self.p.fair.max(1.0).ln();
            let drift = gap * variance / left + push_drift;
            let sigma_min = (variance * (1.0 - variance / left)).max(0.0).sqrt();

            // Trades arrive as a Poisson process whose rate wanders from minute to minute.
            let lambda = plan.trades_per_min * shape.intensity * uniform(self.rng, 0.3, 1.7);
            let n = poisson(self.rng, lambda);
            let first = if m == 0 { 1 } else { 0 };
            if n > self.sink.summary_from() && self.p.cursor < start {
                self.summarised_minute(start + first, start + 59, n, drift, sigma_min);
                self.p.cursor = start + 59;
                continue;
            }
            seconds.clear();
            for _ in 0..n {
                seconds.push(start + self.rng.random_range(first..60));
            }
            seconds.sort_unstable();
            let cursor = self.p.cursor;
            seconds.retain(|&s| s > cursor);
            if seconds.is_empty() {
                self.walk(drift, sigma_min);
                continue;
            }
            let k = seconds.len() as f64;
            let (step_drift, step_sigma) = (drift / k, sigma_min / k.sqrt());
            for &sec in &seconds {
                self.walk(step_drift, step_sigma);
                let qty = self.quantity();
                self.trade_near_fair(sec, qty);
                self.p.cursor = sec;
            }
        }
    }

    /// A minute of `n` trades written as four prints in `[from, to]` (see the module doc): the first at
    /// the fair price it starts from, the highest and lowest the fair price reaches (at the ask and the
    /// bid), the last at where it ends; together they carry the volume of `n` trades.
    fn summarised_minute(&mut self, from: u32, to: u32, n: u32, drift: f64, sigma: f64) {
        let limits = self.plan.limits;
        let start = self.p.fair;
        let end = drift + sigma * normal(self.rng);
        // The maximum (minimum) of a Brownian path over the minute given its end point, by inversion.
        let s2 = sigma * sigma;
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = 1.0 - self.rng.random::<f64>();
        let up = (end + (end * end - 2.0 * s2 * u1.ln()).sqrt()) / 2.0;
        let down = (end - (end * end - 2.0 * s2 * u2.ln()).sqrt()) / 2.0;
        let high = self.clamp(start * up.exp());
        let low = self.clamp(start * down.exp());
        let last = self.clamp(start * end.exp());
        // The sum of n log-normal quantities: mean n·1.005·q, relative deviation 1.06/√n.
        let nf = f64::from(n);
        let total =
            (nf * self.p.per_trade * 1.005 * (1.0 + 1.06 / nf.sqrt() * normal(self.rng))).max(nf) as u64;
        let mut secs = [0u32; 4];
        for s in &mut secs {
            *s = self.rng.random_range(from..=to.max(from));
        }
        secs.sort_unstable();
        let share = (total / 4).max(1);
        let rest = total.saturating_sub(3 * share).max(1);
        self.trade_near_fair(secs[0], share);
        let ask = limits.clamp(step_ticks(limits.clamp(floor_to_tick(high.floor() as i64)), 1));
        let bid = limits.clamp(floor_to_tick(low.floor() as i64));
        let extremes = [(ask, Side::Buy), (bid, Side::Sell)];
        let order = if self.rng.random_bool(0.5) { [0, 1] } else { [1, 0] };
        for (i, &j) in order.iter().enumerate() {
            let (price, side) = extremes[j];
            self.push(secs[1 + i], price, share, side);
        }
        self.p.fair = last;
        self.trade_near_fair(secs[3], rest);
    }

    /// A continuous trade of `qty` at the bid or the ask around the fair price (more often on the nearer
    /// side).
    fn trade_near_fair(&mut self, sec: u32, qty: u64) {
        let limits = self.plan.limits;
        let bid = limits.clamp(floor_to_tick(self.p.fair.floor() as i64));
        let ask = step_ticks(bid, 1);
        let p_buy = ((self.p.fair - bid as f64) / (ask - bid) as f64).clamp(0.05, 0.95);
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
        self.push(sec, price, qty, side);
    }

    /// The closing auction's uncrossing at the close: 2–5% of the day's volume, at the planned close
    /// when the plan fixes one.
    fn closing_print(&mut self) {
        let limits = self.plan.limits;
        let price = match self.plan.close {
            Some(close) => limits.clamp(round_to_tick(close)),
            None => limits.clamp(round_to_tick(self.p.fair.round() as i64)),
        };
        let qty = (self.plan.volume * uniform(self.rng, 0.02, 0.05)).max(1.0) as u64;
        let side = match self.sink.last_price() {
            Some(last) if price < last => Side::Sell,
            _ => Side::Buy,
        };
        let close = secs_of(self.plan.hours.close);
        self.push(close, price, qty, side);
        self.p.cursor = close;
    }
}

/// The U-shapes of one minute of continuous trading: its squared volatility and its trade intensity.
#[derive(Debug, Clone, Copy)]
struct Shape {
    variance: f64,
    intensity: f64,
}

/// The shapes of every minute of a session of `minutes` continuous minutes (computed once for the
/// regular and the exam-day session, the only lengths there are).
fn shapes(minutes: u32) -> std::borrow::Cow<'static, [Shape]> {
    use std::sync::OnceLock;
    static CACHE: OnceLock<Vec<(u32, Vec<Shape>)>> = OnceLock::new();
    let compute = |minutes: u32| -> Vec<Shape> {
        (0..minutes)
            .map(|m| Shape {
                variance: volatility_shape(m, minutes).powi(2),
                intensity: intensity(m, minutes),
            })
            .collect()
    };
    let cache = CACHE.get_or_init(|| {
        [SessionHours::REGULAR, SessionHours::EXAM_DAY]
            .iter()
            .map(|h| {
                let n = ((secs_of(h.closing_auction).saturating_sub(secs_of(h.open))) / 60).max(1);
                (n, compute(n))
            })
            .collect()
    });
    match cache.iter().find(|(n, _)| *n == minutes) {
        Some((_, shapes)) => std::borrow::Cow::Borrowed(shapes.as_slice()),
        None => std::borrow::Cow::Owned(compute(minutes)),
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
            close: None,
            halted: false,
        }
    }

    fn all(tape: &Tape) -> Vec<(usize, Tick)> {
        tape.log.states(0..tape.len()).collect()
    }

    #[test]
    fn a_day_opens_at_the_open_closes_at_the_close_and_stays_on_the_grid() {
        let rng = ChaCha8Rng::seed_from_u64(1);
        let tape = Tape::generate(plan(57_300), rng, None);
        let ticks: Vec<Tick> = all(&tape).into_iter().map(|(_, t)| t).collect();
        let first = ticks[0];
        let last = ticks[ticks.len() - 1];
        assert_eq!(first.sec, secs_of(time(9, 0, 0, 0)));
        assert_eq!(last.sec, secs_of(time(15, 30, 0, 0)));
        assert!(ticks.len() > 1000);
        for w in ticks.windows(2) {
            assert!(w[0].sec <= w[1].sec);
            let continuous = secs_of(time(9, 0, 0, 0))..secs_of(time(15, 20, 0, 0));
            assert!(w[1].sec == last.sec || continuous.contains(&w[1].sec));
        }
        for t in &ticks {
            assert!(is_on_tick(t.price) && tape.plan.limits.contains(t.price));
        }
        let day = tape.full_daily_bar();
        assert_eq!(Some(day), DailyBar::from_minutes(&tape.all_minute_bars()));
        assert_eq!(day.volume, ticks.iter().map(|t| t.qty).sum::<u64>());
        let turnover: u64 = ticks.iter().map(|t| t.price as u64 * t.qty).sum();
        assert_eq!(day.turnover, turnover);
    }

    #[test]
    fn the_state_after_any_trade_is_the_running_aggregate() {
        let rng = ChaCha8Rng::seed_from_u64(5);
        let tape = Tape::generate(plan(31_000), rng, None);
        let ticks = all(&tape);
        assert!(ticks.len() > 3 * CHECKPOINT);
        for k in [
            1,
            CHECKPOINT - 1,
            CHECKPOINT,
            CHECKPOINT + 1,
            2 * CHECKPOINT + 7,
            ticks.len(),
        ] {
            assert_eq!(tape.log.state(k), Some(ticks[k - 1].1), "after {k} trades");
        }
        assert_eq!(tape.log.state(0), None);
        let tail: Vec<(usize, Tick)> = tape.log.states(100..140).collect();
        assert_eq!(tail, ticks[100..140].to_vec());
        let high = ticks.iter().map(|(_, t)| t.price).max();
        assert_eq!(tape.log.last().map(|t| t.high), high);
    }

    #[test]
    fn partial_minute_bars_aggregate_the_visible_trades() {
        let rng = ChaCha8Rng::seed_from_u64(2);
        let tape = Tape::generate(plan(10_000), rng, None);
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
        let rng = ChaCha8Rng::seed_from_u64(3);
        let mut tape = Tape::generate(plan(10_000), rng, None);
        let until = time(11, 0, 0, 0);
        let k = tape.visible(until);
        let before: Vec<Trade> = tape.log.trades(0..k).collect();
        let rng = ChaCha8Rng::seed_from_u64(4);
        tape.regenerate_after(k, until, rng, None);
        tape.extend_to(u32::MAX, None);
        let after: Vec<Trade> = tape.log.trades(0..tape.len()).collect();
        assert_eq!(&after[..k], &before[..]);
        assert!(after[k].sec > secs_of(until));
        assert_eq!(after.last().map(|t| t.sec), Some(secs_of(time(15, 30, 0, 0))));
        assert_eq!(
            after
                .iter()
                .filter(|t| t.sec == secs_of(time(9, 0, 0, 0)))
                .count(),
            1
        );
        assert_eq!(tape.log.state(tape.len()), tape.log.last());
        assert_eq!(
            DailyBar::from_minutes(&tape.all_minute_bars()),
            tape.daily_bar(tape.len())
        );
    }

    #[test]
    fn a_day_written_in_pieces_is_the_day_written_at_once() {
        let whole = Tape::generate(plan(31_000), ChaCha8Rng::seed_from_u64(11), None);
        let mut pieces = Tape::begin(plan(31_000), ChaCha8Rng::seed_from_u64(11), None);
        assert_eq!(pieces.len(), 1, "the opening print");
        for until in [
            time(9, 0, 0, 0),
            time(9, 0, 30, 0),
            time(10, 17, 5, 0),
            time(15, 19, 59, 0),
        ] {
            pieces.extend_to(secs_of(until), None);
            let k = pieces.visible(until);
            assert_eq!(whole.visible(until), k);
            assert_eq!(pieces.minute_bars(k, until), whole.minute_bars(k, until));
            assert_eq!(pieces.daily_bar(k), whole.daily_bar(k));
            assert!(!pieces.is_complete());
        }
        pieces.extend_to(u32::MAX, None);
        assert!(pieces.is_complete());
        let all = |t: &Tape| t.log.trades(0..t.len()).collect::<Vec<_>>();
        assert_eq!(all(&pieces), all(&whole));
        assert_eq!(pieces.all_minute_bars(), whole.all_minute_bars());
    }

    #[test]
    fn a_summarised_day_keeps_the_grid_the_limits_and_the_planned_close() {
        for (seed, base, per_min) in [(6, 57_300, 300.0), (7, 1_234, 0.3), (8, 412_000, 40.0)] {
            let mut p = plan(base);
            p.trades_per_min = per_min;
            p.ret = 0.02;
            let close = round_to_tick((base as f64 * 1.02) as i64);
            p.close = Some(close);
            let bars = summarised_day(p, &mut ChaCha8Rng::seed_from_u64(seed));
            let again = summarised_day(p, &mut ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(bars, again, "deterministic");
            let day = DailyBar::from_minutes(&bars).expect("the auctions print");
            assert_eq!(day.close, close);
            assert!(bars.windows(2).all(|w| w[0].time < w[1].time));
            for b in &bars {
                for x in [b.open, b.high, b.low, b.close] {
                    assert!(is_on_tick(x) && p.limits.contains(x), "{b:?}");
                }
                assert!(b.low <= b.open.min(b.close) && b.open.max(b.close) <= b.high);
                assert!(b.volume > 0);
            }
            assert!(day.low as u64 * day.volume <= day.turnover);
            assert!(day.turnover <= day.high as u64 * day.volume);
            // The volume is the plan's, whether the trades were written one by one or summarised.
            let ratio = day.volume as f64 / p.volume;
            assert!((0.6..1.6).contains(&ratio), "{seed}: volume ratio {ratio}");
        }
    }

    #[test]
    fn a_halted_day_has_no_trades() {
        let mut p = plan(10_000);
        p.halted = true;
        let tape = Tape::generate(p, ChaCha8Rng::seed_from_u64(1), None);
        assert_eq!(tape.len(), 0);
        assert_eq!(tape.full_daily_bar(), flat_bar(p.date, 10_000));
        assert!(summarised_day(p, &mut ChaCha8Rng::seed_from_u64(1)).is_empty());
    }
}
