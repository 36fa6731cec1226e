//! Reference data: 상품기본조회 (CTPF1604R, real only), 주식기본조회 (CTPF1002R, real only) and
//! 국내휴장일조회 (TCA0903R).

use jiff::civil::Date;
use market::StockCode;

use super::chart::format_date;
use super::{Body, Fields, Request};
use crate::error::KisError;

/// 상품기본조회 (`search-info`): the names and codes of one product, the cheapest way to name a code
/// (20 fields, against ~70 for 주식기본조회). A code KIS does not know is answered with `rt_cd "7"`
/// and `msg_cd` [`NO_DATA_MSG_CD`], which [`crate::KisClient::product_info`] turns into
/// [`KisError::NotFound`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductInfoRequest {
    pub code: StockCode,
}

/// `msg_cd` of KIS's "조회할 내용이 없습니다" (nothing to show).
pub const NO_DATA_MSG_CD: &str = "KIOK0560";

/// A product's names and codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInfo {
    /// 단축상품번호 (the six-character code).
    pub code: StockCode,
    /// 표준상품번호 (ISIN, e.g. `KR7005930003`).
    pub isin: String,
    /// 상품약어명 (e.g. `삼성전자`), else the full name.
    pub name: String,
    /// 상품명120 (the full Korean name).
    pub full_name: String,
    /// 상품영문약어명, else the English name.
    pub english_name: String,
    /// 상품유형코드 (`300` for stocks, ETFs and ETNs).
    pub product_type: String,
}

impl Request for ProductInfoRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/search-info";
    const TR_ID: &'static str = "CTPF1604R";
    const ON_VTS: bool = false;
    type Output = ProductInfo;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PDNO", self.code.as_str().to_owned()),
            ("PRDT_TYPE_CD", "300".to_owned()),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<ProductInfo, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let not_found = || KisError::NotFound {
            code: self.code.to_string(),
        };
        let o = body.object("output")?.ok_or_else(not_found)?;
        let first = |a: &'static str, b: &'static str| {
            let v = o.text(a);
            if v.is_empty() { o.text(b) } else { v }
        };
        let name = first("prdt_abrv_name", "prdt_name");
        if name.is_empty() {
            return Err(not_found());
        }
        let short = o.text("shtn_pdno");
        let code = if short.is_empty() {
            self.code
        } else {
            StockCode::parse(&short).map_err(|_| KisError::Parse {
                tr_id: Self::TR_ID,
                field: "shtn_pdno",
                raw: short.clone(),
            })?
        };
        Ok(ProductInfo {
            code,
            isin: o.text("std_pdno"),
            full_name: first("prdt_name120", "prdt_name"),
            english_name: first("prdt_eng_abrv_name", "prdt_eng_name"),
            product_type: o.text("prdt_type_cd"),
            name,
        })
    }
}

/// 주식기본조회: name, market and share data of one stock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StockInfoRequest {
    pub code: StockCode,
}

/// Basic data of a stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockInfo {
    pub code: StockCode,
    /// 상품약어명 (short Korean name, e.g. `삼성전자`), else the full name.
    pub name: String,
    pub english_name: String,
    /// 시장ID코드 (`STK` KOSPI, `KSQ` KOSDAQ, ...).
    pub market_id: String,
    pub listed_shares: Option<u64>,
    /// 액면가 in KRW.
    pub face_value: Option<i64>,
    pub halted: bool,
}

impl Request for StockInfoRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/search-stock-info";
    const TR_ID: &'static str = "CTPF1002R";
    const ON_VTS: bool = false;
    type Output = StockInfo;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PRDT_TYPE_CD", "300".to_owned()),
            ("PDNO", self.code.as_str().to_owned()),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<StockInfo, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let not_found = || KisError::NotFound {
            code: self.code.to_string(),
        };
        let o = body.object("output")?.ok_or_else(not_found)?;
        let short = o.text("prdt_abrv_name");
        let name = if short.is_empty() {
            o.text("prdt_name")
        } else {
            short
        };
        if name.is_empty() {
            return Err(not_found());
        }
        Ok(StockInfo {
            code: self.code,
            name,
            english_name: o.text("prdt_eng_name"),
            market_id: o.text("mket_id_cd"),
            listed_shares: o.opt("lstg_stqt", Fields::count)?,
            face_value: o.opt("papr", Fields::krw)?,
            halted: o.opt("tr_stop_yn", Fields::yes_no)?.unwrap_or(false),
        })
    }
}

/// 국내휴장일조회: the calendar from `date` on (KIS advises calling it at most once a day).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HolidayRequest {
    pub date: Date,
}

/// One calendar day as KIS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketDay {
    pub date: Date,
    /// 영업일여부 (business day of the securities firm).
    pub business_day: bool,
    /// 거래일여부.
    pub trading_day: bool,
    /// 개장일여부: the market opens (the field to check before trading).
    pub open: bool,
    /// 결제일여부.
    pub settlement_day: bool,
}

impl Request for HolidayRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/chk-holiday";
    const TR_ID: &'static str = "CTCA0903R";
    const ON_VTS: bool = false;
    type Output = Vec<MarketDay>;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("BASS_DT", format_date(self.date)),
            ("CTX_AREA_NK", String::new()),
            ("CTX_AREA_FK", String::new()),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<MarketDay>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        body.rows("output")?
            .iter()
            .map(|r| {
                Ok(MarketDay {
                    date: r.req("bass_dt", Fields::date)?,
                    business_day: r.req("bzdy_yn", Fields::yes_no)?,
                    trading_day: r.req("tr_day_yn", Fields::yes_no)?,
                    open: r.req("opnd_yn", Fields::yes_no)?,
                    settlement_day: r.req("sttl_day_yn", Fields::yes_no)?,
                })
            })
            .collect()
    }
}
