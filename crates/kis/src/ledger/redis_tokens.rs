//! [`RedisTokens`]: the token store's shared side on the ledger's Redis, so that processes on
//! several machines using one app key never spend two issuances (KIS allows one a minute and
//! messages the account holder for each).
//!
//! Beside the ledger's keys: `token:<what>` holds the token cache entry (the same JSON as the
//! cache file: value, expiry, issuance time; with a TTL of its validity), and `token:<what>:lock`
//! is the issuance lock, `SET NX PX` with the holder's random id and released by a script that
//! deletes it only if it is still the holder's, so a holder that dies frees it after its TTL. A
//! waiter looks at the lock again every 100 ms until it is free or it times out: issuance happens
//! about once a day, and a wait there is a wait for another machine's HTTP call to KIS.
//!
//! The values are secrets: Redis must be private (a password in the URL, a private network);
//! nothing here logs a value or the URL.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};

use super::redis_keys::Keys;
use crate::error::KisError;
use crate::token::{SharedTokens, TokenLock};

const IO_TIMEOUT: Duration = Duration::from_secs(2);
const LOCK_POLL: Duration = Duration::from_millis(100);

/// Tokens shared through Redis (see the module doc).
pub struct RedisTokens {
    client: redis::Client,
    keys: Keys,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl fmt::Debug for RedisTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokens")
            .field("keys", &self.keys.prefix)
            .finish()
    }
}

fn unavailable(detail: impl fmt::Display) -> KisError {
    KisError::TokenCache {
        path: "redis".into(),
        detail: detail.to_string(),
    }
}

fn redis_error(e: redis::RedisError) -> KisError {
    unavailable(format!("{:?}: {}", e.kind(), e.detail().unwrap_or("")))
}

impl RedisTokens {
    pub(crate) fn new(client: redis::Client, keys: Keys) -> RedisTokens {
        RedisTokens {
            client,
            keys,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    async fn conn(&self) -> Result<MultiplexedConnection, KisError> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = &*conn {
            return Ok(c.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(IO_TIMEOUT))
            .set_response_timeout(Some(IO_TIMEOUT));
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(redis_error)?;
        *conn = Some(c.clone());
        Ok(c)
    }

    async fn forget_conn(&self) {
        *self.conn.lock().await = None;
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, KisError> {
        let mut conn = self.conn().await?;
        match cmd.query_async(&mut conn).await {
            Ok(v) => Ok(v),
            Err(e) => {
                self.forget_conn().await;
                Err(redis_error(e))
            }
        }
    }
}

/// Held while issuing; releases the Redis lock when dropped (if it is still ours).
struct Held {
    client: redis::Client,
    key: String,
    id: String,
}

impl Drop for Held {
    fn drop(&mut self) {
        let (client, key, id) = (self.client.clone(), self.key.clone(), self.id.clone());
        let release = async move {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let script = Script::new(
                    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
                );
                let _: Result<i64, _> = script.key(&key).arg(&id).invoke_async(&mut conn).await;
            }
        };
        // Without a runtime the lock lapses after its TTL.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(release);
        }
    }
}

impl SharedTokens for RedisTokens {
    fn lock<'a>(&'a self, what: &'a str, ttl: Duration) -> BoxFuture<'a, Result<TokenLock, KisError>> {
        Box::pin(async move {
            let key = self.keys.key(&format!("token:{what}:lock"));
            let id = format!("{:016x}", rand::random::<u64>());
            let give_up = tokio::time::Instant::now() + ttl;
            loop {
                let set: Option<String> = self
                    .query(
                        redis::cmd("SET")
                            .arg(&key)
                            .arg(&id)
                            .arg("NX")
                            .arg("PX")
                            .arg(ttl.as_millis() as u64),
                    )
                    .await?;
                if set.is_some() {
                    return Ok(TokenLock::new(Held {
                        client: self.client.clone(),
                        key,
                        id,
                    }));
                }
                if tokio::time::Instant::now() >= give_up {
                    return Err(unavailable("the issuance lock stayed taken"));
                }
                tokio::time::sleep(LOCK_POLL).await;
            }
        })
    }

    fn load<'a>(&'a self, what: &'a str) -> BoxFuture<'a, Result<Option<String>, KisError>> {
        Box::pin(async move {
            self.query(redis::cmd("GET").arg(self.keys.key(&format!("token:{what}"))))
                .await
        })
    }

    fn store<'a>(
        &'a self,
        what: &'a str,
        json: String,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), KisError>> {
        Box::pin(async move {
            let ms = ttl.as_millis().max(1) as u64;
            self.query::<()>(
                redis::cmd("SET")
                    .arg(self.keys.key(&format!("token:{what}")))
                    .arg(json)
                    .arg("PX")
                    .arg(ms),
            )
            .await
        })
    }
}
