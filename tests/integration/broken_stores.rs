//! The conformance suite catches stores broken on purpose. Each is
//! [`Broken`], a thin wrapper over `MemoryStore` that breaks one contract
//! (its [`Fault`]); the suite must fail on it, and its message must name
//! the trait method and the contract. With no fault the same wrapper passes
//! the whole suite, reopening included: what fails is the fault.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use oauth1_provider::model::{AccessToken, RequestToken, StateTag, Verifier};
use oauth1_provider::store::{
    EventStore, NonceKey, NonceOutcome, NonceStore, StoreError, StoredEvent, TokenStore,
};
use oauth1_provider::{MemoryStore, testing};
use time::{Duration, OffsetDateTime};

/// The one thing a [`Broken`] store gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Nothing: the wrapper as it should be.
    None,
    /// The exchange compares the state, then writes unconditionally, with a
    /// round trip (an `.await`) between.
    ExchangeNotAtomic,
    /// The compare-and-set compares, then writes unconditionally.
    CompareAndSetNotAtomic,
    /// The refresh checks the old token is active, then refreshes whatever
    /// it is by then.
    RefreshNotAtomic,
    /// `revoke_access_token` answers true and writes nothing.
    RevocationLost,
    /// `revoke_user_tokens` revokes all but the newest.
    RevokeUserTokensMissesOne,
    /// `insert_nonce` remembers, but always answers Fresh.
    NonceAlwaysFresh,
    /// Expired nonces are forgotten only by `purge_nonces`.
    NonceExpiresOnlyOnPurge,
    /// A nonce is forgotten a second after its `expires_at`.
    NonceExpiryOffByOne,
    /// `purge_expired(now)` keeps the tokens expiring exactly at `now`.
    PurgeKeepsTokensExpiringNow,
    /// `list_user_tokens` lists revoked tokens too.
    ListIncludesRevoked,
    /// `list_user_tokens` leaves out session tokens expired by the wall
    /// clock.
    ListHidesExpiredSessions,
    /// `get_request_token` hides request tokens expired by the wall clock.
    GetHidesExpiredRequestTokens,
    /// `count_request_tokens` counts the tokens expiring exactly at `now`.
    CountIncludesExpiringNow,
    /// `insert_request_token` overwrites a token already stored.
    DuplicateInsertOverwrites,
    /// The persistence mapping drops a session's
    /// `authorization_expires_at`; a cache in front of it hides that until
    /// the store is reopened.
    ReopenDropsAField,
    /// Nonces live in the handle's memory: reopening forgets them.
    ReopenForgetsNonces,
}

/// What survives reopening a [`Broken`] store: "the database".
#[derive(Clone, Default)]
struct Database {
    store: MemoryStore,
    /// Every access token stored, for a listing that includes revoked ones.
    granted: Arc<Mutex<Vec<String>>>,
}

/// A handle on a [`Database`] that breaks one contract.
#[derive(Clone)]
struct Broken {
    fault: Fault,
    db: Database,
    /// This handle's cache of the field the "database" drops.
    authorization_ends: Arc<Mutex<HashMap<String, Option<OffsetDateTime>>>>,
    /// Where nonces are remembered: the database, or this handle's memory.
    nonces: MemoryStore,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Broken {
    fn open(fault: Fault, db: &Database) -> Self {
        Self {
            fault,
            db: db.clone(),
            authorization_ends: Arc::default(),
            nonces: if fault == Fault::ReopenForgetsNonces {
                MemoryStore::new()
            } else {
                db.store.clone()
            },
        }
    }

    /// `access` as this handle writes it to the database.
    fn as_written(&self, access: &AccessToken) -> AccessToken {
        let mut written = access.clone();
        if self.fault == Fault::ReopenDropsAField
            && let Some(session) = &mut written.session
        {
            let end = session.authorization_expires_at.take();
            lock(&self.authorization_ends).insert(access.token.clone(), end);
        }
        written
    }

    /// `read` as this handle answers it: from its cache where it has one.
    fn as_answered(&self, mut read: AccessToken) -> AccessToken {
        if let Some(session) = &mut read.session
            && let Some(end) = lock(&self.authorization_ends).get(&read.token)
        {
            session.authorization_expires_at = *end;
        }
        read
    }

    fn granted(&self, access: &AccessToken) {
        lock(&self.db.granted).push(access.token.clone());
    }

    /// The stored request token's tag, read again.
    async fn stored_tag(&self, token: &str) -> Result<Option<StateTag>, StoreError> {
        let stored = self.db.store.get_request_token(token).await?;
        Ok(stored.map(|t| t.state.tag()))
    }
}

/// Stores `access` in the memory store the only way its trait allows: by
/// exchanging a request token of its own for it.
async fn insert_access_token(db: &MemoryStore, access: &AccessToken) -> Result<(), StoreError> {
    let request = RequestToken {
        consumer_key: access.consumer_key.clone(),
        ..testing::sample_request_token(access.created_at)
    };
    db.insert_request_token(&request).await?;
    let approved = request
        .approve(access.user.clone(), Verifier::new("v"), request.created_at)
        .expect("a fresh request token is approvable");
    db.update_request_token(StateTag::Issued, &approved).await?;
    let Ok(Ok((exchanged, _))) = approved.exchange("v", 1, request.created_at) else {
        panic!("an approved request token is exchangeable with its verifier");
    };
    db.exchange_request_token(approved.state.tag(), &exchanged, access)
        .await?;
    Ok(())
}

impl TokenStore for Broken {
    async fn insert_request_token(&self, token: &RequestToken) -> Result<(), StoreError> {
        let db = &self.db.store;
        if self.fault == Fault::DuplicateInsertOverwrites
            && let Some(stored) = db.get_request_token(&token.token).await?
        {
            db.update_request_token(stored.state.tag(), token).await?;
            return Ok(());
        }
        db.insert_request_token(token).await
    }

    async fn count_request_tokens(
        &self,
        consumer_key: &str,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let now = match self.fault {
            Fault::CountIncludesExpiringNow => now - Duration::seconds(1),
            _ => now,
        };
        self.db.store.count_request_tokens(consumer_key, now).await
    }

    async fn get_request_token(&self, token: &str) -> Result<Option<RequestToken>, StoreError> {
        let found = self.db.store.get_request_token(token).await?;
        Ok(match self.fault {
            Fault::GetHidesExpiredRequestTokens => {
                found.filter(|t| !t.is_expired(OffsetDateTime::now_utc()))
            }
            _ => found,
        })
    }

    async fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> Result<bool, StoreError> {
        let db = &self.db.store;
        if self.fault != Fault::CompareAndSetNotAtomic {
            return db.update_request_token(expected, next).await;
        }
        if self.stored_tag(&next.token).await? != Some(expected) {
            return Ok(false);
        }
        tokio::task::yield_now().await;
        // Then an unconditional write (`UPDATE … WHERE token = ?`).
        while let Some(now_stored) = self.stored_tag(&next.token).await? {
            if db.update_request_token(now_stored, next).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Result<bool, StoreError> {
        let db = &self.db.store;
        let written = self.as_written(access);
        let won = match self.fault {
            Fault::ExchangeNotAtomic => {
                if self.stored_tag(&exchanged.token).await? != Some(expected) {
                    return Ok(false);
                }
                tokio::task::yield_now().await;
                // Then an unconditional write.
                let mut won = false;
                while let Some(now_stored) = self.stored_tag(&exchanged.token).await? {
                    if db
                        .exchange_request_token(now_stored, exchanged, &written)
                        .await?
                    {
                        won = true;
                        break;
                    }
                }
                won
            }
            _ => {
                db.exchange_request_token(expected, exchanged, &written)
                    .await?
            }
        };
        if won {
            self.granted(access);
        }
        Ok(won)
    }

    async fn get_access_token(&self, token: &str) -> Result<Option<AccessToken>, StoreError> {
        let found = self.db.store.get_access_token(token).await?;
        Ok(found.map(|t| self.as_answered(t)))
    }

    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Result<bool, StoreError> {
        let db = &self.db.store;
        let written = self.as_written(next);
        if self.fault == Fault::RefreshNotAtomic {
            if db.get_access_token(&next.token).await?.is_some() {
                return Err(StoreError::new("duplicate access token"));
            }
            let active = db
                .get_access_token(old)
                .await?
                .is_some_and(|t| t.is_active());
            if !active {
                return Ok(false);
            }
            tokio::task::yield_now().await;
            // Whatever the old token is by now: revoked (again), and the
            // successor stored all the same.
            db.revoke_access_token(old, at).await?;
            insert_access_token(db, &written).await?;
            self.granted(next);
            return Ok(true);
        }
        let won = db.refresh_access_token(old, at, &written).await?;
        if won {
            self.granted(next);
        }
        Ok(won)
    }

    async fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let db = &self.db.store;
        if self.fault == Fault::RevocationLost {
            return Ok(db
                .get_access_token(token)
                .await?
                .is_some_and(|t| t.is_active()));
        }
        db.revoke_access_token(token, at).await
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let db = &self.db.store;
        if self.fault != Fault::RevokeUserTokensMissesOne {
            return db.revoke_user_tokens(user_id, consumer_key, at).await;
        }
        let mut tokens = db.list_user_tokens(user_id).await?;
        tokens.retain(|t| t.consumer_key == consumer_key);
        tokens.pop();
        for token in &tokens {
            db.revoke_access_token(&token.token, at).await?;
        }
        Ok(tokens.len())
    }

    async fn list_user_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        let db = &self.db.store;
        let mut tokens = match self.fault {
            Fault::ListIncludesRevoked => {
                let granted = lock(&self.db.granted).clone();
                let mut tokens = Vec::new();
                for token in granted {
                    if let Some(t) = db.get_access_token(&token).await?
                        && t.user.user_id == user_id
                    {
                        tokens.push(t);
                    }
                }
                tokens.sort_by(|a, b| (a.created_at, &a.token).cmp(&(b.created_at, &b.token)));
                tokens
            }
            _ => db.list_user_tokens(user_id).await?,
        };
        if self.fault == Fault::ListHidesExpiredSessions {
            tokens.retain(|t| !t.is_expired(OffsetDateTime::now_utc()));
        }
        Ok(tokens.into_iter().map(|t| self.as_answered(t)).collect())
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let now = match self.fault {
            Fault::PurgeKeepsTokensExpiringNow => now - Duration::seconds(1),
            _ => now,
        };
        self.db.store.purge_expired(now).await
    }
}

impl NonceStore for Broken {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        // The memory store forgets the nonces expired at `now` as it
        // inserts; an earlier `now` makes it forget too little.
        let now = match self.fault {
            Fault::NonceExpiresOnlyOnPurge => OffsetDateTime::UNIX_EPOCH,
            Fault::NonceExpiryOffByOne => now - Duration::seconds(1),
            _ => now,
        };
        let outcome = self.nonces.insert_nonce(key, now, expires_at).await?;
        Ok(match self.fault {
            Fault::NonceAlwaysFresh => NonceOutcome::Fresh,
            _ => outcome,
        })
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.nonces.purge_nonces(now).await
    }
}

/// Runs the whole suite, reopening included, on a [`Broken`] store with
/// `fault`, in a task of its own: the panic it ended with, if any.
async fn run_suite(fault: Fault) -> Option<String> {
    let suite = async move {
        let db = Database::default();
        testing::run_conformance_suite_with_reopen(move || {
            let store = Broken::open(fault, &db);
            async move { Ok::<_, Infallible>(store) }
        })
        .await;
    };
    let error = tokio::spawn(suite).await.err()?;
    let panic = error.try_into_panic().expect("the suite panicked");
    Some(match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic.downcast::<&str>().map_or_else(
            |_| "a panic without a message".to_owned(),
            |m| (*m).to_owned(),
        ),
    })
}

/// The suite fails on a store with `fault`, with a message that contains
/// each of `names` (the method and the contract it broke).
async fn caught(fault: Fault, names: &[&str]) {
    let Some(message) = run_suite(fault).await else {
        panic!("the conformance suite passed a store with fault {fault:?}");
    };
    for name in names {
        assert!(
            message.contains(name),
            "the suite caught {fault:?}, but its message does not say {name:?}:\n{message}"
        );
    }
    assert!(
        !message.contains("left: ") && message.contains("contract: "),
        "the message names no contract:\n{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapper_without_a_fault_passes_the_whole_suite() {
    assert_eq!(run_suite(Fault::None).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_count_that_includes_tokens_expiring_now() {
    caught(
        Fault::CountIncludesExpiringNow,
        &[
            "TokenStore::count_request_tokens broke its contract",
            "count_request_tokens(consumer_key, now) counts",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_an_exchange_that_is_not_atomic() {
    caught(
        Fault::ExchangeNotAtomic,
        &[
            "TokenStore::exchange_request_token broke its contract",
            "racers advancing in lockstep won when they raced to exchange one request token",
            "exchange_request_token is atomic",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_compare_and_set_that_is_not_atomic() {
    caught(
        Fault::CompareAndSetNotAtomic,
        &[
            "TokenStore::update_request_token broke its contract",
            "racers advancing in lockstep won when they raced to approve one request token",
            "one atomic compare-and-set",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_refresh_that_is_not_atomic() {
    caught(
        Fault::RefreshNotAtomic,
        &[
            "TokenStore::refresh_access_token broke its contract",
            "racers advancing in lockstep won when they raced to refresh one access token",
            "refresh_access_token is atomic",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_lost_revocation() {
    caught(
        Fault::RevocationLost,
        &[
            "TokenStore::revoke_access_token broke its contract",
            "after revoke_access_token answered true",
            "`state` stored as Revoked",
            "turns an active token into Revoked { at }",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_revoke_user_tokens_missing_one() {
    caught(
        Fault::RevokeUserTokensMissesOne,
        &[
            "TokenStore::revoke_user_tokens broke its contract",
            "(active for this user and consumer) after revoke_user_tokens",
            "every active access token that user granted that consumer",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_forgotten_nonce() {
    caught(
        Fault::NonceAlwaysFresh,
        &[
            "NonceStore::insert_nonce broke its contract",
            "answered Fresh to the second use of a nonce",
            "insert-if-absent on the whole key",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_nonces_that_expire_only_on_purge() {
    caught(
        Fault::NonceExpiresOnlyOnPurge,
        &[
            "NonceStore::insert_nonce broke its contract",
            "still an hour after it, with no purge_nonces call",
            "whether or not purge_nonces ran",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_nonce_expiry_off_by_one() {
    caught(
        Fault::NonceExpiryOffByOne,
        &[
            "NonceStore::insert_nonce broke its contract",
            "Fresh an hour later: it forgets a nonce only after its expires_at",
            "at now >= expires_at insert_nonce treats it as absent",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_purge_off_by_one_at_the_boundary() {
    caught(
        Fault::PurgeKeepsTokensExpiringNow,
        &[
            "TokenStore::purge_expired broke its contract",
            "expiring exactly at `now` (the boundary is <=, not <)",
            "deletes every request token whose expires_at <= now",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_listing_with_revoked_tokens() {
    caught(
        Fault::ListIncludesRevoked,
        &[
            "TokenStore::list_user_tokens broke its contract",
            "which is revoked by revoke_access_token",
            "\"active\" means not revoked",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_listing_without_expired_sessions() {
    caught(
        Fault::ListHidesExpiredSessions,
        &[
            "TokenStore::list_user_tokens broke its contract",
            "a session token whose expires_at has passed, not revoked",
            "expired session tokens and sessions whose authorization ended are listed",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_expired_request_tokens_hidden() {
    caught(
        Fault::GetHidesExpiredRequestTokens,
        &[
            "TokenStore::get_request_token broke its contract",
            "has passed by the wall clock",
            "whatever its expires_at and state, until purge_expired deletes it",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_duplicate_insert_that_overwrites() {
    caught(
        Fault::DuplicateInsertOverwrites,
        &[
            "TokenStore::insert_request_token broke its contract",
            "already stored, and overwrote the first",
            "is a StoreError that writes nothing",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_a_field_lost_on_reopening() {
    caught(
        Fault::ReopenDropsAField,
        &[
            "TokenStore::get_access_token broke its contract",
            "after reopening the store",
            "`session.authorization_expires_at` stored as Some(",
            "read back as None",
            "survives reopening it",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catches_nonces_forgotten_on_reopening() {
    caught(
        Fault::ReopenForgetsNonces,
        &[
            "NonceStore::insert_nonce broke its contract",
            "after reopening the store",
            "still remembered after it",
        ],
    )
    .await;
}

/// The suite refuses a current-thread runtime, where its races would take
/// turns, and says what to change.
#[test]
fn the_suite_refuses_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let refused = std::panic::catch_unwind(|| {
        runtime.block_on(testing::run_conformance_suite(MemoryStore::new()));
    })
    .expect_err("the suite ran on a current-thread runtime");
    let message = refused
        .downcast::<String>()
        .map_or_else(|_| String::new(), |m| *m);
    assert!(
        message.contains("refuses a current-thread Tokio runtime")
            && message.contains("#[tokio::test(flavor = \"multi_thread\")]"),
        "{message}"
    );
}

/// The one thing a [`BrokenEvents`] store gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventFault {
    /// Nothing: `MemoryStore`'s events as they are.
    None,
    /// `list_events` answers the oldest first.
    OldestFirst,
    /// `list_events` ignores the user asked for.
    EveryonesForAUser,
    /// `purge_events(before)` also deletes the events at `before`.
    PurgeTakesTheBound,
    /// Appending drops the consumer key.
    LosesTheConsumer,
}

/// A `MemoryStore`'s events with one [`EventFault`].
struct BrokenEvents(MemoryStore, EventFault);

impl EventStore for BrokenEvents {
    async fn append_events(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        let mut events = events.to_vec();
        if self.1 == EventFault::LosesTheConsumer {
            events.iter_mut().for_each(|e| e.consumer_key = None);
        }
        self.0.append_events(&events).await
    }

    async fn list_events(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let user_id = user_id.filter(|_| self.1 != EventFault::EveryonesForAUser);
        let mut events = self.0.list_events(user_id, usize::MAX).await?;
        if self.1 == EventFault::OldestFirst {
            events.reverse();
        }
        events.truncate(limit);
        Ok(events)
    }

    async fn purge_events(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        let before = match self.1 {
            EventFault::PurgeTakesTheBound => before + Duration::seconds(1),
            _ => before,
        };
        self.0.purge_events(before).await
    }
}

/// The event suite's panic on a store with `fault`, if any.
async fn event_suite_panics(fault: EventFault) -> Option<String> {
    let suite = async move {
        testing::run_event_store_suite(&BrokenEvents(MemoryStore::new(), fault)).await;
    };
    let panic = tokio::spawn(suite).await.err()?.try_into_panic().ok()?;
    panic.downcast::<String>().ok().map(|m| *m)
}

#[tokio::test]
async fn the_event_suite_catches_each_broken_event_store() {
    assert_eq!(event_suite_panics(EventFault::None).await, None);
    for (fault, method, contract) in [
        (
            EventFault::OldestFirst,
            "EventStore::list_events broke its contract",
            "answers the newest first",
        ),
        (
            EventFault::EveryonesForAUser,
            "EventStore::list_events broke its contract",
            "only the given user's",
        ),
        (
            EventFault::PurgeTakesTheBound,
            "EventStore::purge_events broke its contract",
            "deletes the events older than `before`, and no other",
        ),
        (
            EventFault::LosesTheConsumer,
            "EventStore::list_events broke its contract",
            "reads back with every field as it was appended",
        ),
    ] {
        let message = event_suite_panics(fault)
            .await
            .unwrap_or_else(|| panic!("the event suite passed a store with {fault:?}"));
        assert!(
            message.contains(method) && message.contains(contract),
            "{fault:?}: {message}"
        );
    }
}
