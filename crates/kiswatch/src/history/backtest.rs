//! Backtests over history: the bars a condition needs (closed bars of its period, from a date on),
//! shared by `POST /api/v1/backtest` and `kiswatch backtest`, and the API's report of a run
//! (`market::backtest`) as [`crate::contract::BacktestReport`].

use jiff::civil::Date;
use market::backtest::Backtest;
use market::candle::aggregate;
use market::krx::Calendar;
use market::{Candle, Condition, Period};

use crate::clock::rfc3339;
use crate::contract::{
    BacktestReport, BacktestSignal, BacktestSummary, ForwardReturns, Horizon, TriggerValues,
};

/// Closed bars of `period` made from 1-minute or daily bars (oldest first) dated `from` on; the
/// forming bar of `today` is left out (a backtest looks at closed bars only).
pub fn closed_bars(
    source: &[Candle],
    period: Period,
    from: Option<Date>,
    today: Option<Date>,
) -> Vec<Candle> {
    let source: Vec<Candle> = source
        .iter()
        .filter(|b| from.is_none_or(|f| b.time.date() >= f))
        .filter(|b| today.is_none_or(|t| b.time.date() < t))
        .copied()
        .collect();
    if period == Period::Day
        && source
            .iter()
            .all(|b| b.time.time() == jiff::civil::Time::midnight())
    {
        return source;
    }
    aggregate(&source, period, Calendar::krx())
}

/// The report of a backtest (`POST /api/v1/backtest`).
pub fn report(
    code: &str,
    name: &str,
    condition: &Condition,
    bars: &[Candle],
    result: &Backtest,
) -> BacktestReport {
    let signals = result
        .signals
        .iter()
        .map(|s| {
            let [after1, after5, after20] = s.forward_returns;
            BacktestSignal {
                time: rfc3339(s.bar.time),
                close: s.bar.close,
                values: TriggerValues(s.values.clone()),
                returns: ForwardReturns {
                    after1,
                    after5,
                    after20,
                },
            }
        })
        .collect();
    let horizons = result
        .horizons
        .iter()
        .map(|h| Horizon {
            bars: h.bars,
            samples: h.samples,
            hit_rate: h.hit_rate,
            mean_return: h.mean_return,
        })
        .collect();
    BacktestReport {
        code: code.to_owned(),
        name: name.to_owned(),
        condition: condition.source().to_owned(),
        period: condition.period.as_str().to_owned(),
        bars: bars.len(),
        from: bars.first().map(|b| rfc3339(b.time)),
        to: bars.last().map(|b| rfc3339(b.time)),
        signals,
        summary: BacktestSummary {
            count: result.count,
            horizons,
        },
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use market::backtest::{HorizonSummary, Signal};

    use super::*;

    #[test]
    fn the_report_keeps_the_conditions_order_of_values_and_nulls_where_history_ends() {
        let condition = Condition::parse("D: ma(60) > close").unwrap();
        let bar = Candle {
            time: date(2026, 1, 5).at(0, 0, 0, 0),
            open: 100,
            high: 100,
            low: 100,
            close: 100,
            volume: 1,
        };
        let result = Backtest {
            condition: condition.source().to_owned(),
            bars: 1,
            signals: vec![Signal {
                index: 0,
                bar,
                values: vec![("ma(60)".into(), 101.5), ("close".into(), 100.0)],
                forward_returns: [Some(1.5), None, None],
                net_returns: [Some(1.3), None, None],
            }],
            count: 1,
            horizons: vec![HorizonSummary {
                bars: 1,
                samples: 1,
                hit_rate: Some(1.0),
                mean_return: Some(1.5),
                gross_hit_rate: Some(1.0),
                net_mean_return: Some(1.3),
                baseline_samples: 0,
                baseline_hit_rate: None,
                baseline_mean_return: None,
                baseline_net_mean_return: None,
            }],
            span: None,
            costs: Default::default(),
            buy_and_hold_return: None,
            buy_and_hold_net_return: None,
            evaluated_bars: 1,
            short_history: true,
        };
        let text = serde_json::to_string(&report("005930", "삼성전자", &condition, &[bar], &result)).unwrap();
        assert!(
            text.contains(r#""values":{"ma(60)":101.5,"close":100.0}"#),
            "the condition's order, not the alphabet's: {text}"
        );
        assert!(
            text.contains(r#""returns":{"1":1.5,"5":null,"20":null}"#),
            "{text}"
        );
        assert!(
            text.contains(r#""from":"2026-01-05T00:00:00+09:00","to":"2026-01-05T00:00:00+09:00""#),
            "{text}"
        );
        assert!(
            text.ends_with(r#""summary":{"count":1,"horizons":[{"bars":1,"samples":1,"hit_rate":1.0,"mean_return":1.5}]}}"#),
            "{text}"
        );
    }
}
