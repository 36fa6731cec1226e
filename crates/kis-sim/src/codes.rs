//! KIS code values derived from the market phase.

use jiff::civil::Time;
use market::krx::Phase;

/// `new_mkop_cls_code` / `NEW_MKOP_CLS_CODE` (신장운영구분): first digit 1 before the session,
/// 2 regular session, 3 after it, 4 after-hours single price; second digit 0 normal, 1 closing price.
pub fn session_code(phase: Phase, time: Time) -> &'static str {
    match phase {
        Phase::OpeningAuction => "10",
        Phase::Continuous | Phase::ClosingAuction => "20",
        Phase::AfterHoursClose => "31",
        Phase::AfterHoursSingle => "40",
        Phase::Closed if time < jiff::civil::time(9, 0, 0, 0) => "10",
        Phase::Closed => "30",
    }
}

/// `HOUR_CLS_CODE` (시간구분코드): `0` regular, `A` after-close expected, `B` pre-open expected,
/// `D` after-hours single price.
pub fn hour_class(phase: Phase) -> &'static str {
    match phase {
        Phase::OpeningAuction => "B",
        Phase::ClosingAuction => "A",
        Phase::AfterHoursSingle => "D",
        _ => "0",
    }
}

/// `antc_mkop_cls_code` (예상장운영구분): `311` pre-open expected, `112` regular, `312` closing
/// expected, `411` after-hours expected.
pub fn expected_session_code(phase: Phase) -> &'static str {
    match phase {
        Phase::OpeningAuction => "311",
        Phase::ClosingAuction => "312",
        Phase::AfterHoursSingle => "411",
        _ => "112",
    }
}
