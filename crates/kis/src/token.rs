//! The token lifecycle: access tokens (`/oauth2/tokenP`) and WebSocket approval keys
//! (`/oauth2/Approval`).
//!
//! KIS allows one token issuance per minute and sends the account holder a KakaoTalk message for
//! each, so tokens are precious:
//! * cached on disk per (environment, app key) in `<data_dir>/tokens/<env>-<fingerprint>.json`
//!   (the fingerprint is a hash, never the key), mode 0600, written to a temporary file and renamed;
//! * reused across restarts until less than `refresh_margin` (10 min) of validity is left;
//! * issued by one caller at a time: concurrent callers in a process wait for the one issuance
//!   (an async mutex), and processes sharing a data dir serialise on an advisory file lock,
//!   re-reading the cache after taking it;
//! * never issued twice within `min_issue_interval` (60 s): the last issuance time is kept in the
//!   file too, and a renewal asked for sooner waits out the remainder;
//! * a corrupt or foreign cache file is logged (without secrets) and replaced;
//! * the cache file is read and written on tokio's blocking pool (`spawn_blocking`), never on an
//!   async worker;
//! * the time these rules read comes from an injectable [`Clock`] (the system clock by default), so
//!   tests check the one-a-minute rule in tokio's paused time rather than by sleeping a minute;
//! * with [`SharedTokens`] (the Redis ledger's, [`crate::ledger::RedisLedger::tokens`]) the same
//!   holds across machines: the issuer takes the shared lock too, reads the shared entry first,
//!   and writes what it issued there, so two machines on one key never spend two issuances.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::credentials::Credentials;
use crate::env::Environment;
use crate::error::{KisError, MSG_TOKEN_TOO_OFTEN};
use crate::governor::{Governor, Priority};
use crate::realtime::{ApprovalError, ApprovalFuture, ApprovalSource};
use crate::wire::auth;

/// A secret issued by KIS (an access token or an approval key). `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How tokens are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// Where `tokens/` lives; `None` keeps tokens in memory only.
    pub data_dir: Option<PathBuf>,
    /// Renew when less validity than this is left.
    pub refresh_margin: Duration,
    /// Never issue more often than this (KIS: once a minute).
    pub min_issue_interval: Duration,
    /// How long an approval key is used (KIS samples renew it after 24 h).
    pub approval_lifetime: Duration,
    /// Timeout of one issuance request.
    pub timeout: Duration,
}

impl Default for TokenConfig {
    fn default() -> TokenConfig {
        TokenConfig {
            data_dir: None,
            refresh_margin: Duration::from_secs(600),
            min_issue_interval: Duration::from_secs(60),
            approval_lifetime: Duration::from_secs(86_400),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A store of tokens shared beyond this machine: one issuer at a time across every process that
/// uses it, and the entry it issued for all (the same JSON as the cache file).
pub trait SharedTokens: Send + Sync + fmt::Debug {
    /// Takes the issuance lock of `what` (`access_token`, `approval_key`), held at most `ttl`;
    /// released when the returned guard drops.
    fn lock<'a>(&'a self, what: &'a str, ttl: Duration) -> BoxFuture<'a, Result<TokenLock, KisError>>;
    /// The stored entry of `what`, if any.
    fn load<'a>(&'a self, what: &'a str) -> BoxFuture<'a, Result<Option<String>, KisError>>;
    /// Stores the entry of `what`, kept for `ttl`.
    fn store<'a>(&'a self, what: &'a str, json: String, ttl: Duration)
    -> BoxFuture<'a, Result<(), KisError>>;
}

/// A held [`SharedTokens`] lock: dropping it releases the lock.
pub struct TokenLock(#[allow(dead_code)] Box<dyn Send + Sync>);

impl TokenLock {
    pub fn new(guard: impl Send + Sync + 'static) -> TokenLock {
        TokenLock(Box::new(guard))
    }
}

/// Extra wait on top of the issuance interval, absorbing timer granularity.
const ISSUE_MARGIN: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Approval,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Access => "access_token",
            Kind::Approval => "approval_key",
        }
    }
}

/// The cache file's contents.
#[derive(Clone, Serialize, Deserialize)]
struct CacheFile {
    kind: String,
    env: String,
    app_key_fingerprint: String,
    value: String,
    /// KST, as KIS states it (`access_token_token_expired`).
    expires_at_kst: jiff::civil::DateTime,
    issued_at: Timestamp,
}

struct Held {
    value: String,
    expires_at: Timestamp,
}

#[derive(Default)]
struct Slot {
    current: Option<Held>,
    /// A value KIS refused (expired, revoked): never handed out again, even if a cache holds it.
    rejected: Option<String>,
    last_issued: Option<Timestamp>,
}

/// Access tokens and approval keys of one app key on one environment.
pub struct TokenStore {
    http: reqwest::Client,
    env: Environment,
    credentials: Credentials,
    config: TokenConfig,
    access: tokio::sync::Mutex<Slot>,
    approval: tokio::sync::Mutex<Slot>,
    issued: std::sync::atomic::AtomicU64,
    /// Issuance requests take a slot too, in case the server counts them.
    governor: Option<Governor>,
    clock: Arc<dyn Clock>,
    shared: Option<Arc<dyn SharedTokens>>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("env", &self.env)
            .field("credentials", &self.credentials)
            .field("config", &self.config)
            .finish()
    }
}

impl TokenStore {
    pub fn new(
        http: reqwest::Client,
        env: Environment,
        credentials: Credentials,
        config: TokenConfig,
    ) -> TokenStore {
        TokenStore {
            http,
            env,
            credentials,
            config,
            access: tokio::sync::Mutex::new(Slot::default()),
            approval: tokio::sync::Mutex::new(Slot::default()),
            issued: std::sync::atomic::AtomicU64::new(0),
            governor: None,
            clock: Arc::new(SystemClock),
            shared: None,
        }
    }

    /// Shares tokens (and the issuance lock) through `shared` as well as the data dir.
    pub fn with_shared(mut self, shared: Arc<dyn SharedTokens>) -> TokenStore {
        self.shared = Some(shared);
        self
    }

    /// Reads the time from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> TokenStore {
        self.clock = clock;
        self
    }

    /// Sends issuance requests through `governor` (at interactive priority).
    pub fn with_governor(mut self, governor: Governor) -> TokenStore {
        self.governor = Some(governor);
        self
    }

    /// A valid access token: from memory, else from the disk cache, else issued.
    pub async fn access_token(&self) -> Result<Secret, KisError> {
        self.get(Kind::Access, None).await
    }

    /// KIS refused `rejected` (EGW00123): get another one. If another caller already replaced it,
    /// that replacement is returned without a new issuance.
    pub async fn renew_access_token(&self, rejected: &Secret) -> Result<Secret, KisError> {
        self.get(Kind::Access, Some(rejected.expose())).await
    }

    /// A valid WebSocket approval key.
    pub async fn approval_key(&self) -> Result<Secret, KisError> {
        self.get(Kind::Approval, None).await
    }

    /// The server refused `rejected` as an approval key: get another one.
    pub async fn renew_approval_key(&self, rejected: &Secret) -> Result<Secret, KisError> {
        self.get(Kind::Approval, Some(rejected.expose())).await
    }

    /// Issuances this store made (tokens and approval keys).
    pub fn issuances(&self) -> u64 {
        self.issued.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The cache file of the access token (`None` without a data dir).
    pub fn cache_path(&self) -> Option<PathBuf> {
        self.path(Kind::Access, "json")
    }

    /// Where `kind` is cached and whose it must be, for the blocking file I/O.
    fn cache_spot(&self, kind: Kind) -> Option<CacheSpot> {
        Some(CacheSpot {
            path: self.path(kind, "json")?,
            kind,
            env: self.env.cache_name(),
            fingerprint: self.credentials.fingerprint(),
        })
    }

    fn path(&self, kind: Kind, ext: &str) -> Option<PathBuf> {
        let dir = self.config.data_dir.as_ref()?.join("tokens");
        let suffix = match kind {
            Kind::Access => "",
            Kind::Approval => "-approval",
        };
        Some(dir.join(format!(
            "{}-{}{suffix}.{ext}",
            self.env.cache_name(),
            self.credentials.fingerprint()
        )))
    }

    fn usable(&self, held: &Held, now: Timestamp, rejected: Option<&str>) -> bool {
        let margin = SignedDuration::try_from(self.config.refresh_margin).unwrap_or(SignedDuration::MAX);
        held.expires_at.duration_since(now) > margin && rejected != Some(held.value.as_str())
    }

    async fn get(&self, kind: Kind, rejected: Option<&str>) -> Result<Secret, KisError> {
        let mut slot = match kind {
            Kind::Access => self.access.lock().await,
            Kind::Approval => self.approval.lock().await,
        };
        if let Some(r) = rejected {
            slot.rejected = Some(r.to_owned());
        }
        if let Some(held) = &slot.current
            && self.usable(held, self.clock.now(), slot.rejected.as_deref())
        {
            return Ok(Secret(held.value.clone()));
        }

        // Across processes: one issuer at a time; re-read the cache once we hold the lock.
        let _file_lock = match self.path(kind, "lock") {
            Some(path) => match lock_file(path).await {
                Ok(file) => Some(file),
                Err(e) => {
                    // An unusable data dir must not stop trading: carry on without the cache.
                    tracing::warn!(error = %e, "token cache lock unavailable; issuing without it");
                    None
                }
            },
            None => None,
        };
        // Across machines: the shared lock too, and the shared entry before the file.
        let _shared_lock = match &self.shared {
            Some(shared) => {
                let ttl = self.config.min_issue_interval + self.config.timeout * 2;
                match shared.lock(kind.name(), ttl).await {
                    Ok(lock) => Some(lock),
                    Err(e) => {
                        tracing::warn!(error = %e, "shared token lock unavailable; issuing without it");
                        None
                    }
                }
            }
            None => None,
        };
        let cached = match self.read_shared(kind).await {
            Some(shared) => Some(shared),
            None => self.read_cache(kind).await,
        };
        if let Some(cached) = cached {
            slot.last_issued = slot.last_issued.max(Some(cached.issued_at));
            let held = Held {
                value: cached.value,
                expires_at: market::time::from_kst(cached.expires_at_kst),
            };
            if self.usable(&held, self.clock.now(), slot.rejected.as_deref()) {
                let value = held.value.clone();
                slot.current = Some(held);
                return Ok(Secret(value));
            }
        }

        // Never two issuances inside the interval: wait out the remainder.
        if let Some(last) = slot.last_issued {
            let since = self.clock.now().duration_since(last);
            let interval =
                SignedDuration::try_from(self.config.min_issue_interval).unwrap_or(SignedDuration::MAX);
            if since < interval {
                let wait = (interval - since).unsigned_abs() + ISSUE_MARGIN;
                tracing::info!(
                    what = kind.name(),
                    wait_ms = wait.as_millis() as u64,
                    "waiting before re-issuing (KIS allows one issuance per minute)"
                );
                tokio::time::sleep(wait).await;
            }
        }

        let issued = self.issue(kind).await;
        // The server saw the request somewhere before this instant: counting the interval from
        // the completion (not the send) keeps the next issuance a full interval after it.
        let completed_at = self.clock.now();
        let (value, expires_at) = match issued {
            Ok(v) => v,
            Err(e) => {
                if matches!(&e, KisError::TokenIssuance { code, .. } if code == MSG_TOKEN_TOO_OFTEN) {
                    slot.last_issued = Some(completed_at);
                }
                return Err(e);
            }
        };
        self.issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        slot.last_issued = Some(completed_at);
        self.write_cache(kind, &value, expires_at, completed_at).await;
        self.write_shared(kind, &value, expires_at, completed_at).await;
        slot.current = Some(Held {
            value: value.clone(),
            expires_at,
        });
        Ok(Secret(value))
    }

    async fn issue(&self, kind: Kind) -> Result<(String, Timestamp), KisError> {
        let (path, body) = match kind {
            Kind::Access => (
                auth::TOKEN_PATH,
                auth::token_body(self.credentials.app_key(), self.credentials.app_secret()),
            ),
            Kind::Approval => (
                auth::APPROVAL_PATH,
                auth::approval_body(self.credentials.app_key(), self.credentials.app_secret()),
            ),
        };
        let what = match kind {
            Kind::Access => "tokenP",
            Kind::Approval => "Approval",
        };
        let url = format!("{}{}", self.env.rest_url(), path);
        tracing::info!(env = %self.env, what, "issuing a new KIS {}", kind.name());
        let permit = match &self.governor {
            Some(g) => Some(g.acquire(Priority::Interactive).await),
            None => None,
        };
        let response = self
            .http
            .post(url)
            .timeout(self.config.timeout)
            .header("content-type", "application/json; charset=utf-8")
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_error(what, self.config.timeout, e))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(what, self.config.timeout, e))?;
        drop(permit);
        let now = self.clock.now();
        match kind {
            Kind::Access => auth::parse_token(status, &bytes, now).map(|t| (t.access_token, t.expires_at)),
            Kind::Approval => {
                let key = auth::parse_approval(status, &bytes)?;
                let lifetime =
                    SignedDuration::try_from(self.config.approval_lifetime).unwrap_or(SignedDuration::MAX);
                Ok((key, now.saturating_add(lifetime).unwrap_or(now)))
            }
        }
    }

    /// The cached value, if the file exists, parses and belongs to this environment and app key
    /// (read on the blocking pool).
    async fn read_cache(&self, kind: Kind) -> Option<CacheFile> {
        let spot = self.cache_spot(kind)?;
        tokio::task::spawn_blocking(move || spot.read())
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "token cache read did not finish");
                None
            })
    }

    /// The shared entry of `kind`, if there is a store, it answers and the entry is this key's.
    async fn read_shared(&self, kind: Kind) -> Option<CacheFile> {
        let shared = self.shared.as_ref()?;
        let json = match shared.load(kind.name()).await {
            Ok(json) => json?,
            Err(e) => {
                tracing::warn!(error = %e, "shared token store unavailable");
                return None;
            }
        };
        let spot = self.identity(kind);
        match serde_json::from_str::<CacheFile>(&json) {
            Ok(c) => match spot.mismatch(&c) {
                None => Some(c),
                Some(reason) => {
                    tracing::warn!(reason, "shared token entry unusable; it will be replaced");
                    None
                }
            },
            Err(_) => {
                tracing::warn!("shared token entry is not a token cache entry; it will be replaced");
                None
            }
        }
    }

    /// Stores what was issued in the shared store (kept as long as it is valid); a failure is
    /// logged, not fatal.
    async fn write_shared(&self, kind: Kind, value: &str, expires_at: Timestamp, issued_at: Timestamp) {
        let Some(shared) = &self.shared else {
            return;
        };
        let spot = self.identity(kind);
        let file = spot.file(value, expires_at, issued_at);
        let Ok(json) = serde_json::to_string(&file) else {
            return;
        };
        let ttl = expires_at
            .duration_since(self.clock.now())
            .unsigned_abs()
            .max(Duration::from_secs(1));
        if let Err(e) = shared.store(kind.name(), json, ttl).await {
            tracing::warn!(error = %e, "could not share the token");
        }
    }

    /// Whose an entry must be (the shared store has no path).
    fn identity(&self, kind: Kind) -> CacheSpot {
        CacheSpot {
            path: PathBuf::from("shared"),
            kind,
            env: self.env.cache_name(),
            fingerprint: self.credentials.fingerprint(),
        }
    }

    /// Writes the cache file (on the blocking pool); a failure is logged, not fatal: the token
    /// works, it just will not survive a restart.
    async fn write_cache(&self, kind: Kind, value: &str, expires_at: Timestamp, issued_at: Timestamp) {
        let Some(spot) = self.cache_spot(kind) else {
            return;
        };
        let file = spot.file(value, expires_at, issued_at);
        let written = tokio::task::spawn_blocking(move || write_atomically(&spot.path, &file)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not write the token cache"),
            Err(e) => tracing::warn!(error = %e, "token cache write did not finish"),
        }
    }
}

/// One cache file and the identity its contents must carry.
#[derive(Debug, Clone)]
struct CacheSpot {
    path: PathBuf,
    kind: Kind,
    env: String,
    fingerprint: String,
}

impl CacheSpot {
    /// Blocking: the file's contents if it exists, parses and is this spot's.
    fn read(&self) -> Option<CacheFile> {
        let path = &self.path;
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "token cache unreadable; it will be replaced");
                return None;
            }
        };
        let reason = match serde_json::from_str::<CacheFile>(&text) {
            Err(_) => "not a token cache file",
            Ok(c) => match self.mismatch(&c) {
                Some(reason) => reason,
                None => return Some(c),
            },
        };
        tracing::warn!(path = %path.display(), reason, "token cache unusable; it will be replaced");
        None
    }

    /// Why `c` is not this spot's entry (`None`: it is).
    fn mismatch(&self, c: &CacheFile) -> Option<&'static str> {
        if c.kind != self.kind.name() {
            Some("holds another kind of secret")
        } else if c.env != self.env {
            Some("belongs to another environment")
        } else if c.app_key_fingerprint != self.fingerprint {
            Some("belongs to another app key")
        } else {
            None
        }
    }

    fn file(&self, value: &str, expires_at: Timestamp, issued_at: Timestamp) -> CacheFile {
        CacheFile {
            kind: self.kind.name().into(),
            env: self.env.clone(),
            app_key_fingerprint: self.fingerprint.clone(),
            value: value.into(),
            expires_at_kst: market::time::to_kst(expires_at),
            issued_at,
        }
    }
}

impl ApprovalSource for TokenStore {
    fn approval_key(&self, force_new: bool) -> ApprovalFuture<'_> {
        Box::pin(async move {
            // Renew only a key we handed out; with none held, a plain fetch is already fresh.
            let held = self
                .approval
                .lock()
                .await
                .current
                .as_ref()
                .map(|h| h.value.clone());
            let key = match held {
                Some(current) if force_new => self.get(Kind::Approval, Some(&current)).await,
                _ => self.approval_key().await,
            };
            key.map(|s| s.0).map_err(|e| ApprovalError(e.to_string()))
        })
    }
}

fn transport_error(what: &str, timeout: Duration, e: reqwest::Error) -> KisError {
    if e.is_timeout() {
        KisError::Timeout {
            tr_id: what.into(),
            after: timeout,
        }
    } else {
        KisError::Transport {
            tr_id: what.into(),
            detail: e.without_url().to_string(),
        }
    }
}

fn cache_error(path: &Path, e: impl fmt::Display) -> KisError {
    KisError::TokenCache {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    crate::filelock::ensure_dir(dir)
}

/// Takes the advisory lock that serialises issuance across processes (released on drop).
async fn lock_file(path: PathBuf) -> Result<File, KisError> {
    tokio::task::spawn_blocking(move || {
        crate::filelock::lock_blocking(&path).map_err(|e| cache_error(&path, e))
    })
    .await
    .map_err(|e| KisError::TokenCache {
        path: String::new(),
        detail: e.to_string(),
    })?
}

fn write_atomically(path: &Path, file: &CacheFile) -> Result<(), KisError> {
    let dir = path
        .parent()
        .ok_or_else(|| cache_error(path, "no parent directory"))?;
    ensure_dir(dir).map_err(|e| cache_error(dir, e))?;
    let json = serde_json::to_vec_pretty(file).map_err(|e| cache_error(path, e))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(cache_error(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> TokenStore {
        TokenStore::new(
            reqwest::Client::new(),
            Environment::Custom {
                rest_url: "http://127.0.0.1:9".into(),
                ws_url: "ws://127.0.0.1:9".into(),
                rate: 2,
                vts: false,
            },
            Credentials::new("KEY-for-tests-0000000000000000000000", "SECRET").unwrap(),
            TokenConfig {
                data_dir: Some(dir.to_owned()),
                ..TokenConfig::default()
            },
        )
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kis-token-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn cache_round_trip_is_0600_and_never_names_the_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("roundtrip");
        let s = store(&dir);
        let expires = Timestamp::now() + SignedDuration::from_hours(20);
        s.write_cache(Kind::Access, "tok-1", expires, Timestamp::now())
            .await;
        let path = s.cache_path().unwrap();
        assert!(!path.to_string_lossy().contains("KEY-for-tests"));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let c = s.read_cache(Kind::Access).await.unwrap();
        assert_eq!(c.value, "tok-1");
        assert!(s.read_cache(Kind::Approval).await.is_none());
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_valid_cached_token_is_used_without_issuing() {
        let dir = temp_dir("reuse");
        let s = store(&dir);
        s.write_cache(
            Kind::Access,
            "tok-cached",
            Timestamp::now() + SignedDuration::from_hours(5),
            Timestamp::now(),
        )
        .await;
        // The server (port 9, discard) is never contacted: the cache answers.
        let fresh = store(&dir);
        assert_eq!(fresh.access_token().await.unwrap().expose(), "tok-cached");
        assert_eq!(fresh.issuances(), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn corrupt_or_foreign_files_are_ignored() {
        let dir = temp_dir("corrupt");
        let s = store(&dir);
        let path = s.cache_path().unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"{not json").unwrap();
        assert!(s.read_cache(Kind::Access).await.is_none());
        s.write_cache(Kind::Access, "tok", Timestamp::now(), Timestamp::now())
            .await;
        let mut c: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        c["app_key_fingerprint"] = "0000000000000000".into();
        fs::write(&path, serde_json::to_vec(&c).unwrap()).unwrap();
        assert!(
            s.read_cache(Kind::Access).await.is_none(),
            "another key's token is not used"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_output_holds_no_secrets() {
        let dir = temp_dir("debug");
        let s = store(&dir);
        let shown = format!("{s:?} {:?}", Secret("tok-secret".into()));
        assert!(!shown.contains("SECRET") && !shown.contains("KEY-for") && !shown.contains("tok-secret"));
    }
}
