//! Incremental simple moving averages over one bar field (close, volume, …).
//!
//! A [`MovingAverages`] keeps one ring of the field's most recent values (the newest is the forming
//! bar) and, for every registered window length `n`, the exact integer sum of the last `n` values. A new
//! bar costs O(1) per window (add the new value, drop the one leaving the window); revising the forming
//! bar costs O(1) per window (add the difference). Every window also remembers its sum as of the
//! previous bar, which is what crossings compare against. Windows of different lengths share the ring,
//! so `ma(20)`, `ma(60)`, `ma(120)` and `ma(240)` of one series store 240 values, not 440.

use crate::ratio::Ratio;

/// The most recent values, newest last, at most `capacity` of them.
#[derive(Debug, Clone, Default)]
struct Ring {
    buf: Vec<i64>,
    /// Index in `buf` of the oldest value.
    head: usize,
    len: usize,
}

impl Ring {
    fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The value `k` bars back from the newest (`k = 0` is the newest); `k < len`.
    fn back(&self, k: usize) -> i64 {
        let mut idx = self.head + (self.len - 1 - k);
        if idx >= self.buf.len() {
            idx -= self.buf.len();
        }
        self.buf[idx]
    }

    fn push(&mut self, v: i64) {
        let cap = self.buf.len();
        if cap == 0 {
            return;
        }
        if self.len < cap {
            let mut idx = self.head + self.len;
            if idx >= cap {
                idx -= cap;
            }
            self.buf[idx] = v;
            self.len += 1;
        } else {
            self.buf[self.head] = v;
            self.head += 1;
            if self.head == cap {
                self.head = 0;
            }
        }
    }

    fn set_newest(&mut self, v: i64) {
        if self.len == 0 {
            return;
        }
        let mut idx = self.head + self.len - 1;
        if idx >= self.buf.len() {
            idx -= self.buf.len();
        }
        self.buf[idx] = v;
    }

    /// Grows the capacity, keeping the values.
    fn grow(&mut self, capacity: usize) {
        if capacity <= self.capacity() {
            return;
        }
        let mut buf = Vec::with_capacity(capacity);
        buf.extend((0..self.len).rev().map(|k| self.back(k)));
        buf.resize(capacity, 0);
        self.buf = buf;
        self.head = 0;
    }

    /// Sum of the `n` values ending `skip` bars back (fewer if the ring holds fewer).
    fn sum_back(&self, skip: usize, n: usize) -> i128 {
        (skip..(skip + n).min(self.len))
            .map(|k| i128::from(self.back(k)))
            .sum()
    }
}

#[derive(Debug, Clone)]
struct Window {
    n: usize,
    /// Sum of the last `min(n, len)` values, the forming bar included.
    sum: i128,
    /// The sum as of the previous bar, when that bar had a full window.
    prev_sum: Option<i128>,
}

/// Handle of a registered window inside one [`MovingAverages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowId(pub(crate) u16);

/// The moving averages of one field of one bar series.
#[derive(Debug, Clone, Default)]
pub struct MovingAverages {
    ring: Ring,
    windows: Vec<Window>,
}

impl MovingAverages {
    pub fn new() -> MovingAverages {
        MovingAverages::default()
    }

    /// Registers a window of `n` bars (`n >= 1`), or returns the existing one of that length. The
    /// window's sum is computed from the values already held; it becomes known once `n` values exist.
    pub fn register(&mut self, n: usize) -> WindowId {
        let n = n.max(1);
        if let Some(i) = self.windows.iter().position(|w| w.n == n) {
            return WindowId(i as u16);
        }
        // One more than the longest window, so the previous bar's full window stays computable.
        self.ring.grow(n + 1);
        let len = self.ring.len;
        let sum = self.ring.sum_back(0, n);
        let prev_sum = (len > n).then(|| self.ring.sum_back(1, n));
        self.windows.push(Window { n, sum, prev_sum });
        WindowId((self.windows.len() - 1) as u16)
    }

    /// A new bar opens with `v`.
    pub fn push(&mut self, v: i64) {
        let len = self.ring.len;
        for w in &mut self.windows {
            w.prev_sum = (len >= w.n).then_some(w.sum);
            let leaving = if len >= w.n {
                i128::from(self.ring.back(w.n - 1))
            } else {
                0
            };
            w.sum += i128::from(v) - leaving;
        }
        self.ring.push(v);
    }

    /// The forming bar's value changes to `v`.
    pub fn revise_last(&mut self, v: i64) {
        if self.ring.len == 0 {
            self.push(v);
            return;
        }
        let delta = i128::from(v) - i128::from(self.ring.back(0));
        if delta != 0 {
            for w in &mut self.windows {
                w.sum += delta;
            }
            self.ring.set_newest(v);
        }
    }

    /// How many bars have been seen (capped at the ring's capacity).
    pub fn len(&self) -> usize {
        self.ring.len
    }

    pub fn is_empty(&self) -> bool {
        self.ring.len == 0
    }

    /// The window's length.
    pub fn window_len(&self, id: WindowId) -> usize {
        self.windows.get(usize::from(id.0)).map_or(0, |w| w.n)
    }

    /// The exact sum over the window, when it is full.
    pub fn sum(&self, id: WindowId) -> Option<i128> {
        let w = self.windows.get(usize::from(id.0))?;
        (self.ring.len >= w.n).then_some(w.sum)
    }

    /// The average over the last `n` bars (the forming one included), `None` until `n` bars exist.
    pub fn mean(&self, id: WindowId) -> Option<Ratio> {
        let w = self.windows.get(usize::from(id.0))?;
        if self.ring.len >= w.n {
            Ratio::new(w.sum, w.n as i128)
        } else {
            None
        }
    }

    /// The average as of the previous bar's end.
    pub fn prev_mean(&self, id: WindowId) -> Option<Ratio> {
        let w = self.windows.get(usize::from(id.0))?;
        Ratio::new(w.prev_sum?, w.n as i128)
    }

    /// Bytes held on the heap (the ring and the windows).
    pub fn heap_bytes(&self) -> usize {
        self.ring.buf.capacity() * size_of::<i64>() + self.windows.capacity() * size_of::<Window>()
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
