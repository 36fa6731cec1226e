//! WAL checkpoints on their own thread, off the writers' path.
//!
//! SQLite's default copies the WAL back into the database file from inside a commit once the WAL
//! passes 1,000 pages ("autocheckpoint"): every few hundred triggers, one insert paid several
//! milliseconds of copying and `fsync` for everybody, and the trigger behind it waited (the
//! `trigger_latency` example showed it as the p99). So the writer connection turns autocheckpoint
//! off and this thread, on a connection of its own, runs a `PASSIVE` checkpoint every
//! [`EVERY`]: passive never blocks or waits on the writer or the readers, and when the WAL holds
//! nothing new it returns at once. The WAL then stays bounded by about one interval of writes.
//!
//! Dropping the [`Checkpointer`] stops the thread and closes its connection; the last connection to
//! close checkpoints the rest and removes the WAL file.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is copied back into the database.
pub(super) const EVERY: Duration = Duration::from_millis(500);

pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA busy_timeout = 5000;")?;
        let (stop, stopped) = mpsc::channel::<()>();
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    // (busy, WAL frames, frames copied); a passive checkpoint that could not copy
                    // everything (a reader on an old snapshot) tries again next time.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(db = %shown, error = %e, "store: WAL checkpoint failed");
                    }
                }
            })
            .expect("spawning the checkpoint thread");
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use jiff::civil::date;
    use market::{Candle, StockCode};

    use super::super::Store;
    use super::super::bars::tests::bar;

    fn bars(n: i64) -> Vec<Candle> {
        let start = date(2026, 7, 23).at(9, 0, 0, 0);
        (0..n)
            .map(|m| bar(start.saturating_add(jiff::SignedDuration::from_mins(m)), 100))
            .collect()
    }

    /// Writes land in the WAL; only the checkpoint thread copies them into the database file (the
    /// writer's autocheckpoint is off), and the last connection closing leaves no WAL behind.
    #[tokio::test]
    async fn the_checkpoint_thread_copies_the_wal_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let db = store.path().to_path_buf();
        let wal = db.with_extension("sqlite3-wal");
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let before = size(&db);
        let code = StockCode::parse("005930").unwrap();
        store.put_minutes(code, bars(20_000)).await.unwrap();
        assert!(size(&wal) > 100_000, "the bars went to the WAL");
        let deadline = Instant::now() + 10 * super::EVERY;
        while size(&db) <= before && Instant::now() < deadline {
            tokio::time::sleep(super::EVERY / 10).await;
        }
        assert!(
            size(&db) > before + 100_000,
            "the checkpoint thread copied the WAL back"
        );
        drop(store);
        assert!(
            !wal.exists(),
            "closing the store checkpointed the rest and removed the WAL"
        );
        let store = Store::open(dir.path(), "t").unwrap();
        assert_eq!(store.minutes(code, None, 30_000).await.unwrap().len(), 20_000);
    }
}
