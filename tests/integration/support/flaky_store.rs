//! A store that fails on purpose, to test what a provider does when its
//! store does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use oauth1_provider::model::{AccessToken, RequestToken, StateTag};
use oauth1_provider::store::{NonceKey, NonceOutcome, NonceStore, TokenStore};
use oauth1_provider::{MemoryStore, StoreError};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use time::OffsetDateTime;

/// A store that fails on purpose: every operation while `failing` is set,
/// and whatever [`Faults`] plans (the Nth operation, or each one with a
/// seeded probability). A failed operation does nothing to the data.
#[derive(Clone, Default)]
pub struct FlakyStore {
    pub inner: MemoryStore,
    pub failing: Arc<AtomicBool>,
    pub faults: Arc<Mutex<Faults>>,
}

/// Which operations of a [`FlakyStore`] fail, counting every token and nonce
/// operation from 1.
#[derive(Debug, Default)]
pub struct Faults {
    /// Operations so far.
    pub ops: u64,
    /// Fail the operation with this number.
    pub fail_at: Option<u64>,
    /// Fail each operation with probability `per_mille / 1000`, drawn from
    /// this seeded generator.
    pub random: Option<(StdRng, u32)>,
    /// Operations failed so far.
    pub injected: u64,
}

impl FlakyStore {
    /// A store whose operation number `n` fails.
    pub fn failing_at(n: u64) -> Self {
        let store = Self::default();
        store.faults().fail_at = Some(n);
        store
    }

    /// A store each of whose operations fails with probability
    /// `per_mille / 1000`, reproducibly for `seed`.
    pub fn failing_randomly(seed: u64, per_mille: u32) -> Self {
        let store = Self::default();
        store.faults().random = Some((StdRng::seed_from_u64(seed), per_mille));
        store
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self) -> Result<(), StoreError> {
        let mut faults = self.faults();
        faults.ops += 1;
        let planned = faults.fail_at == Some(faults.ops);
        let random = match &mut faults.random {
            Some((rng, per_mille)) => rng.random_range(0..1000) < *per_mille,
            None => false,
        };
        if self.failing.load(Ordering::SeqCst) || planned || random {
            faults.injected += 1;
            Err(StoreError::new(std::io::Error::other("connection refused")))
        } else {
            Ok(())
        }
    }
}

impl TokenStore for FlakyStore {
    async fn insert_request_token(&self, token: &RequestToken) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_request_token(token).await
    }
    async fn count_request_tokens(
        &self,
        consumer_key: &str,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.count_request_tokens(consumer_key, now).await
    }
    async fn get_request_token(&self, token: &str) -> Result<Option<RequestToken>, StoreError> {
        self.check()?;
        self.inner.get_request_token(token).await
    }
    async fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.update_request_token(expected, next).await
    }
    async fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner
            .exchange_request_token(expected, exchanged, access)
            .await
    }
    async fn get_access_token(&self, token: &str) -> Result<Option<AccessToken>, StoreError> {
        self.check()?;
        self.inner.get_access_token(token).await
    }
    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.refresh_access_token(old, at, next).await
    }
    async fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.revoke_access_token(token, at).await
    }
    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.check()?;
        self.inner
            .revoke_user_tokens(user_id, consumer_key, at)
            .await
    }
    async fn list_user_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        self.check()?;
        self.inner.list_user_tokens(user_id).await
    }
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.purge_expired(now).await
    }
}

impl NonceStore for FlakyStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        self.check()?;
        self.inner.insert_nonce(key, now, expires_at).await
    }
    async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.purge_nonces(now).await
    }
}
