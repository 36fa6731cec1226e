//! The governor against the strategies KIS users use today, side by side on the simulator's
//! sliding-window limiter with injected latency (`cargo bench -p kis --bench governor`).
//!
//! * governor: this crate's `KisClient` (N slots, each held until 1 s + ε after completion);
//! * semaphore(1) + 250 ms: one request at a time, 250 ms pause after each (a common fix);
//! * fixed window 19/s: python-kis's limiter (count calls since the window start; at the limit sleep
//!   out the second + 50 ms, reset) with its retry of EGW00201 after 0.1 s.
//!
//! Each strategy uses its own demo app key, so their windows are independent. Under `cargo test`
//! (no `--bench` argument) the benchmark does nothing.
//!
//! First, criterion measures the governor's own cost per request — acquire a free slot, then
//! release it — with the in-process ledger and with the file ledger shared between processes,
//! side by side. Slots are plentiful and the hold is 1 ms, so nothing ever waits and the ledger
//! file holds a few dozen live leases, as it does at 20/s. With `KIS_BENCH_REDIS=redis://host:port/db`
//! the Redis ledger (shared between machines) is measured beside them. `KIS_BENCH_LATENCY_ONLY=1`
//! stops after that part.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use kis::governor::{Governor, GovernorConfig};
use kis::ledger::{FileLedger, RedisLedger};
use kis::wire::Request;
use kis::wire::quotations::{ExecutionsRequest, OrderBookRequest, PriceRequest};
use kis::{ClientConfig, Credentials, Environment, KisClient, Priority};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use market::StockCode;
use tokio::sync::{Mutex, Semaphore};

const CODES: [&str; 6] = ["005930", "000660", "005380", "000270", "068270", "035420"];
const TASKS: usize = 50;

#[derive(Default)]
struct Outcome {
    name: String,
    requests: usize,
    ok: usize,
    failed: usize,
    rejected_by_server: u64,
    /// Requests that reached the server (retries included).
    attempts: u64,
    max_window: u64,
    wall: Duration,
    latencies: Vec<Duration>,
    rtts: Vec<Duration>,
}

impl Outcome {
    fn percentile(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l[((l.len() - 1) as f64 * p).round() as usize]
    }
}

fn code(i: usize) -> StockCode {
    StockCode::parse(CODES[i % CODES.len()]).unwrap_or_else(|_| unreachable!())
}

fn environment(sim: &SimServer, profile: Profile) -> Environment {
    Environment::Custom {
        rest_url: sim.rest_url(),
        ws_url: sim.ws_url(),
        rate: profile.default_rate(),
        vts: profile == Profile::Vts,
    }
}

fn client(sim: &SimServer, profile: Profile, key: u32) -> KisClient {
    let (k, s) = demo_credentials(profile, key);
    let mut config = ClientConfig::new(environment(sim, profile), Credentials::new(k, s).unwrap());
    config.coalesce = false; // measure the governor itself: every request goes upstream
    config.request_timeout = Duration::from_secs(30);
    KisClient::new(config).unwrap()
}

/// Runs `total` requests from `TASKS` tasks; `call(i)` returns Ok(()) or an error string.
async fn drive<F, Fut>(total: usize, call: F) -> (usize, usize, Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (call, next) = (call.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = (0, 0, Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let t = Instant::now();
                    match call(i).await {
                        Ok(()) => out.0 += 1,
                        Err(_) => out.1 += 1,
                    }
                    out.2.push(t.elapsed());
                }
                out
            })
        })
        .collect();
    let (mut ok, mut failed, mut latencies) = (0, 0, Vec::new());
    for t in tasks {
        let (o, f, l) = t.await.unwrap();
        ok += o;
        failed += f;
        latencies.extend(l);
    }
    (ok, failed, latencies, started.elapsed())
}

async fn governor(sim: &SimServer, profile: Profile, key: u32, total: usize) -> Outcome {
    let kis = client(sim, profile, key);
    kis.price(code(0)).await.unwrap(); // token first, outside the measurement
    let (before, sent_before) = (sim.stats().rate_limited, sim.stats().requests);
    let k = kis.clone();
    let (ok, failed, latencies, wall) = drive(total, move |i| {
        let k = k.clone();
        async move {
            let r = match i % 3 {
                0 => k.price(code(i)).await.map(|_| ()),
                1 => k.order_book(code(i)).await.map(|_| ()),
                _ => k.executions(code(i)).await.map(|_| ()),
            };
            r.map_err(|e| e.to_string())
        }
    })
    .await;
    Outcome {
        name: "governor (this crate)".into(),
        requests: total,
        ok,
        failed,
        rejected_by_server: sim.stats().rate_limited - before,
        attempts: sim.stats().requests - sent_before,
        max_window: sim.stats().max_window,
        wall,
        latencies,
        rtts: Vec::new(),
    }
}

/// A raw KIS GET (token from the crate's store), returning (is EGW00201, ok, rtt).
struct Raw {
    http: reqwest::Client,
    url: String,
    key: String,
    secret: String,
    token: String,
}

impl Raw {
    async fn new(sim: &SimServer, profile: Profile, key: u32) -> Raw {
        let kis = client(sim, profile, key);
        let token = kis.tokens().access_token().await.unwrap().expose().to_owned();
        let (k, s) = demo_credentials(profile, key);
        Raw {
            http: reqwest::Client::new(),
            url: sim.rest_url(),
            key: k,
            secret: s,
            token,
        }
    }

    async fn get(&self, i: usize) -> (bool, bool, Duration) {
        fn parts<R: Request>(r: &R) -> (&'static str, &'static str, Vec<(&'static str, String)>) {
            (R::PATH, R::TR_ID, r.query())
        }
        let (path, tr, query) = match i % 3 {
            0 => parts(&PriceRequest { code: code(i) }),
            1 => parts(&OrderBookRequest { code: code(i) }),
            _ => parts(&ExecutionsRequest { code: code(i) }),
        };
        let t = Instant::now();
        let resp = self
            .http
            .get(format!("{}{}", self.url, path))
            .query(&query)
            .header("authorization", format!("Bearer {}", self.token))
            .header("appkey", &self.key)
            .header("appsecret", &self.secret)
            .header("tr_id", tr)
            .header("custtype", "P")
            .send()
            .await;
        let Ok(resp) = resp else {
            return (false, false, t.elapsed());
        };
        let body = resp.bytes().await.unwrap_or_default();
        let rtt = t.elapsed();
        let text = String::from_utf8_lossy(&body);
        (text.contains("EGW00201"), text.contains("\"rt_cd\":\"0\""), rtt)
    }
}

async fn semaphore(sim: &SimServer, profile: Profile, key: u32, total: usize) -> Outcome {
    let raw = Arc::new(Raw::new(sim, profile, key).await);
    let gate = Arc::new(Semaphore::new(1));
    let rtts = Arc::new(Mutex::new(Vec::new()));
    let (before, sent_before) = (sim.stats().rate_limited, sim.stats().requests);
    let (r2, g2, rt2) = (raw.clone(), gate.clone(), rtts.clone());
    let (ok, failed, latencies, wall) = drive(total, move |i| {
        let (raw, gate, rtts) = (r2.clone(), g2.clone(), rt2.clone());
        async move {
            let _one = gate.acquire().await.map_err(|e| e.to_string())?;
            let (_, ok, rtt) = raw.get(i).await;
            rtts.lock().await.push(rtt);
            tokio::time::sleep(Duration::from_millis(250)).await;
            if ok { Ok(()) } else { Err("failed".into()) }
        }
    })
    .await;
    let rtts = rtts.lock().await.clone();
    Outcome {
        name: "semaphore(1) + 250 ms".into(),
        requests: total,
        ok,
        failed,
        rejected_by_server: sim.stats().rate_limited - before,
        attempts: sim.stats().requests - sent_before,
        max_window: sim.stats().max_window,
        wall,
        latencies,
        rtts,
    }
}

/// python-kis `RateLimiter(rate, period=1)`: a fixed window, plus its EGW00201 retry after 0.1 s.
struct FixedWindow {
    rate: usize,
    state: Mutex<(Instant, usize)>,
}

impl FixedWindow {
    async fn acquire(&self) {
        let mut s = self.state.lock().await;
        let elapsed = s.0.elapsed();
        if elapsed >= Duration::from_secs(1) {
            *s = (Instant::now(), 0);
        } else if s.1 >= self.rate {
            tokio::time::sleep(Duration::from_secs(1) - elapsed + Duration::from_millis(50)).await;
            *s = (Instant::now(), 0);
        }
        s.1 += 1;
    }
}

async fn fixed_window(sim: &SimServer, profile: Profile, key: u32, total: usize, rate: usize) -> Outcome {
    let raw = Arc::new(Raw::new(sim, profile, key).await);
    let limiter = Arc::new(FixedWindow {
        rate,
        state: Mutex::new((Instant::now(), 0)),
    });
    let (before, sent_before) = (sim.stats().rate_limited, sim.stats().requests);
    let (r2, l2) = (raw.clone(), limiter.clone());
    let (ok, failed, latencies, wall) = drive(total, move |i| {
        let (raw, limiter) = (r2.clone(), l2.clone());
        async move {
            // python-kis retries EGW00201 forever; bounded here at 50 tries.
            for _ in 0..50 {
                limiter.acquire().await;
                let (rate_limited, ok, _) = raw.get(i).await;
                if ok {
                    return Ok(());
                }
                if !rate_limited {
                    return Err("failed".into());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err("gave up".into())
        }
    })
    .await;
    Outcome {
        name: format!("fixed window {rate}/s (python-kis)"),
        requests: total,
        ok,
        failed,
        rejected_by_server: sim.stats().rate_limited - before,
        attempts: sim.stats().requests - sent_before,
        max_window: sim.stats().max_window,
        wall,
        latencies,
        rtts: Vec::new(),
    }
}

fn print_table(title: &str, n: u32, outcomes: &[Outcome], mean_rtt: Duration) {
    let target = f64::from(n) / (1.0 + mean_rtt.as_secs_f64());
    println!("\n### {title}\n");
    println!(
        "N = {n}/s, mean RTT {:.0} ms → ideal N/(1 s + RTT) = {target:.2} req/s\n",
        mean_rtt.as_secs_f64() * 1e3
    );
    println!(
        "| strategy | requests | ok | failed | sent (with retries) | EGW00201 at server | error rate (EGW00201 / sent) \
         | throughput (ok/s) | % of ideal | p50 | p99 | max arrivals in 1 s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        let thr = o.ok as f64 / o.wall.as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1}% | {:.2} | {:.0}% | {:.0} ms | {:.0} ms | {} |",
            o.name,
            o.requests,
            o.ok,
            o.failed,
            o.attempts,
            o.rejected_by_server,
            100.0 * o.rejected_by_server as f64 / o.attempts.max(1) as f64,
            thr,
            100.0 * thr / target,
            o.percentile(0.5).as_secs_f64() * 1e3,
            o.percentile(0.99).as_secs_f64() * 1e3,
            o.max_window,
        );
    }
}

async fn interactive_vs_background(sim: &SimServer, profile: Profile, key: u32) {
    let kis = client(sim, profile, key);
    kis.price(code(0)).await.unwrap();
    let background = kis.with_priority(Priority::Background);
    let queued: Vec<_> = (0..230)
        .map(|i| {
            let b = background.clone();
            tokio::spawn(async move { b.executions(code(i)).await.map(|_| ()) })
        })
        .collect();
    while kis.governor_metrics().queued_background < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let depth = kis.governor_metrics().queued_background;
    let t = Instant::now();
    kis.price(code(1)).await.unwrap();
    let waited = t.elapsed();
    let m = kis.governor_metrics();
    println!(
        "\nInteractive request issued with {depth} background requests queued: answered in {:.0} ms \
         (one slot wait is at most 1 s + ε + RTT ≈ 1,230 ms at 200 ms RTT); {} background still queued after it.",
        waited.as_secs_f64() * 1e3,
        m.queued_background
    );
    for q in queued {
        q.abort();
    }
}

/// Criterion: acquire + release of a free slot, in-process ledger vs file ledger.
fn added_latency(rt: &tokio::runtime::Runtime) {
    let config = GovernorConfig {
        slots: 10_000,
        window: Duration::from_millis(1),
        margin: Duration::ZERO,
        ..GovernorConfig::per_second(1).without_start_pacing()
    };
    let dir = std::env::temp_dir().join(format!("kis-bench-ledger-{}", std::process::id()));
    let file = FileLedger::open(
        &dir,
        "bench-0000000000000000",
        config.slots,
        config.hold(),
        Duration::from_secs(15),
    )
    .unwrap();
    let mut governors = vec![
        ("in-process ledger", Governor::new(config)),
        (
            "file ledger (shared)",
            Governor::with_ledger(config, Arc::new(file)),
        ),
    ];
    if let Ok(url) = std::env::var("KIS_BENCH_REDIS") {
        let _runtime = rt.enter(); // the ledger's client task runs on the bench's runtime
        let redis = RedisLedger::open(
            &url,
            &format!("bench-{}", std::process::id()),
            config.rules(),
            config.hold(),
            Duration::from_secs(15),
        )
        .unwrap();
        governors.push((
            "redis ledger (shared by machines)",
            Governor::with_ledger(config, Arc::new(redis)),
        ));
    }
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut group = c.benchmark_group("governor acquire+release");
    for (name, governor) in &governors {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        let permit = governor.acquire(Priority::Interactive).await;
                        drop(permit);
                    }
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
    c.final_summary();
    drop(governors);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("governor benchmark: run with `cargo bench -p kis --bench governor`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    added_latency(&rt);
    if std::env::var_os("KIS_BENCH_LATENCY_ONLY").is_some() {
        return;
    }
    rt.block_on(async {
        let latency = (5, 200);
        // One simulator per strategy, so `max_window` and the counters are each strategy's own.
        let sim = |profile| async move {
            SimServer::start(
                SimConfig {
                    profile,
                    latency_ms: Some(latency),
                    control: true,
                    ..SimConfig::default()
                },
                "127.0.0.1:0".parse().unwrap(),
            )
            .await
            .unwrap()
        };
        let total: usize = std::env::var("KIS_BENCH_REQUESTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        eprintln!(
            "real profile (20/s), latency {latency:?} ms, {total} requests from {TASKS} tasks per strategy"
        );
        let (s1, s2, s3) = (
            sim(Profile::Real).await,
            sim(Profile::Real).await,
            sim(Profile::Real).await,
        );
        let g = governor(&s1, Profile::Real, 1, total).await;
        eprintln!("governor done in {:?}", g.wall);
        let f = fixed_window(&s2, Profile::Real, 2, total, 19).await;
        eprintln!("fixed window done in {:?}", f.wall);
        let s = semaphore(&s3, Profile::Real, 3, total / 8).await;
        eprintln!("semaphore done in {:?}", s.wall);
        let mean_rtt = s.rtts.iter().sum::<Duration>() / s.rtts.len().max(1) as u32;
        print_table(
            &format!("Real profile (20/s), latency {}..{} ms", latency.0, latency.1),
            20,
            &[g, f, s],
            mean_rtt,
        );
        interactive_vs_background(&s1, Profile::Real, 4).await;
        for server in [s1, s2, s3] {
            server.shutdown().await;
        }

        let n = 100;
        eprintln!("vts profile (2/s), {n} requests per strategy");
        let (v1, v2, v3) = (
            sim(Profile::Vts).await,
            sim(Profile::Vts).await,
            sim(Profile::Vts).await,
        );
        let (g, f, s) = tokio::join!(
            governor(&v1, Profile::Vts, 1, n),
            fixed_window(&v2, Profile::Vts, 2, n, 2),
            semaphore(&v3, Profile::Vts, 3, n)
        );
        let mean_rtt = s.rtts.iter().sum::<Duration>() / s.rtts.len().max(1) as u32;
        print_table(
            &format!("VTS profile (2/s), latency {}..{} ms", latency.0, latency.1),
            2,
            &[g, f, s],
            mean_rtt,
        );
        for server in [v1, v2, v3] {
            server.shutdown().await;
        }
    });
}
