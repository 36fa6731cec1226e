//! The planner's rules, example by example and as properties over random demand.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kis::realtime::{Channel, Topic};
use market::StockCode;
use proptest::prelude::*;
use tokio::time::Instant;

use super::*;

fn code(i: usize) -> StockCode {
    StockCode::parse(&format!("{:06}", 1000 + i)).unwrap()
}

fn exec(i: usize) -> Topic {
    Topic::stock(Channel::Executions, code(i))
}

fn book(i: usize) -> Topic {
    Topic::stock(Channel::OrderBook, code(i))
}

/// A watchlist of `n` stocks, the first `conditions` of them with conditions.
fn watchlist(n: usize, conditions: usize) -> Demand {
    Demand {
        open_pages: BTreeMap::new(),
        with_conditions: (0..conditions).map(code).collect(),
        watchlist: (0..n).map(code).collect(),
    }
}

/// Applies a round the way the service does: unsubscribes, then subscribes.
fn apply(current: &mut BTreeSet<Topic>, round: &Round) {
    for t in &round.unsubscribe {
        assert!(current.remove(t), "unsubscribe of an unregistered {t}");
    }
    for t in &round.subscribe {
        assert!(current.insert(t.clone()), "subscribe of a registered {t}");
    }
}

fn unlimited() -> PlannerConfig {
    PlannerConfig {
        max_changes_per_round: usize::MAX,
        ..PlannerConfig::default()
    }
}

#[test]
fn sixty_watched_stocks_are_41_realtime_and_19_polled() {
    let mut p = SubscriptionPlanner::new(unlimited());
    let demand = watchlist(60, 10);
    let round = p.plan(&demand, &BTreeSet::new(), Instant::now());
    assert_eq!(round.subscribe.len(), 41);
    assert!(round.unsubscribe.is_empty());
    assert_eq!(round.realtime.len(), 41);
    assert_eq!(round.polled.len(), 19);
    // Condition stocks first, then watchlist order: the last 19 of the watchlist are polled.
    assert_eq!(
        round.polled.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        (41..60).map(code).collect::<Vec<_>>()
    );
    assert_eq!(&round.subscribe[..10], &(0..10).map(exec).collect::<Vec<_>>()[..]);
    assert_eq!(round.pending, 0);
}

#[test]
fn an_opened_page_evicts_the_lowest_and_survives_a_quick_close() {
    let mut p = SubscriptionPlanner::new(PlannerConfig::default());
    let mut demand = watchlist(60, 10);
    let t0 = Instant::now();
    let mut current = BTreeSet::new();
    // Paced: 8 changes a round until the 41 are registered.
    let mut rounds = 0;
    loop {
        let round = p.plan(&demand, &current, t0);
        if round.is_noop() {
            break;
        }
        assert!(round.subscribe.len() + round.unsubscribe.len() <= 8);
        apply(&mut current, &round);
        rounds += 1;
    }
    assert_eq!((rounds, current.len()), (6, 41));

    // A page opens on polled stock 50: one round registers both its topics, evicting 39 and 40.
    demand.open_pages.insert(code(50), 1);
    let t1 = t0 + Duration::from_secs(1);
    let round = p.plan(&demand, &current, t1);
    assert_eq!(round.unsubscribe, vec![exec(40), exec(39)]);
    assert_eq!(round.subscribe, vec![exec(50), book(50)]);
    assert_eq!(round.pending, 0);
    apply(&mut current, &round);
    assert!(round.polled.iter().any(|(c, _)| *c == code(39)));
    assert_eq!(round.realtime[0], (code(50), Tier::Page));

    // Closed and reopened within the grace: nothing changes upstream.
    demand.open_pages.clear();
    let round = p.plan(&demand, &current, t1 + Duration::from_secs(2));
    assert!(round.is_noop(), "{round:?}");
    // Stock 50 is still registered, so it is realtime though no longer a page.
    assert!(round.realtime.iter().any(|(c, _)| *c == code(50)));
    demand.open_pages.insert(code(50), 1);
    assert!(p.plan(&demand, &current, t1 + Duration::from_secs(5)).is_noop());

    // Closed for longer than the grace: the watchlist stocks come back.
    demand.open_pages.clear();
    assert!(p.plan(&demand, &current, t1 + Duration::from_secs(6)).is_noop());
    // Stock 50 keeps its executions (a registered watchlist stock stays); its order book's slot
    // goes back to the best waiting watchlist stock.
    let round = p.plan(&demand, &current, t1 + Duration::from_secs(36));
    assert_eq!(round.unsubscribe, vec![book(50)]);
    assert_eq!(round.subscribe, vec![exec(39)]);
}

#[test]
fn a_grace_registration_yields_to_a_page_at_once() {
    let mut p = SubscriptionPlanner::new(unlimited());
    let mut demand = watchlist(41, 0);
    demand.open_pages.insert(code(100), 1);
    let t0 = Instant::now();
    let mut current = BTreeSet::new();
    let round = p.plan(&demand, &current, t0);
    apply(&mut current, &round);
    // Stock 100's page closes (grace) and another page opens: it takes 100's slots, not the
    // watchlist's.
    demand.open_pages.clear();
    demand.open_pages.insert(code(200), 1);
    let round = p.plan(&demand, &current, t0 + Duration::from_secs(1));
    let mut gone = round.unsubscribe.clone();
    gone.sort();
    assert_eq!(gone, vec![exec(100), book(100)]);
    assert_eq!(round.subscribe, vec![exec(200), book(200)]);
}

#[test]
fn account_notices_are_kept_and_counted() {
    let mut p = SubscriptionPlanner::new(unlimited());
    let notices = Topic::notices(Channel::NoticesReal, "HTSID").unwrap();
    let current: BTreeSet<Topic> = [notices.clone()].into();
    let round = p.plan(&watchlist(60, 0), &current, Instant::now());
    assert_eq!(round.subscribe.len(), 40);
    assert!(round.after.contains(&notices));
    assert_eq!(round.after.len(), 41);
}

#[test]
fn a_reordered_watchlist_changes_nothing() {
    let mut p = SubscriptionPlanner::new(unlimited());
    let mut demand = watchlist(60, 0);
    let t0 = Instant::now();
    let mut current = BTreeSet::new();
    let round = p.plan(&demand, &current, t0);
    apply(&mut current, &round);
    demand.watchlist.reverse();
    assert!(p.plan(&demand, &current, t0).is_noop());
}

/// The tier the planner must respect for a topic: 0 page, 1 condition, 3 watchlist, 2 unwanted
/// (a grace registration may hold a slot a waiting watchlist stock wants, never a page's or a
/// condition stock's).
fn model_tier(demand: &Demand, topic: &Topic) -> u8 {
    for (c, tier) in demand.stocks() {
        if Topic::stock(Channel::Executions, c) == *topic {
            return match tier {
                Tier::Page => 0,
                Tier::Condition => 1,
                Tier::Watchlist => 3,
            };
        }
        if tier == Tier::Page && Topic::stock(Channel::OrderBook, c) == *topic {
            return 0;
        }
    }
    2
}

fn demand_strategy() -> impl Strategy<Value = Demand> {
    (
        proptest::collection::btree_map(0usize..80, 0u32..4, 0..25),
        proptest::collection::btree_set(0usize..80, 0..30),
        proptest::collection::vec(0usize..80, 0..70),
    )
        .prop_map(|(pages, conditions, list)| Demand {
            open_pages: pages.into_iter().map(|(i, v)| (code(i), v)).collect(),
            with_conditions: conditions.into_iter().map(code).collect(),
            watchlist: list.into_iter().map(code).collect(),
        })
}

fn registrations_strategy() -> impl Strategy<Value = BTreeSet<Topic>> {
    proptest::collection::btree_set((0usize..80, any::<bool>()), 0..41).prop_map(|set| {
        set.into_iter()
            .map(|(i, b)| if b { book(i) } else { exec(i) })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Never more than 41, at any point of applying a round (unsubscribes first); no stock both
    /// realtime and polled; every demanded stock is one of the two; the round leads to `after`.
    #[test]
    fn a_round_stays_under_the_cap_and_partitions_the_stocks(
        demand in demand_strategy(),
        current in registrations_strategy(),
        budget in 2usize..50,
        grace_ms in 0u64..5000,
        age_ms in 0u64..10_000,
    ) {
        let config = PlannerConfig { max_changes_per_round: budget, grace: Duration::from_millis(grace_ms), ..PlannerConfig::default() };
        let mut p = SubscriptionPlanner::new(config);
        let t0 = Instant::now();
        // A first look starts the grace clocks; the second is the round under test.
        p.plan(&demand, &current, t0);
        let round = p.plan(&demand, &current, t0 + Duration::from_millis(age_ms));
        prop_assert!(round.unsubscribe.len() + round.subscribe.len() <= budget);
        let mut set = current.clone();
        for t in &round.unsubscribe { prop_assert!(set.remove(t)); }
        for t in &round.subscribe {
            prop_assert!(set.insert(t.clone()));
            prop_assert!(set.len() <= 41);
        }
        prop_assert_eq!(&set, &round.after);
        prop_assert!(round.target.len() <= 41);
        let realtime: BTreeSet<StockCode> = round.realtime.iter().map(|(c, _)| *c).collect();
        let polled: BTreeSet<StockCode> = round.polled.iter().map(|(c, _)| *c).collect();
        prop_assert!(realtime.is_disjoint(&polled));
        let all: BTreeSet<StockCode> = demand.stocks().into_iter().map(|(c, _)| c).collect();
        prop_assert_eq!(&realtime | &polled, all);
        for c in &realtime {
            prop_assert!(round.after.contains(&Topic::stock(Channel::Executions, *c)));
        }
    }

    /// The target never leaves a topic out while one of a lower tier holds a slot; with room to
    /// spare, everything wanted is in it.
    #[test]
    fn the_target_respects_priorities(
        demand in demand_strategy(),
        current in registrations_strategy(),
    ) {
        let mut p = SubscriptionPlanner::new(PlannerConfig::default());
        let round = p.plan(&demand, &current, Instant::now());
        let worst_in = round.target.iter().map(|t| model_tier(&demand, t)).max();
        for (c, tier) in demand.stocks() {
            let mut wanted = vec![Topic::stock(Channel::Executions, c)];
            if tier == Tier::Page { wanted.push(Topic::stock(Channel::OrderBook, c)); }
            for t in wanted.into_iter().filter(|t| !round.target.contains(t)) {
                prop_assert_eq!(round.target.len(), 41);
                prop_assert!(worst_in <= Some(model_tier(&demand, &t)), "{} left out", t);
            }
        }
    }

    /// With the demand unchanged, paced rounds reach the target, and an unlimited round reaches it
    /// at once.
    #[test]
    fn applying_rounds_reaches_the_target(
        demand in demand_strategy(),
        current in registrations_strategy(),
        budget in 2usize..10,
    ) {
        let t0 = Instant::now();
        let mut once = SubscriptionPlanner::new(unlimited());
        let round = once.plan(&demand, &current, t0);
        prop_assert_eq!(&round.after, &round.target);
        prop_assert_eq!(round.pending, 0);

        let config = PlannerConfig { max_changes_per_round: budget, ..PlannerConfig::default() };
        let mut paced = SubscriptionPlanner::new(config);
        let mut set = current.clone();
        let target = paced.plan(&demand, &set, t0).target;
        for _ in 0..100 {
            let round = paced.plan(&demand, &set, t0);
            if round.is_noop() { break; }
            apply(&mut set, &round);
        }
        prop_assert_eq!(set, target);
    }
}

proptest! {
    // Each case plans up to 200 rounds over 60 stocks; 64 cases keep this under a few seconds in
    // an unoptimised test build on a busy 2-core machine (256 took 13 s).
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Pages opened and closed within the grace: a close never changes anything, an open at most
    /// one swap for each of its two topics (4 changes), and one page flickering on its own costs
    /// those 4 once, however often it flickers.
    #[test]
    fn flickering_pages_do_not_churn(
        events in proptest::collection::vec((0usize..4, any::<bool>(), 0u64..150), 1..200),
        single in any::<bool>(),
    ) {
        let pages = [45, 50, 55, 59];
        let mut p = SubscriptionPlanner::new(PlannerConfig::default());
        let mut demand = watchlist(60, 10);
        let mut now = Instant::now();
        let mut current = BTreeSet::new();
        for _ in 0..10 {
            let round = p.plan(&demand, &current, now);
            apply(&mut current, &round);
        }
        let mut changes = 0;
        for (page, open, advance_ms) in events {
            // 200 events × < 150 ms: no page stays closed for the 30 s grace.
            now += Duration::from_millis(advance_ms);
            let page = if single { 0 } else { page };
            if open {
                demand.open_pages.insert(code(pages[page]), 1);
            } else {
                demand.open_pages.remove(&code(pages[page]));
            }
            let round = p.plan(&demand, &current, now);
            let n = round.subscribe.len() + round.unsubscribe.len();
            prop_assert!(if open { n <= 4 } else { n == 0 }, "{} changes, open {}", n, open);
            changes += n;
            apply(&mut current, &round);
            prop_assert!(current.len() <= 41);
            // An open page is registered by the round that sees it open.
            for c in demand.open_pages.keys() {
                prop_assert!(current.contains(&Topic::stock(Channel::Executions, *c)));
                prop_assert!(current.contains(&Topic::stock(Channel::OrderBook, *c)));
            }
        }
        if single {
            prop_assert!(changes <= 4, "{} changes for one page", changes);
        }
    }
}
