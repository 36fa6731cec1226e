//! A trigger: what fired, where, and the values that made it true.

use serde::Serialize;
use serde::ser::SerializeMap;
use utoipa::ToSchema;

/// A stored trigger, as `GET /api/v1/triggers` lists it, the WebSocket's `trigger` message carries
/// it and a webhook receives it. The store returns it as it is.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trigger {
    pub id: u64,
    #[serde(flatten)]
    pub fired: Fired,
    pub acked: bool,
    /// When it was stored (RFC 3339).
    pub recorded_at: String,
}

/// What fired: the stock, the condition, the bar and the values that made it true, with its text.
/// The evaluator records this; the store gives it an id.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Fired {
    pub code: String,
    pub name: String,
    pub condition_id: u64,
    pub condition_name: String,
    /// The condition's period (`1m` … `60m`, `D`, `W`, `M`).
    pub period: String,
    /// The start of the bar that made the condition true (where the chart's arrow points).
    pub bar_time: String,
    /// The market time of the trade (or bar close) that made it true.
    pub time: String,
    pub price: i64,
    pub values: TriggerValues,
    /// Found after the fact, in minutes refetched after a feed gap.
    pub late: bool,
    /// Why it fired, in English.
    pub message: String,
    /// Why it fired, in Korean.
    pub message_ko: String,
}

/// The values that made a condition true, by label (`ma(20)`, `close`, …), in the order the
/// condition names them.
#[derive(Debug, Clone, PartialEq, Default, ToSchema)]
#[schema(value_type = std::collections::HashMap<String, f64>)]
pub struct TriggerValues(pub Vec<(String, f64)>);

impl Serialize for TriggerValues {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (label, value) in &self.0 {
            map.serialize_entry(label, value)?;
        }
        map.end()
    }
}
