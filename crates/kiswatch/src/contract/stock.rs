//! `/api/v1/stocks/...`: a stock's facts, its market data one resource at a time or all at once
//! (the snapshot), and search hits.

use serde::Serialize;
use utoipa::ToSchema;

use super::{BackfillProgress, Execution, FeedState, FeedStatus, OrderBook, Price};

/// A stock as every answer about one names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockRef {
    pub code: String,
    pub name: String,
    /// `KOSPI`, `KOSDAQ`, … (empty when unknown).
    pub market: String,
}

/// `GET /api/v1/stocks/{code}`: what the service knows of a stock, answered without an upstream
/// call once the stock is known.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stock {
    #[serde(flatten)]
    pub stock: StockRef,
    /// Always `stock`.
    pub kind: String,
    pub status: FeedState,
    pub feed: FeedStatus,
    /// On the watchlist.
    pub watched: bool,
    /// The periods enabled conditions evaluate on this stock (`1m` … `M`).
    pub armed: Vec<String>,
    /// The backfill of its history, while it has one.
    #[schema(required = true)]
    pub backfill: Option<BackfillProgress>,
}

/// `GET /api/v1/stocks/{code}/price`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockPrice {
    #[serde(flatten)]
    pub stock: StockRef,
    #[serde(flatten)]
    pub price: Price,
}

/// `GET /api/v1/stocks/{code}/orderbook`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockOrderBook {
    #[serde(flatten)]
    pub stock: StockRef,
    #[serde(flatten)]
    pub book: OrderBook,
}

/// `GET /api/v1/stocks/{code}/executions`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockExecutions {
    #[serde(flatten)]
    pub stock: StockRef,
    /// The latest executions, newest first.
    pub executions: Vec<Execution>,
}

/// `GET /api/v1/stocks/{code}/snapshot`: price, order book and executions in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Snapshot {
    #[serde(flatten)]
    pub stock: StockRef,
    pub status: FeedState,
    pub feed: FeedStatus,
    pub price: Price,
    pub orderbook: OrderBook,
    /// Newest first.
    pub executions: Vec<Execution>,
    /// The latest market time the service has seen (`null` before any).
    #[schema(required = true)]
    pub time: Option<String>,
}

/// A hit of `GET /api/v1/stocks/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SearchHit {
    pub code: String,
    pub name: String,
    /// `KOSPI` or `KOSDAQ`.
    pub market: String,
    /// `stock`, `etf`, `etn`, `reit`, `fund`, `dr`, `warrant`, `elw` or `other`.
    pub kind: String,
}

impl From<&market::search::Hit> for SearchHit {
    fn from(h: &market::search::Hit) -> Self {
        SearchHit {
            code: h.code.clone(),
            name: h.name.clone(),
            market: h.market.as_str().to_owned(),
            kind: h.kind.as_str().to_owned(),
        }
    }
}
