//! The simulator's clock, in KST.
//!
//! * [`ClockMode::Live`] follows the real KST wall clock and the real KRX sessions: outside the session the
//!   market is closed and quotes show the last state. The "trading date" is today from the opening
//!   auction (08:30, or 09:00 on late-opening days) on, and the previous trading day before that or on a
//!   holiday. `advance` and `set_speed` do nothing in this mode.
//! * [`ClockMode::Open`] runs a virtual session that is always open: it starts at the open (09:00, or 10:00
//!   on late-opening days) of the most recent trading day at or before the real date, advances `speed`
//!   virtual seconds per real second, and one minute after the close (15:30 → 15:31, the closing print
//!   visible for that minute) rolls to the next trading day's open. Nights, weekends and holidays are
//!   skipped, so the opening auction phase never shows in this mode. `advance(secs)` jumps forward by
//!   virtual session seconds (crossing into following days as needed), at most 60 sessions per call;
//!   the speed is capped at 10,000 (a session in about 2.3 real seconds) so catching up stays cheap.

use std::sync::Mutex;
use std::time::Instant;

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use market::krx::{Calendar, Phase, SessionHours};

/// How the simulator's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClockMode {
    /// Real KST and real KRX sessions.
    Live,
    /// A virtual session always running at the configured speed.
    #[default]
    Open,
}

/// Virtual seconds a day stays at its close before the clock rolls to the next trading day.
const AFTER_CLOSE_SECS: f64 = 60.0;

/// The clock at one moment: what time it is and which session that time belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    pub now: DateTime,
    /// The session "today" refers to.
    pub trading_date: Date,
    pub hours: SessionHours,
}

impl Reading {
    pub fn phase(&self) -> Phase {
        if self.now.date() == self.trading_date {
            self.hours.phase_at(self.now.time())
        } else {
            Phase::Closed
        }
    }

    /// Trades of the trading date at or before this time are visible (the whole day once it is over).
    pub fn visible_until(&self) -> jiff::civil::Time {
        if self.now.date() == self.trading_date {
            self.now.time()
        } else {
            jiff::civil::Time::MAX
        }
    }
}

pub(crate) struct Clock {
    mode: ClockMode,
    virtual_state: Mutex<VirtualClock>,
}

/// Open mode: virtual session seconds elapsed since the first day's open, and a cursor on the day.
struct VirtualClock {
    speed: f64,
    anchor_real: Instant,
    /// Virtual seconds at `anchor_real`.
    anchor_virtual: f64,
    /// The day the last reading fell on, and the virtual second its session started at.
    day: Date,
    day_start: f64,
}

pub(crate) fn session_hours(date: Date) -> SessionHours {
    Calendar::krx().hours(date).unwrap_or(SessionHours::REGULAR)
}

/// The most recent trading day at or before `date`.
pub(crate) fn trading_day_at_or_before(date: Date) -> Date {
    let calendar = Calendar::krx();
    if calendar.is_trading_day(date) {
        date
    } else {
        calendar.prev_trading_day(date)
    }
}

fn session_len(day: Date) -> f64 {
    let hours = session_hours(day);
    hours.close.duration_since(hours.open).as_secs_f64() + AFTER_CLOSE_SECS
}

/// The fastest the virtual clock runs: a whole session then takes about 2.3 real seconds.
pub const MAX_SPEED: f64 = 10_000.0;

/// The most one `advance` call moves the clock: 60 sessions (each catch-up stays bounded work).
pub const MAX_ADVANCE_SECS: u64 = 60 * 23_460;

fn sanitize(speed: f64) -> f64 {
    if speed.is_finite() && speed >= 0.0 {
        speed.min(MAX_SPEED)
    } else {
        1.0
    }
}

impl Clock {
    /// A clock; in Open mode the virtual session starts at the open of the most recent trading day at or
    /// before `real_today`.
    pub fn new(mode: ClockMode, speed: f64, real_today: Date) -> Clock {
        Clock {
            mode,
            virtual_state: Mutex::new(VirtualClock {
                speed: sanitize(speed),
                anchor_real: Instant::now(),
                anchor_virtual: 0.0,
                day: trading_day_at_or_before(real_today),
                day_start: 0.0,
            }),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    pub fn read(&self) -> Reading {
        match self.mode {
            ClockMode::Live => live_reading(market::time::now_kst().datetime()),
            ClockMode::Open => {
                let mut state = self.lock();
                let elapsed = state.anchor_real.elapsed().as_secs_f64();
                let v = state.anchor_virtual + elapsed * state.speed;
                state.reading_at(v)
            }
        }
    }

    /// Changes the speed from now on (Open mode; ignored in Live mode). A negative or non-finite speed is
    /// treated as 1; more than [`MAX_SPEED`] as [`MAX_SPEED`].
    pub fn set_speed(&self, speed: f64) {
        if self.mode == ClockMode::Live {
            return;
        }
        let mut state = self.lock();
        state.rebase();
        state.speed = sanitize(speed);
    }

    /// Virtual seconds per real second (1 in Live mode).
    pub fn speed(&self) -> f64 {
        if self.mode == ClockMode::Live {
            return 1.0;
        }
        self.lock().speed
    }

    /// Jumps forward by `secs` virtual session seconds, at most [`MAX_ADVANCE_SECS`] (Open mode; ignored in
    /// Live mode).
    pub fn advance(&self, secs: u64) {
        if self.mode == ClockMode::Live {
            return;
        }
        let mut state = self.lock();
        state.anchor_virtual += secs.min(MAX_ADVANCE_SECS) as f64;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VirtualClock> {
        // The state stays consistent even if a holder panicked: every update is a plain assignment.
        self.virtual_state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl VirtualClock {
    fn rebase(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.anchor_real).as_secs_f64();
        self.anchor_virtual += elapsed * self.speed;
        self.anchor_real = now;
    }

    fn reading_at(&mut self, v: f64) -> Reading {
        let calendar = Calendar::krx();
        loop {
            let len = session_len(self.day);
            if v < self.day_start + len {
                break;
            }
            self.day_start += len;
            self.day = calendar.next_trading_day(self.day);
        }
        let hours = session_hours(self.day);
        let into = SignedDuration::from_secs_f64((v - self.day_start).max(0.0));
        let open = self.day.to_datetime(hours.open);
        let now = open.checked_add(into).unwrap_or(open);
        Reading {
            now,
            trading_date: self.day,
            hours,
        }
    }
}

fn live_reading(now: DateTime) -> Reading {
    let today = now.date();
    let calendar = Calendar::krx();
    let trading_date = match calendar.hours(today) {
        Some(hours) if now.time() >= hours.opening_auction => today,
        _ => calendar.prev_trading_day(today),
    };
    Reading {
        now,
        trading_date,
        hours: session_hours(trading_date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    #[test]
    fn open_clock_starts_at_the_open_of_the_last_trading_day() {
        // 2026-11-22 is a Sunday: the session starts on Friday the 20th.
        let clock = Clock::new(ClockMode::Open, 0.0, date(2026, 11, 22));
        let r = clock.read();
        assert_eq!(r.trading_date, date(2026, 11, 20));
        assert_eq!(r.now, date(2026, 11, 20).at(9, 0, 0, 0));
        assert_eq!(r.phase(), Phase::Continuous);
    }

    #[test]
    fn open_clock_rolls_to_the_next_trading_day_after_the_close() {
        let clock = Clock::new(ClockMode::Open, 0.0, date(2026, 11, 20));
        clock.advance(6 * 3600 + 30 * 60);
        let r = clock.read();
        assert_eq!(r.now, date(2026, 11, 20).at(15, 30, 0, 0));
        assert_eq!(r.phase(), Phase::Closed);
        clock.advance(60);
        let r = clock.read();
        assert_eq!(r.now, date(2026, 11, 23).at(9, 0, 0, 0), "weekend skipped");
        assert_eq!(r.trading_date, date(2026, 11, 23));
    }

    #[test]
    fn huge_advances_and_speeds_are_bounded() {
        let clock = Clock::new(ClockMode::Open, 0.0, date(2026, 11, 20));
        clock.advance(u64::MAX);
        let r = clock.read();
        assert!(r.trading_date > date(2027, 1, 1) && r.trading_date < date(2027, 6, 1));
        clock.set_speed(f64::INFINITY);
        clock.set_speed(1e300);
        assert!(clock.lock().speed <= MAX_SPEED);
    }

    #[test]
    fn live_trading_date_is_the_previous_day_before_the_opening_auction() {
        let r = live_reading(date(2026, 11, 20).at(8, 0, 0, 0));
        assert_eq!(r.trading_date, date(2026, 11, 19));
        assert_eq!(r.phase(), Phase::Closed);
        assert_eq!(r.visible_until(), time(23, 59, 59, 999_999_999));
        let r = live_reading(date(2026, 11, 20).at(8, 40, 0, 0));
        assert_eq!(r.trading_date, date(2026, 11, 20));
        assert_eq!(r.phase(), Phase::OpeningAuction);
        let r = live_reading(date(2026, 11, 21).at(11, 0, 0, 0));
        assert_eq!(r.trading_date, date(2026, 11, 20), "Saturday shows Friday");
        assert_eq!(r.phase(), Phase::Closed);
    }

    #[test]
    fn live_clock_ignores_advance_and_speed() {
        let clock = Clock::new(ClockMode::Live, 1.0, date(2026, 11, 20));
        clock.advance(3600);
        clock.set_speed(100.0);
        let before = market::time::now_kst().datetime();
        let r = clock.read();
        assert!(r.now.duration_since(before).as_secs_f64().abs() < 60.0);
    }
}
