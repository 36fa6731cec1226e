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
