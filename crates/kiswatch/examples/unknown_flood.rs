//! What a flood of unknown stock codes costs everyone else (issue 21, "unknown codes remembered"):
//! `cargo run --release -p kiswatch --example unknown_flood`.
//!
//! * The simulator in-process on the real profile (20 requests/s per app key), 5..100 ms latency;
//!   kiswatch in-process against it (`--kis custom --kis-profile real`, no backfill or polling).
//! * A probe client asks one listed stock's `/snapshot` every 50 ms for 10 s, first alone, then while
//!   20 other clients loop over 61 well-formed codes upstream does not know (`/snapshot` each, as
//!   fast as they are answered).
//! * Printed: the probe's p50/p99 in both phases, the flood's requests and the upstream calls it
//!   cost (the simulator's count), as a Markdown row for BENCHMARKS.md.

mod bench;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench::{load_average, percentile};
use kis_sim::{Profile, SimConfig, SimServer};
use kiswatch::App;
use kiswatch::config::{KisProfile, ServeConfig, UpstreamConfig};

const FLOODERS: usize = 20;
const UNKNOWN: usize = 61;
const PROBE_EVERY: Duration = Duration::from_millis(50);
const PHASE: Duration = Duration::from_secs(10);

/// The probe's latencies over one phase.
async fn probe(http: &reqwest::Client, url: &str) -> Vec<Duration> {
    let mut out = Vec::new();
    let start = Instant::now();
    let mut tick = tokio::time::interval(PROBE_EVERY);
    while start.elapsed() < PHASE {
        tick.tick().await;
        let t = Instant::now();
        let r = http.get(url).send().await.expect("the probe is answered");
        assert_eq!(r.status(), 200, "the probe's snapshot");
        let _ = r.bytes().await;
        out.push(t.elapsed());
    }
    out.sort();
    out
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let load = load_average();
    let sim = SimServer::start(
        SimConfig {
            profile: Profile::Real,
            latency_ms: Some((5, 100)),
            control: true,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let listed: HashSet<String> = sim.market().stocks().iter().map(|s| s.code.to_string()).collect();
    let unknown: Vec<String> = (0..)
        .map(|i| format!("99{:04}", i * 37 + 11))
        .filter(|c| !listed.contains(c))
        .take(UNKNOWN)
        .collect();
    let probe_code = sim.market().stocks()[0].code.to_string();
    let dir = tempfile::tempdir()?;
    let app = App::start(ServeConfig::on_loopback(
        dir.path(),
        UpstreamConfig::simulator(&sim, KisProfile::Real),
        false,
    ))
    .await?;
    let base = app.url();
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let probe_url = format!("{base}/api/v1/stocks/{probe_code}/snapshot");
    // Warm the probe's name and caches once.
    http.get(&probe_url).send().await?.bytes().await?;

    let quiet = probe(&http, &probe_url).await;

    let stop = Arc::new(AtomicBool::new(false));
    let flood_requests = Arc::new(AtomicU64::new(0));
    let before = sim.stats();
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|f| {
            let (http, base, codes) = (http.clone(), base.clone(), unknown.clone());
            let (stop, count) = (stop.clone(), flood_requests.clone());
            tokio::spawn(async move {
                let mut i = f;
                while !stop.load(Ordering::Relaxed) {
                    let url = format!("{base}/api/v1/stocks/{}/snapshot", codes[i % codes.len()]);
                    if let Ok(r) = http.get(&url).send().await {
                        let _ = r.bytes().await;
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    let flooded = probe(&http, &probe_url).await;
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        f.await?;
    }
    let after = sim.stats();
    let upstream = (after.requests - after.token_requests) - (before.requests - before.token_requests);
    println!("load average before the run: {load}");
    println!(
        "| probe alone p50 / p99 | probe during the flood p50 / p99 | flood requests | upstream calls during the flood | rate_limited |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {} / {} | {} / {} | {} | {} | {} |",
        ms(percentile(&quiet, 0.5)),
        ms(percentile(&quiet, 0.99)),
        ms(percentile(&flooded, 0.5)),
        ms(percentile(&flooded, 0.99)),
        flood_requests.load(Ordering::Relaxed),
        upstream,
        after.rate_limited,
    );
    app.shutdown().await;
    sim.shutdown().await;
    Ok(())
}
