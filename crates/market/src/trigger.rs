//! The trigger engine: many conditions over many stocks, each on its period, evaluated incrementally on
//! every trade (or every closed bar).
//!
//! * A trade updates the forming bar of every period some condition watches (O(1) per moving average)
//!   and evaluates the conditions on those series; nothing is allocated unless a trigger fires.
//! * A condition fires for a stock when it turns from false to true, never while it stays true, at most
//!   once per bar for each (condition, stock), and not again within its cooldown.
//! * After firing, a (condition, stock) is disarmed until the condition has been evaluated false on a
//!   closed bar of its period; only then can it fire again. A condition flickering at its edge inside
//!   one forming bar, or across bars that never close false (MA20 and MA60 2원 apart), fires once.
//!   For every-tick conditions the value on a closed bar is the one of its last trade, taken when the
//!   next bar opens; on-close conditions are only ever evaluated on closed bars.
//! * [`Mode::OncePerDay`] conditions fire at most once per trading day (the market date of the
//!   trade) for each (condition, stock).
//! * The first evaluation of a (condition, stock) only records where it stands, like Kiwoom's realtime
//!   조건검색: stocks already matching are not "entering" ([`TriggerEngine::is_matching`] lists them).
//! * [`Mode::OnClose`] conditions look only at closed bars: a bar closes when the next trade opens a new
//!   one, or when [`TriggerEngine::close_bars_until`] passes its end.
//! * [`TriggerEngine::seed`] loads stored history without firing; history and live trades merge with
//!   neither duplicate nor gap (the live forming bar is kept on top of the history). Add the conditions
//!   first: a period's series exist once some condition watches it.
//! * [`TriggerEngine::replay`] finds what would have fired inside a gap of the live feed, from the
//!   1-minute bars fetched for it and those stored before it.
//! * [`TriggerEngine::on_ticks`] takes trades in batches (e.g. the records of one realtime frame) and
//!   prefetches the state of the trades a few places ahead; with thousands of stocks in random order
//!   the state does not fit in cache and that overlap is worth 15–40% (see BENCHMARKS.md).

use std::collections::HashMap;

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::candle::{Candle, Period, SessionClock, aggregate, bar_end, may_open_bar, session_hours};
use crate::code::StockCode;
use crate::condition::{Condition, Program};
use crate::krx::Calendar;
use crate::state::{Layout, SeriesState, Step};

/// The caller's id for a condition.
pub type ConditionId = u64;

/// A stock's index inside one engine (what ticks carry, instead of the code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StockId(u32);

impl StockId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// When a condition is evaluated, and how often it may fire. Every mode fires on false → true, at
/// most once per bar, and re-arms only after a closed bar on which the condition is false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// On every trade, against the forming bar.
    #[default]
    EveryTick,
    /// Only when a bar closes, against that bar.
    OnClose,
    /// On every trade like [`Mode::EveryTick`], but at most once per trading day (the market date of
    /// the trade) for each (condition, stock).
    OncePerDay,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::EveryTick, Mode::OnClose, Mode::OncePerDay];

    /// The serde name: `every_tick`, `on_close`, `once_per_day`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::EveryTick => "every_tick",
            Mode::OnClose => "on_close",
            Mode::OncePerDay => "once_per_day",
        }
    }

    /// By its serde name.
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether it is evaluated on every trade (rather than on closed bars only).
    fn every_tick(self) -> bool {
        matches!(self, Mode::EveryTick | Mode::OncePerDay)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionOptions {
    #[serde(default)]
    pub mode: Mode,
    /// After firing for a stock, stay quiet for this long (in market time) for that stock.
    #[serde(default)]
    pub cooldown: Option<SignedDuration>,
}

/// One trade, in KST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub stock: StockId,
    pub time: DateTime,
    pub price: i64,
    pub volume: u64,
}

/// A condition that became true for a stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub stock: StockCode,
    pub condition: ConditionId,
    pub period: Period,
    /// The start of the bar that made it true (where the UI points its arrow).
    pub bar_time: DateTime,
    /// The market time of the trade (or bar close) that made it true.
    pub time: DateTime,
    /// The price then (the bar's close so far).
    pub price: i64,
    /// The values that made it true, labelled by their text (`ma(20)`, `close`, …), for display.
    pub values: Vec<(String, f64)>,
}

/// Errors of the engine's management calls (the tick path has none).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("condition {0} is already registered")]
    DuplicateCondition(ConditionId),
    #[error("no condition {0}")]
    UnknownCondition(ConditionId),
    #[error("too many stocks (the engine holds at most {max})", max = u32::MAX)]
    TooManyStocks,
}

/// When a (condition, stock) last fired, and whether it may fire again: read when it turns true, and
/// written when it fires or a bar closes with it false.
#[derive(Debug, Clone, Copy, Default)]
struct Fired {
    bar: Option<DateTime>,
    at: Option<DateTime>,
    /// It fired, and no closed bar has been false since.
    disarmed: bool,
}

/// One stock's fire states in one book, a slot per watch: whether each condition held at the last
/// evaluation (`None` before the first), read on every trade and so kept in a dense byte array, and
/// when each last fired.
struct FireSlots<'a> {
    matching: &'a mut [Option<bool>],
    fired: &'a mut [Fired],
}

#[derive(Debug, Clone)]
struct Watch {
    id: ConditionId,
    condition: Condition,
    options: ConditionOptions,
    program: Program,
    /// The book of its period, and its place among that book's per-stock fire states.
    book: usize,
    slot: usize,
}

/// Every series of one period, and the conditions that read them.
#[derive(Debug, Clone)]
struct PeriodBook {
    period: Period,
    layout: Layout,
    /// Per stock.
    series: Vec<SeriesState>,
    /// Per stock, `stride` slots (one per watch of this book, at the watch's slot) of
    /// [`FireSlots`]' two parts.
    matching: Vec<Option<bool>>,
    fired: Vec<Fired>,
    stride: usize,
    /// The bar fields the every-tick watches read.
    reads: u8,
    /// Indices into the engine's watches.
    every_tick: Vec<usize>,
    on_close: Vec<usize>,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct TriggerEngine {
    calendar: Calendar,
    /// The clock of the day of the latest trade.
    day: Option<SessionClock>,
    stocks: Vec<StockCode>,
    index: HashMap<StockCode, StockId>,
    books: Vec<PeriodBook>,
    watches: Vec<Watch>,
    ignored_ticks: u64,
}

impl Default for TriggerEngine {
    fn default() -> Self {
        TriggerEngine::new(Calendar::krx().clone())
    }
}

/// What a trigger needs to know about the moment it fires.
struct Moment {
    code: StockCode,
    period: Period,
    time: DateTime,
}

impl TriggerEngine {
    pub fn new(calendar: Calendar) -> TriggerEngine {
        TriggerEngine {
            calendar,
            day: None,
            stocks: Vec::new(),
            index: HashMap::new(),
            books: Vec::new(),
            watches: Vec::new(),
            ignored_ticks: 0,
        }
    }

    /// Adds a stock (or returns its id if it is already there).
    pub fn add_stock(&mut self, code: StockCode) -> Result<StockId, EngineError> {
        if let Some(&id) = self.index.get(&code) {
            return Ok(id);
        }
        let id = StockId(u32::try_from(self.stocks.len()).map_err(|_| EngineError::TooManyStocks)?);
        self.stocks.push(code);
        self.index.insert(code, id);
        for book in &mut self.books {
            book.series.push(SeriesState::new(&book.layout));
            book.matching.extend(std::iter::repeat_n(None, book.stride));
            book.fired
                .extend(std::iter::repeat_n(Fired::default(), book.stride));
        }
        Ok(id)
    }

    pub fn stock_id(&self, code: StockCode) -> Option<StockId> {
        self.index.get(&code).copied()
    }

    pub fn stock_code(&self, id: StockId) -> Option<StockCode> {
        self.stocks.get(id.index()).copied()
    }

    /// Watches `condition` on every stock, on its period. Averages it adds to a period already running
    /// are computed from the bars each series still holds (the longest earlier window plus one), so a
    /// longer one is unknown until enough bars pass; [`TriggerEngine::seed`] fills it at once.
    pub fn add_condition(
        &mut self,
        id: ConditionId,
        condition: Condition,
        options: ConditionOptions,
    ) -> Result<(), EngineError> {
        if self.watches.iter().any(|w| w.id == id) {
            return Err(EngineError::DuplicateCondition(id));
        }
        let book = self.book_for(condition.period);
        let b = &mut self.books[book];
        let program = Program::compile(&condition.expr, &mut b.layout);
        for s in &mut b.series {
            s.sync(&b.layout);
        }
        self.watches.push(Watch {
            id,
            condition,
            options,
            program,
            book,
            slot: usize::MAX,
        });
        self.reindex();
        Ok(())
    }

    pub fn remove_condition(&mut self, id: ConditionId) -> Result<Condition, EngineError> {
        let at = self
            .watches
            .iter()
            .position(|w| w.id == id)
            .ok_or(EngineError::UnknownCondition(id))?;
        let w = self.watches.remove(at);
        self.reindex();
        Ok(w.condition)
    }

    /// Whether the condition held for the stock at its last evaluation (the current 조건검색 list).
    pub fn is_matching(&self, condition: ConditionId, stock: StockId) -> bool {
        let Some(w) = self.watches.iter().find(|w| w.id == condition) else {
            return false;
        };
        let Some(book) = self.books.get(w.book) else {
            return false;
        };
        book.matching
            .get(stock.index() * book.stride + w.slot)
            .is_some_and(|m| *m == Some(true))
    }

    /// Trades that made no bar: outside the regular session's window, or older than the forming bar.
    pub fn ignored_ticks(&self) -> u64 {
        self.ignored_ticks
    }

    /// The series state of a stock on a watched period (for inspection and the UI).
    pub fn series(&self, stock: StockId, period: Period) -> Option<&SeriesState> {
        self.books
            .iter()
            .find(|b| b.period == period)?
            .series
            .get(stock.index())
    }

    fn book_for(&mut self, period: Period) -> usize {
        if let Some(i) = self.books.iter().position(|b| b.period == period) {
            return i;
        }
        let layout = Layout::new();
        let series = (0..self.stocks.len())
            .map(|_| SeriesState::new(&layout))
            .collect();
        self.books.push(PeriodBook {
            period,
            layout,
            series,
            matching: Vec::new(),
            fired: Vec::new(),
            stride: 0,
            reads: 0,
            every_tick: Vec::new(),
            on_close: Vec::new(),
        });
        self.books.len() - 1
    }

    /// Recomputes each book's watch lists and fire-state slots after a condition came or went,
    /// keeping every surviving watch's states.
    fn reindex(&mut self) {
        let stocks = self.stocks.len();
        for (b, book) in self.books.iter_mut().enumerate() {
            let mine: Vec<usize> = (0..self.watches.len())
                .filter(|&i| self.watches[i].book == b)
                .collect();
            let stride = mine.len();
            let mut matching = vec![None; stocks * stride];
            let mut fired = vec![Fired::default(); stocks * stride];
            for (slot, &i) in mine.iter().enumerate() {
                let old = self.watches[i].slot;
                if old < book.stride {
                    for s in 0..stocks {
                        matching[s * stride + slot] = book.matching[s * book.stride + old];
                        fired[s * stride + slot] = book.fired[s * book.stride + old];
                    }
                }
                self.watches[i].slot = slot;
            }
            book.matching = matching;
            book.fired = fired;
            book.stride = stride;
            book.every_tick.clear();
            book.on_close.clear();
            book.reads = 0;
            for &i in &mine {
                if self.watches[i].options.mode.every_tick() {
                    book.every_tick.push(i);
                    book.reads |= self.watches[i].program.reads();
                } else {
                    book.on_close.push(i);
                }
            }
        }
    }

    fn clock(&mut self, date: Date) -> SessionClock {
        match self.day {
            Some(clock) if clock.date() == date => clock,
            _ => {
                let clock = SessionClock::new(date, &session_hours(&self.calendar, date));
                self.day = Some(clock);
                clock
            }
        }
    }

    /// Feeds one trade; triggers are appended to `out`.
    pub fn on_tick(&mut self, tick: Tick, out: &mut Vec<Trigger>) {
        // Start loading every period's state at once, rather than one period after the other.
        self.prefetch_series(tick.stock);
        let part = Candle::from_trade(tick.time, tick.price, tick.volume);
        self.apply(tick.stock, &part, out);
    }

    /// Feeds trades in order; the same as [`TriggerEngine::on_tick`] on each, but it prefetches the
    /// state of the trades a few places ahead, so that with thousands of stocks the memory loads of
    /// consecutive trades overlap instead of queueing.
    pub fn on_ticks(&mut self, ticks: &[Tick], out: &mut Vec<Trigger>) {
        // Three stages, each reading only what the previous one brought in.
        const FAR: usize = 12;
        const MID: usize = 6;
        const NEAR: usize = 2;
        for (i, tick) in ticks.iter().enumerate() {
            if let Some(t) = ticks.get(i + FAR) {
                self.prefetch_series(t.stock);
            }
            if let Some(t) = ticks.get(i + MID) {
                self.prefetch_averages(t.stock);
            }
            if let Some(t) = ticks.get(i + NEAR) {
                self.prefetch_leaving(t);
            }
            let part = Candle::from_trade(tick.time, tick.price, tick.volume);
            self.apply(tick.stock, &part, out);
        }
    }

    fn prefetch_series(&self, stock: StockId) {
        let s = stock.index();
        for book in &self.books {
            if let Some(series) = book.series.get(s) {
                series.prefetch();
            }
            if let Some(m) = book.matching.get(s * book.stride) {
                crate::prefetch::read(m as *const Option<bool>);
            }
        }
    }

    fn prefetch_averages(&self, stock: StockId) {
        for book in &self.books {
            if let Some(series) = book.series.get(stock.index()) {
                series.prefetch_averages();
            }
        }
    }

    fn prefetch_leaving(&self, tick: &Tick) {
        for book in &self.books {
            let Some(series) = book.series.get(tick.stock.index()) else {
                continue;
            };
            if series
                .current()
                .is_some_and(|c| may_open_bar(book.period, c.time, tick.time))
            {
                series.prefetch_leaving();
            }
        }
    }

    /// Feeds one closed 1-minute bar (each minute once, and not mixed with trades of the same minute):
    /// it updates every watched period like the trades it summarises.
    pub fn on_minute_bar(&mut self, stock: StockId, bar: Candle, out: &mut Vec<Trigger>) {
        self.apply(stock, &bar, out);
    }

    fn apply(&mut self, stock: StockId, part: &Candle, out: &mut Vec<Trigger>) {
        let s = stock.index();
        let Some(&code) = self.stocks.get(s) else {
            self.ignored_ticks += 1;
            return;
        };
        let clock = self.clock(part.time.date());
        let Some(minute) = clock.minute(part.time.time()) else {
            self.ignored_ticks += 1;
            return;
        };
        let mut used = false;
        for book in &mut self.books {
            let start = clock.bar_start(book.period, minute);
            let series = &mut book.series[s];
            let range = s * book.stride..(s + 1) * book.stride;
            let mut fire = FireSlots {
                matching: &mut book.matching[range.clone()],
                fired: &mut book.fired[range],
            };
            let moment = Moment {
                code,
                period: book.period,
                time: part.time,
            };
            match series.step(start) {
                Step::NewBar => {
                    if series.current().is_some() {
                        if !series.is_current_closed() {
                            evaluate(
                                &self.watches,
                                &book.on_close,
                                series,
                                &mut fire,
                                &moment,
                                true,
                                out,
                            );
                        }
                        // The every-tick conditions' last values are the closing bar's.
                        rearm_false(&self.watches, &book.every_tick, &mut fire);
                    }
                    series.apply(start, part);
                }
                Step::SameBar => {
                    let changed = series.absorb_part(part);
                    if changed & book.reads == 0 {
                        // Nothing the conditions read has changed, so neither have their results.
                        used = true;
                        continue;
                    }
                }
                Step::Late => continue,
            }
            used = true;
            evaluate(
                &self.watches,
                &book.every_tick,
                series,
                &mut fire,
                &moment,
                false,
                out,
            );
        }
        if !used {
            self.ignored_ticks += 1;
        }
    }

    /// Closes every bar that has ended by `now` (market time) and evaluates the on-close conditions on
    /// it: the last bar of the day closes at the session's close even though no later trade comes.
    pub fn close_bars_until(&mut self, now: DateTime, out: &mut Vec<Trigger>) {
        for book in &mut self.books {
            if book.on_close.is_empty() {
                continue;
            }
            for s in 0..book.series.len() {
                let series = &mut book.series[s];
                let Some(bar) = series.current() else { continue };
                if series.is_current_closed() {
                    continue;
                }
                let hours = session_hours(&self.calendar, bar.time.date());
                let ended = bar_end(book.period, bar.time, &hours).is_some_and(|end| end <= now);
                if !ended {
                    continue;
                }
                series.mark_closed();
                let range = s * book.stride..(s + 1) * book.stride;
                let mut fire = FireSlots {
                    matching: &mut book.matching[range.clone()],
                    fired: &mut book.fired[range],
                };
                let moment = Moment {
                    code: self.stocks[s],
                    period: book.period,
                    time: now,
                };
                evaluate(
                    &self.watches,
                    &book.on_close,
                    series,
                    &mut fire,
                    &moment,
                    true,
                    out,
                );
            }
        }
    }

    /// Loads stored bars of `period` (oldest first, closed except perhaps the last) for a stock, without
    /// firing. A forming bar already built from live trades stays on top: if history reaches into the
    /// same bar, the two are merged (history's open, live close); if history ends earlier, the live bar
    /// follows it. Bars of history that repeat a time replace the earlier one. Does nothing for a period
    /// no condition watches.
    pub fn seed(&mut self, stock: StockId, period: Period, bars: &[Candle]) {
        let s = stock.index();
        let Some(book) = self.books.iter_mut().find(|b| b.period == period) else {
            return;
        };
        let Some(old) = book.series.get(s) else { return };
        let live = old.current().copied();
        let mut fresh = SeriesState::new(&book.layout);
        for bar in bars {
            match fresh.step(bar.time) {
                Step::NewBar => fresh.open(*bar),
                Step::SameBar => fresh.revise(*bar),
                Step::Late => {}
            }
        }
        if let Some(live) = live {
            match fresh.step(live.time) {
                Step::NewBar => fresh.open(live),
                Step::SameBar => {
                    if let Some(h) = fresh.current().copied() {
                        fresh.revise(h.merged_with_live(&live));
                    }
                }
                Step::Late => {}
            }
        }
        book.series[s] = fresh;
    }

    /// Seeds every watched intraday period from stored 1-minute bars (oldest first).
    pub fn seed_from_minutes(&mut self, stock: StockId, minutes: &[Candle]) {
        let periods: Vec<Period> = self
            .books
            .iter()
            .map(|b| b.period)
            .filter(|p| p.is_intraday())
            .collect();
        for period in periods {
            let bars = aggregate(minutes, period, &self.calendar);
            self.seed(stock, period, &bars);
        }
    }

    /// What `conditions` would have fired for the stock `code` during a gap of the live feed, given the
    /// gap's closed 1-minute bars (`gap`, oldest first) and the stored 1-minute bars before it
    /// (`history`, oldest first, ending where the gap starts). Runs on a scratch engine of its own
    /// (the KRX calendar); nothing else is touched.
    ///
    /// The engine fires on a condition turning true, so it must know where each condition stood when
    /// the gap began, and whether it was armed:
    /// 1. every watched period (intraday, and D/W/M built from the same minutes) is seeded from
    ///    `history` up to the start of the gap's day, but at least the last `n` minutes are held
    ///    back, `n` being the longest intraday period watched (in minutes);
    /// 2. the bars held back (the gap day's minutes before it, or the last `n`) are replayed and what
    ///    they fire is discarded: they were seen live. The conditions' last values, the re-arming
    ///    after a fire, cooldowns and `once_per_day` therefore stand as they did live before the gap;
    /// 3. the gap's minutes are fed, then [`TriggerEngine::close_bars_until`] one minute after the
    ///    last one (closing the bars the gap completes): what fires is returned, with the market
    ///    time of the minute bar (its start) or of that close.
    ///
    /// So a condition that turns true inside the gap is found once; one already true before the gap
    /// is not. `history` must reach back far enough for the averages the conditions use (a 30-minute
    /// MA240 needs 7,200 minutes; D/W/M bars are rebuilt from these minutes too, so a daily MA20 needs
    /// 20 trading days of them): an average it cannot fill stays unknown, and a condition that is
    /// unknown does not fire. The options are used as given (pass `cooldown: None` to ignore
    /// cooldowns); a duplicate condition id keeps the first.
    pub fn replay(
        conditions: &[(ConditionId, Condition, ConditionOptions)],
        code: StockCode,
        history: &[Candle],
        gap: &[Candle],
    ) -> Vec<Trigger> {
        let Some(first) = gap.first() else {
            return Vec::new();
        };
        let mut engine = TriggerEngine::default();
        for (id, condition, options) in conditions {
            // A duplicate id keeps the first; nothing else can fail.
            let _ = engine.add_condition(*id, condition.clone(), *options);
        }
        let Ok(stock) = engine.add_stock(code) else {
            return Vec::new();
        };
        let longest = conditions
            .iter()
            .filter_map(|(_, c, _)| c.period.minutes())
            .max()
            .unwrap_or(1);
        let held_back = usize::try_from(longest).unwrap_or(1);
        let gap_day = first.time.date();
        let day_starts = history
            .iter()
            .position(|b| b.time.date() >= gap_day)
            .unwrap_or(history.len());
        let split = day_starts.min(history.len().saturating_sub(held_back));
        let (seeded, replayed) = history.split_at(split);
        engine.seed_from_minutes(stock, seeded);
        let long: Vec<Period> = engine
            .books
            .iter()
            .map(|b| b.period)
            .filter(|p| !p.is_intraday())
            .collect();
        for period in long {
            let bars = aggregate(seeded, period, &engine.calendar);
            engine.seed(stock, period, &bars);
        }
        let mut out = Vec::new();
        for bar in replayed {
            engine.on_minute_bar(stock, *bar, &mut out);
        }
        out.clear();
        for bar in gap {
            engine.on_minute_bar(stock, *bar, &mut out);
        }
        if let Some(last) = gap.last() {
            engine.close_bars_until(last.time.saturating_add(SignedDuration::from_mins(1)), &mut out);
        }
        out
    }

    /// Bytes held by the engine's state (series, conditions' per-stock states, stock tables), counted
    /// from the sizes and capacities of its structures.
    pub fn memory_bytes(&self) -> usize {
        let books: usize = self
            .books
            .iter()
            .map(|b| {
                b.series.iter().map(SeriesState::memory_bytes).sum::<usize>()
                    + (b.series.capacity() - b.series.len()) * size_of::<SeriesState>()
                    + b.matching.capacity() * size_of::<Option<bool>>()
                    + b.fired.capacity() * size_of::<Fired>()
            })
            .sum();
        let watches = self.watches.capacity() * size_of::<Watch>();
        let stocks = self.stocks.capacity() * size_of::<StockCode>()
            + self.index.capacity() * (size_of::<StockCode>() + size_of::<StockId>() + 8);
        size_of::<TriggerEngine>() + books + watches + stocks
    }
}

/// Re-arms the listed (every-tick) watches whose last evaluation, that of the bar now closing, was
/// false.
fn rearm_false(watches: &[Watch], which: &[usize], fire: &mut FireSlots<'_>) {
    for &i in which {
        let Some(w) = watches.get(i) else { continue };
        if fire.matching.get(w.slot) == Some(&Some(false))
            && let Some(fired) = fire.fired.get_mut(w.slot)
        {
            fired.disarmed = false;
        }
    }
}

/// Evaluates the listed watches on one series and fires those that turned true. `fire` holds this
/// stock's fire states of the series' book; `closed`: the series' current bar is closed (a false
/// value then re-arms).
fn evaluate(
    watches: &[Watch],
    which: &[usize],
    series: &SeriesState,
    fire: &mut FireSlots<'_>,
    moment: &Moment,
    closed: bool,
    out: &mut Vec<Trigger>,
) {
    let Some(bar) = series.current() else { return };
    for &i in which {
        let Some(w) = watches.get(i) else { continue };
        let holds = w.program.holds(series);
        let Some(matching) = fire.matching.get_mut(w.slot) else {
            continue;
        };
        let was = matching.replace(holds);
        if !holds {
            if closed && let Some(fired) = fire.fired.get_mut(w.slot) {
                fired.disarmed = false;
            }
            continue;
        }
        if was != Some(false) {
            continue;
        }
        let Some(fired) = fire.fired.get_mut(w.slot) else {
            continue;
        };
        if fired.disarmed || fired.bar == Some(bar.time) {
            continue;
        }
        if let (Some(cooldown), Some(at)) = (w.options.cooldown, fired.at) {
            let quiet = at.checked_add(cooldown).is_ok_and(|until| moment.time < until);
            if quiet {
                continue;
            }
        }
        if w.options.mode == Mode::OncePerDay && fired.at.is_some_and(|at| at.date() == moment.time.date()) {
            continue;
        }
        fired.bar = Some(bar.time);
        fired.at = Some(moment.time);
        fired.disarmed = true;
        out.push(Trigger {
            stock: moment.code,
            condition: w.id,
            period: moment.period,
            bar_time: bar.time,
            time: moment.time,
            price: bar.close,
            values: w.program.values(series),
        });
    }
}
