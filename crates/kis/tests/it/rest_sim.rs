//! The REST client against the simulator over real HTTP: every typed endpoint, paging, not-found,
//! coalescing, retries, and VTS restrictions.

use crate::common::{self, client, spawn_sim, temp_dir};
use jiff::ToSpan;
use kis::KisError;
use kis::wire::chart::BarPeriod;
use kis::wire::quotations::RecentPeriod;
use kis_sim::{Profile, SimConfig};
use market::StockCode;
use market::krx::{Calendar, Sign};

fn code(s: &str) -> StockCode {
    StockCode::parse(s).unwrap()
}

#[tokio::test]
async fn every_endpoint_parses_what_the_simulator_sends() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("endpoints");
    let kis = client(&sim, 0, &dir);
    let samsung = code("005930");

    let p = kis.price(samsung).await.unwrap();
    assert!(p.price > 0 && p.low <= p.price && p.price <= p.high, "{p:?}");
    assert_eq!(p.change, p.price - p.base_price);
    assert_eq!(p.sign.is_up(), p.change > 0);
    assert!(p.lower_limit < p.base_price && p.base_price < p.upper_limit);

    let book = kis.order_book(samsung).await.unwrap();
    assert!(book.asks[0].price > book.bids[0].price, "{book:?}");
    assert!(book.asks.windows(2).all(|w| w[0].price < w[1].price));

    let execs = kis.executions(samsung).await.unwrap();
    assert!(!execs.is_empty() && execs.len() <= 30);
    assert!(execs.windows(2).all(|w| w[0].time >= w[1].time), "newest first");

    let daily = kis.daily_prices(samsung, RecentPeriod::Day).await.unwrap();
    assert!(!daily.is_empty() && daily.len() <= 30);

    let info = kis.stock_info(samsung).await.unwrap();
    assert_eq!(info.name, "삼성전자");

    let today = sim.market().trading_date();
    let bars = kis
        .period_bars(samsung, BarPeriod::Day, today - 400.days(), today)
        .await
        .unwrap();
    let model_bars = sim.market().daily_bars(&samsung, today - 400.days(), today);
    let model_closes: Vec<(jiff::civil::Date, i64)> = model_bars.iter().map(|b| (b.date, b.close)).collect();
    let our_closes: Vec<(jiff::civil::Date, i64)> = bars.iter().map(|b| (b.date, b.close)).collect();
    let common = our_closes.len().min(model_closes.len());
    assert_eq!(
        our_closes[..common - 1],
        model_closes[..common - 1],
        "every paged bar matches the market"
    );
    let expected = Calendar::krx().trading_days(today - 400.days(), today).count();
    assert!(
        bars.len() + 1 >= expected && bars.len() <= expected,
        "{} bars, {} trading days",
        bars.len(),
        expected
    );
    assert!(
        bars.windows(2).all(|w| w[0].date < w[1].date),
        "oldest first, no duplicates"
    );

    let minutes = kis.today_minute_bars(samsung).await.unwrap();
    assert!(minutes.windows(2).all(|w| w[0].time < w[1].time));
    assert!(minutes.iter().all(|b| b.date == today));

    let past = Calendar::krx().prev_trading_day(today);
    let past_bars = kis.minute_bars(samsung, past).await.unwrap();
    let model_past = sim
        .market()
        .minute_bars(&samsung, past, jiff::civil::time(23, 59, 59, 0));
    assert_eq!(past_bars.len(), model_past.len(), "every minute of the day, once");
    assert!(
        past_bars
            .iter()
            .zip(&model_past)
            .all(|(a, b)| a.close == b.close && a.volume == b.volume)
    );
    assert!(
        past_bars.len() >= 380,
        "a full session of minute bars, got {}",
        past_bars.len()
    );
    assert!(past_bars.windows(2).all(|w| w[0].time < w[1].time));
    assert!(past_bars.iter().all(|b| b.date == past));
    let _ = Sign::Flat;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_code_is_not_found() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("notfound");
    let kis = client(&sim, 0, &dir);
    let err = kis.price(code("999990")).await.unwrap_err();
    assert_eq!(
        err,
        KisError::NotFound {
            code: "999990".into()
        }
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn identical_concurrent_gets_are_coalesced() {
    let sim = spawn_sim(SimConfig {
        latency_ms: Some((100, 100)),
        ..SimConfig::default()
    })
    .await;
    let dir = temp_dir("coalesce");
    let kis = client(&sim, 0, &dir);
    kis.price(code("000660")).await.unwrap(); // token issued, connection warm
    let before = sim.stats().requests;
    let calls = (0..10).map(|_| kis.price(code("005930")));
    let prices = futures_util::future::join_all(calls).await;
    assert!(prices.iter().all(|p| p.is_ok()));
    assert_eq!(
        sim.stats().requests - before,
        1,
        "ten callers, one upstream request"
    );
    assert_eq!(kis.coalesced_calls(), 9);
    sim.shutdown().await;
}

/// Runs the calls one after another against a simulator failing 30% of requests, drawn from its
/// seeded generator: which requests fail is fixed by the seed, not by chance.
async fn calls_with_injected_errors(seed: u64, run: &str) -> kis_sim::SimStats {
    let sim = spawn_sim(SimConfig {
        error_rate: 0.3,
        seed,
        ..SimConfig::default()
    })
    .await;
    let dir = temp_dir(&format!("retries-{run}"));
    let mut config = common::client_config(&sim, 0, &dir);
    config.retry = kis::retry::RetryPolicy {
        max_attempts: 8,
        base: std::time::Duration::from_millis(5),
        cap: std::time::Duration::from_millis(40),
    };
    let kis = kis::KisClient::new(config).unwrap();
    kis.price(code("005930")).await.unwrap();
    for code_str in ["005930", "000660", "005380", "000270", "068270", "035420"] {
        for _ in 0..4 {
            kis.executions(code(code_str)).await.unwrap();
        }
    }
    let stats = sim.stats();
    sim.shutdown().await;
    stats
}

#[tokio::test]
async fn injected_server_errors_are_retried() {
    let stats = calls_with_injected_errors(42, "first").await;
    assert!(stats.injected_errors > 0, "faults were injected: {stats:?}");
    // Every call succeeded (unwrap above), and each injected error cost exactly one more request.
    assert_eq!(
        stats.requests,
        stats.token_requests + 25 + stats.injected_errors,
        "{stats:?}"
    );
    assert_eq!(stats.rate_limited, 0);
    // The same seed fails the same requests.
    let again = calls_with_injected_errors(42, "again").await;
    assert_eq!(again.injected_errors, stats.injected_errors);
}

#[tokio::test]
async fn vts_refuses_real_only_trs_locally() {
    let sim = spawn_sim(SimConfig {
        profile: Profile::Vts,
        ..SimConfig::default()
    })
    .await;
    let dir = temp_dir("vts");
    let kis = client(&sim, 0, &dir);
    let today = sim.market().trading_date();
    let err = kis
        .minute_bars(code("005930"), today - 1.day())
        .await
        .unwrap_err();
    assert!(matches!(err, KisError::Unsupported { .. }), "{err}");
    assert_eq!(sim.stats().requests, 0, "nothing was sent");
    sim.shutdown().await;
}
