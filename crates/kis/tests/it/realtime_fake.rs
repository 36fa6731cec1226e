//! The realtime client against a scripted KIS-like WebSocket server on 127.0.0.1:0, for the
//! exchanges the simulator does not produce on demand: PINGPONG, rejected approval keys, refusals,
//! missing acks, encrypted notices and refused connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use kis::realtime::{
    ApprovalFuture, ApprovalSource, Backoff, Channel, FixedApproval, NoticeKind, RealtimeClient,
    RealtimeConfig, RealtimeError, RealtimeEvent, RealtimeHandle,
};
use market::StockCode;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "iuheqrmvfxoceaxeyqgjwesozgizmmgx";
const IV: &str = "d59d91fcf9fd0044";

/// A server that hands every accepted WebSocket to the test.
struct Fake {
    url: String,
    connections: mpsc::Receiver<Conn>,
}

struct Conn(WebSocketStream<TcpStream>);

impl Fake {
    async fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/tryitout", listener.local_addr().unwrap());
        let (tx, connections) = mpsc::channel(8);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await
                    && tx.send(Conn(ws)).await.is_err()
                {
                    break;
                }
            }
        });
        Fake { url, connections }
    }

    async fn accept(&mut self) -> Conn {
        tokio::time::timeout(WAIT, self.connections.recv())
            .await
            .expect("no connection")
            .unwrap()
    }
}

impl Conn {
    /// The next text message from the client.
    async fn recv_text(&mut self) -> String {
        loop {
            let msg = tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("client sent nothing")
                .expect("connection ended")
                .unwrap();
            if let Message::Text(text) = msg {
                return text.to_string();
            }
        }
    }

    /// The next subscribe/unsubscribe request: (approval_key, tr_type, tr_id, tr_key).
    async fn recv_request(&mut self) -> (String, String, String, String) {
        let v: Value = serde_json::from_str(&self.recv_text().await).unwrap();
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap().to_owned();
        (
            s("/header/approval_key"),
            s("/header/tr_type"),
            s("/body/input/tr_id"),
            s("/body/input/tr_key"),
        )
    }

    async fn send(&mut self, text: impl Into<String>) {
        self.0.send(Message::text(text.into())).await.unwrap();
    }

    async fn answer(&mut self, tr_id: &str, tr_key: &str, rt_cd: &str, msg_cd: &str, msg1: &str) {
        let encrypt = if tr_id.starts_with("H0STCNI") { "Y" } else { "N" };
        self.send(
            serde_json::json!({
                "header": {"tr_id": tr_id, "tr_key": tr_key, "encrypt": encrypt},
                "body": {"rt_cd": rt_cd, "msg_cd": msg_cd, "msg1": msg1, "output": {"iv": IV, "key": KEY}},
            })
            .to_string(),
        )
        .await;
    }
}

fn config(url: &str) -> RealtimeConfig {
    let mut config = RealtimeConfig::new(url);
    config.backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(1));
    config.request_interval = Duration::from_millis(1);
    config
}

fn samsung() -> StockCode {
    StockCode::parse("005930").unwrap()
}

async fn next_event(events: &mut mpsc::Receiver<RealtimeEvent>) -> RealtimeEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("no event")
        .expect("event channel closed")
}

/// Starts a client on the fake server (with `config(url)` unless one is given).
async fn connect(
    fake: &mut Fake,
    custom: Option<RealtimeConfig>,
    approval: Arc<dyn ApprovalSource>,
) -> (RealtimeHandle, mpsc::Receiver<RealtimeEvent>, Conn) {
    let config = custom.unwrap_or_else(|| config(&fake.url));
    let (handle, mut events) = RealtimeClient::connect(config, approval);
    let conn = fake.accept().await;
    assert_eq!(next_event(&mut events).await, RealtimeEvent::Connected);
    (handle, events, conn)
}

#[tokio::test]
async fn pingpong_is_echoed_and_ws_pings_are_answered() {
    let mut fake = Fake::start().await;
    let (_handle, _events, mut conn) = connect(&mut fake, None, Arc::new(FixedApproval::new("ak"))).await;
    let ping = r#"{"header":{"tr_id":"PINGPONG","datetime":"20230101120000"}}"#;
    conn.send(ping).await;
    assert_eq!(conn.recv_text().await, ping);
    conn.0.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    let pong = tokio::time::timeout(WAIT, conn.0.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));
}

#[tokio::test]
async fn subscribe_waits_for_the_ack_and_frames_become_events() {
    let mut fake = Fake::start().await;
    let (handle, mut events, mut conn) = connect(&mut fake, None, Arc::new(FixedApproval::new("ak-1"))).await;
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::Executions, samsung()).await }
    });
    let (key, tr_type, tr_id, tr_key) = conn.recv_request().await;
    assert_eq!((key.as_str(), tr_type.as_str()), ("ak-1", "1"));
    assert_eq!((tr_id.as_str(), tr_key.as_str()), ("H0STCNT0", "005930"));
    assert!(!subscribe.is_finished(), "resolved before the ack");
    conn.answer("H0STCNT0", "005930", "0", "OPSP0000", "SUBSCRIBE SUCCESS")
        .await;
    subscribe.await.unwrap().unwrap();

    // The synthetic two-record sample frame yields two executions.
    let samples = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/kis/ws-frame-H0STCNT0-SYNTHETIC-46fields.txt"
    );
    let two = std::fs::read_to_string(samples)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    conn.send(two).await;
    for _ in 0..2 {
        assert!(matches!(next_event(&mut events).await, RealtimeEvent::Execution(e) if e.price == 71500));
    }
    // A malformed frame is reported and skipped; the session goes on.
    conn.send("0|H0STCNT0|004|005930^123929^73100^5^...").await;
    assert!(matches!(
        next_event(&mut events).await,
        RealtimeEvent::Malformed(_)
    ));

    let unsubscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.unsubscribe(Channel::Executions, samsung()).await }
    });
    let (_, tr_type, _, _) = conn.recv_request().await;
    assert_eq!(tr_type, "2");
    conn.answer("H0STCNT0", "005930", "0", "OPSP0001", "UNSUBSCRIBE SUCCESS")
        .await;
    unsubscribe.await.unwrap().unwrap();
    assert!(handle.registrations().await.unwrap().is_empty());
}

/// Hands out `key-0`, then `key-1` after each forced renewal.
#[derive(Default)]
struct Renewing {
    forced: AtomicU32,
}

impl ApprovalSource for Renewing {
    fn approval_key(&self, force_new: bool) -> ApprovalFuture<'_> {
        if force_new {
            self.forced.fetch_add(1, Ordering::SeqCst);
        }
        let key = format!("key-{}", self.forced.load(Ordering::SeqCst));
        Box::pin(async move { Ok(key) })
    }
}

#[tokio::test]
async fn a_rejected_approval_key_is_renewed_once() {
    let mut fake = Fake::start().await;
    let approval = Arc::new(Renewing::default());
    let (handle, _events, mut conn) = connect(&mut fake, None, approval.clone()).await;
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::OrderBook, samsung()).await }
    });
    let (key, ..) = conn.recv_request().await;
    assert_eq!(key, "key-0");
    conn.answer(
        "H0STASP0",
        "005930",
        "1",
        "OPSP0011",
        "invalid approval : NOT FOUND",
    )
    .await;
    let (key, ..) = conn.recv_request().await;
    assert_eq!(key, "key-1");
    conn.answer("H0STASP0", "005930", "0", "OPSP0000", "SUBSCRIBE SUCCESS")
        .await;
    subscribe.await.unwrap().unwrap();
    assert_eq!(approval.forced.load(Ordering::SeqCst), 1);
}

/// Hands out `old-key` at first; a forced renewal reports that it started, then waits until the
/// test lets it finish with `new-key` (as the token store waits out KIS's one-issuance-a-minute).
struct SlowRenewal {
    started: tokio::sync::Notify,
    finish: tokio::sync::Notify,
}

impl ApprovalSource for SlowRenewal {
    fn approval_key(&self, force_new: bool) -> ApprovalFuture<'_> {
        Box::pin(async move {
            if !force_new {
                return Ok("old-key".to_owned());
            }
            self.started.notify_one();
            self.finish.notified().await;
            Ok("new-key".to_owned())
        })
    }
}

#[tokio::test]
async fn pingpong_is_answered_while_an_approval_key_renewal_is_pending() {
    let mut fake = Fake::start().await;
    let approval = Arc::new(SlowRenewal {
        started: tokio::sync::Notify::new(),
        finish: tokio::sync::Notify::new(),
    });
    let (handle, _events, mut conn) = connect(&mut fake, None, approval.clone()).await;
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::Executions, samsung()).await }
    });
    let (key, ..) = conn.recv_request().await;
    assert_eq!(key, "old-key");
    conn.answer("H0STCNT0", "005930", "1", "", "INVALID APPROVAL KEY")
        .await;
    tokio::time::timeout(WAIT, approval.started.notified())
        .await
        .expect("the client asked for a new key");
    // The renewal is pending: the session still echoes PINGPONG (it would not if the socket task
    // were the one waiting for the key).
    let ping = r#"{"header":{"tr_id":"PINGPONG","datetime":"20230101120000"}}"#;
    conn.send(ping).await;
    assert_eq!(conn.recv_text().await, ping);
    assert!(!subscribe.is_finished());
    approval.finish.notify_one();
    let (key, tr_type, tr_id, tr_key) = conn.recv_request().await;
    assert_eq!(key, "new-key", "the request is sent again with the new key");
    assert_eq!(
        (tr_type.as_str(), tr_id.as_str(), tr_key.as_str()),
        ("1", "H0STCNT0", "005930")
    );
    conn.answer("H0STCNT0", "005930", "0", "OPSP0000", "SUBSCRIBE SUCCESS")
        .await;
    subscribe.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_approval_key_rejected_twice_is_an_error_not_a_loop() {
    let mut fake = Fake::start().await;
    let approval = Arc::new(FixedApproval::new("bad"));
    let (handle, _events, mut conn) = connect(&mut fake, None, approval.clone()).await;
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::Executions, samsung()).await }
    });
    for _ in 0..2 {
        conn.recv_request().await;
        conn.answer("H0STCNT0", "005930", "1", "", "INVALID APPROVAL KEY")
            .await;
    }
    let result = subscribe.await.unwrap();
    assert!(
        matches!(result, Err(RealtimeError::ApprovalRejected { .. })),
        "{result:?}"
    );
    assert_eq!(approval.forced_renewals(), 1);
    assert!(handle.registrations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refusal_is_a_clear_error_and_leaves_nothing_registered() {
    let mut fake = Fake::start().await;
    let (handle, _events, mut conn) = connect(&mut fake, None, Arc::new(FixedApproval::new("ak"))).await;
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::Executions, samsung()).await }
    });
    conn.recv_request().await;
    conn.answer("H0STCNT0", "005930", "1", "OPSP0008", "MAX SUBSCRIBE OVER")
        .await;
    let err = subscribe.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        RealtimeError::Rejected {
            tr_id: "H0STCNT0".into(),
            tr_key: "005930".into(),
            code: "OPSP0008".into(),
            message: "MAX SUBSCRIBE OVER".into(),
        }
    );
    assert!(err.to_string().contains("OPSP0008"));
    assert!(handle.registrations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_ack_times_out_and_the_registration_is_withdrawn() {
    let mut fake = Fake::start().await;
    let mut cfg = config(&fake.url);
    cfg.ack_timeout = Duration::from_millis(300);
    let (handle, _events, mut conn) = connect(&mut fake, Some(cfg), Arc::new(FixedApproval::new("ak"))).await;
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::Executions, samsung()).await }
    });
    let (_, tr_type, ..) = conn.recv_request().await;
    assert_eq!(tr_type, "1");
    assert!(matches!(
        subscribe.await.unwrap(),
        Err(RealtimeError::AckTimeout { .. })
    ));
    // In case KIS registered it after all, the client takes it back.
    let (_, tr_type, tr_id, tr_key) = conn.recv_request().await;
    assert_eq!(
        (tr_type.as_str(), tr_id.as_str(), tr_key.as_str()),
        ("2", "H0STCNT0", "005930")
    );
    assert!(handle.registrations().await.unwrap().is_empty());
}

fn encrypt(plain: &str) -> String {
    type Enc = cbc::Encryptor<aes::Aes256>;
    let key: [u8; 32] = KEY.as_bytes().try_into().unwrap();
    let iv: [u8; 16] = IV.as_bytes().try_into().unwrap();
    let mut buf = plain.as_bytes().to_vec();
    buf.resize(plain.len() + 16, 0);
    let ct = Enc::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(ct)
}

#[tokio::test]
async fn encrypted_notices_are_decrypted_with_the_ack_key() {
    let mut fake = Fake::start().await;
    let (handle, mut events, mut conn) = connect(&mut fake, None, Arc::new(FixedApproval::new("ak"))).await;
    assert!(matches!(
        handle.subscribe_notices(Channel::NoticesVts, "bad id!").await,
        Err(RealtimeError::InvalidHtsId(_))
    ));
    let subscribe = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe_notices(Channel::NoticesVts, "MYHTSID").await }
    });
    let (_, _, tr_id, tr_key) = conn.recv_request().await;
    assert_eq!((tr_id.as_str(), tr_key.as_str()), ("H0STCNI9", "MYHTSID"));
    conn.answer("H0STCNI9", "MYHTSID", "0", "", "SUBSCRIBE SUCCESS")
        .await;
    subscribe.await.unwrap().unwrap();
    let plain =
        "CUST^12345678^0000123^^02^0^00^0^005930^10^71500^093012^0^2^Y^01^10^NAME^^^^^^^삼성전자^71500";
    conn.send(format!("1|H0STCNI9|001|{}", encrypt(plain))).await;
    let RealtimeEvent::Notice(n) = next_event(&mut events).await else {
        panic!("expected a notice")
    };
    assert_eq!((n.kind, n.quantity, n.price), (NoticeKind::Fill, 10, 71500));
    assert_eq!(n.code, samsung());
}

#[tokio::test]
async fn refused_connections_back_off_from_the_floor_without_a_tight_loop() {
    // A port with nothing listening.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = RealtimeConfig::new(format!("ws://{addr}/tryitout"));
    cfg.backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let (handle, mut events) = RealtimeClient::connect(cfg, Arc::new(FixedApproval::new("ak")));
    let mut delays = Vec::new();
    let mut last = tokio::time::Instant::now();
    let mut intervals = Vec::new();
    for _ in 0..4 {
        let RealtimeEvent::ConnectFailed { retry_in, reason } = next_event(&mut events).await else {
            panic!("expected a failed connection")
        };
        assert!(reason.contains("connect"), "{reason}");
        intervals.push(last.elapsed());
        last = tokio::time::Instant::now();
        delays.push(retry_in);
    }
    // Each delay is at least the floor and at least the previous base (exponential growth).
    for (i, d) in delays.iter().enumerate() {
        assert!(*d >= Duration::from_millis(100 << i), "{delays:?}");
    }
    // The attempts really were that far apart.
    for (i, gap) in intervals.iter().enumerate().skip(1) {
        assert!(*gap >= delays[i - 1], "{intervals:?} vs {delays:?}");
    }
    handle.close().await;
}

#[tokio::test]
async fn a_drop_resubscribes_everything_paced_and_reports_the_gap() {
    let mut fake = Fake::start().await;
    let mut cfg = config(&fake.url);
    cfg.request_interval = Duration::from_millis(100);
    let (handle, mut events, mut conn) =
        connect(&mut fake, Some(cfg), Arc::new(FixedApproval::new("ak"))).await;
    let codes: Vec<StockCode> = ["005930", "000660", "035420"]
        .iter()
        .map(|c| StockCode::parse(c).unwrap())
        .collect();
    for code in &codes {
        let subscribe = tokio::spawn({
            let handle = handle.clone();
            let code = *code;
            async move { handle.subscribe(Channel::Executions, code).await }
        });
        let (_, _, tr_id, tr_key) = conn.recv_request().await;
        conn.answer(&tr_id, &tr_key, "0", "OPSP0000", "SUBSCRIBE SUCCESS")
            .await;
        subscribe.await.unwrap().unwrap();
    }

    drop(conn);
    let RealtimeEvent::Disconnected { retry_in, .. } = next_event(&mut events).await else {
        panic!("expected a disconnection")
    };
    assert!(retry_in >= Duration::from_millis(200));
    // Subscribing while disconnected waits for the new session.
    let late = StockCode::parse("000270").unwrap();
    let pending = tokio::spawn({
        let handle = handle.clone();
        async move { handle.subscribe(Channel::OrderBook, late).await }
    });

    let mut conn = fake.accept().await;
    assert_eq!(next_event(&mut events).await, RealtimeEvent::Connected);
    let mut requested = Vec::new();
    let mut arrivals = Vec::new();
    for _ in 0..4 {
        let (_, tr_type, tr_id, tr_key) = conn.recv_request().await;
        arrivals.push(tokio::time::Instant::now());
        assert_eq!(tr_type, "1");
        requested.push(format!("{tr_id}/{tr_key}"));
        conn.answer(&tr_id, &tr_key, "0", "OPSP0000", "SUBSCRIBE SUCCESS")
            .await;
    }
    requested.sort();
    assert_eq!(
        requested,
        [
            "H0STASP0/000270",
            "H0STCNT0/000660",
            "H0STCNT0/005930",
            "H0STCNT0/035420"
        ]
    );
    // Paced, not a burst: four requests at least 100 ms apart.
    assert!(arrivals[3] - arrivals[0] >= Duration::from_millis(250));
    pending.await.unwrap().unwrap();
    let RealtimeEvent::Reconnected { gap } = next_event(&mut events).await else {
        panic!("expected Reconnected")
    };
    assert!(gap >= retry_in, "{gap:?} < {retry_in:?}");
}

#[tokio::test]
async fn a_silent_server_is_replaced() {
    let mut fake = Fake::start().await;
    let mut cfg = config(&fake.url);
    cfg.idle_timeout = Duration::from_millis(300);
    let (_handle, mut events, _conn) =
        connect(&mut fake, Some(cfg), Arc::new(FixedApproval::new("ak"))).await;
    let RealtimeEvent::Disconnected { reason, .. } = next_event(&mut events).await else {
        panic!("expected a disconnection")
    };
    assert!(reason.contains("nothing received"), "{reason}");
    let _second = fake.accept().await;
    assert_eq!(next_event(&mut events).await, RealtimeEvent::Connected);
}

#[tokio::test]
async fn close_ends_the_session_and_the_client() {
    let mut fake = Fake::start().await;
    let (handle, mut events, mut conn) = connect(&mut fake, None, Arc::new(FixedApproval::new("ak"))).await;
    handle.close().await;
    let msg = tokio::time::timeout(WAIT, conn.0.next()).await.unwrap();
    assert!(matches!(msg, Some(Ok(Message::Close(_))) | None), "{msg:?}");
    assert_eq!(
        handle.subscribe(Channel::Executions, samsung()).await,
        Err(RealtimeError::Closed)
    );
    assert!(events.recv().await.is_none());
}

#[tokio::test]
async fn unsubscribing_before_the_ack_withdraws_the_subscription() {
    let mut fake = Fake::start().await;
    let (handle, _events, mut conn) = connect(&mut fake, None, Arc::new(FixedApproval::new("ak"))).await;
    for accepted in [true, false] {
        let subscribe = tokio::spawn({
            let handle = handle.clone();
            async move { handle.subscribe(Channel::Executions, samsung()).await }
        });
        let (_, tr_type, ..) = conn.recv_request().await;
        assert_eq!(tr_type, "1");
        let unsubscribe = tokio::spawn({
            let handle = handle.clone();
            async move { handle.unsubscribe(Channel::Executions, samsung()).await }
        });
        assert!(matches!(
            subscribe.await.unwrap(),
            Err(RealtimeError::Withdrawn { .. })
        ));
        if accepted {
            // KIS registered it: the client takes it back, and unsubscribe returns after that ack.
            conn.answer("H0STCNT0", "005930", "0", "OPSP0000", "SUBSCRIBE SUCCESS")
                .await;
            let (_, tr_type, ..) = conn.recv_request().await;
            assert_eq!(tr_type, "2");
            assert!(!unsubscribe.is_finished());
            conn.answer("H0STCNT0", "005930", "0", "OPSP0001", "UNSUBSCRIBE SUCCESS")
                .await;
        } else {
            // KIS refused it: there is nothing to take back.
            conn.answer("H0STCNT0", "005930", "1", "OPSP0007", "internal error")
                .await;
        }
        unsubscribe.await.unwrap().unwrap();
        assert!(handle.registrations().await.unwrap().is_empty());
    }
}
