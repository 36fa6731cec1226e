//! Several app keys in one service, against the simulator (which counts every limit per key):
//!
//! * three keys hold 3 × 41 realtime registrations at once, one session each, with no EGW00201 on
//!   any key;
//! * one key disabled mid-run (`/sim/faults {"disable_key"}`: KIS answers EGW00103 and closes its
//!   session) is taken out, health names it `refused`, its stocks move to the other keys' sessions
//!   (or to polling once those are full) and every watched stock keeps a live source.

use crate::common::{self, TestApp, eventually};

use std::time::Duration;

use kis_sim::{Profile, SimServer};
use kiswatch::config::{KisKeys, KisProfile, UpstreamConfig};
use serde_json::{Value, json};

/// `n` simulator keys (indices 0..n) as one service's keys.
pub fn keys(n: u32) -> KisKeys {
    KisKeys {
        credentials: (0..n)
            .map(|i| {
                let (key, secret) = kis_sim::demo_credentials(Profile::Real, i);
                kis::Credentials::new(key, secret).unwrap()
            })
            .collect(),
        ledger: None,
    }
}

async fn sim_post(sim: &SimServer, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.rest_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn live(t: &TestApp) -> Value {
    let (status, h) = t.get("/api/v1/health").await;
    assert_eq!(status, 200, "{h}");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_keys_hold_three_sessions_and_a_refused_key_hands_its_stocks_on() {
    let sim = common::simulator(Profile::Real).await;
    let dir = tempfile::tempdir().unwrap();
    let UpstreamConfig::Custom {
        rest_url,
        ws_url,
        profile,
        rate,
        ..
    } = common::custom(&sim, KisProfile::Real)
    else {
        unreachable!()
    };
    let upstream = UpstreamConfig::Custom {
        rest_url,
        ws_url,
        profile,
        rate,
        keys: keys(3),
    };
    let t = common::spawn_with(common::config(dir.path(), upstream, true), dir).await;

    // As many stocks as three sessions hold: 123.
    let codes: Vec<String> = sim
        .market()
        .stocks()
        .iter()
        .map(|s| s.code.as_str().to_string())
        .take(3 * 41)
        .collect();
    let n = codes.len() as u64;
    assert_eq!(n, 3 * 41, "the simulator lists at least 123 stocks");
    for code in &codes {
        let (status, body) = t.post("/api/v1/watchlist", json!({"code": code})).await;
        assert_eq!(status, 201, "{body}");
    }
    eventually(
        Duration::from_secs(60),
        "every stock realtime on three sessions",
        || async {
            let s = sim.stats();
            let h = live(&t).await;
            (s.ws_sessions == 3 && s.subscriptions == n && h["live"]["feed"]["realtime"] == n).then_some(())
        },
    )
    .await;
    assert_eq!(sim.stats().rate_limited, 0, "{:?}", sim.stats());

    // KIS refuses key 2 from now on.
    let (key2, _) = kis_sim::demo_credentials(Profile::Real, 1);
    let faults = sim_post(&sim, "/sim/faults", json!({"disable_key": key2})).await;
    assert_eq!(faults["disabled_keys"], 1, "{faults}");

    // Two sessions hold 82; the other 41 are polled.
    let moved = 2 * 41;
    let h = eventually(
        Duration::from_secs(60),
        "key 2's stocks on the other keys",
        || async {
            let s = sim.stats();
            let h = live(&t).await;
            let feed = &h["live"]["feed"];
            (s.ws_sessions == 2
                && s.subscriptions == moved
                && feed["realtime"] == moved
                && feed["polled"] == n - moved)
                .then_some(h)
        },
    )
    .await;
    // Health says which key is out and why, by fingerprint only.
    let keys = h["keys"].as_array().expect("health lists the keys");
    assert_eq!(keys.len(), 3, "{h}");
    let refused: Vec<&Value> = keys.iter().filter(|k| k["state"] == "refused").collect();
    assert_eq!(refused.len(), 1, "{h}");
    assert_eq!(refused[0]["number"], 2, "{h}");
    assert!(refused[0]["reason"].as_str().unwrap().contains("EGW00103"), "{h}");
    assert!(!h.to_string().contains(&key2), "health never shows a key");
    // Every watched stock has a live source again: the 41 that went to polling are `stale` until
    // their first poll comes back.
    eventually(
        Duration::from_secs(60),
        "every watched stock realtime or polled",
        || async {
            let (_, watchlist) = t.get("/api/v1/watchlist").await;
            let items = watchlist.as_array().cloned().unwrap_or_default();
            (items.len() as u64 == n
                && items
                    .iter()
                    .all(|item| matches!(item["status"].as_str(), Some("realtime" | "polled"))))
            .then_some(())
        },
    )
    .await;
    // Pages keep working: no call goes to the refused key any more (or it moves on at once).
    for code in codes.iter().take(30) {
        let (status, body) = t.get(&format!("/api/v1/stocks/{code}/price")).await;
        assert_eq!(status, 200, "{code}: {body}");
    }
    assert_eq!(sim.stats().rate_limited, 0, "{:?}", sim.stats());
    t.stop().await;
    sim.shutdown().await;
}
