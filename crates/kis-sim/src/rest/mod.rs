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
pub mod multprice;
pub mod oauth;
pub mod orderbook;
pub mod overseas;
pub mod params;
pub mod periods;
pub mod price;
pub mod psearch;
pub mod ranking;
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

/// Whether a TR is offered on the 모의투자 profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnVts {
    Yes,
    No,
    /// As `SimConfig::multprice_on_vts` says.
    Configured,
}

/// One quotation endpoint: its TR id, whether 모의투자 offers it, whether it reads the whole market
/// (run on the blocking pool: its first call generates every listing), the handler.
#[derive(Clone, Copy)]
struct Entry {
    tr: &'static str,
    vts: OnVts,
    whole_market: bool,
    handler: Endpoint,
}

const fn e(tr: &'static str, vts: OnVts, whole_market: bool, handler: Endpoint) -> Entry {
    Entry {
        tr,
        vts,
        whole_market,
        handler,
    }
}

/// path segment under `quotations/` → its endpoint
fn endpoint(api: &str) -> Option<Entry> {
    use OnVts::{Configured, No, Yes};
    Some(match api {
        "exp-closing-price" => e("FHKST117300C0", No, true, closing::handle),
        "inquire-price" => e("FHKST01010100", Yes, false, price::handle),
        "inquire-asking-price-exp-ccn" => e("FHKST01010200", Yes, false, orderbook::handle),
        "inquire-ccnl" => e("FHKST01010300", Yes, false, ccnl::handle),
        "inquire-daily-price" => e("FHKST01010400", Yes, false, daily::handle),
        "inquire-investor" => e("FHKST01010900", Yes, false, investor::handle),
        "inquire-daily-itemchartprice" => e("FHKST03010100", Yes, false, chart::handle),
        "inquire-time-itemchartprice" => e("FHKST03010200", Yes, false, minute::today),
        "inquire-time-dailychartprice" => e("FHKST03010230", No, false, minute::past_day),
        "inquire-time-itemconclusion" => e("FHPST01060000", Yes, false, conclusion::handle),
        "search-stock-info" => e("CTPF1002R", No, false, stock_info::handle),
        "search-info" => e("CTPF1604R", No, false, search_info::handle),
        "chk-holiday" => e("CTCA0903R", No, false, holiday::handle),
        "intstock-multprice" => e("FHKST11300006", Configured, false, multprice::handle),
        "volume-rank" => e("FHPST01710000", No, true, ranking::volume),
        "psearch-title" => e("HHKST03900300", No, false, psearch::title),
        "psearch-result" => e("HHKST03900400", No, true, psearch::result),
        _ => return None,
    })
}

/// path segment under `ranking/` → its endpoint
fn ranking_endpoint(api: &str) -> Option<Entry> {
    match api {
        "fluctuation" => Some(e("FHPST01700000", OnVts::No, true, ranking::fluctuation)),
        _ => None,
    }
}

/// `GET /uapi/domestic-stock/v1/quotations/{api}`
pub(crate) async fn quotation(
    State(state): State<Arc<AppState>>,
    Path(api): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    answer(&state, endpoint(&api), query, &headers).await
}

/// `GET /uapi/domestic-stock/v1/ranking/{api}`
pub(crate) async fn ranking(
    State(state): State<Arc<AppState>>,
    Path(api): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    answer(&state, ranking_endpoint(&api), query, &headers).await
}

/// `GET /uapi/overseas-price/v1/quotations/price` (HHDFS00000300; see [`overseas`]).
pub(crate) async fn overseas_price(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let entry = e("HHDFS00000300", OnVts::Yes, false, overseas::price);
    answer(&state, Some(entry), query, &headers).await
}

/// Admission, then the endpoint (`None`: an unknown service).
async fn answer(
    state: &Arc<AppState>,
    entry: Option<Entry>,
    query: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let tr_id = header(headers, "tr_id");
    if let Err(err) = admit(state, headers, true).await {
        return err.response(Shape::Api, tr_id);
    }
    let Some(entry) = entry else {
        return KisError::UnknownService.response(Shape::Api, tr_id);
    };
    let expected_tr = entry.tr;
    let Some(tr_id) = tr_id.filter(|t| *t == expected_tr || TR_ALIASES.contains(&(expected_tr, *t))) else {
        return KisError::UnknownService.response(Shape::Api, tr_id);
    };
    let offered = match entry.vts {
        OnVts::Yes => true,
        OnVts::No => false,
        OnVts::Configured => state.config.multprice_on_vts,
    };
    if state.config.profile == Profile::Vts && !offered {
        return KisError::NotOnVts.response(Shape::Api, Some(tr_id));
    }
    let run = move |state: &AppState, query: Option<String>| {
        Params::parse(query.as_deref()).and_then(|mut params| {
            let reply = (entry.handler)(state, &mut params)?;
            params.finish()?;
            Ok(reply)
        })
    };
    let result = if entry.whole_market {
        // Reading every listing may generate hundreds of stocks the first time: off the async workers.
        let shared = state.clone();
        match tokio::task::spawn_blocking(move || run(&shared, query)).await {
            Ok(result) => result,
            Err(_) => Err(KisError::ServerError),
        }
    } else {
        run(state, query)
    };
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
    if app_key.is_some_and(|k| state.faults.is_key_disabled(k)) {
        return Err(KisError::InvalidAppKey);
    }
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
    stock_code(state, &raw, name)
}

/// A stock code value of the parameter `name` (see [`stock`]).
pub(crate) fn stock_code(
    state: &AppState,
    raw: &str,
    name: &'static str,
) -> Result<Option<StockCode>, KisError> {
    if raw.is_empty() {
        return Err(params::invalid(name, "empty"));
    }
    if raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(KisError::InvalidInput(
            format!("ERROR : INPUT INVALID_CHECK_FIELD_LENGTH {name}").into(),
        ));
    }
    // An ETN's code may come with KIS's `Q` prefix.
    Ok(state.market.lookup(raw).map(|info| info.code))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::SimConfig;

    const APIS: [&str; 18] = [
        "intstock-multprice",
        "volume-rank",
        "fluctuation",
        "psearch-title",
        "psearch-result",
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
    const NAMES: [&str; 20] = [
        "FID_COND_MRKT_DIV_CODE_1",
        "FID_INPUT_ISCD_2",
        "FID_TRGT_EXLS_CLS_CODE",
        "FID_RANK_SORT_CLS_CODE",
        "USER_ID",
        "SEQ",
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
            "intstock-multprice" => &[
                "FID_COND_MRKT_DIV_CODE_1",
                "FID_INPUT_ISCD_1",
                "FID_COND_MRKT_DIV_CODE_2",
                "FID_INPUT_ISCD_2",
            ],
            "volume-rank" => &[
                "FID_COND_MRKT_DIV_CODE",
                "FID_COND_SCR_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_DIV_CLS_CODE",
                "FID_BLNG_CLS_CODE",
                "FID_TRGT_CLS_CODE",
                "FID_TRGT_EXLS_CLS_CODE",
                "FID_INPUT_PRICE_1",
                "FID_INPUT_PRICE_2",
                "FID_VOL_CNT",
                "FID_INPUT_DATE_1",
            ],
            "fluctuation" => &[
                "FID_RSFL_RATE2",
                "FID_COND_MRKT_DIV_CODE",
                "FID_COND_SCR_DIV_CODE",
                "FID_INPUT_ISCD",
                "FID_RANK_SORT_CLS_CODE",
                "FID_INPUT_CNT_1",
                "FID_PRC_CLS_CODE",
                "FID_INPUT_PRICE_1",
                "FID_INPUT_PRICE_2",
                "FID_VOL_CNT",
                "FID_TRGT_CLS_CODE",
                "FID_TRGT_EXLS_CLS_CODE",
                "FID_DIV_CLS_CODE",
                "FID_RSFL_RATE1",
            ],
            "psearch-title" => &["USER_ID"],
            "psearch-result" => &["USER_ID", "SEQ"],
            _ => &["FID_COND_MRKT_DIV_CODE", "FID_INPUT_ISCD"],
        }
    }

    fn valid_values(name: &str) -> &'static [&'static str] {
        match name {
            "FID_COND_MRKT_DIV_CODE" | "FID_COND_MRKT_DIV_CODE_1" | "FID_COND_MRKT_DIV_CODE_2" => {
                &["J", "NX", "UN"]
            }
            "FID_INPUT_ISCD" | "PDNO" | "FID_INPUT_ISCD_1" | "FID_INPUT_ISCD_2" => {
                &["005930", "000660", "999999", "0000"]
            }
            "FID_DIV_CLS_CODE" => &["0", "1", "2"],
            "FID_BLNG_CLS_CODE" | "FID_INPUT_CNT_1" => &["0", "3", "1"],
            "FID_TRGT_CLS_CODE" => &["111111111", "0", ""],
            "FID_TRGT_EXLS_CLS_CODE" => &["0000000000", "1111111111", "0"],
            "FID_INPUT_PRICE_1" | "FID_INPUT_PRICE_2" | "FID_VOL_CNT" => &["", "0", "100000"],
            "FID_PRC_CLS_CODE" => &["0", "1"],
            "FID_RSFL_RATE1" | "FID_RSFL_RATE2" => &["", "-5", "10"],
            "USER_ID" => &["kiswatch", "demo", "someone"],
            "SEQ" => &["0", "3", "9"],
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
            "FID_COND_SCR_DIV_CODE" => &["11173", "20171", "20170"],
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
        let entry = endpoint(api)
            .or_else(|| ranking_endpoint(api))
            .ok_or(KisError::UnknownService)?;
        Params::parse(Some(q)).and_then(|mut p| {
            let reply = (entry.handler)(state(), &mut p)?;
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
                        ("exp-closing-price" | "volume-rank" | "fluctuation", "FID_INPUT_ISCD") => "0000",
                        ("volume-rank", "FID_COND_SCR_DIV_CODE") => "20171",
                        ("fluctuation", "FID_COND_SCR_DIV_CODE") => "20170",
                        ("psearch-result", "SEQ") => "0",
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
