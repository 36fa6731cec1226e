//! Stock codes (단축코드): six ASCII characters, digits and upper-case letters (`005930`, `0001A0`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A KRX short stock code, validated on construction.
///
/// Most codes are six digits; newer listings may carry an upper-case letter (`0001A0`). ETN codes
/// take a `Q` prefix on the wire (`Q500001`), which is not a stock code and is rejected here.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockCode([u8; 6]);

/// Why a string is not a stock code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "종목코드 {input:?}는 6자리여야 합니다 / stock code {input:?} must be 6 characters, e.g. 005930 (got {len})"
    )]
    Length { input: String, len: usize },
    #[error(
        "종목코드 {input:?}의 {position}번째 문자 {found:?}는 허용되지 않습니다 / stock code {input:?}: character {found:?} at position {position} is not a digit or upper-case letter"
    )]
    Character {
        input: String,
        position: usize,
        found: char,
    },
}

impl StockCode {
    /// Parses a code; surrounding whitespace is not trimmed (a code with spaces is a mistake).
    pub fn parse(s: &str) -> Result<StockCode, CodeError> {
        let len = s.chars().count();
        if len != 6 {
            return Err(CodeError::Length {
                input: s.to_owned(),
                len,
            });
        }
        let mut bytes = [0u8; 6];
        for (i, c) in s.chars().enumerate() {
            if !(c.is_ascii_digit() || c.is_ascii_uppercase()) {
                return Err(CodeError::Character {
                    input: s.to_owned(),
                    position: i + 1,
                    found: c,
                });
            }
            bytes[i] = c as u8;
        }
        Ok(StockCode(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (checked in `parse`).
        std::str::from_utf8(&self.0).unwrap_or("??????")
    }
}

impl FromStr for StockCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StockCode::parse(s)
    }
}

impl fmt::Display for StockCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for StockCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StockCode({})", self.as_str())
    }
}

impl Serialize for StockCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StockCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        StockCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_digit_and_letter_codes() {
        assert_eq!(StockCode::parse("005930").unwrap().as_str(), "005930");
        assert_eq!(StockCode::parse("0001A0").unwrap().to_string(), "0001A0");
    }

    #[test]
    fn rejects_with_specific_errors() {
        assert_eq!(
            StockCode::parse("05930"),
            Err(CodeError::Length {
                input: "05930".into(),
                len: 5
            })
        );
        assert_eq!(
            StockCode::parse("00593a"),
            Err(CodeError::Character {
                input: "00593a".into(),
                position: 6,
                found: 'a'
            })
        );
        assert!(StockCode::parse("삼성전자0").is_err());
        assert!(StockCode::parse("Q500001").is_err());
        let msg = StockCode::parse("12345").unwrap_err().to_string();
        assert!(msg.contains("12345") && msg.contains("6"), "{msg}");
    }

    #[test]
    fn serde_round_trip_validates() {
        let code: StockCode = serde_json::from_str("\"000660\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"000660\"");
        assert!(serde_json::from_str::<StockCode>("\"00066\"").is_err());
    }
}
