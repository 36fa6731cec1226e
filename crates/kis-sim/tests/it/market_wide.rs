//! The market-wide endpoints over HTTP: `intstock-multprice` (30 codes a call), `volume-rank` and
//! `ranking/fluctuation` (30 rows), `psearch-title` / `psearch-result` (the canned HTS conditions),
//! their refusal on 모의투자 and the configurable `intstock-multprice` there, and the rate limit counting
//! each call once.

use std::collections::HashSet;

use crate::common::*;
use kis_sim::model::{Preferred, SecurityKind};
use kis_sim::{Profile, SimConfig, SimServer};
use serde_json::Value;

const Q: &str = "/uapi/domestic-stock/v1/quotations";
const MULTPRICE: &str = "/uapi/domestic-stock/v1/quotations/intstock-multprice";
const FLUCTUATION: &str = "/uapi/domestic-stock/v1/ranking/fluctuation";

/// A simulator whose clock barely moves (answers compared across calls agree), an hour into the session.
async fn frozen(profile: Profile) -> SimServer {
    let server = start(SimConfig {
        speed: 1e-9,
        ..config(profile)
    })
    .await;
    server.market().advance(3600);
    server
}

fn num(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a KIS number: {v}"))
}

fn rows(body: &Value, key: &str) -> Vec<Value> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {body}"))
        .clone()
}

fn multprice_query(codes: &[&str]) -> Vec<(String, String)> {
    let mut q = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        q.push((format!("FID_COND_MRKT_DIV_CODE_{}", i + 1), "J".to_string()));
        q.push((format!("FID_INPUT_ISCD_{}", i + 1), code.to_string()));
    }
    q
}

async fn get_owned(c: &Caller, path: &str, tr: &str, query: &[(String, String)]) -> (u16, Value) {
    let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, body) = c.get(path, tr, &q).await;
    (status, body)
}

#[tokio::test]
async fn multprice_answers_thirty_codes_in_order_with_today_s_bar_and_the_previous_close() {
    let server = frozen(Profile::Real).await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    let stocks = server.market().stocks();
    let etn = stocks.iter().find(|s| s.kind == SecurityKind::Etn).unwrap();
    let etn_q = format!("Q{}", etn.code);
    let mut codes: Vec<&str> = stocks.iter().take(27).map(|s| s.code.as_str()).collect();
    codes.push(&etn_q);
    codes.push("999999");
    codes.push(stocks[2000].code.as_str());
    assert_eq!(codes.len(), 30);
    let (status, body) = get_owned(&c, MULTPRICE, "FHKST11300006", &multprice_query(&codes)).await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
    let out = rows(&body, "output");
    assert_eq!(out.len(), 30);
    for (row, code) in out.iter().zip(&codes) {
        assert!(row.as_object().unwrap().values().all(Value::is_string), "{row}");
        assert_eq!(row.as_object().unwrap().len(), 29, "the documented fields");
        let expected = code.trim_start_matches('Q');
        assert_eq!(row["inter_shrn_iscd"], expected);
    }
    assert_eq!(out[28]["inter2_prpr"], "0", "an unknown code is a zeroed row");
    assert_eq!(out[27]["inter_kor_isnm"], etn.name);
    // The same numbers inquire-price gives.
    for (row, code) in out.iter().zip(&codes).take(5) {
        let (_, price) = c.price(code).await;
        let p = &price["output"];
        assert_eq!(row["inter2_prpr"], p["stck_prpr"], "{code}");
        assert_eq!(row["inter2_oprc"], p["stck_oprc"]);
        assert_eq!(row["inter2_hgpr"], p["stck_hgpr"]);
        assert_eq!(row["inter2_lwpr"], p["stck_lwpr"]);
        assert_eq!(row["acml_vol"], p["acml_vol"]);
        assert_eq!(row["acml_tr_pbmn"], p["acml_tr_pbmn"]);
        assert_eq!(row["inter2_prdy_clpr"], p["stck_sdpr"]);
        assert_eq!(row["inter2_sdpr"], p["stck_sdpr"]);
        assert_eq!(row["inter2_mxpr"], p["stck_mxpr"]);
        assert_eq!(row["prdy_ctrt"], p["prdy_ctrt"]);
        assert!(num(&row["inter2_lwpr"]) <= num(&row["inter2_prpr"]));
    }

    // A 31st pair is not a field of this TR; pair 1 is required.
    let mut q = multprice_query(&codes);
    q.push(("FID_COND_MRKT_DIV_CODE_31".into(), "J".into()));
    q.push(("FID_INPUT_ISCD_31".into(), "005930".into()));
    let (status, body) = get_owned(&c, MULTPRICE, "FHKST11300006", &q).await;
    assert_eq!(
        (status, body["msg_cd"].as_str()),
        (200, Some("OPSQ2002")),
        "{body}"
    );
    let q = vec![("FID_INPUT_ISCD_2".to_string(), "005930".to_string())];
    let (_, body) = get_owned(&c, MULTPRICE, "FHKST11300006", &q).await;
    assert_eq!(body["msg_cd"], "OPSQ2002", "{body}");
    let (_, body) = get_owned(
        &c,
        MULTPRICE,
        "FHKST11300006",
        &[
            ("FID_COND_MRKT_DIV_CODE_1".into(), "X".into()),
            ("FID_INPUT_ISCD_1".into(), "005930".into()),
        ],
    )
    .await;
    assert_eq!(body["msg_cd"], "OPSQ2001", "{body}");
    server.shutdown().await;
}

fn volume_query(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = [
        ("FID_COND_MRKT_DIV_CODE", "J"),
        ("FID_COND_SCR_DIV_CODE", "20171"),
        ("FID_INPUT_ISCD", "0000"),
        ("FID_DIV_CLS_CODE", "0"),
        ("FID_BLNG_CLS_CODE", "0"),
        ("FID_TRGT_CLS_CODE", "111111111"),
        ("FID_TRGT_EXLS_CLS_CODE", "0000000000"),
        ("FID_INPUT_PRICE_1", ""),
        ("FID_INPUT_PRICE_2", ""),
        ("FID_VOL_CNT", ""),
        ("FID_INPUT_DATE_1", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        if let Some(slot) = q.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v.to_string();
        }
    }
    q
}

#[tokio::test]
async fn volume_rank_answers_thirty_rows_by_volume_with_its_filters() {
    let server = frozen(Profile::Real).await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    let path = format!("{Q}/volume-rank");
    let (status, body) = get_owned(&c, &path, "FHPST01710000", &volume_query(&[])).await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
    let out = rows(&body, "output");
    assert_eq!(out.len(), 30);
    for (i, row) in out.iter().enumerate() {
        assert_eq!(num(&row["data_rank"]) as usize, i + 1);
        assert!(row.as_object().unwrap().values().all(Value::is_string));
        assert_eq!(row.as_object().unwrap().len(), 19, "the documented fields");
    }
    let volumes: Vec<f64> = out.iter().map(|r| num(&r["acml_vol"])).collect();
    assert!(volumes.windows(2).all(|w| w[0] >= w[1]), "{volumes:?}");
    let info = |row: &Value| {
        let code = row["mksc_shrn_iscd"].as_str().unwrap().parse().unwrap();
        *server.market().stock(&code).unwrap()
    };

    // By turnover; only preferred shares; ETFs, ETNs and halted stocks excluded; KOSDAQ only.
    let (_, body) = get_owned(
        &c,
        &path,
        "FHPST01710000",
        &volume_query(&[("FID_BLNG_CLS_CODE", "3")]),
    )
    .await;
    let turnover: Vec<f64> = rows(&body, "output")
        .iter()
        .map(|r| num(&r["acml_tr_pbmn"]))
        .collect();
    assert!(turnover.windows(2).all(|w| w[0] >= w[1]));
    let (_, body) = get_owned(
        &c,
        &path,
        "FHPST01710000",
        &volume_query(&[("FID_DIV_CLS_CODE", "2")]),
    )
    .await;
    let preferred = rows(&body, "output");
    assert!(!preferred.is_empty());
    assert!(preferred.iter().all(|r| info(r).flags.preferred != Preferred::No));
    let (_, body) = get_owned(
        &c,
        &path,
        "FHPST01710000",
        &volume_query(&[("FID_TRGT_EXLS_CLS_CODE", "0000011100")]),
    )
    .await;
    for r in rows(&body, "output") {
        let s = info(&r);
        assert!(s.kind == SecurityKind::Stock && !s.flags.halted, "{}", s.name);
    }
    let (_, body) = get_owned(
        &c,
        &path,
        "FHPST01710000",
        &volume_query(&[("FID_INPUT_ISCD", "1001")]),
    )
    .await;
    assert!(
        rows(&body, "output")
            .iter()
            .all(|r| info(r).market.as_str() == "KOSDAQ")
    );
    let (_, body) = get_owned(
        &c,
        &path,
        "FHPST01710000",
        &volume_query(&[("FID_INPUT_PRICE_1", "1000"), ("FID_INPUT_PRICE_2", "5000")]),
    )
    .await;
    assert!(
        rows(&body, "output")
            .iter()
            .all(|r| (1000.0..=5000.0).contains(&num(&r["stck_prpr"])))
    );
    let (_, body) = get_owned(
        &c,
        &path,
        "FHPST01710000",
        &volume_query(&[("FID_COND_SCR_DIV_CODE", "11111")]),
    )
    .await;
    assert_eq!(body["msg_cd"], "OPSQ2002");
    server.shutdown().await;
}

fn fluctuation_query(sort: &str, prc: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = [
        ("fid_rsfl_rate2", ""),
        ("fid_cond_mrkt_div_code", "J"),
        ("fid_cond_scr_div_code", "20170"),
        ("fid_input_iscd", "0000"),
        ("fid_rank_sort_cls_code", sort),
        ("fid_input_cnt_1", "0"),
        ("fid_prc_cls_code", prc),
        ("fid_input_price_1", ""),
        ("fid_input_price_2", ""),
        ("fid_vol_cnt", ""),
        ("fid_trgt_cls_code", "0"),
        ("fid_trgt_exls_cls_code", "0"),
        ("fid_div_cls_code", "0"),
        ("fid_rsfl_rate1", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        if let Some(slot) = q.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v.to_string();
        }
    }
    q
}

#[tokio::test]
async fn fluctuation_ranks_rises_and_falls_in_thirty_rows() {
    let server = frozen(Profile::Real).await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    let (status, body) = get_owned(
        &c,
        FLUCTUATION,
        "FHPST01700000",
        &fluctuation_query("0", "1", &[]),
    )
    .await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
    let up = rows(&body, "output");
    assert_eq!(up.len(), 30);
    assert!(up.iter().all(|r| r.as_object().unwrap().len() == 24));
    let rates: Vec<f64> = up.iter().map(|r| num(&r["prdy_ctrt"])).collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    let (_, body) = get_owned(
        &c,
        FLUCTUATION,
        "FHPST01700000",
        &fluctuation_query("1", "1", &[]),
    )
    .await;
    let down: Vec<f64> = rows(&body, "output")
        .iter()
        .map(|r| num(&r["prdy_ctrt"]))
        .collect();
    assert!(down.windows(2).all(|w| w[0] <= w[1]), "{down:?}");
    assert!(down[0] <= rates[0]);
    // A band of change rates, and the period change over five days.
    let (_, body) = get_owned(
        &c,
        FLUCTUATION,
        "FHPST01700000",
        &fluctuation_query("0", "1", &[("fid_rsfl_rate1", "-1"), ("fid_rsfl_rate2", "1")]),
    )
    .await;
    assert!(
        rows(&body, "output")
            .iter()
            .all(|r| (-1.0..=1.0).contains(&num(&r["prdy_ctrt"])))
    );
    let (_, body) = get_owned(
        &c,
        FLUCTUATION,
        "FHPST01700000",
        &fluctuation_query("0", "1", &[("fid_input_cnt_1", "5")]),
    )
    .await;
    let period: Vec<f64> = rows(&body, "output")
        .iter()
        .map(|r| num(&r["prd_rsfl_rate"]))
        .collect();
    assert!(period.windows(2).all(|w| w[0] >= w[1]), "{period:?}");
    // The same TR under the quotations path is unknown there.
    let (status, _, body) = c.get(&format!("{Q}/fluctuation"), "FHPST01700000", &[]).await;
    assert_eq!((status, body["msg_cd"].as_str()), (500, Some("OPSQ0002")));
    server.shutdown().await;
}

#[tokio::test]
async fn hts_conditions_list_run_cap_at_a_hundred_and_report_no_match() {
    let server = frozen(Profile::Real).await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    let title = format!("{Q}/psearch-title");
    let result = format!("{Q}/psearch-result");
    let (status, _, body) = c.get(&title, "HHKST03900300", &[("user_id", "kiswatch")]).await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
    let conditions = rows(&body, "output2");
    assert_eq!(conditions.len(), 4);
    for (i, row) in conditions.iter().enumerate() {
        assert_eq!(row["seq"], i.to_string());
        assert_eq!(row["user_id"], "kiswatch");
        assert!(row["condition_nm"].as_str().is_some_and(|n| !n.is_empty()));
    }
    // Nothing saved for another user: KIS's "조회가 계속 됩니다" notice.
    let (status, _, body) = c.get(&title, "HHKST03900300", &[("user_id", "nobody")]).await;
    assert_eq!(
        (status, body["rt_cd"].as_str(), body["msg_cd"].as_str()),
        (200, Some("1"), Some("MCA05762"))
    );

    let (status, _, body) = c
        .get(&result, "HHKST03900400", &[("user_id", "kiswatch"), ("seq", "0")])
        .await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
    let hits = rows(&body, "output2");
    assert_eq!(hits.len(), 100, "at most 100 results");
    let amounts: Vec<f64> = hits.iter().map(|r| num(&r["trade_amt"])).collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]));
    let codes: HashSet<&str> = hits.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 100);
    for r in &hits {
        assert_eq!(r.as_object().unwrap().len(), 24, "the documented fields");
        assert!(num(&r["low52"]) <= num(&r["price"]) && num(&r["price"]) <= num(&r["high52"]));
    }
    let (status, _, body) = c
        .get(&result, "HHKST03900400", &[("user_id", "kiswatch"), ("seq", "3")])
        .await;
    assert_eq!(
        (
            status,
            body["rt_cd"].as_str(),
            body["msg_cd"].as_str(),
            body["msg1"].as_str()
        ),
        (200, Some("1"), Some("MCA05918"), Some("종목코드 오류입니다."))
    );
    let (_, _, body) = c
        .get(&result, "HHKST03900400", &[("user_id", "kiswatch"), ("seq", "9")])
        .await;
    assert_eq!(body["msg_cd"], "MCA05762");
    server.shutdown().await;
}

#[tokio::test]
async fn the_paper_profile_refuses_the_real_only_trs_and_multprice_is_configurable() {
    for on_vts in [true, false] {
        let server = start(SimConfig {
            multprice_on_vts: on_vts,
            ..config(Profile::Vts)
        })
        .await;
        let c = Caller::new(&server, Profile::Vts, 0).await;
        let (status, body) = get_owned(&c, MULTPRICE, "FHKST11300006", &multprice_query(&["005930"])).await;
        if on_vts {
            assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
        } else {
            assert_eq!(
                (status, body["msg_cd"].as_str()),
                (500, Some("EGW00213")),
                "{body}"
            );
        }
        for (path, tr) in [
            (format!("{Q}/volume-rank"), "FHPST01710000"),
            (FLUCTUATION.to_string(), "FHPST01700000"),
            (format!("{Q}/psearch-title"), "HHKST03900300"),
            (format!("{Q}/psearch-result"), "HHKST03900400"),
        ] {
            let (status, _, body) = c.get(&path, tr, &[("user_id", "kiswatch")]).await;
            assert_eq!(
                (status, body["msg_cd"].as_str()),
                (500, Some("EGW00213")),
                "{tr}: {body}"
            );
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn each_call_counts_once_against_the_rate_limit() {
    let server = start(SimConfig {
        rate: Some(1),
        ..config(Profile::Real)
    })
    .await;
    let c = Caller::new(&server, Profile::Real, 0).await;
    let before = server.stats().requests;
    let codes: Vec<&str> = server
        .market()
        .stocks()
        .iter()
        .take(30)
        .map(|s| s.code.as_str())
        .collect();
    let (status, body) = get_owned(&c, MULTPRICE, "FHKST11300006", &multprice_query(&codes)).await;
    assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")));
    let (status, body) = get_owned(&c, MULTPRICE, "FHKST11300006", &multprice_query(&codes)).await;
    let stats = server.stats();
    assert_eq!(stats.requests - before, 2, "30 codes are one request");
    // Whether the two landed inside one second is the machine's business; the verdict follows the
    // limiter's own count of that (a limit of 1: a second arrival inside the window is refused).
    if stats.max_window >= 2 {
        assert_eq!(
            (status, body["msg_cd"].as_str()),
            (500, Some("EGW00201")),
            "{body}"
        );
        assert_eq!(stats.rate_limited, 1);
    } else {
        assert_eq!((status, body["rt_cd"].as_str()), (200, Some("0")), "{body}");
        assert_eq!(stats.rate_limited, 0);
    }
    server.shutdown().await;
}
