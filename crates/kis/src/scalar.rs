//! KIS scalars: the one reading of every number, date, time, sign code, stock code and flag KIS sends
//! as text, shared by the REST JSON fields ([`crate::wire::Fields`]) and the realtime `^`-separated
//! fields, so both sides accept exactly the same inputs. Each parser returns `None` for anything else;
//! the callers turn that into an error naming the TR, the field and the raw value.
//!
//! The rules (from the recorded payloads in `testdata/kis/` and `docs/kis-wire.md`):
//! * surrounding white space is ignored (KIS pads some fields with spaces);
//! * integers are ASCII digits with an optional leading `-` or `+` (`"-2500"`, `"+0"`), no
//!   separators, no exponent, within `i64` (`u64` for counts, which take no `-`);
//! * decimals are digits, optionally `.` and at least one more digit, with an optional sign
//!   (`"-1.97"`, `"19"`); `"1."`, `".5"`, `"1e5"`, `"NaN"` are refused;
//! * dates are `YYYYMMDD`, times `HHMMSS`, both valid on the calendar and the clock;
//! * sign codes are `1`–`5` (and `0`, read as flat), stock codes six characters, flags `Y`/`N`.

use jiff::civil::{Date, Time};
use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A signed integer (`"-2500"`, `"+0"`, `" 700 "`).
pub fn int(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if !is_digits(digits) {
        return None;
    }
    if negative {
        // Parsed with its sign, so i64::MIN fits.
        format!("-{digits}").parse().ok()
    } else {
        digits.parse().ok()
    }
}

/// A count that cannot be negative (volumes, quantities, turnover); a leading `+` is accepted.
pub fn count(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if !is_digits(s) {
        return None;
    }
    s.parse().ok()
}

/// A decimal (`"-1.97"`, `"+0.00"`, `"19"`).
pub fn decimal(raw: &str) -> Option<Decimal> {
    let s = raw.trim();
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    if !is_digits(int) || frac.is_some_and(|f| !is_digits(f)) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// `YYYYMMDD`.
pub fn date(raw: &str) -> Option<Date> {
    let s = raw.trim();
    if s.len() != 8 || !is_digits(s) {
        return None;
    }
    Date::new(
        s[0..4].parse().ok()?,
        s[4..6].parse().ok()?,
        s[6..8].parse().ok()?,
    )
    .ok()
}

/// `HHMMSS`.
pub fn time(raw: &str) -> Option<Time> {
    let s = raw.trim();
    if s.len() != 6 || !is_digits(s) {
        return None;
    }
    Time::new(
        s[0..2].parse().ok()?,
        s[2..4].parse().ok()?,
        s[4..6].parse().ok()?,
        0,
    )
    .ok()
}

/// A `prdy_vrss_sign` code: 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down (`0` reads as flat).
pub fn sign(raw: &str) -> Option<Sign> {
    Sign::from_code(raw.trim())
}

/// A six-character stock code.
pub fn code(raw: &str) -> Option<StockCode> {
    StockCode::parse(raw.trim()).ok()
}

/// A `Y`/`N` flag.
pub fn yes_no(raw: &str) -> Option<bool> {
    match raw.trim() {
        "Y" => Some(true),
        "N" => Some(false),
        _ => None,
    }
}

/// Whether KIS left the field empty (nothing but white space).
pub fn is_blank(raw: &str) -> bool {
    raw.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::fields::Record;
    use crate::wire::Fields;
    use proptest::prelude::*;

    /// Strings near the edges: numbers with signs, dots, padding and junk.
    fn kis_like() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,24}",
            "[ ]{0,2}[-+]?[0-9]{0,21}(\\.[0-9]{0,3})?[ ]{0,2}",
            "[ ]{0,1}[0-9]{6,8}[ ]{0,1}",
            "[ ]?[0-9A-Z]{6}[ ]?",
            "[ ]?[0-6YN][ ]?",
        ]
    }

    proptest! {
        /// REST and realtime read every input the same way: the same value, or both refuse it.
        #[test]
        fn rest_and_realtime_accept_exactly_the_same_inputs(raw in kis_like()) {
            let rest = Fields::of("TEST");
            let values = [raw.as_str()];
            let rt = Record { tr_id: "TEST", values: &values };
            prop_assert_eq!(rest.krw("f", &raw).ok(), rt.int(0, "f").ok());
            prop_assert_eq!(rest.krw("f", &raw).ok(), int(&raw));
            prop_assert_eq!(rest.count("f", &raw).ok(), rt.uint(0, "f").ok());
            prop_assert_eq!(rest.count("f", &raw).ok(), count(&raw));
            prop_assert_eq!(rest.decimal("f", &raw).ok(), rt.decimal(0, "f").ok());
            prop_assert_eq!(rest.date("f", &raw).ok(), rt.date(0, "f").ok());
            prop_assert_eq!(rest.time("f", &raw).ok(), rt.time(0, "f").ok());
            prop_assert_eq!(rest.sign("f", &raw).ok(), rt.sign(0, "f").ok());
            prop_assert_eq!(rest.code("f", &raw).ok(), rt.code(0, "f").ok());
            prop_assert_eq!(rest.yes_no("f", &raw).ok(), rt.flag(0, "f").ok());
            prop_assert_eq!(
                rest.optional("f", Some(&raw), Fields::krw).ok(),
                rt.opt_int(0, "f").ok()
            );
        }

        #[test]
        fn integers_round_trip(v in any::<i64>()) {
            prop_assert_eq!(int(&v.to_string()), Some(v));
            prop_assert_eq!(int(&format!(" {v} ")), Some(v));
        }

        #[test]
        fn decimals_round_trip(cents in -10_000_000_000i64..10_000_000_000i64) {
            let d = Decimal::new(cents, 2);
            prop_assert_eq!(decimal(&d.to_string()), Some(d));
        }
    }

    #[test]
    fn the_edges_both_sides_disagreed_on() {
        assert_eq!(decimal("1."), None);
        assert_eq!(decimal(".5"), None);
        assert_eq!(decimal("1e5"), None);
        assert_eq!(decimal("+0.00"), Some(Decimal::ZERO));
        assert_eq!(
            code(" 005930 ").map(|c| c.as_str().to_owned()).as_deref(),
            Some("005930")
        );
        assert_eq!(date(" 20240102"), Some(jiff::civil::date(2024, 1, 2)));
        assert_eq!(int("+15"), Some(15));
        assert_eq!(count("-0"), None);
        assert_eq!(int("1,000"), None);
    }
}
