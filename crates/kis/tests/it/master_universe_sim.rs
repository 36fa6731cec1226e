//! The stock master of the simulator's whole universe read back by the client's parser: every
//! listing's kind and designations (거래정지, 관리종목, 정리매매, 시장경고, 위험예고, 불성실공시, 단기과열,
//! SPAC, 우선주), size class, index membership, base price and share data survive the round trip through
//! KIS's fixed-width layout and cp949, and the proportions are the market's.

use crate::common;

use jiff::Timestamp;
use kis::master::{MarketWarning, MasterConfig, MasterLoader};
use kis_sim::SimConfig;
use kis_sim::model::{MarketKind, Preferred, SecurityKind, Warning};
use market::search::Kind;

#[tokio::test]
async fn every_listing_and_its_designations_round_trip() {
    let sim = common::spawn_sim(SimConfig::default()).await;
    let dir = common::temp_dir("master-universe");
    let env = common::environment(&sim);
    let loader = MasterLoader::new(MasterConfig::for_environment(&env, Some(dir.clone())));
    let master = loader.load(Timestamp::now()).await.unwrap();
    let stocks = sim.market().stocks();
    assert_eq!(master.records.len(), stocks.len());
    assert!(stocks.len() > 2_400, "{} listings", stocks.len());

    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for s in stocks {
        let r = master
            .get(s.code.as_str())
            .unwrap_or_else(|| panic!("{} missing", s.code));
        let f = s.flags;
        let kind = match s.kind {
            SecurityKind::Stock => Kind::Stock,
            SecurityKind::Etf => Kind::Etf,
            SecurityKind::Etn => Kind::Etn,
            SecurityKind::Reit => Kind::Reit,
        };
        let warning = match f.warning {
            Warning::None => MarketWarning::None,
            Warning::Caution => MarketWarning::Caution,
            Warning::Warning => MarketWarning::Warning,
            Warning::Risk => MarketWarning::Risk,
        };
        let code = s.code.as_str();
        assert_eq!(
            (r.name.as_str(), r.market.as_str()),
            (s.name, s.market.as_str()),
            "{code}"
        );
        assert_eq!(r.kind, kind, "{code}");
        assert_eq!(r.group, s.kind.group_code(), "{code}");
        assert_eq!(
            (r.halted, r.administrative, r.liquidation, r.warning),
            (f.halted, f.administrative, f.liquidation, warning),
            "{code}"
        );
        assert_eq!(
            (
                r.warning_notice,
                r.unfaithful_disclosure,
                r.short_term_overheat,
                r.spac
            ),
            (f.warning_notice, f.unfaithful_disclosure, f.overheated, f.spac),
            "{code}"
        );
        assert_eq!(r.preferred, f.preferred != Preferred::No, "{code}");
        let size = char::from_digit(u32::from(s.cap_size), 10).filter(|&c| c != '0');
        assert_eq!(r.cap_size, size, "{code}");
        if s.market == MarketKind::Kospi {
            assert_eq!(r.kospi200_sector.is_some(), s.index_member, "{code}");
        }
        assert_eq!(
            r.base_price,
            sim.market().base_price(&s.code).map(|p| p as u64),
            "{code}"
        );
        assert_eq!(r.listed_shares_thousands, Some(s.listed_shares / 1000), "{code}");
        assert_eq!(r.listing_date, Some(s.listing_date), "{code}");
        let face = rust_decimal::Decimal::from(s.face_value);
        assert_eq!(r.par_value, Some(face), "{code}");
        for (name, on) in [
            ("etf", r.kind == Kind::Etf),
            ("etn", r.kind == Kind::Etn),
            ("reit", r.kind == Kind::Reit),
            ("spac", r.spac),
            ("preferred", r.preferred),
            ("halted", r.halted),
            ("administrative", r.administrative),
            ("warned", r.warning != MarketWarning::None),
        ] {
            *seen.entry(name).or_default() += usize::from(on);
        }
    }
    // Nothing was generated to write the master: base prices come from the listing on the first session.
    assert!(stocks.iter().all(|s| !sim.market().is_generated(&s.code)));
    for (name, at_least) in [
        ("etf", 300),
        ("etn", 100),
        ("reit", 10),
        ("spac", 40),
        ("preferred", 80),
        ("halted", 20),
        ("administrative", 40),
        ("warned", 30),
    ] {
        assert!(seen[name] >= at_least, "{name}: {} listings", seen[name]);
    }
    sim.shutdown().await;
}
