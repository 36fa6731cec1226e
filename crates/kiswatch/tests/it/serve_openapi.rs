//! The OpenAPI document: served at `/api/openapi.json`, generated from the handlers, covering every
//! endpoint of the contract, and equal to the reviewed snapshot in `tests/snapshots/openapi.json`
//! (after a deliberate API change: `UPDATE_SNAPSHOTS=1 cargo test -p kiswatch --test serve_openapi`).

use crate::common;

use futures_util::{SinkExt as _, StreamExt as _};
use kis::realtime::messages::{Message as Frame, decode_frame};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

#[tokio::test]
async fn the_served_document_covers_the_contract_and_matches_the_snapshot() {
    let t = common::spawn_demo(false).await;
    let (status, served) = t.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    t.stop().await;
    let generated = serde_json::to_value(kiswatch::api::openapi::document()).unwrap();
    assert_eq!(served, generated);
    let paths = served["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/health", "get"),
        ("/api/v1/stocks/search", "get"),
        ("/api/v1/stocks/{code}", "get"),
        ("/api/v1/stocks/{code}/price", "get"),
        ("/api/v1/stocks/{code}/orderbook", "get"),
        ("/api/v1/stocks/{code}/executions", "get"),
        ("/api/v1/stocks/{code}/snapshot", "get"),
        ("/api/v1/stocks/{code}/candles", "get"),
        ("/api/v1/watchlist", "get"),
        ("/api/v1/watchlist", "post"),
        ("/api/v1/watchlist", "put"),
        ("/api/v1/watchlist/{code}", "delete"),
        ("/api/v1/conditions", "get"),
        ("/api/v1/conditions", "post"),
        ("/api/v1/conditions/{id}", "put"),
        ("/api/v1/conditions/{id}", "delete"),
        ("/api/v1/triggers", "get"),
        ("/api/v1/triggers/{id}/ack", "post"),
        ("/api/v1/backtest", "post"),
        ("/api/v1/ws", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids are unique");
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(SNAPSHOT).unwrap()).unwrap();
    assert_eq!(
        served, snapshot,
        "the API changed: review it and run with UPDATE_SNAPSHOTS=1 to accept"
    );
}

/// Every 2xx answer with a body names its schema: a JSON body a `$ref` to a component that exists
/// (so the web UI's generated types cover it), anything else (Prometheus text) a schema of its own;
/// only a 204 has no body. The WebSocket's server messages are components too.
#[test]
fn every_success_answer_has_a_schema() {
    let doc = serde_json::to_value(kiswatch::api::openapi::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let exists = |schema: &Value| {
        let target = schema.get("items").unwrap_or(schema);
        match target.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/components/schemas/")
                .is_some_and(|name| schemas.contains_key(name)),
            None => target.get("type").is_some(),
        }
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    continue;
                }
                let at = format!("{} {path} {status}", method.to_uppercase());
                let content = response.get("content").and_then(Value::as_object);
                match (status.as_str(), content) {
                    ("204", None) => {}
                    ("204", Some(_)) => missing.push(format!("{at}: a 204 with a body")),
                    (_, None) => missing.push(format!("{at}: no body described")),
                    (_, Some(content)) => {
                        for (media, body) in content {
                            checked += 1;
                            if !body.get("schema").is_some_and(exists) {
                                missing.push(format!("{at} ({media}): no schema"));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "answers without a schema:\n{}",
        missing.join("\n")
    );
    assert!(checked >= 20, "{checked} bodies checked");
    for message in [
        "ServerMessage",
        "TickMessage",
        "OrderBookMessage",
        "ExecutionsMessage",
        "CandleMessage",
        "StatusMessage",
        "ErrorMessage",
        "Trigger",
    ] {
        assert!(schemas.contains_key(message), "{message} is not a component");
    }
}

/// Checks a JSON value against a schema of the document: `$ref`, `allOf` (each part), `oneOf`
/// (exactly one), objects (every required property present, no property the schema does not name,
/// each property's own schema; or a map through `additionalProperties`), arrays, enums and the
/// primitive types. Returns where the value and the schema disagree.
fn conform(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return conform(doc, &doc["components"]["schemas"][name], value, at, errors);
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        // Each part names only its own properties: check the whole object's names once, below.
        let names = names(doc, schema);
        for part in parts {
            let mut own = Vec::new();
            conform(doc, part, value, at, &mut own);
            errors.extend(own.into_iter().filter(|e| !e.contains("not in the schema")));
        }
        if let Some(obj) = value.as_object() {
            for k in obj.keys().filter(|k| !names.contains(k)) {
                errors.push(format!("{at}.{k}: not in the schema"));
            }
        }
        return;
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let fits = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                conform(doc, o, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if fits != 1 {
            errors.push(format!("{at}: fits {fits} of oneOf: {value}"));
        }
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} not in {allowed:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let fits = types.iter().any(|t| match *t {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    });
    if !fits {
        errors.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            conform(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema["properties"].as_object();
        for r in schema["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                errors.push(format!("{at}.{r}: required, missing"));
            }
        }
        for (k, v) in obj {
            match (props.and_then(|p| p.get(k)), schema.get("additionalProperties")) {
                (Some(s), _) => conform(doc, s, v, &format!("{at}.{k}"), errors),
                (None, Some(extra)) if extra.is_object() => {
                    conform(doc, extra, v, &format!("{at}.{k}"), errors)
                }
                (None, _) => errors.push(format!("{at}.{k}: not in the schema")),
            }
        }
    }
}

/// The property names of an object schema, through `$ref` and `allOf`.
fn names(doc: &Value, schema: &Value) -> Vec<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return names(
            doc,
            &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        );
    }
    let own = schema["properties"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.keys().cloned());
    let parts = schema["allOf"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| names(doc, p));
    own.chain(parts).collect()
}

/// The service's real answers fit the document: every field the schema requires is there, and
/// nothing is there the schema does not name (so the generated browser types are the truth).
#[tokio::test]
async fn the_real_answers_fit_their_schemas() {
    use reqwest::Method as M;
    let t = common::spawn_demo(false).await;
    let doc = serde_json::to_value(kiswatch::api::openapi::document()).unwrap();
    let condition = json!({"name": "정배열", "expr": "D: 정배열", "mode": "on_close", "webhook": "https://hooks.example.com/kiswatch"});
    let backtest = json!({"code": "005930", "condition": "D: cross_up(close, ma(20))", "from": "2025-06-01"});
    let stock = "/api/v1/stocks/{code}";
    #[rustfmt::skip]
    let calls: Vec<(M, &str, &str, Option<Value>, u16)> = vec![
        (M::POST, "/api/v1/watchlist", "/api/v1/watchlist", Some(json!({"code": "005930"})), 201),
        (M::POST, "/api/v1/watchlist", "/api/v1/watchlist", Some(json!({"code": "005930"})), 200),
        (M::POST, "/api/v1/conditions", "/api/v1/conditions", Some(condition.clone()), 201),
        (M::PUT, "/api/v1/conditions/{id}", "/api/v1/conditions/1", Some(condition), 200),
        (M::GET, "/api/v1/conditions/{id}", "/api/v1/conditions/1", None, 200),
        (M::GET, "/api/v1/conditions", "/api/v1/conditions", None, 200),
        (M::GET, "/api/v1/health", "/api/v1/health", None, 200),
        (M::GET, stock, "/api/v1/stocks/005930", None, 200),
        (M::GET, "/api/v1/stocks/{code}/price", "/api/v1/stocks/005930/price", None, 200),
        (M::GET, "/api/v1/stocks/{code}/orderbook", "/api/v1/stocks/005930/orderbook", None, 200),
        (M::GET, "/api/v1/stocks/{code}/executions", "/api/v1/stocks/005930/executions", None, 200),
        (M::GET, "/api/v1/stocks/{code}/snapshot", "/api/v1/stocks/000660/snapshot", None, 200),
        (M::GET, "/api/v1/stocks/{code}/candles", "/api/v1/stocks/005930/candles?period=D&count=300", None, 200),
        (M::GET, "/api/v1/stocks/{code}/candles", "/api/v1/stocks/005930/candles?period=30m&count=20", None, 200),
        (M::GET, "/api/v1/stocks/search", "/api/v1/stocks/search?q=ㅅㅅ&limit=5", None, 200),
        (M::GET, "/api/v1/watchlist", "/api/v1/watchlist", None, 200),
        (M::PUT, "/api/v1/watchlist", "/api/v1/watchlist", Some(json!({"codes": ["005930"]})), 200),
        (M::GET, "/api/v1/triggers", "/api/v1/triggers", None, 200),
        (M::POST, "/api/v1/backtest", "/api/v1/backtest", Some(backtest), 200),
        (M::GET, stock, "/api/v1/stocks/12", None, 400),
        (M::POST, "/api/v1/conditions", "/api/v1/conditions", Some(json!({"expr": "D: ma(20) >"})), 422),
    ];
    let mut errors = Vec::new();
    for (method, template, path, body, want) in calls {
        let (status, answer) = t.send(method.clone(), path, body).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        let op = &doc["paths"][template][method.as_str().to_lowercase()];
        let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {path}: no schema for {status}");
        conform(&doc, schema, &answer, &format!("{method} {path}"), &mut errors);
    }

    // Every kind of WebSocket message, as the hub writes it, fits `ServerMessage`.
    let url = format!("{}/api/v1/ws", t.url.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    let subscribe = json!({"op": "subscribe", "codes": ["005930"], "channels": ["tick", "orderbook", "executions", "candle:1m"]});
    ws.send(send(subscribe)).await.unwrap();
    ws.send(send(json!({"op": "fly"}))).await.unwrap();
    let hub = t.app.state().hub.clone();
    let frames = |name: &str| {
        let path = format!("{}/../../testdata/kis/{name}", env!("CARGO_MANIFEST_DIR"));
        decode_frame(
            std::fs::read_to_string(path).unwrap().lines().next().unwrap(),
            |_| None,
        )
        .unwrap()
    };
    let code = market::StockCode::parse("005930").unwrap();
    let Some(Frame::Execution(mut trade)) = frames("ws-frame-H0STCNT0-captured-20260724.txt")
        .into_iter()
        .next()
    else {
        panic!("a recorded trade")
    };
    trade.code = code;
    let Some(Frame::OrderBook(mut book)) = frames("ws-frame-H0STASP0-captured-b.txt").into_iter().next()
    else {
        panic!("a recorded order book")
    };
    book.code = code;
    let types = [
        "status",
        "status",
        "error",
        "tick",
        "executions",
        "orderbook",
        "candle",
        "trigger",
        "trigger_unstored",
    ];
    let mut seen = Vec::new();
    while seen.len() < types.len() {
        if seen.len() == 3 {
            // The subscription is in place (its status came): publish one of everything.
            hub.publish_execution(&trade);
            hub.publish_order_book(&book, Some(trade.business_date));
            let bar = market::Candle::from_trade(trade.datetime(), trade.price, trade.volume);
            hub.publish_candle(code, market::Period::M1, &bar, false);
            let fired = kiswatch::contract::Fired {
                code: "005930".into(),
                name: "삼성전자".into(),
                condition_id: 1,
                condition_name: "정배열".into(),
                period: "D".into(),
                bar_time: "2026-07-24T00:00:00+09:00".into(),
                time: "2026-07-24T09:30:05+09:00".into(),
                price: trade.price,
                values: kiswatch::contract::TriggerValues(vec![("ma(20)".into(), 1.5)]),
                late: false,
                message: "m".into(),
                message_ko: "k".into(),
            };
            hub.publish_trigger(&kiswatch::contract::Trigger::stored(
                1,
                fired.clone(),
                false,
                "2026-07-24T09:30:05+09:00".into(),
            ));
            hub.publish_unstored_trigger(
                &kiswatch::contract::UnstoredTrigger::new(kiswatch::contract::Fired {
                    bar_time: "2026-07-23T00:00:00+09:00".into(),
                    ..fired
                }),
                true,
            );
        }
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = frame else {
            panic!("a message within 10 s, after {seen:?}: {frame:?}")
        };
        let message: Value = serde_json::from_str(&text).unwrap();
        let kind = message["type"].as_str().unwrap().to_owned();
        let schema = json!({"$ref": "#/components/schemas/ServerMessage"});
        conform(&doc, &schema, &message, &format!("ws {kind}"), &mut errors);
        seen.push(kind);
    }
    let mut want = types.to_vec();
    want.sort();
    seen.sort();
    assert_eq!(seen, want);
    t.stop().await;
    assert!(
        errors.is_empty(),
        "answers that do not fit the document:\n{}",
        errors.join("\n")
    );
}

/// The checker itself catches a missing and an unnamed field.
#[test]
fn the_checker_catches_a_missing_field_and_one_the_schema_does_not_name() {
    let doc = serde_json::to_value(kiswatch::api::openapi::document()).unwrap();
    let schema = json!({"$ref": "#/components/schemas/StockPrice"});
    let mut price = json!({"code": "005930", "name": "삼성전자", "market": "KOSPI", "price": 1, "change": 0,
        "change_rate": 0.0, "sign": "flat", "open": 1, "high": 1, "low": 1, "base_price": 1, "upper_limit": 2,
        "lower_limit": 1, "volume": 0, "turnover": 0, "halted": false});
    let check = |v: &Value| {
        let mut e = Vec::new();
        conform(&doc, &schema, v, "price", &mut e);
        e
    };
    assert_eq!(check(&price), Vec::<String>::new());
    price["rate"] = json!(1.0);
    price.as_object_mut().unwrap().remove("change_rate");
    price["sign"] = json!("sideways");
    let errors = check(&price);
    for want in [
        "price.rate: not in the schema",
        "price.change_rate: required, missing",
        "price.sign:",
    ] {
        assert!(errors.iter().any(|e| e.starts_with(want)), "{want}: {errors:?}");
    }
}
