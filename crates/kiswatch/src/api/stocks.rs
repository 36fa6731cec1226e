//! `/api/v1/stocks/...`: a stock's facts, price, order book, executions, the one-call snapshot, and
//! candles with moving averages; search.

use axum::Json;
use axum::extract::{Path, Query, State};
use kis::Priority;
use market::search::{MAX_LIMIT, SearchError};
use market::{Period, StockCode};
use serde::Deserialize;

use super::{ApiError, ApiResult, AppState, parse_code};
use crate::candles::{self, DEFAULT_COUNT, MAX_COUNT};
use crate::clock::rfc3339;
use crate::contract::{
    BackfillProgress, Candles, ChartCandle, ErrorBody, Execution, FeedStatus, OrderBook, Price, SearchHit,
    Snapshot, Stock, StockExecutions, StockOrderBook, StockPrice, StockRef,
};

/// `realtime` (registered on the live session), `polled` (polled within its freshness bound) or
/// `stale`: the `status` of a stock's answers, beside it its `feed` (the same and the age of the last
/// data and how old it may get before the stock is stale).
pub(crate) fn feed(state: &AppState, code: StockCode) -> FeedStatus {
    state.live.status(code, tokio::time::Instant::now())
}

/// The name and market, known or looked up (404 for a code upstream does not know).
async fn head(state: &AppState, raw: &str) -> ApiResult<(StockCode, StockRef)> {
    let code = parse_code(raw)?;
    let meta = state.gateway.stock(code).await?;
    Ok((
        code,
        StockRef {
            code: code.as_str().to_owned(),
            name: meta.name,
            market: meta.market,
        },
    ))
}

fn backfill(state: &AppState, code: StockCode) -> Option<BackfillProgress> {
    state.backfill.as_ref().and_then(|b| b.progress_of(code))
}

#[utoipa::path(get, operation_id = "stocks_stock", path = "/api/v1/stocks/{code}", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "code, name, market, kind, status (realtime|polled|stale), watched, armed periods, backfill", body = Stock), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn stock(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Stock>> {
    let (code, stock) = head(&state, &raw).await?;
    let watched = state.store.watchlist().await?.iter().any(|w| w.code == code);
    let feed = feed(&state, code);
    Ok(Json(Stock {
        stock,
        kind: "stock".to_owned(),
        status: feed.state,
        feed,
        watched,
        armed: state
            .triggers
            .as_ref()
            .map(|t| {
                t.armed_periods(code)
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
        backfill: backfill(&state, code),
    }))
}

#[utoipa::path(get, operation_id = "stocks_price", path = "/api/v1/stocks/{code}/price", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "price, change, sign, change_rate, open/high/low, limits, volume, turnover", body = StockPrice), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn price(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<StockPrice>> {
    let (code, stock) = head(&state, &raw).await?;
    let p = state.quotes.price(code, Priority::Interactive).await?;
    Ok(Json(StockPrice {
        stock,
        price: Price::from(&*p),
    }))
}

#[utoipa::path(get, operation_id = "stocks_order_book", path = "/api/v1/stocks/{code}/orderbook", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "10 ask and 10 bid levels, totals, expected price", body = StockOrderBook), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn order_book(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<StockOrderBook>> {
    let (code, stock) = head(&state, &raw).await?;
    let b = state.quotes.order_book(code, Priority::Interactive).await?;
    Ok(Json(StockOrderBook {
        stock,
        book: OrderBook::from_rest(&b, state.gateway.clock.today()),
    }))
}

#[utoipa::path(get, operation_id = "stocks_executions", path = "/api/v1/stocks/{code}/executions", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "the latest executions, newest first", body = StockExecutions), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn executions(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<StockExecutions>> {
    let (code, stock) = head(&state, &raw).await?;
    let list = state.quotes.executions(code, Priority::Interactive).await?;
    let today = state.gateway.clock.today();
    Ok(Json(StockExecutions {
        stock,
        executions: list.iter().map(|e| Execution::from_rest(e, today)).collect(),
    }))
}

/// Price, order book and executions in one answer: a page open is one round trip, and the three
/// upstream calls go out together through the governor.
#[utoipa::path(get, operation_id = "stocks_snapshot", path = "/api/v1/stocks/{code}/snapshot", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930")), responses((status = 200, description = "price, orderbook and executions in one answer", body = Snapshot), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn snapshot(State(state): State<AppState>, Path(raw): Path<String>) -> ApiResult<Json<Snapshot>> {
    let (code, stock) = head(&state, &raw).await?;
    let q = &state.quotes;
    let (p, b, e) = tokio::join!(
        q.price(code, Priority::Interactive),
        q.order_book(code, Priority::Interactive),
        q.executions(code, Priority::Interactive)
    );
    let (p, b, e) = (p?, b?, e?);
    let today = state.gateway.clock.today();
    let feed = feed(&state, code);
    Ok(Json(Snapshot {
        stock,
        status: feed.state,
        feed,
        price: Price::from(&*p),
        orderbook: OrderBook::from_rest(&b, today),
        executions: e.iter().map(|e| Execution::from_rest(e, today)).collect(),
        time: state.gateway.clock.now().map(rfc3339),
    }))
}

#[derive(Debug, Deserialize)]
pub struct CandleQuery {
    period: Option<String>,
    count: Option<String>,
}

#[utoipa::path(get, operation_id = "stocks_candles", path = "/api/v1/stocks/{code}/candles", tag = "stocks", params(("code" = String, Path, description = "stock code, e.g. 005930"), ("period" = Option<String>, Query, description = "1m|3m|5m|10m|15m|30m|60m|D|W|M (default D)"), ("count" = Option<u32>, Query, description = "bars, 1..=2000 (default 200)")), responses((status = 200, description = "candles oldest first with ma {20,60,120,240}, alignment, history {have, need}", body = Candles), (status = 404, description = "unknown code", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn candles(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<CandleQuery>,
) -> ApiResult<Json<Candles>> {
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
    let (_, stock) = head(&state, &raw).await?;
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
    Ok(Json(Candles {
        stock,
        period: period.as_str().to_owned(),
        candles: s.bars.iter().map(ChartCandle::from).collect(),
        alignment: s.alignment.map(Into::into),
        history: s.history,
        backfill: backfill(&state, code),
    }))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

/// Search over the stock master (see [`crate::upstream::directory`]); bad input is refused before any scan.
#[utoipa::path(get, operation_id = "stocks_search", path = "/api/v1/stocks/search", tag = "stocks", params(("q" = String, Query, description = "code or code prefix, Korean name or part of it, 초성 (ㅅㅅㅈㅈ, 삼ㅅ), English name; 1..=64 characters"), ("limit" = Option<u32>, Query, description = "1..=100 (default 20)")), responses((status = 200, description = "[{code, name, market (KOSPI|KOSDAQ), kind (stock|etf|etn|reit|fund|dr|warrant|elw|other)}], best first", body = Vec<SearchHit>), (status = 400, description = "empty or too long query (invalid_query), limit out of range (invalid_limit)", body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<SearchHit>>> {
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
    Ok(Json(hits.iter().map(SearchHit::from).collect()))
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
