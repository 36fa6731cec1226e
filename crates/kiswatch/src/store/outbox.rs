//! The outbox: one row per delivery of an event to a channel, keyed by (event kind, event id,
//! channel), written in the same transaction as the event itself (see [`Store::add_trigger_routed`]),
//! so an event that is stored is an event whose deliveries are stored. The dispatcher
//! (`channels::outbox`) sends the pending ones and records each attempt here; a restart finds every
//! delivery still pending and sends it again with the same `delivery_id`.

use rusqlite::params;

use super::{Store, StoreError, all_rows, now_text};
use crate::contract::{ChannelKind, DeliveryEntry, DeliveryStatus, Fired, Trigger};

/// What kind of event a delivery carries (part of the outbox's key). Only triggers today; the
/// market scan's 편입/이탈 events join here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Trigger,
    /// A market scan's 편입/이탈 (`scan_events`).
    ScanEvent,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Trigger => "trigger",
            EventKind::ScanEvent => "scan_event",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        match s {
            "trigger" => Some(EventKind::Trigger),
            "scan_event" => Some(EventKind::ScanEvent),
            _ => None,
        }
    }
}

/// A delivery to write with its event: pending, or already settled (skipped for quiet hours,
/// failed because the channel is failing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub channel_id: u64,
    pub kind: ChannelKind,
    pub status: DeliveryStatus,
    pub last_error: Option<String>,
}

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: u64,
    pub event_kind: EventKind,
    pub event_id: u64,
    pub channel_id: u64,
    pub kind: ChannelKind,
    pub delivery_id: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// Unix milliseconds: not before.
    pub next_at: i64,
    /// Unix milliseconds: when it was written.
    pub first_at: i64,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, event_kind, event_id, channel_id, kind, delivery_id, status, attempts, next_at, first_at, last_error";

fn row(r: &rusqlite::Row<'_>) -> Result<OutboxRow, StoreError> {
    let ek: String = r.get(1)?;
    let kind: String = r.get(4)?;
    let status: String = r.get(6)?;
    Ok(OutboxRow {
        id: r.get::<_, i64>(0)? as u64,
        event_kind: EventKind::parse(&ek).ok_or(StoreError::Corrupt {
            what: "outbox event kind",
            value: ek,
        })?,
        event_id: r.get::<_, i64>(2)? as u64,
        channel_id: r.get::<_, i64>(3)? as u64,
        kind: ChannelKind::parse(&kind).ok_or(StoreError::Corrupt {
            what: "outbox channel kind",
            value: kind,
        })?,
        delivery_id: r.get(5)?,
        status: DeliveryStatus::parse(&status).ok_or(StoreError::Corrupt {
            what: "outbox status",
            value: status,
        })?,
        attempts: r.get::<_, i64>(7)?.max(0) as u32,
        next_at: r.get(8)?,
        first_at: r.get(9)?,
        last_error: r.get(10)?,
    })
}

/// Now, in Unix milliseconds.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh delivery id: 128 random bits in hex.
fn delivery_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// What an attempt did to the rows it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    pub status: DeliveryStatus,
    /// Unix milliseconds of the next attempt (pending only).
    pub next_at: i64,
    pub last_error: Option<String>,
    /// Carried in a summary message.
    pub summarized: bool,
}

/// Writes an event's deliveries (in the event's transaction) and returns them as rows.
pub(super) fn insert_routes(
    tx: &rusqlite::Transaction<'_>,
    event_kind: EventKind,
    event_id: u64,
    routes: Vec<Routed>,
    recorded_at: &str,
) -> Result<Vec<OutboxRow>, StoreError> {
    let now = unix_ms();
    let mut rows = Vec::with_capacity(routes.len());
    for r in routes {
        let did = delivery_id();
        tx.execute(
            "INSERT OR IGNORE INTO outbox (event_kind, event_id, channel_id, kind, delivery_id, status,
               next_at, first_at, last_error, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)",
            params![
                event_kind.as_str(),
                event_id as i64,
                r.channel_id as i64,
                r.kind.as_str(),
                did,
                r.status.as_str(),
                now,
                r.last_error,
                recorded_at
            ],
        )?;
        rows.push(OutboxRow {
            id: tx.last_insert_rowid() as u64,
            event_kind,
            event_id,
            channel_id: r.channel_id,
            kind: r.kind,
            delivery_id: did,
            status: r.status,
            attempts: 0,
            next_at: now,
            first_at: now,
            last_error: r.last_error,
        });
    }
    Ok(rows)
}

impl Store {
    /// Stores a trigger and its deliveries in one transaction; `None` if that condition already
    /// fired for that stock on that bar (nothing is written then).
    pub async fn add_trigger_routed(
        &self,
        t: Fired,
        routes: Vec<Routed>,
    ) -> Result<Option<(Trigger, Vec<OutboxRow>)>, StoreError> {
        let recorded_at = now_text();
        self.write_here(move |tx| {
            let Some(id) = super::triggers::insert_trigger(tx, &t, &recorded_at)? else {
                return Ok(None);
            };
            let rows = insert_routes(tx, EventKind::Trigger, id, routes, &recorded_at)?;
            Ok(Some((Trigger::stored(id, t, false, recorded_at), rows)))
        })
        .await
    }

    /// The channels with pending deliveries.
    pub async fn pending_channels(&self) -> Result<Vec<u64>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT DISTINCT channel_id FROM outbox WHERE status = 'pending' ORDER BY 1",
            )?;
            let ids = st
                .query_map([], |r| r.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ids.into_iter().map(|i| i as u64).collect())
        })
        .await
    }

    /// A channel's pending deliveries, oldest first (at most `limit`).
    pub async fn pending_deliveries(&self, channel: u64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND channel_id = ?1 ORDER BY id LIMIT ?2"
            ))?;
            all_rows(st.query(params![channel as i64, limit as i64])?, row)
        })
        .await
    }

    /// Records one attempt (or a settlement without one, `counted: false`) for `ids`.
    pub async fn record_attempt(&self, ids: Vec<u64>, counted: bool, a: Attempted) -> Result<(), StoreError> {
        let now = now_text();
        self.write(move |tx| {
            let mut st = tx.prepare_cached(
                "UPDATE outbox SET status = ?2, attempts = attempts + ?3, next_at = ?4,
                   last_error = coalesce(?5, last_error), summarized = max(summarized, ?6), updated_at = ?7
                 WHERE id = ?1 AND status = 'pending'",
            )?;
            for id in ids {
                st.execute(params![
                    id as i64,
                    a.status.as_str(),
                    counted as i64,
                    a.next_at,
                    a.last_error,
                    a.summarized,
                    now
                ])?;
            }
            Ok(())
        })
        .await
    }

    /// The delivery log of an event, by channel id.
    pub async fn deliveries(&self, kind: EventKind, event_id: u64) -> Result<Vec<DeliveryEntry>, StoreError> {
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT o.channel_id, o.kind, ch.name, o.status, o.attempts, o.last_error, o.delivery_id,
                        o.summarized, o.updated_at
                 FROM outbox o LEFT JOIN channels ch ON ch.id = o.channel_id
                 WHERE o.event_kind = ?1 AND o.event_id = ?2 ORDER BY o.channel_id",
            )?;
            let mut rows = st.query(params![kind.as_str(), event_id as i64])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let kind: String = r.get(1)?;
                let status: String = r.get(3)?;
                out.push(DeliveryEntry {
                    channel_id: r.get::<_, i64>(0)? as u64,
                    kind: ChannelKind::parse(&kind).ok_or(StoreError::Corrupt {
                        what: "outbox channel kind",
                        value: kind,
                    })?,
                    channel_name: r.get(2)?,
                    status: DeliveryStatus::parse(&status).ok_or(StoreError::Corrupt {
                        what: "outbox status",
                        value: status,
                    })?,
                    attempts: r.get::<_, i64>(4)?.max(0) as u32,
                    last_error: r.get(5)?,
                    delivery_id: r.get(6)?,
                    summarized: r.get(7)?,
                    updated_at: r.get(8)?,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Pending deliveries per channel.
    pub async fn pending_counts(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT channel_id, count(*) FROM outbox WHERE status = 'pending' GROUP BY channel_id",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}
