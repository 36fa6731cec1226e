//! `search-info` (CTPF1604R, 상품기본조회 [v1_국내주식-029]; real profile only, as the portal page says
//! "모의투자 미지원"): a product's names and codes. python-kis calls it for every `kis.stock(code)`.
//!
//! Wire facts (docs/kis-compat.md): `PDNO` + `PRDT_TYPE_CD`; the output object has the 20 documented
//! fields; domestic products carry the 12-character `pdno` (`00000A` + short code) and the 6-digit
//! `shtn_pdno`, as KIS account responses show them. This TR answers from KIS's account back end,
//! so its envelope is that back end's: success `KIOK0530` "조회되었습니다", no data `rt_cd "7"`
//! `KIOK0560` "조회할 내용이 없습니다" (python-kis treats rt_cd 7 as "not found"), each `msg1`
//! space-padded to 80 bytes in EUC-KR (two bytes per Hangul syllable) as KIS sends it.

use crate::envelope::KisError;
use crate::format::Obj;
use crate::model::{SecurityKind, StockInfo};
use crate::rest::params::{Params, invalid};
use crate::rest::{Reply, stock};
use crate::server::AppState;

/// Product types the portal documents (domestic ones and the overseas markets); only 300 (주식)
/// has products here.
const PRODUCT_TYPES: [&str; 14] = [
    "300", "301", "302", "512", "513", "529", "515", "501", "543", "558", "507", "508", "551", "552",
];

pub const FOUND_MSG_CD: &str = "KIOK0530";
pub const FOUND_MSG1: &str = "조회되었습니다";
pub const NOT_FOUND_MSG_CD: &str = "KIOK0560";
pub const NOT_FOUND_MSG1: &str = "조회할 내용이 없습니다";

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let product_type = p.required("PRDT_TYPE_CD")?;
    if !PRODUCT_TYPES.contains(&product_type.as_str()) {
        return Err(invalid("PRDT_TYPE_CD", "not a product type code"));
    }
    let code = stock(state, p, "PDNO")?;
    let info = code
        .filter(|_| product_type == "300")
        .and_then(|c| state.market.stock(&c));
    let body = match info {
        Some(info) => {
            let mut o = Obj::with_capacity(900);
            o.raw("output", &output(info))
                .text("rt_cd", "0")
                .text("msg_cd", FOUND_MSG_CD)
                .text("msg1", &padded_msg1(FOUND_MSG1));
            o.finish()
        }
        None => {
            let mut o = Obj::with_capacity(200);
            o.text("rt_cd", "7")
                .text("msg_cd", NOT_FOUND_MSG_CD)
                .text("msg1", &padded_msg1(NOT_FOUND_MSG1));
            o.finish()
        }
    };
    Ok(Reply::last(body))
}

fn output(info: &StockInfo) -> String {
    let code = info.code.as_str();
    let mut o = Obj::with_capacity(800);
    o.text("pdno", &format!("00000A{code}"))
        .text("prdt_type_cd", "300")
        .text("prdt_name", info.name)
        .text("prdt_name120", info.name)
        .text("prdt_abrv_name", info.name)
        .text("prdt_eng_name", info.eng_name)
        .text("prdt_eng_name120", info.eng_name)
        .text("prdt_eng_abrv_name", info.eng_name)
        .text("std_pdno", &info.isin())
        .text("shtn_pdno", code)
        // The remaining codes are plausible values (the portal gives no domestic example).
        .text("prdt_sale_stat_cd", "")
        .text("prdt_risk_grad_cd", "")
        .text("prdt_clsf_cd", "101110")
        .text(
            "prdt_clsf_name",
            match info.kind {
                SecurityKind::Stock => "주권",
                SecurityKind::Etf => "ETF",
                SecurityKind::Etn => "ETN",
                SecurityKind::Reit => "리츠",
            },
        )
        .text("sale_strt_dt", "")
        .text("sale_end_dt", "")
        .text("wrap_asst_type_cd", "01")
        .text("ivst_prdt_type_cd", "1011")
        .text("ivst_prdt_type_cd_name", "국내주식")
        .text("frst_erlm_dt", "");
    o.finish()
}

/// `msg` followed by spaces up to 80 bytes counted in EUC-KR (a Hangul syllable is two bytes).
pub fn padded_msg1(msg: &str) -> String {
    let width: usize = msg.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    let mut out = String::with_capacity(msg.len() + 80);
    out.push_str(msg);
    out.extend(std::iter::repeat_n(' ', 80usize.saturating_sub(width)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portal's response example pads "조회되었습니다" with 66 spaces (7 syllables = 14 bytes).
    #[test]
    fn msg1_is_padded_to_eighty_euc_kr_bytes() {
        assert_eq!(padded_msg1(FOUND_MSG1).chars().count(), 7 + 66);
        assert_eq!(padded_msg1(NOT_FOUND_MSG1).chars().count(), 12 + 58);
    }
}
