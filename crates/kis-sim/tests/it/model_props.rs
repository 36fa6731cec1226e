//! Property tests of the simulated market (`kis_sim::model`): prices on the tick grid and inside the
//! daily limits, daily bars equal to the aggregate of their minute bars, quotes equal to the aggregate of
//! the executions, minute bars only on trading days, and the same seed giving the same market.

use jiff::civil::{Date, date, time};
use kis_sim::model::{DailyBar, Market, MinuteBar, Quote, Scenario, ScenarioPeriod};
use market::code::StockCode;
use market::krx::{Calendar, is_on_tick, price_limits};
use proptest::prelude::*;

use crate::common::fixed_market as market;

fn all_days(m: &Market, code: &StockCode) -> Vec<DailyBar> {
    m.daily_bars(code, date(2000, 1, 1), date(2100, 1, 1))
}

/// The trading days that should have minute bars: today and the 20 before.
fn minute_days(m: &Market) -> Vec<Date> {
    let calendar = Calendar::krx();
    let mut days = vec![m.trading_date()];
    for _ in 0..20 {
        let prev = calendar.prev_trading_day(days[days.len() - 1]);
        days.push(prev);
    }
    days
}

fn stock(m: &Market, index: usize) -> StockCode {
    m.stocks()[index % m.stocks().len()].code
}

fn quote_from_executions(m: &Market, code: &StockCode) -> (Quote, Vec<kis_sim::model::Execution>) {
    let q = m.quote(code).expect("a listed stock has a quote");
    (q, m.executions_after(code, 0))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn every_price_is_on_the_grid_and_inside_the_limits(
        seed in any::<u64>(),
        index in 0usize..100,
        secs in 0u64..30_000,
    ) {
        let m = market(seed);
        m.advance(secs);
        let code = stock(&m, index);
        let days = all_days(&m, &code);
        prop_assert!(days.len() >= 600);
        for w in days.windows(2) {
            let (prev, bar) = (w[0], w[1]);
            let limits = price_limits(prev.close);
            for p in [bar.open, bar.high, bar.low, bar.close] {
                prop_assert!(is_on_tick(p), "{} {p} off the grid", bar.date);
                prop_assert!(limits.contains(p), "{} {p} outside {limits:?}", bar.date);
            }
            prop_assert!(bar.low <= bar.open.min(bar.close) && bar.open.max(bar.close) <= bar.high);
            prop_assert!(bar.volume > 0);
            prop_assert!(bar.low as u64 * bar.volume <= bar.turnover);
            prop_assert!(bar.turnover <= bar.high as u64 * bar.volume);
        }
        for day in minute_days(&m) {
            let Some(i) = days.iter().position(|b| b.date == day) else { continue };
            let limits = price_limits(days[i - 1].close);
            for bar in m.minute_bars(&code, day, time(23, 59, 0, 0)) {
                for p in [bar.open, bar.high, bar.low, bar.close] {
                    prop_assert!(is_on_tick(p) && limits.contains(p), "{day} {bar:?}");
                }
            }
        }
        let (q, executions) = quote_from_executions(&m, &code);
        for e in &executions {
            prop_assert!(is_on_tick(e.price) && q.limits.contains(e.price), "{e:?}");
            prop_assert!(e.volume > 0);
        }
        let book = m.order_book(&code).expect("a listed stock has a book");
        for &(p, qty) in book.asks.iter().chain(&book.bids) {
            prop_assert!(p == 0 || (is_on_tick(p) && q.limits.contains(p) && qty > 0));
        }
        prop_assert!(book.asks[0].0 == 0 || book.bids[0].0 == 0 || book.asks[0].0 > book.bids[0].0);
    }

    #[test]
    fn daily_bars_equal_the_aggregate_of_their_minute_bars(
        seed in any::<u64>(),
        index in 0usize..100,
        secs in 0u64..60_000,
    ) {
        let m = market(seed);
        m.advance(secs);
        let code = stock(&m, index);
        for day in minute_days(&m) {
            let minutes: Vec<MinuteBar> = m.minute_bars(&code, day, time(23, 59, 0, 0));
            let daily = m.daily_bars(&code, day, day);
            prop_assert!(!minutes.is_empty(), "{day} has minute bars");
            prop_assert!(minutes.iter().all(|b| b.date == day));
            prop_assert!(minutes.windows(2).all(|w| w[0].time < w[1].time));
            let aggregate = DailyBar::from_minutes(&minutes);
            prop_assert_eq!(aggregate.as_ref(), daily.first(), "{}", day);
        }
    }

    #[test]
    fn the_quote_is_the_aggregate_of_todays_executions(
        seed in any::<u64>(),
        index in 0usize..100,
        secs in 0u64..23_500,
    ) {
        let m = market(seed);
        m.advance(secs);
        let code = stock(&m, index);
        let (q, executions) = quote_from_executions(&m, &code);
        prop_assert!(!executions.is_empty(), "the clock starts at the open print");
        prop_assert_eq!(q.open, executions[0].price);
        prop_assert_eq!(q.price, executions[executions.len() - 1].price);
        prop_assert_eq!(q.high, executions.iter().map(|e| e.price).max().unwrap_or(0));
        prop_assert_eq!(q.low, executions.iter().map(|e| e.price).min().unwrap_or(0));
        prop_assert_eq!(q.volume, executions.iter().map(|e| e.volume).sum::<u64>());
        let turnover: u64 = executions.iter().map(|e| e.price as u64 * e.volume).sum();
        prop_assert_eq!(q.turnover, turnover);
        prop_assert_eq!(q.change, q.price - q.prev_close);
        prop_assert!(q.price == q.ask1 || q.price == q.bid1);
        prop_assert!(executions.iter().all(|e| e.time <= m.now().time()));
        let today = m.minute_bars(&code, m.trading_date(), time(23, 59, 0, 0));
        let from_minutes = DailyBar::from_minutes(&today).expect("today has traded");
        prop_assert_eq!(
            (from_minutes.open, from_minutes.high, from_minutes.low, from_minutes.close, from_minutes.volume),
            (q.open, q.high, q.low, q.price, q.volume)
        );
    }

    #[test]
    fn minute_bars_never_cover_a_non_trading_day(
        seed in any::<u64>(),
        index in 0usize..100,
        back in 0i64..45,
    ) {
        let m = market(seed);
        let code = stock(&m, index);
        let day = m.trading_date().checked_sub(jiff::Span::new().days(back)).expect("a date");
        let minutes = m.minute_bars(&code, day, time(23, 59, 0, 0));
        if !Calendar::krx().is_trading_day(day) {
            prop_assert!(minutes.is_empty(), "{day} is closed");
            prop_assert!(m.daily_bars(&code, day, day).is_empty());
        }
        prop_assert!(minutes.iter().all(|b| b.date == day));
    }

    #[test]
    fn the_same_seed_gives_the_same_market_whatever_the_access_order(
        seed in any::<u64>(),
        a in 0usize..100,
        b in 0usize..100,
        secs in 0u64..30_000,
    ) {
        let (m1, m2) = (market(seed), market(seed));
        m1.advance(secs);
        let (ca, cb) = (stock(&m1, a), stock(&m1, b));
        let _ = m1.quote(&ca);
        let _ = m1.quote(&cb);
        let _ = m2.quote(&cb);
        m2.advance(secs);
        for code in [ca, cb] {
            prop_assert_eq!(all_days(&m1, &code), all_days(&m2, &code));
            prop_assert_eq!(m1.executions_after(&code, 0), m2.executions_after(&code, 0));
            prop_assert_eq!(m1.order_book(&code), m2.order_book(&code));
            let day = minute_days(&m1)[5];
            prop_assert_eq!(
                m1.minute_bars(&code, day, time(23, 59, 0, 0)),
                m2.minute_bars(&code, day, time(23, 59, 0, 0))
            );
        }
    }

    #[test]
    fn scenarios_keep_every_rule(
        seed in any::<u64>(),
        index in 0usize..100,
        pattern in 0usize..5,
        period in 0usize..8,
        prices in proptest::collection::vec(1i64..5_000_000, 1..20),
        before in 0u64..23_000,
        after in 0u64..40_000,
    ) {
        let m = market(seed);
        m.advance(before);
        let code = stock(&m, index);
        let period = match period {
            7 => ScenarioPeriod::Day,
            i => ScenarioPeriod::Minutes(ScenarioPeriod::MINUTES[i]),
        };
        let scenario = match pattern {
            0 => Scenario::BullishAlignment { period },
            1 => Scenario::BearishAlignment { period },
            2 => Scenario::GoldenCross { period },
            3 => Scenario::DeadCross { period },
            _ => Scenario::path(prices).expect("positive prices"),
        };
        let seen = m.executions_after(&code, 0);
        m.set_scenario(&code, scenario).expect("a listed stock");
        prop_assert_eq!(&m.executions_after(&code, 0), &seen, "the past does not change");
        m.advance(after);
        let days = all_days(&m, &code);
        for w in days.windows(2) {
            let limits = price_limits(w[0].close);
            for p in [w[1].open, w[1].high, w[1].low, w[1].close] {
                prop_assert!(is_on_tick(p) && limits.contains(p), "{} {p} {limits:?}", w[1].date);
            }
        }
        let (q, executions) = quote_from_executions(&m, &code);
        for e in &executions {
            prop_assert!(is_on_tick(e.price) && q.limits.contains(e.price), "{e:?}");
        }
        for day in minute_days(&m) {
            let minutes = m.minute_bars(&code, day, time(23, 59, 0, 0));
            let aggregate = DailyBar::from_minutes(&minutes);
            let daily = m.daily_bars(&code, day, day);
            prop_assert_eq!(aggregate.as_ref(), daily.first(), "{}", day);
        }
    }
}
