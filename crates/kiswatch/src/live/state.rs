//! Live state per stock from the realtime feed: the last price and change, the 10-level order book
//! and the latest executions, so that while a stock is realtime its price, order book, executions
//! and snapshot endpoints answer without a REST call.
//!
//! The answers have the REST wire types (`kis::wire::quotations::{Price, OrderBook, Execution}`), the
//! same ones the gateway returns, so an API handler picks its source by the stock's status and
//! renders the same JSON either way:
//!
//! * **price** from the latest trade (H0STCNT0 carries price, change, sign, rate, open/high/low,
//!   cumulative volume and turnover, the halt flag). The base price is `price − change` and the
//!   limits follow from it ([`market::krx::price_limits`]); the fields a trade does not carry
//!   (market name, sector, shares, PER/PBR, foreign ratio) come from one REST price seeded with
//!   [`LiveState::seed_price`], and stay empty until then;
//! * **order book** from the latest H0STASP0 record, whole (each frame carries all ten levels);
//! * **executions** newest first, at most [`LiveState::new`]'s `keep`, as the REST list is.
//!
//! The order-book frame has a time of day only; its date is the market date of the stock's latest
//! trade ([`LiveState::market_date`]). Nothing here reads the clock: `now` is passed in and kept as
//! the last-update time for the status ([`crate::planner::status`]). When a stock stops being
//! realtime, [`LiveState::forget`] it so that old data is never served as live.

use std::collections::{HashMap, VecDeque};

use jiff::civil::Date;
use kis::realtime::{Execution, OrderBook};
use kis::wire::quotations;
use market::StockCode;
use market::krx::{price_limits, tick_size};
use tokio::time::Instant;

/// The fields of a REST price that no realtime record carries.
#[derive(Debug, Clone, PartialEq)]
struct Seed {
    base_price: i64,
    upper_limit: i64,
    lower_limit: i64,
    market_name: String,
    sector: String,
    listed_shares: Option<u64>,
    per: Option<rust_decimal::Decimal>,
    pbr: Option<rust_decimal::Decimal>,
    foreign_ratio: Option<rust_decimal::Decimal>,
}

#[derive(Debug, Clone, Default)]
struct Stock {
    last: Option<Execution>,
    /// Newest first.
    executions: VecDeque<Execution>,
    order_book: Option<OrderBook>,
    seed: Option<Seed>,
    updated_at: Option<Instant>,
}

/// Live state of every realtime stock.
#[derive(Debug, Clone)]
pub struct LiveState {
    keep: usize,
    stocks: HashMap<StockCode, Stock>,
}

impl LiveState {
    /// Keeps the latest `keep` executions per stock (at least 1).
    pub fn new(keep: usize) -> LiveState {
        LiveState {
            keep: keep.max(1),
            stocks: HashMap::new(),
        }
    }

    /// A trade. An older trade than the latest (a replay after a reconnect) joins the list in its
    /// place but does not move the price back.
    pub fn on_execution(&mut self, e: &Execution, now: Instant) {
        let stock = self.stocks.entry(e.code).or_default();
        stock.updated_at = Some(now);
        let newer = stock
            .last
            .as_ref()
            .is_none_or(|last| e.datetime() >= last.datetime());
        if newer {
            stock.last = Some(e.clone());
        }
        let at = stock
            .executions
            .iter()
            .position(|x| x.datetime() <= e.datetime())
            .unwrap_or(stock.executions.len());
        stock.executions.insert(at, e.clone());
        stock.executions.truncate(self.keep);
    }

    /// An order book (replaces the previous one).
    pub fn on_order_book(&mut self, b: &OrderBook, now: Instant) {
        let stock = self.stocks.entry(b.code).or_default();
        stock.updated_at = Some(now);
        stock.order_book = Some(b.clone());
    }

    /// Keeps what a REST price knows and a trade does not (name of market, sector, limits, …).
    pub fn seed_price(&mut self, p: &quotations::Price) {
        let stock = self.stocks.entry(p.code).or_default();
        stock.seed = Some(Seed {
            base_price: p.base_price,
            upper_limit: p.upper_limit,
            lower_limit: p.lower_limit,
            market_name: p.market_name.clone(),
            sector: p.sector.clone(),
            listed_shares: p.listed_shares,
            per: p.per,
            pbr: p.pbr,
            foreign_ratio: p.foreign_ratio,
        });
    }

    /// Drops a stock's live data (it is no longer realtime).
    pub fn forget(&mut self, code: StockCode) {
        self.stocks.remove(&code);
    }

    /// When the stock's last realtime record arrived.
    pub fn last_update(&self, code: StockCode) -> Option<Instant> {
        self.stocks.get(&code).and_then(|s| s.updated_at)
    }

    /// The market date of the stock's latest trade.
    pub fn market_date(&self, code: StockCode) -> Option<Date> {
        self.stocks
            .get(&code)
            .and_then(|s| s.last.as_ref())
            .map(|e| e.business_date)
    }

    /// The latest trade as received.
    pub fn last_execution(&self, code: StockCode) -> Option<&Execution> {
        self.stocks.get(&code).and_then(|s| s.last.as_ref())
    }

    /// The price as the REST endpoint would give it, from the latest trade.
    pub fn price(&self, code: StockCode) -> Option<quotations::Price> {
        let stock = self.stocks.get(&code)?;
        let e = stock.last.as_ref()?;
        let base = e.price - e.change;
        // A seed of another day (its base differs) is not used for the limits.
        let seed = stock.seed.as_ref();
        let (upper, lower) = match seed {
            Some(s) if s.base_price == base => (s.upper_limit, s.lower_limit),
            _ => {
                let l = price_limits(base);
                (l.upper, l.lower)
            }
        };
        Some(quotations::Price {
            code,
            price: e.price,
            change: e.change,
            sign: e.sign,
            change_rate: e.change_rate,
            open: e.open,
            high: e.high,
            low: e.low,
            base_price: base,
            upper_limit: upper,
            lower_limit: lower,
            volume: e.acc_volume,
            turnover: u64::try_from(e.acc_turnover).unwrap_or(0),
            market_name: seed.map(|s| s.market_name.clone()).unwrap_or_default(),
            sector: seed.map(|s| s.sector.clone()).unwrap_or_default(),
            tick: Some(tick_size(e.price)),
            listed_shares: seed.and_then(|s| s.listed_shares),
            per: seed.and_then(|s| s.per),
            pbr: seed.and_then(|s| s.pbr),
            foreign_ratio: seed.and_then(|s| s.foreign_ratio),
            halted: e.halted,
        })
    }

    /// The order book as the REST endpoint would give it.
    pub fn order_book(&self, code: StockCode) -> Option<quotations::OrderBook> {
        let b = self.stocks.get(&code)?.order_book.as_ref()?;
        let levels = |side: &[kis::realtime::Level; 10]| {
            side.map(|l| quotations::Level {
                price: l.price,
                quantity: l.quantity,
            })
        };
        Some(quotations::OrderBook {
            code,
            time: b.time,
            asks: levels(&b.asks),
            bids: levels(&b.bids),
            total_ask_quantity: b.total_ask_quantity,
            total_bid_quantity: b.total_bid_quantity,
            expected: (b.expected_price > 0).then_some((b.expected_price, b.expected_volume)),
        })
    }

    /// The latest executions, newest first, as the REST endpoint would give them.
    pub fn executions(&self, code: StockCode) -> Option<Vec<quotations::Execution>> {
        let stock = self.stocks.get(&code)?;
        if stock.executions.is_empty() {
            return None;
        }
        Some(
            stock
                .executions
                .iter()
                .map(|e| quotations::Execution {
                    time: e.time,
                    price: e.price,
                    change: e.change,
                    sign: e.sign,
                    change_rate: e.change_rate,
                    volume: e.volume,
                    strength: e.strength,
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jiff::civil::{date, time};
    use kis::realtime::messages::Message;
    use market::krx::Sign;
    use rust_decimal::Decimal;

    use super::*;
    use crate::testdata;

    fn code(s: &str) -> StockCode {
        StockCode::parse(s).unwrap()
    }

    #[test]
    fn price_from_a_recorded_trade() {
        let mut live = LiveState::new(20);
        let t0 = Instant::now();
        let e = testdata::execution();
        live.on_execution(&e, t0);
        let p = live.price(code("005930")).unwrap();
        assert_eq!((p.price, p.change, p.sign), (250500, -19500, Sign::Down));
        assert_eq!(p.change_rate, Decimal::new(-722, 2));
        assert_eq!((p.open, p.high, p.low), (266000, 266500, 248500));
        // Base = 250,500 + 19,500; limits ±30 % on the tick grid.
        assert_eq!(
            (p.base_price, p.upper_limit, p.lower_limit),
            (270000, 351000, 189000)
        );
        assert_eq!((p.volume, p.turnover), (11_701_513, 3_013_709_268_750));
        assert_eq!(p.tick, Some(500));
        assert!(p.market_name.is_empty());
        assert_eq!(live.market_date(code("005930")), Some(date(2026, 7, 24)));
        assert_eq!(live.last_update(code("005930")), Some(t0));
        assert!(live.order_book(code("005930")).is_none());
        assert!(live.price(code("000660")).is_none());
    }

    #[test]
    fn a_rest_seed_fills_what_trades_do_not_carry() {
        let mut live = LiveState::new(20);
        let e = testdata::execution();
        live.on_execution(&e, Instant::now());
        let mut seed = live.price(e.code).unwrap();
        seed.market_name = "KOSPI200".into();
        seed.sector = "전기·전자".into();
        seed.upper_limit = 351_000;
        seed.listed_shares = Some(5_919_637_922);
        live.seed_price(&seed);
        let p = live.price(e.code).unwrap();
        assert_eq!(p.market_name, "KOSPI200");
        assert_eq!(p.listed_shares, Some(5_919_637_922));
        // A seed from another day (another base) does not set today's limits.
        seed.base_price = 1;
        seed.upper_limit = 2;
        live.seed_price(&seed);
        assert_eq!(live.price(e.code).unwrap().upper_limit, 351_000);
    }

    #[test]
    fn order_book_from_a_recorded_frame() {
        let mut live = LiveState::new(20);
        let b = testdata::order_book();
        live.on_order_book(&b, Instant::now());
        let book = live.order_book(code("005930")).unwrap();
        assert_eq!(book.time, time(12, 7, 55, 0));
        assert_eq!((book.asks[0].price, book.asks[0].quantity), (71500, 224894));
        assert_eq!(book.asks[9].price, 72400);
        assert_eq!((book.bids[0].price, book.bids[9].price), (71400, 70500));
        assert_eq!(
            (book.total_ask_quantity, book.total_bid_quantity),
            (1420444, 2954464)
        );
        // During continuous trading there is no expected price.
        assert_eq!(book.expected, None);
    }

    #[test]
    fn executions_newest_first_and_capped() {
        let mut live = LiveState::new(3);
        let base = testdata::execution();
        let t0 = Instant::now();
        for (i, secs) in [10, 20, 30, 40, 25].into_iter().enumerate() {
            let mut e = base.clone();
            e.time = time(11, 0, secs, 0);
            e.price = 250_000 + i as i64 * 500;
            live.on_execution(&e, t0 + Duration::from_secs(i as u64));
        }
        let list = live.executions(base.code).unwrap();
        let times: Vec<_> = list.iter().map(|e| e.time.second()).collect();
        assert_eq!(times, [40, 30, 25]);
        // The late (25 s) trade did not move the price back.
        assert_eq!(live.price(base.code).unwrap().price, 251_500);
        live.forget(base.code);
        assert!(live.executions(base.code).is_none());
        assert!(live.last_update(base.code).is_none());
    }

    #[test]
    fn every_recorded_frame_builds_state() {
        // The 46-field frames (two records in one frame) and both captured order books.
        let mut live = LiveState::new(10);
        let files = [
            "ws-frame-H0STCNT0-captured-20230324.txt",
            "ws-frame-H0STCNT0-captured-20260724.txt",
            "ws-frame-H0STCNT0-SYNTHETIC-46fields.txt",
            "ws-frame-H0STASP0-captured-a.txt",
            "ws-frame-H0STASP0-captured-b.txt",
        ];
        let mut trades = 0;
        for f in files {
            for m in testdata::messages(f) {
                match m {
                    Message::Execution(e) => {
                        live.on_execution(&e, Instant::now());
                        trades += 1;
                    }
                    Message::OrderBook(b) => live.on_order_book(&b, Instant::now()),
                    Message::Notice(_) => {}
                }
            }
        }
        let samsung = code("005930");
        assert!(trades >= 4, "{trades}");
        assert_eq!(live.executions(samsung).unwrap().len(), trades.min(10));
        // The newest trade of all files is 2026-07-24's.
        assert_eq!(live.price(samsung).unwrap().price, 250500);
        assert_eq!(live.order_book(samsung).unwrap().time, time(12, 7, 55, 0));
    }
}
