//! Quotes for the API: a stock's price, order book and executions from the live feed while it is
//! realtime (no REST call), else from the gateway (TTL caches, single-flight, the governor).

use std::sync::Arc;

use kis::Priority;
use kis::wire::quotations::{Execution, OrderBook, Price};
use market::StockCode;

use super::feed::LiveFeed;
use crate::upstream::{Gateway, GatewayError};

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Quotes {
    live: Arc<LiveFeed>,
    gateway: Arc<Gateway>,
}

impl Quotes {
    pub fn new(live: Arc<LiveFeed>, gateway: Arc<Gateway>) -> Quotes {
        Quotes { live, gateway }
    }

    /// 주식현재가.
    pub async fn price(&self, code: StockCode, priority: Priority) -> Result<Arc<Price>, GatewayError> {
        match self.live.price(code) {
            Some(p) => Ok(Arc::new(p)),
            None => self.gateway.price(code, priority).await,
        }
    }

    /// The 10-level order book.
    pub async fn order_book(
        &self,
        code: StockCode,
        priority: Priority,
    ) -> Result<Arc<OrderBook>, GatewayError> {
        match self.live.order_book(code) {
            Some(b) => Ok(Arc::new(b)),
            None => self.gateway.order_book(code, priority).await,
        }
    }

    /// The latest executions, newest first.
    pub async fn executions(
        &self,
        code: StockCode,
        priority: Priority,
    ) -> Result<Arc<Vec<Execution>>, GatewayError> {
        match self.live.executions(code) {
            Some(list) => Ok(Arc::new(list)),
            None => self.gateway.executions(code, priority).await,
        }
    }
}
