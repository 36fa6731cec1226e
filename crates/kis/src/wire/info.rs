//! Reference data: 주식기본조회 (CTPF1002R, real only) and 국내휴장일조회 (TCA0903R).

use jiff::civil::Date;
use market::StockCode;

use super::chart::format_date;
use super::{Body, Fields, Request};
use crate::error::KisError;

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
