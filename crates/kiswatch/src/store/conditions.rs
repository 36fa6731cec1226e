//! Stored conditions: the text as the user wrote it (parsed again on load, so the language can grow)
//! and its options.
//!
//! A stored text that no longer compiles — written by an older version, or before the language's
//! limits — is loaded all the same, with its parse error ([`ConditionRow::error`]): it is not
//! [`ConditionRow::active`], so nothing evaluates it, and the API shows it disabled with the error
//! until a new `expr` replaces it. Nothing read from the file can stop the service from starting.

use market::condition::ParseError;
use market::trigger::Mode;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, all_rows, now_text};
use crate::contract::{Condition, ConditionMode, ConditionScope, ErrorDetail, QuietHours, ScanFilters};

/// The cooldown of a condition that names none: 30 market minutes per (condition, stock), so a
/// condition that keeps turning true fires at most twice a market hour on a stock.
pub const DEFAULT_COOLDOWN_SECS: u64 = 30 * 60;

/// A condition as stored: what the user said, with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionRow {
    pub id: u64,
    pub spec: NewCondition,
    pub created_at: String,
    /// Why the stored text does not compile any more (`None` for every condition this version
    /// stored: those were validated).
    pub error: Option<ParseError>,
}

impl ConditionRow {
    /// Enabled, and compiles: one the trigger engine watches.
    pub fn active(&self) -> bool {
        self.spec.enabled && self.error.is_none()
    }
}

/// What the user says of a condition (already validated): what is stored, and what a PUT replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCondition {
    pub name: String,
    pub expr: String,
    pub enabled: bool,
    pub mode: Mode,
    pub cooldown_secs: u64,
    /// A legacy webhook URL (before alert channels); moved into a webhook channel at start
    /// (`channels::Channels::adopt_legacy_webhooks`), so new rows keep it `None`.
    pub webhook: Option<String>,
    /// A browser notification for each trigger.
    pub notify: bool,
    /// The alert sound for each trigger.
    pub sound: bool,
    /// Alert channels (ids), in the order given.
    pub channels: Vec<u64>,
    pub quiet_hours: Option<QuietHours>,
    /// RFC 3339.
    pub expires_at: Option<String>,
    pub scope: ConditionScope,
    /// Only for the market scope.
    pub filters: Option<ScanFilters>,
}

fn mode_of(s: &str) -> Result<Mode, StoreError> {
    Mode::parse(s).ok_or_else(|| StoreError::Corrupt {
        what: "condition mode",
        value: s.to_string(),
    })
}

const COLUMNS: &str = "id, name, expr, enabled, mode, cooldown_secs, webhook, created_at, channels, quiet_hours, expires_at, notify, sound, scope, filters";

fn channels_of(text: &str) -> Result<Vec<u64>, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt {
        what: "condition channels",
        value: text.to_string(),
    })
}

fn quiet_of(text: Option<String>) -> Option<QuietHours> {
    let text = text?;
    let (start, end) = text.split_once('-')?;
    Some(QuietHours {
        start: start.to_string(),
        end: end.to_string(),
    })
}

fn quiet_text(q: &Option<QuietHours>) -> Option<String> {
    q.as_ref().map(|q| format!("{}-{}", q.start, q.end))
}

fn scope_of(s: &str) -> Result<ConditionScope, StoreError> {
    ConditionScope::parse(s).ok_or_else(|| StoreError::Corrupt {
        what: "condition scope",
        value: s.to_string(),
    })
}

fn filters_of(s: Option<String>) -> Result<Option<ScanFilters>, StoreError> {
    s.map(|s| {
        serde_json::from_str(&s).map_err(|_| StoreError::Corrupt {
            what: "condition filters",
            value: s,
        })
    })
    .transpose()
}

fn filters_text(f: Option<&ScanFilters>) -> Option<String> {
    f.and_then(|f| serde_json::to_string(f).ok())
}

fn row(r: &rusqlite::Row<'_>) -> Result<ConditionRow, StoreError> {
    let mode: String = r.get(4)?;
    let expr: String = r.get(2)?;
    let error = market::Condition::parse(&expr).err();
    Ok(ConditionRow {
        error,
        id: r.get::<_, i64>(0)? as u64,
        spec: NewCondition {
            name: r.get(1)?,
            expr,
            enabled: r.get(3)?,
            mode: mode_of(&mode)?,
            cooldown_secs: r.get::<_, i64>(5)?.max(0) as u64,
            webhook: r.get(6)?,
            channels: channels_of(&r.get::<_, String>(8)?)?,
            quiet_hours: quiet_of(r.get(9)?),
            expires_at: r.get(10)?,
            notify: r.get(11)?,
            sound: r.get(12)?,
            scope: scope_of(&r.get::<_, String>(13)?)?,
            filters: filters_of(r.get(14)?)?,
        },
        created_at: r.get(7)?,
    })
}

impl Store {
    pub async fn conditions(&self) -> Result<Vec<ConditionRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM conditions ORDER BY id"))?;
            all_rows(st.query([])?, row)
        })
        .await
    }

    pub async fn condition(&self, id: u64) -> Result<Option<ConditionRow>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM conditions WHERE id = ?1"))?;
            let mut rows = st.query([id as i64])?;
            rows.next()?.map(row).transpose()
        })
        .await
    }

    pub async fn add_condition(&self, new: NewCondition) -> Result<ConditionRow, StoreError> {
        let created_at = now_text();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO conditions (name, expr, enabled, mode, cooldown_secs, webhook, created_at,
                   channels, quiet_hours, expires_at, notify, sound, scope, filters)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    new.name,
                    new.expr,
                    new.enabled,
                    new.mode.as_str(),
                    new.cooldown_secs as i64,
                    new.webhook,
                    created_at,
                    serde_json::to_string(&new.channels).unwrap_or_else(|_| "[]".into()),
                    quiet_text(&new.quiet_hours),
                    new.expires_at,
                    new.notify,
                    new.sound,
                    new.scope.as_str(),
                    filters_text(new.filters.as_ref())
                ],
            )?;
            Ok(ConditionRow {
                id: tx.last_insert_rowid() as u64,
                spec: new,
                created_at,
                error: None,
            })
        })
        .await
    }

    /// Replaces a condition's fields; `None` if there is no such condition.
    pub async fn update_condition(
        &self,
        id: u64,
        new: NewCondition,
    ) -> Result<Option<ConditionRow>, StoreError> {
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE conditions SET name = ?2, expr = ?3, enabled = ?4, mode = ?5, cooldown_secs = ?6,
                   webhook = ?7, channels = ?8, quiet_hours = ?9, expires_at = ?10, notify = ?11, sound = ?12, scope = ?13, filters = ?14 WHERE id = ?1",
                params![
                    id as i64,
                    new.name,
                    new.expr,
                    new.enabled,
                    new.mode.as_str(),
                    new.cooldown_secs as i64,
                    new.webhook,
                    serde_json::to_string(&new.channels).unwrap_or_else(|_| "[]".into()),
                    quiet_text(&new.quiet_hours),
                    new.expires_at,
                    new.notify,
                    new.sound,
                    new.scope.as_str(),
                    filters_text(new.filters.as_ref())
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            let created_at: Option<String> = tx
                .query_row(
                    "SELECT created_at FROM conditions WHERE id = ?1",
                    [id as i64],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(Some(ConditionRow {
                id,
                spec: new,
                created_at: created_at.unwrap_or_default(),
                error: None,
            }))
        })
        .await
    }

    pub async fn delete_condition(&self, id: u64) -> Result<bool, StoreError> {
        self.write(move |tx| {
            // A market scan's result set goes with its condition; its events stay as history.
            tx.execute("DELETE FROM scan_members WHERE condition_id = ?1", [id as i64])?;
            Ok(tx.execute("DELETE FROM conditions WHERE id = ?1", [id as i64])? == 1)
        })
        .await
    }
}

/// A condition as the API shows it: one that no longer compiles shows as disabled, with its error.
impl From<&ConditionRow> for Condition {
    fn from(c: &ConditionRow) -> Self {
        Condition {
            id: c.id,
            name: c.spec.name.clone(),
            expr: c.spec.expr.clone(),
            period: match c.error {
                None => market::Condition::parse(&c.spec.expr)
                    .ok()
                    .map(|p| p.period.as_str().to_owned()),
                Some(_) => None,
            },
            enabled: c.active(),
            error: c.error.as_ref().map(ErrorDetail::stored_condition),
            mode: match c.spec.mode {
                Mode::EveryTick => ConditionMode::EveryTick,
                Mode::OnClose => ConditionMode::OnClose,
                Mode::OncePerDay => ConditionMode::OncePerDay,
            },
            cooldown_secs: c.spec.cooldown_secs,
            webhook: None,
            channels: c.spec.channels.clone(),
            quiet_hours: c.spec.quiet_hours.clone(),
            expires_at: c.spec.expires_at.clone(),
            notify: c.spec.notify,
            sound: c.spec.sound,
            scope: c.spec.scope,
            filters: c.spec.filters.clone(),
            created_at: c.created_at.clone(),
        }
    }
}
