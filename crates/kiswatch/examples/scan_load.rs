//! Pages while 조건검색 works (`cargo run --release -p kiswatch --example scan_load`): does a market
//! scan's background work (sweeps of the whole universe and its daily backfill, both at background
//! priority) keep stock pages responsive?
//!
//! * The simulator on the real profile (20 requests/s per app key, its 2,565 listings) with 5..100 ms
//!   injected latency; `kiswatch serve` with its background work on.
//! * Quiet: `PAGES` stock pages opened one after another (each the four requests a page fires at once:
//!   price, order book, executions, daily chart with MA240), cold stocks → the time each page's four
//!   answers took.
//! * Busy: a market-scope condition over the whole universe is created; once its first sweep has run,
//!   `PAGES` other cold stocks are opened the same way while sweeps and the backfill go on.
//!
//! Prints both distributions, the upstream calls made meanwhile by kind, and the simulator's
//! `rate_limited` (must stay 0).

mod bench;

use std::time::{Duration, Instant};

use bench::{load_average, percentile, stock_page_paths};
use kis_sim::{Profile, SimConfig, SimServer};
use kiswatch::App;
use kiswatch::config::{KisProfile, ServeConfig, UpstreamConfig};
use serde_json::{Value, json};

const PAGES: usize = 30;
const LATENCY: (u64, u64) = (5, 100);

/// Opens one page (its four requests at once); the time until the last answer, and whether all were 200.
async fn open_page(http: &reqwest::Client, base: &str, code: &str) -> (Duration, bool) {
    let t = Instant::now();
    let tasks: Vec<_> = stock_page_paths(code)
        .into_iter()
        .map(|p| {
            let (http, url) = (http.clone(), format!("{base}{p}"));
            tokio::spawn(async move {
                http.get(&url)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut ok = true;
    for task in tasks {
        ok &= task.await.unwrap_or(0) == 200;
    }
    (t.elapsed(), ok)
}

async fn pages(http: &reqwest::Client, base: &str, codes: &[String]) -> (Vec<Duration>, usize) {
    let mut times = Vec::new();
    let mut failed = 0;
    for code in codes {
        let (took, ok) = open_page(http, base, code).await;
        failed += usize::from(!ok);
        times.push(took);
        // A person reads a page for a moment before the next.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    times.sort();
    (times, failed)
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let load = load_average();
    let sim = SimServer::start(
        SimConfig {
            profile: Profile::Real,
            latency_ms: Some(LATENCY),
            control: true,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    // Ordinary listings, far from the first 76 large caps (nothing cached, nothing stored).
    let codes: Vec<String> = sim
        .market()
        .stocks()
        .iter()
        .skip(200)
        .take(2 * PAGES)
        .map(|s| s.code.to_string())
        .collect();
    let dir = tempfile::tempdir()?;
    let app = App::start(ServeConfig::on_loopback(
        dir.path(),
        UpstreamConfig::simulator(&sim, KisProfile::Real),
        true,
    ))
    .await?;
    let base = app.url();
    let http = reqwest::Client::new();

    let (quiet, quiet_failed) = pages(&http, &base, &codes[..PAGES]).await;

    let created: Value = http
        .post(format!("{base}/api/v1/conditions"))
        .json(
            &json!({"expr": "D: 정배열", "scope": "market", "filters": {"exclude": ["etf", "etn", "spac"]}}),
        )
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_u64().expect("the condition is stored");
    let calls_before = get(&http, format!("{base}/api/v1/health")).await["upstream"]["calls"].clone();
    let wait = Instant::now();
    while get(&http, format!("{base}/api/v1/conditions/{id}/matches")).await["as_of"].is_null() {
        anyhow::ensure!(
            wait.elapsed() < Duration::from_secs(60),
            "no sweep within a minute"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let busy_started = Instant::now();
    let (busy, busy_failed) = pages(&http, &base, &codes[PAGES..]).await;
    let busy_secs = busy_started.elapsed().as_secs_f64();
    let health = get(&http, format!("{base}/api/v1/health")).await;
    let calls = &health["upstream"]["calls"];
    let delta = |k: &str| calls[k].as_u64().unwrap_or(0) - calls_before[k].as_u64().unwrap_or(0);
    let stats = sim.stats();
    app.shutdown().await;

    println!("load average before the run: {load}");
    println!("| pages ({PAGES} each, cold, 4 requests at once) | p50 | p90 | p99 | max | failed |");
    println!("|---|---|---|---|---|---|");
    for (what, t, failed) in [
        ("quiet", &quiet, quiet_failed),
        ("during sweeps and the universe backfill", &busy, busy_failed),
    ] {
        println!(
            "| {what} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {failed} |",
            ms(percentile(t, 0.5)),
            ms(percentile(t, 0.9)),
            ms(percentile(t, 0.99)),
            ms(*t.last().unwrap()),
        );
    }
    println!(
        "while busy ({busy_secs:.0} s): {} multi_price (sweep) calls, {} daily-history calls; simulator rate_limited {}",
        delta("multi_price"),
        delta("daily"),
        stats.rate_limited
    );
    Ok(())
}
