//! `search-stock-info` (CTPF1002R, 주식기본조회; real profile only): a stock's static facts,
//! `docs/kis-wire.md` §4.8. `PRDT_TYPE_CD` must be a known product type; only 300 (stocks) has data here.

use jiff::civil::date;

use crate::envelope::{KisError, ok_body};
use crate::format::Obj;
use crate::model::{MarketKind, Preferred, StockInfo};
use crate::rest::params::{Params, invalid};
use crate::rest::{Reply, stock};
use crate::server::AppState;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let product_type = p.required("PRDT_TYPE_CD")?;
    if !matches!(product_type.as_str(), "300" | "301" | "302" | "306") {
        return Err(invalid("PRDT_TYPE_CD", "expected 300, 301, 302 or 306"));
    }
    let code = stock(state, p, "PDNO")?;
    let info = code
        .filter(|_| product_type == "300")
        .and_then(|c| state.market.stock(&c));
    let output = match (info, state.market.stocks().first()) {
        (Some(info), _) => write(state, info, Obj::with_capacity(2000)),
        (None, Some(any)) => write(state, any, Obj::blank()),
        (None, None) => "{}".into(),
    };
    Ok(Reply::last(ok_body(&[("output", &output)])))
}

fn write(state: &AppState, info: &StockInfo, mut o: Obj) -> String {
    let code = info.code.as_str();
    let quote = state.market.quote(&info.code);
    let (market_id, exchange) = match info.market {
        MarketKind::Kospi => ("STK", "02"),
        MarketKind::Kosdaq => ("KSQ", "03"),
    };
    let listed_date = date(2000, 1, 4);
    o.text("pdno", code)
        .text("prdt_type_cd", "300")
        .text("mket_id_cd", market_id)
        .text("scty_grp_id_cd", info.kind.group_code())
        .text("excg_dvsn_cd", exchange)
        .date("setl_mmdd", date(2000, 12, 31))
        .int("lstg_stqt", info.listed_shares)
        .int("lstg_cptl_amt", 0)
        .int(
            "cpta",
            i128::from(info.listed_shares) * i128::from(info.face_value),
        )
        .int("papr", info.face_value)
        .int("issu_pric", info.face_value)
        .text(
            "kospi200_item_yn",
            if info.index_member && info.market == MarketKind::Kospi {
                "Y"
            } else {
                "N"
            },
        )
        .text(
            "scts_mket_lstg_dt",
            if info.market == MarketKind::Kospi {
                "20000104"
            } else {
                ""
            },
        )
        .text("scts_mket_lstg_abol_dt", "")
        .text(
            "kosdaq_mket_lstg_dt",
            if info.market == MarketKind::Kosdaq {
                "20000104"
            } else {
                ""
            },
        )
        .text("kosdaq_mket_lstg_abol_dt", "")
        .text("frbd_mket_lstg_dt", "")
        .text("frbd_mket_lstg_abol_dt", "")
        .text("reits_kind_cd", "")
        .text("etf_dvsn_cd", "")
        .text("oilf_fund_yn", "N")
        .text("idx_bztp_lcls_cd", "")
        .text("idx_bztp_mcls_cd", "")
        .text("idx_bztp_scls_cd", "")
        .text(
            "stck_kind_cd",
            match info.flags.preferred {
                Preferred::No => "101",
                _ => "201",
            },
        )
        .text("mfnd_opng_dt", "")
        .text("mfnd_end_dt", "")
        .date("dpsi_erlm_cncl_dt", listed_date)
        .text("etf_cu_qty", "0")
        .text("prdt_name", info.name)
        .text("prdt_name120", info.name)
        .text("prdt_abrv_name", info.name)
        .text("std_pdno", &info.isin())
        .text("prdt_eng_name", info.eng_name)
        .text("prdt_eng_name120", info.eng_name)
        .text("prdt_eng_abrv_name", info.eng_name)
        .text("dpsi_aptm_erlm_yn", "Y")
        .text("etf_txtn_type_cd", "")
        .text("etf_type_cd", "")
        .text("lstg_abol_dt", "")
        .text("nwst_odst_dvsn_cd", "")
        .int("sbst_pric", quote.map_or(0, |q| q.prev_close * 76 / 100))
        .int("thco_sbst_pric", quote.map_or(0, |q| q.prev_close * 76 / 100))
        .date("thco_sbst_pric_chng_dt", listed_date)
        .text("tr_stop_yn", if info.flags.halted { "Y" } else { "N" })
        .text("admn_item_yn", if info.flags.administrative { "Y" } else { "N" })
        .int("thdt_clpr", quote.map_or(0, |q| q.price))
        .int("bfdy_clpr", quote.map_or(0, |q| q.prev_close))
        .date("clpr_chng_dt", quote.map_or(listed_date, |q| q.date))
        .text("std_idst_clsf_cd", "")
        .text("std_idst_clsf_cd_name", info.sector)
        .text("idx_bztp_lcls_cd_name", info.sector)
        .text("idx_bztp_mcls_cd_name", info.sector)
        .text("idx_bztp_scls_cd_name", info.sector)
        .text("ocr_no", "")
        .text("crfd_item_yn", "N")
        .text("elec_scty_yn", "Y")
        .text("issu_istt_cd", "")
        .text("etf_chas_erng_rt_dbnb", "0")
        .text("etf_etn_ivst_heed_item_yn", "N")
        .text("stln_int_rt_dvsn_cd", "")
        .text("frnr_psnl_lmt_rt", "0")
        .text("lstg_rqsr_issu_istt_cd", "")
        .text("lstg_rqsr_item_cd", "")
        .text("trst_istt_issu_istt_cd", "")
        .text("cptt_trad_tr_psbl_yn", "Y")
        .text("nxt_tr_stop_yn", "N");
    o.finish()
}
