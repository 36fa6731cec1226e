//! Today's intraday chart is the live feed's bars (issue: "the chart always shows the newest
//! candle"): against kiswatch in demo on port 0, `GET /candles?period=1m` is never behind the last
//! trade, and today's closed minutes equal the simulator's own minute chart, with no minute missing —
//! for a watched stock and for one whose page was just opened.
//!
//! Waiting is on observable effects (the service's market time, the simulator's counters), never on
//! a fixed sleep.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{TestApp, eventually, registered, watching};
use futures_util::SinkExt as _;
use jiff::civil::DateTime;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn parse_time(v: &Value) -> DateTime {
    let s = v.as_str().unwrap();
    s[..19].parse().unwrap()
}

/// The market time the service knows.
async fn market_now(t: &TestApp) -> Option<DateTime> {
    let (_, h) = t.get("/api/v1/health").await;
    h["market"]["now"].as_str().map(|s| s[..19].parse().unwrap())
}

/// Waits until the service's market time is `n` minutes past 09:30.
async fn minutes_after_half_past_nine(t: &TestApp, n: i8) {
    eventually(Duration::from_secs(15), "market minutes to pass", || async {
        market_now(t)
            .await
            .filter(|now| now.time() >= jiff::civil::Time::constant(9, 30 + n, 0, 0))
    })
    .await;
}

/// Today's 1-minute chart from the API, and the simulator's own bars of today up to `now`.
async fn chart_and_truth(
    t: &TestApp,
    code: &str,
) -> (
    Vec<Value>,
    BTreeMap<DateTime, (i64, i64, i64, i64, u64)>,
    DateTime,
) {
    let (status, body) = t
        .get(&format!("/api/v1/stocks/{code}/candles?period=1m&count=2000"))
        .await;
    assert_eq!(status, 200, "{body}");
    let now = market_now(t).await.unwrap();
    let candles: Vec<Value> = body["candles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| parse_time(&c["time"]).date() == now.date())
        .cloned()
        .collect();
    let sim = t.app.sim().unwrap().market();
    let code = market::StockCode::parse(code).unwrap();
    let truth = sim
        .minute_bars(&code, now.date(), now.time())
        .into_iter()
        .map(|b| {
            (
                b.date.to_datetime(b.time),
                (b.open, b.high, b.low, b.close, b.volume),
            )
        })
        .collect();
    (candles, truth, now)
}

/// Every closed minute of the chart equals the simulator's, and the chart has every minute the
/// simulator has up to its last closed one.
fn assert_matches(candles: &[Value], truth: &BTreeMap<DateTime, (i64, i64, i64, i64, u64)>, now: DateTime) {
    let current = kiswatch::live::minute_of(now);
    let closed: Vec<&Value> = candles
        .iter()
        .filter(|c| parse_time(&c["time"]) < current.saturating_sub(jiff::SignedDuration::from_mins(1)))
        .collect();
    assert!(
        closed.len() >= 3,
        "{} closed minutes compared at {now}: {:?}",
        closed.len(),
        candles
            .iter()
            .map(|c| c["time"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );
    for c in &closed {
        let time = parse_time(&c["time"]);
        let ours = (
            c["open"].as_i64().unwrap(),
            c["high"].as_i64().unwrap(),
            c["low"].as_i64().unwrap(),
            c["close"].as_i64().unwrap(),
            c["volume"].as_u64().unwrap(),
        );
        assert_eq!(truth.get(&time), Some(&ours), "the bar of {time}");
    }
    let last_closed = parse_time(&closed.last().unwrap()["time"]);
    let first = parse_time(&closed[0]["time"]);
    let expected: Vec<&DateTime> = truth
        .keys()
        .filter(|t| **t >= first && **t <= last_closed)
        .collect();
    assert_eq!(
        closed.len(),
        expected.len(),
        "no minute missing between {first} and {last_closed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_stocks_chart_is_the_live_bars_and_equals_the_simulators() {
    let (t, codes) = watching(1, 60.0).await;
    registered(&t, 1).await;
    let code = codes[0].to_string();
    // A few market minutes of live bars (60 virtual seconds per real second) after 09:30, where
    // `watching` put the simulator's clock.
    minutes_after_half_past_nine(&t, 5).await;
    let (candles, truth, now) = chart_and_truth(&t, &code).await;
    assert_matches(&candles, &truth, now);
    // Never behind the last trade: the newest bar is the minute of the market's latest trade (or
    // the one before, if the answer was read just as a minute turned).
    let last = parse_time(&candles.last().unwrap()["time"]);
    let current = kiswatch::live::minute_of(now);
    assert!(
        last >= current.saturating_sub(jiff::SignedDuration::from_mins(1)),
        "newest {last}, market {now}"
    );
    let (_, s) = t.get("/sim/stats").await;
    assert_eq!(s["rate_limited"], 0, "{s}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_opened_on_an_unwatched_stock_gets_every_minute_of_today() {
    let (t, codes) = watching(1, 60.0).await;
    registered(&t, 1).await;
    let (_, stocks) = t.get("/sim/stocks").await;
    let other = stocks
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .find(|c| *c != codes[0].to_string())
        .unwrap();
    // Open the page as the browser does: a WebSocket subscription to its order book and executions.
    let url = format!("{}/api/v1/ws", t.url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    ws.send(Message::text(
        json!({"op": "subscribe", "codes": [other], "channels": ["orderbook", "executions", "tick", "candle:1m"]})
            .to_string(),
    ))
    .await
    .unwrap();
    // The first answer comes from upstream (nothing live yet) ...
    let (status, body) = t
        .get(&format!("/api/v1/stocks/{other}/candles?period=1m&count=50"))
        .await;
    assert_eq!(status, 200, "{body}");
    // Its executions and order book registered beside the watched stock's executions.
    eventually(Duration::from_secs(9), "the page's registrations", || async {
        let (_, s) = t.get("/sim/stats").await;
        let (_, h) = t.get("/api/v1/health").await;
        (s["subscriptions"] == 3 && h["live"]["feed"]["realtime"] == 2).then_some(())
    })
    .await;
    // ... then the page's stock is live; after a few market minutes its chart is whole.
    minutes_after_half_past_nine(&t, 5).await;
    let (candles, truth, now) = chart_and_truth(&t, &other).await;
    assert_matches(&candles, &truth, now);
    let (_, s) = t.get("/sim/stats").await;
    assert_eq!(s["rate_limited"], 0, "{s}");
    drop(ws);
    t.stop().await;
}
