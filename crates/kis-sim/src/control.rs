//! The control API under `/sim` (only with `--control`): stats, the stock list, faults, scenarios and
//! the clock. Errors are `{"error":"<message>"}` with HTTP 400 (bad body) or 404 (unknown stock).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use market::StockCode;
use serde::Deserialize;
use serde_json::json;

use crate::model::Scenario;
use crate::server::AppState;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/stats", get(stats))
        .route("/stocks", get(stocks))
        .route("/faults", post(faults).get(get_faults))
        .route("/scenario", post(scenario))
        .route("/clock", post(clock).get(get_clock))
        .route("/minutes/{code}", get(minutes))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A JSON body; on failure, the 400 answer to send.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body)
        .map_err(|err| Box::new(error(StatusCode::BAD_REQUEST, format!("invalid body: {err}"))))
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    Json(state.stats()).into_response()
}

async fn stocks(State(state): State<Arc<AppState>>) -> Response {
    let list: Vec<_> = state
        .market
        .stocks()
        .iter()
        .map(|s| {
            let f = s.flags;
            json!({
                "code": s.code.as_str(),
                "name": s.name,
                "market": s.market.as_str(),
                "kind": s.kind.as_str(),
                "sector": s.sector,
                "preferred": f.preferred != crate::model::Preferred::No,
                "spac": f.spac,
                "halted": f.halted,
                "administrative": f.administrative,
                "warning": match f.warning {
                    crate::model::Warning::None => None,
                    crate::model::Warning::Caution => Some("caution"),
                    crate::model::Warning::Warning => Some("warning"),
                    crate::model::Warning::Risk => Some("risk"),
                },
            })
        })
        .collect();
    Json(list).into_response()
}

/// The simulator's own 1-minute bars of a stock's trading day up to now (the truth a chart built
/// from its feed is checked against): `[{"time","open","high","low","close","volume"}]`, oldest first.
async fn minutes(State(state): State<Arc<AppState>>, Path(code): Path<String>) -> Response {
    let Ok(code) = StockCode::parse(&code) else {
        return error(StatusCode::BAD_REQUEST, format!("not a stock code: {code:?}"));
    };
    if state.market.stock(&code).is_none() {
        return error(StatusCode::NOT_FOUND, format!("unknown stock {code}"));
    }
    let now = state.market.now();
    let date = state.market.trading_date();
    let until = if now.date() == date {
        now.time()
    } else {
        jiff::civil::Time::MAX
    };
    let bars: Vec<_> = state
        .market
        .minute_bars(&code, date, until)
        .into_iter()
        .map(|b| {
            json!({
                "time": format!("{}T{}+09:00", b.date, b.time.strftime("%H:%M:%S")),
                "open": b.open, "high": b.high, "low": b.low, "close": b.close, "volume": b.volume,
            })
        })
        .collect();
    Json(bars).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsRequest {
    /// Absent: unchanged; `null` or `[0,0]`: no latency.
    #[serde(default, deserialize_with = "present")]
    latency_ms: Option<Option<[u64; 2]>>,
    error_rate: Option<f64>,
    #[serde(default)]
    drop_ws: bool,
    #[serde(default)]
    revoke_tokens: bool,
    /// The stock master download answers 500 while true.
    master_error: Option<bool>,
    /// Refuse this app key from now on (`EGW00103`; its WebSocket session closes).
    disable_key: Option<String>,
    /// Accept a disabled app key again.
    enable_key: Option<String>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<[u64; 2]>>, D::Error> {
    Option::<[u64; 2]>::deserialize(d).map(Some)
}

fn faults_json(state: &AppState) -> serde_json::Value {
    json!({
        "latency_ms": state.faults.latency().map(|(a, b)| [a, b]),
        "error_rate": state.faults.error_rate(),
        "master_error": state.faults.master_error(),
        "disabled_keys": state.faults.disabled_keys(),
    })
}

async fn get_faults(State(state): State<Arc<AppState>>) -> Response {
    Json(faults_json(&state)).into_response()
}

/// `{"latency_ms":[min,max]|null,"error_rate":p,"drop_ws":true,"revoke_tokens":true,"master_error":bool,
/// "disable_key":"<app key>","enable_key":"<app key>"}`, each optional.
async fn faults(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: FaultsRequest = match parse(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    if let Some(p) = req.error_rate
        && !(0.0..=1.0).contains(&p)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("error_rate must be within 0..1, got {p}"),
        );
    }
    if let Some(latency) = req.latency_ms {
        state.faults.set_latency(latency.map(|[a, b]| (a, b)));
    }
    if let Some(p) = req.error_rate {
        state.faults.set_error_rate(p);
    }
    if let Some(on) = req.master_error {
        state.faults.set_master_error(on);
    }
    if req.revoke_tokens {
        state.tokens.revoke_all();
    }
    if let Some(key) = &req.disable_key {
        state.faults.set_key_disabled(key, true);
    }
    if let Some(key) = &req.enable_key {
        state.faults.set_key_disabled(key, false);
    }
    if req.drop_ws {
        state.faults.drop_ws();
    }
    Json(faults_json(&state)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioRequest {
    code: String,
    pattern: String,
    period: Option<String>,
    prices: Option<Vec<i64>>,
}

/// `{"code":"005930","pattern":"bullish_alignment","period":"30m"}` or `{"code":..,"pattern":"path","prices":[..]}`
async fn scenario(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: ScenarioRequest = match parse(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let code = match StockCode::parse(&req.code) {
        Ok(c) if state.market.stock(&c).is_some() => c,
        Ok(_) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("stock {} is not simulated", req.code),
            );
        }
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("invalid code {:?}: {err}", req.code),
            );
        }
    };
    let scenario = match Scenario::from_request(&req.pattern, req.period.as_deref(), req.prices) {
        Ok(s) => s,
        Err(err) => return error(StatusCode::BAD_REQUEST, err.to_string()),
    };
    match state.market.set_scenario(&code, scenario) {
        Ok(()) => Json(json!({ "code": code.as_str(), "pattern": req.pattern })).into_response(),
        Err(err) => error(StatusCode::BAD_REQUEST, err.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    speed: Option<f64>,
    advance_secs: Option<u64>,
}

fn clock_json(state: &AppState) -> serde_json::Value {
    json!({
        "now": state.market.now().to_string(),
        "trading_date": state.market.trading_date().to_string(),
        "phase": format!("{:?}", state.market.phase()),
        "speed": state.market.speed(),
    })
}

async fn get_clock(State(state): State<Arc<AppState>>) -> Response {
    Json(clock_json(&state)).into_response()
}

/// `{"speed":X}` and/or `{"advance_secs":N}`.
async fn clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: ClockRequest = match parse(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    if req.speed.is_none() && req.advance_secs.is_none() {
        return error(StatusCode::BAD_REQUEST, "expected \"speed\" or \"advance_secs\"");
    }
    if let Some(speed) = req.speed {
        if !(speed.is_finite() && speed > 0.0) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("speed must be a positive number, got {speed}"),
            );
        }
        state.market.set_speed(speed);
    }
    if let Some(secs) = req.advance_secs {
        state.market.advance(secs);
    }
    Json(clock_json(&state)).into_response()
}
