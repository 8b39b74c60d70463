//! Grants (#18) at the provider, without an adapter: registering a
//! consumer for grants (only declared ones), stored consumers keeping them,
//! what tokens carry however they are issued, two-legged requests, what the
//! account page lists, a grant the host stopped declaring, and when a
//! sign-in-only app may sign a user in again without asking. The adapters'
//! side is `crate::grants`.

use std::time::Duration;

use oauth1_provider::client::Signer;
use oauth1_provider::consent::Approval;
use oauth1_provider::model::{Grant, Granted, IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION};
use oauth1_provider::provider::{ConsumerError, ConsumerRegistration, Reason, SessionConfig};
use oauth1_provider::store::{ConsumerStore, NonceStore, PostgresStore, SqliteStore, TokenStore};
use oauth1_provider::{
    ConsumerRegistry, MemoryStore, OAuthContext, OAuthError, SignatureMethod, User,
};

use crate::grants::{App, PRINTER, ROBOT, SIGN_IN, WHOLE_APP, config, consumers};
use crate::support::breadth::{ORIGIN, Site, site, site_on};
use crate::support::env::service_env;
use crate::support::harness::{alice, assert_refused, field, refused};
use crate::support::request::OwnedRequest;
use crate::support::services::TempSchema;
use crate::support::temp::{TempDir, temp_db_path};

const PHOTOS: [&str; 2] = ["photos.read", "photos.write"];

/// What a token limited to `names` carries: them and `identity`, which
/// every token has.
fn limited(names: &[&str]) -> Granted {
    Granted::only(names.iter().copied().chain([IDENTITY_GRANT]))
}

/// How the consent and account pages describe [`limited`]: `identity`
/// first, then each name with its sentence.
fn described(names: &[&str]) -> Option<Vec<Grant>> {
    let declared = config().grants;
    let sentence = |name: &str| declared.iter().find(|g| g.name == name).unwrap().clone();
    let identity = Grant::new(IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION);
    Some(
        std::iter::once(identity)
            .chain(names.iter().map(|n| sentence(n)))
            .collect(),
    )
}

fn signer<'a>(key: &'a str, secret: &'a str) -> Signer<'a> {
    Signer::new(SignatureMethod::HmacSha1, key, secret)
}

/// The three-legged flow of `key`/`secret` asking for `scope`, alice
/// approving: (token, secret).
async fn access<S: TokenStore + NonceStore>(
    s: &Site<S>,
    (key, secret): (&str, &str),
    scope: Option<&str>,
) -> (String, String) {
    s.three_legged_scoped(|| signer(key, secret), alice(), scope)
        .await
}

fn creds(app: &App) -> (&str, &str) {
    (app.key, app.secret)
}

/// A signed `GET /api/photos` of `key`/`secret` with `token` (or none:
/// two-legged), as the provider judges it.
async fn call<S: TokenStore + NonceStore>(
    s: &Site<S>,
    (key, secret): (&str, &str),
    token: Option<&(String, String)>,
) -> Result<OAuthContext, OAuthError> {
    let signer = match token {
        Some((token, token_secret)) => signer(key, secret).token(token, token_secret),
        None => signer(key, secret),
    };
    let request = s.signed(signer, "GET", &format!("{ORIGIN}/api/photos"), None);
    s.provider.authenticate(&request.view()).await
}

/// The request-token call of `key`/`secret` on `origin` asking for
/// `scope` (`oob`).
async fn request_token<S: TokenStore + NonceStore>(
    s: &Site<S>,
    origin: &str,
    (key, secret): (&str, &str),
    scope: &str,
) -> oauth1_provider::Response {
    let url = format!(
        "{origin}/_ah/OAuthGetRequestToken?scope={}",
        oauth1_provider::protocol::percent_encode(scope)
    );
    let request = s.signed(signer(key, secret).callback("oob"), "POST", &url, None);
    s.provider.request_token(&request.view()).await
}

fn registration() -> ConsumerRegistration {
    ConsumerRegistration::new("Photo printer")
        .callback_prefix("https://client.example/cb")
        .owner("1001")
}

/// A site whose provider also reads consumers from `store`.
fn managed<S: TokenStore + NonceStore + ConsumerStore + Clone>(store: S) -> Site<S> {
    let Site { provider, clock } = site_on(store, ConsumerRegistry::new(), config());
    Site {
        provider: provider.with_stored_consumers(),
        clock,
    }
}

#[tokio::test]
async fn a_consumer_is_registered_only_for_declared_grants() {
    let s = managed(MemoryStore::new());
    for grants in [
        &["photos.delete"][..],
        &["photos.read", "photos.delete"],
        &["photos.read,photos.write"],
        &["*"],
    ] {
        let registered = s
            .provider
            .register_consumer(registration().grants(grants.iter().copied()).approved())
            .await;
        assert!(
            matches!(
                registered,
                Err(ConsumerError::Invalid {
                    field: "grants",
                    ..
                })
            ),
            "{grants:?}: {registered:?}"
        );
    }
    assert!(s.provider.list_consumers(None).await.unwrap().is_empty());
    // Declared grants and `identity` are accepted.
    let app = s
        .provider
        .register_consumer(registration().grants(["photos.read", IDENTITY_GRANT]))
        .await
        .unwrap();
    assert_eq!(app.grants, [IDENTITY_GRANT, "photos.read"]);
}

/// Registered grants are stored sorted and once each, read back as they
/// were (in memory, in SQLite, and in PostgreSQL when there is one), and a
/// request token without `scope` asks for all of them.
#[tokio::test]
async fn stored_consumers_keep_their_grants() {
    check_stored_grants(managed(MemoryStore::new())).await;
    let path = temp_db_path("grants-consumers");
    let _dir = TempDir::of(&path);
    check_stored_grants(managed(SqliteStore::open(&path).await.unwrap())).await;
    // Another connection to the database reads them back.
    let again = managed(SqliteStore::open(&path).await.unwrap());
    let stored = again.provider.list_consumers(None).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].grants, PHOTOS);
    let Some(url) = service_env("OAUTH1_TEST_POSTGRES_URL") else {
        return;
    };
    let (schema, url) = TempSchema::create(&url).await;
    check_stored_grants(managed(PostgresStore::connect(&url).await.unwrap())).await;
    schema.drop_schema().await;
}

async fn check_stored_grants<S: TokenStore + NonceStore + ConsumerStore + Clone>(s: Site<S>) {
    let app = s
        .provider
        .register_consumer(
            registration()
                .grants(["photos.write", "photos.read", "photos.write"])
                .approved(),
        )
        .await
        .unwrap();
    assert_eq!(app.grants, PHOTOS);
    let stored = s.provider.stored_consumer(&app.key).await.unwrap();
    assert_eq!(stored.grants, PHOTOS);
    let creds = (app.key.as_str(), app.secret.secret());
    let token = access(&s, creds, None).await;
    let context = call(&s, creds, Some(&token)).await.unwrap();
    assert_eq!(context.grants(), &limited(&PHOTOS));
    // `scope` picks some of them.
    let token = access(&s, creds, Some("photos.read")).await;
    let context = call(&s, creds, Some(&token)).await.unwrap();
    assert_eq!(context.grants(), &limited(&["photos.read"]));
}

/// A token the host issues itself carries the consumer's grants (all of
/// them), or the whole app for a consumer without any.
#[tokio::test]
async fn issued_access_tokens_carry_the_consumers_grants() {
    let s = site(consumers(), config());
    let admin = alice();
    for (app, granted) in [
        (&PRINTER, limited(&PHOTOS)),
        (&WHOLE_APP, Granted::WholeApp),
    ] {
        let issued = s
            .provider
            .issue_access_token(app.key, alice(), &admin, "api.example.com")
            .await
            .unwrap();
        assert_eq!(issued.grants, granted, "{}", app.key);
        let token = (issued.token.clone(), issued.secret.secret().to_owned());
        let context = call(&s, creds(app), Some(&token)).await.unwrap();
        assert_eq!(context.grants(), &granted);
    }
}

/// A two-legged request may do what its consumer was registered for: no
/// more (403 `permission_denied` for the rest, the grant named).
#[tokio::test]
async fn two_legged_requests_have_their_consumers_grants() {
    let s = site(consumers(), config());
    let context = call(&s, creds(&ROBOT), None).await.unwrap();
    assert_eq!(context.grants(), &limited(&["photos.read"]));
    assert!(context.has_grant("photos.read"));
    assert!(context.has_grant(IDENTITY_GRANT));
    assert!(!context.has_grant("photos.write"));
    context.require_grant("photos.read").unwrap();
    let err = refused(
        context.require_grant("photos.write").map(|()| context),
        403,
        "permission_denied",
    );
    assert_eq!(err.reason(), Some(Reason::GrantMissing));
    let response = err.to_response("Photos");
    assert_refused(&response, 403, "permission_denied");
    assert!(response.body.contains("photos.write"), "{}", response.body);
}

/// The account page's list says what each app was granted, with the
/// consent page's sentences (identity first), or the whole app.
#[tokio::test]
async fn authorizations_list_grants_with_their_sentences() {
    let s = site(consumers(), config());
    access(&s, creds(&PRINTER), Some("photos.read identity")).await;
    access(&s, creds(&WHOLE_APP), Some("photos.read")).await;
    let listed = s.provider.authorizations(&alice().user_id).await.unwrap();
    let grants_of = |key: &str| {
        let listed = listed.iter().find(|a| a.consumer_key == key);
        listed.expect("listed").grants.clone()
    };
    assert_eq!(grants_of(PRINTER.key), described(&["photos.read"]));
    assert_eq!(grants_of(WHOLE_APP.key), None);
}

/// The host stops declaring `photos.write`: consumers may no longer ask for
/// it, a request without `scope` no longer gets it, and the tokens granted
/// it before no longer have it, nor list it.
#[tokio::test]
async fn a_grant_the_host_stopped_declaring_is_not_granted_anymore() {
    let store = MemoryStore::new();
    let before = site_on(store.clone(), consumers(), config());
    let token = access(&before, creds(&PRINTER), None).await;
    let context = call(&before, creds(&PRINTER), Some(&token)).await.unwrap();
    assert!(context.has_grant("photos.write"));

    let mut read_only = config();
    read_only.grants.retain(|g| g.name == "photos.read");
    let after = site_on(store, consumers(), read_only);
    let response = request_token(&after, ORIGIN, creds(&PRINTER), "photos.write").await;
    assert_refused(&response, 400, "parameter_rejected");
    let response = request_token(&after, ORIGIN, creds(&PRINTER), "").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let pending = after
        .provider
        .pending_authorization(&page.view(), &field(&response, "oauth_token"))
        .await
        .unwrap();
    assert_eq!(pending.grants, described(&["photos.read"]));
    let context = call(&after, creds(&PRINTER), Some(&token)).await.unwrap();
    assert!(context.has_grant("photos.read"));
    assert!(!context.has_grant("photos.write"), "{:?}", context.grants());
    assert_eq!(context.grants(), &limited(&["photos.read"]));
    let err = refused(
        context.require_grant("photos.write").map(|()| context),
        403,
        "permission_denied",
    );
    assert_eq!(err.reason(), Some(Reason::GrantMissing));
    // Nor is it listed on the account page.
    let listed = after
        .provider
        .authorizations(&alice().user_id)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.grants.clone()).collect::<Vec<_>>(),
        [described(&["photos.read"])]
    );
}

/// A new request token of the sign-in app on `origin`, which `user` signs
/// in with again: approved at once, or `None` (ask her).
async fn sign_in_again<S: TokenStore + NonceStore>(
    s: &Site<S>,
    origin: &str,
    user: &User,
) -> Option<Approval> {
    sign_in_again_to(s, origin, user, "https://client.example/cb?state=1").await
}

/// [`sign_in_again`] with `callback` (`oob`: the code shown to type in).
async fn sign_in_again_to<S: TokenStore + NonceStore>(
    s: &Site<S>,
    origin: &str,
    user: &User,
    callback: &str,
) -> Option<Approval> {
    let url = format!("{origin}/_ah/OAuthGetRequestToken");
    let (key, secret) = creds(&SIGN_IN);
    let request = s.signed(signer(key, secret).callback(callback), "POST", &url, None);
    let response = s.provider.request_token(&request.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let page = OwnedRequest::from_url("GET", &format!("{origin}/_ah/OAuthAuthenticate"), None);
    let token = field(&response, "oauth_token");
    s.provider
        .sign_in_again(&page.view(), &token, user)
        .await
        .unwrap()
}

/// A sign-in-only app signs a user in again without asking only while she
/// holds a live authorization of it on this host: not another user, not on
/// another host, not once the session's authorization has ended, and never
/// for an `oob` callback.
#[tokio::test]
async fn signing_in_again_needs_a_live_authorization_on_this_host() {
    let mut config = config();
    config.sessions = Some(SessionConfig::default());
    let s = site(consumers(), config);
    let user = alice();
    assert_eq!(sign_in_again(&s, ORIGIN, &user).await, None);
    access(&s, creds(&SIGN_IN), None).await;
    let again = sign_in_again(&s, ORIGIN, &user).await;
    assert!(matches!(again, Some(Approval::Redirect(_))), "{again:?}");
    // Never a code shown without a click: an `oob` sign-in always asks.
    assert_eq!(sign_in_again_to(&s, ORIGIN, &user, "oob").await, None);
    let bob = User::new("bob@example.com", "2002");
    assert_eq!(sign_in_again(&s, ORIGIN, &bob).await, None);
    assert_eq!(
        sign_in_again(&s, "https://other.example.com", &user).await,
        None
    );
    // A day before the authorization ends (the access token itself expired
    // long ago, and could still be refreshed), and at its end.
    let ttl = SessionConfig::default().authorization_ttl.unwrap();
    s.clock.advance(ttl - Duration::from_secs(86_400));
    let again = sign_in_again(&s, ORIGIN, &user).await;
    assert!(matches!(again, Some(Approval::Redirect(_))), "{again:?}");
    s.clock.advance(Duration::from_secs(86_400));
    assert_eq!(sign_in_again(&s, ORIGIN, &user).await, None);
}
