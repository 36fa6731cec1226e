//! Shared helpers: a simulator on 127.0.0.1:0 and a small HTTP client that speaks KIS.
#![allow(dead_code)]

use std::time::Duration;

use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use serde_json::{Value, json};

pub const PRICE: &str = "/uapi/domestic-stock/v1/quotations/inquire-price";
pub const SAMSUNG: &str = "005930";

pub async fn start(config: SimConfig) -> SimServer {
    SimServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub fn config(profile: Profile) -> SimConfig {
    SimConfig {
        profile,
        rate: Some(0),
        ..SimConfig::default()
    }
}

/// An app key with its token on one simulator.
pub struct Caller {
    pub base: String,
    pub http: reqwest::Client,
    pub key: String,
    pub secret: String,
    pub token: String,
}

impl Caller {
    pub async fn new(server: &SimServer, profile: Profile, index: u32) -> Caller {
        let (key, secret) = demo_credentials(profile, index);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let base = server.rest_url();
        let (status, body) = post(
            &http,
            &format!("{base}/oauth2/tokenP"),
            &json!({
                "grant_type": "client_credentials", "appkey": key, "appsecret": secret
            }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap().to_string();
        Caller {
            base,
            http,
            key,
            secret,
            token,
        }
    }

    /// A GET with every KIS header; returns (status, tr_id header, body).
    pub async fn get(&self, path: &str, tr_id: &str, query: &[(&str, &str)]) -> (u16, Option<String>, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", format!("Bearer {}", self.token))
            .header("appkey", &self.key)
            .header("appsecret", &self.secret)
            .header("tr_id", tr_id)
            .header("custtype", "P")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let tr = resp
            .headers()
            .get("tr_id")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (status, tr, body)
    }

    pub async fn price(&self, code: &str) -> (u16, Value) {
        let (status, _, body) = self
            .get(
                PRICE,
                "FHKST01010100",
                &[("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code)],
            )
            .await;
        (status, body)
    }
}

pub async fn post(http: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let resp = http.post(url).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

/// `POST /oauth2/tokenP` with a key pair, as a KIS client sends it.
pub async fn issue_token(http: &reqwest::Client, base: &str, key: &str, secret: &str) -> (u16, Value) {
    post(
        http,
        &format!("{base}/oauth2/tokenP"),
        &serde_json::json!({"grant_type": "client_credentials", "appkey": key, "appsecret": secret}),
    )
    .await
}

/// A simulated market whose first session is Friday 2026-11-20 and whose clock stands still (speed 0),
/// so model tests see a fixed calendar whatever today's date.
pub fn fixed_market(seed: u64) -> kis_sim::model::Market {
    let config = kis_sim::model::MarketConfig {
        seed,
        clock: kis_sim::model::ClockMode::Open,
        speed: 0.0,
    };
    kis_sim::model::Market::starting_on(config, jiff::civil::date(2026, 11, 20))
}

/// `POST /oauth2/Approval` (the WebSocket approval key; note `secretkey`, not `appsecret`).
pub async fn issue_approval(http: &reqwest::Client, base: &str, key: &str, secret: &str) -> (u16, Value) {
    post(
        http,
        &format!("{base}/oauth2/Approval"),
        &json!({"grant_type": "client_credentials", "appkey": key, "secretkey": secret}),
    )
    .await
}
