//! `/api/v1/ws` through the hub, with a real WebSocket client against kiswatch on port 0: the hello
//! and the answers to requests, bad requests answered and the connection kept, the token rule, the
//! close frame at shutdown, and a browser that stops reading cut off with 1008 while a reading one
//! keeps getting ticks.

use crate::common;

use std::time::Duration;

use common::{config, eventually, spawn_demo, spawn_with};
use futures_util::{SinkExt as _, StreamExt as _};
use kis::realtime::Execution;
use kis::realtime::messages::{Message as Frame, decode_frame};
use kiswatch::config::UpstreamConfig;
use kiswatch::hub::QueueConfig;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn ws_url(t: &common::TestApp) -> String {
    format!("{}/api/v1/ws", t.url.replacen("http", "ws", 1))
}

async fn next_message(ws: &mut Socket) -> Message {
    tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a message within 10 s")
        .expect("the socket is open")
        .expect("a frame")
}

async fn next_json(ws: &mut Socket) -> Value {
    loop {
        if let Message::Text(t) = next_message(ws).await {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn send(ws: &mut Socket, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The recorded 2026-07-24 trade (its code and price varied by the caller).
fn recorded_trade() -> Execution {
    let frame = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kis/ws-frame-H0STCNT0-captured-20260724.txt"
    ))
    .unwrap();
    match decode_frame(frame.trim(), |_| None).unwrap().into_iter().next() {
        Some(Frame::Execution(e)) => e,
        other => panic!("not an execution: {other:?}"),
    }
}

#[tokio::test]
async fn requests_are_answered_and_bad_ones_get_an_error_on_an_open_connection() {
    let t = spawn_demo(false).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&t)).await.unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "status", "upstream": "polling"})
    );
    send(&mut ws, json!({"op": "fly"})).await;
    let e = next_json(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("error"), Some("unknown_op"))
    );
    send(
        &mut ws,
        json!({"op": "subscribe", "codes": ["005930", "12"], "channels": ["tick"]}),
    )
    .await;
    let e = next_json(&mut ws).await;
    assert_eq!(e["code"], "bad_code", "{e}");
    assert!(e["message"].as_str().unwrap().contains("codes[1]"), "{e}");
    send(
        &mut ws,
        json!({"op": "subscribe", "codes": ["005930"], "channels": ["candle:7m"]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["code"], "bad_channel");
    send(&mut ws, Value::String("not an object".into())).await;
    assert_eq!(next_json(&mut ws).await["code"], "bad_json");
    // Still open, and nothing of the refused requests applied.
    assert!(t.app.state().hub.watched().is_empty());
    send(
        &mut ws,
        json!({"op": "subscribe", "codes": ["005930"], "channels": ["tick", "executions"]}),
    )
    .await;
    let s = next_json(&mut ws).await;
    assert_eq!(s["type"], "status", "{s}");
    assert_eq!(s["stocks"][0]["code"], "005930");
    assert_eq!(s["stocks"][0]["status"], "stale", "no poller runs in this test");
    let hub = t.app.state().hub.clone();
    assert_eq!(hub.open_pages().len(), 1);
    // A trade published into the hub reaches the subscriber as a tick and an executions batch, with
    // the stock's name from the directory.
    let mut e = recorded_trade();
    e.code = market::StockCode::parse("005930").unwrap();
    hub.publish_execution(&e);
    let tick = next_json(&mut ws).await;
    assert_eq!(tick["type"], "tick", "{tick}");
    assert_eq!(tick["name"], "삼성전자");
    assert_eq!(tick["price"], e.price);
    let trades = next_json(&mut ws).await;
    assert_eq!(trades["type"], "executions");
    assert_eq!(trades["executions"][0]["price"], e.price);
    send(&mut ws, json!({"op": "unsubscribe", "codes": ["005930"]})).await;
    eventually(Duration::from_secs(5), "the unsubscribe", || async {
        hub.watched().is_empty().then_some(())
    })
    .await;
    t.stop().await;
}

#[tokio::test]
async fn the_token_rule_applies_to_the_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), UpstreamConfig::Demo { seed: 42, speed: 1.0 }, false);
    cfg.token = Some("a-test-token-of-some-length".into());
    let t = spawn_with(cfg, dir).await;
    let url = ws_url(&t);
    match tokio_tungstenite::connect_async(url.clone()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    let wrong = format!("{url}?token=wrong");
    assert!(tokio_tungstenite::connect_async(wrong).await.is_err());
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{url}?token=a-test-token-of-some-length"))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "status");
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        "Bearer a-test-token-of-some-length".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "status");
    t.stop().await;
}

#[tokio::test]
async fn shutdown_closes_every_browser_socket_with_1001() {
    let t = spawn_demo(false).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&t)).await.unwrap();
        next_json(&mut ws).await;
        sockets.push(ws);
    }
    t.stop().await;
    for mut ws in sockets {
        match next_message(&mut ws).await {
            Message::Close(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::Away);
                assert_eq!(frame.reason.as_str(), "server shutting down");
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_browser_that_stops_reading_is_cut_off_while_a_reading_one_is_served() {
    let t = spawn_demo(false).await;
    let hub = t.app.state().hub.clone();
    hub.set_queue_config(QueueConfig {
        max_stall: Duration::from_millis(500),
        ..QueueConfig::default()
    });
    let codes: Vec<String> = (0..50).map(|i| format!("{:06}", 100_000 + i)).collect();
    let subscribe = json!({"op": "subscribe", "codes": codes, "channels": ["tick", "executions"]});
    // The slow browser: a small receive buffer, and it never reads after the subscribe.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(t.app.local_addr()).await.unwrap();
    let (mut slow, _) =
        tokio_tungstenite::client_async(ws_url(&t), tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    next_json(&mut slow).await;
    send(&mut slow, subscribe.clone()).await;
    let (mut fast, _) = tokio_tungstenite::connect_async(ws_url(&t)).await.unwrap();
    next_json(&mut fast).await;
    send(&mut fast, subscribe).await;
    eventually(Duration::from_secs(5), "both subscriptions", || async {
        (hub.watched().values().all(|n| *n == 2) && hub.watched().len() == 50).then_some(())
    })
    .await;
    // The fast browser reads everything in its own task.
    let reader = tokio::spawn(async move {
        let mut ticks = 0u64;
        while let Some(Ok(m)) = fast.next().await {
            match m {
                Message::Text(t) if t.contains("\"type\":\"tick\"") => ticks += 1,
                Message::Close(frame) => return (ticks, frame.map(|f| f.code)),
                _ => {}
            }
        }
        (ticks, None)
    });
    let template = recorded_trade();
    let mut published = 0u64;
    while hub.cut_offs() == 0 {
        for i in 0..200 {
            let mut e = template.clone();
            e.code = market::StockCode::parse(&codes[i % codes.len()]).unwrap();
            e.price = 250_000 + (published % 100) as i64 * 500;
            hub.publish_execution(&e);
            published += 1;
        }
        // Let the writers run (publishing never waits on a browser).
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(published < 2_000_000, "the slow browser was never cut off");
    }
    assert_eq!(hub.cut_offs(), 1);
    assert_eq!(hub.clients(), 1, "the reading browser stays");
    // The slow browser, reading at last, finds the close frame after what had been sent.
    let close = loop {
        match next_message(&mut slow).await {
            Message::Close(frame) => break frame.expect("a close frame with a code"),
            _ => continue,
        }
    };
    assert_eq!(close.code, CloseCode::Policy);
    assert!(
        close.reason.as_str().starts_with("too slow: "),
        "{}",
        close.reason
    );
    t.stop().await;
    let (ticks, fast_close) = reader.await.unwrap();
    assert!(ticks > 0);
    assert_eq!(
        fast_close,
        Some(CloseCode::Away),
        "the reading browser closed only at shutdown"
    );
}

#[tokio::test]
async fn resume_delivers_exactly_the_missed_triggers_in_order_once() {
    let t = spawn_demo(false).await;
    // Three triggers stored while the browser was away.
    let mut ids = Vec::new();
    for minute in 0..3 {
        ids.push(store_trigger(&t, minute).await.id);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&t)).await.unwrap();
    next_json(&mut ws).await;
    // It saw the first one before it went away.
    send(&mut ws, json!({"op": "resume", "after_trigger_id": ids[0]})).await;
    for want in &ids[1..] {
        let got = next_json(&mut ws).await;
        assert_eq!(got["type"], "trigger", "{got}");
        assert_eq!(got["id"], *want);
        assert_eq!(got["code"], "005930");
        assert_eq!(got["name"], "삼성전자");
    }
    // Resuming again from the last one repeats nothing: the next message is the subscribe's answer.
    send(&mut ws, json!({"op": "resume", "after_trigger_id": ids[2]})).await;
    send(
        &mut ws,
        json!({"op": "subscribe", "codes": ["005930"], "channels": ["tick"]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "status");
    t.stop().await;
}

/// A trigger stored (as the trigger service stores one) on the 1-minute bar `minute` after 09:00.
async fn store_trigger(t: &common::TestApp, minute: i64) -> kiswatch::contract::Trigger {
    t.app
        .state()
        .store
        .add_trigger(kiswatch::contract::Fired {
            code: "005930".into(),
            name: "삼성전자".into(),
            condition_id: 1,
            condition_name: "test".into(),
            period: "1m".into(),
            bar_time: format!("2026-07-24T09:{minute:02}:00+09:00"),
            time: format!("2026-07-24T09:{minute:02}:30+09:00"),
            price: 250_000 + minute,
            values: kiswatch::contract::TriggerValues(vec![("close".into(), (250_000 + minute) as f64)]),
            late: false,
            message: String::new(),
            message_ko: String::new(),
        })
        .await
        .unwrap()
        .unwrap()
}

/// A trigger stored and published (what the evaluator and the delivery to the hub do).
async fn fire(t: &common::TestApp, minute: i64) -> u64 {
    let row = store_trigger(t, minute).await;
    t.app.state().hub.publish_trigger(&row);
    row.id
}

/// The race the fan-out benchmark caught: a trigger fired after the browser reconnected but before
/// its `resume` arrived went out live, ahead of the missed ones, and then again with them.
#[tokio::test]
async fn a_trigger_fired_while_the_browser_reconnects_follows_the_missed_ones_once() {
    let t = spawn_demo(false).await;
    let seen = fire(&t, 0).await;
    let missed = fire(&t, 1).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&t)).await.unwrap();
    next_json(&mut ws).await;
    // Connected, resume not sent yet: a new trigger fires.
    let fired_meanwhile = fire(&t, 2).await;
    send(&mut ws, json!({"op": "resume", "after_trigger_id": seen})).await;
    for want in [missed, fired_meanwhile] {
        let got = next_json(&mut ws).await;
        assert_eq!(got["type"], "trigger", "{got}");
        assert_eq!(got["id"], want, "{got}");
    }
    // Nothing twice: the next message is the subscribe's answer.
    send(
        &mut ws,
        json!({"op": "subscribe", "codes": ["005930"], "channels": ["tick"]}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "status");
    t.stop().await;
}

/// A browser with nothing to resume still gets the triggers of its first moments (after the grace).
#[tokio::test]
async fn a_browser_that_does_not_resume_gets_triggers_fired_as_it_connected() {
    let t = spawn_demo(false).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&t)).await.unwrap();
    next_json(&mut ws).await;
    let first = fire(&t, 0).await;
    let got = next_json(&mut ws).await;
    assert_eq!(
        (got["type"].as_str(), got["id"].as_u64()),
        (Some("trigger"), Some(first)),
        "{got}"
    );
    // After the grace, triggers go out as they fire.
    let second = fire(&t, 1).await;
    assert_eq!(next_json(&mut ws).await["id"], second);
    t.stop().await;
}
