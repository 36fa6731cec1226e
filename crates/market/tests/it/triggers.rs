//! The trigger engine: false→true firing, no refire while true, once per bar under many ticks, re-arming
//! on a closed false bar, cooldown, on-close mode, history seeding, and what a trigger carries (the
//! once-per-day mode, re-arming and gap replay in detail: `alerts.rs`).

use jiff::SignedDuration;
use jiff::civil::{DateTime, date};
use market::candle::{Candle, Period};
use market::code::StockCode;
use market::condition::Condition;
use market::trigger::{ConditionOptions, Mode, StockId, Tick, Trigger, TriggerEngine};

fn code(s: &str) -> StockCode {
    StockCode::parse(s).unwrap()
}

fn t(h: i8, m: i8, s: i8) -> DateTime {
    date(2026, 11, 20).at(h, m, s, 0)
}

struct Rig {
    engine: TriggerEngine,
    stock: StockId,
    fired: Vec<Trigger>,
}

impl Rig {
    fn new(src: &str, options: ConditionOptions) -> Rig {
        let mut engine = TriggerEngine::default();
        let stock = engine.add_stock(code("005930")).unwrap();
        engine
            .add_condition(7, Condition::parse(src).unwrap(), options)
            .unwrap();
        Rig {
            engine,
            stock,
            fired: Vec::new(),
        }
    }

    /// Feeds a trade and returns how many triggers it fired.
    fn trade(&mut self, time: DateTime, price: i64) -> usize {
        let before = self.fired.len();
        self.engine.on_tick(
            Tick {
                stock: self.stock,
                time,
                price,
                volume: 10,
            },
            &mut self.fired,
        );
        self.fired.len() - before
    }
}

#[test]
fn fires_on_false_to_true_only_and_not_while_true() {
    let mut r = Rig::new("1m: close > 100", ConditionOptions::default());
    assert_eq!(r.trade(t(9, 0, 1), 99), 0);
    assert_eq!(r.trade(t(9, 0, 2), 101), 1);
    // Stays true: same bar, next bars.
    assert_eq!(r.trade(t(9, 0, 3), 102), 0);
    assert_eq!(r.trade(t(9, 1, 0), 103), 0);
    assert_eq!(r.trade(t(9, 2, 0), 101), 0);
    // False, then true again in a later bar: fires again.
    assert_eq!(r.trade(t(9, 3, 0), 100), 0);
    assert_eq!(r.trade(t(9, 4, 0), 105), 1);
    let last = r.fired.last().unwrap();
    assert_eq!(last.bar_time, t(9, 4, 0));
    assert_eq!(last.price, 105);
}

#[test]
fn at_most_once_per_bar_under_many_ticks() {
    let mut r = Rig::new("1m: close > 100", ConditionOptions::default());
    r.trade(t(9, 0, 0), 100);
    // Flapping across the threshold 200 times inside one 1-minute bar: one trigger.
    for i in 0..200 {
        r.trade(
            t(9, 0, 1)
                .checked_add(SignedDuration::from_millis(200 * i))
                .unwrap(),
            if i % 2 == 0 { 101 } else { 99 },
        );
    }
    assert_eq!(r.fired.len(), 1);
    assert_eq!(r.fired[0].bar_time, t(9, 0, 0));
    // The next bar may fire once more.
    for i in 0..20 {
        r.trade(t(9, 1, i), if i % 2 == 0 { 99 } else { 101 });
    }
    assert_eq!(r.fired.len(), 2);
    assert_eq!(r.fired[1].bar_time, t(9, 1, 0));
}

#[test]
fn cooldown_holds() {
    let options = ConditionOptions {
        cooldown: Some(SignedDuration::from_mins(5)),
        ..Default::default()
    };
    let mut r = Rig::new("1m: close > 100", options);
    r.trade(t(9, 0, 0), 99);
    let mut fired_at = Vec::new();
    // Each minute: false at :00, true at :30, false again at :50 (so every bar closes false and
    // re-arms the condition; only the cooldown holds it back).
    for m in 1..=12 {
        r.trade(t(9, m, 0), 99);
        if r.trade(t(9, m, 30), 101) == 1 {
            fired_at.push(m);
        }
        r.trade(t(9, m, 50), 99);
    }
    // 09:01:30, then quiet until 09:06:30, then 09:11:30.
    assert_eq!(fired_at, vec![1, 6, 11]);
}

#[test]
fn already_true_at_the_first_evaluation_does_not_fire_but_matches() {
    let mut r = Rig::new("1m: close > 100", ConditionOptions::default());
    assert_eq!(r.trade(t(9, 0, 0), 150), 0);
    assert!(r.engine.is_matching(7, r.stock));
    assert_eq!(r.trade(t(9, 1, 0), 90), 0);
    assert!(!r.engine.is_matching(7, r.stock));
    assert_eq!(r.trade(t(9, 2, 0), 150), 1);
}

#[test]
fn on_close_mode_sees_only_closed_bars() {
    let options = ConditionOptions {
        mode: Mode::OnClose,
        ..Default::default()
    };
    let mut r = Rig::new("1m: close > 100", options);
    r.trade(t(9, 0, 0), 99);
    r.trade(t(9, 1, 0), 99); // closes 09:00 at 99: false (the baseline)
    // Inside 09:01 the price goes above 100 and back: nothing fires.
    assert_eq!(r.trade(t(9, 1, 10), 120), 0);
    assert_eq!(r.trade(t(9, 1, 50), 100), 0);
    assert_eq!(r.trade(t(9, 2, 0), 101), 0); // closes 09:01 at 100: false
    assert_eq!(r.trade(t(9, 2, 59), 102), 0);
    // 09:02 closes at 102 when the next bar's first trade arrives.
    assert_eq!(r.trade(t(9, 3, 0), 90), 1);
    assert_eq!(r.fired[0].bar_time, t(9, 2, 0));
    assert_eq!(r.fired[0].price, 102);
    // 09:03 closes at 90 (false); 09:04 rises and its end passes with no further trade.
    r.trade(t(9, 4, 0), 130);
    assert_eq!(r.fired.len(), 1);
    r.engine.close_bars_until(t(9, 4, 59), &mut r.fired);
    assert_eq!(r.fired.len(), 1, "09:04 has not ended yet");
    r.engine.close_bars_until(t(9, 5, 0), &mut r.fired);
    assert_eq!(r.fired.len(), 2);
    assert_eq!(r.fired[1].bar_time, t(9, 4, 0));
    // The next trade does not evaluate 09:04 a second time.
    r.trade(t(9, 5, 1), 80);
    assert_eq!(r.fired.len(), 2);
}

fn daily_bars(closes: impl IntoIterator<Item = i64>) -> Vec<Candle> {
    let cal = market::krx::Calendar::krx();
    let mut day = date(2025, 1, 2);
    let mut out = Vec::new();
    for c in closes {
        day = cal.next_trading_day(day);
        out.push(Candle {
            time: day.at(0, 0, 0, 0),
            open: c,
            high: c,
            low: c,
            close: c,
            volume: 1000,
        });
    }
    out
}

#[test]
fn a_trigger_carries_stock_condition_bar_price_and_values() {
    let mut engine = TriggerEngine::default();
    let samsung = engine.add_stock(code("005930")).unwrap();
    let hynix = engine.add_stock(code("000660")).unwrap();
    engine
        .add_condition(
            1,
            Condition::parse("D: cross_up(close, ma(20))").unwrap(),
            Default::default(),
        )
        .unwrap();
    engine
        .add_condition(2, Condition::parse("D: 정배열").unwrap(), Default::default())
        .unwrap();
    // 239 days falling from 100,000 to 76,200 for both stocks; today the first trade is below MA20.
    let history = daily_bars((0..239).map(|i| 100_000 - i * 100));
    assert!(history.last().unwrap().time < t(0, 0, 0));
    engine.seed(samsung, Period::Day, &history);
    engine.seed(hynix, Period::Day, &history);
    let mut out = Vec::new();
    engine.on_tick(
        Tick {
            stock: samsung,
            time: t(9, 0, 0),
            price: 76_000,
            volume: 5,
        },
        &mut out,
    );
    engine.on_tick(
        Tick {
            stock: hynix,
            time: t(9, 0, 0),
            price: 76_000,
            volume: 5,
        },
        &mut out,
    );
    assert!(out.is_empty());
    // Samsung jumps above its 20-day average (77,150 with today's 76,000 → about 77,300 now).
    engine.on_tick(
        Tick {
            stock: samsung,
            time: t(9, 0, 5),
            price: 80_000,
            volume: 5,
        },
        &mut out,
    );
    assert_eq!(out.len(), 1);
    let trig = &out[0];
    assert_eq!(
        (trig.stock, trig.condition, trig.period),
        (code("005930"), 1, Period::Day)
    );
    assert_eq!(trig.bar_time, t(0, 0, 0));
    assert_eq!(trig.time, t(9, 0, 5));
    assert_eq!(trig.price, 80_000);
    let labels: Vec<&str> = trig.values.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["close", "ma(20)"]);
    // MA20 = (sum of the last 19 history closes + 80,000) / 20.
    let sum19: i64 = history[history.len() - 19..].iter().map(|c| c.close).sum();
    assert_eq!(trig.values[1].1, (sum19 + 80_000) as f64 / 20.0);
    // Falling for 240 days is 역배열, not 정배열: condition 2 stays quiet; hynix untouched.
    assert!(!engine.is_matching(2, samsung));
    assert!(!engine.is_matching(1, hynix));
    // The trigger serializes for the API.
    let json = serde_json::to_value(trig).unwrap();
    assert_eq!(json["stock"], "005930");
    assert_eq!(json["period"], "D");
}

#[test]
fn seeding_keeps_the_live_forming_bar_on_top_of_history() {
    let mut engine = TriggerEngine::default();
    let s = engine.add_stock(code("005930")).unwrap();
    engine
        .add_condition(
            1,
            Condition::parse("1m: close > ma(3)").unwrap(),
            Default::default(),
        )
        .unwrap();
    let mut out = Vec::new();
    // Live from 10:14:30.
    engine.on_tick(
        Tick {
            stock: s,
            time: t(10, 14, 30),
            price: 105,
            volume: 5,
        },
        &mut out,
    );
    engine.on_tick(
        Tick {
            stock: s,
            time: t(10, 14, 40),
            price: 107,
            volume: 5,
        },
        &mut out,
    );
    // History 10:10 … 10:14, the last minute partial (seen until the fetch).
    let history: Vec<Candle> = (10..=14)
        .map(|m| Candle {
            time: t(10, m, 0),
            open: 100,
            high: 106,
            low: 98,
            close: 100,
            volume: 50,
        })
        .collect();
    engine.seed(s, Period::M1, &history);
    let series = engine.series(s, Period::M1).unwrap();
    let cur = series.current().unwrap();
    assert_eq!(
        *cur,
        Candle {
            time: t(10, 14, 0),
            open: 100,
            high: 107,
            low: 98,
            close: 107,
            volume: 50
        }
    );
    assert_eq!(series.previous().unwrap().time, t(10, 13, 0));
    // Next minute continues without a gap: ma(3) = (100 + 107 + 101) / 3.
    engine.on_tick(
        Tick {
            stock: s,
            time: t(10, 15, 0),
            price: 101,
            volume: 1,
        },
        &mut out,
    );
    let series = engine.series(s, Period::M1).unwrap();
    assert_eq!(series.previous().unwrap().close, 107);
}

#[test]
fn many_conditions_and_stocks_are_independent() {
    let mut engine = TriggerEngine::default();
    let codes = ["005930", "000660", "035420"];
    let ids: Vec<StockId> = codes.iter().map(|c| engine.add_stock(code(c)).unwrap()).collect();
    engine
        .add_condition(
            1,
            Condition::parse("1m: close > 100").unwrap(),
            Default::default(),
        )
        .unwrap();
    engine
        .add_condition(
            2,
            Condition::parse("30m: close > 200").unwrap(),
            Default::default(),
        )
        .unwrap();
    let mut out = Vec::new();
    for &id in &ids {
        engine.on_tick(
            Tick {
                stock: id,
                time: t(9, 0, 0),
                price: 50,
                volume: 1,
            },
            &mut out,
        );
    }
    engine.on_tick(
        Tick {
            stock: ids[1],
            time: t(9, 0, 1),
            price: 150,
            volume: 1,
        },
        &mut out,
    );
    engine.on_tick(
        Tick {
            stock: ids[2],
            time: t(9, 0, 2),
            price: 250,
            volume: 1,
        },
        &mut out,
    );
    let got: Vec<(StockCode, u64, Period)> = out.iter().map(|x| (x.stock, x.condition, x.period)).collect();
    assert_eq!(
        got,
        vec![
            (code("000660"), 1, Period::M1),
            (code("035420"), 1, Period::M1),
            (code("035420"), 2, Period::M30)
        ]
    );
    // Removing a condition stops it; a duplicate id is refused.
    engine.remove_condition(1).unwrap();
    assert!(
        engine
            .add_condition(2, Condition::parse("close > 1").unwrap(), Default::default())
            .is_err()
    );
    engine.on_tick(
        Tick {
            stock: ids[0],
            time: t(9, 1, 0),
            price: 150,
            volume: 1,
        },
        &mut out,
    );
    assert_eq!(out.len(), 3);
    // Trades outside the session make no bar.
    engine.on_tick(
        Tick {
            stock: ids[0],
            time: t(20, 0, 0),
            price: 150,
            volume: 1,
        },
        &mut out,
    );
    assert_eq!(engine.ignored_ticks(), 1);
}

mod against_naive {
    //! The engine (incremental averages, skipped evaluations, prefetching batches) fires exactly what a
    //! naive model fires: every series' bars rebuilt from all trades so far, the state built from
    //! scratch from those bars, the condition evaluated on it.
    use super::*;
    use market::condition::Program;
    use market::krx::Calendar;
    use market::series::BarSeries;
    use market::state::{Layout, SeriesState};
    use proptest::prelude::*;

    const CONDITIONS: [&str; 4] = [
        "1m: close > ma(3)",
        "5m: cross_up(ma(2), ma(4))",
        "1m: volume > 1.5 * avg(volume, 3) and change_pct >= 0",
        "3m: bullish(2, 3, 5) or close <= 1000",
    ];
    const CODES: [&str; 3] = ["005930", "000660", "035420"];

    fn holds_from_scratch(condition: &Condition, bars: &[Candle]) -> bool {
        let mut layout = Layout::new();
        let program = Program::compile(&condition.expr, &mut layout);
        let mut state = SeriesState::new(&layout);
        for bar in bars {
            state.open(*bar);
        }
        program.holds(&state)
    }

    /// Trades: (stock, seconds after 09:00, price step, volume).
    fn trades() -> impl Strategy<Value = Vec<(usize, i64, i64, u64)>> {
        prop::collection::vec((0usize..3, 0i64..40, -3i64..=3, 1u64..50), 1..150)
    }

    proptest! {
        #[test]
        fn engine_fires_what_naive_recomputation_fires(trades in trades(), batched in any::<bool>()) {
            let cal = Calendar::krx();
            let conditions: Vec<Condition> = CONDITIONS.iter().map(|c| Condition::parse(c).unwrap()).collect();
            let mut engine = TriggerEngine::default();
            let ids: Vec<StockId> = CODES.iter().map(|c| engine.add_stock(code(c)).unwrap()).collect();
            for (i, c) in conditions.iter().enumerate() {
                engine.add_condition(i as u64, c.clone(), Default::default()).unwrap();
            }
            // Build the tick stream: times strictly increasing, prices walking around 1,000.
            let mut time = t(9, 0, 0);
            let mut prices = [1_000i64; 3];
            let mut ticks = Vec::new();
            for &(s, gap, step, volume) in &trades {
                time = time.checked_add(SignedDuration::from_secs(gap)).unwrap();
                prices[s] = (prices[s] + step).max(1);
                ticks.push(Tick { stock: ids[s], time, price: prices[s], volume });
            }
            let mut fired = Vec::new();
            if batched {
                engine.on_ticks(&ticks, &mut fired);
            } else {
                for &tick in &ticks {
                    engine.on_tick(tick, &mut fired);
                }
            }
            // The naive model.
            let mut series: Vec<Vec<BarSeries>> =
                (0..3).map(|_| conditions.iter().map(|c| BarSeries::new(c.period)).collect()).collect();
            let mut last: Vec<Vec<Option<bool>>> = vec![vec![None; conditions.len()]; 3];
            let mut fired_bar: Vec<Vec<Option<DateTime>>> = vec![vec![None; conditions.len()]; 3];
            // After firing, disarmed until a closed bar is false.
            let mut armed: Vec<Vec<bool>> = vec![vec![true; conditions.len()]; 3];
            let mut expected = Vec::new();
            for tick in &ticks {
                let s = tick.stock.index();
                for (k, c) in conditions.iter().enumerate() {
                    let effect = series[s][k].apply_trade(tick.time, tick.price, tick.volume, cal);
                    let bars = series[s][k].bars();
                    if effect == market::series::TradeEffect::Opened
                        && bars.len() >= 2
                        && !holds_from_scratch(c, &bars[..bars.len() - 1])
                    {
                        armed[s][k] = true;
                    }
                    let holds = holds_from_scratch(c, bars);
                    let was = last[s][k].replace(holds);
                    let bar = bars.last().unwrap().time;
                    if holds && was == Some(false) && fired_bar[s][k] != Some(bar) && armed[s][k] {
                        fired_bar[s][k] = Some(bar);
                        armed[s][k] = false;
                        expected.push((CODES[s].to_string(), k as u64, bar, tick.time, tick.price));
                    }
                }
            }
            let got: Vec<_> = fired.iter().map(|f| (f.stock.to_string(), f.condition, f.bar_time, f.time, f.price)).collect();
            // The engine reports triggers book by book (period order of first registration), the model
            // condition by condition: compare as sets per trade time.
            let mut got_sorted = got.clone();
            let mut expected_sorted = expected.clone();
            got_sorted.sort();
            expected_sorted.sort();
            prop_assert_eq!(got_sorted, expected_sorted);
        }
    }
}

#[test]
fn minute_bars_drive_every_period_like_seeded_history() {
    let minutes: Vec<Candle> = (0..95)
        .map(|i| {
            let time = t(9, 0, 0).checked_add(SignedDuration::from_mins(i)).unwrap();
            let p = 1_000 + (i % 7) * 10 - (i % 3) * 5;
            Candle {
                time,
                open: p,
                high: p + 5,
                low: p - 5,
                close: p + 1,
                volume: 10 + i as u64,
            }
        })
        .collect();
    let setup = || {
        let mut e = TriggerEngine::default();
        let s = e.add_stock(code("005930")).unwrap();
        e.add_condition(
            1,
            Condition::parse("30m: close > ma(2)").unwrap(),
            Default::default(),
        )
        .unwrap();
        e.add_condition(2, Condition::parse("D: close > 0").unwrap(), Default::default())
            .unwrap();
        (e, s)
    };
    // Fed live, one closed minute at a time.
    let (mut live, s) = setup();
    let mut out = Vec::new();
    for m in &minutes {
        live.on_minute_bar(s, *m, &mut out);
    }
    // Seeded from the same minutes (intraday periods), and the daily bar from their aggregate.
    let (mut seeded, s2) = setup();
    seeded.seed_from_minutes(s2, &minutes);
    let days = market::candle::aggregate(&minutes, Period::Day, market::krx::Calendar::krx());
    seeded.seed(s2, Period::Day, &days);
    for period in [Period::M30, Period::Day] {
        let a = live.series(s, period).unwrap();
        let b = seeded.series(s2, period).unwrap();
        assert_eq!(a.current(), b.current(), "{period}");
        assert_eq!(a.previous(), b.previous(), "{period}");
    }
    // 95 minutes from 09:00: the 30m bar now forming is 10:30, holding 10:30–10:34.
    let cur = live.series(s, Period::M30).unwrap().current().copied().unwrap();
    assert_eq!(cur.time, t(10, 30, 0));
    assert_eq!(cur.volume, (90..95).map(|i| 10 + i as u64).sum::<u64>());
    assert_eq!(cur.open, minutes[90].open);
    assert_eq!(cur.close, minutes[94].close);
}

mod extreme_inputs {
    use super::*;
    use market::backtest::backtest;
    use proptest::prelude::*;

    fn extreme_price() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(i64::MAX),
            Just(i64::MIN),
            Just(0),
            Just(-1),
            Just(1),
            any::<i64>(),
            1i64..1_000_000
        ]
    }

    proptest! {
        /// Whatever prices and volumes arrive (the feed is outside data), nothing panics or overflows.
        #[test]
        fn the_engine_and_backtest_never_panic(
            trades in prop::collection::vec((extreme_price(), prop_oneof![Just(u64::MAX), any::<u64>()], 0i64..600), 1..60)
        ) {
            let mut engine = TriggerEngine::default();
            let s = engine.add_stock(code("005930")).unwrap();
            let sources = [
                "1m: change_pct >= 5 or close / ma(2) > 1.01",
                "1m: volume > 3 * avg(volume, 2) and cross_up(close, ma(3))",
                "5m: bullish(1, 2, 3) and -close < high * low - open",
                "D: cross_down(ma(1) + ma(2), 2 * ma(3))",
            ];
            for (i, src) in sources.iter().enumerate() {
                engine.add_condition(i as u64, Condition::parse(src).unwrap(), Default::default()).unwrap();
            }
            let mut out = Vec::new();
            let mut time = t(9, 0, 0);
            let mut bars = Vec::new();
            for &(price, volume, gap) in &trades {
                time = time.checked_add(SignedDuration::from_secs(gap)).unwrap();
                engine.on_tick(Tick { stock: s, time, price, volume }, &mut out);
                bars.push(Candle::from_trade(time, price, volume));
            }
            for src in sources {
                let _ = backtest(&Condition::parse(src).unwrap(), &bars);
            }
        }
    }
}
