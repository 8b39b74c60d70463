//! The audit trail (`Provider::with_audit`): the exact events of a full
//! three-legged flow, a protected call, a refresh and a revocation — on the
//! memory store, SQLite and PostgreSQL —, of each refusal kind, of a stored
//! consumer's lifecycle, and no secret in any event.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth1_provider::client::Signer;
use oauth1_provider::model::{ConsumerAction, ManualClock};
use oauth1_provider::protocol::Problem;
use oauth1_provider::provider::{
    AuditEvent, AuditSink, ConsumerDetails, ConsumerRegistration, Endpoint, EventKind, Reason,
    RevokedBy, SessionConfig, StoreAudit,
};
use oauth1_provider::store::{EventStore, NonceStore, StoredEvent, TokenStore};
use oauth1_provider::time::Duration as TimeDuration;
use oauth1_provider::{MemoryStore, Provider, ProviderConfig, SignatureMethod};

use crate::security_secrets::Secrets;
use crate::support::harness::{
    CALLBACK, CONSUMER, Harness, ORIGIN, START, alice, approve_for_verifier, assert_refused,
    consumers, field, refused,
};
use crate::support::request::OwnedRequest;

/// An [`AuditSink`] that keeps every event, and hands it on to a
/// [`StoreAudit`] if it has one.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<AuditEvent>>>, Option<StoreAudit>);

impl AuditSink for Recorder {
    fn record(&self, event: &AuditEvent) {
        self.0.lock().unwrap().push(event.clone());
        if let Some(store) = &self.1 {
            store.record(event);
        }
    }
}

impl Recorder {
    /// The events so far, forgotten here.
    fn take(&self) -> Vec<AuditEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// An event as compared: (seconds after `START`, kind, consumer, user, token prefix).
type Row = (
    i64,
    EventKind,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn rows(events: &[AuditEvent]) -> Vec<Row> {
    events
        .iter()
        .map(|e| {
            (
                e.at.unix_timestamp() - START,
                e.kind,
                e.consumer_key.clone(),
                e.user_id.clone(),
                e.token_prefix.clone(),
            )
        })
        .collect()
}

/// The expected row; `token` is the whole token, of which the event must
/// keep exactly the first six characters.
fn row(at: i64, kind: EventKind, consumer: &str, user: Option<&str>, token: Option<&str>) -> Row {
    (
        at,
        kind,
        Some(consumer.to_owned()),
        user.map(str::to_owned),
        token.map(|t| t[..6].to_owned()),
    )
}

fn refused_at(endpoint: Endpoint, problem: Problem, reason: Reason) -> EventKind {
    EventKind::Refused {
        endpoint,
        problem,
        reason,
    }
}

/// A harness on `store` whose provider records its events, with the OAuth
/// Session extension on when `sessions`.
fn recorded<S: TokenStore + NonceStore + Clone>(
    store: S,
    sessions: bool,
) -> (Harness<S>, Recorder) {
    recorded_with(store, sessions, Recorder::default())
}

fn recorded_with<S: TokenStore + NonceStore + Clone>(
    store: S,
    sessions: bool,
    recorder: Recorder,
) -> (Harness<S>, Recorder) {
    let clock = ManualClock::at_unix(START);
    let mut config = ProviderConfig::default();
    config.signature_methods = SignatureMethod::ALL.to_vec();
    if sessions {
        config.sessions = Some(SessionConfig::default());
    }
    let provider = Provider::new(store.clone(), store.clone(), consumers(), config)
        .with_clock(clock.clone())
        .with_audit(recorder.clone());
    (
        Harness {
            provider,
            clock,
            store,
        },
        recorder,
    )
}

fn tick<S: TokenStore + NonceStore + Clone>(h: &Harness<S>) {
    h.clock.advance(Duration::from_secs(10));
}

/// Asserts that no event shows any of `secrets`: not its `Debug`, its
/// `Display`, any of its fields, nor what a store keeps of it.
#[track_caller]
fn assert_no_secret(secrets: &Secrets, events: &[AuditEvent]) {
    assert!(!events.is_empty());
    for event in events {
        let shown = [
            format!("{event:?}"),
            event.to_string(),
            format!("{:?}", event.kind),
            format!("{:?}", event.consumer_key),
            format!("{:?}", event.user_id),
            format!("{:?}", event.token_prefix),
            format!("{:?}", StoredEvent::from(event)),
        ];
        for text in &shown {
            secrets.assert_absent("an audit event", text);
        }
    }
}

/// A refresh of `token` with its session `handle` (OAuth Session extension).
fn refresh_request<S: TokenStore + NonceStore + Clone>(
    h: &Harness<S>,
    token: &str,
    secret: &str,
    handle: &str,
) -> OwnedRequest {
    h.signed(
        h.consumer()
            .token(token, secret)
            .header_param("oauth_session_handle", handle),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetAccessToken"),
    )
}

/// The three-legged flow, a protected call, a refresh (sessions on), the
/// user's revocation and a call with the revoked token: the events, exactly;
/// kept in `store` through a [`StoreAudit`], listed newest first (all, a
/// user's, the newest few) and purged by age.
async fn full_flow_events<S>(store: S)
where
    S: TokenStore + NonceStore + EventStore + Clone + 'static,
{
    let audit = StoreAudit::spawn(store.clone());
    let recorder = Recorder(Arc::default(), Some(audit.clone()));
    let (h, recorder) = recorded_with(store, true, recorder);
    let (token, secret) = h.request_token_on(ORIGIN, CALLBACK).await;
    tick(&h);
    let verifier = approve_for_verifier(&h.provider, ORIGIN, &token, alice()).await;
    tick(&h);
    let response = h.exchange_on(ORIGIN, &token, &secret, &verifier).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let access = field(&response, "oauth_token");
    let access_secret = field(&response, "oauth_token_secret");
    let handle = field(&response, "oauth_session_handle");
    tick(&h);
    let api = format!("{ORIGIN}/api/whoami");
    h.call(&api, &access, &access_secret)
        .await
        .expect("a good call");
    tick(&h);
    let refresh = refresh_request(&h, &access, &access_secret, &handle);
    let response = h.provider.access_token(&refresh.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let renewed = field(&response, "oauth_token");
    let renewed_secret = field(&response, "oauth_token_secret");
    tick(&h);
    let revoked = h
        .provider
        .revoke_authorization(&alice().user_id, CONSUMER.0)
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    tick(&h);
    refused(
        h.call(&api, &renewed, &renewed_secret).await,
        401,
        "token_revoked",
    );

    let user = Some("1001");
    let key = CONSUMER.0;
    let events = recorder.take();
    assert_eq!(
        rows(&events),
        [
            row(0, EventKind::RequestTokenIssued, key, None, Some(&token)),
            row(10, EventKind::Authorized, key, user, Some(&token)),
            row(20, EventKind::Exchanged, key, user, Some(&token)),
            row(20, EventKind::AccessTokenIssued, key, user, Some(&access)),
            // The protected call at 30 is not an event.
            row(
                40,
                EventKind::AccessTokenRefreshed,
                key,
                user,
                Some(&renewed)
            ),
            row(
                50,
                EventKind::AccessTokenRevoked {
                    by: RevokedBy::User,
                    count: 1
                },
                key,
                user,
                None
            ),
            row(
                60,
                refused_at(
                    Endpoint::ProtectedResource,
                    Problem::TokenRevoked,
                    Reason::Revoked
                ),
                key,
                None,
                Some(&renewed)
            ),
        ]
    );

    // Kept: the same events, newest first (the last appended first among
    // those of one second), rendered to their stable names.
    audit.flush().await;
    assert_eq!(audit.dropped(), 0);
    let expected: Vec<StoredEvent> = events.iter().rev().map(StoredEvent::from).collect();
    let stored = h.provider.recent_events(None, 100).await.unwrap();
    assert_eq!(stored, expected);
    assert_eq!(
        stored
            .iter()
            .map(|e| (e.kind.as_str(), e.detail.as_str()))
            .collect::<Vec<_>>(),
        [
            ("refused", "protected_resource token_revoked Revoked"),
            ("access_token_revoked", "by=user count=1"),
            ("access_token_refreshed", ""),
            ("access_token_issued", ""),
            ("exchanged", ""),
            ("authorized", ""),
            ("request_token_issued", ""),
        ]
    );
    let mine = h.provider.recent_events(Some("1001"), 100).await.unwrap();
    let expected_mine: Vec<StoredEvent> = expected
        .iter()
        .filter(|e| e.user_id.as_deref() == Some("1001"))
        .cloned()
        .collect();
    assert_eq!(mine.len(), 5);
    assert_eq!(mine, expected_mine);
    assert!(
        h.provider
            .recent_events(Some("1002"), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.provider.recent_events(None, 2).await.unwrap(),
        expected[..2]
    );
    // At 60 s, keeping 25 s: the events before 35 s go.
    assert_eq!(
        h.provider
            .purge_events(TimeDuration::seconds(25))
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        h.provider.recent_events(None, 100).await.unwrap(),
        expected[..3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_is_recorded_exactly_in_memory() {
    full_flow_events(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_is_recorded_exactly_on_sqlite() {
    let store = oauth1_provider::store::SqliteStore::open_in_memory()
        .await
        .expect("open");
    full_flow_events(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_is_recorded_exactly_on_postgres() {
    use crate::support::env::service_env;
    use crate::support::services::TempSchema;

    let Some(url) = service_env("OAUTH1_TEST_POSTGRES_URL") else {
        return;
    };
    let (schema, url) = TempSchema::create(&url).await;
    let store = oauth1_provider::store::PostgresStore::connect(&url)
        .await
        .expect("connect");
    full_flow_events(store).await;
    schema.drop_schema().await;
}

#[tokio::test]
async fn each_refusal_is_recorded_with_its_reason() {
    let (h, recorder) = recorded(MemoryStore::new(), false);
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let key = CONSUMER.0;

    // An unknown consumer, a bad signature: the same answer, two reasons.
    let stranger = Signer::new(SignatureMethod::HmacSha1, "nobody-app", "whatever");
    let request = h.signed(stranger.callback(CALLBACK), "POST", &url);
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );
    let forger = Signer::new(SignatureMethod::HmacSha1, key, "not-the-secret");
    let request = h.signed(forger.callback(CALLBACK), "POST", &url);
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );

    // A replayed nonce: issued once, refused the second time.
    tick(&h);
    let request = h.signed(h.consumer().callback(CALLBACK), "POST", &url);
    let first = h.provider.request_token(&request.view()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let replayed_token = field(&first, "oauth_token");
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "nonce_used",
    );

    // Three wrong verifiers burn the request token; the right one is then refused.
    tick(&h);
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    for _ in 0..3 {
        let response = h
            .exchange_on(ORIGIN, &token, &secret, "wrong-verifier")
            .await;
        assert_refused(&response, 401, "verifier_invalid");
    }
    let response = h.exchange_on(ORIGIN, &token, &secret, &verifier).await;
    assert_refused(&response, 401, "token_rejected");

    // Denied by the user; its exchange refused.
    tick(&h);
    let (denied, denied_secret) = h.request_token_on(ORIGIN, CALLBACK).await;
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    h.provider.deny(&page.view(), &denied).await.unwrap();
    let response = h
        .exchange_on(ORIGIN, &denied, &denied_secret, "any-verifier")
        .await;
    assert_refused(&response, 401, "token_rejected");

    // An unknown access token at a protected resource.
    tick(&h);
    let api = format!("{ORIGIN}/api/whoami");
    refused(
        h.call(&api, "unknown-token-0123456789", "secret").await,
        401,
        "signature_invalid",
    );

    use Endpoint::{AccessToken, ProtectedResource, RequestToken};
    let at = |endpoint, problem, reason| refused_at(endpoint, problem, reason);
    let wrong = at(AccessToken, Problem::VerifierInvalid, Reason::WrongVerifier);
    let user = Some("1001");
    assert_eq!(
        rows(&recorder.take()),
        [
            row(
                0,
                at(
                    RequestToken,
                    Problem::SignatureInvalid,
                    Reason::UnknownConsumer
                ),
                "nobody-app",
                None,
                None
            ),
            row(
                0,
                at(
                    RequestToken,
                    Problem::SignatureInvalid,
                    Reason::BadSignature
                ),
                key,
                None,
                None
            ),
            row(
                10,
                EventKind::RequestTokenIssued,
                key,
                None,
                Some(&replayed_token)
            ),
            row(
                10,
                at(RequestToken, Problem::NonceUsed, Reason::Replay),
                key,
                None,
                None
            ),
            row(20, EventKind::RequestTokenIssued, key, None, Some(&token)),
            row(20, EventKind::Authorized, key, user, Some(&token)),
            row(20, wrong, key, None, Some(&token)),
            row(20, wrong, key, None, Some(&token)),
            row(20, EventKind::Burned, key, None, Some(&token)),
            row(20, wrong, key, None, Some(&token)),
            row(
                20,
                at(AccessToken, Problem::TokenRejected, Reason::Burned),
                key,
                None,
                Some(&token)
            ),
            row(30, EventKind::RequestTokenIssued, key, None, Some(&denied)),
            row(30, EventKind::Denied, key, None, Some(&denied)),
            row(
                30,
                at(AccessToken, Problem::TokenRejected, Reason::Denied),
                key,
                None,
                Some(&denied)
            ),
            row(
                40,
                at(
                    ProtectedResource,
                    Problem::SignatureInvalid,
                    Reason::UnknownToken
                ),
                key,
                None,
                Some("unknown-token")
            ),
        ]
    );
}

/// A refusal names the address the request came from, when the request
/// view carries one (the adapters fill it in).
#[tokio::test]
async fn a_refusal_names_the_peer() {
    let (h, recorder) = recorded(MemoryStore::new(), false);
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let stranger = Signer::new(SignatureMethod::HmacSha1, "nobody-app", "whatever");
    let request = h.signed(stranger.callback(CALLBACK), "POST", &url);
    let peer = std::net::IpAddr::from([192, 0, 2, 7]);
    let response = h
        .provider
        .request_token(&request.view().peer(Some(peer)))
        .await;
    assert_refused(&response, 401, "signature_invalid");
    let events = recorder.take();
    assert_eq!(
        events.iter().map(|e| e.peer).collect::<Vec<_>>(),
        [Some(peer)]
    );
    assert_eq!(
        events[0].to_string(),
        "refused request_token signature_invalid UnknownConsumer consumer=\"nobody-app\" \
         peer=192.0.2.7"
    );
    assert_eq!(StoredEvent::from(&events[0]).peer, Some(peer));
}

#[tokio::test]
async fn a_stored_consumers_lifecycle_is_recorded() {
    let (h, recorder) = recorded(MemoryStore::new(), false);
    let provider = h.provider.with_stored_consumers();
    let app = provider
        .register_consumer(
            ConsumerRegistration::new("Photo printer")
                .callback_prefix("https://printer.example/cb")
                .owner("1001"),
        )
        .await
        .unwrap();
    let key = app.key.as_str();
    provider
        .change_consumer_state(key, ConsumerAction::Approve)
        .await
        .unwrap();
    let details = ConsumerDetails {
        display_name: "Photo printer 2".to_owned(),
        ..ConsumerDetails::default()
    };
    provider.update_consumer(key, details).await.unwrap();
    provider
        .rotate_consumer_secret(key, TimeDuration::ZERO)
        .await
        .unwrap();
    provider
        .change_consumer_state(key, ConsumerAction::Disable)
        .await
        .unwrap();
    provider
        .change_consumer_state(key, ConsumerAction::Enable)
        .await
        .unwrap();
    // The owner issues herself tokens: each replaces the one before, on
    // any host; once she revoked it, there is none to replace.
    let owner = alice();
    let issue = |host| provider.issue_access_token(key, alice(), &owner, host);
    let first = issue("api.example.com").await.unwrap();
    h.clock.advance(Duration::from_secs(5));
    let second = issue("api.example.com").await.unwrap();
    let third = issue("other.example.com").await.unwrap();
    assert!(provider.revoke_token(&third.token).await.unwrap());
    let fourth = issue("api.example.com").await.unwrap();
    h.clock.advance(Duration::from_secs(5));
    assert_eq!(provider.delete_consumer(key).await.unwrap(), 1);
    // The rejected path, on a second app.
    let other = provider
        .register_consumer(ConsumerRegistration::new("Other"))
        .await
        .unwrap();
    provider
        .change_consumer_state(&other.key, ConsumerAction::Reject)
        .await
        .unwrap();

    let user = Some("1001");
    let revoked = |by, count| EventKind::AccessTokenRevoked { by, count };
    assert_eq!(
        rows(&recorder.take()),
        [
            row(0, EventKind::ConsumerRegistered, key, user, None),
            row(0, EventKind::ConsumerApproved, key, None, None),
            row(0, EventKind::ConsumerUpdated, key, None, None),
            row(0, EventKind::ConsumerSecretRotated, key, None, None),
            row(0, EventKind::ConsumerDisabled, key, None, None),
            row(0, EventKind::ConsumerEnabled, key, None, None),
            row(
                0,
                EventKind::AccessTokenIssued,
                key,
                user,
                Some(&first.token)
            ),
            row(
                5,
                EventKind::AccessTokenIssued,
                key,
                user,
                Some(&second.token)
            ),
            row(5, revoked(RevokedBy::Replaced, 1), key, user, None),
            row(
                5,
                EventKind::AccessTokenIssued,
                key,
                user,
                Some(&third.token)
            ),
            row(5, revoked(RevokedBy::Replaced, 1), key, user, None),
            row(
                5,
                revoked(RevokedBy::Host, 1),
                key,
                user,
                Some(&third.token)
            ),
            row(
                5,
                EventKind::AccessTokenIssued,
                key,
                user,
                Some(&fourth.token)
            ),
            row(10, EventKind::ConsumerDeleted, key, None, None),
            row(10, revoked(RevokedBy::ConsumerDeleted, 1), key, None, None),
            row(10, EventKind::ConsumerRegistered, &other.key, None, None),
            row(10, EventKind::ConsumerRejected, &other.key, None, None),
        ]
    );
}

#[tokio::test]
async fn no_event_shows_a_secret() {
    let (h, recorder) = recorded(MemoryStore::new(), true);
    let mut secrets = Secrets::default();
    secrets.add(CONSUMER.1);

    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let request = h.signed(h.consumer().callback(CALLBACK), "POST", &url);
    secrets.add_signature_of(&request);
    let response = h.provider.request_token(&request.view()).await;
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    secrets.add(&token);
    secrets.add(&secret);
    let verifier = approve_for_verifier(&h.provider, ORIGIN, &token, alice()).await;
    secrets.add(&verifier);
    // A wrong verifier first (refused), then the right one.
    assert_refused(
        &h.exchange_on(ORIGIN, &token, &secret, "wrong-verifier-123")
            .await,
        401,
        "verifier_invalid",
    );
    let exchange = h.signed(
        h.consumer().token(&token, &secret).verifier(&verifier),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetAccessToken"),
    );
    secrets.add_signature_of(&exchange);
    let response = h.provider.access_token(&exchange.view()).await;
    let access = field(&response, "oauth_token");
    let access_secret = field(&response, "oauth_token_secret");
    let handle = field(&response, "oauth_session_handle");
    secrets.add(&access);
    secrets.add(&access_secret);
    secrets.add(&handle);
    let refresh = refresh_request(&h, &access, &access_secret, &handle);
    secrets.add_signature_of(&refresh);
    let response = h.provider.access_token(&refresh.view()).await;
    let renewed = field(&response, "oauth_token");
    secrets.add(&renewed);
    secrets.add(&field(&response, "oauth_token_secret"));
    // Replaying the refresh is refused: the event names the token by its prefix.
    assert_refused(
        &h.provider.access_token(&refresh.view()).await,
        401,
        "nonce_used",
    );
    assert!(h.provider.revoke_token(&renewed).await.unwrap());

    let events = recorder.take();
    assert_eq!(
        events.iter().map(|e| e.kind.name()).collect::<Vec<_>>(),
        [
            "request_token_issued",
            "authorized",
            "refused",
            "exchanged",
            "access_token_issued",
            "access_token_refreshed",
            "refused",
            "access_token_revoked",
        ]
    );
    assert_no_secret(&secrets, &events);
}

/// Recording never waits for the store: past the channel's bound, events
/// are counted as dropped (and still logged), not queued. On a
/// current-thread runtime the writer runs only once this test waits, so
/// the five refusals meet a channel of two.
#[tokio::test]
async fn a_full_audit_channel_drops_and_counts_instead_of_waiting() {
    let store = MemoryStore::new();
    let audit = StoreAudit::spawn_with_capacity(store.clone(), 2);
    let recorder = Recorder(Arc::default(), Some(audit.clone()));
    let (h, recorder) = recorded_with(store, false, recorder);
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let stranger = Signer::new(SignatureMethod::HmacSha1, "nobody-app", "whatever");
    for _ in 0..5 {
        let request = h.signed(stranger.clone().callback(CALLBACK), "POST", &url);
        assert_refused(
            &h.provider.request_token(&request.view()).await,
            401,
            "signature_invalid",
        );
    }
    assert_eq!(recorder.take().len(), 5);
    assert_eq!(audit.dropped(), 3);
    audit.flush().await;
    let stored = h.provider.recent_events(None, 10).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(audit.dropped(), 3);
}
