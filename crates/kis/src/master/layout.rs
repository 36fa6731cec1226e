//! The fixed-width tail of a master record: every column of KIS's published layout, in order, with its
//! width in characters (the `stocks_info` sample parsers of KIS's open-trading-api repository list the
//! widths and Korean column names; the C headers beside them give the field ids and code values).
//!
//! KOSPI has 70 columns over 227 characters, KOSDAQ 64 over 221. The two differ only at the front
//! (KOSPI has 제조업, 지배구조지수, KOSPI200 섹터, KOSPI100/50, ELW 발행 and SRI; KOSDAQ has 벤처기업,
//! 투자주의환기 and KOSDAQ150) and KOSPI's extra `KOSPI` flag near the end.

use std::sync::LazyLock;

use market::search::Market;

/// One column: its name in the published layout, an English id for error messages, its width.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub id: &'static str,
    pub width: usize,
}

const fn c(name: &'static str, id: &'static str, width: usize) -> Column {
    Column { name, id, width }
}

/// KOSPI (`kospi_code.mst`), 227 characters.
#[rustfmt::skip]
pub const KOSPI: &[Column] = &[
    c("그룹코드", "scrt_grp_cls_code", 2), c("시가총액규모", "avls_scal_cls_code", 1),
    c("지수업종대분류", "bstp_larg_div_code", 4), c("지수업종중분류", "bstp_medm_div_code", 4),
    c("지수업종소분류", "bstp_smal_div_code", 4), c("제조업", "mnin_cls_code_yn", 1),
    c("저유동성", "low_current_yn", 1), c("지배구조지수종목", "sprn_strr_nmix_issu_yn", 1),
    c("KOSPI200섹터업종", "kospi200_apnt_cls_code", 1), c("KOSPI100", "kospi100_issu_yn", 1),
    c("KOSPI50", "kospi50_issu_yn", 1), c("KRX", "krx_issu_yn", 1), c("ETP", "etp_prod_cls_code", 1),
    c("ELW발행", "elw_pblc_yn", 1), c("KRX100", "krx100_issu_yn", 1), c("KRX자동차", "krx_car_yn", 1),
    c("KRX반도체", "krx_smcn_yn", 1), c("KRX바이오", "krx_bio_yn", 1), c("KRX은행", "krx_bank_yn", 1),
    c("SPAC", "etpr_undt_objt_co_yn", 1), c("KRX에너지화학", "krx_enrg_chms_yn", 1),
    c("KRX철강", "krx_stel_yn", 1), c("단기과열", "short_over_cls_code", 1),
    c("KRX미디어통신", "krx_medi_cmnc_yn", 1), c("KRX건설", "krx_cnst_yn", 1),
    c("Non1", "krx_fnnc_svc_yn", 1), c("KRX증권", "krx_scrt_yn", 1), c("KRX선박", "krx_ship_yn", 1),
    c("KRX섹터_보험", "krx_insu_yn", 1), c("KRX섹터_운송", "krx_trnp_yn", 1), c("SRI", "sri_nmix_yn", 1),
    c("기준가", "stck_sdpr", 9), c("매매수량단위", "frml_mrkt_deal_qty_unit", 5),
    c("시간외수량단위", "ovtm_mrkt_deal_qty_unit", 5), c("거래정지", "trht_yn", 1), c("정리매매", "sltr_yn", 1),
    c("관리종목", "mang_issu_yn", 1), c("시장경고", "mrkt_alrm_cls_code", 2),
    c("경고예고", "mrkt_alrm_risk_adnt_yn", 1), c("불성실공시", "insn_pbnt_yn", 1),
    c("우회상장", "byps_lstn_yn", 1), c("락구분", "flng_cls_code", 2), c("액면변경", "fcam_mod_cls_code", 2),
    c("증자구분", "icic_cls_code", 2), c("증거금비율", "marg_rate", 3), c("신용가능", "crdt_able", 1),
    c("신용기간", "crdt_days", 3), c("전일거래량", "prdy_vol", 12), c("액면가", "stck_fcam", 12),
    c("상장일자", "stck_lstn_date", 8), c("상장주수", "lstn_stcn", 15), c("자본금", "cpfn", 21),
    c("결산월", "stac_month", 2), c("공모가", "po_prc", 7), c("우선주", "prst_cls_code", 1),
    c("공매도과열", "ssts_hot_yn", 1), c("이상급등", "stange_runup_yn", 1), c("KRX300", "krx300_issu_yn", 1),
    c("KOSPI", "kospi_issu_yn", 1), c("매출액", "sale_account", 9), c("영업이익", "bsop_prfi", 9),
    c("경상이익", "op_prfi", 9), c("당기순이익", "thtr_ntin", 5), c("ROE", "roe", 9), c("기준년월", "base_date", 8),
    c("시가총액", "prdy_avls_scal", 9), c("그룹사코드", "grp_code", 3),
    c("회사신용한도초과", "co_crdt_limt_over_yn", 1), c("담보대출가능", "secu_lend_able_yn", 1),
    c("대주가능", "stln_able_yn", 1),
];

/// KOSDAQ (`kosdaq_code.mst`), 221 characters.
#[rustfmt::skip]
pub const KOSDAQ: &[Column] = &[
    c("그룹코드", "scrt_grp_cls_code", 2), c("시가총액규모", "avls_scal_cls_code", 1),
    c("지수업종대분류", "bstp_larg_div_code", 4), c("지수업종중분류", "bstp_medm_div_code", 4),
    c("지수업종소분류", "bstp_smal_div_code", 4), c("벤처기업", "vntr_issu_yn", 1),
    c("저유동성", "low_current_yn", 1), c("KRX", "krx_issu_yn", 1), c("ETP", "etp_prod_cls_code", 1),
    c("KRX100", "krx100_issu_yn", 1), c("KRX자동차", "krx_car_yn", 1), c("KRX반도체", "krx_smcn_yn", 1),
    c("KRX바이오", "krx_bio_yn", 1), c("KRX은행", "krx_bank_yn", 1), c("SPAC", "etpr_undt_objt_co_yn", 1),
    c("KRX에너지화학", "krx_enrg_chms_yn", 1), c("KRX철강", "krx_stel_yn", 1),
    c("단기과열", "short_over_cls_code", 1), c("KRX미디어통신", "krx_medi_cmnc_yn", 1),
    c("KRX건설", "krx_cnst_yn", 1), c("투자주의환기", "invt_alrm_yn", 1), c("KRX증권", "krx_scrt_yn", 1),
    c("KRX선박", "krx_ship_yn", 1), c("KRX섹터_보험", "krx_insu_yn", 1), c("KRX섹터_운송", "krx_trnp_yn", 1),
    c("KOSDAQ150", "ksq150_nmix_yn", 1), c("기준가", "stck_sdpr", 9),
    c("매매수량단위", "frml_mrkt_deal_qty_unit", 5), c("시간외수량단위", "ovtm_mrkt_deal_qty_unit", 5),
    c("거래정지", "trht_yn", 1), c("정리매매", "sltr_yn", 1), c("관리종목", "mang_issu_yn", 1),
    c("시장경고", "mrkt_alrm_cls_code", 2), c("경고예고", "mrkt_alrm_risk_adnt_yn", 1),
    c("불성실공시", "insn_pbnt_yn", 1), c("우회상장", "byps_lstn_yn", 1), c("락구분", "flng_cls_code", 2),
    c("액면변경", "fcam_mod_cls_code", 2), c("증자구분", "icic_cls_code", 2), c("증거금비율", "marg_rate", 3),
    c("신용가능", "crdt_able", 1), c("신용기간", "crdt_days", 3), c("전일거래량", "prdy_vol", 12),
    c("액면가", "stck_fcam", 12), c("상장일자", "stck_lstn_date", 8), c("상장주수", "lstn_stcn", 15),
    c("자본금", "cpfn", 21), c("결산월", "stac_month", 2), c("공모가", "po_prc", 7), c("우선주", "prst_cls_code", 1),
    c("공매도과열", "ssts_hot_yn", 1), c("이상급등", "stange_runup_yn", 1), c("KRX300", "krx300_issu_yn", 1),
    c("매출액", "sale_account", 9), c("영업이익", "bsop_prfi", 9), c("경상이익", "op_prfi", 9),
    c("당기순이익", "thtr_ntin", 5), c("ROE", "roe", 9), c("기준년월", "base_date", 8),
    c("시가총액", "prdy_avls_scal", 9), c("그룹사코드", "grp_code", 3),
    c("회사신용한도초과", "co_crdt_limt_over_yn", 1), c("담보대출가능", "secu_lend_able_yn", 1),
    c("대주가능", "stln_able_yn", 1),
];

/// Where a column sits in the tail: byte offset (the tail is ASCII), width, and its column for errors.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: usize,
    pub column: Column,
}

/// The spans of the columns the parser reads, for one market.
#[derive(Debug)]
pub struct Layout {
    pub tail_len: usize,
    pub group: Span,
    pub cap_size: Span,
    pub kospi200_sector: Option<Span>,
    pub etp: Span,
    pub spac: Span,
    pub overheat: Span,
    pub base_price: Span,
    pub halted: Span,
    pub liquidation: Span,
    pub administrative: Span,
    pub warning: Span,
    pub warning_notice: Span,
    pub unfaithful_disclosure: Span,
    pub par_value: Span,
    pub listing_date: Span,
    pub listed_shares: Span,
    pub preferred: Span,
    pub market_cap: Span,
}

fn find(columns: &'static [Column], name: &str) -> Option<Span> {
    let mut start = 0;
    for &column in columns {
        if column.name == name {
            return Some(Span { start, column });
        }
        start += column.width;
    }
    None
}

fn layout(columns: &'static [Column]) -> Layout {
    // The names are this file's own constants; `tests::every_named_column_exists` checks them.
    let span = |name: &str| {
        find(columns, name).unwrap_or(Span {
            start: 0,
            column: c("?", "?", 0),
        })
    };
    Layout {
        tail_len: columns.iter().map(|c| c.width).sum(),
        group: span("그룹코드"),
        cap_size: span("시가총액규모"),
        kospi200_sector: find(columns, "KOSPI200섹터업종"),
        etp: span("ETP"),
        spac: span("SPAC"),
        overheat: span("단기과열"),
        base_price: span("기준가"),
        halted: span("거래정지"),
        liquidation: span("정리매매"),
        administrative: span("관리종목"),
        warning: span("시장경고"),
        warning_notice: span("경고예고"),
        unfaithful_disclosure: span("불성실공시"),
        par_value: span("액면가"),
        listing_date: span("상장일자"),
        listed_shares: span("상장주수"),
        preferred: span("우선주"),
        market_cap: span("시가총액"),
    }
}

static KOSPI_LAYOUT: LazyLock<Layout> = LazyLock::new(|| layout(KOSPI));
static KOSDAQ_LAYOUT: LazyLock<Layout> = LazyLock::new(|| layout(KOSDAQ));

/// The layout of a market's file.
pub fn of(market: Market) -> &'static Layout {
    match market {
        Market::Kospi => &KOSPI_LAYOUT,
        Market::Kosdaq => &KOSDAQ_LAYOUT,
    }
}

/// Every column of a market's tail, in order.
pub fn columns(market: Market) -> &'static [Column] {
    match market {
        Market::Kospi => KOSPI,
        Market::Kosdaq => KOSDAQ,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_add_up_to_the_published_tails() {
        assert_eq!(of(Market::Kospi).tail_len, 227);
        assert_eq!(of(Market::Kosdaq).tail_len, 221);
        assert_eq!((KOSPI.len(), KOSDAQ.len()), (70, 64));
    }

    #[test]
    fn every_named_column_exists() {
        for market in [Market::Kospi, Market::Kosdaq] {
            let l = of(market);
            for span in [
                l.group,
                l.cap_size,
                l.etp,
                l.spac,
                l.overheat,
                l.base_price,
                l.halted,
                l.liquidation,
                l.administrative,
                l.warning,
                l.warning_notice,
                l.unfaithful_disclosure,
                l.par_value,
                l.listing_date,
                l.listed_shares,
                l.preferred,
                l.market_cap,
            ] {
                assert_ne!(span.column.width, 0, "{market}");
                assert!(span.start + span.column.width <= l.tail_len);
            }
            assert_eq!(l.kospi200_sector.is_some(), market == Market::Kospi);
        }
        // Offsets the official layout implies (KOSPI): 거래정지 after 2+1+4+4+4+26+9+5+5.
        assert_eq!(of(Market::Kospi).halted.start, 60);
        assert_eq!(of(Market::Kosdaq).halted.start, 55);
    }
}
