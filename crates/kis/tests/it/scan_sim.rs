//! The whole-market endpoints through the client against the simulator's 2,565-listing universe:
//! `intstock-multprice` in chunks of 30 agreeing with the simulated market's own quotes, the two
//! rankings (30 rows, by rank, ordered by their key), the HTS conditions (at most 100, no match as an
//! empty list), the real-only TRs refused locally on 모의투자, and no call rejected by the rate limit.

use crate::common::{client, spawn_sim, temp_dir};
use kis::KisError;
use kis::wire::scan::{
    FluctuationRequest, MULTPRICE_MAX_CODES, RANKING_MAX_ROWS, RankingScope, VolumeRankRequest,
    VolumeRankSort,
};
use kis_sim::{Profile, SimConfig, SimServer};
use market::StockCode;

fn code(s: &str) -> StockCode {
    StockCode::parse(s).unwrap()
}

/// A simulator whose clock barely moves (the client's answers and the market's quotes agree), an
/// hour into the session.
async fn frozen(profile: Profile) -> SimServer {
    let sim = spawn_sim(SimConfig {
        profile,
        speed: 1e-9,
        ..SimConfig::default()
    })
    .await;
    sim.market().advance(3600);
    sim
}

#[tokio::test]
async fn multprice_chunks_agree_with_the_market_and_unknown_codes_are_left_out() {
    let sim = frozen(Profile::Real).await;
    let dir = temp_dir("scan-multprice");
    let kis = client(&sim, 0, &dir);
    let codes: Vec<StockCode> = sim.market().stocks().iter().map(|s| s.code).take(300).collect();
    for chunk in codes.chunks(MULTPRICE_MAX_CODES) {
        let rows = kis.multi_price(chunk.to_vec()).await.unwrap();
        let got: Vec<StockCode> = rows.iter().map(|r| r.code).collect();
        assert_eq!(got, chunk, "one row per code, in the order asked");
        for r in &rows {
            let q = sim.market().quote(&r.code).unwrap();
            assert_eq!(
                (r.open, r.high, r.low, r.price, r.volume, r.turnover, r.prev_close),
                (q.open, q.high, q.low, q.price, q.volume, q.turnover, q.prev_close),
                "{}",
                r.code
            );
            assert_eq!(r.change, r.price - r.prev_close);
            assert!(r.lower_limit < r.prev_close && r.prev_close < r.upper_limit);
        }
    }
    let rows = kis
        .multi_price(vec![code("005930"), code("999999"), code("000660")])
        .await
        .unwrap();
    let got: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(got, ["005930", "000660"]);
    assert_eq!(rows[0].name, "삼성전자");

    let before = sim.stats().requests;
    let err = kis.multi_price(vec![code("005930"); 31]).await.unwrap_err();
    assert!(matches!(err, KisError::Decode { .. }), "{err}");
    assert_eq!(
        sim.stats().requests,
        before,
        "31 codes are refused before sending"
    );
    assert_eq!(sim.stats().rate_limited, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn rankings_and_hts_conditions() {
    let sim = frozen(Profile::Real).await;
    let dir = temp_dir("scan-rankings");
    let kis = client(&sim, 0, &dir);

    let by_volume = kis.volume_rank(&VolumeRankRequest::default()).await.unwrap();
    assert_eq!(by_volume.len(), RANKING_MAX_ROWS);
    assert!(
        by_volume
            .iter()
            .enumerate()
            .all(|(i, r)| r.rank as usize == i + 1)
    );
    assert!(by_volume.windows(2).all(|w| w[0].volume >= w[1].volume));
    let by_turnover = kis
        .volume_rank(&VolumeRankRequest {
            sort: VolumeRankSort::Turnover,
            scope: RankingScope {
                min_price: Some(10_000),
                ..RankingScope::default()
            },
        })
        .await
        .unwrap();
    assert!(by_turnover.iter().all(|r| r.price >= 10_000));
    assert!(by_turnover.windows(2).all(|w| w[0].turnover >= w[1].turnover));

    let rising = kis
        .fluctuation_rank(&FluctuationRequest::default())
        .await
        .unwrap();
    assert!(!rising.is_empty() && rising.len() <= RANKING_MAX_ROWS);
    assert!(rising.windows(2).all(|w| w[0].change_rate >= w[1].change_rate));

    let titles = kis.condition_titles("kiswatch").await.unwrap();
    assert!(!titles.is_empty());
    assert!(kis.condition_titles("nobody").await.unwrap().is_empty());
    let top = kis.condition_matches("kiswatch", &titles[0].seq).await.unwrap();
    assert!(!top.is_empty() && top.len() <= 100, "{}", top.len());
    // The simulator's fourth canned condition (a price of 10 million won or more) matches nothing.
    let none = kis.condition_matches("kiswatch", "3").await.unwrap();
    assert!(none.is_empty());
    assert_eq!(sim.stats().rate_limited, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn paper_trading_refuses_the_real_only_scans_locally_and_multprice_either_way() {
    let sim = frozen(Profile::Vts).await;
    let dir = temp_dir("scan-vts");
    let kis = client(&sim, 0, &dir);
    let before = sim.stats().requests;
    let err = kis.volume_rank(&VolumeRankRequest::default()).await.unwrap_err();
    assert!(matches!(err, KisError::Unsupported { .. }), "{err}");
    let err = kis.condition_titles("kiswatch").await.unwrap_err();
    assert!(matches!(err, KisError::Unsupported { .. }), "{err}");
    assert_eq!(sim.stats().requests, before, "nothing was sent");
    let rows = kis.multi_price(vec![code("005930")]).await.unwrap();
    assert_eq!(rows.len(), 1);
    sim.shutdown().await;

    let sim = spawn_sim(SimConfig {
        profile: Profile::Vts,
        multprice_on_vts: false,
        ..SimConfig::default()
    })
    .await;
    let kis = client(&sim, 0, &temp_dir("scan-vts-refused"));
    kis.price(code("005930")).await.unwrap();
    let before = sim.stats().requests;
    let err = kis.multi_price(vec![code("005930")]).await.unwrap_err();
    assert!(err.is_not_offered(), "{err}");
    assert_eq!(sim.stats().requests, before + 1, "a refusal is not retried");
    assert_eq!(sim.stats().rate_limited, 0);
    sim.shutdown().await;
}
