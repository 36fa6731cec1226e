//! What a database file must be before the service runs on it: not damaged, and not silently
//! emptied.
//!
//! * **Damaged.** `PRAGMA quick_check` runs on every open, before anything is written. A database
//!   that fails it (or is not a database at all) is refused: running on it would fail writes at
//!   random, and every trigger written to a damaged page is lost. Before refusing, the damaged file
//!   (and its `-wal`, which may hold the newest committed writes) is *copied* aside as
//!   `<name>.corrupt-<its modification time>` and the error names both files and what to do. A
//!   copy and not a move: the original stays where it was, so the next start refuses again instead
//!   of starting empty as if nothing had happened; and the copy is named after the damaged file's
//!   modification time, so a service manager restarting kiswatch in a loop makes one copy, not one
//!   per attempt. `quick_check` reads every page once (O(file size)); it skips only the index-order
//!   checks of the full `integrity_check`. On a 31 MB database (60 stocks × 20 sessions of minutes,
//!   370 daily bars each, 10,000 triggers; `examples/store_check.rs`) it took 0.18–0.24 s with the
//!   file in the page cache and 0.66–0.80 s with it evicted (dev build, 2 shared cores).
//! * **Emptied.** A new database is built under a temporary name and renamed into place once its
//!   schema is committed, so kiswatch itself never leaves a zero-byte database behind. A
//!   database file that exists with zero bytes (and no write-ahead log) therefore was emptied by
//!   something else (a truncation, a failed copy, a sync tool), and so was a kiswatch database whose
//!   `meta` table lost the `created_at` row every kiswatch database carries since schema 2. Such a
//!   database opens (empty), but as [`StoreOrigin::Emptied`]: the fact is logged as an error, recorded in
//!   `meta` (`emptied`) so later starts still know it, and the demo does not seed it again
//!   ([`crate::demo::seed`]). A file that does not exist is a first run ([`StoreOrigin::Created`]): deleting
//!   the file is how a user starts a namespace over. Rows deleted one by one through the API are the
//!   user's choice and not "emptied".

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OptionalExtension};

use crate::contract::StoreOrigin;

/// What was on disk before the database was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    Absent,
    /// A zero-byte file without a write-ahead log holding anything.
    ZeroBytes,
    Present,
}

/// The write-ahead log's path (`<file>-wal`).
pub(super) fn wal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

pub(super) fn inspect(path: &Path) -> Found {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Found::Absent,
        Ok(m) if m.len() == 0 => {
            // A WAL with frames holds the database's content (SQLite reads it back): not empty.
            let wal = std::fs::metadata(wal_path(path)).map(|m| m.len()).unwrap_or(0);
            if wal > 32 {
                Found::Present
            } else {
                Found::ZeroBytes
            }
        }
        // Unreadable metadata: let SQLite say what is wrong.
        _ => Found::Present,
    }
}

/// The result of `PRAGMA quick_check`: `Ok`, or the first problems it found on one line (it stops
/// counting at 100), or the error that stopped it when the file is not a database at all.
pub(super) fn quick_check(conn: &Connection) -> Result<(), String> {
    const SHOWN: usize = 3;
    let rows: Result<Vec<String>, rusqlite::Error> =
        conn.prepare("PRAGMA quick_check(100)").and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        });
    match rows {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => Ok(()),
        Ok(rows) => {
            let problems: Vec<&str> = rows
                .iter()
                .flat_map(|r| r.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("***"))
                .collect();
            let mut shown = problems
                .iter()
                .take(SHOWN)
                .copied()
                .collect::<Vec<_>>()
                .join("; ");
            if problems.len() > SHOWN {
                shown.push_str(&format!("; and {} more", problems.len() - SHOWN));
            }
            Err(shown)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Whether an error opening or reading the file means it is damaged (as opposed to, say, locked
/// or unreadable for permissions).
pub(super) fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

/// Copies the damaged database (and its WAL) aside; the copy's path, or why none could be made.
pub(super) fn keep_a_copy(path: &Path) -> Result<PathBuf, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let stamp = meta
        .modified()
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .unwrap_or_else(jiff::Timestamp::now)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".corrupt-{stamp}"));
    let backup = PathBuf::from(name);
    let same = std::fs::metadata(&backup).is_ok_and(|b| b.len() == meta.len());
    if !same {
        copy_atomically(path, &backup)?;
    }
    let wal = wal_path(path);
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        copy_atomically(&wal, &wal_path(&backup))?;
    }
    Ok(backup)
}

/// Copies through a temporary name, so a copy cut short (a full disk) never looks like a backup.
fn copy_atomically(from: &Path, to: &Path) -> Result<(), String> {
    let mut tmp = to.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let done = std::fs::copy(from, &tmp).and_then(|_| std::fs::rename(&tmp, to));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("copying {} to {}: {e}", from.display(), to.display()));
    }
    Ok(())
}

/// The `meta` row every kiswatch database carries since schema 2.
pub(super) const CREATED_AT: &str = "created_at";
/// The `meta` row recording that this database was found emptied: `<when> <reason>`.
pub(super) const EMPTIED: &str = "emptied";

/// How the database was found: created, existing, or emptied (with how that was recognised), for a
/// database that existed with schema `version_before` (read before this open migrated it).
pub(super) fn origin(
    conn: &Connection,
    found: Found,
    version_before: i64,
) -> rusqlite::Result<(StoreOrigin, Option<String>)> {
    let emptied = |reason: &str| (StoreOrigin::Emptied, Some(reason.to_string()));
    Ok(match found {
        Found::Absent => (StoreOrigin::Created, None),
        Found::ZeroBytes => emptied("the file was there with zero bytes"),
        Found::Present if version_before == 0 => emptied("the file was there but held no kiswatch schema"),
        Found::Present if version_before >= 2 => {
            let created: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [CREATED_AT], |r| {
                    r.get(0)
                })
                .optional()?;
            match created {
                Some(_) => (StoreOrigin::Existing, None),
                None => emptied(&format!("its meta table had lost the {CREATED_AT} row")),
            }
        }
        Found::Present => (StoreOrigin::Existing, None),
    })
}

/// Whether a database without kiswatch's schema version has tables of its own (someone else's
/// database: refused rather than written into).
pub(super) fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use std::io::{Seek as _, SeekFrom, Write as _};

    use jiff::civil::date;
    use market::{Candle, StockCode};

    use super::super::bars::tests::bar;
    use super::super::{Store, StoreError};
    use super::*;

    /// A database of some hundred kilobytes: a month of one stock's minutes.
    async fn a_real_database(dir: &Path) -> PathBuf {
        let store = Store::open(dir, "real").unwrap();
        let code = StockCode::parse("005930").unwrap();
        for day in 1..=20 {
            let bars: Vec<Candle> = (0..381)
                .map(|m| {
                    bar(
                        date(2026, 10, day).at(9, 0, 0, 0) + jiff::SignedDuration::from_mins(m),
                        70_000 + m,
                    )
                })
                .collect();
            store.put_minutes(code, bars).await.unwrap();
        }
        let path = store.path().to_path_buf();
        drop(store); // checkpoints the WAL into the file and removes it
        path
    }

    /// 64 KB of noise written over the middle of the file.
    fn damage(path: &Path) {
        let len = std::fs::metadata(path).unwrap().len();
        let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.seek(SeekFrom::Start(len / 2)).unwrap();
        let mut x: u32 = 0x9e37_79b9;
        let noise: Vec<u8> = (0..64 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        f.write_all(&noise).unwrap();
    }

    fn copies(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".corrupt-"))
            .collect()
    }

    #[tokio::test]
    async fn a_damaged_database_is_refused_with_a_copy_kept_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = a_real_database(dir.path()).await;
        assert!(std::fs::metadata(&path).unwrap().len() > 4 * 64 * 1024);
        damage(&path);
        let damaged = std::fs::read(&path).unwrap();
        let err = Store::open(dir.path(), "real").unwrap_err();
        let StoreError::Damaged {
            backup: Ok(backup), ..
        } = &err
        else {
            panic!("not refused as damaged: {err}");
        };
        let message = err.to_string();
        for what in [
            path.display().to_string(),
            backup.display().to_string(),
            "damaged".into(),
            "move".into(),
            ".recover".into(),
        ] {
            assert!(message.contains(&what), "{what:?} missing from: {message}");
        }
        assert_eq!(
            std::fs::read(backup).unwrap(),
            damaged,
            "the copy is the damaged file"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            damaged,
            "the file is left as it was"
        );
        // Refused again on the next start, without a second copy.
        assert!(matches!(
            Store::open(dir.path(), "real"),
            Err(StoreError::Damaged { .. })
        ));
        assert_eq!(copies(dir.path()), std::slice::from_ref(backup));
        // Moved away as the message says: the next start is a first run.
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        let store = Store::open(dir.path(), "real").unwrap();
        assert_eq!(store.opened().origin, StoreOrigin::Created);
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_refused_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.sqlite3"), vec![0x42; 8192]).unwrap();
        let err = Store::open(dir.path(), "t").unwrap_err();
        assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_missing_file_is_a_first_run_and_a_zero_byte_one_was_emptied_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "fresh").unwrap();
        assert_eq!(store.opened().origin, StoreOrigin::Created);
        assert_eq!(store.opened().emptied, None);
        drop(store);
        let store = Store::open(dir.path(), "fresh").unwrap();
        assert_eq!(store.opened().origin, StoreOrigin::Existing);
        drop(store);

        std::fs::write(dir.path().join("t.sqlite3"), b"").unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        assert!(
            store.opened().origin == StoreOrigin::Emptied
                && store
                    .opened()
                    .emptied
                    .as_deref()
                    .is_some_and(|e| e.contains("zero bytes")),
            "{:?}",
            store.opened()
        );
        let emptied = store.opened().emptied.clone().unwrap();
        assert!(emptied.contains("zero bytes"), "{emptied}");
        drop(store);
        // Later starts still know.
        let store = Store::open(dir.path(), "t").unwrap();
        assert_eq!(store.opened().origin, StoreOrigin::Existing);
        assert_eq!(store.opened().emptied.as_deref(), Some(emptied.as_str()));
        // No temporary file is left behind by a creation.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".creating")), "{names:?}");
    }

    #[tokio::test]
    async fn a_database_whose_meta_was_wiped_was_emptied() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), "t").unwrap());
        let c = Connection::open(dir.path().join("t.sqlite3")).unwrap();
        c.execute_batch("DELETE FROM meta;").unwrap();
        drop(c);
        let store = Store::open(dir.path(), "t").unwrap();
        assert!(
            store.opened().origin == StoreOrigin::Emptied
                && store
                    .opened()
                    .emptied
                    .as_deref()
                    .is_some_and(|e| e.contains(CREATED_AT)),
            "{:?}",
            store.opened()
        );
    }

    #[tokio::test]
    async fn someone_elses_database_is_not_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::open(dir.path().join("t.sqlite3")).unwrap();
        c.execute_batch("CREATE TABLE notes (x TEXT);").unwrap();
        drop(c);
        let err = Store::open(dir.path(), "t").unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
    }
}
