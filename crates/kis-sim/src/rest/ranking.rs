//! The whole-market rankings, `docs/kis-wire.md` §4.11–4.12: `volume-rank` (FHPST01710000, 거래량순위)
//! and `ranking/fluctuation` (FHPST01700000, 등락률 순위). At most 30 rows, no next page (`tr_cont` `D`),
//! real profile only. Both read every listing's quote now (the first call generates every listing, on
//! the blocking pool), filter by the query's target and exclusion codes, sort and number the rows.
//!
//! Filters shared by both (the official samples' documentation):
//! * `FID_INPUT_ISCD`: `0000` all, `0001` KOSPI, `0002`/`0003`/`0004` KOSPI large/mid/small caps, `1001`
//!   KOSDAQ, `1002`/`1003`/`1004` its large/mid/small caps, `2001` KOSPI200; any other 업종 code: no
//!   rows (the simulator has no industry indices).
//! * `FID_DIV_CLS_CODE`: `0` all, `1` ordinary shares, `2` preferred shares.
//! * `FID_TRGT_CLS_CODE`: nine `0`/`1` digits for 증거금 30/40/50/60/100% and 신용보증금 30/40/50/60%; a
//!   stock counts when the digit of its margin (40%, or 100% for a designated stock) is `1`. A code with no
//!   `1` at all (`0`, empty) selects everything.
//! * `FID_TRGT_EXLS_CLS_CODE`: up to ten `0`/`1` digits excluding, in order, 투자위험/경고/주의, 관리종목,
//!   정리매매, 불성실공시, 우선주, 거래정지, ETF, ETN, 신용주문불가 (a designated stock), SPAC.
//! * `FID_INPUT_PRICE_1`/`_2`: a price range (empty or `0` for the upper one: no bound); `FID_VOL_CNT`:
//!   a minimum volume.
//!
//! Chosen here where the sources are silent (*uncertain*): `avrg_vol`, the N-day figures of
//! `volume-rank` use the last 5 finished days; its `FID_BLNG_CLS_CODE` `0` ranks by today's volume;
//! `fluctuation`'s `fid_prc_cls_code` `0` ranks a rise from the day's low (a fall from its high), `1`
//! from the previous close; `fid_input_cnt_1` N > 0 ranks the change over N days.

use market::krx::Sign;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, percent};
use crate::model::{MarketKind, Preferred, Quote, SecurityKind, StockInfo, Warning};
use crate::rest::params::{Params, invalid};
use crate::rest::{Reply, market_division};
use crate::server::AppState;

/// Rows a ranking answers at most.
pub const MAX_ROWS: usize = 30;
/// The N of the N-day figures of `volume-rank`.
const AVERAGE_DAYS: usize = 5;

/// Which listings a query selects.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    /// `FID_INPUT_ISCD`: `None` = none at all (an 업종 the simulator does not have).
    section: Option<Section>,
    /// `FID_DIV_CLS_CODE`: 0 all, 1 ordinary, 2 preferred.
    division: u8,
    /// `FID_TRGT_CLS_CODE` digits (empty: everything).
    margins: Vec<bool>,
    /// `FID_TRGT_EXLS_CLS_CODE` digits.
    exclude: [bool; 10],
    price: (Option<i64>, Option<i64>),
    min_volume: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Section {
    market: Option<MarketKind>,
    size: Option<u8>,
    kospi200: bool,
}

impl Selection {
    /// Every listing.
    pub fn default_all() -> Selection {
        Selection {
            section: Some(Section::default()),
            ..Selection::default()
        }
    }

    /// Reads the shared filters (parameter names are matched whatever their case).
    pub fn parse(p: &mut Params) -> Result<Selection, KisError> {
        let iscd = p.required("FID_INPUT_ISCD")?;
        let section = match iscd.as_str() {
            "0000" => Some(Section::default()),
            "0001" => Some(Section {
                market: Some(MarketKind::Kospi),
                ..Section::default()
            }),
            "1001" => Some(Section {
                market: Some(MarketKind::Kosdaq),
                ..Section::default()
            }),
            "0002" | "0003" | "0004" | "1002" | "1003" | "1004" => Some(Section {
                market: Some(if iscd.starts_with('0') {
                    MarketKind::Kospi
                } else {
                    MarketKind::Kosdaq
                }),
                size: iscd[3..].parse().ok().map(|n: u8| n - 1),
                kospi200: false,
            }),
            "2001" => Some(Section {
                market: Some(MarketKind::Kospi),
                size: None,
                kospi200: true,
            }),
            other if other.len() == 4 && other.bytes().all(|b| b.is_ascii_digit()) => None,
            _ => return Err(invalid("INPUT_ISCD", "expected a 4-digit 업종 code such as 0000")),
        };
        let division = match p.get("FID_DIV_CLS_CODE")?.unwrap_or("0") {
            "" | "0" => 0,
            "1" => 1,
            "2" => 2,
            _ => return Err(invalid("DIV_CLS_CODE", "expected 0, 1 or 2")),
        };
        let digits = |name: &'static str, raw: &str, max: usize| -> Result<Vec<bool>, KisError> {
            if raw.len() > max.max(32) || !raw.bytes().all(|b| b == b'0' || b == b'1') {
                return Err(invalid(name, "expected 0/1 digits"));
            }
            Ok(raw.bytes().map(|b| b == b'1').collect())
        };
        let target = p.required("FID_TRGT_CLS_CODE")?;
        let mut margins = digits("TRGT_CLS_CODE", &target, 9)?;
        if !margins.contains(&true) {
            margins.clear();
        }
        let exclusion = p.required("FID_TRGT_EXLS_CLS_CODE")?;
        let mut exclude = [false; 10];
        for (slot, on) in exclude
            .iter_mut()
            .zip(digits("TRGT_EXLS_CLS_CODE", &exclusion, 10)?)
        {
            *slot = on;
        }
        let number = |name: &'static str, raw: &str| -> Result<Option<i64>, KisError> {
            match raw.trim() {
                "" => Ok(None),
                v => v
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| invalid(name, "expected a number")),
            }
        };
        let low = number("INPUT_PRICE_1", &p.required("FID_INPUT_PRICE_1")?)?;
        let high = number("INPUT_PRICE_2", &p.required("FID_INPUT_PRICE_2")?)?.filter(|&h| h > 0);
        let min_volume = number("VOL_CNT", &p.required("FID_VOL_CNT")?)?.map(|v| v.max(0) as u64);
        Ok(Selection {
            section,
            division,
            margins,
            exclude,
            price: (low, high),
            min_volume,
        })
    }

    /// Whether a listing passes the static filters (everything but price and volume).
    fn admits(&self, s: &StockInfo) -> bool {
        let Some(section) = self.section else {
            return false;
        };
        let f = s.flags;
        if section.market.is_some_and(|m| m != s.market)
            || section.size.is_some_and(|n| n != s.cap_size)
            || (section.kospi200 && !(s.index_member && s.market == MarketKind::Kospi))
        {
            return false;
        }
        let preferred = f.preferred != Preferred::No;
        match self.division {
            1 if preferred || s.kind != SecurityKind::Stock => return false,
            2 if !preferred => return false,
            _ => {}
        }
        if !self.margins.is_empty() {
            // 증거금 40% (digit 2), or 100% (digit 5) for a designated stock.
            let digit = if f.restricted() { 4 } else { 1 };
            if !self.margins.get(digit).copied().unwrap_or(false) {
                return false;
            }
        }
        let excluded = [
            f.warning != Warning::None,
            f.administrative,
            f.liquidation,
            f.unfaithful_disclosure,
            preferred,
            f.halted,
            s.kind == SecurityKind::Etf,
            s.kind == SecurityKind::Etn,
            f.restricted(),
            f.spac,
        ];
        !excluded
            .iter()
            .zip(self.exclude)
            .any(|(is, exclude)| *is && exclude)
    }

    fn admits_quote(&self, q: &Quote) -> bool {
        self.price.0.is_none_or(|lo| q.price >= lo)
            && self.price.1.is_none_or(|hi| q.price <= hi)
            && self.min_volume.is_none_or(|v| q.volume >= v)
    }
}

/// Every listing the selection admits, with its quote now.
pub(crate) fn snapshot(state: &AppState, selection: &Selection) -> Vec<(&'static StockInfo, Quote)> {
    state
        .market
        .stocks()
        .iter()
        .filter(|s| selection.admits(s))
        .filter_map(|s| Some((s, state.market.quote(&s.code)?)))
        .filter(|(_, q)| selection.admits_quote(q))
        .collect()
}

/// `volume-rank`
pub fn volume(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let elw = match p.required("FID_COND_MRKT_DIV_CODE")?.as_str() {
        "J" | "NX" | "UN" => false,
        "W" => true,
        _ => return Err(KisError::InvalidMarketCode),
    };
    let screen = p.required("FID_COND_SCR_DIV_CODE")?;
    if screen != "20171" {
        return Err(invalid("COND_SCR_DIV_CODE", "expected 20171"));
    }
    let selection = Selection::parse(p)?;
    let blng = match p.required("FID_BLNG_CLS_CODE")?.as_str() {
        "0" => 0,
        "1" => 1,
        "2" => 2,
        "3" => 3,
        "4" => 4,
        _ => return Err(invalid("BLNG_CLS_CODE", "expected 0 to 4")),
    };
    // The date is documented as empty; the samples send "" or "0". Anything is accepted.
    let _ = p.get("FID_INPUT_DATE_1")?;
    if elw {
        // The simulator lists no ELW.
        return Ok(Reply::last(ok_body(&[("output", "[]")])));
    }
    let mut rows = snapshot(state, &selection);
    let key = |s: &StockInfo, q: &Quote| -> i128 {
        match blng {
            1 => i128::from(percent(
                q.volume as i64 - q.prev_volume as i64,
                q.prev_volume.max(1) as i64,
            )),
            2 => i128::from(q.volume) * 1_000_000 / i128::from(s.listed_shares.max(1)),
            3 => i128::from(q.turnover),
            4 => {
                let cap = i128::from(q.prev_close) * i128::from(s.listed_shares);
                i128::from(q.turnover) * 1_000_000_000 / cap.max(1)
            }
            _ => i128::from(q.volume),
        }
    };
    rows.sort_by(|(a, qa), (b, qb)| key(b, qb).cmp(&key(a, qa)).then(a.code.cmp(&b.code)));
    rows.truncate(MAX_ROWS);
    let out = rows
        .iter()
        .enumerate()
        .map(|(i, (s, q))| volume_row(state, i + 1, s, q));
    Ok(Reply::last(ok_body(&[("output", &array(out))])))
}

/// Volume and turnover of the last [`AVERAGE_DAYS`] finished days, and the close before them.
fn recent(state: &AppState, q: &Quote) -> (u64, u64, i64) {
    let today = q.date;
    let from = today.checked_sub(jiff::Span::new().days(15)).unwrap_or(today);
    let bars: Vec<_> = state
        .market
        .daily_bars(&q.code, from, today)
        .into_iter()
        .filter(|b| b.date < today)
        .collect();
    let last = &bars[bars.len().saturating_sub(AVERAGE_DAYS)..];
    let n = last.len().max(1) as u64;
    let volume = last.iter().map(|b| b.volume).sum::<u64>() / n;
    let turnover = last.iter().map(|b| b.turnover).sum::<u64>() / n;
    let before = bars
        .len()
        .checked_sub(AVERAGE_DAYS + 1)
        .and_then(|i| bars.get(i))
        .map_or(q.prev_close, |b| b.close);
    (volume, turnover, before)
}

fn volume_row(state: &AppState, rank: usize, s: &StockInfo, q: &Quote) -> String {
    let (avg_volume, avg_turnover, before) = recent(state, q);
    let listed = i128::from(s.listed_shares.max(1));
    let cap = (i128::from(q.prev_close) * listed).max(1);
    let per_listed = |v: u64| crate::format::hundredths(i128::from(v) * 100, listed);
    let per_cap = |v: u64| crate::format::hundredths(i128::from(v) * 100, cap);
    let mut o = Obj::with_capacity(600);
    o.text("hts_kor_isnm", s.name)
        .text("mksc_shrn_iscd", s.code.as_str())
        .int("data_rank", rank as i64)
        .int("stck_prpr", q.price)
        .int("prdy_vrss_sign", q.sign as i64)
        .int("prdy_vrss", q.change)
        .fixed2("prdy_ctrt", q.change_rate())
        .int("acml_vol", q.volume)
        .int("prdy_vol", q.prev_volume)
        .int("lstn_stcn", s.listed_shares)
        .int("avrg_vol", avg_volume)
        .fixed2("n_befr_clpr_vrss_prpr_rate", percent(q.price - before, before))
        .fixed2(
            "vol_inrt",
            percent(
                q.volume as i64 - q.prev_volume as i64,
                q.prev_volume.max(1) as i64,
            ),
        )
        .fixed2("vol_tnrt", per_listed(q.volume))
        .fixed2("nday_vol_tnrt", per_listed(avg_volume * AVERAGE_DAYS as u64))
        .int("avrg_tr_pbmn", avg_turnover)
        .fixed2("tr_pbmn_tnrt", per_cap(q.turnover))
        .fixed2("nday_tr_pbmn_tnrt", per_cap(avg_turnover * AVERAGE_DAYS as u64))
        .int("acml_tr_pbmn", q.turnover);
    o.finish()
}

/// `ranking/fluctuation`
pub fn fluctuation(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let screen = p.required("FID_COND_SCR_DIV_CODE")?;
    if screen != "20170" {
        return Err(invalid("COND_SCR_DIV_CODE", "expected 20170"));
    }
    let selection = Selection::parse(p)?;
    let sort = match p.required("FID_RANK_SORT_CLS_CODE")?.as_str() {
        "0" | "0000" => 0,
        "1" | "0001" => 1,
        "2" | "0002" => 2,
        "3" | "0003" => 3,
        "4" | "0004" => 4,
        _ => return Err(invalid("RANK_SORT_CLS_CODE", "expected 0 to 4")),
    };
    let days = match p.required("FID_INPUT_CNT_1")?.trim() {
        "" => 0,
        v => v
            .parse::<usize>()
            .map_err(|_| invalid("INPUT_CNT_1", "expected a number of days"))?
            .min(250),
    };
    let from_close = match p.required("FID_PRC_CLS_CODE")?.as_str() {
        "" | "0" => false,
        "1" => true,
        _ => return Err(invalid("PRC_CLS_CODE", "expected 0 or 1")),
    };
    let rate = |name: &'static str, raw: Option<&str>| -> Result<Option<i64>, KisError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(|x| Some((x * 100.0).round() as i64))
                .ok_or_else(|| invalid(name, "expected a rate")),
        }
    };
    let low_rate = rate("RSFL_RATE1", p.get("FID_RSFL_RATE1")?)?;
    let high_rate = rate("RSFL_RATE2", p.get("FID_RSFL_RATE2")?)?;
    let rows = snapshot(state, &selection);
    // The close `days` trading days ago for each row (the previous close for 0).
    let mut rows: Vec<(&StockInfo, Quote, i64)> = rows
        .into_iter()
        .map(|(s, q)| {
            let base = if days == 0 {
                q.prev_close
            } else {
                state
                    .market
                    .recent_closes(&s.code, days)
                    .first()
                    .map_or(q.prev_close, |&(_, c)| c)
            };
            (s, q, base)
        })
        .filter(|(_, q, base)| {
            let r = percent(q.price - base, *base);
            low_rate.is_none_or(|lo| r >= lo) && high_rate.is_none_or(|hi| r <= hi)
        })
        .collect();
    let key = |q: &Quote, base: i64| -> i64 {
        match (sort, from_close) {
            (0, true) => percent(q.price - base, base),
            (0, false) => percent(q.price - q.low, q.low),
            (1, true) => -percent(q.price - base, base),
            (1, false) => -percent(q.price - q.high, q.high),
            (2, _) => percent(q.price - q.open, q.open),
            (3, _) => -percent(q.price - q.open, q.open),
            _ => percent(q.high - q.low, q.low),
        }
    };
    // Only listings that traded today rank (a halted stock has no move).
    rows.retain(|(_, q, _)| q.volume > 0);
    rows.sort_by(|(a, qa, ba), (b, qb, bb)| key(qb, *bb).cmp(&key(qa, *ba)).then(a.code.cmp(&b.code)));
    rows.truncate(MAX_ROWS);
    let out = rows
        .iter()
        .enumerate()
        .map(|(i, (s, q, base))| fluctuation_row(state, i + 1, s, q, *base));
    Ok(Reply::last(ok_body(&[("output", &array(out))])))
}

/// Consecutive up and down days before today, from the last 30 finished closes.
fn streaks(state: &AppState, q: &Quote) -> (usize, usize) {
    let closes = state.market.recent_closes(&q.code, 30);
    let moves: Vec<i64> = closes.windows(2).map(|w| w[1].1 - w[0].1).collect();
    let up = moves.iter().rev().take_while(|&&m| m > 0).count();
    let down = moves.iter().rev().take_while(|&&m| m < 0).count();
    (up, down)
}

fn fluctuation_row(state: &AppState, rank: usize, s: &StockInfo, q: &Quote, base: i64) -> String {
    let (up, down) = streaks(state, q);
    let from_open = q.price - q.open;
    let open_sign = if from_open > 0 {
        Sign::Up
    } else if from_open < 0 {
        Sign::Down
    } else {
        Sign::Flat
    };
    let mut o = Obj::with_capacity(700);
    o.text("stck_shrn_iscd", s.code.as_str())
        .int("data_rank", rank as i64)
        .text("hts_kor_isnm", s.name)
        .int("stck_prpr", q.price)
        .int("prdy_vrss", q.change)
        .int("prdy_vrss_sign", q.sign as i64)
        .fixed2("prdy_ctrt", q.change_rate())
        .int("acml_vol", q.volume)
        .int("stck_hgpr", q.high)
        .time("hgpr_hour", q.high_time)
        .date("acml_hgpr_date", q.date)
        .int("stck_lwpr", q.low)
        .time("lwpr_hour", q.low_time)
        .date("acml_lwpr_date", q.date)
        .fixed2("lwpr_vrss_prpr_rate", percent(q.price - q.low, q.low))
        .fixed2("dsgt_date_clpr_vrss_prpr_rate", percent(q.price - base, base))
        .int("cnnt_ascn_dynu", up as i64)
        .fixed2("hgpr_vrss_prpr_rate", percent(q.price - q.high, q.high))
        .int("cnnt_down_dynu", down as i64)
        .int("oprc_vrss_prpr_sign", open_sign as i64)
        .int("oprc_vrss_prpr", from_open)
        .fixed2("oprc_vrss_prpr_rate", percent(from_open, q.open))
        .int("prd_rsfl", q.price - base)
        .fixed2("prd_rsfl_rate", percent(q.price - base, base));
    o.finish()
}
