//! Backtests over history: the bars a condition needs (closed bars of its period, from a date on),
//! the run (`market::backtest`), and the report shared by `POST /api/v1/backtest` and
//! `kiswatch backtest`.

use jiff::civil::Date;
use market::backtest::Backtest;
use market::candle::aggregate;
use market::krx::Calendar;
use market::{Candle, Condition, Period};
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;

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

/// The JSON report of a backtest.
pub fn report(code: &str, name: &str, condition: &Condition, bars: &[Candle], result: &Backtest) -> Value {
    let signals: Vec<Value> = result
        .signals
        .iter()
        .map(|s| {
            let values: Map<String, Value> = s.values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            json!({
                "time": rfc3339(s.bar.time),
                "close": s.bar.close,
                "values": values,
                "returns": {
                    "1": s.forward_returns[0],
                    "5": s.forward_returns[1],
                    "20": s.forward_returns[2],
                },
            })
        })
        .collect();
    let horizons: Vec<Value> = result
        .horizons
        .iter()
        .map(|h| json!({"bars": h.bars, "samples": h.samples, "hit_rate": h.hit_rate, "mean_return": h.mean_return}))
        .collect();
    json!({
        "code": code,
        "name": name,
        "condition": condition.source(),
        "period": condition.period.as_str(),
        "bars": bars.len(),
        "from": bars.first().map(|b| rfc3339(b.time)),
        "to": bars.last().map(|b| rfc3339(b.time)),
        "signals": signals,
        "summary": {"count": result.count, "horizons": horizons},
    })
}
