//! Candle periods, bar boundaries (golden, including late-opening days), aggregation (property), and the
//! merge of history with live trades.

use jiff::civil::{Date, DateTime, date};
use market::candle::{Candle, Period, aggregate, bar_end};
use market::krx::Calendar;
use market::series::{BarSeries, TradeEffect};
use proptest::prelude::*;

fn hm(d: Date, h: i8, m: i8) -> DateTime {
    d.at(h, m, 0, 0)
}

/// Every minute of a day's regular session, as 1-minute bar starts.
fn session_minutes(d: Date) -> Vec<DateTime> {
    let hours = Calendar::krx().hours(d).expect("a trading day");
    let mut t = d.to_datetime(hours.open);
    let end = d.to_datetime(hours.close);
    let mut out = Vec::new();
    while t < end {
        out.push(t);
        t = t.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
    }
    out
}

fn thirty_minute_bars(d: Date) -> Vec<(DateTime, DateTime)> {
    let cal = Calendar::krx();
    let hours = cal.hours(d).unwrap();
    let minutes: Vec<Candle> = session_minutes(d)
        .into_iter()
        .map(|t| Candle::from_trade(t, 100, 1))
        .collect();
    aggregate(&minutes, Period::M30, cal)
        .into_iter()
        .map(|c| (c.time, bar_end(Period::M30, c.time, &hours).unwrap()))
        .collect()
}

#[test]
fn periods_parse_and_print() {
    for p in Period::ALL {
        assert_eq!(Period::parse(p.as_str()), Ok(p));
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
    }
    assert!(Period::parse("2m").is_err());
    assert!(Period::parse("d").is_err());
}

#[test]
fn a_normal_day_has_thirteen_thirty_minute_bars() {
    let d = date(2026, 11, 20);
    let bars = thirty_minute_bars(d);
    assert_eq!(bars.len(), 13);
    assert_eq!(bars[0], (hm(d, 9, 0), hm(d, 9, 30)));
    assert_eq!(bars[12], (hm(d, 15, 0), hm(d, 15, 30)));
    // 60-minute bars: 09:00 … 15:00, the last cut at the close.
    let hours = Calendar::krx().hours(d).unwrap();
    assert_eq!(Period::M60.bar_start(hm(d, 15, 29), &hours), Some(hm(d, 15, 0)));
    assert_eq!(bar_end(Period::M60, hm(d, 15, 0), &hours), Some(hm(d, 15, 30)));
    // The closing auction's uncross (15:30:xx) belongs to the last bar; the opening auction's to the first.
    assert_eq!(
        Period::M30.bar_start(d.at(15, 30, 2, 0), &hours),
        Some(hm(d, 15, 0))
    );
    assert_eq!(
        Period::M1.bar_start(d.at(15, 30, 2, 0), &hours),
        Some(hm(d, 15, 29))
    );
    assert_eq!(
        Period::M5.bar_start(d.at(8, 59, 59, 0), &hours),
        Some(hm(d, 9, 0))
    );
    // After-hours and night trades make no regular bar.
    assert_eq!(Period::M30.bar_start(hm(d, 15, 45), &hours), None);
    assert_eq!(Period::Day.bar_start(hm(d, 7, 0), &hours), None);
    assert_eq!(Period::Day.bar_start(hm(d, 15, 30), &hours), Some(hm(d, 0, 0)));
}

#[test]
fn the_first_trading_day_of_the_year_opens_at_ten() {
    let d = date(2026, 1, 2);
    let bars = thirty_minute_bars(d);
    // Still anchored at 09:00: 10:00–10:30 … 15:00–15:30, 11 bars.
    assert_eq!(bars.len(), 11);
    assert_eq!(bars[0], (hm(d, 10, 0), hm(d, 10, 30)));
    assert_eq!(bars[10], (hm(d, 15, 0), hm(d, 15, 30)));
    let hours = Calendar::krx().hours(d).unwrap();
    assert_eq!(
        Period::M60.bar_start(d.at(9, 59, 59, 0), &hours),
        Some(hm(d, 10, 0))
    );
}

#[test]
fn the_exam_day_runs_ten_to_half_past_four() {
    let d = date(2026, 11, 19);
    assert!(Calendar::krx().is_exam_day(d));
    let bars = thirty_minute_bars(d);
    assert_eq!(bars.len(), 13);
    assert_eq!(bars[0], (hm(d, 10, 0), hm(d, 10, 30)));
    assert_eq!(bars[12], (hm(d, 16, 0), hm(d, 16, 30)));
    let hours = Calendar::krx().hours(d).unwrap();
    assert_eq!(Period::M60.bar_start(hm(d, 16, 29), &hours), Some(hm(d, 16, 0)));
    assert_eq!(
        Period::M30.bar_start(d.at(16, 30, 1, 0), &hours),
        Some(hm(d, 16, 0))
    );
}

#[test]
fn weeks_start_on_monday_and_months_on_the_first() {
    let cal = Calendar::krx();
    let days: Vec<Candle> = cal
        .trading_days(date(2026, 10, 26), date(2026, 11, 10))
        .enumerate()
        .map(|(i, d)| Candle {
            time: d.to_datetime(jiff::civil::Time::midnight()),
            open: 100 + i as i64,
            high: 200,
            low: 50,
            close: 101 + i as i64,
            volume: 10,
        })
        .collect();
    let weeks = aggregate(&days, Period::Week, cal);
    assert_eq!(weeks[0].time, hm(date(2026, 10, 26), 0, 0));
    assert_eq!(weeks[1].time, hm(date(2026, 11, 2), 0, 0));
    assert_eq!(weeks[1].open, days[5].open);
    let months = aggregate(&days, Period::Month, cal);
    assert_eq!(
        months.iter().map(|m| m.time).collect::<Vec<_>>(),
        vec![hm(date(2026, 10, 1), 0, 0), hm(date(2026, 11, 1), 0, 0)]
    );
    assert_eq!(
        months.iter().map(|m| m.volume).sum::<u64>(),
        10 * days.len() as u64
    );
}

/// Trades of one day: (seconds after 09:00, price, volume).
fn trades() -> impl Strategy<Value = Vec<(i64, i64, u64)>> {
    prop::collection::vec((0i64..(390 * 60 + 30), 1_000i64..1_100, 1u64..500), 1..300).prop_map(|mut v| {
        v.sort_by_key(|t| t.0);
        v
    })
}

fn at(d: Date, secs: i64) -> DateTime {
    hm(d, 9, 0)
        .checked_add(jiff::SignedDuration::from_secs(secs))
        .unwrap()
}

proptest! {
    /// Aggregating 1-minute bars gives exactly the bars built directly from the trades, for every period.
    #[test]
    fn aggregating_minutes_equals_direct_bars(trades in trades(), day in 0usize..3) {
        let cal = Calendar::krx();
        let d = [date(2026, 11, 20), date(2026, 1, 2), date(2026, 11, 19)][day];
        let hours = cal.hours(d).unwrap();
        let direct = |period: Period| {
            let mut bars: Vec<Candle> = Vec::new();
            for &(s, price, vol) in &trades {
                let t = at(d, s);
                let Some(start) = period.bar_start(t, &hours) else { continue };
                match bars.last_mut() {
                    Some(b) if b.time == start => b.absorb(&Candle::from_trade(t, price, vol)),
                    _ => bars.push(Candle::from_trade(start, price, vol)),
                }
            }
            bars
        };
        let minutes = direct(Period::M1);
        for period in Period::ALL.into_iter().filter(|p| p.is_intraday()) {
            prop_assert_eq!(aggregate(&minutes, period, cal), direct(period), "period {}", period);
        }
        prop_assert_eq!(aggregate(&minutes, Period::Day, cal), direct(Period::Day));
    }
}

#[test]
fn history_and_live_trades_merge_without_duplicate_or_gap() {
    let cal = Calendar::krx();
    let d = date(2026, 11, 20);
    let mut s = BarSeries::new(Period::M1);
    // Live from 10:14:30 (subscribed then) to 10:15:10.
    assert_eq!(
        s.apply_trade(d.at(10, 14, 30, 0), 105, 5, cal),
        TradeEffect::Opened
    );
    s.apply_trade(d.at(10, 14, 50, 0), 103, 5, cal);
    s.apply_trade(d.at(10, 15, 10, 0), 104, 7, cal);
    // History fetched afterwards: 09:00 … 10:14, the last minute seen only up to 10:14:20.
    let history: Vec<Candle> = (0..75)
        .map(|i| {
            let t = hm(d, 9, 0)
                .checked_add(jiff::SignedDuration::from_mins(i))
                .unwrap();
            Candle {
                time: t,
                open: 100,
                high: 106,
                low: 99,
                close: 101,
                volume: 20,
            }
        })
        .collect();
    s.merge_history(&history);
    let bars = s.bars();
    assert_eq!(bars.len(), 76);
    for pair in bars.windows(2) {
        let step = pair[1]
            .time
            .checked_sub(jiff::SignedDuration::from_mins(1))
            .unwrap();
        assert_eq!(step, pair[0].time, "contiguous");
    }
    // Before the first live bar: history's.
    assert_eq!(bars[73], history[73]);
    // The first live bar, 10:14: history's open, the wider range, the live close, the larger volume.
    assert_eq!(
        bars[74],
        Candle {
            time: hm(d, 10, 14),
            open: 100,
            high: 106,
            low: 99,
            close: 103,
            volume: 20
        }
    );
    // The forming 10:15 bar is live-only and stays forming.
    assert_eq!(
        s.forming().map(|c| (c.time, c.close, c.volume)),
        Some((hm(d, 10, 15), 104, 7))
    );
    // A second fetch that caught 10:15 mid-bar does not overwrite what live trades saw completely.
    s.merge_history(&[Candle {
        time: hm(d, 10, 15),
        open: 104,
        high: 104,
        low: 104,
        close: 104,
        volume: 3,
    }]);
    assert_eq!(s.bars().len(), 76);
    assert_eq!(
        s.forming().map(|c| (c.open, c.close, c.volume)),
        Some((104, 104, 7))
    );
    s.apply_trade(d.at(10, 15, 40, 0), 108, 1, cal);
    assert_eq!(
        s.forming().map(|c| (c.high, c.close, c.volume)),
        Some((108, 108, 8))
    );
}

fn bars_of(trades: &[(i64, i64, u64)], d: Date, period: Period) -> Vec<Candle> {
    let hours = Calendar::krx().hours(d).unwrap();
    let mut bars: Vec<Candle> = Vec::new();
    for &(s, price, vol) in trades {
        let t = at(d, s);
        let Some(start) = period.bar_start(t, &hours) else {
            continue;
        };
        match bars.last_mut() {
            Some(b) if b.time == start => b.absorb(&Candle::from_trade(t, price, vol)),
            _ => bars.push(Candle::from_trade(start, price, vol)),
        }
    }
    bars
}

proptest! {
    /// Live trades from trade `k` on, history fetched when trade `j >= k` had happened (its last bar
    /// possibly cut mid-bar), merged in either order of arrival: the same bars as all trades give
    /// directly — no duplicate, no gap — except the volume of the first live bar, which is at least
    /// each side's and at most the truth.
    #[test]
    fn merged_history_and_live_equal_the_direct_bars(
        trades in trades(),
        cut in (0.0f64..=1.0, 0.0f64..=1.0),
        period in prop::sample::select(vec![Period::M1, Period::M5, Period::M30]),
    ) {
        let cal = Calendar::krx();
        let d = date(2026, 11, 20);
        let j = (cut.0 * trades.len() as f64) as usize;
        let k = (cut.1 * j as f64) as usize;
        let mut live = BarSeries::new(period);
        for &(s, price, vol) in &trades[k..] {
            live.apply_trade(at(d, s), price, vol, cal);
        }
        live.merge_history(&bars_of(&trades[..j], d, period));
        let direct = bars_of(&trades, d, period);
        let merged = live.bars();
        prop_assert_eq!(merged.iter().map(|c| c.time).collect::<Vec<_>>(), direct.iter().map(|c| c.time).collect::<Vec<_>>());
        let first_live = trades.get(k).and_then(|&(s, _, _)| period.bar_start(at(d, s), &cal.hours(d).unwrap()));
        for (m, e) in merged.iter().zip(&direct) {
            prop_assert_eq!((m.open, m.high, m.low, m.close), (e.open, e.high, e.low, e.close), "bar {}", m.time);
            if Some(m.time) == first_live {
                prop_assert!(m.volume <= e.volume);
            } else {
                prop_assert_eq!(m.volume, e.volume, "bar {}", m.time);
            }
        }
    }
}

#[test]
fn trades_continue_a_stored_bar() {
    let cal = Calendar::krx();
    let d = date(2026, 11, 20);
    let mut s = BarSeries::new(Period::M5);
    // History first (fetched at 10:02), then the subscription's trades.
    s.merge_history(&[Candle {
        time: hm(d, 10, 0),
        open: 100,
        high: 103,
        low: 99,
        close: 101,
        volume: 40,
    }]);
    assert!(s.forming().is_none());
    assert_eq!(
        s.apply_trade(d.at(10, 3, 0, 0), 104, 5, cal),
        TradeEffect::Updated
    );
    assert_eq!(
        s.forming().copied(),
        Some(Candle {
            time: hm(d, 10, 0),
            open: 100,
            high: 104,
            low: 99,
            close: 104,
            volume: 45
        })
    );
}
