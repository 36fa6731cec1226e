//! The JSON the service speaks — REST answers, WebSocket messages and webhook bodies — as typed
//! structs (`Serialize` + `utoipa::ToSchema`), so the OpenAPI document describes every answer and
//! the web UI's types are generated from it (`web/src/api-types.ts`, `npm run gen:api`).
//!
//! One module per resource: [`stock`] (a stock's facts, the snapshot, search hits), [`quote`]
//! (price, order book, executions), [`candle`], [`market_time`] (the market's clock), [`watchlist`], [`condition`], [`trigger`],
//! [`backtest`], [`health`], with the vocabulary they share in [`status`] (the feed's state) and
//! [`backfill`]; [`error`] is the body of every error. The WebSocket's messages
//! ([`crate::hub::protocol::ServerMessage`]) are made of the same structs.
//!
//! Where REST and the WebSocket carry the same thing they use the same struct: one [`Execution`],
//! one [`OrderBook`], one [`Candle`], one [`FeedStatus`]; a tick and a price share [`PriceMove`].
//! The rules of the contract: every number is a JSON number (a KIS decimal string becomes one
//! through [`decimal`], the one Decimal → JSON rule); times are RFC 3339 with `+09:00`
//! ([`crate::clock::rfc3339`]); a stock appears with `code` and `name`; a field that may have no
//! value is present as `null` (the schema marks it required and nullable) unless its doc says it may
//! be left out.
//!
//! The domain's types convert into these (`From` impls here); nothing here reads the store or the
//! network.

pub mod backfill;
pub mod backtest;
pub mod candle;
pub mod channel;
pub mod condition;
pub mod error;
pub mod health;
pub mod market_time;
pub mod quote;
pub mod scan;
pub mod status;
pub mod stock;
pub mod trigger;
pub mod watchlist;

pub use backfill::{BackfillProgress, BarCount, Urgency};
pub use backtest::{
    BacktestCosts, BacktestReport, BacktestSignal, BacktestSummary, Baseline, BuyAndHold, ForwardReturns,
    Horizon,
};
pub use candle::{Alignment, Candle, Candles, ChartCandle, MovingAverages};
pub use channel::{
    Channel, ChannelCounts, ChannelFailing, ChannelKind, ChannelTest, DeliveryEntry, DeliveryStatus, PushKey,
    QuietHours,
};
pub use condition::{Condition, ConditionMode, ConditionScope, ScanExclusion, ScanFilters};
pub use error::{ErrorBody, ErrorDetail};
pub use health::{
    Health, HealthCache, HealthChannel, HealthGovernor, HealthKey, HealthLive, HealthMarket, HealthStatus,
    HealthStore, HealthUpstream, KeyState, LiveFeedStats, MasterOrigin, MasterState, StockMaster,
    StoreFailure, StoreOrigin,
};
pub use market_time::{Market, MarketPhase};
pub use quote::{Execution, Level, OrderBook, Price, PriceMove, Side, Sign};
pub use scan::{
    HtsCondition, HtsConditions, KisScan, KisScanRow, ScanBacktestDay, ScanBacktestHorizon,
    ScanBacktestReport, ScanEvent, ScanEventKind, ScanHistory, ScanMatch, ScanMatches, ScanSweep,
    UniverseProgress,
};
pub use status::{FeedState, FeedStatus, UpstreamState};
pub use stock::{SearchHit, Snapshot, Stock, StockExecutions, StockOrderBook, StockPrice, StockRef};
pub use trigger::{Fired, Trigger, TriggerValues, UnstoredTrigger, trigger_key};
pub use watchlist::{WatchlistAdded, WatchlistItem};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// A KIS decimal (a rate, a ratio, 체결강도) as a JSON number: the nearest `f64`. A value too
/// large for `f64` cannot come from KIS (rates and ratios are small), and would read as `0`.
pub fn decimal(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `to_f64` gives the nearest `f64`, the number the decimal's text reads as, for decimals
        /// the size KIS sends (rates, ratios, 체결강도: a few places, far below 2^53).
        #[test]
        fn a_decimal_is_the_number_its_text_reads_as(mantissa in -10_000_000_000i64..10_000_000_000, scale in 0u32..=6) {
            let d = Decimal::new(mantissa, scale);
            proptest::prop_assert_eq!(decimal(d), d.to_string().parse::<f64>().unwrap(), "{}", d);
        }
    }

    #[test]
    fn decimals_become_plain_numbers() {
        assert_eq!(decimal("1.23".parse().unwrap()), 1.23);
        assert_eq!(decimal("-0.50".parse().unwrap()), -0.5);
        assert_eq!(
            serde_json::to_string(&decimal("105.13".parse().unwrap())).unwrap(),
            "105.13"
        );
    }
}
