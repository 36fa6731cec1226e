//! Incremental simple moving averages over one bar field (close, volume, …).
//!
//! A [`MovingAverages`] keeps one ring of the field's most recent values (the newest is the forming
//! bar) and, for every registered window length `n`, the exact integer sum of the last `n` values. A new
//! bar costs O(1) per window (add the new value, drop the one leaving the window); revising the forming
//! bar costs O(1) per window (add the difference). Every window also remembers its sum as of the
//! previous bar, which is what crossings compare against. Windows of different lengths share the ring,
//! so `ma(20)`, `ma(60)`, `ma(120)` and `ma(240)` of one series store 241 values, not 440.

use crate::ratio::Ratio;

/// Values are clamped to ±2^51 and windows to 2,048 bars, so a window's sum always fits in an `i64`
/// exactly (2^51 × 2^11 = 2^62). Real prices and volumes are far below that.
pub const VALUE_LIMIT: i64 = 1 << 51;
/// The longest window.
pub const MAX_WINDOW: usize = 2048;

/// Words per window at the front of `data`: length, sum, sum at the previous bar, and whether the
/// previous bar had a full window.
const W: usize = 4;

/// Handle of a registered window inside one [`MovingAverages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowId(pub(crate) u16);

/// The moving averages of one field of one bar series, in one allocation: the windows first, then
/// the ring of recent values (oldest at `head`, `len` of them), so an update touches few cache lines.
/// The forming bar's value lives in `newest` and reaches its ring slot only when the next bar opens, so
/// revising the forming bar touches the window sums alone.
#[derive(Debug, Clone, Default)]
pub struct MovingAverages {
    data: Vec<i64>,
    newest: i64,
    windows: u16,
    head: u32,
    len: u32,
}

impl MovingAverages {
    pub fn new() -> MovingAverages {
        MovingAverages::default()
    }

    fn ring_start(&self) -> usize {
        usize::from(self.windows) * W
    }

    fn capacity(&self) -> usize {
        self.data.len() - self.ring_start()
    }

    /// Index in `data` of the value `k` bars back from the newest (`k < len`).
    fn back_index(&self, k: usize) -> usize {
        let cap = self.capacity();
        let mut idx = self.head as usize + (self.len as usize - 1 - k);
        if idx >= cap {
            idx -= cap;
        }
        self.ring_start() + idx
    }

    fn back(&self, k: usize) -> i64 {
        if k == 0 {
            return self.newest;
        }
        self.data[self.back_index(k)]
    }

    /// Sum of the `n` values ending `skip` bars back (fewer if fewer are held).
    fn sum_back(&self, skip: usize, n: usize) -> i64 {
        (skip..(skip + n).min(self.len as usize))
            .map(|k| self.back(k))
            .sum()
    }

    /// Registers a window of `n` bars (clamped to 1..=[`MAX_WINDOW`]), or returns the existing one of
    /// that length. Its sum is computed from the values already held; it becomes known once `n` values
    /// exist.
    pub fn register(&mut self, n: usize) -> WindowId {
        let n = n.clamp(1, MAX_WINDOW);
        let count = usize::from(self.windows);
        if let Some(i) = (0..count).find(|&i| self.data[i * W] == n as i64) {
            return WindowId(i as u16);
        }
        // One more than the longest window, so the previous bar's full window stays computable.
        let capacity = self.capacity().max(n + 1);
        let len = self.len as usize;
        let sum = self.sum_back(0, n);
        let prev = (len > n).then(|| self.sum_back(1, n));
        let mut data = Vec::with_capacity((count + 1) * W + capacity);
        data.extend_from_slice(&self.data[..count * W]);
        data.extend_from_slice(&[n as i64, sum, prev.unwrap_or(0), i64::from(prev.is_some())]);
        data.extend((0..len).rev().map(|k| self.back(k)));
        data.resize((count + 1) * W + capacity, 0);
        self.data = data;
        self.windows += 1;
        self.head = 0;
        WindowId(count as u16)
    }

    /// A new bar opens with `v`.
    pub fn push(&mut self, v: i64) {
        let v = v.clamp(-VALUE_LIMIT, VALUE_LIMIT);
        let cap = self.capacity();
        if cap == 0 {
            return;
        }
        let len = self.len as usize;
        if len > 0 {
            // The bar closing now: its final value goes to its slot.
            let idx = self.back_index(0);
            self.data[idx] = self.newest;
        }
        for i in 0..usize::from(self.windows) {
            let n = self.data[i * W] as usize;
            let full = len >= n;
            let leaving = if full { self.back(n - 1) } else { 0 };
            let sum = self.data[i * W + 1];
            self.data[i * W + 2] = sum;
            self.data[i * W + 3] = i64::from(full);
            self.data[i * W + 1] = sum + v - leaving;
        }
        // The new bar's slot is written when it closes (above); until then `newest` holds it.
        self.newest = v;
        if len < cap {
            self.len += 1;
        } else {
            self.head = if self.head as usize + 1 == cap {
                0
            } else {
                self.head + 1
            };
        }
    }

    /// The forming bar's value changes to `v`.
    pub fn revise_last(&mut self, v: i64) {
        if self.len == 0 {
            self.push(v);
            return;
        }
        let v = v.clamp(-VALUE_LIMIT, VALUE_LIMIT);
        let delta = v - self.newest;
        if delta != 0 {
            for i in 0..usize::from(self.windows) {
                self.data[i * W + 1] += delta;
            }
            self.newest = v;
        }
    }

    /// How many bars are held (at most the longest window plus one).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn window(&self, id: WindowId) -> Option<&[i64]> {
        let i = usize::from(id.0);
        if i < usize::from(self.windows) {
            self.data.get(i * W..(i + 1) * W)
        } else {
            None
        }
    }

    /// The window's length.
    pub fn window_len(&self, id: WindowId) -> usize {
        self.window(id).map_or(0, |w| w[0] as usize)
    }

    /// The exact sum over the window, when it is full.
    pub fn sum(&self, id: WindowId) -> Option<i64> {
        let w = self.window(id)?;
        (self.len as i64 >= w[0]).then_some(w[1])
    }

    /// The average over the last `n` bars (the forming one included), `None` until `n` bars exist.
    #[inline]
    pub fn mean(&self, id: WindowId) -> Option<Ratio> {
        let w = self.window(id)?;
        if self.len as i64 >= w[0] {
            Some(Ratio::of_parts(w[1], w[0]))
        } else {
            None
        }
    }

    /// The average as of the previous bar's end.
    #[inline]
    pub fn prev_mean(&self, id: WindowId) -> Option<Ratio> {
        let w = self.window(id)?;
        if w[3] == 1 {
            Some(Ratio::of_parts(w[2], w[0]))
        } else {
            None
        }
    }

    /// Prefetches the windows (all that a revision touches).
    pub(crate) fn prefetch(&self) {
        let base = self.data.as_ptr();
        let mut offset = 0;
        while offset < usize::from(self.windows) * W {
            crate::prefetch::read(base.wrapping_add(offset));
            offset += 8;
        }
    }

    /// Prefetches the values that leave each window when a new bar opens. Reads the windows, so call
    /// it after [`MovingAverages::prefetch`] has had time to bring them in.
    pub(crate) fn prefetch_leaving(&self) {
        let base = self.data.as_ptr();
        let len = self.len as usize;
        if len > 0 {
            crate::prefetch::read(base.wrapping_add(self.back_index(0)));
        }
        for i in 0..usize::from(self.windows) {
            let n = self.data[i * W] as usize;
            if len >= n && n > 0 {
                crate::prefetch::read(base.wrapping_add(self.back_index(n - 1)));
            }
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity() * size_of::<i64>()
    }
}

/// The `n`-bar simple average of `values` at every index (`None` until `n` values), exactly.
pub fn sma(values: &[i64], n: usize) -> Vec<Option<Ratio>> {
    let mut ma = MovingAverages::new();
    let id = ma.register(n);
    values
        .iter()
        .map(|&v| {
            ma.push(v);
            ma.mean(id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_after_pushes_and_revisions() {
        let mut ma = MovingAverages::new();
        let w3 = ma.register(3);
        let w1 = ma.register(1);
        for v in [10, 20, 30] {
            ma.push(v);
        }
        assert_eq!(ma.mean(w3), Ratio::new(60, 3));
        assert_eq!(ma.prev_mean(w3), None);
        ma.push(40);
        assert_eq!(ma.mean(w3), Ratio::new(90, 3));
        assert_eq!(ma.prev_mean(w3), Ratio::new(60, 3));
        ma.revise_last(41);
        ma.revise_last(43);
        assert_eq!(ma.mean(w3), Ratio::new(93, 3));
        assert_eq!(ma.prev_mean(w3), Ratio::new(60, 3));
        assert_eq!(ma.mean(w1), Ratio::new(43, 1));
        // A window registered late is computed from the held values.
        let w2 = ma.register(2);
        assert_eq!(ma.mean(w2), Ratio::new(73, 2));
        assert_eq!(ma.prev_mean(w2), Ratio::new(50, 2));
        assert_eq!(ma.register(3), w3);
    }

    #[test]
    fn unknown_until_full() {
        let v = sma(&[1, 2, 3, 4], 3);
        assert!(v[0].is_none() && v[1].is_none());
        assert_eq!(v[2], Ratio::new(6, 3));
        assert_eq!(v[3], Ratio::new(9, 3));
    }
}
