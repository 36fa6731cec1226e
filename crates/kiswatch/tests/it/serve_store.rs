//! A store that cannot write never costs a trigger: with every write failing as on a full disk
//! (SQLITE_FULL, injected into the store), triggers still reach the browser at once, as
//! `trigger_unstored` messages (`persisted: false`, no id); once the store writes again each is
//! stored exactly once and reaches the browser again as a `trigger` with its id. Against kiswatch
//! on port 0 and its embedded simulator, a condition that flips often (`1m: close > open`) on a
//! few stocks at 60× speed. Meanwhile `/api/v1/health` is `degraded` and says why, and `/metrics`
//! counts the triggers waiting; both recover once everything is stored.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{TriggerWatch, all_triggers, config, eventually, spawn_with};
use kiswatch::config::UpstreamConfig;
use serde_json::{Value, json};

#[tokio::test]
async fn a_full_disk_delays_storing_triggers_but_loses_and_doubles_none() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        UpstreamConfig::Demo {
            seed: 42,
            speed: 60.0,
        },
        true,
    );
    let t = spawn_with(cfg, dir).await;
    let watch = TriggerWatch::connect(&t.url).await;
    for code in ["005930", "000660", "035420", "005380"] {
        let (status, body) = t.post("/api/v1/watchlist", json!({"code": code})).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "양봉", "expr": "1m: close > open"}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["store"]["origin"], "created", "{h}");
    assert_eq!(h["store"]["failing"], Value::Null, "{h}");
    eventually(Duration::from_secs(60), "triggers stored as usual", || async {
        (watch.stored().len() >= 2).then_some(())
    })
    .await;

    // The disk fills up.
    let store = t.app.state().store.clone();
    store.inject_full_disk(true);
    let before_full = all_triggers(&t.http, &t.url).await;
    let unstored = eventually(
        Duration::from_secs(60),
        "triggers delivered while the store fails",
        || async {
            let u = watch.unstored();
            (u.len() >= 4).then_some(u)
        },
    )
    .await;
    for u in &unstored {
        assert_eq!(u["id"], Value::Null, "{u}");
        assert_eq!(u["persisted"], false, "{u}");
        assert!(
            u["key"]
                .as_str()
                .is_some_and(|k| k.contains(u["code"].as_str().unwrap())),
            "{u}"
        );
    }
    assert_eq!(
        all_triggers(&t.http, &t.url).await.len(),
        before_full.len(),
        "nothing was stored while the disk was full"
    );
    // Health says so, and why.
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["status"], "degraded", "{h}");
    let reasons = h["reasons"].as_array().unwrap();
    assert!(
        reasons.iter().any(|r| {
            let r = r.as_str().unwrap();
            r.starts_with("store: ") && r.contains("waiting to be stored") && r.contains("disk is full")
        }),
        "{h}"
    );
    assert!(h["store"]["triggers_waiting"].as_u64().unwrap() >= 1, "{h}");
    assert!(
        h["store"]["failing"]["error"].as_str().unwrap().contains("full"),
        "{h}"
    );
    let metrics = t.get_full("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("kiswatch_store_failing 1"), "{metrics}");
    assert!(!metrics.contains("kiswatch_triggers_waiting 0\n"), "{metrics}");

    // Space returns: each trigger delivered unstored is stored once and comes again with its id.
    store.inject_full_disk(false);
    let held = watch.unstored();
    let keys: HashSet<String> = held
        .iter()
        .map(|u| u["key"].as_str().unwrap().to_string())
        .collect();
    let stored_again = eventually(
        Duration::from_secs(30),
        "every unstored trigger stored and delivered with its id",
        || async {
            let by_key: HashMap<String, Value> = watch
                .stored()
                .into_iter()
                .map(|s| (s["key"].as_str().unwrap().to_string(), s))
                .collect();
            keys.iter()
                .map(|k| by_key.get(k).cloned())
                .collect::<Option<Vec<Value>>>()
        },
    )
    .await;
    assert!(stored_again.iter().all(|s| s["persisted"] == true));
    // Health is ok again once everything is stored.
    let h = eventually(Duration::from_secs(10), "health ok again", || async {
        let (_, h) = t.get("/api/v1/health").await;
        (h["status"] == "ok").then_some(h)
    })
    .await;
    assert_eq!(h["reasons"], json!([]), "{h}");
    assert_eq!(h["store"]["triggers_waiting"], 0, "{h}");
    assert!(
        h["store"]["triggers_stored_late"].as_u64().unwrap() >= keys.len() as u64,
        "{h}"
    );
    assert_eq!(h["store"]["triggers_unkept"], 0, "{h}");
    let metrics = t.get_full("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("kiswatch_store_failing 0"), "{metrics}");
    assert!(metrics.contains("kiswatch_triggers_waiting 0"), "{metrics}");
    assert!(
        metrics.contains("kiswatch_triggers_stored_late_total"),
        "{metrics}"
    );
    let all = all_triggers(&t.http, &t.url).await;
    let mut seen_keys = HashSet::new();
    for row in &all {
        assert!(
            seen_keys.insert(row["key"].as_str().unwrap().to_string()),
            "stored twice: {row}"
        );
        assert_eq!(row["persisted"], true);
    }
    for k in &keys {
        assert!(seen_keys.contains(k), "{k} was lost");
    }
    // Stored late, they come after everything stored before, in the order they fired.
    let last_before = before_full.last().map_or(0, |r| r["id"].as_u64().unwrap());
    let late_ids: Vec<u64> = held
        .iter()
        .map(|u| {
            let s = stored_again_by_key(&stored_again, u["key"].as_str().unwrap());
            s["id"].as_u64().unwrap()
        })
        .collect();
    assert!(late_ids[0] > last_before, "{late_ids:?} after {last_before}");
    assert!(late_ids.windows(2).all(|w| w[0] < w[1]), "{late_ids:?}");
    // The browser saw each stored id once.
    let stored_ids: Vec<u64> = watch.stored().iter().map(|s| s["id"].as_u64().unwrap()).collect();
    assert_eq!(
        stored_ids.iter().collect::<HashSet<_>>().len(),
        stored_ids.len(),
        "{stored_ids:?}"
    );
    t.stop().await;
}

fn stored_again_by_key<'a>(stored: &'a [Value], key: &str) -> &'a Value {
    stored.iter().find(|s| s["key"] == key).unwrap()
}
