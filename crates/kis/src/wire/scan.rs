//! Whole-market quotations (`docs/kis-wire.md`, the reference's §4.9–4.12): 관심종목(멀티종목) 시세
//! (FHKST11300006, up to 30 codes a call), 거래량순위 (FHPST01710000) and 등락률 순위 (FHPST01700000),
//! 30 rows each with no next page, and 종목조건검색 (HHKST03900300 / HHKST03900400), the user's HTS
//! conditions, at most 100 results.
//!
//! Every number is checked as the other endpoints' are (a bad value names the TR and the field). The
//! rankings, the condition search and (per KIS's portal) the whole-market list are real-only; whether
//! `intstock-multprice` answers on 모의투자 is not documented, so it is sent there too and a refusal
//! comes back as KIS's own error.

use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;

use super::{Body, Fields, MARKET_KRX, Record, Request};
use crate::error::KisError;

/// Codes `intstock-multprice` takes at most in one call.
pub const MULTPRICE_MAX_CODES: usize = 30;
/// Rows a ranking answers at most (no next page).
pub const RANKING_MAX_ROWS: usize = 30;
/// Results a saved HTS condition answers at most.
pub const CONDITION_MAX_RESULTS: usize = 100;
/// `msg_cd` of a condition search that matched no stock ("종목코드 오류입니다.").
pub const NO_MATCH_MSG_CD: &str = "MCA05918";
/// `msg_cd` KIS answers when the user has no condition saved under that number.
pub const NO_CONDITION_MSG_CD: &str = "MCA05762";

const MARKET_PARAMS: [&str; MULTPRICE_MAX_CODES] = [
    "FID_COND_MRKT_DIV_CODE_1",
    "FID_COND_MRKT_DIV_CODE_2",
    "FID_COND_MRKT_DIV_CODE_3",
    "FID_COND_MRKT_DIV_CODE_4",
    "FID_COND_MRKT_DIV_CODE_5",
    "FID_COND_MRKT_DIV_CODE_6",
    "FID_COND_MRKT_DIV_CODE_7",
    "FID_COND_MRKT_DIV_CODE_8",
    "FID_COND_MRKT_DIV_CODE_9",
    "FID_COND_MRKT_DIV_CODE_10",
    "FID_COND_MRKT_DIV_CODE_11",
    "FID_COND_MRKT_DIV_CODE_12",
    "FID_COND_MRKT_DIV_CODE_13",
    "FID_COND_MRKT_DIV_CODE_14",
    "FID_COND_MRKT_DIV_CODE_15",
    "FID_COND_MRKT_DIV_CODE_16",
    "FID_COND_MRKT_DIV_CODE_17",
    "FID_COND_MRKT_DIV_CODE_18",
    "FID_COND_MRKT_DIV_CODE_19",
    "FID_COND_MRKT_DIV_CODE_20",
    "FID_COND_MRKT_DIV_CODE_21",
    "FID_COND_MRKT_DIV_CODE_22",
    "FID_COND_MRKT_DIV_CODE_23",
    "FID_COND_MRKT_DIV_CODE_24",
    "FID_COND_MRKT_DIV_CODE_25",
    "FID_COND_MRKT_DIV_CODE_26",
    "FID_COND_MRKT_DIV_CODE_27",
    "FID_COND_MRKT_DIV_CODE_28",
    "FID_COND_MRKT_DIV_CODE_29",
    "FID_COND_MRKT_DIV_CODE_30",
];

const CODE_PARAMS: [&str; MULTPRICE_MAX_CODES] = [
    "FID_INPUT_ISCD_1",
    "FID_INPUT_ISCD_2",
    "FID_INPUT_ISCD_3",
    "FID_INPUT_ISCD_4",
    "FID_INPUT_ISCD_5",
    "FID_INPUT_ISCD_6",
    "FID_INPUT_ISCD_7",
    "FID_INPUT_ISCD_8",
    "FID_INPUT_ISCD_9",
    "FID_INPUT_ISCD_10",
    "FID_INPUT_ISCD_11",
    "FID_INPUT_ISCD_12",
    "FID_INPUT_ISCD_13",
    "FID_INPUT_ISCD_14",
    "FID_INPUT_ISCD_15",
    "FID_INPUT_ISCD_16",
    "FID_INPUT_ISCD_17",
    "FID_INPUT_ISCD_18",
    "FID_INPUT_ISCD_19",
    "FID_INPUT_ISCD_20",
    "FID_INPUT_ISCD_21",
    "FID_INPUT_ISCD_22",
    "FID_INPUT_ISCD_23",
    "FID_INPUT_ISCD_24",
    "FID_INPUT_ISCD_25",
    "FID_INPUT_ISCD_26",
    "FID_INPUT_ISCD_27",
    "FID_INPUT_ISCD_28",
    "FID_INPUT_ISCD_29",
    "FID_INPUT_ISCD_30",
];

/// 관심종목(멀티종목) 시세조회: the current prices of 1 to 30 stocks in one call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultPriceRequest {
    codes: Vec<StockCode>,
}

impl MultPriceRequest {
    /// A request for `codes` (1 to [`MULTPRICE_MAX_CODES`]; more is an error, not a silent cut).
    pub fn new(codes: Vec<StockCode>) -> Result<MultPriceRequest, KisError> {
        if codes.is_empty() || codes.len() > MULTPRICE_MAX_CODES {
            return Err(KisError::Decode {
                tr_id: MultPriceRequest::TR_ID.into(),
                detail: format!("{} codes asked, 1 to {MULTPRICE_MAX_CODES} allowed", codes.len()),
            });
        }
        Ok(MultPriceRequest { codes })
    }

    pub fn codes(&self) -> &[StockCode] {
        &self.codes
    }
}

/// One stock's quote from `intstock-multprice`: enough for today's daily bar. Prices in KRW.
#[derive(Debug, Clone, PartialEq)]
pub struct MultPrice {
    pub code: StockCode,
    pub name: String,
    /// `KOSPI` / `KOSDAQ` as KIS names it.
    pub market_name: String,
    /// 시장 조치 구분 명 (거래정지, 관리종목, 투자경고, …), empty for none.
    pub treatment: String,
    pub price: i64,
    pub change: i64,
    pub sign: Sign,
    pub change_rate: Decimal,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    /// Shares traded today.
    pub volume: u64,
    /// KRW traded today (거래대금).
    pub turnover: u64,
    /// 전일종가.
    pub prev_close: i64,
    /// 기준가 (the base of the day's limits).
    pub base_price: i64,
    pub upper_limit: i64,
    pub lower_limit: i64,
    pub best_ask: i64,
    pub best_bid: i64,
    /// 예상체결가 and its volume during an auction.
    pub expected: Option<(i64, u64)>,
}

impl Request for MultPriceRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/intstock-multprice";
    const TR_ID: &'static str = "FHKST11300006";
    type Output = Vec<MultPrice>;

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::with_capacity(self.codes.len() * 2);
        for (i, code) in self.codes.iter().enumerate() {
            q.push((MARKET_PARAMS[i], MARKET_KRX.to_owned()));
            q.push((CODE_PARAMS[i], code.as_str().to_owned()));
        }
        q
    }

    /// The rows of the codes KIS knows, in the order asked; a code KIS does not know (a zeroed row
    /// with no name) is left out.
    fn parse(&self, body: &[u8]) -> Result<Vec<MultPrice>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let mut out = Vec::with_capacity(self.codes.len());
        for o in body.rows("output")? {
            let name = o.text("inter_kor_isnm");
            let price = o.opt("inter2_prpr", Fields::krw)?.unwrap_or(0);
            if name.is_empty() && price == 0 {
                continue;
            }
            out.push(multprice_row(&o, name)?);
        }
        Ok(out)
    }
}

fn multprice_row(o: &Record<'_>, name: String) -> Result<MultPrice, KisError> {
    let expected_change: i64 = o.opt("intr_antc_cntg_vrss", Fields::krw)?.unwrap_or(0);
    let expected_volume = o.opt("intr_antc_vol", Fields::count)?.unwrap_or(0);
    let prev_close = o.req("inter2_prdy_clpr", Fields::krw)?;
    let expected = (expected_change != 0 || expected_volume > 0)
        .then_some((prev_close + expected_change, expected_volume));
    Ok(MultPrice {
        code: o.req("inter_shrn_iscd", Fields::code)?,
        name,
        market_name: o.text("kospi_kosdaq_cls_name"),
        treatment: o.text("mrkt_trtm_cls_name"),
        price: o.req("inter2_prpr", Fields::krw)?,
        change: o.req("inter2_prdy_vrss", Fields::krw)?,
        sign: o.req("prdy_vrss_sign", Fields::sign)?,
        change_rate: o.req("prdy_ctrt", Fields::decimal)?,
        open: o.req("inter2_oprc", Fields::krw)?,
        high: o.req("inter2_hgpr", Fields::krw)?,
        low: o.req("inter2_lwpr", Fields::krw)?,
        volume: o.req("acml_vol", Fields::count)?,
        turnover: o.req("acml_tr_pbmn", Fields::count)?,
        prev_close,
        base_price: o.opt("inter2_sdpr", Fields::krw)?.unwrap_or(prev_close),
        upper_limit: o.req("inter2_mxpr", Fields::krw)?,
        lower_limit: o.req("inter2_llam", Fields::krw)?,
        best_ask: o.opt("inter2_askp", Fields::krw)?.unwrap_or(0),
        best_bid: o.opt("inter2_bidp", Fields::krw)?.unwrap_or(0),
        expected,
    })
}

/// Which listings a ranking covers (the shared filters of `volume-rank` and `ranking/fluctuation`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RankingScope {
    /// `FID_INPUT_ISCD`: `0000` 전체, `0001` KOSPI, `1001` KOSDAQ, `2001` KOSPI200, or an 업종 code.
    pub section: String,
    /// Leave out 투자위험/경고/주의, 관리종목, 정리매매, 불성실공시, 우선주, 거래정지, ETF, ETN,
    /// 신용주문불가, SPAC (the ten digits of `FID_TRGT_EXLS_CLS_CODE`, in this order).
    pub exclude: [bool; 10],
    /// A price range in KRW (either end open).
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// A minimum volume today.
    pub min_volume: Option<u64>,
}

impl Default for RankingScope {
    /// Every listing.
    fn default() -> RankingScope {
        RankingScope {
            section: "0000".into(),
            exclude: [false; 10],
            min_price: None,
            max_price: None,
            min_volume: None,
        }
    }
}

impl RankingScope {
    fn exclusion_code(&self) -> String {
        self.exclude.iter().map(|&b| if b { '1' } else { '0' }).collect()
    }

    fn number(v: Option<impl ToString>) -> String {
        v.map(|v| v.to_string()).unwrap_or_default()
    }
}

/// 거래량순위 ordering (`FID_BLNG_CLS_CODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VolumeRankSort {
    /// 평균거래량 (today's volume).
    #[default]
    Volume,
    /// 거래증가율.
    VolumeIncrease,
    /// 평균거래회전율.
    VolumeTurnoverRatio,
    /// 거래금액순.
    Turnover,
    /// 평균거래금액회전율.
    TurnoverRatio,
}

/// 거래량순위: the 30 most traded listings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct VolumeRankRequest {
    pub scope: RankingScope,
    pub sort: VolumeRankSort,
}

/// One row of a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankRow {
    pub rank: u32,
    pub code: StockCode,
    pub name: String,
    pub price: i64,
    pub change: i64,
    pub sign: Sign,
    pub change_rate: Decimal,
    pub volume: u64,
    /// 거래대금 (volume-rank only; `None` from fluctuation).
    pub turnover: Option<u64>,
    /// 전일거래량 (volume-rank only).
    pub prev_volume: Option<u64>,
    /// Today's high and low (fluctuation only).
    pub high: Option<i64>,
    pub low: Option<i64>,
}

impl Request for VolumeRankRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/volume-rank";
    const TR_ID: &'static str = "FHPST01710000";
    const ON_VTS: bool = false;
    type Output = Vec<RankRow>;

    fn query(&self) -> Vec<(&'static str, String)> {
        let s = &self.scope;
        let blng = match self.sort {
            VolumeRankSort::Volume => "0",
            VolumeRankSort::VolumeIncrease => "1",
            VolumeRankSort::VolumeTurnoverRatio => "2",
            VolumeRankSort::Turnover => "3",
            VolumeRankSort::TurnoverRatio => "4",
        };
        vec![
            ("FID_COND_MRKT_DIV_CODE", MARKET_KRX.to_owned()),
            ("FID_COND_SCR_DIV_CODE", "20171".to_owned()),
            ("FID_INPUT_ISCD", s.section.clone()),
            ("FID_DIV_CLS_CODE", "0".to_owned()),
            ("FID_BLNG_CLS_CODE", blng.to_owned()),
            ("FID_TRGT_CLS_CODE", "111111111".to_owned()),
            ("FID_TRGT_EXLS_CLS_CODE", s.exclusion_code()),
            ("FID_INPUT_PRICE_1", RankingScope::number(s.min_price)),
            ("FID_INPUT_PRICE_2", RankingScope::number(s.max_price)),
            ("FID_VOL_CNT", RankingScope::number(s.min_volume)),
            ("FID_INPUT_DATE_1", String::new()),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<RankRow>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let mut rows = body
            .rows("output")?
            .iter()
            .map(|o| {
                Ok(RankRow {
                    rank: o.req("data_rank", Fields::count)? as u32,
                    code: o.req("mksc_shrn_iscd", Fields::code)?,
                    name: o.text("hts_kor_isnm"),
                    price: o.req("stck_prpr", Fields::krw)?,
                    change: o.req("prdy_vrss", Fields::krw)?,
                    sign: o.req("prdy_vrss_sign", Fields::sign)?,
                    change_rate: o.req("prdy_ctrt", Fields::decimal)?,
                    volume: o.req("acml_vol", Fields::count)?,
                    turnover: o.opt("acml_tr_pbmn", Fields::count)?,
                    prev_volume: o.opt("prdy_vol", Fields::count)?,
                    high: None,
                    low: None,
                })
            })
            .collect::<Result<Vec<_>, KisError>>()?;
        rows.sort_by_key(|r| r.rank);
        Ok(rows)
    }
}

/// 등락률 순위 ordering (`fid_rank_sort_cls_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FluctuationSort {
    /// 상승률순.
    #[default]
    Rise,
    /// 하락률순.
    Fall,
    /// 시가대비상승율.
    RiseFromOpen,
    /// 시가대비하락율.
    FallFromOpen,
    /// 변동율.
    Range,
}

/// 등락률 순위: the 30 biggest movers (from the previous close).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FluctuationRequest {
    pub scope: RankingScope,
    pub sort: FluctuationSort,
}

impl Request for FluctuationRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/ranking/fluctuation";
    const TR_ID: &'static str = "FHPST01700000";
    const ON_VTS: bool = false;
    type Output = Vec<RankRow>;

    /// Lower-case names, as the official sample sends them.
    fn query(&self) -> Vec<(&'static str, String)> {
        let s = &self.scope;
        let sort = match self.sort {
            FluctuationSort::Rise => "0000",
            FluctuationSort::Fall => "0001",
            FluctuationSort::RiseFromOpen => "0002",
            FluctuationSort::FallFromOpen => "0003",
            FluctuationSort::Range => "0004",
        };
        vec![
            ("fid_rsfl_rate2", String::new()),
            ("fid_cond_mrkt_div_code", MARKET_KRX.to_owned()),
            ("fid_cond_scr_div_code", "20170".to_owned()),
            ("fid_input_iscd", s.section.clone()),
            ("fid_rank_sort_cls_code", sort.to_owned()),
            ("fid_input_cnt_1", "0".to_owned()),
            ("fid_prc_cls_code", "1".to_owned()),
            ("fid_input_price_1", RankingScope::number(s.min_price)),
            ("fid_input_price_2", RankingScope::number(s.max_price)),
            ("fid_vol_cnt", RankingScope::number(s.min_volume)),
            ("fid_trgt_cls_code", "0".to_owned()),
            ("fid_trgt_exls_cls_code", s.exclusion_code()),
            ("fid_div_cls_code", "0".to_owned()),
            ("fid_rsfl_rate1", String::new()),
        ]
    }

    /// Sorted by rank whatever order KIS sends (an open-trading-api issue reports rows out of order).
    fn parse(&self, body: &[u8]) -> Result<Vec<RankRow>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let mut rows = body
            .rows("output")?
            .iter()
            .map(|o| {
                Ok(RankRow {
                    rank: o.req("data_rank", Fields::count)? as u32,
                    code: o.req("stck_shrn_iscd", Fields::code)?,
                    name: o.text("hts_kor_isnm"),
                    price: o.req("stck_prpr", Fields::krw)?,
                    change: o.req("prdy_vrss", Fields::krw)?,
                    sign: o.req("prdy_vrss_sign", Fields::sign)?,
                    change_rate: o.req("prdy_ctrt", Fields::decimal)?,
                    volume: o.req("acml_vol", Fields::count)?,
                    turnover: None,
                    prev_volume: None,
                    high: o.opt("stck_hgpr", Fields::krw)?,
                    low: o.opt("stck_lwpr", Fields::krw)?,
                })
            })
            .collect::<Result<Vec<_>, KisError>>()?;
        rows.sort_by_key(|r| r.rank);
        Ok(rows)
    }
}

/// 종목조건검색 목록조회: the conditions the HTS user saved to the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConditionTitlesRequest {
    /// The HTS ID (not the app key).
    pub user_id: String,
}

/// One saved HTS condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionTitle {
    pub seq: String,
    pub group: String,
    pub name: String,
}

impl Request for ConditionTitlesRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/psearch-title";
    const TR_ID: &'static str = "HHKST03900300";
    const ON_VTS: bool = false;
    type Output = Vec<ConditionTitle>;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![("user_id", self.user_id.clone())]
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<ConditionTitle>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        Ok(body
            .rows("output2")?
            .iter()
            .map(|o| ConditionTitle {
                seq: o.text("seq"),
                group: o.text("grp_nm"),
                name: o.text("condition_nm"),
            })
            .collect())
    }
}

/// 종목조건검색조회: the stocks one saved condition matches now (at most 100).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConditionResultRequest {
    pub user_id: String,
    pub seq: String,
}

/// One stock a saved condition matched.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionMatch {
    pub code: StockCode,
    pub name: String,
    pub price: i64,
    pub change: i64,
    pub sign: Sign,
    pub change_rate: Decimal,
    pub volume: u64,
    /// 거래대금.
    pub turnover: u64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    /// 기준가.
    pub base_price: i64,
}

impl Request for ConditionResultRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/psearch-result";
    const TR_ID: &'static str = "HHKST03900400";
    const ON_VTS: bool = false;
    type Output = Vec<ConditionMatch>;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![("user_id", self.user_id.clone()), ("seq", self.seq.clone())]
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<ConditionMatch>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        body.rows("output2")?
            .iter()
            .map(|o| {
                Ok(ConditionMatch {
                    code: o.req("code", Fields::code)?,
                    name: o.text("name"),
                    price: o.req("price", Fields::krw)?,
                    change: o.req("change", Fields::krw)?,
                    sign: o.req("daebi", Fields::sign)?,
                    change_rate: o.req("chgrate", Fields::decimal)?,
                    volume: o.req("acml_vol", Fields::count)?,
                    turnover: o.req("trade_amt", Fields::count)?,
                    open: o.req("open", Fields::krw)?,
                    high: o.req("high", Fields::krw)?,
                    low: o.req("low", Fields::krw)?,
                    base_price: o.req("recprice", Fields::krw)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> StockCode {
        StockCode::parse(s).unwrap()
    }

    #[test]
    fn multprice_sends_only_the_pairs_it_has_and_refuses_more_than_thirty() {
        let r = MultPriceRequest::new(vec![code("005930"), code("000660")]).unwrap();
        assert_eq!(
            r.query(),
            vec![
                ("FID_COND_MRKT_DIV_CODE_1", "J".to_owned()),
                ("FID_INPUT_ISCD_1", "005930".to_owned()),
                ("FID_COND_MRKT_DIV_CODE_2", "J".to_owned()),
                ("FID_INPUT_ISCD_2", "000660".to_owned()),
            ]
        );
        assert!(MultPriceRequest::new(vec![code("005930"); 31]).is_err());
        assert!(MultPriceRequest::new(Vec::new()).is_err());
    }

    #[test]
    fn multprice_rows_are_checked_and_unknown_codes_skipped() {
        let r = MultPriceRequest::new(vec![code("005930"), code("999999")]).unwrap();
        let body = r#"{"rt_cd":"0","msg_cd":"MCA00000","msg1":"ok","output":[
            {"kospi_kosdaq_cls_name":"KOSPI","mrkt_trtm_cls_name":"","hour_cls_code":"0",
             "inter_shrn_iscd":"005930","inter_kor_isnm":"삼성전자","inter2_prpr":"71000",
             "inter2_prdy_vrss":"-500","prdy_vrss_sign":"5","prdy_ctrt":"-0.70","acml_vol":"1000",
             "inter2_oprc":"71500","inter2_hgpr":"71900","inter2_lwpr":"70800","inter2_llam":"50100",
             "inter2_mxpr":"92900","inter2_askp":"71100","inter2_bidp":"71000","seln_rsqn":"1",
             "shnu_rsqn":"2","total_askp_rsqn":"3","total_bidp_rsqn":"4","acml_tr_pbmn":"71000000",
             "inter2_prdy_clpr":"71500","oprc_vrss_hgpr_rate":"0.56","intr_antc_cntg_vrss":"0",
             "intr_antc_cntg_vrss_sign":"3","intr_antc_cntg_prdy_ctrt":"0.00","intr_antc_vol":"0",
             "inter2_sdpr":"71500"},
            {"inter_shrn_iscd":"999999","inter_kor_isnm":"","inter2_prpr":"0"}]}"#;
        let rows = r.parse(body.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        let s = &rows[0];
        assert_eq!((s.open, s.high, s.low, s.price), (71_500, 71_900, 70_800, 71_000));
        assert_eq!((s.volume, s.turnover, s.prev_close), (1000, 71_000_000, 71_500));
        assert_eq!(s.change_rate, Decimal::new(-70, 2));
        assert_eq!(s.expected, None);
        let bad = body.replace(r#""acml_vol":"1000""#, r#""acml_vol":"-1""#);
        assert!(matches!(
            r.parse(bad.as_bytes()),
            Err(KisError::Parse {
                field: "acml_vol",
                ..
            })
        ));
    }

    #[test]
    fn rankings_are_sorted_by_rank_whatever_the_order_sent() {
        let body = r#"{"rt_cd":"0","output":[
            {"stck_shrn_iscd":"000660","data_rank":"2","hts_kor_isnm":"SK하이닉스","stck_prpr":"100",
             "prdy_vrss":"5","prdy_vrss_sign":"2","prdy_ctrt":"5.26","acml_vol":"10"},
            {"stck_shrn_iscd":"005930","data_rank":"1","hts_kor_isnm":"삼성전자","stck_prpr":"110",
             "prdy_vrss":"10","prdy_vrss_sign":"2","prdy_ctrt":"10.00","acml_vol":"10"}]}"#;
        let rows = FluctuationRequest::default().parse(body.as_bytes()).unwrap();
        assert_eq!(rows[0].code, code("005930"));
        assert_eq!(rows[1].rank, 2);
        let q = FluctuationRequest::default().query();
        assert!(q.contains(&("fid_trgt_exls_cls_code", "0000000000".to_owned())));
    }
}
