//! The store conformance suite (feature `test-util`): any [`TokenStore`] /
//! [`NonceStore`] implementation can prove it keeps the guarantees the
//! provider relies on — lifecycle, compare-and-set, atomic exchange under
//! real concurrency, revocation, expiry and purging.
//!
//! ```no_run
//! # #[allow(dead_code)]
//! # async fn demo() {
//! use oauth1_provider::{MemoryStore, testing};
//! testing::run_conformance_suite(MemoryStore::new()).await;
//! # }
//! ```
//!
//! Run it inside a multi-threaded Tokio runtime: the concurrency cases spawn
//! tasks. Each check panics with a message naming the broken guarantee. Every
//! token and nonce it creates is random, so it can run repeatedly against a
//! shared database.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::model::secret::{SessionHandle, TokenSecret, Verifier};
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
};
use crate::model::user::User;
use crate::protocol::random::random_token;
use crate::store::{NonceKey, NonceOutcome, NonceStore, TokenStore};

/// How many tasks race in the concurrency cases.
pub const RACERS: usize = 1000;

fn unique(prefix: &str) -> String {
    let suffix = random_token(12).unwrap_or_else(|_| panic!("OS random source failed"));
    format!("{prefix}-{suffix}")
}

/// A time to run the suite at: a fixed, whole second (stores may keep
/// seconds only).
fn base_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A fresh request token in state `Issued`, created at `now`.
pub fn sample_request_token(now: OffsetDateTime) -> RequestToken {
    RequestToken {
        token: unique("rt"),
        secret: TokenSecret::new(unique("rts")),
        consumer_key: unique("consumer"),
        host: "example.com:8080".to_owned(),
        callback: Callback::Url("https://client.example/cb?x=1".to_owned()),
        scope: Some("https://example.com/feeds/ ü".to_owned()),
        display_name: Some("Sample app".to_owned()),
        created_at: now,
        expires_at: now + Duration::minutes(10),
        state: RequestTokenState::Issued,
    }
}

/// A fresh active access token for `user`.
pub fn sample_access_token(
    request: &RequestToken,
    user: &User,
    now: OffsetDateTime,
) -> AccessToken {
    AccessToken {
        token: unique("at"),
        secret: TokenSecret::new(unique("ats")),
        consumer_key: request.consumer_key.clone(),
        host: request.host.clone(),
        user: user.clone(),
        scope: request.scope.clone(),
        created_at: now,
        expires_at: None,
        session: None,
        state: AccessTokenState::Active,
    }
}

/// [`sample_access_token`] of an OAuth Session: expiring in an hour, with a
/// session handle and an authorization that ends in a day.
pub fn sample_session_token(
    request: &RequestToken,
    user: &User,
    now: OffsetDateTime,
) -> AccessToken {
    AccessToken {
        expires_at: Some(now + Duration::hours(1)),
        session: Some(Session {
            handle: SessionHandle::new(unique("sh")),
            authorization_expires_at: Some(now + Duration::days(1)),
        }),
        ..sample_access_token(request, user, now)
    }
}

fn sample_user() -> User {
    User::new(format!("{}@example.com", unique("user")), unique("uid")).admin(true)
}

/// Runs every case against a store that holds both tokens and nonces.
pub async fn run_conformance_suite<S>(store: S)
where
    S: TokenStore + NonceStore + 'static,
{
    let store = Arc::new(store);
    run_token_store_suite(store.clone()).await;
    run_nonce_store_suite(store).await;
}

/// Every [`TokenStore`] case.
pub async fn run_token_store_suite<S: TokenStore + 'static>(store: Arc<S>) {
    request_token_lifecycle(&*store).await;
    exchange_is_all_or_nothing(&*store).await;
    concurrent_exchanges_have_one_winner(store.clone()).await;
    concurrent_approvals_have_one_winner(store.clone()).await;
    revocation(&*store).await;
    session_refresh_is_all_or_nothing(&*store).await;
    concurrent_refreshes_have_one_winner(store.clone()).await;
    purge_removes_only_expired_request_tokens(&*store).await;
}

/// Every [`NonceStore`] case.
pub async fn run_nonce_store_suite<N: NonceStore + 'static>(store: Arc<N>) {
    nonces_are_single_use(&*store).await;
    concurrent_nonce_inserts_have_one_winner(store.clone()).await;
    nonces_expire(&*store).await;
}

/// Insert, read back exactly, compare-and-set refuses a stale tag.
pub async fn request_token_lifecycle<S: TokenStore>(store: &S) {
    let now = base_time();
    let issued = sample_request_token(now);
    store
        .insert_request_token(&issued)
        .await
        .expect("insert request token");
    let read = store
        .get_request_token(&issued.token)
        .await
        .expect("get request token");
    assert_eq!(
        read.as_ref(),
        Some(&issued),
        "a request token reads back exactly as stored"
    );
    assert!(
        store
            .get_request_token(&unique("missing"))
            .await
            .expect("get")
            .is_none(),
        "an unknown request token is None"
    );

    let user = sample_user();
    let approved = issued
        .approve(user.clone(), Verifier::new("verifier-1"), now)
        .expect("approve");
    assert!(
        !store
            .update_request_token(StateTag::Denied, &approved)
            .await
            .expect("cas"),
        "compare-and-set must refuse a stale state tag"
    );
    assert_eq!(
        store.get_request_token(&issued.token).await.expect("get"),
        Some(issued.clone()),
        "a refused compare-and-set writes nothing"
    );
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas"),
        "compare-and-set with the current tag succeeds"
    );
    let read = store.get_request_token(&issued.token).await.expect("get");
    assert_eq!(
        read.as_ref(),
        Some(&approved),
        "the approved state, user and verifier persist"
    );

    // A wrong verifier is counted with compare-and-set too.
    let counted = approved
        .exchange("wrong", 3, now)
        .expect("exchangeable")
        .expect_err("wrong verifier");
    assert!(
        store
            .update_request_token(StateTag::Authorized { failed_attempts: 0 }, &counted)
            .await
            .expect("cas")
    );
    assert!(
        !store
            .update_request_token(StateTag::Authorized { failed_attempts: 0 }, &counted)
            .await
            .expect("cas"),
        "the failed-attempt count is part of the compared state"
    );
}

/// A refused exchange writes neither the request token nor the access token.
pub async fn exchange_is_all_or_nothing<S: TokenStore>(store: &S) {
    let now = base_time();
    let user = sample_user();
    let issued = sample_request_token(now);
    store.insert_request_token(&issued).await.expect("insert");
    let approved = issued
        .approve(user.clone(), Verifier::new("v"), now)
        .expect("approve");
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas")
    );
    let (exchanged, who) = approved
        .exchange("v", 3, now)
        .expect("live")
        .expect("right verifier");
    assert_eq!(who, user);
    let access = sample_access_token(&approved, &user, now);

    assert!(
        !store
            .exchange_request_token(StateTag::Issued, &exchanged, &access)
            .await
            .expect("exchange"),
        "an exchange from a stale state is refused"
    );
    assert!(
        store
            .get_access_token(&access.token)
            .await
            .expect("get")
            .is_none(),
        "a refused exchange stores no access token"
    );
    assert_eq!(
        store.get_request_token(&issued.token).await.expect("get"),
        Some(approved.clone())
    );

    let tag = approved.state.tag();
    assert!(
        store
            .exchange_request_token(tag, &exchanged, &access)
            .await
            .expect("exchange")
    );
    assert_eq!(
        store.get_access_token(&access.token).await.expect("get"),
        Some(access.clone())
    );
    assert_eq!(
        store
            .get_request_token(&issued.token)
            .await
            .expect("get")
            .map(|t| t.state),
        Some(RequestTokenState::Exchanged)
    );
    let again = sample_access_token(&approved, &user, now);
    assert!(
        !store
            .exchange_request_token(tag, &exchanged, &again)
            .await
            .expect("exchange"),
        "a request token is exchanged once"
    );
    assert!(
        store
            .get_access_token(&again.token)
            .await
            .expect("get")
            .is_none()
    );
}

/// Starts `racers` tasks from `start` at once and counts those whose
/// operation reported a win; a store error fails the test, naming `what`.
async fn count_winners<F, Fut>(racers: usize, what: &str, mut start: F) -> usize
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<bool, crate::store::StoreError>> + Send + 'static,
{
    let tasks: Vec<_> = (0..racers).map(|i| tokio::spawn(start(i))).collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(true) => winners += 1,
            Ok(false) => {}
            Err(e) => panic!("{what} failed: {e}"),
        }
    }
    winners
}

/// [`RACERS`] concurrent exchanges of one request token: exactly one wins,
/// exactly one access token exists.
pub async fn concurrent_exchanges_have_one_winner<S: TokenStore + 'static>(store: Arc<S>) {
    let now = base_time();
    let user = sample_user();
    let issued = sample_request_token(now);
    store.insert_request_token(&issued).await.expect("insert");
    let approved = issued
        .approve(user.clone(), Verifier::new("v"), now)
        .expect("approve");
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas")
    );
    let (exchanged, _) = approved
        .exchange("v", 3, now)
        .expect("live")
        .expect("right");
    let tag = approved.state.tag();

    let winners = count_winners(RACERS, "exchange", |_| {
        let store = store.clone();
        let exchanged = exchanged.clone();
        let access = sample_access_token(&approved, &user, now);
        async move { store.exchange_request_token(tag, &exchanged, &access).await }
    })
    .await;
    assert_eq!(
        winners, 1,
        "exactly one of {RACERS} concurrent exchanges wins"
    );
    let tokens = store.list_user_tokens(&user.user_id).await.expect("list");
    assert_eq!(
        tokens.len(),
        1,
        "exactly one access token exists after the race"
    );
}

/// An OAuth Session token round-trips exactly; a refresh retires it and
/// stores its successor together; a second refresh of it changes nothing.
pub async fn session_refresh_is_all_or_nothing<S: TokenStore>(store: &S) {
    let now = base_time();
    let user = sample_user();
    let request = sample_request_token(now);
    let first = sample_session_token(&request, &user, now);
    store_by_exchange(store, &request, &first).await;
    assert_eq!(
        store.get_access_token(&first.token).await.expect("get"),
        Some(first.clone()),
        "an access token with a session reads back exactly"
    );
    let later = now + Duration::hours(2);
    let second = AccessToken {
        token: unique("at"),
        secret: TokenSecret::new(unique("ats")),
        expires_at: Some(later + Duration::hours(1)),
        created_at: later,
        ..first.clone()
    };
    assert!(
        store
            .refresh_access_token(&first.token, later, &second)
            .await
            .expect("refresh"),
        "an active token refreshes"
    );
    assert_eq!(
        store.get_access_token(&second.token).await.expect("get"),
        Some(second.clone())
    );
    assert_eq!(
        store
            .get_access_token(&first.token)
            .await
            .expect("get")
            .map(|t| t.state),
        Some(AccessTokenState::Revoked { at: later }),
        "the refreshed token is retired"
    );
    let third = AccessToken {
        token: unique("at"),
        ..second.clone()
    };
    assert!(
        !store
            .refresh_access_token(&first.token, later, &third)
            .await
            .expect("refresh"),
        "a retired token does not refresh again"
    );
    assert!(
        store
            .get_access_token(&third.token)
            .await
            .expect("get")
            .is_none(),
        "a refused refresh stores nothing"
    );
    assert!(
        !store
            .refresh_access_token(&unique("missing"), later, &third)
            .await
            .expect("refresh")
    );
}

/// [`RACERS`] concurrent refreshes of one access token: exactly one wins,
/// exactly one successor exists.
pub async fn concurrent_refreshes_have_one_winner<S: TokenStore + 'static>(store: Arc<S>) {
    let now = base_time();
    let user = sample_user();
    let request = sample_request_token(now);
    let first = sample_session_token(&request, &user, now);
    store_by_exchange(&*store, &request, &first).await;
    let winners = count_winners(RACERS, "refresh", |_| {
        let store = store.clone();
        let old = first.token.clone();
        let next = sample_session_token(&request, &user, now);
        async move { store.refresh_access_token(&old, now, &next).await }
    })
    .await;
    assert_eq!(
        winners, 1,
        "exactly one of {RACERS} concurrent refreshes wins"
    );
    let tokens = store.list_user_tokens(&user.user_id).await.expect("list");
    assert_eq!(tokens.len(), 1, "exactly one active token after the race");
}

/// Stores `access` the way the provider does: by inserting, approving and
/// exchanging `request` (a fresh request token).
pub async fn store_by_exchange<S: TokenStore>(
    store: &S,
    request: &RequestToken,
    access: &AccessToken,
) {
    store.insert_request_token(request).await.expect("insert");
    let approved = request
        .approve(access.user.clone(), Verifier::new("v"), request.created_at)
        .expect("approve");
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas")
    );
    let (exchanged, _) = approved
        .exchange("v", 3, request.created_at)
        .expect("live")
        .expect("right verifier");
    assert!(
        store
            .exchange_request_token(approved.state.tag(), &exchanged, access)
            .await
            .expect("exchange")
    );
}

/// Concurrent compare-and-set approvals of one request token: one wins.
pub async fn concurrent_approvals_have_one_winner<S: TokenStore + 'static>(store: Arc<S>) {
    let now = base_time();
    let issued = sample_request_token(now);
    store.insert_request_token(&issued).await.expect("insert");
    let winners = count_winners(100, "compare-and-set", |i| {
        let store = store.clone();
        let next = issued
            .approve(sample_user(), Verifier::new(format!("v{i}")), now)
            .expect("approve");
        async move { store.update_request_token(StateTag::Issued, &next).await }
    })
    .await;
    assert_eq!(winners, 1, "exactly one of 100 concurrent approvals wins");
}

/// Revoke one token, a user's tokens for a consumer, and listing.
pub async fn revocation<S: TokenStore>(store: &S) {
    let now = base_time();
    let user = sample_user();
    let mut granted = Vec::new();
    for i in 0..3 {
        let issued = sample_request_token(now);
        store.insert_request_token(&issued).await.expect("insert");
        let approved = issued
            .approve(user.clone(), Verifier::new("v"), now)
            .expect("approve");
        assert!(
            store
                .update_request_token(StateTag::Issued, &approved)
                .await
                .expect("cas")
        );
        let (exchanged, _) = approved
            .exchange("v", 3, now)
            .expect("live")
            .expect("right");
        let access = sample_access_token(&approved, &user, now + Duration::seconds(i));
        assert!(
            store
                .exchange_request_token(approved.state.tag(), &exchanged, &access)
                .await
                .expect("exchange")
        );
        granted.push(access);
    }
    let listed = store.list_user_tokens(&user.user_id).await.expect("list");
    assert_eq!(
        listed.iter().map(|t| &t.token).collect::<Vec<_>>(),
        granted.iter().map(|t| &t.token).collect::<Vec<_>>(),
        "a user's active tokens are listed oldest first"
    );
    let later = now + Duration::minutes(1);
    let shared_before = store
        .get_access_token_shared(&granted[0].token)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(*shared_before, granted[0], "the shared answer is the token");
    assert!(
        store
            .revoke_access_token(&granted[0].token, later)
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_access_token(&granted[0].token, later)
            .await
            .expect("revoke"),
        "revoking twice reports the second as a no-op"
    );
    assert!(
        !store
            .revoke_access_token(&unique("missing"), later)
            .await
            .expect("revoke")
    );
    let revoked = store
        .get_access_token(&granted[0].token)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        revoked.state,
        AccessTokenState::Revoked { at: later },
        "revocation is recorded with its time"
    );
    let shared_after = store
        .get_access_token_shared(&granted[0].token)
        .await
        .expect("get");
    assert_eq!(
        shared_after.as_deref(),
        Some(&revoked),
        "the shared answer sees the revocation"
    );
    assert_eq!(
        shared_before.state,
        AccessTokenState::Active,
        "a token handed out before stays as it was: a change replaces it"
    );
    assert_eq!(
        store
            .list_user_tokens(&user.user_id)
            .await
            .expect("list")
            .len(),
        2
    );

    assert_eq!(
        store
            .revoke_user_tokens(&user.user_id, &unique("other"), later)
            .await
            .expect("revoke"),
        0,
        "revoking for another consumer touches nothing"
    );
    // Each sample token has its own consumer: revoke the second one's.
    assert_eq!(
        store
            .revoke_user_tokens(&user.user_id, &granted[1].consumer_key, later)
            .await
            .expect("revoke"),
        1
    );
    let left = store.list_user_tokens(&user.user_id).await.expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].token, granted[2].token);
}

/// Purging removes request tokens past their TTL and nothing else.
pub async fn purge_removes_only_expired_request_tokens<S: TokenStore>(store: &S) {
    let now = base_time();
    let old = sample_request_token(now - Duration::minutes(30));
    let live = sample_request_token(now);
    store.insert_request_token(&old).await.expect("insert");
    store.insert_request_token(&live).await.expect("insert");
    let purged = store.purge_expired(now).await.expect("purge");
    assert!(purged >= 1, "the expired request token is purged");
    assert!(
        store
            .get_request_token(&old.token)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .get_request_token(&live.token)
            .await
            .expect("get")
            .is_some(),
        "a live token survives a purge"
    );
}

/// The parts of a nonce key, owned, unique to each call: stores shared by
/// several tests never see the same key twice.
#[derive(Clone)]
struct SampleNonce {
    consumer_key: String,
    token: String,
    nonce: String,
}

impl SampleNonce {
    fn new() -> Self {
        Self {
            consumer_key: unique("consumer"),
            token: unique("token"),
            nonce: unique("nonce ü"),
        }
    }

    fn key(&self) -> NonceKey<'_> {
        NonceKey {
            consumer_key: &self.consumer_key,
            token: &self.token,
            timestamp: 1_700_000_000,
            nonce: &self.nonce,
        }
    }
}

/// Fresh once, then replayed; any other key component makes it fresh.
pub async fn nonces_are_single_use<N: NonceStore>(store: &N) {
    let now = base_time();
    let expires = now + Duration::minutes(5);
    let sample = SampleNonce::new();
    let key = sample.key();
    assert_eq!(
        store.insert_nonce(&key, now, expires).await.expect("nonce"),
        NonceOutcome::Fresh
    );
    assert_eq!(
        store.insert_nonce(&key, now, expires).await.expect("nonce"),
        NonceOutcome::Replayed
    );
    let (other_consumer, other_nonce) = (unique("c2"), unique("n2"));
    for other in [
        NonceKey {
            consumer_key: &other_consumer,
            ..key
        },
        NonceKey { token: "", ..key },
        NonceKey {
            timestamp: key.timestamp + 1,
            ..key
        },
        NonceKey {
            nonce: &other_nonce,
            ..key
        },
    ] {
        assert_eq!(
            store
                .insert_nonce(&other, now, expires)
                .await
                .expect("nonce"),
            NonceOutcome::Fresh,
            "a nonce is keyed on consumer, token, timestamp and nonce"
        );
    }
}

/// [`RACERS`] concurrent inserts of one nonce: exactly one is fresh.
pub async fn concurrent_nonce_inserts_have_one_winner<N: NonceStore + 'static>(store: Arc<N>) {
    let now = base_time();
    let sample = SampleNonce::new();
    let fresh = count_winners(RACERS, "nonce insert", |_| {
        let store = store.clone();
        let sample = sample.clone();
        async move {
            let outcome = store
                .insert_nonce(&sample.key(), now, now + Duration::minutes(5))
                .await?;
            Ok(outcome == NonceOutcome::Fresh)
        }
    })
    .await;
    assert_eq!(
        fresh, 1,
        "exactly one of {RACERS} concurrent inserts of a nonce is fresh"
    );
}

/// A nonce is forgotten once it expires (by purge or by its TTL).
pub async fn nonces_expire<N: NonceStore>(store: &N) {
    let now = base_time();
    let sample = SampleNonce::new();
    let key = sample.key();
    let expires = now + Duration::minutes(5);
    assert_eq!(
        store.insert_nonce(&key, now, expires).await.expect("nonce"),
        NonceOutcome::Fresh
    );
    let after = expires + Duration::seconds(1);
    store.purge_nonces(after).await.expect("purge");
    assert_eq!(
        store
            .insert_nonce(&key, after, after + Duration::minutes(5))
            .await
            .expect("nonce"),
        NonceOutcome::Fresh,
        "an expired nonce is forgotten"
    );
    assert_eq!(
        store
            .insert_nonce(&key, after, after + Duration::minutes(5))
            .await
            .expect("nonce"),
        NonceOutcome::Replayed
    );
}
