//! Stored triggers: each is written here before anyone is told about it, so a trigger that was
//! delivered is never lost, and a client that reconnects can ask for everything after an id.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now_text};
use crate::contract::{Fired, Trigger, TriggerValues};

/// Which triggers to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerQuery {
    /// Only ids above this (in ascending order); without it the newest come, newest first.
    pub after: Option<u64>,
    pub limit: usize,
    pub code: Option<String>,
}

/// Stored triggers read per query by [`Store::triggers_after`].
pub const TRIGGER_PAGE: usize = 500;

const COLUMNS: &str =
    "id, code, name, condition_id, condition_name, period, bar_time, time, price, vals, late, acked,
    message_ko, message_en, recorded_at";

fn row(r: &rusqlite::Row<'_>) -> Result<Trigger, StoreError> {
    let vals: String = r.get(9)?;
    let values: Vec<(String, f64)> = serde_json::from_str(&vals).map_err(|_| StoreError::Corrupt {
        what: "trigger values",
        value: vals.clone(),
    })?;
    Ok(Trigger::stored(
        r.get::<_, i64>(0)? as u64,
        Fired {
            code: r.get(1)?,
            name: r.get(2)?,
            condition_id: r.get::<_, i64>(3)? as u64,
            condition_name: r.get(4)?,
            period: r.get(5)?,
            bar_time: r.get(6)?,
            time: r.get(7)?,
            price: r.get(8)?,
            values: TriggerValues(values),
            late: r.get(10)?,
            message: r.get(13)?,
            message_ko: r.get(12)?,
        },
        r.get(11)?,
        r.get(14)?,
    ))
}

impl Store {
    /// Records a trigger and returns it with its id; `None` if that condition already fired for that
    /// stock on that bar (at most once per bar, across restarts too: a rebuilt engine replaying a
    /// session's trades does not fire twice).
    pub async fn add_trigger(&self, t: Fired) -> Result<Option<Trigger>, StoreError> {
        let recorded_at = now_text();
        self.write_here(move |tx| {
            // Stored as `[[label, value], …]`: the pairs in the condition's order.
            let vals = serde_json::to_string(&t.values.0).unwrap_or_else(|_| "[]".into());
            let n = tx.execute(
                "INSERT OR IGNORE INTO triggers (code, name, condition_id, condition_name, period, bar_time, time, price,
                   vals, late, message_ko, message_en, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    t.code,
                    t.name,
                    t.condition_id as i64,
                    t.condition_name,
                    t.period,
                    t.bar_time,
                    t.time,
                    t.price,
                    vals,
                    t.late,
                    t.message_ko,
                    t.message,
                    recorded_at
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            Ok(Some(Trigger::stored(
                tx.last_insert_rowid() as u64,
                t,
                false,
                recorded_at,
            )))
        })
        .await
    }

    /// Triggers per `query` (see [`TriggerQuery`]).
    pub async fn triggers(&self, query: TriggerQuery) -> Result<Vec<Trigger>, StoreError> {
        self.read(move |c| {
            let (order, after) = match query.after {
                Some(a) => ("ASC", a as i64),
                None => ("DESC", -1),
            };
            let sql = format!(
                "SELECT {COLUMNS} FROM triggers WHERE id > ?1 AND (?2 IS NULL OR code = ?2)
                 ORDER BY id {order} LIMIT ?3"
            );
            let mut st = c.prepare_cached(&sql)?;
            let mut rows = st.query(params![after, query.code, query.limit as i64])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(row(r)?);
            }
            Ok(out)
        })
        .await
    }

    /// Every trigger with an id above `after`, oldest first, read a page of [`TRIGGER_PAGE`] at a
    /// time (a browser's `resume`, the hub catching up after a lag).
    pub async fn triggers_after(&self, after: u64) -> Result<Vec<Trigger>, StoreError> {
        let mut all = Vec::new();
        let mut after = after;
        loop {
            let page = self
                .triggers(TriggerQuery {
                    after: Some(after),
                    limit: TRIGGER_PAGE,
                    code: None,
                })
                .await?;
            let n = page.len();
            if let Some(last) = page.last() {
                after = last.id;
            }
            all.extend(page);
            if n < TRIGGER_PAGE {
                return Ok(all);
            }
        }
    }

    pub async fn trigger(&self, id: u64) -> Result<Option<Trigger>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM triggers WHERE id = ?1"))?;
            let mut rows = st.query([id as i64])?;
            rows.next()?.map(row).transpose()
        })
        .await
    }

    /// Marks a trigger acknowledged; `false` if there is none with that id.
    pub async fn ack_trigger(&self, id: u64) -> Result<bool, StoreError> {
        self.write(move |tx| Ok(tx.execute("UPDATE triggers SET acked = 1 WHERE id = ?1", [id as i64])? == 1))
            .await
    }

    /// The highest trigger id so far.
    pub async fn last_trigger_id(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let id: Option<i64> = c
                .query_row("SELECT max(id) FROM triggers", [], |r| r.get(0))
                .optional()?
                .flatten();
            Ok(id.unwrap_or(0).max(0) as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(code: &str) -> Fired {
        Fired {
            code: code.into(),
            name: "삼성전자".into(),
            condition_id: 1,
            condition_name: "c".into(),
            period: "1m".into(),
            bar_time: "2026-11-27T09:05:00+09:00".into(),
            time: "2026-11-27T09:05:31+09:00".into(),
            price: 71_000,
            values: TriggerValues(vec![("ma(20)".into(), 70_950.5)]),
            late: false,
            message: "m".into(),
            message_ko: "m".into(),
        }
    }

    #[tokio::test]
    async fn triggers_page_after_an_id_and_ack() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        for (i, code) in ["005930", "000660", "005930"].into_iter().enumerate() {
            let mut new = t(code);
            new.bar_time = format!("2026-11-27T09:0{i}:00+09:00");
            assert!(store.add_trigger(new).await.unwrap().is_some());
        }
        let mut again = t("005930");
        again.bar_time = "2026-11-27T09:02:00+09:00".into();
        assert!(store.add_trigger(again).await.unwrap().is_none(), "once per bar");
        let q = |after, code: Option<&str>| TriggerQuery {
            after,
            limit: 10,
            code: code.map(str::to_string),
        };
        let newest: Vec<u64> = store
            .triggers(q(None, None))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(newest, [3, 2, 1]);
        let after: Vec<u64> = store
            .triggers(q(Some(1), None))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(after, [2, 3]);
        let of: Vec<u64> = store
            .triggers(q(None, Some("005930")))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(of, [3, 1]);
        assert!(store.ack_trigger(2).await.unwrap());
        assert!(!store.ack_trigger(9).await.unwrap());
        let row = store.trigger(2).await.unwrap().unwrap();
        assert!(row.acked);
        assert_eq!(row.fired.values, t("x").values);
        assert_eq!(store.last_trigger_id().await.unwrap(), 3);
    }
}
