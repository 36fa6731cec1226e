//! Current quotations: price (FHKST01010100), order book (FHKST01010200), recent executions
//! (FHKST01010300), daily prices (FHKST01010400) and investors (FHKST01010900).

use jiff::civil::{Date, Time};
use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;

use super::chart::bar_from_row;
use super::{Body, Fields, MARKET_KRX, Record, Request};
use crate::error::KisError;

fn code_query(code: &StockCode) -> Vec<(&'static str, String)> {
    vec![
        ("FID_COND_MRKT_DIV_CODE", MARKET_KRX.to_owned()),
        ("FID_INPUT_ISCD", code.as_str().to_owned()),
    ]
}

/// 주식현재가 시세: the current price of one stock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PriceRequest {
    pub code: StockCode,
}

/// The current price and the day so far. Prices in KRW, rates in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub code: StockCode,
    pub price: i64,
    pub change: i64,
    pub sign: Sign,
    pub change_rate: Decimal,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    /// 기준가: yesterday's close, the base of the day's limits.
    pub base_price: i64,
    pub upper_limit: i64,
    pub lower_limit: i64,
    /// Shares traded today.
    pub volume: u64,
    /// KRW traded today.
    pub turnover: u64,
    /// 대표시장명 (e.g. `KOSPI200`), empty when KIS leaves it out.
    pub market_name: String,
    /// 업종명.
    pub sector: String,
    /// 호가단위.
    pub tick: Option<i64>,
    pub listed_shares: Option<u64>,
    pub per: Option<Decimal>,
    pub pbr: Option<Decimal>,
    /// 외국인소진율 in percent.
    pub foreign_ratio: Option<Decimal>,
    /// 임시정지 / 거래정지.
    pub halted: bool,
    /// 52주 최고가 (`w52_hgpr`), when KIS sends it.
    pub w52_high: Option<i64>,
    /// 52주 최저가 (`w52_lwpr`), when KIS sends it.
    pub w52_low: Option<i64>,
}

impl Request for PriceRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-price";
    const TR_ID: &'static str = "FHKST01010100";
    type Output = Price;

    fn query(&self) -> Vec<(&'static str, String)> {
        code_query(&self.code)
    }

    fn parse(&self, body: &[u8]) -> Result<Price, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let not_found = || KisError::NotFound {
            code: self.code.to_string(),
        };
        let o = body.object("output")?.ok_or_else(not_found)?;
        // KIS answers an unknown code with rt_cd 0 and a zeroed output.
        let raw_price = o.get("stck_prpr").unwrap_or_default();
        if matches!(raw_price.trim(), "" | "0") {
            return Err(not_found());
        }
        Ok(Price {
            code: self.code,
            price: o.req("stck_prpr", Fields::krw)?,
            change: o.req("prdy_vrss", Fields::krw)?,
            sign: o.req("prdy_vrss_sign", Fields::sign)?,
            change_rate: o.req("prdy_ctrt", Fields::decimal)?,
            open: o.req("stck_oprc", Fields::krw)?,
            high: o.req("stck_hgpr", Fields::krw)?,
            low: o.req("stck_lwpr", Fields::krw)?,
            base_price: o.req("stck_sdpr", Fields::krw)?,
            upper_limit: o.req("stck_mxpr", Fields::krw)?,
            lower_limit: o.req("stck_llam", Fields::krw)?,
            volume: o.req("acml_vol", Fields::count)?,
            turnover: o.req("acml_tr_pbmn", Fields::count)?,
            market_name: o.text("rprs_mrkt_kor_name"),
            sector: o.text("bstp_kor_isnm"),
            tick: o.opt("aspr_unit", Fields::krw)?,
            listed_shares: o.opt("lstn_stcn", Fields::count)?,
            per: o.opt("per", Fields::decimal)?,
            pbr: o.opt("pbr", Fields::decimal)?,
            foreign_ratio: o.opt("hts_frgn_ehrt", Fields::decimal)?,
            halted: o.opt("temp_stop_yn", Fields::yes_no)?.unwrap_or(false)
                || o.text("iscd_stat_cls_code") == "58",
            w52_high: o.opt("w52_hgpr", Fields::krw)?.filter(|p| *p > 0),
            w52_low: o.opt("w52_lwpr", Fields::krw)?.filter(|p| *p > 0),
        })
    }
}

/// 주식현재가 호가/예상체결: the 10-level order book.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBookRequest {
    pub code: StockCode,
}

/// One price level: price in KRW and the quantity resting there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub price: i64,
    pub quantity: u64,
}

/// The 10-level order book, best level first on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBook {
    pub code: StockCode,
    /// 호가접수시간.
    pub time: Time,
    pub asks: [Level; 10],
    pub bids: [Level; 10],
    pub total_ask_quantity: u64,
    pub total_bid_quantity: u64,
    /// 예상체결가 and 예상거래량 during auctions (`None` when KIS sends 0 or nothing).
    pub expected: Option<(i64, u64)>,
}

const ASK_PRICE: [&str; 10] = [
    "askp1", "askp2", "askp3", "askp4", "askp5", "askp6", "askp7", "askp8", "askp9", "askp10",
];
const BID_PRICE: [&str; 10] = [
    "bidp1", "bidp2", "bidp3", "bidp4", "bidp5", "bidp6", "bidp7", "bidp8", "bidp9", "bidp10",
];
const ASK_QTY: [&str; 10] = [
    "askp_rsqn1",
    "askp_rsqn2",
    "askp_rsqn3",
    "askp_rsqn4",
    "askp_rsqn5",
    "askp_rsqn6",
    "askp_rsqn7",
    "askp_rsqn8",
    "askp_rsqn9",
    "askp_rsqn10",
];
const BID_QTY: [&str; 10] = [
    "bidp_rsqn1",
    "bidp_rsqn2",
    "bidp_rsqn3",
    "bidp_rsqn4",
    "bidp_rsqn5",
    "bidp_rsqn6",
    "bidp_rsqn7",
    "bidp_rsqn8",
    "bidp_rsqn9",
    "bidp_rsqn10",
];

fn levels(
    o: &Record<'_>,
    prices: &[&'static str; 10],
    qtys: &[&'static str; 10],
) -> Result<[Level; 10], KisError> {
    let mut out = [Level {
        price: 0,
        quantity: 0,
    }; 10];
    for (i, level) in out.iter_mut().enumerate() {
        level.price = o.req(prices[i], Fields::krw)?;
        level.quantity = o.req(qtys[i], Fields::count)?;
    }
    Ok(out)
}

impl Request for OrderBookRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-asking-price-exp-ccn";
    const TR_ID: &'static str = "FHKST01010200";
    type Output = OrderBook;

    fn query(&self) -> Vec<(&'static str, String)> {
        code_query(&self.code)
    }

    fn parse(&self, body: &[u8]) -> Result<OrderBook, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let o = body.object("output1")?.ok_or_else(|| KisError::NotFound {
            code: self.code.to_string(),
        })?;
        let expected = match body.object("output2")? {
            Some(x) => {
                let price = x.opt("antc_cnpr", Fields::krw)?.unwrap_or(0);
                let volume = x.opt("antc_vol", Fields::count)?.unwrap_or(0);
                (price > 0).then_some((price, volume))
            }
            None => None,
        };
        Ok(OrderBook {
            code: self.code,
            time: o.req("aspr_acpt_hour", Fields::time)?,
            asks: levels(&o, &ASK_PRICE, &ASK_QTY)?,
            bids: levels(&o, &BID_PRICE, &BID_QTY)?,
            total_ask_quantity: o.req("total_askp_rsqn", Fields::count)?,
            total_bid_quantity: o.req("total_bidp_rsqn", Fields::count)?,
            expected,
        })
    }
}

/// 주식현재가 체결: the latest 30 executions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExecutionsRequest {
    pub code: StockCode,
}

/// One execution (체결), newest first in the list KIS returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub time: Time,
    pub price: i64,
    pub change: i64,
    pub sign: Sign,
    pub change_rate: Decimal,
    pub volume: u64,
    /// 체결강도 in percent.
    pub strength: Decimal,
}

impl Request for ExecutionsRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-ccnl";
    const TR_ID: &'static str = "FHKST01010300";
    type Output = Vec<Execution>;

    fn query(&self) -> Vec<(&'static str, String)> {
        code_query(&self.code)
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Execution>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        body.rows("output")?
            .iter()
            .map(|r| {
                Ok(Execution {
                    time: r.req("stck_cntg_hour", Fields::time)?,
                    price: r.req("stck_prpr", Fields::krw)?,
                    change: r.req("prdy_vrss", Fields::krw)?,
                    sign: r.req("prdy_vrss_sign", Fields::sign)?,
                    change_rate: r.req("prdy_ctrt", Fields::decimal)?,
                    volume: r.req("cntg_vol", Fields::count)?,
                    strength: r.req("tday_rltv", Fields::decimal)?,
                })
            })
            .collect()
    }
}

/// The period of [`DailyPriceRequest`]: the last 30 days, weeks or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecentPeriod {
    Day,
    Week,
    Month,
}

impl RecentPeriod {
    fn code(self) -> &'static str {
        match self {
            RecentPeriod::Day => "D",
            RecentPeriod::Week => "W",
            RecentPeriod::Month => "M",
        }
    }
}

/// 주식현재가 일자별: the last 30 days (or weeks, months).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DailyPriceRequest {
    pub code: StockCode,
    pub period: RecentPeriod,
    /// Adjusted prices (수정주가).
    pub adjusted: bool,
}

/// One row of [`DailyPriceRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct DailyPrice {
    pub date: Date,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
    pub change: i64,
    pub sign: Sign,
    pub change_rate: Decimal,
    pub foreign_ratio: Option<Decimal>,
    pub foreign_net_buy: Option<i64>,
}

impl Request for DailyPriceRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-daily-price";
    const TR_ID: &'static str = "FHKST01010400";
    type Output = Vec<DailyPrice>;

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = code_query(&self.code);
        q.push(("FID_PERIOD_DIV_CODE", self.period.code().to_owned()));
        // Documented for this TR: 0 unadjusted, 1 adjusted.
        q.push((
            "FID_ORG_ADJ_PRC",
            if self.adjusted { "1" } else { "0" }.to_owned(),
        ));
        q
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<DailyPrice>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        body.rows("output")?
            .iter()
            .map(|r| {
                Ok(bar_from_row!(DailyPrice, r, "stck_clpr", "acml_vol",
                    change: r.req("prdy_vrss", Fields::krw)?,
                    sign: r.req("prdy_vrss_sign", Fields::sign)?,
                    change_rate: r.req("prdy_ctrt", Fields::decimal)?,
                    foreign_ratio: r.opt("hts_frgn_ehrt", Fields::decimal)?,
                    foreign_net_buy: r.opt("frgn_ntby_qty", Fields::signed)?,
                ))
            })
            .collect()
    }
}

/// 주식현재가 투자자: net buying by individuals, foreigners and institutions per day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvestorRequest {
    pub code: StockCode,
}

/// One day of [`InvestorRequest`]: net quantities (shares, signed) and net amounts (백만원, signed).
#[derive(Debug, Clone, PartialEq)]
pub struct InvestorDay {
    pub date: Date,
    pub close: i64,
    pub individual_net: Option<i64>,
    pub foreign_net: Option<i64>,
    pub institution_net: Option<i64>,
    pub individual_net_amount: Option<i64>,
    pub foreign_net_amount: Option<i64>,
    pub institution_net_amount: Option<i64>,
}

impl Request for InvestorRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-investor";
    const TR_ID: &'static str = "FHKST01010900";
    type Output = Vec<InvestorDay>;

    fn query(&self) -> Vec<(&'static str, String)> {
        code_query(&self.code)
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<InvestorDay>, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        body.rows("output")?
            .iter()
            .map(|r| {
                // Today's row carries empty net figures until the close.
                Ok(InvestorDay {
                    date: r.req("stck_bsop_date", Fields::date)?,
                    close: r.req("stck_clpr", Fields::krw)?,
                    individual_net: r.opt("prsn_ntby_qty", Fields::signed)?,
                    foreign_net: r.opt("frgn_ntby_qty", Fields::signed)?,
                    institution_net: r.opt("orgn_ntby_qty", Fields::signed)?,
                    individual_net_amount: r.opt("prsn_ntby_tr_pbmn", Fields::signed)?,
                    foreign_net_amount: r.opt("frgn_ntby_tr_pbmn", Fields::signed)?,
                    institution_net_amount: r.opt("orgn_ntby_tr_pbmn", Fields::signed)?,
                })
            })
            .collect()
    }
}
