//! Several processes on one app key against the simulator at KIS's real rate (20/s, latency
//! 5..100 ms): total time, EGW00201 and the fullest 1-second window, beside one process doing
//! all the requests, in one run on one machine.
//!
//! `cargo run --release -p kis --example multi_process_bench` (about two minutes; set
//! `KIS_BENCH_REQUESTS` for the requests per process, default 200). The processes are this
//! example started again with `--child`; they share a fresh data dir (and so the file slot ledger)
//! per scenario, and each scenario has its own simulator, so its counters are its own.
//!
//! With `KIS_BENCH_LEDGER=redis://host:port` the processes share the Redis ledger instead (slots,
//! rate and token; one database per scenario, 1 to 4, so that no scenario sees another's token)
//! and no file ledger.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kis::{ClientConfig, Credentials, Environment, KisClient};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use market::StockCode;

const CODES: [&str; 6] = ["005930", "000660", "005380", "000270", "068270", "035420"];
const TASKS: usize = 25;

fn client(url: &str, dir: &Path, ledger: Option<&str>) -> KisClient {
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let mut config = ClientConfig::new(
        Environment::Custom {
            rest_url: url.to_owned(),
            ws_url: url.replace("http", "ws"),
            rate: 20,
            vts: false,
        },
        Credentials::new(key, secret).expect("demo credentials"),
    )
    .with_data_dir(dir);
    config.coalesce = false;
    config.request_timeout = Duration::from_secs(30);
    if let Some(ledger) = ledger {
        config.share_slots = false;
        config.ledger_url = Some(ledger.to_owned());
    }
    KisClient::new(config).expect("client")
}

/// A child: `requests` price calls from `TASKS` tasks; prints its failures.
async fn child(url: String, dir: String, requests: usize, ledger: Option<String>) {
    let kis = client(&url, Path::new(&dir), ledger.as_deref());
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (kis, next, failed) = (kis.clone(), next.clone(), failed.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let code = StockCode::parse(CODES[i % CODES.len()]).expect("code");
                    if kis.price(code).await.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    println!("failed {}", failed.load(Ordering::Relaxed));
}

struct Row {
    processes: usize,
    each: usize,
    wall: Duration,
    failed: usize,
    rate_limited: u64,
    max_window: u64,
    arrived: u64,
}

async fn scenario(processes: usize, each: usize, ledger: Option<String>) -> Row {
    let sim = SimServer::start(
        SimConfig {
            latency_ms: Some((5, 100)),
            control: true,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator");
    let dir = std::env::temp_dir().join(format!("kis-multi-bench-{}-{processes}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The token first, outside the measurement (the children find it in the data dir).
    client(&sim.rest_url(), &dir, ledger.as_deref())
        .tokens()
        .access_token()
        .await
        .expect("token");
    let before = sim.stats();
    let exe = std::env::current_exe().expect("exe");
    let started = Instant::now();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .arg("--child")
                .arg(sim.rest_url())
                .arg(&dir)
                .arg(each.to_string())
                .args(ledger.iter())
                .stdout(Stdio::piped())
                .spawn()
                .expect("child")
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("child output"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    let wall = started.elapsed();
    let failed = outputs
        .iter()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split("failed ")
                .nth(1)
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(each)
        })
        .sum();
    let stats = sim.stats();
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Row {
        processes,
        each,
        wall,
        failed,
        rate_limited: stats.rate_limited - before.rate_limited,
        max_window: stats.max_window,
        arrived: stats.requests - before.requests,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if args.get(1).map(String::as_str) == Some("--child") {
        let requests = args[4].parse().expect("requests");
        rt.block_on(child(
            args[2].clone(),
            args[3].clone(),
            requests,
            args.get(5).cloned(),
        ));
        return;
    }
    let each: usize = std::env::var("KIS_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let ledger = std::env::var("KIS_BENCH_LEDGER").ok();
    // One Redis database per scenario: each scenario's simulator issues its own token.
    let db = |n: usize| {
        ledger
            .as_ref()
            .map(|url| format!("{}/{n}", url.trim_end_matches('/')))
    };
    rt.block_on(async {
        println!(
            "Real profile (20/s), latency 5..100 ms, {TASKS} tasks per process, one app key, {}\n",
            if ledger.is_some() { "one Redis ledger" } else { "one data dir" }
        );
        println!(
            "| processes × requests | total time | vs one process doing all | EGW00201 at server | max arrivals in 1 s | failed | arrived |"
        );
        println!("|---|---|---|---|---|---|---|");
        for (i, processes) in [2, 4].into_iter().enumerate() {
            let one = scenario(1, processes * each, db(2 * i + 1)).await;
            let many = scenario(processes, each, db(2 * i + 2)).await;
            for row in [&one, &many] {
                println!(
                    "| {} × {} | {:.2} s | {:+.1}% | {} | {} | {} | {} |",
                    row.processes,
                    row.each,
                    row.wall.as_secs_f64(),
                    100.0 * (row.wall.as_secs_f64() / one.wall.as_secs_f64() - 1.0),
                    row.rate_limited,
                    row.max_window,
                    row.failed,
                    row.arrived,
                );
            }
        }
    });
}
