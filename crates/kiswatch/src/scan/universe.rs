//! Which listings a market-scope condition covers: every KOSPI and KOSDAQ listing of the master, less
//! what its `filters` leave out by the master's own flags (market, ETF/ETN, SPAC, 우선주, 관리종목,
//! 거래정지, 투자경고/위험) and by today's price and 거래대금.

use kis::master::{MarketWarning, MasterRecord};
use market::StockCode;
use market::search::Kind;

use crate::contract::{ScanExclusion, ScanFilters};

/// Whether the listing passes the filters' static part (market and the master's flags).
pub fn admits_listing(filters: &ScanFilters, r: &MasterRecord) -> bool {
    if !filters.markets.is_empty() && !filters.markets.iter().any(|m| m == r.market.as_str()) {
        return false;
    }
    !filters.exclude.iter().any(|x| match x {
        ScanExclusion::Etf => r.kind == Kind::Etf,
        ScanExclusion::Etn => r.kind == Kind::Etn,
        ScanExclusion::Spac => r.spac,
        ScanExclusion::Preferred => r.preferred,
        ScanExclusion::Managed => r.administrative,
        ScanExclusion::Halted => r.halted,
        ScanExclusion::Warning => matches!(r.warning, MarketWarning::Warning | MarketWarning::Risk),
    })
}

/// The codes of the master's listings (`None`: no master yet) that the filters' static part admits.
pub fn listings<'a>(
    records: Option<&'a [MasterRecord]>,
    filters: &'a ScanFilters,
) -> impl Iterator<Item = StockCode> + 'a {
    records
        .into_iter()
        .flatten()
        .filter(|r| admits_listing(filters, r))
        .filter_map(|r| StockCode::parse(&r.code).ok())
}

/// Whether today's quote passes the filters' price and 거래대금 floors.
pub fn admits_quote(filters: &ScanFilters, price: i64, turnover: u64) -> bool {
    filters.min_price.is_none_or(|p| price >= p) && filters.min_turnover.is_none_or(|t| turnover >= t)
}

#[cfg(test)]
mod tests {
    use market::search::Market;

    use super::*;

    fn record(market: Market, group: &str) -> MasterRecord {
        MasterRecord {
            market,
            code: "005930".into(),
            standard_code: "KR7005930003".into(),
            name: "삼성전자".into(),
            group: group.into(),
            kind: Kind::from_group_code(group),
            cap_size: None,
            kospi200_sector: None,
            base_price: None,
            par_value: None,
            listing_date: None,
            listed_shares_thousands: None,
            market_cap: None,
            halted: false,
            liquidation: false,
            administrative: false,
            warning: MarketWarning::None,
            warning_notice: false,
            unfaithful_disclosure: false,
            short_term_overheat: false,
            spac: false,
            preferred: false,
        }
    }

    #[test]
    fn markets_flags_and_floors() {
        let none = ScanFilters::default();
        let kospi = record(Market::Kospi, "ST");
        assert!(admits_listing(&none, &kospi));
        let kosdaq_only = ScanFilters {
            markets: vec!["KOSDAQ".into()],
            ..ScanFilters::default()
        };
        assert!(!admits_listing(&kosdaq_only, &kospi));
        assert!(admits_listing(&kosdaq_only, &record(Market::Kosdaq, "ST")));
        let exclude = ScanFilters {
            exclude: vec![ScanExclusion::Etf, ScanExclusion::Halted, ScanExclusion::Warning],
            ..ScanFilters::default()
        };
        assert!(!admits_listing(&exclude, &record(Market::Kospi, "EF")));
        assert!(admits_listing(&exclude, &record(Market::Kospi, "EN")));
        let halted = MasterRecord {
            halted: true,
            ..kospi.clone()
        };
        assert!(!admits_listing(&exclude, &halted));
        let caution = MasterRecord {
            warning: MarketWarning::Caution,
            ..kospi.clone()
        };
        assert!(admits_listing(&exclude, &caution), "투자주의 is not 투자경고");
        let floors = ScanFilters {
            min_price: Some(1_000),
            min_turnover: Some(1_000_000_000),
            ..ScanFilters::default()
        };
        assert!(admits_quote(&floors, 1_000, 1_000_000_000));
        assert!(!admits_quote(&floors, 999, 2_000_000_000));
        assert!(!admits_quote(&floors, 5_000, 999_999_999));
        assert!(admits_quote(&none, 0, 0));
    }
}
