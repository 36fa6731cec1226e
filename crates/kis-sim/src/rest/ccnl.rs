//! `inquire-ccnl` (FHKST01010300): today's latest 30 trades, newest first, `docs/kis-wire.md` §4.3.

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array};
use crate::rest::params::Params;
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub const MAX_ROWS: usize = 30;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let executions = code
        .map(|c| state.market.recent_executions(&c, MAX_ROWS))
        .unwrap_or_default();
    let rows = executions.iter().take(MAX_ROWS).map(|e| {
        let q = &e.state;
        let mut o = Obj::with_capacity(200);
        o.time("stck_cntg_hour", e.time)
            .int("stck_prpr", e.price)
            .int("prdy_vrss", q.change)
            .int("prdy_vrss_sign", q.sign as i64)
            .int("cntg_vol", e.volume)
            .fixed2("tday_rltv", q.strength())
            .fixed2("prdy_ctrt", q.change_rate());
        o.finish()
    });
    Ok(Reply::last(ok_body(&[("output", &array(rows))])))
}
