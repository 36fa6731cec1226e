//! 상품기본조회 (CTPF1604R, `KisClient::product_info`) against the simulator over real HTTP: names and
//! ISIN for every simulated stock, not-found for an unknown code, refused locally on 모의투자.

use crate::common::{client, spawn_sim, temp_dir};
use kis::KisError;
use kis_sim::{Profile, SimConfig};
use market::StockCode;

#[tokio::test]
async fn product_info_names_every_simulated_stock() {
    let sim = spawn_sim(SimConfig::default()).await;
    let dir = temp_dir("product-info");
    let kis = client(&sim, 0, &dir);
    // The core's stocks and a sample of the rest of the universe (every kind): the client's governor
    // sends 20 a second, so every listing would take two minutes.
    let stocks = sim.market().stocks();
    for stock in stocks.iter().take(80).chain(stocks.iter().skip(80).step_by(40)) {
        let info = kis.product_info(stock.code).await.unwrap();
        assert_eq!(info.code, stock.code);
        assert_eq!(info.name, stock.name);
        assert_eq!(info.full_name, stock.name);
        assert_eq!(info.english_name, stock.eng_name);
        assert_eq!(info.product_type, "300");
        assert_eq!(info.isin, stock.isin());
    }
    let samsung = kis
        .product_info(StockCode::parse("005930").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (samsung.isin.as_str(), samsung.english_name.as_str()),
        ("KR7005930003", "Samsung Electronics")
    );

    let err = kis
        .product_info(StockCode::parse("999990").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        KisError::NotFound {
            code: "999990".into()
        }
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn product_info_is_refused_on_vts_without_a_request() {
    let sim = spawn_sim(SimConfig {
        profile: Profile::Vts,
        ..SimConfig::default()
    })
    .await;
    let dir = temp_dir("product-info-vts");
    let kis = client(&sim, 0, &dir);
    let before = sim.stats().requests;
    let err = kis
        .product_info(StockCode::parse("005930").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, KisError::Unsupported { .. }), "{err:?}");
    assert_eq!(sim.stats().requests, before);
    sim.shutdown().await;
}
