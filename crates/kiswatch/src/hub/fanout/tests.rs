//! The hub end to end in memory: browser requests in, messages out through each client's queue.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::hub::queue::{Delivery, Outgoing};
use crate::testdata;

fn code(s: &str) -> StockCode {
    StockCode::parse(s).unwrap()
}

/// Every message waiting in an outbox, parsed.
async fn drain(outbox: &Outbox) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_millis(1), outbox.recv()).await;
        match next {
            Ok(Outgoing::Message(Delivery { text, .. })) => out.push(serde_json::from_str(&text).unwrap()),
            Ok(Outgoing::Close(reason)) => {
                out.push(json!({"closed": reason.code, "reason": reason.reason}));
                return out;
            }
            Err(_) => return out,
        }
    }
}

fn trigger(id: u64, code: &str) -> Trigger {
    Trigger {
        id,
        fired: crate::contract::Fired {
            code: code.into(),
            name: "삼성전자".into(),
            condition_id: 1,
            condition_name: "30m 정배열".into(),
            period: "30m".into(),
            bar_time: "2026-11-27T09:30:00+09:00".into(),
            time: "2026-11-27T09:31:00+09:00".into(),
            price: 1_000,
            values: Default::default(),
            late: false,
            message: String::new(),
            message_ko: String::new(),
        },
        acked: false,
        recorded_at: String::new(),
        persisted: true,
        key: String::new(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_trade_reaches_only_its_subscribers_as_tick_and_executions() {
    let hub = Hub::new(QueueConfig::default());
    hub.set_name(code("005930"), "삼성전자");
    let (a, outbox_a) = hub.connect();
    let (b, outbox_b) = hub.connect();
    let action = hub.handle_text(
        a,
        r#"{"op":"subscribe","codes":["005930"],"channels":["tick","executions"]}"#,
    );
    assert_eq!(
        action,
        ClientAction::Interest(InterestChange {
            pages_opened: vec![code("005930")],
            pages_closed: vec![]
        })
    );
    hub.handle_text(b, r#"{"op":"subscribe","codes":["000660"],"channels":["tick"]}"#);
    assert_eq!(hub.open_pages(), BTreeMap::from([(code("005930"), 1)]));

    let e = testdata::execution();
    hub.publish_execution(&e);
    let got = drain(&outbox_a).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["type"], "tick");
    assert_eq!(got[0]["code"], "005930");
    assert_eq!(got[0]["name"], "삼성전자");
    assert_eq!(got[0]["price"], 250500);
    assert_eq!(got[0]["change"], -19500);
    assert_eq!(got[0]["change_rate"], -7.22);
    assert_eq!(got[0]["sign"], "down");
    assert_eq!(got[0]["time"], "2026-07-24T11:52:14+09:00");
    assert_eq!(got[1]["type"], "executions");
    assert_eq!(got[1]["executions"][0]["price"], 250500);
    assert_eq!(got[1]["executions"][0]["side"], "buy");
    assert!(drain(&outbox_b).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_bad_request_gets_an_error_and_the_connection_stays() {
    let hub = Hub::new(QueueConfig::default());
    let (a, outbox) = hub.connect();
    assert_eq!(
        hub.handle_text(a, r#"{"op":"subscribe","codes":["5930"],"channels":["tick"]}"#),
        ClientAction::None
    );
    assert_eq!(
        hub.handle_text(a, r#"{"op":"subscribe","codes":["005930"],"channels":["ticks"]}"#),
        ClientAction::None
    );
    assert_eq!(hub.handle_text(a, r#"{"op":"watch"}"#), ClientAction::None);
    let got = drain(&outbox).await;
    let codes: Vec<&str> = got.iter().map(|m| m["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["bad_code", "bad_channel", "unknown_op"]);
    assert!(got.iter().all(|m| m["type"] == "error"));
    assert!(got[1]["message"].as_str().unwrap().contains("\"ticks\""));
    // Nothing of the refused requests was applied, and the next good one works.
    assert!(hub.watched().is_empty());
    hub.handle_text(
        a,
        r#"{"op":"subscribe","codes":["005930"],"channels":["orderbook"]}"#,
    );
    hub.publish_order_book(&testdata::order_book(), Some(jiff::civil::date(2026, 7, 24)));
    let got = drain(&outbox).await;
    assert_eq!(got[0]["type"], "orderbook");
    assert_eq!(got[0]["asks"][0]["price"], 71500);
    assert_eq!(got[0]["bids"][0]["price"], 71400);
    assert_eq!(got[0]["time"], "2026-07-24T12:07:55+09:00");
    assert_eq!(got[0]["asks"].as_array().unwrap().len(), 10);
}

#[tokio::test(start_paused = true)]
async fn triggers_go_to_everyone_and_resume_fills_the_gap_once() {
    let hub = Hub::new(QueueConfig::default());
    let (a, outbox_a) = hub.connect();
    let (_b, outbox_b) = hub.connect();
    hub.publish_trigger(&trigger(1, "005930"));
    assert_eq!(drain(&outbox_b).await[0]["id"], 1);
    // Client a resumes after trigger 0: the store holds 1 and 2; 2 is also pushed live meanwhile.
    assert_eq!(
        hub.handle_text(a, r#"{"op":"resume","after_trigger_id":0}"#),
        ClientAction::Resume { after_trigger_id: 0 }
    );
    hub.publish_trigger(&trigger(2, "000660"));
    hub.publish_trigger(&trigger(3, "000660"));
    hub.finish_resume(a, &[trigger(1, "005930"), trigger(2, "000660")]);
    let ids: Vec<u64> = drain(&outbox_a)
        .await
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    let got = drain(&outbox_b).await;
    assert_eq!(
        got.iter().map(|m| m["id"].as_u64().unwrap()).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(got[0]["type"], "trigger");
    assert_eq!(got[0]["period"], "30m");
}

/// A trigger the store could not take yet: no id, `persisted: false`, known by its key.
fn unstored(minute: u32) -> UnstoredTrigger {
    let mut fired = trigger(0, "005930").fired;
    fired.bar_time = format!("2026-11-27T10:{minute:02}:00+09:00");
    UnstoredTrigger::new(fired)
}

fn stored_as(t: &UnstoredTrigger, id: u64) -> Trigger {
    Trigger::stored(id, t.fired.clone(), false, String::new())
}

/// Unstored triggers reach every client at once (they have no id to deduplicate by), are held
/// while a resume is answered and follow the stored ones then, reach a new connection once its
/// hold ends, and are no longer replayed once stored.
#[tokio::test(start_paused = true)]
async fn unstored_triggers_go_out_at_once_and_are_replayed_until_stored() {
    let hub = Hub::new(QueueConfig::default());
    let (a, outbox_a) = hub.connect();
    let (u1, u2) = (unstored(1), unstored(2));
    hub.publish_trigger(&trigger(1, "005930"));
    hub.publish_unstored_trigger(&u1, true);
    hub.publish_unstored_trigger(&u1, true); // the same key again: not sent twice
    let got = drain(&outbox_a).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        (got[1]["id"].clone(), got[1]["persisted"].clone()),
        (Value::Null, json!(false))
    );
    assert_eq!(got[1]["key"], u1.key);
    assert_eq!(hub.unstored(), 1);

    // A resume: u2 fires meanwhile; the answer is the stored ones, then every unstored one.
    hub.handle_text(a, r#"{"op":"resume","after_trigger_id":0}"#);
    hub.publish_unstored_trigger(&u2, true);
    hub.finish_resume(a, &[trigger(1, "005930")]);
    let got = drain(&outbox_a).await;
    let keys: Vec<Value> = got.iter().map(|m| m["key"].clone()).collect();
    assert_eq!(got[0]["id"], 1);
    assert_eq!(keys[1..], [json!(u1.key), json!(u2.key)]);

    // A new connection gets them once its hold ends.
    let (b, outbox_b) = hub.connect_resumable();
    hub.release_hold(b);
    assert_eq!(drain(&outbox_b).await.len(), 2);
    hub.release_hold(b); // no second replay
    assert!(drain(&outbox_b).await.is_empty());

    // u1 stored as 2: pushed with its id, and no longer replayed; u2 settled otherwise.
    hub.publish_trigger(&stored_as(&u1, 2));
    assert_eq!(drain(&outbox_a).await[0]["persisted"], true);
    hub.settle_unstored(&u2.key);
    assert_eq!(hub.unstored(), 0);
    let (c, outbox_c) = hub.connect_resumable();
    hub.release_hold(c);
    assert!(drain(&outbox_c).await.iter().all(|m| m["type"] != "trigger"));
}

#[tokio::test(start_paused = true)]
async fn a_slow_client_is_cut_off_and_forgotten_while_a_fast_one_is_served() {
    let config = QueueConfig {
        max_stall: Duration::from_secs(2),
        ..QueueConfig::default()
    };
    let hub = Hub::new(config);
    let (slow, slow_box) = hub.connect();
    let (fast, fast_box) = hub.connect();
    for id in [slow, fast] {
        hub.handle_text(
            id,
            r#"{"op":"subscribe","codes":["005930"],"channels":["tick","orderbook"]}"#,
        );
    }
    let e = testdata::execution();
    hub.publish_execution(&e);
    // The slow browser's writer takes its batch and the socket write never completes (it stopped
    // reading); the fast one's writes complete at once.
    let mut stuck = Vec::new();
    slow_box.recv_batch(&mut stuck, 64).await.unwrap();
    assert_eq!(stuck.len(), 1);
    let mut fast_ticks = drain(&fast_box).await.len();
    for _ in 0..30 {
        hub.publish_execution(&e);
        hub.publish_order_book(&testdata::order_book(), None);
        fast_ticks += drain(&fast_box).await.len();
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    assert_eq!(fast_ticks, 61);
    assert_eq!(hub.cut_offs(), 1);
    match slow_box.recv().await {
        Outgoing::Close(reason) => {
            assert_eq!(reason.code, 1008);
            assert!(reason.reason.starts_with("too slow: "), "{}", reason.reason);
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert_eq!(hub.clients(), 1);
    assert_eq!(hub.open_pages(), BTreeMap::from([(code("005930"), 1)]));
}

#[tokio::test(start_paused = true)]
async fn status_and_shutdown() {
    let hub = Hub::new(QueueConfig::default());
    let (a, outbox) = hub.connect();
    hub.handle_text(
        a,
        r#"{"op":"subscribe","codes":["005930"],"channels":["candle:30m"]}"#,
    );
    hub.publish_upstream(UpstreamState::Reconnecting);
    hub.publish_upstream(UpstreamState::Connected);
    let status = StockStatus::of(
        crate::status::StatusInput {
            registered: false,
            session_up: true,
            polled: true,
            last_data: Some(tokio::time::Instant::now()),
            poll_bound: Duration::from_secs(8),
        },
        tokio::time::Instant::now(),
    );
    hub.publish_stock_status(code("005930"), status);
    hub.publish_stock_status(code("000660"), status);
    let candle = Candle::from_trade(jiff::civil::date(2026, 7, 24).at(11, 30, 0, 0), 250500, 2);
    hub.publish_candle(code("005930"), Period::M30, &candle, false);
    hub.publish_candle(code("005930"), Period::M1, &candle, false);
    let got = drain(&outbox).await;
    // The two upstream states coalesce to the latest; 000660 and the 1m candle are not watched.
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], json!({"type": "status", "upstream": "connected"}));
    assert_eq!(got[1]["stocks"][0]["code"], "005930");
    assert_eq!(got[1]["stocks"][0]["status"], "polled");
    assert_eq!(got[1]["stocks"][0]["bound_ms"], 8000);
    assert_eq!(got[2]["type"], "candle");
    assert_eq!(got[2]["period"], "30m");
    assert_eq!(got[2]["candle"]["time"], "2026-07-24T11:30:00+09:00");
    assert_eq!(got[2]["candle"]["close"], 250500);
    hub.shutdown();
    let got = drain(&outbox).await;
    assert_eq!(got, [json!({"closed": 1001, "reason": "server shutting down"})]);
}
