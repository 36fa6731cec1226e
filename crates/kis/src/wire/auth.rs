//! Auth endpoints: access token (`POST /oauth2/tokenP`) and WebSocket approval key
//! (`POST /oauth2/Approval`). Their error bodies differ from the quotation envelope
//! (`error_code`/`error_description` for tokenP).

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde_json::{Value, json};

use crate::error::KisError;

pub const TOKEN_PATH: &str = "/oauth2/tokenP";
pub const APPROVAL_PATH: &str = "/oauth2/Approval";

/// The JSON body of a token request.
pub fn token_body(app_key: &str, app_secret: &str) -> Value {
    json!({"grant_type": "client_credentials", "appkey": app_key, "appsecret": app_secret})
}

/// The JSON body of an approval-key request (note `secretkey`, not `appsecret`).
pub fn approval_body(app_key: &str, app_secret: &str) -> Value {
    json!({"grant_type": "client_credentials", "appkey": app_key, "secretkey": app_secret})
}

/// An issued access token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

fn issuance_error(what: &'static str, status: u16, body: &[u8]) -> KisError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| parsed.as_ref()?.get(*k)?.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    KisError::TokenIssuance {
        what,
        code: field(&["error_code", "msg_cd", "code"]),
        message: field(&["error_description", "msg1", "message"])
            .chars()
            .take(200)
            .collect(),
        status,
    }
}

/// Parses a tokenP answer. `now` is used only when KIS leaves out `access_token_token_expired`.
pub fn parse_token(status: u16, body: &[u8], now: Timestamp) -> Result<IssuedToken, KisError> {
    if !(200..300).contains(&status) {
        return Err(issuance_error("access token", status, body));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| issuance_error("access token", status, body))?;
    let Some(token) = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return Err(issuance_error("access token", status, body));
    };
    let expires_at = match v.get("access_token_token_expired").and_then(Value::as_str) {
        Some(raw) => DateTime::strptime("%Y-%m-%d %H:%M:%S", raw.trim())
            .map(market::time::from_kst)
            .map_err(|_| KisError::Parse {
                tr_id: "tokenP",
                field: "access_token_token_expired",
                raw: raw.chars().take(64).collect(),
            })?,
        None => {
            let secs = v
                .get("expires_in")
                .and_then(Value::as_i64)
                .ok_or(KisError::Parse {
                    tr_id: "tokenP",
                    field: "expires_in",
                    raw: "<missing>".into(),
                })?;
            now.checked_add(jiff::SignedDuration::from_secs(secs))
                .map_err(|_| KisError::Parse {
                    tr_id: "tokenP",
                    field: "expires_in",
                    raw: secs.to_string(),
                })?
        }
    };
    Ok(IssuedToken {
        access_token: token.to_owned(),
        expires_at,
    })
}

/// Parses an Approval answer into the approval key.
pub fn parse_approval(status: u16, body: &[u8]) -> Result<String, KisError> {
    if !(200..300).contains(&status) {
        return Err(issuance_error("approval key", status, body));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| issuance_error("approval key", status, body))?;
    v.get("approval_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| issuance_error("approval key", status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_expiry_is_read_in_kst() {
        let body = br#"{"access_token":"eyJ.abc","token_type":"Bearer","expires_in":86400,"access_token_token_expired":"2024-01-02 00:00:00"}"#;
        let t = parse_token(200, body, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(t.expires_at.to_string(), "2024-01-01T15:00:00Z");
        assert!(!format!("{t:?}").contains("eyJ"));
    }

    #[test]
    fn token_rate_limit_error_names_the_code() {
        let body = r#"{"error_code":"EGW00133","error_description":"접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)"}"#;
        let e = parse_token(403, body.as_bytes(), Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(matches!(e, KisError::TokenIssuance { status: 403, ref code, .. } if code == "EGW00133"));
    }

    #[test]
    fn approval_key_and_its_errors() {
        assert_eq!(parse_approval(200, br#"{"approval_key":"abc"}"#).unwrap(), "abc");
        assert!(parse_approval(200, br#"{"approval_key":""}"#).is_err());
        assert!(parse_approval(500, b"oops").is_err());
    }
}
