//! The simulated listing: real KOSPI/KOSDAQ stocks with their real codes and Korean names.
//!
//! Listed shares and face values are close to the real ones (late 2025); `level` is a plausible 2026
//! price around which the simulated history wanders. The simulator never claims these are live facts.
//! Stocks whose market was changing (알테오젠, moving from KOSDAQ to KOSPI in 2026) are left out.

use market::code::StockCode;

/// The exchange section a stock is listed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarketKind {
    Kospi,
    Kosdaq,
}

impl MarketKind {
    /// `"KOSPI"` or `"KOSDAQ"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MarketKind::Kospi => "KOSPI",
            MarketKind::Kosdaq => "KOSDAQ",
        }
    }
}

/// A simulated stock's static facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockInfo {
    pub code: StockCode,
    pub name: &'static str,
    pub market: MarketKind,
    pub sector: &'static str,
    pub listed_shares: u64,
    pub face_value: i64,
}

/// One row of the table: the facts plus the price level the simulation centres on.
pub(crate) struct Listing {
    pub code: &'static str,
    pub name: &'static str,
    pub market: MarketKind,
    pub sector: &'static str,
    pub listed_shares: u64,
    pub face_value: i64,
    /// A plausible 2026 price (KRW).
    pub level: i64,
}

use MarketKind::{Kosdaq, Kospi};

const fn l(
    code: &'static str,
    name: &'static str,
    market: MarketKind,
    sector: &'static str,
    listed_shares: u64,
    face_value: i64,
    level: i64,
) -> Listing {
    Listing {
        code,
        name,
        market,
        sector,
        listed_shares,
        face_value,
        level,
    }
}

#[rustfmt::skip]
pub(crate) const LISTINGS: &[Listing] = &[
    l("005930", "삼성전자", Kospi, "반도체", 5_919_637_922, 100, 98_000),
    l("000660", "SK하이닉스", Kospi, "반도체", 728_002_365, 5_000, 560_000),
    l("373220", "LG에너지솔루션", Kospi, "2차전지", 234_000_000, 500, 380_000),
    l("207940", "삼성바이오로직스", Kospi, "바이오", 71_174_000, 2_500, 1_020_000),
    l("005380", "현대차", Kospi, "자동차", 204_757_766, 5_000, 250_000),
    l("000270", "기아", Kospi, "자동차", 393_000_000, 5_000, 110_000),
    l("068270", "셀트리온", Kospi, "바이오", 216_900_000, 1_000, 180_000),
    l("035420", "NAVER", Kospi, "인터넷", 156_000_000, 100, 250_000),
    l("035720", "카카오", Kospi, "인터넷", 442_000_000, 100, 55_000),
    l("051910", "LG화학", Kospi, "화학", 70_592_343, 5_000, 320_000),
    l("006400", "삼성SDI", Kospi, "2차전지", 80_400_000, 5_000, 280_000),
    l("005490", "POSCO홀딩스", Kospi, "철강", 84_571_230, 5_000, 330_000),
    l("105560", "KB금융", Kospi, "금융", 381_000_000, 5_000, 120_000),
    l("055550", "신한지주", Kospi, "금융", 490_000_000, 5_000, 75_000),
    l("012330", "현대모비스", Kospi, "자동차부품", 90_000_000, 5_000, 320_000),
    l("028260", "삼성물산", Kospi, "지주", 170_000_000, 100, 220_000),
    l("066570", "LG전자", Kospi, "전자", 163_647_814, 5_000, 85_000),
    l("003550", "LG", Kospi, "지주", 157_341_478, 5_000, 80_000),
    l("034730", "SK", Kospi, "지주", 72_900_000, 200, 250_000),
    l("017670", "SK텔레콤", Kospi, "통신", 214_790_053, 100, 55_000),
    l("030200", "KT", Kospi, "통신", 250_000_000, 5_000, 50_000),
    l("015760", "한국전력", Kospi, "전력", 641_964_077, 5_000, 40_000),
    l("032830", "삼성생명", Kospi, "보험", 200_000_000, 500, 150_000),
    l("086790", "하나금융지주", Kospi, "금융", 285_000_000, 5_000, 90_000),
    l("316140", "우리금융지주", Kospi, "금융", 742_000_000, 5_000, 25_000),
    l("009150", "삼성전기", Kospi, "전자부품", 74_693_696, 5_000, 200_000),
    l("010130", "고려아연", Kospi, "비철금속", 20_700_000, 5_000, 900_000),
    l("011200", "HMM", Kospi, "해운", 1_000_000_000, 5_000, 21_000),
    l("003670", "포스코퓨처엠", Kospi, "2차전지", 77_463_220, 5_000, 180_000),
    l("018260", "삼성에스디에스", Kospi, "IT서비스", 77_377_800, 500, 160_000),
    l("009540", "HD한국조선해양", Kospi, "조선", 70_773_116, 5_000, 350_000),
    l("329180", "HD현대중공업", Kospi, "조선", 88_773_116, 5_000, 550_000),
    l("042660", "한화오션", Kospi, "조선", 306_413_394, 5_000, 110_000),
    l("010140", "삼성중공업", Kospi, "조선", 880_000_000, 1_000, 25_000),
    l("012450", "한화에어로스페이스", Kospi, "방산", 51_600_000, 5_000, 950_000),
    l("047810", "한국항공우주", Kospi, "방산", 97_475_000, 5_000, 100_000),
    l("064350", "현대로템", Kospi, "방산", 109_142_293, 5_000, 200_000),
    l("034020", "두산에너빌리티", Kospi, "기계", 640_000_000, 5_000, 75_000),
    l("000810", "삼성화재", Kospi, "보험", 47_000_000, 500, 450_000),
    l("024110", "기업은행", Kospi, "금융", 797_000_000, 5_000, 20_000),
    l("323410", "카카오뱅크", Kospi, "금융", 476_000_000, 5_000, 24_000),
    l("377300", "카카오페이", Kospi, "금융", 134_000_000, 500, 55_000),
    l("096770", "SK이노베이션", Kospi, "정유", 151_000_000, 5_000, 110_000),
    l("010950", "S-Oil", Kospi, "정유", 112_582_792, 2_500, 75_000),
    l("011170", "롯데케미칼", Kospi, "화학", 42_780_000, 5_000, 70_000),
    l("033780", "KT&G", Kospi, "담배", 118_000_000, 5_000, 140_000),
    l("090430", "아모레퍼시픽", Kospi, "화장품", 58_500_000, 500, 130_000),
    l("097950", "CJ제일제당", Kospi, "식품", 15_054_186, 5_000, 250_000),
    l("271560", "오리온", Kospi, "식품", 39_536_000, 500, 110_000),
    l("282330", "BGF리테일", Kospi, "유통", 17_283_906, 1_000, 110_000),
    l("139480", "이마트", Kospi, "유통", 27_875_819, 5_000, 80_000),
    l("000100", "유한양행", Kospi, "제약", 80_000_000, 1_000, 120_000),
    l("128940", "한미약품", Kospi, "제약", 12_810_000, 2_500, 350_000),
    l("259960", "크래프톤", Kospi, "게임", 48_000_000, 100, 280_000),
    l("036570", "엔씨소프트", Kospi, "게임", 21_300_000, 500, 220_000),
    l("251270", "넷마블", Kospi, "게임", 85_964_024, 100, 50_000),
    l("352820", "하이브", Kospi, "엔터", 41_650_000, 500, 280_000),
    l("263750", "펄어비스", Kosdaq, "게임", 64_000_000, 100, 40_000),
    l("293490", "카카오게임즈", Kosdaq, "게임", 82_000_000, 100, 16_000),
    l("112040", "위메이드", Kosdaq, "게임", 34_000_000, 100, 30_000),
    l("041510", "에스엠", Kosdaq, "엔터", 23_000_000, 500, 110_000),
    l("035900", "JYP Ent.", Kosdaq, "엔터", 35_540_000, 500, 70_000),
    l("247540", "에코프로비엠", Kosdaq, "2차전지", 97_801_344, 500, 150_000),
    l("086520", "에코프로", Kosdaq, "2차전지", 136_000_000, 100, 90_000),
    l("028300", "HLB", Kosdaq, "바이오", 131_000_000, 500, 45_000),
    l("298380", "에이비엘바이오", Kosdaq, "바이오", 54_000_000, 500, 150_000),
    l("068760", "셀트리온제약", Kosdaq, "제약", 43_000_000, 500, 50_000),
    l("145020", "휴젤", Kosdaq, "바이오", 12_000_000, 500, 300_000),
    l("214150", "클래시스", Kosdaq, "의료기기", 65_500_000, 100, 55_000),
    l("058470", "리노공업", Kosdaq, "반도체부품", 15_242_370, 500, 220_000),
    l("039030", "이오테크닉스", Kosdaq, "반도체장비", 12_325_000, 500, 200_000),
    l("240810", "원익IPS", Kosdaq, "반도체장비", 49_000_000, 500, 40_000),
    l("357780", "솔브레인", Kosdaq, "반도체소재", 7_778_000, 500, 280_000),
    l("005290", "동진쎄미켐", Kosdaq, "반도체소재", 51_400_000, 500, 40_000),
    l("036930", "주성엔지니어링", Kosdaq, "반도체장비", 48_000_000, 500, 35_000),
    l("277810", "레인보우로보틱스", Kosdaq, "로봇", 19_400_000, 500, 350_000),
];

/// The table as [`StockInfo`] values with the price levels beside them (same order).
pub(crate) fn build() -> (Vec<StockInfo>, Vec<i64>) {
    LISTINGS
        .iter()
        .filter_map(|row| {
            let code = StockCode::parse(row.code).ok()?;
            let info = StockInfo {
                code,
                name: row.name,
                market: row.market,
                sector: row.sector,
                listed_shares: row.listed_shares,
                face_value: row.face_value,
            };
            Some((info, row.level))
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn at_least_fifty_unique_valid_stocks_of_both_markets() {
        let (stocks, levels) = build();
        assert_eq!(stocks.len(), LISTINGS.len(), "every code in the table parses");
        assert!(stocks.len() >= 50);
        let codes: HashSet<_> = stocks.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), stocks.len(), "codes are unique");
        assert!(stocks.iter().any(|s| s.market == MarketKind::Kosdaq));
        assert!(stocks.iter().any(|s| s.market == MarketKind::Kospi));
        assert!(levels.iter().all(|&p| market::krx::is_on_tick(p)));
        let samsung = stocks.iter().find(|s| s.code.as_str() == "005930");
        assert_eq!(samsung.map(|s| s.name), Some("삼성전자"));
    }
}
