//! The feed's health, in the words the API, the WebSocket `status` messages and the UI use: the
//! upstream session's [`UpstreamState`], and each stock's [`StockStatus`] — `realtime`, `polled` or
//! `stale`, with the age of its last data. Produced by [`crate::live`], read by the hub and the API.
//!
//! * `realtime`: its executions are registered and the realtime session is up. The age is
//!   informational (an illiquid stock trades rarely; silence on a live session is not staleness).
//! * `polled`: it is in the poll schedule and its last successful poll is within the scheduler's
//!   freshness bound.
//! * `stale`: anything else — the session is down, polls fail or are late, or nothing was ever
//!   received. The UI should say so rather than show an old price as current.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use utoipa::ToSchema;

/// The upstream realtime session, for the connection banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamState {
    /// The realtime session is up.
    Connected,
    /// The session dropped; the client is reconnecting (registrations will be restored).
    Reconnecting,
    /// No realtime session (e.g. VTS without WebSocket); everything is polled.
    Polling,
    /// Neither realtime nor REST answers.
    Down,
}

/// Where a stock's data comes from now: `realtime` (registered on the live session), `polled`
/// (polled within its freshness bound) or `stale` (anything else: show it as old).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    Realtime,
    Polled,
    Stale,
}

impl FeedState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedState::Realtime => "realtime",
            FeedState::Polled => "polled",
            FeedState::Stale => "stale",
        }
    }
}

/// What is known about one stock's data source at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInput {
    /// Its executions are registered on the realtime session.
    pub registered: bool,
    /// The realtime session is connected.
    pub session_up: bool,
    /// It is in the poll schedule.
    pub polled: bool,
    /// When its last data arrived (a realtime record or a successful poll).
    pub last_data: Option<Instant>,
    /// How old polled data may be ([`crate::live::planner::poll::PollScheduler::bound`]).
    pub poll_bound: Duration,
}

/// A stock's status: the REST answers' `feed` and each entry of the WebSocket's `status` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = FeedStatus)]
pub struct StockStatus {
    #[serde(rename = "status")]
    pub state: FeedState,
    /// Milliseconds since its last data, `null` when nothing arrived yet.
    #[schema(required = true)]
    pub age_ms: Option<u64>,
    /// Milliseconds the data may age before the stock is stale (`null` while realtime).
    #[schema(required = true)]
    pub bound_ms: Option<u64>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl StockStatus {
    pub fn of(input: StatusInput, now: Instant) -> StockStatus {
        let age = input.last_data.map(|t| now.saturating_duration_since(t));
        let state = if input.registered && input.session_up {
            FeedState::Realtime
        } else if input.polled && age.is_some_and(|a| a <= input.poll_bound) {
            FeedState::Polled
        } else {
            FeedState::Stale
        };
        StockStatus {
            state,
            age_ms: age.map(millis),
            bound_ms: (state != FeedState::Realtime).then(|| millis(input.poll_bound)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> StatusInput {
        StatusInput {
            registered: false,
            session_up: true,
            polled: true,
            last_data: None,
            poll_bound: Duration::from_secs(8),
        }
    }

    #[test]
    fn polled_until_the_bound_then_stale() {
        let t0 = Instant::now();
        let i = StatusInput {
            last_data: Some(t0),
            ..input()
        };
        let s = StockStatus::of(i, t0 + Duration::from_secs(8));
        assert_eq!(
            (s.state, s.age_ms, s.bound_ms),
            (FeedState::Polled, Some(8000), Some(8000))
        );
        let s = StockStatus::of(i, t0 + Duration::from_millis(8001));
        assert_eq!(s.state, FeedState::Stale);
    }

    #[test]
    fn never_received_is_stale() {
        let s = StockStatus::of(input(), Instant::now());
        assert_eq!((s.state, s.age_ms), (FeedState::Stale, None));
    }

    #[test]
    fn realtime_only_while_the_session_is_up() {
        let t0 = Instant::now();
        let i = StatusInput {
            registered: true,
            polled: false,
            last_data: Some(t0),
            ..input()
        };
        let quiet = StockStatus::of(i, t0 + Duration::from_secs(600));
        assert_eq!((quiet.state, quiet.bound_ms), (FeedState::Realtime, None));
        let down = StatusInput {
            session_up: false,
            ..i
        };
        assert_eq!(StockStatus::of(down, t0).state, FeedState::Stale);
        assert_eq!(serde_json::to_string(&FeedState::Polled).unwrap(), "\"polled\"");
    }
}
