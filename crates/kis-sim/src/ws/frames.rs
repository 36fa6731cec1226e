//! Realtime data frames (`docs/kis-wire.md` §7.3–7.5): `0|H0STCNT0|NNN|…` with exactly 46 fields per record and
//! `0|H0STASP0|NNN|…` with exactly 59; several records in one frame are concatenated with `^`.

use std::fmt::Write as _;

use market::krx::Sign;

use crate::codes::{hour_class, session_code};
use crate::format::{hundredths, percent, write_date, write_fixed2, write_time};
use crate::model::{Execution, OrderBook, Quote, Side, StockInfo};

pub const EXECUTION_FIELDS: usize = 46;
pub const ORDER_BOOK_FIELDS: usize = 59;
/// The most records the simulator puts in one frame (the count is three digits).
pub const MAX_RECORDS_PER_FRAME: usize = 30;

/// A record writer: fields separated by `^`.
struct Record<'a> {
    buf: &'a mut String,
    first: bool,
}

impl<'a> Record<'a> {
    fn new(buf: &'a mut String) -> Record<'a> {
        Record { buf, first: true }
    }

    fn sep(&mut self) -> &mut String {
        if !self.first {
            self.buf.push('^');
        }
        self.first = false;
        self.buf
    }

    fn text(&mut self, v: &str) -> &mut Self {
        self.sep().push_str(v);
        self
    }

    fn int(&mut self, v: impl Into<i128>) -> &mut Self {
        let v = v.into();
        let _ = write!(self.sep(), "{v}");
        self
    }

    fn fixed2(&mut self, hundredths: i64) -> &mut Self {
        write_fixed2(self.sep(), hundredths);
        self
    }

    fn time(&mut self, t: jiff::civil::Time) -> &mut Self {
        write_time(self.sep(), t);
        self
    }

    fn date(&mut self, d: jiff::civil::Date) -> &mut Self {
        write_date(self.sep(), d);
        self
    }
}

/// A frame of `records` already-written records of `tr_id`.
pub fn frame(tr_id: &str, records: usize, payload: &str) -> String {
    let mut s = String::with_capacity(payload.len() + 20);
    let _ = write!(s, "0|{tr_id}|{records:03}|");
    s.push_str(payload);
    s
}

fn change_sign(diff: i64) -> i64 {
    Sign::of_change(diff) as i64
}

/// Appends one H0STCNT0 record (46 fields) for a trade. `book` is the current order book (its first
/// level and totals fill fields 36–39).
pub fn write_execution(buf: &mut String, e: &Execution, info: &StockInfo, book: Option<&OrderBook>) {
    let start = buf.len();
    let q: &Quote = &e.state;
    let (ask_qty1, bid_qty1, total_ask, total_bid) = book.map_or((0, 0, 0, 0), |b| {
        (
            b.asks[0].1,
            b.bids[0].1,
            b.total_ask_quantity(),
            b.total_bid_quantity(),
        )
    });
    // 전일 동시간 누적거래량: the previous day's volume prorated over the 390-minute session.
    let minutes = (i64::from(e.time.hour()) * 60 + i64::from(e.time.minute()) - 9 * 60).clamp(0, 390);
    let prev_same_time = (i128::from(q.prev_volume) * i128::from(minutes) / 390) as i64;
    let mut r = Record::new(buf);
    r.text(q.code.as_str())
        .time(e.time)
        .int(e.price)
        .int(q.sign as i64)
        .int(q.change)
        .fixed2(q.change_rate())
        .fixed2(if q.volume == 0 {
            q.price * 100
        } else {
            hundredths(i128::from(q.turnover), i128::from(q.volume))
        })
        .int(q.open)
        .int(q.high)
        .int(q.low)
        .int(q.ask1)
        .int(q.bid1)
        .int(e.volume)
        .int(q.volume)
        .int(q.turnover)
        .int(q.sell_count)
        .int(q.buy_count)
        .int(q.buy_count as i64 - q.sell_count as i64)
        .fixed2(q.strength())
        .int(q.sell_volume)
        .int(q.buy_volume)
        .text(match e.side {
            Side::Buy => "1",
            Side::Sell => "5",
        })
        .fixed2(hundredths(i128::from(q.buy_volume), i128::from(q.volume)))
        .fixed2(hundredths(i128::from(q.volume) * 100, i128::from(q.prev_volume)))
        .time(q.open_time)
        .int(change_sign(q.price - q.open))
        .int(q.price - q.open)
        .time(q.high_time)
        .int(change_sign(q.price - q.high))
        .int(q.price - q.high)
        .time(q.low_time)
        .int(change_sign(q.price - q.low))
        .int(q.price - q.low)
        .date(q.date)
        .text(session_code(q.phase, e.time))
        .text("N")
        .int(ask_qty1)
        .int(bid_qty1)
        .int(total_ask)
        .int(total_bid)
        .fixed2(hundredths(
            i128::from(q.volume) * 100,
            i128::from(info.listed_shares),
        ))
        .int(prev_same_time)
        .fixed2(hundredths(i128::from(q.volume) * 100, i128::from(prev_same_time)))
        .text(hour_class(q.phase))
        .text("")
        .int(q.open);
    debug_assert_eq!(buf[start..].split('^').count(), EXECUTION_FIELDS);
}

/// Appends one H0STASP0 record (59 fields) for a book. Outside an auction the expected price is 0 and
/// its change is minus the base price with sign 5 and -100.00 (as captured from the real server).
pub fn write_order_book(buf: &mut String, book: &OrderBook, q: &Quote) {
    let start = buf.len();
    let (expected_price, expected_qty) = book.expected.unwrap_or((0, 0));
    let change = expected_price - q.prev_close;
    let sign = if expected_price == 0 {
        5
    } else {
        Sign::of(expected_price, &q.limits) as i64
    };
    let mut r = Record::new(buf);
    r.text(q.code.as_str()).time(book.time).text(hour_class(q.phase));
    for &(price, _) in &book.asks {
        r.int(price);
    }
    for &(price, _) in &book.bids {
        r.int(price);
    }
    for &(_, qty) in &book.asks {
        r.int(qty);
    }
    for &(_, qty) in &book.bids {
        r.int(qty);
    }
    r.int(book.total_ask_quantity())
        .int(book.total_bid_quantity())
        .int(0)
        .int(0)
        .int(expected_price)
        .int(expected_qty)
        .int(expected_qty)
        .int(change)
        .int(sign)
        .fixed2(percent(change, q.prev_close))
        .int(q.volume)
        .int(0)
        .int(0)
        .int(0)
        .int(0)
        .text("0");
    debug_assert_eq!(buf[start..].split('^').count(), ORDER_BOOK_FIELDS);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Market, MarketConfig};

    #[test]
    fn records_have_exactly_the_documented_field_counts() {
        let market = Market::new(MarketConfig {
            speed: 50.0,
            ..MarketConfig::default()
        });
        let info = market.stocks()[0];
        market.advance(600);
        let executions = market.executions_after(&info.code, 0);
        let book = market.order_book(&info.code).unwrap();
        let quote = market.quote(&info.code).unwrap();
        let e = executions.last().expect("ten minutes of session have trades");
        let mut one = String::new();
        write_execution(&mut one, e, &info, Some(&book));
        assert_eq!(one.split('^').count(), EXECUTION_FIELDS);
        let mut asp = String::new();
        write_order_book(&mut asp, &book, &quote);
        assert_eq!(asp.split('^').count(), ORDER_BOOK_FIELDS);
        let framed = frame("H0STASP0", 1, &asp);
        assert!(framed.starts_with("0|H0STASP0|001|"));
    }
}
