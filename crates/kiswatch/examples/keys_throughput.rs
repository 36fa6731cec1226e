//! REST throughput of one service with 1 and 3 app keys, against the simulator (which counts every
//! limit per key), through the service's own [`KeyPool`]: a burst of uncached price calls, 64 in
//! flight, spread by free capacity. The ideal for K keys of N requests a second is
//! `K·N / (window + margin + mean RTT)` — a slot is held for the request's round trip and then for
//! the window plus the governor's margin (1.025 s) — and `rate_limited` must stay 0.
//!
//! ```text
//! cargo run --release -p kiswatch --example keys_throughput [REQUESTS_PER_KEY]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use kis::{ClientConfig, Credentials, Environment, KisClient, Priority};
use kis_sim::{Profile, SimConfig, SimServer};
use kiswatch::upstream::KeyPool;
use market::StockCode;

const IN_FLIGHT: usize = 64;

fn client(sim: &SimServer, index: u32) -> anyhow::Result<KisClient> {
    let (key, secret) = kis_sim::demo_credentials(Profile::Real, index);
    let env = Environment::Custom {
        rest_url: sim.rest_url(),
        ws_url: sim.ws_url(),
        rate: Profile::Real.default_rate(),
        vts: false,
    };
    let mut config = ClientConfig::new(env, Credentials::new(key, secret)?);
    // Every call reaches the simulator (no two identical calls folded into one).
    config.coalesce = false;
    Ok(KisClient::new(config)?)
}

/// Mean round trip of `n` sequential calls on a key of its own (no queueing).
async fn mean_rtt(sim: &SimServer, codes: &[StockCode], n: usize) -> anyhow::Result<Duration> {
    let c = client(sim, 9)?;
    c.price(codes[0]).await?; // the token
    let started = Instant::now();
    for code in codes.iter().cycle().take(n) {
        c.price(*code).await?;
    }
    Ok(started.elapsed() / u32::try_from(n)?)
}

async fn run(
    sim: &SimServer,
    clients: &[KisClient],
    per_key: usize,
    codes: &[StockCode],
    rtt: Duration,
) -> anyhow::Result<()> {
    let keys = u32::try_from(clients.len())?;
    let pool = Arc::new(KeyPool::new(clients.to_vec()));
    // Tokens first, and the start pacing out of the way: one call per key.
    for k in pool.keys() {
        k.client.price(codes[0]).await?;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = sim.stats();
    let total = per_key * keys as usize;
    let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let (pool, permits, code) = (pool.clone(), permits.clone(), codes[i % codes.len()]);
        tasks.spawn(async move {
            let _p = permits.acquire_owned().await.expect("open");
            pool.call(Priority::Interactive, |c| async move { c.price(code).await })
                .await
        });
    }
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        if !matches!(r, Ok(Ok(_))) {
            failed += 1;
        }
    }
    let wall = started.elapsed();
    let after = sim.stats();
    let rate = f64::from(Profile::Real.default_rate());
    let ideal = f64::from(keys) * rate / (1.025 + rtt.as_secs_f64());
    let got = total as f64 / wall.as_secs_f64();
    println!(
        "| {keys} | {total} | {:.2} s | {got:.1}/s | {ideal:.1}/s | {:.1} % | {} | {failed} |",
        wall.as_secs_f64(),
        100.0 * got / ideal,
        after.rate_limited - before.rate_limited,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let per_key: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);
    let sim = SimServer::start(
        SimConfig {
            profile: Profile::Real,
            latency_ms: Some((5, 30)),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let codes: Vec<StockCode> = sim.market().stocks().iter().map(|s| s.code).collect();
    let rtt = mean_rtt(&sim, &codes, 15).await?;
    println!(
        "simulator latency 5..30 ms, mean RTT {:.1} ms, {IN_FLIGHT} in flight",
        rtt.as_secs_f64() * 1000.0
    );
    println!();
    println!(
        "| keys | requests | wall | throughput | ideal K·N/(1.025 s + RTT) | of ideal | rate_limited | failed |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    // One client per key for the whole run: KIS issues a key one token a minute.
    let clients = (0..3)
        .map(|i| client(&sim, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for keys in [1, 3] {
        run(&sim, &clients[..keys], per_key, &codes, rtt).await?;
    }
    sim.shutdown().await;
    Ok(())
}
