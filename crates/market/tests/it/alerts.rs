//! Alerts worth reading: after firing, a (condition, stock) stays quiet until a closed bar of its
//! period is false (re-arming), in every mode; `once_per_day` fires at most once per trading day;
//! cooldown and "once per bar" stay. The engine is checked against a naive model that rebuilds every
//! bar from the trades and evaluates from scratch, across days, modes, cooldowns and
//! `close_bars_until`.

use jiff::SignedDuration;
use jiff::civil::{DateTime, date};
use market::candle::{Candle, Period, bar_end, session_hours};
use market::code::StockCode;
use market::condition::{Condition, Program};
use market::krx::Calendar;
use market::series::{BarSeries, TradeEffect};
use market::state::{Layout, SeriesState};
use market::trigger::{ConditionOptions, Mode, StockId, Tick, Trigger, TriggerEngine};
use proptest::prelude::*;

fn code(s: &str) -> StockCode {
    StockCode::parse(s).unwrap()
}

fn t(h: i8, m: i8, s: i8) -> DateTime {
    date(2026, 11, 20).at(h, m, s, 0)
}

fn tick(stock: StockId, time: DateTime, price: i64) -> Tick {
    Tick {
        stock,
        time,
        price,
        volume: 10,
    }
}

#[test]
fn modes_have_their_serde_names() {
    for (mode, name) in [
        (Mode::EveryTick, "every_tick"),
        (Mode::OnClose, "on_close"),
        (Mode::OncePerDay, "once_per_day"),
    ] {
        assert_eq!(mode.as_str(), name);
        assert_eq!(Mode::parse(name), Some(mode));
        assert_eq!(serde_json::to_value(mode).unwrap(), name);
        assert_eq!(serde_json::from_value::<Mode>(name.into()).unwrap(), mode);
    }
    assert_eq!(Mode::parse("hourly"), None);
    let options: ConditionOptions = serde_json::from_str(r#"{"mode":"once_per_day"}"#).unwrap();
    assert_eq!(options.mode, Mode::OncePerDay);
}

/// MA20 and MA60 of 1-minute bars, 2원 apart, flickering across several bars: one trigger, and the
/// next only after a bar closed with MA20 below.
#[test]
fn a_flickering_crossing_fires_once_until_a_closed_bar_is_false() {
    let mut engine = TriggerEngine::default();
    let stock = engine.add_stock(code("005930")).unwrap();
    engine
        .add_condition(
            1,
            Condition::parse("1m: ma(20) > ma(60)").unwrap(),
            Default::default(),
        )
        .unwrap();
    // Sixty closed minutes of yesterday at 10,000.
    let yesterday = date(2026, 11, 19);
    let history: Vec<Candle> = (0..60)
        .map(|i| {
            let time = yesterday
                .at(14, 0, 0, 0)
                .saturating_add(SignedDuration::from_mins(i));
            Candle {
                time,
                open: 10_000,
                high: 10_000,
                low: 10_000,
                close: 10_000,
                volume: 100,
            }
        })
        .collect();
    engine.seed(stock, Period::M1, &history);
    let mut closes: Vec<i64> = history.iter().map(|c| c.close).collect();
    // With the earlier closes' sums S19 and S59 and the forming bar's close c,
    // MA20 − MA60 = (S19 + c)/20 − (S59 + c)/60 = gap  ⇔  c = (60·gap − 3·S19 + S59) / 2.
    let price_for_gap = |closes: &[i64], gap: i64| {
        let s19: i64 = closes[closes.len() - 19..].iter().sum();
        let s59: i64 = closes[closes.len() - 59..].iter().sum();
        (60 * gap - 3 * s19 + s59) / 2
    };
    // Per minute, whether MA20 is 2원 above (true) or below (false) at each trade; the last is how
    // the bar closes.
    let minutes: [&[bool]; 5] = [
        &[false, true, false, true, false, true], // fires at its 2nd trade; closes true
        &[true, false, true, false, true],        // closes true: still disarmed
        &[false, true, false, true],              // closes true: still disarmed
        &[true, false],                           // closes false: re-armed
        &[false, true],                           // fires again
    ];
    let mut fired: Vec<Trigger> = Vec::new();
    let mut transitions = 0;
    let mut was = None;
    for (m, states) in minutes.iter().enumerate() {
        let mut close = 0;
        for (i, &above) in states.iter().enumerate() {
            close = price_for_gap(&closes, if above { 2 } else { -2 });
            if was == Some(false) && above {
                transitions += 1;
            }
            was = Some(above);
            engine.on_tick(tick(stock, t(9, m as i8, 5 * i as i8), close), &mut fired);
            assert_eq!(engine.is_matching(1, stock), above, "09:0{m}, trade {i}");
        }
        closes.push(close);
    }
    assert_eq!(transitions, 8, "the flicker turns true eight times");
    let at: Vec<(DateTime, DateTime)> = fired.iter().map(|f| (f.bar_time, f.time)).collect();
    assert_eq!(at, vec![(t(9, 0, 0), t(9, 0, 5)), (t(9, 4, 0), t(9, 4, 5))]);
    // The values show the 2원 gap.
    let value = |f: &Trigger, label: &str| f.values.iter().find(|(l, _)| l == label).unwrap().1;
    for f in &fired {
        let gap = value(f, "ma(20)") - value(f, "ma(60)");
        assert!((gap - 2.0).abs() < 0.05, "{gap}");
    }
}

#[test]
fn once_per_day_fires_once_a_trading_day() {
    let run = |mode: Mode| {
        let mut engine = TriggerEngine::default();
        let stock = engine.add_stock(code("005930")).unwrap();
        let options = ConditionOptions {
            mode,
            ..Default::default()
        };
        engine
            .add_condition(1, Condition::parse("1m: close > 100").unwrap(), options)
            .unwrap();
        let mut fired = Vec::new();
        let monday = date(2026, 11, 23);
        for day in [date(2026, 11, 20), monday] {
            // Each minute: false, true, and closing false (so the condition re-arms every minute).
            for m in 0..3 {
                for (s, price) in [(0, 99), (30, 101), (50, 99)] {
                    engine.on_tick(tick(stock, day.at(9, m, s, 0), price), &mut fired);
                }
            }
        }
        fired.iter().map(|f: &Trigger| f.time).collect::<Vec<_>>()
    };
    // Every tick: every minute, three a day (the very first trade only records where it stands).
    assert_eq!(run(Mode::EveryTick).len(), 6);
    assert_eq!(
        run(Mode::OncePerDay),
        vec![t(9, 0, 30), date(2026, 11, 23).at(9, 0, 30, 0)]
    );
}

#[test]
fn on_close_fires_again_only_after_a_false_close_and_close_bars_until_rearms() {
    let options = ConditionOptions {
        mode: Mode::OnClose,
        ..Default::default()
    };
    let mut engine = TriggerEngine::default();
    let stock = engine.add_stock(code("005930")).unwrap();
    engine
        .add_condition(1, Condition::parse("1m: close > 100").unwrap(), options)
        .unwrap();
    let mut fired = Vec::new();
    // 09:00 closes false (the baseline), 09:01 true (fires), 09:02 true, 09:03 false (closed by the
    // clock, no trade), 09:04 true (fires).
    for (m, price) in [(0, 99), (1, 101), (2, 102), (3, 99)] {
        engine.on_tick(tick(stock, t(9, m, 10), price), &mut fired);
    }
    engine.close_bars_until(t(9, 4, 0), &mut fired);
    engine.on_tick(tick(stock, t(9, 4, 10), 105), &mut fired);
    engine.close_bars_until(t(9, 5, 0), &mut fired);
    let bars: Vec<DateTime> = fired.iter().map(|f| f.bar_time).collect();
    assert_eq!(bars, vec![t(9, 1, 0), t(9, 4, 0)]);
}

mod against_naive {
    //! The engine fires exactly what a naive model fires: each (stock, condition)'s bars rebuilt
    //! from all trades, every value computed from scratch from those bars, and the firing rules
    //! written out plainly, with one more from-scratch evaluation of each bar as it closes.
    use super::*;

    const CODES: [&str; 2] = ["005930", "000660"];

    fn conditions() -> Vec<(Condition, ConditionOptions)> {
        let opt = |mode, cooldown_mins: Option<i64>| ConditionOptions {
            mode,
            cooldown: cooldown_mins.map(SignedDuration::from_mins),
        };
        [
            ("1m: close > ma(3)", opt(Mode::EveryTick, None)),
            ("1m: close > 1000", opt(Mode::OncePerDay, None)),
            ("3m: cross_up(ma(2), ma(4))", opt(Mode::EveryTick, Some(4))),
            (
                "1m: close >= 1000 and volume > avg(volume, 3)",
                opt(Mode::OnClose, None),
            ),
            ("5m: close > ma(2)", opt(Mode::OnClose, Some(10))),
            ("1m: close < ma(2)", opt(Mode::OncePerDay, Some(2))),
        ]
        .into_iter()
        .map(|(src, o)| (Condition::parse(src).unwrap(), o))
        .collect()
    }

    fn holds_from_scratch(condition: &Condition, bars: &[Candle]) -> bool {
        let mut layout = Layout::new();
        let program = Program::compile(&condition.expr, &mut layout);
        let mut state = SeriesState::new(&layout);
        for bar in bars {
            state.open(*bar);
        }
        program.holds(&state)
    }

    #[derive(Debug, Clone)]
    enum Event {
        /// A trade: stock, seconds after the previous event, price step, volume.
        Trade(usize, i64, i64, u64),
        /// `close_bars_until` this many seconds after the previous event.
        Close(i64),
        /// The next trading day's opening.
        NextDay,
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        let event = prop_oneof![
            12 => (0usize..2, 0i64..50, -3i64..=3, 1u64..40).prop_map(|(s, g, p, v)| Event::Trade(s, g, p, v)),
            2 => (0i64..400).prop_map(Event::Close),
            1 => Just(Event::NextDay),
        ];
        prop::collection::vec(event, 1..220)
    }

    /// One (stock, condition)'s state in the model.
    #[derive(Default)]
    struct Model {
        bars: Option<BarSeries>,
        /// The value at the last evaluation.
        last: Option<bool>,
        fired_bar: Option<DateTime>,
        fired_at: Option<DateTime>,
        /// It fired, and no closed bar has been false since.
        disarmed: bool,
        /// The bar an on-close condition was last evaluated on as closed.
        closed: Option<DateTime>,
    }

    type Fired = (String, u64, DateTime, DateTime, i64);

    impl Model {
        /// The rules: false → true, re-armed, once per bar, outside the cooldown, once a day for
        /// `once_per_day`. A false value on a closed bar re-arms.
        #[allow(clippy::too_many_arguments)]
        fn evaluate(
            &mut self,
            holds: bool,
            closed: bool,
            options: &ConditionOptions,
            bar: &Candle,
            time: DateTime,
            id: (usize, u64),
            out: &mut Vec<Fired>,
        ) {
            let was = self.last.replace(holds);
            if !holds {
                if closed {
                    self.disarmed = false;
                }
                return;
            }
            let quiet = options
                .cooldown
                .zip(self.fired_at)
                .is_some_and(|(cd, at)| time < at.checked_add(cd).unwrap());
            let fired_today =
                options.mode == Mode::OncePerDay && self.fired_at.is_some_and(|at| at.date() == time.date());
            if was == Some(false)
                && !self.disarmed
                && self.fired_bar != Some(bar.time)
                && !quiet
                && !fired_today
            {
                self.fired_bar = Some(bar.time);
                self.fired_at = Some(time);
                self.disarmed = true;
                out.push((CODES[id.0].to_string(), id.1, bar.time, time, bar.close));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

        #[test]
        fn engine_fires_what_the_naive_model_fires(events in events()) {
            let cal = Calendar::krx();
            let conditions = conditions();
            let mut engine = TriggerEngine::default();
            let ids: Vec<StockId> = CODES.iter().map(|c| engine.add_stock(code(c)).unwrap()).collect();
            for (i, (c, o)) in conditions.iter().enumerate() {
                engine.add_condition(i as u64, c.clone(), *o).unwrap();
            }
            let mut models: Vec<Vec<Model>> = (0..CODES.len())
                .map(|_| conditions.iter().map(|(c, _)| Model { bars: Some(BarSeries::new(c.period)), ..Model::default() }).collect())
                .collect();
            let mut got = Vec::new();
            let mut expected: Vec<Fired> = Vec::new();
            let mut time = t(9, 0, 0);
            let mut prices = [1_000i64; 2];
            for event in &events {
                match *event {
                    Event::Trade(s, gap, step, volume) => {
                        time = time.checked_add(SignedDuration::from_secs(gap)).unwrap();
                        if time.time() >= jiff::civil::time(15, 20, 0, 0) {
                            time = cal.next_trading_day(time.date()).at(9, 0, 0, 0);
                        }
                        prices[s] = (prices[s] + step).max(1);
                        let price = prices[s];
                        engine.on_tick(Tick { stock: ids[s], time, price, volume }, &mut got);
                        for (k, (c, o)) in conditions.iter().enumerate() {
                            let m = &mut models[s][k];
                            let bars = m.bars.as_mut().unwrap();
                            let effect = bars.apply_trade(time, price, volume, cal);
                            let bars = bars.bars().to_vec();
                            if effect == TradeEffect::Ignored {
                                continue;
                            }
                            if effect == TradeEffect::Opened && bars.len() >= 2 {
                                let prev = &bars[..bars.len() - 1];
                                let prev_bar = prev[prev.len() - 1];
                                let closed_holds = holds_from_scratch(c, prev);
                                if o.mode == Mode::OnClose {
                                    if m.closed != Some(prev_bar.time) {
                                        m.closed = Some(prev_bar.time);
                                        m.evaluate(closed_holds, true, o, &prev_bar, time, (s, k as u64), &mut expected);
                                    }
                                } else if !closed_holds {
                                    // The bar that just closed was false.
                                    m.disarmed = false;
                                }
                            }
                            if o.mode != Mode::OnClose {
                                let holds = holds_from_scratch(c, &bars);
                                let bar = bars[bars.len() - 1];
                                m.evaluate(holds, false, o, &bar, time, (s, k as u64), &mut expected);
                            }
                        }
                    }
                    Event::Close(after) => {
                        time = time.checked_add(SignedDuration::from_secs(after)).unwrap();
                        engine.close_bars_until(time, &mut got);
                        for (s, per_stock) in models.iter_mut().enumerate() {
                            for (k, (c, o)) in conditions.iter().enumerate() {
                                if o.mode != Mode::OnClose {
                                    continue;
                                }
                                let m = &mut per_stock[k];
                                let bars = m.bars.as_ref().unwrap().bars().to_vec();
                                let Some(&bar) = bars.last() else { continue };
                                let hours = session_hours(cal, bar.time.date());
                                let ended = bar_end(c.period, bar.time, &hours).is_some_and(|end| end <= time);
                                if ended && m.closed != Some(bar.time) {
                                    m.closed = Some(bar.time);
                                    let holds = holds_from_scratch(c, &bars);
                                    m.evaluate(holds, true, o, &bar, time, (s, k as u64), &mut expected);
                                }
                            }
                        }
                    }
                    Event::NextDay => {
                        time = cal.next_trading_day(time.date()).at(9, 0, 0, 0);
                    }
                }
            }
            let mut got: Vec<Fired> = got
                .iter()
                .map(|f| (f.stock.to_string(), f.condition, f.bar_time, f.time, f.price))
                .collect();
            got.sort();
            expected.sort();
            prop_assert_eq!(got, expected);
        }
    }
}
