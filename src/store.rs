//! Storage: the [`TokenStore`] and [`NonceStore`] traits a host can
//! implement, and [`MemoryStore`], the reference implementation.
//!
//! The traits are native async (`-> impl Future<Output = …> + Send`),
//! `Send + Sync` and take `&self`. Expected outcomes ("not found", "nonce
//! already used", "state changed under us") are `Ok` values; [`StoreError`]
//! is for infrastructure failure only, and the provider answers it with 503.
//!
//! Only atomic primitives are asked of a store: insert-if-absent for nonces
//! and compare-and-set on a request token's [`StateTag`], so that two
//! provider instances racing on one request token can never both win.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::token::{AccessToken, RequestToken, StateTag};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NonceKey {
    /// The consumer key.
    pub consumer_key: String,
    /// The token, empty when the request had none.
    pub token: String,
    /// The request's `oauth_timestamp`.
    pub timestamp: u64,
    /// The decoded `oauth_nonce`.
    pub nonce: String,
}

/// Whether a nonce was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceOutcome {
    /// First use: now remembered.
    Fresh,
    /// Already used: the request is a replay.
    Replayed,
}

/// Where request and access tokens live.
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
        key: &NonceKey,
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
        key: &NonceKey,
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

/// How many inserts between lazy purges of expired entries in [`MemoryStore`].
const PURGE_EVERY: u32 = 1024;

#[derive(Debug, Default)]
struct MemoryInner {
    request_tokens: HashMap<String, RequestToken>,
    access_tokens: HashMap<String, AccessToken>,
    nonces: HashMap<NonceKey, OffsetDateTime>,
    inserts_since_purge: u32,
}

/// Tokens and nonces in process memory, behind one mutex: for tests and
/// single-process demos. Clones share the same data.
///
/// Memory stays bounded: expired request tokens and nonces are purged lazily
/// every 1024 inserts (and by [`TokenStore::purge_expired`] /
/// [`NonceStore::purge_nonces`]). Access tokens live until revoked.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<MemoryInner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemoryInner> {
        // Every critical section leaves the maps consistent, so a panic in
        // another thread does not make the data unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many nonces are remembered (for tests and capacity planning).
    pub fn nonce_count(&self) -> usize {
        self.lock().nonces.len()
    }

    /// How many request tokens are stored, in any state.
    pub fn request_token_count(&self) -> usize {
        self.lock().request_tokens.len()
    }
}

impl MemoryInner {
    fn maybe_purge(&mut self, now: OffsetDateTime) {
        self.inserts_since_purge += 1;
        if self.inserts_since_purge >= PURGE_EVERY {
            self.inserts_since_purge = 0;
            self.request_tokens.retain(|_, t| t.expires_at > now);
            self.nonces.retain(|_, expires| *expires > now);
        }
    }
}

impl TokenStore for MemoryStore {
    async fn insert_request_token(&self, token: &RequestToken) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.maybe_purge(token.created_at);
        if inner.request_tokens.contains_key(&token.token) {
            return Err(StoreError::new("duplicate request token"));
        }
        inner
            .request_tokens
            .insert(token.token.clone(), token.clone());
        Ok(())
    }

    async fn get_request_token(&self, token: &str) -> Result<Option<RequestToken>, StoreError> {
        Ok(self.lock().request_tokens.get(token).cloned())
    }

    async fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.request_tokens.get_mut(&next.token) {
            Some(current) if current.state.tag() == expected => {
                *current = next.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.access_tokens.contains_key(&access.token) {
            return Err(StoreError::new("duplicate access token"));
        }
        match inner.request_tokens.get_mut(&exchanged.token) {
            Some(current) if current.state.tag() == expected => {
                *current = exchanged.clone();
                inner
                    .access_tokens
                    .insert(access.token.clone(), access.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get_access_token(&self, token: &str) -> Result<Option<AccessToken>, StoreError> {
        Ok(self.lock().access_tokens.get(token).cloned())
    }

    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.access_tokens.contains_key(&next.token) {
            return Err(StoreError::new("duplicate access token"));
        }
        match inner.access_tokens.get_mut(old) {
            Some(current) if current.is_active() => {
                *current = current.revoke(at);
                inner.access_tokens.insert(next.token.clone(), next.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.access_tokens.get_mut(token) {
            Some(t) if t.is_active() => {
                *t = t.revoke(at);
                true
            }
            _ => false,
        })
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let mut revoked = 0;
        for t in inner.access_tokens.values_mut() {
            if t.is_active() && t.user.user_id == user_id && t.consumer_key == consumer_key {
                *t = t.revoke(at);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn list_user_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        let inner = self.lock();
        let mut tokens: Vec<AccessToken> = inner
            .access_tokens
            .values()
            .filter(|t| t.is_active() && t.user.user_id == user_id)
            .cloned()
            .collect();
        tokens.sort_by(|a, b| (a.created_at, &a.token).cmp(&(b.created_at, &b.token)));
        Ok(tokens)
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let before = inner.request_tokens.len();
        inner.request_tokens.retain(|_, t| t.expires_at > now);
        Ok(before - inner.request_tokens.len())
    }
}

impl NonceStore for MemoryStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        let mut inner = self.lock();
        inner.maybe_purge(now);
        match inner.nonces.get_mut(key) {
            // Still remembered: a replay.
            Some(expiry) if *expiry > now => Ok(NonceOutcome::Replayed),
            // Expired but not yet purged: its timestamp has left the window,
            // so remembering it afresh is what a purge-then-insert would do.
            Some(expiry) => {
                *expiry = expires_at;
                Ok(NonceOutcome::Fresh)
            }
            None => {
                inner.nonces.insert(key.clone(), expires_at);
                Ok(NonceOutcome::Fresh)
            }
        }
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let before = inner.nonces.len();
        inner.nonces.retain(|_, expires| *expires > now);
        Ok(before - inner.nonces.len())
    }
}
