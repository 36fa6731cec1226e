//! The per-app-key limit: N+1 requests inside one second → exactly N succeed, on each profile; and
//! the window is counted on arrival (after injected latency), not on sending.

mod common;

use std::sync::Arc;

use common::*;
use kis_sim::{Profile, SimConfig};
use serde_json::json;
use tokio::sync::Barrier;

async fn burst(caller: Arc<Caller>, n: usize) -> Vec<(u16, serde_json::Value)> {
    // Open n pooled connections first (tokenP with an empty body: refused, and not rate-limited), so
    // the burst itself spends no time connecting and lands well inside one second.
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

async fn n_plus_one(profile: Profile, n: usize) {
    let server = start(SimConfig {
        profile,
        ..SimConfig::default()
    })
    .await;
    let caller = Arc::new(Caller::new(&server, profile, 0).await);
    // warm the stock up so every request is fast
    let other = Caller::new(&server, profile, 1).await;
    assert_eq!(other.price(SAMSUNG).await.0, 200);

    let results = burst(caller.clone(), n + 1).await;
    let ok = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["rt_cd"] == "0")
        .count();
    let limited: Vec<_> = results.iter().filter(|(s, _)| *s == 500).collect();
    assert_eq!(ok, n, "{results:?}");
    assert_eq!(limited.len(), 1);
    assert_eq!(
        limited[0].1,
        json!({"rt_cd":"1","msg_cd":"EGW00201","msg1":"초당 거래건수를 초과하였습니다."})
    );
    let stats = server.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.max_window, n as u64 + 1);
    assert_eq!(stats.rate_limit, Some(n as u32));
    server.shutdown().await;
}

#[tokio::test]
async fn real_profile_allows_exactly_20_of_21() {
    n_plus_one(Profile::Real, 20).await;
}

#[tokio::test]
async fn vts_profile_allows_exactly_2_of_3() {
    n_plus_one(Profile::Vts, 2).await;
}

#[tokio::test]
async fn rate_override_and_unlimited() {
    let server = start(SimConfig {
        rate: Some(5),
        ..SimConfig::default()
    })
    .await;
    let caller = Arc::new(Caller::new(&server, Profile::Real, 0).await);
    let results = burst(caller, 6).await;
    assert_eq!(results.iter().filter(|(s, _)| *s == 200).count(), 5);
    server.shutdown().await;

    let server = start(config(Profile::Real)).await; // rate Some(0): no limit
    let caller = Arc::new(Caller::new(&server, Profile::Real, 0).await);
    let results = burst(caller, 30).await;
    assert!(results.iter().all(|(s, _)| *s == 200));
    assert_eq!(server.stats().rate_limit, None);
    assert_eq!(server.stats().max_window, 30);
    server.shutdown().await;
}

#[tokio::test]
async fn the_window_counts_arrivals_after_latency() {
    // Limit 2. Request A is sent first but spends 800 ms on the wire; B and C are sent after it with no
    // latency and arrive first. Counted on arrival, B and C pass and A (the third arrival in the
    // window) is refused; counted on sending, C would have been refused instead.
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
    let a = a.await.unwrap();
    assert_eq!(b.0, 200, "{}", b.1);
    assert_eq!(c.0, 200, "{}", c.1);
    assert_eq!((a.0, a.1["msg_cd"].as_str()), (500, Some("EGW00201")));
    assert_eq!(server.stats().max_window, 3);
    server.shutdown().await;
}
