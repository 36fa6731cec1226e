//! Stored alert channels. The store keeps what it is given: the kind's public settings as JSON and
//! its secrets already sealed (`channels::seal`), so nothing here ever holds a secret in the clear.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, all_rows, now_text};
use crate::contract::{ChannelFailing, ChannelKind};

/// A channel as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: u64,
    pub spec: NewChannel,
    pub failing: Option<ChannelFailing>,
    pub created_at: String,
    pub updated_at: String,
}

/// What a channel is made of (validated, secrets sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: String,
    /// The public settings (JSON object).
    pub config: String,
    /// The secret settings, sealed.
    pub secrets: String,
    pub default: bool,
}

const COLUMNS: &str =
    "id, kind, name, config, secrets, is_default, failing, failing_since, created_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> Result<ChannelRow, StoreError> {
    let kind: String = r.get(1)?;
    let failing: Option<String> = r.get(6)?;
    let since: Option<String> = r.get(7)?;
    Ok(ChannelRow {
        id: r.get::<_, i64>(0)? as u64,
        spec: NewChannel {
            kind: ChannelKind::parse(&kind).ok_or(StoreError::Corrupt {
                what: "channel kind",
                value: kind,
            })?,
            name: r.get(2)?,
            config: r.get(3)?,
            secrets: r.get(4)?,
            default: r.get(5)?,
        },
        failing: failing.map(|error| ChannelFailing {
            error,
            since: since.unwrap_or_default(),
        }),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

impl Store {
    pub async fn channels(&self) -> Result<Vec<ChannelRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM channels ORDER BY id"))?;
            all_rows(st.query([])?, row)
        })
        .await
    }

    pub async fn channel(&self, id: u64) -> Result<Option<ChannelRow>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM channels WHERE id = ?1"))?;
            let mut rows = st.query([id as i64])?;
            rows.next()?.map(row).transpose()
        })
        .await
    }

    pub async fn add_channel(&self, new: NewChannel) -> Result<ChannelRow, StoreError> {
        let now = now_text();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO channels (kind, name, config, secrets, is_default, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    new.kind.as_str(),
                    new.name,
                    new.config,
                    new.secrets,
                    new.default,
                    now
                ],
            )?;
            Ok(ChannelRow {
                id: tx.last_insert_rowid() as u64,
                spec: new,
                failing: None,
                created_at: now.clone(),
                updated_at: now,
            })
        })
        .await
    }

    /// Replaces a channel's settings and clears its failing mark; `None` if there is no such channel.
    pub async fn update_channel(&self, id: u64, new: NewChannel) -> Result<Option<ChannelRow>, StoreError> {
        let now = now_text();
        self.write(move |tx| {
            let n = tx.execute(
                "UPDATE channels SET kind = ?2, name = ?3, config = ?4, secrets = ?5, is_default = ?6,
                   failing = NULL, failing_since = NULL, updated_at = ?7 WHERE id = ?1",
                params![
                    id as i64,
                    new.kind.as_str(),
                    new.name,
                    new.config,
                    new.secrets,
                    new.default,
                    now
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            let created_at: String = tx.query_row(
                "SELECT created_at FROM channels WHERE id = ?1",
                [id as i64],
                |r| r.get(0),
            )?;
            Ok(Some(ChannelRow {
                id,
                spec: new,
                failing: None,
                created_at,
                updated_at: now,
            }))
        })
        .await
    }

    /// Deletes a channel, takes it out of every condition's channels and fails its pending
    /// deliveries; `false` if there was none.
    pub async fn delete_channel(&self, id: u64) -> Result<bool, StoreError> {
        let now = now_text();
        self.write(move |tx| {
            if tx.execute("DELETE FROM channels WHERE id = ?1", [id as i64])? == 0 {
                return Ok(false);
            }
            let mut st = tx.prepare("SELECT id, channels FROM conditions")?;
            let rows: Vec<(i64, String)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (cid, text) in rows {
                let list: Vec<u64> = serde_json::from_str(&text).unwrap_or_default();
                if list.contains(&id) {
                    let kept: Vec<u64> = list.into_iter().filter(|c| *c != id).collect();
                    tx.execute(
                        "UPDATE conditions SET channels = ?2 WHERE id = ?1",
                        params![cid, serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into())],
                    )?;
                }
            }
            tx.execute(
                "UPDATE outbox SET status = 'failed', last_error = 'the channel was deleted', updated_at = ?2
                 WHERE channel_id = ?1 AND status = 'pending'",
                params![id as i64, now],
            )?;
            Ok(true)
        })
        .await
    }

    /// Marks a channel failing (a permanent error), or clears the mark (`None`).
    pub async fn set_channel_failing(&self, id: u64, error: Option<String>) -> Result<(), StoreError> {
        let now = now_text();
        self.write(move |tx| {
            match error {
                Some(e) => tx.execute(
                    "UPDATE channels SET failing = ?2, failing_since = ?3 WHERE id = ?1",
                    params![id as i64, e, now],
                )?,
                None => tx.execute(
                    "UPDATE channels SET failing = NULL, failing_since = NULL WHERE id = ?1",
                    [id as i64],
                )?,
            };
            Ok(())
        })
        .await
    }

    /// Ids of the channels new conditions route to.
    pub async fn default_channels(&self) -> Result<Vec<u64>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT id FROM channels WHERE is_default = 1 ORDER BY id")?;
            let ids = st
                .query_map([], |r| r.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ids.into_iter().map(|i| i as u64).collect())
        })
        .await
    }

    /// Conditions that still carry a legacy `webhook` URL: `(condition id, url, its channels)`.
    pub async fn legacy_webhooks(&self) -> Result<Vec<(u64, String, Vec<u64>)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT id, webhook, channels FROM conditions WHERE webhook IS NOT NULL ORDER BY id",
            )?;
            let rows: Vec<(i64, String, String)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(id, url, ch)| (id as u64, url, serde_json::from_str(&ch).unwrap_or_default()))
                .collect())
        })
        .await
    }

    /// Moves a condition's legacy webhook into its channels (one transaction).
    pub async fn adopt_webhook(&self, condition: u64, channels: Vec<u64>) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE conditions SET webhook = NULL, channels = ?2 WHERE id = ?1",
                params![
                    condition as i64,
                    serde_json::to_string(&channels).unwrap_or_else(|_| "[]".into())
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// The close of the last stored session before `date` (`YYYY-MM-DD`): what 등락률 is measured from.
    pub async fn previous_close(&self, code: String, date: String) -> Result<Option<i64>, StoreError> {
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT close FROM daily_bars WHERE code = ?1 AND date < ?2 ORDER BY date DESC LIMIT 1",
                params![code, date],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }
}
