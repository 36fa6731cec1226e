//! The browser WebSocket protocol of `/api/v1/ws` (docs/design.md, "The external contract").
//!
//! Client → server, one JSON object per text frame:
//!
//! ```json
//! {"op":"subscribe","codes":["005930"],"channels":["tick","orderbook","executions","candle:30m"]}
//! {"op":"unsubscribe","codes":["005930"]}            // channels optional: all of them
//! {"op":"resume","after_trigger_id":41}
//! ```
//!
//! Server → client: objects with `type` `tick` | `orderbook` | `executions` | `candle` | `trigger` |
//! `status` | `error`. Every number is a JSON number, times are RFC 3339 with `+09:00`, and a stock
//! appears as `code` + `name`. A bad request gets an `error` message naming what was wrong and the
//! connection stays open; nothing of a rejected request is applied.

use std::fmt;

use jiff::civil::Date;
use kis::realtime::{Execution, OrderBook, TradeSide};
use market::krx::Sign;
use market::{Candle, Period, StockCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::rfc3339;
use crate::contract::{Trigger, decimal};
use crate::status::{StockStatus, UpstreamState};

/// The most codes one request may name (a page of watchlist rows, with room to spare).
pub const MAX_CODES_PER_REQUEST: usize = 200;

/// A market-data stream a browser can subscribe to for a stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BrowserChannel {
    /// Every trade's price (coalesced for a lagging client).
    Tick,
    /// The 10-level order book (coalesced for a lagging client).
    OrderBook,
    /// Trades, batched for a lagging client.
    Executions,
    /// The forming bar of a period (coalesced per period).
    Candle(Period),
}

impl BrowserChannel {
    pub fn parse(s: &str) -> Option<BrowserChannel> {
        match s {
            "tick" => Some(BrowserChannel::Tick),
            "orderbook" => Some(BrowserChannel::OrderBook),
            "executions" => Some(BrowserChannel::Executions),
            _ => {
                let period = s.strip_prefix("candle:")?;
                Period::parse(period).ok().map(BrowserChannel::Candle)
            }
        }
    }

    /// Whether a subscription to this channel means a stock's detail page is open (it needs the
    /// executions and order book registrations; ticks and candles are also shown on lists).
    pub fn is_detail(self) -> bool {
        matches!(self, BrowserChannel::OrderBook | BrowserChannel::Executions)
    }
}

impl fmt::Display for BrowserChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrowserChannel::Tick => f.write_str("tick"),
            BrowserChannel::OrderBook => f.write_str("orderbook"),
            BrowserChannel::Executions => f.write_str("executions"),
            BrowserChannel::Candle(p) => write!(f, "candle:{}", p.as_str()),
        }
    }
}

/// A parsed client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOp {
    Subscribe {
        codes: Vec<StockCode>,
        channels: Vec<BrowserChannel>,
    },
    /// `channels: None` removes every channel of those codes.
    Unsubscribe {
        codes: Vec<StockCode>,
        channels: Option<Vec<BrowserChannel>>,
    },
    Resume {
        after_trigger_id: u64,
    },
}

/// Why a client request was refused. The message is for a developer reading the browser console.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected a JSON object with an \"op\" field")]
    NotAnObject,
    #[error("missing \"op\" (expected subscribe, unsubscribe or resume)")]
    MissingOp,
    #[error("unknown op {0:?} (expected subscribe, unsubscribe or resume)")]
    UnknownOp(String),
    #[error("{op}: missing {field:?}")]
    MissingField { op: &'static str, field: &'static str },
    #[error("{op}: {field:?} must be {expected}")]
    WrongType {
        op: &'static str,
        field: &'static str,
        expected: &'static str,
    },
    #[error("bad code {value:?} at codes[{index}]: {reason}")]
    BadCode {
        index: usize,
        value: String,
        reason: String,
    },
    #[error(
        "bad channel {value:?} at channels[{index}] (expected tick, orderbook, executions or candle:<period> with a period of 1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W, M)"
    )]
    BadChannel { index: usize, value: String },
    #[error("{op}: {field:?} is empty")]
    Empty { op: &'static str, field: &'static str },
    #[error("too many codes: {count} (at most {max} per request)")]
    TooManyCodes { count: usize, max: usize },
}

impl ProtocolError {
    /// The stable machine-readable code of the `error` message.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::NotJson(_) | ProtocolError::NotAnObject => "bad_json",
            ProtocolError::MissingOp | ProtocolError::UnknownOp(_) => "unknown_op",
            ProtocolError::BadCode { .. } => "bad_code",
            ProtocolError::BadChannel { .. } => "bad_channel",
            ProtocolError::MissingField { .. }
            | ProtocolError::WrongType { .. }
            | ProtocolError::Empty { .. }
            | ProtocolError::TooManyCodes { .. } => "bad_request",
        }
    }
}

/// Reads one client text frame.
pub fn parse_client_op(text: &str) -> Result<ClientOp, ProtocolError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ProtocolError::NotJson(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(ProtocolError::NotAnObject);
    };
    let op = match obj.get("op") {
        None => return Err(ProtocolError::MissingOp),
        Some(Value::String(op)) => op.as_str(),
        Some(other) => return Err(ProtocolError::UnknownOp(other.to_string())),
    };
    match op {
        "subscribe" => Ok(ClientOp::Subscribe {
            codes: codes(&obj, "subscribe")?,
            channels: channels(&obj, "subscribe")?.ok_or(ProtocolError::MissingField {
                op: "subscribe",
                field: "channels",
            })?,
        }),
        "unsubscribe" => Ok(ClientOp::Unsubscribe {
            codes: codes(&obj, "unsubscribe")?,
            channels: channels(&obj, "unsubscribe")?,
        }),
        "resume" => {
            let field = "after_trigger_id";
            let id = obj
                .get(field)
                .ok_or(ProtocolError::MissingField { op: "resume", field })?;
            let after_trigger_id = id.as_u64().ok_or(ProtocolError::WrongType {
                op: "resume",
                field,
                expected: "a non-negative integer",
            })?;
            Ok(ClientOp::Resume { after_trigger_id })
        }
        other => Err(ProtocolError::UnknownOp(other.to_owned())),
    }
}

fn string_array<'a>(
    obj: &'a Map<String, Value>,
    op: &'static str,
    field: &'static str,
) -> Result<Option<Vec<&'a str>>, ProtocolError> {
    let Some(value) = obj.get(field) else {
        return Ok(None);
    };
    let wrong = ProtocolError::WrongType {
        op,
        field,
        expected: "an array of strings",
    };
    let items = value.as_array().ok_or(wrong.clone())?;
    let strings = items
        .iter()
        .map(|v| v.as_str().ok_or(wrong.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    if strings.is_empty() {
        return Err(ProtocolError::Empty { op, field });
    }
    Ok(Some(strings))
}

fn codes(obj: &Map<String, Value>, op: &'static str) -> Result<Vec<StockCode>, ProtocolError> {
    let raw = string_array(obj, op, "codes")?.ok_or(ProtocolError::MissingField { op, field: "codes" })?;
    if raw.len() > MAX_CODES_PER_REQUEST {
        return Err(ProtocolError::TooManyCodes {
            count: raw.len(),
            max: MAX_CODES_PER_REQUEST,
        });
    }
    let mut out = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let code = StockCode::parse(value).map_err(|e| ProtocolError::BadCode {
            index,
            value: value.chars().take(20).collect(),
            reason: e.to_string(),
        })?;
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

fn channels(
    obj: &Map<String, Value>,
    op: &'static str,
) -> Result<Option<Vec<BrowserChannel>>, ProtocolError> {
    let Some(raw) = string_array(obj, op, "channels")? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let channel = BrowserChannel::parse(value).ok_or_else(|| ProtocolError::BadChannel {
            index,
            value: value.chars().take(20).collect(),
        })?;
        if !out.contains(&channel) {
            out.push(channel);
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// Server → client.

/// The API's name of a KRX change sign (`up`, `down`, …), for the HTTP API and the WebSocket alike.
pub fn sign_name(s: Sign) -> &'static str {
    match s {
        Sign::UpperLimit => "upper_limit",
        Sign::Up => "up",
        Sign::Flat => "flat",
        Sign::LowerLimit => "lower_limit",
        Sign::Down => "down",
    }
}

/// Every message the server sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Tick(TickMessage),
    #[serde(rename = "orderbook")]
    OrderBook(OrderBookMessage),
    Executions(ExecutionsMessage),
    Candle(CandleMessage),
    Trigger(Trigger),
    Status(StatusMessage),
    Error(ErrorMessage),
}

impl ServerMessage {
    pub fn to_text(&self) -> String {
        // Serialising these plain structs cannot fail (string keys, finite or null numbers).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The latest trade of a stock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickMessage {
    pub code: StockCode,
    pub name: String,
    pub time: String,
    pub price: i64,
    pub change: i64,
    pub change_rate: f64,
    pub sign: &'static str,
    /// This trade's size.
    pub volume: u64,
    /// Shares traded today.
    pub acc_volume: u64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
}

impl TickMessage {
    pub fn from_execution(e: &Execution, name: &str) -> TickMessage {
        TickMessage {
            code: e.code,
            name: name.to_owned(),
            time: rfc3339(e.datetime()),
            price: e.price,
            change: e.change,
            change_rate: decimal(e.change_rate),
            sign: sign_name(e.sign),
            volume: e.volume,
            acc_volume: e.acc_volume,
            open: e.open,
            high: e.high,
            low: e.low,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LevelMessage {
    pub price: i64,
    pub quantity: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExpectedMessage {
    pub price: i64,
    pub quantity: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderBookMessage {
    pub code: StockCode,
    pub name: String,
    /// `null` until the market date is known (the order-book frame carries only a time of day).
    pub time: Option<String>,
    /// Best first.
    pub asks: Vec<LevelMessage>,
    pub bids: Vec<LevelMessage>,
    pub total_ask_quantity: u64,
    pub total_bid_quantity: u64,
    /// The auction's expected price and quantity (`null` during continuous trading).
    pub expected: Option<ExpectedMessage>,
}

impl OrderBookMessage {
    /// `date`: the market date of the book (from the stock's latest execution).
    pub fn from_order_book(b: &OrderBook, name: &str, date: Option<Date>) -> OrderBookMessage {
        let levels = |side: &[kis::realtime::Level; 10]| {
            side.iter()
                .map(|l| LevelMessage {
                    price: l.price,
                    quantity: l.quantity,
                })
                .collect()
        };
        OrderBookMessage {
            code: b.code,
            name: name.to_owned(),
            time: date.map(|d| rfc3339(d.to_datetime(b.time))),
            asks: levels(&b.asks),
            bids: levels(&b.bids),
            total_ask_quantity: b.total_ask_quantity,
            total_bid_quantity: b.total_bid_quantity,
            expected: (b.expected_price > 0).then_some(ExpectedMessage {
                price: b.expected_price,
                quantity: b.expected_volume,
            }),
        }
    }
}

/// One trade in an `executions` message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionItem {
    pub time: String,
    pub price: i64,
    pub change: i64,
    pub change_rate: f64,
    pub sign: &'static str,
    pub volume: u64,
    pub side: TradeSide,
    /// 체결강도 in percent.
    pub strength: f64,
}

impl ExecutionItem {
    pub fn from_execution(e: &Execution) -> ExecutionItem {
        ExecutionItem {
            time: rfc3339(e.datetime()),
            price: e.price,
            change: e.change,
            change_rate: decimal(e.change_rate),
            sign: sign_name(e.sign),
            volume: e.volume,
            side: e.side,
            strength: decimal(e.strength),
        }
    }
}

/// Trades of a stock, oldest first (one or more, batched while the client lags).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionsMessage {
    pub code: StockCode,
    pub name: String,
    pub executions: Vec<ExecutionItem>,
}

/// The forming (or just closed) bar of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandleMessage {
    pub code: StockCode,
    pub name: String,
    pub period: &'static str,
    pub candle: CandleBody,
    /// `true` once the bar is final.
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandleBody {
    pub time: String,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
}

impl CandleMessage {
    pub fn new(code: StockCode, name: &str, period: Period, candle: &Candle, closed: bool) -> CandleMessage {
        CandleMessage {
            code,
            name: name.to_owned(),
            period: period.as_str(),
            candle: CandleBody {
                time: rfc3339(candle.time),
                open: candle.open,
                high: candle.high,
                low: candle.low,
                close: candle.close,
                volume: candle.volume,
            },
            closed,
        }
    }
}

/// One stock's status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockStatusEntry {
    pub code: StockCode,
    pub status: &'static str,
    pub age_ms: Option<u64>,
    pub bound_ms: Option<u64>,
}

impl StockStatusEntry {
    pub fn new(code: StockCode, s: StockStatus) -> StockStatusEntry {
        StockStatusEntry {
            code,
            status: s.state.as_str(),
            age_ms: s.age_ms,
            bound_ms: s.bound_ms,
        }
    }
}

/// Upstream state and/or stocks' statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamState>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stocks: Vec<StockStatusEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorMessage {
    pub code: &'static str,
    pub message: String,
}

impl From<&ProtocolError> for ErrorMessage {
    fn from(e: &ProtocolError) -> ErrorMessage {
        ErrorMessage {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(s: &str) -> StockCode {
        StockCode::parse(s).unwrap()
    }

    #[test]
    fn the_three_ops() {
        let op = parse_client_op(
            r#"{"op":"subscribe","codes":["005930","000660","005930"],"channels":["tick","orderbook","executions","candle:30m"]}"#,
        )
        .unwrap();
        assert_eq!(
            op,
            ClientOp::Subscribe {
                codes: vec![c("005930"), c("000660")],
                channels: vec![
                    BrowserChannel::Tick,
                    BrowserChannel::OrderBook,
                    BrowserChannel::Executions,
                    BrowserChannel::Candle(Period::M30)
                ],
            }
        );
        assert_eq!(
            parse_client_op(r#"{"op":"unsubscribe","codes":["005930"]}"#).unwrap(),
            ClientOp::Unsubscribe {
                codes: vec![c("005930")],
                channels: None
            }
        );
        assert_eq!(
            parse_client_op(r#"{"op":"resume","after_trigger_id":41}"#).unwrap(),
            ClientOp::Resume { after_trigger_id: 41 }
        );
    }

    #[test]
    fn bad_input_is_named() {
        let err = |t: &str| parse_client_op(t).unwrap_err();
        assert!(matches!(err("{"), ProtocolError::NotJson(_)));
        assert_eq!(err("[1]"), ProtocolError::NotAnObject);
        assert_eq!(err(r#"{"codes":[]}"#), ProtocolError::MissingOp);
        assert_eq!(err(r#"{"op":"sub"}"#), ProtocolError::UnknownOp("sub".into()));
        let e = err(r#"{"op":"subscribe","codes":["005930","12"],"channels":["tick"]}"#);
        assert!(
            matches!(&e, ProtocolError::BadCode { index: 1, value, .. } if value == "12"),
            "{e}"
        );
        assert_eq!(e.code(), "bad_code");
        let e = err(r#"{"op":"subscribe","codes":["005930"],"channels":["tick","candle:7m"]}"#);
        assert_eq!(
            e,
            ProtocolError::BadChannel {
                index: 1,
                value: "candle:7m".into()
            }
        );
        assert!(e.to_string().contains("candle:<period>"));
        assert_eq!(
            err(r#"{"op":"subscribe","codes":["005930"]}"#),
            ProtocolError::MissingField {
                op: "subscribe",
                field: "channels"
            }
        );
        assert_eq!(
            err(r#"{"op":"subscribe","codes":[],"channels":["tick"]}"#),
            ProtocolError::Empty {
                op: "subscribe",
                field: "codes"
            }
        );
        assert!(matches!(
            err(r#"{"op":"resume","after_trigger_id":-1}"#),
            ProtocolError::WrongType { .. }
        ));
        let many: Vec<String> = (0..201).map(|i| format!("\"{:06}\"", i)).collect();
        let text = format!(r#"{{"op":"unsubscribe","codes":[{}]}}"#, many.join(","));
        assert_eq!(err(&text), ProtocolError::TooManyCodes { count: 201, max: 200 });
    }

    #[test]
    fn server_messages_carry_their_type_and_numbers() {
        let e = ErrorMessage::from(&ProtocolError::UnknownOp("x".into()));
        let text = ServerMessage::Error(e).to_text();
        assert_eq!(
            text,
            r#"{"type":"error","code":"unknown_op","message":"unknown op \"x\" (expected subscribe, unsubscribe or resume)"}"#
        );
        let t = ServerMessage::Trigger(crate::contract::Trigger {
            id: Some(7),
            code: "005930".into(),
            name: "삼성전자".into(),
            condition_id: 1,
            condition_name: "정배열".into(),
            period: "1m".into(),
            bar_time: "2026-11-27T09:30:00+09:00".into(),
            time: "2026-11-27T09:30:05+09:00".into(),
            price: 1_000,
            values: crate::contract::TriggerValues(vec![("ma(60)".into(), 2.0), ("ma(20)".into(), 1.0)]),
            late: false,
            acked: false,
            message: String::new(),
            message_ko: String::new(),
            recorded_at: Some(String::new()),
            persisted: true,
            key: String::new(),
        })
        .to_text();
        assert!(
            t.starts_with(r#"{"type":"trigger","id":7,"code":"005930","#),
            "{t}"
        );
        assert!(
            t.contains(r#""values":{"ma(60)":2.0,"ma(20)":1.0}"#),
            "the condition's order: {t}"
        );
        let s = ServerMessage::Status(StatusMessage {
            upstream: Some(UpstreamState::Reconnecting),
            stocks: vec![],
        });
        assert_eq!(s.to_text(), r#"{"type":"status","upstream":"reconnecting"}"#);
        for ch in ["tick", "orderbook", "executions", "candle:D", "candle:1m"] {
            assert_eq!(BrowserChannel::parse(ch).unwrap().to_string(), ch);
        }
    }

    proptest! {
        /// Any text gets an op or a specific error, never a panic.
        #[test]
        fn any_text_parses_or_errs(text in ".{0,200}") {
            let _ = parse_client_op(&text);
        }

        #[test]
        fn any_json_shape_parses_or_errs(
            op in prop_oneof![Just("subscribe".to_owned()), Just("unsubscribe".to_owned()), Just("resume".to_owned()), ".{0,8}"],
            codes in proptest::collection::vec("[0-9A-Z]{0,8}", 0..5),
            channels in proptest::collection::vec(prop_oneof![Just("tick".to_owned()), Just("candle:30m".to_owned()), ".{0,10}"], 0..5),
            id in any::<i64>(),
        ) {
            let text = serde_json::json!({"op": op, "codes": codes, "channels": channels, "after_trigger_id": id}).to_string();
            if let Ok(ClientOp::Subscribe { codes: parsed, channels: chans }) = parse_client_op(&text) {
                prop_assert!(!parsed.is_empty() && !chans.is_empty());
            }
        }
    }
}
