//! The 10-level order book (호가) around the last trade.
//!
//! Prices sit on the tick grid inside the day's limits: asks above, bids below. After a buy (the ask was
//! lifted) the best ask is the last price; after a sell the best bid is. A level beyond a limit is empty,
//! shown as `(0, 0)`. Quantities are deterministic pseudo-random numbers drawn from (seed, stock, trade
//! seq, level), so the same moment always shows the same book, and computing it costs no allocation.

use jiff::civil::Time;
use market::krx::{PriceLimits, step_ticks};

use super::quote::Side;
use super::rng::{hash, mix};

/// Number of price levels on each side.
pub const LEVELS: usize = 10;

/// The order book at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBook {
    pub time: Time,
    /// `(price, quantity)`, best (lowest) first; `(0, 0)` for an empty level.
    pub asks: [(i64, u64); LEVELS],
    /// `(price, quantity)`, best (highest) first; `(0, 0)` for an empty level.
    pub bids: [(i64, u64); LEVELS],
    /// During an auction: the expected price and volume of the uncrossing.
    pub expected: Option<(i64, u64)>,
}

impl OrderBook {
    pub fn total_ask_quantity(&self) -> u64 {
        self.asks.iter().map(|&(_, q)| q).sum()
    }

    pub fn total_bid_quantity(&self) -> u64 {
        self.bids.iter().map(|&(_, q)| q).sum()
    }
}

/// The best ask and bid right after a trade at `price` by `side` (0 for an empty side).
pub(crate) fn best_after(price: i64, side: Side, limits: &PriceLimits) -> (i64, i64) {
    let (ask, bid) = match side {
        Side::Buy => (price, step_ticks(price, -1)),
        Side::Sell => (step_ticks(price, 1), price),
    };
    let inside = |p: i64| limits.lower <= p && p <= limits.upper;
    let ask = if inside(ask) { ask } else { 0 };
    let bid = if inside(bid) && (side == Side::Sell || bid < price) {
        bid
    } else {
        0
    };
    (ask, bid)
}

/// Builds the book given the best prices and a typical resting quantity per level.
pub(crate) fn build(
    time: Time,
    ask1: i64,
    bid1: i64,
    limits: &PriceLimits,
    typical_quantity: u64,
    key: [u64; 3],
) -> OrderBook {
    let base = hash(&key);
    let quantity = |side: u64, level: usize| -> u64 {
        let r = mix(base ^ (side << 8) ^ level as u64);
        // 0.2× .. 3× the typical quantity, more resting further from the touch.
        let scale = 20 + (r % 280) + 10 * level as u64;
        (typical_quantity.max(1) * scale / 100).max(1)
    };
    let mut asks = [(0, 0); LEVELS];
    let mut bids = [(0, 0); LEVELS];
    if ask1 > 0 {
        let mut p = ask1;
        for (level, slot) in asks.iter_mut().enumerate() {
            if p > limits.upper {
                break;
            }
            *slot = (p, quantity(1, level));
            p = step_ticks(p, 1);
        }
    }
    if bid1 > 0 {
        let mut p = bid1;
        for (level, slot) in bids.iter_mut().enumerate() {
            if p < limits.lower || p < 1 {
                break;
            }
            *slot = (p, quantity(2, level));
            let next = step_ticks(p, -1);
            if next == p {
                break;
            }
            p = next;
        }
    }
    OrderBook {
        time,
        asks,
        bids,
        expected: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;
    use market::krx::{is_on_tick, price_limits};

    #[test]
    fn levels_are_on_the_grid_inside_limits_asks_above_bids() {
        let limits = price_limits(10_000);
        let (ask, bid) = best_after(10_050, Side::Buy, &limits);
        assert_eq!((ask, bid), (10_050, 10_040));
        let book = build(time(9, 1, 0, 0), ask, bid, &limits, 100, [1, 2, 3]);
        for w in book.asks.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        for w in book.bids.windows(2) {
            assert!(w[0].0 > w[1].0);
        }
        assert!(book.asks[0].0 > book.bids[0].0);
        for &(p, q) in book.asks.iter().chain(&book.bids) {
            assert!(is_on_tick(p) && limits.contains(p) && q > 0);
        }
        assert_eq!(book, build(time(9, 1, 0, 0), ask, bid, &limits, 100, [1, 2, 3]));
    }

    #[test]
    fn levels_beyond_the_upper_limit_are_empty() {
        let limits = price_limits(10_000);
        let (ask, bid) = best_after(limits.upper, Side::Sell, &limits);
        assert_eq!((ask, bid), (0, limits.upper));
        let (ask, bid) = best_after(limits.upper - 10, Side::Sell, &limits);
        assert_eq!((ask, bid), (limits.upper, limits.upper - 10));
        let book = build(time(9, 1, 0, 0), ask, bid, &limits, 100, [1, 2, 3]);
        assert_eq!(book.asks[0].0, limits.upper);
        assert_eq!(book.asks[1], (0, 0));
        let (ask, bid) = best_after(limits.lower, Side::Buy, &limits);
        assert_eq!((ask, bid), (limits.lower, 0));
    }
}
