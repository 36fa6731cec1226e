//! `/api/v1/stocks/...`: a stock's facts, price, order book, executions, the one-call snapshot, and
//! candles with moving averages; search.

use axum::Json;
use axum::extract::{Path, Query, State};
use kis::Priority;
use kis::wire::quotations::{Execution, OrderBook, Price};
use market::search::{MAX_LIMIT, SearchError};
use market::{Period, StockCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ErrorBody;
use super::{ApiError, ApiResult, AppState, parse_code};
use crate::candles::{self, DEFAULT_COUNT, MAX_COUNT};
use crate::clock::rfc3339;
use crate::hub::protocol::sign_name as sign;

/// A decimal from KIS (`Decimal`) as a JSON number.
fn num(d: impl std::fmt::Display) -> Value {
    d.to_string().parse::<f64>().map_or(Value::Null, |f| json!(f))
}

/// The market time of a time of day on the current trading day.
fn market_time(state: &AppState, t: jiff::civil::Time) -> Value {
    match state.gateway.clock.today() {
        Some(d) => json!(rfc3339(d.to_datetime(t))),
        None => Value::Null,
    }
}

pub(crate) fn price_json(p: &Price) -> Value {
    json!({
        "price": p.price,
        "change": p.change,
        "sign": sign(p.sign),
        "change_rate": num(p.change_rate),
        "open": p.open,
        "high": p.high,
        "low": p.low,
        "base_price": p.base_price,
        "upper_limit": p.upper_limit,
        "lower_limit": p.lower_limit,
        "volume": p.volume,
        "turnover": p.turnover,
        "halted": p.halted,
    })
}

fn order_book_json(state: &AppState, b: &OrderBook) -> Value {
    let levels = |side: &[kis::wire::quotations::Level; 10]| {
        side.iter()
            .map(|l| json!({"price": l.price, "quantity": l.quantity}))
            .collect::<Vec<_>>()
    };
    json!({
        "time": market_time(state, b.time),
        "asks": levels(&b.asks),
        "bids": levels(&b.bids),
        "total_ask_quantity": b.total_ask_quantity,
        "total_bid_quantity": b.total_bid_quantity,
        "expected": b.expected.map(|(price, quantity)| json!({"price": price, "quantity": quantity})),
    })
}

fn executions_json(state: &AppState, list: &[Execution]) -> Value {
    Value::Array(
        list.iter()
            .map(|e| {
                json!({
                    "time": market_time(state, e.time),
                    "price": e.price,
                    "change": e.change,
                    "sign": sign(e.sign),
                    "change_rate": num(e.change_rate),
                    "volume": e.volume,
                    "strength": num(e.strength),
                })
            })
            .collect(),
    )
}

/// `realtime` (registered on the live session), `polled` (polled within its freshness bound) or
/// `stale`, and beside it `feed`: `{state, age_ms, bound_ms}` (the age of the last data and how old
/// it may get before the stock is stale; `null` when unknown or, for `bound_ms`, while realtime).
pub(crate) fn status(state: &AppState, code: StockCode) -> &'static str {
    state
        .live
        .status(code, tokio::time::Instant::now())
        .state
        .as_str()
}

pub(crate) fn feed(state: &AppState, code: StockCode) -> Value {
    json!(state.live.status(code, tokio::time::Instant::now()))
}

/// The name and market, known or looked up (404 for a code upstream does not know).
async fn head(state: &AppState, raw: &str) -> ApiResult<(StockCode, Value)> {
    let code = parse_code(raw)?;
    let meta = state.gateway.stock(code).await?;
    Ok((
        code,
        json!({"code": code.as_str(), "name": meta.name, "market": meta.market}),
    ))
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

#[utoipa::path(get, operation_id = "stocks_stock", path = "/api/v1/stocks/{code}", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "code, name, market, kind, status (realtime|polled|stale), watched, armed periods, backfill"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn stock(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let watched = state.store.watchlist().await?.iter().any(|w| w.code == code);
    let backfill = state.backfill.as_ref().and_then(|b| b.progress_of(code));
    Ok(Json(merge(
        head,
        json!({
            "kind": "stock",
            "status": status(&state, code),
            "feed": feed(&state, code),
            "watched": watched,
            "armed": state.triggers.as_ref().map(|t| t.armed_periods(code).iter().map(|p| p.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
            "backfill": backfill,
        }),
    )))
}

#[utoipa::path(get, operation_id = "stocks_price", path = "/api/v1/stocks/{code}/price", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "price, change, sign, change_rate, open/high/low, limits, volume, turnover"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn price(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let p = state.quotes.price(code, Priority::Interactive).await?;
    Ok(Json(merge(head, price_json(&p))))
}

#[utoipa::path(get, operation_id = "stocks_order_book", path = "/api/v1/stocks/{code}/orderbook", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "10 ask and 10 bid levels, totals, expected price"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn order_book(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let b = state.quotes.order_book(code, Priority::Interactive).await?;
    Ok(Json(merge(head, order_book_json(&state, &b))))
}

#[utoipa::path(get, operation_id = "stocks_executions", path = "/api/v1/stocks/{code}/executions", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "the latest executions, newest first"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn executions(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let list = state.quotes.executions(code, Priority::Interactive).await?;
    Ok(Json(merge(
        head,
        json!({"executions": executions_json(&state, &list)}),
    )))
}

/// Price, order book and executions in one answer: a page open is one round trip, and the three
/// upstream calls go out together through the governor.
#[utoipa::path(get, operation_id = "stocks_snapshot", path = "/api/v1/stocks/{code}/snapshot", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "price, orderbook and executions in one answer"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn snapshot(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let q = &state.quotes;
    let (p, b, e) = tokio::join!(
        q.price(code, Priority::Interactive),
        q.order_book(code, Priority::Interactive),
        q.executions(code, Priority::Interactive)
    );
    let (p, b, e) = (p?, b?, e?);
    Ok(Json(merge(
        head,
        json!({
            "status": status(&state, code),
            "feed": feed(&state, code),
            "price": price_json(&p),
            "orderbook": order_book_json(&state, &b),
            "executions": executions_json(&state, &e),
            "time": state.gateway.clock.now().map(rfc3339),
        }),
    )))
}

#[derive(Debug, Deserialize)]
pub struct CandleQuery {
    period: Option<String>,
    count: Option<String>,
}

#[utoipa::path(get, operation_id = "stocks_candles", path = "/api/v1/stocks/{code}/candles", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930"), ("period" = Option<String>, Query, description = "1m|3m|5m|10m|15m|30m|60m|D|W|M (default D)"), ("count" = Option<u32>, Query, description = "bars, 1..=2000 (default 200)")), responses((status = 200, description = "candles oldest first with ma {20,60,120,240}, alignment, history {have, need}"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn candles(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<CandleQuery>,
) -> ApiResult<Json<CandlesAnswer>> {
    let code = parse_code(&raw)?;
    let period_text = q.period.as_deref().unwrap_or("D");
    let period = Period::parse(period_text).map_err(|e| {
        ApiError::bad_request(
            "invalid_period",
            e.to_string(),
            format!("알 수 없는 주기 {period_text:?} (1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W, M 중 하나)"),
        )
    })?;
    let count = match q.count.as_deref() {
        None => DEFAULT_COUNT,
        Some(c) => match c.parse::<usize>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_count",
                    format!("count must be a whole number from 1 to {MAX_COUNT}, got {c:?}"),
                    format!("count는 1부터 {MAX_COUNT} 사이의 정수여야 합니다 (입력: {c:?})"),
                ));
            }
        },
    };
    let (_, head) = head(&state, &raw).await?;
    let s = candles::series(
        &state.gateway,
        &state.quotes,
        &state.live,
        &state.store,
        state.backfill.as_ref(),
        code,
        period,
        count,
    )
    .await?;
    Ok(Json(CandlesAnswer {
        head,
        period: period.as_str(),
        candles: s.bars.iter().map(BarAnswer::from).collect(),
        alignment: s.alignment.map(|a| a.as_str()),
        history: s.history,
        backfill: state.backfill.as_ref().and_then(|b| b.progress_of(code)),
    }))
}

/// The candles answer, serialized straight from typed bars: a chart asks for hundreds of bars, and
/// building them as `serde_json::Value` maps first cost ~3 µs a bar in map inserts and allocations
/// (the load benchmark's warm p99 missed its 5 ms on this; `perf` showed where).
#[derive(Serialize)]
pub struct CandlesAnswer {
    #[serde(flatten)]
    head: Value,
    period: &'static str,
    candles: Vec<BarAnswer>,
    alignment: Option<&'static str>,
    history: candles::History,
    backfill: Option<crate::history::Progress>,
}

#[derive(Serialize)]
struct BarAnswer {
    time: String,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: u64,
    ma: Averages,
}

/// `{"20":x,"60":x,"120":x,"240":x}`, `null` until known.
#[derive(Serialize)]
struct Averages {
    #[serde(rename = "20")]
    ma20: Option<f64>,
    #[serde(rename = "60")]
    ma60: Option<f64>,
    #[serde(rename = "120")]
    ma120: Option<f64>,
    #[serde(rename = "240")]
    ma240: Option<f64>,
}

impl From<&candles::Bar> for BarAnswer {
    fn from(b: &candles::Bar) -> Self {
        let c = &b.candle;
        let [ma20, ma60, ma120, ma240] = b.ma;
        BarAnswer {
            time: rfc3339(c.time),
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
            ma: Averages {
                ma20,
                ma60,
                ma120,
                ma240,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

/// Search over the stock master (see [`crate::upstream::directory`]); bad input is refused before any scan.
#[utoipa::path(get, operation_id = "stocks_search", path = "/api/v1/stocks/search", tag = "stocks", params(("q" = String, Query, description = "code or code prefix, Korean name or part of it, 초성 (ㅅㅅㅈㅈ, 삼ㅅ), English name; 1..=64 characters"), ("limit" = Option<u32>, Query, description = "1..=100 (default 20)")), responses((status = 200, description = "[{code, name, market (KOSPI|KOSDAQ), kind (stock|etf|etn|reit|fund|dr|warrant|elw|other)}], best first"), (status = 400, description = "empty or too long query (invalid_query), limit out of range (invalid_limit)", body = ErrorBody)))]
pub async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult<Json<Value>> {
    let limit = match q.limit.as_deref() {
        None => DEFAULT_SEARCH_LIMIT,
        Some(l) => l.parse::<usize>().map_err(|_| {
            search_error(SearchError::BadLimit {
                limit: 0,
                max: MAX_LIMIT,
            })
        })?,
    };
    let hits = state
        .stocks
        .search(q.q.as_deref().unwrap_or_default(), limit)
        .map_err(search_error)?;
    Ok(Json(json!(hits)))
}

const DEFAULT_SEARCH_LIMIT: usize = 20;

fn search_error(e: SearchError) -> ApiError {
    match e {
        SearchError::EmptyQuery => ApiError::bad_request(
            "invalid_query",
            "q must not be empty (a code, a name or its initial consonants, e.g. 삼성 or ㅅㅅㅈㅈ)",
            "검색어(q)가 비어 있습니다 (종목코드, 종목명 또는 초성, 예: 삼성, ㅅㅅㅈㅈ)",
        ),
        SearchError::QueryTooLong { chars, max } => ApiError::bad_request(
            "invalid_query",
            format!("q is {chars} characters long, at most {max} are accepted"),
            format!("검색어가 너무 깁니다 ({chars}자, 최대 {max}자)"),
        ),
        SearchError::BadLimit { max, .. } => ApiError::bad_request(
            "invalid_limit",
            format!("limit must be a whole number from 1 to {max}"),
            format!("limit는 1부터 {max} 사이의 정수여야 합니다"),
        ),
    }
}
