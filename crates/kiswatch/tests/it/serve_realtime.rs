//! The realtime path of `kiswatch serve` against its embedded simulator (real WebSocket, real REST):
//! the planner's 41 registrations and the polled rest, a detail page promoting a polled stock, and a
//! dropped session repaired so that the bars equal the simulator's own.
//!
//! Waiting is on observable effects (the simulator's counters, the service's state), never on a
//! fixed sleep.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{TestApp, eventually, registered, watching};
use serde_json::{Value, json};

async fn sim_stats(t: &TestApp) -> Value {
    t.get("/sim/stats").await.1
}

fn rows_by_status(rows: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in rows.as_array().unwrap() {
        *out.entry(r["status"].as_str().unwrap().to_string()).or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_watched_stocks_are_41_realtime_and_19_polled_within_the_budget() {
    let (t, codes) = watching(60, 1.0).await;
    registered(&t, 41).await;
    // Every row is fresh: 41 realtime, and the 19 others polled within their bound.
    let rows = eventually(Duration::from_secs(9), "41 realtime + 19 polled rows", || async {
        let (_, rows) = t.get("/api/v1/watchlist").await;
        let by = rows_by_status(&rows);
        (by.get("realtime") == Some(&41) && by.get("polled") == Some(&19)).then_some(rows)
    })
    .await;
    for r in rows.as_array().unwrap() {
        let feed = &r["feed"];
        assert_eq!(feed["status"], r["status"], "{r}");
        if r["status"] == "polled" {
            assert!(
                feed["age_ms"].as_u64().unwrap() <= feed["bound_ms"].as_u64().unwrap(),
                "{r}"
            );
        }
    }
    let (_, health) = t.get("/api/v1/health").await;
    assert_eq!(health["live"]["feed"]["polled"], 19, "{health}");
    let live = &t.app.state().live;
    // A realtime stock's price, order book and executions cost no REST call: the gateway answers
    // the price and executions from the live state (this stock's order book is not registered).
    let realtime = *live.realtime_codes().first().unwrap();
    let calls = |h: &Value, k: &str| h["upstream"]["calls"][k].as_u64().unwrap();
    let price = eventually(Duration::from_secs(5), "a live trade", || async {
        live.price(realtime)
    })
    .await;
    let (_, before) = t.get("/api/v1/health").await;
    let (status, p) = t.get(&format!("/api/v1/stocks/{realtime}/price")).await;
    assert_eq!(status, 200, "{p}");
    assert!(p["price"].as_i64().unwrap() > 0);
    assert_eq!(p["base_price"], price.base_price);
    let (status, e) = t.get(&format!("/api/v1/stocks/{realtime}/executions")).await;
    assert_eq!(status, 200, "{e}");
    let (_, after) = t.get("/api/v1/health").await;
    assert_eq!(
        calls(&after, "price"),
        calls(&before, "price"),
        "no REST price call"
    );
    assert!(codes.contains(&realtime));
    let s = sim_stats(&t).await;
    assert_eq!(s["rate_limited"], 0, "{s}");
    assert_eq!(s["subscriptions"], 41, "{s}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_opened_on_a_polled_stock_is_registered_within_two_seconds() {
    let (t, _codes) = watching(60, 1.0).await;
    registered(&t, 41).await;
    let state = t.app.state();
    let polled = *state.live.polled_codes().first().unwrap();
    let (client, _outbox) = state.hub.connect();
    let opened = Instant::now();
    state.hub.handle_text(
        client,
        &json!({"op": "subscribe", "codes": [polled.as_str()], "channels": ["orderbook", "executions"]})
            .to_string(),
    );
    eventually(
        Duration::from_secs(3),
        "the page's stock to be realtime",
        || async { state.live.is_realtime(polled).then_some(()) },
    )
    .await;
    let took = opened.elapsed();
    assert!(took < Duration::from_secs(2), "registered after {took:?}");
    // Executions and order book: two registrations, so two watchlist stocks went to polling.
    let s = sim_stats(&t).await;
    assert_eq!(s["subscriptions"], 41, "{s}");
    assert_eq!(state.live.realtime_codes().len(), 40);
    assert_eq!(state.live.polled_codes().len(), 20);
    assert!(!state.live.polled_codes().contains(&polled));
    // The page's order book is live now, served without REST.
    eventually(Duration::from_secs(3), "a live order book", || async {
        state.live.order_book(polled)
    })
    .await;
    assert_eq!(s["rate_limited"], 0, "{s}");
    t.stop().await;
}

/// The upstream states a hub client has been sent so far.
fn upstream_states(outbox: &kiswatch::hub::Outbox, seen: &mut Vec<String>) {
    while let Some(d) = outbox.with(|q| q.pop()) {
        let v: Value = serde_json::from_str(&d.text).unwrap();
        if v["type"] == "status"
            && let Some(u) = v["upstream"].as_str()
        {
            seen.push(u.to_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_session_comes_back_whole_and_its_gap_is_repaired() {
    let (t, codes) = watching(3, 120.0).await;
    registered(&t, 3).await;
    let state = t.app.state();
    let (_client, outbox) = state.hub.connect();
    let code = codes[0];
    // Live bars exist before the drop.
    eventually(Duration::from_secs(5), "live bars", || async {
        (state.live.minutes(code).len() >= 3).then_some(())
    })
    .await;
    let dropped_at = state.gateway.clock.now().unwrap();
    let (status, f) = t.post("/sim/faults", json!({"drop_ws": true})).await;
    assert_eq!(status, 200, "{f}");
    let mut seen = Vec::new();
    eventually(Duration::from_secs(8), "reconnecting, then connected", || {
        upstream_states(&outbox, &mut seen);
        let ok = seen
            .iter()
            .position(|s| s == "reconnecting")
            .is_some_and(|i| seen[i..].iter().any(|s| s == "connected"));
        async move { ok.then_some(()) }
    })
    .await;
    registered(&t, 3).await;
    // The gap is repaired once its minutes are closed upstream.
    eventually(Duration::from_secs(8), "the gap repaired", || async {
        (state.live.stats().gaps_repaired >= codes.len() as u64).then_some(())
    })
    .await;
    // Compare every closed minute of the chart from the one before the drop on with the simulator's
    // own bars (live-built before the drop, refetched across the gap, live-built again after it).
    let from = kiswatch::live::minute_of(dropped_at) - jiff::SignedDuration::from_mins(1);
    let now = eventually(
        Duration::from_secs(5),
        "two live minutes after the gap",
        || async {
            let now = state.gateway.clock.now()?;
            let resumed = state.live.stats().gaps_repaired > 0;
            (resumed && now >= from.saturating_add(jiff::SignedDuration::from_mins(6))).then_some(now)
        },
    )
    .await;
    let current = kiswatch::live::minute_of(now);
    let sim = t.app.sim().unwrap().market();
    let truth: BTreeMap<_, _> = sim
        .minute_bars(&code, now.date(), now.time())
        .into_iter()
        .map(|b| {
            (
                b.date.to_datetime(b.time),
                (b.open, b.high, b.low, b.close, b.volume),
            )
        })
        .collect();
    // The chart, as a browser asks for it.
    let (status, chart) = t
        .get(&format!("/api/v1/stocks/{code}/candles?period=1m&count=2000"))
        .await;
    assert_eq!(status, 200, "{chart}");
    let ours: Vec<market::Candle> = chart["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| market::Candle {
            time: c["time"].as_str().unwrap()[..19].parse().unwrap(),
            open: c["open"].as_i64().unwrap(),
            high: c["high"].as_i64().unwrap(),
            low: c["low"].as_i64().unwrap(),
            close: c["close"].as_i64().unwrap(),
            volume: c["volume"].as_u64().unwrap(),
        })
        .filter(|b| b.time >= from && b.time < current)
        .collect();
    assert!(ours.len() >= 3, "{} minutes compared", ours.len());
    for b in &ours {
        assert_eq!(
            truth.get(&b.time),
            Some(&(b.open, b.high, b.low, b.close, b.volume)),
            "the bar of {}",
            b.time
        );
    }
    // No minute missing in between.
    for w in ours.windows(2) {
        assert_eq!(
            w[0].time.duration_until(w[1].time),
            jiff::SignedDuration::from_mins(1)
        );
    }
    let s = sim_stats(&t).await;
    assert_eq!(s["rate_limited"], 0, "{s}");
    t.stop().await;
}
