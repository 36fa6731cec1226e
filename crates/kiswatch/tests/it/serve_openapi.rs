//! The OpenAPI document: served at `/api/openapi.json`, generated from the handlers, covering every
//! endpoint of the contract, and equal to the reviewed snapshot in `tests/snapshots/openapi.json`
//! (after a deliberate API change: `UPDATE_SNAPSHOTS=1 cargo test -p kiswatch --test serve_openapi`).

use crate::common;

use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

#[tokio::test]
async fn the_served_document_covers_the_contract_and_matches_the_snapshot() {
    let t = common::spawn_demo(false).await;
    let (status, served) = t.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    t.stop().await;
    let generated = serde_json::to_value(kiswatch::api::openapi::document()).unwrap();
    assert_eq!(served, generated);
    let paths = served["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/health", "get"),
        ("/api/v1/stocks/search", "get"),
        ("/api/v1/stocks/{code}", "get"),
        ("/api/v1/stocks/{code}/price", "get"),
        ("/api/v1/stocks/{code}/orderbook", "get"),
        ("/api/v1/stocks/{code}/executions", "get"),
        ("/api/v1/stocks/{code}/snapshot", "get"),
        ("/api/v1/stocks/{code}/candles", "get"),
        ("/api/v1/watchlist", "get"),
        ("/api/v1/watchlist", "post"),
        ("/api/v1/watchlist", "put"),
        ("/api/v1/watchlist/{code}", "delete"),
        ("/api/v1/conditions", "get"),
        ("/api/v1/conditions", "post"),
        ("/api/v1/conditions/{id}", "put"),
        ("/api/v1/conditions/{id}", "delete"),
        ("/api/v1/triggers", "get"),
        ("/api/v1/triggers/{id}/ack", "post"),
        ("/api/v1/backtest", "post"),
        ("/api/v1/ws", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids are unique");
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(SNAPSHOT).unwrap()).unwrap();
    assert_eq!(
        served, snapshot,
        "the API changed: review it and run with UPDATE_SNAPSHOTS=1 to accept"
    );
}
