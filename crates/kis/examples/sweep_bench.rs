//! A sweep of the simulator's whole universe (2,565 listings) through `intstock-multprice`, 30 codes
//! a call, at KIS's real rate (20/s) and at the 모의투자 rate (2/s), at background priority, with
//! the simulator's default latency: the sweep's wall time, the calls, and `rate_limited` at the
//! simulator (must be 0). The per-stock fallback's time on 모의투자 is stated from the same rate.
//!
//! `cargo run -p kis --example sweep_bench` (about a minute; `--release` for a faster simulator).

use std::time::{Duration, Instant};

use kis::wire::scan::MULTPRICE_MAX_CODES;
use kis::{ClientConfig, Credentials, Environment, KisClient, Priority};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use market::StockCode;

async fn sweep(profile: Profile) {
    let sim = SimServer::start(
        SimConfig {
            profile,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("simulator");
    let dir = std::env::temp_dir().join(format!("kis-sweep-bench-{}-{profile:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (key, secret) = demo_credentials(profile, 0);
    let mut config = ClientConfig::new(
        Environment::Custom {
            rest_url: sim.rest_url(),
            ws_url: sim.ws_url(),
            rate: profile.default_rate(),
            vts: profile == Profile::Vts,
        },
        Credentials::new(key, secret).expect("demo credentials"),
    )
    .with_data_dir(&dir);
    config.request_timeout = Duration::from_secs(30);
    let kis = KisClient::new(config)
        .expect("client")
        .with_priority(Priority::Background);
    let codes: Vec<StockCode> = sim.market().stocks().iter().map(|s| s.code).collect();
    // The token first, so the sweep measures the calls alone.
    kis.price(codes[0]).await.expect("first call");
    let start = Instant::now();
    let mut rows = 0;
    let chunks: Vec<Vec<StockCode>> = codes.chunks(MULTPRICE_MAX_CODES).map(<[_]>::to_vec).collect();
    let calls = chunks.len();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let kis = kis.clone();
            tokio::spawn(async move { kis.multi_price(chunk).await })
        })
        .collect();
    for t in tasks {
        rows += t.await.expect("task").expect("multprice").len();
    }
    let took = start.elapsed();
    let rate = profile.default_rate();
    println!(
        "{profile:?} ({rate}/s): {} listings, {calls} multprice calls, {rows} rows in {:.1} s; rate_limited {}; \
         per-stock fallback would take {:.0} s ({} calls at {rate}/s)",
        codes.len(),
        took.as_secs_f64(),
        sim.stats().rate_limited,
        codes.len() as f64 / f64::from(rate),
        codes.len(),
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::main]
async fn main() {
    sweep(Profile::Real).await;
    sweep(Profile::Vts).await;
}
