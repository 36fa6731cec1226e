//! `inquire-price` (FHKST01010100): the current-price snapshot, `docs/kis-wire.md` §4.1.
//!
//! Values the model does not simulate (foreign ownership, valuation ratios, margin rates) are fixed,
//! plausible numbers derived from the stock code, so they are stable across calls. 250-day, 52-week
//! and year-to-date extremes come from the daily history (cached per stock and trading day) combined
//! with today's running high and low.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::ToSpan;
use jiff::civil::Date;
use market::StockCode;
use market::krx::{Calendar, tick_size};

use crate::auth::tokens::lock;
use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, hundredths, percent};
use crate::model::{DailyBar, Flags, MarketKind, Quote, StockInfo, Warning};
use crate::rest::params::Params;
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let code = stock(state, p, "FID_INPUT_ISCD")?;
    let output = match code.and_then(|c| Some((state.market.quote(&c)?, state.market.stock(&c)?))) {
        Some((quote, info)) => {
            let history = state.price_history.get(state, &quote);
            let mut o = Obj::with_capacity(3000);
            write(&mut o, &quote, info, &history);
            o.finish()
        }
        None => blank(state),
    };
    Ok(Reply::last(ok_body(&[("output", &output)])))
}

/// The output of an unknown stock code: every field present, every value zeroed or empty.
fn blank(state: &AppState) -> String {
    let mut o = Obj::blank();
    if let Some(info) = state.market.stocks().first()
        && let Some(quote) = state.market.quote(&info.code)
    {
        write(&mut o, &quote, info, &History::default());
    }
    o.finish()
}

/// Stable pseudo-facts of a stock (0..n), from its code.
pub(crate) fn code_fact(code: &StockCode, salt: u64, n: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in code.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h ^ (h >> 29)) % n.max(1)
}

fn write(o: &mut Obj, q: &Quote, info: &StockInfo, h: &History) {
    let code = &q.code;
    let price = q.price;
    let listed = info.listed_shares;
    let foreign_rate = 500 + code_fact(code, 1, 5000) as i64; // hundredths of a percent: 5.00..54.99
    let per = 500 + code_fact(code, 2, 3500) as i64; // hundredths: 5.00..39.99
    let pbr = 50 + code_fact(code, 3, 400) as i64;
    let eps = if per > 0 { price * 100 / per } else { 0 };
    let bps = if pbr > 0 { price * 100 / pbr } else { 0 };
    let capital_eok = (i128::from(listed) * i128::from(info.face_value) / 100_000_000) as i64;
    let market_cap_eok = (i128::from(listed) * i128::from(price) / 100_000_000) as i64;
    let (pivot, r1, r2, s1, s2, dm_r, dm_s) = pivots(h.prev.as_ref());
    let (d250_hi, d250_hi_date, d250_lo, d250_lo_date) = h.d250.with_today(q);
    let (w52_hi, w52_hi_date, w52_lo, w52_lo_date) = h.w52.with_today(q);
    let (yr_hi, yr_hi_date, yr_lo, yr_lo_date) = h.year.with_today(q);
    let vs = |other: i64| percent(price - other, other);

    let f = info.flags;
    o.text("iscd_stat_cls_code", status_code(&f))
        .fixed2("marg_rate", if f.restricted() { 10_000 } else { 2000 })
        .text("rprs_mrkt_kor_name", info.market.as_str())
        .text("new_hgpr_lwpr_cls_code", "")
        .text("bstp_kor_isnm", info.sector)
        .text("temp_stop_yn", yn(f.halted))
        .text("oprc_rang_cont_yn", "N")
        .text("clpr_rang_cont_yn", "N")
        .text("crdt_able_yn", yn(!f.restricted()))
        .text("grmn_rate_cls_code", if f.restricted() { "100" } else { "40" })
        .text(
            "elw_pblc_yn",
            if info.market == MarketKind::Kospi {
                "Y"
            } else {
                "N"
            },
        )
        .int("stck_prpr", price)
        .int("prdy_vrss", q.change)
        .int("prdy_vrss_sign", q.sign as i64)
        .fixed2("prdy_ctrt", q.change_rate())
        .int("acml_tr_pbmn", q.turnover)
        .int("acml_vol", q.volume)
        .fixed2(
            "prdy_vrss_vol_rate",
            hundredths(i128::from(q.volume) * 100, i128::from(q.prev_volume)),
        )
        .int("stck_oprc", q.open)
        .int("stck_hgpr", q.high)
        .int("stck_lwpr", q.low)
        .int("stck_mxpr", q.limits.upper)
        .int("stck_llam", q.limits.lower)
        .int("stck_sdpr", q.prev_close)
        .fixed2(
            "wghn_avrg_stck_prc",
            if q.volume == 0 {
                q.prev_close * 100
            } else {
                hundredths(i128::from(q.turnover), i128::from(q.volume))
            },
        )
        .fixed2("hts_frgn_ehrt", foreign_rate)
        .int("frgn_ntby_qty", 0)
        .int("pgtr_ntby_qty", q.buy_volume as i64 - q.sell_volume as i64)
        .int("pvt_scnd_dmrs_prc", r2)
        .int("pvt_frst_dmrs_prc", r1)
        .int("pvt_pont_val", pivot)
        .int("pvt_frst_dmsp_prc", s1)
        .int("pvt_scnd_dmsp_prc", s2)
        .int("dmrs_val", dm_r)
        .int("dmsp_val", dm_s)
        .int("cpfn", capital_eok)
        .int("rstc_wdth_prc", q.limits.upper - q.prev_close)
        .int("stck_fcam", info.face_value)
        .int("stck_sspr", q.prev_close * 76 / 100)
        .int("aspr_unit", tick_size(price.max(1)))
        .int("hts_deal_qty_unit_val", 1)
        .int("lstn_stcn", listed)
        .int("hts_avls", market_cap_eok)
        .fixed2("per", per)
        .fixed2("pbr", pbr)
        .text("stac_month", "12")
        .fixed2(
            "vol_tnrt",
            hundredths(i128::from(q.volume) * 100, i128::from(listed)),
        )
        .fixed2("eps", eps * 100)
        .fixed2("bps", bps * 100)
        .int("d250_hgpr", d250_hi)
        .date("d250_hgpr_date", d250_hi_date)
        .fixed2("d250_hgpr_vrss_prpr_rate", vs(d250_hi))
        .int("d250_lwpr", d250_lo)
        .date("d250_lwpr_date", d250_lo_date)
        .fixed2("d250_lwpr_vrss_prpr_rate", vs(d250_lo))
        .int("stck_dryy_hgpr", yr_hi)
        .fixed2("dryy_hgpr_vrss_prpr_rate", vs(yr_hi))
        .date("dryy_hgpr_date", yr_hi_date)
        .int("stck_dryy_lwpr", yr_lo)
        .fixed2("dryy_lwpr_vrss_prpr_rate", vs(yr_lo))
        .date("dryy_lwpr_date", yr_lo_date)
        .int("w52_hgpr", w52_hi)
        .fixed2("w52_hgpr_vrss_prpr_ctrt", vs(w52_hi))
        .date("w52_hgpr_date", w52_hi_date)
        .int("w52_lwpr", w52_lo)
        .fixed2("w52_lwpr_vrss_prpr_ctrt", vs(w52_lo))
        .date("w52_lwpr_date", w52_lo_date)
        .fixed2("whol_loan_rmnd_rate", code_fact(code, 4, 300) as i64)
        .text("ssts_yn", "Y")
        .text("stck_shrn_iscd", code.as_str())
        .text("fcam_cnnm", &thousands(info.face_value))
        .text("cpfn_cnnm", &format!("{} 억", thousands(capital_eok)))
        .fixed2("apprch_rate", 0)
        .int(
            "frgn_hldn_qty",
            (i128::from(listed) * i128::from(foreign_rate) / 10_000) as i64,
        )
        .text("vi_cls_code", "N")
        .text("ovtm_vi_cls_code", "N")
        .int("last_ssts_cntg_qty", code_fact(code, 5, 50_000) as i64)
        .text("invt_caful_yn", yn(f.unfaithful_disclosure))
        .text("mrkt_warn_cls_code", f.warning.code())
        .text("short_over_yn", yn(f.overheated))
        .text("sltr_yn", yn(f.liquidation))
        .text("mang_issu_cls_code", yn(f.administrative));
}

fn yn(b: bool) -> &'static str {
    if b { "Y" } else { "N" }
}

/// 종목상태구분코드: 58 거래정지, 51 관리종목, 52 투자위험, 53 투자경고, 54 투자주의, 59 단기과열, 57 증거금
/// 100% (another designation), else 55 신용가능.
fn status_code(f: &Flags) -> &'static str {
    if f.halted {
        "58"
    } else if f.administrative {
        "51"
    } else if f.warning == Warning::Risk {
        "52"
    } else if f.warning == Warning::Warning {
        "53"
    } else if f.warning == Warning::Caution {
        "54"
    } else if f.overheated {
        "59"
    } else if f.restricted() {
        "57"
    } else {
        "55"
    }
}

/// Classic and DeMark pivots from the previous day's bar (all 0 without one).
fn pivots(prev: Option<&DailyBar>) -> (i64, i64, i64, i64, i64, i64, i64) {
    let Some(b) = prev else {
        return (0, 0, 0, 0, 0, 0, 0);
    };
    let p = (b.high + b.low + b.close) / 3;
    let range = b.high - b.low;
    let x = if b.close < b.open {
        b.high + 2 * b.low + b.close
    } else if b.close > b.open {
        2 * b.high + b.low + b.close
    } else {
        b.high + b.low + 2 * b.close
    };
    (
        p,
        2 * p - b.low,
        p + range,
        2 * p - b.high,
        p - range,
        x / 2 - b.low,
        x / 2 - b.high,
    )
}

/// `1234567` → `"1,234,567"`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Extremes over a span of past days (today excluded).
#[derive(Debug, Clone, Copy, Default)]
struct Extremes {
    high: Option<(i64, Date)>,
    low: Option<(i64, Date)>,
}

impl Extremes {
    fn of<'a>(bars: impl Iterator<Item = &'a DailyBar>) -> Extremes {
        let mut e = Extremes::default();
        for b in bars {
            if e.high.is_none_or(|(h, _)| b.high > h) {
                e.high = Some((b.high, b.date));
            }
            if e.low.is_none_or(|(l, _)| b.low < l) {
                e.low = Some((b.low, b.date));
            }
        }
        e
    }

    /// (high, its date, low, its date) including today's running range.
    fn with_today(&self, q: &Quote) -> (i64, Date, i64, Date) {
        let today_traded = q.volume > 0;
        let (mut hi, mut hi_date) = self.high.unwrap_or((q.high, q.date));
        let (mut lo, mut lo_date) = self.low.unwrap_or((q.low, q.date));
        if today_traded && q.high > hi {
            (hi, hi_date) = (q.high, q.date);
        }
        if today_traded && q.low < lo {
            (lo, lo_date) = (q.low, q.date);
        }
        (hi, hi_date, lo, lo_date)
    }
}

/// What `inquire-price` needs from the daily history before today.
#[derive(Debug, Clone, Copy, Default)]
pub struct History {
    prev: Option<DailyBar>,
    d250: Extremes,
    w52: Extremes,
    year: Extremes,
}

/// [`History`] per (stock, trading day), computed once.
#[derive(Default)]
pub struct HistoryCache {
    entries: Mutex<HashMap<(StockCode, Date), History>>,
}

impl HistoryCache {
    /// The previous trading day's bar of `q`'s stock.
    pub fn previous_day(&self, state: &AppState, q: &Quote) -> Option<DailyBar> {
        self.get(state, q).prev
    }

    /// The 52-week high and low of `q`'s stock, today's range included.
    pub fn w52(&self, state: &AppState, q: &Quote) -> (i64, i64) {
        let (hi, _, lo, _) = self.get(state, q).w52.with_today(q);
        (hi, lo)
    }

    fn get(&self, state: &AppState, q: &Quote) -> History {
        let key = (q.code, q.date);
        if let Some(h) = lock(&self.entries).get(&key) {
            return *h;
        }
        let h = compute(state, q);
        let mut entries = lock(&self.entries);
        entries.retain(|(_, date), _| *date == q.date);
        entries.insert(key, h);
        h
    }
}

fn compute(state: &AppState, q: &Quote) -> History {
    let today = q.date;
    let before = Calendar::krx().prev_trading_day(today);
    let from = today.checked_sub(1.year()).unwrap_or(today);
    let bars = state.market.daily_bars(&q.code, from, before);
    let last_250 = &bars[bars.len().saturating_sub(249)..];
    let year_start = Date::new(today.year(), 1, 1).unwrap_or(today);
    History {
        prev: bars.last().copied(),
        d250: Extremes::of(last_250.iter()),
        w52: Extremes::of(bars.iter()),
        year: Extremes::of(bars.iter().filter(|b| b.date >= year_start)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(5000), "5,000");
        assert_eq!(thousands(36576), "36,576");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn pivots_match_the_classic_formula() {
        let bar = DailyBar {
            date: jiff::civil::date(2026, 1, 5),
            open: 100,
            high: 130,
            low: 90,
            close: 110,
            volume: 1,
            turnover: 110,
        };
        let (p, r1, r2, s1, s2, _, _) = pivots(Some(&bar));
        assert_eq!((p, r1, r2, s1, s2), (110, 130, 150, 90, 70));
    }
}
