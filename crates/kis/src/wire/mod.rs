//! The typed wire layer: one small request type per KIS endpoint, declaring its path, TR id, query
//! and response type, and the checked conversion from KIS's all-string JSON into domain values.
//!
//! Bodies are read as JSON values and each field is looked up by name through [`Record`], so every
//! failure names the TR and the field; unknown extra fields are ignored, an `output1` sent as `[]`
//! reads as absent.

pub mod auth;
pub mod chart;
pub mod info;
pub mod num;
pub mod quotations;
pub mod scan;

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::KisError;
pub use num::Fields;

/// KIS market division code for KRX stocks, ETFs and ETNs (`FID_COND_MRKT_DIV_CODE=J`).
pub const MARKET_KRX: &str = "J";

/// A KIS GET endpoint.
pub trait Request: Send + Sync {
    /// The URL path, e.g. `/uapi/domestic-stock/v1/quotations/inquire-price`.
    const PATH: &'static str;
    /// The `tr_id` header.
    const TR_ID: &'static str;
    /// Whether the VTS (모의투자) server offers this TR.
    const ON_VTS: bool = true;
    /// The typed answer.
    type Output: Send + 'static;
    /// Query parameters, in the order KIS documents them.
    fn query(&self) -> Vec<(&'static str, String)>;
    /// Converts a successful body (`rt_cd == "0"`, already checked) into the typed answer.
    fn parse(&self, body: &[u8]) -> Result<Self::Output, KisError>;
}

/// The `rt_cd`/`msg_cd`/`msg1` envelope check shared by every TR: `rt_cd != "0"` is an error whatever
/// the HTTP status, a non-2xx status without a KIS body is an HTTP error.
pub fn check_envelope(tr_id: &str, status: u16, body: &[u8]) -> Result<(), KisError> {
    let http_error = || KisError::Http {
        tr_id: tr_id.to_owned(),
        status,
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Err(if status >= 400 {
            http_error()
        } else {
            KisError::Decode {
                tr_id: tr_id.to_owned(),
                detail: "body is not a JSON object".into(),
            }
        });
    };
    let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or("");
    match map.get("rt_cd").and_then(Value::as_str) {
        Some("0") if status < 400 => Ok(()),
        Some("0") | None if status >= 400 => Err(http_error()),
        None => Err(KisError::Decode {
            tr_id: tr_id.to_owned(),
            detail: "no rt_cd in the response".into(),
        }),
        Some(_) => Err(KisError::from_envelope(
            tr_id,
            status,
            text("msg_cd"),
            text("msg1"),
        )),
    }
}

/// A parsed response body of one TR.
pub struct Body {
    tr: Fields,
    map: Map<String, Value>,
}

impl Body {
    pub fn parse(tr: &'static str, body: &[u8]) -> Result<Body, KisError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Body {
                tr: Fields::of(tr),
                map,
            }),
            Ok(_) => Err(decode(tr, "body is not a JSON object")),
            Err(e) => Err(decode(tr, &e.to_string())),
        }
    }

    /// An object output (`output`, `output1`). `[]`, `null` or a missing key read as `None`; an array
    /// holding one object reads as that object.
    pub fn object(&self, key: &'static str) -> Result<Option<Record<'_>>, KisError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Record { tr: self.tr, map })),
            Some(Value::Array(items)) => match items.as_slice() {
                [] => Ok(None),
                [Value::Object(map)] => Ok(Some(Record { tr: self.tr, map })),
                _ => Err(decode(
                    self.tr.tr,
                    &format!("{key} is a list, expected one object"),
                )),
            },
            Some(_) => Err(decode(self.tr.tr, &format!("{key} is not an object"))),
        }
    }

    /// A list output (`output`, `output2`). An empty list is fine; a missing key is not.
    pub fn rows(&self, key: &'static str) -> Result<Vec<Record<'_>>, KisError> {
        match self.map.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(Record { tr: self.tr, map }),
                    _ => Err(decode(self.tr.tr, &format!("{key} holds a non-object row"))),
                })
                .collect(),
            Some(Value::Object(map)) => Ok(vec![Record { tr: self.tr, map }]),
            Some(Value::Null) | None => Err(decode(self.tr.tr, &format!("no {key} in the response"))),
            Some(_) => Err(decode(self.tr.tr, &format!("{key} is not a list"))),
        }
    }
}

fn decode(tr: &str, detail: &str) -> KisError {
    KisError::Decode {
        tr_id: tr.to_owned(),
        detail: detail.chars().take(200).collect(),
    }
}

/// One JSON object of a response, read field by field.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    tr: Fields,
    map: &'a Map<String, Value>,
}

impl<'a> Record<'a> {
    /// The raw text of a field; `None` when absent or `null`. Numbers are accepted as their text.
    pub fn get(&self, field: &'static str) -> Option<Cow<'a, str>> {
        match self.map.get(field)? {
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    /// The raw text of a required field.
    pub fn raw(&self, field: &'static str) -> Result<Cow<'a, str>, KisError> {
        self.get(field).ok_or_else(|| KisError::Parse {
            tr_id: self.tr.tr,
            field,
            raw: "<missing>".into(),
        })
    }

    /// Parses a required field.
    pub fn req<T>(
        &self,
        field: &'static str,
        parse: impl Fn(&Fields, &'static str, &str) -> Result<T, KisError>,
    ) -> Result<T, KisError> {
        parse(&self.tr, field, &self.raw(field)?)
    }

    /// Parses a field KIS may leave out or send empty.
    pub fn opt<T>(
        &self,
        field: &'static str,
        parse: impl Fn(&Fields, &'static str, &str) -> Result<T, KisError>,
    ) -> Result<Option<T>, KisError> {
        self.tr.optional(field, self.get(field).as_deref(), parse)
    }

    /// A text field, trimmed; empty when absent.
    pub fn text(&self, field: &'static str) -> String {
        self.get(field).map(|s| s.trim().to_owned()).unwrap_or_default()
    }

    pub fn fields(&self) -> Fields {
        self.tr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_errors_whatever_the_status() {
        let rate = r#"{"rt_cd":"1","msg1":"초당 거래건수를 초과하였습니다.","msg_cd":"EGW00201"}"#.as_bytes();
        assert!(matches!(
            check_envelope("T", 500, rate),
            Err(KisError::RateLimited { status: 500, .. })
        ));
        assert!(matches!(
            check_envelope("T", 200, rate),
            Err(KisError::RateLimited { status: 200, .. })
        ));
        assert!(check_envelope("T", 200, br#"{"rt_cd":"0","output":{}}"#).is_ok());
        assert_eq!(
            check_envelope("T", 502, b"<html>bad gateway</html>"),
            Err(KisError::Http {
                tr_id: "T".into(),
                status: 502
            })
        );
        assert!(matches!(
            check_envelope("T", 200, b"not json"),
            Err(KisError::Decode { .. })
        ));
        assert!(matches!(
            check_envelope("T", 200, b"{}"),
            Err(KisError::Decode { .. })
        ));
    }

    #[test]
    fn object_outputs_tolerate_empty_lists() {
        let body = Body::parse("T", br#"{"output1":[],"output2":[{"a":"1"}],"x":{"b":"2"}}"#).unwrap();
        assert!(body.object("output1").unwrap().is_none());
        assert_eq!(body.rows("output2").unwrap().len(), 1);
        assert_eq!(body.object("output2").unwrap().unwrap().text("a"), "1");
        assert!(body.rows("missing").is_err());
        let missing = body
            .object("x")
            .unwrap()
            .unwrap()
            .req("nope", Fields::krw)
            .unwrap_err();
        assert!(matches!(missing, KisError::Parse { field: "nope", .. }));
    }
}
