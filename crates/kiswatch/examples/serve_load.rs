//! Load benchmark of `kiswatch serve` (`cargo run --release -p kiswatch --example serve_load`):
//! the failure to beat is a stock page firing four requests at once and getting HTTP 500s.
//!
//! * The simulator on the real profile (20 requests/s per app key) with 5..100 ms injected latency.
//! * Cold: 50 stocks × the four detail requests (price, order book, executions, and the daily chart
//!   the web UI's stock page asks for, `candles?period=D&count=400` with MA240) fired at once at a
//!   fresh kiswatch → every status, the wall time against the ideal
//!   `upstream calls / (20 / (1 s + RTT))`, and the simulator's `rate_limited` and `max_window`.
//! * Warm: for each stock, the four requests again right after a first round filled the caches →
//!   p50/p99 latency.
//! * Baseline, same run: the same upstream calls (price, order book, executions, daily chart per
//!   stock) sent straight to the simulator by a client that sends one request at a time and waits
//!   250 ms after each (a common fix), with its own app key.
//!
//! It prints a Markdown table for BENCHMARKS.md, the load average before the run, and a verdict per
//! target; it exits with status 1 when a target is missed.

mod bench;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::{load_average, percentile, stock_page_paths};
use kis::wire::Request;
use kis::wire::chart::{BarPeriod, PeriodChartRequest};
use kis::wire::quotations::{ExecutionsRequest, OrderBookRequest, PriceRequest};
use kis::{ClientConfig, Credentials, Environment, KisClient};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use kiswatch::App;
use kiswatch::config::{KisProfile, ServeConfig, UpstreamConfig};
use market::StockCode;
use tokio::sync::Semaphore;

/// The figure; `SERVE_LOAD_STOCKS=N` for a quick look with fewer.
const STOCKS: usize = 50;
const LATENCY: (u64, u64) = (5, 100);

/// The `p` quantile of an unsorted sample.
fn quantile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    percentile(&v, p)
}

async fn fire(http: &reqwest::Client, base: &str, paths: Vec<String>) -> Vec<(u16, Duration)> {
    let tasks: Vec<_> = paths
        .into_iter()
        .map(|p| {
            let (http, url) = (http.clone(), format!("{base}{p}"));
            tokio::spawn(async move {
                let t = Instant::now();
                let status = match http.get(&url).send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                (status, t.elapsed())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap_or((0, Duration::ZERO)));
    }
    out
}

/// One raw KIS GET (no governor), as a plain client would send it; `(ok, rtt)`.
async fn raw_get<R: Request>(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    key: &(String, String),
    r: &R,
) -> (bool, Duration) {
    let t = Instant::now();
    let resp = http
        .get(format!("{base}{}", R::PATH))
        .query(&r.query())
        .header("authorization", format!("Bearer {token}"))
        .header("appkey", &key.0)
        .header("appsecret", &key.1)
        .header("tr_id", R::TR_ID)
        .header("custtype", "P")
        .send()
        .await;
    let Ok(resp) = resp else {
        return (false, t.elapsed());
    };
    let body = resp.bytes().await.unwrap_or_default();
    let rtt = t.elapsed();
    (String::from_utf8_lossy(&body).contains("\"rt_cd\":\"0\""), rtt)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let load = load_average();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let stocks: usize = std::env::var("SERVE_LOAD_STOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STOCKS);
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
    let codes: Vec<StockCode> = sim
        .market()
        .stocks()
        .iter()
        .take(stocks)
        .map(|s| s.code)
        .collect();
    let dir = tempfile::tempdir()?;
    let app = App::start(ServeConfig::on_loopback(
        dir.path(),
        UpstreamConfig::simulator(&sim, KisProfile::Real),
        false,
    ))
    .await?;
    let base = app.url();
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let before = sim.stats();

    // Cold: everything at once.
    let all: Vec<String> = codes.iter().flat_map(|c| stock_page_paths(c.as_str())).collect();
    let t = Instant::now();
    let cold = fire(&http, &base, all).await;
    let cold_wall = t.elapsed();
    let after = sim.stats();
    let upstream = after.requests - before.requests;
    let ok = cold.iter().filter(|(s, _)| *s == 200).count();
    let mut other: Vec<u16> = cold.iter().map(|(s, _)| *s).filter(|s| *s != 200).collect();
    other.sort_unstable();
    other.dedup();
    let cold_lat: Vec<Duration> = cold.iter().map(|(_, d)| *d).collect();

    // Warm: per stock, a first round fills the caches, the second is measured.
    let mut warm = Vec::new();
    let mut warm_by_kind: [Vec<Duration>; 4] = Default::default();
    let mut warm_ok = 0;
    for c in &codes {
        fire(&http, &base, stock_page_paths(c.as_str()).to_vec()).await;
        let measured = fire(&http, &base, stock_page_paths(c.as_str()).to_vec()).await;
        for (k, (s, d)) in measured.into_iter().enumerate() {
            warm_ok += usize::from(s == 200);
            warm.push(d);
            warm_by_kind[k].push(d);
        }
    }
    let warm_stats = sim.stats();
    app.shutdown().await;

    // Baseline: the same upstream calls, one at a time with 250 ms pauses, own app key.
    let (bkey, bsecret) = demo_credentials(Profile::Real, 1);
    let env = Environment::Custom {
        rest_url: sim.rest_url(),
        ws_url: sim.ws_url(),
        rate: 20,
        vts: false,
    };
    let token = KisClient::new(ClientConfig::new(
        env,
        Credentials::new(bkey.clone(), bsecret.clone())?,
    ))?
    .tokens()
    .access_token()
    .await?
    .expose()
    .to_owned();
    let bkey = Arc::new((bkey, bsecret));
    let gate = Arc::new(Semaphore::new(1));
    let base_before = sim.stats().rate_limited;
    let today = sim.market().trading_date();
    let from = today.checked_sub(jiff::Span::new().days(600))?;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for code in codes.iter().copied() {
        for k in 0..4 {
            let (gate, http, url, token, key) = (
                gate.clone(),
                http.clone(),
                sim.rest_url(),
                token.clone(),
                bkey.clone(),
            );
            let issued = Instant::now();
            tasks.push(tokio::spawn(async move {
                let _one = gate.acquire().await.ok()?;
                let r = match k {
                    0 => raw_get(&http, &url, &token, &key, &PriceRequest { code }).await,
                    1 => raw_get(&http, &url, &token, &key, &OrderBookRequest { code }).await,
                    2 => raw_get(&http, &url, &token, &key, &ExecutionsRequest { code }).await,
                    _ => {
                        let r = PeriodChartRequest {
                            code,
                            period: BarPeriod::Day,
                            from,
                            to: today,
                            adjusted: true,
                        };
                        raw_get(&http, &url, &token, &key, &r).await
                    }
                };
                let answered = issued.elapsed();
                tokio::time::sleep(Duration::from_millis(250)).await;
                Some((r.0, r.1, answered))
            }));
        }
    }
    let mut base_ok = 0;
    let mut rtts = Vec::new();
    let mut base_lat = Vec::new();
    for t in tasks {
        if let Ok(Some((ok, rtt, answered))) = t.await {
            base_ok += usize::from(ok);
            rtts.push(rtt);
            base_lat.push(answered);
        }
    }
    let base_wall = t.elapsed();
    let base_rejected = sim.stats().rate_limited - base_before;
    let mean_rtt = rtts.iter().sum::<Duration>() / rtts.len().max(1) as u32;
    let ideal = Duration::from_secs_f64(upstream as f64 / (20.0 / (1.0 + mean_rtt.as_secs_f64())));

    let rate_limited = after.rate_limited - before.rate_limited;
    let warm_p99 = quantile(warm.clone(), 0.99);
    println!(
        "kiswatch serve load: {stocks} stocks × 4 detail requests, simulator real profile (20/s), latency {}..{} ms",
        LATENCY.0, LATENCY.1
    );
    println!("machine: {cpus} CPUs; load average before the run {}", load);
    println!();
    println!(
        "| run | requests | 200 | upstream calls | wall | ideal | p50 | p99 | rate_limited | max_window |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| kiswatch cold | {} | {ok} | {upstream} | {:.2} s | {:.2} s | {} ms | {} ms | {rate_limited} | {} |",
        cold.len(),
        cold_wall.as_secs_f64(),
        ideal.as_secs_f64(),
        quantile(cold_lat.clone(), 0.5).as_millis(),
        quantile(cold_lat, 0.99).as_millis(),
        after.max_window,
    );
    println!(
        "| kiswatch warm | {} | {warm_ok} | {} | – | – | {:.2} ms | {:.2} ms | {} | – |",
        warm.len(),
        warm_stats.requests - after.requests,
        quantile(warm.clone(), 0.5).as_secs_f64() * 1000.0,
        warm_p99.as_secs_f64() * 1000.0,
        warm_stats.rate_limited - after.rate_limited,
    );
    println!(
        "| semaphore(1) + 250 ms, same calls straight to the simulator | {} | {base_ok} | {} | {:.2} s | – | {} ms | {} ms | {base_rejected} | – |",
        codes.len() * 4,
        codes.len() * 4,
        base_wall.as_secs_f64(),
        quantile(base_lat.clone(), 0.5).as_millis(),
        quantile(base_lat, 0.99).as_millis(),
    );
    println!();
    println!(
        "mean upstream RTT {:.1} ms (measured by the baseline); ideal = upstream calls / (20 / (1 s + RTT)) = {upstream} / {:.2} per s",
        mean_rtt.as_secs_f64() * 1000.0,
        20.0 / (1.0 + mean_rtt.as_secs_f64()),
    );
    let kinds = ["price", "orderbook", "executions", "candles"];
    let by_kind: Vec<String> = kinds
        .iter()
        .zip(&warm_by_kind)
        .map(|(k, v)| {
            format!(
                "{k} {:.2}/{:.2}",
                quantile(v.clone(), 0.5).as_secs_f64() * 1000.0,
                quantile(v.clone(), 0.99).as_secs_f64() * 1000.0
            )
        })
        .collect();
    println!("warm p50/p99 by request (ms): {}", by_kind.join(", "));
    println!(
        "cold wall / ideal = {:.3}; baseline wall / kiswatch cold wall = {:.2}×",
        cold_wall.as_secs_f64() / ideal.as_secs_f64(),
        base_wall.as_secs_f64() / cold_wall.as_secs_f64(),
    );
    let verdicts = [
        (
            "every cold response 200",
            ok == cold.len(),
            format!("{ok}/{} (others: {other:?})", cold.len()),
        ),
        ("rate_limited 0", rate_limited == 0, rate_limited.to_string()),
        (
            "max_window ≤ 20",
            after.max_window <= 20,
            after.max_window.to_string(),
        ),
        (
            "warm p99 < 5 ms",
            warm_p99 < Duration::from_millis(5),
            format!("{:.2} ms", warm_p99.as_secs_f64() * 1000.0),
        ),
    ];
    let mut missed = false;
    for (what, held, figure) in verdicts {
        println!("{} {what}: {figure}", if held { "ok  " } else { "MISS" });
        missed |= !held;
    }
    sim.shutdown().await;
    if missed {
        std::process::exit(1);
    }
    Ok(())
}
