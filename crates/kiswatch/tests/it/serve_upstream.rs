//! Upstream trouble and other upstreams: an outage is answered 503 + `Retry-After` and passes by
//! itself; the VTS profile (2 requests/s, no past minutes, no 주식기본조회) works without a single
//! rate-limit rejection and says why intraday averages are missing.

use crate::common;

use std::time::Duration;

use common::{custom, error_code, eventually, simulator, spawn_demo, spawn_with};
use kis_sim::Profile;
use kiswatch::config::KisProfile;
use serde_json::json;

#[tokio::test]
async fn an_upstream_outage_is_503_with_retry_after_and_recovers_by_itself() {
    let t = spawn_demo(false).await;
    let (status, f) = t.post("/sim/faults", json!({"error_rate": 1.0})).await;
    assert_eq!(status, 200, "{f}");
    let r = t.get_full("/api/v1/stocks/005930/price").await;
    assert_eq!(r.status().as_u16(), 503);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&e), "upstream_unavailable");
    assert!(e["error"]["message_ko"].as_str().unwrap().contains("KIS"));
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(
        h["upstream"]["errors"].as_object().is_some_and(|e| !e.is_empty()),
        "{h}"
    );

    // The fault passes; nothing was cached from the failure, so the next call simply works.
    t.post("/sim/faults", json!({"error_rate": 0.0})).await;
    let (status, p) = t.get("/api/v1/stocks/005930/price").await;
    assert_eq!(status, 200, "{p}");
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["status"], "ok");
    let (_, s) = t.get("/sim/stats").await;
    assert_eq!(s["rate_limited"], 0);
    t.stop().await;
}

#[tokio::test]
async fn the_vts_profile_works_at_two_requests_a_second() {
    let sim = simulator(Profile::Vts).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(dir.path(), custom(&sim, KisProfile::Vts), true);
    let t = spawn_with(cfg, dir).await;
    // The name comes from the daily chart's summary (VTS has no 주식기본조회).
    let (status, s) = t.get("/api/v1/stocks/005930").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["name"], "삼성전자");
    let (status, snap) = t.get("/api/v1/stocks/005930/snapshot").await;
    assert_eq!(status, 200, "{snap}");

    t.post("/api/v1/watchlist", json!({"code": "005930"})).await;
    let (status, _) = t.post("/api/v1/conditions", json!({"expr": "5m: 정배열"})).await;
    assert_eq!(status, 201);
    // The backfill stops short of the need and says why; no past minutes are asked for.
    let progress = eventually(Duration::from_secs(8), "the VTS backfill to finish", || async {
        let (_, h) = t.get("/api/v1/health").await;
        let p = h["backfill"]
            .as_array()?
            .iter()
            .find(|p| p["code"] == "005930")?
            .clone();
        (p["done"] == true).then_some(p)
    })
    .await;
    assert!(progress["note"].as_str().unwrap().contains("VTS"), "{progress}");
    assert!(progress["minutes"]["have"].as_u64() < progress["minutes"]["need"].as_u64());
    let (_, c) = t.get("/api/v1/stocks/005930/candles?period=5m&count=5").await;
    assert!(
        c["candles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["ma"]["240"].is_null())
    );
    assert_eq!(
        c["alignment"],
        serde_json::Value::Null,
        "unknown, not a wrong alignment"
    );
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["upstream"]["calls"]["past_minutes"], 0);
    assert_eq!(h["governor"]["slots"], 2);
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 2, "{stats:?}");
    t.stop().await;
    sim.shutdown().await;
}

/// A cold daily chart on VTS waits for one page of recent sessions, not for the whole MA240 history
/// (nor for today's minutes); that page is the one the name lookup already read (VTS names come
/// from the daily chart), the backfill brings the older sessions, and then the same request answers
/// every bar asked for with its averages.
#[tokio::test]
async fn a_cold_daily_chart_is_drawn_from_one_page_and_completed_by_the_backfill() {
    let sim = simulator(Profile::Vts).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(dir.path(), custom(&sim, KisProfile::Vts), true);
    let t = spawn_with(cfg, dir).await;
    let (status, _) = t.get("/api/v1/stocks/005930").await;
    assert_eq!(status, 200);
    let (_, before) = t.get("/api/v1/health").await;

    let (status, first) = t.get("/api/v1/stocks/005930/candles?period=D&count=150").await;
    assert_eq!(status, 200, "{first}");
    let bars = first["candles"].as_array().unwrap();
    // One page of 100 rows at most (plus today's bar from the price): fewer than asked for.
    assert!(!bars.is_empty() && bars.len() <= 101, "{} bars", bars.len());
    assert!(bars.last().unwrap()["ma"]["240"].is_null());
    assert_eq!(first["backfill"]["daily"]["need"], 240 + 150 - 1, "{first}");
    let (_, after) = t.get("/api/v1/health").await;
    let calls = |h: &serde_json::Value, kind: &str| h["upstream"]["calls"][kind].as_u64().unwrap();
    assert!(
        calls(&after, "today_minutes") <= calls(&before, "today_minutes") + 1,
        "a daily chart walks no minute chart (one call may name the trading day): {after}"
    );

    let full = eventually(Duration::from_secs(15), "the daily history", || async {
        let (_, c) = t.get("/api/v1/stocks/005930/candles?period=D&count=150").await;
        (c["candles"].as_array()?.len() == 150).then_some(c)
    })
    .await;
    // Every daily-chart call accounted for: two in all. One page of recent sessions, read either by
    // the name lookup (VTS names come from the daily chart, when the stock master has not arrived
    // yet; the chart is then drawn from that page with no call of its own) or by the chart itself
    // (the master named the stock), and the backfill's one for the older sessions.
    let (_, h) = t.get("/api/v1/health").await;
    assert!(calls(&before, "daily") <= 1, "{before}");
    assert_eq!(calls(&h, "daily"), 2, "{h}");
    assert!(full["history"]["have"].as_u64() > first["history"]["have"].as_u64());
    let last = full["candles"].as_array().unwrap().last().unwrap().clone();
    assert!(last["ma"]["240"].is_number(), "{last}");
    assert!(full["alignment"].is_string(), "{full}");
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 2, "{stats:?}");
    t.stop().await;
    sim.shutdown().await;
}
