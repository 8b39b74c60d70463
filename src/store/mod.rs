//! Storage: the [`TokenStore`], [`NonceStore`], [`ConsumerStore`] and
//! [`EventStore`] traits a host can implement, and [`MemoryStore`], the
//! reference implementation.
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

use crate::model::consumer::{Consumer, ConsumerState};
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
mod sealed;
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
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use sealed::{InvalidServerKey, ServerKey};
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
/// 1. Persist [`RequestToken`] and [`AccessToken`] whole — every field, in
///    every state (they are plain data, in [`crate::model`]) — and give
///    them back as they were stored, after a restart too. Times may be kept
///    to the whole second (the SQL stores drop sub-second parts).
/// 2. Make the single-use transitions atomic: [`TokenStore::update_request_token`]
///    is a compare-and-set on the stored state's [`StateTag`], and
///    [`TokenStore::exchange_request_token`] and
///    [`TokenStore::refresh_access_token`] write both records or neither
///    (one transaction, or one conditional statement), so that of two
///    instances racing on one token exactly one wins. A read, then a write
///    that does not check again what it read, is not atomic.
/// 3. Answer expected outcomes as values (`Ok(None)`, `Ok(false)`) and keep
///    [`StoreError`] for infrastructure failure, wrapping the driver's error
///    ([`StoreError::new`]) so that its `source()` survives.
/// 4. Never block the async worker threads the methods are polled on: one
///    blocked worker stalls every request queued behind it. Await an async
///    driver (tokio-postgres, sqlx, redis); run each call of a blocking one
///    (rusqlite, diesel, a synchronous client) on Tokio's blocking pool with
///    `tokio::task::spawn_blocking` and await that, as `SqliteStore` does.
/// 5. Prove it with the conformance suite, `oauth1_provider::testing` (feature
///    `test-util`), in a `#[tokio::test(flavor = "multi_thread")]` — it
///    refuses a current-thread runtime, where its races would take turns:
///    `run_conformance_suite_with_reopen(|| YourStore::open(…)).await`, so
///    that it also checks what survives reopening the store, or
///    `run_conformance_suite(your_store).await` for a store with nothing to
///    reopen. It checks every contract below and points 1 to 3 (all but
///    that an error keeps its source); blocking it cannot see without
///    timing it.
///
/// `SqliteStore` and `PostgresStore` (features `sqlite`, `postgres`) are
/// complete examples over SQL.
///
/// # Contracts
///
/// Besides each method's own:
///
/// - **Expiry is the provider's to judge**, on its own clock: a request
///   token whose `expires_at <= now` is expired
///   ([`RequestToken::is_expired`]), and so is an access token whose
///   `expires_at <= now` ([`AccessToken::is_expired`]). A store never
///   filters by expiry when it reads: [`TokenStore::get_request_token`]
///   returns a token whatever its `expires_at`, until
///   [`TokenStore::purge_expired`] deletes it (the provider answers it
///   `token_expired`, not as unknown), and [`TokenStore::list_user_tokens`]
///   and [`TokenStore::refresh_access_token`] ignore `expires_at` (a
///   session token is refreshed after it expired).
/// - **Active means not revoked** ([`AccessTokenState::Active`]), whatever
///   `expires_at` or a session's `authorization_expires_at` say — for
///   listing, revoking and refreshing alike.
/// - **A duplicate is an error.** Inserting a token whose token string is
///   already stored — a request token, or the new access token of an
///   exchange or a refresh — is a [`StoreError`] and writes nothing: the
///   stored token, the request token's state and the old access token stay
///   as they were. Tokens are random, so a duplicate is a bug; overwriting
///   would hand one grant to another consumer.
/// - **Unknown tokens** are `Ok(None)` to a read and `Ok(false)` or `Ok(0)`
///   to a write, which creates nothing.
///
/// [`AccessTokenState::Active`]: crate::model::token::AccessTokenState::Active
pub trait TokenStore: Send + Sync {
    /// Stores a new request token. A token whose token string is already
    /// stored is a [`StoreError`], and nothing is written: tokens are
    /// random, so a duplicate is a bug, never overwritten.
    fn insert_request_token(
        &self,
        token: &RequestToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many request tokens of `consumer_key` are stored whose
    /// `expires_at` is after `now`, in any state: what the provider weighs
    /// against [`ProviderConfig::max_request_tokens`] before it issues
    /// another, so that no consumer fills the store. Expired ones not yet
    /// purged do not count.
    ///
    /// [`ProviderConfig::max_request_tokens`]: crate::ProviderConfig::max_request_tokens
    fn count_request_tokens(
        &self,
        consumer_key: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Looks a request token up, in whatever state, whether or not its
    /// `expires_at` has passed (the provider judges that on its own clock):
    /// `Ok(None)` only for a token never stored, or deleted since by
    /// [`TokenStore::purge_expired`].
    fn get_request_token(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<RequestToken>, StoreError>> + Send;

    /// Replaces the request token `next.token` with `next` **only if** its
    /// stored state still has tag `expected` — failed attempts included —
    /// in one atomic compare-and-set: of writers racing with the same
    /// `expected`, exactly one wins. `Ok(false)`, and nothing written, when
    /// the state changed under us or the token is gone (it is not created).
    fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Atomically: replaces the request token with `exchanged` (its
    /// `Exchanged` record) if its state still has tag `expected`, **and**
    /// stores `access`. Both or neither: `Ok(false)` and nothing written
    /// when the state changed under us or the token is gone, so that of
    /// racing exchanges exactly one wins and one access token is stored.
    /// When the state matches but `access`'s token string is already
    /// stored, the answer is a [`StoreError`], and nothing is written.
    fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Looks an access token up: active or revoked, expired or not.
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
    /// token `old` is still active — not revoked; that its `expires_at` has
    /// passed is what a refresh is for — revokes it at `at` **and** stores
    /// `next`. Both or neither: `Ok(false)` and nothing written when `old`
    /// is gone or revoked — so of many racing refreshes, one wins. When
    /// `old` is active but `next`'s token string is already stored, the
    /// answer is a [`StoreError`], and nothing is written (`old` stays
    /// active).
    fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes one access token at `at`: an active token becomes
    /// `Revoked { at }`, and the answer is `Ok(true)`. A token already
    /// revoked keeps its first time, and an unknown one stays unknown: both
    /// `Ok(false)`.
    fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes at `at` every active access token `user_id` granted to
    /// `consumer_key` — and no other user's or consumer's; returns how many.
    fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Every access token `user_id` has granted that is not revoked, and no
    /// other, oldest first by `created_at`. Session tokens whose
    /// `expires_at` has passed, and sessions whose authorization ended, are
    /// listed too: the provider decides what to show on its own clock.
    fn list_user_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessToken>, StoreError>> + Send;

    /// Deletes every request token whose `expires_at <= now` — in any
    /// state, one expiring exactly at `now` included — and nothing else;
    /// returns how many. Access tokens are never purged.
    fn purge_expired(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Where used nonces are remembered until their timestamp leaves the window.
///
/// [`TokenStore`]'s "implementing your own store" holds here too: `Send +
/// Sync`, [`StoreError`] for failures only, blocking drivers on
/// `spawn_blocking`, and the conformance suite to prove it
/// (`run_nonce_store_suite_with_reopen` for a nonce-only store).
///
/// # Contracts
///
/// - **Insert-if-absent, atomically**, on the whole [`NonceKey`]: the first
///   use of a key is `Fresh`, a use while it is remembered is `Replayed`,
///   and of racing inserts of one key exactly one is `Fresh`.
/// - **Expiry**: a nonce is remembered while `now < expires_at`. At
///   `now >= expires_at`, [`NonceStore::insert_nonce`] treats it as absent
///   (`Fresh`, and remembered again until the new `expires_at`) whether or
///   not [`NonceStore::purge_nonces`] ran: purging frees space; it is not
///   what makes a nonce expire. Times may be kept to the whole second (the
///   provider's nonce expiries are whole seconds).
/// - **Persistence**: a store whose data outlives the process remembers its
///   nonces across a restart; otherwise a request replayed just after one
///   is accepted. ([`MemoryStore`] forgets them with the process.)
pub trait NonceStore: Send + Sync {
    /// Remembers `key` until `expires_at` if it is new (insert-if-absent,
    /// atomically); says whether it was. A remembered key whose
    /// `expires_at <= now` counts as new. `now` is the provider's clock (a
    /// store with TTLs uses `expires_at - now`).
    fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = Result<NonceOutcome, StoreError>> + Send;

    /// Forgets the nonces whose `expires_at <= now`, and no other; returns
    /// how many (0 from a store whose backend expires them itself, as
    /// Redis does).
    fn purge_nonces(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Consumers kept as shared, managed data: registered, approved, disabled
/// and deleted on one instance, seen by every instance of the host on the
/// same database. Implemented by [`MemoryStore`], `SqliteStore` and
/// `PostgresStore`; a provider uses it after
/// [`Provider::with_stored_consumers`](crate::Provider::with_stored_consumers).
///
/// It extends [`TokenStore`] because deleting a consumer revokes its tokens
/// in the same transaction: the two live in one database.
///
/// # Contracts
///
/// - **Keys are never reused.** [`ConsumerStore::insert_consumer`] refuses
///   (`Ok(false)`, nothing written) a key that is stored or was ever
///   deleted: a deleted consumer's tokens can never come back to life under
///   a new registration of its key.
/// - **Compare-and-set on the revision.** [`ConsumerStore::update_consumer`]
///   replaces the record only if the stored one has the `expected`
///   revision, and stores `next` with revision `expected + 1`: of two racing
///   changes exactly one wins.
/// - **Delete is atomic with its tokens.** [`ConsumerStore::delete_consumer`]
///   removes the consumer, deletes its request tokens and revokes its
///   active access tokens in one transaction, all or nothing.
/// - Lists are sorted by key; `get` never returns a deleted consumer.
pub trait ConsumerStore: TokenStore {
    /// Stores a new consumer with revision 0. `Ok(false)` and nothing
    /// written when its key is stored, or was deleted.
    fn insert_consumer(
        &self,
        consumer: &Consumer,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The consumer with this key, in whatever state; `Ok(None)` when it
    /// was never stored or was deleted.
    fn get_consumer(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Consumer>, StoreError>> + Send;

    /// Replaces the consumer `next.key` with `next` (at revision
    /// `expected + 1`) if its stored revision is `expected`; `Ok(false)`, and
    /// nothing written, when it is not (or the consumer is gone).
    fn update_consumer(
        &self,
        expected: u64,
        next: &Consumer,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the consumer, deletes its request tokens and revokes at `at`
    /// its active access tokens, atomically; returns how many access tokens
    /// it revoked, or `Ok(None)` when there was no such consumer.
    fn delete_consumer(
        &self,
        key: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<usize>, StoreError>> + Send;

    /// The stored consumers in `state` (all states if `None`) owned by
    /// `owner` (anyone's if `None`), sorted by key.
    fn list_consumers(
        &self,
        state: Option<ConsumerState>,
        owner: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Consumer>, StoreError>> + Send;

    /// Every access token of `consumer_key` that is not revoked, oldest
    /// first by `created_at` (as [`TokenStore::list_user_tokens`] for a
    /// user).
    fn list_consumer_tokens(
        &self,
        consumer_key: &str,
    ) -> impl Future<Output = Result<Vec<AccessToken>, StoreError>> + Send;

    /// Revokes at `at` every active access token of `consumer_key`; returns
    /// how many.
    fn revoke_consumer_tokens(
        &self,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// One audit event as a store keeps it: the provider's
/// [`AuditEvent`](crate::provider::AuditEvent) rendered to its stable
/// names, so that a row written by one version reads in any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// When, on the provider's clock (whole seconds are kept).
    pub at: OffsetDateTime,
    /// The kind's stable name (`request_token_issued`, `refused`, …:
    /// [`EventKind::name`](crate::provider::EventKind::name)).
    pub kind: String,
    /// What else the kind says (`request_token signature_invalid
    /// UnknownConsumer`, `by=user count=1`), or empty.
    pub detail: String,
    /// The consumer concerned (for a refusal, as the client sent it).
    pub consumer_key: Option<String>,
    /// The user concerned, when known.
    pub user_id: Option<String>,
    /// The first characters of the token concerned.
    pub token_prefix: Option<String>,
    /// For a refusal, the address the request came from, if known.
    pub peer: Option<std::net::IpAddr>,
}

/// Where audit events are kept for a while, for an account page ("your
/// recent activity") and an administrator's page.
///
/// Implementing your own: `append_events` stores every event given (in
/// order); `list_events` answers the newest first (by `at`, then the
/// reverse of the order appended), at most `limit`, only those whose
/// `user_id` is the one asked for, if one is; `purge_events` deletes those
/// strictly older than `before` and says how many. No secret ever reaches
/// a store through this trait.
pub trait EventStore: Send + Sync {
    /// Stores `events`.
    fn append_events(
        &self,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The newest `limit` events, of `user_id` if given, newest first.
    fn list_events(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, StoreError>> + Send;

    /// Deletes the events older than `before`; how many.
    fn purge_events(
        &self,
        before: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

impl<S: EventStore + ?Sized> EventStore for Arc<S> {
    fn append_events(
        &self,
        events: &[StoredEvent],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).append_events(events)
    }
    fn list_events(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, StoreError>> + Send {
        (**self).list_events(user_id, limit)
    }
    fn purge_events(
        &self,
        before: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        (**self).purge_events(before)
    }
}

impl<S: TokenStore + ?Sized> TokenStore for Arc<S> {
    fn insert_request_token(
        &self,
        token: &RequestToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).insert_request_token(token)
    }
    fn count_request_tokens(
        &self,
        consumer_key: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        (**self).count_request_tokens(consumer_key, now)
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

    /// Stores keep this digest in place of the key: a change to it would
    /// make every stored nonce unknown, so replays of recent requests would
    /// pass until they expired. Pinned here.
    #[test]
    fn the_nonce_digest_is_stable() {
        let key = NonceKey {
            consumer_key: "dpf43f3p2l4k3l03",
            token: "nnch734d00sl2jdk",
            timestamp: 1_191_242_096,
            nonce: "kllo9940pd9333jh",
        };
        let hex: String = key.digest().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, PINNED_DIGEST);
    }

    const PINNED_DIGEST: &str = "ddf04299824bc334d3b7d72de0818e9513ae0ee266543a582cb05855ef7f811d";
}
