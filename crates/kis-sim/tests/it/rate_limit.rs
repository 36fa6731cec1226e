//! The per-app-key limit over real HTTP: N+1 requests inside one second → exactly N succeed, on each
//! profile; and the window is counted on arrival (after injected latency), not on sending.
//!
//! None of these tests needs the machine to be fast. Each one checks its verdicts against the
//! simulator's own counters (`max_window`: the most arrivals of one key inside any second;
//! `rate_limited`; `in_flight`), which say exactly what the limiter saw, so the assertions hold
//! however the requests were spread in time. Only the *scenario* (a burst landing inside one second,
//! a request overtaken on the wire) depends on timing; when a loaded machine spreads it out, the test
//! says so and runs it again on a fresh simulator (up to [`ATTEMPTS`] times). The exact window
//! arithmetic itself is unit-tested with explicit instants in `src/ratelimit.rs`.

use std::sync::Arc;

use crate::common::*;
use kis_sim::{Profile, SimConfig, SimStats};
use serde_json::json;
use tokio::sync::Barrier;

/// How often a scenario that a stalled machine spread out is tried again.
const ATTEMPTS: usize = 5;

async fn burst(caller: Arc<Caller>, n: usize) -> Vec<(u16, serde_json::Value)> {
    // Open n pooled connections first (tokenP with an empty body: refused, and not rate-limited), so
    // the burst itself spends no time connecting and normally lands well inside one second.
    let url = format!("{}/oauth2/tokenP", caller.base);
    let warm: Vec<_> = (0..n)
        .map(|_| {
            let (http, url) = (caller.http.clone(), url.clone());
            tokio::spawn(async move {
                http.post(url)
                    .body("{}")
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    for w in warm {
        assert_eq!(w.await.unwrap().unwrap(), 403);
    }
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let caller = caller.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                caller.price(SAMSUNG).await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Sends `total` requests at once from one key against a simulator limited to `limit`/s and checks
/// every verdict against what the limiter saw: a request is refused (HTTP 500 `EGW00201`) exactly
/// when its second already held `limit` arrivals, so the refusals number `max_window - limit` when
/// the burst fitted inside one second (`max_window == total`), and none when it did not. Returns
/// whether it fitted.
async fn burst_verdicts_match_the_window(config: SimConfig, limit: usize, total: usize) -> bool {
    let server = start(config).await;
    let profile = server.config().profile;
    let caller = Arc::new(Caller::new(&server, profile, 0).await);
    // Another key warms the stock up, so every request of the burst is fast.
    let other = Caller::new(&server, profile, 1).await;
    assert_eq!(other.price(SAMSUNG).await.0, 200);

    let results = burst(caller, total).await;
    let stats: SimStats = server.stats();
    server.shutdown().await;
    let ok = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["rt_cd"] == "0")
        .count();
    let limited: Vec<_> = results.iter().filter(|(s, _)| *s == 500).collect();
    assert_eq!(
        ok + limited.len(),
        total,
        "only accepted or rate-limited: {results:?}"
    );
    for (_, body) in &limited {
        assert_eq!(
            body,
            &json!({"rt_cd":"1","msg_cd":"EGW00201","msg1":"초당 거래건수를 초과하였습니다."})
        );
    }
    assert_eq!(stats.rate_limited, limited.len() as u64, "{stats:?}");
    assert_eq!(stats.rate_limit, Some(limit as u32));
    assert!(stats.max_window <= total as u64, "{stats:?}");
    let fitted = stats.max_window == total as u64;
    if fitted {
        assert_eq!(
            limited.len(),
            total - limit,
            "{total} inside one second: {stats:?}"
        );
    } else {
        assert!(
            stats.max_window <= limit as u64 && limited.is_empty(),
            "a spread-out burst of {total} is refused only beyond {limit} in a second: {stats:?}"
        );
        eprintln!("the burst took more than a second ({stats:?}); trying again");
    }
    fitted
}

/// Runs the burst until it fits inside one second (at most [`ATTEMPTS`] times).
async fn n_plus_one(config: SimConfig, limit: usize) {
    for _ in 0..ATTEMPTS {
        if burst_verdicts_match_the_window(config.clone(), limit, limit + 1).await {
            return;
        }
    }
    panic!("{ATTEMPTS} bursts of {} each took more than a second", limit + 1);
}

#[tokio::test]
async fn real_profile_allows_exactly_20_of_21() {
    n_plus_one(SimConfig::default(), 20).await;
}

#[tokio::test]
async fn vts_profile_allows_exactly_2_of_3() {
    let config = SimConfig {
        profile: Profile::Vts,
        ..SimConfig::default()
    };
    n_plus_one(config, 2).await;
}

#[tokio::test]
async fn a_rate_override_is_the_limit() {
    let config = SimConfig {
        rate: Some(5),
        ..SimConfig::default()
    };
    n_plus_one(config, 5).await;
}

#[tokio::test]
async fn unlimited_accepts_everything_and_still_counts_the_window() {
    let server = start(config(Profile::Real)).await; // rate Some(0): no limit
    let caller = Arc::new(Caller::new(&server, Profile::Real, 0).await);
    let results = burst(caller, 30).await;
    assert!(results.iter().all(|(s, _)| *s == 200));
    let stats = server.stats();
    assert_eq!(stats.rate_limit, None);
    assert_eq!(stats.rate_limited, 0);
    assert!((1..=30).contains(&stats.max_window), "{stats:?}");
    server.shutdown().await;
}

/// Limit 2. Request A is sent first but spends 800 ms on the wire; B and C are sent after it with no
/// latency and arrive first. Counted on arrival, B and C pass and A (the third arrival in the window)
/// is refused; counted on sending, C would have been refused instead. Whether B and C really arrived
/// while A was still on the wire is read from the simulator (`in_flight`), not assumed.
#[tokio::test]
async fn the_window_counts_arrivals_after_latency() {
    for _ in 0..ATTEMPTS {
        let server = start(SimConfig {
            rate: Some(2),
            control: true,
            ..SimConfig::default()
        })
        .await;
        let caller = Arc::new(Caller::new(&server, Profile::Real, 0).await);
        let warm = Caller::new(&server, Profile::Real, 1).await;
        assert_eq!(warm.price(SAMSUNG).await.0, 200); // generate the stock before timing anything
        let http = reqwest::Client::new();
        let faults = format!("{}/sim/faults", server.rest_url());
        assert_eq!(
            post(&http, &faults, &json!({"latency_ms": [800, 800]})).await.0,
            200
        );
        let a = {
            let caller = caller.clone();
            tokio::spawn(async move { caller.price(SAMSUNG).await })
        };
        while server.stats().in_flight == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(post(&http, &faults, &json!({"latency_ms": null})).await.0, 200);
        let b = caller.price(SAMSUNG).await;
        let c = caller.price(SAMSUNG).await;
        let a_still_on_the_wire = server.stats().in_flight == 1;
        let a = a.await.unwrap();
        let stats = server.stats();
        server.shutdown().await;
        if !a_still_on_the_wire {
            eprintln!("B and C took longer than A's 800 ms on the wire; trying again");
            continue;
        }
        assert_eq!(b.0, 200, "{}", b.1);
        assert_eq!(c.0, 200, "{}", c.1);
        assert_eq!((a.0, a.1["msg_cd"].as_str()), (500, Some("EGW00201")));
        assert_eq!((stats.max_window, stats.rate_limited), (3, 1), "{stats:?}");
        return;
    }
    panic!("{ATTEMPTS} times, B and C took longer than A's 800 ms on the wire");
}
