//! Issue 21: no input crashes the service, and bad input costs little. Conditions far past the
//! language's limits are refused with a 422 naming the limit, through the API and in a backtest; a
//! condition stored before the limits (put into the SQLite file directly) is loaded disabled, with
//! its error, and the service starts; a flood of unknown codes costs one upstream call each.

use std::collections::HashSet;

use market::condition::limits::{MAX_CHAIN, MAX_DEPTH};
use serde_json::{Value, json};

use crate::common::{config, error_code, spawn_demo, spawn_with};
use kiswatch::config::UpstreamConfig;

fn message(v: &Value) -> String {
    format!("{} / {}", v["error"]["message"], v["error"]["message_ko"])
}

/// `1m: close > 1 and close > 1 and …` with `n` comparisons.
fn and_chain(n: usize) -> String {
    format!("1m: {}", vec!["close > 1"; n].join(" and "))
}

/// `D: close > 1 + 1 + …` with `n` ones.
fn plus_chain(n: usize) -> String {
    format!("D: close > {}", vec!["1"; n].join(" + "))
}

#[tokio::test]
async fn ten_thousand_terms_are_refused_naming_the_limit_and_the_service_stays_up() {
    let t = spawn_demo(false).await;
    let (status, v) = t
        .post("/api/v1/conditions", json!({"expr": and_chain(10_000)}))
        .await;
    assert_eq!((status, error_code(&v)), (422, "invalid_condition"), "{v}");
    assert!(message(&v).contains("at most 4,000"), "the length limit: {v}");
    let (status, v) = t
        .post(
            "/api/v1/backtest",
            json!({"code": "005930", "condition": plus_chain(10_000)}),
        )
        .await;
    assert_eq!((status, error_code(&v)), (422, "invalid_condition"), "{v}");
    assert!(message(&v).contains("at most 4,000"), "{v}");
    let (status, v) = t
        .post(
            "/api/v1/backtest",
            json!({"code": "005930", "condition": and_chain(10_000)}),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    // Inside the length limit, the chain and depth limits speak.
    let (status, v) = t
        .post("/api/v1/conditions", json!({"expr": and_chain(100)}))
        .await;
    assert_eq!(status, 422, "{v}");
    assert!(message(&v).contains(&format!("at most {MAX_CHAIN}")), "{v}");
    let (status, v) = t
        .post(
            "/api/v1/backtest",
            json!({"code": "005930", "condition": plus_chain(200)}),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    assert!(message(&v).contains(&format!("at most {MAX_CHAIN}")), "{v}");
    let deep = format!("D: {}close{} > 1", "(".repeat(200), ")".repeat(200));
    let (status, v) = t.post("/api/v1/conditions", json!({"expr": deep})).await;
    assert_eq!(status, 422, "{v}");
    assert!(message(&v).contains(&format!("{MAX_DEPTH}")), "{v}");
    // Nothing was stored, and the service answers.
    let (status, list) = t.get("/api/v1/conditions").await;
    assert_eq!((status, list), (200, json!([])));
    let (status, h) = t.get("/api/v1/health").await;
    assert_eq!((status, &h["status"]), (200, &json!("ok")), "{h}");
    t.stop().await;
}

#[tokio::test]
async fn a_stored_condition_that_no_longer_compiles_is_disabled_with_its_error_and_the_service_starts() {
    let dir = tempfile::tempdir().unwrap();
    let demo = UpstreamConfig::Demo { seed: 42, speed: 1.0 };
    let t = spawn_with(config(dir.path(), demo.clone(), false), dir).await;
    let (status, good) = t.post("/api/v1/conditions", json!({"expr": "1m: 정배열"})).await;
    assert_eq!(status, 201, "{good}");
    let (status, _) = t.post("/api/v1/watchlist", json!({"code": "005930"})).await;
    assert_eq!(status, 201);
    let db = t.app.state().store.path().to_owned();
    let dir = t.stop().await;

    // What an older kiswatch (before the limits) could store, written into the file directly.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        for (name, expr) in [("long and", and_chain(10_000)), ("long plus", plus_chain(10_000))] {
            c.execute(
                "INSERT INTO conditions (name, expr, enabled, mode, cooldown_secs, webhook, created_at)
                 VALUES (?1, ?2, 1, 'on_close', 0, NULL, '2025-01-02T09:00:00+09:00')",
                rusqlite::params![name, expr],
            )
            .unwrap();
        }
    }

    // It starts, with the background work (the trigger engine loads the conditions) running.
    let t = spawn_with(config(dir.path(), demo, true), dir).await;
    let (status, list) = t.get("/api/v1/conditions").await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "{list:?}");
    let good = &list[0];
    assert_eq!(
        (&good["enabled"], &good["error"]),
        (&json!(true), &Value::Null),
        "{good}"
    );
    for bad in &list[1..] {
        assert_eq!(bad["enabled"], false, "shown disabled: {bad}");
        assert_eq!(bad["error"]["code"], "invalid_condition", "{bad}");
        assert!(
            bad["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 4,000"),
            "names the limit: {bad}"
        );
        assert!(!bad["error"]["message_ko"].as_str().unwrap().is_empty());
        assert_eq!(bad["period"], Value::Null);
        let (status, one) = t.get(&format!("/api/v1/conditions/{}", bad["id"])).await;
        assert_eq!(
            (status, &one["error"]["code"]),
            (200, &json!("invalid_condition"))
        );
    }
    // A PUT with a new expression brings it back.
    let id = &list[1]["id"];
    let (status, fixed) = t
        .put(&format!("/api/v1/conditions/{id}"), json!({"expr": "D: 정배열"}))
        .await;
    assert_eq!(status, 200, "{fixed}");
    assert_eq!((&fixed["enabled"], &fixed["error"]), (&json!(true), &Value::Null));
    let (status, h) = t.get("/api/v1/health").await;
    assert_eq!(status, 200, "{h}");
    t.stop().await;
}

#[tokio::test]
async fn a_flood_of_unknown_codes_costs_one_upstream_call_each() {
    let t = spawn_demo(false).await;
    let sim = t.app.sim().unwrap();
    let listed: HashSet<String> = sim.market().stocks().iter().map(|s| s.code.to_string()).collect();
    let codes: Vec<String> = (0..61)
        .map(|i| format!("99{:04}", i * 37 + 11))
        .filter(|c| !listed.contains(c))
        .collect();
    assert!(codes.len() > 50);
    // Upstream calls (token requests aside), counted by the simulator.
    let calls = || {
        let s = sim.stats();
        s.requests - s.token_requests
    };
    let start = calls();
    for code in &codes {
        let (status, v) = t.get(&format!("/api/v1/stocks/{code}")).await;
        assert_eq!((status, error_code(&v)), (404, "not_found"), "{code}: {v}");
    }
    let first = calls() - start;
    // The same codes again, on every endpoint that names a stock.
    for code in &codes {
        for path in [
            "",
            "/snapshot",
            "/price",
            "/orderbook",
            "/executions",
            "/candles?period=D",
        ] {
            let (status, _) = t.get(&format!("/api/v1/stocks/{code}{path}")).await;
            assert_eq!(status, 404, "{code}{path}");
        }
        let (status, _) = t.post("/api/v1/watchlist", json!({"code": code})).await;
        assert_eq!(status, 404, "{code}");
    }
    let repeat = calls() - start - first;
    eprintln!(
        "{} unknown codes: {first} upstream calls the first time, {repeat} for {} more requests",
        codes.len(),
        codes.len() * 7
    );
    assert!(first <= codes.len() as u64, "one call each at most: {first}");
    assert_eq!(repeat, 0, "remembered as unknown for the rest of the day");
    // A listed code is unaffected.
    let (status, v) = t.get("/api/v1/stocks/005930").await;
    assert_eq!(status, 200, "{v}");
    t.stop().await;
}
