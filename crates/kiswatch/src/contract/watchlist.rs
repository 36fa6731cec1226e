//! `/api/v1/watchlist`: the watched stocks in order.

use serde::Serialize;
use utoipa::ToSchema;

use super::{FeedState, FeedStatus, StockRef};

/// A row of the watchlist (`GET` and `PUT /api/v1/watchlist`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WatchlistItem {
    #[serde(flatten)]
    pub stock: StockRef,
    /// 0-based.
    pub position: usize,
    /// When it was added (RFC 3339).
    pub added_at: String,
    pub status: FeedState,
    pub feed: FeedStatus,
}

/// `POST /api/v1/watchlist`: the stock, and whether it was added now (`false`: already watched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WatchlistAdded {
    #[serde(flatten)]
    pub stock: StockRef,
    pub added: bool,
}
