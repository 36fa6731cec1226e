//! A stock's market data — its price, order book and executions — the same over REST (`/price`,
//! `/orderbook`, `/executions`, `/snapshot`) and the WebSocket (`tick`, `orderbook`, `executions`),
//! built from the KIS REST wire types or from the realtime records.

use jiff::civil::Date;
use kis::realtime;
use kis::wire::quotations as rest;
use market::krx;
use serde::Serialize;
use utoipa::ToSchema;

use super::decimal;
use crate::clock::rfc3339;

/// The sign of a change from the base price (KRX 전일대비부호).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    UpperLimit,
    Up,
    Flat,
    LowerLimit,
    Down,
}

impl From<krx::Sign> for Sign {
    fn from(s: krx::Sign) -> Self {
        match s {
            krx::Sign::UpperLimit => Sign::UpperLimit,
            krx::Sign::Up => Sign::Up,
            krx::Sign::Flat => Sign::Flat,
            krx::Sign::LowerLimit => Sign::LowerLimit,
            krx::Sign::Down => Sign::Down,
        }
    }
}

/// The latest price and the day's move: what a REST price and a WebSocket tick share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct PriceMove {
    pub price: i64,
    /// Change from the base price (yesterday's close) in KRW, negative when down.
    pub change: i64,
    /// The change in percent.
    pub change_rate: f64,
    pub sign: Sign,
    pub open: i64,
    pub high: i64,
    pub low: i64,
}

/// A stock's price: `GET /api/v1/stocks/{code}/price` and the snapshot's `price`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Price {
    #[serde(flatten)]
    pub moved: PriceMove,
    /// 기준가: yesterday's close, the base of the day's limits.
    pub base_price: i64,
    pub upper_limit: i64,
    pub lower_limit: i64,
    /// Shares traded today.
    pub volume: u64,
    /// KRW traded today.
    pub turnover: u64,
    /// Trading halted (임시정지 / 거래정지).
    pub halted: bool,
}

impl From<&rest::Price> for Price {
    fn from(p: &rest::Price) -> Self {
        Price {
            moved: PriceMove {
                price: p.price,
                change: p.change,
                change_rate: decimal(p.change_rate),
                sign: p.sign.into(),
                open: p.open,
                high: p.high,
                low: p.low,
            },
            base_price: p.base_price,
            upper_limit: p.upper_limit,
            lower_limit: p.lower_limit,
            volume: p.volume,
            turnover: p.turnover,
            halted: p.halted,
        }
    }
}

/// A price level of the order book (or the auction's expected price): price in KRW and quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Level {
    pub price: i64,
    pub quantity: u64,
}

/// The 10-level order book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderBook {
    /// `null` until the market date is known (the book carries only a time of day).
    #[schema(required = true)]
    pub time: Option<String>,
    /// Best (lowest) first; an empty level has price 0.
    pub asks: Vec<Level>,
    /// Best (highest) first; an empty level has price 0.
    pub bids: Vec<Level>,
    pub total_ask_quantity: u64,
    pub total_bid_quantity: u64,
    /// The auction's expected price and quantity (`null` during continuous trading).
    #[schema(required = true)]
    pub expected: Option<Level>,
}

/// `(price, quantity)` pairs, best first, as levels.
fn levels(side: impl Iterator<Item = (i64, u64)>) -> Vec<Level> {
    side.map(|(price, quantity)| Level { price, quantity }).collect()
}

fn at(date: Option<Date>, time: jiff::civil::Time) -> Option<String> {
    date.map(|d| rfc3339(d.to_datetime(time)))
}

impl OrderBook {
    /// A REST order book; `date`: the current market date.
    pub fn from_rest(b: &rest::OrderBook, date: Option<Date>) -> OrderBook {
        let levels = |side: &[rest::Level; 10]| levels(side.iter().map(|l| (l.price, l.quantity)));
        OrderBook {
            time: at(date, b.time),
            asks: levels(&b.asks),
            bids: levels(&b.bids),
            total_ask_quantity: b.total_ask_quantity,
            total_bid_quantity: b.total_bid_quantity,
            expected: b.expected.map(|(price, quantity)| Level { price, quantity }),
        }
    }

    /// A realtime order book; `date`: the stock's market date (from its latest execution).
    pub fn from_realtime(b: &realtime::OrderBook, date: Option<Date>) -> OrderBook {
        let levels = |side: &[realtime::Level; 10]| levels(side.iter().map(|l| (l.price, l.quantity)));
        OrderBook {
            time: at(date, b.time),
            asks: levels(&b.asks),
            bids: levels(&b.bids),
            total_ask_quantity: b.total_ask_quantity,
            total_bid_quantity: b.total_bid_quantity,
            expected: (b.expected_price > 0).then_some(Level {
                price: b.expected_price,
                quantity: b.expected_volume,
            }),
        }
    }
}

/// Who took liquidity in a trade: a buyer lifting the offer (`buy`) or a seller hitting the bid
/// (`sell`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Buy,
    Sell,
}

/// One execution (체결).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Execution {
    /// The market time of the trade; `null` only over REST before the market date is known (the
    /// REST list carries times of day).
    #[schema(required = true)]
    pub time: Option<String>,
    pub price: i64,
    pub change: i64,
    pub change_rate: f64,
    pub sign: Sign,
    /// This trade's size.
    pub volume: u64,
    /// Who initiated it; `null` where the source does not say (the REST list never does, and a
    /// realtime trade outside the continuous session has no side).
    #[schema(required = true)]
    pub side: Option<Side>,
    /// 체결강도 in percent.
    pub strength: f64,
}

impl Execution {
    /// A trade of the REST list; `date`: the current market date.
    pub fn from_rest(e: &rest::Execution, date: Option<Date>) -> Execution {
        Execution {
            time: at(date, e.time),
            price: e.price,
            change: e.change,
            change_rate: decimal(e.change_rate),
            sign: e.sign.into(),
            volume: e.volume,
            side: None,
            strength: decimal(e.strength),
        }
    }

    /// A realtime trade.
    pub fn from_realtime(e: &realtime::Execution) -> Execution {
        Execution {
            time: Some(rfc3339(e.datetime())),
            price: e.price,
            change: e.change,
            change_rate: decimal(e.change_rate),
            sign: e.sign.into(),
            volume: e.volume,
            side: match e.side {
                realtime::TradeSide::Buy => Some(Side::Buy),
                realtime::TradeSide::Sell => Some(Side::Sell),
                realtime::TradeSide::Other => None,
            },
            strength: decimal(e.strength),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use jiff::civil::date;
    use kis::wire::Request;
    use market::StockCode;
    use serde_json::{Value, json};

    use super::*;

    fn recorded(name: &str) -> Vec<u8> {
        let path = format!("{}/../../testdata/kis/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn code() -> StockCode {
        StockCode::parse("005930").unwrap()
    }

    fn keys(v: &Value) -> BTreeSet<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn a_price_keeps_its_names_and_its_decimals_are_numbers() {
        let p = rest::PriceRequest { code: code() }
            .parse(&recorded("inquire-price.json"))
            .unwrap();
        let v = serde_json::to_value(Price::from(&p)).unwrap();
        assert_eq!(
            keys(&v),
            BTreeSet::from([
                "price",
                "change",
                "sign",
                "change_rate",
                "open",
                "high",
                "low",
                "base_price",
                "upper_limit",
                "lower_limit",
                "volume",
                "turnover",
                "halted",
            ])
        );
        assert!(v["change_rate"].is_f64(), "{v}");
        assert_eq!(
            v["change_rate"],
            json!(p.change_rate.to_string().parse::<f64>().unwrap())
        );
        assert!(v["sign"].is_string() && v["price"].is_i64(), "{v}");
    }

    #[test]
    fn an_execution_has_one_shape_over_rest_and_realtime_with_a_nullable_side() {
        let list = rest::ExecutionsRequest { code: code() }
            .parse(&recorded("inquire-ccnl.json"))
            .unwrap();
        let from_rest =
            serde_json::to_value(Execution::from_rest(&list[0], Some(date(2026, 11, 27)))).unwrap();
        assert_eq!(
            from_rest,
            json!({"time": "2026-11-27T15:59:55+09:00", "price": 78900, "change": 900, "change_rate": 1.15,
                   "sign": "up", "volume": 2, "side": null, "strength": 114.05}),
            "REST has no side: present, null"
        );
        let before_the_day_is_known = serde_json::to_value(Execution::from_rest(&list[0], None)).unwrap();
        assert_eq!(before_the_day_is_known["time"], Value::Null);

        let trade = crate::testdata::execution();
        let live = serde_json::to_value(Execution::from_realtime(&trade)).unwrap();
        assert_eq!(keys(&live), keys(&from_rest), "one shape: {live}");
        assert!(matches!(live["side"].as_str(), Some("buy" | "sell")), "{live}");
        assert!(
            live["strength"].is_f64() && live["change_rate"].is_f64(),
            "{live}"
        );
        let other = realtime::Execution {
            side: realtime::TradeSide::Other,
            ..trade
        };
        assert_eq!(
            serde_json::to_value(Execution::from_realtime(&other)).unwrap()["side"],
            Value::Null,
            "a trade with no side (장전) says null, not \"other\""
        );
    }

    #[test]
    fn an_order_book_names_its_levels_and_an_absent_auction_null() {
        let b = crate::testdata::order_book();
        let v = serde_json::to_value(OrderBook::from_realtime(&b, Some(date(2026, 11, 27)))).unwrap();
        assert_eq!(
            keys(&v),
            BTreeSet::from([
                "time",
                "asks",
                "bids",
                "total_ask_quantity",
                "total_bid_quantity",
                "expected"
            ])
        );
        assert_eq!(v["asks"].as_array().unwrap().len(), 10);
        assert_eq!(
            v["asks"][0],
            json!({"price": 71_500, "quantity": b.asks[0].quantity})
        );
        assert_eq!(v["expected"], Value::Null, "{v}");
        assert_eq!(
            serde_json::to_value(OrderBook::from_realtime(&b, None)).unwrap()["time"],
            Value::Null
        );
    }
}
