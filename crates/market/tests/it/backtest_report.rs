//! A backtest a person can read: the span tested, net returns beside gross ones, hit rates against
//! the baseline of every bar, buy and hold over the same span, and a flag for short histories.

use jiff::civil::{DateTime, date};
use market::backtest::{
    BacktestError, Costs, HORIZONS, SHORT_HISTORY_BARS, SHORT_HISTORY_SIGNALS, backtest, backtest_with,
};
use market::candle::Candle;
use market::condition::Condition;

fn day(i: usize) -> DateTime {
    date(2026, 1, 5)
        .at(0, 0, 0, 0)
        .checked_add(jiff::SignedDuration::from_hours(24 * i as i64))
        .unwrap()
}

fn bars(closes: &[i64]) -> Vec<Candle> {
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| Candle {
            time: day(i),
            open: c,
            high: c,
            low: c,
            close: c,
            volume: 1_000,
        })
        .collect()
}

fn gross(buy: f64, sell: f64) -> f64 {
    (sell - buy) / buy * 100.0
}

/// Bought paying 0.015 %, sold paying 0.015 % and the 0.18 % tax: the defaults, written out.
fn net(buy: f64, sell: f64) -> f64 {
    (sell * (1.0 - 0.000_15 - 0.001_8) - buy * 1.000_15) / (buy * 1.000_15) * 100.0
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn costs_baselines_buy_and_hold_and_the_span() {
    // `close > 1000` fires at 1 (1,001) and at 4 (1,010, after 990).
    let closes = [1000, 1001, 1002, 990, 1010, 1020];
    let c = Condition::parse("close > 1000").unwrap();
    let r = backtest(&c, &bars(&closes));
    assert_eq!(r.costs, Costs::default());
    assert_eq!((r.costs.commission_rate, r.costs.tax_rate), (0.000_15, 0.001_8));
    assert_eq!(r.count, 2);
    assert_eq!((r.signals[0].index, r.signals[1].index), (1, 4));

    // The first signal gains 0.1 % gross, which the costs turn into a loss; the second gains 1 %.
    let s = &r.signals[0];
    assert!(close(s.forward_returns[0], gross(1001.0, 1002.0)));
    assert!(close(s.net_returns[0], net(1001.0, 1002.0)));
    assert!(s.net_returns[0].unwrap() < 0.0 && s.forward_returns[0].unwrap() > 0.0);
    assert_eq!((s.forward_returns[1], s.net_returns[1]), (None, None));
    let h1 = &r.horizons[0];
    assert_eq!((h1.bars, h1.samples), (1, 2));
    assert_eq!(h1.hit_rate, Some(0.5), "a hit is a net gain");
    assert_eq!(h1.gross_hit_rate, Some(1.0));
    assert!(close(
        h1.mean_return,
        (gross(1001.0, 1002.0) + gross(1010.0, 1020.0)) / 2.0
    ));
    assert!(close(
        h1.net_mean_return,
        (net(1001.0, 1002.0) + net(1010.0, 1020.0)) / 2.0
    ));
    // The baseline: every bar with a next bar, signal or not.
    let pairs: Vec<(f64, f64)> = closes.windows(2).map(|w| (w[0] as f64, w[1] as f64)).collect();
    assert_eq!(h1.baseline_samples, 5);
    assert!(close(
        h1.baseline_mean_return,
        pairs.iter().map(|&(a, b)| gross(a, b)).sum::<f64>() / 5.0
    ));
    assert!(close(
        h1.baseline_net_mean_return,
        pairs.iter().map(|&(a, b)| net(a, b)).sum::<f64>() / 5.0
    ));
    // Net gains: 990 → 1,010 and 1,010 → 1,020 (the two +0.1 % steps lose to costs).
    assert_eq!(h1.baseline_hit_rate, Some(0.4));
    // Five bars ahead: no signal has one; only bar 0 does.
    let h5 = &r.horizons[1];
    assert_eq!(
        (h5.samples, h5.hit_rate, h5.mean_return, h5.net_mean_return),
        (0, None, None, None)
    );
    assert_eq!(h5.baseline_samples, 1);
    assert!(close(h5.baseline_mean_return, 2.0));
    assert_eq!(r.horizons[2].baseline_samples, 0);
    assert_eq!(r.horizons[2].baseline_mean_return, None);
    assert_eq!(r.horizons.len(), HORIZONS.len());

    // Buy and hold over the same span.
    assert!(close(r.buy_and_hold_return, 2.0));
    assert!(close(r.buy_and_hold_net_return, net(1000.0, 1020.0)));
    let span = r.span.unwrap();
    assert_eq!((span.first, span.last, span.bars), (day(0), day(5), 6));
    assert_eq!(r.bars, 6);
    assert_eq!(r.evaluated_bars, 6);
    assert!(r.short_history);

    // Without costs, net is gross.
    let free = backtest_with(&c, &bars(&closes), Costs::NONE).unwrap();
    for s in &free.signals {
        assert_eq!(s.net_returns, s.forward_returns);
    }
    assert_eq!(free.horizons[0].hit_rate, Some(1.0));
    assert_eq!(free.buy_and_hold_net_return, free.buy_and_hold_return);

    // The JSON carries the new figures beside the old ones.
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "span",
        "costs",
        "buy_and_hold_return",
        "buy_and_hold_net_return",
        "evaluated_bars",
        "short_history",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["costs"]["tax_rate"], 0.0018);
    assert_eq!(json["horizons"][0]["baseline_hit_rate"], 0.4);
    assert!(json["signals"][0]["net_returns"].is_array());
}

#[test]
fn invalid_costs_are_refused() {
    let c = Condition::parse("close > 1").unwrap();
    for (commission_rate, tax_rate) in [
        (-0.1, 0.0),
        (0.0, 1.0),
        (f64::NAN, 0.0),
        (0.6, 0.5),
        (0.0, f64::INFINITY),
    ] {
        let costs = Costs {
            commission_rate,
            tax_rate,
        };
        assert!(!costs.is_valid());
        assert!(matches!(
            backtest_with(&c, &bars(&[1, 2]), costs),
            Err(BacktestError::InvalidCosts { .. })
        ));
    }
    assert!(Costs::default().is_valid() && Costs::NONE.is_valid());
}

#[test]
fn short_history_counts_signals_and_bars_with_a_known_value() {
    // `close > ma(5)` is unknown on the first four bars.
    let zigzag: Vec<i64> = (0..10).map(|i| if i % 2 == 0 { 100 } else { 120 }).collect();
    let r = backtest(&Condition::parse("close > ma(5)").unwrap(), &bars(&zigzag));
    assert_eq!(r.evaluated_bars, 6);
    assert!(r.short_history);

    // A long zigzag: a signal every other bar, enough of both.
    let n = 2 * SHORT_HISTORY_SIGNALS + SHORT_HISTORY_BARS;
    let zigzag: Vec<i64> = (0..n).map(|i| if i % 2 == 0 { 100 } else { 120 }).collect();
    let r = backtest(&Condition::parse("close > ma(5)").unwrap(), &bars(&zigzag));
    assert_eq!(r.evaluated_bars, n - 4);
    assert!(r.count >= SHORT_HISTORY_SIGNALS, "{}", r.count);
    assert!(!r.short_history);
    // Many bars with a known value but one signal: still short.
    let r = backtest(&Condition::parse("close > 110").unwrap(), &bars(&vec![120; n]));
    assert_eq!((r.count, r.evaluated_bars), (1, n));
    assert!(r.short_history);

    // No bars at all.
    let r = backtest(&Condition::parse("close > 110").unwrap(), &[]);
    assert_eq!((r.span, r.buy_and_hold_return, r.count), (None, None, 0));
    assert!(r.short_history);
}
