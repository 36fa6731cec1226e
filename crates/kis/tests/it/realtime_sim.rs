//! The realtime client against the simulator's WebSocket server (real sockets on 127.0.0.1:0).

use std::sync::Arc;
use std::time::Duration;

use kis::realtime::{
    ApprovalError, ApprovalFuture, ApprovalSource, Backoff, Channel, Execution, RealtimeClient,
    RealtimeConfig, RealtimeError, RealtimeEvent, RealtimeHandle,
};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
use market::StockCode;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

/// Fetches approval keys from the simulator's `POST /oauth2/Approval`.
struct SimApproval {
    url: String,
    app_key: String,
    app_secret: String,
    http: reqwest::Client,
}

impl ApprovalSource for SimApproval {
    fn approval_key(&self, _force_new: bool) -> ApprovalFuture<'_> {
        Box::pin(async move {
            let body = serde_json::json!({
                "grant_type": "client_credentials",
                "appkey": self.app_key,
                "secretkey": self.app_secret,
            });
            let response = self
                .http
                .post(format!("{}/oauth2/Approval", self.url))
                .json(&body)
                .send()
                .await
                .map_err(|e| ApprovalError(e.to_string()))?;
            let value: serde_json::Value = response.json().await.map_err(|e| ApprovalError(e.to_string()))?;
            value["approval_key"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| ApprovalError(format!("no approval_key in {value}")))
        })
    }
}

struct Harness {
    sim: SimServer,
    handle: RealtimeHandle,
    events: mpsc::Receiver<RealtimeEvent>,
    codes: Vec<StockCode>,
}

async fn start(speed: f64) -> Harness {
    let sim = SimServer::start(
        SimConfig {
            control: true,
            speed,
            // Longer than any test here: a loaded machine that answers a PINGPONG late must not end
            // a session mid-test. The PINGPONG exchange has its own test, in paused time.
            ping_interval: Duration::from_secs(60),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let (app_key, app_secret) = demo_credentials(Profile::Real, 0);
    let approval = Arc::new(SimApproval {
        url: sim.rest_url(),
        app_key,
        app_secret,
        http: reqwest::Client::new(),
    });
    let mut config = RealtimeConfig::new(format!("{}/tryitout", sim.ws_url()));
    config.backoff = Backoff::new(Duration::from_millis(300), Duration::from_secs(2));
    config.request_interval = Duration::from_millis(2);
    config.ack_timeout = Duration::from_secs(5);
    let (handle, mut events) = RealtimeClient::connect(config, approval);
    expect(&mut events, |e| matches!(e, RealtimeEvent::Connected)).await;
    let codes = sim.market().stocks().iter().map(|s| s.code).collect();
    Harness {
        sim,
        handle,
        events,
        codes,
    }
}

/// Waits for the first event matching `want`, returning it.
async fn expect(
    events: &mut mpsc::Receiver<RealtimeEvent>,
    want: impl Fn(&RealtimeEvent) -> bool,
) -> RealtimeEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.expect("event channel closed");
            assert!(
                !matches!(event, RealtimeEvent::Malformed(_)),
                "malformed: {event:?}"
            );
            if want(&event) {
                return event;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

/// Waits until every code has produced an execution.
async fn executions_for_all(events: &mut mpsc::Receiver<RealtimeEvent>, codes: &[StockCode]) {
    let mut missing: Vec<StockCode> = codes.to_vec();
    while !missing.is_empty() {
        if let RealtimeEvent::Execution(e) =
            expect(events, |e| matches!(e, RealtimeEvent::Execution(_))).await
        {
            missing.retain(|c| *c != e.code);
        }
    }
}

/// In tokio's paused time, against a simulator that sends PINGPONG every 300 ms and drops a session
/// that leaves one unanswered: ten virtual seconds (some thirty PINGPONGs) later the client still has
/// its one session and never saw a drop.
#[tokio::test(start_paused = true)]
async fn pingpong_keeps_the_session_alive() {
    let sim = SimServer::start(
        SimConfig {
            ping_interval: Duration::from_millis(300),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let (app_key, app_secret) = demo_credentials(Profile::Real, 0);
    let approval = Arc::new(SimApproval {
        url: sim.rest_url(),
        app_key,
        app_secret,
        http: reqwest::Client::new(),
    });
    let config = RealtimeConfig::new(format!("{}/tryitout", sim.ws_url()));
    let (handle, mut events) = RealtimeClient::connect(config, approval);
    expect(&mut events, |e| matches!(e, RealtimeEvent::Connected)).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(
                event,
                RealtimeEvent::Disconnected { .. } | RealtimeEvent::Connected
            ),
            "{event:?}"
        );
    }
    assert_eq!(sim.stats().ws_sessions, 1);
    handle.close().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn subscriptions_deliver_executions_and_order_books() {
    let mut h = start(5.0).await;
    let codes = h.codes[..3].to_vec();
    for code in &codes {
        h.handle.subscribe(Channel::Executions, *code).await.unwrap();
    }
    h.handle.subscribe(Channel::OrderBook, codes[0]).await.unwrap();
    executions_for_all(&mut h.events, &codes).await;
    let RealtimeEvent::OrderBook(book) =
        expect(&mut h.events, |e| matches!(e, RealtimeEvent::OrderBook(_))).await
    else {
        unreachable!()
    };
    assert_eq!(book.code, codes[0]);
    assert!(book.asks[0].price > book.bids[0].price);
    assert_eq!(h.sim.stats().subscriptions, 4);
    h.handle.close().await;
    h.sim.shutdown().await;
}

#[tokio::test]
async fn dropped_sessions_reconnect_and_restore_every_subscription() {
    let mut h = start(5.0).await;
    let codes = h.codes[..4].to_vec();
    for code in &codes {
        h.handle.subscribe(Channel::Executions, *code).await.unwrap();
    }
    h.handle.subscribe(Channel::OrderBook, codes[1]).await.unwrap();
    executions_for_all(&mut h.events, &codes).await;

    let faults = reqwest::Client::new()
        .post(format!("{}/sim/faults", h.sim.rest_url()))
        .json(&serde_json::json!({"drop_ws": true}))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());

    let RealtimeEvent::Disconnected { retry_in, .. } =
        expect(&mut h.events, |e| matches!(e, RealtimeEvent::Disconnected { .. })).await
    else {
        unreachable!()
    };
    assert!(retry_in >= Duration::from_millis(300), "{retry_in:?}");
    expect(&mut h.events, |e| matches!(e, RealtimeEvent::Connected)).await;
    let RealtimeEvent::Reconnected { gap } =
        expect(&mut h.events, |e| matches!(e, RealtimeEvent::Reconnected { .. })).await
    else {
        unreachable!()
    };
    // The gap covers at least the backoff floor.
    assert!(gap >= Duration::from_millis(300), "{gap:?}");
    assert_eq!(h.sim.stats().subscriptions, 5);
    assert_eq!(h.sim.stats().ws_sessions, 1);
    executions_for_all(&mut h.events, &codes).await;
    expect(
        &mut h.events,
        |e| matches!(e, RealtimeEvent::OrderBook(b) if b.code == codes[1]),
    )
    .await;
    h.handle.close().await;
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_42nd_registration_is_refused_before_anything_is_sent() {
    let h = start(1.0).await;
    assert!(
        h.codes.len() >= 21,
        "the simulator lists {} stocks",
        h.codes.len()
    );
    let topics: Vec<(Channel, StockCode)> = h
        .codes
        .iter()
        .flat_map(|c| [(Channel::Executions, *c), (Channel::OrderBook, *c)])
        .take(42)
        .collect();
    for (channel, code) in &topics[..41] {
        h.handle.subscribe(*channel, *code).await.unwrap();
    }
    let (channel, code) = topics[41];
    assert_eq!(
        h.handle.subscribe(channel, code).await,
        Err(RealtimeError::TooManyRegistrations { limit: 41 })
    );
    // Refused locally: the server holds exactly 41 and never saw a 42nd (it would have answered
    // OPSP0008, which surfaces as `Rejected`).
    assert_eq!(h.sim.stats().subscriptions, 41);
    assert_eq!(h.handle.registrations().await.unwrap().len(), 41);
    // Freeing one makes room again.
    h.handle.unsubscribe(topics[0].0, topics[0].1).await.unwrap();
    h.handle.subscribe(channel, code).await.unwrap();
    assert_eq!(h.sim.stats().subscriptions, 41);
    drop(h.events);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn multi_record_frames_yield_every_record() {
    // At 300× virtual speed several trades fall into each 50 ms poll, so the simulator bunches them
    // into multi-record frames.
    let mut h = start(300.0).await;
    let code = h.codes[0];
    h.handle.subscribe(Channel::Executions, code).await.unwrap();
    let mut trades: Vec<Execution> = Vec::new();
    while trades.len() < 400 {
        if let RealtimeEvent::Execution(e) =
            expect(&mut h.events, |e| matches!(e, RealtimeEvent::Execution(_))).await
        {
            trades.push(e);
        }
    }
    // Unsubscribe while still reading (a full event channel would hold the client up); once the
    // ack is in, every record sent before it has been delivered.
    let unsubscribe = h.handle.unsubscribe(Channel::Executions, code);
    tokio::pin!(unsubscribe);
    loop {
        tokio::select! {
            biased;
            done = &mut unsubscribe => {
                done.unwrap();
                break;
            }
            Some(event) = h.events.recv() => {
                if let RealtimeEvent::Execution(e) = event {
                    trades.push(e);
                }
            }
        }
    }
    while let Ok(event) = h.events.try_recv() {
        if let RealtimeEvent::Execution(e) = event {
            trades.push(e);
        }
    }
    // Every trade's volume adds up to the next accumulated volume: no record is missing.
    for pair in trades.windows(2) {
        assert_eq!(
            pair[1].acc_volume,
            pair[0].acc_volume + pair[1].volume,
            "gap between {:?} and {:?}",
            pair[0].time,
            pair[1].time
        );
    }
    // And the client delivered exactly as many records as the simulator sent.
    assert_eq!(h.sim.stats().ws_records, trades.len() as u64);
    h.sim.shutdown().await;
}
