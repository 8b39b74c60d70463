//! Secrets stay secret: across the whole flow — refusals of every kind, the
//! consent page with a forged and a real answer, a failing store,
//! development mode — every `tracing` event at every level (TRACE included)
//! is captured, and no consumer secret, token secret, verifier, CSRF token,
//! signature sent or signature expected appears in it, nor in any refusal
//! sent to a client, nor in the `Debug` output of what holds them; and the
//! memory that held a secret is wiped before it is freed.

use std::convert::Infallible;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use oauth1_provider::client::Signer;
use oauth1_provider::consent::{AuthorizeRequest, SignedIn, authorize_step, render_page};
use oauth1_provider::model::{
    AccessToken, AccessTokenState, Callback, ConsumerSecret, Granted, RequestToken,
    RequestTokenState, Session, SessionHandle, TokenSecret, Verifier,
};
use oauth1_provider::origin::ResolvedOrigin;
use oauth1_provider::protocol::{AuthorizationHeader, Limits, SignedRequest, percent_encode};
use oauth1_provider::store::TokenStore;
use oauth1_provider::{
    Approval, Consumer, ConsumerRegistry, MemoryStore, Provider, ProviderConfig, Response,
    SignatureMethod,
};
use tracing::Level;

use crate::support::alloc_probe::frees_canary;
use crate::support::flaky_store::FlakyStore;
use crate::support::harness::{
    CALLBACK, CONSUMER, Harness, ORIGIN, alice, consumers, field, harness_on, url_param,
};
use crate::support::request::OwnedRequest;

/// Everything a `fmt` subscriber at TRACE writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures every event (every level, TRACE included) this thread emits
    /// while the guard lives.
    fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// Runs the ignored test `name` alone in a child process of this test
/// binary. A thread's own subscriber misses events of callsites that other
/// tests' threads register at the same moment (`tracing` caches each
/// callsite's interest process-wide), so a capture that must see every
/// event cannot share its process with other tests.
fn run_alone(name: &str) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Everything the flow must keep out of logs, refusals and audit events
/// (`crate::events`).
#[derive(Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    pub(crate) fn add(&mut self, secret: &str) {
        assert!(secret.len() >= 8, "{secret:?} is too short to look for");
        self.0.push(secret.to_owned());
        self.0.push(percent_encode(secret).into_owned());
    }

    /// The signature `request` carries.
    pub(crate) fn add_signature_of(&mut self, request: &OwnedRequest) {
        let header = request.authorization.as_deref().unwrap();
        let signature = AuthorizationHeader::parse(header)
            .unwrap()
            .get("oauth_signature")
            .unwrap()
            .to_owned();
        self.add(&signature);
    }

    /// A request signed by `signer`, its signature noted.
    fn signed(
        &mut self,
        h: &Harness<FlakyStore>,
        signer: Signer<'_>,
        method: &str,
        url: &str,
    ) -> OwnedRequest {
        let request = h.signed(signer, method, url);
        self.add_signature_of(&request);
        request
    }

    /// The token and secret of a credentials response, the secret noted.
    fn credentials(&mut self, response: &Response) -> (String, String) {
        let secret = field(response, "oauth_token_secret");
        self.add(&secret);
        (field(response, "oauth_token"), secret)
    }

    /// The signature the provider expects for `request` with the real secrets.
    fn add_expected_signature(&mut self, request: &OwnedRequest, consumer: &str, token: &str) {
        let view = request.view();
        let signed = SignedRequest::collect(&view, &Limits::default()).unwrap();
        let method = signed.signature_method().unwrap();
        let expected =
            oauth1_provider::danger::expected_signature(&signed, method, consumer, token).unwrap();
        assert_ne!(Some(expected.as_str()), signed.signature());
        self.add(&expected);
    }

    #[track_caller]
    pub(crate) fn assert_absent(&self, what: &str, text: &str) {
        for secret in &self.0 {
            assert!(
                !text.contains(secret.as_str()),
                "{secret:?} in {what}:\n{text}"
            );
        }
    }
}

/// A refusal: its body and headers carry no secret.
#[track_caller]
fn refusal(secrets: &Secrets, response: &Response, status: u16) {
    assert_eq!(response.status, status, "{}", response.body);
    secrets.assert_absent("a refusal", &format!("{response:?}"));
}

fn consent_origin() -> ResolvedOrigin {
    ResolvedOrigin {
        scheme: "https".into(),
        authority: "api.example.com".into(),
        prefix: String::new(),
    }
}

/// The authorize endpoint through the framework-neutral adapter step, as
/// `alice` with session CSRF token `csrf`.
async fn authorize(
    h: &Harness<FlakyStore>,
    method: &str,
    target: &str,
    form: &str,
    csrf: &str,
) -> Response {
    let origin = consent_origin();
    let request = AuthorizeRequest {
        method,
        origin: &origin,
        target,
        form: form.as_bytes(),
        fetch_dest: None,
    };
    let signed_in = |_return_to: String| async move {
        Ok::<_, Infallible>(SignedIn {
            user: alice(),
            csrf_token: csrf.to_owned(),
        })
    };
    authorize_step(&h.provider, request, signed_in, render_page)
        .await
        .unwrap()
}

#[test]
fn no_secret_reaches_the_logs_or_a_refusal() {
    run_alone("security_secrets::the_whole_flow_logs_no_secret");
}

#[tokio::test]
#[ignore = "run alone by no_secret_reaches_the_logs_or_a_refusal"]
async fn the_whole_flow_logs_no_secret() {
    let (captured, _guard) = Captured::start();

    let mut secrets = Secrets::default();
    for secret in [CONSUMER.1, "robot-secret", "plain-secret"] {
        secrets.add(secret);
    }
    let h = harness_on(FlakyStore::default());
    let csrf = "csrf-of-alices-session-5f2a9c";
    secrets.add(csrf);

    // Temporary credentials; a bad signature and an unknown consumer first.
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let bad = secrets.signed(
        &h,
        Signer::new(SignatureMethod::HmacSha1, CONSUMER.0, "not-the-secret").callback(CALLBACK),
        "POST",
        &url,
    );
    secrets.add_expected_signature(&bad, CONSUMER.1, "");
    refusal(&secrets, &h.provider.request_token(&bad.view()).await, 401);
    let unknown = h.signed(
        Signer::new(SignatureMethod::HmacSha1, "nobody", "nobody-secret").callback(CALLBACK),
        "POST",
        &url,
    );
    refusal(
        &secrets,
        &h.provider.request_token(&unknown.view()).await,
        401,
    );
    let request = secrets.signed(&h, h.consumer().callback(CALLBACK), "POST", &url);
    let response = h.provider.request_token(&request.view()).await;
    let (token, secret) = secrets.credentials(&response);

    // The consent page: shown, a forged answer refused, the real one taken.
    let page = format!("/_ah/OAuthAuthorizeToken?oauth_token={token}");
    assert_eq!(authorize(&h, "GET", &page, "", csrf).await.status, 200);
    let path = "/_ah/OAuthAuthorizeToken";
    let forged = format!("oauth_token={token}&decision=allow&csrf_token=guess");
    assert_eq!(authorize(&h, "POST", path, &forged, csrf).await.status, 403);
    let answer = format!("oauth_token={token}&decision=allow&csrf_token={csrf}");
    let redirect = authorize(&h, "POST", path, &answer, csrf).await;
    assert_eq!(redirect.status, 303);
    let verifier = url_param(redirect.header("location").unwrap(), "oauth_verifier");
    secrets.add(&verifier);

    // Token credentials: a wrong verifier, a bad signature, then the real one.
    let exchange_url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
    let wrong = secrets.signed(
        &h,
        h.consumer()
            .token(&token, &secret)
            .verifier("wrong-verifier"),
        "POST",
        &exchange_url,
    );
    refusal(&secrets, &h.provider.access_token(&wrong.view()).await, 401);
    let bad = secrets.signed(
        &h,
        h.consumer()
            .token(&token, "not-the-token-secret")
            .verifier(&verifier),
        "POST",
        &exchange_url,
    );
    secrets.add_expected_signature(&bad, CONSUMER.1, &secret);
    refusal(&secrets, &h.provider.access_token(&bad.view()).await, 401);
    let request = secrets.signed(
        &h,
        h.consumer().token(&token, &secret).verifier(&verifier),
        "POST",
        &exchange_url,
    );
    let response = h.provider.access_token(&request.view()).await;
    let (access, access_secret) = secrets.credentials(&response);

    // Protected resources: accepted, replayed, badly signed, stale.
    let api = format!("{ORIGIN}/api/whoami");
    let call = secrets.signed(&h, h.consumer().token(&access, &access_secret), "GET", &api);
    assert!(h.provider.authenticate(&call.view()).await.is_ok());
    let replay = h.provider.authenticate(&call.view()).await.unwrap_err();
    refusal(&secrets, &replay.to_response("r"), 401);
    let bad = secrets.signed(
        &h,
        h.consumer().token(&access, "not-the-secret"),
        "GET",
        &api,
    );
    secrets.add_expected_signature(&bad, CONSUMER.1, &access_secret);
    let err = h.provider.authenticate(&bad.view()).await.unwrap_err();
    refusal(&secrets, &err.to_response("r"), 401);
    secrets.assert_absent("an error's Debug", &format!("{err:?}"));
    let stale = h.consumer().token(&access, &access_secret);
    let stale_request = h.signed_at(stale, "GET", &api, h.now() - 3600);
    secrets.add_signature_of(&stale_request);
    let err = h
        .provider
        .authenticate(&stale_request.view())
        .await
        .unwrap_err();
    refusal(&secrets, &err.to_response("r"), 401);

    // An out-of-band approval shows the verifier on the page only.
    let request = h.signed(h.consumer().callback("oob"), "POST", &url);
    let response = h.provider.request_token(&request.view()).await;
    let (oob_token, _) = secrets.credentials(&response);
    let answer = format!("oauth_token={oob_token}&decision=allow&csrf_token={csrf}");
    let shown = authorize(&h, "POST", path, &answer, csrf).await;
    assert_eq!(shown.status, 200);
    let record = h.store.inner.get_request_token(&oob_token).await.unwrap();
    let RequestTokenState::Authorized { verifier, .. } = record.unwrap().state else {
        panic!("approved");
    };
    assert!(shown.body.contains(verifier.secret()));
    secrets.add(verifier.secret());

    // A failing store: 503s, and the store's error logged, not a secret.
    h.store.failing.store(true, Ordering::SeqCst);
    let call = secrets.signed(&h, h.consumer().token(&access, &access_secret), "GET", &api);
    let err = h.provider.authenticate(&call.view()).await.unwrap_err();
    refusal(&secrets, &err.to_response("r"), 503);
    let request = secrets.signed(&h, h.consumer().callback(CALLBACK), "POST", &url);
    refusal(
        &secrets,
        &h.provider.request_token(&request.view()).await,
        503,
    );
    assert_eq!(authorize(&h, "GET", &page, "", csrf).await.status, 503);
    h.store.failing.store(false, Ordering::SeqCst);

    // Development mode warns on every use.
    let development = oauth1_provider::danger::development_provider(
        MemoryStore::new(),
        MemoryStore::new(),
        consumers(),
        ProviderConfig::default(),
    );
    assert!(development.authenticate(&call.view()).await.is_ok());

    let logs = captured.text();
    // The capture works: the refusals, the failure and the warnings are there.
    for expected in [
        "OAuth request refused",
        "BadSignature",
        "UnknownConsumer",
        "WrongVerifier",
        "Replay",
        "OAuth service failure",
        "consent answer without the session's CSRF token refused",
        "issued access token",
        "DEVELOPMENT MODE",
    ] {
        assert!(logs.contains(expected), "no {expected:?} in:\n{logs}");
    }
    secrets.assert_absent("the logs", &logs);
}

#[test]
fn debug_output_never_shows_a_secret() {
    let mut secrets = Secrets::default();
    secrets.add("consumer-secret-1234");
    let consumer = Consumer::new("key", "consumer-secret-1234", "App");
    let registry = ConsumerRegistry::new();
    registry.register(consumer.clone());
    let provider = Provider::new(
        MemoryStore::new(),
        MemoryStore::new(),
        registry.clone(),
        ProviderConfig::default(),
    );
    let signer = Signer::new(SignatureMethod::HmacSha1, "key", "consumer-secret-1234")
        .token("token", "token-secret-5678")
        .verifier("verifier-9012");
    secrets.add("token-secret-5678");
    secrets.add("verifier-9012");
    let signed_in = SignedIn {
        user: alice(),
        csrf_token: "csrf-token-3456".into(),
    };
    secrets.add("csrf-token-3456");
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let request_token = RequestToken {
        token: "request-token".into(),
        secret: TokenSecret::new("token-secret-5678"),
        consumer_key: "key".into(),
        host: "example.com".into(),
        callback: Callback::Oob,
        scope: None,
        grants: Granted::only(["photos.read"]),
        display_name: None,
        created_at: now,
        expires_at: now + time::Duration::minutes(10),
        state: RequestTokenState::Issued,
    };
    let approved = request_token
        .approve(alice(), Verifier::new("verifier-9012"), now)
        .unwrap();
    let access_token = AccessToken {
        token: "access-token".into(),
        secret: TokenSecret::new("token-secret-5678"),
        consumer_key: "key".into(),
        host: "example.com".into(),
        user: alice(),
        scope: None,
        grants: Granted::WholeApp,
        created_at: now,
        expires_at: Some(now + time::Duration::hours(1)),
        session: Some(Session {
            handle: SessionHandle::new("session-handle-7890"),
            authorization_expires_at: None,
        }),
        state: AccessTokenState::Active,
    };
    secrets.add("session-handle-7890");
    let oob = Approval::Oob {
        verifier: Verifier::new("verifier-9012"),
    };
    let text = format!(
        "{consumer:?} {registry:?} {provider:?} {signer:?} {signed_in:?} \
         {request_token:?} {approved:?} {access_token:?} {oob:?}"
    );
    secrets.assert_absent("Debug output", &text);
    assert!(text.contains("[redacted]"), "{text}");
    assert!(text.contains("access-token") && text.contains("alice@example.com"));
    assert!(!text.contains("secret_lengths"), "{text}");
}

#[test]
fn secrets_are_wiped_before_their_memory_is_freed() {
    const CANARY: &str = "canary-secret-7f3a9c1e5b2d";
    // The probe sees a string that is freed as it was.
    assert!(frees_canary(CANARY, || drop(String::from(CANARY))));
    // The secret newtypes wipe theirs, clones included.
    assert!(!frees_canary(CANARY, || {
        let secret = ConsumerSecret::new(CANARY);
        drop(secret.clone());
        drop(secret);
    }));
    assert!(!frees_canary(CANARY, || drop(TokenSecret::new(CANARY))));
    assert!(!frees_canary(CANARY, || drop(Verifier::new(CANARY))));
    // And so do the records and answers that hold them.
    assert!(!frees_canary(CANARY, || {
        drop(Consumer::new("key", CANARY, "App"));
        drop(Approval::Oob {
            verifier: Verifier::new(CANARY),
        });
    }));
}
