//! Fan-out benchmark of the realtime hub core, in process: a producer publishes trades into
//! `kiswatch::hub::Hub` at a fixed rate, and every trigger to everyone; a task per browser client
//! drains its outbox. 5 % of the clients read slowly (a pause after every message): they get
//! coalesced ticks, are cut off when they fall too far behind, and reconnect with `resume`, the way
//! a browser does.
//!
//! Reported: trade-to-dequeue latency (p50/p99/max) for the healthy clients, triggers delivered
//! (every client must end with every trigger id exactly once, in order, across its reconnects),
//! cut-offs, CPU per 1,000 delivered messages, and resident memory per client.
//!
//! What it leaves out: the WebSocket write itself (axum/tungstenite framing and the kernel), which the
//! service adds per message; and trade-to-trigger evaluation (the trigger engine has its own
//! benchmark in `crates/market`).
//!
//! ```sh
//! cargo run --release -p kiswatch --example fanout_bench -- [seconds] [trades/s] [clients] [stocks] [slow ms]
//! # defaults: 10 5000 1000 200 100; each client watches 20 stocks (`tick`) and one of them also on
//! # `executions` (its detail page); a trigger every 500 trades; every 20th client pauses 100 ms
//! # after each message; queues cut a client off after 3 s behind.
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kis::realtime::messages::{Message, decode_frame};
use kiswatch::hub::queue::{Delivery, QueueConfig};
use kiswatch::hub::{Hub, Outgoing};
use market::StockCode;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

const STOCKS_PER_CLIENT: usize = 20;
const SLOW_EVERY: usize = 20; // 5 %
const TRIGGER_EVERY: u64 = 500;

/// The triggers "stored" so far: id and the API's trigger object.
type TriggerStore = Vec<(u64, Map<String, Value>)>;

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
    // Fields 14 and 15 of /proc/pid/stat (utime, stime) are at 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> anyhow::Result<()> {
    let seconds = arg(1, 10);
    let rate = arg(2, 5000);
    let clients = arg(3, 1000) as usize;
    let stocks = arg(4, 200) as usize;
    let slow_pause = Duration::from_millis(arg(5, 100));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(seconds, rate, clients, stocks, slow_pause))
}

async fn run(
    seconds: u64,
    rate: u64,
    n_clients: usize,
    n_stocks: usize,
    slow_pause: Duration,
) -> anyhow::Result<()> {
    let frame = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kis/ws-frame-H0STCNT0-captured-20260724.txt"
    ))?;
    let Some(Message::Execution(template)) = decode_frame(frame.trim(), |_| None)?.into_iter().next() else {
        anyhow::bail!("the recorded frame is not an execution");
    };
    let codes: Vec<StockCode> = (0..n_stocks)
        .map(|i| StockCode::parse(&format!("{:06}", 100_000 + i)))
        .collect::<Result<_, _>>()?;

    let rss_before = rss_kib();
    // The service's defaults except the cut-off, shortened so that a 10 s run shows it.
    let config = QueueConfig {
        max_lag: Duration::from_secs(3),
        ..QueueConfig::default()
    };
    let hub = Arc::new(Hub::new(config));
    for c in &codes {
        hub.set_name(*c, "벤치마크");
    }
    let store: Arc<Mutex<TriggerStore>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let mut tasks = Vec::new();
    for i in 0..n_clients {
        let watched: Vec<String> = (0..STOCKS_PER_CLIENT)
            .map(|j| codes[(i * 7 + j * 13) % n_stocks].to_string())
            .collect();
        let subscribe = json!({"op": "subscribe", "codes": watched, "channels": ["tick"]}).to_string();
        let page = json!({"op": "subscribe", "codes": [watched[0]], "channels": ["executions"]}).to_string();
        let hub = hub.clone();
        let store = store.clone();
        let done = done.clone();
        let slow = i % SLOW_EVERY == 0;
        let (mut id, mut outbox) = hub.connect();
        hub.handle_text(id, &subscribe);
        hub.handle_text(id, &page);
        tasks.push(tokio::spawn(async move {
            let mut report = ClientReport::default();
            loop {
                let next = tokio::select! {
                    next = outbox.recv() => next,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {
                        if done.load(std::sync::atomic::Ordering::Acquire) { break } else { continue }
                    }
                };
                match next {
                    Outgoing::Message(Delivery {
                        enqueued_at,
                        trigger_id,
                        ..
                    }) => {
                        report.messages += 1;
                        if let Some(t) = trigger_id {
                            report.triggers.push(t);
                        } else if !slow {
                            let us = enqueued_at.elapsed().as_micros();
                            report.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                        }
                        if slow {
                            tokio::time::sleep(slow_pause).await;
                        }
                    }
                    Outgoing::Close(_) => {
                        // Cut off: reconnect, resubscribe, resume after the last trigger seen.
                        report.cut_offs += 1;
                        hub.disconnect(id);
                        (id, outbox) = hub.connect();
                        hub.handle_text(id, &subscribe);
                        hub.handle_text(id, &page);
                        let after = report.triggers.last().copied().unwrap_or(0);
                        hub.handle_text(
                            id,
                            &json!({"op": "resume", "after_trigger_id": after}).to_string(),
                        );
                        let missed: Vec<_> = store
                            .lock()
                            .unwrap()
                            .iter()
                            .filter(|(t, _)| *t > after)
                            .cloned()
                            .collect();
                        hub.finish_resume(id, missed);
                    }
                }
            }
            report
        }));
    }
    let rss_subscribed = rss_kib();

    // The producer: `rate` trades per second in 1 ms steps, a trigger every TRIGGER_EVERY trades.
    let cpu0 = cpu_secs();
    let started = Instant::now();
    let total = rate * seconds;
    let mut published = 0u64;
    let mut triggers = 0u64;
    let mut peak_rss = rss_subscribed;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while published < total {
        tick.tick().await;
        let due = ((started.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while published < due {
            let mut e = template.clone();
            e.code = codes[(published as usize * 31) % n_stocks];
            e.price = 250_000 + (published % 100) as i64 * 500;
            hub.publish_execution(&e);
            published += 1;
            if published.is_multiple_of(TRIGGER_EVERY) {
                triggers += 1;
                let fields = json!({"code": e.code, "name": "벤치마크", "condition_id": 1, "period": "1m", "late": false});
                let fields = fields.as_object().cloned().unwrap_or_default();
                // Stored before it is delivered.
                store.lock().unwrap().push((triggers, fields.clone()));
                hub.publish_trigger(triggers, fields);
            }
        }
        if published.is_multiple_of(5000) {
            peak_rss = peak_rss.max(rss_kib());
        }
    }
    let produce_secs = started.elapsed().as_secs_f64();
    // Let the clients drain, then stop them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    done.store(true, std::sync::atomic::Ordering::Release);
    hub.shutdown();
    let mut reports = Vec::new();
    for t in tasks {
        reports.push(t.await?);
    }
    let cpu = cpu_secs() - cpu0;

    let expected: Vec<u64> = (1..=triggers).collect();
    let mut lost_or_dup = 0usize;
    let mut healthy_latencies: Vec<u32> = Vec::new();
    let mut delivered = 0u64;
    let mut cut_offs = BTreeMap::new();
    for (i, r) in reports.iter_mut().enumerate() {
        delivered += r.messages;
        if r.triggers != expected {
            lost_or_dup += 1;
        }
        let slow = i % SLOW_EVERY == 0;
        *cut_offs.entry(slow).or_insert(0u32) += r.cut_offs;
        if !slow {
            healthy_latencies.append(&mut r.latencies_us);
        }
    }
    healthy_latencies.sort_unstable();
    println!(
        "fan-out bench: {n_clients} clients × {STOCKS_PER_CLIENT} stocks (tick) + 1 executions page, {n_stocks} stocks, {} slow ({slow_pause:?} per message)",
        n_clients / SLOW_EVERY
    );
    println!(
        "published {published} trades in {produce_secs:.2} s ({:.0}/s), {triggers} triggers",
        published as f64 / produce_secs
    );
    println!(
        "healthy clients, trade → dequeue: p50 {} µs, p99 {} µs, max {} µs ({} samples)",
        percentile(&healthy_latencies, 0.5),
        percentile(&healthy_latencies, 0.99),
        healthy_latencies.last().copied().unwrap_or(0),
        healthy_latencies.len()
    );
    println!(
        "triggers: {} of {n_clients} clients got all {triggers} exactly once in order ({lost_or_dup} did not)",
        n_clients - lost_or_dup
    );
    println!(
        "cut-offs: slow clients {}, healthy clients {}",
        cut_offs.get(&true).unwrap_or(&0),
        cut_offs.get(&false).unwrap_or(&0)
    );
    println!(
        "messages delivered {delivered}; CPU {cpu:.2} s = {:.1} ms per 1,000 messages",
        cpu * 1000.0 * 1000.0 / delivered.max(1) as f64
    );
    println!(
        "RSS: {} KiB before clients, {} KiB subscribed, {} KiB peak → {:.1} KiB per client at peak",
        rss_before,
        rss_subscribed,
        peak_rss,
        (peak_rss.saturating_sub(rss_before)) as f64 / n_clients as f64
    );
    if lost_or_dup > 0 {
        anyhow::bail!("{lost_or_dup} clients lost or repeated triggers");
    }
    Ok(())
}
