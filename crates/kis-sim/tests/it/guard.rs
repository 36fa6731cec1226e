//! The simulator on the user's machine, as a web page would try it (issue 21): a DNS-rebinding page
//! (a foreign `Host`) gets nothing from any route; a cross-site page (a foreign `Origin`) cannot
//! steer the control API, spend the demo key's token issuance or take its WebSocket session; KIS
//! clients and scripts (no `Origin`) are unaffected.

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HOST, ORIGIN};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::common::{PRICE, start};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};

const EVIL: &str = "http://evil.example";

async fn send(
    server: &SimServer,
    method: Method,
    path: &str,
    headers: &[(reqwest::header::HeaderName, String)],
    body: &str,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", server.rest_url()))
        .body(body.to_owned());
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn token_body() -> String {
    let (key, secret) = demo_credentials(Profile::Real, 0);
    json!({"grant_type": "client_credentials", "appkey": key, "appsecret": secret}).to_string()
}

fn control() -> SimConfig {
    SimConfig {
        control: true,
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn a_foreign_host_gets_nothing_from_any_route() {
    let server = start(control()).await;
    let evil = format!("evil.example:{}", server.local_addr().port());
    for (method, path) in [
        (Method::GET, "/sim/stats"),
        (Method::POST, "/sim/faults"),
        (Method::POST, "/oauth2/tokenP"),
        (Method::GET, PRICE),
        (Method::GET, "/common/master/kospi_code.mst.zip"),
        (Method::GET, "/tryitout"),
    ] {
        let (status, v) = send(&server, method.clone(), path, &[(HOST, evil.clone())], "{}").await;
        assert_eq!(status, 421, "{method} {path}: {v}");
        assert_eq!(v["code"], "misdirected_host", "{v}");
    }
    let (status, _) = send(
        &server,
        Method::GET,
        "/sim/stats",
        &[(HOST, format!("localhost:{}", server.local_addr().port()))],
        "",
    )
    .await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_cross_site_page_cannot_steer_it_issue_tokens_or_take_the_session() {
    let server = start(control()).await;
    let foreign = [(ORIGIN, EVIL.to_owned()), (CONTENT_TYPE, "text/plain".to_owned())];
    for (path, body) in [
        ("/sim/faults", r#"{"error_rate":1}"#.to_owned()),
        ("/sim/clock", r#"{"advance_secs":600}"#.to_owned()),
        (
            "/sim/scenario",
            r#"{"code":"005930","pattern":"golden_cross","period":"1m"}"#.to_owned(),
        ),
        ("/oauth2/tokenP", token_body()),
        ("/oauth2/Approval", token_body()),
    ] {
        let (status, v) = send(&server, Method::POST, path, &foreign, &body).await;
        assert_eq!(
            (status, &v["code"]),
            (403, &json!("foreign_origin")),
            "{path}: {v}"
        );
    }
    assert_eq!(server.stats().tokens_issued, 0, "no token went to the page");
    let (_, faults) = send(&server, Method::GET, "/sim/faults", &[], "").await;
    assert_eq!(faults["error_rate"], 0.0, "{faults}");
    // The WebSocket: a page's upgrade is refused.
    let mut ws = format!("{}/tryitout", server.ws_url())
        .into_client_request()
        .unwrap();
    ws.headers_mut().insert(ORIGIN, EVIL.parse().unwrap());
    match tokio_tungstenite::connect_async(ws).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    // Reads from a page, and everything from a client without an Origin, pass.
    let (status, _) = send(
        &server,
        Method::GET,
        "/sim/stats",
        &[(ORIGIN, EVIL.to_owned())],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = send(
        &server,
        Method::POST,
        "/oauth2/tokenP",
        &[(CONTENT_TYPE, "application/json".to_owned())],
        &token_body(),
    )
    .await;
    assert_eq!(status, 200, "a KIS client: {v}");
    let (status, _) = send(
        &server,
        Method::POST,
        "/sim/clock",
        &[(CONTENT_TYPE, "application/json".to_owned())],
        r#"{"advance_secs":60}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (ws, _) = tokio_tungstenite::connect_async(format!("{}/tryitout", server.ws_url()))
        .await
        .expect("a KIS client's WebSocket");
    drop(ws);
    server.shutdown().await;
}

#[tokio::test]
async fn allowed_hosts_and_every_interface() {
    let server = SimServer::start(
        SimConfig {
            control: true,
            allowed_hosts: vec!["sim.lan".parse().unwrap()],
            ..SimConfig::default()
        },
        "0.0.0.0:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let port = server.local_addr().port();
    assert_eq!(
        server.rest_url(),
        format!("http://127.0.0.1:{port}"),
        "a URL it answers to"
    );
    let (status, _) = send(&server, Method::GET, "/sim/stats", &[], "").await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &server,
        Method::GET,
        "/sim/stats",
        &[(HOST, format!("sim.lan:{port}"))],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &server,
        Method::GET,
        "/sim/stats",
        &[(HOST, format!("0.0.0.0:{port}"))],
        "",
    )
    .await;
    assert_eq!(status, 421, "not the unspecified address");
    server.shutdown().await;
}
