//! 조건검색 over the whole market, against the demo's simulator (2,565 listings): a market-scope
//! condition is swept and backfilled in the background, its result set and 편입 events are answered
//! over HTTP and pushed on the WebSocket's `scan:<id>` channel (and replayed on a `resume`) and to the
//! condition's alert channels; against a fast simulator of its own, the result set equals a
//! recomputation from the simulator's bars, a steered stock enters and leaves once, and a restart keeps
//! the result set and the history. (The demo's day starts over with each process, and its scans' with
//! it: a restart there is tested on the simulator.)

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use kiswatch::config::UpstreamConfig;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{self, TestApp, config, error_code, eventually, spawn_demo, spawn_with};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(t: &TestApp) -> Socket {
    let url = format!("{}/api/v1/ws", t.url.replacen("http", "ws", 1));
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn send(ws: &mut Socket, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next message of `kind` (others skipped), within `limit`.
async fn next_of(ws: &mut Socket, kind: &str, limit: Duration) -> Value {
    tokio::time::timeout(limit, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} message within {limit:?}"))
}

fn codes(matches: &Value) -> BTreeSet<String> {
    matches["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_market_scan_finds_stocks_and_pushes_their_entering() {
    let t = spawn_demo(true).await;
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "코스닥 20일선 위", "expr": "D: close > ma(20)", "scope": "market",
                   "filters": {"markets": ["KOSDAQ"], "exclude": ["etf", "etn", "spac"]}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_u64().unwrap();
    let mut ws = socket(&t).await;
    send(
        &mut ws,
        json!({"op": "subscribe", "channels": [format!("scan:{id}")]}),
    )
    .await;

    // The backfill makes progress (health and the answer say so) and a sweep finds members.
    let found = eventually(Duration::from_secs(120), "members of the scan", || async {
        let (_, m) = t.get(&format!("/api/v1/conditions/{id}/matches")).await;
        (m["as_of"].is_string() && !m["matches"].as_array().unwrap().is_empty()).then_some(m)
    })
    .await;
    assert_eq!(
        (found["condition_id"].as_u64(), found["period"].as_str()),
        (Some(id), Some("D"))
    );
    let universe = found["universe"].as_u64().unwrap();
    assert!(
        (500..2_565).contains(&universe),
        "KOSDAQ less ETFs and SPACs: {universe}"
    );
    assert!(found["evaluated"].as_u64().unwrap() <= universe);
    let progress = &found["progress"];
    assert!(
        progress["stocks_done"].as_u64().unwrap() > 0 && progress["calls_left"].as_u64().unwrap() > 0,
        "{progress}"
    );
    for m in found["matches"].as_array().unwrap() {
        assert_eq!(m["market"], "KOSDAQ", "{m}");
        let (close, ma) = (
            m["price"].as_f64().unwrap(),
            m["values"]["ma(20)"].as_f64().unwrap(),
        );
        assert!(
            m["price"].as_i64().unwrap() > 0 && m["turnover"].as_u64().is_some(),
            "{m}"
        );
        assert!(
            m["values"]["close"].as_f64().unwrap() > ma,
            "what made it true: {m}"
        );
        assert!(close > 0.0 && common::is_kst(&m["since"]), "{m}");
    }
    let (_, health) = t.get("/api/v1/health").await;
    assert_eq!(
        health["scan"]["stocks_total"].as_u64(),
        progress["stocks_total"].as_u64(),
        "{}",
        health["scan"]
    );

    // Live: the sweep and the 편입 events, on the condition's channel.
    let sweep = next_of(&mut ws, "scan_sweep", Duration::from_secs(60)).await;
    assert_eq!(sweep["condition_id"].as_u64(), Some(id));
    let (_, events) = t.get(&format!("/api/v1/conditions/{id}/events?limit=1000")).await;
    let events = events.as_array().unwrap().clone();
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e["condition_id"].as_u64() == Some(id) && e["values"]["ma(20)"].is_number())
    );
    // Per stock, in order: 편입 first, then 이탈 and 편입 by turns (a sweep or three of a slow run may
    // already see a member leave).
    let mut last: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for e in &events {
        let (code, kind) = (e["code"].as_str().unwrap(), e["kind"].as_str().unwrap());
        let expected = if last.get(code) == Some(&"enter") {
            "leave"
        } else {
            "enter"
        };
        assert_eq!(kind, expected, "{code}'s events: {events:?}");
        last.insert(code, kind);
    }
    let entered: BTreeSet<String> = events
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        codes(&found).is_subset(&entered),
        "every member came in by an event"
    );

    // A second browser resumes: the stored events after the id, then it is live.
    let mut late = socket(&t).await;
    send(
        &mut late,
        json!({"op": "subscribe", "channels": [format!("scan:{id}")]}),
    )
    .await;
    let first = events[0]["id"].as_u64().unwrap();
    send(&mut late, json!({"op": "resume", "after_scan_event_id": first})).await;
    let replayed = next_of(&mut late, "scan_event", Duration::from_secs(10)).await;
    assert_eq!(
        replayed["id"].as_u64(),
        events
            .get(1)
            .map_or(replayed["id"].as_u64(), |e| e["id"].as_u64())
    );

    // The scan over the stored history: per day, and what entering earned against the universe.
    let (status, bt) = t.get(&format!("/api/v1/conditions/{id}/backtest")).await;
    assert_eq!(status, 200, "{bt}");
    assert_eq!(
        (bt["universe"].as_u64(), bt["period"].as_str()),
        (Some(universe), Some("D")),
        "{}",
        bt["universe"]
    );
    let stocks = bt["stocks"].as_u64().unwrap();
    assert!(stocks > 0 && stocks <= universe, "{stocks}");
    let days = bt["days"].as_array().unwrap();
    assert!(
        days.len() > 100,
        "about 480 sessions after MA20's first 20: {}",
        days.len()
    );
    assert!(
        days.iter()
            .all(|d| d["matches"].as_u64() <= d["evaluated"].as_u64()
                && d["evaluated"].as_u64().unwrap() <= stocks)
    );
    let entries: u64 = days.iter().map(|d| d["entries"].as_u64().unwrap()).sum();
    assert_eq!(bt["entries"].as_u64(), Some(entries));
    assert_eq!(
        bt["horizons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["bars"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 5, 20]
    );
    assert!(
        bt["horizons"][0]["universe_mean_return"].is_number() && bt["horizons"][0]["mean_return"].is_number(),
        "{}",
        bt["horizons"]
    );
    assert_eq!(bt["short_history"], true, "the backfill is still running");

    // A PUT that leaves the scope out keeps it (and the filters).
    let (status, kept) = t
        .put(
            &format!("/api/v1/conditions/{id}"),
            json!({"expr": "D: close > ma(20)", "name": "코스닥 20일선 위"}),
        )
        .await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(
        (kept["scope"].as_str(), kept["filters"]["markets"][0].as_str()),
        (Some("market"), Some("KOSDAQ")),
        "{kept}"
    );

    // How far the kept history carries a condition: MA20 of days, yes; MA240 of weeks, no.
    assert_eq!(
        (
            found["history"]["enough"].as_bool(),
            found["history"]["bars_needed"].as_u64()
        ),
        (Some(true), Some(21)),
        "{}",
        found["history"]
    );
    let (_, weekly) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "W: close > ma(240)", "scope": "market"}),
        )
        .await;
    let (_, wm) = t
        .get(&format!("/api/v1/conditions/{}/matches", weekly["id"]))
        .await;
    assert_eq!(
        (
            wm["history"]["enough"].as_bool(),
            wm["history"]["sessions_needed"].as_u64()
        ),
        (Some(false), Some(241 * 5)),
        "{}",
        wm["history"]
    );

    // Bad requests get clear errors.
    let (_, w) = t.post("/api/v1/conditions", json!({"expr": "D: 정배열"})).await;
    let (status, e) = t.get(&format!("/api/v1/conditions/{}/matches", w["id"])).await;
    assert_eq!((status, error_code(&e)), (400, "not_market_scope"), "{e}");
    let (status, _) = t.get("/api/v1/conditions/999/matches").await;
    assert_eq!(status, 404);
    let (status, e) = t.get(&format!("/api/v1/conditions/{id}/events?after=x")).await;
    assert_eq!((status, error_code(&e)), (400, "invalid_parameter"), "{e}");

    drop((ws, late));
    t.stop().await;
}

#[tokio::test]
async fn kis_own_scans_answer_with_their_limits_and_say_when_they_are_unavailable() {
    let t = spawn_demo(false).await;
    for kind in ["volume", "turnover", "rise", "fall"] {
        let (status, s) = t.get(&format!("/api/v1/scans/kis/{kind}")).await;
        assert_eq!(status, 200, "{s}");
        assert_eq!(
            (s["available"].as_bool(), s["source"].as_str()),
            (Some(true), Some(kind)),
            "{s}"
        );
        let rows = s["rows"].as_array().unwrap();
        assert!(
            !rows.is_empty() && rows.len() <= 30,
            "{kind}: {} rows",
            rows.len()
        );
        let ranks: Vec<u64> = rows.iter().map(|r| r["rank"].as_u64().unwrap()).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{kind}: by rank {ranks:?}");
        assert!(s["limits_ko"].as_str().unwrap().contains("30"), "{s}");
    }
    let (_, rise) = t.get("/api/v1/scans/kis/rise").await;
    let rates: Vec<f64> = rise["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["change_rate"].as_f64().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "상승률순: {rates:?}");
    let (status, e) = t.get("/api/v1/scans/kis/popular").await;
    assert_eq!((status, error_code(&e)), (400, "invalid_ranking"), "{e}");
    let (status, e) = t.get("/api/v1/scans/hts/abc").await;
    assert_eq!((status, error_code(&e)), (400, "invalid_seq"), "{e}");
    if std::env::var("KIS_HTS_ID").is_err() {
        let (status, h) = t.get("/api/v1/scans/hts").await;
        assert_eq!((status, h["available"].as_bool()), (200, Some(false)), "{h}");
        assert!(h["reason_ko"].as_str().unwrap().contains("KIS_HTS_ID"), "{h}");
    }
    t.stop().await;

    // 모의투자 has none of them: unavailable, not an error.
    let sim = common::simulator(kis_sim::Profile::Vts).await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(
        config(
            dir.path(),
            common::custom(&sim, kiswatch::config::KisProfile::Vts),
            false,
        ),
        dir,
    )
    .await;
    let (status, s) = t.get("/api/v1/scans/kis/volume").await;
    assert_eq!((status, s["available"].as_bool()), (200, Some(false)), "{s}");
    assert!(s["reason_ko"].as_str().unwrap().contains("모의투자"), "{s}");
    t.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_market_scans_entering_reaches_its_alert_channels() {
    use crate::fakes::{Fake, Provider};
    let webhook = Fake::start(Provider::Webhook, None).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = kiswatch::config::ServeConfig {
        outbound: kiswatch::outbound::OutboundPolicy { allow_private: true },
        ..config(dir.path(), UpstreamConfig::Demo { seed: 42, speed: 1.0 }, true)
    };
    let t = spawn_with(cfg, dir).await;
    let (status, ch) = t
        .post(
            "/api/v1/channels",
            json!({"kind": "webhook", "name": "웹훅", "config": {"url": webhook.channel_url()}}),
        )
        .await;
    assert_eq!(status, 201, "{ch}");
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "20일선 위", "expr": "D: close > ma(20)", "scope": "market", "channels": [ch["id"]],
                   "filters": {"markets": ["KOSPI"], "exclude": ["etf", "etn", "spac"]}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_u64().unwrap();
    let delivered = eventually(Duration::from_secs(120), "a 편입 at the webhook", || async {
        webhook.delivered().into_iter().next()
    })
    .await;
    let body = delivered.json();
    assert_eq!(
        (body["type"].as_str(), body["condition_name"].as_str()),
        (Some("scan_event"), Some("20일선 위")),
        "{body}"
    );
    let event = &body["event"];
    assert_eq!(
        (event["kind"].as_str(), event["condition_id"].as_u64()),
        (Some("enter"), Some(id)),
        "{body}"
    );
    let (_, events) = t.get(&format!("/api/v1/conditions/{id}/events?limit=1000")).await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == event["id"] && e["code"] == event["code"]),
        "the delivered event is the stored one: {body}"
    );
    t.stop().await;
}

/// `close > ma(20)` on the simulator's own daily bars (today's forming bar included, as the scan has
/// it): `None` with fewer than 20 bars or no trade today.
fn above_ma20(sim: &kis_sim::SimServer, code: &market::StockCode) -> Option<(bool, i64, i64)> {
    let m = sim.market();
    let today = m.trading_date();
    let bars = m.daily_bars(
        code,
        today.checked_sub(jiff::Span::new().days(60)).unwrap(),
        today,
    );
    let last = bars.last()?;
    if last.date != today || last.volume == 0 || bars.len() < 20 {
        return None;
    }
    let sum: i64 = bars[bars.len() - 20..].iter().map(|b| b.close).sum();
    Some((last.close * 20 > sum, last.close, sum / 20))
}

/// Every `scan_event` of `code` until one of `kind` arrives (within `limit`).
async fn events_until(ws: &mut Socket, code: &str, kind: &str, limit: Duration, seen: &mut Vec<Value>) {
    tokio::time::timeout(limit, async {
        loop {
            let v = next_of(ws, "scan_event", limit).await;
            if v["code"] == code {
                seen.push(v.clone());
                if v["kind"] == kind {
                    return;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} of {code} within {limit:?}: {seen:?}"));
}

#[tokio::test]
async fn the_result_set_is_the_recomputation_and_a_steered_stock_enters_and_leaves_once() {
    use kis_sim::model::{MarketKind, Scenario};
    // A fast simulator (200 requests a second) so the whole KOSPI's history is in within seconds; its
    // clock set to 10:00 and then nearly still, so every sweep sees the same prices unless steered.
    let sim = kis_sim::SimServer::start(
        kis_sim::SimConfig {
            profile: kis_sim::Profile::Real,
            rate: Some(200),
            control: true,
            ..kis_sim::SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    sim.market().advance(3_600);
    sim.market().set_speed(0.001);
    let upstream =
        |sim: &kis_sim::SimServer| match UpstreamConfig::simulator(sim, kiswatch::config::KisProfile::Real) {
            UpstreamConfig::Custom {
                rest_url,
                ws_url,
                profile,
                keys,
                ..
            } => UpstreamConfig::Custom {
                rest_url,
                ws_url,
                profile,
                rate: Some(200),
                keys,
            },
            other => other,
        };
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_with(config(dir.path(), upstream(&sim), true), dir).await;
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "D: close > ma(20)", "scope": "market", "filters": {"markets": ["KOSPI"]}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_u64().unwrap();
    let mut ws = socket(&t).await;
    send(
        &mut ws,
        json!({"op": "subscribe", "channels": [format!("scan:{id}")]}),
    )
    .await;
    eventually(Duration::from_secs(180), "the KOSPI's daily history", || async {
        let (_, m) = t.get(&format!("/api/v1/conditions/{id}/matches")).await;
        (m["progress"]["complete"] == true).then_some(())
    })
    .await;
    let kospi: Vec<market::StockCode> = sim
        .market()
        .stocks()
        .iter()
        .filter(|s| s.market == MarketKind::Kospi)
        .map(|s| s.code)
        .collect();
    // A sweep with every listing's history in: every listing the recomputation can judge is evaluated.
    let judged = kospi.iter().filter(|c| above_ma20(&sim, c).is_some()).count() as u64;
    let m = eventually(
        Duration::from_secs(60),
        "a sweep over the whole history",
        || async {
            let (_, m) = t.get(&format!("/api/v1/conditions/{id}/matches")).await;
            (m["evaluated"].as_u64() >= Some(judged)).then_some(m)
        },
    )
    .await;

    // The result set is exactly the listings whose own bars say close > MA20.
    let expected: BTreeSet<String> = kospi
        .iter()
        .filter(|c| above_ma20(&sim, c).is_some_and(|(holds, _, _)| holds))
        .map(|c| c.to_string())
        .collect();
    assert!(
        expected.len() > 50,
        "{} KOSPI listings above MA20",
        expected.len()
    );
    let got = codes(&m);
    assert_eq!(
        got.symmetric_difference(&expected).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the result set ({}) against the recomputation ({})",
        got.len(),
        expected.len()
    );

    // Steer one listing below its MA20 above it, then back below.
    let (steered, ma) = kospi
        .iter()
        .find_map(|c| match above_ma20(&sim, c) {
            Some((false, close, ma)) if close * 100 > ma * 97 => Some((*c, ma)),
            _ => None,
        })
        .expect("a listing just under its MA20");
    let code = steered.to_string();
    let mut seen = Vec::new();
    sim.market()
        .set_scenario(&steered, Scenario::path(vec![ma * 108 / 100; 5]).unwrap())
        .unwrap();
    sim.market().advance(60);
    events_until(&mut ws, &code, "enter", Duration::from_secs(60), &mut seen).await;
    sim.market()
        .set_scenario(&steered, Scenario::path(vec![ma * 90 / 100; 5]).unwrap())
        .unwrap();
    sim.market().advance(60);
    events_until(&mut ws, &code, "leave", Duration::from_secs(90), &mut seen).await;
    assert_eq!(
        seen.iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["enter", "leave"],
        "{seen:?}"
    );
    let (_, stored) = t.get(&format!("/api/v1/conditions/{id}/events?limit=1000")).await;
    let mine: Vec<&Value> = stored
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == code.as_str())
        .collect();
    assert_eq!(
        mine.iter().map(|e| &e["id"]).collect::<Vec<_>>(),
        seen.iter().map(|e| &e["id"]).collect::<Vec<_>>(),
        "stored once, delivered once"
    );
    assert!(!codes(&t.get(&format!("/api/v1/conditions/{id}/matches")).await.1).contains(&code));

    // A restart keeps the result set and the history: nothing fetched again.
    let before = codes(&t.get(&format!("/api/v1/conditions/{id}/matches")).await.1);
    let dir = t.stop().await;
    let t = spawn_with(config(dir.path(), upstream(&sim), true), dir).await;
    let m = eventually(
        Duration::from_secs(60),
        "the history loaded again from the store",
        || async {
            let (_, m) = t.get(&format!("/api/v1/conditions/{id}/matches")).await;
            (m["progress"]["complete"] == true && m["as_of"].is_string()).then_some(m)
        },
    )
    .await;
    assert_eq!(codes(&m), before);
    let (_, health) = t.get("/api/v1/health").await;
    assert_eq!(
        health["upstream"]["calls"]["daily"], 0,
        "no history fetched again: {}",
        health["upstream"]["calls"]
    );
    assert_eq!(sim.stats().rate_limited, 0, "{:?}", sim.stats());
    t.stop().await;
    sim.shutdown().await;
}
