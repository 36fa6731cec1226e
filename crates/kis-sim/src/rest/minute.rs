//! Minute candles: `inquire-time-itemchartprice` (FHKST03010200, today, at most 30 rows at or before
//! `FID_INPUT_HOUR_1`, `docs/kis-wire.md` §4.6) and `inquire-time-dailychartprice` (FHKST03010230, a given
//! date, at most 120 rows, real profile only, `docs/kis-wire.md` §4.7). Rows are newest first; a row's
//! `stck_cntg_hour` is its bar's start minute (`HHMM00`), `cntg_vol` its volume and `acml_tr_pbmn` the
//! day's turnover at its end. A time after now means now. On today's chart a time before the first
//! bar (python-kis sends `000000` when it wants the latest bars) also means now: real KIS answers
//! python-kis's `day_chart()` with today's bars (docs/kis-compat.md).

use jiff::civil::{Date, Time};
use market::StockCode;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, parse_date, parse_time};
use crate::model::MinuteBar;
use crate::rest::params::{Params, invalid};
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub const TODAY_MAX_ROWS: usize = 30;
pub const PAST_MAX_ROWS: usize = 120;

/// FHKST03010200
pub fn today(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let etc = p.get("FID_ETC_CLS_CODE")?.unwrap_or("").to_string();
    if !etc.is_empty() && etc != "0" {
        return Err(invalid("ETC_CLS_CODE", "expected empty"));
    }
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let until = hour_param(p)?;
    yes_no(p, "FID_PW_DATA_INCU_YN", true)?;
    let date = state.market.trading_date();
    Ok(answer(state, code, date, until, TODAY_MAX_ROWS, true))
}

/// FHKST03010230
pub fn past_day(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let until = hour_param(p)?;
    let raw_date = p.required("FID_INPUT_DATE_1")?;
    let date = parse_date(&raw_date).ok_or_else(|| invalid("INPUT_DATE_1", "expected YYYYMMDD"))?;
    yes_no(p, "FID_PW_DATA_INCU_YN", true)?;
    yes_no(p, "FID_FAKE_TICK_INCU_YN", false)?;
    Ok(answer(state, code, date, until, PAST_MAX_ROWS, false))
}

fn hour_param(p: &mut Params) -> Result<Time, KisError> {
    let raw = p.required("FID_INPUT_HOUR_1")?;
    parse_time(&raw).ok_or_else(|| invalid("INPUT_HOUR_1", "expected HHMMSS"))
}

fn yes_no(p: &mut Params, name: &'static str, required: bool) -> Result<(), KisError> {
    match p.get(name)? {
        None if required => Err(KisError::InvalidInput(
            format!("ERROR : INPUT FIELD NOT FOUND {name}").into(),
        )),
        None | Some("" | "Y" | "N") => Ok(()),
        Some(_) => Err(KisError::InvalidInput(
            format!("ERROR : INPUT INVALID_CHECK_{name} (expected Y or N)").into(),
        )),
    }
}

/// `early_means_now`: a time before the day's first bar answers like "now" (today's chart).
fn answer(
    state: &AppState,
    code: Option<StockCode>,
    date: Date,
    until: Time,
    max_rows: usize,
    early_means_now: bool,
) -> Reply {
    let Some((code, info)) = code.and_then(|c| Some((c, state.market.stock(&c)?))) else {
        return Reply::last(ok_body(&[("output1", &blank_summary(state)), ("output2", "[]")]));
    };
    let mut bars = state.market.minute_bars(&code, date, until);
    if bars.is_empty() && early_means_now {
        // Nothing at or before `until`: either it is before the first bar (→ now) or there are no
        // bars yet at all (then "now" is empty too).
        bars = state.market.minute_bars(&code, date, Time::MAX);
    }
    let rows = array(bars.iter().rev().take(max_rows).map(row));
    let summary = match state.market.quote(&code) {
        Some(q) => {
            let mut o = Obj::with_capacity(300);
            o.int("prdy_vrss", q.change)
                .int("prdy_vrss_sign", q.sign as i64)
                .fixed2("prdy_ctrt", q.change_rate())
                .int("stck_prdy_clpr", q.prev_close)
                .int("acml_vol", q.volume)
                .int("acml_tr_pbmn", q.turnover)
                .text("hts_kor_isnm", info.name)
                .int("stck_prpr", q.price);
            o.finish()
        }
        None => blank_summary(state),
    };
    Reply::last(ok_body(&[("output1", &summary), ("output2", &rows)]))
}

fn blank_summary(_state: &AppState) -> String {
    let mut o = Obj::blank();
    o.int("prdy_vrss", 0)
        .int("prdy_vrss_sign", 0)
        .fixed2("prdy_ctrt", 0)
        .int("stck_prdy_clpr", 0)
        .int("acml_vol", 0)
        .int("acml_tr_pbmn", 0)
        .text("hts_kor_isnm", "")
        .int("stck_prpr", 0);
    o.finish()
}

fn row(b: &MinuteBar) -> String {
    let mut o = Obj::with_capacity(220);
    o.date("stck_bsop_date", b.date)
        .time("stck_cntg_hour", b.time)
        .int("stck_prpr", b.close)
        .int("stck_oprc", b.open)
        .int("stck_hgpr", b.high)
        .int("stck_lwpr", b.low)
        .int("cntg_vol", b.volume)
        .int("acml_tr_pbmn", b.turnover);
    o.finish()
}
