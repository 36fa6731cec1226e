//! Candles (OHLCV bars), their periods, and how times fall into bars.
//!
//! Intraday bars are anchored at 09:00 KST whatever the day's opening time: a 30-minute day runs
//! 09:00–09:30 … 15:00–15:30 (13 bars); on a late-opening day the first bar is 10:00–10:30; on the 수능
//! day the last is 16:00–16:30. A trade before the open (the opening auction's uncross) belongs to the
//! first bar of the session and a trade at or after the close (the closing auction's uncross, stamped
//! 15:30:xx) to the last one. Trades outside the regular session's window (before the opening auction or
//! from the after-hours session on) make no regular candle.
//!
//! A bar's `time` is its start: the bucket's first minute for intraday periods, the date at 00:00 for
//! `D`, the Monday of the ISO week for `W` and the first of the month for `M`.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::krx::{Calendar, SessionHours};

/// A bar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    M1,
    M3,
    M5,
    M10,
    M15,
    M30,
    M60,
    Day,
    Week,
    Month,
}

/// A period name that is none of `1m 3m 5m 10m 15m 30m 60m D W M` (nor their Korean names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown period {0:?} (expected one of 1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W, M, or 1분 … 60분, 일, 주, 월)"
)]
pub struct PeriodError(pub String);

/// The minutes from midnight of the intraday anchor, 09:00.
const ANCHOR_MINUTE: i32 = 9 * 60;

impl Period {
    pub const ALL: [Period; 10] = [
        Period::M1,
        Period::M3,
        Period::M5,
        Period::M10,
        Period::M15,
        Period::M30,
        Period::M60,
        Period::Day,
        Period::Week,
        Period::Month,
    ];

    /// Every name [`Period::parse`] accepts: the canonical ones, then the Korean ones.
    pub const NAMES: [&'static str; 30] = [
        "1m", "3m", "5m", "10m", "15m", "30m", "60m", "D", "W", "M", "1분", "3분", "5분", "10분", "15분",
        "30분", "60분", "1분봉", "3분봉", "5분봉", "10분봉", "15분봉", "30분봉", "60분봉", "일", "일봉",
        "주", "주봉", "월", "월봉",
    ];

    /// By name: `1m 3m 5m 10m 15m 30m 60m D W M` (as [`Period::as_str`] writes them), or in Korean,
    /// `1분 … 60분` (also `30분봉`), `일`/`일봉`, `주`/`주봉`, `월`/`월봉`.
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        Ok(match s {
            "1m" | "1분" | "1분봉" => Period::M1,
            "3m" | "3분" | "3분봉" => Period::M3,
            "5m" | "5분" | "5분봉" => Period::M5,
            "10m" | "10분" | "10분봉" => Period::M10,
            "15m" | "15분" | "15분봉" => Period::M15,
            "30m" | "30분" | "30분봉" => Period::M30,
            "60m" | "60분" | "60분봉" => Period::M60,
            "D" | "일" | "일봉" => Period::Day,
            "W" | "주" | "주봉" => Period::Week,
            "M" | "월" | "월봉" => Period::Month,
            other => return Err(PeriodError(other.to_string())),
        })
    }

    /// The Korean name: `1분봉` … `60분봉`, `일봉`, `주봉`, `월봉`.
    pub fn korean(self) -> &'static str {
        match self {
            Period::M1 => "1분봉",
            Period::M3 => "3분봉",
            Period::M5 => "5분봉",
            Period::M10 => "10분봉",
            Period::M15 => "15분봉",
            Period::M30 => "30분봉",
            Period::M60 => "60분봉",
            Period::Day => "일봉",
            Period::Week => "주봉",
            Period::Month => "월봉",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::M1 => "1m",
            Period::M3 => "3m",
            Period::M5 => "5m",
            Period::M10 => "10m",
            Period::M15 => "15m",
            Period::M30 => "30m",
            Period::M60 => "60m",
            Period::Day => "D",
            Period::Week => "W",
            Period::Month => "M",
        }
    }

    /// The bar length in minutes for intraday periods, `None` for D/W/M.
    pub fn minutes(self) -> Option<i32> {
        match self {
            Period::M1 => Some(1),
            Period::M3 => Some(3),
            Period::M5 => Some(5),
            Period::M10 => Some(10),
            Period::M15 => Some(15),
            Period::M30 => Some(30),
            Period::M60 => Some(60),
            Period::Day | Period::Week | Period::Month => None,
        }
    }

    pub fn is_intraday(self) -> bool {
        self.minutes().is_some()
    }

    /// The start of the bar that a trade at `dt` belongs to, given that day's session hours; `None` when
    /// the time is outside the regular session's window (see the module docs).
    pub fn bar_start(self, dt: DateTime, hours: &SessionHours) -> Option<DateTime> {
        let clock = SessionClock::new(dt.date(), hours);
        Some(clock.bar_start(self, clock.minute(dt.time())?))
    }

    /// The first date of the D/W/M bucket holding `date` (`date` itself for intraday periods).
    pub fn date_bucket(self, date: Date) -> Date {
        match self {
            Period::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                date.checked_sub(jiff::Span::new().days(back)).unwrap_or(date)
            }
            Period::Month => date.first_of_month(),
            _ => date,
        }
    }
}

/// How the times of one day fall into bars, worked out once from the day's session hours (the
/// trigger engine keeps one per day instead of re-deriving it for every trade and period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClock {
    date: Date,
    /// Trades inside `[window.0, window.1)` make regular candles.
    window: (Time, Time),
    /// The first and last minute (of the day) of the regular session.
    first: i32,
    last: i32,
}

impl SessionClock {
    pub fn new(date: Date, hours: &SessionHours) -> SessionClock {
        SessionClock {
            date,
            window: (hours.opening_auction, hours.after_hours_close.0),
            first: minute_of_day(hours.open),
            last: minute_of_day(hours.close) - 1,
        }
    }

    pub fn date(&self) -> Date {
        self.date
    }

    /// The minute of the day a trade at `t` counts in: clamped into the regular session, `None`
    /// outside the window of regular candles.
    pub fn minute(&self, t: Time) -> Option<i32> {
        if t < self.window.0 || t >= self.window.1 {
            return None;
        }
        Some(minute_of_day(t).clamp(self.first, self.last))
    }

    /// The start of the `period` bar holding a [`SessionClock::minute`] of this day.
    pub fn bar_start(&self, period: Period, minute: i32) -> DateTime {
        match period.minutes() {
            Some(len) => {
                let start = ANCHOR_MINUTE + (minute - ANCHOR_MINUTE).div_euclid(len) * len;
                self.date.to_datetime(time_of_minute(start))
            }
            None => period.date_bucket(self.date).to_datetime(Time::midnight()),
        }
    }
}

fn minute_of_day(t: Time) -> i32 {
    i32::from(t.hour()) * 60 + i32::from(t.minute())
}

fn time_of_minute(minute: i32) -> Time {
    // `minute` comes from clamping a real time of day, so it is always within 0..1440.
    let minute = minute.clamp(0, 24 * 60 - 1);
    Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).unwrap_or(Time::midnight())
}

/// Where a bar that started at `start` ends (exclusive), given that day's hours: the next bucket's start
/// for intraday bars, cut at the close; the close for daily bars; `None` for W/M, which end with the
/// last trading day of their week or month (the next bar tells).
pub fn bar_end(period: Period, start: DateTime, hours: &SessionHours) -> Option<DateTime> {
    let close = start.date().to_datetime(hours.close);
    match period.minutes() {
        Some(len) => {
            let end = time_of_minute(minute_of_day(start.time()) + len);
            let end = start.date().to_datetime(end);
            Some(if end > close || end <= start { close } else { end })
        }
        None if period == Period::Day => Some(close),
        None => None,
    }
}

/// A cheap guess (for prefetching only) at whether a trade at `t` falls after the bar starting at
/// `bar_start`.
pub(crate) fn may_open_bar(period: Period, bar_start: DateTime, t: DateTime) -> bool {
    if t.date() != bar_start.date() {
        return period != Period::Week && period != Period::Month;
    }
    match period.minutes() {
        Some(len) => minute_of_day(t.time()) - minute_of_day(bar_start.time()) >= len,
        None => false,
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One OHLCV bar. Prices in KRW, `time` the bar's start in KST.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    pub time: DateTime,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: u64,
}

impl Candle {
    /// A bar made of a single trade.
    pub fn from_trade(time: DateTime, price: i64, volume: u64) -> Candle {
        Candle {
            time,
            open: price,
            high: price,
            low: price,
            close: price,
            volume,
        }
    }

    /// The same bar seen by stored history (`self`, which has the true open) and by live trades since the
    /// subscription (`live`, which has the latest close): the open from history, the wider range, the
    /// live close, and the larger volume (the two overlap by an unknown amount, so the volume is a lower
    /// bound until a later fetch of the closed bar).
    pub fn merged_with_live(&self, live: &Candle) -> Candle {
        Candle {
            time: self.time,
            open: self.open,
            high: self.high.max(live.high),
            low: self.low.min(live.low),
            close: live.close,
            volume: self.volume.max(live.volume),
        }
    }

    /// Adds a later part of the same bar (a trade, or a shorter bar inside this one): the open stays,
    /// high/low widen, the close moves, volumes add.
    pub fn absorb(&mut self, later: &Candle) {
        self.high = self.high.max(later.high);
        self.low = self.low.min(later.low);
        self.close = later.close;
        self.volume = self.volume.saturating_add(later.volume);
    }
}

/// The hours used to bucket a day's trades: the calendar's, or a regular day's when the calendar has the
/// day closed (data that exists beats a calendar that says it should not).
pub fn session_hours(calendar: &Calendar, date: Date) -> SessionHours {
    calendar.hours(date).unwrap_or(SessionHours::REGULAR)
}

/// Aggregates bars of a shorter period (oldest first) into `period`: 1-minute bars into any intraday
/// period, daily bars into W or M (or any bars into D). Bars outside the regular session's window are
/// dropped; bars out of order start a new bucket rather than being merged backwards.
pub fn aggregate(bars: &[Candle], period: Period, calendar: &Calendar) -> Vec<Candle> {
    let mut out: Vec<Candle> = Vec::new();
    let mut day: Option<(Date, SessionHours)> = None;
    for bar in bars {
        let date = bar.time.date();
        let hours = match day {
            Some((d, h)) if d == date => h,
            _ => {
                let h = session_hours(calendar, date);
                day = Some((date, h));
                h
            }
        };
        // Daily (and longer) source bars stamped 00:00 are bucketed by date alone.
        let start = if period.is_intraday() {
            period.bar_start(bar.time, &hours)
        } else {
            Some(period.date_bucket(date).to_datetime(Time::midnight()))
        };
        let Some(start) = start else { continue };
        match out.last_mut() {
            Some(last) if last.time == start => last.absorb(bar),
            _ => out.push(Candle { time: start, ..*bar }),
        }
    }
    out
}
