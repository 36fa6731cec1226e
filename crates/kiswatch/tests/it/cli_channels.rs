//! The outbox across a `kill -9`: the real binary delivers to a webhook receiver that hangs, so
//! deliveries pile up pending with one in flight; the process is killed, the receiver recovers, a
//! new process on the same data directory delivers every pending one — each exactly once, but the
//! one in flight at the kill, which may come twice, with the same `X-Kiswatch-Delivery` id.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::Running;
use crate::common::eventually;
use crate::fakes::{Fake, Provider, Scripted};

const KISWATCH: &str = env!("CARGO_BIN_EXE_kiswatch");

/// The binary on `data_dir`, its log (info and up) written to `log`.
fn start(data_dir: &std::path::Path, log: &std::path::Path) -> (Running, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let (running, url, _) = crate::binary::start(
        Command::new(KISWATCH)
            .arg("serve")
            .args([
                "--bind",
                "127.0.0.1:0",
                "--no-demo-content",
                "--speed",
                "60",
                "--allow-private-webhooks",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("KIS_APP_KEY")
            .env_remove("KIS_APP_SECRET")
            .env_remove("KISWATCH_TOKEN")
            .env_remove("KISWATCH_PUBLIC_URL")
            .env("RUST_LOG", "info")
            .stderr(Stdio::from(log)),
        Duration::from_secs(30),
    );
    (running, url)
}

async fn send(http: &reqwest::Client, method: reqwest::Method, url: String, body: Value) -> Value {
    let r = http.request(method, url).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

#[tokio::test]
async fn pending_deliveries_survive_a_kill_9_and_only_the_one_in_flight_may_come_twice() {
    let hook = Fake::start(Provider::Webhook, None).await;
    // Every request hangs until the process is gone: deliveries queue behind the first.
    hook.script(std::iter::repeat_n(Scripted::Hang, 1));
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kiswatch.log");
    let http = reqwest::Client::new();
    let (running, url) = start(dir.path(), &log);
    let ch = send(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/v1/channels"),
        json!({"kind": "webhook", "config": {"url": hook.channel_url()}}),
    )
    .await;
    for code in ["005930", "000660", "035420", "005380", "000270"] {
        send(
            &http,
            reqwest::Method::POST,
            format!("{url}/api/v1/watchlist"),
            json!({"code": code}),
        )
        .await;
    }
    let cond = send(
        &http,
        reqwest::Method::POST,
        format!("{url}/api/v1/conditions"),
        // No cooldown: three triggers must come while the first delivery hangs, inside the
        // outbound policy's 10 s timeout (after it, the delivery would be retried and answered).
        json!({"name": "양봉", "expr": "1m: close > open", "cooldown_secs": 0, "channels": [ch["id"]]}),
    )
    .await;
    // A few triggers, the first delivery hanging in flight, the rest pending behind it.
    let triggers: Vec<Value> = eventually(Duration::from_secs(120), "triggers pending", || async {
        let list: Vec<Value> = http
            .get(format!("{url}/api/v1/triggers?after=0&limit=100"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (list.len() >= 3 && !hook.received().is_empty()).then_some(list)
    })
    .await;
    send(
        &http,
        reqwest::Method::PUT,
        format!("{url}/api/v1/conditions/{}", cond["id"]),
        json!({"expr": "1m: close > open", "enabled": false}),
    )
    .await;
    let in_flight = hook.received()[0].header("x-kiswatch-delivery").unwrap();
    drop(running); // SIGKILL with the request in flight
    assert!(
        hook.delivered().is_empty(),
        "nothing was answered before the kill"
    );

    let (running, url) = start(dir.path(), &log);
    let all: Vec<Value> = http
        .get(format!("{url}/api/v1/triggers?after=0&limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(all.len() >= triggers.len());
    for t in &all {
        let id = t["id"].as_u64().unwrap();
        eventually(
            Duration::from_secs(60),
            "every delivery made after the restart",
            || async {
                let d: Vec<Value> = http
                    .get(format!("{url}/api/v1/triggers/{id}/deliveries"))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (d.len() == 1 && d[0]["status"] == "delivered").then_some(())
            },
        )
        .await;
    }
    // Each trigger reached the receiver once; the in-flight one possibly twice, with one id.
    let mut by_delivery: HashMap<String, usize> = HashMap::new();
    let mut by_trigger: HashMap<u64, Vec<String>> = HashMap::new();
    for r in hook.received() {
        let id = r.header("x-kiswatch-delivery").unwrap();
        *by_delivery.entry(id.clone()).or_default() += 1;
        if r.status == 200 {
            by_trigger
                .entry(r.json()["id"].as_u64().unwrap())
                .or_default()
                .push(id);
        }
    }
    for t in &all {
        let id = t["id"].as_u64().unwrap();
        let got = by_trigger
            .get(&id)
            .unwrap_or_else(|| panic!("trigger {id} never delivered"));
        assert_eq!(got.len(), 1, "trigger {id} delivered {} times", got.len());
    }
    for (delivery, n) in &by_delivery {
        let limit = if *delivery == in_flight { 2 } else { 1 };
        assert!(*n <= limit, "delivery {delivery} sent {n} times");
    }
    assert_eq!(
        by_delivery[&in_flight], 2,
        "the one in flight at the kill went again, same id"
    );
    eprintln!(
        "{} triggers delivered after the kill; the one in flight ({in_flight}) twice",
        all.len()
    );
    // The webhook URL's secret part (`?token=SECRET`) is in no log line of either run.
    drop(running);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("channels: saved a new channel"),
        "the log was captured: {text}"
    );
    assert!(
        !text.contains("SECRET") && !text.contains("/hook"),
        "a secret in the log: {text}"
    );
}
