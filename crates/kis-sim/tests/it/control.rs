//! The `/sim/*` control API: stats, stocks, faults, scenario, clock; absent without `control`.

use crate::common::*;
use kis_sim::{Profile, SimConfig};
use serde_json::{Value, json};

async fn get_json(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn stats_and_stocks() {
    let server = start(SimConfig {
        control: true,
        ..SimConfig::default()
    })
    .await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    caller.price(SAMSUNG).await;
    let (status, stats) = get_json(&format!("{}/sim/stats", server.rest_url())).await;
    assert_eq!(status, 200);
    for field in [
        "requests",
        "rate_limited",
        "max_window",
        "rate_limit",
        "ws_sessions",
        "subscriptions",
        "tokens_issued",
    ] {
        assert!(stats.get(field).is_some(), "missing {field}");
    }
    assert_eq!(stats["rate_limit"], 20);
    assert_eq!(stats["tokens_issued"], 1);
    assert_eq!(stats["requests"], 2, "tokenP + inquire-price");
    assert_eq!(stats, serde_json::to_value(server.stats()).unwrap());

    let (_, stocks) = get_json(&format!("{}/sim/stocks", server.rest_url())).await;
    let stocks = stocks.as_array().unwrap();
    assert!(stocks.len() >= 50);
    let samsung = stocks.iter().find(|s| s["code"] == SAMSUNG).unwrap();
    assert_eq!(samsung["name"], "삼성전자");
    assert_eq!(samsung["market"], "KOSPI");
    assert!(stocks.iter().any(|s| s["market"] == "KOSDAQ"));
    server.shutdown().await;
}

#[tokio::test]
async fn faults_revoke_tokens_and_inject_errors() {
    let server = start(SimConfig {
        control: true,
        ..config(Profile::Real)
    })
    .await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let http = reqwest::Client::new();
    let faults = format!("{}/sim/faults", server.rest_url());
    assert_eq!(caller.price(SAMSUNG).await.0, 200);

    let (status, _) = post(&http, &faults, &json!({"revoke_tokens": true})).await;
    assert_eq!(status, 200);
    let (status, body) = caller.price(SAMSUNG).await;
    assert_eq!((status, body["msg_cd"].as_str()), (500, Some("EGW00123")));

    let fresh = Caller::new(&server, Profile::Real, 1).await;
    let (_, state) = post(&http, &faults, &json!({"error_rate": 1.0})).await;
    assert_eq!(state["error_rate"], 1.0);
    let (status, body) = fresh.price(SAMSUNG).await;
    assert_eq!((status, body["msg_cd"].as_str()), (500, Some("EGW00002")));
    assert_eq!(server.stats().injected_errors, 1);
    post(&http, &faults, &json!({"error_rate": 0.0})).await;
    assert_eq!(fresh.price(SAMSUNG).await.0, 200);

    let (status, body) = post(&http, &faults, &json!({"error_rate": 2.0})).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("error_rate"));
    let (status, _) = post(&http, &faults, &json!({"latency": [1, 2]})).await;
    assert_eq!(status, 400, "unknown fields are refused");
    server.shutdown().await;
}

#[tokio::test]
async fn clock_and_scenario() {
    let server = start(SimConfig {
        control: true,
        ..config(Profile::Real)
    })
    .await;
    let http = reqwest::Client::new();
    let base = server.rest_url();
    let before = server.market().now();
    let (status, body) = post(&http, &format!("{base}/sim/clock"), &json!({"advance_secs": 600})).await;
    assert_eq!(status, 200, "{body}");
    let after = server.market().now();
    assert!(after.duration_since(before) >= jiff::SignedDuration::from_secs(600));
    assert_eq!(
        post(&http, &format!("{base}/sim/clock"), &json!({"speed": 5.0}))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&http, &format!("{base}/sim/clock"), &json!({"speed": -1}))
            .await
            .0,
        400
    );
    assert_eq!(post(&http, &format!("{base}/sim/clock"), &json!({})).await.0, 400);

    let (status, body) = post(
        &http,
        &format!("{base}/sim/scenario"),
        &json!({"code": SAMSUNG, "pattern": "bullish_alignment", "period": "30m"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &http,
        &format!("{base}/sim/scenario"),
        &json!({"code": SAMSUNG, "pattern": "moonshot", "period": "30m"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("moonshot"), "{body}");
    assert_eq!(
        post(
            &http,
            &format!("{base}/sim/scenario"),
            &json!({"code": "999999", "pattern": "path", "prices": [1]})
        )
        .await
        .0,
        404
    );
    let resp = http
        .post(format!("{base}/sim/scenario"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    server.shutdown().await;
}

#[tokio::test]
async fn control_api_is_absent_without_the_flag() {
    let server = start(config(Profile::Real)).await;
    let (status, _) = get_json(&format!("{}/sim/stats", server.rest_url())).await;
    assert_eq!(status, 404);
    server.shutdown().await;
}
