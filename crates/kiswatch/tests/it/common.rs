//! Shared test helpers: kiswatch started on port 0 (in-process, the same `App` the binary runs)
//! against a simulator, and small HTTP helpers.

use std::future::Future;
use std::time::{Duration, Instant};

use kis_sim::{Profile, SimConfig, SimServer};
use kiswatch::App;
use kiswatch::config::{DemoContent, KisProfile, LiveConfig, ServeConfig, UpstreamConfig};
use serde_json::Value;

pub struct TestApp {
    pub app: App,
    pub url: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub fn config(dir: &std::path::Path, upstream: UpstreamConfig, background: bool) -> ServeConfig {
    ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        upstream,
        token: None,
        demo: DemoContent {
            seed_watchlist: false,
            steer: false,
        },
        live: LiveConfig::default(),
        background,
        outbound: Default::default(),
    }
}

/// kiswatch in demo mode (its own embedded simulator) without demo content.
pub async fn spawn_demo(background: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        UpstreamConfig::Demo { seed: 42, speed: 1.0 },
        background,
    );
    spawn_with(cfg, dir).await
}

pub async fn spawn_with(cfg: ServeConfig, dir: tempfile::TempDir) -> TestApp {
    // `RUST_LOG=kiswatch=debug cargo test ...` shows the service's log beside a failing test.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let app = App::start(cfg).await.expect("kiswatch starts");
    let url = app.url();
    TestApp {
        app,
        url,
        http: reqwest::Client::new(),
        dir,
    }
}

/// A simulator the test owns (it outlives kiswatch restarts).
pub async fn simulator(profile: Profile) -> SimServer {
    SimServer::start(
        SimConfig {
            profile,
            control: true,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

/// The `custom` upstream pointing at `sim`.
pub fn custom(sim: &SimServer, profile: KisProfile) -> UpstreamConfig {
    let sim_profile = match profile {
        KisProfile::Real => Profile::Real,
        KisProfile::Vts => Profile::Vts,
    };
    let (key, secret) = kis_sim::demo_credentials(sim_profile, 0);
    UpstreamConfig::Custom {
        rest_url: sim.rest_url(),
        ws_url: sim.ws_url(),
        profile,
        rate: None,
        credentials: kis::Credentials::new(key, secret).unwrap(),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get_full(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).send().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.app.shutdown().await;
        self.dir
    }
}

/// Polls `check` until it yields `Some` or `limit` passes (waiting on asynchronous effects, not a
/// sleep standing in for synchronisation).
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An error body's code.
pub fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// Whether a time is RFC 3339 in KST.
pub fn is_kst(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.ends_with("+09:00") && s.len() == 25)
}

/// kiswatch in demo mode (seed 7) at `speed` virtual seconds per real second, half an hour into the
/// session (the opening auction's minute is not what the realtime tests are about), watching the
/// simulator's first `n` stocks.
pub async fn watching(n: usize, speed: f64) -> (TestApp, Vec<market::StockCode>) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), UpstreamConfig::Demo { seed: 7, speed }, true);
    let t = spawn_with(cfg, dir).await;
    let (status, c) = t
        .post("/sim/clock", serde_json::json!({"advance_secs": 1800}))
        .await;
    assert_eq!(status, 200, "{c}");
    let codes: Vec<market::StockCode> = t
        .app
        .sim()
        .unwrap()
        .market()
        .stocks()
        .iter()
        .map(|s| s.code)
        .take(n)
        .collect();
    assert_eq!(codes.len(), n, "the simulator lists enough stocks");
    for code in &codes {
        let (status, body) = t
            .post("/api/v1/watchlist", serde_json::json!({"code": code.as_str()}))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    (t, codes)
}

/// Waits until the simulator holds `n` registrations and the service agrees on who is realtime
/// (`/api/v1/health`'s live feed).
pub async fn registered(t: &TestApp, n: usize) {
    eventually(Duration::from_secs(9), "the registrations", || async {
        let (_, s) = t.get("/sim/stats").await;
        let (_, h) = t.get("/api/v1/health").await;
        (s["subscriptions"] == n as u64 && h["live"]["feed"]["realtime"] == n as u64).then_some(())
    })
    .await;
}

/// Every `trigger` and `trigger_unstored` message one browser connection receives, collected in the
/// background: the connection resumes after 0 at once (so its trigger hold ends), as the web UI does.
pub struct TriggerWatch {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TriggerWatch {
    /// Connects to `base` (`http://host:port`).
    pub async fn connect(base: &str) -> TriggerWatch {
        use futures_util::{SinkExt as _, StreamExt as _};
        use tokio_tungstenite::tungstenite::Message;
        let url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        ws.send(Message::Text(
            serde_json::json!({"op": "resume", "after_trigger_id": 0})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = seen.clone();
        let task = tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(t) = msg
                    && let Ok(v) = serde_json::from_str::<Value>(&t)
                    && (v["type"] == "trigger" || v["type"] == "trigger_unstored")
                {
                    into.lock().unwrap().push(v);
                }
            }
        });
        TriggerWatch { seen, task }
    }

    /// The trigger messages so far, in arrival order.
    pub fn seen(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }

    /// The stored ones (`trigger`, with an id).
    pub fn stored(&self) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|t| t["type"] == "trigger")
            .collect()
    }

    /// The unstored ones (`trigger_unstored`: `persisted: false`, no id).
    pub fn unstored(&self) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|t| t["type"] == "trigger_unstored")
            .collect()
    }
}

impl Drop for TriggerWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every stored trigger, oldest first, paged through `GET /api/v1/triggers?after=`.
pub async fn all_triggers(http: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page: Vec<Value> = http
            .get(format!("{base}/api/v1/triggers?after={after}&limit=1000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = page.len();
        if let Some(last) = page.last() {
            after = last["id"].as_u64().unwrap();
        }
        all.extend(page);
        if n < 1000 {
            return all;
        }
    }
}
