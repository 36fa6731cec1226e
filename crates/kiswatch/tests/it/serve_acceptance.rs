//! Issue 11's acceptance points that the other `serve_*` suites leave open: an upstream outage seen
//! by every endpoint that calls upstream (503 + `Retry-After`, never a bare 500) and passing with no
//! user action; bad and unknown codes on every per-stock endpoint; a bad condition on update; the
//! demo's own watchlist and conditions, seeded once.

use crate::common;

use std::time::Duration;

use common::{custom, error_code, eventually, simulator, spawn_with};
use kis_sim::Profile;
use kiswatch::config::{KisProfile, UpstreamConfig};
use serde_json::{Value, json};

/// Every per-stock endpoint, as a path after `/api/v1/stocks/{code}`.
const STOCK_ENDPOINTS: [&str; 6] = [
    "",
    "/price",
    "/orderbook",
    "/executions",
    "/snapshot",
    "/candles?period=D&count=5",
];

async fn sim_faults(http: &reqwest::Client, sim_url: &str, body: Value) {
    let r = http
        .post(format!("{sim_url}/sim/faults"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn an_outage_is_503_everywhere_upstream_is_needed_and_passes_with_no_request() {
    let sim = simulator(Profile::Real).await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(
        common::config(dir.path(), custom(&sim, KisProfile::Real), true),
        dir,
    )
    .await;
    // A watched stock with a condition, followed on its own (realtime, or polled past the cap).
    t.post("/api/v1/watchlist", json!({"code": "005930"})).await;
    let (status, _) = t
        .post("/api/v1/conditions", json!({"expr": "1m: close > 1"}))
        .await;
    assert_eq!(status, 201);
    eventually(
        Duration::from_secs(8),
        "the live feed to follow 005930",
        || async {
            let (_, s) = t.get("/api/v1/stocks/005930").await;
            (s["status"] == "realtime" || s["status"] == "polled").then_some(())
        },
    )
    .await;

    sim_faults(&t.http, &sim.rest_url(), json!({"error_rate": 1.0})).await;
    // 000660 was never asked for: nothing cached, every path needs upstream. Asked together (each one
    // goes through the client's retries before it gives up).
    let app = &t;
    let answers = futures_util::future::join_all(STOCK_ENDPOINTS.iter().skip(1).map(|path| async move {
        let url = format!("/api/v1/stocks/000660{path}");
        let r = app.get_full(&url).await;
        (url, r)
    }))
    .await;
    for (url, r) in answers {
        assert_eq!(r.status().as_u16(), 503, "{url}");
        let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry >= 1, "{url}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(error_code(&e), "upstream_unavailable", "{url}: {e}");
        assert!(!e["error"]["message_ko"].as_str().unwrap().is_empty());
    }
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["status"], "degraded", "{h}");

    // The fault passes. Nobody asks for anything but the health report: the service finds the
    // upstream well again by itself (its polls, or with every stock realtime, its probe).
    sim_faults(&t.http, &sim.rest_url(), json!({"error_rate": 0.0})).await;
    let h = eventually(Duration::from_secs(8), "the service to recover", || async {
        let (_, h) = t.get("/api/v1/health").await;
        (h["status"] == "ok").then_some(h)
    })
    .await;
    assert_eq!(h["upstream"]["failing"], false, "{h}");
    for path in STOCK_ENDPOINTS {
        let (status, v) = t.get(&format!("/api/v1/stocks/000660{path}")).await;
        assert_eq!(status, 200, "{path}: {v}");
    }
    t.stop().await;
    let stats = sim.stats();
    assert!(stats.injected_errors > 0, "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn every_per_stock_endpoint_answers_a_bad_code_400_and_an_unknown_one_404() {
    let t = common::spawn_demo(false).await;
    for path in STOCK_ENDPOINTS {
        for bad in ["12345", "0059300", "005_30"] {
            let (status, e) = t.get(&format!("/api/v1/stocks/{bad}{path}")).await;
            assert_eq!(
                (status, error_code(&e)),
                (400, "invalid_code"),
                "{bad}{path}: {e}"
            );
            assert!(e["error"]["message"].as_str().unwrap().contains(bad), "{e}");
            assert!(!e["error"]["message_ko"].as_str().unwrap().is_empty(), "{e}");
        }
        let (status, e) = t.get(&format!("/api/v1/stocks/999990{path}")).await;
        assert_eq!((status, error_code(&e)), (404, "not_found"), "999990{path}: {e}");
    }
    let (status, e) = t.post("/api/v1/watchlist", json!({"code": "12345"})).await;
    assert_eq!((status, error_code(&e)), (400, "invalid_code"), "{e}");
    let (status, e) = t.delete("/api/v1/watchlist/12345").await;
    assert_eq!((status, error_code(&e)), (400, "invalid_code"), "{e}");
    for (code, want) in [("12345", 400), ("999990", 404)] {
        let (status, e) = t
            .post(
                "/api/v1/backtest",
                json!({"code": code, "condition": "D: 정배열"}),
            )
            .await;
        assert_eq!(status, want, "{code}: {e}");
    }
    let (status, e) = t.get("/api/v1/triggers?code=12345").await;
    assert_eq!(status, 400, "{e}");
    t.stop().await;
}

#[tokio::test]
async fn a_bad_condition_on_update_is_422_with_its_position_and_changes_nothing() {
    let t = common::spawn_demo(false).await;
    let (status, c) = t.post("/api/v1/conditions", json!({"expr": "30m: 정배열"})).await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_u64().unwrap();
    let bad = "5m: close > ma(20) 그리고";
    let (status, e) = t
        .put(&format!("/api/v1/conditions/{id}"), json!({"expr": bad}))
        .await;
    assert_eq!((status, error_code(&e)), (422, "invalid_condition"), "{e}");
    let position = market::Condition::parse(bad).unwrap_err().position;
    assert_eq!(e["error"]["position"], position, "{e}");
    assert!(!e["error"]["message_ko"].as_str().unwrap().is_empty());
    let (_, kept) = t.get(&format!("/api/v1/conditions/{id}")).await;
    assert_eq!(kept, c, "the stored condition is untouched");
    t.stop().await;
}

#[tokio::test]
async fn the_demo_seeds_its_watchlist_and_conditions_once() {
    let dir = tempfile::tempdir().unwrap();
    let demo_config = |dir: &std::path::Path| {
        let mut cfg = common::config(dir, UpstreamConfig::Demo { seed: 42, speed: 1.0 }, false);
        cfg.demo.seed_watchlist = true;
        cfg
    };
    let t = spawn_with(demo_config(dir.path()), dir).await;
    let (_, w) = t.get("/api/v1/watchlist").await;
    let codes: Vec<&str> = w
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, kiswatch::demo::DEMO_STOCKS, "{w}");
    assert!(
        w.as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"].as_str().is_some_and(|n| !n.is_empty()))
    );
    let (_, c) = t.get("/api/v1/conditions").await;
    let exprs: Vec<&str> = c
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["expr"].as_str().unwrap())
        .collect();
    assert!(exprs.contains(&"30m: 정배열"), "the seed's own example: {c}");
    assert!(
        exprs.contains(&"1m: 정배열"),
        "one that forms within minutes: {c}"
    );
    // What the user changes stays changed: a restart does not seed again.
    let (status, _) = t.delete("/api/v1/watchlist/005930").await;
    assert_eq!(status, 204);
    let dir = t.stop().await;
    let t = spawn_with(demo_config(dir.path()), dir).await;
    let (_, w) = t.get("/api/v1/watchlist").await;
    assert_eq!(
        w.as_array().unwrap().len(),
        kiswatch::demo::DEMO_STOCKS.len() - 1,
        "{w}"
    );
    let (_, c2) = t.get("/api/v1/conditions").await;
    assert_eq!(c2, c);
    t.stop().await;
}
