//! The REST side: the admission pipeline every `/uapi` request goes through, and the quotation
//! endpoints (one module each: parse and validate the query → ask the model → KIS JSON).
//!
//! Admission, in order: injected latency (the request is still "on the wire") → arrival: counted,
//! and rate-limited per app key → injected server error → app key / app secret / domain → bearer
//! token → `tr_id` for the path.

pub mod ccnl;
pub mod chart;
pub mod daily;
pub mod holiday;
pub mod minute;
pub mod oauth;
pub mod orderbook;
pub mod params;
pub mod periods;
pub mod price;
pub mod stock_info;

use std::sync::Arc;
use std::time::Instant;

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

type Endpoint = fn(&AppState, &mut Params) -> Result<Reply, KisError>;

/// path segment → (TR id, offered on 모의투자, handler)
fn endpoint(api: &str) -> Option<(&'static str, bool, Endpoint)> {
    Some(match api {
        "inquire-price" => ("FHKST01010100", true, price::handle as Endpoint),
        "inquire-asking-price-exp-ccn" => ("FHKST01010200", true, orderbook::handle),
        "inquire-ccnl" => ("FHKST01010300", true, ccnl::handle),
        "inquire-daily-price" => ("FHKST01010400", true, daily::handle),
        "inquire-daily-itemchartprice" => ("FHKST03010100", true, chart::handle),
        "inquire-time-itemchartprice" => ("FHKST03010200", true, minute::today),
        "inquire-time-dailychartprice" => ("FHKST03010230", false, minute::past_day),
        "search-stock-info" => ("CTPF1002R", false, stock_info::handle),
        "chk-holiday" => ("TCA0903R", false, holiday::handle),
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
    let tr_id = header(&headers, "tr_id");
    if let Err(err) = admit(&state, &headers, true).await {
        return err.response(Shape::Api, tr_id);
    }
    let Some((expected_tr, on_vts, handler)) = endpoint(&api) else {
        return KisError::UnknownService.response(Shape::Api, tr_id);
    };
    if tr_id != Some(expected_tr) {
        return KisError::UnknownService.response(Shape::Api, tr_id);
    }
    if state.config.profile == Profile::Vts && !on_vts {
        return KisError::NotOnVts.response(Shape::Api, tr_id);
    }
    let result = Params::parse(query.as_deref()).and_then(|mut params| {
        let reply = handler(&state, &mut params)?;
        params.finish()?;
        Ok(reply)
    });
    match result {
        Ok(reply) => kis_json_cont(StatusCode::OK, Some(expected_tr), reply.tr_cont, reply.body),
        Err(err) => err.response(Shape::Api, Some(expected_tr)),
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
    let arrival = Instant::now();
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

/// A stock code parameter: `Some` for a simulated stock, `None` for a well-formed code the market
/// does not have (KIS answers those with rt_cd 0 and a zeroed output, REFERENCE 4.1), an error for a
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
    Ok(StockCode::parse(&raw)
        .ok()
        .filter(|code| state.market.stock(code).is_some()))
}
