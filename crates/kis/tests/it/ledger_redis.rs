//! The Redis slot ledger against a real `redis-server` (started here on a free loopback port in a
//! temp dir; the tests are skipped, saying why, when it is not installed — except under `CI`,
//! where they fail) and the simulator:
//!
//! * two clients standing for two machines (their own ledger objects and data dirs) on one key
//!   through one Redis: a burst from both draws no EGW00201, the fullest window is N, the pair gets
//!   the throughput of one key, and one token is issued for both;
//! * a holder that dies holding every slot: the slots come back within the lease;
//! * Redis killed and restarted mid-run: no EGW00201, both clients go on after the new epoch's hold,
//!   and the ledger reports its fallback while Redis is away;
//! * no Redis at all: the local share (half the rate), reported as `fallback`.

use crate::common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{client_config, spawn_sim, temp_dir};
use kis::ledger::{AdaptRules, LedgerHealth, RedisLedger};
use kis::{Governor, GovernorConfig, KisClient, Priority};
use kis_sim::{SimConfig, SimServer};
use market::StockCode;

const CODES: [&str; 6] = ["005930", "000660", "005380", "000270", "068270", "035420"];

/// A `redis-server` of this test: its own port, dir and no persistence; killed on drop.
struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one, or says why not: `None` (skip) without `redis-server`, a panic under `CI`.
    fn start(name: &str) -> Option<RedisServer> {
        let exists = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed (apt-get install -y redis-server): required under CI"
            );
            eprintln!("SKIPPED {name}: redis-server is not installed (apt-get install -y redis-server)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let dir = temp_dir(&format!("redis-{name}"));
        let mut server = RedisServer {
            child: None,
            port,
            dir,
        };
        server.run();
        Some(server)
    }

    /// Starts the server on its port and waits for its "ready" line.
    fn run(&mut self) {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--logfile", ""])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(_) => continue,
                None => panic!("redis-server exited before it was ready"),
            }
        }
        // Keep draining its log so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client on the simulator's key 0 sharing its slots and tokens through `url`, with its own
/// data dir (a machine of its own).
fn machine(sim: &SimServer, url: &str, name: &str, timeout: Duration) -> KisClient {
    let dir = temp_dir(name);
    let mut config = client_config(sim, 0, &dir);
    config.coalesce = false;
    config.share_slots = false; // no file ledger: the machines share only Redis
    config.ledger_url = Some(url.to_owned());
    config.request_timeout = timeout;
    KisClient::new(config).unwrap()
}

/// `tasks` callers send `total` price requests through `kis`; each must succeed.
async fn burst(kis: &KisClient, tasks: usize, total: usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (kis, next) = (kis.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let code = StockCode::parse(CODES[i % CODES.len()]).unwrap();
                    if let Err(e) = kis.price(code).await {
                        panic!("request {i} failed: {e}");
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_machines_on_one_key_share_its_rate_and_its_token() {
    let Some(redis) = RedisServer::start("share") else {
        return;
    };
    let sim = spawn_sim(SimConfig {
        latency_ms: Some((5, 50)),
        ..SimConfig::default()
    })
    .await;
    let a = machine(&sim, &redis.url(), "redis-share-a", Duration::from_secs(10));
    let b = machine(&sim, &redis.url(), "redis-share-b", Duration::from_secs(10));
    // One request each first: the token (issued once, by whichever gets the lock) and the
    // connections. A Redis started moments ago holds every slot for a few seconds (it could be
    // a restart: see the ledger's doc); this absorbs that too.
    let code = StockCode::parse(CODES[0]).unwrap();
    let (ra, rb) = tokio::join!(a.price(code), b.price(code));
    ra.unwrap();
    rb.unwrap();
    let started = Instant::now();
    let each = 60;
    tokio::join!(burst(&a, 20, each), burst(&b, 20, each));
    let wall = started.elapsed();
    let stats = sim.stats();
    let (ma, mb) = (a.governor_metrics(), b.governor_metrics());
    eprintln!(
        "2 machines x {each} requests through Redis: {wall:?} (one key at 20/s: ~{:.1} s); {stats:?}; a {:?}, b {:?}",
        (2 * each) as f64 / 19.0,
        ma.ledger,
        mb.ledger
    );
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 20, "{stats:?}");
    assert_eq!(stats.requests - stats.token_requests, 2 * each as u64 + 2);
    assert_eq!(
        stats.tokens_issued, 1,
        "one issuance for both machines: {stats:?}"
    );
    assert_eq!(
        (ma.ledger, mb.ledger),
        (LedgerHealth::Shared, LedgerHealth::Shared)
    );
    assert!(
        ma.other_processes >= 1 || mb.other_processes >= 1,
        "each saw the other"
    );
    sim.shutdown().await;
}

fn governor_on(url: &str, slots: u32, lease: Duration) -> Governor {
    let config = GovernorConfig::per_second(slots).without_start_pacing();
    let ledger = RedisLedger::open(url, "test-dead-holder", config.rules(), config.hold(), lease).unwrap();
    Governor::with_ledger(config, Arc::new(ledger))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_dies_loses_its_slots_within_the_lease() {
    let Some(redis) = RedisServer::start("dead") else {
        return;
    };
    let lease = Duration::from_secs(2);
    let holder = governor_on(&redis.url(), 3, lease);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(holder.acquire(Priority::Background).await);
    }
    // It dies: nothing is released (no completion reaches Redis).
    for permit in held {
        std::mem::forget(permit);
    }
    drop(holder);
    let died = Instant::now();
    let other = governor_on(&redis.url(), 3, lease);
    let _permit = other.acquire(Priority::Interactive).await;
    let waited = died.elapsed();
    eprintln!("a slot of the dead holder came back after {waited:?} (lease {lease:?} + hold 1.025 s)");
    assert!(waited >= lease, "not before its lease ran out: {waited:?}");
    assert!(
        waited < lease + Duration::from_secs(3),
        "within the lease and hold: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run_costs_no_rejection() {
    let Some(mut redis) = RedisServer::start("restart") else {
        return;
    };
    let sim = spawn_sim(SimConfig {
        latency_ms: Some((5, 50)),
        ..SimConfig::default()
    })
    .await;
    // A short timeout makes the lease (timeout + 5 s) and so the new epoch's hold short.
    let a = machine(&sim, &redis.url(), "redis-restart-a", Duration::from_secs(1));
    let b = machine(&sim, &redis.url(), "redis-restart-b", Duration::from_secs(1));
    burst(&a, 5, 10).await; // token and connections in place
    let url = redis.url();
    let (load_a, load_b) = (a.clone(), b.clone());
    let load = tokio::spawn(async move {
        tokio::join!(burst(&load_a, 10, 120), burst(&load_b, 10, 120));
    });
    // Restart Redis while both are loading (empty: no persistence).
    while sim.stats().requests < 40 {
        tokio::task::yield_now().await;
    }
    let restart = tokio::task::spawn_blocking(move || {
        redis.kill();
        redis.run();
        redis
    });
    let mut saw_fallback = false;
    while !restart.is_finished() {
        saw_fallback |= a.governor_metrics().ledger == LedgerHealth::Fallback
            || b.governor_metrics().ledger == LedgerHealth::Fallback;
        tokio::task::yield_now().await;
    }
    let _redis = restart.await.unwrap();
    load.await.unwrap();
    let stats = sim.stats();
    eprintln!("Redis restarted under load ({url}): {stats:?}; fallback seen: {saw_fallback}");
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_window <= 20, "{stats:?}");
    assert_eq!(stats.requests - stats.token_requests, 10 + 240);
    assert_eq!(a.governor_metrics().ledger, LedgerHealth::Shared, "back on Redis");
    assert_eq!(b.governor_metrics().ledger, LedgerHealth::Shared, "back on Redis");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_ledger_uses_half_the_rate_locally() {
    let sim = spawn_sim(SimConfig::default()).await;
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kis = machine(
        &sim,
        &format!("redis://127.0.0.1:{port}/0"),
        "redis-none",
        Duration::from_secs(10),
    );
    burst(&kis, 10, 20).await;
    let m = kis.governor_metrics();
    assert_eq!(m.ledger, LedgerHealth::Fallback);
    assert_eq!(m.effective_rate, 10, "half of 20");
    assert_eq!(sim.stats().rate_limited, 0);
    sim.shutdown().await;
}

#[test]
fn a_bad_url_is_refused_without_repeating_it() {
    let e = RedisLedger::open(
        "http://user:hunter2@host/0",
        "x",
        AdaptRules::new(20),
        Duration::from_secs(1),
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

/// Two governors (two machines) on one Redis key of 2 slots: one backfills (30 background
/// requests, 50 ms each), the other's interactive request is served at the next free slot, and
/// no background grant overtakes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_request_on_one_machine_goes_before_background_work_on_another() {
    let Some(redis) = RedisServer::start("priority") else {
        return;
    };
    let lease = Duration::from_secs(10);
    let backfill = governor_named(&redis.url(), "test-priority", 2, lease);
    let interactive = governor_named(&redis.url(), "test-priority", 2, lease);
    // A first grant each: the new epoch's hold (a Redis started moments ago) is behind us.
    drop(backfill.acquire(Priority::Interactive).await);
    drop(interactive.acquire(Priority::Interactive).await);
    let granted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (governor, granted) = (backfill.clone(), granted.clone());
            tokio::spawn(async move {
                let permit = governor.acquire(Priority::Background).await;
                granted.lock().unwrap().push(Instant::now());
                tokio::time::sleep(Duration::from_millis(50)).await;
                drop(permit);
            })
        })
        .collect();
    while backfill.metrics().queued_background < 25 {
        tokio::task::yield_now().await;
    }
    let asked = Instant::now();
    let _permit = interactive.acquire(Priority::Interactive).await;
    let served = Instant::now();
    let overtaking = granted
        .lock()
        .unwrap()
        .iter()
        .filter(|&&t| t > asked && t < served)
        .count();
    eprintln!(
        "interactive on another machine waited {:?} behind a backfill; {overtaking} background grants meanwhile",
        served - asked
    );
    // One grant decided before the interactive marker reached Redis is not an overtake.
    assert!(overtaking <= 1, "{overtaking} background grants overtook it");
    assert!(
        served - asked < Duration::from_secs(5),
        "the next free slot, not the queue"
    );
    for t in tasks {
        t.abort();
    }
}

/// A rejection reported on one machine lowers the rate the other one is granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_lowered_on_one_machine_holds_for_the_other() {
    let Some(redis) = RedisServer::start("rate") else {
        return;
    };
    let lease = Duration::from_secs(10);
    let a = governor_named(&redis.url(), "test-rate", 6, lease);
    let b = governor_named(&redis.url(), "test-rate", 6, lease);
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(a.acquire(Priority::Interactive).await);
    }
    held.pop().unwrap().rate_limited(); // refused with 6 live: at most 5
    drop(held);
    // b learns the rate with its next answer from Redis.
    drop(b.acquire(Priority::Interactive).await);
    assert_eq!(b.metrics().effective_rate, 5);
    assert_eq!(a.metrics().effective_rate, 5);
}

fn governor_named(url: &str, name: &str, slots: u32, lease: Duration) -> Governor {
    let config = GovernorConfig::per_second(slots).without_start_pacing();
    let ledger = RedisLedger::open(url, name, config.rules(), config.hold(), lease).unwrap();
    Governor::with_ledger(config, Arc::new(ledger))
}
