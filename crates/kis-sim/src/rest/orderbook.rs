//! `inquire-asking-price-exp-ccn` (FHKST01010200): the 10-level book (`output1`) and the expected
//! execution (`output2`), `docs/kis-wire.md` §4.2.
//!
//! Outside an auction the expected price is 0 and its change is minus the base price with sign 5 and
//! -100.00, as the real server shows (samples/ws-frame-H0STASP0-captured-a.txt).

use crate::codes::{expected_session_code, session_code};
use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, percent};
use crate::model::{OrderBook, Quote};
use crate::rest::params::Params;
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

const ASKP: [&str; 10] = [
    "askp1", "askp2", "askp3", "askp4", "askp5", "askp6", "askp7", "askp8", "askp9", "askp10",
];
const BIDP: [&str; 10] = [
    "bidp1", "bidp2", "bidp3", "bidp4", "bidp5", "bidp6", "bidp7", "bidp8", "bidp9", "bidp10",
];
const ASKP_RSQN: [&str; 10] = [
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
const BIDP_RSQN: [&str; 10] = [
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
const ASKP_ICDC: [&str; 10] = [
    "askp_rsqn_icdc1",
    "askp_rsqn_icdc2",
    "askp_rsqn_icdc3",
    "askp_rsqn_icdc4",
    "askp_rsqn_icdc5",
    "askp_rsqn_icdc6",
    "askp_rsqn_icdc7",
    "askp_rsqn_icdc8",
    "askp_rsqn_icdc9",
    "askp_rsqn_icdc10",
];
const BIDP_ICDC: [&str; 10] = [
    "bidp_rsqn_icdc1",
    "bidp_rsqn_icdc2",
    "bidp_rsqn_icdc3",
    "bidp_rsqn_icdc4",
    "bidp_rsqn_icdc5",
    "bidp_rsqn_icdc6",
    "bidp_rsqn_icdc7",
    "bidp_rsqn_icdc8",
    "bidp_rsqn_icdc9",
    "bidp_rsqn_icdc10",
];

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let found = code.and_then(|c| Some((state.market.quote(&c)?, state.market.order_book(&c)?)));
    let (book_json, expected_json) = match found {
        Some((quote, book)) => write(Obj::new(), Obj::new(), &quote, &book),
        None => blank(state),
    };
    Ok(Reply::last(ok_body(&[
        ("output1", &book_json),
        ("output2", &expected_json),
    ])))
}

fn blank(state: &AppState) -> (String, String) {
    let sample = state.market.stocks().first().and_then(|info| {
        Some((
            state.market.quote(&info.code)?,
            state.market.order_book(&info.code)?,
        ))
    });
    match sample {
        Some((quote, book)) => write(Obj::blank(), Obj::blank(), &quote, &book),
        None => ("{}".into(), "{}".into()),
    }
}

fn write(mut o1: Obj, mut o2: Obj, q: &Quote, book: &OrderBook) -> (String, String) {
    o1.time("aspr_acpt_hour", book.time);
    for (i, &(price, _)) in book.asks.iter().enumerate() {
        o1.int(ASKP[i], price);
    }
    for (i, &(price, _)) in book.bids.iter().enumerate() {
        o1.int(BIDP[i], price);
    }
    for (i, &(_, qty)) in book.asks.iter().enumerate() {
        o1.int(ASKP_RSQN[i], qty);
    }
    for (i, &(_, qty)) in book.bids.iter().enumerate() {
        o1.int(BIDP_RSQN[i], qty);
    }
    for name in ASKP_ICDC.iter().chain(BIDP_ICDC.iter()) {
        o1.int(name, 0);
    }
    let total_ask = book.total_ask_quantity();
    let total_bid = book.total_bid_quantity();
    o1.int("total_askp_rsqn", total_ask)
        .int("total_bidp_rsqn", total_bid)
        .int("total_askp_rsqn_icdc", 0)
        .int("total_bidp_rsqn_icdc", 0)
        .int("ovtm_total_askp_icdc", 0)
        .int("ovtm_total_bidp_icdc", 0)
        .int("ovtm_total_askp_rsqn", 0)
        .int("ovtm_total_bidp_rsqn", 0)
        .int("ntby_aspr_rsqn", total_bid as i64 - total_ask as i64)
        .text("new_mkop_cls_code", session_code(q.phase, book.time));

    let (expected_price, expected_volume) = book.expected.unwrap_or((0, 0));
    let change = expected_price - q.prev_close;
    let sign = if expected_price == 0 {
        5
    } else {
        market::krx::Sign::of(expected_price, &q.limits) as i64
    };
    o2.text("antc_mkop_cls_code", expected_session_code(q.phase))
        .int("stck_prpr", q.price)
        .int("stck_oprc", q.open)
        .int("stck_hgpr", q.high)
        .int("stck_lwpr", q.low)
        .int("stck_sdpr", q.prev_close)
        .int("antc_cnpr", expected_price)
        .int("antc_cntg_vrss_sign", sign)
        .int("antc_cntg_vrss", change)
        .fixed2("antc_cntg_prdy_ctrt", percent(change, q.prev_close))
        .int("antc_vol", expected_volume)
        .text("stck_shrn_iscd", q.code.as_str())
        .text("vi_cls_code", "N");
    (o1.finish(), o2.finish())
}
