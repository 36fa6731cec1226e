//! Throughput benchmark of the simulator on loopback (client and server share the machine).
//!
//! `cargo run --release -p kis-sim --example sim_bench -- rest [SECONDS] [CONNECTIONS]`
//!   inquire-price over raw keep-alive HTTP/1.1 connections, rate limit off; prints requests/s.
//! `cargo run --release -p kis-sim --example sim_bench -- ws [SECONDS] [SPEED] [BOOST]`
//!   one WebSocket session with 41 H0STCNT0 registrations at a high clock speed; prints records/s
//!   received by the client. The model caps `--speed` at 10,000, so `BOOST` virtual seconds are also
//!   added to the clock every 10 ms (as `POST /sim/clock {"advance_secs":N}` would) to go faster.
//!
//! `cargo run --release -p kis-sim --example sim_bench -- gen [ROUNDS]`
//!   generation cost: a fresh market per round (seed = round), every stock's first quote timed (that
//!   first use generates ~650 daily bars and 23 days of trades); prints the median and mean per stock.
//!
//! The server runs on its own 2-thread runtime, the client on another.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("rest");
    if mode == "gen" {
        let rounds: u64 = args.get(1).map_or(Ok(5), |s| s.parse())?;
        generation(rounds);
        return Ok(());
    }
    let seconds: u64 = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match mode {
        "rest" => {
            let connections: usize = args.get(2).map_or(Ok(32), |s| s.parse())?;
            let config = SimConfig {
                rate: Some(0),
                ..SimConfig::default()
            };
            let server = server_rt.block_on(SimServer::start(config, "127.0.0.1:0".parse()?))?;
            let addr = server.local_addr();
            let rate = client_rt.block_on(rest(addr, seconds, connections))?;
            println!(
                "REST inquire-price: {rate:.0} requests/s ({connections} keep-alive connections, {seconds} s)"
            );
            server_rt.block_on(server.shutdown());
        }
        "ws" => {
            let speed: f64 = args.get(2).map_or(Ok(10_000.0), |s| s.parse())?;
            let boost: u64 = args.get(3).map_or(Ok(0), |s| s.parse())?;
            let config = SimConfig {
                rate: Some(0),
                speed,
                ..SimConfig::default()
            };
            let server = server_rt.block_on(SimServer::start(config, "127.0.0.1:0".parse()?))?;
            let market = server.market().clone();
            let stop = Arc::new(AtomicBool::new(false));
            let booster = {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while boost > 0 && !stop.load(Ordering::Relaxed) {
                        market.advance(boost);
                        std::thread::sleep(Duration::from_millis(10));
                    }
                })
            };
            let rate = client_rt.block_on(realtime(&server, seconds));
            stop.store(true, Ordering::Relaxed);
            let _ = booster.join();
            let rate = rate?;
            let sent = server.stats().ws_records;
            println!(
                "WS H0STCNT0: {rate:.0} records/s received (41 registrations, speed {speed}, +{boost} s per 10 ms, {seconds} s; server sent {sent})"
            );
            server_rt.block_on(server.shutdown());
        }
        other => anyhow::bail!("unknown mode {other:?}: rest or ws"),
    }
    Ok(())
}

/// Times each stock's first use (its generation) in `rounds` fresh markets, one thread.
fn generation(rounds: u64) {
    use kis_sim::model::{ClockMode, Market, MarketConfig};
    let mut per_stock = Vec::new();
    for round in 0..rounds {
        let config = MarketConfig {
            seed: round,
            clock: ClockMode::Open,
            speed: 0.0,
        };
        let market = Market::starting_on(config, jiff::civil::date(2026, 11, 20));
        for info in market.stocks() {
            let start = Instant::now();
            let quote = market.quote(&info.code);
            per_stock.push(start.elapsed().as_secs_f64() * 1e3);
            assert!(quote.is_some());
        }
    }
    per_stock.sort_by(f64::total_cmp);
    let n = per_stock.len();
    let mean = per_stock.iter().sum::<f64>() / n as f64;
    println!(
        "generation on first use: median {:.2} ms, mean {mean:.2} ms, p90 {:.2} ms per stock ({n} stocks over {rounds} markets)",
        per_stock[n / 2],
        per_stock[n * 9 / 10],
    );
}

async fn token(base: &str, key: &str, secret: &str) -> anyhow::Result<String> {
    let body: Value = reqwest::Client::new()
        .post(format!("{base}/oauth2/tokenP"))
        .json(&json!({"grant_type": "client_credentials", "appkey": key, "appsecret": secret}))
        .send()
        .await?
        .json()
        .await?;
    Ok(body["access_token"].as_str().unwrap_or_default().to_string())
}

async fn rest(addr: std::net::SocketAddr, seconds: u64, connections: usize) -> anyhow::Result<f64> {
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let base = format!("http://{addr}");
    let token = token(&base, &key, &secret).await?;
    // a few stocks in turn, so requests do not all wait on one stock's lock
    let codes = [
        "005930", "000660", "035420", "005380", "035720", "051910", "006400", "068270",
    ];
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        codes
            .iter()
            .map(|code| {
                format!(
                    "GET /uapi/domestic-stock/v1/quotations/inquire-price?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD={code} HTTP/1.1\r\n\
                     host: {addr}\r\nauthorization: Bearer {token}\r\nappkey: {key}\r\nappsecret: {secret}\r\n\
                     tr_id: FHKST01010100\r\ncusttype: P\r\n\r\n"
                )
                .into_bytes()
            })
            .collect(),
    );
    // warm-up: generate every stock once
    run_connections(addr, requests.clone(), 4, Duration::from_millis(500)).await?;
    let start = Instant::now();
    let done = run_connections(addr, requests, connections, Duration::from_secs(seconds)).await?;
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

async fn run_connections(
    addr: std::net::SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (requests, stop, count) = (requests.clone(), stop.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            let mut line = String::new();
            let mut body = Vec::new();
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                write.write_all(&requests[i % requests.len()]).await?;
                i += 1;
                let mut length = 0usize;
                let mut status_ok = false;
                loop {
                    line.clear();
                    if read.read_line(&mut line).await? == 0 {
                        anyhow::bail!("connection closed");
                    }
                    if line.starts_with("HTTP/1.1 ") {
                        status_ok = line.starts_with("HTTP/1.1 200");
                    } else if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse()?;
                    } else if line == "\r\n" {
                        break;
                    }
                }
                body.resize(length, 0);
                read.read_exact(&mut body).await?;
                anyhow::ensure!(status_ok, "non-200 answer: {}", String::from_utf8_lossy(&body));
                count.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await??;
    }
    Ok(count.load(Ordering::Relaxed))
}

async fn realtime(server: &SimServer, seconds: u64) -> anyhow::Result<f64> {
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let body: Value = reqwest::Client::new()
        .post(format!("{}/oauth2/Approval", server.rest_url()))
        .json(&json!({"grant_type": "client_credentials", "appkey": key, "secretkey": secret}))
        .send()
        .await?
        .json()
        .await?;
    let approval = body["approval_key"].as_str().unwrap_or_default().to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/tryitout", server.ws_url())).await?;
    let codes: Vec<String> = server
        .market()
        .stocks()
        .iter()
        .take(41)
        .map(|s| s.code.as_str().to_string())
        .collect();
    for code in &codes {
        let request = json!({"header":{"approval_key":approval,"custtype":"P","tr_type":"1","content-type":"utf-8"},
                             "body":{"input":{"tr_id":"H0STCNT0","tr_key":code}}});
        ws.send(Message::text(request.to_string())).await?;
    }
    let mut acks = 0;
    while acks < codes.len() {
        if let Some(Ok(Message::Text(t))) = ws.next().await
            && t.contains("SUBSCRIBE SUCCESS")
        {
            acks += 1;
        }
    }
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut records = 0u64;
    while let Ok(Some(msg)) = tokio::time::timeout_at(end.into(), ws.next()).await {
        if let Message::Text(t) = msg?
            && let Some(rest) = t.strip_prefix("0|H0STCNT0|")
        {
            let fields = rest[4..].split('^').count();
            anyhow::ensure!(fields % 46 == 0, "bad field count {fields}");
            records += (fields / 46) as u64;
        }
    }
    Ok(records as f64 / start.elapsed().as_secs_f64())
}
