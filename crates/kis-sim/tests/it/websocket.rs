//! The realtime server over a real WebSocket: acks, the 41-registration cap, one session per app key,
//! PINGPONG liveness, drop_ws, and frames consistent with REST.

use std::time::Duration;

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn approval(server: &SimServer, index: u32) -> String {
    let (key, secret) = demo_credentials(server.config().profile, index);
    let (status, body) = issue_approval(&reqwest::Client::new(), &server.rest_url(), &key, &secret).await;
    assert_eq!(status, 200);
    body["approval_key"].as_str().unwrap().to_string()
}

async fn connect(server: &SimServer, path: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("{}{path}", server.ws_url()))
        .await
        .unwrap()
        .0
}

fn request(approval: &str, tr_type: &str, tr_id: &str, tr_key: &str) -> Message {
    Message::text(
        json!({"header":{"approval_key":approval,"custtype":"P","tr_type":tr_type,"content-type":"utf-8"},
               "body":{"input":{"tr_id":tr_id,"tr_key":tr_key}}})
        .to_string(),
    )
}

/// The next JSON control message (skipping data frames and PINGPONGs); `None` when the server closed.
async fn next_control(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s");
        match msg {
            Some(Ok(Message::Text(t))) if t.starts_with('{') => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["header"]["tr_id"] != "PINGPONG" {
                    return Some(v);
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn subscribe(ws: &mut Ws, approval: &str, tr_id: &str, code: &str) -> Value {
    ws.send(request(approval, "1", tr_id, code)).await.unwrap();
    next_control(ws).await.expect("an answer")
}

/// Reads until the server closes the connection (or 20 s pass).
async fn closed(ws: &mut Ws) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test]
async fn acks_duplicates_unsubscribe_and_the_42nd_registration() {
    let server = start(config(Profile::Real)).await;
    let key = approval(&server, 0).await;
    let mut ws = connect(&server, "/tryitout/H0STCNT0").await;
    let ack = subscribe(&mut ws, &key, "H0STCNT0", SAMSUNG).await;
    assert_eq!(ack["body"]["msg_cd"], "OPSP0000");
    assert_eq!(ack["body"]["msg1"], "SUBSCRIBE SUCCESS");
    assert_eq!(ack["header"]["tr_key"], SAMSUNG);
    let dup = subscribe(&mut ws, &key, "H0STCNT0", SAMSUNG).await;
    assert_eq!(
        (dup["body"]["rt_cd"].as_str(), dup["body"]["msg_cd"].as_str()),
        (Some("1"), Some("OPSP0002"))
    );
    assert_eq!(dup["body"]["msg1"], "ALREADY IN SUBSCRIBE");

    ws.send(request(&key, "2", "H0STCNT0", SAMSUNG)).await.unwrap();
    let unsub = next_control(&mut ws).await.unwrap();
    assert_eq!(unsub["body"]["msg_cd"], "OPSP0001");
    assert!(unsub["body"]["msg1"].as_str().unwrap().starts_with("UNSUB"));
    ws.send(request(&key, "2", "H0STCNT0", SAMSUNG)).await.unwrap();
    assert_eq!(next_control(&mut ws).await.unwrap()["body"]["msg_cd"], "OPSP0003");

    let codes: Vec<String> = server
        .market()
        .stocks()
        .iter()
        .map(|s| s.code.as_str().to_string())
        .collect();
    assert!(codes.len() >= 42);
    for code in &codes[..41] {
        assert_eq!(
            subscribe(&mut ws, &key, "H0STCNT0", code).await["body"]["msg_cd"],
            "OPSP0000"
        );
    }
    assert_eq!(server.stats().subscriptions, 41);
    let over = subscribe(&mut ws, &key, "H0STASP0", &codes[41]).await;
    assert_eq!(
        (over["body"]["msg_cd"].as_str(), over["body"]["msg1"].as_str()),
        (Some("OPSP0008"), Some("MAX SUBSCRIBE OVER"))
    );
    assert_eq!(server.stats().subscriptions, 41);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_approval_keys_and_messages_are_refused() {
    let server = start(config(Profile::Real)).await;
    let mut ws = connect(&server, "/").await;
    let bad = subscribe(&mut ws, "not-a-key", "H0STCNT0", SAMSUNG).await;
    assert_eq!(bad["body"]["msg_cd"], "OPSP0011");
    ws.send(Message::text("{oops")).await.unwrap();
    assert_eq!(next_control(&mut ws).await.unwrap()["body"]["msg_cd"], "OPSP9999");
    let key = approval(&server, 0).await;
    assert_eq!(
        subscribe(&mut ws, &key, "H0STXXX0", SAMSUNG).await["body"]["msg_cd"],
        "OPSP8991"
    );
    assert_eq!(
        subscribe(&mut ws, &key, "H0STCNT0", "12").await["body"]["msg_cd"],
        "OPSP8992"
    );
    // the session still works
    assert_eq!(
        subscribe(&mut ws, &key, "H0STASP0", SAMSUNG).await["body"]["msg_cd"],
        "OPSP0000"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_second_session_with_the_same_app_key_is_refused_and_closed() {
    let server = start(config(Profile::Real)).await;
    let first_key = approval(&server, 0).await;
    let second_key = approval(&server, 0).await; // another approval key, same app key
    let mut first = connect(&server, "/tryitout").await;
    assert_eq!(
        subscribe(&mut first, &first_key, "H0STCNT0", SAMSUNG).await["body"]["msg_cd"],
        "OPSP0000"
    );
    let mut second = connect(&server, "/tryitout").await;
    let refused = subscribe(&mut second, &second_key, "H0STCNT0", SAMSUNG).await;
    assert_eq!(
        (
            refused["body"]["msg_cd"].as_str(),
            refused["body"]["msg1"].as_str()
        ),
        (Some("OPSP8996"), Some("ALREADY IN USE appkey"))
    );
    assert!(closed(&mut second).await);
    // another app key gets its own session
    let other = approval(&server, 1).await;
    let mut third = connect(&server, "/tryitout").await;
    assert_eq!(
        subscribe(&mut third, &other, "H0STCNT0", SAMSUNG).await["body"]["msg_cd"],
        "OPSP0000"
    );
    // once the first session closes, its app key is free again
    first.close(None).await.unwrap();
    assert!(closed(&mut first).await);
    let mut again = connect(&server, "/tryitout").await;
    let mut answer = subscribe(&mut again, &second_key, "H0STCNT0", SAMSUNG).await;
    for _ in 0..50 {
        if answer["body"]["msg_cd"] != "OPSP8996" {
            break;
        }
        // the server may not have finished tearing the first session down: reconnect and retry
        again = connect(&server, "/tryitout").await;
        tokio::task::yield_now().await;
        answer = subscribe(&mut again, &second_key, "H0STCNT0", SAMSUNG).await;
    }
    assert_eq!(answer["body"]["msg_cd"], "OPSP0000");
    server.shutdown().await;
}

/// In tokio's paused time: a 400 ms deadline to answer is then a deadline in virtual time, which a
/// loaded machine cannot miss by being slow (real time would drop an answering client that was
/// merely descheduled for 400 ms).
#[tokio::test(start_paused = true)]
async fn silent_clients_are_dropped_and_answering_clients_stay() {
    let server = start(SimConfig {
        ping_interval: Duration::from_millis(400),
        ..config(Profile::Real)
    })
    .await;
    let mut silent = connect(&server, "/tryitout").await;
    let mut echoing = connect(&server, "/tryitout").await;
    let mut ponging = connect(&server, "/tryitout").await;
    let echo = tokio::spawn(async move {
        let mut pings = 0;
        while pings < 5 {
            match echoing.next().await {
                Some(Ok(Message::Text(t))) if t.contains("PINGPONG") => {
                    pings += 1;
                    echoing.send(Message::Text(t)).await.unwrap();
                }
                Some(Ok(_)) => {}
                other => panic!("echoing client lost its session: {other:?}"),
            }
        }
        pings
    });
    let pong = tokio::spawn(async move {
        let mut pings = 0;
        while pings < 5 {
            match ponging.next().await {
                Some(Ok(Message::Text(t))) if t.contains("PINGPONG") => {
                    pings += 1;
                    ponging
                        .send(Message::Pong(t.as_bytes().to_vec().into()))
                        .await
                        .unwrap();
                }
                Some(Ok(_)) => {}
                other => panic!("ponging client lost its session: {other:?}"),
            }
        }
        pings
    });
    assert!(
        closed(&mut silent).await,
        "a client that never answers is dropped"
    );
    assert_eq!(echo.await.unwrap(), 5);
    assert_eq!(pong.await.unwrap(), 5);
    server.shutdown().await;
}

#[tokio::test]
async fn drop_ws_closes_sessions_and_their_registrations_vanish() {
    let server = start(SimConfig {
        control: true,
        ..config(Profile::Real)
    })
    .await;
    let key = approval(&server, 0).await;
    let mut ws = connect(&server, "/tryitout").await;
    assert_eq!(
        subscribe(&mut ws, &key, "H0STCNT0", SAMSUNG).await["body"]["msg_cd"],
        "OPSP0000"
    );
    assert_eq!(server.stats().ws_sessions, 1);
    let http = reqwest::Client::new();
    assert_eq!(
        post(
            &http,
            &format!("{}/sim/faults", server.rest_url()),
            &json!({"drop_ws": true})
        )
        .await
        .0,
        200
    );
    assert!(closed(&mut ws).await);
    let mut ws = connect(&server, "/tryitout").await;
    let mut answer = subscribe(&mut ws, &key, "H0STCNT0", SAMSUNG).await;
    for _ in 0..50 {
        if answer["body"]["msg_cd"] != "OPSP8996" {
            break;
        }
        ws = connect(&server, "/tryitout").await;
        answer = subscribe(&mut ws, &key, "H0STCNT0", SAMSUNG).await;
    }
    // a fresh registration (not "ALREADY IN SUBSCRIBE"): the old session's registrations are gone
    assert_eq!(answer["body"]["msg_cd"], "OPSP0000");
    assert_eq!(server.stats().subscriptions, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn execution_frames_agree_with_rest() {
    let server = start(SimConfig {
        speed: 20.0,
        ..config(Profile::Real)
    })
    .await;
    server.market().advance(1800);
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let key = approval(&server, 0).await;
    let mut ws = connect(&server, "/tryitout").await;
    assert_eq!(
        subscribe(&mut ws, &key, "H0STCNT0", SAMSUNG).await["body"]["msg_cd"],
        "OPSP0000"
    );
    let record = loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else { continue };
        if let Some(payload) = t.strip_prefix("0|H0STCNT0|") {
            let fields: Vec<String> = payload[4..].split('^').map(str::to_string).collect();
            break fields[fields.len() - 46..].to_vec();
        }
    };
    // The record's trade is in REST's recent executions with the same price, time and volume.
    let (_, _, body) = caller
        .get(
            "/uapi/domestic-stock/v1/quotations/inquire-ccnl",
            "FHKST01010300",
            &[("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", SAMSUNG)],
        )
        .await;
    let rows = body["output"].as_array().unwrap();
    let found = rows.iter().any(|r| {
        r["stck_cntg_hour"] == record[1].as_str()
            && r["stck_prpr"] == record[2].as_str()
            && r["cntg_vol"] == record[12].as_str()
    });
    assert!(found, "record {record:?} not among {rows:?}");
    let (_, price) = caller.price(SAMSUNG).await;
    assert_eq!(
        price["output"]["stck_sdpr"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap(),
        {
            let p: i64 = record[2].parse().unwrap();
            let change: i64 = record[4].parse().unwrap();
            p - change
        }
    );
    server.shutdown().await;
}
