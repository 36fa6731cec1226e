//! Webhooks and the outgoing-URL policy, through the API of kiswatch on port 0: addresses a saved
//! URL must never reach (cloud metadata, loopback, private networks, user info in the URL …) are
//! refused when the condition is saved, with what was refused and why; with
//! `--allow-private-webhooks` a local receiver gets the trigger; and a webhook saved under that flag
//! is refused again when it is sent by a service started without it. (The name-resolution side —
//! a name that resolves to loopback — and redirects are tested in `outbound`'s unit tests with a
//! resolver that maps test names.)

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use common::{config, eventually, spawn_demo, spawn_with};
use kiswatch::config::UpstreamConfig;
use kiswatch::outbound::OutboundPolicy;
use serde_json::{Value, json};

/// A webhook receiver on 127.0.0.1: its URL and every body it was posted.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let into = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let into = into.clone();
            async move {
                into.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got)
}

#[tokio::test]
async fn private_local_and_metadata_destinations_are_refused_when_saved() {
    let t = spawn_demo(false).await;
    for (url, shown, why) in [
        (
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "169.254.169.254",
            "cloud metadata",
        ),
        ("http://[::1]:22/", "::1", "loopback"),
        (
            "http://user:pass@127.0.0.1:8080/hook",
            "127.0.0.1:8080",
            "user name or password",
        ),
        ("http://127.0.0.1:9/hook", "127.0.0.1", "loopback"),
        ("http://localhost:8080/hook", "localhost", "local name"),
        ("http://10.0.0.5/hook", "10.0.0.5", "private"),
        ("http://192.168.0.1/hook", "192.168.0.1", "private"),
        ("http://100.64.0.1/hook", "100.64.0.1", "carrier-grade NAT"),
        ("http://[fd00::1]/hook", "fd00::1", "unique-local"),
        ("http://[fe80::1]/hook", "fe80::1", "link-local"),
        ("http://0.0.0.0:8080/hook", "0.0.0.0", "unspecified"),
        ("http://2130706433/hook", "127.0.0.1", "loopback"),
        (
            "http://[::ffff:169.254.169.254]/",
            "169.254.169.254",
            "cloud metadata",
        ),
        ("file:///etc/passwd", "file", "only http and https"),
    ] {
        let (status, e) = t
            .post(
                "/api/v1/conditions",
                json!({"expr": "D: close > 1", "webhook": url}),
            )
            .await;
        assert_eq!(
            (status, common::error_code(&e)),
            (400, "invalid_webhook"),
            "{url}: {e}"
        );
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(shown) && message.contains(why),
            "{url}: {message}"
        );
        assert!(
            !message.contains("pass@") && !message.contains("meta-data"),
            "{url}: {message}"
        );
        assert!(!e["error"]["message_ko"].as_str().unwrap().is_empty());
    }
    // Nothing was stored; a public destination is accepted, and an edit to a refused one is not.
    assert_eq!(t.get("/api/v1/conditions").await.1, json!([]));
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "D: close > 1", "webhook": "https://hooks.example.com/kiswatch?token=x"}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let (status, e) = t
        .put(
            &format!("/api/v1/conditions/{}", c["id"]),
            json!({"expr": "D: close > 1", "webhook": "http://169.254.169.254/"}),
        )
        .await;
    assert_eq!((status, common::error_code(&e)), (400, "invalid_webhook"), "{e}");
    t.stop().await;
}

/// A condition on a few stocks at 60× speed whose 1-minute bars often close up.
async fn flipping_condition(t: &common::TestApp, webhook: &str) {
    for code in ["005930", "000660"] {
        let (status, body) = t.post("/api/v1/watchlist", json!({"code": code})).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "양봉", "expr": "1m: close > open", "webhook": webhook}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
}

fn demo(dir: &std::path::Path, background: bool, allow_private: bool) -> kiswatch::config::ServeConfig {
    kiswatch::config::ServeConfig {
        outbound: OutboundPolicy { allow_private },
        ..config(
            dir,
            UpstreamConfig::Demo {
                seed: 42,
                speed: 60.0,
            },
            background,
        )
    }
}

#[tokio::test]
async fn with_allow_private_webhooks_a_local_receiver_gets_the_stored_trigger() {
    let (url, got) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(demo(dir.path(), true, true), dir).await;
    flipping_condition(&t, &url).await;
    let body = eventually(Duration::from_secs(60), "a webhook", || async {
        got.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(body["persisted"], true, "{body}");
    let id = body["id"].as_u64().unwrap();
    let (_, listed) = t.get(&format!("/api/v1/triggers?after={}", id - 1)).await;
    assert_eq!(listed[0], body, "the webhook got the trigger as stored");
    t.stop().await;
}

#[tokio::test]
async fn a_webhook_saved_under_the_flag_is_refused_when_sent_without_it() {
    let (url, got) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    // Saved while private destinations were allowed (nothing runs, so nothing fires yet).
    let t = spawn_with(demo(dir.path(), false, true), dir).await;
    flipping_condition(&t, &url).await;
    let dir = t.stop().await;
    // Started again without the flag: the triggers fire, their webhook is refused when sent.
    let t = spawn_with(demo(dir.path(), true, false), dir).await;
    eventually(Duration::from_secs(60), "refused webhook deliveries", || async {
        let (_, h) = t.get("/api/v1/health").await;
        (h["live"]["webhooks_failed"].as_u64() >= Some(2)).then_some(())
    })
    .await;
    let (_, fired) = t.get("/api/v1/triggers").await;
    assert!(fired.as_array().unwrap().len() >= 2, "{fired}");
    assert!(got.lock().unwrap().is_empty(), "the receiver was never reached");
    t.stop().await;
}
