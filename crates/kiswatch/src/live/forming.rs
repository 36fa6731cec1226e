//! The forming bar of every period a browser watches, remade with each trade (realtime or polled)
//! from the same truth `GET /candles` reads, so a chart on any period follows the trades and its
//! last close is the header's price:
//!
//! * an intraday period: today's minutes of the bar so far — the stored ones (each closed minute is
//!   stored as it closes, minutes from before the feed started come from upstream) with the live ones
//!   on top ([`super::overlay`]) — aggregated like the chart's bars (anchored at the session's open);
//! * `D`: the day so far ([`super::DayMove`]: the open, high and low, the price as the close, the
//!   day's volume), which is also what `GET /candles` makes today's daily bar of;
//! * `W`, `M`: the week's or month's earlier sessions from the store and today's bar.
//!
//! The store is read at most once a market minute per stock and period (intraday) or once a day (W,
//! M); between those reads a trade costs an aggregation over at most an hour of minutes.

use std::collections::HashMap;

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use market::candle::aggregate;
use market::krx::Calendar;
use market::{Candle, Period, StockCode};

use super::bars::minute_of;
use super::feed::LiveFeed;
use crate::store::Store;

/// See the module docs.
#[derive(Debug, Default)]
pub struct FormingBars {
    /// Per stock and intraday period: the minute the stored minutes were read in, and those minutes.
    minutes: HashMap<(StockCode, Period), (DateTime, Vec<Candle>)>,
    /// Per stock and W/M: the day the earlier sessions were read on, and those sessions.
    sessions: HashMap<(StockCode, Period), (Date, Vec<Candle>)>,
}

impl FormingBars {
    pub fn new() -> FormingBars {
        FormingBars::default()
    }

    /// The stock's forming bar of `period` at market time `now` (just after a trade at `now` was taken
    /// in); `None` when it cannot be made yet (no day known for a daily period).
    pub async fn bar(
        &mut self,
        store: &Store,
        live: &LiveFeed,
        code: StockCode,
        period: Period,
        now: DateTime,
    ) -> Option<Candle> {
        match period.minutes() {
            Some(1) => live.bars(code)?.get(minute_of(now)),
            Some(n) => {
                let minute = minute_of(now);
                let from = minute.saturating_sub(SignedDuration::from_mins(i64::from(n - 1)));
                let fresh = self
                    .minutes
                    .get(&(code, period))
                    .is_some_and(|(read_in, _)| *read_in == minute);
                if !fresh {
                    let stored = store
                        .minutes(code, None, n as usize + 1)
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|b| b.time >= from && b.time.date() == now.date())
                        .collect();
                    self.minutes.insert((code, period), (minute, stored));
                }
                let stored = self.minutes.get(&(code, period)).map(|(_, s)| s.clone())?;
                let window: Vec<Candle> = live
                    .overlaid(code, stored)
                    .into_iter()
                    .filter(|b| b.time >= from && b.time <= minute)
                    .collect();
                aggregate(&window, period, Calendar::krx()).pop()
            }
            None => {
                let today = live.day(code).filter(|d| d.date == now.date())?.bar()?;
                if period == Period::Day {
                    return Some(today);
                }
                let fresh = self
                    .sessions
                    .get(&(code, period))
                    .is_some_and(|(day, _)| *day == now.date());
                if !fresh {
                    // A month has at most 23 sessions; a week 5.
                    let earlier = store.daily(code, Some(now.date()), 23).await.unwrap_or_default();
                    self.sessions.insert((code, period), (now.date(), earlier));
                }
                let mut days = self.sessions.get(&(code, period)).map(|(_, s)| s.clone())?;
                days.push(today);
                aggregate(&days, period, Calendar::krx()).pop()
            }
        }
    }

    /// Forgets what was read for a stock (its page closed, or its bars were repaired).
    pub fn forget(&mut self, code: StockCode) {
        self.minutes.retain(|(c, _), _| *c != code);
        self.sessions.retain(|(c, _), _| *c != code);
    }
}
