//! Candle series for the chart: bars of any period with their moving averages and alignment.
//!
//! One-minute bars are the stored truth: an intraday period is aggregated from them (anchored at
//! 09:00 KST). Today's bars come from the live feed ([`crate::live::bars`]): its closed minutes are
//! stored as they close and its forming minute is the chart's forming bar, so the chart is never
//! behind the last trade. Daily bars come from the store (the
//! range is fetched once, see [`crate::history::ensure_daily`]) with today's bar made from the
//! current price (live while the stock is realtime, [`Quotes`]); W and M are aggregated from daily
//! bars. A cold daily chart does not wait for its whole history: at 2 requests/s (VTS) each page of
//! 100 sessions costs half a second, so the request waits for one page of recent sessions and the
//! backfill fetches the rest while the chart is already drawn. The averages are computed exactly
//! over the bars (`market::alignment::average_table`), so they are `null` until enough history exists
//! rather than averages of too few bars.

use std::sync::Arc;

use kis::Priority;
use market::alignment::{Alignment, DEFAULT_PERIODS, average_table};
use market::candle::aggregate;
use market::krx::Calendar;
use market::{Candle, Period, StockCode};

use crate::contract::{ChartCandle, MovingAverages};
use crate::history::{Backfill, LONGEST_AVERAGE, Need, SESSION_MINUTES, Urgency, ensure_daily};
use crate::live::{LiveFeed, Quotes, overlay};
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

/// How much history backs the longest average: bars held and bars needed.
pub use crate::contract::BarCount as History;

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
#[allow(clippy::too_many_arguments)]
pub async fn series(
    gateway: &Gateway,
    quotes: &Quotes,
    live: &LiveFeed,
    store: &Store,
    backfill: Option<&Arc<Backfill>>,
    code: StockCode,
    period: Period,
    count: usize,
) -> Result<Series, GatewayError> {
    let need = LONGEST_AVERAGE + count - 1;
    let bars = match period.minutes() {
        Some(minutes) => {
            if let Some(b) = backfill {
                b.request(code, Urgency::OpenPage, Need::for_periods([period], 0));
            }
            // One extra session's worth: sessions end on a short bar, so minutes per bar vary.
            let want = need * minutes as usize + SESSION_MINUTES;
            let ones = minutes_with_live(gateway, live, store, code, want).await?;
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
                None => match gateway.learn_today(code, kis::Priority::Interactive).await? {
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

/// A stock's latest `want` 1-minute bars up to now (fewer where history is short), oldest first: the stored minutes (today's closed ones included: the ingest stores each live minute as it
/// closes) with today's live bars on top; the forming bar is the live one, so its close is the last
/// trade's price. Today's minutes are read from upstream when the feed may have missed some: a page
/// just opened on a stock nobody watched, a change between polling and realtime
/// ([`crate::live::LiveBars::needs_upstream`]); a stock with no live feed reads them on each request
/// (single-flight for a few seconds).
async fn minutes_with_live(
    gateway: &Gateway,
    live: &LiveFeed,
    store: &Store,
    code: StockCode,
    want: usize,
) -> Result<Vec<Candle>, GatewayError> {
    let bars = live.bars(code);
    let mut upstream_forming = None;
    if bars.as_ref().is_none_or(|b| b.needs_upstream()) {
        if bars.is_some() {
            // Settling an unsure minute needs a read made after it closed, not a cached one.
            gateway.invalidate_today(code).await;
        }
        let today = gateway.today_minutes(code, Priority::Interactive).await?;
        if let Some(at) = today.as_of {
            live.checked_upstream(code, at);
        }
        upstream_forming = today.forming;
    }
    let stored = store.minutes(code, None, want).await?;
    Ok(overlay(stored, bars.as_ref(), upstream_forming))
}

/// A bar as the chart gets it.
impl From<&Bar> for ChartCandle {
    fn from(b: &Bar) -> Self {
        let [ma20, ma60, ma120, ma240] = b.ma;
        ChartCandle {
            candle: crate::contract::Candle::from(&b.candle),
            ma: MovingAverages {
                ma20,
                ma60,
                ma120,
                ma240,
            },
        }
    }
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

    fn bar(m: i8, o: i64, h: i64, l: i64, c: i64, v: u64) -> Candle {
        Candle {
            time: date(2026, 11, 27).at(9, m, 0, 0),
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        }
    }

    #[test]
    fn live_bars_go_on_top_of_the_stored_ones_and_complete_the_partial_first() {
        // Upstream's bars up to 9:31 (9:31 read while forming); the feed started inside 9:31.
        let stored = vec![
            bar(29, 100, 101, 99, 100, 10),
            bar(30, 100, 102, 100, 101, 12),
            bar(31, 101, 103, 101, 102, 5),
        ];
        let mut live = crate::live::LiveBars::default();
        let t = |m: i8, s: i8, p: i64| market::Trade {
            time: date(2026, 11, 27).at(9, m, s, 0),
            price: p,
            volume: 1,
        };
        live.mark_unsure(t(31, 40, 0).time, t(31, 40, 0).time);
        live.absorb(&[t(31, 40, 104), t(31, 50, 103), t(32, 5, 105), t(33, 1, 106)]);
        let out = overlay(stored, Some(&live), None);
        let times: Vec<i8> = out.iter().map(|b| b.time.minute()).collect();
        assert_eq!(times, [29, 30, 31, 32, 33], "no minute missing, none twice");
        assert_eq!(
            out[2],
            bar(31, 101, 104, 101, 103, 5),
            "the partial minute: upstream's open, the live close"
        );
        assert_eq!(out[3], bar(32, 105, 105, 105, 105, 1));
        assert_eq!(
            out.last().unwrap().close,
            106,
            "the forming bar is the last trade"
        );
        // Without a feed, upstream's forming minute goes last.
        let out = overlay(vec![bar(29, 1, 1, 1, 1, 1)], None, Some(bar(30, 2, 2, 2, 2, 2)));
        assert_eq!(out.len(), 2);
    }

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
