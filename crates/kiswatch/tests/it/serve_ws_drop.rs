//! A dropped upstream session, against kiswatch on port 0 and its embedded simulator:
//!
//! * as the browser sees it, with a real WebSocket client on `/api/v1/ws`: the page is told the
//!   upstream is `reconnecting`, then `connected`, and the watched stock's ticks keep coming;
//! * a condition that became true inside the gap fires once, marked `late`. To make that
//!   deterministic the price move is put where only the gap repair can see it: the session is
//!   dropped with a REST latency that holds back every poll, the simulator's price is walked up and
//!   back down, and its clock jumped twenty minutes (far more than the 30 latest trades a poll gets
//!   span), all before any request of kiswatch arrives. The
//!   polls then see only trades after the jump, and the peak is in refetched bars alone.
//!
//! Waiting is on observable effects (messages on the socket, the simulator's counters), never on a
//! fixed sleep.

use crate::common;

use std::time::{Duration, Instant};

use common::{eventually, registered, watching};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message within what is left of `deadline`.
async fn next_json(ws: &mut Socket, deadline: Instant, waiting_for: &str) -> Value {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {waiting_for}"))
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sees_the_drop_and_the_reconnect_and_keeps_getting_ticks() {
    let (t, codes) = watching(1, 60.0).await;
    registered(&t, 1).await;
    let code = codes[0];
    let url = format!("{}/api/v1/ws", t.url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(8);
    let hello = next_json(&mut ws, deadline, "the hello").await;
    assert_eq!(hello, json!({"type": "status", "upstream": "connected"}));
    let subscribe = json!({"op": "subscribe", "codes": [code.as_str()], "channels": ["tick"]});
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    // A live tick of the stock before the drop.
    loop {
        let m = next_json(&mut ws, deadline, "a tick before the drop").await;
        if m["type"] == "tick" {
            assert_eq!(m["code"], code.as_str(), "{m}");
            break;
        }
    }
    let (status, f) = t.post("/sim/faults", json!({"drop_ws": true})).await;
    assert_eq!(status, 200, "{f}");
    // The page is told, in this order: reconnecting, connected; then ticks again.
    let mut upstream = Vec::new();
    let tick_after = loop {
        let m = next_json(&mut ws, deadline, "reconnecting, connected, then a tick").await;
        match m["type"].as_str() {
            Some("status") if m.get("upstream").is_some() => {
                assert_eq!(m, json!({"type": "status", "upstream": m["upstream"]}), "{m}");
                upstream.push(m["upstream"].as_str().unwrap().to_string());
            }
            Some("tick") if upstream.last().is_some_and(|u| u == "connected") => break m,
            _ => {}
        }
    };
    assert_eq!(
        upstream,
        ["reconnecting", "connected"],
        "the upstream states the page saw"
    );
    assert_eq!(tick_after["code"], code.as_str(), "{tick_after}");
    assert!(tick_after["price"].as_i64().unwrap() > 0, "{tick_after}");
    // And the registration is back upstream.
    registered(&t, 1).await;
    t.stop().await;
}

/// The first tick at least 4% above `price` (snapped to the KRX tick grid).
fn above(price: i64) -> i64 {
    let t = price + price * 4 / 100;
    let tick = market::krx::tick_size(t);
    (t + tick - 1) / tick * tick
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_true_only_inside_the_gap_fires_once_marked_late() {
    let (t, codes) = watching(1, 60.0).await;
    registered(&t, 1).await;
    let code = codes[0];
    let state = t.app.state();
    let price = eventually(Duration::from_secs(5), "a live trade", || async {
        state.live.price(code)
    })
    .await
    .price;
    let level = above(price);
    let (status, condition) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "gap peak", "expr": format!("1m: high >= {level}")}),
        )
        .await;
    assert_eq!(status, 201, "{condition}");
    // The engine has the history and has seen the stock below the level, live.
    eventually(Duration::from_secs(8), "the condition armed", || async {
        let (_, s) = t.get(&format!("/api/v1/stocks/{code}")).await;
        (s["status"] == "realtime" && s["armed"] == json!(["1m"])).then_some(())
    })
    .await;
    let dropped_at = state.gateway.clock.now().unwrap();
    // Drop, with every REST request of kiswatch held back 400 ms: the three control calls below
    // (in process, not delayed) are done long before any poll arrives.
    let (status, f) = t
        .post("/sim/faults", json!({"drop_ws": true, "latency_ms": [400, 400]}))
        .await;
    assert_eq!(status, 200, "{f}");
    let tick = market::krx::tick_size(level);
    let path = json!({"code": code.as_str(), "pattern": "path",
        "prices": [level + tick, level + tick, price, price, price]});
    let (status, s) = t.post("/sim/scenario", path).await;
    assert_eq!(status, 200, "{s}");
    let (status, c) = t.post("/sim/clock", json!({"advance_secs": 1200})).await;
    assert_eq!(status, 200, "{c}");
    let (status, f) = t.post("/sim/faults", json!({"latency_ms": null})).await;
    assert_eq!(status, 200, "{f}");
    // The repair brings the peak's minute; the replay fires on it.
    eventually(Duration::from_secs(8), "the gap repaired", || async {
        (state.live.stats().gaps_repaired >= 1).then_some(())
    })
    .await;
    let fired = eventually(Duration::from_secs(5), "the late trigger", || async {
        let (_, l) = t.get(&format!("/api/v1/triggers?code={code}")).await;
        l.as_array().filter(|l| !l.is_empty()).cloned()
    })
    .await;
    // Two more minutes of live trades after the repair: nothing fires again for the peak.
    let repaired_at = state.gateway.clock.now().unwrap();
    eventually(
        Duration::from_secs(5),
        "two live minutes after the repair",
        || async {
            let now = state.gateway.clock.now()?;
            (now >= repaired_at.saturating_add(jiff::SignedDuration::from_mins(2))).then_some(())
        },
    )
    .await;
    let (_, all) = t.get(&format!("/api/v1/triggers?code={code}")).await;
    assert_eq!(all, json!(fired), "the triggers did not change");
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1, "exactly one trigger: {all:?}");
    let trigger = &all[0];
    assert_eq!(trigger["late"], true, "{trigger}");
    assert_eq!(trigger["period"], "1m", "{trigger}");
    assert_eq!(trigger["condition_id"], condition["id"], "{trigger}");
    // On a bar inside the gap: after the drop, before the jump's end.
    // (KST with its offset; market time is KST civil time.)
    let bar: jiff::civil::DateTime = trigger["bar_time"].as_str().unwrap().parse().unwrap();
    assert!(bar >= kiswatch::live::minute_of(dropped_at), "{trigger}");
    assert!(
        bar < dropped_at.saturating_add(jiff::SignedDuration::from_mins(20)),
        "{trigger}"
    );
    // The bar the trigger names is the simulator's own and does reach the level.
    let sim = t.app.sim().unwrap().market();
    let now = state.gateway.clock.now().unwrap();
    let truth = sim
        .minute_bars(&code, now.date(), now.time())
        .into_iter()
        .find(|b| b.date.to_datetime(b.time) == bar)
        .expect("the simulator has the bar");
    assert!(truth.high >= level, "high {} < {level}", truth.high);
    t.stop().await;
}
