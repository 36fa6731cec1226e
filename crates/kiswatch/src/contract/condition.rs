//! `/api/v1/conditions`: a stored buy condition with its options.

use serde::Serialize;
use utoipa::ToSchema;

/// When a condition is evaluated and how often it may fire: on every trade, at most once a bar
/// (`every_tick`, on the forming bar); when a bar closes (`on_close`); on every trade, at most once a
/// trading day (`once_per_day`). In every mode a condition that fired re-arms only after a closed bar
/// of its period was false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionMode {
    EveryTick,
    OnClose,
    OncePerDay,
}

/// A condition as `/api/v1/conditions` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Condition {
    pub id: u64,
    pub name: String,
    /// In the condition language, e.g. `30m: ma(20) > ma(60)` or `D: 정배열`.
    pub expr: String,
    /// The period of its bars (`1m` … `60m`, `D`, `W`, `M`).
    #[schema(required = true)]
    pub period: Option<String>,
    pub enabled: bool,
    pub mode: ConditionMode,
    /// Seconds after a trigger before the same condition may fire again on the same stock.
    pub cooldown_secs: u64,
    /// Receives each trigger as a JSON POST.
    #[schema(required = true)]
    pub webhook: Option<String>,
    /// When it was stored (RFC 3339).
    pub created_at: String,
}
