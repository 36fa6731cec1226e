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
//! `trigger_unstored` | `status` | `error`. A `trigger_unstored` is a trigger the store could not
//! write yet (`"persisted": false`, no id, its `key`); the same trigger comes again as a `trigger`
//! with its id once stored. Every number is a JSON number, times are RFC 3339 with `+09:00`, and a stock
//! appears as `code` + `name`. A bad request gets an `error` message naming what was wrong and the
//! connection stays open; nothing of a rejected request is applied.

use std::fmt;

use jiff::civil::Date;
use kis::realtime::{Execution, OrderBook};
use market::{Period, StockCode};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::clock::rfc3339;
use crate::contract::{
    self, Candle, FeedStatus, PriceMove, Trigger, UnstoredTrigger, UpstreamState, decimal,
};
use crate::status::StockStatus;

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
    /// `{"op":"subscribe","channels":["scan:<id>",…]}` (no codes): a market scan's 편입/이탈 events
    /// and sweeps.
    SubscribeScans {
        conditions: Vec<u64>,
    },
    UnsubscribeScans {
        conditions: Vec<u64>,
    },
    /// `{"op":"resume","after_scan_event_id":N}`: the subscribed scans' stored events after N.
    ResumeScans {
        after_scan_event_id: u64,
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
    #[error(
        "bad scan channel {value:?} at channels[{index}]: scan:<condition id> channels go without codes and without stock channels"
    )]
    BadScanChannel { index: usize, value: String },
    #[error("resume takes after_trigger_id or after_scan_event_id, one per message")]
    ResumeBoth,
}

impl ProtocolError {
    /// The stable machine-readable code of the `error` message.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::NotJson(_) | ProtocolError::NotAnObject => "bad_json",
            ProtocolError::MissingOp | ProtocolError::UnknownOp(_) => "unknown_op",
            ProtocolError::BadCode { .. } => "bad_code",
            ProtocolError::BadChannel { .. } | ProtocolError::BadScanChannel { .. } => "bad_channel",
            ProtocolError::MissingField { .. }
            | ProtocolError::WrongType { .. }
            | ProtocolError::Empty { .. }
            | ProtocolError::TooManyCodes { .. }
            | ProtocolError::ResumeBoth => "bad_request",
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
    if matches!(op, "subscribe" | "unsubscribe")
        && let Some(conditions) = scan_channels(
            &obj,
            if op == "subscribe" {
                "subscribe"
            } else {
                "unsubscribe"
            },
        )?
    {
        return Ok(if op == "subscribe" {
            ClientOp::SubscribeScans { conditions }
        } else {
            ClientOp::UnsubscribeScans { conditions }
        });
    }
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
        "resume" if obj.contains_key("after_scan_event_id") => {
            if obj.contains_key("after_trigger_id") {
                return Err(ProtocolError::ResumeBoth);
            }
            let field = "after_scan_event_id";
            let after_scan_event_id = obj[field].as_u64().ok_or(ProtocolError::WrongType {
                op: "resume",
                field,
                expected: "a non-negative integer",
            })?;
            Ok(ClientOp::ResumeScans { after_scan_event_id })
        }
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

/// The condition ids of a request whose channels are all `scan:<id>` (`None`: no scan channel in
/// it); scan channels mixed with stock channels, or sent with codes, are refused.
fn scan_channels(obj: &Map<String, Value>, op: &'static str) -> Result<Option<Vec<u64>>, ProtocolError> {
    let Some(raw) = string_array(obj, op, "channels")? else {
        return Ok(None);
    };
    if !raw.iter().any(|c| c.starts_with("scan:")) {
        return Ok(None);
    }
    let with_codes = obj
        .get("codes")
        .is_some_and(|c| c.as_array().is_none_or(|a| !a.is_empty()));
    let mut out = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let id = value
            .strip_prefix("scan:")
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|_| !with_codes)
            .ok_or_else(|| ProtocolError::BadScanChannel {
                index,
                value: value.chars().take(20).collect(),
            })?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(Some(out))
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
// Server → client: the shapes are the contract's ([`crate::contract`]), so the OpenAPI document
// lists them (as components) and the browser's types are generated from it.

/// Every message the server sends, told apart by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Tick(TickMessage),
    #[serde(rename = "orderbook")]
    OrderBook(OrderBookMessage),
    Executions(ExecutionsMessage),
    Candle(CandleMessage),
    Trigger(Trigger),
    /// A trigger delivered before the store could write it (see [`UnstoredTrigger`]).
    TriggerUnstored(UnstoredTrigger),
    Status(StatusMessage),
    Error(ErrorMessage),
    /// A stock entering or leaving a market scan's result set (`scan:<id>` subscribers).
    ScanEvent(crate::contract::ScanEvent),
    /// A market scan swept the universe (`scan:<id>` subscribers refetch the matches).
    ScanSweep(crate::contract::ScanSweep),
}

impl ServerMessage {
    pub fn to_text(&self) -> String {
        // Serialising these plain structs cannot fail (string keys, finite or null numbers).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The latest trade of a stock, with the day's move.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TickMessage {
    #[schema(value_type = String)]
    pub code: StockCode,
    pub name: String,
    pub time: String,
    #[serde(flatten)]
    pub moved: PriceMove,
    /// This trade's size.
    pub volume: u64,
    /// Shares traded today.
    pub acc_volume: u64,
    /// KRW traded today (거래대금).
    pub acc_turnover: u64,
}

impl TickMessage {
    pub fn from_execution(e: &Execution, name: &str) -> TickMessage {
        TickMessage {
            code: e.code,
            name: name.to_owned(),
            time: rfc3339(e.datetime()),
            moved: PriceMove {
                price: e.price,
                change: e.change,
                change_rate: decimal(e.change_rate),
                sign: e.sign.into(),
                open: e.open,
                high: e.high,
                low: e.low,
            },
            volume: e.volume,
            acc_volume: e.acc_volume,
            acc_turnover: u64::try_from(e.acc_turnover).unwrap_or(0),
        }
    }
}

/// A stock's order book.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrderBookMessage {
    #[schema(value_type = String)]
    pub code: StockCode,
    pub name: String,
    #[serde(flatten)]
    pub book: contract::OrderBook,
}

impl OrderBookMessage {
    /// `date`: the market date of the book (from the stock's latest execution).
    pub fn from_order_book(b: &OrderBook, name: &str, date: Option<Date>) -> OrderBookMessage {
        OrderBookMessage {
            code: b.code,
            name: name.to_owned(),
            book: contract::OrderBook::from_realtime(b, date),
        }
    }
}

/// Trades of a stock, oldest first (one or more, batched while the client lags). The hub writes
/// this message from pre-serialised [`contract::Execution`]s (`executions_prefix` in the fan-out).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExecutionsMessage {
    #[schema(value_type = String)]
    pub code: StockCode,
    pub name: String,
    pub executions: Vec<contract::Execution>,
}

/// The forming (or just closed) bar of a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CandleMessage {
    #[schema(value_type = String)]
    pub code: StockCode,
    pub name: String,
    pub period: &'static str,
    /// No averages: the browser computes a live bar's from the closes it shows.
    pub candle: Candle,
    /// `true` once the bar is final.
    pub closed: bool,
}

impl CandleMessage {
    pub fn new(
        code: StockCode,
        name: &str,
        period: Period,
        candle: &market::Candle,
        closed: bool,
    ) -> CandleMessage {
        CandleMessage {
            code,
            name: name.to_owned(),
            period: period.as_str(),
            candle: Candle::from(candle),
            closed,
        }
    }
}

/// One stock's status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockStatusEntry {
    #[schema(value_type = String)]
    pub code: StockCode,
    #[serde(flatten)]
    pub feed: FeedStatus,
}

impl StockStatusEntry {
    pub fn new(code: StockCode, s: StockStatus) -> StockStatusEntry {
        StockStatusEntry { code, feed: s }
    }
}

/// Upstream state and/or stocks' statuses (each part left out when it has nothing to say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upstream: Option<UpstreamState>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub stocks: Vec<StockStatusEntry>,
}

/// A refused request (nothing of it was applied; the connection stays open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorMessage {
    /// `bad_json`, `unknown_op`, `bad_code`, `bad_channel` or `bad_request`.
    pub code: &'static str,
    /// For a developer reading the browser console.
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
    fn scan_channels_go_without_codes_and_resume_on_their_own() {
        assert_eq!(
            parse_client_op(r#"{"op":"subscribe","channels":["scan:3","scan:12","scan:3"]}"#),
            Ok(ClientOp::SubscribeScans {
                conditions: vec![3, 12]
            })
        );
        assert_eq!(
            parse_client_op(r#"{"op":"unsubscribe","codes":[],"channels":["scan:3"]}"#),
            Ok(ClientOp::UnsubscribeScans { conditions: vec![3] })
        );
        assert_eq!(
            parse_client_op(r#"{"op":"resume","after_scan_event_id":40}"#),
            Ok(ClientOp::ResumeScans {
                after_scan_event_id: 40
            })
        );
        for bad in [
            r#"{"op":"subscribe","channels":["scan:3","tick"]}"#,
            r#"{"op":"subscribe","codes":["005930"],"channels":["scan:3"]}"#,
            r#"{"op":"subscribe","channels":["scan:x"]}"#,
        ] {
            let e = parse_client_op(bad).unwrap_err();
            assert_eq!(e.code(), "bad_channel", "{bad}: {e}");
        }
        assert_eq!(
            parse_client_op(r#"{"op":"resume","after_trigger_id":1,"after_scan_event_id":2}"#),
            Err(ProtocolError::ResumeBoth)
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
            id: 7,
            fired: crate::contract::Fired {
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
                message: String::new(),
                message_ko: String::new(),
            },
            acked: false,
            recorded_at: String::new(),
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
        let s = ServerMessage::Status(StatusMessage {
            upstream: None,
            stocks: vec![StockStatusEntry::new(
                c("005930"),
                StockStatus {
                    state: crate::status::FeedState::Stale,
                    age_ms: None,
                    bound_ms: Some(8_000),
                },
            )],
        });
        assert_eq!(
            s.to_text(),
            r#"{"type":"status","stocks":[{"code":"005930","status":"stale","age_ms":null,"bound_ms":8000}]}"#
        );
        let e = crate::testdata::execution();
        let tick = ServerMessage::Tick(TickMessage::from_execution(&e, "삼성전자")).to_text();
        assert!(
            tick.starts_with(r#"{"type":"tick","code":"005930","name":"삼성전자","time":"#),
            "{tick}"
        );
        let tick: Value = serde_json::from_str(&tick).unwrap();
        assert!(tick["change_rate"].is_f64() && tick["sign"].is_string(), "{tick}");
        assert_eq!(
            (tick["volume"].as_u64(), tick["acc_volume"].as_u64()),
            (Some(e.volume), Some(e.acc_volume))
        );
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
