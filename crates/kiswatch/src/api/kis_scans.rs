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

/// Why KIS's scan is not to be had here, in both languages.
struct Unavailable {
    reason: String,
    reason_ko: String,
}

/// An answer of KIS's, or why this environment has none (모의투자: the TR is not offered); other
/// upstream trouble stays an error.
fn offered<T>(r: Result<T, GatewayError>) -> Result<Result<T, Unavailable>, GatewayError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(GatewayError::Upstream(k)) if k.is_not_offered() => Ok(Err(Unavailable {
            reason: "KIS offers this only on real accounts, not on 모의투자".into(),
            reason_ko: "모의투자에서는 제공되지 않습니다 (실전투자 계정 전용)".into(),
        })),
        Err(e) => Err(e),
    }
}

/// A scan's answer: its rows, or `available: false` with the reason.
fn kis_scan(source: String, limits_ko: &str, outcome: Result<Vec<KisScanRow>, Unavailable>) -> KisScan {
    let (rows, why) = match outcome {
        Ok(rows) => (rows, None),
        Err(u) => (Vec::new(), Some(u)),
    };
    KisScan {
        source,
        available: why.is_none(),
        reason: why.as_ref().map(|u| u.reason.clone()),
        reason_ko: why.map(|u| u.reason_ko),
        limits_ko: limits_ko.into(),
        rows,
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
    let rows = offered(state.gateway.ranking(ranking).await)?.map(|rows| {
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
            .collect()
    });
    Ok(Json(kis_scan(kind, RANKING_LIMITS_KO, rows)))
}

fn hts_id() -> Option<String> {
    std::env::var(HTS_ID_VAR)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn no_hts_id() -> Unavailable {
    Unavailable {
        reason: format!("{HTS_ID_VAR} is not set: KIS's condition search needs the HTS user ID"),
        reason_ko: format!("{HTS_ID_VAR}가 설정되지 않았습니다: HTS 조건검색에는 HTS ID가 필요합니다"),
    }
}

#[utoipa::path(get, operation_id = "hts_conditions", path = "/api/v1/scans/hts", tag = "conditions", responses((status = 200, description = "the conditions saved in the HTS, or available false with the reason", body = HtsConditions), (status = 503, description = "upstream trouble", body = ErrorBody)))]
pub async fn hts_conditions(State(state): State<AppState>) -> ApiResult<Json<HtsConditions>> {
    let outcome = match hts_id() {
        None => Err(no_hts_id()),
        Some(user) => offered(state.gateway.hts_conditions(&user).await)?,
    };
    let (conditions, why) = match outcome {
        Ok(list) => (list, None),
        Err(u) => (Vec::new(), Some(u)),
    };
    Ok(Json(HtsConditions {
        available: why.is_none(),
        reason: why.as_ref().map(|u| u.reason.clone()),
        reason_ko: why.map(|u| u.reason_ko),
        conditions: conditions
            .into_iter()
            .map(|c| HtsCondition {
                seq: c.seq,
                group: c.group,
                name: c.name,
            })
            .collect(),
    }))
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
    let source = format!("hts:{seq}");
    let Some(user) = hts_id() else {
        return Ok(Json(kis_scan(source, HTS_LIMITS_KO, Err(no_hts_id()))));
    };
    let fetch = async {
        let rows = offered(state.gateway.hts_matches(&user, &seq).await)?.map(|rows| {
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
                .collect()
        });
        Ok::<_, GatewayError>(Arc::new(kis_scan(source, HTS_LIMITS_KO, rows)))
    };
    let answer = state
        .hts_results
        .try_get_with(seq.clone(), fetch)
        .await
        .map_err(|e| (*e).clone())?;
    Ok(Json((*answer).clone()))
}
