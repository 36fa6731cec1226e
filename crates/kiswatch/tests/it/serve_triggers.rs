//! Triggers end to end: a condition on a watched stock, the simulator steered with `/sim/scenario`,
//! the trades streamed (realtime) or polled, the engine firing, the trigger stored with the values that made it true; and a
//! restart that keeps the watchlist, conditions, triggers and bars without fetching history again.

use crate::common;

use std::time::Duration;

use common::{custom, eventually, is_kst, simulator, spawn_demo, spawn_with};
use kis_sim::Profile;
use kiswatch::config::KisProfile;
use serde_json::{Value, json};

/// The first tick at least 4% above `price` (snapped to the KRX tick grid by the simulator anyway).
fn target(price: i64) -> i64 {
    let t = price + price * 4 / 100;
    let tick = market::krx::tick_size(t);
    (t + tick - 1) / tick * tick
}

/// Adds a watch and a price condition just above the current price, walks the price there with a
/// path scenario, and waits for the trigger.
async fn force_a_trigger(t: &common::TestApp, sim_url: &str, code: &str) -> Value {
    let (_, p) = t.get(&format!("/api/v1/stocks/{code}/price")).await;
    let price = p["price"].as_i64().unwrap();
    let level = target(price);
    t.post("/api/v1/watchlist", json!({"code": code})).await;
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "돌파", "expr": format!("1m: close >= {level}")}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    // Let the engine see the stock below the level first, with its history in: a condition true from
    // the start, or made true by arriving history, never fires.
    eventually(
        Duration::from_secs(8),
        "the history and the live feed",
        || async {
            let (_, s) = t.get(&format!("/api/v1/stocks/{code}")).await;
            // Realtime (registered) or polled: either way fresh, feeding the engine.
            (s["status"] != "stale" && s["armed"] == json!(["1m"])).then_some(())
        },
    )
    .await;
    let path: Vec<i64> = (1..=4)
        .map(|i| price + (level - price) * i / 4 + market::krx::tick_size(level))
        .collect();
    let r = t
        .http
        .post(format!("{sim_url}/sim/scenario"))
        .json(&json!({"code": code, "pattern": "path", "prices": path}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    eventually(Duration::from_secs(8), "the trigger", || async {
        let (_, l) = t.get(&format!("/api/v1/triggers?code={code}")).await;
        l.as_array()?.first().cloned()
    })
    .await
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(t: &common::TestApp) -> Socket {
    let url = format!("{}/api/v1/ws", t.url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "status", "{hello}");
    ws
}

async fn next_json(ws: &mut Socket) -> Value {
    use futures_util::StreamExt as _;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn send(ws: &mut Socket, v: Value) {
    use futures_util::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        v.to_string().into(),
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn a_steered_stock_fires_a_stored_trigger_with_its_values() {
    let t = spawn_demo(true).await;
    // Faster virtual time: the simulator trades more often.
    t.post("/sim/clock", json!({"speed": 20.0})).await;
    let mut watching = connect(&t).await;
    let trig = force_a_trigger(&t, &t.url, "035420").await;
    // Pushed over the WebSocket once stored, the same as listed.
    let pushed = next_json(&mut watching).await;
    assert_eq!(pushed["type"], "trigger");
    assert_eq!(pushed["id"], trig["id"]);
    assert_eq!(pushed["values"], trig["values"]);
    // A client that reconnects resumes after the last id it saw: exactly the missed ones, once.
    let id = trig["id"].as_u64().unwrap();
    let mut late = connect(&t).await;
    send(&mut late, json!({"op": "resume", "after_trigger_id": id - 1})).await;
    assert_eq!(next_json(&mut late).await["id"], id);
    send(&mut late, json!({"op": "resume", "after_trigger_id": id})).await;
    send(
        &mut late,
        json!({"op": "subscribe", "codes": ["035420"], "channels": ["tick"]}),
    )
    .await;
    assert_eq!(
        next_json(&mut late).await["type"],
        "status",
        "nothing after the last id"
    );
    send(&mut late, json!({"op": "fly"})).await;
    assert_eq!(next_json(&mut late).await["type"], "error");
    assert_eq!(trig["code"], "035420");
    assert_eq!(trig["name"], "NAVER");
    assert_eq!(trig["period"], "1m");
    assert_eq!(trig["late"], false);
    assert_eq!(trig["acked"], false);
    assert!(is_kst(&trig["time"]) && is_kst(&trig["bar_time"]));
    let (_, conditions) = t.get("/api/v1/conditions").await;
    let level: i64 = conditions[0]["expr"]
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The values that made it true: the close, at or above the level.
    let close = trig["values"]["close"].as_f64().unwrap();
    assert!(close >= level as f64, "{trig}");
    assert_eq!(trig["price"].as_i64().unwrap() as f64, close);
    assert!(trig["message_ko"].as_str().unwrap().contains("NAVER"));
    assert!(trig["message"].as_str().unwrap().contains("became true"));
    let id = trig["id"].as_u64().unwrap();
    let (status, a) = t.post(&format!("/api/v1/triggers/{id}/ack"), json!({})).await;
    assert_eq!((status, a["acked"].as_bool()), (200, Some(true)));
    let (_, after) = t.get(&format!("/api/v1/triggers?after={}", id - 1)).await;
    assert_eq!(after[0]["id"], id);
    let (_, h) = t.get("/api/v1/health").await;
    assert!(h["live"]["triggers_fired"].as_u64() >= Some(1));
    assert_eq!(h["governor"]["rate_limited_seen"], 0);
    t.stop().await;
}

/// The health report once both watched stocks are backfilled.
async fn backfilled(t: &common::TestApp) -> Option<Value> {
    let (_, h) = t.get("/api/v1/health").await;
    let all = h["backfill"].as_array()?;
    (all.len() == 2 && all.iter().all(|p| p["done"] == true)).then_some(h)
}

#[tokio::test]
async fn a_restart_keeps_everything_and_fetches_no_history_again() {
    let sim = simulator(Profile::Real).await;
    sim.market().set_speed(20.0);
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(
        common::config(dir.path(), custom(&sim, KisProfile::Real), true),
        dir,
    )
    .await;
    let trig = force_a_trigger(&t, &sim.rest_url(), "005930").await;
    t.post("/api/v1/watchlist", json!({"code": "000660"})).await;
    t.post("/api/v1/conditions", json!({"expr": "D: 정배열"})).await;
    let first = eventually(Duration::from_secs(8), "the backfill", || backfilled(&t)).await;
    assert!(
        first["upstream"]["history_calls"].as_u64().unwrap() > 0,
        "{first}"
    );
    let (_, watch1) = t.get("/api/v1/watchlist").await;
    let (_, cond1) = t.get("/api/v1/conditions").await;
    let (_, trig1) = t.get("/api/v1/triggers").await;
    // A chart's first answer may stand on the recent sessions only while the backfill brings the
    // rest: the days compared after the restart are those of the whole history.
    let bars1 = eventually(Duration::from_secs(8), "the chart's whole history", || async {
        let (_, b) = t.get("/api/v1/stocks/005930/candles?period=D&count=50").await;
        (b["backfill"]["done"] == true).then_some(b)
    })
    .await;
    let dir = t.stop().await;

    let t = spawn_with(
        common::config(dir.path(), custom(&sim, KisProfile::Real), true),
        dir,
    )
    .await;
    let second = eventually(Duration::from_secs(8), "the backfill after the restart", || {
        backfilled(&t)
    })
    .await;
    assert_eq!(
        second["upstream"]["history_calls"], 0,
        "no candle history fetched again: {second}"
    );
    assert_eq!(second["upstream"]["calls"]["past_minutes"], 0);
    assert_eq!(second["upstream"]["calls"]["daily"], 0);
    // The stored watchlist is the same; each row's live status is of the moment.
    let kept = |w: &Value| -> Vec<Value> {
        w.as_array()
            .unwrap()
            .iter()
            .map(|r| json!([r["code"], r["name"], r["position"], r["added_at"]]))
            .collect()
    };
    assert_eq!(kept(&t.get("/api/v1/watchlist").await.1), kept(&watch1));
    assert_eq!(t.get("/api/v1/conditions").await.1, cond1);
    let (_, trig2) = t.get("/api/v1/triggers").await;
    assert_eq!(trig2, trig1);
    // The forced trigger is among them (the `D: 정배열` condition added above may fire too, so it
    // need not be the newest).
    assert!(
        trig2.as_array().unwrap().iter().any(|r| r["id"] == trig["id"]),
        "the forced trigger {} survives the restart: {trig2}",
        trig["id"]
    );
    let (_, bars2) = t.get("/api/v1/stocks/005930/candles?period=D&count=50").await;
    // The stored days are the same; only today's bar may have moved.
    let days = |v: &Value| v["candles"].as_array().unwrap()[..49].to_vec();
    assert_eq!(days(&bars2), days(&bars1));
    let (_, h) = t.get("/api/v1/health").await;
    assert_eq!(h["upstream"]["history_calls"], 0);
    t.stop().await;
    assert_eq!(sim.stats().rate_limited, 0);
    sim.shutdown().await;
}
