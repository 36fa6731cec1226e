//! Issue 21, item 6, at the service: `kiswatch serve --kis custom --kis-profile real` (20 requests a
//! second per key) in front of a simulator whose key allows only 5 (or 12), with eight watched
//! stocks whose condition (`30m: 정배열`) needs 19 sessions of 1-minute history each. On main this
//! was 257 of 468 requests rejected in ~70 s and no backfill at all. Now the adaptive governor finds
//! the key's real limit within a few rejections, none follow once it has, the backfill completes,
//! a stock page opened meanwhile is answered, and `/api/v1/health` reports the effective rate.
//!
//! The whole service and the simulator run in tokio's paused time, in one runtime: the simulator's
//! sliding window and injected latency, the governor's holds and the backfill all read tokio's clock,
//! so minutes of virtual time take seconds, and the rejection counts are the simulator's own. The
//! slots are counted in the process (`share_slots: false`): the file ledger keeps the machine's
//! clock. The loop samples once a virtual second until the backfill is done (an observable effect,
//! not a sleep standing in for synchronisation).

use std::time::Duration;

use kis_sim::{Profile, SimConfig, SimServer};
use kiswatch::config::KisProfile;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::common::{config, custom, spawn_with};

/// Gives up after this much virtual time (a run at 5/s takes a few minutes of it).
const LIMIT: Duration = Duration::from_secs(20 * 60);

struct Sample {
    at: Duration,
    rejected: u64,
    rate: u64,
}

async fn backfill_behind(limit: u32) {
    let sim = SimServer::start(
        SimConfig {
            profile: Profile::Real,
            rate: Some(limit),
            latency_ms: Some((5, 60)),
            control: true,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let origin = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), custom(&sim, KisProfile::Real), true);
    cfg.share_slots = false;
    let t = spawn_with(cfg, dir).await;
    let (status, c) = t.post("/api/v1/conditions", json!({"expr": "30m: 정배열"})).await;
    assert_eq!(status, 201, "{c}");
    let stocks: Vec<String> = sim.market().stocks().iter().map(|s| s.code.to_string()).collect();
    let watched = &stocks[..8];
    let page = &stocks[8];
    for code in watched {
        let (status, v) = t.post("/api/v1/watchlist", json!({"code": code})).await;
        assert_eq!(status, 201, "{v}");
    }

    let mut samples: Vec<Sample> = Vec::new();
    let mut pages = 0;
    let health: Value = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let at = origin.elapsed();
        let (status, h) = t.get("/api/v1/health").await;
        assert_eq!(status, 200, "{h}");
        let governor = &h["governor"][0];
        samples.push(Sample {
            at,
            rejected: sim.stats().rate_limited,
            rate: governor["effective_rate"].as_u64().unwrap(),
        });
        // A stock page opened meanwhile (not watched, so over REST, interactive) is answered.
        if samples.len() % 10 == 5 {
            let (status, v) = t.get(&format!("/api/v1/stocks/{page}/snapshot")).await;
            assert_eq!(status, 200, "a page during the backfill at {at:?}: {v}");
            pages += 1;
        }
        let backfill = h["backfill"].as_array().unwrap();
        let done = backfill.len() == watched.len() && backfill.iter().all(|p| p["done"] == true);
        if done {
            break h;
        }
        assert!(
            at < LIMIT,
            "the backfill did not complete in {LIMIT:?} of virtual time: {h}"
        );
    };
    let end = samples.last().unwrap();
    let at = |secs: u64| {
        samples
            .iter()
            .take_while(|s| s.at <= Duration::from_secs(secs))
            .last()
            .map_or(0, |s| s.rejected)
    };
    let stats = sim.stats();
    let governor = &health["governor"][0];
    let rate_at_10s = samples
        .iter()
        .find(|s| s.at >= Duration::from_secs(10))
        .map_or(end.rate, |s| s.rate);
    eprintln!(
        "server limit {limit}/s behind the real profile (20/s): {} rejected in 0-10 s, {} in 10-60 s, \
         {} after 60 s; effective rate {rate_at_10s} at 10 s, {} at the end; backfill of {} stocks done \
         in {:.0} s of virtual time, {} history calls; {pages} page snapshots answered; sim: {} requests, \
         max_window {}",
        at(10),
        at(60) - at(10),
        end.rejected - at(60),
        end.rate,
        watched.len(),
        end.at.as_secs_f64(),
        health["upstream"]["history_calls"],
        stats.requests,
        stats.max_window,
    );
    assert!(
        at(60) < 10,
        "fewer than 10 rejections in the first 60 s: {}",
        at(60)
    );
    assert_eq!(end.rejected, at(60), "none once the rate settled");
    assert!(
        end.rate <= u64::from(limit) && end.rate >= 1,
        "health reports an effective rate at or below the key's limit: {governor}"
    );
    assert_eq!(governor["slots"], 20, "the profile's ceiling stays: {governor}");
    assert_eq!(
        governor["rate_limited_seen"].as_u64(),
        Some(stats.rate_limited),
        "every EGW00201 reached the governor"
    );
    assert_eq!(health["status"], "ok", "{health}");
    t.stop().await;
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_key_allowing_5_behind_the_real_profile_backfills_with_few_rejections() {
    backfill_behind(5).await;
}

#[tokio::test(start_paused = true)]
async fn a_key_allowing_12_behind_the_real_profile_backfills_with_few_rejections() {
    backfill_behind(12).await;
}
