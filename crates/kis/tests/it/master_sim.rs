//! The master loader against the simulator's `/common/master/*`: download and parse every simulated
//! stock, cache, a restart that reuses the cache without a download, the once-a-trading-day refresh,
//! and a failed refresh (the route answering 500) that keeps the last good copy and says so. Downloads
//! are counted at the simulator (`master_downloads`); time is passed in, never waited for.

use crate::common;

use std::collections::HashSet;

use jiff::Timestamp;
use kis::master::{MasterConfig, MasterError, MasterLoader, Origin};
use kis_sim::{Profile, SimConfig, SimServer};
use market::search::Kind;
use serde_json::json;

fn at(kst: &str) -> Timestamp {
    format!("{kst}+09:00[Asia/Seoul]")
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

// 2026-11-27 is a Friday, 2026-11-30 the next Monday.
const FRIDAY_MORNING: &str = "2026-11-27T10:00:00";

fn loader(sim: &SimServer, dir: &std::path::Path) -> MasterLoader {
    let env = common::environment(sim);
    MasterLoader::new(MasterConfig::for_environment(&env, Some(dir.to_path_buf())))
}

async fn sim() -> SimServer {
    common::spawn_sim(SimConfig {
        profile: Profile::Real,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test]
async fn downloads_every_simulated_stock_and_caches_it() {
    let sim = sim().await;
    let dir = common::temp_dir("master-download");
    let loader = loader(&sim, &dir);
    let master = loader.load(at(FRIDAY_MORNING)).await.unwrap();
    assert_eq!(sim.stats().master_downloads, 2, "one request per market");
    assert_eq!(sim.stats().requests, 0, "no KIS REST call, no rate budget");

    let stocks = sim.market().stocks();
    assert_eq!(master.records.len(), stocks.len());
    for stock in stocks {
        let r = master.get(stock.code.as_str()).unwrap();
        assert_eq!(r.name, stock.name);
        assert_eq!(r.market.as_str(), stock.market.as_str());
        let kind = match stock.kind {
            kis_sim::model::SecurityKind::Stock => Kind::Stock,
            kis_sim::model::SecurityKind::Etf => Kind::Etf,
            kis_sim::model::SecurityKind::Etn => Kind::Etn,
            kis_sim::model::SecurityKind::Reit => Kind::Reit,
        };
        assert_eq!(r.kind, kind, "{}", stock.code);
        assert_eq!(r.listed_shares_thousands, Some(stock.listed_shares / 1000));
        assert!(r.standard_code.starts_with("KR7"));
        assert!(r.listing_date.is_some() && r.base_price.is_some_and(|p| p > 0));
    }
    let codes: HashSet<_> = master.records.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes.len(), stocks.len());

    let index = master.index();
    assert_eq!(index.search("ㅅㅅㅈㅈ", 5).unwrap()[0].name, "삼성전자");
    assert_eq!(index.search("naver", 5).unwrap()[0].code, "035420");

    for file in ["kospi_code.mst", "kosdaq_code.mst", "master.json"] {
        assert!(dir.join("master").join(file).is_file(), "{file} cached");
    }
    let status = loader.status();
    assert_eq!(status.records, stocks.len());
    assert_eq!(status.origin, Some(Origin::Download));
    assert_eq!(
        status.source.as_deref(),
        Some(format!("{}/common/master", sim.rest_url()).as_str())
    );
    assert!(!status.stale && status.last_error.is_none());

    // Asking again the same day is free.
    loader.load(at("2026-11-27T15:00:00")).await.unwrap();
    assert_eq!(sim.stats().master_downloads, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_restart_uses_the_cache_and_the_next_trading_day_refreshes() {
    let sim = sim().await;
    let dir = common::temp_dir("master-restart");
    let first = loader(&sim, &dir).load(at(FRIDAY_MORNING)).await.unwrap();
    assert_eq!(sim.stats().master_downloads, 2);

    // A new process on the same day, and over the weekend and early Monday: the cache, no download.
    for when in [
        "2026-11-27T23:00:00",
        "2026-11-29T12:00:00",
        "2026-11-30T07:59:00",
    ] {
        let restarted = loader(&sim, &dir);
        let master = restarted.load(at(when)).await.unwrap();
        assert_eq!(master.records, first.records, "{when}");
        assert_eq!(master.origin, Origin::Cache);
        assert_eq!(master.fetched_at, first.fetched_at);
        assert_eq!(restarted.status().origin, Some(Origin::Cache));
    }
    assert_eq!(sim.stats().master_downloads, 2, "restarts downloaded nothing");

    // Monday from 08:00 KST the master is a day old: one refresh.
    let monday = loader(&sim, &dir);
    let master = monday.load(at("2026-11-30T08:00:00")).await.unwrap();
    assert_eq!(master.origin, Origin::Download);
    assert_eq!(sim.stats().master_downloads, 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_copy_and_reports_it() {
    let sim = sim().await;
    let dir = common::temp_dir("master-failure");
    let good = loader(&sim, &dir).load(at(FRIDAY_MORNING)).await.unwrap();
    common::faults(&sim, json!({"master_error": true})).await;

    // Restarted on Monday with the route answering 500: the old copy, marked stale, with the error.
    let monday = loader(&sim, &dir);
    let master = monday.load(at("2026-11-30T09:00:00")).await.unwrap();
    assert_eq!(master.records, good.records);
    assert_eq!(master.fetched_at, good.fetched_at);
    let status = monday.status();
    assert!(status.stale);
    assert_eq!(status.records, good.records.len());
    assert_eq!(status.last_attempt, Some(at("2026-11-30T09:00:00")));
    let error = status.last_error.expect("the failure is reported");
    assert!(
        error.contains("HTTP 500") && error.contains("kospi_code.mst.zip"),
        "{error}"
    );
    assert_eq!(sim.stats().master_downloads, 3);
    // The cache on disk is untouched.
    let again = loader(&sim, &dir).load(at(FRIDAY_MORNING)).await.unwrap();
    assert_eq!(again.records, good.records);

    // No new attempt within the retry interval; after it, the download succeeds once the fault clears.
    monday.load(at("2026-11-30T09:05:00")).await.unwrap();
    assert_eq!(sim.stats().master_downloads, 3);
    common::faults(&sim, json!({"master_error": false})).await;
    let fresh = monday.load(at("2026-11-30T09:11:00")).await.unwrap();
    assert_eq!(fresh.origin, Origin::Download);
    let status = monday.status();
    assert!(!status.stale && status.last_error.is_none());
    assert_eq!(sim.stats().master_downloads, 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn no_copy_and_a_failed_download_is_an_error() {
    let sim = sim().await;
    common::faults(&sim, json!({"master_error": true})).await;
    let dir = common::temp_dir("master-none");
    let loader = loader(&sim, &dir);
    let err = loader.load(at(FRIDAY_MORNING)).await.unwrap_err();
    assert!(matches!(err, MasterError::Status { status: 500, .. }), "{err:?}");
    assert_eq!(loader.status().records, 0);
    assert!(loader.status().last_error.is_some());
    assert!(!dir.join("master").join("master.json").exists());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cache_from_another_source_is_not_used() {
    let first = sim().await;
    let dir = common::temp_dir("master-source");
    loader(&first, &dir).load(at(FRIDAY_MORNING)).await.unwrap();
    assert_eq!(first.stats().master_downloads, 2);

    // Another server (another base URL) the same day: its own files, not the first one's cache.
    let second = sim().await;
    let other = loader(&second, &dir);
    let master = other.load(at("2026-11-27T11:00:00")).await.unwrap();
    assert_eq!(master.origin, Origin::Download);
    assert_eq!(master.source, format!("{}/common/master", second.rest_url()));
    assert_eq!(second.stats().master_downloads, 2);
    // And the cache now belongs to the second server.
    let again = loader(&second, &dir)
        .load(at("2026-11-27T12:00:00"))
        .await
        .unwrap();
    assert_eq!(again.origin, Origin::Cache);
    assert_eq!(second.stats().master_downloads, 2);
    first.shutdown().await;
    second.shutdown().await;
}
