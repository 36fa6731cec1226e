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
//! * Opening checks the file first (`integrity.rs`): a damaged database is refused (a copy kept
//!   aside, the error says what to do), an emptied one is recognised as such ([`StoreOrigin::Emptied`])
//!   and never taken for a first run.
//! * Every write's outcome is tracked ([`Store::write_health`]): while writes fail (a full disk, an
//!   I/O error) the store says so, since when and why, and [`Store::recovered`] tells waiters the
//!   moment a write succeeds again (the trigger backlog, [`crate::triggers::backlog`], retries then).

mod bars;
mod channels;
mod checkpoint;
mod conditions;
mod integrity;
mod outbox;
mod scans;
mod triggers;
mod watchlist;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use tokio::sync::watch;

pub use crate::contract::{StoreFailure, StoreOrigin};

pub use bars::{DailyCoverage, MinuteDay};
pub use channels::{ChannelRow, NewChannel};
pub use conditions::{ConditionRow, DEFAULT_COOLDOWN_SECS, NewCondition};
pub use outbox::{Attempted, EventKind, OutboxRow, Routed, unix_ms};
pub use scans::{NewScanEvent, ScanMember};
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
    #[error("{}", damaged_message(.path, .detail, .backup))]
    Damaged {
        path: PathBuf,
        /// What `PRAGMA quick_check` (or SQLite opening it) said.
        detail: String,
        /// The copy kept aside, or why none could be made.
        backup: Result<PathBuf, String>,
    },
    #[error(
        "{path} is not a kiswatch database (it has tables but no kiswatch schema version); \
         kiswatch does not write into it. Move it away or point --data-dir elsewhere"
    )]
    Foreign { path: String },
}

impl StoreError {
    /// Whether this is SQLite failing to write (a full disk, an I/O error, a lock held too long),
    /// as opposed to a value the store refused.
    pub fn is_write_failure(&self) -> bool {
        match self {
            StoreError::Sql(e) => e
                .sqlite_error_code()
                .is_some_and(|c| c != ErrorCode::ConstraintViolation),
            StoreError::Worker => true,
            _ => false,
        }
    }
}

/// What the user reads when a damaged database is refused: which file, what is wrong, where the
/// copy is, and what to do.
fn damaged_message(path: &Path, detail: &str, backup: &Result<PathBuf, String>) -> String {
    let path = path.display();
    let kept = match backup {
        Ok(b) => format!(
            "A copy of it (with its -wal, if any) was kept as {}.",
            b.display()
        ),
        Err(e) => format!("No copy could be made ({e}); the file is left exactly as it was."),
    };
    let copy = match backup {
        Ok(b) => b.display().to_string(),
        Err(_) => path.to_string(),
    };
    format!(
        "the database {path} is damaged (integrity check: {detail}).\n\
         kiswatch does not run on a damaged database: writes to it fail or land on broken pages, and \
         triggers would be lost. {kept}\n\
         To go on: stop anything else using it, move {path} (and {path}-wal, if there) out of the way \
         or put a backup in its place, and start kiswatch again; without a file it starts with an \
         empty database.\n\
         To rescue what is still readable: sqlite3 {copy} .recover | sqlite3 recovered.sqlite3\n\
         데이터베이스 파일이 손상되어 시작하지 않습니다 (사본: {copy}). 파일을 옮기거나 백업으로 바꾼 뒤 \
         다시 시작하세요."
    )
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
    // 2: every kiswatch database says when it was made (an emptied one is recognised by its absence).
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));",
    // 3: alert channels (secrets sealed, see channels/seal.rs), a condition's routing, and the outbox of
    // deliveries: one row per (event kind, event id, channel), written with the event.
    "CREATE TABLE channels (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, name TEXT NOT NULL,
                            config TEXT NOT NULL, secrets TEXT NOT NULL, is_default INTEGER NOT NULL DEFAULT 0,
                            failing TEXT, failing_since TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
     ALTER TABLE conditions ADD COLUMN channels TEXT NOT NULL DEFAULT '[]';
     ALTER TABLE conditions ADD COLUMN quiet_hours TEXT;
     ALTER TABLE conditions ADD COLUMN expires_at TEXT;
     CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, event_kind TEXT NOT NULL, event_id INTEGER NOT NULL,
                          channel_id INTEGER NOT NULL, kind TEXT NOT NULL, delivery_id TEXT NOT NULL,
                          status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
                          first_at INTEGER NOT NULL, last_error TEXT, summarized INTEGER NOT NULL DEFAULT 0,
                          updated_at TEXT NOT NULL, UNIQUE (event_kind, event_id, channel_id));
     CREATE INDEX outbox_pending ON outbox (status, channel_id, id);",
    // 4: alerts worth reading: notification and sound chosen per condition; a cooldown of 30 market
    // minutes where none was chosen (0 was the old default, not a choice).
    "ALTER TABLE conditions ADD COLUMN notify INTEGER NOT NULL DEFAULT 1;
     ALTER TABLE conditions ADD COLUMN sound INTEGER NOT NULL DEFAULT 1;
     UPDATE conditions SET cooldown_secs = 1800 WHERE cooldown_secs = 0;",
    // 5: a condition's scope (the watchlist or the whole market) and, for the market, its filters (JSON).
    "ALTER TABLE conditions ADD COLUMN scope TEXT NOT NULL DEFAULT 'watchlist';
     ALTER TABLE conditions ADD COLUMN filters TEXT;",
    // 6: 조건검색's result sets (who matches a market-scope condition, since when, with what values) and
    // their 편입/이탈 events, kept across restarts.
    "CREATE TABLE scan_members (condition_id INTEGER NOT NULL, code TEXT NOT NULL, since TEXT NOT NULL,
                                vals TEXT NOT NULL, PRIMARY KEY (condition_id, code));
     CREATE TABLE scan_events (id INTEGER PRIMARY KEY AUTOINCREMENT, condition_id INTEGER NOT NULL,
                               code TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL,
                               price INTEGER NOT NULL, change_rate REAL NOT NULL, turnover INTEGER NOT NULL,
                               vals TEXT NOT NULL);
     CREATE INDEX scan_events_condition ON scan_events (condition_id, id);",
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
    opened: Opened,
    /// Whether the last write failed (the fast path of [`Inner::note`]).
    failing: AtomicBool,
    health: Mutex<WriteHealth>,
    /// Bumped each time a write succeeds after failures.
    recovered: watch::Sender<u64>,
    /// Tests: every write fails with SQLITE_FULL while set ([`Store::inject_full_disk`]).
    injected_full: AtomicBool,
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

/// How the database was found and checked when it was opened.
#[derive(Debug, Clone)]
pub struct Opened {
    pub origin: StoreOrigin,
    /// Set once a start found this database emptied (`<when> <how it was recognised>`), kept in
    /// `meta` for every later start.
    pub emptied: Option<String>,
    /// How long `PRAGMA quick_check` took.
    pub check: Duration,
}

/// Whether writes succeed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteHealth {
    /// Set while the most recent write failed.
    pub failing: Option<StoreFailure>,
    /// Writes that failed since the start.
    pub failures: u64,
}

impl Inner {
    /// Runs `f` with the one writer connection inside a transaction, on this thread, and notes
    /// whether the write went through.
    fn in_transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let out = self.transaction(f);
        self.note(&out);
        out
    }

    fn transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.injected_full.load(Ordering::Relaxed) {
            return Err(StoreError::Sql(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                Some("database or disk is full (injected by a test)".into()),
            )));
        }
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Keeps [`WriteHealth`] current: a failed write starts (or extends) a run of failures, the
    /// next successful one ends it.
    fn note<T>(&self, out: &Result<T, StoreError>) {
        match out {
            Ok(_) => {
                if !self.failing.load(Ordering::Relaxed) {
                    return;
                }
                let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
                self.failing.store(false, Ordering::Relaxed);
                if let Some(f) = h.failing.take() {
                    tracing::warn!(
                        db = %self.path.display(),
                        failed = f.count,
                        since = %f.since,
                        "store: writes succeed again"
                    );
                    self.recovered.send_modify(|n| *n += 1);
                }
            }
            Err(e) if e.is_write_failure() => {
                let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
                h.failures += 1;
                let error = e.to_string();
                match &mut h.failing {
                    Some(f) => {
                        f.count += 1;
                        f.error = error;
                    }
                    None => {
                        tracing::error!(db = %self.path.display(), %error, "store: a write failed");
                        h.failing = Some(StoreFailure {
                            error,
                            since: now_text(),
                            count: 1,
                        });
                    }
                }
                self.failing.store(true, Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }
}

impl Store {
    /// Opens the database of `namespace` under `dir`: creates it when there is no file (built
    /// under a temporary name and renamed into place), refuses a damaged one
    /// ([`StoreError::Damaged`], after keeping a copy), recognises an emptied one
    /// ([`StoreOrigin::Emptied`]) and migrates the schema. Blocking: `PRAGMA quick_check` reads the
    /// whole file.
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
        let found = integrity::inspect(&path);
        if found == integrity::Found::Absent {
            create(&path)?;
        }
        let damaged = |detail: String| StoreError::Damaged {
            path: path.clone(),
            detail,
            backup: integrity::keep_a_copy(&path),
        };
        let mut writer = Connection::open(&path).map_err(open_error)?;
        writer
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(open_error)?;
        let started = Instant::now();
        if let Err(detail) = integrity::quick_check(&writer) {
            drop(writer);
            return Err(damaged(detail));
        }
        let check = started.elapsed();
        tracing::info!(db = %shown, ms = check.as_millis() as u64, "store: integrity check passed");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA wal_autocheckpoint = 0;",
            )
            .map_err(|e| {
                if integrity::is_damage(&e) {
                    damaged(e.to_string())
                } else {
                    open_error(e)
                }
            })?;
        let version_before: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version_before == 0 && found == integrity::Found::Present && integrity::has_tables(&writer)? {
            return Err(StoreError::Foreign { path: shown });
        }
        migrate(&mut writer, &shown)?;
        let (origin, emptied_now) = integrity::origin(&writer, found, version_before)?;
        if let Some(reason) = &emptied_now {
            tracing::error!(
                db = %shown,
                "store: the database existed but was emptied ({reason}): whatever it held (watchlist, \
                 conditions, triggers, history) is gone, and it starts empty. If you have a backup, stop \
                 kiswatch and put it in place"
            );
            writer.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![integrity::EMPTIED, format!("{} {reason}", now_text())],
            )?;
            writer.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                params![integrity::CREATED_AT, now_text()],
            )?;
        }
        let emptied: Option<String> = writer
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [integrity::EMPTIED],
                |r| r.get(0),
            )
            .optional()?;
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
                opened: Opened {
                    origin,
                    emptied,
                    check,
                },
                failing: AtomicBool::new(false),
                health: Mutex::new(WriteHealth::default()),
                recovered: watch::channel(0).0,
                injected_full: AtomicBool::new(false),
                _checkpointer: checkpointer,
            }),
        })
    }

    /// How the database was found and checked when it was opened.
    pub fn opened(&self) -> &Opened {
        &self.inner.opened
    }

    /// Whether writes succeed, and since when they fail.
    pub fn write_health(&self) -> WriteHealth {
        if !self.inner.failing.load(Ordering::Relaxed) {
            // The failures count is read under the lock only when something failed.
            let h = self.inner.health.lock().unwrap_or_else(|p| p.into_inner());
            return WriteHealth {
                failing: None,
                failures: h.failures,
            };
        }
        self.inner
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Changes each time a write succeeds after failures.
    pub fn recovered(&self) -> watch::Receiver<u64> {
        self.inner.recovered.subscribe()
    }

    /// Tests: while `full`, every write fails as on a full disk (SQLITE_FULL, marked as injected),
    /// without touching the file.
    #[doc(hidden)]
    pub fn inject_full_disk(&self, full: bool) {
        self.inner.injected_full.store(full, Ordering::Relaxed);
    }

    /// Tests: `PRAGMA max_page_count` on the writer connection (SQLite then fails writes that need
    /// more pages with SQLITE_FULL, like a full disk); the limit in force.
    #[doc(hidden)]
    pub fn set_max_page_count(&self, pages: u64) -> Result<u64, StoreError> {
        let conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        Ok(
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get::<_, i64>(0)
            })? as u64,
        )
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

/// Builds a new database under a temporary name and renames it into place once its schema is
/// committed: kiswatch never leaves a zero-byte or half-made database at `path` (so one found there
/// was emptied by something else, see `integrity.rs`).
fn create(path: &Path) -> Result<(), StoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".creating");
    let tmp = PathBuf::from(tmp);
    let shown = tmp.display().to_string();
    let open_error = |source| StoreError::Open {
        path: shown.clone(),
        source,
    };
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(integrity::wal_path(&tmp));
    let mut conn = Connection::open(&tmp).map_err(open_error)?;
    migrate(&mut conn, &shown)?;
    conn.close().map_err(|(_, e)| open_error(e))?;
    std::fs::rename(&tmp, path).map_err(|source| StoreError::Dir {
        path: format!("{shown} renamed to {}", path.display()),
        source,
    })
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
/// Every row of `rows`, each read by `read`.
pub(crate) fn all_rows<T>(
    mut rows: rusqlite::Rows<'_>,
    read: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

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

    /// A failing write is noted with SQLite's words and when it began; the next successful write
    /// ends it and wakes whoever waits for the store to write again.
    #[tokio::test]
    async fn write_health_follows_failing_and_recovering_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let mut recovered = store.recovered();
        assert_eq!(store.write_health(), WriteHealth::default());
        store.inject_full_disk(true);
        for _ in 0..3 {
            let err = store.set_meta("k", "v".into()).await.unwrap_err();
            assert!(err.is_write_failure(), "{err}");
        }
        let h = store.write_health();
        let failing = h.failing.unwrap();
        assert_eq!((failing.count, h.failures), (3, 3));
        assert!(failing.error.contains("full"), "{}", failing.error);
        assert!(!recovered.has_changed().unwrap());
        store.inject_full_disk(false);
        store.set_meta("k", "v".into()).await.unwrap();
        assert_eq!(store.write_health().failing, None);
        assert_eq!(store.write_health().failures, 3);
        assert!(recovered.has_changed().unwrap());
        let _ = recovered.borrow_and_update();
        // Writes that go through while all is well wake nobody.
        store.set_meta("k", "w".into()).await.unwrap();
        assert!(!recovered.has_changed().unwrap());
    }
}
