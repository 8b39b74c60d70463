//! Storage: the [`TokenStore`] and [`NonceStore`] traits a host can
//! implement, and [`MemoryStore`], the reference implementation.
//!
//! The traits are native async (`-> impl Future<Output = …> + Send`),
//! `Send + Sync` and take `&self`. Expected outcomes ("not found", "nonce
//! already used", "state changed under us") are `Ok` values; [`StoreError`]
//! is for infrastructure failure only, and the provider answers it with 503.
//!
//! This layer may use [`crate::model`] (what it persists) and
//! [`crate::protocol`]; the provider above drives it.
//!
//! Only atomic primitives are asked of a store: insert-if-absent for nonces
//! and compare-and-set on a request token's [`StateTag`], so that two
//! provider instances racing on one request token can never both win.

use std::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::model::token::{AccessToken, RequestToken, StateTag};

#[cfg(feature = "test-util")]
#[doc(hidden)] // documented as `oauth1_provider::testing`
pub mod conformance;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::RedisNonceStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;

/// The store failed (connection lost, server down, disk full): nothing is
/// known about the outcome, and the provider answers 503.
///
/// Keeps the host's error as its `source()`; its own message never includes
/// the source's text, which could quote stored values.
#[derive(Debug, thiserror::Error)]
#[error("the token store failed")]
pub struct StoreError(#[source] Box<dyn std::error::Error + Send + Sync + 'static>);

impl StoreError {
    /// Wraps the store's own error.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self(source.into())
    }
}

/// What a nonce is remembered by: the credentials, the timestamp and the
/// decoded nonce (RFC 5849 §3.3).
///
/// It borrows from the request: a store that remembers nonces keeps what it
/// needs of it (a digest, a fingerprint), never the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NonceKey<'a> {
    /// The consumer key.
    pub consumer_key: &'a str,
    /// The token, empty when the request had none.
    pub token: &'a str,
    /// The request's `oauth_timestamp`.
    pub timestamp: u64,
    /// The decoded `oauth_nonce`.
    pub nonce: &'a str,
}

impl NonceKey<'_> {
    /// What a store should remember a nonce by, instead of the key: 32
    /// bytes, equal for equal keys and (SHA-256 being collision-resistant)
    /// different for different ones.
    ///
    /// SHA-256 over a version label and the key's parts, each string
    /// length-prefixed so that no two different keys run together (`a:b` +
    /// `c` ≠ `a` + `b:c`). A store that keeps it holds 32 bytes per nonce
    /// however long the client's strings were, never uses a client-chosen
    /// string as a key (nothing to escape or truncate), and writes none of
    /// the request's values to its table. `SqliteStore`, `PostgresStore`
    /// and `RedisNonceStore` key their nonces on it, and so does
    /// `examples/custom_store.rs`.
    ///
    /// ```
    /// use oauth1_provider::store::NonceKey;
    ///
    /// let key = NonceKey { consumer_key: "key", token: "", timestamp: 1_700_000_000, nonce: "n" };
    /// let digest: [u8; 32] = key.digest(); // keep this, until the nonce expires
    /// assert_ne!(digest, NonceKey { nonce: "m", ..key }.digest());
    /// ```
    pub fn digest(&self) -> [u8; 32] {
        use sha2::{Digest as _, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"oauth1-nonce-v1");
        for part in [self.consumer_key, self.token, self.nonce] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hash.update(self.timestamp.to_be_bytes());
        hash.finalize().into()
    }
}

/// Whether a nonce was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceOutcome {
    /// First use: now remembered.
    Fresh,
    /// Already used: the request is a replay.
    Replayed,
}

/// What [`Provider::purge_expired`](crate::Provider::purge_expired) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Purged {
    /// Expired request tokens removed from the [`TokenStore`].
    pub request_tokens: usize,
    /// Expired nonces removed from the [`NonceStore`].
    pub nonces: usize,
}

/// Where request and access tokens live.
///
/// # Implementing your own store
///
/// A host that keeps its tokens in its own database implements this trait
/// (and [`NonceStore`], or takes nonces to [`MemoryStore`] or the Redis
/// store) on a type that is `Send + Sync`; `Arc<S>` of a store is a store
/// too.
///
/// 1. Persist [`RequestToken`] and [`AccessToken`] whole (they are plain
///    data, in [`crate::model`]) and give them back as they were stored.
/// 2. Make the single-use transitions atomic: [`TokenStore::update_request_token`]
///    is a compare-and-set on the stored state's [`StateTag`], and
///    [`TokenStore::exchange_request_token`] and
///    [`TokenStore::refresh_access_token`] write both records or neither
///    (one transaction, or one conditional statement), so that of two
///    instances racing on one token exactly one wins.
/// 3. Answer expected outcomes as values (`Ok(None)`, `Ok(false)`) and keep
///    [`StoreError`] for infrastructure failure, wrapping the driver's error
///    ([`StoreError::new`]) so that its `source()` survives.
/// 4. Prove it with the conformance suite, `oauth1_provider::testing` (feature
///    `test-util`): `run_conformance_suite(your_store).await` in a
///    `#[tokio::test(flavor = "multi_thread")]`, so that its races are real.
///
/// `SqliteStore` and `PostgresStore` (features `sqlite`, `postgres`) are
/// complete examples over SQL.
pub trait TokenStore: Send + Sync {
    /// Stores a new request token. Tokens are random; a store may treat a
    /// duplicate as an error.
    fn insert_request_token(
        &self,
        token: &RequestToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Looks a request token up.
    fn get_request_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<RequestToken>, StoreError>> + Send;

    /// Replaces the request token `next.token` with `next` **only if** its
    /// stored state still has tag `expected` (compare-and-set). `Ok(false)`
    /// when the state changed under us or the token is gone.
    fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Atomically: replaces the request token with `exchanged` (its
    /// `Exchanged` record) if its state still has tag `expected`, **and**
    /// stores `access`. Both or neither: `Ok(false)` and nothing written
    /// when the state changed under us.
    fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Looks an access token up (active or revoked).
    fn get_access_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<AccessToken>, StoreError>> + Send;

    /// [`TokenStore::get_access_token`], shared: what every request to a
    /// protected resource asks. The default wraps the owned answer in an
    /// `Arc`; a store that keeps its tokens in memory can hand out its own
    /// `Arc` instead of copying the token's strings on every request
    /// ([`MemoryStore`] does).
    fn get_access_token_shared(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<Arc<AccessToken>>, StoreError>> + Send {
        async move { Ok(self.get_access_token(token).await?.map(Arc::new)) }
    }

    /// The OAuth Session extension's refresh, atomically: **if** the access
    /// token `old` is still active, revokes it at `at` **and** stores `next`.
    /// Both or neither: `Ok(false)` and nothing written when `old` is gone
    /// or no longer active — so of many racing refreshes, one wins.
    fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes one access token at `at`. `Ok(true)` when it was active.
    fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every active access token `user_id` granted to `consumer_key`;
    /// returns how many.
    fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The active access tokens `user_id` has granted, oldest first.
    fn list_user_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessToken>, StoreError>> + Send;

    /// Deletes request tokens whose TTL passed before `now`; returns how many.
    fn purge_expired(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Where used nonces are remembered until their timestamp leaves the window.
pub trait NonceStore: Send + Sync {
    /// Remembers `key` until `expires_at` if it is new (insert-if-absent,
    /// atomically); says whether it was. `now` is the provider's clock (a
    /// store with TTLs uses `expires_at - now`).
    fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<NonceOutcome, StoreError>> + Send;

    /// Forgets nonces that expired before `now`; returns how many.
    fn purge_nonces(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

impl<S: TokenStore + ?Sized> TokenStore for Arc<S> {
    fn insert_request_token(
        &self,
        token: &RequestToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).insert_request_token(token)
    }
    fn get_request_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<RequestToken>, StoreError>> + Send {
        (**self).get_request_token(token)
    }
    fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).update_request_token(expected, next)
    }
    fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).exchange_request_token(expected, exchanged, access)
    }
    fn get_access_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<AccessToken>, StoreError>> + Send {
        (**self).get_access_token(token)
    }
    fn get_access_token_shared(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<Arc<AccessToken>>, StoreError>> + Send {
        (**self).get_access_token_shared(token)
    }
    fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).refresh_access_token(old, at, next)
    }
    fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).revoke_access_token(token, at)
    }
    fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        (**self).revoke_user_tokens(user_id, consumer_key, at)
    }
    fn list_user_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessToken>, StoreError>> + Send {
        (**self).list_user_tokens(user_id)
    }
    fn purge_expired(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        (**self).purge_expired(now)
    }
}

impl<N: NonceStore + ?Sized> NonceStore for Arc<N> {
    fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<NonceOutcome, StoreError>> + Send {
        (**self).insert_nonce(key, now, expires_at)
    }
    fn purge_nonces(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        (**self).purge_nonces(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_digests_separate_the_parts() {
        let key = |consumer_key, token, nonce| NonceKey {
            consumer_key,
            token,
            timestamp: 1,
            nonce,
        };
        let digest = key("a:b", "c", "n").digest();
        assert_ne!(digest, key("a", "b:c", "n").digest());
        assert_ne!(key("ab", "", "n").digest(), key("a", "b", "n").digest());
        assert_ne!(
            digest,
            NonceKey {
                timestamp: 2,
                ..key("a:b", "c", "n")
            }
            .digest()
        );
        assert_eq!(digest, key("a:b", "c", "n").digest());
    }
}
