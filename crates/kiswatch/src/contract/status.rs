//! The feed's health as the API and the WebSocket say it: the upstream session's state and each
//! stock's source (`realtime`, `polled` or `stale`). The types are [`crate::status`]'s own: the
//! live side produces them as they are shown.

pub use crate::status::{FeedState, StockStatus as FeedStatus, UpstreamState};

#[cfg(test)]
mod tests {
    use crate::status;

    #[test]
    fn a_feed_status_names_its_state_status_as_the_websocket_does() {
        let s = status::StockStatus {
            state: status::FeedState::Polled,
            age_ms: Some(900),
            bound_ms: Some(4_000),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"status":"polled","age_ms":900,"bound_ms":4000}"#
        );
        let realtime = status::StockStatus {
            state: status::FeedState::Realtime,
            age_ms: None,
            bound_ms: None,
        };
        assert_eq!(
            serde_json::to_string(&realtime).unwrap(),
            r#"{"status":"realtime","age_ms":null,"bound_ms":null}"#,
            "unknown values are present, as null"
        );
    }
}
