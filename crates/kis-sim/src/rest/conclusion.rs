//! `inquire-time-itemconclusion` (FHPST01060000, 주식현재가 당일시간대별체결): today's trades at or
//! before `FID_INPUT_HOUR_1`, newest first, at most 30, each with the quote right after it.

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, parse_time};
use crate::model::Quote;
use crate::rest::params::{Params, invalid};
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub const MAX_ROWS: usize = 30;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let raw = p.required("FID_INPUT_HOUR_1")?;
    let until = parse_time(&raw).ok_or_else(|| invalid("INPUT_HOUR_1", "expected HHMMSS"))?;
    let found = code.and_then(|c| Some((state.market.quote(&c)?, state.market.stock(&c)?)));
    let Some((q, info)) = found else {
        // an unknown code: the same fields, zeroed (any stock's quote fills them, blanked)
        let any = state
            .market
            .stocks()
            .first()
            .and_then(|i| state.market.quote(&i.code));
        let blank = any.map_or_else(|| "{}".to_string(), |q| summary(Obj::blank(), &q, ""));
        return Ok(Reply::last(ok_body(&[("output1", &blank), ("output2", "[]")])));
    };
    let trades = state.market.executions_after(&q.code, 0);
    let rows = trades
        .iter()
        .rev()
        .filter(|e| e.time <= until)
        .take(MAX_ROWS)
        .map(|e| {
            let s = &e.state;
            let mut o = Obj::with_capacity(260);
            o.time("stck_cntg_hour", e.time)
                .int("stck_prpr", e.price)
                .int("prdy_vrss", s.change)
                .int("prdy_vrss_sign", s.sign as i64)
                .fixed2("prdy_ctrt", s.change_rate())
                .int("askp", s.ask1)
                .int("bidp", s.bid1)
                .fixed2("tday_rltv", s.strength())
                .int("acml_vol", s.volume)
                .int("cnqn", e.volume);
            o.finish()
        });
    let rows = array(rows);
    let summary = summary(Obj::with_capacity(260), &q, info.market.as_str());
    Ok(Reply::last(ok_body(&[("output1", &summary), ("output2", &rows)])))
}

fn summary(mut o: Obj, q: &Quote, market: &str) -> String {
    o.int("stck_prpr", q.price)
        .int("prdy_vrss", q.change)
        .int("prdy_vrss_sign", q.sign as i64)
        .fixed2("prdy_ctrt", q.change_rate())
        .int("acml_vol", q.volume)
        .int("prdy_vol", q.prev_volume)
        .text("rprs_mrkt_kor_name", market);
    o.finish()
}
