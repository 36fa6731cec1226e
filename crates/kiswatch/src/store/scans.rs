//! 조건검색's stored state: each market-scope condition's result set (`scan_members`, rewritten with every
//! change so a restart resumes where it was and reports only real changes) and the 편입/이탈 events
//! (`scan_events`, the history the API and the WebSocket's resume read).

use rusqlite::params;

use super::outbox::{EventKind, OutboxRow, Routed, insert_routes};
use super::{Store, StoreError, all_rows, now_text};
use crate::contract::{ScanEvent, ScanEventKind, TriggerValues};

/// A stock in a stored result set.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanMember {
    pub code: String,
    /// When it entered (RFC 3339, +09:00).
    pub since: String,
    pub values: Vec<(String, f64)>,
}

/// An event before the store gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScanEvent {
    pub condition_id: u64,
    pub code: String,
    pub name: String,
    pub kind: ScanEventKind,
    pub time: String,
    pub price: i64,
    pub change_rate: f64,
    pub turnover: u64,
    pub values: Vec<(String, f64)>,
}

/// Events a page of [`Store::scan_events_after`] reads at a time.
const EVENT_PAGE: usize = 1000;

const EVENT_COLUMNS: &str = "id, condition_id, code, name, kind, time, price, change_rate, turnover, vals";

fn values_of(text: &str) -> Result<Vec<(String, f64)>, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt {
        what: "scan values",
        value: text.to_string(),
    })
}

fn values_text(values: &[(String, f64)]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

fn event(r: &rusqlite::Row<'_>) -> Result<ScanEvent, StoreError> {
    let kind: String = r.get(4)?;
    Ok(ScanEvent {
        id: r.get::<_, i64>(0)? as u64,
        condition_id: r.get::<_, i64>(1)? as u64,
        code: r.get(2)?,
        name: r.get(3)?,
        kind: ScanEventKind::parse(&kind).ok_or(StoreError::Corrupt {
            what: "scan event kind",
            value: kind,
        })?,
        time: r.get(5)?,
        price: r.get(6)?,
        change_rate: r.get(7)?,
        turnover: r.get::<_, i64>(8)?.max(0) as u64,
        values: TriggerValues(values_of(&r.get::<_, String>(9)?)?),
    })
}

impl Store {
    /// A condition's stored result set.
    pub async fn scan_members(&self, condition_id: u64) -> Result<Vec<ScanMember>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT code, since, vals FROM scan_members WHERE condition_id = ?1 ORDER BY code",
            )?;
            all_rows(st.query([condition_id as i64])?, |r| {
                Ok(ScanMember {
                    code: r.get(0)?,
                    since: r.get(1)?,
                    values: values_of(&r.get::<_, String>(2)?)?,
                })
            })
        })
        .await
    }

    /// Records a sweep's changes in one transaction: each event with its deliveries to the
    /// condition's alert channels, and the result set updated by it (an enter adds the member, a
    /// leave removes it). Returns the events with their ids, and the deliveries.
    pub async fn record_scan_changes(
        &self,
        events: Vec<(NewScanEvent, Vec<Routed>)>,
    ) -> Result<(Vec<ScanEvent>, Vec<OutboxRow>), StoreError> {
        if events.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let recorded_at = now_text();
        self.write(move |tx| {
            let mut out = Vec::with_capacity(events.len());
            let mut deliveries = Vec::new();
            for (e, routes) in events {
                let vals = values_text(&e.values);
                tx.execute(
                    "INSERT INTO scan_events (condition_id, code, name, kind, time, price, change_rate, turnover, vals)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        e.condition_id as i64,
                        e.code,
                        e.name,
                        e.kind.as_str(),
                        e.time,
                        e.price,
                        e.change_rate,
                        e.turnover.min(i64::MAX as u64) as i64,
                        vals
                    ],
                )?;
                let id = tx.last_insert_rowid() as u64;
                deliveries.extend(insert_routes(tx, EventKind::ScanEvent, id, routes, &recorded_at)?);
                match e.kind {
                    ScanEventKind::Enter => tx.execute(
                        "INSERT OR REPLACE INTO scan_members (condition_id, code, since, vals) VALUES (?1, ?2, ?3, ?4)",
                        params![e.condition_id as i64, e.code, e.time, vals],
                    )?,
                    ScanEventKind::Leave => tx.execute(
                        "DELETE FROM scan_members WHERE condition_id = ?1 AND code = ?2",
                        params![e.condition_id as i64, e.code],
                    )?,
                };
                out.push(ScanEvent {
                    id,
                    condition_id: e.condition_id,
                    code: e.code,
                    name: e.name,
                    kind: e.kind,
                    time: e.time,
                    price: e.price,
                    change_rate: e.change_rate,
                    turnover: e.turnover,
                    values: TriggerValues(e.values),
                });
            }
            Ok((out, deliveries))
        })
        .await
    }

    /// Forgets the result-set entries and events of `date` and later (the demo's session starts over with
    /// each process: what its scans found today belongs to another tape).
    pub async fn drop_scans_from(&self, date: jiff::civil::Date) -> Result<(), StoreError> {
        let from = date.to_string();
        self.write(move |tx| {
            tx.execute("DELETE FROM scan_events WHERE time >= ?1", [&from])?;
            tx.execute("DELETE FROM scan_members WHERE since >= ?1", [&from])?;
            Ok(())
        })
        .await
    }

    /// One stored event.
    pub async fn scan_event(&self, id: u64) -> Result<Option<ScanEvent>, StoreError> {
        self.read(move |c| {
            let mut st =
                c.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM scan_events WHERE id = ?1"))?;
            Ok(all_rows(st.query([id as i64])?, event)?.pop())
        })
        .await
    }

    /// A condition's events: after `after` oldest first, else the latest `limit` (oldest first).
    pub async fn scan_events(
        &self,
        condition_id: u64,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<ScanEvent>, StoreError> {
        self.read(move |c| {
            let mut out = match after {
                Some(a) => {
                    let sql = format!(
                        "SELECT {EVENT_COLUMNS} FROM scan_events WHERE condition_id = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3"
                    );
                    let mut st = c.prepare_cached(&sql)?;
                    all_rows(st.query(params![condition_id as i64, a as i64, limit as i64])?, event)?
                }
                None => {
                    let sql = format!(
                        "SELECT {EVENT_COLUMNS} FROM scan_events WHERE condition_id = ?1 ORDER BY id DESC LIMIT ?2"
                    );
                    let mut st = c.prepare_cached(&sql)?;
                    let mut v = all_rows(st.query(params![condition_id as i64, limit as i64])?, event)?;
                    v.reverse();
                    v
                }
            };
            out.truncate(limit);
            Ok(out)
        })
        .await
    }

    /// Every event of `conditions` with an id above `after`, oldest first (a WebSocket `resume`).
    pub async fn scan_events_after(
        &self,
        conditions: Vec<u64>,
        after: u64,
    ) -> Result<Vec<ScanEvent>, StoreError> {
        let mut all = Vec::new();
        for id in conditions {
            let mut from = after;
            loop {
                let page = self.scan_events(id, Some(from), EVENT_PAGE).await?;
                let n = page.len();
                if let Some(last) = page.last() {
                    from = last.id;
                }
                all.extend(page);
                if n < EVENT_PAGE {
                    break;
                }
            }
        }
        all.sort_by_key(|e| e.id);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enter(code: &str, time: &str) -> NewScanEvent {
        NewScanEvent {
            condition_id: 7,
            code: code.into(),
            name: format!("종목{code}"),
            kind: ScanEventKind::Enter,
            time: time.into(),
            price: 10_000,
            change_rate: 1.5,
            turnover: 3_000_000_000,
            values: vec![("ma(20)".into(), 9_900.0), ("ma(60)".into(), 9_800.0)],
        }
    }

    #[tokio::test]
    async fn changes_keep_the_result_set_and_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let (stored, _) = store
            .record_scan_changes(vec![
                (enter("005930", "2026-12-07T09:10:00+09:00"), Vec::new()),
                (enter("000660", "2026-12-07T09:10:00+09:00"), Vec::new()),
            ])
            .await
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert!(stored[0].id < stored[1].id);
        let leave = NewScanEvent {
            kind: ScanEventKind::Leave,
            time: "2026-12-07T15:31:00+09:00".into(),
            ..enter("005930", "")
        };
        store
            .record_scan_changes(vec![(leave, Vec::new())])
            .await
            .unwrap();
        assert_eq!(
            store.scan_event(stored[0].id).await.unwrap().as_ref(),
            Some(&stored[0])
        );
        let members = store.scan_members(7).await.unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].code, "000660");
        assert_eq!(members[0].values[1], ("ma(60)".to_string(), 9_800.0));
        let all = store.scan_events(7, None, 10).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.kind).collect::<Vec<_>>(),
            [ScanEventKind::Enter, ScanEventKind::Enter, ScanEventKind::Leave]
        );
        let after = store.scan_events(7, Some(stored[1].id), 10).await.unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(store.scan_events_after(vec![7, 8], 0).await.unwrap().len(), 3);
        assert!(store.scan_events(8, None, 10).await.unwrap().is_empty());
        // The latest N, oldest first.
        let last_two = store.scan_events(7, None, 2).await.unwrap();
        assert_eq!(
            last_two.iter().map(|e| e.id).collect::<Vec<_>>(),
            [stored[1].id, stored[1].id + 1]
        );
        // The demo's day starts over: today's result set and events go.
        store
            .drop_scans_from(jiff::civil::date(2026, 12, 7))
            .await
            .unwrap();
        assert!(store.scan_members(7).await.unwrap().is_empty());
        assert!(store.scan_events(7, None, 10).await.unwrap().is_empty());
    }
}
