//! KIS's own scans beside kiswatch's: the ranking endpoints as quick scans (거래량·거래대금·상승률·
//! 하락률순위: 30 rows, no next page) and the user's HTS conditions (`psearch-title` /
//! `psearch-result`: real accounts only, the HTS ID from `KIS_HTS_ID`, 100 results at most, each
//! condition's result fetched at most once a minute). Where KIS does not offer them (모의투자) or the
//! HTS ID is not configured, the answer says they are unavailable instead of failing.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;

use super::extract::Path;
use super::{ApiError, ApiResult, AppState};
use crate::contract::{ErrorBody, HtsCondition, HtsConditions, KisScan, KisScanRow, decimal};
use crate::upstream::{GatewayError, Ranking};

/// The environment variable naming the HTS user for KIS's condition search.
pub const HTS_ID_VAR: &str = "KIS_HTS_ID";

/// How long an HTS condition's result is reused (KIS's condition search is for polling once a minute).
pub const HTS_RESULT_TTL: Duration = Duration::from_secs(60);

/// HTS condition results by seq, reused for [`HTS_RESULT_TTL`].
pub type HtsCache = moka::future::Cache<String, Arc<KisScan>>;

pub fn hts_cache() -> HtsCache {
    moka::future::Cache::builder()
        .max_capacity(100)
        .time_to_live(HTS_RESULT_TTL)
        .build()
}

const RANKING_LIMITS_KO: &str = "KIS 순위 조회는 30종목까지이며 다음 페이지가 없습니다";
const HTS_LIMITS_KO: &str = "HTS 조건검색은 실전투자 계정에서만, 조건당 100종목까지, 1분에 한 번 조회합니다";

/// KIS does not offer it here: the reason, in both languages.
fn unavailable(e: &GatewayError) -> Option<(String, String)> {
    match e {
        GatewayError::Upstream(k) if k.is_not_offered() => Some((
            "KIS offers this only on real accounts, not on 모의투자".into(),
            "모의투자에서는 제공되지 않습니다 (실전투자 계정 전용)".into(),
        )),
        _ => None,
    }
}

#[utoipa::path(get, operation_id = "kis_ranking", path = "/api/v1/scans/kis/{kind}", tag = "conditions", params(("kind" = String, Path, description = "volume | turnover | rise | fall")), responses((status = 200, description = "KIS's ranking (30 rows at most), or available false with the reason", body = KisScan), (status = 400, description = "unknown kind", body = ErrorBody), (status = 503, description = "upstream trouble", body = ErrorBody)))]
pub async fn ranking(State(state): State<AppState>, Path(kind): Path<String>) -> ApiResult<Json<KisScan>> {
    let ranking = match kind.as_str() {
        "volume" => Ranking::Volume,
        "turnover" => Ranking::Turnover,
        "rise" => Ranking::Rise,
        "fall" => Ranking::Fall,
        other => {
            return Err(ApiError::bad_request(
                "invalid_ranking",
                format!("ranking must be volume, turnover, rise or fall, got {other:?}"),
                format!("순위는 volume, turnover, rise, fall 중 하나입니다 (입력: {other:?})"),
            ));
        }
    };
    let scan = |available, reason: Option<(String, String)>, rows| KisScan {
        source: kind.clone(),
        available,
        reason: reason.as_ref().map(|r| r.0.clone()),
        reason_ko: reason.map(|r| r.1),
        limits_ko: RANKING_LIMITS_KO.into(),
        rows,
    };
    match state.gateway.ranking(ranking).await {
        Ok(rows) => Ok(Json(scan(
            true,
            None,
            rows.into_iter()
                .map(|r| KisScanRow {
                    rank: r.rank,
                    code: r.code.to_string(),
                    name: r.name,
                    price: r.price,
                    change: r.change,
                    change_rate: decimal(r.change_rate),
                    volume: r.volume,
                    turnover: r.turnover,
                })
                .collect(),
        ))),
        Err(e) => match unavailable(&e) {
            Some(reason) => Ok(Json(scan(false, Some(reason), Vec::new()))),
            None => Err(e.into()),
        },
    }
}

fn hts_id() -> Option<String> {
    std::env::var(HTS_ID_VAR)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn no_hts_id() -> (String, String) {
    (
        format!("{HTS_ID_VAR} is not set: KIS's condition search needs the HTS user ID"),
        format!("{HTS_ID_VAR}가 설정되지 않았습니다: HTS 조건검색에는 HTS ID가 필요합니다"),
    )
}

#[utoipa::path(get, operation_id = "hts_conditions", path = "/api/v1/scans/hts", tag = "conditions", responses((status = 200, description = "the conditions saved in the HTS, or available false with the reason", body = HtsConditions), (status = 503, description = "upstream trouble", body = ErrorBody)))]
pub async fn hts_conditions(State(state): State<AppState>) -> ApiResult<Json<HtsConditions>> {
    let answer = |reason: Option<(String, String)>, conditions| HtsConditions {
        available: reason.is_none(),
        reason: reason.as_ref().map(|r| r.0.clone()),
        reason_ko: reason.map(|r| r.1),
        conditions,
    };
    let Some(user) = hts_id() else {
        return Ok(Json(answer(Some(no_hts_id()), Vec::new())));
    };
    match state.gateway.hts_conditions(&user).await {
        Ok(list) => Ok(Json(answer(
            None,
            list.into_iter()
                .map(|c| HtsCondition {
                    seq: c.seq,
                    group: c.group,
                    name: c.name,
                })
                .collect(),
        ))),
        Err(e) => match unavailable(&e) {
            Some(reason) => Ok(Json(answer(Some(reason), Vec::new()))),
            None => Err(e.into()),
        },
    }
}

#[utoipa::path(get, operation_id = "hts_matches", path = "/api/v1/scans/hts/{seq}", tag = "conditions", params(("seq" = String, Path, description = "the HTS condition's seq")), responses((status = 200, description = "the stocks it matches (100 at most, fetched at most once a minute), or available false with the reason", body = KisScan), (status = 400, description = "bad seq", body = ErrorBody), (status = 503, description = "upstream trouble", body = ErrorBody)))]
pub async fn hts_matches(State(state): State<AppState>, Path(seq): Path<String>) -> ApiResult<Json<KisScan>> {
    if seq.is_empty() || seq.len() > 10 || !seq.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "invalid_seq",
            format!("an HTS condition's seq is a number (see /api/v1/scans/hts), got {seq:?}"),
            format!("HTS 조건 번호(seq)는 숫자입니다 (/api/v1/scans/hts 참고, 입력: {seq:?})"),
        ));
    }
    let scan = |available, reason: Option<(String, String)>, rows| KisScan {
        source: format!("hts:{seq}"),
        available,
        reason: reason.as_ref().map(|r| r.0.clone()),
        reason_ko: reason.map(|r| r.1),
        limits_ko: HTS_LIMITS_KO.into(),
        rows,
    };
    let Some(user) = hts_id() else {
        return Ok(Json(scan(false, Some(no_hts_id()), Vec::new())));
    };
    let fetch = async {
        match state.gateway.hts_matches(&user, &seq).await {
            Ok(rows) => Ok(Arc::new(scan(
                true,
                None,
                rows.into_iter()
                    .enumerate()
                    .map(|(i, r)| KisScanRow {
                        rank: i as u32 + 1,
                        code: r.code.to_string(),
                        name: r.name,
                        price: r.price,
                        change: r.change,
                        change_rate: decimal(r.change_rate),
                        volume: r.volume,
                        turnover: Some(r.turnover),
                    })
                    .collect(),
            ))),
            Err(e) => match unavailable(&e) {
                Some(reason) => Ok(Arc::new(scan(false, Some(reason), Vec::new()))),
                None => Err(e),
            },
        }
    };
    let answer = state
        .hts_results
        .try_get_with(seq.clone(), fetch)
        .await
        .map_err(|e| (*e).clone())?;
    Ok(Json((*answer).clone()))
}
