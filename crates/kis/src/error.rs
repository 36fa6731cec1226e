//! The one error type of the KIS client.
//!
//! Every variant carries only what is safe to log: no app key, secret, token or approval key ever
//! appears in a message.

use std::time::Duration;

/// KIS `msg_cd` of the rate-limit rejection (`초당 거래건수를 초과하였습니다`).
pub const MSG_RATE_LIMITED: &str = "EGW00201";
/// KIS `msg_cd` of an expired or revoked access token (`기간이 만료된 token 입니다`).
pub const MSG_TOKEN_EXPIRED: &str = "EGW00123";
/// KIS `msg_cd` of a TR the 모의투자 server does not offer (`모의투자 tr이 아닙니다`, HTTP 500): not
/// transient, never retried.
pub const MSG_NOT_ON_VTS: &str = "EGW00213";
/// KIS `error_code` of a second token issuance inside one minute.
pub const MSG_TOKEN_TOO_OFTEN: &str = "EGW00133";
/// KIS codes that say the app key or secret itself is refused (missing, unknown, deleted, suspended,
/// wrong secret): nothing sent with this key can succeed until its owner fixes it.
pub const MSG_KEY_REFUSED: [&str; 4] = ["EGW00102", "EGW00103", "EGW00104", "EGW00105"];

/// Everything that can go wrong talking to KIS.
///
/// `Clone` so that one upstream answer can be handed to every coalesced caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KisError {
    /// KIS answered with `rt_cd != "0"` (whatever the HTTP status).
    #[error("KIS {tr_id} failed: {msg_cd} {msg1} (HTTP {status})")]
    Api {
        tr_id: String,
        msg_cd: String,
        msg1: String,
        status: u16,
    },
    /// `EGW00201`: the per-second limit of the app key was exceeded.
    #[error("KIS {tr_id} rejected: rate limit exceeded (EGW00201, HTTP {status})")]
    RateLimited { tr_id: String, status: u16 },
    /// `EGW00123`: the access token expired or was revoked.
    #[error("KIS {tr_id} rejected: access token expired or revoked (EGW00123)")]
    TokenExpired { tr_id: String },
    /// The stock code is unknown to KIS (KIS answers with a zeroed price).
    #[error("종목코드 {code}를 찾을 수 없습니다 / stock code {code} not found")]
    NotFound { code: String },
    /// A field did not hold what it must (a number, a date, a sign code ...).
    #[error("KIS {tr_id}: field {field} has an invalid value {raw:?}")]
    Parse {
        tr_id: &'static str,
        field: &'static str,
        raw: String,
    },
    /// The response body was not the JSON shape the TR sends.
    #[error("KIS {tr_id}: malformed response body: {detail}")]
    Decode { tr_id: String, detail: String },
    /// A non-success HTTP status without a KIS error body.
    #[error("KIS {tr_id}: HTTP {status}")]
    Http { tr_id: String, status: u16 },
    /// Connecting, sending or reading failed (refused, reset, broken body).
    #[error("KIS {tr_id}: transport error: {detail}")]
    Transport { tr_id: String, detail: String },
    /// No answer within the request timeout.
    #[error("KIS {tr_id}: no answer within {after:?}")]
    Timeout { tr_id: String, after: Duration },
    /// Issuing an access token or approval key failed.
    #[error("KIS {what} issuance failed: {code} {message} (HTTP {status})")]
    TokenIssuance {
        what: &'static str,
        code: String,
        message: String,
        status: u16,
    },
    /// The token cache on disk could not be used (not fatal for reads: a bad file is replaced).
    #[error("token cache {path}: {detail}")]
    TokenCache { path: String, detail: String },
    /// Credentials are missing or malformed.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The request parameters are invalid before anything is sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The shared slot ledger could not be set up (a bad URL; never the URL itself).
    #[error("slot ledger: {0}")]
    Ledger(#[from] crate::ledger::RedisLedgerError),
    /// The operation is not available in this environment (e.g. past minute bars on VTS).
    #[error("{what} is not supported on the {env} environment")]
    Unsupported { what: &'static str, env: String },
}

impl KisError {
    /// Whether trying again later can succeed: rate limits, 5xx, timeouts and broken connections.
    pub fn is_retryable(&self) -> bool {
        match self {
            KisError::RateLimited { .. } | KisError::Timeout { .. } | KisError::Transport { .. } => true,
            KisError::Api { msg_cd, .. } if msg_cd == MSG_NOT_ON_VTS => false,
            KisError::Http { status, .. } | KisError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether the app key itself was refused (see [`MSG_KEY_REFUSED`]): a service with several keys
    /// takes this one out and sends its work to the others.
    pub fn is_key_refused(&self) -> bool {
        match self {
            KisError::Api { msg_cd, .. } => MSG_KEY_REFUSED.contains(&msg_cd.as_str()),
            KisError::TokenIssuance { code, .. } => MSG_KEY_REFUSED.contains(&code.as_str()),
            KisError::Credentials(_) => true,
            _ => false,
        }
    }

    /// Whether the environment does not offer the TR: refused locally ([`KisError::Unsupported`])
    /// or by the server (`EGW00213` on 모의투자).
    pub fn is_not_offered(&self) -> bool {
        match self {
            KisError::Unsupported { .. } => true,
            KisError::Api { msg_cd, .. } => msg_cd == MSG_NOT_ON_VTS,
            _ => false,
        }
    }

    /// Builds the error for a KIS envelope with `rt_cd != "0"`.
    pub fn from_envelope(tr_id: &str, status: u16, msg_cd: &str, msg1: &str) -> KisError {
        match msg_cd {
            MSG_RATE_LIMITED => KisError::RateLimited {
                tr_id: tr_id.to_owned(),
                status,
            },
            MSG_TOKEN_EXPIRED => KisError::TokenExpired {
                tr_id: tr_id.to_owned(),
            },
            _ => KisError::Api {
                tr_id: tr_id.to_owned(),
                msg_cd: msg_cd.to_owned(),
                msg1: msg1.trim().to_owned(),
                status,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_key_is_told_from_other_failures() {
        let refused =
            KisError::from_envelope("FHKST01010100", 500, "EGW00103", "유효하지 않은 AppKey입니다.");
        assert!(refused.is_key_refused());
        let issuance = KisError::TokenIssuance {
            what: "access token",
            code: "EGW00105".into(),
            message: "유효하지 않은 AppSecret입니다.".into(),
            status: 403,
        };
        assert!(issuance.is_key_refused());
        assert!(!KisError::from_envelope("FHKST01010100", 500, "EGW00201", "").is_key_refused());
        assert!(!KisError::from_envelope("FHKST01010100", 500, "EGW00123", "").is_key_refused());
    }

    #[test]
    fn envelope_codes_map_to_specific_variants() {
        let e = KisError::from_envelope(
            "FHKST01010100",
            500,
            "EGW00201",
            "초당 거래건수를 초과하였습니다.",
        );
        assert!(matches!(e, KisError::RateLimited { status: 500, .. }));
        assert!(e.is_retryable());
        let e = KisError::from_envelope("FHKST01010100", 200, "EGW00201", "");
        assert!(e.is_retryable(), "EGW00201 is retryable with HTTP 200 too");
        let e = KisError::from_envelope("FHKST01010100", 500, "EGW00123", "기간이 만료된 token 입니다.");
        assert_eq!(
            e,
            KisError::TokenExpired {
                tr_id: "FHKST01010100".into()
            }
        );
        assert!(
            !e.is_retryable(),
            "token expiry is handled by re-issuing, not by backoff"
        );
        let e = KisError::from_envelope("FHKST01010100", 200, "EGW02004", "실전투자 도메인은 ... ");
        assert!(matches!(&e, KisError::Api { msg1, .. } if msg1 == "실전투자 도메인은 ..."));
        assert!(!e.is_retryable());
        let e = KisError::from_envelope("X", 503, "OPSQ0001", "busy");
        assert!(e.is_retryable(), "5xx with a KIS body is retryable");
    }

    #[test]
    fn parse_error_names_tr_field_and_value() {
        let e = KisError::Parse {
            tr_id: "FHKST01010100",
            field: "stck_prpr",
            raw: "12a".into(),
        };
        let text = e.to_string();
        assert!(text.contains("FHKST01010100") && text.contains("stck_prpr") && text.contains("12a"));
    }
}
