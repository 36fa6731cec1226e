//! What the clients people already use rely on, checked at the wire level (docs/kis-compat.md):
//! the official samples' `kis_auth.py` (response header names byte for byte, `tr_cont` paging) and
//! python-kis (`search-info` for `kis.stock(code)`, `FID_INPUT_HOUR_1=000000` on today's minute
//! chart). The python-kis package itself runs against the simulator in `make conformance-python`.

use std::collections::HashSet;

use crate::common::*;
use kis_sim::{Profile, SimServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SEARCH_INFO: &str = "/uapi/domestic-stock/v1/quotations/search-info";
const MINUTES: &str = "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice";

/// Sends `request` on a fresh TCP connection and returns the response head exactly as it arrived.
async fn raw_head(server: &SimServer, request: &str) -> String {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let end = text.find("\r\n\r\n").expect("a complete response head");
    text[..end].to_string()
}

/// Header names of a response head, in order, as written.
fn names(head: &str) -> Vec<String> {
    head.lines()
        .skip(1)
        .map(|line| line.split_once(':').expect("name: value").0.to_string())
        .collect()
}

/// A GET with the headers the official samples send, as raw bytes.
fn sample_get(caller: &Caller, path_and_query: &str, tr_id: &str) -> String {
    format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Accept: text/plain\r\ncharset: UTF-8\r\nauthorization: Bearer {}\r\nappkey: {}\r\n\
         appsecret: {}\r\ntr_id: {tr_id}\r\ncusttype: P\r\ntr_cont: \r\nConnection: close\r\n\r\n",
        caller.token, caller.key, caller.secret
    )
}

/// What `kis_auth.py`'s `APIResp._setHeader` does with the names: those that are all lower case
/// become `namedtuple` fields, so they must be Python identifiers.
fn python_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn assert_kis_header_names(context: &str, head: &str, with_tr_id: bool) {
    let names = names(head);
    for expected in ["Content-Type", "Content-Length", "Date", "tr_cont", "gt_uid"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{context}: no {expected} in\n{head}"
        );
    }
    if with_tr_id {
        assert!(
            names.iter().any(|n| n == "tr_id"),
            "{context}: no tr_id in\n{head}"
        );
    }
    for name in &names {
        if name.chars().any(|c| c.is_ascii_lowercase()) && !name.chars().any(|c| c.is_ascii_uppercase()) {
            assert!(
                python_identifier(name),
                "{context}: the official samples would build a namedtuple field from {name:?}"
            );
        }
    }
}

#[tokio::test]
async fn response_header_names_are_byte_exact() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;

    let price = format!("{PRICE}?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD={SAMSUNG}");
    let head = raw_head(&server, &sample_get(&caller, &price, "FHKST01010100")).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_kis_header_names("inquire-price", &head, true);
    assert!(head.contains("\r\ntr_id: FHKST01010100"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: application/json; charset=UTF-8"),
        "{head}"
    );

    // An error answer (a TR that does not belong to the path) has the same header names.
    let head = raw_head(&server, &sample_get(&caller, &price, "FHKST01010400")).await;
    assert!(head.starts_with("HTTP/1.1 500"), "{head}");
    assert_kis_header_names("unknown service", &head, true);

    // An unknown path.
    let head = raw_head(&server, &sample_get(&caller, "/uapi/no/such/path", "X")).await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert_kis_header_names("unknown path", &head, true);

    // The token endpoint, as the samples' auth() posts it.
    let body = format!(
        r#"{{"grant_type":"client_credentials","appkey":"{}","appsecret":"{}"}}"#,
        caller.key, caller.secret
    );
    let request = format!(
        "POST /oauth2/tokenP HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let head = raw_head(&server, &request).await;
    assert_kis_header_names("tokenP", &head, false);
    server.shutdown().await;
}

#[tokio::test]
async fn every_response_has_its_own_gt_uid() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let mut seen = HashSet::new();
    for _ in 0..5 {
        let resp = caller
            .http
            .get(format!("{}{PRICE}", caller.base))
            .query(&[("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", SAMSUNG)])
            .header("authorization", format!("Bearer {}", caller.token))
            .header("appkey", &caller.key)
            .header("appsecret", &caller.secret)
            .header("tr_id", "FHKST01010100")
            .send()
            .await
            .unwrap();
        let gt_uid = resp.headers()["gt_uid"].to_str().unwrap().to_string();
        assert!(!gt_uid.is_empty());
        assert!(seen.insert(gt_uid), "gt_uid repeated");
    }
    server.shutdown().await;
}

/// The 20 output fields of the portal page 상품기본조회 [v1_국내주식-029].
const SEARCH_INFO_FIELDS: [&str; 20] = [
    "pdno",
    "prdt_type_cd",
    "prdt_name",
    "prdt_name120",
    "prdt_abrv_name",
    "prdt_eng_name",
    "prdt_eng_name120",
    "prdt_eng_abrv_name",
    "std_pdno",
    "shtn_pdno",
    "prdt_sale_stat_cd",
    "prdt_risk_grad_cd",
    "prdt_clsf_cd",
    "prdt_clsf_name",
    "sale_strt_dt",
    "sale_end_dt",
    "wrap_asst_type_cd",
    "ivst_prdt_type_cd",
    "ivst_prdt_type_cd_name",
    "frst_erlm_dt",
];

#[tokio::test]
async fn search_info_answers_every_simulated_stock() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let stocks = server.market().stocks().to_vec();
    assert!(stocks.len() >= 50);
    for info in &stocks {
        let code = info.code.as_str();
        let (status, tr, body) = caller
            .get(
                SEARCH_INFO,
                "CTPF1604R",
                &[("PDNO", code), ("PRDT_TYPE_CD", "300")],
            )
            .await;
        assert_eq!(
            (status, tr.as_deref()),
            (200, Some("CTPF1604R")),
            "{code}: {body}"
        );
        assert_eq!(body["rt_cd"], "0", "{code}: {body}");
        assert_eq!(body["msg_cd"], "KIOK0530");
        assert_eq!(body["msg1"].as_str().unwrap().trim_end(), "조회되었습니다");
        let out = body["output"].as_object().unwrap();
        let keys: HashSet<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            HashSet::from(SEARCH_INFO_FIELDS),
            "{code}: the documented fields"
        );
        assert!(
            out.values().all(Value::is_string),
            "{code}: every value is a string"
        );
        // What python-kis reads: short code, ISIN, Korean and English names, product type.
        assert_eq!(out["shtn_pdno"], code);
        assert_eq!(out["pdno"], format!("00000A{code}"));
        assert_eq!(out["prdt_type_cd"], "300");
        assert_eq!(out["prdt_abrv_name"], info.name);
        assert_eq!(out["prdt_name120"], info.name);
        assert_eq!(out["prdt_eng_abrv_name"], info.eng_name);
        assert_eq!(out["prdt_eng_name120"], info.eng_name);
        let isin = out["std_pdno"].as_str().unwrap();
        assert_eq!(isin.len(), 12, "{isin}");
        assert!(isin.starts_with(&format!("KR7{code}00")), "{isin}");
    }
    let samsung = caller
        .get(
            SEARCH_INFO,
            "CTPF1604R",
            &[("PDNO", SAMSUNG), ("PRDT_TYPE_CD", "300")],
        )
        .await
        .2;
    assert_eq!(samsung["output"]["std_pdno"], "KR7005930003");
    assert_eq!(samsung["output"]["prdt_eng_name"], "Samsung Electronics");

    // The portal's example (testdata/kis/search-info.json): the same fields and the same envelope,
    // `msg1` included byte for byte.
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/kis/search-info.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let sample_keys: HashSet<&str> = sample["output"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(sample_keys, HashSet::from(SEARCH_INFO_FIELDS));
    assert_eq!(samsung["msg_cd"], sample["msg_cd"]);
    assert_eq!(samsung["msg1"], sample["msg1"]);

    // No such product: HTTP 200, rt_cd 7 (python-kis's "not found"), KIOK0560.
    for (code, kind) in [("999999", "300"), (SAMSUNG, "512")] {
        let (status, _, body) = caller
            .get(
                SEARCH_INFO,
                "CTPF1604R",
                &[("PDNO", code), ("PRDT_TYPE_CD", kind)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["rt_cd"].as_str(), body["msg_cd"].as_str()),
            (Some("7"), Some("KIOK0560"))
        );
        assert!(body.get("output").is_none());
    }
    // A product type code that does not exist is an input error.
    let (_, _, body) = caller
        .get(
            SEARCH_INFO,
            "CTPF1604R",
            &[("PDNO", SAMSUNG), ("PRDT_TYPE_CD", "999")],
        )
        .await;
    assert_eq!(body["rt_cd"], "2", "{body}");
    server.shutdown().await;

    // 모의투자 does not offer it (the portal page: "모의투자 미지원").
    let vts = start(config(Profile::Vts)).await;
    let caller = Caller::new(&vts, Profile::Vts, 0).await;
    let (status, _, body) = caller
        .get(
            SEARCH_INFO,
            "CTPF1604R",
            &[("PDNO", SAMSUNG), ("PRDT_TYPE_CD", "300")],
        )
        .await;
    assert_eq!(
        (status, body["msg_cd"].as_str()),
        (500, Some("EGW00213")),
        "{body}"
    );
    vts.shutdown().await;
}

async fn minute_rows(caller: &Caller, hour: &str) -> Vec<Value> {
    let (status, _, body) = caller
        .get(
            MINUTES,
            "FHKST03010200",
            &[
                ("FID_ETC_CLS_CODE", ""),
                ("FID_COND_MRKT_DIV_CODE", "J"),
                ("FID_INPUT_ISCD", SAMSUNG),
                ("FID_INPUT_HOUR_1", hour),
                ("FID_PW_DATA_INCU_YN", "N"),
            ],
        )
        .await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
    body["output2"].as_array().unwrap().clone()
}

#[tokio::test]
async fn today_minute_chart_before_the_first_bar_answers_like_now() {
    let server = start(config(Profile::Real)).await;
    server.market().advance(45 * 60); // 45 bars of today
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let now = minute_rows(&caller, "235959").await;
    assert_eq!(now.len(), 30, "a full page of today's bars");
    // python-kis's day_chart() sends 000000 for "latest"; so does any time before the open.
    for early in ["000000", "083000", "085959"] {
        assert_eq!(minute_rows(&caller, early).await, now, "{early}");
    }
    // A time inside the session still pages back.
    let first = now.last().unwrap()["stck_cntg_hour"]
        .as_str()
        .unwrap()
        .to_string();
    let older = minute_rows(&caller, &first).await;
    assert_eq!(older[0]["stck_cntg_hour"].as_str(), Some(first.as_str()));
    assert!(older.last().unwrap()["stck_cntg_hour"].as_str() < Some(first.as_str()));
    server.shutdown().await;
}

type Query = Vec<(&'static str, &'static str)>;

/// The official samples' paging loop: call with `tr_cont` empty, then while the response header
/// `tr_cont` is `M` (or `F`) call again with `tr_cont: N`; stop on anything else.
#[tokio::test]
async fn tr_cont_paging_works_like_the_official_samples() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let cases: [(&str, &str, Query); 4] = [
        (
            "/uapi/domestic-stock/v1/quotations/chk-holiday",
            "CTCA0903R",
            vec![("BASS_DT", "20261120"), ("CTX_AREA_FK", ""), ("CTX_AREA_NK", "")],
        ),
        (
            SEARCH_INFO,
            "CTPF1604R",
            vec![("PDNO", "000660"), ("PRDT_TYPE_CD", "300")],
        ),
        (
            "/uapi/domestic-stock/v1/quotations/search-stock-info",
            "CTPF1002R",
            vec![("PRDT_TYPE_CD", "300"), ("PDNO", "000660")],
        ),
        (
            "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice",
            "FHKST03010100",
            vec![
                ("FID_COND_MRKT_DIV_CODE", "J"),
                ("FID_INPUT_ISCD", SAMSUNG),
                ("FID_INPUT_DATE_1", "20250101"),
                ("FID_INPUT_DATE_2", "20261120"),
                ("FID_PERIOD_DIV_CODE", "D"),
                ("FID_ORG_ADJ_PRC", "0"),
            ],
        ),
    ];
    for (path, tr_id, query) in cases {
        let mut tr_cont = "";
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= 10, "{path}: the samples stop at 10 pages");
            let resp = caller
                .http
                .get(format!("{}{path}", caller.base))
                .query(&query)
                .header("authorization", format!("Bearer {}", caller.token))
                .header("appkey", &caller.key)
                .header("appsecret", &caller.secret)
                .header("tr_id", tr_id)
                .header("custtype", "P")
                .header("tr_cont", tr_cont)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            let next = resp.headers()["tr_cont"].to_str().unwrap().to_string();
            assert!(
                matches!(next.as_str(), "D" | "E" | "F" | "M"),
                "{path}: tr_cont {next:?}"
            );
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["rt_cd"], "0", "{path}: {body}");
            if path.ends_with("chk-holiday") {
                // the sample reads the cursors from the body on every page
                assert!(body["ctx_area_fk"].is_string() && body["ctx_area_nk"].is_string());
            }
            if next != "M" && next != "F" {
                break;
            }
            tr_cont = "N";
        }
    }
    server.shutdown().await;
}

/// python-kis's `kis.stock(code)` without a market asks the overseas markets too; the simulator has
/// none, and says so the way python-kis recognises (rt_cd 0, empty `last`).
#[tokio::test]
async fn overseas_price_knows_no_symbol() {
    let server = start(config(Profile::Real)).await;
    let caller = Caller::new(&server, Profile::Real, 0).await;
    let path = "/uapi/overseas-price/v1/quotations/price";
    for exchange in ["NAS", "NYS", "AMS", "TSE", "HKS", "HNX", "HSX", "SHS", "SZS"] {
        let (status, tr, body) = caller
            .get(
                path,
                "HHDFS00000300",
                &[("AUTH", ""), ("EXCD", exchange), ("SYMB", "999999")],
            )
            .await;
        assert_eq!((status, tr.as_deref()), (200, Some("HHDFS00000300")), "{body}");
        assert_eq!(body["rt_cd"], "0");
        assert_eq!(body["output"]["last"], "", "{exchange}: {body}");
    }
    let (_, _, body) = caller
        .get(
            path,
            "HHDFS00000300",
            &[("AUTH", ""), ("EXCD", "XXX"), ("SYMB", "AAPL")],
        )
        .await;
    assert_eq!(body["rt_cd"], "2", "{body}");
    server.shutdown().await;
}
