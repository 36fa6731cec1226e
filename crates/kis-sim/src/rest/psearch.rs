//! 종목조건검색, `docs/kis-wire.md` §4.14: `psearch-title` (HHKST03900300) lists the conditions a user
//! saved to the server from the HTS (screen [0110]), `psearch-result` (HHKST03900400) runs one of them
//! over the whole market. Real profile only (the simulator refuses both on 모의투자 with `EGW00213`, as
//! every real-only TR).
//!
//! The simulator has canned conditions for the users [`USERS`] (`kiswatch`, `demo`), the same four for
//! each; another user id has nothing saved, which KIS answers with `MCA05762` "조회가 계속 됩니다.
//! (다음을 누르십시오.)" (rt_cd 1, a third-party client's tests record it), as it does an unknown `seq`
//! (*uncertain* for the latter). A condition that matches nothing answers `MCA05918` "종목코드
//! 오류입니다." (documented); at most [`MAX_RESULTS`] stocks come back (documented), best first.

use market::krx::Sign;

use crate::envelope::{KisError, ok_body};
use crate::format::{Obj, array, hundredths, percent};
use crate::model::{Quote, StockInfo};
use crate::rest::Reply;
use crate::rest::params::{Params, invalid};
use crate::rest::ranking::{Selection, snapshot};
use crate::server::AppState;

/// Results a condition returns at most.
pub const MAX_RESULTS: usize = 100;

/// HTS user ids with conditions saved on the simulated server.
pub const USERS: [&str; 2] = ["kiswatch", "demo"];

/// What a canned condition selects and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Everything that traded, by 거래대금.
    TopTurnover,
    /// Volume today at least three times yesterday's, by the ratio.
    VolumeSurge,
    /// Up 5% or more from the open, by the move.
    UpFromOpen,
    /// A price of 10 million won or more: nothing (the answer to a condition that matches no stock).
    VeryExpensive,
}

struct Condition {
    seq: &'static str,
    group: &'static str,
    name: &'static str,
    rule: Rule,
}

const CONDITIONS: [Condition; 4] = [
    Condition {
        seq: "0",
        group: "기본",
        name: "거래대금 상위",
        rule: Rule::TopTurnover,
    },
    Condition {
        seq: "1",
        group: "기본",
        name: "거래량 급증(전일 대비 3배)",
        rule: Rule::VolumeSurge,
    },
    Condition {
        seq: "2",
        group: "돌파",
        name: "시가 대비 5% 이상 상승",
        rule: Rule::UpFromOpen,
    },
    Condition {
        seq: "3",
        group: "돌파",
        name: "주가 1000만원 이상",
        rule: Rule::VeryExpensive,
    },
];

fn user(p: &mut Params) -> Result<&'static str, KisError> {
    let raw = p.required("USER_ID")?;
    if raw.trim().is_empty() || raw.len() > 40 {
        return Err(invalid("USER_ID", "expected the HTS user id"));
    }
    USERS
        .iter()
        .find(|u| **u == raw.trim())
        .copied()
        .ok_or(KisError::NoSavedCondition)
}

/// `psearch-title?user_id=…`
pub fn title(_state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let user = user(p)?;
    let rows = CONDITIONS.iter().map(|c| {
        let mut o = Obj::with_capacity(160);
        o.text("user_id", user)
            .text("seq", c.seq)
            .text("grp_nm", c.group)
            .text("condition_nm", c.name);
        o.finish()
    });
    Ok(Reply::last(ok_body(&[("output2", &array(rows))])))
}

/// `psearch-result?user_id=…&seq=…`
pub fn result(state: &AppState, p: &mut Params) -> Result<Reply, KisError> {
    let user = user(p);
    let seq = p.required("SEQ")?;
    let _ = user?;
    let condition = CONDITIONS
        .iter()
        .find(|c| c.seq == seq.trim())
        .ok_or(KisError::NoSavedCondition)?;
    let all = Selection::default_all();
    let mut hits: Vec<(&StockInfo, Quote, i64)> = snapshot(state, &all)
        .into_iter()
        .filter_map(|(s, q)| {
            let key = match condition.rule {
                Rule::TopTurnover => (q.volume > 0).then_some(q.turnover as i64)?,
                Rule::VolumeSurge => (q.prev_volume > 0 && q.volume >= 3 * q.prev_volume)
                    .then(|| hundredths(i128::from(q.volume) * 100, i128::from(q.prev_volume)))?,
                Rule::UpFromOpen => {
                    let up = percent(q.price - q.open, q.open);
                    (q.volume > 0 && up >= 500).then_some(up)?
                }
                Rule::VeryExpensive => (q.price >= 10_000_000).then_some(q.price)?,
            };
            Some((s, q, key))
        })
        .collect();
    if hits.is_empty() {
        return Err(KisError::NoMatches);
    }
    hits.sort_by(|(a, _, ka), (b, _, kb)| kb.cmp(ka).then(a.code.cmp(&b.code)));
    hits.truncate(MAX_RESULTS);
    let rows = hits.iter().map(|(s, q, _)| row(state, s, q));
    Ok(Reply::last(ok_body(&[("output2", &array(rows))])))
}

fn row(state: &AppState, s: &StockInfo, q: &Quote) -> String {
    let (high52, low52) = state.price_history.w52(state, q);
    let expected = state
        .market
        .order_book(&q.code)
        .and_then(|b| b.expected)
        .unwrap_or((0, 0));
    let expected_change = if expected.0 > 0 {
        expected.0 - q.prev_close
    } else {
        0
    };
    let expected_sign = if expected.0 > 0 {
        Sign::of(expected.0, &q.limits)
    } else {
        Sign::Flat
    };
    // 억원.
    let cap = i128::from(q.price) * i128::from(s.listed_shares) / 100_000_000;
    let mut o = Obj::with_capacity(600);
    o.text("code", s.code.as_str())
        .text("name", s.name)
        .int("daebi", q.sign as i64)
        .int("price", q.price)
        .fixed2("chgrate", q.change_rate())
        .int("acml_vol", q.volume)
        .int("trade_amt", q.turnover)
        .int("change", q.change)
        .fixed2("cttr", q.strength())
        .int("open", q.open)
        .int("high", q.high)
        .int("low", q.low)
        .int("high52", high52)
        .int("low52", low52)
        .int("expprice", expected.0)
        .int("expchange", expected_change)
        .fixed2("expchggrate", percent(expected_change, q.prev_close))
        .int("expcvol", expected.1)
        .fixed2(
            "chgrate2",
            hundredths(i128::from(q.volume) * 100, i128::from(q.prev_volume.max(1))),
        )
        .int("expdaebi", expected_sign as i64)
        .int("recprice", q.prev_close)
        .int("uplmtprice", q.limits.upper)
        .int("dnlmtprice", q.limits.lower)
        .int("stotprice", cap);
    o.finish()
}
