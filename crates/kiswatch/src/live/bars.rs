//! Today's 1-minute bars of one stock, built from the trades the live feed takes in (realtime or
//! polled) and repaired from REST after gaps: the truth for today's intraday chart and for the
//! trigger engine's forming bars.
//!
//! * A minute in which the feed may have missed trades is **unsure**: the minute the feed started in
//!   (trades before it are missing), and the minutes around a change of source — polled to realtime
//!   (trades between the last poll and the subscription are missing) or realtime to polled (the first
//!   poll's 30 executions may not reach back to the last realtime trade). The ingest marks them
//!   ([`LiveBars::mark_unsure`]). An unsure minute is never stored as it stands: once it is closed,
//!   the chart reads today's minutes from upstream ([`LiveBars::needs_upstream`]) and upstream's bar
//!   of that minute is the truth.
//! * Every other minute holds every trade of the minute (a polled stock's poll that did not reach
//!   back to the previous one is a gap, repaired from REST like a realtime drop), so once it is
//!   closed it is final: [`LiveBars::take_closed`] hands each closed minute out once, to be stored.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
use jiff::civil::{DateTime, Time};
use market::{Candle, Trade};

/// The start of a moment's minute.
pub fn minute_of(t: DateTime) -> DateTime {
    t.date().to_datetime(Time::constant(t.hour(), t.minute(), 0, 0))
}

fn end_of(minute: DateTime) -> DateTime {
    minute.saturating_add(SignedDuration::from_mins(1))
}

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct LiveBars {
    bars: BTreeMap<DateTime, Candle>,
    /// Minutes that may lack trades, until upstream's bar of them is read.
    unsure: BTreeSet<DateTime>,
    /// Closed minutes up to this one have been handed out by [`LiveBars::take_closed`].
    persisted: Option<DateTime>,
    /// When today's minutes were last read from upstream (market time).
    rest_checked: Option<DateTime>,
}

impl LiveBars {
    /// Adds trades (oldest first); returns the minutes they touched. A trade of a later date starts
    /// the day over (the earlier session's bars are history, and the store has them).
    pub fn absorb(&mut self, trades: &[Trade]) -> Vec<DateTime> {
        let mut touched = Vec::new();
        for t in trades {
            if self
                .bars
                .last_key_value()
                .is_some_and(|(k, _)| k.date() != t.time.date())
            {
                *self = LiveBars::default();
            }
            let minute = minute_of(t.time);
            let part = Candle::from_trade(minute, t.price, t.volume);
            self.bars
                .entry(minute)
                .and_modify(|b| b.absorb(&part))
                .or_insert(part);
            if touched.last() != Some(&minute) {
                touched.push(minute);
            }
        }
        touched
    }

    /// Marks the minutes from `from`'s to `to`'s (both included) as possibly missing trades.
    pub fn mark_unsure(&mut self, from: DateTime, to: DateTime) {
        let mut m = minute_of(from.min(to));
        let last = minute_of(from.max(to));
        while m <= last {
            self.unsure.insert(m);
            m = end_of(m);
        }
    }

    /// Replaces minutes with bars refetched from upstream (closed minutes: complete).
    pub fn repair(&mut self, bars: &[Candle]) {
        for b in bars {
            self.bars.insert(b.time, *b);
            self.unsure.remove(&b.time);
        }
    }

    pub fn get(&self, minute: DateTime) -> Option<Candle> {
        self.bars.get(&minute).copied()
    }

    /// Every bar, oldest first (some may be unsure: see [`LiveBars::is_unsure`]).
    pub fn all(&self) -> Vec<Candle> {
        self.bars.values().copied().collect()
    }

    /// Whether the minute may lack trades.
    pub fn is_unsure(&self, minute: DateTime) -> bool {
        self.unsure.contains(&minute)
    }

    /// Whether upstream's bar of this unsure minute was read after the minute closed (so the stored
    /// bar is complete and wins).
    pub fn is_settled(&self, minute: DateTime) -> bool {
        self.rest_checked.is_some_and(|t| t >= end_of(minute))
    }

    /// The complete minutes that closed before `now`'s minute and were not taken yet, oldest first;
    /// each is handed out once. Unsure minutes are left out.
    pub fn take_closed(&mut self, now: DateTime) -> Vec<Candle> {
        let current = minute_of(now);
        let from = self.persisted;
        let out: Vec<Candle> = self
            .bars
            .range(..current)
            .filter(|(t, _)| from.is_none_or(|p| **t > p))
            .map(|(_, b)| *b)
            .collect();
        if let Some(last) = out.last() {
            self.persisted = Some(last.time);
        }
        out.into_iter()
            .filter(|b| !self.unsure.contains(&b.time))
            .collect()
    }

    /// Notes that today's minutes were read from upstream at market time `at`.
    pub fn checked_upstream(&mut self, at: DateTime) {
        if self.rest_checked.is_none_or(|t| at > t) {
            self.rest_checked = Some(at);
        }
    }

    /// Whether the chart must read today's minutes from upstream: nothing is live yet, or an unsure
    /// minute has closed (the newest bar is later) and was not read since.
    pub fn needs_upstream(&self) -> bool {
        let Some((newest, _)) = self.bars.last_key_value() else {
            return true;
        };
        self.unsure.iter().any(|m| m < newest && !self.is_settled(*m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(h: i8, m: i8, s: i8) -> DateTime {
        date(2026, 11, 27).at(h, m, s, 0)
    }

    fn trade(h: i8, m: i8, s: i8, price: i64) -> Trade {
        Trade {
            time: at(h, m, s),
            price,
            volume: 1,
        }
    }

    #[test]
    fn closed_minutes_are_handed_out_once_without_the_unsure_ones() {
        let mut bars = LiveBars::default();
        bars.mark_unsure(at(9, 30, 40), at(9, 30, 40));
        bars.absorb(&[trade(9, 30, 40, 100), trade(9, 31, 5, 101), trade(9, 31, 50, 103)]);
        bars.absorb(&[trade(9, 32, 1, 102)]);
        let closed = bars.take_closed(at(9, 32, 1));
        assert_eq!(closed.len(), 1, "9:30 is unsure, 9:32 is forming");
        assert_eq!(
            (closed[0].open, closed[0].high, closed[0].close, closed[0].volume),
            (101, 103, 103, 2)
        );
        assert!(bars.take_closed(at(9, 32, 1)).is_empty(), "each once");
        bars.absorb(&[trade(9, 33, 0, 99)]);
        let closed = bars.take_closed(at(9, 33, 0));
        assert_eq!(closed.iter().map(|b| b.close).collect::<Vec<_>>(), [102]);
    }

    #[test]
    fn an_unsure_minute_asks_upstream_once_it_is_closed() {
        let mut bars = LiveBars::default();
        assert!(bars.needs_upstream(), "nothing live yet");
        bars.mark_unsure(at(9, 30, 40), at(9, 30, 40));
        bars.absorb(&[trade(9, 30, 40, 100)]);
        assert!(!bars.needs_upstream(), "the unsure minute is still forming");
        bars.absorb(&[trade(9, 31, 1, 101)]);
        assert!(bars.needs_upstream(), "closed, not read since");
        bars.checked_upstream(at(9, 30, 59));
        assert!(bars.needs_upstream(), "read before it closed");
        bars.checked_upstream(at(9, 31, 2));
        assert!(!bars.needs_upstream());
        assert!(bars.is_settled(at(9, 30, 0)));
        // A change of source between 9:31 and 9:33 makes both ends and the minute between unsure.
        bars.mark_unsure(at(9, 31, 1), at(9, 33, 20));
        assert!(bars.is_unsure(at(9, 32, 0)));
        // A new session starts over.
        bars.absorb(&[Trade {
            time: date(2026, 11, 30).at(9, 0, 3, 0),
            price: 100,
            volume: 1,
        }]);
        assert_eq!(bars.all().len(), 1);
        assert!(!bars.is_unsure(at(9, 32, 0)));
    }
}
