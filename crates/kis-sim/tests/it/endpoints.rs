//! The quotation endpoints' behaviour (rows, order, limits, paging) and their answers to bad input.

use crate::common::*;
use kis_sim::{Profile, SimConfig, SimServer};
use serde_json::Value;

const Q: &str = "/uapi/domestic-stock/v1/quotations";

async fn traded(profile: Profile) -> (SimServer, Caller) {
    let server = start(SimConfig {
        control: true,
        ..config(profile)
    })
    .await;
    server.market().advance(2 * 3600);
    let caller = Caller::new(&server, profile, 0).await;
    (server, caller)
}

fn num(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("{v} is not a string"))
        .parse()
        .unwrap()
}

fn ymd(d: jiff::civil::Date) -> String {
    d.strftime("%Y%m%d").to_string()
}

async fn chart(c: &Caller, from: &str, to: &str, period: &str) -> (u16, Value) {
    let (status, _, body) = c
        .get(
            &format!("{Q}/inquire-daily-itemchartprice"),
            "FHKST03010100",
            &[
                ("FID_COND_MRKT_DIV_CODE", "J"),
                ("FID_INPUT_ISCD", SAMSUNG),
                ("FID_INPUT_DATE_1", from),
                ("FID_INPUT_DATE_2", to),
                ("FID_PERIOD_DIV_CODE", period),
                ("FID_ORG_ADJ_PRC", "0"),
            ],
        )
        .await;
    (status, body)
}

#[tokio::test]
async fn period_chart_is_newest_first_capped_at_100_and_pages_by_date() {
    let (server, c) = traded(Profile::Real).await;
    let today = server.market().trading_date();
    let (status, body) = chart(&c, "00000101", &ymd(today), "D").await;
    assert_eq!(status, 200, "{body}");
    let rows = body["output2"].as_array().unwrap();
    assert_eq!(rows.len(), 100);
    assert_eq!(
        rows[0]["stck_bsop_date"],
        ymd(today).as_str(),
        "today's forming bar comes first"
    );
    let dates: Vec<&str> = rows
        .iter()
        .map(|r| r["stck_bsop_date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] > w[1]), "strictly newest first");
    for r in rows {
        let (o, h, l, cl) = (
            num(&r["stck_oprc"]),
            num(&r["stck_hgpr"]),
            num(&r["stck_lwpr"]),
            num(&r["stck_clpr"]),
        );
        assert!(l <= o.min(cl) && h >= o.max(cl), "{r}");
    }
    for w in rows.windows(2) {
        assert_eq!(
            num(&w[0]["prdy_vrss"]),
            num(&w[0]["stck_clpr"]) - num(&w[1]["stck_clpr"])
        );
    }
    assert_eq!(body["output1"]["stck_shrn_iscd"], SAMSUNG);
    assert_eq!(body["output1"]["hts_kor_isnm"], "삼성전자");

    // next page: DATE_2 = the oldest date - 1 day; no overlap, continues backwards
    let oldest = jiff::civil::Date::strptime("%Y%m%d", dates[99]).unwrap();
    let before = oldest.yesterday().unwrap();
    let (_, page2) = chart(&c, "00000101", &ymd(before), "D").await;
    let rows2 = page2["output2"].as_array().unwrap();
    assert_eq!(rows2.len(), 100);
    assert!(rows2[0]["stck_bsop_date"].as_str().unwrap() < dates[99]);

    // a bounded range returns exactly its trading days
    let from = today.checked_sub(jiff::Span::new().days(14)).unwrap();
    let (_, body) = chart(&c, &ymd(from), &ymd(today), "D").await;
    let expected = market::krx::Calendar::krx().trading_days(from, today).count();
    assert_eq!(body["output2"].as_array().unwrap().len(), expected);

    for period in ["W", "M", "Y"] {
        let (status, body) = chart(&c, "20200101", &ymd(today), period).await;
        assert_eq!(status, 200);
        let rows = body["output2"].as_array().unwrap();
        assert!(!rows.is_empty() && rows.len() <= 100, "{period}: {}", rows.len());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn minute_charts_respect_the_hour_and_the_row_caps() {
    let (server, c) = traded(Profile::Real).await;
    let base = [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", SAMSUNG)];
    let mut q = base.to_vec();
    q.extend([
        ("FID_ETC_CLS_CODE", ""),
        ("FID_INPUT_HOUR_1", "100000"),
        ("FID_PW_DATA_INCU_YN", "N"),
    ]);
    let (_, _, body) = c
        .get(&format!("{Q}/inquire-time-itemchartprice"), "FHKST03010200", &q)
        .await;
    let rows = body["output2"].as_array().unwrap();
    assert_eq!(rows.len(), 30);
    assert_eq!(rows[0]["stck_cntg_hour"], "100000");
    assert_eq!(rows[29]["stck_cntg_hour"], "093100");
    for w in rows.windows(2) {
        assert!(num(&w[0]["acml_tr_pbmn"]) >= num(&w[1]["acml_tr_pbmn"]));
    }
    let today = ymd(server.market().trading_date());
    assert!(rows.iter().all(|r| r["stck_bsop_date"] == today.as_str()));

    // a time in the future means now: the newest row is the current minute
    let mut q = base.to_vec();
    q.extend([
        ("FID_ETC_CLS_CODE", ""),
        ("FID_INPUT_HOUR_1", "235959"),
        ("FID_PW_DATA_INCU_YN", "Y"),
    ]);
    let (_, _, body) = c
        .get(&format!("{Q}/inquire-time-itemchartprice"), "FHKST03010200", &q)
        .await;
    let now = server.market().now().time();
    let newest = body["output2"][0]["stck_cntg_hour"].as_str().unwrap().to_string();
    assert!(
        newest <= now.strftime("%H%M%S").to_string(),
        "{newest} after {now}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn orderbook_stock_info_and_holidays() {
    let (server, c) = traded(Profile::Real).await;
    let ji = [("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", SAMSUNG)];
    let (_, _, body) = c
        .get(&format!("{Q}/inquire-asking-price-exp-ccn"), "FHKST01010200", &ji)
        .await;
    let book = &body["output1"];
    for i in 1..=10 {
        for f in [
            "askp",
            "bidp",
            "askp_rsqn",
            "bidp_rsqn",
            "askp_rsqn_icdc",
            "bidp_rsqn_icdc",
        ] {
            num(&book[format!("{f}{i}")]);
        }
    }
    assert!(num(&book["askp1"]) > num(&book["bidp1"]));
    assert!(num(&book["askp2"]) > num(&book["askp1"]));
    assert!(num(&book["bidp2"]) < num(&book["bidp1"]));
    let total: i64 = (1..=10).map(|i| num(&book[format!("askp_rsqn{i}")])).sum();
    assert_eq!(num(&book["total_askp_rsqn"]), total);
    for f in [
        "antc_cnpr",
        "antc_cntg_vrss",
        "antc_vol",
        "stck_sdpr",
        "stck_prpr",
    ] {
        num(&body["output2"][f]);
    }
    assert_eq!(body["output2"]["stck_shrn_iscd"], SAMSUNG);

    let (_, _, body) = c
        .get(
            &format!("{Q}/search-stock-info"),
            "CTPF1002R",
            &[("PRDT_TYPE_CD", "300"), ("PDNO", SAMSUNG)],
        )
        .await;
    assert_eq!(body["output"]["pdno"], SAMSUNG);
    assert_eq!(body["output"]["prdt_abrv_name"], "삼성전자");
    assert_eq!(body["output"]["excg_dvsn_cd"], "02");

    let (_, _, body) = c
        .get(
            &format!("{Q}/chk-holiday"),
            "TCA0903R",
            &[("BASS_DT", "20260101"), ("CTX_AREA_NK", ""), ("CTX_AREA_FK", "")],
        )
        .await;
    let days = body["output"].as_array().unwrap();
    assert_eq!(days[0]["bass_dt"], "20260101");
    assert_eq!(days[0]["opnd_yn"], "N", "신정");
    assert_eq!(days[1]["opnd_yn"], "Y", "2026-01-02 is a Friday trading day");
    assert_eq!(days[2]["wday_dvsn_cd"], "07", "2026-01-03 is a Saturday");
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_codes_get_rt_cd_0_with_zeroed_outputs() {
    let (server, c) = traded(Profile::Real).await;
    let (status, body) = c.price("999999").await;
    assert_eq!(status, 200);
    assert_eq!(body["rt_cd"], "0");
    assert_eq!(body["output"]["stck_prpr"], "0");
    assert_eq!(body["output"]["stck_shrn_iscd"], "");
    let (_, known) = c.price(SAMSUNG).await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&body["output"]),
        keys(&known["output"]),
        "same fields, zeroed"
    );
    let (_, _, body) = c
        .get(
            &format!("{Q}/inquire-ccnl"),
            "FHKST01010300",
            &[("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", "Q500001")],
        )
        .await;
    assert_eq!(
        (body["rt_cd"].as_str(), body["output"].as_array().map(Vec::len)),
        (Some("0"), Some(0))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_kis_errors_not_panics() {
    let (server, c) = traded(Profile::Real).await;
    let msg = |b: &Value| {
        (
            b["rt_cd"].as_str().unwrap().to_string(),
            b["msg_cd"].as_str().unwrap().to_string(),
            b["msg1"].as_str().unwrap().to_string(),
        )
    };
    let price = format!("{Q}/inquire-price");

    let (status, _, body) = c
        .get(
            &price,
            "FHKST01010100",
            &[
                ("FID_COND_MRKT_DIV_CODE", "J"),
                ("FID_INPUT_ISCD", SAMSUNG),
                ("FID_BOGUS", "1"),
            ],
        )
        .await;
    let (rt, code, text) = msg(&body);
    assert_eq!((status, rt.as_str(), code.as_str()), (200, "2", "OPSQ2002"));
    assert!(text.contains("FID_BOGUS"), "{text}");

    let (_, _, body) = c
        .get(&price, "FHKST01010100", &[("FID_COND_MRKT_DIV_CODE", "J")])
        .await;
    assert!(msg(&body).2.contains("FID_INPUT_ISCD"));
    let (_, _, body) = c
        .get(
            &price,
            "FHKST01010100",
            &[("FID_COND_MRKT_DIV_CODE", "X"), ("FID_INPUT_ISCD", SAMSUNG)],
        )
        .await;
    assert_eq!(msg(&body).1, "OPSQ2001");
    let (_, _, body) = c
        .get(
            &price,
            "FHKST01010100",
            &[("FID_COND_MRKT_DIV_CODE", "J"), ("FID_INPUT_ISCD", "00 59;30")],
        )
        .await;
    assert_eq!(msg(&body).1, "OPSQ2002");

    let today = ymd(server.market().trading_date());
    let (_, body) = chart(&c, &today, "20200101", "D").await;
    assert!(msg(&body).2.contains("FID_INPUT_DATE_1"), "{body}");
    let (_, body) = chart(&c, "2020-01-01", &today, "D").await;
    assert!(msg(&body).2.contains("INPUT_DATE_1"), "{body}");
    let (_, body) = chart(&c, "20200101", "20201399", "D").await;
    assert_eq!(msg(&body).1, "OPSQ2002");
    let (_, body) = chart(&c, "20200101", &today, "Q").await;
    assert!(msg(&body).2.contains("PERIOD_DIV_CODE"));

    let hour = [
        ("FID_COND_MRKT_DIV_CODE", "J"),
        ("FID_INPUT_ISCD", SAMSUNG),
        ("FID_ETC_CLS_CODE", ""),
        ("FID_INPUT_HOUR_1", "9am"),
        ("FID_PW_DATA_INCU_YN", "N"),
    ];
    let (_, _, body) = c
        .get(
            &format!("{Q}/inquire-time-itemchartprice"),
            "FHKST03010200",
            &hour,
        )
        .await;
    assert!(msg(&body).2.contains("INPUT_HOUR_1"));

    // malformed percent-encoding in the raw query
    let resp = c
        .http
        .get(format!(
            "{}{price}?FID_COND_MRKT_DIV_CODE=J&FID_INPUT_ISCD=%G1",
            c.base
        ))
        .header("authorization", format!("Bearer {}", c.token))
        .header("appkey", &c.key)
        .header("appsecret", &c.secret)
        .header("tr_id", "FHKST01010100")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["msg_cd"], "OPSQ2002");

    // an unknown path under the quotations and elsewhere
    let (status, _, body) = c.get(&format!("{Q}/no-such-api"), "FHKST01010100", &[]).await;
    assert_eq!((status, msg(&body).1.as_str()), (500, "OPSQ0002"));
    let (status, _, _) = c.get("/uapi/nothing", "FHKST01010100", &[]).await;
    assert_eq!(status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn vts_does_not_offer_real_only_trs() {
    let server = start(config(Profile::Vts)).await;
    let c = Caller::new(&server, Profile::Vts, 0).await;
    let (status, _, body) = c
        .get(
            &format!("{Q}/inquire-time-dailychartprice"),
            "FHKST03010230",
            &[
                ("FID_COND_MRKT_DIV_CODE", "J"),
                ("FID_INPUT_ISCD", SAMSUNG),
                ("FID_INPUT_HOUR_1", "130000"),
                ("FID_INPUT_DATE_1", "20260105"),
                ("FID_PW_DATA_INCU_YN", "Y"),
                ("FID_FAKE_TICK_INCU_YN", ""),
            ],
        )
        .await;
    assert_eq!((status, body["msg_cd"].as_str()), (500, Some("EGW00213")));
    assert_eq!(c.price(SAMSUNG).await.0, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn expected_closing_prices_only_during_the_closing_auction() {
    let server = start(config(Profile::Real)).await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    let query = [
        ("FID_RANK_SORT_CLS_CODE", "0"),
        ("FID_COND_MRKT_DIV_CODE", "J"),
        ("FID_COND_SCR_DIV_CODE", "11173"),
        ("FID_INPUT_ISCD", "0001"),
        ("FID_BLNG_CLS_CODE", "0"),
    ];
    let path = format!("{Q}/exp-closing-price");
    let (_, _, body) = c.get(&path, "FHKST117300C0", &query).await;
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/kis/exp-closing-price-empty.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(body, sample, "outside the closing auction the list is empty");

    // 09:00 + 6 h 21 min = 15:21, inside the closing auction
    server.market().advance(6 * 3600 + 21 * 60);
    assert_eq!(server.market().phase(), market::krx::Phase::ClosingAuction);
    let (_, _, body) = c.get(&path, "FHKST117300C0", &query).await;
    let rows = body["output"].as_array().unwrap();
    assert!(!rows.is_empty());
    let kospi: Vec<&str> = server
        .market()
        .stocks()
        .iter()
        .filter(|s| s.market.as_str() == "KOSPI")
        .map(|s| s.code.as_str())
        .collect();
    assert!(
        rows.iter()
            .all(|r| kospi.contains(&r["stck_shrn_iscd"].as_str().unwrap()))
    );
    for r in rows {
        num(&r["stck_prpr"]);
        num(&r["cntg_vol"]);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_holiday_tr_is_accepted_under_both_spellings() {
    let server = start(config(Profile::Real)).await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    for tr in ["CTCA0903R", "TCA0903R"] {
        let (status, echoed, body) = c
            .get(&format!("{Q}/chk-holiday"), tr, &[("BASS_DT", "20261120")])
            .await;
        assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")));
        assert_eq!(echoed.as_deref(), Some(tr));
    }
    server.shutdown().await;
}
