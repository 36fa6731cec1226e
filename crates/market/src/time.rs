//! Korea Standard Time. Every market time in kiswatch is KST (Asia/Seoul, UTC+09:00, no daylight saving
//! since 1988).

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{self, TimeZone};

static KST: LazyLock<TimeZone> =
    LazyLock::new(|| TimeZone::get("Asia/Seoul").unwrap_or_else(|_| TimeZone::fixed(tz::offset(9))));

/// The Asia/Seoul time zone (a fixed +09:00 zone where the system has no time zone database: the same
/// thing for every date kiswatch handles).
pub fn kst() -> TimeZone {
    KST.clone()
}

/// The current time in KST.
pub fn now_kst() -> jiff::Zoned {
    Timestamp::now().to_zoned(kst())
}

/// The KST wall-clock time of an instant.
pub fn to_kst(ts: Timestamp) -> DateTime {
    KST.to_datetime(ts)
}

/// The instant of a KST wall-clock time (unambiguous: KST has no transitions).
pub fn from_kst(dt: DateTime) -> Timestamp {
    // Compatible disambiguation never fails for a zone without gaps; fall back to the fixed offset.
    KST.to_timestamp(dt)
        .unwrap_or_else(|_| tz::offset(9).to_timestamp(dt).unwrap_or(Timestamp::UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn kst_is_utc_plus_nine() {
        let dt = date(2026, 11, 20).at(9, 0, 0, 0);
        let ts = from_kst(dt);
        assert_eq!(ts.to_string(), "2026-11-20T00:00:00Z");
        assert_eq!(to_kst(ts), dt);
    }
}
