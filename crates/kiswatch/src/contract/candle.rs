//! Candles: `GET /api/v1/stocks/{code}/candles` (bars with their moving averages) and the
//! WebSocket's `candle` message (the forming bar) share the bar itself, [`Candle`].

use serde::Serialize;
use utoipa::ToSchema;

use super::{BackfillProgress, BarCount, StockRef};
use crate::clock::rfc3339;

/// One bar: its start (market time) and OHLCV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Candle {
    /// The start of the bar.
    pub time: String,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
}

impl From<&market::Candle> for Candle {
    fn from(c: &market::Candle) -> Self {
        Candle {
            time: rfc3339(c.time),
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
        }
    }
}

/// The moving averages of a bar's close, by window: `{"20":x,"60":x,"120":x,"240":x}`, each `null`
/// until enough history backs it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct MovingAverages {
    #[serde(rename = "20")]
    #[schema(required = true)]
    pub ma20: Option<f64>,
    #[serde(rename = "60")]
    #[schema(required = true)]
    pub ma60: Option<f64>,
    #[serde(rename = "120")]
    #[schema(required = true)]
    pub ma120: Option<f64>,
    #[serde(rename = "240")]
    #[schema(required = true)]
    pub ma240: Option<f64>,
}

/// A bar of the chart: the [`Candle`] and its moving averages.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChartCandle {
    #[serde(flatten)]
    pub candle: Candle,
    pub ma: MovingAverages,
}

/// The order of the averages of the last bar: 정배열 (`bullish`, MA20 > MA60 > MA120 > MA240),
/// 역배열 (`bearish`, the reverse) or `mixed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    Bullish,
    Bearish,
    Mixed,
}

impl From<market::alignment::Alignment> for Alignment {
    fn from(a: market::alignment::Alignment) -> Self {
        match a {
            market::alignment::Alignment::Bullish => Alignment::Bullish,
            market::alignment::Alignment::Bearish => Alignment::Bearish,
            market::alignment::Alignment::Mixed => Alignment::Mixed,
        }
    }
}

/// `GET /api/v1/stocks/{code}/candles`, serialized straight from typed bars: a chart asks for
/// hundreds of bars, and building them as `serde_json::Value` maps first cost ~3 µs a bar in map
/// inserts and allocations (the load benchmark's warm p99 missed its 5 ms on this; `perf` showed
/// where).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Candles {
    #[serde(flatten)]
    pub stock: StockRef,
    /// `1m`, `3m`, `5m`, `10m`, `15m`, `30m`, `60m`, `D`, `W` or `M`.
    pub period: String,
    /// Oldest first.
    pub candles: Vec<ChartCandle>,
    /// Of the last bar; `null` while an average is unknown.
    #[schema(required = true)]
    pub alignment: Option<Alignment>,
    /// How much history backs the longest average (MA240).
    pub history: BarCount,
    /// The backfill of this stock's history, while it has one.
    #[schema(required = true)]
    pub backfill: Option<BackfillProgress>,
}
