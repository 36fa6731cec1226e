//! A trigger: what fired, where, and the values that made it true.

use serde::Serialize;
use serde::ser::SerializeMap;
use utoipa::ToSchema;

/// A stored trigger, as `GET /api/v1/triggers` lists it, the WebSocket's `trigger` message carries
/// it and a webhook receives it. The store returns it as it is.
///
/// Triggers are stored before they are delivered. One the store could not write yet (a full disk)
/// is delivered at once all the same, as an `UnstoredTrigger` (`"persisted": false`, no id), and
/// comes again as a `Trigger` with its id once the store writes again: a browser replaces the one
/// with the same `key`. Only stored triggers have ids, so resuming after the highest id seen stays
/// exact.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trigger {
    pub id: u64,
    #[serde(flatten)]
    pub fired: Fired,
    pub acked: bool,
    /// When it was stored (RFC 3339).
    pub recorded_at: String,
    /// Always `true`: the trigger is in the store.
    pub persisted: bool,
    /// `<condition_id>:<code>:<period>:<bar_time>`: the trigger's identity before and after it is
    /// stored (one trigger per condition, stock, period and bar).
    pub key: String,
}

impl Trigger {
    /// A trigger as the store has it.
    pub fn stored(id: u64, fired: Fired, acked: bool, recorded_at: String) -> Trigger {
        Trigger {
            id,
            key: fired.key(),
            fired,
            acked,
            recorded_at,
            persisted: true,
        }
    }
}

/// A trigger the store could not write yet (a full disk): delivered at once all the same, to the
/// browsers as a `trigger_unstored` message and to a webhook as it is, with `"persisted": false`
/// and `"id": null`. Once the store writes again it is stored and comes to the browsers again as a
/// `Trigger` with its id and the same `key`; its webhook is not posted twice.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnstoredTrigger {
    /// Always `null`: ids are given by the store.
    #[schema(value_type = Option<u64>, required = true)]
    pub id: Option<u64>,
    #[serde(flatten)]
    pub fired: Fired,
    /// Always `false`.
    pub persisted: bool,
    /// `<condition_id>:<code>:<period>:<bar_time>`, the same once it is stored.
    pub key: String,
}

impl UnstoredTrigger {
    pub fn new(fired: Fired) -> UnstoredTrigger {
        UnstoredTrigger {
            id: None,
            key: fired.key(),
            fired,
            persisted: false,
        }
    }
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

impl Fired {
    /// `<condition id>:<code>:<period>:<bar time>`: the store keeps one trigger per condition,
    /// stock, period and bar (its unique key), so this names a trigger before it has an id and after.
    pub fn key(&self) -> String {
        trigger_key(self.condition_id, &self.code, &self.period, &self.bar_time)
    }
}

/// [`Fired::key`] from its parts.
pub fn trigger_key(condition_id: u64, code: &str, period: &str, bar_time: &str) -> String {
    format!("{condition_id}:{code}:{period}:{bar_time}")
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
