//! Stock search and names over the KIS stock master: kiswatch on port 0 against a simulator it reaches
//! as a `custom` upstream (so no name is known but the master's), the master downloaded from the
//! simulator's `/common/master`, cached in the data dir, reused on restart (downloads counted at the
//! simulator), and kept when a refresh fails (the simulator's `master_error` fault).

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{TestApp, config, custom, error_code, eventually, simulator, spawn_with};
use kis_sim::{Profile, SimServer};
use kiswatch::config::KisProfile;
use serde_json::{Value, json};

async fn start(sim: &SimServer, dir: tempfile::TempDir) -> TestApp {
    let cfg = config(dir.path(), custom(sim, KisProfile::Real), false);
    spawn_with(cfg, dir).await
}

/// `/api/v1/health`'s `master` once its state is `state` (and, for `stale`, the failed refresh has
/// been reported).
async fn master_in_state(t: &TestApp, state: &str) -> Value {
    eventually(Duration::from_secs(10), &format!("master {state}"), || async {
        let (_, h) = t.get("/api/v1/health").await;
        let m = &h["master"];
        let settled = state != "stale" || m["error"].is_string();
        (m["state"] == state && settled).then(|| m.clone())
    })
    .await
}

async fn codes(t: &TestApp, q: &str) -> Vec<String> {
    let (status, hits) = t.get(&format!("/api/v1/stocks/search?q={q}&limit=100")).await;
    assert_eq!(status, 200, "{q}: {hits}");
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| h["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_and_names_come_from_the_master() {
    let sim = simulator(Profile::Real).await;
    let t = start(&sim, tempfile::tempdir().unwrap()).await;
    let m = master_in_state(&t, "loaded").await;
    let listing = sim.market().stocks();
    assert_eq!(m["records"], listing.len());
    assert_eq!(m["origin"], "download");
    assert_eq!(m["source"], format!("{}/common/master", sim.rest_url()));
    assert!(m["as_of"].is_string() && m["error"].is_null(), "{m}");
    assert_eq!(sim.stats().master_downloads, 2);

    let (_, hits) = t.get("/api/v1/stocks/search?q=ㅅㅅㅈㅈ").await;
    assert_eq!(
        hits[0],
        json!({"code": "005930", "name": "삼성전자", "market": "KOSPI", "kind": "stock"})
    );
    let samsung: BTreeSet<String> = listing
        .iter()
        .filter(|s| s.name.contains("삼성"))
        .map(|s| s.code.to_string())
        .collect();
    assert!(samsung.len() >= 5);
    assert_eq!(
        codes(&t, "삼성").await.into_iter().collect::<BTreeSet<_>>(),
        samsung
    );
    assert_eq!(codes(&t, "0059").await[0], "005930");
    assert_eq!(codes(&t, "naver").await[0], "035420");
    let (_, hits) = t.get("/api/v1/stocks/search?q=삼성&limit=2").await;
    assert_eq!(hits.as_array().unwrap().len(), 2);

    for (q, code) in [
        ("q=", "invalid_query"),
        ("q=%20%20", "invalid_query"),
        ("limit=5", "invalid_query"),
        (&format!("q={}", "가".repeat(200)), "invalid_query"),
        ("q=삼성&limit=0", "invalid_limit"),
        ("q=삼성&limit=101", "invalid_limit"),
        ("q=삼성&limit=abc", "invalid_limit"),
    ] {
        let (status, e) = t.get(&format!("/api/v1/stocks/search?{q}")).await;
        assert_eq!((status, error_code(&e)), (400, code), "{q}: {e}");
    }

    // Names from the master, not from a 주식기본조회 call per stock.
    let (status, _) = t.post("/api/v1/watchlist", json!({"code": "000660"})).await;
    assert!(status == 200 || status == 201, "{status}");
    let (_, list) = t.get("/api/v1/watchlist").await;
    assert_eq!(list[0]["name"], "SK하이닉스", "{list}");
    let (_, s) = t.get("/api/v1/stocks/035420").await;
    assert_eq!(
        (s["name"].as_str(), s["market"].as_str()),
        (Some("NAVER"), Some("KOSPI"))
    );
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["upstream"]["calls"]["stock_info"], 0, "{h}");

    let metrics = t.get_full("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(&format!("kiswatch_master_records {}", listing.len())),
        "{metrics}"
    );
    t.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_restart_uses_the_cache_and_a_failed_refresh_keeps_it() {
    let sim = simulator(Profile::Real).await;
    let t = start(&sim, tempfile::tempdir().unwrap()).await;
    master_in_state(&t, "loaded").await;
    assert_eq!(sim.stats().master_downloads, 2);
    let dir = t.stop().await;

    // A restart the same trading day: the cached copy, no download.
    let t = start(&sim, dir).await;
    let m = master_in_state(&t, "loaded").await;
    assert_eq!(m["origin"], "cache");
    assert_eq!(codes(&t, "ㅅㅅㅈㅈ").await[0], "005930");
    assert_eq!(sim.stats().master_downloads, 2, "the restart downloaded nothing");
    let dir = t.stop().await;

    // The cached copy is from an earlier trading day and the download fails: the old copy stays in use
    // and health says so.
    let meta_path = dir.path().join("master").join("master.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["fetched_at"] = json!("2026-01-05T00:00:00Z");
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/sim/faults", sim.rest_url()))
        .json(&json!({"master_error": true}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let t = start(&sim, dir).await;
    let m = master_in_state(&t, "stale").await;
    assert!(m["error"].as_str().unwrap().contains("HTTP 500"), "{m}");
    assert_eq!(m["as_of"], "2026-01-05");
    assert_eq!(m["origin"], "cache");
    assert_eq!(m["records"], sim.market().stocks().len());
    assert!(sim.stats().master_downloads > 2, "a refresh was tried");
    assert_eq!(
        codes(&t, "ㅅㅅㅈㅈ").await[0],
        "005930",
        "the old copy still answers"
    );
    let dir = t.stop().await;
    // The failed download replaced nothing on disk.
    let kept: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    assert_eq!(kept["fetched_at"], "2026-01-05T00:00:00Z");
    drop(dir);
    sim.shutdown().await;
}

#[tokio::test]
async fn with_no_master_search_by_code_still_works() {
    let sim = simulator(Profile::Real).await;
    let http = reqwest::Client::new();
    http.post(format!("{}/sim/faults", sim.rest_url()))
        .json(&json!({"master_error": true}))
        .send()
        .await
        .unwrap();
    let t = start(&sim, tempfile::tempdir().unwrap()).await;
    let m = master_in_state(&t, "failed").await;
    assert!(m["error"].as_str().unwrap().contains("HTTP 500"), "{m}");
    assert_eq!(m["records"], 0);
    // A stock looked up upstream is known by code (and its name) from then on.
    let (status, s) = t.get("/api/v1/stocks/005930").await;
    assert_eq!((status, s["name"].as_str()), (200, Some("삼성전자")), "{s}");
    assert_eq!(codes(&t, "0059").await, ["005930"]);
    t.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn the_demo_downloads_the_master_from_its_embedded_simulator() {
    let t = common::spawn_demo(false).await;
    let m = master_in_state(&t, "loaded").await;
    let sim_url = t.app.sim_url().unwrap();
    assert_eq!(m["source"], format!("{sim_url}/common/master"));
    let (_, stocks) = t.get("/sim/stocks").await;
    assert_eq!(m["records"], stocks.as_array().unwrap().len());
    // The demo also knows the simulated companies' English names.
    assert_eq!(codes(&t, "samsung%20electronics").await[0], "005930");
    t.stop().await;
}
