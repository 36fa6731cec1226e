//! Start-up and whole-universe costs of the simulator (BENCHMARKS.md, "Simulator universe").
//!
//! `cargo run --release -p kis-sim --example universe_bench -- first [CODE]`
//!   In a fresh process: start the simulator on loopback (market and stock table included), issue a
//!   token, send one inquire-price for CODE (default 005930); prints the time from before
//!   `SimServer::start` to the answer, and the inquire-price call alone. Run it several times (each
//!   run is a new process, so nothing is warm).
//! `cargo run --release -p kis-sim --example universe_bench -- touch [SECONDS]`
//!   A market on a fixed calendar, SECONDS after the open (default 2 h 17 min; 23430 is just past the
//!   closing print): every listed stock's quote once (each stock generated on first use), then every
//!   stock's daily bars; prints the wall and CPU time of each pass and the process's
//!   resident memory (VmRSS) before and after.

use std::time::Instant;

use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str).unwrap_or("first") {
        "first" => first(args.get(1).map_or("005930", String::as_str)),
        "touch" => {
            let after_open: u64 = args.get(1).map_or(Ok(2 * 3600 + 17 * 60), |s| s.parse())?;
            touch(after_open);
            Ok(())
        }
        other => anyhow::bail!("unknown mode {other:?}: first or touch"),
    }
}

fn first(code: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let started = Instant::now();
        let server = SimServer::start(SimConfig::default(), "127.0.0.1:0".parse()?).await?;
        let listening = started.elapsed();
        let (key, secret) = demo_credentials(Profile::Real, 0);
        let http = reqwest::Client::new();
        let base = server.rest_url();
        let body: Value = http
            .post(format!("{base}/oauth2/tokenP"))
            .json(&json!({"grant_type": "client_credentials", "appkey": key, "appsecret": secret}))
            .send()
            .await?
            .json()
            .await?;
        let token = body["access_token"].as_str().unwrap_or_default().to_string();
        let call = Instant::now();
        let body: Value = http
            .get(format!("{base}/uapi/domestic-stock/v1/quotations/inquire-price"))
            .query(&[("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", code)])
            .header("authorization", format!("Bearer {token}"))
            .header("appkey", &key)
            .header("appsecret", &secret)
            .header("tr_id", "FHKST01010100")
            .header("custtype", "P")
            .send()
            .await?
            .json()
            .await?;
        let call = call.elapsed();
        let total = started.elapsed();
        anyhow::ensure!(body["rt_cd"] == "0", "inquire-price failed: {body}");
        println!(
            "start {:.1} ms, start+token+first inquire-price {:.1} ms (the call alone {:.1} ms), process CPU {:.0} ms, {} stocks listed, price {}",
            listening.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            call.as_secs_f64() * 1e3,
            cpu_ms(),
            server.market().stocks().len(),
            body["output"]["stck_prpr"],
        );
        server.shutdown().await;
        anyhow::Ok(())
    })
}

/// CPU time (user + system) of this process so far in milliseconds (Linux; 0 elsewhere): on a shared,
/// loaded machine it says more than the wall clock.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the state field.
    (ticks(11) + ticks(12)) * 10.0
}

/// Resident and peak memory of this process in MB (Linux; 0 elsewhere).
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn touch(after_open: u64) {
    use kis_sim::model::{ClockMode, Market, MarketConfig};
    let (rss0, _) = memory_mb();
    let cpu0 = cpu_ms();
    let started = Instant::now();
    let config = MarketConfig {
        seed: 42,
        clock: ClockMode::Open,
        speed: 0.0,
    };
    let market = Market::starting_on(config, jiff::civil::date(2026, 11, 20));
    market.advance(after_open);
    let created = started.elapsed();
    let (rss1, _) = memory_mb();
    let cpu1 = cpu_ms();
    let quotes = Instant::now();
    let mut trades = 0u64;
    for info in market.stocks() {
        if let Some(q) = market.quote(&info.code) {
            trades += q.buy_count + q.sell_count;
        }
    }
    let quotes = quotes.elapsed();
    let (rss2, _) = memory_mb();
    let cpu2 = cpu_ms();
    let daily = Instant::now();
    let mut bars = 0usize;
    let today = market.trading_date();
    for info in market.stocks() {
        bars += market
            .daily_bars(&info.code, jiff::civil::date(2000, 1, 1), today)
            .len();
    }
    let daily = daily.elapsed();
    let (rss3, peak) = memory_mb();
    let cpu3 = cpu_ms();
    println!(
        "{} stocks; market created in {:.1} ms wall, {:.0} ms CPU (RSS {rss0:.0} -> {rss1:.0} MB)",
        market.stocks().len(),
        created.as_secs_f64() * 1e3,
        cpu1 - cpu0
    );
    println!(
        "every stock's quote: {:.0} ms wall, {:.0} ms CPU ({trades} trades so far today), RSS {rss2:.0} MB",
        quotes.as_secs_f64() * 1e3,
        cpu2 - cpu1
    );
    println!(
        "every stock's daily bars: {:.0} ms wall, {:.0} ms CPU ({bars} bars), RSS {rss3:.0} MB, peak {peak:.0} MB",
        daily.as_secs_f64() * 1e3,
        cpu3 - cpu2
    );
}
