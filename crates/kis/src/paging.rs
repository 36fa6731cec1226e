//! Candle history across calls: KIS returns at most 100 period bars, 30 of today's minute bars or
//! 120 of a past day's minute bars per call, newest first. These walk backwards from the newest
//! until the range is covered or KIS has nothing older, and return bars oldest first, each once.

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::{Date, Time};
use market::StockCode;

use crate::client::KisClient;
use crate::error::KisError;
use crate::wire::chart::{
    BarPeriod, MinuteBar, PAST_MINUTE_ROWS_PER_CALL, PERIOD_ROWS_PER_CALL, PeriodBar,
    TODAY_MINUTE_ROWS_PER_CALL,
};

/// The latest time a minute-chart walk starts from: KIS treats a future time as "now".
const END_OF_DAY: Time = Time::constant(23, 59, 59, 0);
/// More calls than a day can need (1,440 minutes / 30 per call = 48).
const MAX_MINUTE_CALLS: usize = 60;

impl KisClient {
    /// Daily/weekly/monthly/yearly bars with dates in `from..=to`, oldest first, in as many calls
    /// of 100 as the range needs.
    pub async fn period_bars(
        &self,
        code: StockCode,
        period: BarPeriod,
        from: Date,
        to: Date,
    ) -> Result<Vec<PeriodBar>, KisError> {
        if from > to {
            return Err(KisError::InvalidRequest(format!(
                "start {from} is after end {to}"
            )));
        }
        let mut bars = BTreeMap::new();
        let mut end = to;
        loop {
            let chart = self.period_chart(code, period, from, end).await?;
            let rows = chart.bars.len();
            let oldest = chart.bars.iter().map(|b| b.date).min();
            for bar in chart.bars.into_iter().filter(|b| (from..=to).contains(&b.date)) {
                bars.insert(bar.date, bar);
            }
            let Some(oldest) = oldest else { break };
            if rows < PERIOD_ROWS_PER_CALL || oldest <= from {
                break;
            }
            match oldest.yesterday() {
                Ok(next) if next < end => end = next,
                _ => break,
            }
        }
        Ok(bars.into_values().collect())
    }

    /// Today's one-minute bars since the open, oldest first (30 per call).
    pub async fn today_minute_bars(&self, code: StockCode) -> Result<Vec<MinuteBar>, KisError> {
        self.walk_minutes(TODAY_MINUTE_ROWS_PER_CALL, None, |until| async move {
            self.today_minute_chart(code, until).await.map(|c| c.bars)
        })
        .await
    }

    /// The one-minute bars of a past `date`, oldest first (120 per call; real accounts only).
    pub async fn minute_bars(&self, code: StockCode, date: Date) -> Result<Vec<MinuteBar>, KisError> {
        self.walk_minutes(PAST_MINUTE_ROWS_PER_CALL, Some(date), |until| async move {
            self.past_minute_chart(code, date, until).await.map(|c| c.bars)
        })
        .await
    }

    async fn walk_minutes<F, Fut>(
        &self,
        per_call: usize,
        date: Option<Date>,
        call: F,
    ) -> Result<Vec<MinuteBar>, KisError>
    where
        F: Fn(Time) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<MinuteBar>, KisError>>,
    {
        let mut bars = BTreeMap::new();
        let mut until = END_OF_DAY;
        for _ in 0..MAX_MINUTE_CALLS {
            let page = call(until).await?;
            let rows = page.len();
            // Today's walk takes the date of the first page; a past day's keeps only that day.
            let day = date.or_else(|| page.iter().map(|b| b.date).max());
            let oldest = page.iter().map(|b| b.time).min();
            for bar in page.into_iter().filter(|b| Some(b.date) == day) {
                bars.insert(bar.time, bar);
            }
            let Some(oldest) = oldest else { break };
            if rows < per_call {
                break;
            }
            match oldest.checked_sub(1.minute()) {
                Ok(next) if next < until && next < oldest => until = next,
                _ => break,
            }
        }
        Ok(bars.into_values().collect())
    }
}
