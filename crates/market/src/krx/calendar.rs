//! The KRX trading calendar: which days trade and with which hours.
//!
//! The built-in table ([`Calendar::krx`]) covers 2022–2027: weekends are always closed, and the table
//! lists the weekday closures (신정, 설 and 추석 with their substitutes, 삼일절, 근로자의 날 05-01, 어린이날,
//! 석가탄신일, 현충일, 광복절, 개천절, 한글날, 성탄절, the year-end closing day, election and temporary
//! holidays). Outside that range only weekends are known to be closed. On a real account the KIS
//! holiday API (`chk-holiday`, TCA0903R) is the source of truth: merge its answers with
//! [`Calendar::with_closed_days`] / [`Calendar::with_open_days`].

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jiff::civil::{Date, DateTime, Weekday, date};

use super::session::{Phase, SessionHours};

/// Weekday closures of KRX, 2022–2027.
#[rustfmt::skip]
const CLOSED_DAYS: &[(i16, i8, i8)] = &[
    // 2022
    (2022, 1, 31), (2022, 2, 1), (2022, 2, 2), (2022, 3, 1), (2022, 3, 9), (2022, 5, 5), (2022, 6, 1),
    (2022, 6, 6), (2022, 8, 15), (2022, 9, 9), (2022, 9, 12), (2022, 10, 3), (2022, 10, 10),
    (2022, 12, 30),
    // 2023
    (2023, 1, 23), (2023, 1, 24), (2023, 3, 1), (2023, 5, 1), (2023, 5, 5), (2023, 5, 29), (2023, 6, 6),
    (2023, 8, 15), (2023, 9, 28), (2023, 9, 29), (2023, 10, 2), (2023, 10, 3), (2023, 10, 9),
    (2023, 12, 25), (2023, 12, 29),
    // 2024
    (2024, 1, 1), (2024, 2, 9), (2024, 2, 12), (2024, 3, 1), (2024, 4, 10), (2024, 5, 1), (2024, 5, 6),
    (2024, 5, 15), (2024, 6, 6), (2024, 8, 15), (2024, 9, 16), (2024, 9, 17), (2024, 9, 18),
    (2024, 10, 1), (2024, 10, 3), (2024, 10, 9), (2024, 12, 25), (2024, 12, 31),
    // 2025
    (2025, 1, 1), (2025, 1, 27), (2025, 1, 28), (2025, 1, 29), (2025, 1, 30), (2025, 3, 3),
    (2025, 5, 1), (2025, 5, 5), (2025, 5, 6), (2025, 6, 3), (2025, 6, 6), (2025, 8, 15), (2025, 10, 3),
    (2025, 10, 6), (2025, 10, 7), (2025, 10, 8), (2025, 10, 9), (2025, 12, 25), (2025, 12, 31),
    // 2026
    (2026, 1, 1), (2026, 2, 16), (2026, 2, 17), (2026, 2, 18), (2026, 3, 2), (2026, 5, 1), (2026, 5, 5),
    (2026, 5, 25), (2026, 6, 3), (2026, 8, 17), (2026, 9, 24), (2026, 9, 25), (2026, 10, 5),
    (2026, 10, 9), (2026, 12, 25), (2026, 12, 31),
    // 2027
    (2027, 1, 1), (2027, 2, 8), (2027, 2, 9), (2027, 3, 1), (2027, 5, 5), (2027, 5, 13), (2027, 8, 16),
    (2027, 9, 14), (2027, 9, 15), (2027, 9, 16), (2027, 10, 4), (2027, 10, 11), (2027, 12, 27),
    (2027, 12, 31),
];

/// College entrance exam (대학수학능력시험) days: the market opens at 10:00 and closes at 16:30.
#[rustfmt::skip]
const EXAM_DAYS: &[(i16, i8, i8)] = &[
    (2022, 11, 17), (2023, 11, 16), (2024, 11, 14), (2025, 11, 13), (2026, 11, 19), (2027, 11, 18),
];

/// The years the built-in table covers.
pub const TABLE_YEARS: std::ops::RangeInclusive<i16> = 2022..=2027;

static KRX: LazyLock<Calendar> = LazyLock::new(|| {
    Calendar::new(
        CLOSED_DAYS.iter().map(|&(y, m, d)| date(y, m, d)),
        EXAM_DAYS.iter().map(|&(y, m, d)| date(y, m, d)),
    )
});

/// Trading days and their session hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Weekdays on which the market is closed.
    closed: BTreeSet<Date>,
    /// College entrance exam days (late open, late close).
    exam_days: BTreeSet<Date>,
}

impl Calendar {
    /// The built-in KRX calendar (2022–2027).
    pub fn krx() -> &'static Calendar {
        &KRX
    }

    pub fn new(
        closed: impl IntoIterator<Item = Date>,
        exam_days: impl IntoIterator<Item = Date>,
    ) -> Calendar {
        Calendar {
            closed: closed.into_iter().collect(),
            exam_days: exam_days.into_iter().collect(),
        }
    }

    /// A copy with more closed days (e.g. from the KIS holiday API).
    pub fn with_closed_days(&self, days: impl IntoIterator<Item = Date>) -> Calendar {
        let mut c = self.clone();
        c.closed.extend(days);
        c
    }

    /// A copy where these days are open (the KIS holiday API said so).
    pub fn with_open_days(&self, days: impl IntoIterator<Item = Date>) -> Calendar {
        let mut c = self.clone();
        for d in days {
            c.closed.remove(&d);
        }
        c
    }

    pub fn is_trading_day(&self, d: Date) -> bool {
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.closed.contains(&d)
    }

    /// The first trading day strictly after `d`.
    pub fn next_trading_day(&self, d: Date) -> Date {
        let mut day = d;
        loop {
            day = day.tomorrow().unwrap_or(Date::MAX);
            if day == Date::MAX || self.is_trading_day(day) {
                return day;
            }
        }
    }

    /// The last trading day strictly before `d`.
    pub fn prev_trading_day(&self, d: Date) -> Date {
        let mut day = d;
        loop {
            day = day.yesterday().unwrap_or(Date::MIN);
            if day == Date::MIN || self.is_trading_day(day) {
                return day;
            }
        }
    }

    /// The trading days in `[from, to]`, oldest first.
    pub fn trading_days(&self, from: Date, to: Date) -> impl Iterator<Item = Date> + '_ {
        let first = if self.is_trading_day(from) {
            from
        } else {
            self.next_trading_day(from)
        };
        std::iter::successors(Some(first), move |&d| Some(self.next_trading_day(d)))
            .take_while(move |&d| d <= to)
    }

    /// The trading day `n` trading days before `d` (`n = 0`: `d` itself if it trades, else the one before).
    pub fn trading_days_before(&self, d: Date, n: usize) -> Date {
        let mut day = if self.is_trading_day(d) {
            d
        } else {
            self.prev_trading_day(d)
        };
        for _ in 0..n {
            day = self.prev_trading_day(day);
        }
        day
    }

    /// Whether `d` is the first trading day of its year (the market opens at 10:00).
    pub fn is_first_trading_day_of_year(&self, d: Date) -> bool {
        self.is_trading_day(d) && self.prev_trading_day(d).year() != d.year()
    }

    /// Whether `d` is the college entrance exam day.
    pub fn is_exam_day(&self, d: Date) -> bool {
        self.exam_days.contains(&d)
    }

    /// The session hours of `d`, or `None` when the market is closed.
    pub fn hours(&self, d: Date) -> Option<SessionHours> {
        if !self.is_trading_day(d) {
            None
        } else if self.is_exam_day(d) {
            Some(SessionHours::EXAM_DAY)
        } else if self.is_first_trading_day_of_year(d) {
            Some(SessionHours::LATE_OPEN)
        } else {
            Some(SessionHours::REGULAR)
        }
    }

    /// The phase of the market at a KST wall-clock time.
    pub fn phase_at(&self, dt: DateTime) -> Phase {
        match self.hours(dt.date()) {
            Some(h) => h.phase_at(dt.time()),
            None => Phase::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    #[test]
    fn weekends_and_holidays_are_closed() {
        let c = Calendar::krx();
        assert!(c.is_trading_day(date(2026, 11, 20))); // Friday
        assert!(!c.is_trading_day(date(2026, 11, 21))); // Saturday
        assert!(!c.is_trading_day(date(2026, 9, 25))); // 추석
        assert!(!c.is_trading_day(date(2025, 12, 31))); // year-end closing
        assert!(!c.is_trading_day(date(2024, 4, 10))); // general election
        assert_eq!(c.next_trading_day(date(2026, 11, 20)), date(2026, 11, 23));
        assert_eq!(c.prev_trading_day(date(2026, 11, 23)), date(2026, 11, 20));
        assert_eq!(c.prev_trading_day(date(2026, 2, 19)), date(2026, 2, 13)); // 설 week
    }

    #[test]
    fn late_opening_days() {
        let c = Calendar::krx();
        // 2026-01-01 is a holiday, so the year opens on Friday 2026-01-02.
        assert!(c.is_first_trading_day_of_year(date(2026, 1, 2)));
        assert_eq!(c.hours(date(2026, 1, 2)).unwrap().open, time(10, 0, 0, 0));
        assert_eq!(c.hours(date(2026, 1, 5)).unwrap().open, time(9, 0, 0, 0));
        let exam = c.hours(date(2026, 11, 19)).unwrap();
        assert_eq!((exam.open, exam.close), (time(10, 0, 0, 0), time(16, 30, 0, 0)));
        assert_eq!(
            c.phase_at(date(2026, 11, 19).at(9, 30, 0, 0)),
            Phase::OpeningAuction
        );
        assert_eq!(c.phase_at(date(2026, 11, 20).at(9, 30, 0, 0)), Phase::Continuous);
        assert_eq!(c.phase_at(date(2026, 11, 21).at(10, 0, 0, 0)), Phase::Closed);
    }

    #[test]
    fn trading_day_ranges() {
        let c = Calendar::krx();
        let days: Vec<Date> = c.trading_days(date(2026, 9, 21), date(2026, 10, 9)).collect();
        // 9/24, 9/25 추석; 10/5 개천절 substitute; 10/9 한글날.
        assert_eq!(days.len(), 11);
        assert!(!days.contains(&date(2026, 10, 5)));
        // About 600 trading days back from late 2026 is early 2024, inside the table.
        let start = c.trading_days_before(date(2026, 11, 20), 600);
        assert!(start.year() >= 2024, "{start}");
        assert_eq!(c.trading_days(start, date(2026, 11, 20)).count(), 601);
    }

    #[test]
    fn every_listed_closure_is_a_weekday() {
        for &(y, m, d) in CLOSED_DAYS.iter().chain(EXAM_DAYS) {
            let day = date(y, m, d);
            assert!(
                !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday),
                "{day}"
            );
            assert!(TABLE_YEARS.contains(&y));
        }
    }
}
