//! KIS sends every number, date and code as a JSON string. These parsers turn one field into a typed
//! value or fail with [`KisError::Parse`] naming the TR, the field and the raw value: no silent 0,
//! no NaN, no panic whatever the input. What each accepts is [`crate::scalar`]'s, the same reading
//! the realtime frames get (its property test checks both sides agree).

use jiff::civil::{Date, Time};
use market::StockCode;
use market::krx::Sign;
use rust_decimal::Decimal;

use crate::error::KisError;
use crate::scalar;

/// The longest raw value copied into an error message (characters).
const RAW_LIMIT: usize = 64;

/// Parses the fields of one TR; every error names `tr` and the field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub tr: &'static str,
}

impl Fields {
    pub const fn of(tr: &'static str) -> Fields {
        Fields { tr }
    }

    pub fn error(&self, field: &'static str, raw: &str) -> KisError {
        KisError::Parse {
            tr_id: self.tr,
            field,
            raw: raw.chars().take(RAW_LIMIT).collect(),
        }
    }

    /// A signed integer amount in KRW (`"-2500"`, `"128500"`; a leading `+` is accepted).
    pub fn krw(&self, field: &'static str, raw: &str) -> Result<i64, KisError> {
        scalar::int(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A count that cannot be negative: volumes, quantities, accumulated turnover.
    pub fn count(&self, field: &'static str, raw: &str) -> Result<u64, KisError> {
        scalar::count(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A signed quantity (net buying, 잔량증감).
    pub fn signed(&self, field: &'static str, raw: &str) -> Result<i64, KisError> {
        self.krw(field, raw)
    }

    /// A decimal (rates in percent `"-1.97"`, ratios, weighted averages `"129097.23"`).
    pub fn decimal(&self, field: &'static str, raw: &str) -> Result<Decimal, KisError> {
        scalar::decimal(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A date `YYYYMMDD`.
    pub fn date(&self, field: &'static str, raw: &str) -> Result<Date, KisError> {
        scalar::date(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A time of day `HHMMSS`.
    pub fn time(&self, field: &'static str, raw: &str) -> Result<Time, KisError> {
        scalar::time(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A `prdy_vrss_sign` code: 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down (`0` reads as flat).
    pub fn sign(&self, field: &'static str, raw: &str) -> Result<Sign, KisError> {
        scalar::sign(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A six-character stock code.
    pub fn code(&self, field: &'static str, raw: &str) -> Result<StockCode, KisError> {
        scalar::code(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A `Y`/`N` flag.
    pub fn yes_no(&self, field: &'static str, raw: &str) -> Result<bool, KisError> {
        scalar::yes_no(raw).ok_or_else(|| self.error(field, raw))
    }

    /// A text field; KIS pads some with spaces.
    pub fn text(&self, raw: &str) -> String {
        raw.trim().to_owned()
    }

    /// `None` for a missing, empty or all-space value (only for fields KIS really leaves empty).
    pub fn optional<T>(
        &self,
        field: &'static str,
        raw: Option<&str>,
        parse: impl Fn(&Fields, &'static str, &str) -> Result<T, KisError>,
    ) -> Result<Option<T>, KisError> {
        match raw {
            Some(s) if !scalar::is_blank(s) => parse(self, field, s).map(Some),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Fields = Fields::of("FHKST01010100");

    #[test]
    fn integers_with_kis_signs() {
        assert_eq!(F.krw("prdy_vrss", "-2500").unwrap(), -2500);
        assert_eq!(F.krw("stck_prpr", "128500").unwrap(), 128_500);
        assert_eq!(F.krw("prdy_vrss", "+0").unwrap(), 0);
        assert_eq!(F.krw("stck_prpr", " 700 ").unwrap(), 700);
        assert_eq!(F.count("acml_vol", "3908418").unwrap(), 3_908_418);
        assert_eq!(
            F.count("acml_tr_pbmn", "3013709268750").unwrap(),
            3_013_709_268_750
        );
    }

    #[test]
    fn bad_integers_name_tr_field_and_value() {
        for raw in [
            "",
            " ",
            "12a",
            "1.5",
            "-",
            "--1",
            "1,000",
            "NaN",
            "99999999999999999999",
        ] {
            let err = F.krw("stck_prpr", raw).unwrap_err();
            assert_eq!(
                err,
                KisError::Parse {
                    tr_id: "FHKST01010100",
                    field: "stck_prpr",
                    raw: raw.into()
                }
            );
        }
        assert!(F.count("acml_vol", "-5").is_err(), "a volume cannot be negative");
    }

    #[test]
    fn decimals() {
        assert_eq!(F.decimal("prdy_ctrt", "-1.97").unwrap(), Decimal::new(-197, 2));
        assert_eq!(F.decimal("prdy_ctrt", "+0.00").unwrap(), Decimal::ZERO);
        assert_eq!(
            F.decimal("wghn_avrg_stck_prc", "129097.23").unwrap(),
            Decimal::new(12_909_723, 2)
        );
        assert_eq!(F.decimal("per", "19").unwrap(), Decimal::new(19, 0));
        for raw in ["", "1.", ".5", "1e5", "NaN", "inf", "1.2.3", "- 1"] {
            assert!(F.decimal("prdy_ctrt", raw).is_err(), "{raw:?} must be rejected");
        }
    }

    #[test]
    fn dates_times_signs_codes() {
        assert_eq!(
            F.date("stck_bsop_date", "20220111").unwrap(),
            jiff::civil::date(2022, 1, 11)
        );
        assert!(F.date("stck_bsop_date", "20221311").is_err());
        assert!(F.date("stck_bsop_date", "2022011").is_err());
        assert_eq!(
            F.time("stck_cntg_hour", "155955").unwrap(),
            jiff::civil::time(15, 59, 55, 0)
        );
        assert!(F.time("stck_cntg_hour", "246000").is_err());
        assert_eq!(F.sign("prdy_vrss_sign", "5").unwrap(), Sign::Down);
        assert!(F.sign("prdy_vrss_sign", "6").is_err());
        assert_eq!(F.code("stck_shrn_iscd", "000660").unwrap().as_str(), "000660");
        assert!(F.code("stck_shrn_iscd", "Q500001").is_err());
        assert_eq!(F.optional("cntg_vol", Some(""), Fields::count).unwrap(), None);
        assert_eq!(F.optional("cntg_vol", Some("  "), Fields::count).unwrap(), None);
        assert_eq!(F.optional("cntg_vol", None, Fields::count).unwrap(), None);
        assert_eq!(F.optional("cntg_vol", Some("7"), Fields::count).unwrap(), Some(7));
    }
}
