//! `GET /api/v1/market`: the market's date, time and phase as the upstream shows them, and whether
//! the market is the demo's simulated one (and how fast it runs).

use jiff::civil::DateTime;
use market::krx::{Calendar, Phase};
use serde::Serialize;
use utoipa::ToSchema;

/// What the market is doing (KRX sessions): 장전, 장전 동시호가, 장중, 장마감 동시호가, 시간외,
/// 장마감, 휴장.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarketPhase {
    PreOpen,
    OpeningAuction,
    Continuous,
    ClosingAuction,
    AfterHours,
    Closed,
    Holiday,
}

impl MarketPhase {
    /// The phase at a KST market time.
    pub fn at(t: DateTime) -> MarketPhase {
        let Some(hours) = Calendar::krx().hours(t.date()) else {
            return MarketPhase::Holiday;
        };
        match hours.phase_at(t.time()) {
            Phase::OpeningAuction => MarketPhase::OpeningAuction,
            Phase::Continuous => MarketPhase::Continuous,
            Phase::ClosingAuction => MarketPhase::ClosingAuction,
            Phase::AfterHoursClose | Phase::AfterHoursSingle => MarketPhase::AfterHours,
            Phase::Closed if t.time() < hours.opening_auction => MarketPhase::PreOpen,
            Phase::Closed => MarketPhase::Closed,
        }
    }
}

/// `GET /api/v1/market`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Market {
    /// The market time now (RFC 3339): the simulator's clock in the demo, else the latest moment
    /// seen upstream; `null` before any.
    #[schema(required = true)]
    pub now: Option<String>,
    /// The trading day (`2026-11-27`), `null` before any.
    #[schema(required = true)]
    pub today: Option<String>,
    /// `null` before any market time is known.
    #[schema(required = true)]
    pub phase: Option<MarketPhase>,
    /// `demo`, `real`, `vts` or `custom`.
    pub upstream: String,
    /// The market is the demo's simulated one (데모 · 가상 시장).
    pub simulated: bool,
    /// Market seconds per real second: the simulator's speed in the demo, 1 otherwise.
    pub speed: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn phases_of_a_trading_day_and_a_holiday() {
        let d = date(2026, 11, 27);
        assert_eq!(MarketPhase::at(d.at(8, 0, 0, 0)), MarketPhase::PreOpen);
        assert_eq!(MarketPhase::at(d.at(8, 45, 0, 0)), MarketPhase::OpeningAuction);
        assert_eq!(MarketPhase::at(d.at(10, 0, 0, 0)), MarketPhase::Continuous);
        assert_eq!(MarketPhase::at(d.at(15, 25, 0, 0)), MarketPhase::ClosingAuction);
        assert_eq!(MarketPhase::at(d.at(15, 31, 0, 0)), MarketPhase::Closed);
        assert_eq!(MarketPhase::at(d.at(16, 30, 0, 0)), MarketPhase::AfterHours);
        assert_eq!(MarketPhase::at(d.at(19, 0, 0, 0)), MarketPhase::Closed);
        assert_eq!(
            MarketPhase::at(date(2026, 11, 28).at(10, 0, 0, 0)),
            MarketPhase::Holiday
        );
    }
}
