//! `inquire-daily-price` (FHKST01010400): the latest 30 days, weeks or months, newest first,
//! `docs/kis-wire.md` §4.4. The forming bar of today is included once today has traded.

use jiff::ToSpan;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, hundredths, percent};
use crate::model::DailyBar;
use crate::rest::params::{Params, invalid};
use crate::rest::periods::{Period, aggregate};
use crate::rest::price::code_fact;
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub const MAX_ROWS: usize = 30;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let period = Period::parse(&p.required("FID_PERIOD_DIV_CODE")?, false)?;
    adjusted_price_flag(p)?;
    let Some(code) = code else {
        return Ok(Reply::last(ok_body(&[("output", "[]")])));
    };
    let today = state.market.trading_date();
    let from = today
        .checked_sub(period.days_for(MAX_ROWS as i64 + 1).days())
        .unwrap_or(today);
    let bars = aggregate(&state.market.daily_bars(&code, from, today), period);
    let foreign_rate = 500 + code_fact(&code, 1, 5000) as i64;
    let rows = rows_newest_first(&bars, MAX_ROWS).map(|(b, prev)| {
        let (prev_close, change, sign) = period.change(b, prev);
        let mut o = Obj::with_capacity(400);
        o.date("stck_bsop_date", b.date)
            .int("stck_oprc", b.open)
            .int("stck_hgpr", b.high)
            .int("stck_lwpr", b.low)
            .int("stck_clpr", b.close)
            .int("acml_vol", b.volume)
            .fixed2(
                "prdy_vrss_vol_rate",
                prev.map_or(0, |p| {
                    hundredths(i128::from(b.volume) * 100, i128::from(p.volume))
                }),
            )
            .int("prdy_vrss", change)
            .int("prdy_vrss_sign", sign as i64)
            .fixed2("prdy_ctrt", percent(change, prev_close))
            .fixed2("hts_frgn_ehrt", foreign_rate)
            .int("frgn_ntby_qty", 0)
            .text("flng_cls_code", "00")
            .fixed2("acml_prtt_rate", 0);
        o.finish()
    });
    Ok(Reply::last(ok_body(&[("output", &array(rows))])))
}

/// `FID_ORG_ADJ_PRC`: `0`/`1`, also written zero-padded (`"0000000001"`). Prices are never adjusted
/// in the simulator (it has no corporate actions), so both give the same rows.
pub(crate) fn adjusted_price_flag(p: &mut Params) -> Result<(), KisError> {
    match p.get("FID_ORG_ADJ_PRC")? {
        None => Ok(()),
        Some(v)
            if !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b == b'0')
                || v.len() <= 10 && v.ends_with('1') && v[..v.len() - 1].bytes().all(|b| b == b'0') =>
        {
            Ok(())
        }
        Some(_) => Err(invalid("ORG_ADJ_PRC", "expected 0 or 1")),
    }
}

/// The last `n` bars, newest first, each with the bar before it.
pub(crate) fn rows_newest_first(
    bars: &[DailyBar],
    n: usize,
) -> impl Iterator<Item = (&DailyBar, Option<&DailyBar>)> {
    let start = bars.len().saturating_sub(n);
    (start..bars.len())
        .rev()
        .map(move |i| (&bars[i], i.checked_sub(1).map(|j| &bars[j])))
}
