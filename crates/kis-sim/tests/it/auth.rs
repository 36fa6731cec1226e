//! Tokens, credentials and the REST error bodies, over real HTTP.

use crate::common::*;
use kis_sim::{Profile, SimConfig, demo_credentials};
use serde_json::json;

#[tokio::test]
async fn token_then_price_works_and_a_second_token_within_a_minute_is_403() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    assert!(caller.token.starts_with("eyJ"));
    let (status, body) = caller.price(SAMSUNG).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rt_cd"], "0");
    assert_eq!(body["msg_cd"], "MCA00000");
    assert_eq!(body["output"]["stck_shrn_iscd"], SAMSUNG);
    let price: i64 = body["output"]["stck_prpr"].as_str().unwrap().parse().unwrap();
    assert!(price > 0);

    let (status, body) = issue_token(&caller.http, &caller.base, &caller.key, &caller.secret).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error_code":"EGW00133","error_description":"접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)"})
    );
    assert_eq!(server.stats().tokens_issued, 1);
    assert_eq!(server.stats().token_requests, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn token_response_has_the_sample_fields_and_kst_expiry() {
    let server = start(config(Profile::Real)).await;
    let (key, secret) = demo_credentials(Profile::Real, 1);
    let http = reqwest::Client::new();
    let (status, body) = issue_token(&http, &server.rest_url(), &key, &secret).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    let expired = body["access_token_token_expired"].as_str().unwrap();
    let parsed = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", expired).unwrap();
    let expected = market::time::to_kst(jiff::Timestamp::now()) + jiff::SignedDuration::from_hours(24);
    let gap = expected.duration_since(parsed).abs();
    assert!(gap < jiff::SignedDuration::from_secs(60), "{expired}");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_tokens_get_kis_errors() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let url = format!(
        "{}{PRICE}?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=005930",
        caller.base
    );
    let send = |key: Option<&str>, secret: Option<&str>, auth: Option<String>, tr: Option<&str>| {
        let mut req = caller.http.get(&url);
        if let Some(k) = key {
            req = req.header("appkey", k);
        }
        if let Some(s) = secret {
            req = req.header("appsecret", s);
        }
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(t) = tr {
            req = req.header("tr_id", t);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            (status, body["msg_cd"].as_str().unwrap_or("").to_string(), body)
        }
    };
    let bearer = Some(format!("Bearer {}", caller.token));
    let key = Some(caller.key.as_str());
    let secret = Some(caller.secret.as_str());
    let tr = Some("FHKST01010100");
    let (_, other_secret) = demo_credentials(Profile::Real, 5);
    let (vts_key, vts_secret) = demo_credentials(Profile::Vts, 0);

    assert_eq!(send(None, secret, bearer.clone(), tr).await.1, "EGW00102");
    assert_eq!(
        send(Some("not-a-key"), secret, bearer.clone(), tr).await.1,
        "EGW00103"
    );
    assert_eq!(send(key, None, bearer.clone(), tr).await.1, "EGW00104");
    assert_eq!(
        send(key, Some(&other_secret), bearer.clone(), tr).await.1,
        "EGW00105"
    );
    let (status, code, body) = send(Some(&vts_key), Some(&vts_secret), bearer.clone(), tr).await;
    assert_eq!((status, code.as_str()), (500, "EGW02004"));
    assert_eq!(
        body["msg1"],
        "실전투자 도메인은 모의투자 앱키로 호출하실 수 없습니다."
    );
    assert_eq!(send(key, secret, None, tr).await.1, "EGW00205");
    assert_eq!(
        send(key, secret, Some("Bearer nope".into()), tr).await.1,
        "EGW00121"
    );
    assert_eq!(send(key, secret, bearer.clone(), None).await.1, "OPSQ0002");
    assert_eq!(
        send(key, secret, bearer.clone(), Some("FHKST01010200")).await.1,
        "OPSQ0002"
    );

    // revoke, then the token answers EGW00123 with HTTP 500 and the sample body
    let (status, _) = post(
        &caller.http,
        &format!("{}/oauth2/revokeP", caller.base),
        &json!({
            "appkey": caller.key, "appsecret": caller.secret, "token": caller.token
        }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, body) = send(key, secret, bearer.clone(), tr).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({"rt_cd":"1","msg_cd":"EGW00123","msg1":"기간이 만료된 token 입니다."})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_after_their_ttl() {
    let server = start(SimConfig {
        token_ttl: std::time::Duration::from_secs(2),
        ..config(Profile::Real)
    })
    .await;
    let warm = Caller::new(&server, Profile::Real, 1).await;
    assert_eq!(warm.price(SAMSUNG).await.0, 200); // generate the stock before the clock matters
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let (_, body) = caller.price(SAMSUNG).await;
    assert_eq!(body["rt_cd"], "0");
    // waiting out a 2 s lifetime is the behaviour under test, not synchronisation
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let (status, body) = caller.price(SAMSUNG).await;
    assert_eq!((status, body["msg_cd"].as_str()), (500, Some("EGW00123")));
    server.shutdown().await;
}

#[tokio::test]
async fn tokenp_errors_use_the_oauth_shape() {
    let server = start(config(Profile::Vts)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/oauth2/tokenP", server.rest_url());
    let (real_key, real_secret) = demo_credentials(Profile::Real, 0);
    let (key, _) = demo_credentials(Profile::Vts, 0);
    let (status, body) = post(
        &http,
        &url,
        &json!({"grant_type":"client_credentials","appkey":key,"appsecret":"x"}),
    )
    .await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("EGW00105")));
    let (_, body) = post(
        &http,
        &url,
        &json!({"grant_type":"client_credentials","appkey":real_key,"appsecret":real_secret}),
    )
    .await;
    assert_eq!(body["error_code"], "EGW02004");
    let (_, body) = post(&http, &url, &json!({"appkey":key})).await;
    assert_eq!(body["error_code"], "EGW00115");
    let resp = http.post(&url).body("{not json").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    server.shutdown().await;
}

#[tokio::test]
async fn approval_and_hashkey() {
    let server = start(config(Profile::Real)).await;
    let (key, secret) = demo_credentials(Profile::Real, 0);
    let http = reqwest::Client::new();
    let (status, body) = issue_approval(&http, &server.rest_url(), &key, &secret).await;
    assert_eq!(status, 200);
    assert_eq!(body["approval_key"].as_str().unwrap().len(), 36);
    let resp = http
        .post(format!("{}/uapi/hashkey", server.rest_url()))
        .header("appkey", &key)
        .header("appsecret", &secret)
        .json(&json!({"CANO":"12345678","ACNT_PRDT_CD":"01","PDNO":"005930"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["HASH"].as_str().unwrap().len(), 64);
    assert_eq!(body["BODY"]["PDNO"], "005930");
    server.shutdown().await;
}
