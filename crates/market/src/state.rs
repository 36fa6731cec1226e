//! The incremental state of one (stock, period) bar series as conditions see it: the newest bar (still
//! forming, or just closed), the bar before it, and the moving sums conditions asked for. Updating it is
//! O(1) per registered window and allocates nothing.
//!
//! Every series of one period shares a [`Layout`]: the list of (field, window length) that the
//! conditions on that period need, registered once and shared by all of them. Because each series
//! registers the layout's windows in the same order, one compiled condition works on every series.

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use crate::candle::Candle;
use crate::ma::{MovingAverages, WindowId};
use crate::ratio::Ratio;

/// A bar field a condition can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    // Close and volume first: they are the ones usually averaged, so they sit at the front of a
    // series' state (see `SeriesState`).
    Close,
    Volume,
    Open,
    High,
    Low,
}

impl Field {
    pub const ALL: [Field; 5] = [Field::Close, Field::Volume, Field::Open, Field::High, Field::Low];

    fn index(self) -> usize {
        self as usize
    }

    /// This field's bit in a set of fields.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Whether any field in the set `fields` differs between two bars.
    pub fn any_differs(fields: u8, a: &Candle, b: &Candle) -> bool {
        Field::ALL
            .into_iter()
            .any(|f| fields & f.bit() != 0 && f.of(a) != f.of(b))
    }

    pub fn of(self, c: &Candle) -> i64 {
        match self {
            Field::Open => c.open,
            Field::High => c.high,
            Field::Low => c.low,
            Field::Close => c.close,
            Field::Volume => i64::try_from(c.volume).unwrap_or(i64::MAX),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::Volume => "volume",
        }
    }
}

/// A window inside every series that follows a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowRef {
    field: Field,
    id: WindowId,
}

/// The windows the conditions of one period need: per field, the window lengths in registration order.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    windows: [Vec<usize>; 5],
}

impl Layout {
    pub fn new() -> Layout {
        Layout::default()
    }

    /// The longest window registered (0 without any): the bars a condition needs before its averages
    /// are known.
    pub fn longest(&self) -> usize {
        self.windows.iter().flatten().copied().max().unwrap_or(0)
    }

    /// The window for the `n`-bar average of `field`, registered on first use.
    pub fn window(&mut self, field: Field, n: usize) -> WindowRef {
        let n = n.clamp(1, crate::ma::MAX_WINDOW);
        let lens = &mut self.windows[field.index()];
        let idx = match lens.iter().position(|&l| l == n) {
            Some(i) => i,
            None => {
                lens.push(n);
                lens.len() - 1
            }
        };
        WindowRef {
            field,
            id: WindowId(idx as u16),
        }
    }
}

/// Where a new part of a bar (a trade or a shorter bar) lands relative to the series' newest bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It starts a new bar (the newest one, if any, is now closed).
    NewBar,
    /// It updates the newest bar.
    SameBar,
    /// It belongs to a bar older than the newest: ignored.
    Late,
}

/// See the module docs. `repr(C)` keeps what every trade touches (the bars, then the close averages)
/// together at the front, and the alignment keeps that front on as few cache lines as possible.
#[derive(Debug, Clone, Default)]
#[repr(C, align(64))]
pub struct SeriesState {
    // The bars, with their presence in `present` rather than in `Option`s, which would add a word
    // each to the cache lines every trade touches.
    current: Candle,
    prev: Candle,
    prev2_close: i64,
    /// Which of the three above exist: [`HAS_CURRENT`], [`HAS_PREV`], [`HAS_PREV2`].
    present: u8,
    /// The current bar is known to have ended.
    current_closed: bool,
    /// Bit `i` set: `averages[i]` is in use (so updates never look at the unused ones).
    used: u8,
    /// Indexed by [`Field`]; `None` for fields no condition averages.
    averages: [Option<MovingAverages>; 5],
}

const HAS_CURRENT: u8 = 1;
const HAS_PREV: u8 = 2;
const HAS_PREV2: u8 = 4;

impl SeriesState {
    #[inline]
    fn cur(&self) -> Option<&Candle> {
        (self.present & HAS_CURRENT != 0).then_some(&self.current)
    }

    #[inline]
    fn prv(&self) -> Option<&Candle> {
        (self.present & HAS_PREV != 0).then_some(&self.prev)
    }

    #[inline]
    fn prv2_close(&self) -> Option<i64> {
        (self.present & HAS_PREV2 != 0).then_some(self.prev2_close)
    }

    pub fn new(layout: &Layout) -> SeriesState {
        let mut s = SeriesState::default();
        s.sync(layout);
        s
    }

    /// Adds the layout's windows this series does not have yet (computed from the values it holds).
    pub fn sync(&mut self, layout: &Layout) {
        let held = [self.prv().copied(), self.cur().copied()];
        for field in Field::ALL {
            let lens = &layout.windows[field.index()];
            if lens.is_empty() {
                continue;
            }
            let slot = &mut self.averages[field.index()];
            if slot.is_none() {
                let mut ma = MovingAverages::new();
                for &n in lens {
                    ma.register(n);
                }
                // Seed the new field's ring from the bars held, so the field is not behind.
                for c in held.iter().flatten() {
                    ma.push(field.of(c));
                }
                *slot = Some(ma);
                self.used |= 1 << field.index();
            }
            if let Some(ma) = slot {
                for &n in lens {
                    ma.register(n);
                }
            }
        }
    }

    /// Whether the current bar is known to have ended (see [`SeriesState::mark_closed`]).
    pub fn is_current_closed(&self) -> bool {
        self.current_closed
    }

    /// Records that the current bar has ended; the next bar's opening clears it.
    pub fn mark_closed(&mut self) {
        self.current_closed = true;
    }

    /// The newest bar (forming, or the last one closed).
    pub fn current(&self) -> Option<&Candle> {
        self.cur()
    }

    pub fn previous(&self) -> Option<&Candle> {
        self.prv()
    }

    pub fn step(&self, start: DateTime) -> Step {
        match self.cur() {
            None => Step::NewBar,
            Some(c) if start > c.time => Step::NewBar,
            Some(c) if start == c.time => Step::SameBar,
            Some(_) => Step::Late,
        }
    }

    /// Applies a part of a bar starting at `start` (a trade is a one-price candle); returns what it did.
    pub fn apply(&mut self, start: DateTime, part: &Candle) -> Step {
        let step = self.step(start);
        match step {
            Step::NewBar => self.open(Candle { time: start, ..*part }),
            Step::SameBar => self.absorb(part),
            Step::Late => {}
        }
        step
    }

    /// A new bar opens; the current one becomes the previous.
    pub fn open(&mut self, bar: Candle) {
        if let Some(prev) = self.prv() {
            self.prev2_close = prev.close;
            self.present |= HAS_PREV2;
        }
        if self.present & HAS_CURRENT != 0 {
            self.prev = self.current;
            self.present |= HAS_PREV;
        }
        self.current = bar;
        self.present |= HAS_CURRENT;
        self.current_closed = false;
        self.each_average(|field, ma| ma.push(field.of(&bar)));
    }

    /// Replaces the current bar (a revised forming bar, or a corrected closed one).
    pub fn revise(&mut self, bar: Candle) {
        if self.cur().is_none() {
            self.open(bar);
            return;
        }
        self.current = bar;
        self.each_average(|field, ma| ma.revise_last(field.of(&bar)));
    }

    /// Calls `f` on every average in use.
    #[inline]
    fn each_average(&mut self, mut f: impl FnMut(Field, &mut MovingAverages)) {
        let mut mask = self.used;
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if let (Some(&field), Some(Some(ma))) = (Field::ALL.get(i), self.averages.get_mut(i)) {
                f(field, ma);
            }
        }
    }

    #[inline]
    fn each_average_ref(&self, mut f: impl FnMut(&MovingAverages)) {
        let mut mask = self.used;
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if let Some(Some(ma)) = self.averages.get(i) {
                f(ma);
            }
        }
    }

    fn absorb(&mut self, part: &Candle) {
        self.absorb_part(part);
    }

    /// Adds a later part of the current bar; returns the set of fields that changed (see
    /// [`Field::bit`]).
    pub fn absorb_part(&mut self, part: &Candle) -> u8 {
        let Some(&before) = self.cur() else { return 0 };
        let mut after = before;
        after.absorb(part);
        let changed = Field::ALL
            .into_iter()
            .filter(|f| f.of(&before) != f.of(&after))
            .fold(0, |m, f| m | f.bit());
        if changed != 0 {
            self.revise(after);
        }
        changed
    }

    /// A field of the current bar (`back = 0`) or of the previous one (`back = 1`).
    #[inline]
    pub fn field(&self, field: Field, back: u8) -> Option<Ratio> {
        let bar = if back == 0 { self.cur() } else { self.prv() };
        bar.map(|c| Ratio::int(field.of(c)))
    }

    /// The window's average at the current bar (`back = 0`) or the previous one (`back = 1`).
    #[inline]
    pub fn mean(&self, w: WindowRef, back: u8) -> Option<Ratio> {
        let ma = self.averages[w.field.index()].as_ref()?;
        if back == 0 {
            ma.mean(w.id)
        } else {
            ma.prev_mean(w.id)
        }
    }

    /// Percentage change of the close against the previous bar's close, exactly.
    pub fn change_pct(&self, back: u8) -> Option<Ratio> {
        let (close, base) = if back == 0 {
            (self.cur()?.close, self.prv()?.close)
        } else {
            (self.prv()?.close, self.prv2_close()?)
        };
        let diff = i128::from(close) - i128::from(base);
        Ratio::new(diff * 100, i128::from(base))
    }

    /// Bytes this state holds, inline and on the heap.
    pub fn memory_bytes(&self) -> usize {
        size_of::<SeriesState>()
            + self
                .averages
                .iter()
                .flatten()
                .map(MovingAverages::heap_bytes)
                .sum::<usize>()
    }

    /// Prefetches what an update will read and write: this state and its averages' hot lines.
    pub(crate) fn prefetch(&self) {
        let base = (self as *const SeriesState).cast::<u8>();
        // The bars and the close (and volume, if used) averages' headers; the rarely used fields' come
        // after.
        let headers = if self.used & Field::Volume.bit() != 0 {
            2
        } else {
            1
        };
        let hot = std::mem::offset_of!(SeriesState, averages) + headers * size_of::<Option<MovingAverages>>();
        let mut offset = 0;
        while offset < hot {
            crate::prefetch::read(base.wrapping_add(offset));
            offset += 64;
        }
    }

    /// Prefetches the averages' windows and newest values.
    pub(crate) fn prefetch_averages(&self) {
        self.each_average_ref(MovingAverages::prefetch);
    }

    /// Prefetches the values a new bar would push out of the windows.
    pub(crate) fn prefetch_leaving(&self) {
        self.each_average_ref(MovingAverages::prefetch_leaving);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn change_pct_is_exact() {
        let mut layout = Layout::new();
        let w = layout.window(Field::Close, 2);
        let mut s = SeriesState::new(&layout);
        let t = date(2026, 11, 20).at(0, 0, 0, 0);
        s.apply(t, &Candle::from_trade(t, 100, 1));
        let t2 = date(2026, 11, 23).at(0, 0, 0, 0);
        s.apply(t2, &Candle::from_trade(t2, 105, 1));
        assert_eq!(s.change_pct(0), Some(Ratio::int(5)));
        assert_eq!(s.change_pct(1), None);
        assert_eq!(s.mean(w, 0), Ratio::new(205, 2));
        assert_eq!(s.step(t), Step::Late);
    }
}
