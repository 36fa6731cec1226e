//! Candle series for the chart: bars of any period with their moving averages and alignment.
//!
//! One-minute bars are the stored truth: an intraday period is aggregated from them (anchored at
//! 09:00 KST), today's forming minute appended from the gateway. Daily bars come from the store (the
//! range is fetched once, see [`crate::history::ensure_daily`]) with today's bar made from the current
//! price (live while the stock is realtime, [`Quotes`]); W and M are aggregated from daily bars. A cold daily chart does not wait for its whole
//! history: at 2 requests/s (VTS) each page of 100 sessions costs half a second, so the request waits
//! for one page of recent sessions and the backfill fetches the rest while the chart is already drawn. The averages are computed exactly over the bars
//! (`market::alignment::average_table`), so they are `null` until enough history exists rather than
//! averages of too few bars.

use std::sync::Arc;

use kis::Priority;
use market::alignment::{Alignment, DEFAULT_PERIODS, average_table};
use market::candle::aggregate;
use market::krx::Calendar;
use market::{Candle, Period, StockCode};
use serde::Serialize;

use crate::history::{Backfill, LONGEST_AVERAGE, Need, SESSION_MINUTES, Urgency, ensure_daily};
use crate::live::Quotes;
use crate::store::Store;
use crate::upstream::gateway::FIRST_DRAW_DAYS;
use crate::upstream::{Gateway, GatewayError};

/// The default and largest number of bars one request returns.
pub const DEFAULT_COUNT: usize = 200;
pub const MAX_COUNT: usize = 2_000;

/// One bar with its averages (`[MA20, MA60, MA120, MA240]`, `None` until known).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub candle: Candle,
    pub ma: [Option<f64>; 4],
}

/// How much history backs the longest average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct History {
    pub have: usize,
    pub need: usize,
}

/// A stock's bars on one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub code: StockCode,
    pub period: Period,
    pub bars: Vec<Bar>,
    pub alignment: Option<Alignment>,
    pub history: History,
}

/// Builds the series of `count` bars of `period`, asking the backfill for what is missing.
pub async fn series(
    gateway: &Gateway,
    quotes: &Quotes,
    store: &Store,
    backfill: Option<&Arc<Backfill>>,
    code: StockCode,
    period: Period,
    count: usize,
) -> Result<Series, GatewayError> {
    let need = LONGEST_AVERAGE + count - 1;
    let bars = match period.minutes() {
        Some(minutes) => {
            let today = gateway.today_minutes(code, Priority::Interactive).await?;
            if let Some(b) = backfill {
                b.request(code, Urgency::OpenPage, Need::for_periods([period], 0));
            }
            // One extra session's worth: sessions end on a short bar, so minutes per bar vary.
            let want = need * minutes as usize + SESSION_MINUTES;
            let mut ones = store.minutes(code, None, want).await?;
            if let Some(forming) = today.forming
                && ones.last().is_none_or(|l| l.time < forming.time)
            {
                ones.push(forming);
            }
            aggregate(&ones, period, Calendar::krx())
        }
        None => {
            let days = match period {
                Period::Week => need * 5,
                Period::Month => need * 21,
                _ => need,
            };
            let today = match gateway.clock.today() {
                Some(d) => d,
                // One minute-chart call names the trading day (today's minutes would cost one per 30).
                None => match gateway.learn_today(code).await? {
                    Some(t) => t.date(),
                    None => market::time::now_kst().date(),
                },
            };
            // The page waits for at most one upstream page of recent sessions; the rest of the history
            // (the averages' and the older bars') comes from the backfill at open-page urgency, and
            // `history` / the backfill's progress tell the page to ask again. The backfill is asked
            // after the page's own fetch, so it fetches only the older sessions; the answer is read
            // before, so it is what this request waited for.
            let now_days = if backfill.is_some() {
                days.min(FIRST_DRAW_DAYS)
            } else {
                days
            };
            // Today's bar (from the price) and the stored sessions are fetched together: one after
            // the other, the chart call queued behind a rate window the price had just opened.
            let (price, _) = tokio::try_join!(
                quotes.price(code, Priority::Interactive),
                ensure_daily(gateway, store, code, today, now_days, Priority::Interactive)
            )?;
            let mut daily = store.daily(code, Some(today), days).await?;
            if let Some(b) = backfill {
                b.request(
                    code,
                    Urgency::OpenPage,
                    Need {
                        minutes: 0,
                        daily: days,
                    },
                );
            }
            if price.volume > 0 && price.open > 0 {
                daily.push(Candle {
                    time: today.to_datetime(jiff::civil::Time::midnight()),
                    open: price.open,
                    high: price.high,
                    low: price.low,
                    close: price.price,
                    volume: price.volume,
                });
            }
            if period == Period::Day {
                daily
            } else {
                aggregate(&daily, period, Calendar::krx())
            }
        }
    };
    Ok(build(code, period, &bars, count))
}

/// Averages over every bar, then the last `count`.
pub fn build(code: StockCode, period: Period, bars: &[Candle], count: usize) -> Series {
    let table = average_table(bars, &DEFAULT_PERIODS);
    let skip = bars.len().saturating_sub(count);
    let out = bars
        .iter()
        .zip(&table.values)
        .skip(skip)
        .map(|(c, v)| Bar {
            candle: *c,
            ma: [v[0], v[1], v[2], v[3]],
        })
        .collect();
    Series {
        code,
        period,
        bars: out,
        alignment: table.alignment,
        history: History {
            have: bars.len(),
            need: LONGEST_AVERAGE,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn averages_are_null_until_enough_bars_and_the_last_count_is_kept() {
        let bars: Vec<Candle> = (0..300)
            .map(|i| Candle {
                time: date(2026, 1, 1).at(0, 0, 0, 0) + jiff::SignedDuration::from_hours(24 * i),
                open: 100 + i,
                high: 100 + i,
                low: 100 + i,
                close: 100 + i,
                volume: 1,
            })
            .collect();
        let code = StockCode::parse("005930").unwrap();
        let s = build(code, Period::Day, &bars[..100], 50);
        assert_eq!(s.bars.len(), 50);
        assert_eq!(s.bars[0].candle, bars[50]);
        assert!(s.bars[49].ma[0].is_some() && s.bars[49].ma[1].is_some());
        assert_eq!(s.bars[49].ma[2], None);
        assert_eq!(s.alignment, None, "unknown while MA240 is unknown");
        assert_eq!(s.history, History { have: 100, need: 240 });
        let s = build(code, Period::Day, &bars, 10);
        // Rising closes: MA20 > MA60 > MA120 > MA240.
        assert_eq!(s.alignment, Some(Alignment::Bullish));
        let last = s.bars.last().unwrap();
        assert_eq!(last.ma[0], Some((280..300).sum::<i64>() as f64 / 20.0 + 100.0));
    }
}
