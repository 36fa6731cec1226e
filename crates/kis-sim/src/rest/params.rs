//! Query parameters of a KIS GET: parsed by hand (so a malformed query is a KIS error, not a
//! framework 400), matched case-insensitively (KIS accepts `FID_INPUT_ISCD` and `fid_input_iscd`),
//! and every parameter must be one the endpoint knows.

use std::borrow::Cow;

use crate::envelope::KisError;

pub struct Params {
    pairs: Vec<(String, String, bool)>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params, KisError> {
        let mut pairs = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = decode(k).ok_or_else(|| bad_encoding(k))?;
            let v = decode(v).ok_or_else(|| bad_encoding(&k))?;
            pairs.push((k.to_ascii_uppercase(), v, false));
        }
        Ok(Params { pairs })
    }

    /// The value of `name` (upper-case), marking it used; repeated parameters are an error.
    pub fn get(&mut self, name: &'static str) -> Result<Option<&str>, KisError> {
        let mut found: Option<usize> = None;
        for (i, (k, _, used)) in self.pairs.iter_mut().enumerate() {
            if k == name {
                if found.is_some() {
                    return Err(KisError::InvalidInput(
                        format!("ERROR : INPUT DUPLICATE_FIELD {name}").into(),
                    ));
                }
                *used = true;
                found = Some(i);
            }
        }
        Ok(found.map(|i| self.pairs[i].1.as_str()))
    }

    /// A parameter that must be present (it may be empty when `allow_empty`).
    pub fn required(&mut self, name: &'static str) -> Result<String, KisError> {
        match self.get(name)? {
            Some(v) => Ok(v.to_string()),
            None => Err(KisError::InvalidInput(
                format!("ERROR : INPUT FIELD NOT FOUND {name}").into(),
            )),
        }
    }

    /// Fails on the first parameter no `get` asked for.
    pub fn finish(self) -> Result<(), KisError> {
        match self.pairs.into_iter().find(|(_, _, used)| !used) {
            Some((k, _, _)) => Err(KisError::InvalidInput(
                format!("ERROR : INPUT UNKNOWN_FIELD {}", truncate(&k, 40)).into(),
            )),
            None => Ok(()),
        }
    }
}

/// An invalid value for a known field.
pub fn invalid(name: &'static str, why: &str) -> KisError {
    KisError::InvalidInput(Cow::Owned(format!("ERROR : INPUT INVALID_CHECK_{name} ({why})")))
}

fn bad_encoding(k: &str) -> KisError {
    KisError::InvalidInput(format!("ERROR : INPUT INVALID_ENCODING {}", truncate(k, 40)).into())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Percent-decoding with `+` as space; `None` on a bad escape or invalid UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_decoded() {
        let mut p = Params::parse(Some("fid_input_iscd=005930&FID_COND_MRKT_DIV_CODE=J&X=a%20b+c")).unwrap();
        assert_eq!(p.get("FID_INPUT_ISCD").unwrap(), Some("005930"));
        assert_eq!(p.required("FID_COND_MRKT_DIV_CODE").unwrap(), "J");
        assert_eq!(p.get("X").unwrap(), Some("a b c"));
        p.finish().unwrap();
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(q in "\\PC{0,100}") {
            if let Ok(mut p) = Params::parse(Some(&q)) {
                let _ = p.get("A");
                let _ = p.finish();
            }
        }
    }

    #[test]
    fn unknown_missing_duplicate_and_malformed_are_errors() {
        let mut p = Params::parse(Some("A=1&B=2")).unwrap();
        p.get("A").unwrap();
        assert!(matches!(p.finish(), Err(KisError::InvalidInput(m)) if m.contains("UNKNOWN_FIELD B")));
        let mut p = Params::parse(Some("A=1")).unwrap();
        assert!(matches!(p.required("C"), Err(KisError::InvalidInput(m)) if m.contains("NOT FOUND C")));
        let mut p = Params::parse(Some("A=1&a=2")).unwrap();
        assert!(p.get("A").is_err());
        assert!(Params::parse(Some("A=%zz")).is_err());
        assert!(Params::parse(Some("A=%ff")).is_err());
    }
}
