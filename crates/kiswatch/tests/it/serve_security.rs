//! Issue 21, as an attacker's web page would try it: DNS rebinding (a foreign `Host`), cross-site
//! state changes and WebSocket hijacking (a foreign `Origin`), framing, and the answers a script
//! gets for malformed requests (JSON on every error) and tokens in URLs.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HOST, ORIGIN};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::common::{TestApp, config, error_code, eventually, spawn_demo, spawn_with};
use kiswatch::config::UpstreamConfig;

const EVIL: &str = "http://evil.example";

/// One request with the headers a browser (or an attacker's page) would send; status and JSON.
async fn request(
    t: &TestApp,
    method: Method,
    path: &str,
    headers: &[(reqwest::header::HeaderName, &str)],
    body: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = t.http.request(method, format!("{}{path}", t.url));
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v, headers)
}

/// An error answer as the contract says: JSON, a code, a message in both languages.
fn assert_error_body(v: &Value, headers: &reqwest::header::HeaderMap, code: &str) {
    assert!(
        headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{headers:?}"
    );
    assert_eq!(error_code(v), code, "{v}");
    for field in ["message", "message_ko"] {
        assert!(
            v["error"][field].as_str().is_some_and(|m| !m.is_empty()),
            "{field} in {v}"
        );
    }
}

fn port(t: &TestApp) -> u16 {
    t.app.local_addr().port()
}

#[tokio::test]
async fn a_page_under_a_foreign_host_name_gets_nothing() {
    let t = spawn_demo(false).await;
    let evil_host = format!("evil.example:{}", port(&t));
    for (method, path) in [
        (Method::GET, "/api/v1/health"),
        (Method::GET, "/api/v1/triggers?after=0"),
        (Method::GET, "/"),
        (Method::GET, "/metrics"),
        (Method::GET, "/sim/stats"),
        (Method::POST, "/api/v1/watchlist"),
        (Method::POST, "/sim/clock"),
    ] {
        let (status, v, headers) = request(
            &t,
            method.clone(),
            path,
            &[(HOST, &evil_host), (CONTENT_TYPE, "application/json")],
            Some(r#"{"code":"005930"}"#),
        )
        .await;
        assert_eq!(status, 421, "{method} {path}: {v}");
        assert_error_body(&v, &headers, "misdirected_host");
        assert_eq!(
            headers["x-frame-options"], "DENY",
            "a refusal carries the headers too"
        );
    }
    let (_, list) = t.get("/api/v1/watchlist").await;
    assert_eq!(list, json!([]), "nothing was added");
    // A WebSocket under the rebound name.
    let mut ws = format!("ws://127.0.0.1:{}/api/v1/ws", port(&t))
        .into_client_request()
        .unwrap();
    ws.headers_mut().insert(HOST, evil_host.parse().unwrap());
    match tokio_tungstenite::connect_async(ws).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 421),
        other => panic!("expected 421, got {other:?}"),
    }
    // Its own names, with its port.
    for own in [
        format!("127.0.0.1:{}", port(&t)),
        format!("localhost:{}", port(&t)),
        format!("[::1]:{}", port(&t)),
    ] {
        let (status, v, _) = request(&t, Method::GET, "/api/v1/health", &[(HOST, &own)], None).await;
        assert_eq!(status, 200, "{own}: {v}");
    }
    for other in [
        format!("127.0.0.1:{}", port(&t) + 1),
        "localhost".to_owned(),
        format!("127.0.0.1.evil.example:{}", port(&t)),
    ] {
        let (status, _, _) = request(&t, Method::GET, "/api/v1/health", &[(HOST, &other)], None).await;
        assert_eq!(status, 421, "{other}");
    }
    t.stop().await;
}

#[tokio::test]
async fn allowed_hosts_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), UpstreamConfig::Demo { seed: 42, speed: 1.0 }, false);
    cfg.allowed_hosts = vec![
        "kiswatch.lan".parse().unwrap(),
        "box.example:9000".parse().unwrap(),
    ];
    // The links in alerts lead to --public-url: its host is answered too (on any port, as a
    // reverse proxy forwards it).
    cfg.public_url = Some("https://kiswatch.example.com/".into());
    let t = spawn_with(cfg, dir).await;
    let (status, _, _) = request(&t, Method::GET, "/", &[(HOST, "kiswatch.example.com")], None).await;
    assert_eq!(status, 200, "the public URL's host");
    let lan = format!("kiswatch.lan:{}", port(&t));
    let (status, _, _) = request(&t, Method::GET, "/api/v1/health", &[(HOST, &lan)], None).await;
    assert_eq!(status, 200);
    let (status, v, _) = request(
        &t,
        Method::POST,
        "/api/v1/watchlist",
        &[
            (HOST, &lan),
            (ORIGIN, &format!("http://{lan}")),
            (CONTENT_TYPE, "application/json"),
        ],
        Some(r#"{"code":"005930"}"#),
    )
    .await;
    assert_eq!(
        status, 201,
        "a page served under an allowed name may change things: {v}"
    );
    let (status, _, _) = request(&t, Method::GET, "/", &[(HOST, "box.example:9000")], None).await;
    assert_eq!(status, 200);
    let (status, _, _) = request(&t, Method::GET, "/", &[(HOST, "box.example:9001")], None).await;
    assert_eq!(status, 421, "the port given is the only one");
    t.stop().await;
}

#[tokio::test]
async fn cross_site_pages_cannot_change_anything_or_open_the_websocket() {
    let t = spawn_demo(false).await;
    let own = format!("http://127.0.0.1:{}", port(&t));
    // The issue's probe: a text/plain POST from a foreign page (no preflight in a browser).
    let (status, v, headers) = request(
        &t,
        Method::POST,
        "/api/v1/watchlist",
        &[(ORIGIN, EVIL), (CONTENT_TYPE, "text/plain")],
        Some(r#"{"code":"005930"}"#),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    assert_error_body(&v, &headers, "foreign_origin");
    for (method, path, body) in [
        (Method::POST, "/api/v1/triggers/1/ack", ""),
        (Method::PUT, "/api/v1/watchlist", r#"{"codes":[]}"#),
        (Method::DELETE, "/api/v1/watchlist/005930", ""),
        (Method::POST, "/api/v1/conditions", r#"{"expr":"D: 정배열"}"#),
        (Method::DELETE, "/api/v1/conditions/1", ""),
        (
            Method::POST,
            "/api/v1/backtest",
            r#"{"code":"005930","condition":"D: 정배열"}"#,
        ),
        (Method::POST, "/sim/clock", r#"{"advance_secs":600}"#),
        (Method::POST, "/sim/faults", r#"{"error_rate":1}"#),
        (
            Method::POST,
            "/sim/scenario",
            r#"{"code":"005930","pattern":"golden_cross","period":"1m"}"#,
        ),
    ] {
        for origin in [EVIL, "null", "http://127.0.0.1:1"] {
            let (status, v, _) = request(
                &t,
                method.clone(),
                path,
                &[(ORIGIN, origin), (CONTENT_TYPE, "text/plain")],
                Some(body),
            )
            .await;
            assert_eq!(
                (status, error_code(&v)),
                (403, "foreign_origin"),
                "{method} {path} from {origin}"
            );
        }
    }
    let (_, faults) = t.get("/sim/faults").await;
    assert_eq!(
        faults["error_rate"], 0.0,
        "the simulator was not touched: {faults}"
    );
    // Reads stay open (the foreign page cannot read the answer without CORS headers).
    let (status, _, headers) = request(&t, Method::GET, "/api/v1/watchlist", &[(ORIGIN, EVIL)], None).await;
    assert_eq!(status, 200);
    assert!(
        !headers.contains_key("access-control-allow-origin"),
        "no CORS: {headers:?}"
    );
    // The UI's own page may, and so may a script without an Origin.
    let (status, v, _) = request(
        &t,
        Method::POST,
        "/api/v1/watchlist",
        &[(ORIGIN, &own), (CONTENT_TYPE, "application/json")],
        Some(r#"{"code":"005930"}"#),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let (status, v) = t.post("/api/v1/watchlist", json!({"code": "000660"})).await;
    assert_eq!(status, 201, "curl: {v}");

    // Cross-site WebSocket hijacking: the upgrade is refused before any trigger could be resumed.
    let url = format!("ws://127.0.0.1:{}/api/v1/ws", port(&t));
    let mut foreign = url.clone().into_client_request().unwrap();
    foreign.headers_mut().insert(ORIGIN, EVIL.parse().unwrap());
    match tokio_tungstenite::connect_async(foreign).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 403);
            let body: Value = serde_json::from_slice(r.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(error_code(&body), "foreign_origin");
        }
        other => panic!("expected 403, got {other:?}"),
    }
    let mut same = url.clone().into_client_request().unwrap();
    same.headers_mut().insert(ORIGIN, own.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(same)
        .await
        .expect("the UI's own page");
    drop(ws);
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("a script without Origin");
    drop(ws);
    t.stop().await;
}

#[tokio::test]
async fn the_embedded_simulators_own_port_applies_the_same_rules() {
    let t = spawn_demo(false).await;
    let sim = t.app.sim_url().unwrap();
    let sim_port = t.app.sim().unwrap().local_addr().port();
    let http = reqwest::Client::new();
    let send =
        |method: Method, path: &str, headers: Vec<(reqwest::header::HeaderName, String)>, body: &str| {
            let mut req = http.request(method, format!("{sim}{path}")).body(body.to_owned());
            for (n, v) in headers {
                req = req.header(n, v);
            }
            req.send()
        };
    let evil_host = format!("evil.example:{sim_port}");
    for path in [
        "/sim/stats",
        "/oauth2/tokenP",
        "/uapi/domestic-stock/v1/quotations/inquire-price",
    ] {
        let r = send(Method::GET, path, vec![(HOST, evil_host.clone())], "")
            .await
            .unwrap();
        assert_eq!(r.status(), 421, "{path}");
    }
    let issued = t.app.sim().unwrap().stats().tokens_issued;
    let (key, secret) = kis_sim::demo_credentials(kis_sim::Profile::Real, 0);
    let token_body =
        json!({"grant_type": "client_credentials", "appkey": key, "appsecret": secret}).to_string();
    for (path, body) in [
        ("/sim/faults", r#"{"error_rate":1}"#.to_owned()),
        ("/sim/clock", r#"{"advance_secs":600}"#.to_owned()),
        ("/oauth2/tokenP", token_body.clone()),
    ] {
        let r = send(
            Method::POST,
            path,
            vec![(ORIGIN, EVIL.to_owned()), (CONTENT_TYPE, "text/plain".to_owned())],
            &body,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "foreign_origin", "{v}");
    }
    assert_eq!(
        t.app.sim().unwrap().stats().tokens_issued,
        issued,
        "no token issued to the page (the key's one issuance a minute is kiswatch's)"
    );
    let r = send(Method::GET, "/sim/stats", vec![(ORIGIN, EVIL.to_owned())], "")
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "reads stay open");
    t.stop().await;
}

#[tokio::test]
async fn every_answer_forbids_framing_and_sniffing_and_carries_a_policy() {
    let t = spawn_demo(false).await;
    for path in [
        "/",
        "/stocks/005930",
        "/api/v1/health",
        "/api/v1/nope",
        "/metrics",
    ] {
        let r = t.get_full(path).await;
        let h = r.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            csp.contains(&format!("ws://127.0.0.1:{}", port(&t))),
            "the WebSocket is named: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
    }
    t.stop().await;
}

/// A request (method, path, headers, body) and the status and error code it must get.
type Case<'a> = (
    Method,
    &'a str,
    &'a [(reqwest::header::HeaderName, &'a str)],
    Option<String>,
    u16,
    &'a str,
);

#[tokio::test]
async fn every_error_is_json_including_the_routers_and_extractors_own() {
    let t = spawn_demo(false).await;
    let json_ct = [(CONTENT_TYPE, "application/json")];
    let cases: Vec<Case<'_>> = vec![
        (Method::GET, "/api/v1/stocks/%FF", &[], None, 400, "invalid_path"),
        (
            Method::GET,
            "/api/v1/stocks/%FF%FE/candles",
            &[],
            None,
            400,
            "invalid_path",
        ),
        (
            Method::GET,
            "/api/v1/stocks/005930/candles?period=D&period=W",
            &[],
            None,
            400,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/v1/triggers?after=1&after=2",
            &[],
            None,
            400,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/v1/stocks/search?q=a&q=b",
            &[],
            None,
            400,
            "invalid_query",
        ),
        (Method::GET, "/api/v1/ws", &[], None, 400, "websocket_required"),
        (
            Method::DELETE,
            "/api/v1/health",
            &[],
            None,
            405,
            "method_not_allowed",
        ),
        (
            Method::PUT,
            "/api/v1/triggers",
            &[],
            None,
            405,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/api/v1/stocks/005930",
            &[],
            None,
            405,
            "method_not_allowed",
        ),
        (
            Method::PATCH,
            "/api/v1/conditions/1",
            &[],
            None,
            405,
            "method_not_allowed",
        ),
        (Method::POST, "/metrics", &[], None, 405, "method_not_allowed"),
        (
            Method::OPTIONS,
            "/api/v1/watchlist",
            &[],
            None,
            405,
            "method_not_allowed",
        ),
        (Method::GET, "/api/v1/nope", &[], None, 404, "not_found"),
        (Method::GET, "/api/v2/health", &[], None, 404, "not_found"),
        (Method::GET, "/nothing/here", &[], None, 404, "not_found"),
        (
            Method::POST,
            "/api/v1/watchlist",
            &json_ct,
            Some("{not json".into()),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/watchlist",
            &[(CONTENT_TYPE, "text/plain")],
            Some(r#"{"code":"005930"}"#.into()),
            400,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/watchlist",
            &json_ct,
            Some(format!(r#"{{"code":"{}"}}"#, "x".repeat(3_000_000))),
            400,
            "invalid_body",
        ),
        (
            Method::GET,
            "/api/v1/conditions/abc",
            &[],
            None,
            400,
            "invalid_id",
        ),
    ];
    for (method, path, headers, body, status, code) in cases {
        let (got, v, h) = request(&t, method.clone(), path, headers, body.as_deref()).await;
        assert_eq!(got, status, "{method} {path}: {v}");
        assert_error_body(&v, &h, code);
        if status == 405 {
            assert!(h.contains_key("allow"), "{method} {path}: {h:?}");
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn a_token_in_the_url_counts_only_for_the_websocket() {
    let token = "a-test-token-of-some-length";
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), UpstreamConfig::Demo { seed: 42, speed: 1.0 }, false);
    cfg.token = Some(token.into());
    let t = spawn_with(cfg, dir).await;
    for path in ["/api/v1/health", "/api/v1/watchlist", "/metrics", "/sim/stats"] {
        let (status, v) = t.get(&format!("{path}?token={token}")).await;
        assert_eq!((status, error_code(&v)), (401, "unauthorized"), "{path}");
        let (status, v, _) = request(
            &t,
            Method::GET,
            path,
            &[(reqwest::header::AUTHORIZATION, &format!("Bearer {token}"))],
            None,
        )
        .await;
        assert_eq!(status, 200, "{path}: {v}");
    }
    let (ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", port(&t)))
            .await
            .expect("the WebSocket may carry it");
    drop(ws);
    t.stop().await;
}

#[tokio::test]
async fn the_service_stays_up_after_all_of_it() {
    // The refusals above are answers, not faults: a burst of them leaves the service serving.
    let t = spawn_demo(false).await;
    let evil_host = format!("evil.example:{}", port(&t));
    let mut burst = Vec::new();
    for i in 0..200 {
        let t = &t;
        let evil_host = evil_host.clone();
        burst.push(async move {
            match i % 3 {
                0 => {
                    request(t, Method::GET, "/api/v1/health", &[(HOST, &evil_host)], None)
                        .await
                        .0
                }
                1 => {
                    request(
                        t,
                        Method::POST,
                        "/api/v1/watchlist",
                        &[(ORIGIN, EVIL)],
                        Some("{}"),
                    )
                    .await
                    .0
                }
                _ => request(t, Method::GET, "/api/v1/stocks/%FF", &[], None).await.0,
            }
        });
    }
    let statuses = futures_util::future::join_all(burst).await;
    assert!(
        statuses.iter().all(|s| [421, 403, 400].contains(s)),
        "{statuses:?}"
    );
    eventually(Duration::from_secs(5), "health", || async {
        (t.get("/api/v1/health").await.0 == 200).then_some(())
    })
    .await;
    t.stop().await;
}
