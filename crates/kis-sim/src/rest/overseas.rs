//! `overseas-price/v1/quotations/price` (HHDFS00000300, 해외주식 현재체결가): the simulator lists no
//! overseas products, so every symbol is unknown: rt_cd 0 with an output of empty strings, which is
//! how python-kis recognises "not on this market" (`if not output.last: continue`). python-kis's
//! `kis.stock(code)` without a market asks every market in turn, so without this endpoint an unknown
//! domestic code ended in an HTTP error instead of python-kis's `KisNotFoundError`
//! (docs/kis-compat.md).

use crate::envelope::{KisError, ok_body};
use crate::format::Obj;
use crate::rest::Reply;
use crate::rest::params::{Params, invalid};
use crate::server::AppState;

/// 거래소코드 values the API documents.
const EXCHANGES: [&str; 11] = [
    "NYS", "NAS", "AMS", "TSE", "HKS", "SHS", "SZS", "HSX", "HNX", "BAY", "BAQ",
];

const FIELDS: [&str; 11] = [
    "rsym", "zdiv", "base", "pvol", "last", "sign", "diff", "rate", "tvol", "tamt", "ordy",
];

pub fn price(_state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    p.get("AUTH")?;
    let exchange = p.required("EXCD")?;
    if !EXCHANGES.contains(&exchange.as_str()) {
        return Err(invalid("EXCD", "not an exchange code"));
    }
    let symbol = p.required("SYMB")?;
    if symbol.is_empty() {
        return Err(invalid("SYMB", "empty"));
    }
    let mut o = Obj::with_capacity(160);
    for field in FIELDS {
        o.text(field, "");
    }
    Ok(Reply::last(ok_body(&[("output", &o.finish())])))
}
