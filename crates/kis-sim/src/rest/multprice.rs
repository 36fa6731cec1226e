//! `intstock-multprice` (FHKST11300006, 관심종목(멀티종목) 시세조회), `docs/kis-wire.md` §4.13: up to 30
//! stocks a call, each named by a pair `FID_COND_MRKT_DIV_CODE_n` / `FID_INPUT_ISCD_n` (n = 1..30; the
//! official sample sends only the pairs it has, pair 1 is required). One `output` row per requested
//! code, in the order asked: today's open, high, low, price, volume, 거래대금, the previous close and
//! limits, the best quotes and book totals, and during an auction the expected execution.
//!
//! Not documented, chosen here (*uncertain*): an unknown code gets a row of zeros with the code echoed
//! and no name (as `inquire-price` answers one); a pair with an empty code is skipped; the market name is
//! `KOSPI`/`KOSDAQ`; `mrkt_trtm_cls_name` names the stock's designation (거래정지, 관리종목, …) or is
//! empty; `hour_cls_code` is `0`.

use market::krx::Sign;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, percent};
use crate::model::{Flags, OrderBook, Quote, StockInfo, Warning};
use crate::rest::params::Params;
use crate::rest::{Reply, stock_code};
use crate::server::AppState;

/// At most this many codes a call.
pub const MAX_CODES: usize = 30;

const MARKET_PARAMS: [&str; MAX_CODES] = [
    "FID_COND_MRKT_DIV_CODE_1",
    "FID_COND_MRKT_DIV_CODE_2",
    "FID_COND_MRKT_DIV_CODE_3",
    "FID_COND_MRKT_DIV_CODE_4",
    "FID_COND_MRKT_DIV_CODE_5",
    "FID_COND_MRKT_DIV_CODE_6",
    "FID_COND_MRKT_DIV_CODE_7",
    "FID_COND_MRKT_DIV_CODE_8",
    "FID_COND_MRKT_DIV_CODE_9",
    "FID_COND_MRKT_DIV_CODE_10",
    "FID_COND_MRKT_DIV_CODE_11",
    "FID_COND_MRKT_DIV_CODE_12",
    "FID_COND_MRKT_DIV_CODE_13",
    "FID_COND_MRKT_DIV_CODE_14",
    "FID_COND_MRKT_DIV_CODE_15",
    "FID_COND_MRKT_DIV_CODE_16",
    "FID_COND_MRKT_DIV_CODE_17",
    "FID_COND_MRKT_DIV_CODE_18",
    "FID_COND_MRKT_DIV_CODE_19",
    "FID_COND_MRKT_DIV_CODE_20",
    "FID_COND_MRKT_DIV_CODE_21",
    "FID_COND_MRKT_DIV_CODE_22",
    "FID_COND_MRKT_DIV_CODE_23",
    "FID_COND_MRKT_DIV_CODE_24",
    "FID_COND_MRKT_DIV_CODE_25",
    "FID_COND_MRKT_DIV_CODE_26",
    "FID_COND_MRKT_DIV_CODE_27",
    "FID_COND_MRKT_DIV_CODE_28",
    "FID_COND_MRKT_DIV_CODE_29",
    "FID_COND_MRKT_DIV_CODE_30",
];

const CODE_PARAMS: [&str; MAX_CODES] = [
    "FID_INPUT_ISCD_1",
    "FID_INPUT_ISCD_2",
    "FID_INPUT_ISCD_3",
    "FID_INPUT_ISCD_4",
    "FID_INPUT_ISCD_5",
    "FID_INPUT_ISCD_6",
    "FID_INPUT_ISCD_7",
    "FID_INPUT_ISCD_8",
    "FID_INPUT_ISCD_9",
    "FID_INPUT_ISCD_10",
    "FID_INPUT_ISCD_11",
    "FID_INPUT_ISCD_12",
    "FID_INPUT_ISCD_13",
    "FID_INPUT_ISCD_14",
    "FID_INPUT_ISCD_15",
    "FID_INPUT_ISCD_16",
    "FID_INPUT_ISCD_17",
    "FID_INPUT_ISCD_18",
    "FID_INPUT_ISCD_19",
    "FID_INPUT_ISCD_20",
    "FID_INPUT_ISCD_21",
    "FID_INPUT_ISCD_22",
    "FID_INPUT_ISCD_23",
    "FID_INPUT_ISCD_24",
    "FID_INPUT_ISCD_25",
    "FID_INPUT_ISCD_26",
    "FID_INPUT_ISCD_27",
    "FID_INPUT_ISCD_28",
    "FID_INPUT_ISCD_29",
    "FID_INPUT_ISCD_30",
];

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    // Pair 1 must be there; the others are optional.
    p.required(MARKET_PARAMS[0])?;
    p.required(CODE_PARAMS[0])?;
    let mut rows = Vec::with_capacity(MAX_CODES);
    for (market_param, code_param) in MARKET_PARAMS.iter().zip(CODE_PARAMS) {
        let raw = p.get(code_param)?.map(str::to_owned);
        let market = p.get(market_param)?.map(str::to_owned);
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            continue;
        };
        match market.as_deref() {
            Some("J" | "NX" | "UN") => {}
            _ => return Err(KisError::InvalidMarketCode),
        }
        let code = stock_code(state, &raw, code_param)?;
        let found = code.and_then(|c| {
            let info = state.market.stock(&c)?;
            Some((info, state.market.quote(&c)?, state.market.order_book(&c)?))
        });
        rows.push(match found {
            Some((info, quote, book)) => row(info, &quote, &book),
            None => unknown(&raw),
        });
    }
    Ok(Reply::last(ok_body(&[("output", &array(rows))])))
}

/// 시장 조치 구분 명: the designation that matters most, or nothing.
pub(crate) fn treatment(f: &Flags) -> &'static str {
    if f.halted {
        "거래정지"
    } else if f.liquidation {
        "정리매매"
    } else if f.administrative {
        "관리종목"
    } else {
        match f.warning {
            Warning::Risk => "투자위험",
            Warning::Warning => "투자경고",
            Warning::Caution => "투자주의",
            Warning::None if f.overheated => "단기과열",
            Warning::None => "",
        }
    }
}

fn row(info: &StockInfo, q: &Quote, book: &OrderBook) -> String {
    let (expected, expected_volume) = book.expected.unwrap_or((0, 0));
    let expected_change = if expected > 0 { expected - q.prev_close } else { 0 };
    let mut o = Obj::with_capacity(900);
    o.text("kospi_kosdaq_cls_name", info.market.as_str())
        .text("mrkt_trtm_cls_name", treatment(&info.flags))
        .text("hour_cls_code", "0")
        .text("inter_shrn_iscd", info.code.as_str())
        .text("inter_kor_isnm", info.name)
        .int("inter2_prpr", q.price)
        .int("inter2_prdy_vrss", q.change)
        .int("prdy_vrss_sign", q.sign as i64)
        .fixed2("prdy_ctrt", q.change_rate())
        .int("acml_vol", q.volume)
        .int("inter2_oprc", q.open)
        .int("inter2_hgpr", q.high)
        .int("inter2_lwpr", q.low)
        .int("inter2_llam", q.limits.lower)
        .int("inter2_mxpr", q.limits.upper)
        .int("inter2_askp", book.asks[0].0)
        .int("inter2_bidp", book.bids[0].0)
        .int("seln_rsqn", book.asks[0].1)
        .int("shnu_rsqn", book.bids[0].1)
        .int("total_askp_rsqn", book.total_ask_quantity())
        .int("total_bidp_rsqn", book.total_bid_quantity())
        .int("acml_tr_pbmn", q.turnover)
        .int("inter2_prdy_clpr", q.prev_close)
        .fixed2("oprc_vrss_hgpr_rate", percent(q.high - q.open, q.open))
        .int("intr_antc_cntg_vrss", expected_change)
        .int(
            "intr_antc_cntg_vrss_sign",
            if expected > 0 {
                Sign::of(expected, &q.limits) as i64
            } else {
                Sign::Flat as i64
            },
        )
        .fixed2("intr_antc_cntg_prdy_ctrt", percent(expected_change, q.prev_close))
        .int("intr_antc_vol", expected_volume)
        .int("inter2_sdpr", q.prev_close);
    o.finish()
}

/// The row of a code the market does not have: every field present, zeroed, the code echoed.
fn unknown(raw: &str) -> String {
    let mut o = Obj::with_capacity(700);
    o.text("kospi_kosdaq_cls_name", "")
        .text("mrkt_trtm_cls_name", "")
        .text("hour_cls_code", "0")
        .text("inter_shrn_iscd", raw)
        .text("inter_kor_isnm", "");
    for field in [
        "inter2_prpr",
        "inter2_prdy_vrss",
        "prdy_vrss_sign",
        "prdy_ctrt",
        "acml_vol",
        "inter2_oprc",
        "inter2_hgpr",
        "inter2_lwpr",
        "inter2_llam",
        "inter2_mxpr",
        "inter2_askp",
        "inter2_bidp",
        "seln_rsqn",
        "shnu_rsqn",
        "total_askp_rsqn",
        "total_bidp_rsqn",
        "acml_tr_pbmn",
        "inter2_prdy_clpr",
        "oprc_vrss_hgpr_rate",
        "intr_antc_cntg_vrss",
        "intr_antc_cntg_vrss_sign",
        "intr_antc_cntg_prdy_ctrt",
        "intr_antc_vol",
        "inter2_sdpr",
    ] {
        if field.ends_with("ctrt") || field.ends_with("rate") {
            o.fixed2(field, 0);
        } else {
            o.int(field, 0);
        }
    }
    o.finish()
}
