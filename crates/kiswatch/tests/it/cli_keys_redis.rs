//! Two `kiswatch serve` processes with their own data directories (standing for two machines: no
//! file in common) on one app key through one Redis (`--ledger`), against the simulator:
//!
//! * a burst of page requests at both at once draws no EGW00201, never more than the key's 20 in a
//!   second, and one token issuance serves both;
//! * one is killed (`kill -9`) in the middle of a burst, holding slots: the other goes on — the
//!   dead process's slots come back within their lease — still without a rejection;
//! * Redis restarted empty mid-run: the survivor goes on after the new epoch's hold, no rejection.

use crate::binary::Running;
use crate::redis_server::RedisServer;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kis_sim::{Profile, SimConfig, SimServer};

const KISWATCH: &str = env!("CARGO_BIN_EXE_kiswatch");

/// `kiswatch serve` on the simulator with key 0, slots and tokens through `ledger`; its URL.
fn serve(sim: &SimServer, ledger: &str, data_dir: &std::path::Path) -> (Running, String) {
    let (key, secret) = kis_sim::demo_credentials(Profile::Real, 0);
    let (running, url, _) = crate::binary::start(
        Command::new(KISWATCH)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--kis",
                "custom",
                "--kis-rest-url",
            ])
            .arg(sim.rest_url())
            .args(["--ledger", ledger, "--data-dir"])
            .arg(data_dir)
            .env("KIS_APP_KEY", key)
            .env("KIS_APP_SECRET", secret)
            .env_remove("KISWATCH_TOKEN")
            .env("RUST_LOG", "warn")
            .stderr(Stdio::null()),
        Duration::from_secs(30),
    );
    (running, url)
}

/// One uncached price page request per code, 16 at a time; how many succeeded.
async fn burst(http: &reqwest::Client, url: &str, codes: &[String]) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for code in codes {
        let (http, page, permits) = (
            http.clone(),
            format!("{url}/api/v1/stocks/{code}/price"),
            permits.clone(),
        );
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            http.get(page).send().await.is_ok_and(|r| r.status().is_success())
        });
    }
    tasks.join_all().await.into_iter().filter(|ok| *ok).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_on_one_key_share_it_through_redis() {
    let Some(redis) = RedisServer::start("two-services") else {
        return;
    };
    let sim = SimServer::start(
        SimConfig {
            profile: Profile::Real,
            latency_ms: Some((5, 30)),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let codes: Vec<String> = sim
        .market()
        .stocks()
        .iter()
        .map(|s| s.code.as_str().to_string())
        .collect();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, a_url) = serve(&sim, &redis.url(), a_dir.path());
    let (_b, b_url) = serve(&sim, &redis.url(), b_dir.path());
    let http = reqwest::Client::new();

    // Both at once, each its own 40 stocks (nothing cached anywhere).
    let (first, second) = codes.split_at(codes.len() / 2);
    let (first, second) = (&first[..40.min(first.len())], &second[..40.min(second.len())]);
    let started = Instant::now();
    let (ok_a, ok_b) = tokio::join!(burst(&http, &a_url, first), burst(&http, &b_url, second));
    let wall = started.elapsed();
    let stats = sim.stats();
    eprintln!(
        "two services, one key, one Redis: {} + {} pages in {wall:?}; {stats:?}",
        ok_a, ok_b
    );
    assert_eq!((ok_a, ok_b), (first.len(), second.len()), "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 20, "{stats:?}");
    assert_eq!(
        stats.tokens_issued, 1,
        "one issuance for both machines: {stats:?}"
    );

    // Kill A in the middle of a burst (it holds slots), while B asks for the stocks A had.
    let before = sim.stats().requests;
    let killer = tokio::spawn({
        let (http, a_url, second) = (http.clone(), a_url.clone(), second.to_vec());
        async move { burst(&http, &a_url, &second).await }
    });
    // Mid-burst: once A's requests reach the simulator.
    crate::common::eventually(Duration::from_secs(10), "A's burst under way", || async {
        (sim.stats().requests >= before + 5).then_some(())
    })
    .await;
    drop(a); // SIGKILL
    let _ = killer.await;
    let ok_b = burst(&http, &b_url, first).await;
    let stats = sim.stats();
    eprintln!("after kill -9 of the other: {ok_b} pages; {stats:?}");
    assert_eq!(ok_b, first.len(), "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 20, "{stats:?}");

    // Redis restarted (empty) mid-run: B goes on after the new epoch's hold, still no rejection.
    let mut redis = redis;
    redis.kill();
    redis.run();
    let ok_b = burst(&http, &b_url, second).await;
    let stats = sim.stats();
    eprintln!("after a Redis restart: {ok_b} pages; {stats:?}");
    assert_eq!(ok_b, second.len(), "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 20, "{stats:?}");
    sim.shutdown().await;
}
