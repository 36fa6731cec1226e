//! One listing of the stock master, with the tail fields a watcher uses.

use jiff::civil::Date;
use market::search::{Kind, Listing, Market};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// 시장경고 구분 코드 (market warning designation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketWarning {
    /// `00`
    None,
    /// `01` 투자주의 (caution)
    Caution,
    /// `02` 투자경고 (warning)
    Warning,
    /// `03` 투자위험 (risk)
    Risk,
}

/// A master record: the head (code, standard code, Korean name) and the tail fields kiswatch reads.
/// Numeric columns that are blank in the file are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterRecord {
    pub market: Market,
    /// 단축코드: `005930`, `0004Y0`.
    pub code: String,
    /// 표준코드 (ISIN): `KR7005930003`.
    pub standard_code: String,
    /// 한글명.
    pub name: String,
    /// 증권그룹구분코드: `ST` 주권, `EF` ETF, `EN` ETN, `RT` 리츠, `IF`, `MF`, `DR`, `FS`, …
    pub group: String,
    /// The kind the group code (and the ETP class: 3/4 are ETNs) stands for.
    pub kind: Kind,
    /// 시가총액규모 (KOSPI: 1 large, 2 mid, 3 small; KOSDAQ: 1 KOSDAQ100, 2 mid300, 3 small); `None` for 0.
    pub cap_size: Option<char>,
    /// KOSPI200 섹터업종 (KOSPI only): `None` when not a KOSPI200 member (0), else the sector code
    /// (1 건설, 2 중공업, 3 철강소재, 4 에너지화학, 5 정보통신, 6 금융, 7 필수소비재, 8 자유소비재, 9 산업재,
    /// A 건강관리, B 커뮤니케이션서비스).
    pub kospi200_sector: Option<char>,
    /// 기준가 (KRW).
    pub base_price: Option<u64>,
    /// 액면가 (KRW).
    pub par_value: Option<Decimal>,
    /// 상장일자.
    pub listing_date: Option<Date>,
    /// 상장주수, in thousands of shares.
    pub listed_shares_thousands: Option<u64>,
    /// 전일기준 시가총액, in 억원 (100 million KRW).
    pub market_cap: Option<u64>,
    /// 거래정지.
    pub halted: bool,
    /// 정리매매 (liquidation trading before delisting).
    pub liquidation: bool,
    /// 관리종목 (administrative issue).
    pub administrative: bool,
    /// 시장경고.
    pub warning: MarketWarning,
    /// 시장경고위험 예고.
    pub warning_notice: bool,
    /// 불성실공시.
    pub unfaithful_disclosure: bool,
    /// 단기과열 designated, noticed or extended.
    pub short_term_overheat: bool,
    /// 기업인수목적회사 (SPAC).
    pub spac: bool,
    /// 우선주 (old- or new-style preferred share).
    pub preferred: bool,
}

impl MasterRecord {
    /// The record as a searchable listing (no English name: the master has none).
    pub fn listing(&self) -> Listing {
        Listing {
            code: self.code.clone(),
            name: self.name.clone(),
            market: self.market,
            kind: self.kind,
            market_cap: self.market_cap,
            english_name: None,
        }
    }
}
