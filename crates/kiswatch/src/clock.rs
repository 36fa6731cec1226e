//! Market time: "today", the time of day and when a bar closes come from the upstream (the dates of
//! minute bars, the times of executions), never from this machine's clock. The demo's open clock runs
//! a session at any hour, and a real account's clock can be seconds off; a service that asked its own
//! clock would close bars at the wrong moment and call a session "tomorrow" that KIS calls today.
//!
//! [`MarketClock`] keeps the latest market moment anything upstream showed. It only moves forward,
//! except that a new trading day (a date later than the one it holds) replaces the time of day.

use std::sync::Mutex;

use jiff::civil::{Date, DateTime, Time};

/// The latest market time seen upstream. Shared by the gateway, the live feed and the API.
#[derive(Debug, Default)]
pub struct MarketClock {
    latest: Mutex<Option<DateTime>>,
}

impl MarketClock {
    pub fn new() -> MarketClock {
        MarketClock::default()
    }

    /// Notes a market moment seen upstream (a bar's or a trade's time).
    pub fn observe(&self, at: DateTime) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        if latest.is_none_or(|l| at > l) {
            *latest = Some(at);
        }
    }

    /// Notes a trade at `time` on the current trading day; `false` (nothing noted) while the day is
    /// unknown.
    pub fn observe_time(&self, time: Time) -> bool {
        let Some(today) = self.today() else {
            return false;
        };
        self.observe(today.to_datetime(time));
        true
    }

    /// The latest market moment, if anything has been seen.
    pub fn now(&self) -> Option<DateTime> {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current trading day, if known.
    pub fn today(&self) -> Option<Date> {
        self.now().map(|t| t.date())
    }
}

/// A market time as the API shows it: RFC 3339 with the KST offset (`2026-11-27T09:30:00+09:00`).
pub fn rfc3339(at: DateTime) -> String {
    format!("{}+09:00", at.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_clock_moves_forward_only_and_knows_the_day() {
        let clock = MarketClock::new();
        assert_eq!(clock.today(), None);
        assert!(!clock.observe_time(Time::constant(9, 0, 0, 0)), "no day yet");
        clock.observe(date(2026, 11, 27).at(9, 30, 0, 0));
        clock.observe(date(2026, 11, 27).at(9, 10, 0, 0));
        assert_eq!(clock.now(), Some(date(2026, 11, 27).at(9, 30, 0, 0)));
        assert!(clock.observe_time(Time::constant(10, 0, 5, 0)));
        assert_eq!(clock.now(), Some(date(2026, 11, 27).at(10, 0, 5, 0)));
        clock.observe(date(2026, 11, 30).at(9, 0, 0, 0));
        assert_eq!(clock.today(), Some(date(2026, 11, 30)));
    }

    #[test]
    fn times_carry_the_kst_offset() {
        assert_eq!(
            rfc3339(date(2026, 1, 2).at(9, 5, 7, 0)),
            "2026-01-02T09:05:07+09:00"
        );
    }
}
