//! Trade-to-trigger latency inside the process (issue 12's bar: p99 < 1 ms), on the real
//! `kiswatch::triggers::TriggerService` wired as `kiswatch serve` wires it: a SQLite store in a temp
//! dir, the stock directory, the gateway, the hub and the live feed, and the realtime session's
//! channel (`Wiring { realtime }`) — except that this benchmark holds the sending end and puts
//! synthetic `RealtimeEvent::Execution`s into it (the recorded 2026-07-24 H0STCNT0 trade with the
//! code, time and price varied), exactly what the session's reader would put there.
//!
//! Setup: `stocks` watched stocks (default 40, about KIS's realtime registration limit), each with a
//! previous session of flat 1-minute bars in the store (enough for MA240, so the stocks are armed),
//! and one enabled condition `1m: close > ma(20)`. Each minute, for every stock, a trade at 10,100
//! makes the condition true on the forming bar (a trigger: evaluated, stored, broadcast) and a trade
//! at 9,900 makes it false again, so the next minute's 10,100 fires again.
//!
//! Measured per trigger: the time from sending the firing trade into the channel to the stored
//! stored `Trigger` arriving on `TriggerService::subscribe()`, and to the trigger's delivery landing in
//! a hub client's `Outbox` (one in-process client, forwarded by `api::ws::publish_triggers` as in
//! serve; no socket). Pairs are sent at a steady pace (`pairs/s`), one stock after another.
//!
//! For where the time goes, the store's insert alone (`Store::add_trigger`, the call the service
//! makes before it broadcasts) is timed on its own afterwards, as many times as there were triggers.
//!
//! Then the rate of non-firing trades: `noise` trades that keep the condition false, sent as fast
//! as the channel takes them, followed by one firing trade as a marker; the rate is the trades over
//! the time until the marker's trigger arrives.
//!
//! The gateway is built on a client whose upstream is an unused loopback port: on this path the
//! trigger task only asks the gateway's market clock, never the network (no backfill, no gap).
//! Trigger log lines go through a `tracing` subscriber writing to a sink, so their formatting is
//! paid as in serve.
//!
//! ```sh
//! cargo run --release -p kiswatch --example trigger_latency -- [stocks] [minutes] [pairs/s] [noise]
//! # defaults: 40 100 500 200000
//! ```

mod bench;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bench::{load_average, percentile};
use jiff::civil::{Date, DateTime, Time, date};
use kis::realtime::messages::{Message as Frame, decode_frame};
use kis::realtime::{Execution, RealtimeEvent};
use kiswatch::clock::rfc3339;
use kiswatch::hub::{Hub, QueueConfig};
use kiswatch::live::{GapRepair, Ingest, Inputs, LiveFeed};
use kiswatch::store::{NewCondition, Store};
use kiswatch::tasks::Tasks;
use kiswatch::triggers::{TriggerEvent, TriggerService};
use kiswatch::upstream::{Gateway, StockDirectory, StockMeta, Ttls};
use market::trigger::Mode;
use market::{Candle, StockCode};
use tokio::sync::{mpsc, watch};

const HIGH: i64 = 10_100;
const LOW: i64 = 9_900;
const FLAT: i64 = 10_000;
/// The realtime session's channel size (`kis::realtime` default `event_capacity`).
const CHANNEL: usize = 4096;

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn summary(name: &str, mut us: Vec<u64>) {
    us.sort_unstable();
    println!(
        "{name}: n={} p50={} µs p90={} µs p99={} µs p99.9={} µs max={} µs",
        us.len(),
        percentile(&us, 0.50),
        percentile(&us, 0.90),
        percentile(&us, 0.99),
        percentile(&us, 0.999),
        us.last().copied().unwrap_or(0)
    );
}

/// The recorded 2026-07-24 trade.
fn recorded_trade() -> anyhow::Result<Execution> {
    let frame = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kis/ws-frame-H0STCNT0-captured-20260724.txt"
    ))?;
    match decode_frame(frame.trim(), |_| None)?.into_iter().next() {
        Some(Frame::Execution(e)) => Ok(e),
        other => anyhow::bail!("the recorded frame is not an execution: {other:?}"),
    }
}

fn trade(template: &Execution, code: StockCode, day: Date, at: Time, price: i64) -> RealtimeEvent {
    let mut e = template.clone();
    e.code = code;
    e.business_date = day;
    e.time = at;
    e.price = price;
    e.volume = 10;
    RealtimeEvent::Execution(e)
}

/// The minute `m` after 09:00, at `second`.
fn at(m: u64, second: i8) -> Time {
    let minutes = 9 * 60 + m as i64;
    Time::new((minutes / 60) as i8, (minutes % 60) as i8, second, 0).expect("a session time")
}

/// A stored trigger as `subscribe()` saw it: id, code, time, when it arrived.
type StoredSeen = (u64, String, String, Instant);
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n_stocks = arg(1, 40);
    let minutes = arg(2, 100);
    let pairs_per_sec = arg(3, 500).max(1);
    let noise = arg(4, 200_000);
    anyhow::ensure!(
        minutes + 2 + noise.div_ceil(n_stocks * 59).max(1) < 390,
        "minutes and noise do not fit in one session (09:00-15:30)"
    );
    tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::INFO)
        .init();

    let template = recorded_trade()?;
    let today = date(2026, 7, 24);
    let yesterday = date(2026, 7, 23);

    // The store, the directory, the watchlist with a previous session each, and the condition.
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("db"), "bench")?;
    let stocks = Arc::new(StockDirectory::load(store.clone()).await?);
    let codes: Vec<StockCode> = (0..n_stocks)
        .map(|i| StockCode::parse(&format!("9{i:05}")))
        .collect::<Result<_, _>>()?;
    stocks
        .insert_many(
            codes
                .iter()
                .map(|c| StockMeta {
                    code: *c,
                    name: format!("벤치{c}"),
                    market: "KOSPI".into(),
                    kind: "stock".into(),
                })
                .collect(),
        )
        .await?;
    let history: Vec<Candle> = (0..390)
        .map(|m: i64| Candle {
            time: DateTime::from_parts(yesterday, Time::midnight())
                .saturating_add(jiff::SignedDuration::from_mins(9 * 60 + m)),
            open: FLAT,
            high: FLAT,
            low: FLAT,
            close: FLAT,
            volume: 100,
        })
        .collect();
    for code in &codes {
        store.watch(*code).await?;
        store.put_minutes(*code, history.clone()).await?;
    }
    store
        .add_condition(NewCondition {
            name: "above MA20".into(),
            expr: "1m: close > ma(20)".into(),
            enabled: true,
            mode: Mode::EveryTick,
            cooldown_secs: 0,
            webhook: None,
            notify: false,
            sound: false,
            channels: Vec::new(),
            quiet_hours: None,
            expires_at: None,
            scope: Default::default(),
            filters: None,
        })
        .await?;

    // Wired as App::start wires it, with our own realtime channel.
    let client = kis::KisClient::new(kis::ClientConfig::new(
        kis::Environment::Custom {
            rest_url: "http://127.0.0.1:9".into(),
            ws_url: "ws://127.0.0.1:9".into(),
            rate: 20,
            vts: false,
        },
        kis::Credentials::new(
            "PSbenchbenchbenchbenchbenchbenchbench",
            "benchsecretbenchsecretbenchsecretbenchsecretbenchsecret",
        )?,
    ))?;
    let gateway = Arc::new(Gateway::new(
        Arc::new(kiswatch::upstream::KeyPool::new(vec![client])),
        store.clone(),
        stocks.clone(),
        Ttls::default(),
    ));
    let tasks = Tasks::new();
    let hub = Arc::new(Hub::new(QueueConfig::default()));
    let live = Arc::new(LiveFeed::new());
    let changed = watch::channel(0u64).0;
    let (events, events_rx) = mpsc::channel(CHANNEL);
    let (triggers, evaluator) = TriggerService::new(store.clone(), stocks.clone(), None, tasks.clone(), None);
    tasks.spawn(triggers.forward_to_hub(hub.clone(), store.clone()));
    let (feed, feed_rx) = mpsc::channel(1024);
    let gaps = GapRepair::new(gateway.clone(), feed, tasks.clone());
    tasks.spawn(
        Ingest::new(live, store.clone(), hub.clone(), gateway, gaps, evaluator).run(Inputs {
            feed: feed_rx,
            realtime: Some(events_rx),
            changed: changed.subscribe(),
            advanced: None,
        }),
    );

    // Receivers: the broadcast (stored triggers) and one hub client's outbox.
    // (Collected into a shared list and read at the end: the trigger backlog's task keeps a sender
    // of the broadcast, so it never closes while the service lives.)
    let mut stored = triggers.subscribe();
    let got: Arc<Mutex<Vec<StoredSeen>>> = Arc::default();
    let on_subscribe = {
        let got = got.clone();
        tokio::spawn(async move {
            loop {
                match stored.recv().await {
                    Ok(TriggerEvent::Stored(row)) => got.lock().unwrap().push((
                        row.id,
                        row.fired.code.clone(),
                        row.fired.time.clone(),
                        Instant::now(),
                    )),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        eprintln!("subscribe() lagged by {n} triggers");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    };
    let (_client, outbox) = hub.connect();
    let in_outbox: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let outbox_task = {
        let in_outbox = in_outbox.clone();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while outbox.recv_batch(&mut batch, 256).await.is_ok() {
                let now = Instant::now();
                let mut seen = in_outbox.lock().unwrap();
                for d in batch.drain(..) {
                    if let Some(id) = d.trigger_id {
                        seen.insert(id, now);
                    }
                }
                drop(seen);
                outbox.written();
            }
        })
    };

    // Priming: one low trade per stock (the engine sees where each stock stands; nothing fires).
    for code in &codes {
        events.send(trade(&template, *code, today, at(0, 5), LOW)).await?;
    }

    // Latency: steady pairs, one stock after another, minute after minute.
    let load_before = load_average();
    let sent: Arc<Mutex<HashMap<(String, String), Instant>>> = Arc::default();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / pairs_per_sec as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    for m in 1..=minutes {
        for code in &codes {
            tick.tick().await;
            let fire_at = at(m, 10);
            let key = (code.to_string(), rfc3339(DateTime::from_parts(today, fire_at)));
            sent.lock().unwrap().insert(key, Instant::now());
            events.send(trade(&template, *code, today, fire_at, HIGH)).await?;
            events
                .send(trade(&template, *code, today, at(m, 40), LOW))
                .await?;
        }
    }
    let expected = (minutes * n_stocks) as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    while triggers.fired() < expected as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let latency_secs = started.elapsed().as_secs_f64();
    let load_after = load_average();

    // Throughput of non-firing trades: all at LOW (the condition stays false), then one marker.
    let fired_before = triggers.fired();
    let first_noise_minute = minutes + 1;
    let per_minute = n_stocks * 59;
    let noise_started = Instant::now();
    for i in 0..noise {
        let code = codes[(i % n_stocks) as usize];
        let m = first_noise_minute + i / per_minute;
        let second = ((i % per_minute) / n_stocks) as i8;
        events
            .send(trade(&template, code, today, at(m, second), LOW))
            .await?;
    }
    let marker_minute = first_noise_minute + noise.div_ceil(per_minute);
    events
        .send(trade(&template, codes[0], today, at(marker_minute, 30), HIGH))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while triggers.fired() <= fired_before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let noise_secs = noise_started.elapsed().as_secs_f64();
    let marker_fired = triggers.fired() > fired_before;

    // Where the time goes: the store's part alone, the same insert (one transaction each) timed
    // on its own, after the service went quiet.
    let mut store_alone = Vec::new();
    if let Some(row) = store.trigger(1).await? {
        let earlier = date(2026, 7, 22);
        for i in 0..expected.min(390 * n_stocks as usize) as u64 {
            let mut t = row.fired.clone();
            t.code = codes[(i % n_stocks) as usize].to_string();
            let bar = DateTime::from_parts(earlier, at(i / n_stocks, 0));
            t.bar_time = rfc3339(bar);
            t.time = rfc3339(DateTime::from_parts(earlier, at(i / n_stocks, 10)));
            let began = Instant::now();
            anyhow::ensure!(
                store.add_trigger(t).await?.is_some(),
                "a bench trigger was a duplicate"
            );
            store_alone.push(began.elapsed().as_micros() as u64);
        }
    }

    drop(events);
    drop(changed);
    hub.shutdown();
    let _ = outbox_task.await;
    drop(triggers);
    on_subscribe.abort();
    let got = std::mem::take(&mut *got.lock().unwrap());

    // Figures.
    let sent = sent.lock().unwrap();
    let in_outbox = in_outbox.lock().unwrap();
    let mut to_subscribe = Vec::new();
    let mut to_outbox = Vec::new();
    let mut unmatched = 0;
    for (id, code, time, arrived) in &got {
        let Some(at) = sent.get(&(code.clone(), time.clone())) else {
            unmatched += 1;
            continue;
        };
        to_subscribe.push(arrived.duration_since(*at).as_micros() as u64);
        if let Some(o) = in_outbox.get(id) {
            to_outbox.push(o.duration_since(*at).as_micros() as u64);
        }
    }
    println!(
        "trigger latency: {n_stocks} stocks, {minutes} minutes, {pairs_per_sec} firing trades/s \
         (+ as many non-firing), {:.1} s; load average {load_before} before, {load_after} after",
        latency_secs
    );
    println!(
        "triggers: expected {expected}, fired {}, on subscribe() {}, in the outbox {}, unmatched {unmatched}",
        fired_before,
        got.len(),
        in_outbox.len()
    );
    summary("trade sent -> stored trigger on subscribe()", to_subscribe);
    summary("trade sent -> trigger in a hub client's outbox", to_outbox);
    summary(
        "store.add_trigger alone (same insert, quiet service)",
        store_alone,
    );
    println!(
        "non-firing trades: {noise} in {noise_secs:.2} s = {:.0} trades/s through the trigger task \
         (marker fired: {marker_fired})",
        noise as f64 / noise_secs
    );
    Ok(())
}
