//! Consumers as managed data, through the provider: registered `proposed`
//! and refused like an unknown consumer until approved; disabled, rejected
//! and deleted alike; the secret rotated; deleted with its tokens; bad input
//! refused with nothing written; and two providers on one store seeing each
//! other's changes within the cache time (at once without a cache).

use oauth1_provider::client::Signer;
use oauth1_provider::model::ConsumerAction;
use oauth1_provider::provider::{ConsumerDetails, ConsumerError, ConsumerRegistration, Reason};
use oauth1_provider::store::SqliteStore;
use oauth1_provider::time::Duration;
use oauth1_provider::{
    Consumer, ConsumerState, MemoryStore, NonceStore, OAuthError, Provider, ProviderConfig,
    Response, SignatureMethod, TokenStore,
};

use crate::support::harness::{
    Harness, ORIGIN, alice, approve_for_verifier, assert_refused, consumers, field, harness_on,
};
use crate::support::temp::{TempDir, temp_db_path};

const APP_CALLBACK: &str = "https://printer.example/cb";

fn registration() -> ConsumerRegistration {
    ConsumerRegistration::new("Photo printer")
        .description("Prints your photos")
        .homepage("https://printer.example/")
        .callback_prefix(APP_CALLBACK)
        .owner("1001")
}

fn signer(app: &Consumer) -> Signer<'_> {
    Signer::new(SignatureMethod::HmacSha1, &app.key, app.secret.secret())
}

/// The request-token call of `app` (with `secret`) on `provider`.
async fn request_token<S: TokenStore, N: NonceStore>(
    h: &Harness<impl TokenStore + NonceStore + Clone>,
    provider: &Provider<S, N>,
    app: &Consumer,
) -> Response {
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let request = h.signed(signer(app).callback(APP_CALLBACK), "POST", &url);
    provider.request_token(&request.view()).await
}

/// The whole flow for `app` on `provider`: (access token, secret).
async fn access<S: TokenStore, N: NonceStore>(
    h: &Harness<impl TokenStore + NonceStore + Clone>,
    provider: &Provider<S, N>,
    app: &Consumer,
) -> (String, String) {
    let response = request_token(h, provider, app).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    let verifier = approve_for_verifier(provider, ORIGIN, &token, alice()).await;
    let url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
    let request = h.signed(
        signer(app).token(&token, &secret).verifier(&verifier),
        "POST",
        &url,
    );
    let response = provider.access_token(&request.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    )
}

async fn call<S: TokenStore, N: NonceStore>(
    h: &Harness<impl TokenStore + NonceStore + Clone>,
    provider: &Provider<S, N>,
    app: &Consumer,
    (token, secret): &(String, String),
) -> Result<oauth1_provider::OAuthContext, OAuthError> {
    let url = format!("{ORIGIN}/api/whoami");
    let request = h.signed(signer(app).token(token, secret), "GET", &url);
    provider.authenticate(&request.view()).await
}

/// Asserts a 401 with this reason: `token_revoked` for a revoked token,
/// else `signature_invalid` (unknown, not approved, a bad signature alike).
#[track_caller]
fn assert_refused_as(result: Result<oauth1_provider::OAuthContext, OAuthError>, reason: Reason) {
    let err = result.expect_err("expected a refusal");
    let problem = match reason {
        Reason::Revoked => "token_revoked",
        _ => "signature_invalid",
    };
    assert_eq!(
        (err.status(), err.problem().map(|p| p.code()), err.reason()),
        (401, Some(problem), Some(reason)),
        "{err:?}"
    );
}

/// What an unknown consumer gets from the request-token endpoint.
async fn unknown_answer(h: &Harness<MemoryStore>) -> Response {
    let stranger = Consumer::new("never-registered", "x".repeat(32), "Stranger");
    request_token(h, &h.provider, &stranger).await
}

/// A new approved app, registered on `provider`.
async fn approved_app<S: oauth1_provider::ConsumerStore, N: NonceStore>(
    provider: &Provider<S, N>,
) -> Consumer {
    provider
        .register_consumer(registration().approved())
        .await
        .unwrap()
}

/// A harness whose provider also reads consumers from its store (the
/// registry's consumers come first).
fn managed() -> Harness<MemoryStore> {
    let mut h = harness_on(MemoryStore::new());
    let store = h.store.clone();
    h.provider = Provider::new(store.clone(), store, consumers(), ProviderConfig::default())
        .with_clock(h.clock.clone())
        .with_stored_consumers();
    h
}

#[tokio::test]
async fn a_registered_app_is_refused_like_an_unknown_one_until_approved() {
    let h = managed();
    let app = h.provider.register_consumer(registration()).await.unwrap();
    assert_eq!(app.state, ConsumerState::Proposed);
    assert_eq!(app.secret.secret().len(), 32);
    assert_eq!(app.owner.as_deref(), Some("1001"));

    let proposed = request_token(&h, &h.provider, &app).await;
    let unknown = unknown_answer(&h).await;
    assert_refused(&proposed, 401, "signature_invalid");
    assert_eq!(
        (
            proposed.status,
            &proposed.body,
            proposed.header("www-authenticate")
        ),
        (
            unknown.status,
            &unknown.body,
            unknown.header("www-authenticate")
        ),
        "a proposed consumer is answered exactly as an unknown one"
    );

    let approved = h
        .provider
        .change_consumer_state(&app.key, ConsumerAction::Approve)
        .await
        .unwrap();
    assert_eq!(
        (approved.state, approved.revision),
        (ConsumerState::Approved, 1)
    );
    let tokens = access(&h, &h.provider, &app).await;
    let context = call(&h, &h.provider, &app, &tokens).await.unwrap();
    assert_eq!(context.get_oauth_consumer_key(), app.key);
    assert_eq!(h.provider.consumer_tokens(&app.key).await.unwrap().len(), 1);
    let listed = h.provider.authorizations("1001").await.unwrap();
    assert_eq!(listed[0].consumer_name, "Photo printer");
}

#[tokio::test]
async fn disable_enable_and_reject_follow_the_lifecycle() {
    let h = managed();
    let app = approved_app(&h.provider).await;
    let tokens = access(&h, &h.provider, &app).await;
    h.provider
        .change_consumer_state(&app.key, ConsumerAction::Disable)
        .await
        .unwrap();
    assert_refused_as(
        call(&h, &h.provider, &app, &tokens).await,
        Reason::ConsumerNotApproved,
    );
    assert_refused(
        &request_token(&h, &h.provider, &app).await,
        401,
        "signature_invalid",
    );
    // Re-enabled, its token works again: disabling suspends, it does not revoke.
    h.provider
        .change_consumer_state(&app.key, ConsumerAction::Enable)
        .await
        .unwrap();
    call(&h, &h.provider, &app, &tokens).await.unwrap();

    let err = h
        .provider
        .change_consumer_state(&app.key, ConsumerAction::Reject)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConsumerError::NotAllowed {
                state: ConsumerState::Approved,
                action: ConsumerAction::Reject
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "a consumer that is approved cannot be rejected"
    );
    let other = h.provider.register_consumer(registration()).await.unwrap();
    let rejected = h
        .provider
        .change_consumer_state(&other.key, ConsumerAction::Reject)
        .await
        .unwrap();
    assert_eq!(rejected.state, ConsumerState::Rejected);
    assert!(matches!(
        h.provider
            .change_consumer_state(&other.key, ConsumerAction::Approve)
            .await,
        Err(ConsumerError::NotAllowed { .. })
    ));
    assert!(matches!(
        h.provider
            .change_consumer_state("missing", ConsumerAction::Approve)
            .await,
        Err(ConsumerError::NotFound)
    ));
    let listed = h
        .provider
        .list_consumers(Some(ConsumerState::Rejected))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        h.provider.consumers_owned_by("1001").await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_old_one_at_once() {
    let h = managed();
    let app = approved_app(&h.provider).await;
    let tokens = access(&h, &h.provider, &app).await;
    let rotated = h
        .provider
        .rotate_consumer_secret(&app.key, Duration::ZERO)
        .await
        .unwrap();
    assert_ne!(rotated.secret, app.secret);
    assert_refused_as(
        call(&h, &h.provider, &app, &tokens).await,
        Reason::BadSignature,
    );
    call(&h, &h.provider, &rotated, &tokens).await.unwrap();
}

#[tokio::test]
async fn delete_revokes_every_token_and_the_key_is_never_reused() {
    let h = managed();
    let app = approved_app(&h.provider).await;
    let first = access(&h, &h.provider, &app).await;
    let second = access(&h, &h.provider, &app).await;
    // The second grant revoked the first: one active token to revoke.
    assert_eq!(h.provider.delete_consumer(&app.key).await.unwrap(), 1);
    for tokens in [&first, &second] {
        assert_refused_as(
            call(&h, &h.provider, &app, tokens).await,
            Reason::UnknownConsumer,
        );
    }
    assert!(
        h.provider
            .consumer_tokens(&app.key)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.provider.authorizations("1001").await.unwrap().is_empty());
    // The same key registered again is refused: its tokens stay dead.
    let again = Consumer::new(app.key.clone(), app.secret.secret(), "Impostor");
    assert!(matches!(
        h.provider.add_consumer(again).await,
        Err(ConsumerError::KeyTaken)
    ));
    assert!(matches!(
        h.provider.delete_consumer(&app.key).await,
        Err(ConsumerError::NotFound)
    ));
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_nothing_is_written() {
    let h = managed();
    let cases: [(ConsumerRegistration, &str); 7] = [
        (
            ConsumerRegistration::new("  "),
            "invalid display name: empty",
        ),
        (
            ConsumerRegistration::new("x".repeat(81)),
            "invalid display name: longer than 80 characters",
        ),
        (
            ConsumerRegistration::new("Google Drive\u{202E}evil"),
            "invalid display name: contains control, bidirectional or invisible characters",
        ),
        (
            ConsumerRegistration::new("App").callback_prefix("javascript:alert(1)"),
            "invalid callback prefix: not an absolute http(s) URL",
        ),
        (
            ConsumerRegistration::new("App").homepage("ftp://files.example"),
            "invalid home page: not an absolute http(s) URL",
        ),
        (
            ConsumerRegistration::new("App").description("d".repeat(1001)),
            "invalid description: longer than 1,000 characters",
        ),
        (
            (0..11).fold(ConsumerRegistration::new("App"), |r, i| {
                r.callback_prefix(format!("https://app.example/{i}"))
            }),
            "invalid callback prefixes: more than 10",
        ),
    ];
    for (registration, message) in cases {
        let err = h
            .provider
            .register_consumer(registration)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    assert!(h.provider.list_consumers(None).await.unwrap().is_empty());

    let app = h.provider.register_consumer(registration()).await.unwrap();
    let details = ConsumerDetails {
        display_name: "Renamed".into(),
        callback_prefixes: vec!["https://bad.example/\u{0}".into()],
        ..ConsumerDetails::default()
    };
    let err = h
        .provider
        .update_consumer(&app.key, details)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ConsumerError::Invalid {
            field: "callback prefix",
            ..
        }
    ));
    let stored = h.provider.stored_consumer(&app.key).await.unwrap();
    assert_eq!(
        (stored.display_name.as_str(), stored.revision),
        ("Photo printer", 0)
    );

    // A host-chosen key must be visible ASCII, and new to the registry too.
    for key in ["", "with space", "client-key"] {
        let err = h
            .provider
            .add_consumer(Consumer::new(key, "s", "App"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConsumerError::Invalid { field: "key", .. } | ConsumerError::KeyTaken
            ),
            "{key:?}: {err:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_approve_and_delete_never_leave_a_half_state() {
    let h = managed();
    for _ in 0..50 {
        let app = h.provider.register_consumer(registration()).await.unwrap();
        let (approve, delete) = tokio::join!(
            h.provider
                .change_consumer_state(&app.key, ConsumerAction::Approve),
            h.provider.delete_consumer(&app.key),
        );
        assert_eq!(delete.unwrap(), 0);
        match approve {
            Ok(c) => assert_eq!(c.state, ConsumerState::Approved),
            Err(ConsumerError::NotFound | ConsumerError::Conflict) => {}
            Err(e) => panic!("{e:?}"),
        }
        assert!(matches!(
            h.provider.stored_consumer(&app.key).await,
            Err(ConsumerError::NotFound)
        ));
    }
}

/// Two providers on one SQLite file, as two instances on one database.
async fn two_instances(ttl: Duration) -> (Harness<SqliteStore>, Provider<SqliteStore>, TempDir) {
    let path = temp_db_path("stored-consumers");
    let dir = TempDir::of(&path);
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    let mut h = harness_on(a.clone());
    let provider = |store: SqliteStore| {
        Provider::new(store.clone(), store, Default::default(), Default::default())
            .with_clock(h.clock.clone())
            .with_stored_consumers_cached(ttl)
    };
    h.provider = provider(a);
    let b = provider(b);
    (h, b, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_sees_a_change_within_the_cache_time() {
    let ttl = Duration::seconds(2);
    let (h, b, _dir) = two_instances(ttl).await;
    // Registered and approved on A: B serves it at once (unknown keys are
    // never cached).
    let app = approved_app(&h.provider).await;
    let tokens = access(&h, &b, &app).await;
    call(&h, &b, &app, &tokens).await.unwrap();
    // Disabled on A: B trusts its cached copy for at most `ttl`.
    h.provider
        .change_consumer_state(&app.key, ConsumerAction::Disable)
        .await
        .unwrap();
    call(&h, &b, &app, &tokens).await.unwrap();
    h.clock.advance(ttl.unsigned_abs());
    assert_refused_as(
        call(&h, &b, &app, &tokens).await,
        Reason::ConsumerNotApproved,
    );
    // Deleted on A: its tokens fail on B at once, whatever B cached (they
    // are revoked in the same transaction).
    h.provider
        .change_consumer_state(&app.key, ConsumerAction::Enable)
        .await
        .unwrap();
    h.clock.advance(ttl.unsigned_abs());
    call(&h, &b, &app, &tokens).await.unwrap();
    h.provider.delete_consumer(&app.key).await.unwrap();
    let err = call(&h, &b, &app, &tokens).await.unwrap_err();
    assert_eq!(err.status(), 401, "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cache_another_instance_sees_a_change_at_once() {
    let (h, b, _dir) = two_instances(Duration::ZERO).await;
    let app = approved_app(&h.provider).await;
    let tokens = access(&h, &b, &app).await;
    h.provider
        .change_consumer_state(&app.key, ConsumerAction::Disable)
        .await
        .unwrap();
    assert_refused_as(
        call(&h, &b, &app, &tokens).await,
        Reason::ConsumerNotApproved,
    );
    let rotated = b
        .rotate_consumer_secret(&app.key, Duration::ZERO)
        .await
        .unwrap();
    b.change_consumer_state(&app.key, ConsumerAction::Enable)
        .await
        .unwrap();
    assert_refused_as(
        call(&h, &h.provider, &app, &tokens).await,
        Reason::BadSignature,
    );
    call(&h, &h.provider, &rotated, &tokens).await.unwrap();
}

#[tokio::test]
async fn approving_an_app_again_replaces_the_earlier_grant() {
    let h = managed();
    let app = approved_app(&h.provider).await;
    let first = access(&h, &h.provider, &app).await;
    let second = access(&h, &h.provider, &app).await;
    assert_refused_as(call(&h, &h.provider, &app, &first).await, Reason::Revoked);
    call(&h, &h.provider, &app, &second).await.unwrap();
    let listed = h.provider.authorizations("1001").await.unwrap();
    assert_eq!(listed.len(), 1, "the account page lists the app once");
    assert_eq!(listed[0].token, second.0);
}

#[tokio::test]
async fn anonymous_grants_and_per_device_grants_are_kept() {
    // Unrelated apps share the anonymous consumer: never replaced.
    let h = managed();
    let anonymous = Consumer::anonymous();
    let first = access(&h, &h.provider, &anonymous).await;
    let second = access(&h, &h.provider, &anonymous).await;
    call(&h, &h.provider, &anonymous, &first).await.unwrap();
    call(&h, &h.provider, &anonymous, &second).await.unwrap();
    // A host whose apps authorize each device keeps every grant.
    let mut h = managed();
    let mut config = ProviderConfig::default();
    config.replace_earlier_grants = false;
    let store = h.store.clone();
    h.provider = Provider::new(store.clone(), store, consumers(), config)
        .with_clock(h.clock.clone())
        .with_stored_consumers();
    let app = approved_app(&h.provider).await;
    let laptop = access(&h, &h.provider, &app).await;
    let phone = access(&h, &h.provider, &app).await;
    call(&h, &h.provider, &app, &laptop).await.unwrap();
    call(&h, &h.provider, &app, &phone).await.unwrap();
    assert_eq!(h.provider.authorizations("1001").await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_owner_or_an_admin_issues_a_token_without_the_redirect() {
    let h = managed();
    let app = approved_app(&h.provider).await; // owned by user 1001
    let owner = oauth1_provider::User::new("owner@example.com", "1001");
    let stranger = oauth1_provider::User::new("eve@example.com", "666");
    let admin = oauth1_provider::User::new("root@example.com", "1").admin(true);
    let host = "api.example.com";
    let err = h
        .provider
        .issue_access_token(&app.key, stranger.clone(), &stranger, host)
        .await
        .unwrap_err();
    assert!(matches!(err, ConsumerError::NotOwner), "{err:?}");
    // The owner may not issue one for someone else.
    let err = h
        .provider
        .issue_access_token(&app.key, stranger.clone(), &owner, host)
        .await
        .unwrap_err();
    assert!(matches!(err, ConsumerError::NotOwner), "{err:?}");
    assert!(
        h.provider
            .consumer_tokens(&app.key)
            .await
            .unwrap()
            .is_empty()
    );
    // Nor give themself administrator rights.
    let as_admin = owner.clone().admin(true);
    let issued = h
        .provider
        .issue_access_token(&app.key, as_admin, &owner, host)
        .await
        .unwrap();
    assert!(!issued.user.admin);

    let issued = h
        .provider
        .issue_access_token(&app.key, owner.clone(), &owner, host)
        .await
        .unwrap();
    let tokens = (issued.token.clone(), issued.secret.secret().to_owned());
    let context = call(&h, &h.provider, &app, &tokens).await.unwrap();
    assert_eq!(context.get_current_user().unwrap().user_id, "1001");
    let listed = h.provider.authorizations("1001").await.unwrap();
    assert_eq!(listed.len(), 1);
    // An admin may issue one for another user; revoked like any other.
    let for_eve = h
        .provider
        .issue_access_token(&app.key, stranger.clone(), &admin, host)
        .await
        .unwrap();
    assert!(h.provider.revoke_token(&for_eve.token).await.unwrap());
    let eve = (for_eve.token.clone(), for_eve.secret.secret().to_owned());
    assert_refused_as(call(&h, &h.provider, &app, &eve).await, Reason::Revoked);
    // Not for a consumer that is not approved.
    let proposed = h.provider.register_consumer(registration()).await.unwrap();
    let err = h
        .provider
        .issue_access_token(&proposed.key, owner.clone(), &admin, host)
        .await
        .unwrap_err();
    assert!(matches!(err, ConsumerError::NotFound), "{err:?}");
}

#[tokio::test]
async fn a_rotated_secret_keeps_working_for_its_grace_period_only() {
    let h = managed();
    let app = approved_app(&h.provider).await;
    let tokens = access(&h, &h.provider, &app).await;
    let grace = Duration::minutes(10);
    let rotated = h
        .provider
        .rotate_consumer_secret(&app.key, grace)
        .await
        .unwrap();
    assert_eq!(rotated.grace_secret.as_ref(), Some(&app.secret));
    // Both work during the grace period.
    call(&h, &h.provider, &app, &tokens).await.unwrap();
    call(&h, &h.provider, &rotated, &tokens).await.unwrap();
    let wrong = Consumer::new(app.key.clone(), "not-either-secret", "x");
    assert_refused_as(
        call(&h, &h.provider, &wrong, &tokens).await,
        Reason::BadSignature,
    );
    // Then only the new one.
    h.clock.advance(grace.unsigned_abs());
    assert_refused_as(
        call(&h, &h.provider, &app, &tokens).await,
        Reason::BadSignature,
    );
    call(&h, &h.provider, &rotated, &tokens).await.unwrap();
    // A second rotation ends the first grace period at once.
    let again = h
        .provider
        .rotate_consumer_secret(&app.key, grace)
        .await
        .unwrap();
    assert_eq!(again.grace_secret.as_ref(), Some(&rotated.secret));
    assert_refused_as(
        call(&h, &h.provider, &app, &tokens).await,
        Reason::BadSignature,
    );
    assert!(matches!(
        h.provider
            .rotate_consumer_secret(&app.key, Duration::seconds(-1))
            .await,
        Err(ConsumerError::Invalid {
            field: "grace period",
            ..
        })
    ));
}
