//! [`FileLedger`]: the slots of one app key shared by every kiswatch process on the machine
//! through a small file in the data dir.
//!
//! # Files
//!
//! Under `<data_dir>/governor/`, for `<env>-<fingerprint>` (the token cache's naming):
//! * `.ledger` — the leases and markers, rewritten in place under the lock (see `write`) and
//!   checksummed, so that a torn write, truncation, garbage or another program is detected;
//! * `.lock` — the advisory lock every update holds: read, decide, write, release (tens of µs);
//! * `.<owner>.alive` — one per process (per ledger instance), locked for its whole life. The
//!   kernel drops the lock when the process dies, SIGKILL included, so another process can tell a
//!   dead holder from a slow one with one non-blocking lock attempt.
//!
//! # What the ledger holds
//!
//! * Leases: owner, id, in flight or completed, deadline. A lease in flight has the deadline
//!   `claim + lease + hold` (`lease` bounds how long a request can take: the client's timeout plus
//!   slack); completion replaces it with `completion + hold`. Entries whose deadline has passed are
//!   pruned by whoever reads the ledger next.
//! * Waiting-interactive markers: per owner, how many interactive requests wait for a slot there,
//!   with an expiry (`MARKER_TTL`, 2 s) that a waiting process renews whenever it looks again
//!   (at most `hold` apart), so the marker of a process that died lapses on its own.
//!
//! * The key's adaptive rate ([`super::RateState`]: R, how and when it last changed, the grant
//!   sequence), so that an `EGW00201` seen by one process lowers R for all.
//!
//! A claim is granted while fewer than R leases are live; a background claim only while more
//! slots are free than interactive requests wait in other processes.
//!
//! # Format and versions
//!
//! The leases and markers are format 1 (`KISLDGR1`), unchanged: a header, the entries, the markers
//! and a truncated SHA-256. The rate follows it as an extension with its own magic (`KISRATE1`)
//! and checksum, in the bytes that format 1 already ignores after its checksummed length. So a
//! binary that predates the rate reads a newer ledger as valid (and drops the rate when it
//! rewrites it), and this one reads an older ledger as valid with no rate. A missing or damaged
//! extension under a valid ledger is not corruption of the slots: the process uses the rate it
//! last saw, or the profile's with a paced start if it has seen none.
//!
//! # A holder that dies
//!
//! A process blocked on a full ledger checks the presence lock of each other owner with a lease in
//! flight. A dead owner's in-flight leases get the deadline `now + hold`: its request may still
//! have reached KIS up to the moment it died, which was before now, so one window after now is
//! enough, and the others go on about a second after they noticed. Without that check (a presence
//! file removed by hand) the lease's own deadline, `lease + hold` after the claim, still bounds it.
//!
//! # The clock
//!
//! Deadlines are nanoseconds of `CLOCK_MONOTONIC`, read with `clock_gettime` (rustix). On Linux it
//! is one clock for the whole machine — every process reads the same value at the same moment —
//! and, unlike the wall clock (`SystemTime`), it never jumps when NTP or a person sets the time, so
//! a deadline written by one process means the same instant to all of them. (`Instant` is that
//! clock too, but cannot be written to a file.) It stops during suspend, which only makes deadlines
//! later than needed: KIS's window moved on meanwhile. It restarts at boot, so the ledger records
//! the boot id (`/proc/sys/kernel/random/boot_id`) and a ledger from an earlier boot is empty: its
//! requests were all more than a window ago.
//!
//! # Corruption
//!
//! A write is one `pwrite` of a few hundred bytes, so a torn ledger means the machine or something
//! outside kiswatch broke it. It is then
//! unknown which requests are in flight, so the reset is conservative: all N slots are taken until
//! `lease + hold` from the moment it was noticed (the longest any unseen request can still be in
//! flight, plus its window), logged, and the file is rewritten valid. Nothing panics on any input.
//!
//! # Cost
//!
//! Each claim and each completion is one locked read-modify-write of a file of a few hundred bytes
//! in the page cache; the bench (`cargo bench -p kis --bench governor`) measures it beside the
//! in-process ledger. It runs on the caller's thread: the critical section is microseconds, shorter
//! than a hop to a blocking thread.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{AdaptRules, Claim, Lease, RateChange, RateState, Rejection, SlotLedger};
use crate::filelock;
use crate::priority::Priority;

/// How long a waiting-interactive marker lives without renewal.
const MARKER_TTL: Duration = Duration::from_secs(2);
/// How soon a process that holds back background work for another process's interactive
/// request looks again (that request should have taken the slot by then).
const DEFER_RECHECK: Duration = Duration::from_millis(20);
const MAGIC: &[u8; 8] = b"KISLDGR1";
/// More entries than any sane N: a count above it is corruption.
const MAX_ENTRIES: usize = 1 << 16;
const CHECKSUM_LEN: usize = 8;
/// Magic, boot id, two counts.
const HEADER_LEN: usize = 8 + 8 + 4 + 4;
/// The rate extension: its magic, then the fields of [`RateState`], then a checksum.
const RATE_MAGIC: &[u8; 8] = b"KISRATE1";
const RATE_LEN: usize = 8 + 4 + 1 + 3 * 8;

/// The ledger could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("slot ledger {path}: {source}")]
pub struct LedgerError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// What the ledger file holds, as [`FileLedger::inspect`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerState {
    /// No file yet.
    Missing,
    /// A valid ledger of this boot: its entries (expired ones included until the next update).
    Valid {
        leases: usize,
        in_flight: usize,
        markers: usize,
    },
    /// A valid ledger of an earlier boot (void).
    EarlierBoot,
    /// Not a valid ledger, and why.
    Corrupt(&'static str),
}

/// Nanoseconds of `CLOCK_MONOTONIC`: one clock for every process on the machine.
pub fn monotonic_now() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u64::try_from(t.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(t.tv_nsec).unwrap_or(0))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A hash of this boot's id, so deadlines of an earlier boot (another clock origin) are dropped.
fn boot_id() -> u64 {
    let id = fs::read("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let digest = Sha256::digest(&id);
    u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    owner: u64,
    lease: u64,
    in_flight: bool,
    /// Monotonic ns at which the slot comes free.
    deadline: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    owner: u64,
    waiting: u32,
    expires: u64,
}

/// The ledger's contents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Book {
    entries: Vec<Entry>,
    markers: Vec<Marker>,
    /// The key's rate (`None`: not in the file).
    rate: Option<RateState>,
}

/// Why bytes are not a ledger.
#[derive(Debug, PartialEq, Eq)]
struct Corrupt(&'static str);

impl Book {
    fn prune(&mut self, now: u64) {
        self.entries.retain(|e| e.deadline > now);
        self.markers.retain(|m| m.expires > now);
    }

    fn encode(&self, boot: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.entries.len() * 25 + self.markers.len() * 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&boot.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.markers.len() as u32).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.owner.to_le_bytes());
            out.extend_from_slice(&e.lease.to_le_bytes());
            out.push(u8::from(e.in_flight));
            out.extend_from_slice(&e.deadline.to_le_bytes());
        }
        for m in &self.markers {
            out.extend_from_slice(&m.owner.to_le_bytes());
            out.extend_from_slice(&m.waiting.to_le_bytes());
            out.extend_from_slice(&m.expires.to_le_bytes());
        }
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum[..CHECKSUM_LEN]);
        if let Some(rate) = &self.rate {
            let start = out.len();
            out.extend_from_slice(RATE_MAGIC);
            out.extend_from_slice(&rate.rate.to_le_bytes());
            out.push(rate.how as u8);
            for v in [rate.changed_at, rate.decreased_seq, rate.seq] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            let sum = Sha256::digest(&out[start..]);
            out.extend_from_slice(&sum[..CHECKSUM_LEN]);
        }
        out
    }

    /// The rate extension at the start of `bytes`, if there is a valid one.
    fn decode_rate(bytes: &[u8]) -> Option<RateState> {
        let ext = bytes.get(..RATE_LEN)?;
        let sum = bytes.get(RATE_LEN..RATE_LEN + CHECKSUM_LEN)?;
        if Sha256::digest(ext)[..CHECKSUM_LEN] != *sum {
            return None;
        }
        let mut r = Reader(ext);
        if r.take(8).ok()? != RATE_MAGIC {
            return None;
        }
        let rate = r.u32().ok()?;
        let how = RateChange::from_u8(r.take(1).ok()?[0])?;
        Some(RateState {
            rate: rate.max(1),
            how,
            changed_at: r.u64().ok()?,
            decreased_seq: r.u64().ok()?,
            seq: r.u64().ok()?,
        })
    }

    /// `Ok(None)`: a valid ledger of an earlier boot. Bytes after the checksummed length are
    /// ignored: they are the tail of a longer earlier version (see [`FileLedger::write`]).
    fn decode(bytes: &[u8], boot: u64) -> Result<Option<Book>, Corrupt> {
        let mut r = Reader(bytes);
        if r.take(8)? != MAGIC {
            return Err(Corrupt("not a slot ledger"));
        }
        let written_boot = r.u64()?;
        let (n_entries, n_markers) = (r.u32()? as usize, r.u32()? as usize);
        if n_entries > MAX_ENTRIES || n_markers > MAX_ENTRIES {
            return Err(Corrupt("impossible counts"));
        }
        let body_len = HEADER_LEN + n_entries * 25 + n_markers * 20;
        if bytes.len() < body_len + CHECKSUM_LEN {
            return Err(Corrupt("truncated"));
        }
        let (body, sum) = (&bytes[..body_len], &bytes[body_len..body_len + CHECKSUM_LEN]);
        if Sha256::digest(body)[..CHECKSUM_LEN] != *sum {
            return Err(Corrupt("checksum mismatch"));
        }
        if written_boot != boot {
            return Ok(None);
        }
        let mut r = Reader(&body[HEADER_LEN..]);
        let mut book = Book::default();
        for _ in 0..n_entries {
            let (owner, lease) = (r.u64()?, r.u64()?);
            let in_flight = match r.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return Err(Corrupt("bad lease state")),
            };
            book.entries.push(Entry {
                owner,
                lease,
                in_flight,
                deadline: r.u64()?,
            });
        }
        for _ in 0..n_markers {
            book.markers.push(Marker {
                owner: r.u64()?,
                waiting: r.u32()?,
                expires: r.u64()?,
            });
        }
        book.rate = Book::decode_rate(&bytes[body_len + CHECKSUM_LEN..]);
        Ok(Some(book))
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        if self.0.len() < n {
            return Err(Corrupt("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, Corrupt> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| Corrupt("truncated"))?,
        ))
    }

    fn u32(&mut self) -> Result<u32, Corrupt> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| Corrupt("truncated"))?,
        ))
    }
}

/// What this process knows between updates.
struct Local {
    /// The lock file (flock per update); behind the mutex because the lock belongs to the open
    /// file, which every thread of the process shares.
    lock: File,
    /// Owners found dead (their presence lock was free).
    dead: HashSet<u64>,
    /// An I/O failure was logged (log once per run of failures).
    failing: bool,
    /// The rate as this process last read or wrote it: used when the file has none.
    last_rate: Option<RateState>,
}

/// Slots shared through a file in the data dir (see the module doc).
pub struct FileLedger {
    dir: PathBuf,
    name: String,
    data_path: PathBuf,
    owner: u64,
    slots: u32,
    rules: AdaptRules,
    /// R at the last look (metrics).
    effective: AtomicU32,
    hold: Duration,
    lease: Duration,
    boot: u64,
    next_lease: AtomicU64,
    others: AtomicU32,
    local: Mutex<Local>,
    /// Our presence lock, held for our whole life.
    _alive: File,
}

impl std::fmt::Debug for FileLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLedger")
            .field("path", &self.data_path)
            .field("slots", &self.slots)
            .finish()
    }
}

impl FileLedger {
    /// Opens (creating) the ledger `<dir>/<name>.ledger` for `slots` slots held `hold` after
    /// completion; `lease` bounds how long one request can be in flight. The rate adapts with a
    /// probe every 10 minutes and no start pacing ([`FileLedger::open_with_rules`] chooses).
    pub fn open(
        dir: &Path,
        name: &str,
        slots: u32,
        hold: Duration,
        lease: Duration,
    ) -> Result<FileLedger, LedgerError> {
        FileLedger::open_with_rules(dir, name, AdaptRules::new(slots), hold, lease)
    }

    /// [`FileLedger::open`] with the rate's rules (`rules.profile` is N).
    pub fn open_with_rules(
        dir: &Path,
        name: &str,
        rules: AdaptRules,
        hold: Duration,
        lease: Duration,
    ) -> Result<FileLedger, LedgerError> {
        let slots = rules.profile.max(1);
        let rules = AdaptRules {
            profile: slots,
            ..rules
        };
        let error = |path: &Path| {
            let path = path.display().to_string();
            move |source| LedgerError { path, source }
        };
        let lock_path = dir.join(format!("{name}.lock"));
        let lock = filelock::open_lock_file(&lock_path).map_err(error(&lock_path))?;
        let (owner, alive) = loop {
            let owner: u64 = rand::random::<u64>() | 1; // 0 marks the phantoms of a reset
            let path = alive_path(dir, name, owner);
            let file = filelock::open_lock_file(&path).map_err(error(&path))?;
            match file.try_lock() {
                Ok(()) => break (owner, file),
                Err(TryLockError::WouldBlock) => continue, // that id is someone's: draw again
                Err(TryLockError::Error(e)) => return Err(error(&path)(e)),
            }
        };
        let ledger = FileLedger {
            dir: dir.to_owned(),
            name: name.to_owned(),
            data_path: dir.join(format!("{name}.ledger")),
            owner,
            slots,
            rules,
            effective: AtomicU32::new(slots),
            hold,
            lease,
            boot: boot_id(),
            next_lease: AtomicU64::new(1),
            others: AtomicU32::new(0),
            local: Mutex::new(Local {
                lock,
                dead: HashSet::new(),
                failing: false,
                last_rate: None,
            }),
            _alive: alive,
        };
        ledger.remove_dead_presence_files();
        // Fail now, not at the first request, if the ledger cannot be read and written.
        ledger
            .update(monotonic_now(), |_, _| ((), true))
            .map_err(error(&ledger.data_path))?;
        Ok(ledger)
    }

    /// Removes the presence files that processes killed earlier left behind (their lock is free).
    fn remove_dead_presence_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let prefix = format!("{}.", self.name);
        let ours = alive_path(&self.dir, &self.name, self.owner);
        for entry in entries.flatten() {
            let path = entry.path();
            let is_presence = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".alive"));
            if is_presence && path != ours && File::open(&path).is_ok_and(|f| f.try_lock().is_ok()) {
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.data_path
    }

    /// Reads the file as it is now (under the lock, without changing it): for tests and
    /// diagnostics.
    pub fn inspect(&self) -> io::Result<LedgerState> {
        let local = self.local();
        local.lock.lock()?;
        let bytes = fs::read(&self.data_path);
        let _ = local.lock.unlock();
        let bytes = match bytes {
            Ok(bytes) if bytes.is_empty() => return Ok(LedgerState::Missing),
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LedgerState::Missing),
            Err(e) => return Err(e),
        };
        Ok(match Book::decode(&bytes, self.boot) {
            Ok(Some(book)) => LedgerState::Valid {
                leases: book.entries.len(),
                in_flight: book.entries.iter().filter(|e| e.in_flight).count(),
                markers: book.markers.len(),
            },
            Ok(None) => LedgerState::EarlierBoot,
            Err(Corrupt(why)) => LedgerState::Corrupt(why),
        })
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One locked read-modify-write. `change` returns its result and whether to write.
    fn update<R>(&self, now: u64, change: impl FnOnce(&mut Book, &mut Local) -> (R, bool)) -> io::Result<R> {
        let mut local = self.local();
        local.lock.lock()?;
        let result = (|| {
            // Opened by path each time, so that every process uses the file that is there now.
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&self.data_path)?;
            let mut bytes = Vec::with_capacity(1024);
            file.read_to_end(&mut bytes)?;
            let (mut book, reset) = self.parse(&bytes, now);
            book.prune(now);
            if book.rate.is_none() {
                // An older writer's ledger, a new one, or a damaged extension: the rate we knew.
                book.rate = Some(
                    local
                        .last_rate
                        .unwrap_or_else(|| RateState::fresh(&self.rules, now)),
                );
            }
            let (result, changed) = change(&mut book, &mut local);
            if let Some(rate) = book.rate {
                local.last_rate = Some(rate);
                self.effective
                    .store(rate.effective(&self.rules), Ordering::Relaxed);
            }
            if changed || reset {
                write(&file, &book.encode(self.boot), bytes.len())?;
            }
            Ok(result)
        })();
        let _ = local.lock.unlock();
        match &result {
            Ok(_) if local.failing => {
                local.failing = false;
                tracing::info!(path = %self.data_path.display(), "slot ledger usable again");
            }
            Err(e) if !local.failing => {
                local.failing = true;
                tracing::warn!(path = %self.data_path.display(), error = %e,
                    "slot ledger unusable; no request is sent until it works again");
            }
            _ => {}
        }
        drop(local);
        result
    }

    /// The book in `bytes`, and whether it was reset (and must be written back). An empty file
    /// is a new ledger.
    fn parse(&self, bytes: &[u8], now: u64) -> (Book, bool) {
        if bytes.is_empty() {
            return (Book::default(), false);
        }
        match Book::decode(bytes, self.boot) {
            Ok(Some(book)) => (book, false),
            Ok(None) => (Book::default(), true),
            Err(Corrupt(why)) => {
                tracing::warn!(path = %self.data_path.display(), why,
                    "slot ledger corrupt; every slot counts as taken for one lease and window");
                (self.phantoms(now), true)
            }
        }
    }

    /// N slots taken until `lease + hold` from now, owned by nobody.
    fn phantoms(&self, now: u64) -> Book {
        let deadline = now.saturating_add(nanos(self.lease + self.hold));
        Book {
            entries: (0..self.slots)
                .map(|i| Entry {
                    owner: 0,
                    lease: u64::from(i),
                    in_flight: false,
                    deadline,
                })
                .collect(),
            markers: Vec::new(),
            rate: None,
        }
    }

    /// Whether `owner`'s presence lock is free, i.e. it died (or was never there).
    fn is_dead(&self, owner: u64, local: &mut Local) -> bool {
        if owner == 0 || local.dead.contains(&owner) {
            return owner != 0;
        }
        let path = alive_path(&self.dir, &self.name, owner);
        let dead = match File::open(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(_) => false,
            Ok(file) => match file.try_lock() {
                Ok(()) => {
                    let _ = fs::remove_file(&path);
                    true
                }
                Err(_) => false,
            },
        };
        if dead {
            tracing::info!(
                owner = format_args!("{owner:016x}"),
                "a process sharing the slots died; its slots come free after one window"
            );
            local.dead.insert(owner);
        }
        dead
    }

    fn claim_at(&self, now: u64, priority: Priority, waiting_interactive: u32) -> io::Result<Claim> {
        let hold = nanos(self.hold);
        self.update(now, |book, local| {
            let before = book.clone();
            if let Some(rate) = &mut book.rate {
                rate.probe(&self.rules, now);
            }
            let mut decision = self.decide(book, now, priority);
            if let Claim::Busy { .. } = decision {
                // Full: are some of the holders gone? Their requests ended when they died.
                let mut any_dead = false;
                let owners: HashSet<u64> = book
                    .entries
                    .iter()
                    .filter(|e| e.in_flight)
                    .map(|e| e.owner)
                    .chain(book.markers.iter().map(|m| m.owner))
                    .filter(|&o| o != self.owner)
                    .collect();
                for owner in owners {
                    if self.is_dead(owner, local) {
                        any_dead = true;
                        for e in book
                            .entries
                            .iter_mut()
                            .filter(|e| e.owner == owner && e.in_flight)
                        {
                            e.in_flight = false;
                            e.deadline = e.deadline.min(now.saturating_add(hold));
                        }
                        book.markers.retain(|m| m.owner != owner);
                    }
                }
                if any_dead {
                    decision = self.decide(book, now, priority);
                }
            }
            let granted_interactive =
                matches!(decision, Claim::Granted(_)) && priority == Priority::Interactive;
            let waiting = waiting_interactive.saturating_sub(u32::from(granted_interactive));
            self.mark(book, now, waiting);
            let owners: HashSet<u64> = book
                .entries
                .iter()
                .map(|e| e.owner)
                .chain(book.markers.iter().map(|m| m.owner))
                .filter(|&o| o != self.owner && o != 0)
                .collect();
            self.others.store(owners.len() as u32, Ordering::Relaxed);
            let changed = *book != before;
            (decision, changed)
        })
    }

    /// Grants (adding the lease) or says when to look again.
    fn decide(&self, book: &mut Book, now: u64, priority: Priority) -> Claim {
        let mut rate = book.rate.unwrap_or_else(|| RateState::fresh(&self.rules, now));
        let free = rate
            .effective(&self.rules)
            .saturating_sub(u32::try_from(book.entries.len()).unwrap_or(u32::MAX));
        let foreign_waiting: u32 = book
            .markers
            .iter()
            .filter(|m| m.owner != self.owner)
            .map(|m| m.waiting)
            .fold(0, u32::saturating_add);
        let needed = match priority {
            Priority::Interactive => 1,
            Priority::Background => foreign_waiting.saturating_add(1),
        };
        if free >= needed {
            let lease = self.next_lease.fetch_add(1, Ordering::Relaxed);
            book.entries.push(Entry {
                owner: self.owner,
                lease,
                in_flight: true,
                deadline: now.saturating_add(nanos(self.lease + self.hold)),
            });
            let seq = rate.granted();
            book.rate = Some(rate);
            return Claim::Granted(Lease {
                id: lease,
                seq,
                occupancy: u32::try_from(book.entries.len()).unwrap_or(u32::MAX),
            });
        }
        // The earliest a slot can come free: a completed lease's deadline, and no later than one
        // hold from now (a lease in flight frees `hold` after a completion still to come).
        let mut next = book
            .entries
            .iter()
            .map(|e| e.deadline)
            .min()
            .unwrap_or(now)
            .min(now.saturating_add(nanos(self.hold)));
        if free > 0 {
            // Holding back for another process's interactive request: it should take the slot
            // within moments; look again soon, and when its marker would lapse.
            let lapse = book
                .markers
                .iter()
                .filter(|m| m.owner != self.owner)
                .map(|m| m.expires)
                .min()
                .unwrap_or(u64::MAX);
            next = next.min(now.saturating_add(nanos(DEFER_RECHECK))).min(lapse);
        }
        Claim::Busy {
            retry_in: Some(Duration::from_nanos(next.saturating_sub(now).max(1_000_000))),
        }
    }

    /// Publishes this process's waiting-interactive count (renewing it before it lapses).
    fn mark(&self, book: &mut Book, now: u64, waiting: u32) {
        let ttl = nanos(MARKER_TTL);
        let pos = book.markers.iter().position(|m| m.owner == self.owner);
        match (pos, waiting) {
            (None, 0) => {}
            (Some(i), 0) => {
                book.markers.swap_remove(i);
            }
            (Some(i), w) if book.markers[i].waiting == w && book.markers[i].expires > now + ttl / 2 => {}
            (pos, waiting) => {
                let marker = Marker {
                    owner: self.owner,
                    waiting,
                    expires: now.saturating_add(ttl),
                };
                match pos {
                    Some(i) => book.markers[i] = marker,
                    None => book.markers.push(marker),
                }
            }
        }
    }

    fn complete_at(&self, now: u64, lease: Lease, hold: Duration) -> io::Result<()> {
        let deadline = now.saturating_add(nanos(hold));
        self.update(now, |book, _| {
            match book
                .entries
                .iter_mut()
                .find(|e| e.owner == self.owner && e.lease == lease.id)
            {
                Some(e) => {
                    e.in_flight = false;
                    e.deadline = deadline;
                }
                // Pruned (a reset, or a request that outlived its lease): the window still counts.
                None => book.entries.push(Entry {
                    owner: self.owner,
                    lease: lease.id,
                    in_flight: false,
                    deadline,
                }),
            }
            ((), true)
        })
    }

    fn rate_limited_at(&self, now: u64, lease: Lease, floor: u32) -> io::Result<()> {
        self.update(now, |book, _| {
            let rejection = Rejection {
                seq: lease.seq,
                occupancy: lease.occupancy,
                floor,
            };
            let changed = book
                .rate
                .as_mut()
                .is_some_and(|rate| rate.rejected(&self.rules, rejection, now));
            ((), changed)
        })
    }

    fn cancel_at(&self, now: u64, lease: Lease) -> io::Result<()> {
        self.update(now, |book, _| {
            let before = book.entries.len();
            book.entries
                .retain(|e| !(e.owner == self.owner && e.lease == lease.id));
            ((), book.entries.len() != before)
        })
    }
}

/// Writes `bytes` over the start of the ledger file (`old_len` long), in place: one `pwrite` of a
/// few hundred bytes into the page cache, then the stale tail cut off. (A temporary file and a
/// rename would cost milliseconds here: ext4 flushes a file renamed over another.) A process killed
/// between the two leaves a tail that [`Book::decode`] ignores; a write torn some other way fails
/// the checksum and is reset conservatively. No fsync: after a crash of the machine the boot id
/// changes and the ledger is void anyway.
fn write(file: &File, bytes: &[u8], old_len: usize) -> io::Result<()> {
    file.write_all_at(bytes, 0)?;
    if bytes.len() < old_len {
        file.set_len(bytes.len() as u64)?;
    }
    Ok(())
}

fn alive_path(dir: &Path, name: &str, owner: u64) -> PathBuf {
    dir.join(format!("{name}.{owner:016x}.alive"))
}

impl SlotLedger for FileLedger {
    fn claim(&self, priority: Priority, waiting_interactive: u32) -> Claim {
        match self.claim_at(monotonic_now(), priority, waiting_interactive) {
            Ok(claim) => claim,
            // Unreadable or unwritable: sending anyway could break the promise; wait and retry.
            Err(_) => Claim::Busy {
                retry_in: Some(self.hold),
            },
        }
    }

    fn complete(&self, lease: Lease, hold: Duration) {
        // On failure the lease's own deadline (lease + hold after the claim) still bounds it.
        let _ = self.complete_at(monotonic_now(), lease, hold);
    }

    fn cooled(&self, _lease: Lease) {}

    fn waiting(&self, waiting_interactive: u32) {
        let now = monotonic_now();
        let _ = self.update(now, |book, _| {
            let before = book.markers.clone();
            self.mark(book, now, waiting_interactive);
            ((), book.markers != before)
        });
    }

    fn cancel(&self, lease: Lease) {
        let _ = self.cancel_at(monotonic_now(), lease);
    }

    fn rate_limited(&self, lease: Lease, floor: u32) {
        // Unwritable: this process still learnt it (`last_rate`) and uses it.
        if self.rate_limited_at(monotonic_now(), lease, floor).is_err() {
            let mut local = self.local();
            let rejection = Rejection {
                seq: lease.seq,
                occupancy: lease.occupancy,
                floor,
            };
            let mut rate = local
                .last_rate
                .unwrap_or_else(|| RateState::fresh(&self.rules, monotonic_now()));
            rate.rejected(&self.rules, rejection, monotonic_now());
            local.last_rate = Some(rate);
            self.effective
                .store(rate.effective(&self.rules), Ordering::Relaxed);
        }
    }

    fn effective_rate(&self) -> u32 {
        self.effective.load(Ordering::Relaxed)
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn other_processes(&self) -> u32 {
        self.others.load(Ordering::Relaxed)
    }
}

impl Drop for FileLedger {
    fn drop(&mut self) {
        // Leaving: our marker goes; leases in flight (none, normally: permits keep us alive)
        // count as completed now.
        let now = monotonic_now();
        let hold = nanos(self.hold);
        let _ = self.update(now, |book, _| {
            book.markers.retain(|m| m.owner != self.owner);
            for e in book
                .entries
                .iter_mut()
                .filter(|e| e.owner == self.owner && e.in_flight)
            {
                e.in_flight = false;
                e.deadline = e.deadline.min(now.saturating_add(hold));
            }
            ((), true)
        });
        let _ = fs::remove_file(alive_path(&self.dir, &self.name, self.owner));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;
    const HOLD: Duration = Duration::from_millis(1025);
    const LEASE: Duration = Duration::from_secs(10);

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kis-ledger-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn open(dir: &Path, slots: u32) -> FileLedger {
        FileLedger::open(dir, "real-0123456789abcdef", slots, HOLD, LEASE).unwrap()
    }

    fn granted(c: Claim) -> Lease {
        match c {
            Claim::Granted(l) => l,
            busy => panic!("expected a grant, got {busy:?}"),
        }
    }

    fn retry(c: Claim) -> Duration {
        match c {
            Claim::Busy { retry_in: Some(d) } => d,
            other => panic!("expected busy with a retry, got {other:?}"),
        }
    }

    #[test]
    fn two_ledgers_on_one_file_share_n_slots_and_a_window() {
        let dir = temp_dir("share");
        let (a, b) = (open(&dir, 3), open(&dir, 3));
        let t = monotonic_now();
        let l1 = granted(a.claim_at(t, Priority::Background, 0).unwrap());
        granted(b.claim_at(t, Priority::Background, 0).unwrap());
        granted(a.claim_at(t, Priority::Background, 0).unwrap());
        // Full: all three in flight, so nothing can free sooner than one hold from now.
        assert_eq!(retry(b.claim_at(t, Priority::Interactive, 1).unwrap()), HOLD);
        assert_eq!(b.other_processes(), 1);
        a.complete_at(t + 100 * MS, l1, HOLD).unwrap();
        let wait = retry(b.claim_at(t + 200 * MS, Priority::Interactive, 1).unwrap());
        assert_eq!(
            wait,
            Duration::from_nanos(100 * MS + nanos(HOLD) - 200 * MS),
            "the completed lease's deadline"
        );
        assert!(matches!(
            b.claim_at(t + 100 * MS + nanos(HOLD) - 1, Priority::Interactive, 1)
                .unwrap(),
            Claim::Busy { .. }
        ));
        granted(
            b.claim_at(t + 100 * MS + nanos(HOLD), Priority::Interactive, 1)
                .unwrap(),
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn background_work_waits_for_interactive_requests_in_other_processes() {
        let dir = temp_dir("priority");
        let (a, b) = (open(&dir, 2), open(&dir, 2));
        let t = monotonic_now();
        let l1 = granted(a.claim_at(t, Priority::Background, 0).unwrap());
        let l2 = granted(a.claim_at(t, Priority::Background, 0).unwrap());
        // B has an interactive request waiting: it says so in the ledger.
        assert!(matches!(
            b.claim_at(t, Priority::Interactive, 1).unwrap(),
            Claim::Busy { .. }
        ));
        a.complete_at(t, l1, HOLD).unwrap();
        a.complete_at(t, l2, HOLD).unwrap();
        let later = t + nanos(HOLD) + MS;
        // Both slots are free, but one is B's: A's background work may take only the other.
        granted(a.claim_at(later, Priority::Background, 0).unwrap());
        let defer = retry(a.claim_at(later, Priority::Background, 0).unwrap());
        assert!(defer <= DEFER_RECHECK, "{defer:?}");
        // A's own interactive requests are not held back.
        granted(a.claim_at(later, Priority::Interactive, 1).unwrap());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_withdrawn_interactive_marker_holds_nothing_back() {
        let dir = temp_dir("withdraw");
        let (a, b) = (open(&dir, 1), open(&dir, 1));
        let t = monotonic_now();
        let l = granted(a.claim_at(t, Priority::Background, 0).unwrap());
        assert!(matches!(
            b.claim_at(t, Priority::Interactive, 1).unwrap(),
            Claim::Busy { .. }
        ));
        a.cancel_at(t, l).unwrap();
        assert!(matches!(
            a.claim_at(t, Priority::Background, 0).unwrap(),
            Claim::Busy { .. }
        ));
        b.waiting(0); // b's interactive request gave up
        granted(a.claim_at(monotonic_now(), Priority::Background, 0).unwrap());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_interactive_marker_lapses_without_renewal() {
        let dir = temp_dir("lapse");
        let (a, b) = (open(&dir, 1), open(&dir, 1));
        let t = monotonic_now();
        let l = granted(a.claim_at(t, Priority::Background, 0).unwrap());
        assert!(matches!(
            b.claim_at(t, Priority::Interactive, 1).unwrap(),
            Claim::Busy { .. }
        ));
        a.cancel_at(t, l).unwrap();
        assert!(matches!(
            a.claim_at(t + MS, Priority::Background, 0).unwrap(),
            Claim::Busy { .. }
        ));
        granted(
            a.claim_at(t + nanos(MARKER_TTL), Priority::Background, 0)
                .unwrap(),
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn garbage_is_detected_and_every_slot_counts_as_taken_for_a_lease_and_window() {
        let dir = temp_dir("garbage");
        let a = open(&dir, 2);
        for garbage in [
            &b"K"[..],
            b"KISLDGR1",
            b"\x00\x01 not a ledger at all, not at all",
            &[0xff; 300],
        ] {
            fs::write(a.path(), garbage).unwrap();
            let t = monotonic_now();
            let wait = retry(a.claim_at(t, Priority::Interactive, 1).unwrap());
            assert_eq!(wait, HOLD, "full: look again within a window");
            // The phantoms are written back: the file is valid again, and they expire.
            let bytes = fs::read(a.path()).unwrap();
            let book = Book::decode(&bytes, a.boot).unwrap().unwrap();
            assert_eq!(book.entries.len(), 2);
            let free_at = t + nanos(LEASE + HOLD);
            assert!(matches!(
                a.claim_at(free_at - 1, Priority::Interactive, 1).unwrap(),
                Claim::Busy { .. }
            ));
            let l = granted(a.claim_at(free_at, Priority::Interactive, 1).unwrap());
            a.cancel_at(free_at, l).unwrap();
        }
        // A truncated valid ledger is caught by the checksum or the counts.
        let bytes = Book {
            entries: vec![Entry {
                owner: 5,
                lease: 1,
                in_flight: true,
                deadline: 9,
            }],
            markers: vec![],
            rate: None,
        }
        .encode(a.boot);
        for cut in 0..bytes.len() {
            assert!(Book::decode(&bytes[..cut], a.boot).is_err(), "cut at {cut}");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_rejection_seen_by_one_process_lowers_the_rate_of_all() {
        let dir = temp_dir("rate");
        let (a, b) = (open(&dir, 4), open(&dir, 4));
        let t = monotonic_now();
        let leases: Vec<Lease> = (0..4)
            .map(|_| granted(a.claim_at(t, Priority::Background, 0).unwrap()))
            .collect();
        assert_eq!(leases[3].occupancy, 4);
        assert_eq!(leases.iter().map(|l| l.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        a.rate_limited_at(t, leases[3], 0).unwrap();
        assert_eq!(a.effective_rate(), 3);
        for l in &leases {
            a.complete_at(t, *l, HOLD).unwrap();
        }
        let later = t + nanos(HOLD);
        for _ in 0..3 {
            granted(b.claim_at(later, Priority::Interactive, 1).unwrap());
        }
        assert!(matches!(
            b.claim_at(later, Priority::Interactive, 1).unwrap(),
            Claim::Busy { .. }
        ));
        assert_eq!(b.effective_rate(), 3, "b read the rate a lowered");
        // A probe ten minutes later is shared too.
        let probe = t + nanos(crate::ledger::PROBE_EVERY);
        a.claim_at(probe, Priority::Interactive, 1).unwrap();
        assert_eq!(a.effective_rate(), 4);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_rate_extension_is_optional_and_a_damaged_one_does_not_void_the_slots() {
        let entries = vec![Entry {
            owner: 5,
            lease: 1,
            in_flight: true,
            deadline: 9,
        }];
        let old = Book {
            entries: entries.clone(),
            markers: vec![],
            rate: None,
        };
        assert_eq!(Book::decode(&old.encode(7), 7), Ok(Some(old.clone())));
        let rate = RateState {
            rate: 13,
            how: RateChange::Decreased,
            changed_at: 77,
            decreased_seq: 40,
            seq: 45,
        };
        let new = Book {
            rate: Some(rate),
            ..old.clone()
        };
        let bytes = new.encode(7);
        assert_eq!(Book::decode(&bytes, 7), Ok(Some(new)));
        assert!(
            bytes.starts_with(&old.encode(7)),
            "format 1 first: an older binary reads the slots"
        );
        for at in old.encode(7).len()..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            assert_eq!(
                Book::decode(&damaged, 7),
                Ok(Some(old.clone())),
                "byte {at}: the slots stay valid, the rate is dropped"
            );
        }
    }

    #[test]
    fn a_ledger_of_an_earlier_boot_is_empty() {
        let book = Book {
            entries: vec![Entry {
                owner: 5,
                lease: 1,
                in_flight: true,
                deadline: u64::MAX,
            }],
            markers: vec![],
            rate: None,
        };
        assert_eq!(Book::decode(&book.encode(1), 2), Ok(None));
        assert_eq!(Book::decode(&book.encode(1), 1), Ok(Some(book)));
    }

    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let a = open(&dir, 1);
        let t = monotonic_now();
        granted(a.claim_at(t, Priority::Interactive, 1).unwrap());
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        let _ = fs::remove_dir_all(&dir);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any bytes at all: decoding never panics, and anything it accepts re-encodes to the
        /// bytes' checksummed prefix.
        #[test]
        fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(Some(book)) = Book::decode(&bytes, 7) {
                prop_assert!(bytes.starts_with(&book.encode(7)));
            }
        }

        /// A valid ledger with any one byte changed is refused; with a stale tail after it
        /// (a shorter rewrite killed before the cut), it still reads.
        #[test]
        fn a_changed_byte_is_detected_and_a_stale_tail_ignored(
            entries in prop::collection::vec((any::<u64>(), any::<u64>(), any::<bool>(), any::<u64>()), 0..30),
            markers in prop::collection::vec((any::<u64>(), any::<u32>(), any::<u64>()), 0..5),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            tail in prop::collection::vec(any::<u8>(), 0..100),
        ) {
            let book = Book {
                entries: entries.into_iter().map(|(owner, lease, in_flight, deadline)| Entry { owner, lease, in_flight, deadline }).collect(),
                markers: markers.into_iter().map(|(owner, waiting, expires)| Marker { owner, waiting, expires }).collect(),
                rate: None,
            };
            let bytes = book.encode(7);
            let mut changed = bytes.clone();
            changed[at.index(bytes.len())] ^= flip;
            prop_assert!(Book::decode(&changed, 7).is_err());
            let mut longer = bytes.clone();
            longer.extend_from_slice(&tail);
            prop_assert_eq!(Book::decode(&longer, 7), Ok(Some(book)));
        }

        /// Several ledgers on one file, random operations at random (increasing) times: the
        /// live leases never exceed N, and whenever a lease is granted, no N leases granted
        /// earlier are still within their hold.
        #[test]
        fn no_more_than_n_leases_are_ever_live(
            n in 1u32..5,
            ops in prop::collection::vec((0usize..3, 0u8..4, 0u64..400), 1..80),
        ) {
            let dir = std::env::temp_dir().join(format!("kis-ledger-prop-{}-{}", std::process::id(), rand::random::<u32>()));
            let ledgers: Vec<FileLedger> = (0..3).map(|_| open(&dir, n)).collect();
            let mut t = monotonic_now();
            // Every lease ever granted: (ledger, lease, granted at, completed at).
            let mut leases: Vec<(usize, Lease, u64, Option<u64>)> = Vec::new();
            for (who, op, dt) in ops {
                t += dt * MS;
                let ledger = &ledgers[who];
                match op {
                    0 | 1 => {
                        let priority = if op == 0 { Priority::Interactive } else { Priority::Background };
                        if let Claim::Granted(l) = ledger.claim_at(t, priority, u32::from(op == 0)).unwrap() {
                            // Live: completed less than a hold ago, or in flight and within its lease.
                            let live = leases
                                .iter()
                                .filter(|(_, _, at, done)| match done {
                                    Some(d) => d + nanos(HOLD) > t,
                                    None => at + nanos(LEASE + HOLD) > t,
                                })
                                .count();
                            prop_assert!(live < n as usize, "granted with {} live of {}", live, n);
                            leases.push((who, l, t, None));
                        }
                    }
                    _ => {
                        if let Some(entry) = leases.iter_mut().find(|(w, _, _, done)| *w == who && done.is_none()) {
                            ledgers[who].complete_at(t, entry.1, HOLD).unwrap();
                            entry.3 = Some(t);
                        }
                    }
                }
            }
            drop(ledgers);
            let _ = fs::remove_dir_all(&dir);
        }
    }
}
