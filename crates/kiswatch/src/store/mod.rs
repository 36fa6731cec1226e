//! The local store: SQLite, one database file per upstream namespace
//! (`<data-dir>/db/<namespace>.sqlite3`), so that demo bars never mix with real ones.
//!
//! * WAL journal: readers never wait for the writer. One writer connection (behind a mutex, used
//!   from blocking threads) serialises every write; a few reader connections serve queries.
//! * WAL checkpoints run on a thread of their own (`checkpoint.rs`), never inside a write.
//! * Migrations are numbered SQL batches applied in order and recorded in `PRAGMA user_version`;
//!   a database from a newer kiswatch is refused rather than misread.
//! * What it keeps: the watchlist (ordered), conditions, triggers, 1-minute and daily bars, which past
//!   days' minutes and which daily ranges were fetched (backfill progress), stock names, and a few
//!   flags. One-minute and daily bars are the stored truth: nothing stored is fetched again.

mod bars;
mod checkpoint;
mod conditions;
mod triggers;
mod watchlist;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use bars::{DailyCoverage, MinuteDay};
pub use conditions::{ConditionRow, DEFAULT_COOLDOWN_SECS, NewCondition};
pub use triggers::TriggerQuery;
pub use watchlist::WatchItem;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("database {path} was written by a newer kiswatch (schema {found}, this one knows {known})")]
    TooNew { path: String, found: i64, known: i64 },
    #[error("creating the data directory {path}: {source}")]
    Dir { path: String, source: std::io::Error },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored value {what} is invalid: {value:?}")]
    Corrupt { what: &'static str, value: String },
    #[error("the database worker stopped")]
    Worker,
}

/// The schema, one batch per version.
const MIGRATIONS: &[&str] = &[
    // 1: everything of the first release.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE stocks (code TEXT PRIMARY KEY, name TEXT NOT NULL, market TEXT NOT NULL,
                          kind TEXT NOT NULL DEFAULT 'stock');
     CREATE TABLE watchlist (code TEXT PRIMARY KEY, position INTEGER NOT NULL, added_at TEXT NOT NULL);
     CREATE TABLE conditions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, expr TEXT NOT NULL,
                              enabled INTEGER NOT NULL, mode TEXT NOT NULL, cooldown_secs INTEGER NOT NULL,
                              webhook TEXT, created_at TEXT NOT NULL);
     CREATE TABLE triggers (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, name TEXT NOT NULL,
                            condition_id INTEGER NOT NULL, condition_name TEXT NOT NULL, period TEXT NOT NULL,
                            bar_time TEXT NOT NULL, time TEXT NOT NULL, price INTEGER NOT NULL,
                            vals TEXT NOT NULL, late INTEGER NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
                            message_ko TEXT NOT NULL, message_en TEXT NOT NULL, recorded_at TEXT NOT NULL);
     CREATE INDEX triggers_code ON triggers (code, id);
     CREATE UNIQUE INDEX triggers_once ON triggers (condition_id, code, period, bar_time);
     CREATE TABLE minute_bars (code TEXT NOT NULL, time TEXT NOT NULL, open INTEGER NOT NULL,
                               high INTEGER NOT NULL, low INTEGER NOT NULL, close INTEGER NOT NULL,
                               volume INTEGER NOT NULL, PRIMARY KEY (code, time)) WITHOUT ROWID;
     CREATE TABLE daily_bars (code TEXT NOT NULL, date TEXT NOT NULL, open INTEGER NOT NULL,
                              high INTEGER NOT NULL, low INTEGER NOT NULL, close INTEGER NOT NULL,
                              volume INTEGER NOT NULL, PRIMARY KEY (code, date)) WITHOUT ROWID;
     CREATE TABLE minute_days (code TEXT NOT NULL, date TEXT NOT NULL, bars INTEGER NOT NULL,
                               PRIMARY KEY (code, date)) WITHOUT ROWID;
     CREATE TABLE daily_coverage (code TEXT PRIMARY KEY, first TEXT NOT NULL, last TEXT NOT NULL,
                                  complete INTEGER NOT NULL);",
    // Alerts worth reading: notification and sound chosen per condition; a cooldown of 30 market
    // minutes where none was chosen (0 was the old default, not a choice).
    "ALTER TABLE conditions ADD COLUMN notify INTEGER NOT NULL DEFAULT 1;
     ALTER TABLE conditions ADD COLUMN sound INTEGER NOT NULL DEFAULT 1;
     UPDATE conditions SET cooldown_secs = 1800 WHERE cooldown_secs = 0;",
];

const READERS: usize = 4;

/// The store of one namespace. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Declared last: dropped after the writer and readers, so its connection is the last to close.
    _checkpointer: checkpoint::Checkpointer,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish()
    }
}

/// A file name made only of safe characters.
fn file_name(namespace: &str) -> String {
    let safe: String = namespace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.sqlite3")
}

impl Inner {
    /// Runs `f` with the one writer connection inside a transaction, on this thread.
    fn in_transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the database of `namespace` under `dir`.
    pub fn open(dir: &Path, namespace: &str) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(file_name(namespace));
        let shown = path.display().to_string();
        let open_error = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let mut writer = Connection::open(&path).map_err(open_error)?;
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;",
            )
            .map_err(open_error)?;
        migrate(&mut writer, &shown)?;
        let readers = (0..READERS)
            .map(|_| {
                let c = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(open_error)?;
                c.execute_batch("PRAGMA busy_timeout = 5000;")
                    .map_err(open_error)?;
                Ok(Mutex::new(c))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let checkpointer = checkpoint::Checkpointer::start(&path).map_err(open_error)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                _checkpointer: checkpointer,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with the one writer connection inside a transaction, on a blocking thread.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.in_transaction(f))
            .await
            .map_err(|_| StoreError::Worker)?
    }

    /// Like [`Store::write`], but on the calling thread where the runtime allows it
    /// (`block_in_place` on a multi-thread runtime; a current-thread runtime, as in unit tests,
    /// falls back to [`Store::write`]). For the trigger path: its insert takes tens of microseconds,
    /// and sending it to a blocking thread and waking the task again cost several times that.
    pub(crate) async fn write_here<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        use tokio::runtime::{Handle, RuntimeFlavor};
        if Handle::current().runtime_flavor() != RuntimeFlavor::MultiThread {
            return self.write(f).await;
        }
        tokio::task::block_in_place(|| self.inner.in_transaction(f))
    }

    /// Runs `f` with a reader connection, on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            // Take a free reader if there is one, else wait for the next in turn.
            for i in 0..inner.readers.len() {
                let slot = &inner.readers[(start + i) % inner.readers.len()];
                if let Ok(conn) = slot.try_lock() {
                    return f(&conn);
                }
            }
            let conn = inner.readers[start % inner.readers.len()]
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|_| StoreError::Worker)?
    }

    /// A value of the `meta` table.
    pub async fn meta(&self, key: &'static str) -> Result<Option<String>, StoreError> {
        self.read(move |c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    pub async fn set_meta(&self, key: &'static str, value: String) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }

    /// Remembers a stock's name and market.
    pub async fn put_stock(&self, code: String, name: String, market: String) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO stocks (code, name, market) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, market = excluded.market",
                params![code, name, market],
            )?;
            Ok(())
        })
        .await
    }

    /// Every remembered stock: `(code, name, market)`.
    pub async fn stocks(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare("SELECT code, name, market FROM stocks ORDER BY code")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Parses a stored civil date-time (`2026-11-27T09:00:00`).
pub(crate) fn parse_datetime(s: &str) -> Result<jiff::civil::DateTime, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt {
        what: "date-time",
        value: s.to_string(),
    })
}

pub(crate) fn parse_date(s: &str) -> Result<jiff::civil::Date, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt {
        what: "date",
        value: s.to_string(),
    })
}

/// Now, as stored (RFC 3339 in KST).
pub(crate) fn now_text() -> String {
    crate::clock::rfc3339(market::time::now_kst().datetime())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_become_safe_file_names() {
        assert_eq!(file_name("demo-42-2026-11-27"), "demo-42-2026-11-27.sqlite3");
        assert_eq!(file_name("custom-127_0_0_1/x"), "custom-127_0_0_1_x.sqlite3");
    }

    #[tokio::test]
    async fn reopening_keeps_the_schema_and_refuses_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        store.set_meta("k", "v".into()).await.unwrap();
        drop(store);
        let store = Store::open(dir.path(), "t").unwrap();
        assert_eq!(store.meta("k").await.unwrap().as_deref(), Some("v"));
        drop(store);
        let c = Connection::open(dir.path().join("t.sqlite3")).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        assert!(matches!(
            Store::open(dir.path(), "t"),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
