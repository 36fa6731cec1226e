//! `inquire-daily-itemchartprice` (FHKST03010100): D/W/M/Y candles between `FID_INPUT_DATE_1` and
//! `FID_INPUT_DATE_2`, at most 100 rows, newest first (the newest 100 of the range), `docs/kis-wire.md` §4.5.
//! Paging is by date: call again with `FID_INPUT_DATE_2` = the oldest row's date − 1 day.
//!
//! `FID_INPUT_DATE_2` after today means today; `FID_INPUT_DATE_1` may be `00000101` ("from the
//! beginning"). `FID_INPUT_DATE_1` > `FID_INPUT_DATE_2` is an error.

use jiff::ToSpan;
use jiff::civil::Date;
use market::StockCode;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, hundredths, parse_date};
use crate::model::{DailyBar, StockInfo};
use crate::rest::daily::{adjusted_price_flag, rows_newest_first};
use crate::rest::params::{Params, invalid};
use crate::rest::periods::{Period, aggregate};
use crate::rest::price::code_fact;
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub const MAX_ROWS: usize = 100;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let from = date_param(p, "FID_INPUT_DATE_1")?;
    let to = date_param(p, "FID_INPUT_DATE_2")?;
    if from > to {
        return Err(invalid(
            "INPUT_DATE",
            "FID_INPUT_DATE_1 is after FID_INPUT_DATE_2",
        ));
    }
    let period = Period::parse(&p.required("FID_PERIOD_DIV_CODE")?, true)?;
    adjusted_price_flag(p)?;
    let Some((code, info)) = code.and_then(|c| Some((c, state.market.stock(&c)?))) else {
        return Ok(Reply::last(ok_body(&[
            ("output1", &blank_summary(state)),
            ("output2", "[]"),
        ])));
    };
    let bars = period_bars(state, &code, from, to, period);
    let rows = rows_newest_first(&bars, MAX_ROWS)
        .filter(|(b, _)| period.start_of(b.date) >= period.start_of(from))
        .map(|(b, prev)| row(b, prev, period));
    let rows = array(rows);
    let summary = summary(state, &code, info, Obj::new());
    Ok(Reply::last(ok_body(&[("output1", &summary), ("output2", &rows)])))
}

fn date_param(p: &mut Params, name: &'static str) -> Result<Date, KisError> {
    let raw = p.required(name)?;
    if raw == "00000101" || raw == "00000000" {
        return Ok(Date::MIN);
    }
    parse_date(&raw).ok_or_else(|| {
        invalid(
            if name.ends_with('1') {
                "INPUT_DATE_1"
            } else {
                "INPUT_DATE_2"
            },
            "expected YYYYMMDD",
        )
    })
}

/// Period bars whose period starts inside `[from, to]` (to clamped to today), oldest first, with one
/// extra older bar when there is one (for the oldest row's change).
fn period_bars(state: &AppState, code: &StockCode, from: Date, to: Date, period: Period) -> Vec<DailyBar> {
    let today = state.market.trading_date();
    let to = to.min(today);
    if from > to {
        return Vec::new();
    }
    let want = MAX_ROWS + 1;
    let mut span = period.days_for(want as i64);
    loop {
        let start = to
            .checked_sub(span.days())
            .unwrap_or(Date::MIN)
            .max(from_with_prev(from, period));
        let bars = aggregate(&state.market.daily_bars(code, period.start_of(start), to), period);
        if bars.len() >= want || start <= from_with_prev(from, period) || span > 40_000 {
            return bars;
        }
        span *= 4;
    }
}

/// A little before `from`, so the bar preceding the range is read too.
fn from_with_prev(from: Date, period: Period) -> Date {
    from.checked_sub(period.days_for(1).days()).unwrap_or(Date::MIN)
}

fn row(b: &DailyBar, prev: Option<&DailyBar>, period: Period) -> String {
    let (_, change, sign) = period.change(b, prev);
    let mut o = Obj::with_capacity(320);
    o.date("stck_bsop_date", b.date)
        .int("stck_clpr", b.close)
        .int("stck_oprc", b.open)
        .int("stck_hgpr", b.high)
        .int("stck_lwpr", b.low)
        .int("acml_vol", b.volume)
        .int("acml_tr_pbmn", b.turnover)
        .text("flng_cls_code", "00")
        .fixed2("prtt_rate", 0)
        .text("mod_yn", "N")
        .int("prdy_vrss_sign", sign as i64)
        .int("prdy_vrss", change)
        .text("revl_issu_reas", "");
    o.finish()
}

fn blank_summary(state: &AppState) -> String {
    match state.market.stocks().first() {
        Some(info) => summary(state, &info.code, info, Obj::blank()),
        None => "{}".into(),
    }
}

/// `output1`: the stock's current state and previous day.
fn summary(state: &AppState, code: &StockCode, info: &StockInfo, mut o: Obj) -> String {
    let Some(q) = state.market.quote(code) else {
        return o.finish();
    };
    let prev = state.price_history.previous_day(state, &q);
    let listed = info.listed_shares;
    let per = 500 + code_fact(code, 2, 3500) as i64;
    let pbr = 50 + code_fact(code, 3, 400) as i64;
    o.int("prdy_vrss", q.change)
        .int("prdy_vrss_sign", q.sign as i64)
        .fixed2("prdy_ctrt", q.change_rate())
        .int("stck_prdy_clpr", q.prev_close)
        .int("acml_vol", q.volume)
        .int("acml_tr_pbmn", q.turnover)
        .text("hts_kor_isnm", info.name)
        .int("stck_prpr", q.price)
        .text("stck_shrn_iscd", code.as_str())
        .int("prdy_vol", q.prev_volume)
        .int("stck_mxpr", q.limits.upper)
        .int("stck_llam", q.limits.lower)
        .int("stck_oprc", q.open)
        .int("stck_hgpr", q.high)
        .int("stck_lwpr", q.low)
        .int("stck_prdy_oprc", prev.map_or(0, |b| b.open))
        .int("stck_prdy_hgpr", prev.map_or(0, |b| b.high))
        .int("stck_prdy_lwpr", prev.map_or(0, |b| b.low))
        .int("askp", q.ask1)
        .int("bidp", q.bid1)
        .int("prdy_vrss_vol", q.volume as i64 - q.prev_volume as i64)
        .fixed2(
            "vol_tnrt",
            hundredths(i128::from(q.volume) * 100, i128::from(listed)),
        )
        .int("stck_fcam", info.face_value)
        .int("lstn_stcn", listed)
        .int(
            "cpfn",
            (i128::from(listed) * i128::from(info.face_value) / 100_000_000) as i64,
        )
        .int(
            "hts_avls",
            (i128::from(listed) * i128::from(q.price) / 100_000_000) as i64,
        )
        .fixed2("per", per)
        .fixed2("eps", if per > 0 { q.price * 100 / per * 100 } else { 0 })
        .fixed2("pbr", pbr)
        .fixed2("itewhol_loan_rmnd_ratem", code_fact(code, 4, 300) as i64);
    o.finish()
}
