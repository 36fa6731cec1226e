//! KIS number and text formatting, and a small JSON writer for hand-picked field names.
//!
//! KIS sends every number as a JSON string: integers plain (`"128500"`, `"-2500"`), rates and ratios
//! with two decimals (`"0.64"`, `"-1.97"`, `"0.00"`), a leading `-` when negative and never a `+`;
//! dates `YYYYMMDD`, times `HHMMSS`.

use std::fmt::Write as _;

use jiff::civil::{Date, Time};

/// `num / den` in hundredths, rounded half away from zero; 0 when `den` is 0.
pub fn hundredths(num: i128, den: i128) -> i64 {
    if den == 0 {
        return 0;
    }
    let scaled = num * 100;
    let q = scaled / den;
    let r = scaled % den;
    let q = if 2 * r.abs() >= den.abs() {
        if (scaled < 0) != (den < 0) { q - 1 } else { q + 1 }
    } else {
        q
    };
    q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// A percentage change `change / base` in hundredths of a percent (`-197` = -1.97 %).
pub fn percent(change: i64, base: i64) -> i64 {
    hundredths(i128::from(change) * 100, i128::from(base))
}

/// Writes hundredths as a two-decimal number: `-197` → `-1.97`, `5` → `0.05`.
pub fn write_fixed2(buf: &mut String, hundredths: i64) {
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    let _ = write!(buf, "{sign}{}.{:02}", abs / 100, abs % 100);
}

pub fn fixed2(hundredths: i64) -> String {
    let mut s = String::new();
    write_fixed2(&mut s, hundredths);
    s
}

/// `YYYYMMDD`.
pub fn write_date(buf: &mut String, d: Date) {
    let _ = write!(buf, "{:04}{:02}{:02}", d.year(), d.month(), d.day());
}

pub fn date(d: Date) -> String {
    let mut s = String::with_capacity(8);
    write_date(&mut s, d);
    s
}

/// `HHMMSS`.
pub fn write_time(buf: &mut String, t: Time) {
    let _ = write!(buf, "{:02}{:02}{:02}", t.hour(), t.minute(), t.second());
}

pub fn time(t: Time) -> String {
    let mut s = String::with_capacity(6);
    write_time(&mut s, t);
    s
}

/// Parses `YYYYMMDD`; `None` when malformed or not a calendar date.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i16 = s[0..4].parse().ok()?;
    let m: i8 = s[4..6].parse().ok()?;
    let d: i8 = s[6..8].parse().ok()?;
    Date::new(y, m, d).ok()
}

/// Parses `HHMMSS`; `None` when malformed.
pub fn parse_time(s: &str) -> Option<Time> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i8 = s[0..2].parse().ok()?;
    let m: i8 = s[2..4].parse().ok()?;
    let sec: i8 = s[4..6].parse().ok()?;
    Time::new(h, m, sec, 0).ok()
}

/// Appends `s` as a JSON string literal.
pub fn write_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

/// A JSON object written field by field, in order. Every value is a string, as KIS sends them,
/// unless written with [`Obj::raw`].
///
/// A *blank* object ([`Obj::blank`]) writes the same field names with every value zeroed (`"0"`,
/// `"0.00"`) or emptied (`""`): how KIS answers a well-formed but unknown stock code.
pub struct Obj {
    buf: String,
    empty: bool,
    blank: bool,
}

impl Default for Obj {
    fn default() -> Obj {
        Obj::new()
    }
}

impl Obj {
    pub fn new() -> Obj {
        Obj::with_capacity(256)
    }

    pub fn with_capacity(n: usize) -> Obj {
        let mut buf = String::with_capacity(n);
        buf.push('{');
        Obj {
            buf,
            empty: true,
            blank: false,
        }
    }

    /// An object whose values are all zeroed or emptied.
    pub fn blank() -> Obj {
        Obj {
            blank: true,
            ..Obj::new()
        }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        self.buf.push('"');
        self.buf.push_str(k);
        self.buf.push_str("\":");
    }

    /// A text value.
    pub fn text(&mut self, k: &str, v: &str) -> &mut Obj {
        let v = if self.blank { "" } else { v };
        self.key(k);
        write_json_str(&mut self.buf, v);
        self
    }

    /// An integer, as a string.
    pub fn int(&mut self, k: &str, v: impl Into<i128>) -> &mut Obj {
        let v = if self.blank { 0 } else { v.into() };
        self.key(k);
        let _ = write!(self.buf, "\"{v}\"");
        self
    }

    /// A two-decimal number given in hundredths, as a string.
    pub fn fixed2(&mut self, k: &str, hundredths: i64) -> &mut Obj {
        let hundredths = if self.blank { 0 } else { hundredths };
        self.key(k);
        self.buf.push('"');
        write_fixed2(&mut self.buf, hundredths);
        self.buf.push('"');
        self
    }

    /// A date as `"YYYYMMDD"`.
    pub fn date(&mut self, k: &str, d: Date) -> &mut Obj {
        self.key(k);
        self.buf.push('"');
        if !self.blank {
            write_date(&mut self.buf, d);
        }
        self.buf.push('"');
        self
    }

    /// A time as `"HHMMSS"`.
    pub fn time(&mut self, k: &str, t: Time) -> &mut Obj {
        self.key(k);
        self.buf.push('"');
        if !self.blank {
            write_time(&mut self.buf, t);
        }
        self.buf.push('"');
        self
    }

    /// Already-encoded JSON (an object, an array, a number).
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Obj {
        self.key(k);
        self.buf.push_str(json);
        self
    }

    pub fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

/// A JSON array of already-encoded elements.
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    let mut buf = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        buf.push_str(&item);
    }
    buf.push(']');
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date as d, time as t};

    #[test]
    fn rates_have_two_decimals_and_no_plus() {
        assert_eq!(fixed2(percent(400, 62300)), "0.64");
        assert_eq!(fixed2(percent(-19500, 270000)), "-7.22");
        assert_eq!(fixed2(percent(-2500, 127000)), "-1.97");
        assert_eq!(fixed2(0), "0.00");
        assert_eq!(fixed2(-5), "-0.05");
        assert_eq!(fixed2(percent(1, 0)), "0.00");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(hundredths(1, 200), 1); // 0.005 → 0.01
        assert_eq!(hundredths(-1, 200), -1);
        assert_eq!(hundredths(1, 300), 0);
        assert_eq!(hundredths(2, 3), 67);
    }

    #[test]
    fn dates_and_times_round_trip() {
        assert_eq!(date(d(2024, 1, 2)), "20240102");
        assert_eq!(time(t(9, 5, 7, 0)), "090507");
        assert_eq!(parse_date("20240229"), Some(d(2024, 2, 29)));
        assert_eq!(parse_date("20230229"), None);
        assert_eq!(parse_date("2024-1-1"), None);
        assert_eq!(parse_time("153000"), Some(t(15, 30, 0, 0)));
        assert_eq!(parse_time("250000"), None);
    }

    #[test]
    fn obj_writes_valid_json_with_string_numbers() {
        let mut o = Obj::new();
        o.int("a", -2500i64)
            .fixed2("b", -197)
            .text("c", "삼성\"전자")
            .raw("d", "[]");
        let s = o.finish();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "-2500");
        assert_eq!(v["b"], "-1.97");
        assert_eq!(v["c"], "삼성\"전자");
        assert_eq!(v["d"], serde_json::json!([]));
    }
}
