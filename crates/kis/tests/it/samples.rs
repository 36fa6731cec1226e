//! The REST parsers against every REST sample in `testdata/kis/`, plus fuzz-style properties:
//! no input makes a parser panic. (The `ws-*` samples belong to the realtime tests.)

use std::path::PathBuf;

use jiff::civil::{date, time};
use kis::KisError;
use kis::wire::auth::{parse_approval, parse_token};
use kis::wire::chart::{BarPeriod, PastMinuteChartRequest, PeriodChartRequest, TodayMinuteChartRequest};
use kis::wire::info::{HolidayRequest, ProductInfoRequest, StockInfoRequest};
use kis::wire::quotations::{
    DailyPriceRequest, ExecutionsRequest, InvestorRequest, OrderBookRequest, PriceRequest, RecentPeriod,
};
use kis::wire::{Request, check_envelope};
use market::StockCode;
use market::krx::Sign;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/kis"))
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(samples().join(name)).unwrap_or_else(|e| panic!("sample {name}: {e}"))
}

fn code(s: &str) -> StockCode {
    StockCode::parse(s).unwrap()
}

/// Every REST sample file is covered by a test below (or is a request body / ws sample).
#[test]
fn every_rest_sample_is_known() {
    let covered = [
        "inquire-price.json",
        "inquire-ccnl.json",
        "inquire-daily-price.json",
        "inquire-investor.json",
        "exp-closing-price-empty.json",
        "inquire-time-dailychartprice.doc-example.txt",
        "inquire-time-itemchartprice.doc-example.txt",
        "inquire-time-itemconclusion.doc-example.txt",
        "tokenP-response.json",
        "tokenP-error-EGW00133.http.txt",
        "approval-response.json",
        "error-EGW00123-token-expired.json",
        "error-EGW00201-rate-limit.json",
        "error-EGW02004-domain-mismatch.json",
        "search-info.json",
        // Request bodies: the client builds these itself (checked in `auth_request_bodies`).
        "tokenP-request.json",
        "approval-request.json",
        "revokeP-request.json",
        "hashkey-request.json",
        "README.md",
        // The stock master files: `master_parse.rs`.
        "master",
    ];
    for entry in std::fs::read_dir(samples()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("ws-") {
            continue;
        }
        assert!(
            covered.contains(&name.as_str()),
            "sample {name} has no parser test"
        );
    }
}

#[test]
fn inquire_price_sample() {
    let body = sample("inquire-price.json");
    check_envelope(PriceRequest::TR_ID, 200, &body).unwrap();
    let p = PriceRequest { code: code("000660") }.parse(&body).unwrap();
    assert_eq!(p.price, 128_500);
    assert_eq!((p.change, p.sign, p.change_rate), (0, Sign::Flat, Decimal::ZERO));
    assert_eq!((p.open, p.high, p.low), (128_500, 130_000, 128_500));
    assert_eq!(
        (p.upper_limit, p.lower_limit, p.base_price),
        (167_000, 90_000, 128_500)
    );
    assert_eq!(p.volume, 2_669_075);
    assert_eq!(p.turnover, 344_570_137_500);
    assert_eq!(p.tick, Some(500));
    assert_eq!(p.listed_shares, Some(728_002_365));
    assert_eq!(p.per, Some(Decimal::new(1967, 2)));
    assert_eq!(p.market_name, "KOSPI200");
    assert_eq!(p.sector, "전기.전자");
    assert!(!p.halted);
}

/// The portal's search-info example is an overseas product (AAPL): its envelope (KIOK0530) is a
/// success, a non-domestic short code is refused naming the field, and the same body with a domestic
/// code gives the names and the ISIN.
#[test]
fn search_info_sample() {
    let body = sample("search-info.json");
    check_envelope(ProductInfoRequest::TR_ID, 200, &body).unwrap();
    let request = ProductInfoRequest { code: code("005930") };
    match request.parse(&body).unwrap_err() {
        KisError::Parse { field, raw, .. } => assert_eq!((field, raw.as_str()), ("shtn_pdno", "AAPL")),
        other => panic!("expected a parse error naming shtn_pdno, got {other:?}"),
    }
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["output"]["shtn_pdno"] = "005930".into();
    let info = request.parse(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(info.code, code("005930"));
    assert_eq!(
        (info.name.as_str(), info.english_name.as_str()),
        ("애플", "APPLE INC")
    );
    assert_eq!(info.isin, "US0378331005");
    assert_eq!(info.product_type, "512");
}

#[test]
fn zeroed_price_means_not_found() {
    let body = br#"{"output":{"stck_prpr":"0","prdy_vrss":"0","prdy_vrss_sign":"3"},"rt_cd":"0","msg_cd":"MCA00000","msg1":"ok"}"#;
    let err = PriceRequest { code: code("999999") }.parse(body).unwrap_err();
    assert_eq!(
        err,
        KisError::NotFound {
            code: "999999".into()
        }
    );
}

#[test]
fn a_non_number_names_tr_field_and_value() {
    let mut v: serde_json::Value = serde_json::from_slice(&sample("inquire-price.json")).unwrap();
    v["output"]["acml_vol"] = "12x".into();
    let err = PriceRequest { code: code("000660") }
        .parse(&serde_json::to_vec(&v).unwrap())
        .unwrap_err();
    assert_eq!(
        err,
        KisError::Parse {
            tr_id: "FHKST01010100",
            field: "acml_vol",
            raw: "12x".into()
        }
    );
    v["output"]["acml_vol"] = "".into();
    let err = PriceRequest { code: code("000660") }
        .parse(&serde_json::to_vec(&v).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            err,
            KisError::Parse {
                field: "acml_vol",
                ..
            }
        ),
        "empty is not zero: {err}"
    );
}

#[test]
fn unknown_extra_fields_are_tolerated() {
    let mut v: serde_json::Value = serde_json::from_slice(&sample("inquire-price.json")).unwrap();
    v["output"]["a_field_from_2030"] = "whatever".into();
    v["another_top_level"] = serde_json::json!({"x": 1});
    assert!(
        PriceRequest { code: code("000660") }
            .parse(&serde_json::to_vec(&v).unwrap())
            .is_ok()
    );
}

#[test]
fn inquire_ccnl_sample() {
    let rows = ExecutionsRequest { code: code("005930") }
        .parse(&sample("inquire-ccnl.json"))
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].time, time(15, 59, 55, 0));
    assert_eq!(
        (rows[0].price, rows[0].change, rows[0].sign),
        (78_900, 900, Sign::Up)
    );
    assert_eq!(rows[1].volume, 10);
    assert_eq!(rows[0].strength, Decimal::new(11405, 2));
}

#[test]
fn inquire_daily_price_sample() {
    let rows = DailyPriceRequest {
        code: code("005930"),
        period: RecentPeriod::Day,
        adjusted: true,
    }
    .parse(&sample("inquire-daily-price.json"))
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].date, date(2022, 1, 11));
    assert_eq!(rows[1].change, -2500);
    assert_eq!(rows[1].sign, Sign::Down);
    assert_eq!(rows[1].change_rate, Decimal::new(-197, 2));
    assert_eq!(rows[1].foreign_net_buy, Some(293_389));
}

#[test]
fn inquire_investor_sample() {
    let rows = InvestorRequest { code: code("005930") }
        .parse(&sample("inquire-investor.json"))
        .unwrap();
    assert_eq!(rows[0].individual_net, Some(-287_624));
    assert_eq!(rows[0].foreign_net, Some(797_458));
}

#[test]
fn empty_output_list_is_an_empty_answer() {
    let body = sample("exp-closing-price-empty.json");
    check_envelope("FHKST117300C0", 200, &body).unwrap();
    let rows = ExecutionsRequest { code: code("005930") }.parse(&body).unwrap();
    assert!(rows.is_empty());
}

/// The doc example elides rows with `...`; without that line it is valid JSON and parses.
#[test]
fn past_minute_chart_doc_example() {
    let text = String::from_utf8(sample("inquire-time-dailychartprice.doc-example.txt")).unwrap();
    let req = PastMinuteChartRequest {
        code: code("005930"),
        date: date(2024, 11, 8),
        until: time(14, 0, 0, 0),
    };
    assert!(
        req.parse(text.as_bytes()).is_err(),
        "the elided original is not JSON"
    );
    let text: String = text
        .lines()
        .filter(|l| l.trim() != "...")
        .collect::<Vec<_>>()
        .join("\n");
    let chart = req.parse(text.as_bytes()).unwrap();
    assert_eq!(chart.bars.len(), 3);
    assert_eq!(chart.bars[0].time, time(14, 0, 0, 0));
    assert_eq!((chart.bars[0].close, chart.bars[0].volume), (57_300, 59_047));
    assert_eq!(chart.bars[2].turnover_acc, 357_875_441_100);
    let s = chart.summary.unwrap();
    assert_eq!(s.name, "삼성전자");
    assert_eq!(
        (s.price, s.change, s.sign),
        (Some(57_000), Some(-500), Some(Sign::Down))
    );
}

/// The source of this doc example is malformed (merged rows): a clear error, no panic.
#[test]
fn malformed_minute_chart_doc_example_is_a_decode_error() {
    let req = TodayMinuteChartRequest {
        code: code("000660"),
        until: time(10, 0, 0, 0),
    };
    let err = req
        .parse(&sample("inquire-time-itemchartprice.doc-example.txt"))
        .unwrap_err();
    assert!(
        matches!(err, KisError::Decode { ref tr_id, .. } if tr_id == "FHKST03010200"),
        "{err}"
    );
}

/// A fragment (no outer braces, rows elided with `....`): a decode error, no panic.
#[test]
fn conclusion_fragment_is_a_decode_error() {
    let body = sample("inquire-time-itemconclusion.doc-example.txt");
    assert!(check_envelope("FHPST01060000", 200, &body).is_err());
    let err = check_envelope("FHPST01060000", 200, &[b"{".as_slice(), &body, b"}"].concat()).unwrap_err();
    assert!(matches!(err, KisError::Decode { .. }), "{err}");
}

#[test]
fn token_samples() {
    let t = parse_token(200, &sample("tokenP-response.json"), jiff::Timestamp::UNIX_EPOCH).unwrap();
    assert_eq!(t.access_token, "eyJ...");
    assert_eq!(
        market::time::to_kst(t.expires_at),
        date(2024, 1, 2).at(0, 0, 0, 0)
    );
    let raw = String::from_utf8(sample("tokenP-error-EGW00133.http.txt")).unwrap();
    let body = raw.split("\n\n").nth(1).unwrap();
    let err = parse_token(403, body.as_bytes(), jiff::Timestamp::UNIX_EPOCH).unwrap_err();
    assert!(matches!(err, KisError::TokenIssuance { status: 403, ref code, .. } if code == "EGW00133"));
    assert_eq!(
        parse_approval(200, &sample("approval-response.json")).unwrap(),
        "{{APPROVAL_KEY}}"
    );
}

#[test]
fn auth_request_bodies() {
    let token: serde_json::Value = serde_json::from_slice(&sample("tokenP-request.json")).unwrap();
    let ours = kis::wire::auth::token_body("{{APPKEY}}", "{{APPSECRET}}");
    assert_eq!(ours, token);
    let approval: serde_json::Value = serde_json::from_slice(&sample("approval-request.json")).unwrap();
    assert_eq!(
        kis::wire::auth::approval_body("{{APPKEY}}", "{{APPSECRET}}"),
        approval
    );
}

#[test]
fn error_samples() {
    let tr = PriceRequest::TR_ID;
    assert!(matches!(
        check_envelope(tr, 500, &sample("error-EGW00201-rate-limit.json")),
        Err(KisError::RateLimited { status: 500, .. })
    ));
    assert!(matches!(
        check_envelope(tr, 500, &sample("error-EGW00123-token-expired.json")),
        Err(KisError::TokenExpired { .. })
    ));
    let err = check_envelope(tr, 500, &sample("error-EGW02004-domain-mismatch.json")).unwrap_err();
    assert!(matches!(err, KisError::Api { ref msg_cd, .. } if msg_cd == "EGW02004"));
    assert!(!err.is_retryable() || matches!(err, KisError::Api { status: 500, .. }));
}

#[test]
fn output1_as_empty_list_is_tolerated() {
    let body = br#"{"output1":[],"output2":[],"rt_cd":"0","msg_cd":"MCA00000","msg1":"ok"}"#;
    let chart = PeriodChartRequest {
        code: code("005930"),
        period: BarPeriod::Day,
        from: date(2024, 1, 1),
        to: date(2024, 1, 31),
        adjusted: true,
    }
    .parse(body)
    .unwrap();
    assert!(chart.summary.is_none() && chart.bars.is_empty());
}

fn all_parsers(body: &[u8]) {
    let c = code("005930");
    let d = date(2024, 1, 2);
    let t = time(10, 0, 0, 0);
    let _ = check_envelope("T", 200, body);
    let _ = PriceRequest { code: c }.parse(body);
    let _ = OrderBookRequest { code: c }.parse(body);
    let _ = ExecutionsRequest { code: c }.parse(body);
    let _ = DailyPriceRequest {
        code: c,
        period: RecentPeriod::Week,
        adjusted: false,
    }
    .parse(body);
    let _ = InvestorRequest { code: c }.parse(body);
    let _ = PeriodChartRequest {
        code: c,
        period: BarPeriod::Month,
        from: d,
        to: d,
        adjusted: true,
    }
    .parse(body);
    let _ = TodayMinuteChartRequest { code: c, until: t }.parse(body);
    let _ = PastMinuteChartRequest {
        code: c,
        date: d,
        until: t,
    }
    .parse(body);
    let _ = StockInfoRequest { code: c }.parse(body);
    let _ = HolidayRequest { date: d }.parse(body);
    let _ = parse_token(200, body, jiff::Timestamp::UNIX_EPOCH);
    let _ = parse_approval(200, body);
}

/// JSON shaped like KIS answers, with arbitrary values in the fields the parsers read.
fn kis_like() -> impl Strategy<Value = serde_json::Value> {
    let names = prop::sample::select(vec![
        "stck_prpr",
        "prdy_vrss",
        "prdy_vrss_sign",
        "prdy_ctrt",
        "acml_vol",
        "stck_bsop_date",
        "stck_cntg_hour",
        "stck_oprc",
        "stck_hgpr",
        "stck_lwpr",
        "stck_clpr",
        "cntg_vol",
        "askp1",
        "bidp_rsqn3",
        "aspr_acpt_hour",
        "bass_dt",
        "opnd_yn",
        "prdt_abrv_name",
        "access_token",
        "access_token_token_expired",
        "expires_in",
        "approval_key",
    ]);
    let leaf = prop_oneof![
        ".{0,12}".prop_map(serde_json::Value::from),
        "-?[0-9]{0,22}(\\.[0-9]{0,4})?".prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!([])),
    ];
    let record = prop::collection::btree_map(names, leaf, 0..12)
        .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    let output = prop_oneof![
        record.clone(),
        prop::collection::vec(record.clone(), 0..3).prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        ".{0,5}".prop_map(serde_json::Value::from),
    ];
    (
        output.clone(),
        output.clone(),
        output,
        prop::option::of("[0-9]{1}"),
    )
        .prop_map(|(o, o1, o2, rt)| {
            let mut body = serde_json::json!({"output": o, "output1": o1, "output2": o2});
            if let Some(rt) = rt {
                body["rt_cd"] = rt.into();
            }
            body
        })
}

proptest! {
    #[test]
    fn no_bytes_panic_the_parsers(body in prop::collection::vec(any::<u8>(), 0..256)) {
        all_parsers(&body);
    }

    #[test]
    fn no_kis_shaped_json_panics_the_parsers(body in kis_like()) {
        all_parsers(&serde_json::to_vec(&body).unwrap());
    }

    #[test]
    fn mutated_samples_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>(), which in 0usize..4) {
        let name = ["inquire-price.json", "inquire-ccnl.json", "inquire-daily-price.json", "tokenP-response.json"][which];
        let mut body = sample(name);
        let i = pos.index(body.len());
        body[i] = byte;
        all_parsers(&body);
    }
}

/// No captured chk-holiday answer exists; this body follows the documented fields (CTCA0903R).
#[test]
fn holiday_rows_parse_the_documented_fields() {
    let body = br#"{"ctx_area_nk":"","ctx_area_fk":"","output":[
        {"bass_dt":"20260814","wday_dvsn_cd":"06","bzdy_yn":"Y","tr_day_yn":"Y","opnd_yn":"Y","sttl_day_yn":"Y"},
        {"bass_dt":"20260815","wday_dvsn_cd":"07","bzdy_yn":"N","tr_day_yn":"N","opnd_yn":"N","sttl_day_yn":"N"}],
        "rt_cd":"0","msg_cd":"MCA00000","msg1":"ok"}"#;
    let days = HolidayRequest {
        date: date(2026, 8, 14),
    }
    .parse(body)
    .unwrap();
    assert_eq!(days.len(), 2);
    assert!(days[0].open && days[0].trading_day);
    assert_eq!(days[1].date, date(2026, 8, 15));
    assert!(!days[1].open);
    let bad = br#"{"output":[{"bass_dt":"20260815","bzdy_yn":"N","tr_day_yn":"N","opnd_yn":"maybe","sttl_day_yn":"N"}],"rt_cd":"0"}"#;
    let err = HolidayRequest {
        date: date(2026, 8, 15),
    }
    .parse(bad)
    .unwrap_err();
    assert!(matches!(err, KisError::Parse { field: "opnd_yn", ref raw, .. } if raw == "maybe"));
}
