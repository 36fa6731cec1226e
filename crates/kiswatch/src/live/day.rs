//! A stock's day so far ([`DayMove`]): the price and the day's move a `tick` shows, and today's
//! daily bar, kept for every stock the live feed takes trades of — realtime or polled — so the
//! header and the chart's forming bar are made of the same trades.
//!
//! * A realtime trade carries the whole day (open, high, low, accumulated volume and turnover, the
//!   change from the base price): it replaces what was known.
//! * A polled trade (the REST executions list: price and size only) moves a day already known: the
//!   price, the high and low, the volume and turnover. The day is known once a REST price of that
//!   date was seen ([`DayMove::merge_price`]: the base price, the limits and the open come from it);
//!   until then a polled stock has no day and no tick is made for it.
//! * A REST price read later than polled trades may be older than them (it is cached for a few
//!   seconds): it never moves the price back, and only widens the high, the low and the volume.

use jiff::civil::{Date, DateTime, Time};
use kis::realtime::Execution;
use kis::wire::quotations;
use market::krx::{PriceLimits, Sign, price_limits};
use market::{Candle, Trade};

use crate::contract::PriceMove;

/// See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayMove {
    pub date: Date,
    /// 기준가 (yesterday's close).
    pub base_price: i64,
    pub upper_limit: i64,
    pub lower_limit: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub price: i64,
    /// Shares traded today.
    pub volume: u64,
    /// KRW traded today.
    pub turnover: u64,
    /// The market time of the latest trade taken in.
    pub at: DateTime,
}

impl DayMove {
    /// The day as a realtime trade states it.
    pub fn from_execution(e: &Execution) -> DayMove {
        let base = e.price - e.change;
        let limits = price_limits(base);
        DayMove {
            date: e.business_date,
            base_price: base,
            upper_limit: limits.upper,
            lower_limit: limits.lower,
            open: e.open,
            high: e.high,
            low: e.low,
            price: e.price,
            volume: e.acc_volume,
            turnover: u64::try_from(e.acc_turnover).unwrap_or(0),
            at: e.datetime(),
        }
    }

    /// The day as a REST price of `date` states it, read at market time `at`.
    pub fn from_price(p: &quotations::Price, date: Date, at: DateTime) -> DayMove {
        DayMove {
            date,
            base_price: p.base_price,
            upper_limit: p.upper_limit,
            lower_limit: p.lower_limit,
            open: p.open,
            high: p.high,
            low: p.low,
            price: p.price,
            volume: p.volume,
            turnover: p.turnover,
            at,
        }
    }

    /// A REST price of the same day read at `at`, possibly older than trades taken in since: the
    /// base, the limits and the open are its; the high, low, volume and turnover widen; the price
    /// moves only when nothing later was taken in.
    pub fn merge_price(&mut self, p: &quotations::Price, at: DateTime) {
        self.base_price = p.base_price;
        self.upper_limit = p.upper_limit;
        self.lower_limit = p.lower_limit;
        if p.open > 0 {
            self.open = p.open;
        }
        self.high = self.high.max(p.high);
        if p.low > 0 {
            self.low = if self.low > 0 { self.low.min(p.low) } else { p.low };
        }
        self.volume = self.volume.max(p.volume);
        self.turnover = self.turnover.max(p.turnover);
        if at > self.at {
            self.price = p.price;
            self.at = at;
        }
    }

    /// A polled trade of this day; `false` (nothing changed) for another day's or an older one.
    pub fn absorb(&mut self, t: &Trade) -> bool {
        if t.time.date() != self.date || t.time < self.at {
            return false;
        }
        if self.open == 0 {
            self.open = t.price;
        }
        self.price = t.price;
        self.high = self.high.max(t.price);
        self.low = if self.low > 0 {
            self.low.min(t.price)
        } else {
            t.price
        };
        self.volume += t.volume;
        self.turnover += t.volume * u64::try_from(t.price).unwrap_or(0);
        self.at = t.time;
        true
    }

    /// Change from the base price in KRW.
    pub fn change(&self) -> i64 {
        self.price - self.base_price
    }

    /// The price, change and the day's range as a tick shows them.
    pub fn price_move(&self) -> PriceMove {
        let change = self.change();
        let rate = if self.base_price > 0 {
            (change as f64 / self.base_price as f64 * 10_000.0).round() / 100.0
        } else {
            0.0
        };
        let limits = PriceLimits {
            base: self.base_price,
            upper: self.upper_limit,
            lower: self.lower_limit,
        };
        let sign = if change == 0 {
            Sign::Flat
        } else {
            Sign::of(self.price, &limits)
        };
        PriceMove {
            price: self.price,
            change,
            change_rate: rate,
            sign: sign.into(),
            open: self.open,
            high: self.high,
            low: self.low,
        }
    }

    /// Today's daily bar: the day's open, high and low, the price as its close, the day's volume.
    pub fn bar(&self) -> Option<Candle> {
        (self.open > 0 && self.price > 0).then(|| Candle {
            time: self.date.to_datetime(Time::midnight()),
            open: self.open,
            high: self.high.max(self.price),
            low: if self.low > 0 {
                self.low.min(self.price)
            } else {
                self.price
            },
            close: self.price,
            volume: self.volume,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn rest_price(price: i64, high: i64, low: i64, volume: u64) -> quotations::Price {
        quotations::Price {
            code: market::StockCode::parse("005930").unwrap(),
            price,
            change: price - 1_000,
            sign: market::krx::Sign::Up,
            change_rate: rust_decimal::Decimal::ZERO,
            open: 1_000,
            high,
            low,
            base_price: 1_000,
            upper_limit: 1_300,
            lower_limit: 700,
            volume,
            turnover: volume * 1_000,
            market_name: String::new(),
            sector: String::new(),
            tick: None,
            listed_shares: None,
            per: None,
            pbr: None,
            foreign_ratio: None,
            halted: false,
            w52_high: None,
            w52_low: None,
        }
    }

    #[test]
    fn polled_trades_move_a_day_a_rest_price_started() {
        let day = date(2026, 11, 27);
        let at = |m: i8, s: i8| day.at(10, m, s, 0);
        let mut d = DayMove::from_price(&rest_price(1_010, 1_020, 990, 500), day, at(0, 0));
        let trade = |m: i8, s: i8, price: i64| Trade {
            time: at(m, s),
            price,
            volume: 10,
        };
        assert!(d.absorb(&trade(0, 5, 1_030)));
        assert_eq!((d.price, d.high, d.low, d.volume), (1_030, 1_030, 990, 510));
        assert!(!d.absorb(&trade(0, 1, 1_000)), "older than what was taken in");
        assert!(
            !d.absorb(&Trade {
                time: date(2026, 11, 30).at(9, 0, 0, 0),
                price: 1,
                volume: 1
            }),
            "another day"
        );
        let m = d.price_move();
        assert_eq!(
            (m.change, m.change_rate, m.sign),
            (30, 3.0, crate::contract::Sign::Up)
        );
        // A cached REST price read after the trade, but older: the price stays.
        d.merge_price(&rest_price(1_010, 1_020, 980, 505), at(0, 3));
        assert_eq!((d.price, d.low, d.volume), (1_030, 980, 510));
        let bar = d.bar().unwrap();
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close, bar.volume),
            (1_000, 1_030, 980, 1_030, 510)
        );
        assert_eq!(bar.time, day.at(0, 0, 0, 0));
        // At the upper limit.
        assert!(d.absorb(&trade(1, 0, 1_300)));
        assert_eq!(d.price_move().sign, crate::contract::Sign::UpperLimit);
    }
}
