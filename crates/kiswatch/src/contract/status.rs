//! The feed's health as the API and the WebSocket say it: the upstream session's state and each
//! stock's source (`realtime`, `polled` or `stale`, see [`crate::status`]).

use serde::Serialize;
use utoipa::ToSchema;

use crate::status;

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

impl From<status::UpstreamState> for UpstreamState {
    fn from(s: status::UpstreamState) -> Self {
        match s {
            status::UpstreamState::Connected => UpstreamState::Connected,
            status::UpstreamState::Reconnecting => UpstreamState::Reconnecting,
            status::UpstreamState::Polling => UpstreamState::Polling,
            status::UpstreamState::Down => UpstreamState::Down,
        }
    }
}

/// Where a stock's data comes from now: `realtime` (registered on the live session), `polled`
/// (polled within its freshness bound) or `stale` (anything else: show it as old).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    Realtime,
    Polled,
    Stale,
}

impl From<status::FeedState> for FeedState {
    fn from(s: status::FeedState) -> Self {
        match s {
            status::FeedState::Realtime => FeedState::Realtime,
            status::FeedState::Polled => FeedState::Polled,
            status::FeedState::Stale => FeedState::Stale,
        }
    }
}

/// A stock's feed status: the REST answers' `feed` and each entry of the WebSocket's `status`
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct FeedStatus {
    pub status: FeedState,
    /// Milliseconds since its last data, `null` when nothing arrived yet.
    #[schema(required = true)]
    pub age_ms: Option<u64>,
    /// Milliseconds the data may age before the stock is stale (`null` while realtime).
    #[schema(required = true)]
    pub bound_ms: Option<u64>,
}

impl From<status::StockStatus> for FeedStatus {
    fn from(s: status::StockStatus) -> Self {
        FeedStatus {
            status: s.state.into(),
            age_ms: s.age_ms,
            bound_ms: s.bound_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_status_names_its_state_status_as_the_websocket_does() {
        let s = status::StockStatus {
            state: status::FeedState::Polled,
            age_ms: Some(900),
            bound_ms: Some(4_000),
        };
        assert_eq!(
            serde_json::to_string(&FeedStatus::from(s)).unwrap(),
            r#"{"status":"polled","age_ms":900,"bound_ms":4000}"#
        );
        let realtime = status::StockStatus {
            state: status::FeedState::Realtime,
            age_ms: None,
            bound_ms: None,
        };
        assert_eq!(
            serde_json::to_string(&FeedStatus::from(realtime)).unwrap(),
            r#"{"status":"realtime","age_ms":null,"bound_ms":null}"#,
            "unknown values are present, as null"
        );
    }
}
