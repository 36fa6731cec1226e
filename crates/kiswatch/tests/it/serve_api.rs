//! `kiswatch serve`'s HTTP API against the embedded simulator: every endpoint's shape (numbers as
//! JSON numbers, KST times, names beside codes), and the errors a user can cause.

use crate::common;

use common::{error_code, is_kst, spawn_demo};
use serde_json::{Value, json};

#[tokio::test]
async fn a_stock_its_price_order_book_executions_and_snapshot() {
    let t = spawn_demo(false).await;
    let (status, s) = t.get("/api/v1/stocks/005930").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["name"], "삼성전자");
    assert_eq!(s["market"], "KOSPI");
    assert!(["realtime", "polled", "stale"].contains(&s["status"].as_str().unwrap()));

    let (status, p) = t.get("/api/v1/stocks/005930/price").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["code"], "005930");
    assert_eq!(p["name"], "삼성전자");
    assert!(p["price"].as_i64().unwrap() > 0);
    assert!(
        p["change_rate"].is_number(),
        "a number, not a decimal string: {p}"
    );
    assert!(p["volume"].is_u64());
    assert!(p["upper_limit"].as_i64() > p["lower_limit"].as_i64());

    let (status, b) = t.get("/api/v1/stocks/005930/orderbook").await;
    assert_eq!(status, 200, "{b}");
    let asks = b["asks"].as_array().unwrap();
    let bids = b["bids"].as_array().unwrap();
    assert_eq!((asks.len(), bids.len()), (10, 10));
    assert!(
        asks[0]["price"].as_i64() > bids[0]["price"].as_i64(),
        "best ask above best bid"
    );
    assert!(is_kst(&b["time"]), "{}", b["time"]);

    let (status, e) = t.get("/api/v1/stocks/005930/executions").await;
    assert_eq!(status, 200, "{e}");
    let list = e["executions"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list[0]["price"].is_i64() && list[0]["strength"].is_number() && is_kst(&list[0]["time"]));

    let (status, snap) = t.get("/api/v1/stocks/000660/snapshot").await;
    assert_eq!(status, 200, "{snap}");
    assert_eq!(snap["name"], "SK하이닉스");
    assert!(snap["price"]["price"].is_i64());
    assert_eq!(snap["orderbook"]["asks"].as_array().unwrap().len(), 10);
    assert!(snap["executions"].as_array().is_some_and(|e| !e.is_empty()));
    t.stop().await;
}

#[tokio::test]
async fn bad_and_unknown_codes_are_400_and_404_with_both_languages() {
    let t = spawn_demo(false).await;
    for bad in ["12345", "00593a", "0059300"] {
        let (status, e) = t.get(&format!("/api/v1/stocks/{bad}/price")).await;
        assert_eq!(status, 400, "{bad}: {e}");
        assert_eq!(error_code(&e), "invalid_code");
        assert!(e["error"]["message"].as_str().unwrap().contains(bad));
        assert!(e["error"]["message_ko"].as_str().unwrap().contains("종목코드"));
    }
    let (status, e) = t.get("/api/v1/stocks/999990/snapshot").await;
    assert_eq!(status, 404, "{e}");
    assert_eq!(error_code(&e), "not_found");
    let (status, e) = t.get("/api/v1/nothing-here").await;
    assert_eq!((status, error_code(&e)), (404, "not_found"));
    t.stop().await;
}

fn check_candles(c: &Value, period: &str, count: usize) {
    assert_eq!(c["period"], period);
    assert_eq!(c["name"], "삼성전자");
    let bars = c["candles"].as_array().unwrap();
    assert_eq!(bars.len(), count, "{c}");
    let mut last = String::new();
    for b in bars {
        let time = b["time"].as_str().unwrap().to_string();
        assert!(time > last, "oldest first: {time} after {last}");
        assert!(is_kst(&b["time"]));
        last = time;
        for f in ["open", "high", "low", "close", "volume"] {
            assert!(b[f].is_i64() || b[f].is_u64(), "{f} is a number: {b}");
        }
        assert!(b["low"].as_i64() <= b["close"].as_i64() && b["close"].as_i64() <= b["high"].as_i64());
        for k in ["20", "60", "120", "240"] {
            assert!(b["ma"][k].is_number() || b["ma"][k].is_null(), "ma {k}: {b}");
        }
    }
    assert_eq!(c["history"]["need"], 240);
}

#[tokio::test]
async fn candles_with_averages_oldest_first() {
    let t = spawn_demo(false).await;
    let (status, c) = t.get("/api/v1/stocks/005930/candles?period=D&count=30").await;
    assert_eq!(status, 200, "{c}");
    check_candles(&c, "D", 30);
    // Daily history is fetched for MA240: the last bar has every average and an alignment.
    let last = c["candles"].as_array().unwrap().last().unwrap().clone();
    assert!(last["ma"]["240"].is_number(), "{last}");
    assert!(["bullish", "bearish", "mixed"].contains(&c["alignment"].as_str().unwrap()));
    // MA20 of the last bar is the mean of the last 20 closes.
    let (_, c20) = t.get("/api/v1/stocks/005930/candles?period=D&count=20").await;
    let closes: Vec<i64> = c20["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["close"].as_i64().unwrap())
        .collect();
    let mean = closes.iter().sum::<i64>() as f64 / 20.0;
    assert!((c20["candles"][19]["ma"]["20"].as_f64().unwrap() - mean).abs() < 1e-6);

    let (status, w) = t.get("/api/v1/stocks/005930/candles?period=W&count=5").await;
    assert_eq!(status, 200, "{w}");
    check_candles(&w, "W", 5);

    // Intraday: today's minutes (the open clock starts at 09:00, so at least the first one).
    let (status, m) = t.get("/api/v1/stocks/005930/candles?period=1m&count=1").await;
    assert_eq!(status, 200, "{m}");
    check_candles(&m, "1m", 1);

    for (query, code) in [
        ("period=2m", "invalid_period"),
        ("period=D&count=0", "invalid_count"),
        ("period=D&count=abc", "invalid_count"),
        ("period=D&count=100000", "invalid_count"),
    ] {
        let (status, e) = t.get(&format!("/api/v1/stocks/005930/candles?{query}")).await;
        assert_eq!((status, error_code(&e)), (400, code), "{query}: {e}");
    }
    t.stop().await;
}

#[tokio::test]
async fn the_watchlist_keeps_order_and_names() {
    let t = spawn_demo(false).await;
    let (status, l) = t.get("/api/v1/watchlist").await;
    assert_eq!((status, l), (200, json!([])));
    for code in ["005930", "000660", "035420"] {
        let (status, r) = t.post("/api/v1/watchlist", json!({"code": code})).await;
        assert_eq!(status, 201, "{r}");
        assert!(r["name"].as_str().is_some_and(|n| !n.is_empty()));
    }
    let (status, _) = t.post("/api/v1/watchlist", json!({"code": "005930"})).await;
    assert_eq!(status, 200, "a second add is not an error and changes nothing");
    let (status, l) = t
        .put(
            "/api/v1/watchlist",
            json!({"codes": ["035420", "005930", "000660"]}),
        )
        .await;
    assert_eq!(status, 200, "{l}");
    let codes: Vec<&str> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["035420", "005930", "000660"]);
    assert_eq!(l[0]["name"], "NAVER");
    let (status, e) = t.put("/api/v1/watchlist", json!({"codes": ["035420"]})).await;
    assert_eq!((status, error_code(&e)), (400, "invalid_order"));
    let (status, e) = t.post("/api/v1/watchlist", json!({"code": "999990"})).await;
    assert_eq!(status, 404, "{e}");
    let (status, e) = t.post("/api/v1/watchlist", json!({"cod": "005930"})).await;
    assert_eq!((status, error_code(&e)), (400, "invalid_body"));
    let (status, _) = t.delete("/api/v1/watchlist/005930").await;
    assert_eq!(status, 204);
    let (status, e) = t.delete("/api/v1/watchlist/005930").await;
    assert_eq!((status, error_code(&e)), (404, "not_found"));
    let (_, l) = t.get("/api/v1/watchlist").await;
    assert_eq!(l.as_array().unwrap().len(), 2);
    t.stop().await;
}

#[tokio::test]
async fn conditions_are_checked_and_a_bad_one_is_422_with_its_position() {
    let t = spawn_demo(false).await;
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"name": "정배열", "expr": "30m: 정배열", "cooldown_secs": 600, "webhook": "https://hooks.example.com/kiswatch"}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["period"], "30m");
    assert_eq!(c["enabled"], true);
    assert_eq!(c["mode"], "every_tick");
    let id = c["id"].as_u64().unwrap();

    let bad = "30m: ma(20) > and";
    let (status, e) = t.post("/api/v1/conditions", json!({"expr": bad})).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(error_code(&e), "invalid_condition");
    // The position of `and`, where a value was expected: what the condition parser says.
    let position = market::Condition::parse(bad).unwrap_err().position;
    assert_eq!(position, bad.find("and").unwrap());
    assert_eq!(e["error"]["position"], position);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("at character {}", position + 1)),
        "messages count characters from 1: {e}"
    );
    assert!(
        e["error"]["message_ko"]
            .as_str()
            .unwrap()
            .contains(&format!("{}번째 글자", position + 1))
    );
    let (_, l) = t.get("/api/v1/conditions").await;
    assert_eq!(l.as_array().unwrap().len(), 1, "nothing stored for the bad one");
    let (status, e) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "D: close > 1", "mode": "sometimes"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (400, "invalid_mode"));
    let (status, e) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "D: close > 1", "webhook": "ftp://x"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (400, "invalid_webhook"));

    let (status, c) = t
        .put(
            &format!("/api/v1/conditions/{id}"),
            json!({"expr": "5m: 골든크로스", "enabled": false, "mode": "on_close"}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        (c["period"].as_str(), c["enabled"].as_bool(), c["mode"].as_str()),
        (Some("5m"), Some(false), Some("on_close"))
    );
    assert_eq!(
        c["name"], "5m: 골든크로스",
        "an empty name becomes the expression"
    );
    let (status, l) = t.get("/api/v1/conditions").await;
    assert_eq!((status, l.as_array().unwrap().len()), (200, 1));
    let (status, e) = t
        .put("/api/v1/conditions/999", json!({"expr": "D: close > 1"}))
        .await;
    assert_eq!((status, error_code(&e)), (404, "not_found"));
    let (status, _) = t.delete(&format!("/api/v1/conditions/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = t.get(&format!("/api/v1/conditions/{id}")).await;
    assert_eq!(status, 404);
    t.stop().await;
}

#[tokio::test]
async fn a_condition_has_a_scope_and_the_market_takes_daily_periods_and_filters() {
    let t = spawn_demo(false).await;
    let (status, c) = t.post("/api/v1/conditions", json!({"expr": "D: 정배열"})).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(
        (c["scope"].as_str(), c["filters"].is_null()),
        (Some("watchlist"), true)
    );

    let filters = json!({"markets": ["KOSDAQ"], "exclude": ["etf", "spac", "halted"], "min_price": 1000, "min_turnover": 1_000_000_000u64});
    let (status, c) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "D: 정배열 and volume > 2 * avg(volume, 20)", "scope": "market", "filters": filters}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["scope"], "market");
    assert_eq!(c["filters"], filters);
    let id = c["id"].as_u64().unwrap();
    let (_, again) = t.get(&format!("/api/v1/conditions/{id}")).await;
    assert_eq!(again, c, "scope and filters are stored");

    // Minute bars for the whole market cannot be had: refused, saying why, nothing stored.
    let (status, e) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "5m: 골든크로스", "scope": "market"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (400, "intraday_market_scope"), "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("20 requests a second") && message.contains("watchlist"),
        "{message}"
    );
    let (status, e) = t
        .put(
            &format!("/api/v1/conditions/{id}"),
            json!({"expr": "30m: close > 1", "scope": "market"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (400, "intraday_market_scope"), "{e}");
    for (body, code) in [
        (
            json!({"expr": "D: close > 1", "scope": "everything"}),
            "invalid_scope",
        ),
        (json!({"expr": "D: close > 1", "filters": {}}), "invalid_filters"),
        (
            json!({"expr": "D: close > 1", "scope": "market", "filters": {"markets": ["NYSE"]}}),
            "invalid_filters",
        ),
    ] {
        let (status, e) = t.post("/api/v1/conditions", body).await;
        assert_eq!((status, error_code(&e)), (400, code), "{e}");
    }
    let (status, e) = t
        .post(
            "/api/v1/conditions",
            json!({"expr": "D: close > 1", "scope": "market", "filters": {"exclude": ["penny"]}}),
        )
        .await;
    assert!(
        status == 400 || status == 422,
        "an unknown exclusion is refused: {status} {e}"
    );

    // A PUT that leaves the scope out keeps it: an intraday expression is still refused there.
    let (status, e) = t
        .put(
            &format!("/api/v1/conditions/{id}"),
            json!({"expr": "5m: 골든크로스"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (400, "intraday_market_scope"), "{e}");
    // Back to the watchlist, said so: the filters go.
    let (status, c) = t
        .put(
            &format!("/api/v1/conditions/{id}"),
            json!({"expr": "5m: 골든크로스", "scope": "watchlist"}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        (c["scope"].as_str(), c["filters"].is_null()),
        (Some("watchlist"), true)
    );
    let (_, l) = t.get("/api/v1/conditions").await;
    assert_eq!(l.as_array().unwrap().len(), 2);
    t.stop().await;
}

#[tokio::test]
async fn triggers_search_health_the_simulator_and_the_ui() {
    let t = spawn_demo(false).await;
    let (status, l) = t.get("/api/v1/triggers?limit=5").await;
    assert_eq!((status, l), (200, json!([])));
    let (status, e) = t.get("/api/v1/triggers?after=abc").await;
    assert_eq!((status, error_code(&e)), (400, "invalid_parameter"));
    let (status, e) = t.post("/api/v1/triggers/7/ack", json!({})).await;
    assert_eq!((status, error_code(&e)), (404, "not_found"));

    let (status, hits) = t.get("/api/v1/stocks/search?q=삼성&limit=5").await;
    assert_eq!(status, 200, "{hits}");
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5);
    assert!(
        hits.iter()
            .all(|h| h["name"].as_str().unwrap().contains("삼성") && h["market"].is_string())
    );
    let (_, hits) = t.get("/api/v1/stocks/search?q=ㅅㅅㅈㅈ").await;
    assert_eq!(hits[0]["code"], "005930");
    let (status, e) = t.get("/api/v1/stocks/search?q=").await;
    assert_eq!((status, error_code(&e)), (400, "invalid_query"));
    let long = "가".repeat(200);
    let (status, _) = t.get(&format!("/api/v1/stocks/search?q={long}")).await;
    assert_eq!(status, 400);

    let (status, h) = t.get("/api/v1/health").await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["upstream"]["kind"], "demo");
    let governor = &h["governor"][0];
    assert_eq!(governor["slots"], 20);
    assert_eq!(governor["effective_rate"], 20);
    assert_eq!(governor["rate_limited_seen"], 0);
    let key = governor["key_fingerprint"].as_str().unwrap();
    assert!(
        key.len() == 8 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "the key's fingerprint, never the key: {h}"
    );
    assert_eq!(h["governor"].as_array().unwrap().len(), 1, "one app key");

    let (status, s) = t.get("/sim/stats").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["rate_limited"], 0);
    let (status, stocks) = t.get("/sim/stocks").await;
    assert!(status == 200 && stocks.as_array().unwrap().len() >= 50);

    for page in ["/", "/stocks/005930", "/conditions"] {
        let r = t.get_full(page).await;
        assert_eq!(r.status().as_u16(), 200, "{page}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{page}: {ct}");
    }
    let (status, e) = t.get("/no/such/page").await;
    assert_eq!((status, error_code(&e)), (404, "not_found"));
    if kiswatch::web::is_built() {
        // Vite's fingerprinted assets are cached for good; the page itself is revalidated.
        let page = t.get_full("/").await;
        assert_eq!(page.headers()["cache-control"], "no-cache");
        let html = page.text().await.unwrap();
        let asset = html
            .split('"')
            .find(|s| s.starts_with("/assets/"))
            .expect("the built page links an asset");
        let r = t.get_full(asset).await;
        assert_eq!(r.status().as_u16(), 200, "{asset}");
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn a_token_guards_the_api_but_not_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(
        dir.path(),
        kiswatch::config::UpstreamConfig::Demo { seed: 42, speed: 1.0 },
        false,
    );
    cfg.token = Some("a-test-token-of-some-length".into());
    let t = common::spawn_with(cfg, dir).await;
    let (status, e) = t.get("/api/v1/health").await;
    assert_eq!((status, error_code(&e)), (401, "unauthorized"));
    let (status, _) = t.get("/sim/stats").await;
    assert_eq!(status, 401);
    assert_eq!(t.get_full("/metrics").await.status().as_u16(), 401);
    let r = t
        .http
        .get(format!("{}/api/v1/health", t.url))
        .bearer_auth("a-test-token-of-some-length")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = t
        .http
        .get(format!("{}/api/v1/health", t.url))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(t.get_full("/").await.status().as_u16(), 200);
    t.stop().await;
}

#[tokio::test]
async fn a_backtest_runs_a_condition_over_daily_history() {
    let t = spawn_demo(false).await;
    let (status, r) = t
        .post(
            "/api/v1/backtest",
            json!({"code": "005930", "condition": "D: cross_up(close, ma(20))", "from": "2025-06-01"}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["name"].as_str(), r["period"].as_str()),
        (Some("삼성전자"), Some("D"))
    );
    assert!(r["bars"].as_u64().unwrap() > 100);
    assert!(r["from"].as_str().unwrap() >= "2025-06-01");
    let signals = r["signals"].as_array().unwrap();
    assert_eq!(r["summary"]["count"].as_u64().unwrap() as usize, signals.len());
    assert!(
        !signals.is_empty(),
        "a close crossing its MA20 happens within months: {r}"
    );
    // Each signal is a bar where the close crossed above MA20: the close is at or above it.
    for s in signals {
        assert!(
            s["close"].as_f64().unwrap() >= s["values"]["ma(20)"].as_f64().unwrap(),
            "{s}"
        );
        assert!(is_kst(&s["time"]));
    }
    let horizons = r["summary"]["horizons"].as_array().unwrap();
    assert_eq!(
        horizons
            .iter()
            .map(|h| h["bars"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 5, 20]
    );
    let (status, e) = t
        .post(
            "/api/v1/backtest",
            json!({"code": "005930", "condition": "D: ma(20) >"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (422, "invalid_condition"));
    assert!(e["error"]["position"].is_u64());
    let (status, e) = t
        .post(
            "/api/v1/backtest",
            json!({"code": "005930", "condition": "D: 정배열", "from": "yesterday"}),
        )
        .await;
    assert_eq!((status, error_code(&e)), (400, "invalid_date"));
    t.stop().await;
}

#[tokio::test]
async fn metrics_in_prometheus_text() {
    let t = spawn_demo(false).await;
    let before = t.get_full("/metrics").await.text().await.unwrap();
    let calls = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("kiswatch_upstream_calls_total{kind=\"price\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (status, _) = t.get("/api/v1/stocks/005930/price").await;
    assert_eq!(status, 200);
    t.get("/api/v1/stocks/005930/price").await;
    let r = t.get_full("/metrics").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert_eq!(
        calls(&text),
        calls(&before) + 1,
        "the second price came from the cache: {text}"
    );
    let (_, h) = t.get("/api/v1/health").await;
    let key = h["governor"][0]["key_fingerprint"].as_str().unwrap().to_owned();
    for name in [
        format!("kiswatch_governor_slots{{key=\"{key}\"}} 20"),
        format!("kiswatch_governor_effective_rate{{key=\"{key}\"}} 20"),
        format!("kiswatch_governor_queued{{key=\"{key}\",priority=\"interactive\"}}"),
        "kiswatch_cache_hits_total".to_owned(),
        format!("kiswatch_governor_rate_limited_seen_total{{key=\"{key}\"}} 0"),
        "kiswatch_triggers_fired_total 0".to_owned(),
        "kiswatch_backfill_calls_left".to_owned(),
    ] {
        assert!(text.contains(&name), "{name} missing from:\n{text}");
    }
    t.stop().await;
}
