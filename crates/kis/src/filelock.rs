//! Advisory file locks in the data dir, shared by the token store (one issuer at a time across
//! processes) and the file slot ledger (one ledger update at a time, and a presence lock per
//! process that the kernel releases when the process dies, however it dies).
//!
//! `flock(2)` through `std::fs::File::lock`: the lock belongs to the open file, is released when
//! the file is closed or the process exits (SIGKILL included), and is advisory — only kiswatch
//! processes honour it, which is all that is needed here.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) private to the user.
pub(crate) fn ensure_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Opens (creating, 0600, never truncating) the lock file at `path`, creating its directory.
pub(crate) fn open_lock_file(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        ensure_dir(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

/// Opens the lock file at `path` and takes its exclusive lock, blocking until it is free
/// (released when the returned file is dropped).
pub(crate) fn lock_blocking(path: &Path) -> io::Result<File> {
    let file = open_lock_file(path)?;
    file.lock()?;
    Ok(file)
}
