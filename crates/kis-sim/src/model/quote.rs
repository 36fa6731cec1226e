//! What the market looks like at one moment: the current-price snapshot ([`Quote`]) and the trades
//! ([`Execution`]) that produce it.

use jiff::civil::{Date, Time};
use market::code::StockCode;
use market::krx::{Phase, PriceLimits, Sign};

/// A stock's current-price snapshot (현재가): the last trade and today's running aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub code: StockCode,
    /// The trading day this snapshot belongs to.
    pub date: Date,
    /// The time of the last trade (the session open when nothing has traded yet).
    pub time: Time,
    pub price: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    /// The base price (기준가): the previous close.
    pub prev_close: i64,
    pub limits: PriceLimits,
    pub sign: Sign,
    /// `price - prev_close`.
    pub change: i64,
    /// Shares traded today so far.
    pub volume: u64,
    /// KRW traded today so far (sum of price × quantity).
    pub turnover: u64,
    /// The previous trading day's volume.
    pub prev_volume: u64,
    /// Best ask and bid right after the last trade (0 when that side is empty, e.g. at a price limit).
    pub ask1: i64,
    pub bid1: i64,
    /// Volume and count of trades whose aggressor bought (lifted the ask) / sold (hit the bid).
    pub buy_volume: u64,
    pub sell_volume: u64,
    pub buy_count: u64,
    pub sell_count: u64,
    pub open_time: Time,
    pub high_time: Time,
    pub low_time: Time,
    /// The market phase at the moment the snapshot describes.
    pub phase: Phase,
}

impl Quote {
    /// The change against the previous close in hundredths of a percent (`-123` = −1.23%), rounded
    /// half away from zero.
    pub fn change_rate(&self) -> i64 {
        if self.prev_close <= 0 {
            return 0;
        }
        let scaled = self.change as i128 * 10_000;
        let base = self.prev_close as i128;
        let rounded = (scaled.abs() * 2 + base) / (2 * base);
        (if scaled < 0 { -rounded } else { rounded }) as i64
    }

    /// The volume-weighted average price of today's trades (the previous close before any trade).
    pub fn vwap(&self) -> i64 {
        self.turnover
            .checked_div(self.volume)
            .map_or(self.prev_close, |v| v as i64)
    }

    /// 체결강도: buy volume per sell volume in hundredths of a percent (`12345` = 123.45%); 0 when
    /// nothing was sold.
    pub fn strength(&self) -> i64 {
        (self.buy_volume as u128 * 10_000)
            .checked_div(self.sell_volume as u128)
            .map_or(0, |v| v as i64)
    }
}

/// The aggressor of a trade: a buy lifts the ask, a sell hits the bid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

/// One trade of today's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Execution {
    /// The trade's number, growing across the whole simulation: the trading date (YYYYMMDD) × 10⁷ plus
    /// the trade's number within the day (from 1, consecutive). A feed that remembers the last number it
    /// sent never misses or repeats a trade, even when the day rolls over.
    pub seq: u64,
    pub time: Time,
    pub price: i64,
    pub volume: u64,
    pub side: Side,
    /// The quote right after this trade.
    pub state: Quote,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use market::krx::price_limits;

    fn quote(price: i64, prev_close: i64) -> Quote {
        let limits = price_limits(prev_close);
        Quote {
            code: StockCode::parse("005930").unwrap(),
            date: date(2026, 11, 20),
            time: time(9, 0, 0, 0),
            price,
            open: price,
            high: price,
            low: price,
            prev_close,
            limits,
            sign: Sign::of(price, &limits),
            change: price - prev_close,
            volume: 30,
            turnover: 30 * price as u64,
            prev_volume: 0,
            ask1: price,
            bid1: price - 100,
            buy_volume: 20,
            sell_volume: 10,
            buy_count: 2,
            sell_count: 1,
            open_time: time(9, 0, 0, 0),
            high_time: time(9, 0, 0, 0),
            low_time: time(9, 0, 0, 0),
            phase: Phase::Continuous,
        }
    }

    #[test]
    fn change_rate_rounds_half_away_from_zero() {
        assert_eq!(quote(101_000, 100_000).change_rate(), 100);
        assert_eq!(quote(99_000, 100_000).change_rate(), -100);
        // 92300 vs 92400: -0.108..% → -11 hundredths (KIS shows -0.11).
        assert_eq!(quote(92_300, 92_400).change_rate(), -11);
    }

    #[test]
    fn vwap_and_strength() {
        let q = quote(101_000, 100_000);
        assert_eq!(q.vwap(), 101_000);
        assert_eq!(q.strength(), 20_000);
    }
}
