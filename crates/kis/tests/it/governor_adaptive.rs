//! A client configured for the real profile (20/s) against a simulator whose key allows only 5 or
//! 12 a second (KIS sometimes allows less than it documents): the adaptive governor finds the
//! limit within a few rejections in the first minute, sees none once the rate has settled, and
//! every request completes.
//!
//! Runs in tokio's paused time: the simulator's sliding window, its injected latency, the
//! governor's holds and the client's backoff all read tokio's clock, so the 90 virtual seconds
//! take well under a second of real time, and the rejection counts are the simulator's own.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{client_config, spawn_sim, temp_dir};
use kis::KisClient;
use kis::wire::quotations::RecentPeriod;
use kis_sim::{SimConfig, SimServer};
use market::StockCode;
use tokio::time::Instant;

const CODES: [&str; 6] = ["005930", "000660", "005380", "000270", "068270", "035420"];

/// `tasks` callers send mixed requests until `until`; each must succeed (retries included).
/// Returns how many completed.
async fn load(kis: &KisClient, tasks: usize, until: Instant) -> usize {
    let done = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (kis, done) = (kis.clone(), done.clone());
            tokio::spawn(async move {
                let mut i = t;
                while Instant::now() < until {
                    let code = StockCode::parse(CODES[i % CODES.len()]).unwrap();
                    let result = match i % 4 {
                        0 => kis.price(code).await.map(|_| ()),
                        1 => kis.order_book(code).await.map(|_| ()),
                        2 => kis.executions(code).await.map(|_| ()),
                        _ => kis.daily_prices(code, RecentPeriod::Day).await.map(|_| ()),
                    };
                    if let Err(e) = result {
                        panic!("request {i} failed: {e}");
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += tasks;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    done.load(Ordering::Relaxed)
}

struct Phase {
    refused: u64,
    completed: usize,
}

async fn phase(sim: &SimServer, kis: &KisClient, until: Instant) -> Phase {
    let before = sim.stats().rate_limited;
    let completed = load(kis, 40, until).await;
    Phase {
        refused: sim.stats().rate_limited - before,
        completed,
    }
}

async fn finds_the_limit(limit: u32) {
    let sim = spawn_sim(SimConfig {
        rate: Some(limit),
        latency_ms: Some((5, 100)),
        ..SimConfig::default()
    })
    .await;
    let dir = temp_dir(&format!("adaptive-{limit}"));
    let mut config = client_config(&sim, 0, &dir);
    config.coalesce = false; // every request goes upstream
    config.share_slots = false; // the in-process ledger reads tokio's (paused) clock
    let kis = KisClient::new(config).unwrap();
    assert_eq!(kis.governor_metrics().slots, 20, "the real profile");
    let origin = Instant::now();
    let start = phase(&sim, &kis, origin + Duration::from_secs(10)).await;
    let rate_at_10s = kis.governor_metrics().effective_rate;
    let minute = phase(&sim, &kis, origin + Duration::from_secs(60)).await;
    let after = phase(&sim, &kis, origin + Duration::from_secs(90)).await;
    let m = kis.governor_metrics();
    let stats = sim.stats();
    eprintln!(
        "server limit {limit}, profile 20: refused {} in 0-10 s, {} in 10-60 s, {} in 60-90 s; \
         completed {} / {} / {}; rate {rate_at_10s} at 10 s, {} at the end; {stats:?}",
        start.refused,
        minute.refused,
        after.refused,
        start.completed,
        minute.completed,
        after.completed,
        m.effective_rate,
    );
    assert!(
        start.refused + minute.refused < 10,
        "fewer than 10 rejections in the first 60 s: {} + {}",
        start.refused,
        minute.refused
    );
    assert_eq!(minute.refused + after.refused, 0, "none once settled");
    assert!(
        m.effective_rate <= limit && rate_at_10s == m.effective_rate,
        "settled at or below the server's limit: {} of {limit}",
        m.effective_rate
    );
    assert!(
        stats.max_window > u64::from(limit),
        "the limit was met at the start: {stats:?}"
    );
    assert_eq!(
        m.rate_limited_seen, stats.rate_limited,
        "every EGW00201 reached the governor"
    );
    assert_eq!(
        stats.requests - stats.token_requests,
        (start.completed + minute.completed + after.completed) as u64 + stats.rate_limited,
        "each request completed once, the refused ones retried: {stats:?}"
    );
    assert_eq!(
        m.key_fingerprint,
        Some(common::credentials(sim.config().profile, 0).key_fingerprint())
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(start_paused = true)]
async fn a_key_allowing_5_behind_the_profile_of_20() {
    finds_the_limit(5).await;
}

#[tokio::test(start_paused = true)]
async fn a_key_allowing_12_behind_the_profile_of_20() {
    finds_the_limit(12).await;
}
