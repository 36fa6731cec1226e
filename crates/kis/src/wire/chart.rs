//! Candles: period bars (FHKST03010100, 100 rows a call), today's minute bars (FHKST03010200,
//! 30 rows a call) and a past day's minute bars (FHKST03010230, 120 rows a call, real only).
//! KIS returns rows newest first; these types keep that order (paging reverses it).

use jiff::civil::{Date, Time};
use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;

use super::{Body, Fields, MARKET_KRX, Record, Request};
use crate::error::KisError;

/// The period of one bar of [`PeriodChartRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarPeriod {
    Day,
    Week,
    Month,
    Year,
}

impl BarPeriod {
    pub fn code(self) -> &'static str {
        match self {
            BarPeriod::Day => "D",
            BarPeriod::Week => "W",
            BarPeriod::Month => "M",
            BarPeriod::Year => "Y",
        }
    }
}

/// The stock summary (`output1`) that chart TRs send beside their bars.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSummary {
    /// 종목명 (Korean name), empty when KIS leaves it out.
    pub name: String,
    pub price: Option<i64>,
    pub change: Option<i64>,
    pub sign: Option<Sign>,
    pub change_rate: Option<Decimal>,
    pub prev_close: Option<i64>,
    pub volume: Option<u64>,
}

fn summary(o: Option<Record<'_>>) -> Result<Option<ChartSummary>, KisError> {
    let Some(o) = o else { return Ok(None) };
    Ok(Some(ChartSummary {
        name: o.text("hts_kor_isnm"),
        price: o.opt("stck_prpr", Fields::krw)?,
        change: o.opt("prdy_vrss", Fields::krw)?,
        sign: o.opt("prdy_vrss_sign", Fields::sign)?,
        change_rate: o.opt("prdy_ctrt", Fields::decimal)?,
        prev_close: o.opt("stck_prdy_clpr", Fields::krw)?,
        volume: o.opt("acml_vol", Fields::count)?,
    }))
}

/// A row whose date is empty is KIS's way of saying "no data" (it pads `output2` with `{}` or
/// all-empty rows past the listing date); such rows are skipped.
fn is_padding(r: &Record<'_>) -> bool {
    r.get("stck_bsop_date").is_none_or(|d| d.trim().is_empty())
}

/// Builds one of the bar structs ([`PeriodBar`], [`MinuteBar`], `quotations::DailyPrice`) from a row:
/// the columns every bar TR shares, read here once — the date, open, high, low, the close from column
/// `$close` (`stck_clpr` on day rows, `stck_prpr` on minute rows) and the volume from `$volume`
/// (`acml_vol` / `cntg_vol`) — then the TR's own fields. A macro, because the three are distinct
/// public structs that share these six fields.
macro_rules! bar_from_row {
    ($bar:ident, $row:expr, $close:literal, $volume:literal, $($field:ident: $value:expr),* $(,)?) => {
        $bar {
            date: $row.req("stck_bsop_date", Fields::date)?,
            open: $row.req("stck_oprc", Fields::krw)?,
            high: $row.req("stck_hgpr", Fields::krw)?,
            low: $row.req("stck_lwpr", Fields::krw)?,
            close: $row.req($close, Fields::krw)?,
            volume: $row.req($volume, Fields::count)?,
            $($field: $value),*
        }
    };
}
pub(super) use bar_from_row;

/// A daily, weekly, monthly or yearly bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodBar {
    /// The bar's date (for W/M/Y: the date KIS labels it with).
    pub date: Date,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
    /// KRW traded in the bar.
    pub turnover: u64,
}

/// Bars and the stock summary of one period-chart call.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodChart {
    pub summary: Option<ChartSummary>,
    /// Newest first, at most 100.
    pub bars: Vec<PeriodBar>,
}

/// 국내주식기간별시세: bars between `from` and `to` (inclusive), at most 100 per call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeriodChartRequest {
    pub code: StockCode,
    pub period: BarPeriod,
    pub from: Date,
    pub to: Date,
    /// Adjusted prices (수정주가).
    pub adjusted: bool,
}

/// Rows per call of [`PeriodChartRequest`].
pub const PERIOD_ROWS_PER_CALL: usize = 100;

fn yyyymmdd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn hhmmss(t: Time) -> String {
    format!("{:02}{:02}{:02}", t.hour(), t.minute(), t.second())
}

impl Request for PeriodChartRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice";
    const TR_ID: &'static str = "FHKST03010100";
    type Output = PeriodChart;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FID_COND_MRKT_DIV_CODE", MARKET_KRX.to_owned()),
            ("FID_INPUT_ISCD", self.code.as_str().to_owned()),
            ("FID_INPUT_DATE_1", yyyymmdd(self.from)),
            ("FID_INPUT_DATE_2", yyyymmdd(self.to)),
            ("FID_PERIOD_DIV_CODE", self.period.code().to_owned()),
            // Documented for this TR: 0 adjusted, 1 original.
            (
                "FID_ORG_ADJ_PRC",
                if self.adjusted { "0" } else { "1" }.to_owned(),
            ),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<PeriodChart, KisError> {
        let body = Body::parse(Self::TR_ID, body)?;
        let bars = body
            .rows("output2")?
            .iter()
            .filter(|r| !is_padding(r))
            .map(|r| {
                Ok(bar_from_row!(PeriodBar, r, "stck_clpr", "acml_vol",
                    turnover: r.req("acml_tr_pbmn", Fields::count)?,
                ))
            })
            .collect::<Result<_, KisError>>()?;
        Ok(PeriodChart {
            summary: summary(body.object("output1")?)?,
            bars,
        })
    }
}

/// A one-minute bar; `time` is the minute KIS labels it with (`stck_cntg_hour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteBar {
    pub date: Date,
    pub time: Time,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
    /// KRW traded since the open up to this bar (accumulated).
    pub turnover_acc: u64,
}

/// Bars and the stock summary of one minute-chart call.
#[derive(Debug, Clone, PartialEq)]
pub struct MinuteChart {
    pub summary: Option<ChartSummary>,
    /// Newest first.
    pub bars: Vec<MinuteBar>,
}

fn minute_chart(tr: &'static str, body: &[u8]) -> Result<MinuteChart, KisError> {
    let body = Body::parse(tr, body)?;
    let bars = body
        .rows("output2")?
        .iter()
        .filter(|r| !is_padding(r))
        .map(|r| {
            Ok(bar_from_row!(MinuteBar, r, "stck_prpr", "cntg_vol",
                time: r.req("stck_cntg_hour", Fields::time)?,
                turnover_acc: r.opt("acml_tr_pbmn", Fields::count)?.unwrap_or(0),
            ))
        })
        .collect::<Result<_, KisError>>()?;
    Ok(MinuteChart {
        summary: summary(body.object("output1")?)?,
        bars,
    })
}

/// 주식당일분봉조회: today's minute bars at or before `until`, at most 30 per call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TodayMinuteChartRequest {
    pub code: StockCode,
    pub until: Time,
}

/// Rows per call of [`TodayMinuteChartRequest`].
pub const TODAY_MINUTE_ROWS_PER_CALL: usize = 30;

impl Request for TodayMinuteChartRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice";
    const TR_ID: &'static str = "FHKST03010200";
    type Output = MinuteChart;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FID_ETC_CLS_CODE", String::new()),
            ("FID_COND_MRKT_DIV_CODE", MARKET_KRX.to_owned()),
            ("FID_INPUT_ISCD", self.code.as_str().to_owned()),
            ("FID_INPUT_HOUR_1", hhmmss(self.until)),
            ("FID_PW_DATA_INCU_YN", "N".to_owned()),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<MinuteChart, KisError> {
        minute_chart(Self::TR_ID, body)
    }
}

/// 주식일별분봉조회: minute bars of a past `date` at or before `until`, at most 120 per call.
/// Real accounts only (모의투자 미지원).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PastMinuteChartRequest {
    pub code: StockCode,
    pub date: Date,
    pub until: Time,
}

/// Rows per call of [`PastMinuteChartRequest`].
pub const PAST_MINUTE_ROWS_PER_CALL: usize = 120;

impl Request for PastMinuteChartRequest {
    const PATH: &'static str = "/uapi/domestic-stock/v1/quotations/inquire-time-dailychartprice";
    const TR_ID: &'static str = "FHKST03010230";
    const ON_VTS: bool = false;
    type Output = MinuteChart;

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FID_COND_MRKT_DIV_CODE", MARKET_KRX.to_owned()),
            ("FID_INPUT_ISCD", self.code.as_str().to_owned()),
            ("FID_INPUT_HOUR_1", hhmmss(self.until)),
            ("FID_INPUT_DATE_1", yyyymmdd(self.date)),
            ("FID_PW_DATA_INCU_YN", "N".to_owned()),
            ("FID_FAKE_TICK_INCU_YN", String::new()),
        ]
    }

    fn parse(&self, body: &[u8]) -> Result<MinuteChart, KisError> {
        minute_chart(Self::TR_ID, body)
    }
}

pub(crate) fn format_date(d: Date) -> String {
    yyyymmdd(d)
}
