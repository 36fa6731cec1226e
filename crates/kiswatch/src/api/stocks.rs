//! `/api/v1/stocks/...`: a stock's facts, price, order book, executions, the one-call snapshot, and
//! candles with moving averages; search.

use axum::Json;
use axum::extract::{Path, Query, State};
use kis::Priority;
use kis::wire::quotations::{Execution, OrderBook, Price};
use market::krx::Sign;
use market::{Period, StockCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ErrorBody;
use super::{ApiError, ApiResult, AppState, parse_code};
use crate::candles::{self, DEFAULT_COUNT, MAX_COUNT};
use crate::clock::rfc3339;
use crate::stocks::MAX_QUERY_CHARS;

/// A decimal from KIS (`Decimal`) as a JSON number.
fn num(d: impl std::fmt::Display) -> Value {
    d.to_string().parse::<f64>().map_or(Value::Null, |f| json!(f))
}

fn sign(s: Sign) -> &'static str {
    match s {
        Sign::UpperLimit => "upper_limit",
        Sign::Up => "up",
        Sign::Flat => "flat",
        Sign::LowerLimit => "lower_limit",
        Sign::Down => "down",
    }
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
    let p = state.gateway.price(code, Priority::Interactive).await?;
    Ok(Json(merge(head, price_json(&p))))
}

#[utoipa::path(get, operation_id = "stocks_order_book", path = "/api/v1/stocks/{code}/orderbook", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "10 ask and 10 bid levels, totals, expected price"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn order_book(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let b = state.gateway.order_book(code, Priority::Interactive).await?;
    Ok(Json(merge(head, order_book_json(&state, &b))))
}

#[utoipa::path(get, operation_id = "stocks_executions", path = "/api/v1/stocks/{code}/executions", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "the latest executions, newest first"), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn executions(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Value>> {
    let (code, head) = head(&state, &raw).await?;
    let list = state.gateway.executions(code, Priority::Interactive).await?;
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
    let g = &state.gateway;
    let (p, b, e) = tokio::join!(
        g.price(code, Priority::Interactive),
        g.order_book(code, Priority::Interactive),
        g.executions(code, Priority::Interactive)
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
            "time": g.clock.now().map(rfc3339),
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
) -> ApiResult<Json<Value>> {
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
        &state.store,
        state.backfill.as_ref(),
        code,
        period,
        count,
    )
    .await?;
    let bars: Vec<Value> = s
        .bars
        .iter()
        .map(|b| {
            let c = &b.candle;
            json!({
                "time": rfc3339(c.time),
                "open": c.open,
                "high": c.high,
                "low": c.low,
                "close": c.close,
                "volume": c.volume,
                "ma": {"20": b.ma[0], "60": b.ma[1], "120": b.ma[2], "240": b.ma[3]},
            })
        })
        .collect();
    let backfill = state.backfill.as_ref().and_then(|b| b.progress_of(code));
    Ok(Json(merge(
        head,
        json!({
            "period": period.as_str(),
            "candles": bars,
            "alignment": s.alignment.map(|a| a.as_str()),
            "history": s.history,
            "backfill": backfill,
        }),
    )))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

#[utoipa::path(get, operation_id = "stocks_search", path = "/api/v1/stocks/search", tag = "stocks", params(("q" = String, Query, description = "code prefix, name or 초성"), ("limit" = Option<u32>, Query, description = "1..=100 (default 20)")), responses((status = 200, description = "[{code, name, market, kind}]"), (status = 400, description = "empty or too long query", body = ErrorBody)))]
pub async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult<Json<Value>> {
    let query = q.q.unwrap_or_default();
    let query = query.trim();
    if query.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "q must not be empty (a code, a name or its initial consonants, e.g. 삼성 or ㅅㅅㅈㅈ)",
            "검색어(q)가 비어 있습니다 (종목코드, 종목명 또는 초성, 예: 삼성, ㅅㅅㅈㅈ)",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
            format!("검색어가 {MAX_QUERY_CHARS}자를 넘습니다"),
        ));
    }
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to 100, got {l:?}"),
                    format!("limit는 1부터 100 사이의 정수여야 합니다 (입력: {l:?})"),
                ));
            }
        },
    };
    let hits = state.stocks.search(query, limit);
    Ok(Json(json!(hits)))
}
