//! Local fakes of the alert providers' HTTP APIs on 127.0.0.1, port 0: Telegram's `sendMessage`,
//! Discord and Slack incoming webhooks, ntfy's JSON publish, and a generic webhook receiver. Each
//! answers as the real one does — its success body, 429 with the provider's own way of saying how
//! long to wait, 5xx, 401, slow answers — and enforces the provider's rate, answering 429 (and
//! counting a violation) to a request that breaks it. A test scripts answers ahead
//! ([`Scripted`]) and reads every request received.
//!
//! Also used by `examples/alert_latency.rs` (`#[path]`), so the benchmark talks to the same fakes.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// Which provider a fake plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Telegram,
    Discord,
    Slack,
    Ntfy,
    Webhook,
}

/// An answer scripted ahead of the provider's normal behaviour, used by the next request.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// 429 saying to wait this many seconds (in the provider's own format).
    RateLimited(f64),
    /// This HTTP status (500, 502, 503 …) with a provider-like body.
    Status(u16),
    /// 401, as for a revoked token or webhook.
    Unauthorized,
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// Never answers (until the client gives up or goes away).
    Hang,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status answered.
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The human text of the message, whatever the provider's format.
    pub fn text(&self) -> String {
        let j = self.json();
        match () {
            _ if j["text"].is_string() && j["blocks"].is_array() => j["blocks"].to_string(),
            _ if j["text"].is_string() => j["text"].as_str().unwrap().to_string(),
            _ if j["embeds"].is_array() => j["embeds"].to_string(),
            _ if j["message"].is_string() => format!(
                "{}\n{}\n{}",
                j["title"].as_str().unwrap_or(""),
                j["message"].as_str().unwrap(),
                j["click"].as_str().unwrap_or("")
            ),
            _ => String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

struct Inner {
    provider: Provider,
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Scripted>>,
    /// Accepted requests' arrival times (for the rate rule).
    accepted: Mutex<Vec<Instant>>,
    violations: Mutex<u64>,
    /// A token the fake accepts (Telegram's bot token, ntfy's bearer); `None`: any.
    token: Option<String>,
}

/// A running fake. Cheap to clone.
#[derive(Clone)]
pub struct Fake {
    inner: Arc<Inner>,
    pub base: String,
}

/// The rate rules the fakes enforce (what the providers document), with a tenth of slack on each
/// window for the network's jitter.
fn windows(p: Provider) -> Vec<(usize, Duration)> {
    let s = Duration::from_secs;
    match p {
        Provider::Telegram => vec![(1, s(1))],
        Provider::Discord => vec![(5, s(2)), (30, s(60))],
        Provider::Slack => vec![(1, s(1))],
        Provider::Ntfy => vec![(60, s(300))],
        Provider::Webhook => vec![],
    }
}

impl Fake {
    pub async fn start(provider: Provider, token: Option<&str>) -> Fake {
        let inner = Arc::new(Inner {
            provider,
            received: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            accepted: Mutex::new(Vec::new()),
            violations: Mutex::new(0),
            token: token.map(str::to_owned),
        });
        let app = axum::Router::new()
            .route("/{*path}", post(handle))
            .route("/", post(handle_root))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { inner, base }
    }

    /// The URL a channel saves for this fake.
    pub fn channel_url(&self) -> String {
        match self.inner.provider {
            Provider::Telegram | Provider::Ntfy => self.base.clone(),
            Provider::Discord => format!("{}/api/webhooks/1234567890/tok-en_SECRET", self.base),
            Provider::Slack => format!("{}/services/T000/B000/XXXXSECRET", self.base),
            Provider::Webhook => format!("{}/hook?token=SECRET", self.base),
        }
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.inner.script.lock().unwrap().extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    /// Requests answered with success.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Requests that broke the provider's rate (answered 429 by the rule, not by a script).
    pub fn violations(&self) -> u64 {
        *self.inner.violations.lock().unwrap()
    }
}

async fn handle_root(state: State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(state.0, String::new(), headers, body).await
}

async fn handle(
    state: State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(state.0, path, headers, body).await
}

fn rate_limited(p: Provider, secs: f64) -> Response {
    let whole = secs.ceil().max(1.0) as u64;
    match p {
        Provider::Telegram => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {whole}"), "parameters": {"retry_after": whole}})),
        )
            .into_response(),
        Provider::Discord => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("retry-after", whole.to_string()),
                ("x-ratelimit-limit", "5".into()),
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset-after", format!("{secs:.3}")),
                ("x-ratelimit-bucket", "fakebucket".into()),
            ],
            axum::Json(json!({"message": "You are being rate limited.", "retry_after": secs, "global": false})),
        )
            .into_response(),
        Provider::Slack | Provider::Webhook => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", whole.to_string())], "rate_limited").into_response()
        }
        Provider::Ntfy => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", whole.to_string())],
            axum::Json(json!({"code": 42901, "http": 429, "error": "limit reached: too many requests, please be nice", "link": "https://ntfy.sh/docs/publish/#limitations"})),
        )
            .into_response(),
    }
}

fn unauthorized(p: Provider) -> Response {
    match p {
        Provider::Telegram => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        )
            .into_response(),
        Provider::Discord => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
        )
            .into_response(),
        Provider::Slack => (StatusCode::FORBIDDEN, "invalid_token").into_response(),
        Provider::Ntfy => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"code": 40101, "http": 401, "error": "unauthorized"})),
        )
            .into_response(),
        Provider::Webhook => (StatusCode::UNAUTHORIZED, "unauthorized").into_response(),
    }
}

fn ok(p: Provider, body: &Value, remaining: usize) -> Response {
    match p {
        Provider::Telegram => axum::Json(json!({"ok": true, "result": {"message_id": 1, "date": 0, "chat": {"id": body["chat_id"]}, "text": body["text"]}})).into_response(),
        Provider::Discord => (
            StatusCode::OK,
            [
                ("x-ratelimit-limit", "5".to_string()),
                ("x-ratelimit-remaining", remaining.to_string()),
                ("x-ratelimit-reset-after", "2.000".into()),
                ("x-ratelimit-bucket", "fakebucket".into()),
            ],
            axum::Json(json!({"id": "1", "type": 0, "content": body["content"], "embeds": body["embeds"]})),
        )
            .into_response(),
        Provider::Slack => (StatusCode::OK, "ok").into_response(),
        Provider::Ntfy => axum::Json(json!({"id": "x1", "time": 0, "event": "message", "topic": body["topic"], "message": body["message"]})).into_response(),
        Provider::Webhook => (StatusCode::OK, "ok").into_response(),
    }
}

async fn answer(inner: Arc<Inner>, path: String, headers: HeaderMap, body: Bytes) -> Response {
    let at = Instant::now();
    let p = inner.provider;
    let scripted = inner.script.lock().unwrap().pop_front();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let record = |status: u16| {
        inner.received.lock().unwrap().push(Received {
            at,
            path: path.clone(),
            headers: headers.clone(),
            body: body.clone(),
            status,
        });
    };
    match scripted {
        Some(Scripted::RateLimited(s)) => {
            record(429);
            return rate_limited(p, s);
        }
        Some(Scripted::Status(code)) => {
            record(code);
            return (StatusCode::from_u16(code).unwrap(), axum::Json(json!({"ok": false, "error_code": code, "description": "Internal Server Error", "message": "upstream trouble"}))).into_response();
        }
        Some(Scripted::Unauthorized) => {
            let r = unauthorized(p);
            record(r.status().as_u16());
            return r;
        }
        Some(Scripted::Slow(d)) => tokio::time::sleep(d).await,
        Some(Scripted::Hang) => {
            record(0);
            std::future::pending::<()>().await;
        }
        None => {}
    }
    // Credentials, as the real ones check them.
    if let Some(token) = &inner.token {
        let good = match p {
            Provider::Telegram => path == format!("bot{token}/sendMessage"),
            Provider::Ntfy => {
                headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {token}"))
            }
            _ => true,
        };
        if !good {
            let r = unauthorized(p);
            record(r.status().as_u16());
            return r;
        }
    }
    if p == Provider::Telegram && json["chat_id"] == json!(-42) {
        record(400);
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"})),
        )
            .into_response();
    }
    // The provider's rate.
    let mut accepted = inner.accepted.lock().unwrap();
    for (n, d) in windows(p) {
        let slack = d.mul_f64(0.9);
        let inside = accepted.iter().filter(|t| at.duration_since(**t) < slack).count();
        if inside >= n {
            let oldest = accepted
                .iter()
                .filter(|t| at.duration_since(**t) < slack)
                .min()
                .copied()
                .unwrap_or(at);
            let wait = d.saturating_sub(at.duration_since(oldest)).as_secs_f64().max(0.1);
            drop(accepted);
            *inner.violations.lock().unwrap() += 1;
            record(429);
            return rate_limited(p, wait);
        }
    }
    accepted.push(at);
    let recent = accepted
        .iter()
        .filter(|t| at.duration_since(**t) < Duration::from_secs(2))
        .count();
    drop(accepted);
    record(200);
    ok(p, &json, 5usize.saturating_sub(recent))
}
