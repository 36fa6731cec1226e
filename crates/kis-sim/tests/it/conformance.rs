//! Conformance against the recorded KIS payloads in testdata/kis: for every endpoint and frame
//! with a sample, the simulator's answer has the sample's field names (a superset where the sample is
//! partial), every value that is a number in the sample is a string that parses as one, sign codes
//! follow the table (1..5), and realtime records have exactly the sample's field count.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use kis_sim::{Profile, SimConfig, demo_credentials};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/kis");

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn sample_json(name: &str) -> Value {
    serde_json::from_str(&sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.trim().parse::<f64>().is_ok()
}

/// Every field of `expected` is in `actual`; where the sample value is a numeric string the
/// simulator's is too; `*_sign` fields are 1..5.
fn assert_conforms(context: &str, expected: &Value, actual: &Value) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or_else(|| panic!("{context}: missing field {k}"));
                assert_conforms(&format!("{context}.{k}"), ev, av);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert!(
                !a.is_empty() || e.is_empty(),
                "{context}: empty array where the sample has rows"
            );
            if let Some(first) = e.first() {
                for (i, av) in a.iter().enumerate() {
                    assert_conforms(&format!("{context}[{i}]"), first, av);
                }
            }
        }
        (Value::String(es), Value::String(as_)) => {
            if is_number(es) {
                assert!(
                    is_number(as_),
                    "{context}: {as_:?} is not a number (sample {es:?})"
                );
            }
            if context.ends_with("_sign") {
                assert!(
                    matches!(as_.as_str(), "1" | "2" | "3" | "4" | "5"),
                    "{context}: sign {as_:?}"
                );
            }
        }
        (Value::Number(_), Value::Number(_)) => {}
        (e, a) => panic!("{context}: sample {e} vs simulator {a}"),
    }
}

/// Field names in a sample that is not valid JSON (doc examples with `...` elisions).
fn names_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for part in text.split('"').collect::<Vec<_>>().windows(2) {
        if part[1].trim_start().starts_with(':')
            && part[0].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            out.insert(part[0].to_string());
        }
    }
    out
}

/// Every field name of a (partly malformed) documentation sample appears in `body`.
fn assert_has_fields_of(body: &Value, sample_file: &str) {
    let mut names = BTreeSet::new();
    names_of(body, &mut names);
    let expected = names_in(&sample(sample_file));
    assert!(
        expected.is_subset(&names),
        "{sample_file}: missing {:?}",
        expected.difference(&names).collect::<Vec<_>>()
    );
}

fn names_of(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.insert(k.clone());
                names_of(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| names_of(v, out)),
        _ => {}
    }
}

/// A server whose open session has traded for a while, and a caller on it.
async fn traded_server() -> (kis_sim::SimServer, Caller) {
    let server = start(SimConfig {
        control: true,
        ..config(Profile::Real)
    })
    .await;
    server.market().advance(3 * 3600);
    let caller = Caller::new(&server, Profile::Real, 0).await;
    (server, caller)
}

const Q: &str = "/uapi/domestic-stock/v1/quotations";

#[tokio::test]
async fn rest_endpoints_conform_to_their_samples() {
    let (server, c) = traded_server().await;
    let today = server.market().trading_date();
    let ymd = |d: jiff::civil::Date| d.strftime("%Y%m%d").to_string();
    let ji = [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", SAMSUNG)];

    let (status, _, body) = c.get(&format!("{Q}/inquire-price"), "FHKST01010100", &ji).await;
    assert_eq!(status, 200);
    assert_conforms("inquire-price", &sample_json("inquire-price.json"), &body);

    let (_, _, body) = c.get(&format!("{Q}/inquire-ccnl"), "FHKST01010300", &ji).await;
    assert_conforms("inquire-ccnl", &sample_json("inquire-ccnl.json"), &body);
    assert_eq!(body["output"].as_array().unwrap().len(), 30);

    let mut q = ji.to_vec();
    q.extend([("FID_PERIOD_DIV_CODE", "D"), ("FID_ORG_ADJ_PRC", "0000000001")]);
    let (_, _, body) = c
        .get(&format!("{Q}/inquire-daily-price"), "FHKST01010400", &q)
        .await;
    assert_conforms(
        "inquire-daily-price",
        &sample_json("inquire-daily-price.json"),
        &body,
    );
    assert_eq!(body["output"].as_array().unwrap().len(), 30);

    let hour = [
        ("FID_ETC_CLS_CODE", ""),
        ("FID_INPUT_HOUR_1", "153000"),
        ("FID_PW_DATA_INCU_YN", "N"),
    ];
    let mut q = ji.to_vec();
    q.extend(hour);
    let (_, _, body) = c
        .get(&format!("{Q}/inquire-time-itemchartprice"), "FHKST03010200", &q)
        .await;
    assert_has_fields_of(&body, "inquire-time-itemchartprice.doc-example.txt");
    assert_eq!(body["output2"].as_array().unwrap().len(), 30);
    assert_conforms(
        "inquire-time-itemchartprice",
        &json!({"output1": {"prdy_vrss": "-100", "prdy_vrss_sign": "5", "acml_vol": "1"},
                "output2": [{"stck_cntg_hour": "100000", "stck_prpr": "92500", "cntg_vol": "1383", "acml_tr_pbmn": "1"}]}),
        &body,
    );

    let yesterday = market::krx::Calendar::krx().prev_trading_day(today);
    let date = ymd(yesterday);
    let mut q = ji.to_vec();
    q.extend([
        ("FID_INPUT_HOUR_1", "153000"),
        ("FID_INPUT_DATE_1", date.as_str()),
        ("FID_PW_DATA_INCU_YN", "Y"),
        ("FID_FAKE_TICK_INCU_YN", ""),
    ]);
    let (_, _, body) = c
        .get(&format!("{Q}/inquire-time-dailychartprice"), "FHKST03010230", &q)
        .await;
    assert_has_fields_of(&body, "inquire-time-dailychartprice.doc-example.txt");
    let rows = body["output2"].as_array().unwrap();
    assert_eq!(rows.len(), 120);
    assert!(rows.iter().all(|r| r["stck_bsop_date"] == date.as_str()));

    server.shutdown().await;
}

#[tokio::test]
async fn auth_and_error_bodies_match_their_samples() {
    let server = start(SimConfig {
        rate: Some(1),
        ..SimConfig::default()
    })
    .await;
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let http = reqwest::Client::new();
    let (status, body) = issue_token(&http, &server.rest_url(), &key, &secret).await;
    assert_eq!(status, 200);
    let expected = sample_json("tokenP-response.json");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(&body), keys(&expected));
    assert!(body["expires_in"].is_u64());

    let (status, body) = issue_token(&http, &server.rest_url(), &key, &secret).await;
    let http_sample = sample("tokenP-error-EGW00133.http.txt");
    assert!(http_sample.starts_with(&format!("HTTP/1.1 {status}")));
    let sample_body: Value = serde_json::from_str(http_sample.split("\n\n").nth(1).unwrap().trim()).unwrap();
    assert_eq!(body, sample_body);

    let (_, body) = issue_approval(&http, &server.rest_url(), &key, &secret).await;
    assert_eq!(keys(&body), keys(&sample_json("approval-response.json")));

    // EGW00201 and EGW00123 with the sample bodies, EGW02004 for a VTS key on the real profile
    let caller = Caller::new(&server, Profile::Real, 1).await;
    let first = caller.price(SAMSUNG).await;
    let second = caller.price(SAMSUNG).await;
    assert_eq!(first.0, 200);
    assert_eq!(
        (second.0, &second.1),
        (500, &sample_json("error-EGW00201-rate-limit.json"))
    );
    let (vts_key, vts_secret) = demo_credentials(Profile::Vts, 0);
    let resp = http
        .get(format!(
            "{}{PRICE}?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            server.rest_url()
        ))
        .header("appkey", vts_key)
        .header("appsecret", vts_secret)
        .header("authorization", "Bearer x")
        .header("tr_id", "FHKST01010100")
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, sample_json("error-EGW02004-domain-mismatch.json"));
    let resp = http
        .get(format!(
            "{}{PRICE}?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
            server.rest_url()
        ))
        .header("appkey", &caller.key)
        .header("appsecret", &caller.secret)
        .header("authorization", "Bearer x")
        .header("tr_id", "FHKST01010100")
        .send()
        .await;
    // the same key is still inside its 1 s window: rate-limited before the token is even looked at
    assert_eq!(resp.unwrap().json::<Value>().await.unwrap()["msg_cd"], "EGW00201");
    server.shutdown().await;
}

fn fields_of_frame(frame: &str) -> (String, usize, Vec<String>) {
    let parts: Vec<&str> = frame.splitn(4, '|').collect();
    assert_eq!(parts.len(), 4, "{frame}");
    assert_eq!(parts[0], "0");
    let count: usize = parts[2].parse().unwrap();
    assert_eq!(parts[2].len(), 3);
    (
        parts[1].to_string(),
        count,
        parts[3].split('^').map(str::to_string).collect(),
    )
}

/// Sample field i numeric → simulator field i numeric; sample empty → simulator empty.
fn assert_record_conforms(tr: &str, sample: &[String], record: &[String], sign_fields: &[usize]) {
    assert_eq!(record.len(), sample.len(), "{tr}: field count");
    for (i, (s, r)) in sample.iter().zip(record).enumerate() {
        if is_number(s) {
            assert!(
                is_number(r),
                "{tr} field {i}: {r:?} is not a number (sample {s:?})"
            );
        }
        if s.is_empty() {
            assert!(r.is_empty(), "{tr} field {i}: {r:?} where the sample is empty");
        }
    }
    for &i in sign_fields {
        assert!(
            matches!(record[i].as_str(), "1" | "2" | "3" | "4" | "5"),
            "{tr} field {i}: sign {:?}",
            record[i]
        );
    }
}

#[tokio::test]
async fn realtime_frames_and_acks_conform_to_their_samples() {
    let server = start(SimConfig {
        speed: 30.0,
        ..config(Profile::Real)
    })
    .await;
    server.market().advance(3600);
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let http = reqwest::Client::new();
    let (_, body) = issue_approval(&http, &server.rest_url(), &key, &secret).await;
    let approval = body["approval_key"].as_str().unwrap().to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/tryitout", server.ws_url()))
        .await
        .unwrap();
    let mut request: Value = sample_json("ws-subscribe-request.json");
    request["header"]["approval_key"] = json!(approval);
    for tr in ["H0STCNT0", "H0STASP0"] {
        request["body"]["input"]["tr_id"] = json!(tr);
        ws.send(Message::text(request.to_string())).await.unwrap();
    }
    let ack_sample = sample_json("ws-subscribe-ack-H0STASP0.json");
    let cnt_sample = sample("ws-frame-H0STCNT0-captured-20260724.txt");
    let cnt_sample = fields_of_frame(cnt_sample.trim()).2;
    let asp_sample = sample("ws-frame-H0STASP0-captured-a.txt");
    let asp_sample = fields_of_frame(asp_sample.trim()).2;
    assert_eq!((cnt_sample.len(), asp_sample.len()), (46, 59));

    let (mut acks, mut cnt_frames, mut asp_frames) = (0, 0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while acks < 2 || cnt_frames < 3 || asp_frames < 1 {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("frames within 20 s")
            .unwrap()
            .unwrap();
        let Message::Text(text) = msg else { continue };
        if text.starts_with('{') {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["header"]["tr_id"] == "PINGPONG" {
                continue;
            }
            assert_conforms("ack", &ack_sample, &v);
            assert_eq!(v["body"]["output"]["iv"].as_str().unwrap().len(), 16);
            assert_eq!(v["body"]["output"]["key"].as_str().unwrap().len(), 32);
            acks += 1;
            continue;
        }
        let (tr, count, fields) = fields_of_frame(&text);
        match tr.as_str() {
            "H0STCNT0" => {
                assert_eq!(fields.len(), 46 * count, "{text}");
                for record in fields.chunks(46) {
                    assert_record_conforms("H0STCNT0", &cnt_sample, record, &[3, 25, 28, 31]);
                    assert_eq!(record[0], SAMSUNG);
                }
                cnt_frames += 1;
            }
            "H0STASP0" => {
                assert_eq!(fields.len(), 59 * count, "{text}");
                for record in fields.chunks(59) {
                    assert_record_conforms("H0STASP0", &asp_sample, record, &[51]);
                }
                asp_frames += 1;
            }
            other => panic!("unexpected TR {other}"),
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn pingpong_has_the_sample_shape() {
    let server = start(SimConfig {
        ping_interval: Duration::from_millis(100),
        ..config(Profile::Real)
    })
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    let sample = sample_json("ws-pingpong.json");
    assert_eq!(v["header"]["tr_id"], sample["header"]["tr_id"]);
    assert_eq!(v["header"]["datetime"].as_str().unwrap().len(), 14);
    server.shutdown().await;
}

#[tokio::test]
async fn the_sample_request_bodies_are_accepted() {
    let server = start(config(Profile::Real)).await;
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let http = reqwest::Client::new();
    let fill = |name: &str, token: &str| -> Value {
        let text = sample(name)
            .replace("{{APPKEY}}", &key)
            .replace("{{APPSECRET}}", &secret)
            .replace("{{ACCESS_TOKEN}}", token)
            .replace("{{CANO}}", "12345678");
        serde_json::from_str(&text).unwrap()
    };
    let url = |path: &str| format!("{}{path}", server.rest_url());
    let (status, token) = post(&http, &url("/oauth2/tokenP"), &fill("tokenP-request.json", "")).await;
    assert_eq!(status, 200, "{token}");
    let token = token["access_token"].as_str().unwrap().to_string();
    let (status, approval) = post(
        &http,
        &url("/oauth2/Approval"),
        &fill("approval-request.json", ""),
    )
    .await;
    assert_eq!(status, 200, "{approval}");
    let resp = http
        .post(url("/uapi/hashkey"))
        .header("appkey", &key)
        .header("appsecret", &secret)
        .json(&fill("hashkey-request.json", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (status, body) = post(
        &http,
        &url("/oauth2/revokeP"),
        &fill("revokeP-request.json", &token),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // the execution-notice TR of the sample ack is accepted (and marked encrypted)
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/tryitout", server.ws_url()))
        .await
        .unwrap();
    let mut request = sample_json("ws-subscribe-request.json");
    request["header"]["approval_key"] = approval["approval_key"].clone();
    request["body"]["input"] = json!({"tr_id": "H0STCNI0", "tr_key": "MYHTSID"});
    ws.send(Message::text(request.to_string())).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let ack: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    let sample_ack = sample_json("ws-subscribe-ack-H0STCNI9.json");
    assert_conforms("notice ack", &sample_ack["body"], &ack["body"]);
    assert_eq!(ack["header"]["encrypt"], "Y");
    server.shutdown().await;
}
