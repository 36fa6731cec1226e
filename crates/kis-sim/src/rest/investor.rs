//! `inquire-investor` (FHKST01010900, 주식현재가 투자자): per day, what individuals (prsn), foreigners
//! (frgn) and institutions (orgn) bought and sold, newest first, 30 days.
//!
//! The model has no investor types, so each day's volume is split among the three groups by stable
//! pseudo-random shares drawn from (stock, date); amounts (`*_tr_pbmn`) are in millions of KRW at the
//! day's close.

use jiff::ToSpan;
use jiff::civil::Date;
use market::StockCode;
use market::krx::{Sign, price_limits};

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array};
use crate::model::DailyBar;
use crate::rest::daily::rows_newest_first;
use crate::rest::params::Params;
use crate::rest::{Reply, market_division, stock};
use crate::server::AppState;

pub const MAX_ROWS: usize = 30;

pub fn handle(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    market_division(p)?;
    let Some(code) = stock(state, p, "FID_INPUT_ISCD")? else {
        return Ok(Reply::last(ok_body(&[("output", "[]")])));
    };
    let today = state.market.trading_date();
    let from = today
        .checked_sub(((MAX_ROWS as i64 + 1) * 2 + 20).days())
        .unwrap_or(today);
    let bars = state.market.daily_bars(&code, from, today);
    let rows = rows_newest_first(&bars, MAX_ROWS).map(|(b, prev)| row(&code, b, prev));
    Ok(Reply::last(ok_body(&[("output", &array(rows))])))
}

/// Shares (per mille) of a day's volume for individuals, foreigners, institutions on one side.
fn shares(code: &StockCode, date: Date, side: u64) -> [u64; 3] {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ side;
    for b in code.as_str().bytes().chain(crate::format::date(date).bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let individuals = 400 + h % 300; // 40..70 %
    let foreigners = 100 + (h >> 20) % (900 - individuals - 50);
    [individuals, foreigners, 1000 - individuals - foreigners - 50]
}

fn row(code: &StockCode, b: &DailyBar, prev: Option<&DailyBar>) -> String {
    let prev_close = prev.map_or(b.open, |p| p.close);
    let change = b.close - prev_close;
    let sign = match prev {
        Some(_) => Sign::of(b.close, &price_limits(prev_close)),
        None => Sign::of_change(change),
    };
    let buy = shares(code, b.date, 1).map(|s| b.volume * s / 1000);
    let sell = shares(code, b.date, 2).map(|s| b.volume * s / 1000);
    let million = |qty: u64| (i128::from(qty) * i128::from(b.close) / 1_000_000) as i64;
    let mut o = Obj::with_capacity(700);
    o.date("stck_bsop_date", b.date)
        .int("stck_clpr", b.close)
        .int("prdy_vrss", change)
        .int("prdy_vrss_sign", sign as i64);
    for (name, i) in [("prsn", 0), ("frgn", 1), ("orgn", 2)] {
        o.int(&format!("{name}_ntby_qty"), buy[i] as i64 - sell[i] as i64);
    }
    for (name, i) in [("prsn", 0), ("frgn", 1), ("orgn", 2)] {
        o.int(
            &format!("{name}_ntby_tr_pbmn"),
            million(buy[i]) - million(sell[i]),
        );
    }
    for (name, i) in [("prsn", 0), ("frgn", 1), ("orgn", 2)] {
        o.int(&format!("{name}_shnu_vol"), buy[i]);
    }
    for (name, i) in [("prsn", 0), ("frgn", 1), ("orgn", 2)] {
        o.int(&format!("{name}_shnu_tr_pbmn"), million(buy[i]));
    }
    for (name, i) in [("prsn", 0), ("frgn", 1), ("orgn", 2)] {
        o.int(&format!("{name}_seln_vol"), sell[i]);
    }
    for (name, i) in [("prsn", 0), ("frgn", 1), ("orgn", 2)] {
        o.int(&format!("{name}_seln_tr_pbmn"), million(sell[i]));
    }
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_plausible_and_stable() {
        let code = StockCode::parse("005930").unwrap();
        for day in 1..28 {
            let d = jiff::civil::date(2026, 2, day);
            let s = shares(&code, d, 1);
            assert_eq!(s.iter().sum::<u64>(), 950);
            assert!(s.iter().all(|&x| x > 0), "{s:?}");
            assert_eq!(s, shares(&code, d, 1));
        }
    }
}
