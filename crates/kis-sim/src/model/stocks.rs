//! The core of the simulated listing: real KOSPI/KOSDAQ stocks with their real codes and Korean names
//! (`universe` builds the whole market around them).
//!
//! English names are the companies' own English names (what `search-info` answers in
//! `prdt_eng_name`); KRX's abbreviated English forms may differ. The standard code (ISIN) is not
//! stored: for an ordinary share it is `KR7` + the short code + `00` + the ISO 6166 check digit
//! ([`isin`]), which gives the real ISIN for every stock in the table (e.g. `KR7005930003`).
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

/// What kind of security a listing is: the stock master's group code (증권그룹구분코드).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SecurityKind {
    /// `ST` 주권: ordinary and preferred shares, SPACs.
    #[default]
    Stock,
    /// `EF` ETF.
    Etf,
    /// `EN` ETN.
    Etn,
    /// `RT` 부동산투자회사 (REIT).
    Reit,
}

impl SecurityKind {
    /// The master file's group code: `ST`, `EF`, `EN`, `RT`.
    pub fn group_code(self) -> &'static str {
        match self {
            SecurityKind::Stock => "ST",
            SecurityKind::Etf => "EF",
            SecurityKind::Etn => "EN",
            SecurityKind::Reit => "RT",
        }
    }

    /// `stock`, `etf`, `etn`, `reit`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityKind::Stock => "stock",
            SecurityKind::Etf => "etf",
            SecurityKind::Etn => "etn",
            SecurityKind::Reit => "reit",
        }
    }
}

/// 시장경고: the exchange's market warning designation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Warning {
    /// `00`
    #[default]
    None,
    /// `01` 투자주의.
    Caution,
    /// `02` 투자경고.
    Warning,
    /// `03` 투자위험.
    Risk,
}

impl Warning {
    /// The master file's two-digit code.
    pub fn code(self) -> &'static str {
        match self {
            Warning::None => "00",
            Warning::Caution => "01",
            Warning::Warning => "02",
            Warning::Risk => "03",
        }
    }
}

/// 우선주 구분: ordinary, old-style (구형, `005935 삼성전자우`) or new-style (신형, `005387 현대차2우B`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preferred {
    #[default]
    No,
    Old,
    New,
}

impl Preferred {
    /// The master file's code: `0`, `1`, `2`.
    pub fn code(self) -> char {
        match self {
            Preferred::No => '0',
            Preferred::Old => '1',
            Preferred::New => '2',
        }
    }
}

/// A listing's designations, as the stock master carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags {
    /// 거래정지: halted, no trade at all.
    pub halted: bool,
    /// 관리종목.
    pub administrative: bool,
    /// 정리매매: the last trading days before delisting.
    pub liquidation: bool,
    pub warning: Warning,
    /// 시장경고 위험예고.
    pub warning_notice: bool,
    /// 불성실공시법인.
    pub unfaithful_disclosure: bool,
    /// 단기과열종목.
    pub overheated: bool,
    /// 기업인수목적회사.
    pub spac: bool,
    pub preferred: Preferred,
}

impl Flags {
    /// Whether the exchange has designated anything that restricts trading or margin (the stocks
    /// 증거금 100% applies to).
    pub fn restricted(&self) -> bool {
        self.halted
            || self.administrative
            || self.liquidation
            || self.warning != Warning::None
            || self.unfaithful_disclosure
            || self.overheated
    }
}

/// How a listing's price moves (see `profile`): an operating company, an index product, or a product
/// following its own series (bonds, rates, commodities, foreign indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum Behaviour {
    /// The factor model with loadings and volatility drawn by market, sector and size.
    #[default]
    Equity,
    /// `leverage` × the KOSPI (or KOSDAQ) factor, plus the industry factor of its sector when
    /// `sector`; a little tracking noise.
    Tracker {
        leverage: i8,
        kosdaq: bool,
        sector: bool,
    },
    /// Its own series: daily volatility in basis points and a loading on the KOSPI factor in hundredths.
    Own { vol_bp: u16, beta_pct: i16 },
}

/// A simulated stock's static facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockInfo {
    pub code: StockCode,
    pub name: &'static str,
    /// The company's English name.
    pub eng_name: &'static str,
    pub market: MarketKind,
    pub sector: &'static str,
    pub listed_shares: u64,
    pub face_value: i64,
    pub kind: SecurityKind,
    pub flags: Flags,
    /// 시가총액규모: `1` large, `2` mid, `3` small by market-cap rank in its market (KOSPI: top 100,
    /// 101–300; KOSDAQ: top 100, 101–400), `0` for ETFs and ETNs.
    pub cap_size: u8,
    /// A member of KOSPI200 (a KOSPI stock) or KOSDAQ150 (a KOSDAQ stock): the largest by market cap.
    pub index_member: bool,
    /// 상장일자.
    pub listing_date: jiff::civil::Date,
    /// Typical shares traded a day as a fraction of the listed shares, in basis points (0: drawn).
    pub(crate) turnover_bp: u16,
    pub(crate) behaviour: Behaviour,
}

impl StockInfo {
    /// The stock's standard code (ISIN), see [`isin`].
    pub fn isin(&self) -> String {
        isin(&self.code)
    }
}

/// The ISIN of the ordinary share with this short code: `KR7` + code + `00` + check digit (ISO 6166:
/// letters become 10..35, then the Luhn check digit over the resulting digit string).
pub fn isin(code: &StockCode) -> String {
    let body = format!("KR7{}00", code.as_str());
    let digits: String = body
        .chars()
        .map(|c| match c.to_digit(36) {
            Some(v) => v.to_string(),
            None => String::new(),
        })
        .collect();
    // Luhn: double every second digit from the right of the payload (which has no check digit yet).
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A stable, plausible listing date derived from the code (a trading day between 1976 and 2021; not
/// the real one).
pub(crate) fn listing_date(code: &str) -> jiff::civil::Date {
    let h = code
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    let year = 1976 + (h % 46) as i16;
    let month = 1 + ((h / 46) % 12) as i8;
    let day = 1 + ((h / 552) % 28) as i8;
    jiff::civil::Date::new(year, month, day)
        .map(|d| market::krx::Calendar::krx().next_trading_day(d))
        .unwrap_or_default()
}

/// One row of the table: the facts plus the price level the simulation centres on.
pub(crate) struct Listing {
    pub code: &'static str,
    pub name: &'static str,
    pub eng_name: &'static str,
    pub market: MarketKind,
    pub sector: &'static str,
    pub listed_shares: u64,
    pub face_value: i64,
    /// A plausible 2026 price (KRW).
    pub level: i64,
}

use MarketKind::{Kosdaq, Kospi};

#[allow(clippy::too_many_arguments)] // one row of the table, one argument per column
const fn l(
    code: &'static str,
    name: &'static str,
    eng_name: &'static str,
    market: MarketKind,
    sector: &'static str,
    listed_shares: u64,
    face_value: i64,
    level: i64,
) -> Listing {
    Listing {
        code,
        name,
        eng_name,
        market,
        sector,
        listed_shares,
        face_value,
        level,
    }
}

#[rustfmt::skip]
pub(crate) const LISTINGS: &[Listing] = &[
    l("005930", "삼성전자", "Samsung Electronics", Kospi, "반도체", 5_919_637_922, 100, 98_000),
    l("000660", "SK하이닉스", "SK hynix", Kospi, "반도체", 728_002_365, 5_000, 560_000),
    l("373220", "LG에너지솔루션", "LG Energy Solution", Kospi, "2차전지", 234_000_000, 500, 380_000),
    l("207940", "삼성바이오로직스", "Samsung Biologics", Kospi, "바이오", 71_174_000, 2_500, 1_020_000),
    l("005380", "현대차", "Hyundai Motor", Kospi, "자동차", 204_757_766, 5_000, 250_000),
    l("000270", "기아", "Kia", Kospi, "자동차", 393_000_000, 5_000, 110_000),
    l("068270", "셀트리온", "Celltrion", Kospi, "바이오", 216_900_000, 1_000, 180_000),
    l("035420", "NAVER", "NAVER", Kospi, "인터넷", 156_000_000, 100, 250_000),
    l("035720", "카카오", "Kakao", Kospi, "인터넷", 442_000_000, 100, 55_000),
    l("051910", "LG화학", "LG Chem", Kospi, "화학", 70_592_343, 5_000, 320_000),
    l("006400", "삼성SDI", "Samsung SDI", Kospi, "2차전지", 80_400_000, 5_000, 280_000),
    l("005490", "POSCO홀딩스", "POSCO Holdings", Kospi, "철강", 84_571_230, 5_000, 330_000),
    l("105560", "KB금융", "KB Financial Group", Kospi, "금융", 381_000_000, 5_000, 120_000),
    l("055550", "신한지주", "Shinhan Financial Group", Kospi, "금융", 490_000_000, 5_000, 75_000),
    l("012330", "현대모비스", "Hyundai Mobis", Kospi, "자동차부품", 90_000_000, 5_000, 320_000),
    l("028260", "삼성물산", "Samsung C&T", Kospi, "지주", 170_000_000, 100, 220_000),
    l("066570", "LG전자", "LG Electronics", Kospi, "전자", 163_647_814, 5_000, 85_000),
    l("003550", "LG", "LG Corp.", Kospi, "지주", 157_341_478, 5_000, 80_000),
    l("034730", "SK", "SK Inc.", Kospi, "지주", 72_900_000, 200, 250_000),
    l("017670", "SK텔레콤", "SK Telecom", Kospi, "통신", 214_790_053, 100, 55_000),
    l("030200", "KT", "KT", Kospi, "통신", 250_000_000, 5_000, 50_000),
    l("015760", "한국전력", "Korea Electric Power", Kospi, "전력", 641_964_077, 5_000, 40_000),
    l("032830", "삼성생명", "Samsung Life Insurance", Kospi, "보험", 200_000_000, 500, 150_000),
    l("086790", "하나금융지주", "Hana Financial Group", Kospi, "금융", 285_000_000, 5_000, 90_000),
    l("316140", "우리금융지주", "Woori Financial Group", Kospi, "금융", 742_000_000, 5_000, 25_000),
    l("009150", "삼성전기", "Samsung Electro-Mechanics", Kospi, "전자부품", 74_693_696, 5_000, 200_000),
    l("010130", "고려아연", "Korea Zinc", Kospi, "비철금속", 20_700_000, 5_000, 900_000),
    l("011200", "HMM", "HMM", Kospi, "해운", 1_000_000_000, 5_000, 21_000),
    l("003670", "포스코퓨처엠", "POSCO Future M", Kospi, "2차전지", 77_463_220, 5_000, 180_000),
    l("018260", "삼성에스디에스", "Samsung SDS", Kospi, "IT서비스", 77_377_800, 500, 160_000),
    l("009540", "HD한국조선해양", "HD Korea Shipbuilding & Offshore Engineering", Kospi, "조선", 70_773_116, 5_000, 350_000),
    l("329180", "HD현대중공업", "HD Hyundai Heavy Industries", Kospi, "조선", 88_773_116, 5_000, 550_000),
    l("042660", "한화오션", "Hanwha Ocean", Kospi, "조선", 306_413_394, 5_000, 110_000),
    l("010140", "삼성중공업", "Samsung Heavy Industries", Kospi, "조선", 880_000_000, 1_000, 25_000),
    l("012450", "한화에어로스페이스", "Hanwha Aerospace", Kospi, "방산", 51_600_000, 5_000, 950_000),
    l("047810", "한국항공우주", "Korea Aerospace Industries", Kospi, "방산", 97_475_000, 5_000, 100_000),
    l("064350", "현대로템", "Hyundai Rotem", Kospi, "방산", 109_142_293, 5_000, 200_000),
    l("034020", "두산에너빌리티", "Doosan Enerbility", Kospi, "기계", 640_000_000, 5_000, 75_000),
    l("000810", "삼성화재", "Samsung Fire & Marine Insurance", Kospi, "보험", 47_000_000, 500, 450_000),
    l("024110", "기업은행", "Industrial Bank of Korea", Kospi, "금융", 797_000_000, 5_000, 20_000),
    l("323410", "카카오뱅크", "KakaoBank", Kospi, "금융", 476_000_000, 5_000, 24_000),
    l("377300", "카카오페이", "Kakao Pay", Kospi, "금융", 134_000_000, 500, 55_000),
    l("096770", "SK이노베이션", "SK Innovation", Kospi, "정유", 151_000_000, 5_000, 110_000),
    l("010950", "S-Oil", "S-Oil", Kospi, "정유", 112_582_792, 2_500, 75_000),
    l("011170", "롯데케미칼", "Lotte Chemical", Kospi, "화학", 42_780_000, 5_000, 70_000),
    l("033780", "KT&G", "KT&G", Kospi, "담배", 118_000_000, 5_000, 140_000),
    l("090430", "아모레퍼시픽", "Amorepacific", Kospi, "화장품", 58_500_000, 500, 130_000),
    l("097950", "CJ제일제당", "CJ CheilJedang", Kospi, "식품", 15_054_186, 5_000, 250_000),
    l("271560", "오리온", "Orion", Kospi, "식품", 39_536_000, 500, 110_000),
    l("282330", "BGF리테일", "BGF Retail", Kospi, "유통", 17_283_906, 1_000, 110_000),
    l("139480", "이마트", "E-MART", Kospi, "유통", 27_875_819, 5_000, 80_000),
    l("000100", "유한양행", "Yuhan", Kospi, "제약", 80_000_000, 1_000, 120_000),
    l("128940", "한미약품", "Hanmi Pharmaceutical", Kospi, "제약", 12_810_000, 2_500, 350_000),
    l("259960", "크래프톤", "KRAFTON", Kospi, "게임", 48_000_000, 100, 280_000),
    l("036570", "엔씨소프트", "NCSOFT", Kospi, "게임", 21_300_000, 500, 220_000),
    l("251270", "넷마블", "Netmarble", Kospi, "게임", 85_964_024, 100, 50_000),
    l("352820", "하이브", "HYBE", Kospi, "엔터", 41_650_000, 500, 280_000),
    l("263750", "펄어비스", "Pearl Abyss", Kosdaq, "게임", 64_000_000, 100, 40_000),
    l("293490", "카카오게임즈", "Kakao Games", Kosdaq, "게임", 82_000_000, 100, 16_000),
    l("112040", "위메이드", "Wemade", Kosdaq, "게임", 34_000_000, 100, 30_000),
    l("041510", "에스엠", "SM Entertainment", Kosdaq, "엔터", 23_000_000, 500, 110_000),
    l("035900", "JYP Ent.", "JYP Entertainment", Kosdaq, "엔터", 35_540_000, 500, 70_000),
    l("247540", "에코프로비엠", "EcoPro BM", Kosdaq, "2차전지", 97_801_344, 500, 150_000),
    l("086520", "에코프로", "EcoPro", Kosdaq, "2차전지", 136_000_000, 100, 90_000),
    l("028300", "HLB", "HLB", Kosdaq, "바이오", 131_000_000, 500, 45_000),
    l("298380", "에이비엘바이오", "ABL Bio", Kosdaq, "바이오", 54_000_000, 500, 150_000),
    l("068760", "셀트리온제약", "Celltrion Pharm", Kosdaq, "제약", 43_000_000, 500, 50_000),
    l("145020", "휴젤", "Hugel", Kosdaq, "바이오", 12_000_000, 500, 300_000),
    l("214150", "클래시스", "Classys", Kosdaq, "의료기기", 65_500_000, 100, 55_000),
    l("058470", "리노공업", "LEENO Industrial", Kosdaq, "반도체부품", 15_242_370, 500, 220_000),
    l("039030", "이오테크닉스", "EO Technics", Kosdaq, "반도체장비", 12_325_000, 500, 200_000),
    l("240810", "원익IPS", "Wonik IPS", Kosdaq, "반도체장비", 49_000_000, 500, 40_000),
    l("357780", "솔브레인", "Soulbrain", Kosdaq, "반도체소재", 7_778_000, 500, 280_000),
    l("005290", "동진쎄미켐", "Dongjin Semichem", Kosdaq, "반도체소재", 51_400_000, 500, 40_000),
    l("036930", "주성엔지니어링", "Jusung Engineering", Kosdaq, "반도체장비", 48_000_000, 500, 35_000),
    l("277810", "레인보우로보틱스", "Rainbow Robotics", Kosdaq, "로봇", 19_400_000, 500, 350_000),
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
                eng_name: row.eng_name,
                market: row.market,
                sector: row.sector,
                listed_shares: row.listed_shares,
                face_value: row.face_value,
                kind: SecurityKind::Stock,
                flags: Flags::default(),
                cap_size: 0,
                index_member: false,
                listing_date: listing_date(row.code),
                turnover_bp: 0,
                behaviour: Behaviour::Equity,
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
        assert!(
            stocks
                .iter()
                .all(|s| !s.eng_name.is_empty() && s.eng_name.is_ascii())
        );
    }

    /// Real ISINs (KRX): the check digit of the rule reproduces them.
    #[test]
    fn isins_match_known_real_ones() {
        for (code, expected) in [
            ("005930", "KR7005930003"),
            ("000660", "KR7000660001"),
            ("035420", "KR7035420009"),
            ("373220", "KR7373220003"),
            ("069500", "KR7069500007"),
        ] {
            assert_eq!(isin(&StockCode::parse(code).unwrap()), expected, "{code}");
        }
    }
}
