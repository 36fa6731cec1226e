//! The alert path's figures (BENCHMARKS.md, "Alert channels"): the time from a trigger being
//! recorded (the store write of the trigger and its outbox rows) to each fake provider receiving it,
//! p50/p99, one trigger at a time at the provider's rate; and 100 triggers at once to five channels
//! (Telegram, Discord, Slack, ntfy, a webhook) — how long until every delivery is settled, how many
//! messages each provider got, and whether any provider's rate was broken (the fakes answer 429 and
//! count it).
//!
//!     cargo run --release -p kiswatch --example alert_latency
//!
//! The fakes are the integration tests' own (`tests/it/fakes.rs`), on 127.0.0.1.

#[path = "../tests/it/fakes.rs"]
mod fakes;

use std::time::{Duration, Instant};

use fakes::{Fake, Provider};
use kiswatch::channels::seal::Sealer;
use kiswatch::channels::{ChannelSpec, Channels};
use kiswatch::contract::{ChannelKind, DeliveryStatus, Fired, TriggerValues};
use kiswatch::outbound::{Outbound, OutboundPolicy};
use kiswatch::store::{Routed, Store};
use serde_json::json;

const BOT: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

fn fired(n: u64) -> Fired {
    Fired {
        code: format!("{:06}", 100 + n % 900),
        name: format!("종목{n}"),
        condition_id: 1 + n / 900,
        condition_name: "정배열".into(),
        period: "1m".into(),
        bar_time: format!("2026-11-27T{:02}:{:02}:00+09:00", 9 + (n / 60) % 6, n % 60),
        time: "2026-11-27T10:31:00+09:00".into(),
        price: 70_000 + n as i64,
        values: TriggerValues(vec![("ma(20)".into(), 70_100.0), ("ma(60)".into(), 69_900.0)]),
        late: false,
        message: String::new(),
        message_ko: String::new(),
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("db"), "bench")?;
    let tasks = kiswatch::tasks::Tasks::new();
    let channels = Channels::start(
        store.clone(),
        Outbound::new(OutboundPolicy { allow_private: true }),
        Sealer::open(dir.path())?,
        "https://kiswatch.example".into(),
        tasks.clone(),
    )
    .await?;
    let fakes = [
        (
            ChannelKind::Telegram,
            Fake::start(Provider::Telegram, Some(BOT)).await,
        ),
        (ChannelKind::Discord, Fake::start(Provider::Discord, None).await),
        (ChannelKind::Slack, Fake::start(Provider::Slack, None).await),
        (ChannelKind::Ntfy, Fake::start(Provider::Ntfy, None).await),
        (ChannelKind::Webhook, Fake::start(Provider::Webhook, None).await),
    ];
    let mut ids = Vec::new();
    for (kind, fake) in &fakes {
        let config = match kind {
            ChannelKind::Telegram => json!({"bot_token": BOT, "chat_id": "7", "api_url": fake.channel_url()}),
            ChannelKind::Ntfy => json!({"server": fake.channel_url(), "topic": "bench"}),
            _ => json!({"url": fake.channel_url()}),
        };
        let c = channels
            .create(ChannelSpec {
                kind: *kind,
                name: kind.as_str().into(),
                config,
                default: false,
            })
            .await?;
        ids.push(c.id);
    }
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        fired(n)
    };
    println!(
        "machine: {} cores, {}; load average {}",
        std::thread::available_parallelism().map_or(0, |p| p.get()),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                .split(':')
                .nth(1)
                .unwrap_or("")
                .trim()
                .to_string()))
            .unwrap_or_default(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("\ntrigger recorded → fake provider received, one trigger at a time at the provider's rate");
    println!(
        "{:<9} {:>7} {:>9} {:>9} {:>9}",
        "provider", "samples", "p50 ms", "p99 ms", "max ms"
    );
    for ((kind, fake), id) in fakes.iter().zip(&ids) {
        // Inside every window of the provider's rate (Discord: 30 a minute; ntfy: 12 a minute), so
        // the figure is the path's latency, not a wait for the rate.
        let samples = match kind {
            ChannelKind::Webhook => 100,
            ChannelKind::Ntfy => 12,
            _ => 30,
        };
        let gap = match kind {
            ChannelKind::Telegram | ChannelKind::Slack | ChannelKind::Ntfy => Duration::from_millis(1050),
            ChannelKind::Discord => Duration::from_millis(2050),
            _ => Duration::from_millis(60),
        };
        let mut lat = Vec::new();
        for _ in 0..samples {
            let before = fake.received().len();
            let start = Instant::now();
            let routes = vec![Routed {
                channel_id: *id,
                kind: *kind,
                status: DeliveryStatus::Pending,
                last_error: None,
            }];
            let (_, rows) = store
                .add_trigger_routed(next(), routes)
                .await?
                .expect("a new trigger");
            channels.enqueued(&rows);
            loop {
                if let Some(r) = fake.received().get(before) {
                    lat.push(r.at.duration_since(start));
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            tokio::time::sleep(gap).await;
        }
        lat.sort();
        println!(
            "{:<9} {:>7} {:>9.2} {:>9.2} {:>9.2}",
            kind.as_str(),
            lat.len(),
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().unwrap().as_secs_f64() * 1000.0
        );
    }
    // Let every rate window empty before the burst.
    tokio::time::sleep(Duration::from_secs(61)).await;
    let before: Vec<usize> = fakes.iter().map(|(_, f)| f.received().len()).collect();
    println!("\n100 triggers at once, each to all five channels (500 deliveries)");
    let start = Instant::now();
    let mut triggers = Vec::new();
    for _ in 0..100 {
        let routes = fakes
            .iter()
            .zip(&ids)
            .map(|((kind, _), id)| Routed {
                channel_id: *id,
                kind: *kind,
                status: DeliveryStatus::Pending,
                last_error: None,
            })
            .collect();
        let (t, rows) = store
            .add_trigger_routed(next(), routes)
            .await?
            .expect("a new trigger");
        channels.enqueued(&rows);
        triggers.push(t.id);
    }
    let recorded = start.elapsed();
    let mut settled_at = vec![None; ids.len()];
    loop {
        for (i, id) in ids.iter().enumerate() {
            if settled_at[i].is_none() {
                let mut all = true;
                for t in &triggers {
                    let d = channels.deliveries(*t).await?;
                    if d.iter()
                        .find(|e| e.channel_id == *id)
                        .is_none_or(|e| e.status == DeliveryStatus::Pending)
                    {
                        all = false;
                        break;
                    }
                }
                if all {
                    settled_at[i] = Some(start.elapsed());
                }
            }
        }
        if settled_at.iter().all(Option::is_some) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "recorded (100 store writes) in {:.1} ms",
        recorded.as_secs_f64() * 1000.0
    );
    println!(
        "{:<9} {:>11} {:>9} {:>11} {:>17}",
        "provider", "all settled", "messages", "summarised", "rate violations"
    );
    let mut delivered = 0;
    for (i, ((kind, fake), id)) in fakes.iter().zip(&ids).enumerate() {
        let msgs = fake.received().len() - before[i];
        let mut summarised = 0;
        for t in &triggers {
            let d = channels.deliveries(*t).await?;
            if let Some(e) = d.iter().find(|e| e.channel_id == *id) {
                delivered += (e.status == DeliveryStatus::Delivered) as usize;
                summarised += e.summarized as usize;
            }
        }
        println!(
            "{:<9} {:>9.2} s {:>9} {:>11} {:>17}",
            kind.as_str(),
            settled_at[i].unwrap().as_secs_f64(),
            msgs,
            summarised,
            fake.violations()
        );
    }
    let total = settled_at.iter().flatten().max().unwrap().as_secs_f64();
    println!(
        "{delivered} of 500 deliveries delivered in {total:.2} s: {:.0} deliveries/s, every provider's rate kept: {}",
        delivered as f64 / total,
        fakes.iter().all(|(_, f)| f.violations() == 0)
    );
    tasks.shutdown(Duration::from_secs(2)).await;
    Ok(())
}
