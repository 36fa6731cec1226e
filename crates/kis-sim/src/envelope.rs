//! The KIS response envelope (`rt_cd` / `msg_cd` / `msg1`), response headers, and the one table of
//! every error the simulator answers with.
//!
//! HTTP statuses: gateway errors (`EGW*`, and `OPSQ0002` for an unknown service) → 500, as KIS does
//! for `EGW00201` and `EGW00123` (`docs/kis-wire.md` §6.2, §6.4). `/oauth2/*` errors → 403 with the other body
//! shape `{"error_code","error_description"}` (`docs/kis-wire.md` §2.1). Input validation errors (`OPSQ2001`,
//! `OPSQ2002`) → HTTP 200 with `rt_cd "2"`, as KIS answers bad query fields (e.g. PYKIS issue #81:
//! `RT_CD: 2, MSG_CD: OPSQ2001, "ERROR : INPUT INVALID_CHECK_INQR_DVSN"`); their `msg1` names the field.

use std::borrow::Cow;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::format::{Obj, write_json_str};

pub const OK_MSG_CD: &str = "MCA00000";
pub const OK_MSG1: &str = "정상처리 되었습니다.";

/// Every error the simulator's REST side produces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KisError {
    #[error("EGW00102 app key missing")]
    MissingAppKey,
    #[error("EGW00103 invalid app key")]
    InvalidAppKey,
    #[error("EGW00104 app secret missing")]
    MissingAppSecret,
    #[error("EGW00105 invalid app secret")]
    InvalidAppSecret,
    /// A 모의투자 key on the real domain.
    #[error("EGW02004 VTS app key on the real domain")]
    VtsKeyOnReal,
    /// A real key on the 모의투자 domain (same code, mirrored message; KIS's exact text is unknown).
    #[error("EGW02004 real app key on the VTS domain")]
    RealKeyOnVts,
    /// `authorization` missing or not `Bearer <token>`.
    #[error("EGW00205 bearer credentials missing")]
    MissingBearer,
    #[error("EGW00121 invalid token")]
    InvalidToken,
    #[error("EGW00123 expired token")]
    ExpiredToken,
    #[error("EGW00133 token issued less than a minute ago")]
    TokenTooSoon,
    #[error("EGW00115 grant_type missing")]
    MissingGrantType,
    #[error("EGW00116 unsupported grant_type")]
    UnsupportedGrantType,
    #[error("EGW00101 invalid request")]
    InvalidRequest,
    #[error("EGW00201 rate limit")]
    RateLimited,
    /// Injected by the fault settings.
    #[error("EGW00002 server error")]
    ServerError,
    /// Missing or unknown `tr_id`, or a `tr_id` that does not belong to the path.
    #[error("OPSQ0002 unknown service")]
    UnknownService,
    /// A TR that 모의투자 does not offer.
    #[error("EGW00213 not a VTS TR")]
    NotOnVts,
    #[error("OPSQ2001 invalid market division code")]
    InvalidMarketCode,
    /// Any other bad query field: the message names it.
    #[error("OPSQ2002 {0}")]
    InvalidInput(Cow<'static, str>),
    #[error("OPSQ9997 invalid json")]
    InvalidJson,
    /// 종목조건검색: the condition matched no stock (KIS answers this as an error, HTTP 200).
    #[error("MCA05918 no stock matched")]
    NoMatches,
    /// 종목조건검색: the user has no conditions saved on the server (KIS's "조회가 계속 됩니다" notice).
    #[error("MCA05762 no saved condition")]
    NoSavedCondition,
}

/// Which body shape an error uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"rt_cd","msg_cd","msg1"}` (every `/uapi` endpoint).
    Api,
    /// `{"error_code","error_description"}` (`/oauth2/*`).
    OAuth,
}

impl KisError {
    /// (msg_cd, msg1, rt_cd, HTTP status in the API shape)
    pub fn spec(&self) -> (&'static str, Cow<'static, str>, &'static str, StatusCode) {
        use KisError::*;
        let e500 = StatusCode::INTERNAL_SERVER_ERROR;
        let (code, msg, rt, status): (&str, Cow<str>, &str, StatusCode) = match self {
            MissingAppKey => ("EGW00102", "AppKey는 필수입니다.".into(), "1", e500),
            InvalidAppKey => ("EGW00103", "유효하지 않은 AppKey입니다.".into(), "1", e500),
            MissingAppSecret => ("EGW00104", "AppSecret은 필수입니다.".into(), "1", e500),
            InvalidAppSecret => ("EGW00105", "유효하지 않은 AppSecret입니다.".into(), "1", e500),
            VtsKeyOnReal => (
                "EGW02004",
                "실전투자 도메인은 모의투자 앱키로 호출하실 수 없습니다.".into(),
                "1",
                e500,
            ),
            RealKeyOnVts => (
                "EGW02004",
                "모의투자 도메인은 실전투자 앱키로 호출하실 수 없습니다.".into(),
                "1",
                e500,
            ),
            MissingBearer => (
                "EGW00205",
                "credentials_type이 유효하지 않습니다.(Bearer)".into(),
                "1",
                e500,
            ),
            InvalidToken => ("EGW00121", "유효하지 않은 token 입니다.".into(), "1", e500),
            ExpiredToken => ("EGW00123", "기간이 만료된 token 입니다.".into(), "1", e500),
            TokenTooSoon => (
                "EGW00133",
                "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)".into(),
                "1",
                StatusCode::FORBIDDEN,
            ),
            MissingGrantType => (
                "EGW00115",
                "권한부여 타입(grant_type)은 필수입니다.".into(),
                "1",
                e500,
            ),
            UnsupportedGrantType => (
                "EGW00116",
                "지원하지 않는 권한부여 타입(grant_type)입니다.".into(),
                "1",
                e500,
            ),
            InvalidRequest => ("EGW00101", "유효하지 않은 요청입니다.".into(), "1", e500),
            RateLimited => ("EGW00201", "초당 거래건수를 초과하였습니다.".into(), "1", e500),
            ServerError => ("EGW00002", "서버 에러가 발생했습니다.".into(), "1", e500),
            UnknownService => ("OPSQ0002", "없는 서비스 코드 입니다".into(), "1", e500),
            NotOnVts => ("EGW00213", "모의투자 tr이 아닙니다.".into(), "1", e500),
            InvalidMarketCode => (
                "OPSQ2001",
                "ERROR : INPUT INVALID_CHECK_MRKT_DIV_CODE".into(),
                "2",
                StatusCode::OK,
            ),
            InvalidInput(msg) => ("OPSQ2002", msg.clone(), "2", StatusCode::OK),
            InvalidJson => (
                "OPSQ9997",
                "JSON PARSING ERROR : invalid json format".into(),
                "1",
                e500,
            ),
            NoMatches => ("MCA05918", "종목코드 오류입니다.".into(), "1", StatusCode::OK),
            NoSavedCondition => (
                "MCA05762",
                "조회가 계속 됩니다. (다음을 누르십시오.)".into(),
                "1",
                StatusCode::OK,
            ),
        };
        (code, msg, rt, status)
    }

    pub fn msg_cd(&self) -> &'static str {
        self.spec().0
    }

    /// The error as an HTTP response in `shape`, with `tr_id` echoed when known.
    pub fn response(&self, shape: Shape, tr_id: Option<&str>) -> Response {
        let (code, msg, rt_cd, status) = self.spec();
        match shape {
            Shape::Api => {
                let mut o = Obj::with_capacity(128);
                o.text("rt_cd", rt_cd).text("msg_cd", code).text("msg1", &msg);
                kis_json(status, tr_id, o.finish())
            }
            Shape::OAuth => {
                let mut body = String::from("{\"error_code\":");
                write_json_str(&mut body, code);
                body.push_str(",\"error_description\":");
                write_json_str(&mut body, &msg);
                body.push('}');
                kis_json(StatusCode::FORBIDDEN, None, body)
            }
        }
    }
}

/// A `gt_uid` (KIS's "Global UID", a transaction number unique per response): 32 digits, the
/// server's start time in milliseconds followed by a per-process sequence number.
fn next_gt_uid() -> HeaderValue {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static START_MS: OnceLock<u128> = OnceLock::new();
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let start = START_MS.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    });
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let value = format!("{:016}{:016}", start % 10u128.pow(16), seq % 10u64.pow(16));
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("0"))
}

/// A KIS JSON response: `content-type`, and the `tr_id` / `tr_cont` / `gt_uid` headers KIS sends
/// (written on the wire in KIS's case by [`crate::http1`]).
pub fn kis_json(status: StatusCode, tr_id: Option<&str>, body: String) -> Response {
    kis_json_cont(status, tr_id, "", body)
}

pub fn kis_json_cont(
    status: StatusCode,
    tr_id: Option<&str>,
    tr_cont: &'static str,
    body: String,
) -> Response {
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    if let Some(tr_id) = tr_id.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert(HeaderName::from_static("tr_id"), tr_id);
    }
    headers.insert(
        HeaderName::from_static("tr_cont"),
        HeaderValue::from_static(tr_cont),
    );
    headers.insert(HeaderName::from_static("gt_uid"), next_gt_uid());
    resp
}

/// A success body: the outputs (already-encoded JSON, in order) followed by the envelope.
pub fn ok_body(outputs: &[(&str, &str)]) -> String {
    let mut o = Obj::with_capacity(outputs.iter().map(|(_, v)| v.len() + 16).sum::<usize>() + 96);
    for (name, json) in outputs {
        o.raw(name, json);
    }
    o.text("rt_cd", "0")
        .text("msg_cd", OK_MSG_CD)
        .text("msg1", OK_MSG1);
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_body_matches_the_sample() {
        let (code, msg, rt, status) = KisError::RateLimited.spec();
        assert_eq!(
            (code, &*msg, rt),
            ("EGW00201", "초당 거래건수를 초과하였습니다.", "1")
        );
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(KisError::TokenTooSoon.spec().3, StatusCode::FORBIDDEN);
    }

    #[test]
    fn ok_body_puts_outputs_before_the_envelope() {
        let body = ok_body(&[("output", "[]")]);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["output"], serde_json::json!([]));
        assert_eq!(v["rt_cd"], "0");
        assert_eq!(v["msg_cd"], "MCA00000");
    }
}
