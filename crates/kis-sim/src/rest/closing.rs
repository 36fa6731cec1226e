//! `exp-closing-price` (FHKST117300C0, 국내주식 장마감 예상체결가; real profile only): during the
//! closing auction (15:20–15:30), every stock's expected closing price; at any other time an empty
//! `output` with `rt_cd "0"`, as the sample shows.
//!
//! `FID_INPUT_ISCD`: `0000` all, `0001` KOSPI, `1001` KOSDAQ. `FID_RANK_SORT_CLS_CODE`: `0` all (by
//! code), `1` expected to close at the upper limit, `2` at the lower limit, `3` biggest rise, `4`
//! biggest fall.

use market::krx::{Phase, Sign};

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, percent};
use crate::model::{MarketKind, Quote, StockInfo};
use crate::rest::params::{Params, invalid};
use crate::rest::{Reply, market_division};
use crate::server::AppState;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let sort = p.required("FID_RANK_SORT_CLS_CODE")?;
    if !matches!(sort.as_str(), "0" | "1" | "2" | "3" | "4") {
        return Err(invalid("RANK_SORT_CLS_CODE", "expected 0 to 4"));
    }
    market_division(p)?;
    let screen = p.get("FID_COND_SCR_DIV_CODE")?.unwrap_or("11173");
    if screen != "11173" {
        return Err(invalid("COND_SCR_DIV_CODE", "expected 11173"));
    }
    let section = match p.required("FID_INPUT_ISCD")?.as_str() {
        "0000" => None,
        "0001" => Some(MarketKind::Kospi),
        "1001" => Some(MarketKind::Kosdaq),
        _ => return Err(invalid("INPUT_ISCD", "expected 0000, 0001 or 1001")),
    };
    match p.get("FID_BLNG_CLS_CODE")? {
        None | Some("" | "0" | "1") => {}
        Some(_) => return Err(invalid("BLNG_CLS_CODE", "expected 0 or 1")),
    }
    if state.market.phase() != Phase::ClosingAuction {
        return Ok(Reply::last(ok_body(&[("output", "[]")])));
    }
    let mut rows: Vec<(&StockInfo, Quote, i64, u64)> = state
        .market
        .stocks()
        .iter()
        .filter(|info| section.is_none_or(|m| info.market == m))
        .filter_map(|info| {
            let quote = state.market.quote(&info.code)?;
            let (price, volume) = state
                .market
                .order_book(&info.code)?
                .expected
                .unwrap_or((quote.price, 0));
            Some((info, quote, price, volume))
        })
        .collect();
    let rate = |q: &Quote, price: i64| percent(price - q.prev_close, q.prev_close);
    match sort.as_str() {
        "1" => rows.retain(|(_, q, price, _)| *price == q.limits.upper),
        "2" => rows.retain(|(_, q, price, _)| *price == q.limits.lower),
        "3" => rows.sort_by_key(|(_, q, price, _)| -rate(q, *price)),
        "4" => rows.sort_by_key(|(_, q, price, _)| rate(q, *price)),
        _ => {}
    }
    let rows = rows.iter().map(|(info, q, price, volume)| {
        let change = price - q.prev_close;
        let mut o = Obj::with_capacity(260);
        o.text("stck_shrn_iscd", info.code.as_str())
            .text("hts_kor_isnm", info.name)
            .int("stck_prpr", *price)
            .int("prdy_vrss_sign", Sign::of(*price, &q.limits) as i64)
            .int("prdy_vrss", change)
            .fixed2("prdy_ctrt", rate(q, *price))
            .int("sdpr_vrss_prpr", change)
            .fixed2("sdpr_vrss_prpr_rate", rate(q, *price))
            .int("cntg_vol", *volume);
        o.finish()
    });
    Ok(Reply::last(ok_body(&[("output", &array(rows))])))
}
