//! `TriggerEngine::replay`: what would have fired inside a gap of the live feed, from the gap's
//! 1-minute bars and the stored ones before it.

use jiff::SignedDuration;
use jiff::civil::{DateTime, date};
use market::candle::{Candle, Period};
use market::code::StockCode;
use market::condition::Condition;
use market::trigger::{ConditionId, ConditionOptions, Mode, StockId, Tick, Trigger, TriggerEngine};

fn code() -> StockCode {
    StockCode::parse("005930").unwrap()
}

fn t(h: i8, m: i8) -> DateTime {
    date(2026, 11, 20).at(h, m, 0, 0)
}

/// One-price minute bars from `from`, one per price.
fn minutes(from: DateTime, prices: &[i64]) -> Vec<Candle> {
    prices
        .iter()
        .enumerate()
        .map(|(i, &p)| Candle::from_trade(from.saturating_add(SignedDuration::from_mins(i as i64)), p, 10))
        .collect()
}

fn conditions(list: &[(ConditionId, &str, Mode)]) -> Vec<(ConditionId, Condition, ConditionOptions)> {
    list.iter()
        .map(|&(id, src, mode)| {
            (
                id,
                Condition::parse(src).unwrap(),
                ConditionOptions { mode, cooldown: None },
            )
        })
        .collect()
}

fn summary(fired: &[Trigger]) -> Vec<(ConditionId, Period, DateTime)> {
    fired
        .iter()
        .map(|f| (f.condition, f.period, f.bar_time))
        .collect()
}

#[test]
fn a_condition_turning_true_inside_the_gap_is_found_once_and_one_already_true_is_not() {
    let conditions = conditions(&[
        (1, "1m: close > 1000", Mode::EveryTick),
        (2, "1m: close > 500", Mode::EveryTick),
        (3, "5m: close > 1000", Mode::OnClose),
        (4, "D: close > 1000", Mode::EveryTick),
    ]);
    // Yesterday and today until 10:29 at 900; the gap 10:30–10:39 rises through 1,000 at 10:32.
    let mut history = minutes(date(2026, 11, 19).at(14, 0, 0, 0), &[900; 60]);
    history.extend(minutes(t(9, 0), &[900; 90]));
    let gap = minutes(
        t(10, 30),
        &[900, 950, 1010, 1020, 1030, 1040, 1050, 1060, 1070, 1080],
    );
    let fired = TriggerEngine::replay(&conditions, code(), &history, &gap);
    assert_eq!(
        summary(&fired),
        vec![
            (1, Period::M1, t(10, 32)),
            (4, Period::Day, t(0, 0)),
            // 10:30–10:34 closes at 1,030 when 10:35 opens; 10:35–10:39 closes by the clock.
            (3, Period::M5, t(10, 30)),
        ]
    );
    // The minute's market time (its start) for the every-tick ones, the close for the on-close one.
    assert_eq!(fired[0].time, t(10, 32));
    assert_eq!(fired[0].price, 1010);
    assert_eq!(fired[0].stock, code());
    assert_eq!(fired[2].time, t(10, 35));
    // Nothing in an empty gap. Without history, the gap's first evaluation of each condition only
    // records where it stands: the on-close one is first evaluated on a bar already true.
    assert!(TriggerEngine::replay(&conditions, code(), &history, &[]).is_empty());
    let fired = TriggerEngine::replay(&conditions, code(), &[], &gap);
    assert_eq!(
        summary(&fired),
        vec![(1, Period::M1, t(10, 32)), (4, Period::Day, t(0, 0))]
    );
}

/// The gap day's minutes before the gap are replayed, so what fired live before it stands: a
/// condition still disarmed (it fired, and no closed bar has been false since) does not fire on a
/// wiggle inside the gap, just as the live engine would not have.
#[test]
fn what_fired_before_the_gap_today_stands() {
    let conditions = conditions(&[(1, "5m: close > 1000", Mode::EveryTick)]);
    // 09:00–09:59 at 900, crossing above 1,000 at 10:00 (it fired live then) and staying there.
    let mut history = minutes(t(9, 0), &[900; 60]);
    history.extend(minutes(t(10, 0), &[1010; 30]));
    // The 10:30 five-minute bar dips below 1,000 at 10:31 and comes back: it never closes false.
    let gap = minutes(t(10, 30), &[1010, 990, 1010, 1020, 1030]);
    assert!(TriggerEngine::replay(&conditions, code(), &history, &gap).is_empty());

    // The live engine agrees: fed the same minutes, it fires at 10:00 and not again.
    let mut live = TriggerEngine::default();
    let stock: StockId = live.add_stock(code()).unwrap();
    for (id, c, o) in &conditions {
        live.add_condition(*id, c.clone(), *o).unwrap();
    }
    let mut fired = Vec::new();
    for bar in history.iter().chain(&gap) {
        live.on_tick(
            Tick {
                stock,
                time: bar.time,
                price: bar.close,
                volume: bar.volume,
            },
            &mut fired,
        );
    }
    assert_eq!(summary(&fired), vec![(1, Period::M5, t(10, 0))]);

    // Had 10:25–10:29 closed below 1,000, the dip-and-return would fire inside the gap.
    let mut history = minutes(t(9, 0), &[900; 60]);
    history.extend(minutes(t(10, 0), &[1010; 25]));
    history.extend(minutes(t(10, 25), &[990; 5]));
    let fired = TriggerEngine::replay(&conditions, code(), &history, &gap);
    assert_eq!(summary(&fired), vec![(1, Period::M5, t(10, 30))]);
    assert_eq!(fired[0].time, t(10, 30));
}

mod against_the_live_engine {
    //! With the whole gap day in `history`, the replay is exactly the live engine fed the same
    //! minutes: it fires what the live one fires from the gap on.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn replay_fires_what_the_live_engine_fires_in_the_gap(
            steps in prop::collection::vec(-4i64..=4, 2..150),
            split in any::<prop::sample::Index>(),
        ) {
            let conditions = conditions(&[
                (1, "1m: close > ma(3)", Mode::EveryTick),
                (2, "3m: cross_up(ma(2), ma(4))", Mode::OnClose),
                (3, "5m: close >= 1000", Mode::OncePerDay),
                (4, "D: close < ma(1) + 1 and close > 995", Mode::EveryTick),
            ]);
            let mut price = 1_000;
            let prices: Vec<i64> = steps.iter().map(|s| { price += s; price }).collect();
            let all = minutes(t(9, 0), &prices);
            let split = 1 + split.index(all.len() - 1);
            let (history, gap) = all.split_at(split);

            let mut live = TriggerEngine::default();
            let stock = live.add_stock(code()).unwrap();
            for (id, c, o) in &conditions {
                live.add_condition(*id, c.clone(), *o).unwrap();
            }
            let mut fired = Vec::new();
            for bar in history {
                live.on_minute_bar(stock, *bar, &mut fired);
            }
            fired.clear();
            for bar in gap {
                live.on_minute_bar(stock, *bar, &mut fired);
            }
            let end = gap.last().unwrap().time.saturating_add(SignedDuration::from_mins(1));
            live.close_bars_until(end, &mut fired);

            let replayed = TriggerEngine::replay(&conditions, code(), history, gap);
            prop_assert_eq!(replayed, fired);
        }
    }
}
