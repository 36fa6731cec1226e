//! Typed reads of one record's `^`-separated fields, each failing with the TR, index and name. What
//! each accepts is [`crate::scalar`]'s, the same reading the REST fields get.

use jiff::civil::{Date, Time};
use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;

use super::error::ParseError;
use crate::scalar;

/// One record of a frame, with the TR it came from for error messages.
pub(crate) struct Record<'a> {
    pub tr_id: &'a str,
    pub values: &'a [&'a str],
}

impl<'a> Record<'a> {
    fn error(&self, index: usize, field: &'static str, expected: &'static str) -> ParseError {
        ParseError::Field {
            tr_id: self.tr_id.to_owned(),
            index,
            field,
            value: self.text(index).chars().take(40).collect(),
            expected,
        }
    }

    /// The raw text of a field (empty when the record is shorter, which `frame::records` rules out).
    pub fn text(&self, index: usize) -> &'a str {
        self.values.get(index).copied().unwrap_or("")
    }

    pub fn string(&self, index: usize) -> String {
        self.text(index).trim().to_owned()
    }

    pub fn code(&self, index: usize, field: &'static str) -> Result<StockCode, ParseError> {
        scalar::code(self.text(index)).ok_or_else(|| self.error(index, field, "a stock code"))
    }

    pub fn int(&self, index: usize, field: &'static str) -> Result<i64, ParseError> {
        scalar::int(self.text(index)).ok_or_else(|| self.error(index, field, "an integer"))
    }

    pub fn uint(&self, index: usize, field: &'static str) -> Result<u64, ParseError> {
        scalar::count(self.text(index)).ok_or_else(|| self.error(index, field, "a non-negative integer"))
    }

    /// An integer that KIS leaves empty when it does not apply.
    pub fn opt_int(&self, index: usize, field: &'static str) -> Result<Option<i64>, ParseError> {
        if scalar::is_blank(self.text(index)) {
            Ok(None)
        } else {
            self.int(index, field).map(Some)
        }
    }

    pub fn decimal(&self, index: usize, field: &'static str) -> Result<Decimal, ParseError> {
        scalar::decimal(self.text(index)).ok_or_else(|| self.error(index, field, "a decimal number"))
    }

    pub fn sign(&self, index: usize, field: &'static str) -> Result<Sign, ParseError> {
        scalar::sign(self.text(index)).ok_or_else(|| self.error(index, field, "a sign code 1-5"))
    }

    /// `HHMMSS`.
    pub fn time(&self, index: usize, field: &'static str) -> Result<Time, ParseError> {
        scalar::time(self.text(index)).ok_or_else(|| self.error(index, field, "a time HHMMSS"))
    }

    /// `YYYYMMDD`.
    pub fn date(&self, index: usize, field: &'static str) -> Result<Date, ParseError> {
        scalar::date(self.text(index)).ok_or_else(|| self.error(index, field, "a date YYYYMMDD"))
    }

    /// `Y`/`N` flags.
    pub fn flag(&self, index: usize, field: &'static str) -> Result<bool, ParseError> {
        scalar::yes_no(self.text(index)).ok_or_else(|| self.error(index, field, "Y or N"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec<'a>(values: &'a [&'a str]) -> Record<'a> {
        Record {
            tr_id: "H0STCNT0",
            values,
        }
    }

    #[test]
    fn reads_typed_values() {
        let v = [
            "005930", "093012", "-300", "+15", "-0.42", "20240102", "N", "5", "",
        ];
        let r = rec(&v);
        assert_eq!(r.code(0, "code").unwrap().as_str(), "005930");
        assert_eq!(r.time(1, "t").unwrap(), Time::constant(9, 30, 12, 0));
        assert_eq!(r.int(2, "chg").unwrap(), -300);
        assert_eq!(r.uint(3, "vol").unwrap(), 15);
        assert_eq!(r.decimal(4, "rate").unwrap().to_string(), "-0.42");
        assert_eq!(r.date(5, "d").unwrap(), Date::constant(2024, 1, 2));
        assert!(!r.flag(6, "f").unwrap());
        assert_eq!(r.sign(7, "s").unwrap(), Sign::Down);
        assert_eq!(r.opt_int(8, "vi").unwrap(), None);
    }

    #[test]
    fn errors_name_tr_index_and_field() {
        let v = ["-5", "246000", "20241332", "1e5", "x"];
        let r = rec(&v);
        let err = r.uint(0, "CNTG_VOL").unwrap_err().to_string();
        assert!(err.contains("H0STCNT0") && err.contains("CNTG_VOL") && err.contains("\"-5\""));
        assert!(r.time(1, "t").is_err());
        assert!(r.date(2, "d").is_err());
        assert!(r.decimal(3, "r").is_err());
        assert!(r.sign(4, "s").is_err());
        assert!(r.int(9, "missing").is_err());
    }
}
