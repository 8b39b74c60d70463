//! The store conformance suite (feature `test-util`): any [`TokenStore`] /
//! [`NonceStore`] can prove it keeps the contracts the provider relies on,
//! as the traits' documentation writes them down — round trips, expiry
//! boundaries, duplicates, compare-and-set, atomic exchange and refresh
//! under real concurrency, revocation, listing, purging, single-use nonces,
//! and what survives reopening the store.
//!
//! ```no_run
//! # #[allow(dead_code)]
//! # async fn demo() {
//! use oauth1_provider::{MemoryStore, testing};
//! // In a #[tokio::test(flavor = "multi_thread")]:
//! testing::run_conformance_suite(MemoryStore::new()).await;
//! # }
//! ```
//!
//! A store whose data outlives it (a file, a database server) hands the
//! suite a way to open it instead, so that the suite also drops it, opens
//! it again and checks that every field of every token state, and every
//! remembered nonce, survived:
//!
//! ```no_run
//! # #[allow(dead_code)]
//! # async fn demo(path: std::path::PathBuf) {
//! use oauth1_provider::{store::SqliteStore, testing};
//! // Feature `sqlite` too, for this store.
//! testing::run_conformance_suite_with_reopen(|| SqliteStore::open(&path)).await;
//! # }
//! ```
//!
//! | the store holds | nothing to reopen | reopens |
//! |---|---|---|
//! | tokens and nonces | [`run_conformance_suite`] | [`run_conformance_suite_with_reopen`] |
//! | tokens | [`run_token_store_suite`] | [`run_token_store_suite_with_reopen`] |
//! | nonces | [`run_nonce_store_suite`] | [`run_nonce_store_suite_with_reopen`] |
//! | audit events | [`run_event_store_suite`] | — |
//!
//! The cases are public too, one function each, for a store that needs its
//! own arrangement.
//!
//! # What keeps it honest
//!
//! - **Races that happen.** Each racing case (approvals, exchanges,
//!   refreshes, nonce inserts) runs three ways:
//!   1. [`RACERS`] racers polled in lockstep in one task: every racer runs
//!      up to its first `.await` that waits before any racer runs past it.
//!      A store that reads, awaits (a round trip), then writes lets every
//!      racer read before any writes — whatever the runtime's scheduling
//!      and however few cores are free — and fails every time.
//!   2. As many tasks spawned on the runtime's workers, in parallel.
//!   3. 64 contests, each a fresh token, of OS threads of the suite's own
//!      released together from a spin barrier, each driving its operation
//!      with [`Handle::block_on`](tokio::runtime::Handle::block_on). These
//!      can catch a read and a write with no `.await` between them (one
//!      lock taken twice) — when the machine runs the threads at once: on
//!      a machine whose cores are all busy, such a store may pass.
//!
//!   The suite refuses to run on a current-thread Tokio runtime, where its
//!   tasks would take turns: run it under
//!   `#[tokio::test(flavor = "multi_thread")]`.
//! - **Reopening**, given an opener (above).
//! - **Expiry without a purge**: a nonce must be forgotten at its
//!   `expires_at` by `insert_nonce` itself, and separately a purge must
//!   forget only expired nonces; expiry is checked at its boundary, a
//!   second either side, for nonces and for purged request tokens.
//! - **Every write is read back**, field by field, through the method
//!   whose contract it tests before any other case relies on it, so that a
//!   failure names the method at fault.
//!
//! Each failure panics with the trait method whose contract broke, what
//! the store did, and the contract, as in
//!
//! ```text
//! TokenStore::exchange_request_token broke its contract: 1000 of 1000 racers advancing in lockstep won when they raced to exchange one request token.
//!   contract: exchange_request_token is atomic (one transaction or one conditional statement): …
//! ```
//!
//! Every token and nonce it creates is random, so it can run repeatedly
//! against a shared database. Its times are whole seconds in 2023: a store
//! may keep seconds only, and every token it writes has expired by the wall
//! clock (a store must not judge expiry itself).
//!
//! One contract it cannot check: that a store never blocks the async worker
//! threads (see [`TokenStore`]'s documentation). Seeing that takes a timed
//! assertion, and slow is not the same as blocking.

use std::fmt::{self, Debug};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::{Duration, OffsetDateTime};

use crate::model::grant::Granted;
use crate::model::secret::{SessionHandle, TokenSecret, Verifier};
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
};
use crate::model::user::User;
use crate::protocol::random::random_token;
use crate::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};

/// How many racers race in lockstep, and then as tasks on the runtime's
/// workers, in the concurrency cases (100 in the approvals').
pub const RACERS: usize = 1000;

/// How many contests each concurrency case runs on the suite's own threads,
/// each a fresh token its threads race on together.
const THREAD_CONTESTS: usize = 64;

/// The trait methods, as failures name them.
mod method {
    pub(super) const INSERT_REQUEST_TOKEN: &str = "TokenStore::insert_request_token";
    pub(super) const GET_REQUEST_TOKEN: &str = "TokenStore::get_request_token";
    pub(super) const UPDATE_REQUEST_TOKEN: &str = "TokenStore::update_request_token";
    pub(super) const EXCHANGE_REQUEST_TOKEN: &str = "TokenStore::exchange_request_token";
    pub(super) const GET_ACCESS_TOKEN: &str = "TokenStore::get_access_token";
    pub(super) const GET_ACCESS_TOKEN_SHARED: &str = "TokenStore::get_access_token_shared";
    pub(super) const REFRESH_ACCESS_TOKEN: &str = "TokenStore::refresh_access_token";
    pub(super) const REVOKE_ACCESS_TOKEN: &str = "TokenStore::revoke_access_token";
    pub(super) const REVOKE_USER_TOKENS: &str = "TokenStore::revoke_user_tokens";
    pub(super) const LIST_USER_TOKENS: &str = "TokenStore::list_user_tokens";
    pub(super) const PURGE_EXPIRED: &str = "TokenStore::purge_expired";
    pub(super) const COUNT_REQUEST_TOKENS: &str = "TokenStore::count_request_tokens";
    pub(super) const INSERT_NONCE: &str = "NonceStore::insert_nonce";
    pub(super) const PURGE_NONCES: &str = "NonceStore::purge_nonces";
}

/// The contracts, as the traits' documentation states them.
mod contract {
    pub(super) const STORE_ERROR: &str = "a StoreError means the infrastructure failed; every \
        expected outcome (not found, state changed, replayed) is an Ok value";
    pub(super) const ROUND_TRIP: &str = "a stored token reads back with every field as it was \
        stored (times to the whole second)";
    pub(super) const EXPIRED_STILL_RETURNED: &str = "get_request_token returns a stored request \
        token whatever its expires_at and state, until purge_expired deletes it: expiry is the \
        provider's to judge, on its own clock";
    pub(super) const UNKNOWN: &str = "an unknown token is Ok(None) to a read and Ok(false) or \
        Ok(0) to a write, which creates nothing";
    pub(super) const COMPARE_AND_SET: &str = "update_request_token replaces the record only if \
        the stored state's tag (failed attempts included) equals `expected`, and says whether it \
        did; otherwise it writes nothing";
    pub(super) const COMPARE_AND_SET_ATOMIC: &str = "update_request_token is one atomic \
        compare-and-set: of racing writers expecting the same tag, exactly one wins";
    pub(super) const EXCHANGE: &str = "exchange_request_token writes the Exchanged record and \
        the access token only if the stored tag equals `expected`: both or neither, and it says \
        whether it did";
    pub(super) const EXCHANGE_ATOMIC: &str = "exchange_request_token is atomic (one transaction \
        or one conditional statement): of racing exchanges of one request token exactly one \
        wins, and exactly one access token is stored";
    pub(super) const DUPLICATE: &str = "inserting a token whose token string is already stored \
        (by insert_request_token, or as the new access token of exchange_request_token or \
        refresh_access_token) is a StoreError that writes nothing";
    pub(super) const REVOKE: &str = "revoke_access_token(token, at) turns an active token into \
        Revoked { at } and returns true; a revoked or unknown token stays as it is, and the \
        answer is false";
    pub(super) const SHARED: &str = "get_access_token_shared answers what get_access_token \
        does; a token handed out earlier is not changed by a later write";
    pub(super) const REVOKE_USER: &str = "revoke_user_tokens(user_id, consumer_key, at) revokes \
        at `at` every active access token that user granted that consumer, and no other, and \
        returns how many";
    pub(super) const LIST: &str = "list_user_tokens lists every access token of the user that \
        is not revoked, and no other, oldest first by created_at: \"active\" means not revoked, \
        so expired session tokens and sessions whose authorization ended are listed (expiry is \
        the provider's to judge)";
    pub(super) const REFRESH: &str = "refresh_access_token revokes `old` at `at` and stores \
        `next` only if `old` is active (not revoked; an expired session token is what a refresh \
        is for): both or neither, and it says whether it did";
    pub(super) const REFRESH_ATOMIC: &str = "refresh_access_token is atomic: of racing refreshes \
        of one access token exactly one wins, and exactly one successor is stored";
    pub(super) const PURGE: &str = "purge_expired(now) deletes every request token whose \
        expires_at <= now, in any state, and nothing else: a token expiring exactly at `now` \
        is expired; access tokens are never purged";
    pub(super) const COUNT: &str = "count_request_tokens(consumer_key, now) counts that \
        consumer's request tokens whose expires_at > now, in any state, and no other consumer's";
    pub(super) const PERSIST_TOKENS: &str = "what a store holds survives reopening it: every \
        field of every request- and access-token state reads back as stored through a new \
        handle";
    pub(super) const NONCE_SINGLE_USE: &str = "insert_nonce is insert-if-absent on the whole \
        key (consumer key, token, timestamp, nonce): Fresh the first time, Replayed while \
        remembered";
    pub(super) const NONCE_ATOMIC: &str = "insert_nonce is one atomic insert-if-absent: of \
        racing inserts of one nonce exactly one is Fresh";
    pub(super) const NONCE_EXPIRY: &str = "a nonce is remembered while now < expires_at; at \
        now >= expires_at insert_nonce treats it as absent (Fresh, and remembered again), \
        whether or not purge_nonces ran";
    pub(super) const NONCE_PURGE: &str = "purge_nonces(now) forgets only nonces whose \
        expires_at <= now";
    pub(super) const PERSIST_NONCES: &str = "a nonce remembered before the store is reopened is \
        still remembered after it; otherwise a replay after a restart is accepted";
}

use contract as c;
use method as m;

/// Fails the suite: `method` broke `contract` by doing `what`.
#[track_caller]
fn broken(method: &str, what: fmt::Arguments<'_>, contract: &str) -> ! {
    panic!("{method} broke its contract: {what}.\n  contract: {contract}")
}

/// `broken(method, format_args!(what…), contract)` unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $method:expr, $contract:expr, $($what:tt)+) => {
        if !$cond {
            broken($method, format_args!($($what)+), $contract)
        }
    };
}

/// A store error and its sources, one after another.
fn error_chain(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The value of a store call that must succeed here.
#[track_caller]
fn ok<T>(result: Result<T, StoreError>, method: &str, doing: &str) -> T {
    result.unwrap_or_else(|e| {
        broken(
            method,
            format_args!("failed {doing}: {}", error_chain(&e)),
            c::STORE_ERROR,
        )
    })
}

fn unique(prefix: &str) -> String {
    let suffix = random_token(12).unwrap_or_else(|_| panic!("OS random source failed"));
    format!("{prefix}-{suffix}")
}

/// A time to run the suite at: a fixed, whole second (stores may keep
/// seconds only).
fn base_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn seconds(n: i64) -> Duration {
    Duration::seconds(n)
}

/// Panics unless the suite runs on a multi-threaded Tokio runtime, saying
/// what to change.
#[track_caller]
fn require_multi_thread_runtime(entry: &str) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::CurrentThread) => panic!(
            "{entry}: the conformance suite refuses a current-thread Tokio runtime: its racing \
             tasks would take turns on one thread, and a store whose compare-and-set, exchange, \
             refresh or nonce insert is not atomic would pass. Run it under \
             #[tokio::test(flavor = \"multi_thread\")] (or in a runtime from \
             tokio::runtime::Builder::new_multi_thread())."
        ),
        Ok(_) => {}
        Err(_) => panic!(
            "{entry} must run inside a multi-threaded Tokio runtime: \
             #[tokio::test(flavor = \"multi_thread\")]"
        ),
    }
}

// ---------------------------------------------------------------------------
// Samples

/// A fresh request token in state `Issued`, created at `now`.
pub fn sample_request_token(now: OffsetDateTime) -> RequestToken {
    RequestToken {
        token: unique("rt"),
        secret: TokenSecret::new(unique("rts")),
        consumer_key: unique("consumer"),
        host: "example.com:8080".to_owned(),
        callback: Callback::Url("https://client.example/cb?x=1".to_owned()),
        scope: Some("https://example.com/feeds/ ü".to_owned()),
        grants: Granted::only(["photos.read", "https://example.com/feeds/"]),
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
        grants: request.grants.clone(),
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

// ---------------------------------------------------------------------------
// Comparing what was stored with what reads back, field by field

/// The fields that differ between a record as stored and as read back;
/// secret values are compared, never shown.
#[derive(Default)]
struct Differences(Vec<String>);

impl Differences {
    fn field<T: PartialEq + Debug + ?Sized>(&mut self, name: &str, stored: &T, read: &T) {
        if stored != read {
            self.0.push(format!(
                "`{name}` stored as {stored:?} but read back as {read:?}"
            ));
        }
    }

    fn secret(&mut self, name: &str, same: bool) {
        if !same {
            self.0
                .push(format!("`{name}` differs (secret values are not shown)"));
        }
    }

    fn user(&mut self, prefix: &str, stored: &User, read: &User) {
        self.field(&format!("{prefix}.email"), &stored.email, &read.email);
        self.field(&format!("{prefix}.user_id"), &stored.user_id, &read.user_id);
        self.field(&format!("{prefix}.admin"), &stored.admin, &read.admin);
        let name = format!("{prefix}.auth_domain");
        self.field(&name, &stored.auth_domain, &read.auth_domain);
    }

    fn request_token(stored: &RequestToken, read: &RequestToken) -> Self {
        let mut d = Self::default();
        d.field("token", &stored.token, &read.token);
        d.secret("secret", stored.secret == read.secret);
        d.field("consumer_key", &stored.consumer_key, &read.consumer_key);
        d.field("host", &stored.host, &read.host);
        d.field("callback", &stored.callback, &read.callback);
        d.field("scope", &stored.scope, &read.scope);
        d.field("display_name", &stored.display_name, &read.display_name);
        d.field("created_at", &stored.created_at, &read.created_at);
        d.field("expires_at", &stored.expires_at, &read.expires_at);
        match (&stored.state, &read.state) {
            (
                RequestTokenState::Authorized {
                    user,
                    verifier,
                    failed_attempts,
                },
                RequestTokenState::Authorized {
                    user: read_user,
                    verifier: read_verifier,
                    failed_attempts: read_failed_attempts,
                },
            ) => {
                d.user("state.user", user, read_user);
                d.secret("state.verifier", verifier == read_verifier);
                let name = "state.failed_attempts";
                d.field(name, failed_attempts, read_failed_attempts);
            }
            (stored, read) => d.field("state", &stored.tag(), &read.tag()),
        }
        d
    }

    fn access_token(stored: &AccessToken, read: &AccessToken) -> Self {
        let mut d = Self::default();
        d.field("token", &stored.token, &read.token);
        d.secret("secret", stored.secret == read.secret);
        d.field("consumer_key", &stored.consumer_key, &read.consumer_key);
        d.field("host", &stored.host, &read.host);
        d.user("user", &stored.user, &read.user);
        d.field("scope", &stored.scope, &read.scope);
        d.field("created_at", &stored.created_at, &read.created_at);
        d.field("expires_at", &stored.expires_at, &read.expires_at);
        match (&stored.session, &read.session) {
            (Some(stored), Some(read)) => {
                d.secret("session.handle", stored.handle == read.handle);
                d.field(
                    "session.authorization_expires_at",
                    &stored.authorization_expires_at,
                    &read.authorization_expires_at,
                );
            }
            (stored, read) => {
                let presence = |s: &Option<Session>| if s.is_some() { "a session" } else { "none" };
                d.field("session", presence(stored), presence(read));
            }
        }
        d.field("state", &stored.state, &read.state);
        d
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Differences {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

/// A token record the suite reads back and compares field by field.
trait Record {
    /// What the failure messages call it.
    const KIND: &'static str;
    fn token(&self) -> &str;
    fn differences(stored: &Self, read: &Self) -> Differences;
}

impl Record for RequestToken {
    const KIND: &'static str = "request token";

    fn token(&self) -> &str {
        &self.token
    }

    fn differences(stored: &Self, read: &Self) -> Differences {
        Differences::request_token(stored, read)
    }
}

impl Record for AccessToken {
    const KIND: &'static str = "access token";

    fn token(&self) -> &str {
        &self.token
    }

    fn differences(stored: &Self, read: &Self) -> Differences {
        Differences::access_token(stored, read)
    }
}

/// Fails unless `read` is `stored`, field by field.
#[track_caller]
fn expect_record<T: Record>(
    method: &str,
    contract: &str,
    context: &str,
    stored: &T,
    read: Option<&T>,
) {
    let (kind, token) = (T::KIND, stored.token());
    let Some(read) = read else {
        broken(
            method,
            format_args!("found no {kind} {token} {context}"),
            contract,
        )
    };
    let differences = T::differences(stored, read);
    ensure!(
        differences.is_empty(),
        method,
        contract,
        "read back {kind} {token} {context} with {differences}",
    );
}

async fn read_request_token<S: TokenStore>(store: &S, token: &str) -> Option<RequestToken> {
    let doing = "reading a request token back";
    ok(
        store.get_request_token(token).await,
        m::GET_REQUEST_TOKEN,
        doing,
    )
}

async fn read_access_token<S: TokenStore>(store: &S, token: &str) -> Option<AccessToken> {
    let doing = "reading an access token back";
    ok(
        store.get_access_token(token).await,
        m::GET_ACCESS_TOKEN,
        doing,
    )
}

/// `update_request_token`, which must not fail.
async fn update<S: TokenStore>(store: &S, expected: StateTag, next: &RequestToken) -> bool {
    let doing = "updating a request token";
    let result = store.update_request_token(expected, next).await;
    ok(result, m::UPDATE_REQUEST_TOKEN, doing)
}

/// `exchange_request_token`, which must not fail.
async fn exchange<S: TokenStore>(
    store: &S,
    expected: StateTag,
    exchanged: &RequestToken,
    access: &AccessToken,
) -> bool {
    let doing = "exchanging a request token";
    let result = store
        .exchange_request_token(expected, exchanged, access)
        .await;
    ok(result, m::EXCHANGE_REQUEST_TOKEN, doing)
}

/// `refresh_access_token`, which must not fail.
async fn refresh<S: TokenStore>(
    store: &S,
    old: &str,
    at: OffsetDateTime,
    next: &AccessToken,
) -> bool {
    let doing = "refreshing an access token";
    ok(
        store.refresh_access_token(old, at, next).await,
        m::REFRESH_ACCESS_TOKEN,
        doing,
    )
}

/// `insert_request_token`, which must not fail.
async fn insert<S: TokenStore>(store: &S, token: &RequestToken) {
    let doing = "inserting a new request token";
    let result = store.insert_request_token(token).await;
    ok(result, m::INSERT_REQUEST_TOKEN, doing);
}

/// The tokens' strings, for failures.
fn names(tokens: &[&AccessToken]) -> String {
    tokens
        .iter()
        .map(|t| t.token.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Entry points

/// Runs every case against a store that holds both tokens and nonces and
/// has nothing to reopen (like [`MemoryStore`](crate::MemoryStore)); a
/// store whose data outlives it runs
/// [`run_conformance_suite_with_reopen`].
///
/// Panics on a current-thread runtime: run it under
/// `#[tokio::test(flavor = "multi_thread")]`.
pub async fn run_conformance_suite<S>(store: S)
where
    S: TokenStore + NonceStore + 'static,
{
    require_multi_thread_runtime("run_conformance_suite");
    let store = Arc::new(store);
    run_token_store_suite(store.clone()).await;
    run_nonce_store_suite(store).await;
}

/// Runs every case against a store that `open` opens, then the cases on
/// reopening: each opens the store, writes, drops it, opens it again and
/// reads back ([`tokens_survive_reopening`], [`nonces_survive_reopening`]).
///
/// `open` opens a new handle on the same data each time it is called, e.g.
/// `|| SqliteStore::open(&path)`; an error from it fails the suite.
pub async fn run_conformance_suite_with_reopen<S, F, Fut, E>(mut open: F)
where
    S: TokenStore + NonceStore + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, E>>,
    E: Debug,
{
    require_multi_thread_runtime("run_conformance_suite_with_reopen");
    run_conformance_suite(open_store(&mut open, "to run the suite").await).await;
    tokens_survive_reopening(&mut open).await;
    nonces_survive_reopening(&mut open).await;
}

/// Every [`TokenStore`] case.
pub async fn run_token_store_suite<S: TokenStore + 'static>(store: Arc<S>) {
    require_multi_thread_runtime("run_token_store_suite");
    request_token_lifecycle(&*store).await;
    duplicate_inserts_are_errors(&*store).await;
    exchange_is_all_or_nothing(&*store).await;
    revocation(&*store).await;
    user_tokens_are_listed_until_revoked(&*store).await;
    session_refresh_is_all_or_nothing(&*store).await;
    purge_removes_only_expired_request_tokens(&*store).await;
    request_tokens_are_counted_per_consumer_until_they_expire(&*store).await;
    concurrent_approvals_have_one_winner(store.clone()).await;
    concurrent_exchanges_have_one_winner(store.clone()).await;
    concurrent_refreshes_have_one_winner(store).await;
}

/// [`run_token_store_suite`] on a store that `open` opens, then
/// [`tokens_survive_reopening`].
pub async fn run_token_store_suite_with_reopen<S, F, Fut, E>(mut open: F)
where
    S: TokenStore + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, E>>,
    E: Debug,
{
    require_multi_thread_runtime("run_token_store_suite_with_reopen");
    let store = open_store(&mut open, "to run the suite").await;
    run_token_store_suite(Arc::new(store)).await;
    tokens_survive_reopening(&mut open).await;
}

/// Every [`NonceStore`] case.
pub async fn run_nonce_store_suite<N: NonceStore + 'static>(store: Arc<N>) {
    require_multi_thread_runtime("run_nonce_store_suite");
    nonces_are_single_use(&*store).await;
    nonces_expire(&*store).await;
    purging_nonces_forgets_only_expired_ones(&*store).await;
    concurrent_nonce_inserts_have_one_winner(store).await;
}

/// [`run_nonce_store_suite`] on a store that `open` opens, then
/// [`nonces_survive_reopening`].
pub async fn run_nonce_store_suite_with_reopen<N, F, Fut, E>(mut open: F)
where
    N: NonceStore + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<N, E>>,
    E: Debug,
{
    require_multi_thread_runtime("run_nonce_store_suite_with_reopen");
    let store = open_store(&mut open, "to run the suite").await;
    run_nonce_store_suite(Arc::new(store)).await;
    nonces_survive_reopening(&mut open).await;
}

/// The store `open` opens; its error fails the suite.
async fn open_store<S, F, Fut, E>(open: &mut F, why: &str) -> S
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, E>>,
    E: Debug,
{
    match open().await {
        Ok(store) => store,
        Err(e) => panic!("the conformance suite could not open the store {why}: {e:?}"),
    }
}

// ---------------------------------------------------------------------------
// Token cases

/// Inserts `request` and approves it for `user` with verifier `v`
/// (compare-and-set from `Issued`), checking each step; the approved record.
async fn insert_and_approve<S: TokenStore>(
    store: &S,
    request: &RequestToken,
    user: &User,
) -> RequestToken {
    insert(store, request).await;
    let approved = request
        .approve(user.clone(), Verifier::new("v"), request.created_at)
        .unwrap_or_else(|e| panic!("the suite's sample token is approvable: {e}"));
    let won = update(store, StateTag::Issued, &approved).await;
    ensure!(
        won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "refused (false) to approve request token {} just inserted in state Issued, expecting \
         Issued",
        request.token
    );
    approved
}

/// The `Exchanged` record of `approved`.
fn exchanged(approved: &RequestToken) -> RequestToken {
    match approved.exchange("v", 3, approved.created_at) {
        Ok(Ok((exchanged, _))) => exchanged,
        _ => panic!("the suite's approved token is exchangeable with `v`"),
    }
}

/// Stores `access` the way the provider does: by inserting, approving and
/// exchanging `request` (a fresh request token), checking each step.
pub async fn store_by_exchange<S: TokenStore>(
    store: &S,
    request: &RequestToken,
    access: &AccessToken,
) {
    let approved = insert_and_approve(store, request, &access.user).await;
    let won = exchange(store, approved.state.tag(), &exchanged(&approved), access).await;
    ensure!(
        won,
        m::EXCHANGE_REQUEST_TOKEN,
        c::EXCHANGE,
        "refused (false) the exchange of request token {} expecting its current tag {:?}",
        request.token,
        approved.state.tag()
    );
    let read = read_access_token(store, &access.token).await;
    let context = "just stored by exchange_request_token";
    expect_record(
        m::GET_ACCESS_TOKEN,
        c::ROUND_TRIP,
        context,
        access,
        read.as_ref(),
    );
}

/// Insert, read back exactly (though expired by the wall clock),
/// compare-and-set refuses a stale tag and writes nothing, unknown tokens.
pub async fn request_token_lifecycle<S: TokenStore>(store: &S) {
    let now = base_time();
    let issued = sample_request_token(now);
    insert(store, &issued).await;
    let read = read_request_token(store, &issued.token).await;
    ensure!(
        read.is_some(),
        m::GET_REQUEST_TOKEN,
        c::EXPIRED_STILL_RETURNED,
        "returned None for request token {} just inserted with insert_request_token, whose \
         expires_at ({}) has passed by the wall clock",
        issued.token,
        issued.expires_at
    );
    let context = "just inserted";
    expect_record(
        m::GET_REQUEST_TOKEN,
        c::ROUND_TRIP,
        context,
        &issued,
        read.as_ref(),
    );
    let missing = unique("missing");
    let read = read_request_token(store, &missing).await;
    ensure!(
        read.is_none(),
        m::GET_REQUEST_TOKEN,
        c::UNKNOWN,
        "returned a request token for {missing}, which was never inserted"
    );

    let user = sample_user();
    let approved = issued
        .approve(user.clone(), Verifier::new("verifier-1"), now)
        .unwrap_or_else(|e| panic!("the suite's sample token is approvable: {e}"));
    let won = update(store, StateTag::Denied, &approved).await;
    ensure!(
        !won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "accepted (true) an update expecting tag Denied of a request token stored as Issued"
    );
    let read = read_request_token(store, &issued.token).await;
    let context = "after a refused compare-and-set";
    expect_record(
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        context,
        &issued,
        read.as_ref(),
    );
    let won = update(store, StateTag::Issued, &approved).await;
    ensure!(
        won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "refused (false) an update expecting tag Issued of a request token stored as Issued"
    );
    let read = read_request_token(store, &issued.token).await;
    let context = "after approving it (the approving user and verifier included)";
    expect_record(
        m::UPDATE_REQUEST_TOKEN,
        c::ROUND_TRIP,
        context,
        &approved,
        read.as_ref(),
    );

    // A wrong verifier is counted with compare-and-set too.
    let counted = match approved.exchange("wrong", 3, now) {
        Ok(Err(counted)) => counted,
        _ => panic!("the suite's approved token counts a wrong verifier"),
    };
    let zero = StateTag::Authorized { failed_attempts: 0 };
    let won = update(store, zero, &counted).await;
    ensure!(
        won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "refused (false) to count a failed attempt expecting Authorized {{ failed_attempts: 0 }}, \
         the stored tag"
    );
    let won = update(store, zero, &counted).await;
    ensure!(
        !won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "accepted (true) an update expecting Authorized {{ failed_attempts: 0 }} of a token \
         stored with 1 failed attempt: the failed-attempt count is part of the compared tag"
    );

    // An update or an exchange of a token never inserted creates nothing.
    let ghost = sample_request_token(now);
    let won = update(store, StateTag::Issued, &ghost).await;
    ensure!(
        !won,
        m::UPDATE_REQUEST_TOKEN,
        c::UNKNOWN,
        "accepted (true) an update of request token {}, which was never inserted",
        ghost.token
    );
    let read = read_request_token(store, &ghost.token).await;
    ensure!(
        read.is_none(),
        m::UPDATE_REQUEST_TOKEN,
        c::UNKNOWN,
        "created request token {} by updating it, though it was never inserted",
        ghost.token
    );
    let ghost_approved = ghost
        .approve(user.clone(), Verifier::new("v"), now)
        .unwrap_or_else(|e| panic!("the suite's sample token is approvable: {e}"));
    let access = sample_access_token(&ghost, &user, now);
    let tag = ghost_approved.state.tag();
    let won = exchange(store, tag, &exchanged(&ghost_approved), &access).await;
    ensure!(
        !won && read_access_token(store, &access.token).await.is_none(),
        m::EXCHANGE_REQUEST_TOKEN,
        c::UNKNOWN,
        "exchanged request token {}, which was never inserted (answered {won})",
        ghost.token
    );
}

/// A second insert of a token string already stored is an error and writes
/// nothing: a request token, the new access token of an exchange, and the
/// successor of a refresh.
pub async fn duplicate_inserts_are_errors<S: TokenStore>(store: &S) {
    let now = base_time();
    let first = sample_request_token(now);
    insert(store, &first).await;
    let second = RequestToken {
        secret: TokenSecret::new(unique("rts")),
        consumer_key: unique("consumer"),
        ..first.clone()
    };
    let answer = store.insert_request_token(&second).await;
    let read = read_request_token(store, &first.token).await;
    let overwrote = read
        .as_ref()
        .is_some_and(|r| r.consumer_key == second.consumer_key);
    ensure!(
        answer.is_err(),
        m::INSERT_REQUEST_TOKEN,
        c::DUPLICATE,
        "accepted (Ok) a second request token with the token string {} already stored{}",
        first.token,
        if overwrote {
            ", and overwrote the first"
        } else {
            ""
        }
    );
    let context = "after a refused duplicate insert";
    expect_record(
        m::INSERT_REQUEST_TOKEN,
        c::DUPLICATE,
        context,
        &first,
        read.as_ref(),
    );

    // The access token of an exchange.
    let user = sample_user();
    let request = sample_request_token(now);
    let existing = sample_access_token(&request, &user, now);
    store_by_exchange(store, &request, &existing).await;
    let other = sample_request_token(now);
    let other_user = sample_user();
    let approved = insert_and_approve(store, &other, &other_user).await;
    let clash = AccessToken {
        token: existing.token.clone(),
        ..sample_access_token(&other, &other_user, now)
    };
    let answer = store
        .exchange_request_token(approved.state.tag(), &exchanged(&approved), &clash)
        .await;
    ensure!(
        answer.is_err(),
        m::EXCHANGE_REQUEST_TOKEN,
        c::DUPLICATE,
        "answered {answer:?} to an exchange whose new access token {} was already stored \
         (by another exchange)",
        existing.token
    );
    let read = read_access_token(store, &existing.token).await;
    let context = "after an exchange that tried to insert it again was refused";
    let method = m::EXCHANGE_REQUEST_TOKEN;
    expect_record(method, c::DUPLICATE, context, &existing, read.as_ref());
    let read = read_request_token(store, &other.token).await;
    let context = "after its exchange was refused for a duplicate access token";
    expect_record(method, c::DUPLICATE, context, &approved, read.as_ref());

    // The successor of a refresh.
    let session_request = sample_request_token(now);
    let session = sample_session_token(&session_request, &user, now);
    store_by_exchange(store, &session_request, &session).await;
    let later = now + Duration::hours(2);
    let clash = AccessToken {
        token: existing.token.clone(),
        created_at: later,
        ..sample_session_token(&session_request, &user, later)
    };
    let answer = store
        .refresh_access_token(&session.token, later, &clash)
        .await;
    ensure!(
        answer.is_err(),
        m::REFRESH_ACCESS_TOKEN,
        c::DUPLICATE,
        "answered {answer:?} to a refresh whose successor {} was already stored",
        existing.token
    );
    let method = m::REFRESH_ACCESS_TOKEN;
    let read = read_access_token(store, &existing.token).await;
    let context = "after a refresh that tried to insert it again was refused";
    expect_record(method, c::DUPLICATE, context, &existing, read.as_ref());
    let read = read_access_token(store, &session.token).await;
    let context = "after its refresh was refused for a duplicate successor (it must stay active)";
    expect_record(method, c::DUPLICATE, context, &session, read.as_ref());
}

/// A refused exchange writes neither the request token nor the access
/// token; an accepted one writes both; a token is exchanged once.
pub async fn exchange_is_all_or_nothing<S: TokenStore>(store: &S) {
    let now = base_time();
    let user = sample_user();
    let issued = sample_request_token(now);
    let approved = insert_and_approve(store, &issued, &user).await;
    let exchanged = exchanged(&approved);
    let access = sample_access_token(&approved, &user, now);
    let won = exchange(store, StateTag::Issued, &exchanged, &access).await;
    ensure!(
        !won,
        m::EXCHANGE_REQUEST_TOKEN,
        c::EXCHANGE,
        "accepted (true) an exchange expecting tag Issued of a request token stored as \
         Authorized"
    );
    let read = read_access_token(store, &access.token).await;
    ensure!(
        read.is_none(),
        m::EXCHANGE_REQUEST_TOKEN,
        c::EXCHANGE,
        "stored access token {} though it refused the exchange (false)",
        access.token
    );
    let read = read_request_token(store, &issued.token).await;
    let context = "after a refused exchange";
    let method = m::EXCHANGE_REQUEST_TOKEN;
    expect_record(method, c::EXCHANGE, context, &approved, read.as_ref());

    let tag = approved.state.tag();
    let won = exchange(store, tag, &exchanged, &access).await;
    ensure!(
        won,
        method,
        c::EXCHANGE,
        "refused (false) an exchange expecting {tag:?}, the stored tag"
    );
    let read = read_access_token(store, &access.token).await;
    let context = "stored by an exchange";
    expect_record(method, c::EXCHANGE, context, &access, read.as_ref());
    let read = read_request_token(store, &issued.token).await;
    let context = "after it was exchanged";
    expect_record(method, c::EXCHANGE, context, &exchanged, read.as_ref());

    let again = sample_access_token(&approved, &user, now);
    let won = exchange(store, tag, &exchanged, &again).await;
    let stored = read_access_token(store, &again.token).await.is_some();
    ensure!(
        !won && !stored,
        method,
        c::EXCHANGE,
        "exchanged request token {} a second time (answered {won}, second access token {})",
        issued.token,
        if stored { "stored" } else { "not stored" }
    );
}

/// A user's access token as [`store_by_exchange`] stores it, granted to
/// `consumer_key` at `created_at`.
async fn grant<S: TokenStore>(
    store: &S,
    user: &User,
    consumer_key: &str,
    created_at: OffsetDateTime,
    session: bool,
) -> AccessToken {
    let request = RequestToken {
        consumer_key: consumer_key.to_owned(),
        ..sample_request_token(created_at)
    };
    let access = if session {
        sample_session_token(&request, user, created_at)
    } else {
        sample_access_token(&request, user, created_at)
    };
    store_by_exchange(store, &request, &access).await;
    access
}

/// Revokes `token` at `at` and checks that it took: `Ok(true)`, and
/// `Revoked { at }` on reading it back.
async fn revoke<S: TokenStore>(store: &S, token: &AccessToken, at: OffsetDateTime) -> AccessToken {
    let doing = "revoking an active access token";
    let revoked = ok(
        store.revoke_access_token(&token.token, at).await,
        m::REVOKE_ACCESS_TOKEN,
        doing,
    );
    ensure!(
        revoked,
        m::REVOKE_ACCESS_TOKEN,
        c::REVOKE,
        "answered false to revoking active access token {}",
        token.token
    );
    let expected = token.revoke(at);
    let read = read_access_token(store, &token.token).await;
    let context = "after revoke_access_token answered true";
    expect_record(
        m::REVOKE_ACCESS_TOKEN,
        c::REVOKE,
        context,
        &expected,
        read.as_ref(),
    );
    expected
}

/// Revoke one token (once, with its time), what a shared answer sees, and
/// revoking a user's tokens for one consumer and no other.
pub async fn revocation<S: TokenStore>(store: &S) {
    let now = base_time();
    let (user, other_user) = (sample_user(), sample_user());
    let (consumer, other_consumer) = (unique("consumer"), unique("consumer"));
    let mut mine = Vec::new();
    for i in 0..3 {
        mine.push(grant(store, &user, &consumer, now + seconds(i), false).await);
    }
    let elsewhere = grant(store, &user, &other_consumer, now + seconds(3), false).await;
    let someone_else = grant(store, &other_user, &consumer, now + seconds(4), false).await;

    let doing = "reading an access token";
    let shared_before = ok(
        store.get_access_token_shared(&mine[0].token).await,
        m::GET_ACCESS_TOKEN_SHARED,
        doing,
    );
    let context = "stored by an exchange";
    let method = m::GET_ACCESS_TOKEN_SHARED;
    expect_record(
        method,
        c::SHARED,
        context,
        &mine[0],
        shared_before.as_deref(),
    );

    let later = now + Duration::minutes(1);
    let revoked = revoke(store, &mine[0], later).await;
    let doing = "revoking an access token";
    let again = ok(
        store
            .revoke_access_token(&mine[0].token, later + seconds(1))
            .await,
        m::REVOKE_ACCESS_TOKEN,
        doing,
    );
    ensure!(
        !again,
        m::REVOKE_ACCESS_TOKEN,
        c::REVOKE,
        "answered true to revoking access token {} a second time",
        mine[0].token
    );
    let read = read_access_token(store, &mine[0].token).await;
    let context = "revoked, after a second revocation (which keeps the first time)";
    let method = m::REVOKE_ACCESS_TOKEN;
    expect_record(method, c::REVOKE, context, &revoked, read.as_ref());
    let missing = unique("missing");
    let answer = ok(
        store.revoke_access_token(&missing, later).await,
        method,
        doing,
    );
    ensure!(
        !answer,
        method,
        c::UNKNOWN,
        "answered true to revoking access token {missing}, which was never stored"
    );

    let doing = "reading an access token";
    let shared_after = ok(
        store.get_access_token_shared(&mine[0].token).await,
        m::GET_ACCESS_TOKEN_SHARED,
        doing,
    );
    let context = "after it was revoked";
    let method = m::GET_ACCESS_TOKEN_SHARED;
    expect_record(
        method,
        c::SHARED,
        context,
        &revoked,
        shared_after.as_deref(),
    );
    let context = "handed out before the revocation (a write must replace it, not change it)";
    expect_record(
        method,
        c::SHARED,
        context,
        &mine[0],
        shared_before.as_deref(),
    );

    // Every active token of this user for this consumer, and no other.
    let method = m::REVOKE_USER_TOKENS;
    let doing = "revoking a user's tokens";
    let stranger = unique("consumer");
    let count = ok(
        store
            .revoke_user_tokens(&user.user_id, &stranger, later)
            .await,
        method,
        doing,
    );
    ensure!(
        count == 0,
        method,
        c::REVOKE_USER,
        "answered {count} for a consumer the user never authorized"
    );
    let latest = later + Duration::minutes(1);
    let count = ok(
        store
            .revoke_user_tokens(&user.user_id, &consumer, latest)
            .await,
        method,
        doing,
    );
    for (token, expected, why) in [
        (
            &mine[0],
            revoked.clone(),
            "revoked before, keeping its first time",
        ),
        (
            &mine[1],
            mine[1].revoke(latest),
            "active for this user and consumer",
        ),
        (
            &mine[2],
            mine[2].revoke(latest),
            "active for this user and consumer",
        ),
        (&elsewhere, elsewhere.clone(), "active for another consumer"),
        (
            &someone_else,
            someone_else.clone(),
            "another user's, for this consumer",
        ),
    ] {
        let read = read_access_token(store, &token.token).await;
        let context = format!("({why}) after revoke_user_tokens");
        expect_record(method, c::REVOKE_USER, &context, &expected, read.as_ref());
    }
    ensure!(
        count == 2,
        method,
        c::REVOKE_USER,
        "answered {count} after revoking the user's 2 active tokens for the consumer"
    );
    let count = ok(
        store
            .revoke_user_tokens(&user.user_id, &consumer, latest)
            .await,
        method,
        doing,
    );
    ensure!(
        count == 0,
        method,
        c::REVOKE_USER,
        "answered {count} when none of the user's tokens for the consumer was active any more"
    );
}

/// `list_user_tokens`: every token of the user that is not revoked —
/// expired sessions included — and no other, oldest first.
pub async fn user_tokens_are_listed_until_revoked<S: TokenStore>(store: &S) {
    let now = base_time();
    let user = sample_user();
    let consumer = unique("consumer");
    let plain = grant(store, &user, &consumer, now, false).await;
    // Expired (by the suite's clock and the wall clock), still refreshable.
    let expired_session = grant(store, &user, &unique("consumer"), now + seconds(1), true).await;
    // A session whose authorization ended: listed all the same; the
    // provider leaves it out of its account page itself.
    let request = sample_request_token(now + seconds(2));
    let ended = AccessToken {
        session: Some(Session {
            handle: SessionHandle::new(unique("sh")),
            authorization_expires_at: Some(now + seconds(2)),
        }),
        ..sample_session_token(&request, &user, now + seconds(2))
    };
    store_by_exchange(store, &request, &ended).await;
    let to_revoke = grant(store, &user, &consumer, now + seconds(3), false).await;
    revoke(store, &to_revoke, now + seconds(10)).await;
    let newest = grant(store, &user, &consumer, now + seconds(4), false).await;
    let not_mine = grant(store, &sample_user(), &consumer, now + seconds(5), false).await;

    let doing = "listing a user's tokens";
    let method = m::LIST_USER_TOKENS;
    let listed = ok(store.list_user_tokens(&user.user_id).await, method, doing);
    let listed_names = names(&listed.iter().collect::<Vec<_>>());
    for (token, what) in [
        (&to_revoke, "revoked by revoke_access_token"),
        (&not_mine, "another user's"),
    ] {
        ensure!(
            !listed.iter().any(|t| t.token == token.token),
            method,
            c::LIST,
            "listed access token {}, which is {what} (listed: {listed_names})",
            token.token
        );
    }
    let expected = [&plain, &expired_session, &ended, &newest];
    for (token, what) in [
        (&plain, "active,"),
        (
            &expired_session,
            "a session token whose expires_at has passed,",
        ),
        (&ended, "a session token whose authorization has ended,"),
        (&newest, "active,"),
    ] {
        ensure!(
            listed.iter().any(|t| t.token == token.token),
            method,
            c::LIST,
            "left out access token {}, which is {what} not revoked (listed: {listed_names})",
            token.token
        );
    }
    ensure!(
        listed.len() == expected.len(),
        method,
        c::LIST,
        "listed {} tokens where the user has {} not revoked ({listed_names})",
        listed.len(),
        expected.len()
    );
    for (read, stored) in listed.iter().zip(expected) {
        ensure!(
            read.token == stored.token,
            method,
            c::LIST,
            "listed [{listed_names}], not oldest first by created_at: [{}]",
            names(&expected[..])
        );
        let context = "in the user's listing";
        expect_record(method, c::ROUND_TRIP, context, stored, Some(read));
    }
}

/// An OAuth Session token round-trips exactly; a refresh — of a token whose
/// `expires_at` has passed, as refreshes are — retires it and stores its
/// successor together; a second refresh of it, or of a revoked or unknown
/// token, changes nothing.
pub async fn session_refresh_is_all_or_nothing<S: TokenStore>(store: &S) {
    let now = base_time();
    let user = sample_user();
    let request = sample_request_token(now);
    let first = sample_session_token(&request, &user, now);
    store_by_exchange(store, &request, &first).await;
    let later = now + Duration::hours(2);
    let second = AccessToken {
        token: unique("at"),
        secret: TokenSecret::new(unique("ats")),
        expires_at: Some(later + Duration::hours(1)),
        created_at: later,
        ..first.clone()
    };
    let method = m::REFRESH_ACCESS_TOKEN;
    let won = refresh(store, &first.token, later, &second).await;
    ensure!(
        won,
        method,
        c::REFRESH,
        "refused (false) to refresh active session token {}, whose expires_at ({}) had passed",
        first.token,
        first.expires_at.unwrap_or(now)
    );
    let read = read_access_token(store, &second.token).await;
    let context = "stored by a refresh";
    expect_record(method, c::REFRESH, context, &second, read.as_ref());
    let read = read_access_token(store, &first.token).await;
    let context = "after a refresh retired it";
    expect_record(
        method,
        c::REFRESH,
        context,
        &first.revoke(later),
        read.as_ref(),
    );

    let third = AccessToken {
        token: unique("at"),
        ..second.clone()
    };
    for (old, what) in [
        (first.token.clone(), "the token it already retired"),
        (unique("missing"), "a token never stored"),
    ] {
        let won = refresh(store, &old, later, &third).await;
        let stored = read_access_token(store, &third.token).await.is_some();
        ensure!(
            !won && !stored,
            method,
            c::REFRESH,
            "refreshed {what} (answered {won}, successor {})",
            if stored { "stored" } else { "not stored" }
        );
    }
    let revoked_request = sample_request_token(now);
    let revoked = sample_session_token(&revoked_request, &user, now);
    store_by_exchange(store, &revoked_request, &revoked).await;
    revoke(store, &revoked, now + seconds(1)).await;
    let won = refresh(store, &revoked.token, later, &third).await;
    let stored = read_access_token(store, &third.token).await.is_some();
    ensure!(
        !won && !stored,
        method,
        c::REFRESH,
        "refreshed a token revoked by revoke_access_token (answered {won}, successor {})",
        if stored { "stored" } else { "not stored" }
    );
}

/// Purging removes the request tokens whose `expires_at <= now`, in any
/// state — one expiring exactly at `now` included — and nothing else.
pub async fn purge_removes_only_expired_request_tokens<S: TokenStore>(store: &S) {
    let now = base_time();
    let expiring = |at: OffsetDateTime| RequestToken {
        expires_at: at,
        ..sample_request_token(at - Duration::minutes(10))
    };
    let (before, at_now) = (expiring(now - seconds(1)), expiring(now));
    let after = expiring(now + seconds(1));
    for token in [&before, &at_now, &after] {
        insert(store, token).await;
    }
    // An exchanged one expiring at `now`, whose access token stays.
    let user = sample_user();
    let exchanged_request = expiring(now);
    let access = sample_access_token(&exchanged_request, &user, now - Duration::minutes(10));
    store_by_exchange(store, &exchanged_request, &access).await;

    let method = m::PURGE_EXPIRED;
    let purged = ok(store.purge_expired(now).await, method, "purging");
    for (token, what) in [
        (&before, "expired a second before `now`"),
        (
            &at_now,
            "expiring exactly at `now` (the boundary is <=, not <)",
        ),
        (&exchanged_request, "exchanged, expiring exactly at `now`"),
    ] {
        let read = read_request_token(store, &token.token).await;
        ensure!(
            read.is_none(),
            method,
            c::PURGE,
            "kept request token {}, {what}",
            token.token
        );
    }
    let read = read_request_token(store, &after.token).await;
    let context = "expiring a second after `now`, after purge_expired(now)";
    expect_record(method, c::PURGE, context, &after, read.as_ref());
    let read = read_access_token(store, &access.token).await;
    let context = "after purge_expired removed its request token";
    expect_record(method, c::PURGE, context, &access, read.as_ref());
    ensure!(
        purged >= 3,
        method,
        c::PURGE,
        "answered {purged} after removing the 3 expired request tokens the suite stored"
    );
}

/// A consumer's unexpired request tokens are counted, in any state; its
/// expired ones and other consumers' are not.
pub async fn request_tokens_are_counted_per_consumer_until_they_expire<S: TokenStore>(store: &S) {
    let now = base_time();
    let consumer = unique("counted");
    let of_consumer = |expires_at: OffsetDateTime| RequestToken {
        consumer_key: consumer.clone(),
        expires_at,
        ..sample_request_token(expires_at - Duration::minutes(10))
    };
    let method = m::COUNT_REQUEST_TOKENS;
    let consumer = consumer.as_str();
    let count = |at| async move {
        ok(
            store.count_request_tokens(consumer, at).await,
            method,
            "counting",
        )
    };
    ensure!(
        count(now).await == 0,
        method,
        c::COUNT,
        "counted request tokens for a consumer that has none"
    );
    let live = [
        of_consumer(now + seconds(1)),
        of_consumer(now + Duration::minutes(10)),
    ];
    for token in [
        &live[0],
        &live[1],
        &of_consumer(now),
        &of_consumer(now - seconds(1)),
    ] {
        insert(store, token).await;
    }
    let user = sample_user();
    let exchanged = of_consumer(now + Duration::minutes(5));
    store_by_exchange(
        store,
        &exchanged,
        &sample_access_token(&exchanged, &user, now),
    )
    .await;
    insert(store, &sample_request_token(now)).await;
    let counted = count(now).await;
    ensure!(
        counted == 3,
        method,
        c::COUNT,
        "answered {counted} for a consumer with 3 request tokens unexpired at `now` (one of them \
         exchanged), 2 expired by then (one exactly at `now`) and none of another consumer's"
    );
    let later = count(now + seconds(1)).await;
    ensure!(
        later == 2,
        method,
        c::COUNT,
        "answered {later} a second later, when one of the 3 had expired"
    );
}

// ---------------------------------------------------------------------------
// Races

/// One racing case: what to prepare, what each racer does, what must hold
/// after.
trait Race<S>: Send + Sync + Sized + 'static {
    /// The method that races, for failures.
    const METHOD: &'static str;
    /// Its atomicity contract.
    const CONTRACT: &'static str;
    /// What the racers do, for failures ("exchange one request token").
    const WHAT: &'static str;

    /// Stores what `racers` racers race on.
    fn prepare(store: &S, racers: usize) -> impl Future<Output = Self> + Send;

    /// Racer `i`'s operation: whether it won.
    fn run(&self, store: &S, i: usize) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Checks what was stored after the race.
    fn check(&self, store: &S, how: &str) -> impl Future<Output = ()> + Send;
}

/// Races `R` three ways: `task_racers` racers in lockstep in this task
/// ([`race_in_lockstep`]), as many tasks on the runtime's workers
/// ([`count_winners`]), and [`THREAD_CONTESTS`] contests on the suite's
/// own threads ([`race_on_threads`]).
async fn race<S, R>(store: Arc<S>, task_racers: usize)
where
    S: Send + Sync + 'static,
    R: Race<S>,
{
    let race = R::prepare(&store, task_racers).await;
    let racers = (0..task_racers).map(|i| race.run(&store, i)).collect();
    let winners = race_in_lockstep(racers, R::METHOD).await;
    let how = format!("{task_racers} racers advancing in lockstep");
    check_one_winner::<S, R>(winners, &how);
    race.check(&store, &how).await;

    let race = Arc::new(R::prepare(&store, task_racers).await);
    let winners = count_winners(task_racers, R::METHOD, |i| {
        let (store, race) = (store.clone(), race.clone());
        async move { race.run(&store, i).await }
    })
    .await;
    let how = format!("{task_racers} concurrent tasks");
    check_one_winner::<S, R>(winners, &how);
    race.check(&store, &how).await;

    let threads = racing_threads();
    let mut contests = Vec::with_capacity(THREAD_CONTESTS);
    for _ in 0..THREAD_CONTESTS {
        contests.push(R::prepare(&store, threads).await);
    }
    let contests = Arc::new(contests);
    let (s, c) = (store.clone(), contests.clone());
    let winners = race_on_threads(threads, THREAD_CONTESTS, R::METHOD, move |i, j| {
        let (store, contests) = (s.clone(), c.clone());
        async move { contests[j].run(&store, i).await }
    })
    .await;
    for (j, (contest, winners)) in contests.iter().zip(winners).enumerate() {
        let how = format!(
            "{threads} threads released together (contest {} of {THREAD_CONTESTS})",
            j + 1
        );
        check_one_winner::<S, R>(winners, &how);
        contest.check(&store, &how).await;
    }
}

/// Polls the racers' operations in turn, each once per round, all in this
/// one task: every racer runs up to its first `.await` that waits before
/// any racer runs past it. A store that reads, awaits, then writes is seen
/// to let every racer read before any writes — whatever the runtime's
/// scheduling and however few cores are free. Counts the wins; a store
/// error fails the suite, naming `method`.
async fn race_in_lockstep<Fut>(racers: Vec<Fut>, method: &str) -> usize
where
    Fut: Future<Output = Result<bool, StoreError>>,
{
    let mut pending: Vec<_> = racers.into_iter().map(Box::pin).collect();
    let mut winners = 0;
    std::future::poll_fn(|cx| {
        pending.retain_mut(|racer| match racer.as_mut().poll(cx) {
            std::task::Poll::Ready(result) => {
                winners += usize::from(won(method, result));
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    winners
}

#[track_caller]
fn check_one_winner<S, R: Race<S>>(winners: usize, how: &str) {
    ensure!(
        winners == 1,
        R::METHOD,
        R::CONTRACT,
        "{winners} of {how} won when they raced to {}",
        R::WHAT
    );
}

/// How many of the suite's own threads race in each contest: at least two,
/// at most four, as many as the machine runs at once.
fn racing_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// Starts `racers` tasks from `start` at once and counts those whose
/// operation reported a win; a store error fails the suite, naming `method`.
async fn count_winners<F, Fut>(racers: usize, method: &str, mut start: F) -> usize
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<bool, StoreError>> + Send + 'static,
{
    let tasks: Vec<_> = (0..racers).map(|i| tokio::spawn(start(i))).collect();
    let mut winners = 0;
    for task in tasks {
        match task.await {
            Ok(result) => winners += usize::from(won(method, result)),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("a racing task of the conformance suite was cancelled: {e}"),
            },
        }
    }
    winners
}

/// What one racer's operation ended with: its answer, or its panic.
type Outcome = std::thread::Result<Result<bool, StoreError>>;

/// Runs `contests` contests on `threads` OS threads of the suite's own: in
/// contest `j`, thread `i` runs `op(i, j)`, all threads released together
/// from a spin barrier, each driving its operation with
/// [`Handle::block_on`](tokio::runtime::Handle::block_on) — operations that
/// overlap in time whatever the runtime's scheduling, with no `.await`
/// needed between a store's read and its write. The winners of each
/// contest; a store error or a panic fails the suite.
async fn race_on_threads<F, Fut>(threads: usize, contests: usize, method: &str, op: F) -> Vec<usize>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<bool, StoreError>>,
{
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let handle = tokio::runtime::Handle::current();
    let joined = tokio::task::spawn_blocking(move || {
        let arrived = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let racers: Vec<_> = (0..threads)
                .map(|i| {
                    let (arrived, op, handle) = (&arrived, &op, &handle);
                    scope.spawn(move || {
                        // The thread's runtime context, set up before any
                        // contest, so that no racer starts late for it.
                        handle.block_on(async {});
                        (0..contests)
                            .map(|j| {
                                let operation = catch_unwind(AssertUnwindSafe(|| op(i, j)));
                                // Every racer arrives once per contest, even
                                // one whose operation panicked: none waits
                                // forever.
                                arrived.fetch_add(1, Ordering::SeqCst);
                                let mut spins = 0u32;
                                while arrived.load(Ordering::SeqCst) < threads * (j + 1) {
                                    spins = spins.saturating_add(1);
                                    if spins < 100_000 {
                                        std::hint::spin_loop();
                                    } else {
                                        std::thread::yield_now();
                                    }
                                }
                                operation.and_then(|operation| {
                                    catch_unwind(AssertUnwindSafe(|| handle.block_on(operation)))
                                })
                            })
                            .collect::<Vec<Outcome>>()
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| {
                    racer
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p))
                })
                .collect::<Vec<_>>()
        })
    })
    .await;
    let outcomes = match joined {
        Ok(outcomes) => outcomes,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the conformance suite's racing threads were cancelled: {e}"),
        },
    };
    let mut winners = vec![0; contests];
    for thread in outcomes {
        for (j, outcome) in thread.into_iter().enumerate() {
            match outcome {
                Ok(result) => winners[j] += usize::from(won(method, result)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    }
    winners
}

/// Whether a racer won; a store error fails the suite.
#[track_caller]
fn won(method: &str, result: Result<bool, StoreError>) -> bool {
    result.unwrap_or_else(|e| {
        broken(
            method,
            format_args!("failed in a race: {}", error_chain(&e)),
            c::STORE_ERROR,
        )
    })
}

/// Racers approving one request token, each as another user.
struct Approvals {
    issued: RequestToken,
    approvals: Vec<RequestToken>,
}

impl<S: TokenStore> Race<S> for Approvals {
    const METHOD: &'static str = m::UPDATE_REQUEST_TOKEN;
    const CONTRACT: &'static str = c::COMPARE_AND_SET_ATOMIC;
    const WHAT: &'static str = "approve one request token from Issued";

    async fn prepare(store: &S, racers: usize) -> Self {
        let now = base_time();
        let issued = sample_request_token(now);
        insert(store, &issued).await;
        let approvals = (0..racers)
            .map(|i| {
                issued
                    .approve(sample_user(), Verifier::new(format!("v{i}")), now)
                    .unwrap_or_else(|e| panic!("the suite's sample token is approvable: {e}"))
            })
            .collect();
        Self { issued, approvals }
    }

    async fn run(&self, store: &S, i: usize) -> Result<bool, StoreError> {
        store
            .update_request_token(StateTag::Issued, &self.approvals[i])
            .await
    }

    async fn check(&self, store: &S, how: &str) {
        let read = read_request_token(store, &self.issued.token).await;
        let state = read.as_ref().map(|r| r.state.tag());
        ensure!(
            state == Some(StateTag::Authorized { failed_attempts: 0 }),
            m::UPDATE_REQUEST_TOKEN,
            c::COMPARE_AND_SET_ATOMIC,
            "left request token {} in state {state:?} after {how} raced to approve it",
            self.issued.token
        );
    }
}

/// Racers exchanging one approved request token, each for its own access
/// token.
struct Exchanges {
    exchanged: RequestToken,
    tag: StateTag,
    accesses: Vec<AccessToken>,
}

impl<S: TokenStore> Race<S> for Exchanges {
    const METHOD: &'static str = m::EXCHANGE_REQUEST_TOKEN;
    const CONTRACT: &'static str = c::EXCHANGE_ATOMIC;
    const WHAT: &'static str = "exchange one request token";

    async fn prepare(store: &S, racers: usize) -> Self {
        let now = base_time();
        let user = sample_user();
        let approved = insert_and_approve(store, &sample_request_token(now), &user).await;
        let accesses = (0..racers)
            .map(|_| sample_access_token(&approved, &user, now))
            .collect();
        Self {
            exchanged: exchanged(&approved),
            tag: approved.state.tag(),
            accesses,
        }
    }

    async fn run(&self, store: &S, i: usize) -> Result<bool, StoreError> {
        store
            .exchange_request_token(self.tag, &self.exchanged, &self.accesses[i])
            .await
    }

    async fn check(&self, store: &S, how: &str) {
        let mut stored = 0;
        for access in &self.accesses {
            stored += usize::from(read_access_token(store, &access.token).await.is_some());
        }
        ensure!(
            stored == 1,
            m::EXCHANGE_REQUEST_TOKEN,
            c::EXCHANGE_ATOMIC,
            "stored {stored} access tokens for one request token after {how} raced to exchange \
             it"
        );
    }
}

/// Racers refreshing one session token, each to its own successor.
struct Refreshes {
    old: AccessToken,
    successors: Vec<AccessToken>,
}

impl<S: TokenStore> Race<S> for Refreshes {
    const METHOD: &'static str = m::REFRESH_ACCESS_TOKEN;
    const CONTRACT: &'static str = c::REFRESH_ATOMIC;
    const WHAT: &'static str = "refresh one access token";

    async fn prepare(store: &S, racers: usize) -> Self {
        let now = base_time();
        let user = sample_user();
        let request = sample_request_token(now);
        let old = sample_session_token(&request, &user, now);
        store_by_exchange(store, &request, &old).await;
        let successors = (0..racers)
            .map(|_| sample_session_token(&request, &user, now))
            .collect();
        Self { old, successors }
    }

    async fn run(&self, store: &S, i: usize) -> Result<bool, StoreError> {
        let at = base_time() + Duration::hours(2);
        store
            .refresh_access_token(&self.old.token, at, &self.successors[i])
            .await
    }

    async fn check(&self, store: &S, how: &str) {
        let mut stored = 0;
        for next in &self.successors {
            stored += usize::from(read_access_token(store, &next.token).await.is_some());
        }
        ensure!(
            stored == 1,
            m::REFRESH_ACCESS_TOKEN,
            c::REFRESH_ATOMIC,
            "stored {stored} successors of one access token after {how} raced to refresh it"
        );
        let read = read_access_token(store, &self.old.token).await;
        let retired = self.old.revoke(base_time() + Duration::hours(2));
        let context = format!("after {how} raced to refresh it");
        let method = m::REFRESH_ACCESS_TOKEN;
        expect_record(method, c::REFRESH_ATOMIC, &context, &retired, read.as_ref());
    }
}

/// [`RACERS`] concurrent exchanges of one request token, then rounds of
/// threads doing the same: exactly one wins each race, exactly one access
/// token is stored.
pub async fn concurrent_exchanges_have_one_winner<S: TokenStore + 'static>(store: Arc<S>) {
    require_multi_thread_runtime("concurrent_exchanges_have_one_winner");
    race::<S, Exchanges>(store, RACERS).await;
}

/// [`RACERS`] concurrent refreshes of one access token, then rounds of
/// threads doing the same: exactly one wins each race, exactly one
/// successor is stored.
pub async fn concurrent_refreshes_have_one_winner<S: TokenStore + 'static>(store: Arc<S>) {
    require_multi_thread_runtime("concurrent_refreshes_have_one_winner");
    race::<S, Refreshes>(store, RACERS).await;
}

/// 100 concurrent compare-and-set approvals of one request token, then
/// rounds of threads doing the same: exactly one wins each race.
pub async fn concurrent_approvals_have_one_winner<S: TokenStore + 'static>(store: Arc<S>) {
    require_multi_thread_runtime("concurrent_approvals_have_one_winner");
    race::<S, Approvals>(store, 100).await;
}

// ---------------------------------------------------------------------------
// Nonce cases

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

/// `insert_nonce(key, now, expires_at)`, which must not fail.
async fn insert_nonce<N: NonceStore>(
    store: &N,
    key: &NonceKey<'_>,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> NonceOutcome {
    let doing = "inserting a nonce";
    ok(
        store.insert_nonce(key, now, expires_at).await,
        m::INSERT_NONCE,
        doing,
    )
}

/// Fresh once, then replayed; any other key component makes it fresh.
pub async fn nonces_are_single_use<N: NonceStore>(store: &N) {
    let now = base_time();
    let expires = now + Duration::minutes(5);
    let sample = SampleNonce::new();
    let key = sample.key();
    let outcome = insert_nonce(store, &key, now, expires).await;
    ensure!(
        outcome == NonceOutcome::Fresh,
        m::INSERT_NONCE,
        c::NONCE_SINGLE_USE,
        "answered {outcome:?} to the first use of a new nonce"
    );
    let outcome = insert_nonce(store, &key, now, expires).await;
    ensure!(
        outcome == NonceOutcome::Replayed,
        m::INSERT_NONCE,
        c::NONCE_SINGLE_USE,
        "answered {outcome:?} to the second use of a nonce within its window: a replay went \
         through"
    );
    let (other_consumer, other_nonce) = (unique("c2"), unique("n2"));
    for (other, part) in [
        (
            NonceKey {
                consumer_key: &other_consumer,
                ..key
            },
            "consumer key",
        ),
        (NonceKey { token: "", ..key }, "token"),
        (
            NonceKey {
                timestamp: key.timestamp + 1,
                ..key
            },
            "timestamp",
        ),
        (
            NonceKey {
                nonce: &other_nonce,
                ..key
            },
            "nonce",
        ),
    ] {
        let outcome = insert_nonce(store, &other, now, expires).await;
        ensure!(
            outcome == NonceOutcome::Fresh,
            m::INSERT_NONCE,
            c::NONCE_SINGLE_USE,
            "answered {outcome:?} to a nonce remembered with another {part}"
        );
    }
}

/// A nonce is remembered until its `expires_at` and forgotten at it by
/// `insert_nonce` itself, with no purge; once fresh again, it is
/// remembered again.
pub async fn nonces_expire<N: NonceStore>(store: &N) {
    let now = base_time();
    let sample = SampleNonce::new();
    let key = sample.key();
    let expires = now + Duration::minutes(5);
    let outcome = insert_nonce(store, &key, now, expires).await;
    ensure!(
        outcome == NonceOutcome::Fresh,
        m::INSERT_NONCE,
        c::NONCE_SINGLE_USE,
        "answered {outcome:?} to the first use of a new nonce"
    );
    let almost = expires - seconds(1);
    let outcome = insert_nonce(store, &key, almost, almost + Duration::minutes(5)).await;
    ensure!(
        outcome == NonceOutcome::Replayed,
        m::INSERT_NONCE,
        c::NONCE_EXPIRY,
        "answered {outcome:?} to a nonce one second before its expires_at: it forgot it early"
    );
    let outcome = insert_nonce(store, &key, expires, expires + Duration::minutes(5)).await;
    if outcome != NonceOutcome::Fresh {
        // Off by one, or forgotten only by a purge? Ask an hour later.
        let hour = expires + Duration::hours(1);
        let later = insert_nonce(store, &key, hour, hour + Duration::minutes(5)).await;
        let what = if later == NonceOutcome::Fresh {
            "answered Replayed at now == expires_at and Fresh an hour later: it forgets a nonce \
             only after its expires_at (the boundary is expires_at <= now)"
        } else {
            "answered Replayed at expires_at and still an hour after it, with no purge_nonces \
             call: expired nonces must count as absent when inserting, not only once purged"
        };
        broken(m::INSERT_NONCE, format_args!("{what}"), c::NONCE_EXPIRY);
    }
    let outcome = insert_nonce(store, &key, expires, expires + Duration::minutes(5)).await;
    ensure!(
        outcome == NonceOutcome::Replayed,
        m::INSERT_NONCE,
        c::NONCE_EXPIRY,
        "answered {outcome:?} to a nonce just used again after it had expired: it was not \
         remembered again"
    );
}

/// `purge_nonces(now)` forgets the nonces expired at `now` and no other.
pub async fn purging_nonces_forgets_only_expired_ones<N: NonceStore>(store: &N) {
    let now = base_time();
    let (early, late) = (SampleNonce::new(), SampleNonce::new());
    let expires = now + Duration::minutes(5);
    let later_expiry = expires + Duration::minutes(1);
    for (sample, expiry) in [(&early, expires), (&late, later_expiry)] {
        let outcome = insert_nonce(store, &sample.key(), now, expiry).await;
        ensure!(
            outcome == NonceOutcome::Fresh,
            m::INSERT_NONCE,
            c::NONCE_SINGLE_USE,
            "answered {outcome:?} to the first use of a new nonce"
        );
    }
    let almost = expires - seconds(1);
    ok(store.purge_nonces(almost).await, m::PURGE_NONCES, "purging");
    let outcome = insert_nonce(store, &early.key(), almost, almost + Duration::minutes(5)).await;
    ensure!(
        outcome == NonceOutcome::Replayed,
        m::PURGE_NONCES,
        c::NONCE_PURGE,
        "forgot a nonce expiring a second after the `now` it was given (the nonce was \
         {outcome:?} after the purge)"
    );
    ok(
        store.purge_nonces(expires).await,
        m::PURGE_NONCES,
        "purging",
    );
    let outcome = insert_nonce(store, &late.key(), expires, later_expiry).await;
    ensure!(
        outcome == NonceOutcome::Replayed,
        m::PURGE_NONCES,
        c::NONCE_PURGE,
        "forgot a nonce expiring a minute after the `now` it was given (the nonce was \
         {outcome:?} after the purge)"
    );
    let outcome = insert_nonce(store, &early.key(), expires, expires + Duration::minutes(5)).await;
    ensure!(
        outcome == NonceOutcome::Fresh,
        m::INSERT_NONCE,
        c::NONCE_EXPIRY,
        "answered {outcome:?} to a nonce whose expires_at is now, after purge_nonces(now)"
    );
}

/// Racers inserting one nonce.
struct NonceInserts(SampleNonce);

impl<N: NonceStore> Race<N> for NonceInserts {
    const METHOD: &'static str = m::INSERT_NONCE;
    const CONTRACT: &'static str = c::NONCE_ATOMIC;
    const WHAT: &'static str = "insert one nonce (Fresh is a win)";

    async fn prepare(_: &N, _: usize) -> Self {
        Self(SampleNonce::new())
    }

    async fn run(&self, store: &N, _: usize) -> Result<bool, StoreError> {
        let now = base_time();
        let outcome = store
            .insert_nonce(&self.0.key(), now, now + Duration::minutes(5))
            .await?;
        Ok(outcome == NonceOutcome::Fresh)
    }

    async fn check(&self, _: &N, _: &str) {}
}

/// [`RACERS`] concurrent inserts of one nonce, then rounds of threads doing
/// the same: exactly one is fresh in each race.
pub async fn concurrent_nonce_inserts_have_one_winner<N: NonceStore + 'static>(store: Arc<N>) {
    require_multi_thread_runtime("concurrent_nonce_inserts_have_one_winner");
    race::<N, NonceInserts>(store, RACERS).await;
}

// ---------------------------------------------------------------------------
// Reopening

/// Stores the access token `access_of` makes for a fresh request token by
/// [`store_by_exchange`]; the request token as exchanged, and the access
/// token.
async fn exchange_new<S: TokenStore>(
    store: &S,
    access_of: impl FnOnce(&RequestToken) -> AccessToken,
) -> (RequestToken, AccessToken) {
    let request = sample_request_token(base_time());
    let access = access_of(&request);
    store_by_exchange(store, &request, &access).await;
    let exchanged = RequestToken {
        state: RequestTokenState::Exchanged,
        ..request
    };
    (exchanged, access)
}

/// Counts a wrong verifier on `approved` (burning it at `max_attempts`)
/// by compare-and-set; the new record.
async fn count_wrong_verifier<S: TokenStore>(
    store: &S,
    approved: &RequestToken,
    max_attempts: u32,
) -> RequestToken {
    let Ok(Err(counted)) = approved.exchange("wrong", max_attempts, base_time()) else {
        panic!("the suite's approved token counts a wrong verifier");
    };
    let expected = approved.state.tag();
    let won = update(store, expected, &counted).await;
    ensure!(
        won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "refused (false) to count a wrong verifier expecting {expected:?}, the stored tag"
    );
    counted
}

/// Every request- and access-token state, written through one handle,
/// reads back field for field through the next one `open` opens, and still
/// works there (compare-and-set on a persisted tag).
pub async fn tokens_survive_reopening<S, F, Fut, E>(mut open: F)
where
    S: TokenStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, E>>,
    E: Debug,
{
    let now = base_time();
    let first = open_store(&mut open, "to write tokens").await;
    let store = &first;
    let user = sample_user();
    let plain_user = User::new(format!("{}@example.org", unique("plain")), unique("uid"));
    let mut requests = Vec::new();
    let mut accesses = Vec::new();

    // Request tokens: issued with every optional field, and with none.
    let issued = sample_request_token(now);
    insert(store, &issued).await;
    requests.push(issued);
    let bare = RequestToken {
        callback: Callback::Oob,
        scope: None,
        grants: Granted::WholeApp,
        display_name: None,
        ..sample_request_token(now)
    };
    insert(store, &bare).await;
    requests.push(bare);
    // Authorized, with no and with two failed attempts; burned; denied.
    requests.push(insert_and_approve(store, &sample_request_token(now), &plain_user).await);
    let approved = insert_and_approve(store, &sample_request_token(now), &user).await;
    let once_wrong = count_wrong_verifier(store, &approved, 3).await;
    let twice_wrong = count_wrong_verifier(store, &once_wrong, 3).await;
    requests.push(twice_wrong.clone());
    let to_burn = insert_and_approve(store, &sample_request_token(now), &user).await;
    requests.push(count_wrong_verifier(store, &to_burn, 1).await);
    let to_deny = sample_request_token(now);
    insert(store, &to_deny).await;
    let denied = to_deny
        .deny(now)
        .unwrap_or_else(|e| panic!("the suite's sample token is deniable: {e}"));
    let won = update(store, StateTag::Issued, &denied).await;
    ensure!(
        won,
        m::UPDATE_REQUEST_TOKEN,
        c::COMPARE_AND_SET,
        "refused (false) to deny a token expecting Issued, the stored tag"
    );
    requests.push(denied);

    // Access tokens: plain, active and revoked; sessions with and without an
    // end to their authorization; one retired by a refresh, and its
    // successor. Each exchange leaves an `Exchanged` request token.
    // The first of App Engine's whole-app scope, the others with grants.
    let (used, active) = exchange_new(store, |r| AccessToken {
        grants: Granted::WholeApp,
        ..sample_access_token(r, &plain_user, now)
    })
    .await;
    requests.push(used);
    accesses.push(active);
    let (used, to_revoke) = exchange_new(store, |r| sample_access_token(r, &user, now)).await;
    requests.push(used);
    accesses.push(revoke(store, &to_revoke, now + seconds(30)).await);
    let (used, session) = exchange_new(store, |r| sample_session_token(r, &user, now)).await;
    requests.push(used);
    accesses.push(session);
    let (used, endless) = exchange_new(store, |r| AccessToken {
        session: Some(Session {
            handle: SessionHandle::new(unique("sh")),
            authorization_expires_at: None,
        }),
        ..sample_session_token(r, &user, now)
    })
    .await;
    requests.push(used);
    accesses.push(endless);
    let (used, to_refresh) = exchange_new(store, |r| sample_session_token(r, &user, now)).await;
    requests.push(used);
    let later = now + Duration::hours(2);
    let successor = AccessToken {
        token: unique("at"),
        secret: TokenSecret::new(unique("ats")),
        created_at: later,
        expires_at: Some(later + Duration::hours(1)),
        ..to_refresh.clone()
    };
    let won = refresh(store, &to_refresh.token, later, &successor).await;
    ensure!(
        won,
        m::REFRESH_ACCESS_TOKEN,
        c::REFRESH,
        "refused (false) to refresh an active session token"
    );
    accesses.push(to_refresh.revoke(later));
    accesses.push(successor);
    drop(first);

    let store = open_store(&mut open, "again, to read back what it held").await;
    let store = &store;
    for request in &requests {
        let read = read_request_token(store, &request.token).await;
        let context = format!(
            "in state {:?} after reopening the store",
            request.state.tag()
        );
        let method = m::GET_REQUEST_TOKEN;
        expect_record(method, c::PERSIST_TOKENS, &context, request, read.as_ref());
    }
    for access in &accesses {
        let read = read_access_token(store, &access.token).await;
        let kind = if access.session.is_some() {
            "session"
        } else {
            "plain"
        };
        let context = format!("({kind}, {:?}) after reopening the store", access.state);
        let method = m::GET_ACCESS_TOKEN;
        expect_record(method, c::PERSIST_TOKENS, &context, access, read.as_ref());
    }
    // The persisted tag still guards the compare-and-set.
    let expected = twice_wrong.state.tag();
    let won = update(store, expected, &exchanged(&twice_wrong)).await;
    ensure!(
        won,
        m::UPDATE_REQUEST_TOKEN,
        c::PERSIST_TOKENS,
        "refused (false), after reopening the store, an update expecting the tag {expected:?} \
         stored before"
    );
}

/// A nonce remembered through one handle is a replay through the next one
/// `open` opens.
pub async fn nonces_survive_reopening<N, F, Fut, E>(mut open: F)
where
    N: NonceStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<N, E>>,
    E: Debug,
{
    let now = base_time();
    let expires = now + Duration::minutes(5);
    let sample = SampleNonce::new();
    let store = open_store(&mut open, "to remember a nonce").await;
    let outcome = insert_nonce(&store, &sample.key(), now, expires).await;
    ensure!(
        outcome == NonceOutcome::Fresh,
        m::INSERT_NONCE,
        c::NONCE_SINGLE_USE,
        "answered {outcome:?} to the first use of a new nonce"
    );
    drop(store);
    let store = open_store(&mut open, "again, to replay the nonce").await;
    let outcome = insert_nonce(&store, &sample.key(), now + seconds(1), expires).await;
    ensure!(
        outcome == NonceOutcome::Replayed,
        m::INSERT_NONCE,
        c::PERSIST_NONCES,
        "answered {outcome:?}, after reopening the store, to a nonce used before it within its \
         window"
    );
}

mod consumers;
mod events;

pub use consumers::{
    DELETE_RACES, consumer_tokens_are_listed_and_revoked, consumers_are_listed_by_state_and_owner,
    consumers_round_trip, delete_takes_the_tokens_with_it, deleting_races_exchanges,
    deleting_races_refreshes, keys_are_never_reused, racing_updates_have_one_winner,
    run_consumer_store_suite, sample_consumer, updates_compare_and_set_the_revision,
};
pub use events::{
    events_round_trip_newest_first, purging_events_deletes_only_older_ones, run_event_store_suite,
};
