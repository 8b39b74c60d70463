//! The OAuth Session extension: expiring access tokens with
//! `oauth_expires_in`, `oauth_session_handle` and
//! `oauth_authorization_expires_in`; refresh at the access-token endpoint
//! (one winner when racing, in memory and in real PostgreSQL); 401
//! `token_expired` after expiry; every refusal; the stores' migration.

use std::sync::Arc;
use std::time::Duration;

use oauth1_provider::client::Signer;
use oauth1_provider::provider::{Reason, SessionConfig};
use oauth1_provider::store::{NonceStore, TokenStore};
use oauth1_provider::{
    Consumer, ConsumerRegistry, OAuthContext, OAuthError, ProviderConfig, Response, SignatureMethod,
};

use crate::support::breadth::{ORIGIN, Site, site, site_on};
use crate::support::harness::{alice, assert_refused, field, refused};

const APP: (&str, &str) = ("yahoo-app", "yahoo-secret");

fn consumers() -> ConsumerRegistry {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::new(APP.0, APP.1, "Yahoo-style App").callback_prefix("https://client.example/cb"),
    );
    consumers.register(
        Consumer::new("other-app", "other-secret", "Other")
            .callback_prefix("https://client.example/cb"),
    );
    consumers
}

fn sessions_config() -> ProviderConfig {
    let mut config = ProviderConfig::default();
    let mut sessions = SessionConfig::default();
    sessions.access_token_ttl = Duration::from_secs(3600);
    sessions.authorization_ttl = Some(Duration::from_secs(86_400));
    config.sessions = Some(sessions);
    config
}

fn app() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, APP.0, APP.1)
}

/// A granted session: (token, secret, handle).
struct Grant {
    token: String,
    secret: String,
    handle: String,
}

impl Grant {
    fn of(response: &Response) -> Self {
        assert_eq!(response.status, 200, "{}", response.body);
        Self {
            token: field(response, "oauth_token"),
            secret: field(response, "oauth_token_secret"),
            handle: field(response, "oauth_session_handle"),
        }
    }
}

async fn grant<S: TokenStore + NonceStore>(s: &Site<S>) -> (Grant, Response) {
    let response = s.access_response(&app, alice()).await;
    (Grant::of(&response), response)
}

async fn call<S: TokenStore + NonceStore>(
    s: &Site<S>,
    grant: &Grant,
) -> Result<OAuthContext, OAuthError> {
    let request = s.signed(
        app().token(&grant.token, &grant.secret),
        "GET",
        &format!("{ORIGIN}/api/whoami"),
        None,
    );
    s.provider.authenticate(&request.view()).await
}

async fn refresh<S: TokenStore + NonceStore>(
    s: &Site<S>,
    signer: Signer<'_>,
    token: &str,
    secret: &str,
    handle: &str,
) -> Response {
    let signer = signer
        .token(token, secret)
        .header_param("oauth_session_handle", handle);
    let request = s.signed(
        signer,
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetAccessToken"),
        None,
    );
    s.provider.access_token(&request.view()).await
}

#[tokio::test]
async fn tokens_expire_and_refresh_with_their_session_handle() {
    let s = site(consumers(), sessions_config());
    let (first, response) = grant(&s).await;
    assert_eq!(field(&response, "oauth_expires_in"), "3600");
    assert_eq!(field(&response, "oauth_authorization_expires_in"), "86400");
    assert!(first.handle.len() >= 32, "a handle of 128+ bits");
    assert_eq!(response.header("cache-control"), Some("no-store"));
    call(&s, &first).await.unwrap();

    // An hour later the token has expired…
    s.clock.advance(Duration::from_secs(3600));
    let err = refused(call(&s, &first).await, 401, "token_expired");
    assert_eq!(err.reason(), Some(Reason::AccessTokenExpired));
    // …and the consumer refreshes it with the old token and the handle.
    let response = refresh(&s, app(), &first.token, &first.secret, &first.handle).await;
    let second = Grant::of(&response);
    assert_ne!(second.token, first.token);
    assert_ne!(second.secret, first.secret);
    assert_eq!(second.handle, first.handle, "the session keeps its handle");
    assert_eq!(field(&response, "oauth_expires_in"), "3600");
    assert_eq!(field(&response, "oauth_authorization_expires_in"), "82800");
    let context = call(&s, &second).await.unwrap();
    assert_eq!(context.get_current_user().unwrap(), &alice());
    assert_eq!(context.scope(), Some("https://api.example.com/photos"));
    // The old token is retired, and cannot refresh again.
    refused(call(&s, &first).await, 401, "token_revoked");
    let again = refresh(&s, app(), &first.token, &first.secret, &first.handle).await;
    assert_refused(&again, 401, "token_revoked");
    // The account page lists one grant.
    assert_eq!(
        s.provider
            .authorizations(&alice().user_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_last_token_never_outlives_its_authorization() {
    let s = site(consumers(), sessions_config());
    let (first, _) = grant(&s).await;
    s.clock.advance(Duration::from_secs(86_400 - 600));
    let response = refresh(&s, app(), &first.token, &first.secret, &first.handle).await;
    assert_eq!(field(&response, "oauth_expires_in"), "600");
    assert_eq!(field(&response, "oauth_authorization_expires_in"), "600");
    let second = Grant::of(&response);
    // Past the authorization: no more refreshes.
    s.clock.advance(Duration::from_secs(600));
    refused(call(&s, &second).await, 401, "token_expired");
    let response = refresh(&s, app(), &second.token, &second.secret, &second.handle).await;
    assert_refused(&response, 401, "token_expired");
    // The account page no longer lists an authorization that ended.
    let listed = s.provider.authorizations(&alice().user_id).await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[tokio::test]
async fn refresh_refusals() {
    let mut config = sessions_config();
    // Two live sessions of one user and app, as on two devices.
    config.replace_earlier_grants = false;
    let s = site(consumers(), config);
    let (g, _) = grant(&s).await;
    // A wrong handle, or another session's handle.
    let (other, _) = grant(&s).await;
    for handle in ["wrong", other.handle.as_str(), ""] {
        let response = refresh(&s, app(), &g.token, &g.secret, handle).await;
        assert_refused(&response, 401, "token_rejected");
    }
    // A bad signature, another consumer's token: signature_invalid.
    let response = refresh(&s, app(), &g.token, "wrong-secret", &g.handle).await;
    assert_refused(&response, 401, "signature_invalid");
    let thief = Signer::new(SignatureMethod::HmacSha1, "other-app", "other-secret");
    let response = refresh(&s, thief, &g.token, &g.secret, &g.handle).await;
    assert_refused(&response, 401, "signature_invalid");
    // Without the token.
    let signer = app().header_param("oauth_session_handle", &g.handle);
    let request = s.signed(
        signer,
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetAccessToken"),
        None,
    );
    assert_refused(
        &s.provider.access_token(&request.view()).await,
        400,
        "parameter_absent",
    );
    // On another host than the one the token was obtained on.
    let signer = app()
        .token(&g.token, &g.secret)
        .header_param("oauth_session_handle", &g.handle);
    let request = s.signed(
        signer,
        "POST",
        "https://example.appspot.com/_ah/OAuthGetAccessToken",
        None,
    );
    assert_refused(
        &s.provider.access_token(&request.view()).await,
        401,
        "token_rejected",
    );
    // Revoked by the user: the session ends.
    s.provider.revoke_token(&g.token).await.unwrap();
    let response = refresh(&s, app(), &g.token, &g.secret, &g.handle).await;
    assert_refused(&response, 401, "token_revoked");
    // The other session still works.
    call(&s, &other).await.unwrap();
}

#[tokio::test]
async fn sessions_are_opt_in() {
    // App Engine's default: no expiry, no handle, and no refresh.
    let s = site(consumers(), ProviderConfig::default());
    let response = s.access_response(&app, alice()).await;
    assert_eq!(response.status, 200);
    assert!(
        !response.body.contains("oauth_expires_in"),
        "{}",
        response.body
    );
    assert!(!response.body.contains("oauth_session_handle"));
    let token = field(&response, "oauth_token");
    let secret = field(&response, "oauth_token_secret");
    s.clock.advance(Duration::from_secs(365 * 86_400));
    let request = s.signed(
        app().token(&token, &secret),
        "GET",
        &format!("{ORIGIN}/x"),
        None,
    );
    s.provider.authenticate(&request.view()).await.unwrap();
    let response = refresh(&s, app(), &token, &secret, "anything").await;
    assert_refused(&response, 400, "parameter_rejected");
}

/// Racing refreshes of one token through the provider: exactly one 200.
async fn concurrent_refreshes_have_one_winner<S>(s: Arc<Site<S>>)
where
    S: TokenStore + NonceStore + 'static,
{
    let (g, _) = grant(&s).await;
    let g = Arc::new(g);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (s, g) = (s.clone(), g.clone());
        tasks.push(tokio::spawn(async move {
            refresh(&s, app(), &g.token, &g.secret, &g.handle).await
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        match response.status {
            200 => winners.push(Grant::of(&response)),
            _ => assert_refused(&response, 401, "token_revoked"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one refresh wins");
    call(&s, &winners[0]).await.unwrap();
    let active = s.provider.authorizations(&alice().user_id).await.unwrap();
    let ours = active.iter().filter(|a| a.consumer_key == APP.0).count();
    assert_eq!(ours, 1, "one active token after the race");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_in_memory_have_one_winner() {
    concurrent_refreshes_have_one_winner(Arc::new(site(consumers(), sessions_config()))).await;
}

mod stores {
    use oauth1_provider::User;
    use oauth1_provider::store::TokenStore;
    use oauth1_provider::store::{PostgresStore, SqliteStore};
    use oauth1_provider::testing::{sample_request_token, sample_session_token};

    use super::*;

    fn postgres_url() -> Option<String> {
        match std::env::var("OAUTH1_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI is set but OAUTH1_TEST_POSTGRES_URL is not"
                );
                eprintln!("skipping: set OAUTH1_TEST_POSTGRES_URL to run against PostgreSQL");
                None
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_refreshes_in_postgres_have_one_winner() {
        let Some(url) = postgres_url() else { return };
        let store = PostgresStore::connect(&url).await.expect("connect");
        // Users are per test run: the database is shared.
        store
            .revoke_user_tokens(&alice().user_id, APP.0, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        let s = site_on(store, consumers(), sessions_config());
        concurrent_refreshes_have_one_winner(Arc::new(s)).await;
    }

    fn session_token() -> oauth1_provider::model::AccessToken {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let request = sample_request_token(now);
        sample_session_token(&request, &User::new("s@example.com", "s-1"), now)
    }

    /// Schema version 1 had no session columns: take a fresh database back
    /// to it, then reopen — the store migrates, old rows read back as
    /// tokens without a session, new ones keep theirs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_migrates_version_1_databases() {
        let path = std::env::temp_dir().join(format!(
            "oauth1-sessions-migration-{}-{}.sqlite3",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        let old = session_token();
        {
            let store = SqliteStore::open(&path).await.expect("open");
            assert_eq!(store.schema_version().await.unwrap(), 5);
            insert(&store, &old).await;
        }
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "ALTER TABLE oauth1_access_tokens DROP COLUMN grants;
                 ALTER TABLE oauth1_request_tokens DROP COLUMN grants;
                 ALTER TABLE oauth1_access_tokens DROP COLUMN expires_at;
                 ALTER TABLE oauth1_access_tokens DROP COLUMN session_handle;
                 ALTER TABLE oauth1_access_tokens DROP COLUMN authorization_expires_at;
                 DROP TABLE oauth1_events;
                 DROP TABLE oauth1_consumers;
                 DROP INDEX oauth1_request_tokens_consumer;
                 DROP INDEX oauth1_access_tokens_consumer;
                 DELETE FROM oauth1_schema_version WHERE version >= 2;",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).await.expect("reopen migrates");
        assert_eq!(store.schema_version().await.unwrap(), 5);
        let read = store.get_access_token(&old.token).await.unwrap().unwrap();
        assert_eq!((read.expires_at, read.session), (None, None));
        // A token from before grants keeps App Engine's whole-app scope.
        assert_eq!(read.grants, oauth1_provider::model::Granted::WholeApp);
        let new = session_token();
        insert(&store, &new).await;
        assert_eq!(store.get_access_token(&new.token).await.unwrap(), Some(new));
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// The same for PostgreSQL, in a scratch schema.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_migrates_version_1_databases() {
        let Some(url) = postgres_url() else { return };
        let admin = PostgresStore::connect(&url).await.expect("connect");
        let schema = format!("oauth1_sessions_{}", std::process::id());
        let client = admin.pool().get().await.unwrap();
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .await
            .unwrap();
        let scoped = format!("{url}?options=-csearch_path%3D{schema}");
        let old = session_token();
        {
            let store = PostgresStore::connect(&scoped).await.expect("connect");
            insert(&store, &old).await;
            let c = store.pool().get().await.unwrap();
            c.batch_execute(
                "ALTER TABLE oauth1_access_tokens DROP COLUMN expires_at,
                     DROP COLUMN session_handle, DROP COLUMN authorization_expires_at,
                     DROP COLUMN grants;
                 ALTER TABLE oauth1_request_tokens DROP COLUMN grants;
                 DROP TABLE oauth1_events;
                 DROP TABLE oauth1_consumers;
                 DROP INDEX oauth1_request_tokens_consumer;
                 DROP INDEX oauth1_access_tokens_consumer;
                 DELETE FROM oauth1_schema_version WHERE version >= 2;",
            )
            .await
            .unwrap();
        }
        let store = PostgresStore::connect(&scoped)
            .await
            .expect("reconnect migrates");
        assert_eq!(store.schema_version().await.unwrap(), 5);
        let read = store.get_access_token(&old.token).await.unwrap().unwrap();
        assert_eq!((read.expires_at, read.session), (None, None));
        // A token from before grants keeps App Engine's whole-app scope.
        assert_eq!(read.grants, oauth1_provider::model::Granted::WholeApp);
        let new = session_token();
        insert(&store, &new).await;
        assert_eq!(store.get_access_token(&new.token).await.unwrap(), Some(new));
        drop(store);
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();
    }

    /// Stores `token` the only way the trait allows: an exchange.
    async fn insert<S: TokenStore>(store: &S, token: &oauth1_provider::model::AccessToken) {
        let request = sample_request_token(token.created_at);
        oauth1_provider::testing::store_by_exchange(store, &request, token).await;
    }
}

#[tokio::test]
async fn a_failing_store_answers_503_and_the_session_survives() {
    use std::sync::atomic::Ordering;

    use crate::support::flaky_store::FlakyStore;
    let store = FlakyStore::default();
    let s = site_on(store.clone(), consumers(), sessions_config());
    let (g, _) = grant(&s).await;
    store.failing.store(true, Ordering::SeqCst);
    let response = refresh(&s, app(), &g.token, &g.secret, &g.handle).await;
    assert_eq!(response.status, 503, "{}", response.body);
    assert!(
        !response.body.contains(&g.handle),
        "no secret in the answer"
    );
    store.failing.store(false, Ordering::SeqCst);
    // Nothing changed: the token still works and still refreshes.
    call(&s, &g).await.unwrap();
    let response = refresh(&s, app(), &g.token, &g.secret, &g.handle).await;
    Grant::of(&response);
}
