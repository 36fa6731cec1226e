//! The token lifecycle against the simulator: one issuance for concurrent callers and for two
//! processes starting at once, reuse across restarts, a 0600 cache file, a corrupt cache replaced,
//! revocation survived.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use common::{client, client_config, spawn_sim, temp_dir};
use kis::KisClient;
use kis_sim::SimConfig;
use market::StockCode;

fn samsung() -> StockCode {
    StockCode::parse("005930").unwrap()
}

#[tokio::test]
async fn concurrent_callers_share_one_issuance_and_a_restart_reuses_it() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("restart");
    let kis = client(&sim, 0, &dir);
    let calls = ["005930", "000660", "005380", "000270"].map(|c| kis.price(StockCode::parse(c).unwrap()));
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(
        sim.stats().token_requests,
        1,
        "four concurrent callers, one tokenP"
    );
    let path = kis.tokens().cache_path().unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "token cache {} must be private", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(common::credentials(kis_sim::Profile::Real, 0).app_key()));
    drop(kis);

    // A "restart": a new client on the same data dir uses the cached token.
    let again = client(&sim, 0, &dir);
    again.price(samsung()).await.unwrap();
    assert_eq!(again.tokens().issuances(), 0);
    assert_eq!(sim.stats().token_requests, 1, "no tokenP after a restart");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_cache_file_is_replaced() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("corrupt");
    let kis = client(&sim, 0, &dir);
    let path = kis.tokens().cache_path().unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"\x00\x01 definitely not a token").unwrap();
    kis.price(samsung()).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("access_token"), "replaced by a valid cache: {text}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_and_the_call_succeeds() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("revoke");
    let kis = client(&sim, 0, &dir);
    kis.price(samsung()).await.unwrap();
    common::faults(&sim, serde_json::json!({"revoke_tokens": true})).await;
    // The next call meets EGW00123, renews once (waiting out KIS's one-issuance-per-minute) and
    // succeeds.
    let started = std::time::Instant::now();
    kis.price(samsung()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(70));
    let stats = sim.stats();
    assert_eq!(stats.tokens_issued, 2, "{stats:?}");
    assert_eq!(stats.token_requests, 2, "no refused tokenP (EGW00133): {stats:?}");
    sim.shutdown().await;
}

/// Runs in a child process when `KIS_TOKEN_CHILD` is set: one price call through a fresh client.
#[tokio::test]
async fn child_process_entry() {
    let (Ok(url), Ok(dir)) = (
        std::env::var("KIS_TOKEN_CHILD_URL"),
        std::env::var("KIS_TOKEN_CHILD_DIR"),
    ) else {
        return; // not a child: nothing to do
    };
    let (key, secret) = kis_sim::demo_credentials(kis_sim::Profile::Real, 7);
    let mut config = kis::ClientConfig::new(
        kis::Environment::Custom {
            rest_url: url.clone(),
            ws_url: url.replace("http", "ws"),
            rate: 20,
            vts: false,
        },
        kis::Credentials::new(key, secret).unwrap(),
    )
    .with_data_dir(dir);
    config.retry = kis::retry::RetryPolicy::none();
    let kis = KisClient::new(config).unwrap();
    kis.price(samsung()).await.unwrap();
    println!("child issued {}", kis.tokens().issuances());
}

#[tokio::test]
async fn two_processes_starting_at_once_issue_one_token() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("two-processes");
    let exe = std::env::current_exe().unwrap();
    let spawn = || {
        Command::new(&exe)
            .args([
                "--exact",
                "child_process_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("KIS_TOKEN_CHILD_URL", sim.rest_url())
            .env("KIS_TOKEN_CHILD_DIR", &dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) =
        tokio::task::spawn_blocking(move || (a.wait_with_output().unwrap(), b.wait_with_output().unwrap()))
            .await
            .unwrap();
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "child failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let issued: Vec<String> = [&a, &b]
        .iter()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split("child issued ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let mut sorted = issued.clone();
    sorted.sort();
    assert_eq!(sorted, ["0", "1"], "exactly one child issued: {issued:?}");
    let stats = sim.stats();
    assert_eq!(stats.token_requests, 1, "one tokenP for two processes: {stats:?}");
    assert_eq!(stats.tokens_issued, 1);
    let cfg = client_config(&sim, 7, &dir);
    assert!(cfg.tokens.data_dir.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_approval_key_is_issued_once_and_cached_across_restarts() {
    use kis::realtime::ApprovalSource;
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("approval");
    let kis = client(&sim, 0, &dir);
    let store = kis.tokens().clone();
    let first = store.approval_key().await.unwrap();
    assert_eq!(
        first.expose().len(),
        36,
        "the simulator's approval keys are UUID-shaped"
    );
    assert_eq!(store.approval_key().await.unwrap(), first, "cached in memory");
    let source: std::sync::Arc<dyn ApprovalSource> = store.clone();
    assert_eq!(source.approval_key(false).await.unwrap(), first.expose());
    // A restart reads it from disk.
    let again = client(&sim, 0, &dir);
    assert_eq!(again.tokens().approval_key().await.unwrap(), first);
    assert_eq!(again.tokens().issuances(), 0);
    let path = dir.join("tokens");
    let files: Vec<_> = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("-approval.json")),
        "{files:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unusable_data_dir_does_not_stop_requests() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("unusable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    // `<file>/tokens/...` can never be created.
    let kis = client(&sim, 0, &file);
    kis.price(samsung()).await.unwrap();
    assert_eq!(sim.stats().token_requests, 1);
    sim.shutdown().await;
}
