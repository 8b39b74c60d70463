//! The real stores: SQLite, PostgreSQL and Redis run the conformance suite,
//! keep their data across reopening, write nothing half way, and turn every
//! infrastructure failure into `StoreError` (503 from a provider).
//!
//! PostgreSQL and Redis tests read `OAUTH1_TEST_POSTGRES_URL` and
//! `OAUTH1_TEST_REDIS_URL` (`source .ci/services.sh && start_services` sets
//! both). Unset, they print why and pass — unless `CI` is set: CI must run
//! them against real servers, so there a missing URL fails.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use oauth1_provider::client::Signer;
use oauth1_provider::model::{Callback, RequestToken, RequestTokenState, StateTag, Verifier};
use oauth1_provider::protocol::parse_form;
use oauth1_provider::store::{NonceKey, NonceOutcome, NonceStore, TokenStore};
use oauth1_provider::store::{PostgresStore, RedisNonceStore, SqliteStore};
use oauth1_provider::testing::{self, sample_access_token, sample_request_token};
use oauth1_provider::{
    Approval, Consumer, ConsumerRegistry, Provider, ProviderConfig, Request, SignatureMethod,
    StoreError, User,
};
use time::{Duration, OffsetDateTime};

use crate::support::env::service_env;
use crate::support::ports::ClosedPort;
use crate::support::services::TempSchema;
use crate::support::temp::{TempDir, temp_db_path};

// ---------------------------------------------------------------------------
// Helpers

fn postgres_url() -> Option<String> {
    service_env("OAUTH1_TEST_POSTGRES_URL")
}

fn redis_url() -> Option<String> {
    service_env("OAUTH1_TEST_REDIS_URL")
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time")
}

fn user() -> User {
    User::new("alice@photos.example", "42")
}

/// A request token, stored and approved: ready to exchange with `v`.
async fn approved_token<S: TokenStore>(store: &S) -> RequestToken {
    let issued = sample_request_token(now());
    store.insert_request_token(&issued).await.expect("insert");
    let approved = issued
        .approve(user(), Verifier::new("v"), now())
        .expect("approve");
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas")
    );
    approved
}

/// Values a naive schema would mangle read back exactly, in every state.
async fn awkward_values_round_trip<S: TokenStore>(store: &S) {
    let mut token = sample_request_token(now());
    // A client may send a NUL byte in scope or display name (PostgreSQL
    // TEXT cannot hold one), and a URL callback that reads "oob".
    token.scope = Some("a\0b ü".to_owned());
    token.display_name = Some(String::new());
    token.callback = Callback::Url("OOB".to_owned());
    store.insert_request_token(&token).await.expect("insert");
    assert_eq!(
        store.get_request_token(&token.token).await.expect("get"),
        Some(token.clone())
    );

    let mut oob = sample_request_token(now());
    oob.callback = Callback::Oob;
    oob.scope = None;
    oob.display_name = None;
    store.insert_request_token(&oob).await.expect("insert");
    assert_eq!(
        store.get_request_token(&oob.token).await.expect("get"),
        Some(oob.clone())
    );

    // Authorized with failed attempts, then burned; denied.
    let approved = token
        .approve(user().admin(true), Verifier::new("v"), now())
        .expect("approve");
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas")
    );
    let mut current = approved;
    for _ in 0..3 {
        let next = current
            .exchange("wrong", 3, now())
            .expect("live")
            .expect_err("wrong verifier");
        assert!(
            store
                .update_request_token(current.state.tag(), &next)
                .await
                .expect("cas")
        );
        assert_eq!(
            store.get_request_token(&token.token).await.expect("get"),
            Some(next.clone())
        );
        current = next;
    }
    assert_eq!(current.state, RequestTokenState::Burned);
    let denied = oob.deny(now()).expect("deny");
    assert!(
        store
            .update_request_token(StateTag::Issued, &denied)
            .await
            .expect("cas")
    );
    assert_eq!(
        store.get_request_token(&oob.token).await.expect("get"),
        Some(denied)
    );
}

/// An exchange whose access-token insert fails (a duplicate token) is an
/// error and leaves the request token as it was: both or neither.
async fn failed_exchange_writes_nothing<S: TokenStore>(store: &S) {
    let first = approved_token(store).await;
    let (exchanged, _) = first.exchange("v", 3, now()).expect("live").expect("right");
    let access = sample_access_token(&first, &user(), now());
    assert!(
        store
            .exchange_request_token(first.state.tag(), &exchanged, &access)
            .await
            .expect("exchange")
    );

    let second = approved_token(store).await;
    let (exchanged, _) = second
        .exchange("v", 3, now())
        .expect("live")
        .expect("right");
    let mut duplicate = sample_access_token(&second, &user(), now());
    duplicate.token = access.token.clone();
    let result = store
        .exchange_request_token(second.state.tag(), &exchanged, &duplicate)
        .await;
    assert!(
        result.is_err(),
        "a failed insert is an error, not {result:?}"
    );
    assert_eq!(
        store.get_request_token(&second.token).await.expect("get"),
        Some(second.clone()),
        "the request token is not exchanged when the access token was not stored"
    );
    assert_eq!(
        store.get_access_token(&access.token).await.expect("get"),
        Some(access),
        "the existing access token is untouched"
    );
    // And the token can still be exchanged properly.
    let fresh = sample_access_token(&second, &user(), now());
    assert!(
        store
            .exchange_request_token(second.state.tag(), &exchanged, &fresh)
            .await
            .expect("exchange")
    );
}

/// `racers` concurrent exchanges of one request token split over several
/// store handles (as over several instances): exactly one wins.
async fn exchanges_across_handles_have_one_winner<S: TokenStore + Clone + 'static>(
    handles: &[S],
    racers: usize,
) {
    let approved = approved_token(&handles[0]).await;
    let (exchanged, _) = approved
        .exchange("v", 3, now())
        .expect("live")
        .expect("right");
    let tag = approved.state.tag();
    let mut tasks = Vec::new();
    let mut issued = Vec::new();
    for i in 0..racers {
        let store = handles[i % handles.len()].clone();
        let exchanged = exchanged.clone();
        let access = sample_access_token(&approved, &user(), now());
        issued.push(access.token.clone());
        tasks.push(tokio::spawn(async move {
            store.exchange_request_token(tag, &exchanged, &access).await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("task").expect("exchange") {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one of {racers} exchanges wins");
    let mut stored = 0;
    for token in &issued {
        if handles[0]
            .get_access_token(token)
            .await
            .expect("get")
            .is_some()
        {
            stored += 1;
        }
    }
    assert_eq!(stored, 1, "exactly one access token is stored");
}

fn nonce_key(nonce: &str) -> NonceKey<'_> {
    NonceKey {
        consumer_key: "consumer",
        token: "token",
        timestamp: 1_700_000_000,
        nonce,
    }
}

/// Every token and nonce operation fails with a `StoreError` (with a
/// source), never a "not found" or "replayed".
async fn every_operation_fails<S: TokenStore, N: NonceStore>(store: &S, nonces: &N) {
    fn check<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
        match result {
            Ok(v) => panic!("{what} must fail when the store is down, got Ok({v:?})"),
            Err(e) => assert!(
                std::error::Error::source(&e).is_some(),
                "{what}: the StoreError keeps its source"
            ),
        }
    }
    let token = sample_request_token(now());
    let access = sample_access_token(&token, &user(), now());
    check(
        "insert_request_token",
        store.insert_request_token(&token).await,
    );
    check(
        "get_request_token",
        store.get_request_token(&token.token).await,
    );
    check(
        "update_request_token",
        store.update_request_token(StateTag::Issued, &token).await,
    );
    check(
        "exchange_request_token",
        store
            .exchange_request_token(StateTag::Issued, &token, &access)
            .await,
    );
    check(
        "get_access_token",
        store.get_access_token(&access.token).await,
    );
    check(
        "refresh_access_token",
        store
            .refresh_access_token(&access.token, now(), &access)
            .await,
    );
    check(
        "revoke_access_token",
        store.revoke_access_token(&access.token, now()).await,
    );
    check(
        "revoke_user_tokens",
        store.revoke_user_tokens("42", "consumer", now()).await,
    );
    check("list_user_tokens", store.list_user_tokens("42").await);
    check("purge_expired", store.purge_expired(now()).await);
    check(
        "insert_nonce",
        nonces
            .insert_nonce(&nonce_key("n"), now(), now() + Duration::minutes(5))
            .await,
    );
}

const CONSUMER: &str = "printer";
const CONSUMER_SECRET: &str = "printer-secret";
const CALLBACK: &str = "https://printer.example/ready";

fn provider<S: TokenStore, N: NonceStore>(store: S, nonces: N) -> Provider<S, N> {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::new(CONSUMER, CONSUMER_SECRET, "Photo Printer").callback_prefix(CALLBACK),
    );
    Provider::new(store, nonces, consumers, ProviderConfig::default())
}

fn client() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, CONSUMER, CONSUMER_SECRET)
}

fn field(body: &str, name: &str) -> String {
    parse_form(body)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

/// A request-token request the provider can only answer with its stores.
async fn request_token_status<S: TokenStore, N: NonceStore>(provider: &Provider<S, N>) -> u16 {
    let url = "https://photos.example/_ah/OAuthGetRequestToken";
    let header = client()
        .callback(CALLBACK)
        .authorization_header("POST", url, None)
        .expect("sign");
    let request = Request::new(
        "POST",
        "https",
        "photos.example",
        "/_ah/OAuthGetRequestToken",
    )
    .authorization(Some(&header));
    provider.request_token(&request).await.status
}

/// The whole three-legged flow, a signed call, and its replay refused.
async fn full_flow<S: TokenStore, N: NonceStore>(provider: &Provider<S, N>) {
    let url = "https://photos.example/_ah/OAuthGetRequestToken";
    let header = client()
        .callback(CALLBACK)
        .authorization_header("POST", url, None)
        .expect("sign");
    let request = Request::new(
        "POST",
        "https",
        "photos.example",
        "/_ah/OAuthGetRequestToken",
    )
    .authorization(Some(&header));
    let response = provider.request_token(&request).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let token = field(&response.body, "oauth_token");
    let secret = field(&response.body, "oauth_token_secret");

    let consent = Request::new(
        "POST",
        "https",
        "photos.example",
        "/_ah/OAuthAuthorizeToken",
    );
    let Approval::Redirect(callback) = provider
        .approve(&consent, &token, user())
        .await
        .expect("approve")
    else {
        panic!("a URL callback redirects");
    };
    let verifier = field(callback.split_once('?').expect("query").1, "oauth_verifier");

    let url = "https://photos.example/_ah/OAuthGetAccessToken";
    let header = client()
        .token(&token, &secret)
        .verifier(&verifier)
        .authorization_header("POST", url, None)
        .expect("sign");
    let request = Request::new(
        "POST",
        "https",
        "photos.example",
        "/_ah/OAuthGetAccessToken",
    )
    .authorization(Some(&header));
    let response = provider.access_token(&request).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let access = field(&response.body, "oauth_token");
    let access_secret = field(&response.body, "oauth_token_secret");

    let url = "https://photos.example/photos?size=original";
    let header = client()
        .token(&access, &access_secret)
        .authorization_header("GET", url, None)
        .expect("sign");
    let request = Request::new("GET", "https", "photos.example", "/photos?size=original")
        .authorization(Some(&header));
    let context = provider
        .authenticate(&request)
        .await
        .expect("authenticated");
    assert_eq!(context.get_current_user().expect("user"), &user());
    let err = provider.authenticate(&request).await.expect_err("replay");
    assert_eq!(
        (err.status(), err.problem().map(|p| p.code())),
        (401, Some("nonce_used"))
    );
}

/// A TCP forwarder to a real server that a test can cut, as if the server
/// went down: open connections are shut down and new ones refused. Its port
/// is held from start to drop, so that once cut it stays refused: no other
/// test's listener can be given it while a store still dials it.
struct Proxy {
    addr: SocketAddr,
    _port: ClosedPort,
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(target: SocketAddr) -> io::Result<Self> {
        let port = ClosedPort::reserve();
        let listener = port.listen()?;
        let addr = port.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let acceptor = {
            let (stop, streams) = (stop.clone(), streams.clone());
            std::thread::spawn(move || {
                for incoming in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = incoming else { continue };
                    let Ok(server) = TcpStream::connect(target) else {
                        continue;
                    };
                    let pipe = |mut from: TcpStream, mut to: TcpStream| {
                        std::thread::spawn(move || {
                            let _ = io::copy(&mut from, &mut to);
                            let _ = to.shutdown(Shutdown::Both);
                        });
                    };
                    let clones = (
                        client.try_clone(),
                        server.try_clone(),
                        client.try_clone(),
                        server.try_clone(),
                    );
                    let (Ok(c1), Ok(s1), Ok(c2), Ok(s2)) = clones else {
                        continue;
                    };
                    streams
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend([c2, s2]);
                    pipe(c1, server);
                    pipe(s1, client);
                }
                // The listener is dropped here: new connections are refused
                // (the port is still held, by `_port`).
            })
        };
        Ok(Self {
            addr,
            _port: port,
            stop,
            streams,
            acceptor: Some(acceptor),
        })
    }

    /// Cuts every connection and stops listening.
    fn cut(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag and drops the listener.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// `url` with its host and port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let userinfo = authority
        .rsplit_once('@')
        .map_or(String::new(), |(u, _)| format!("{u}@"));
    format!("{scheme}://{userinfo}{addr}{path}")
}

/// The server address in `url`.
fn server_addr(url: &str) -> SocketAddr {
    let rest = url.split_once("://").expect("URL").1;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port
        .to_socket_addrs()
        .expect("resolve")
        .next()
        .expect("an address")
}

// ---------------------------------------------------------------------------
// SQLite

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_store_passes_the_conformance_suite() {
    let path = temp_db_path("conformance");
    let _dir = TempDir::of(&path);
    let store = SqliteStore::open(&path).await.expect("open");
    testing::run_conformance_suite(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_store_passes_the_conformance_suite() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    testing::run_conformance_suite(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_keeps_awkward_values_exactly() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    awkward_values_round_trip(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_survives_reopening() {
    let path = temp_db_path("reopen");
    let _dir = TempDir::of(&path);
    let store = SqliteStore::open(&path).await.expect("open");
    assert_eq!(
        store.schema_version().await.expect("version"),
        SqliteStore::SCHEMA_VERSION
    );
    let pending = sample_request_token(now());
    store.insert_request_token(&pending).await.expect("insert");
    let approved = approved_token(&store).await;
    let (exchanged, _) = approved
        .exchange("v", 3, now())
        .expect("live")
        .expect("right");
    let access = sample_access_token(&approved, &user(), now());
    assert!(
        store
            .exchange_request_token(approved.state.tag(), &exchanged, &access)
            .await
            .expect("exchange")
    );
    let key = nonce_key("before-restart");
    let expires = now() + Duration::minutes(5);
    assert_eq!(
        store
            .insert_nonce(&key, now(), expires)
            .await
            .expect("nonce"),
        NonceOutcome::Fresh
    );
    drop(store);

    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(
        store.schema_version().await.expect("version"),
        SqliteStore::SCHEMA_VERSION,
        "reopening keeps the schema version (no second migration)"
    );
    assert_eq!(
        store.get_request_token(&pending.token).await.expect("get"),
        Some(pending)
    );
    assert_eq!(
        store.get_access_token(&access.token).await.expect("get"),
        Some(access)
    );
    assert_eq!(
        store
            .get_request_token(&approved.token)
            .await
            .expect("get")
            .map(|t| t.state),
        Some(RequestTokenState::Exchanged)
    );
    assert_eq!(
        store
            .insert_nonce(&key, now(), expires)
            .await
            .expect("nonce"),
        NonceOutcome::Replayed,
        "a nonce used before the restart is still refused"
    );
    drop(store);

    let conn = rusqlite::Connection::open(&path).expect("open directly");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, "wal");
    let versions: i64 = conn
        .query_row("SELECT count(*) FROM oauth1_schema_version", [], |r| {
            r.get(0)
        })
        .expect("versions");
    assert_eq!(versions, i64::from(SqliteStore::SCHEMA_VERSION));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_exchange_writes_nothing() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    failed_exchange_writes_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_handles_on_one_file_have_one_exchange_winner() {
    // Two stores on one file are two connections, as two processes would
    // have: SQLite's locking (with the busy timeout) keeps the CAS atomic.
    let path = temp_db_path("two-handles");
    let _dir = TempDir::of(&path);
    let a = SqliteStore::open(&path).await.expect("open");
    let b = SqliteStore::open(&path).await.expect("open");
    exchanges_across_handles_have_one_winner(&[a.clone(), b.clone()], 200).await;

    let key = nonce_key("shared");
    let expires = now() + Duration::minutes(5);
    assert_eq!(
        a.insert_nonce(&key, now(), expires).await.expect("nonce"),
        NonceOutcome::Fresh
    );
    assert_eq!(
        b.insert_nonce(&key, now(), expires).await.expect("nonce"),
        NonceOutcome::Replayed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_nonces_are_purged_lazily() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    // 3000 requests, one a second, with a 10 s window: without purging all
    // 3000 would stay; lazy purges every 1024 inserts keep it bounded.
    for i in 0..3000 {
        let at = now() + Duration::seconds(i);
        let outcome = store
            .insert_nonce(&nonce_key(&format!("n{i}")), at, at + Duration::seconds(10))
            .await
            .expect("nonce");
        assert_eq!(outcome, NonceOutcome::Fresh);
    }
    let count = store.nonce_count().await.expect("count");
    assert!(count <= 1024 + 10, "{count} nonces remembered");
    let purged = store
        .purge_nonces(now() + Duration::seconds(3100))
        .await
        .expect("purge");
    assert_eq!(purged, count);
    assert_eq!(store.nonce_count().await.expect("count"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_garbage_file_is_an_error() {
    let path = temp_db_path("garbage");
    let _dir = TempDir::of(&path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, vec![0x5a; 8192]).expect("write garbage");
    let err = SqliteStore::open(&path).await.expect_err("not a database");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_newer_schema_is_refused() {
    let path = temp_db_path("newer");
    let _dir = TempDir::of(&path);
    drop(SqliteStore::open(&path).await.expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("open directly");
    conn.execute(
        "INSERT INTO oauth1_schema_version (version, applied_at) VALUES (99, 0)",
        [],
    )
    .expect("insert");
    drop(conn);
    let err = SqliteStore::open(&path).await.expect_err("newer schema");
    let source = std::error::Error::source(&err).expect("source").to_string();
    assert!(source.contains("99"), "{source}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_damaged_database_fails_every_operation_with_503() {
    let path = temp_db_path("damaged");
    let _dir = TempDir::of(&path);
    let store = SqliteStore::open(&path).await.expect("open");
    let provider = provider(store.clone(), store.clone());
    assert_eq!(request_token_status(&provider).await, 200);

    // Another process damages the database under the open store.
    let conn = rusqlite::Connection::open(&path).expect("open directly");
    conn.execute_batch(
        "DROP TABLE oauth1_request_tokens; DROP TABLE oauth1_access_tokens; \
         DROP TABLE oauth1_nonces;",
    )
    .expect("drop tables");
    drop(conn);

    every_operation_fails(&store, &store).await;
    assert_eq!(
        request_token_status(&provider).await,
        503,
        "a store failure is a 503, never an OAuth refusal"
    );
}

// ---------------------------------------------------------------------------
// PostgreSQL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(url) = postgres_url() else { return };
    let store = PostgresStore::connect(&url).await.expect("connect");
    assert_eq!(
        store.schema_version().await.expect("version"),
        PostgresStore::SCHEMA_VERSION
    );
    testing::run_conformance_suite(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_keeps_awkward_values_exactly() {
    let Some(url) = postgres_url() else { return };
    let store = PostgresStore::connect(&url).await.expect("connect");
    awkward_values_round_trip(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failed_exchange_writes_nothing() {
    let Some(url) = postgres_url() else { return };
    let store = PostgresStore::connect(&url).await.expect("connect");
    failed_exchange_writes_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_have_one_exchange_winner_and_share_nonces() {
    let Some(url) = postgres_url() else { return };
    let a = PostgresStore::connect(&url).await.expect("connect");
    let b = PostgresStore::connect(&url).await.expect("connect");
    exchanges_across_handles_have_one_winner(&[a.clone(), b.clone()], 400).await;

    let nonce = format!("shared-{}", sample_request_token(now()).token);
    let key = nonce_key(&nonce);
    let expires = now() + Duration::minutes(5);
    assert_eq!(
        a.insert_nonce(&key, now(), expires).await.expect("nonce"),
        NonceOutcome::Fresh
    );
    assert_eq!(
        b.insert_nonce(&key, now(), expires).await.expect("nonce"),
        NonceOutcome::Replayed,
        "a nonce used on one instance is refused on the other"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_starting_at_once_migrate_once() {
    let Some(url) = postgres_url() else { return };
    let (schema, scoped) = TempSchema::create(&url).await;
    let starts = (0..4).map(|_| {
        let scoped = scoped.clone();
        tokio::spawn(async move { PostgresStore::connect(&scoped).await })
    });
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.expect("task").expect("every instance starts"));
    }
    let client = stores[0].pool().get().await.expect("client");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM oauth1_schema_version", &[])
        .await
        .expect("versions")
        .get(0);
    assert_eq!(rows, i64::from(PostgresStore::SCHEMA_VERSION));
    let in_schema: String = client
        .query_one("SELECT current_schema()", &[])
        .await
        .expect("schema")
        .get(0);
    assert_eq!(in_schema, schema.name);
    drop(client);
    // The fresh schema works.
    testing::request_token_lifecycle(&stores[1]).await;
    drop(stores);
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_server_is_an_error() {
    let Some(url) = postgres_url() else { return };
    let closed = ClosedPort::reserve();
    let err = PostgresStore::connect(&via(&url, closed.addr()))
        .await
        .expect_err("nothing listens there");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_gone_fails_every_operation_with_503() {
    let Some(url) = postgres_url() else { return };
    let mut proxy = Proxy::start(server_addr(&url)).expect("proxy");
    let store = PostgresStore::connect(&via(&url, proxy.addr))
        .await
        .expect("connect through the proxy");
    let provider = provider(store.clone(), store.clone());
    assert_eq!(request_token_status(&provider).await, 200);

    proxy.cut();
    every_operation_fails(&store, &store).await;
    assert_eq!(request_token_status(&provider).await, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_killed_mid_test_never_give_a_wrong_answer() {
    let Some(url) = postgres_url() else { return };
    let store = PostgresStore::connect(&url).await.expect("connect");
    let admin = PostgresStore::connect(&url).await.expect("connect");
    let approved = approved_token(&store).await;
    let (exchanged, _) = approved
        .exchange("v", 3, now())
        .expect("live")
        .expect("right");

    // Kill every connection of `store`'s pool (not `admin`'s).
    let pids: Vec<i32> = {
        let mut pids = Vec::new();
        let mut held = Vec::new();
        // Hold several connections so more than one backend is in the pool.
        for _ in 0..3 {
            let client = store.pool().get().await.expect("client");
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .expect("pid")
                .get(0);
            pids.push(pid);
            held.push(client);
        }
        pids
    };
    let client = admin.pool().get().await.expect("client");
    for pid in &pids {
        client
            .execute("SELECT pg_terminate_backend($1)", &[pid])
            .await
            .expect("terminate");
    }
    drop(client);

    // A call on a killed connection may fail (503) or find a fresh one; it
    // never reports a wrong outcome, and nothing is half written.
    let access = sample_access_token(&approved, &user(), now());
    let first = store
        .exchange_request_token(approved.state.tag(), &exchanged, &access)
        .await;
    let stored_access = store.get_access_token(&access.token).await;
    let stored_request = store.get_request_token(&approved.token).await;
    // The pool recovers: by now the dead connections are gone.
    let stored_access = match stored_access {
        Ok(v) => v,
        Err(_) => store
            .get_access_token(&access.token)
            .await
            .expect("recovered"),
    };
    let stored_request = match stored_request {
        Ok(v) => v,
        Err(_) => store
            .get_request_token(&approved.token)
            .await
            .expect("recovered"),
    }
    .expect("the request token exists");
    match first {
        Ok(true) => {
            assert_eq!(stored_access, Some(access));
            assert_eq!(stored_request.state, RequestTokenState::Exchanged);
        }
        Ok(false) => panic!("nothing else exchanged the token"),
        Err(_) => assert_eq!(
            stored_access.is_some(),
            stored_request.state == RequestTokenState::Exchanged,
            "both or neither"
        ),
    }
    testing::request_token_lifecycle(&store).await;
}

// ---------------------------------------------------------------------------
// Redis, and PostgreSQL tokens with Redis nonces

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_nonce_store_passes_the_nonce_suite() {
    let Some(url) = redis_url() else { return };
    let store = RedisNonceStore::connect(&url).await.expect("connect");
    testing::run_nonce_store_suite(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keys_expire_and_prefixes_separate() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("oauth1-test:{}:", sample_request_token(now()).token);
    let a = RedisNonceStore::connect(&url)
        .await
        .expect("connect")
        .with_key_prefix(format!("{prefix}a:"));
    let b = a.clone().with_key_prefix(format!("{prefix}b:"));
    let key = nonce_key("n");
    let expires = now() + Duration::seconds(120);
    assert_eq!(
        a.insert_nonce(&key, now(), expires).await.expect("nonce"),
        NonceOutcome::Fresh
    );
    assert_eq!(
        b.insert_nonce(&key, now(), expires).await.expect("nonce"),
        NonceOutcome::Fresh,
        "another prefix is another namespace"
    );
    assert_eq!(a.purge_nonces(now()).await.expect("purge"), 0);

    let client = redis::Client::open(url.as_str()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}a:*"))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1, "one key per nonce");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .expect("ttl");
    assert!(
        (1..=120).contains(&ttl),
        "Redis expires the key with the nonce (TTL {ttl})"
    );
    let _: i64 = redis::cmd("DEL")
        .arg(&keys[0])
        .arg(format!("{prefix}b:{}", &keys[0][prefix.len() + 2..]))
        .query_async(&mut conn)
        .await
        .expect("del");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tokens_with_redis_nonces() {
    let (Some(pg), Some(redis)) = (postgres_url(), redis_url()) else {
        return;
    };
    let tokens = Arc::new(PostgresStore::connect(&pg).await.expect("connect"));
    let nonces = Arc::new(RedisNonceStore::connect(&redis).await.expect("connect"));
    testing::run_token_store_suite(tokens.clone()).await;
    testing::run_nonce_store_suite(nonces.clone()).await;
    full_flow(&provider(tokens, nonces)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_sqlite_run_the_whole_flow() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    full_flow(&provider(store.clone(), store)).await;
    let Some(url) = postgres_url() else { return };
    let store = PostgresStore::connect(&url).await.expect("connect");
    full_flow(&provider(store.clone(), store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_server_is_an_error() {
    let Some(url) = redis_url() else { return };
    let closed = ClosedPort::reserve();
    let err = RedisNonceStore::connect(&via(&url, closed.addr()))
        .await
        .expect_err("nothing listens there");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_server_gone_fails_nonce_inserts_with_503() {
    let (Some(pg), Some(url)) = (postgres_url(), redis_url()) else {
        return;
    };
    let mut proxy = Proxy::start(server_addr(&url)).expect("proxy");
    let nonces = RedisNonceStore::connect(&via(&url, proxy.addr))
        .await
        .expect("connect through the proxy");
    let tokens = PostgresStore::connect(&pg).await.expect("connect");
    let provider = provider(tokens, nonces.clone());
    assert_eq!(request_token_status(&provider).await, 200);

    proxy.cut();
    for i in 0..3 {
        let result = nonces
            .insert_nonce(
                &nonce_key(&format!("gone-{i}")),
                now(),
                now() + Duration::minutes(5),
            )
            .await;
        let err = result.expect_err("Redis is gone");
        assert!(std::error::Error::source(&err).is_some());
    }
    assert_eq!(
        request_token_status(&provider).await,
        503,
        "a nonce store failure is a 503, never a replay"
    );
}
