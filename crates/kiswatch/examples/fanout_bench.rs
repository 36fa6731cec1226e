//! Fan-out benchmark of the browser WebSocket: the real service (`kiswatch::App`, demo upstream, no
//! background tasks) on 127.0.0.1:0, 1,000 real WebSocket clients (tokio-tungstenite) on
//! `/api/v1/ws`, each watching 20 stocks (`tick`) and one of them on `executions` (its detail page),
//! and trades published into the service's hub at a fixed rate (the recorded 2026-07-24 H0STCNT0
//! trade replayed with the code and price varied). A trigger every 500 trades is stored in the
//! service's store and then published (stored before delivered, as the trigger service does).
//!
//! Every 20th client (5 %) watches all the stocks on `tick` and stops reading for `pause` seconds (a
//! small receive buffer; the loopback send buffer still takes a few MB, hence the long watchlist that
//! fills it within the run): the service cuts it off (1008) once a write has been blocked for
//! `max_stall`; it then reads
//! what it had been sent up to the close frame, reconnects, resubscribes and sends `resume` with the
//! last trigger id it saw, and reads normally from then on.
//!
//! Latency: the bench notes the time of each trade's publish by its sequence number (carried as the
//! trade's `acc_volume`); a client's latency is its receive time of the `tick` minus that. Client
//! and server share the process and its two worker threads, so the figures include the clients' own
//! reading and parsing.
//!
//! ```sh
//! cargo run --release -p kiswatch --example fanout_bench -- [seconds] [trades/s] [clients] [stocks] [pause s] [max_stall ms]
//! # defaults: 10 5000 1000 200 8 1000
//! ```

mod bench;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::percentile;
use futures_util::{SinkExt as _, StreamExt as _};
use kis::realtime::messages::{Message as Frame, decode_frame};
use kiswatch::App;
use kiswatch::config::{DemoContent, LiveConfig, ServeConfig, UpstreamConfig};
use kiswatch::contract::{Fired, TriggerValues};
use kiswatch::hub::QueueConfig;
use market::StockCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const STOCKS_PER_CLIENT: usize = 20;
const SLOW_EVERY: usize = 20; // 5 %
const TRIGGER_EVERY: u64 = 500;

#[derive(Default)]
struct ClientReport {
    latencies_us: Vec<u32>,
    triggers: Vec<u64>,
    messages: u64,
    cut_offs: u32,
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of this process so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The number after `"acc_volume":` in a tick.
fn seq_of(text: &str) -> Option<usize> {
    let at = text.find("\"acc_volume\":")? + "\"acc_volume\":".len();
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The id of a trigger message.
fn trigger_id(text: &str) -> Option<u64> {
    if !text.starts_with("{\"type\":\"trigger\"") {
        return None;
    }
    serde_json::from_str::<Value>(text).ok()?["id"].as_u64()
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(
    addr: std::net::SocketAddr,
    small_buffer: bool,
    subscribe: &[String],
) -> anyhow::Result<Socket> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    if small_buffer {
        socket.set_recv_buffer_size(4096)?;
    }
    let stream = socket.connect(addr).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(
        format!("ws://{addr}/api/v1/ws"),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await?;
    for s in subscribe {
        ws.send(Message::Text(s.clone().into())).await?;
    }
    Ok(ws)
}

async fn run() -> anyhow::Result<()> {
    let seconds = arg(1, 10);
    let rate = arg(2, 5000);
    let n_clients = arg(3, 1000) as usize;
    let n_stocks = arg(4, 200) as usize;
    let pause = Duration::from_secs(arg(5, 8));
    let max_stall = Duration::from_millis(arg(6, 1000));

    let frame = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kis/ws-frame-H0STCNT0-captured-20260724.txt"
    ))?;
    let Some(Frame::Execution(template)) = decode_frame(frame.trim(), |_| None)?.into_iter().next() else {
        anyhow::bail!("the recorded frame is not an execution");
    };
    let codes: Vec<StockCode> = (0..n_stocks)
        .map(|i| StockCode::parse(&format!("{:06}", 100_000 + i)))
        .collect::<Result<_, _>>()?;

    let dir = tempfile::tempdir()?;
    let app = App::start(ServeConfig {
        bind: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        upstream: UpstreamConfig::Demo { seed: 42, speed: 1.0 },
        token: None,
        demo: DemoContent {
            seed_watchlist: false,
            steer: false,
        },
        live: LiveConfig::default(),
        background: false,
        outbound: Default::default(),
    })
    .await?;
    let addr = app.local_addr();
    let hub = app.state().hub.clone();
    let store = app.state().store.clone();
    hub.set_queue_config(QueueConfig {
        max_stall,
        ..QueueConfig::default()
    });
    for c in &codes {
        hub.set_name(*c, "벤치마크");
    }

    let total = (rate * seconds) as usize;
    let epoch = Instant::now();
    // Publish time of each trade (µs since epoch), by sequence number.
    let published_at: Arc<Vec<AtomicU64>> = Arc::new((0..total + 1).map(|_| AtomicU64::new(0)).collect());

    // Set before the service shuts down: a connection that ends after it is not reconnected.
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Clients holding every trigger the run will publish (one per TRIGGER_EVERY trades).
    let all_triggers = total as u64 / TRIGGER_EVERY;
    let complete = Arc::new(AtomicUsize::new(0));
    let rss_before = rss_kib();
    let mut tasks = Vec::new();
    for i in 0..n_clients {
        let watched: Vec<String> = (0..STOCKS_PER_CLIENT)
            .map(|j| codes[(i * 7 + j * 13) % n_stocks].to_string())
            .collect();
        let subscribe = vec![
            json!({"op": "subscribe", "codes": watched, "channels": ["tick"]}).to_string(),
            json!({"op": "subscribe", "codes": [watched[0]], "channels": ["executions"]}).to_string(),
        ];
        let slow = i % SLOW_EVERY == 0;
        // A slow client watches every stock (a long watchlist), so its socket fills within the
        // run; after its cut-off it comes back with the 20.
        let first = if slow {
            let all: Vec<String> = codes.iter().map(ToString::to_string).collect();
            vec![json!({"op": "subscribe", "codes": all, "channels": ["tick"]}).to_string()]
        } else {
            subscribe.clone()
        };
        let mut ws = open(addr, slow, &first).await?;
        let published_at = published_at.clone();
        let finished = finished.clone();
        let complete = complete.clone();
        tasks.push(tokio::spawn(async move {
            let mut report = ClientReport::default();
            if slow {
                tokio::time::sleep(pause).await;
            }
            loop {
                match ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        report.messages += 1;
                        if let Some(id) = trigger_id(&text) {
                            report.triggers.push(id);
                            if report.triggers.len() as u64 == all_triggers {
                                complete.fetch_add(1, Ordering::Release);
                            }
                        } else if !slow
                            && text.starts_with("{\"type\":\"tick\"")
                            && let Some(seq) = seq_of(&text)
                        {
                            let sent = published_at[seq].load(Ordering::Acquire);
                            let now = epoch.elapsed().as_micros() as u64;
                            report
                                .latencies_us
                                .push(u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX));
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None if finished.load(Ordering::Acquire) => {
                        break;
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                        // Cut off (a close frame 1008, or the socket dropped when even the close
                        // frame could not be written): reconnect, resubscribe, resume after the last
                        // trigger seen — what the web UI does.
                        report.cut_offs += 1;
                        let after = report.triggers.last().copied().unwrap_or(0);
                        let mut ops = subscribe.clone();
                        ops.push(json!({"op": "resume", "after_trigger_id": after}).to_string());
                        match open(addr, false, &ops).await {
                            Ok(again) => ws = again,
                            Err(_) => break,
                        }
                    }
                    Some(Ok(_)) => {}
                }
            }
            report
        }));
    }
    // Let every subscription land.
    while hub.watched().values().sum::<u32>() < (n_clients * STOCKS_PER_CLIENT) as u32 * 9 / 10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_connected = rss_kib();

    let cpu0 = cpu_secs();
    let started = Instant::now();
    let mut published = 0usize;
    let mut triggers = 0u64;
    let mut peak_rss = rss_connected;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while published < total {
        tick.tick().await;
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as usize).min(total);
        while published < due {
            published += 1;
            let mut e = template.clone();
            e.code = codes[(published * 31) % n_stocks];
            e.price = 250_000 + (published % 100) as i64 * 500;
            e.acc_volume = published as u64;
            published_at[published].store(epoch.elapsed().as_micros() as u64, Ordering::Release);
            hub.publish_execution(&e);
            if (published as u64).is_multiple_of(TRIGGER_EVERY) {
                let row = store
                    .add_trigger(Fired {
                        code: e.code.to_string(),
                        name: "벤치마크".into(),
                        condition_id: 1,
                        condition_name: "bench".into(),
                        period: "1m".into(),
                        bar_time: format!(
                            "2026-07-24T{:02}:{:02}:00+09:00",
                            9 + triggers / 60,
                            triggers % 60
                        ),
                        time: "2026-07-24T09:00:00+09:00".into(),
                        price: e.price,
                        values: TriggerValues(vec![("close".into(), e.price as f64)]),
                        late: false,
                        message: String::new(),
                        message_ko: String::new(),
                    })
                    .await?;
                if let Some(row) = row {
                    triggers += 1;
                    hub.publish_trigger(&row);
                }
            }
        }
        if published.is_multiple_of(5000) {
            peak_rss = peak_rss.max(rss_kib());
        }
    }
    let produce_secs = started.elapsed().as_secs_f64();
    // The ticks in flight land within the 2 s; a slow client cut off near the end may still be
    // reconnecting and resuming: wait for every client to hold every trigger (at most 30 s more).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while complete.load(Ordering::Acquire) < n_clients && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained_secs = started.elapsed().as_secs_f64() - produce_secs;
    let cpu = cpu_secs() - cpu0;
    peak_rss = peak_rss.max(rss_kib());
    let cut_offs_seen = hub.cut_offs();
    finished.store(true, Ordering::Release);
    app.shutdown().await;
    let mut reports = Vec::new();
    for t in tasks {
        reports.push(t.await?);
    }

    let expected: Vec<u64> = (1..=triggers).collect();
    let mut lost_or_dup = 0usize;
    let mut healthy: Vec<u32> = Vec::new();
    let mut delivered = 0u64;
    let (mut slow_cut, mut healthy_cut) = (0u32, 0u32);
    for (i, r) in reports.iter_mut().enumerate() {
        delivered += r.messages;
        if r.triggers != expected {
            lost_or_dup += 1;
            let mut seen = r.triggers.clone();
            seen.sort_unstable();
            seen.dedup();
            eprintln!(
                "client {i} ({}): {} trigger messages, {} distinct, in order: {}, cut off {} times",
                if i % SLOW_EVERY == 0 { "slow" } else { "healthy" },
                r.triggers.len(),
                seen.len(),
                r.triggers.is_sorted(),
                r.cut_offs
            );
        }
        if i % SLOW_EVERY == 0 {
            slow_cut += r.cut_offs;
        } else {
            healthy_cut += r.cut_offs;
            healthy.append(&mut r.latencies_us);
        }
    }
    healthy.sort_unstable();
    println!(
        "fan-out bench over real WebSockets: {n_clients} clients × {STOCKS_PER_CLIENT} stocks (tick) + 1 executions page, {n_stocks} stocks, {} slow (stop reading {pause:?}), max_stall {max_stall:?}",
        n_clients / SLOW_EVERY
    );
    println!(
        "published {published} trades in {produce_secs:.2} s ({:.0}/s), {triggers} triggers",
        published as f64 / produce_secs
    );
    println!(
        "healthy clients, publish → tick received: p50 {} µs, p99 {} µs, max {} µs ({} samples)",
        percentile(&healthy, 0.5),
        percentile(&healthy, 0.99),
        healthy.last().copied().unwrap_or(0),
        healthy.len()
    );
    println!(
        "triggers: {} of {n_clients} clients got all {triggers} exactly once in order ({lost_or_dup} did not); \
         the last arrived {drained_secs:.1} s after the last publish",
        n_clients - lost_or_dup
    );
    println!(
        "cut-offs: slow clients {slow_cut}, healthy clients {healthy_cut} (hub counted {cut_offs_seen})"
    );
    println!(
        "CPU (server + clients, one process): {cpu:.2} s for {delivered} delivered messages = {:.3} ms per 1,000",
        cpu * 1e6 / delivered.max(1) as f64
    );
    println!(
        "memory: RSS {} MiB before clients → {} MiB connected → {} MiB peak = {} KiB per client at peak (client and server sides)",
        rss_before / 1024,
        rss_connected / 1024,
        peak_rss / 1024,
        (peak_rss.saturating_sub(rss_before)) / n_clients.max(1) as u64
    );
    Ok(())
}
