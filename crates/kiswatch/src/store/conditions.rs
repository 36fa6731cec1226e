//! Stored conditions: the text as the user wrote it (parsed again on load, so the language can grow)
//! and its options.

use market::trigger::Mode;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_text};
use crate::contract::{Condition, ConditionMode, ConditionScope, ScanFilters};

/// A condition as stored: what the user said, with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionRow {
    pub id: u64,
    pub spec: NewCondition,
    pub created_at: String,
}

/// What the user says of a condition (already validated): what is stored, and what a PUT replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCondition {
    pub name: String,
    pub expr: String,
    pub enabled: bool,
    pub mode: Mode,
    pub cooldown_secs: u64,
    pub webhook: Option<String>,
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

const COLUMNS: &str = "id, name, expr, enabled, mode, cooldown_secs, webhook, created_at, scope, filters";

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
    Ok(ConditionRow {
        id: r.get::<_, i64>(0)? as u64,
        spec: NewCondition {
            name: r.get(1)?,
            expr: r.get(2)?,
            enabled: r.get(3)?,
            mode: mode_of(&mode)?,
            cooldown_secs: r.get::<_, i64>(5)?.max(0) as u64,
            webhook: r.get(6)?,
            scope: scope_of(&r.get::<_, String>(8)?)?,
            filters: filters_of(r.get(9)?)?,
        },
        created_at: r.get(7)?,
    })
}

impl Store {
    pub async fn conditions(&self) -> Result<Vec<ConditionRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM conditions ORDER BY id"))?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row(r)?);
            }
            Ok(out)
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
                                         scope, filters)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    new.name,
                    new.expr,
                    new.enabled,
                    new.mode.as_str(),
                    new.cooldown_secs as i64,
                    new.webhook,
                    created_at,
                    new.scope.as_str(),
                    filters_text(new.filters.as_ref())
                ],
            )?;
            Ok(ConditionRow {
                id: tx.last_insert_rowid() as u64,
                spec: new,
                created_at,
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
                   webhook = ?7, scope = ?8, filters = ?9 WHERE id = ?1",
                params![
                    id as i64,
                    new.name,
                    new.expr,
                    new.enabled,
                    new.mode.as_str(),
                    new.cooldown_secs as i64,
                    new.webhook,
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
            }))
        })
        .await
    }

    pub async fn delete_condition(&self, id: u64) -> Result<bool, StoreError> {
        self.write(move |tx| Ok(tx.execute("DELETE FROM conditions WHERE id = ?1", [id as i64])? == 1))
            .await
    }
}

/// A condition as the API shows it.
impl From<&ConditionRow> for Condition {
    fn from(c: &ConditionRow) -> Self {
        Condition {
            id: c.id,
            name: c.spec.name.clone(),
            expr: c.spec.expr.clone(),
            period: market::Condition::parse(&c.spec.expr)
                .ok()
                .map(|p| p.period.as_str().to_owned()),
            enabled: c.spec.enabled,
            mode: match c.spec.mode {
                Mode::EveryTick => ConditionMode::EveryTick,
                Mode::OnClose => ConditionMode::OnClose,
                Mode::OncePerDay => ConditionMode::OncePerDay,
            },
            cooldown_secs: c.spec.cooldown_secs,
            webhook: c.spec.webhook.clone(),
            scope: c.spec.scope,
            filters: c.spec.filters.clone(),
            created_at: c.created_at.clone(),
        }
    }
}
