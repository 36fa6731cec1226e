//! A trigger: what fired, where, and the values that made it true.

use serde::Serialize;
use serde::ser::SerializeMap;
use utoipa::ToSchema;

use crate::store::{NewTrigger, TriggerRow};

/// A trigger, as `GET /api/v1/triggers` lists it, the WebSocket's `trigger` message carries it and
/// a webhook receives it.
///
/// Triggers are stored before they are delivered. One the store could not write yet (a full disk)
/// is delivered at once anyway with `persisted: false` and `id: null`, and known by its `key` until
/// the store writes again; then it comes once more over the WebSocket, with its id and
/// `persisted: true` (a browser replaces the unstored one with the same `key`). Only stored
/// triggers have ids, so resuming after the highest id seen stays exact. The listing holds stored
/// triggers only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trigger {
    /// The stored row's id; `null` while not stored yet (`persisted: false`).
    pub id: Option<u64>,
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
    pub acked: bool,
    /// Why it fired, in English.
    pub message: String,
    /// Why it fired, in Korean.
    pub message_ko: String,
    /// When it was stored (RFC 3339); `null` while not stored yet.
    pub recorded_at: Option<String>,
    /// Whether the trigger is in the store.
    pub persisted: bool,
    /// `<condition_id>:<code>:<period>:<bar_time>`: the trigger's identity before and after it is
    /// stored (one trigger per condition, stock, period and bar).
    pub key: String,
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

impl From<&TriggerRow> for Trigger {
    fn from(t: &TriggerRow) -> Trigger {
        Trigger {
            id: Some(t.id),
            persisted: true,
            acked: t.acked,
            recorded_at: Some(t.recorded_at.clone()),
            ..Trigger::unstored(&t.trigger)
        }
    }
}

impl Trigger {
    /// A trigger not stored (yet): no id, `persisted: false`.
    pub fn unstored(t: &NewTrigger) -> Trigger {
        Trigger {
            id: None,
            persisted: false,
            key: t.key(),
            code: t.code.clone(),
            name: t.name.clone(),
            condition_id: t.condition_id,
            condition_name: t.condition_name.clone(),
            period: t.period.clone(),
            bar_time: t.bar_time.clone(),
            time: t.time.clone(),
            price: t.price,
            values: TriggerValues(t.values.clone()),
            late: t.late,
            acked: false,
            message: t.message_en.clone(),
            message_ko: t.message_ko.clone(),
            recorded_at: None,
        }
    }
}
