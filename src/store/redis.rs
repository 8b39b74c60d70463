//! [`RedisNonceStore`]: replay protection in Redis, for hosts whose nonce
//! rate outgrows their SQL database (feature `redis`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;

use crate::store::{NonceKey, NonceOutcome, NonceStore, StoreError};

/// Insert-if-absent with the expiry kept in the value, so that "expired"
/// follows the provider's clock (which tests set) as well as Redis's TTL.
///
/// `KEYS[1]` the nonce key; `ARGV` = now, expires_at (unix seconds), TTL
/// (whole seconds, ≥ 1). Returns 1 when the nonce is fresh (now stored),
/// 0 when it is a replay.
const INSERT_NONCE: &str = r"
local stored = redis.call('GET', KEYS[1])
if stored and tonumber(stored) > tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
";

/// The default key prefix.
const DEFAULT_PREFIX: &str = "oauth1:nonce:";

/// Used nonces in Redis, each a key that Redis expires when the nonce's
/// timestamp leaves the window. Combine it with a token store:
/// `Provider<PostgresStore, RedisNonceStore>`.
///
/// # Behaviour
///
/// - One key per nonce: the prefix (default `oauth1:nonce:`) and the
///   base64url SHA-256 of the length-prefixed (consumer, token, timestamp,
///   nonce), so different keys never run together and key size is fixed.
/// - Insert-if-absent is one Lua script, atomic in Redis (and on one key, so
///   it works on a cluster): if the key holds an expiry later than `now` the
///   nonce is a replay; otherwise it is set to the new expiry with
///   `EX` = `expires_at − now` (at least 1 s) and is fresh. Keeping the
///   expiry in the value makes "expired" follow the provider's clock exactly
///   as [`MemoryStore`](crate::MemoryStore) does, while Redis's TTL frees the
///   memory.
/// - [`purge_nonces`](NonceStore::purge_nonces) does nothing and returns 0:
///   Redis expires the keys itself.
/// - The connection is a [`ConnectionManager`] (multiplexed, reconnects in
///   the background). A lost connection or a timeout is a [`StoreError`]
///   keeping the `redis` error as its source; the provider answers 503.
///
/// # Memory
///
/// About *request rate × (past window + 1 s)* keys of ~100 bytes each with
/// Redis's overhead: 1 000 requests/s with the default 300 s window ≈
/// 300 000 keys ≈ 30 MB.
#[derive(Clone)]
pub struct RedisNonceStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
    script: Arc<Script>,
}

impl std::fmt::Debug for RedisNonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNonceStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_error(e: redis::RedisError) -> StoreError {
    StoreError::new(e)
}

impl RedisNonceStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS if the
    /// `redis` crate is built with a TLS feature). Timeouts: 5 s to connect,
    /// 5 s for an answer; a lost connection is re-established in the
    /// background (two retries per failure, after about 1–2 s and then
    /// 0.5–1 s).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(redis_error)?;
        // Reconnection: two retries (the crate's default is six, backing off
        // to seconds), so that while Redis is down a request fails within a
        // few seconds instead of hanging. The delays are those redis 0.32
        // gave `set_factor(2).set_max_delay(500)`: 1 s first, then doubling
        // but capped at 500 ms, each plus up to as much again of jitter.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_exponent_base(2.0)
            .set_min_delay(Duration::from_secs(1))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(redis_error)?;
        Ok(Self::from_connection_manager(conn))
    }

    /// A store on the host's own connection manager.
    pub fn from_connection_manager(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: Arc::from(DEFAULT_PREFIX),
            script: Arc::new(Script::new(INSERT_NONCE)),
        }
    }

    /// Uses `prefix` before every key instead of `oauth1:nonce:` (to share
    /// one Redis between apps or environments).
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key `key` is remembered under.
    fn redis_key(&self, key: &NonceKey<'_>) -> String {
        format!("{}{}", self.prefix, key_digest(key))
    }
}

/// [`NonceKey::digest`], base64url.
fn key_digest(key: &NonceKey<'_>) -> String {
    URL_SAFE_NO_PAD.encode(key.digest())
}

impl NonceStore for RedisNonceStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        let ttl = (expires_at.unix_timestamp() - now.unix_timestamp()).max(1);
        let mut conn = self.conn.clone();
        let fresh: i64 = self
            .script
            .key(self.redis_key(key))
            .arg(now.unix_timestamp())
            .arg(expires_at.unix_timestamp())
            .arg(ttl)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(if fresh == 1 {
            NonceOutcome::Fresh
        } else {
            NonceOutcome::Replayed
        })
    }

    /// Redis expires nonces itself: nothing to do, returns 0.
    async fn purge_nonces(&self, _now: OffsetDateTime) -> Result<usize, StoreError> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_digest_separates_parts() {
        let key = |consumer_key, token, nonce, timestamp| NonceKey {
            consumer_key,
            token,
            timestamp,
            nonce,
        };
        let a = key_digest(&key("a:b", "c", "n", 1));
        assert_ne!(a, key_digest(&key("a", "b:c", "n", 1)));
        assert_ne!(a, key_digest(&key("a:b", "c", "n", 2)));
        assert_eq!(a, key_digest(&key("a:b", "c", "n", 1)));
        assert_eq!(a.len(), 43);
    }
}
