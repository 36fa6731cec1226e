//! Access tokens (`/oauth2/tokenP`): issuance limits, reuse, expiry and revocation.
//!
//! Rules (`docs/kis-wire.md`, "Access token"), per app key:
//! * at most one successful `tokenP` call per issue interval (KIS: a minute; [`ISSUE_INTERVAL`] by
//!   default, configurable so tests can shorten it); another inside it → [`TokenError::TooSoon`]
//!   (KIS `EGW00133`, HTTP 403);
//! * a call within 6 h of the current token's issuance returns that same token (no new issuance);
//! * tokens live `ttl` (24 h by default), after which they answer `EGW00123`, as do revoked ones.
//!
//! Time is real time as tokio sees it (`tokio::time::Instant`), not the market's virtual clock: tokens
//! expire for real, and a test that pauses tokio's clock runs this store in that paused time too.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use rand::Rng;
use rand::distr::Alphanumeric;

/// How long after an issuance a new `tokenP` call is refused, by default (KIS: one a minute).
pub const ISSUE_INTERVAL: Duration = Duration::from_secs(60);
/// How long the same token is handed out again.
pub const REUSE_WINDOW: Duration = Duration::from_secs(6 * 60 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a token was requested less than a minute after the previous one")]
    TooSoon,
    #[error("the token is unknown or belongs to another app key")]
    Invalid,
    #[error("the token has expired or was revoked")]
    Expired,
}

/// A token handed out by `tokenP`.
#[derive(Clone)]
pub struct TokenGrant {
    pub access_token: String,
    /// Whole seconds of validity left.
    pub expires_in: u64,
    /// When it expires, as an instant.
    pub expires_at: jiff::Timestamp,
    /// True when this call created a new token (false: the same token again within 6 h).
    pub newly_issued: bool,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("newly_issued", &self.newly_issued)
            .finish()
    }
}

struct TokenRecord {
    app_key: String,
    issued_at: Instant,
    expires_at: Instant,
    expires_wall: jiff::Timestamp,
    revoked: bool,
}

#[derive(Default)]
struct KeyState {
    current: Option<String>,
    last_call: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, KeyState>,
    tokens: HashMap<String, TokenRecord>,
    issued: u64,
}

/// Every token the simulator has issued.
pub struct TokenStore {
    ttl: Duration,
    issue_interval: Duration,
    inner: Mutex<Inner>,
}

impl TokenStore {
    /// Tokens that live `ttl`, at most one issuance per `issue_interval` per app key.
    pub fn new(ttl: Duration, issue_interval: Duration) -> TokenStore {
        TokenStore {
            ttl,
            issue_interval,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Handles a `tokenP` call at `now` (wall clock `wall`) for a verified app key.
    pub fn issue(
        &self,
        app_key: &str,
        now: Instant,
        wall: jiff::Timestamp,
    ) -> Result<TokenGrant, TokenError> {
        let mut inner = lock(&self.inner);
        let Inner { keys, tokens, issued } = &mut *inner;
        let state = keys.entry(app_key.to_string()).or_default();
        if let Some(last) = state.last_call
            && now.saturating_duration_since(last) < self.issue_interval
        {
            return Err(TokenError::TooSoon);
        }
        state.last_call = Some(now);
        if let Some(current) = &state.current
            && let Some(record) = tokens.get(current)
            && !record.revoked
            && now < record.expires_at
            && now.saturating_duration_since(record.issued_at) < REUSE_WINDOW
        {
            return Ok(TokenGrant {
                access_token: current.clone(),
                expires_in: record.expires_at.saturating_duration_since(now).as_secs(),
                expires_at: record.expires_wall,
                newly_issued: false,
            });
        }
        let token = new_token();
        let expires_wall = wall.checked_add(self.ttl).unwrap_or(jiff::Timestamp::MAX);
        tokens.insert(
            token.clone(),
            TokenRecord {
                app_key: app_key.to_string(),
                issued_at: now,
                expires_at: now + self.ttl,
                expires_wall,
                revoked: false,
            },
        );
        state.current = Some(token.clone());
        *issued += 1;
        Ok(TokenGrant {
            access_token: token,
            expires_in: self.ttl.as_secs(),
            expires_at: expires_wall,
            newly_issued: true,
        })
    }

    /// Checks a bearer token presented with `app_key` at `now`.
    pub fn validate(&self, token: &str, app_key: &str, now: Instant) -> Result<(), TokenError> {
        let inner = lock(&self.inner);
        let record = inner.tokens.get(token).ok_or(TokenError::Invalid)?;
        if record.app_key != app_key {
            return Err(TokenError::Invalid);
        }
        if record.revoked || now >= record.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(())
    }

    /// Revokes one token of `app_key`; false when there is no such token.
    pub fn revoke(&self, token: &str, app_key: &str) -> bool {
        let mut inner = lock(&self.inner);
        match inner.tokens.get_mut(token) {
            Some(record) if record.app_key == app_key => {
                record.revoked = true;
                true
            }
            _ => false,
        }
    }

    /// Revokes every token issued so far (fault injection).
    pub fn revoke_all(&self) {
        let mut inner = lock(&self.inner);
        for record in inner.tokens.values_mut() {
            record.revoked = true;
        }
    }

    /// How many distinct tokens have been issued.
    pub fn issued(&self) -> u64 {
        lock(&self.inner).issued
    }
}

fn new_token() -> String {
    // Shaped like the JWTs KIS hands out; random, so it carries nothing.
    let body: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(160)
        .map(char::from)
        .collect();
    format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.{body}")
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall() -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }

    #[test]
    fn second_call_within_a_minute_is_refused_then_same_token_reused() {
        let store = TokenStore::new(Duration::from_secs(86_400), ISSUE_INTERVAL);
        let t0 = Instant::now();
        let first = store.issue("K", t0, wall()).unwrap();
        assert!(first.newly_issued);
        assert_eq!(first.expires_in, 86_400);
        assert_eq!(
            store
                .issue("K", t0 + Duration::from_secs(59), wall())
                .unwrap_err(),
            TokenError::TooSoon
        );
        let again = store.issue("K", t0 + Duration::from_secs(61), wall()).unwrap();
        assert_eq!(again.access_token, first.access_token);
        assert!(!again.newly_issued);
        assert_eq!(store.issued(), 1);
        // another key is independent
        assert!(store.issue("L", t0, wall()).unwrap().newly_issued);
    }

    #[test]
    fn after_six_hours_a_new_token_is_issued() {
        let store = TokenStore::new(Duration::from_secs(86_400), ISSUE_INTERVAL);
        let t0 = Instant::now();
        let first = store.issue("K", t0, wall()).unwrap();
        let later = store.issue("K", t0 + REUSE_WINDOW, wall()).unwrap();
        assert_ne!(later.access_token, first.access_token);
        assert_eq!(store.issued(), 2);
    }

    #[test]
    fn expiry_revocation_and_wrong_key() {
        let store = TokenStore::new(Duration::from_secs(10), ISSUE_INTERVAL);
        let t0 = Instant::now();
        let grant = store.issue("K", t0, wall()).unwrap();
        let token = grant.access_token;
        assert_eq!(store.validate(&token, "K", t0), Ok(()));
        assert_eq!(store.validate(&token, "L", t0), Err(TokenError::Invalid));
        assert_eq!(store.validate("nope", "K", t0), Err(TokenError::Invalid));
        assert_eq!(
            store.validate(&token, "K", t0 + Duration::from_secs(10)),
            Err(TokenError::Expired)
        );
        assert!(store.revoke(&token, "K"));
        assert_eq!(store.validate(&token, "K", t0), Err(TokenError::Expired));
        // a revoked token is not handed out again
        let fresh = store.issue("K", t0 + Duration::from_secs(61), wall()).unwrap();
        assert_ne!(fresh.access_token, token);
        store.revoke_all();
        assert_eq!(
            store.validate(&fresh.access_token, "K", t0 + Duration::from_secs(61)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let store = TokenStore::new(Duration::from_secs(10), ISSUE_INTERVAL);
        let grant = store.issue("K", Instant::now(), wall()).unwrap();
        assert!(!format!("{grant:?}").contains(&grant.access_token));
    }
}
