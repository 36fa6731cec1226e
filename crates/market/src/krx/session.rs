//! The phases of a KRX trading day (KST).
//!
//! | phase                               | normal day    | late-opening day¹ | 수능 day²      |
//! |-------------------------------------|---------------|-------------------|----------------|
//! | opening auction (장전 동시호가)      | 08:30–09:00   | 09:00–10:00       | 09:00–10:00    |
//! | continuous trading (정규장)          | 09:00–15:20   | 10:00–15:20       | 10:00–16:20    |
//! | closing auction (장마감 동시호가)    | 15:20–15:30   | 15:20–15:30       | 16:20–16:30    |
//! | after-hours at the close (시간외 종가)| 15:40–16:00  | 15:40–16:00       | 16:40–17:00    |
//! | single-price after-hours (시간외 단일가)| 16:00–18:00 | 16:00–18:00       | 17:00–19:00    |
//!
//! ¹ the first trading day of a year. ² the college entrance exam day, when the whole day shifts one
//! hour (the after-hours shift follows KRX's usual practice for that day). Between 15:30 and 15:40 the
//! market is closed.

use jiff::civil::{Time, time};
use serde::{Deserialize, Serialize};

/// What the market is doing at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Closed,
    OpeningAuction,
    Continuous,
    ClosingAuction,
    AfterHoursClose,
    AfterHoursSingle,
}

impl Phase {
    /// Whether regular-session trades (and so candles) happen in this phase: the continuous session and
    /// the auctions' uncrossing.
    pub fn is_regular(self) -> bool {
        matches!(self, Phase::Continuous | Phase::ClosingAuction)
    }
}

/// The session times of one trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionHours {
    /// Start of the opening auction.
    pub opening_auction: Time,
    /// Start of continuous trading (the opening auction uncrosses here).
    pub open: Time,
    /// Start of the closing auction.
    pub closing_auction: Time,
    /// End of the regular session (the closing auction uncrosses here).
    pub close: Time,
    pub after_hours_close: (Time, Time),
    pub after_hours_single: (Time, Time),
}

impl SessionHours {
    /// A normal day: 08:30 / 09:00 / 15:20 / 15:30.
    pub const REGULAR: SessionHours = SessionHours {
        opening_auction: time(8, 30, 0, 0),
        open: time(9, 0, 0, 0),
        closing_auction: time(15, 20, 0, 0),
        close: time(15, 30, 0, 0),
        after_hours_close: (time(15, 40, 0, 0), time(16, 0, 0, 0)),
        after_hours_single: (time(16, 0, 0, 0), time(18, 0, 0, 0)),
    };

    /// The first trading day of a year: the opening moves to 10:00.
    pub const LATE_OPEN: SessionHours = SessionHours {
        opening_auction: time(9, 0, 0, 0),
        open: time(10, 0, 0, 0),
        ..SessionHours::REGULAR
    };

    /// The college entrance exam (수능) day: everything one hour later.
    pub const EXAM_DAY: SessionHours = SessionHours {
        opening_auction: time(9, 0, 0, 0),
        open: time(10, 0, 0, 0),
        closing_auction: time(16, 20, 0, 0),
        close: time(16, 30, 0, 0),
        after_hours_close: (time(16, 40, 0, 0), time(17, 0, 0, 0)),
        after_hours_single: (time(17, 0, 0, 0), time(19, 0, 0, 0)),
    };

    /// The phase at a time of this day.
    pub fn phase_at(&self, t: Time) -> Phase {
        let within = |(start, end): (Time, Time)| start <= t && t < end;
        if within((self.opening_auction, self.open)) {
            Phase::OpeningAuction
        } else if within((self.open, self.closing_auction)) {
            Phase::Continuous
        } else if within((self.closing_auction, self.close)) {
            Phase::ClosingAuction
        } else if within(self.after_hours_close) {
            Phase::AfterHoursClose
        } else if within(self.after_hours_single) {
            Phase::AfterHoursSingle
        } else {
            Phase::Closed
        }
    }

    /// Minutes of the regular session, from the open to the close (390 on a normal day).
    pub fn regular_minutes(&self) -> i64 {
        self.close.duration_since(self.open).as_secs() / 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_of_a_normal_day() {
        let h = SessionHours::REGULAR;
        assert_eq!(h.phase_at(time(8, 29, 59, 0)), Phase::Closed);
        assert_eq!(h.phase_at(time(8, 30, 0, 0)), Phase::OpeningAuction);
        assert_eq!(h.phase_at(time(9, 0, 0, 0)), Phase::Continuous);
        assert_eq!(h.phase_at(time(15, 19, 59, 0)), Phase::Continuous);
        assert_eq!(h.phase_at(time(15, 20, 0, 0)), Phase::ClosingAuction);
        assert_eq!(h.phase_at(time(15, 35, 0, 0)), Phase::Closed);
        assert_eq!(h.phase_at(time(15, 40, 0, 0)), Phase::AfterHoursClose);
        assert_eq!(h.phase_at(time(17, 59, 0, 0)), Phase::AfterHoursSingle);
        assert_eq!(h.phase_at(time(18, 0, 0, 0)), Phase::Closed);
        assert_eq!(h.regular_minutes(), 390);
    }

    #[test]
    fn exam_day_shifts_an_hour() {
        let h = SessionHours::EXAM_DAY;
        assert_eq!(h.phase_at(time(9, 30, 0, 0)), Phase::OpeningAuction);
        assert_eq!(h.phase_at(time(16, 25, 0, 0)), Phase::ClosingAuction);
        assert_eq!(h.regular_minutes(), 390);
        assert_eq!(SessionHours::LATE_OPEN.regular_minutes(), 330);
    }
}
