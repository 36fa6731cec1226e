//! Backtesting a market scan: the condition over the stored daily history of every listing its
//! filters admit (the same history the scans use, `service::HISTORY_SESSIONS` sessions a listing),
//! with the matches and entries per day and the forward returns after entering against the
//! universe's average — what no HTS condition search offers. The evaluation is
//! `market::scan::ScanBacktester` (one listing at a time, off the async threads).

use std::time::Instant;

use market::candle::aggregate;
use market::krx::Calendar;
use market::scan::ScanBacktester;
use market::{Period, StockCode};

use super::service::HISTORY_SESSIONS;
use super::universe::listings;
use crate::contract::{ScanBacktestDay, ScanBacktestHorizon, ScanBacktestReport};
use crate::store::{ConditionRow, Store, StoreError};
use crate::upstream::StockDirectory;

/// Fewer entries than this (or days than [`SHORT_DAYS`]) make the figures anecdotes.
const SHORT_ENTRIES: usize = 20;
const SHORT_DAYS: usize = 100;

/// Runs a market-scope condition over the stored history (`None`: it does not compile or is intraday).
pub async fn run(
    store: &Store,
    stocks: &StockDirectory,
    row: &ConditionRow,
) -> Result<Option<ScanBacktestReport>, StoreError> {
    let started = Instant::now();
    let Ok(condition) = market::Condition::parse(&row.spec.expr) else {
        return Ok(None);
    };
    let Ok(mut tester) = ScanBacktester::new(&condition) else {
        return Ok(None);
    };
    let filters = row.spec.filters.clone().unwrap_or_default();
    let universe: Vec<StockCode> =
        listings(stocks.master_records().as_deref().map(Vec::as_slice), &filters).collect();
    let period = condition.period;
    let mut with_history = 0;
    for code in &universe {
        let daily = store.daily(*code, None, HISTORY_SESSIONS).await?;
        if daily.is_empty() {
            continue;
        }
        with_history += 1;
        let bars = if period == Period::Day {
            daily
        } else {
            aggregate(&daily, period, Calendar::krx())
        };
        tester.add(&bars);
    }
    let r = tester.finish();
    let incomplete = with_history < universe.len();
    Ok(Some(ScanBacktestReport {
        condition_id: row.id,
        expr: row.spec.expr.clone(),
        period: period.as_str().to_string(),
        universe: universe.len(),
        stocks: with_history,
        first: r.days.first().map(|d| d.date.to_string()),
        last: r.days.last().map(|d| d.date.to_string()),
        short_history: r.entries < SHORT_ENTRIES || r.days.len() < SHORT_DAYS || incomplete,
        entries: r.entries,
        days: r
            .days
            .iter()
            .map(|d| ScanBacktestDay {
                date: d.date.to_string(),
                evaluated: d.evaluated,
                matches: d.matches,
                entries: d.entries,
            })
            .collect(),
        horizons: r
            .horizons
            .iter()
            .map(|h| ScanBacktestHorizon {
                bars: h.bars,
                samples: h.samples,
                mean_return: h.mean_return,
                hit_rate: h.hit_rate,
                universe_samples: h.universe_samples,
                universe_mean_return: h.universe_mean_return,
                universe_hit_rate: h.universe_hit_rate,
            })
            .collect(),
        took_ms: started.elapsed().as_millis() as u64,
    }))
}
