//! `POST /api/v1/backtest {"code","condition","from"}`: a condition run over the stored history of a
//! stock (daily bars are fetched once if missing; intraday history comes from the backfill, which this
//! request puts first).

use axum::Json;
use axum::extract::State;
use kis::Priority;
use market::Condition;
use serde::Deserialize;

use super::json::Body;
use super::{ApiError, ApiResult, AppState, parse_code};
use crate::contract::{BacktestReport, ErrorBody};
use crate::history::backtest::{closed_bars, report};
use crate::history::{Need, Urgency, ensure_daily};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    code: String,
    condition: String,
    from: Option<String>,
}

#[utoipa::path(post, operation_id = "backtest_run", path = "/api/v1/backtest", tag = "backtest", request_body = BacktestRequest, responses((status = 200, description = "signals with returns after 1/5/20 bars, and a summary", body = BacktestReport), (status = 422, description = "the condition does not parse (with position)", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 503, description = "KIS not answering; Retry-After", body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Body(req): Body<BacktestRequest>,
) -> ApiResult<Json<BacktestReport>> {
    let code = parse_code(&req.code)?;
    let condition = Condition::parse(&req.condition)?;
    let from = req
        .from
        .as_deref()
        .map(|f| {
            f.parse::<jiff::civil::Date>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_date",
                    format!("from must be a date like 2025-01-31, got {f:?}"),
                    format!("from은 2025-01-31 같은 날짜여야 합니다 (입력: {f:?})"),
                )
            })
        })
        .transpose()?;
    let meta = state.gateway.stock(code).await?;
    let g = &state.gateway;
    let today = match g.clock.today() {
        Some(d) => d,
        None => g.today_minutes(code, Priority::Interactive).await?.date,
    };
    let period = condition.period;
    let source = if period.is_intraday() {
        if let Some(b) = &state.backfill {
            b.request(code, Urgency::OpenPage, Need::for_periods([period], 0));
        }
        state.store.minutes(code, None, usize::MAX / 4).await?
    } else {
        let days = from.map_or(1_000, |f| (today - f).get_days().max(0) as usize * 5 / 7 + 10);
        ensure_daily(g, &state.store, code, today, days, Priority::Interactive).await?;
        state.store.daily(code, Some(today), usize::MAX / 4).await?
    };
    let bars = closed_bars(&source, period, from, Some(today));
    let result = market::backtest::backtest(&condition, &bars);
    Ok(Json(report(
        code.as_str(),
        &meta.name,
        &condition,
        &bars,
        &result,
    )))
}
