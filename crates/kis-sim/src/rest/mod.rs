//! The REST side: the admission pipeline every `/uapi` request goes through, and the quotation
//! endpoints (one module each: parse and validate the query → ask the model → KIS JSON).
//!
//! Admission, in order: injected latency (the request is still "on the wire") → arrival: counted,
//! and rate-limited per app key → injected server error → app key / app secret / domain → bearer
//! token → `tr_id` for the path.

pub mod ccnl;
pub mod chart;
pub mod closing;
pub mod conclusion;
pub mod daily;
pub mod holiday;
pub mod investor;
pub mod minute;
pub mod oauth;
pub mod orderbook;
pub mod overseas;
pub mod params;
pub mod periods;
pub mod price;
pub mod search_info;
pub mod stock_info;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use market::StockCode;

use crate::auth::credentials::{self, CredentialError};
use crate::config::Profile;
use crate::envelope::{KisError, Shape, kis_json_cont};
use crate::ratelimit::Verdict;
use crate::server::AppState;
use crate::stats::Counters;
use params::Params;

/// A successful endpoint answer: the body (outputs and envelope) and the `tr_cont` header.
pub struct Reply {
    pub body: String,
    pub tr_cont: &'static str,
}

impl Reply {
    pub fn last(body: String) -> Reply {
        Reply { body, tr_cont: "D" }
    }
}

/// Other spellings accepted for a TR: (canonical, alias). The OTA samples call 국내휴장일조회 `CTCA0903R`;
/// some documents write `TCA0903R`.
const TR_ALIASES: [(&str, &str); 1] = [("CTCA0903R", "TCA0903R")];

type Endpoint = fn(&AppState, &mut Params) -> Result<Reply, KisError>;

/// path segment → (TR id, offered on 모의투자, handler)
fn endpoint(api: &str) -> Option<(&'static str, bool, Endpoint)> {
    Some(match api {
        "exp-closing-price" => ("FHKST117300C0", false, closing::handle),
        "inquire-price" => ("FHKST01010100", true, price::handle as Endpoint),
        "inquire-asking-price-exp-ccn" => ("FHKST01010200", true, orderbook::handle),
        "inquire-ccnl" => ("FHKST01010300", true, ccnl::handle),
        "inquire-daily-price" => ("FHKST01010400", true, daily::handle),
        "inquire-investor" => ("FHKST01010900", true, investor::handle),
        "inquire-daily-itemchartprice" => ("FHKST03010100", true, chart::handle),
        "inquire-time-itemchartprice" => ("FHKST03010200", true, minute::today),
        "inquire-time-dailychartprice" => ("FHKST03010230", false, minute::past_day),
        "inquire-time-itemconclusion" => ("FHPST01060000", true, conclusion::handle),
        "search-stock-info" => ("CTPF1002R", false, stock_info::handle),
        "search-info" => ("CTPF1604R", false, search_info::handle),
        "chk-holiday" => ("CTCA0903R", false, holiday::handle),
        _ => return None,
    })
}

/// `GET /uapi/domestic-stock/v1/quotations/{api}`
pub(crate) async fn quotation(
    State(state): State<Arc<AppState>>,
    Path(api): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    answer(&state, endpoint(&api), query.as_deref(), &headers).await
}

/// `GET /uapi/overseas-price/v1/quotations/price` (HHDFS00000300; see [`overseas`]).
pub(crate) async fn overseas_price(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let entry = ("HHDFS00000300", true, overseas::price as Endpoint);
    answer(&state, Some(entry), query.as_deref(), &headers).await
}

/// Admission, then the endpoint (`None`: an unknown service).
async fn answer(
    state: &AppState,
    entry: Option<(&'static str, bool, Endpoint)>,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let tr_id = header(headers, "tr_id");
    if let Err(err) = admit(state, headers, true).await {
        return err.response(Shape::Api, tr_id);
    }
    let Some((expected_tr, on_vts, handler)) = entry else {
        return KisError::UnknownService.response(Shape::Api, tr_id);
    };
    let Some(tr_id) = tr_id.filter(|t| *t == expected_tr || TR_ALIASES.contains(&(expected_tr, *t))) else {
        return KisError::UnknownService.response(Shape::Api, tr_id);
    };
    if state.config.profile == Profile::Vts && !on_vts {
        return KisError::NotOnVts.response(Shape::Api, Some(tr_id));
    }
    let result = Params::parse(query).and_then(|mut params| {
        let reply = handler(state, &mut params)?;
        params.finish()?;
        Ok(reply)
    });
    match result {
        Ok(reply) => kis_json_cont(StatusCode::OK, Some(tr_id), reply.tr_cont, reply.body),
        Err(err) => err.response(Shape::Api, Some(tr_id)),
    }
}

/// Anything else: an unknown service.
pub(crate) async fn not_found(headers: HeaderMap) -> Response {
    let mut resp = KisError::UnknownService.response(Shape::Api, header(&headers, "tr_id"));
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}

/// The admission pipeline (see the module doc). `with_token`: whether a bearer token is required.
pub(crate) async fn admit(state: &AppState, headers: &HeaderMap, with_token: bool) -> Result<(), KisError> {
    on_the_wire(state).await;
    let arrival = tokio::time::Instant::now();
    Counters::inc(&state.counters.requests);
    let app_key = header(headers, "appkey");
    if let Some(key) = app_key.filter(|k| credentials::key_profile(k).is_some())
        && state.limiter.arrive(key, arrival) == Verdict::Rejected
    {
        Counters::inc(&state.counters.rate_limited);
        return Err(KisError::RateLimited);
    }
    if state.faults.roll_error() {
        Counters::inc(&state.counters.injected_errors);
        return Err(KisError::ServerError);
    }
    let app_key = check_credentials(state, app_key, header(headers, "appsecret"))?;
    if with_token {
        let token = header(headers, "authorization")
            .and_then(bearer)
            .ok_or(KisError::MissingBearer)?;
        state
            .tokens
            .validate(token, app_key, arrival)
            .map_err(|err| match err {
                crate::auth::TokenError::Expired => KisError::ExpiredToken,
                _ => KisError::InvalidToken,
            })?;
    }
    Ok(())
}

/// Sleeps the injected latency, if any (the request has been sent but has not arrived yet).
pub(crate) async fn on_the_wire(state: &AppState) {
    struct InFlight<'a>(&'a AppState);
    impl Drop for InFlight<'_> {
        fn drop(&mut self) {
            Counters::sub(&self.0.counters.in_flight, 1);
        }
    }
    if let Some(delay) = state.faults.sample_latency() {
        Counters::inc(&state.counters.in_flight);
        let _guard = InFlight(state); // also when the client gives up during the delay
        tokio::time::sleep(delay).await;
    }
}

/// Verifies a key/secret pair and that the key belongs to this domain; returns the key.
pub(crate) fn check_credentials<'a>(
    state: &AppState,
    app_key: Option<&'a str>,
    app_secret: Option<&str>,
) -> Result<&'a str, KisError> {
    let profile = credentials::verify(app_key, app_secret).map_err(|err| match err {
        CredentialError::MissingKey => KisError::MissingAppKey,
        CredentialError::InvalidKey => KisError::InvalidAppKey,
        CredentialError::MissingSecret => KisError::MissingAppSecret,
        CredentialError::InvalidSecret => KisError::InvalidAppSecret,
    })?;
    match (state.config.profile, profile) {
        (Profile::Real, Profile::Vts) => Err(KisError::VtsKeyOnReal),
        (Profile::Vts, Profile::Real) => Err(KisError::RealKeyOnVts),
        _ => app_key.ok_or(KisError::MissingAppKey),
    }
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `FID_COND_MRKT_DIV_CODE`: `J` (KRX), `NX` (NXT), `UN` (통합) all answer from the one simulated market.
pub(crate) fn market_division(p: &mut Params) -> Result<(), KisError> {
    match p.required("FID_COND_MRKT_DIV_CODE")?.as_str() {
        "J" | "NX" | "UN" => Ok(()),
        _ => Err(KisError::InvalidMarketCode),
    }
}

/// A stock code parameter: `Some` for a simulated stock (an ETN's code with or without KIS's `Q`
/// prefix), `None` for a well-formed code the market does not have (KIS answers those with rt_cd 0 and a zeroed output, `docs/kis-wire.md` §4.1), an error for a
/// malformed one.
pub(crate) fn stock(
    state: &AppState,
    p: &mut Params,
    name: &'static str,
) -> Result<Option<StockCode>, KisError> {
    let raw = p.required(name)?;
    if raw.is_empty() {
        return Err(params::invalid(name, "empty"));
    }
    if raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(KisError::InvalidInput(
            format!("ERROR : INPUT INVALID_CHECK_FIELD_LENGTH {name}").into(),
        ));
    }
    // An ETN's code may come with KIS's `Q` prefix.
    Ok(state.market.lookup(&raw).map(|info| info.code))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::SimConfig;

    const APIS: [&str; 13] = [
        "exp-closing-price",
        "inquire-investor",
        "inquire-time-itemconclusion",
        "inquire-price",
        "inquire-asking-price-exp-ccn",
        "inquire-ccnl",
        "inquire-daily-price",
        "inquire-daily-itemchartprice",
        "inquire-time-itemchartprice",
        "inquire-time-dailychartprice",
        "search-stock-info",
        "search-info",
        "chk-holiday",
    ];
    const NAMES: [&str; 14] = [
        "FID_COND_MRKT_DIV_CODE",
        "FID_INPUT_ISCD",
        "FID_PERIOD_DIV_CODE",
        "FID_ORG_ADJ_PRC",
        "FID_INPUT_DATE_1",
        "FID_INPUT_DATE_2",
        "FID_INPUT_HOUR_1",
        "FID_ETC_CLS_CODE",
        "FID_PW_DATA_INCU_YN",
        "FID_FAKE_TICK_INCU_YN",
        "PRDT_TYPE_CD",
        "PDNO",
        "BASS_DT",
        "fid_input_iscd",
    ];

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("J".to_string()),
            Just("005930".to_string()),
            Just("D".to_string()),
            Just("Y".to_string()),
            Just("300".to_string()),
            Just("00000101".to_string()),
            Just("99991231".to_string()),
            Just("20260105".to_string()),
            Just("000000".to_string()),
            Just("235959".to_string()),
            "[0-9]{0,9}",
            "[ -~]{0,12}",
            "\\PC{0,6}",
        ]
    }

    fn query() -> impl Strategy<Value = String> {
        prop::collection::vec((prop::sample::select(NAMES.to_vec()), value()), 0..8).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let v: String = v
                        .bytes()
                        .map(|b| {
                            if b.is_ascii_alphanumeric() {
                                (b as char).to_string()
                            } else {
                                format!("%{b:02X}")
                            }
                        })
                        .collect();
                    format!("{k}={v}")
                })
                .collect::<Vec<_>>()
                .join("&")
        })
    }

    /// Each endpoint's parameters, so that generated queries get past the "field missing" checks.
    fn full_query(api: &str) -> &'static [&'static str] {
        match api {
            "inquire-daily-price" => &[
                "FID_COND_MRKT_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_PERIOD_DIV_CODE",
                "FID_ORG_ADJ_PRC",
            ],
            "inquire-daily-itemchartprice" => &[
                "FID_COND_MRKT_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_INPUT_DATE_1",
                "FID_INPUT_DATE_2",
                "FID_PERIOD_DIV_CODE",
                "FID_ORG_ADJ_PRC",
            ],
            "inquire-time-itemchartprice" => &[
                "FID_ETC_CLS_CODE",
                "FID_COND_MRKT_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_INPUT_HOUR_1",
                "FID_PW_DATA_INCU_YN",
            ],
            "inquire-time-dailychartprice" => &[
                "FID_COND_MRKT_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_INPUT_HOUR_1",
                "FID_INPUT_DATE_1",
                "FID_PW_DATA_INCU_YN",
                "FID_FAKE_TICK_INCU_YN",
            ],
            "search-stock-info" | "search-info" => &["PRDT_TYPE_CD", "PDNO"],
            "chk-holiday" => &["BASS_DT"],
            "exp-closing-price" => &[
                "FID_RANK_SORT_CLS_CODE",
                "FID_COND_MRKT_DIV_CODE",
                "FID_COND_SCR_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_BLNG_CLS_CODE",
            ],
            "inquire-time-itemconclusion" => {
                &["FID_COND_MRKT_DIV_CODE", "FID_INPUT_ISCD", "FID_INPUT_HOUR_1"]
            }
            _ => &["FID_COND_MRKT_DIV_CODE", "FID_INPUT_ISCD"],
        }
    }

    fn valid_values(name: &str) -> &'static [&'static str] {
        match name {
            "FID_COND_MRKT_DIV_CODE" => &["J", "NX", "UN"],
            "FID_INPUT_ISCD" | "PDNO" => &["005930", "000660", "999999", "0000"],
            "FID_PERIOD_DIV_CODE" => &["D", "W", "M", "Y"],
            "FID_ORG_ADJ_PRC" => &["0", "1", "0000000001"],
            "FID_INPUT_DATE_1" | "FID_INPUT_DATE_2" | "BASS_DT" => &[
                "00000101", "19900101", "20251231", "20260105", "20261120", "99991231", "20270101",
            ],
            "FID_INPUT_HOUR_1" => &["000000", "090000", "093000", "153000", "235959"],
            "FID_ETC_CLS_CODE" | "FID_FAKE_TICK_INCU_YN" => &[""],
            "FID_PW_DATA_INCU_YN" => &["Y", "N"],
            "PRDT_TYPE_CD" => &["300", "301"],
            "FID_RANK_SORT_CLS_CODE" => &["0", "1", "3"],
            "FID_COND_SCR_DIV_CODE" => &["11173"],
            "FID_BLNG_CLS_CODE" => &["0"],
            _ => &[""],
        }
    }

    fn encode(v: &str) -> String {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    fn state() -> &'static AppState {
        static STATE: std::sync::OnceLock<AppState> = std::sync::OnceLock::new();
        STATE.get_or_init(|| AppState::new(SimConfig::default(), tokio::sync::watch::channel(false).1))
    }

    fn call(api: &str, q: &str) -> Result<Reply, KisError> {
        let (_, _, handler) = endpoint(api).ok_or(KisError::UnknownService)?;
        Params::parse(Some(q)).and_then(|mut p| {
            let reply = handler(state(), &mut p)?;
            p.finish()?;
            Ok(reply)
        })
    }

    /// The generators above reach the model: the first valid value of every parameter is accepted.
    #[test]
    fn valid_queries_are_answered() {
        for api in APIS {
            let q = full_query(api)
                .iter()
                .map(|k| {
                    let v = match (api, *k) {
                        (_, "FID_INPUT_DATE_2") => "20261120",
                        ("exp-closing-price", "FID_INPUT_ISCD") => "0000",
                        _ => valid_values(k)[0],
                    };
                    format!("{k}={}", encode(v))
                })
                .collect::<Vec<_>>()
                .join("&");
            let reply = call(api, &q).unwrap_or_else(|e| panic!("{api}?{q}: {e}"));
            assert!(reply.body.contains("\"rt_cd\":\"0\""), "{api}: {}", reply.body);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every parameter present with arbitrary values: a body or a KIS error, never a panic.
        #[test]
        fn complete_queries_never_panic(
            api in prop::sample::select(APIS.to_vec()),
            values in prop::collection::vec((0usize..8, value()), 6),
        ) {
            let q = full_query(api)
                .iter()
                .zip(&values)
                .map(|(k, (pick, random))| {
                    // mostly a valid value, so the handler gets past validation into the model
                    let valid = valid_values(k);
                    let v = if *pick < 6 { valid[*pick % valid.len()].to_string() } else { random.clone() };
                    format!("{k}={}", encode(&v))
                })
                .collect::<Vec<_>>()
                .join("&");
            if let Ok(reply) = call(api, &q) {
                prop_assert!(serde_json::from_str::<serde_json::Value>(&reply.body).is_ok());
            }
        }

        /// Whatever the query, an endpoint answers a body or a KIS error: it never panics.
        #[test]
        fn endpoints_never_panic(api in prop::sample::select(APIS.to_vec()), q in query()) {
            if let Ok(reply) = call(api, &q) {
                prop_assert!(serde_json::from_str::<serde_json::Value>(&reply.body).is_ok());
            }
        }
    }
}
