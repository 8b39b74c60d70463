//! Grants (#18) through both adapters, in process: a host declaring
//! `photos.read` and `photos.write`, a tiny photo API whose routes need them
//! (`RequireGrant`), and consumers registered with them, without them
//! (whole-app tokens) and for `identity` alone (a "Sign in with …" app).
//!
//! The photo API: `GET /api/photos` needs `photos.read` (its handler takes
//! an `OAuthUser`), `POST /api/photos` and `DELETE /api/photos/{name}`
//! `photos.write`; `GET /api/me` takes an `OAuthUser` and needs no grant
//! (so whole-app tokens only), `GET /api/undeclared` needs a grant the host
//! does not declare (a host bug: 500).
//!
//! The [`scenarios`] are written once against a [`Site`] — the provider,
//! its clock, the photos and a [`Transport`] to the app — and run as tests
//! of each adapter by [`grant_tests!`] in [`through_axum`] and
//! [`through_actix`], which only build their framework's app.

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use oauth1_provider::client::Signer;
use oauth1_provider::consent::SignedIn;
use oauth1_provider::model::{Clock as _, Grant, ManualClock};
use oauth1_provider::protocol::percent_encode;
use oauth1_provider::provider::{AuditEvent, AuditSink, EventKind, Reason, SessionConfig};
use oauth1_provider::{
    Consumer, ConsumerRegistry, MemoryStore, Provider, ProviderConfig, SignatureMethod, User,
};

use crate::support::harness::{START, alice};
use crate::support::reply::{hidden, param};

/// A reply from either framework.
pub(crate) type Reply = crate::support::reply::Reply<u16>;

pub(crate) const ORIGIN: &str = "http://photos.test";
pub(crate) const HOST: &str = "photos.test";
pub(crate) const CALLBACK: &str = "https://client.example/cb?state=1";
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
pub(crate) const AUTHORIZE: &str = "/_ah/OAuthAuthorizeToken";
pub(crate) const AUTHENTICATE: &str = "/_ah/OAuthAuthenticate";
pub(crate) const IDENTIFY: &str = "/_ah/OAuthIdentify";
/// The CSRF token of alice's session (the hosts' consent hook says she is
/// signed in).
const CSRF: &str = "alice-csrf";

/// A consumer's credentials.
pub(crate) struct App {
    pub key: &'static str,
    pub secret: &'static str,
}

impl App {
    const fn new(key: &'static str, secret: &'static str) -> Self {
        Self { key, secret }
    }
}

/// Registered for both photo grants.
pub(crate) const PRINTER: App = App::new("printer", "printer-secret");
/// Registered without grants: whole-app tokens (App Engine's model).
pub(crate) const WHOLE_APP: App = App::new("whole-app", "whole-app-secret");
/// Registered for `identity` alone: it only signs its users in.
pub(crate) const SIGN_IN: App = App::new("sign-in", "sign-in-secret");
/// App Engine's unregistered consumer.
pub(crate) const ANONYMOUS: App = App::new("anonymous", "anonymous");
/// Two-legged requests only (no user), registered for `photos.read`.
pub(crate) const ROBOT: App = App::new("robot", "robot-secret");

/// The host's grants, no sessions.
pub(crate) fn config() -> ProviderConfig {
    let mut config = ProviderConfig::default();
    config.grants = vec![
        Grant::new("photos.read", "See your photos"),
        Grant::new("photos.write", "Add and delete your photos"),
    ];
    config
}

/// [`config`] with the OAuth Session extension (refreshable tokens).
pub(crate) fn sessions_config() -> ProviderConfig {
    let mut config = config();
    config.sessions = Some(SessionConfig::default());
    config
}

/// The consumers of both hosts: [`PRINTER`], [`WHOLE_APP`], [`SIGN_IN`],
/// [`ROBOT`] (with `photos.read` for its own requests) and `anonymous`.
pub(crate) fn consumers() -> ConsumerRegistry {
    let consumers = ConsumerRegistry::new();
    let app = |app: &App, name: &str| {
        Consumer::new(app.key, app.secret, name).callback_prefix("https://client.example/cb")
    };
    consumers.register(app(&PRINTER, "Photo Printer").grants(["photos.read", "photos.write"]));
    consumers.register(app(&WHOLE_APP, "Whole App"));
    consumers.register(app(&SIGN_IN, "Sign-in App").grants(["identity"]));
    consumers.register(
        Consumer::new(ROBOT.key, ROBOT.secret, "Robot")
            .two_legged(true)
            .grants(["photos.read"]),
    );
    consumers.allow_anonymous();
    consumers
}

/// Who the hosts' consent hook says is signed in: alice (an admin).
pub(crate) fn signed_in() -> SignedIn {
    SignedIn {
        user: alice(),
        csrf_token: CSRF.to_owned(),
    }
}

/// The photo API's data: the photos, and how many times a handler ran.
#[derive(Clone)]
pub(crate) struct Photos(Arc<Mutex<(Vec<String>, usize)>>);

impl Photos {
    fn new() -> Self {
        Self(Arc::new(Mutex::new((vec!["beach.jpg".to_owned()], 0))))
    }

    fn handle<R>(&self, f: impl FnOnce(&mut Vec<String>) -> R) -> R {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 += 1;
        f(&mut state.0)
    }

    /// `GET /api/photos` (needs `photos.read`; its handler takes the
    /// user): the names, comma-separated.
    pub(crate) fn list(&self) -> String {
        self.handle(|names| names.join(","))
    }

    /// A handler that needs no grant, or one that needs a grant the host
    /// does not declare: `user`'s email.
    pub(crate) fn who(&self, user: &User) -> String {
        self.handle(|_| user.email.clone())
    }

    /// `POST /api/photos` with the form `name=…` (needs `photos.write`).
    pub(crate) fn upload(&self, form: &[u8]) -> String {
        let name = param(&String::from_utf8_lossy(form), "name").expect("a name");
        self.handle(|names| names.push(name.clone()));
        format!("added {name}")
    }

    /// `DELETE /api/photos/{name}` (needs `photos.write`).
    pub(crate) fn delete(&self, name: &str) -> String {
        self.handle(|names| names.retain(|n| n != name));
        format!("deleted {name}")
    }

    /// `GET /api/public` (`photos.read`, or no OAuth at all): the user's
    /// email, or `visitor`.
    pub(crate) fn visit(&self, user: Option<&User>) -> String {
        self.handle(|_| user.map_or_else(|| "visitor".to_owned(), |u| u.email.clone()))
    }

    /// The photos, and how many handler calls there were.
    pub(crate) fn state(&self) -> (Vec<String>, usize) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The provider's audit trail, kept.
#[derive(Clone, Default)]
pub(crate) struct Events(Arc<Mutex<Vec<AuditEvent>>>);

impl AuditSink for Events {
    fn record(&self, event: &AuditEvent) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
    }
}

impl Events {
    /// The refusals recorded so far: (reason, consumer, user, whether a
    /// token prefix is there).
    pub(crate) fn refusals(&self) -> Vec<(Reason, Option<String>, Option<String>, bool)> {
        let events = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Refused { reason, .. } => Some((
                    reason,
                    e.consumer_key.clone(),
                    e.user_id.clone(),
                    e.token_prefix.is_some(),
                )),
                _ => None,
            })
            .collect()
    }
}

/// What a host app is built from: the provider (the host's grants, the
/// consumers above, a manual clock, a kept audit trail) and the photos.
pub(crate) fn parts(
    config: ProviderConfig,
) -> (Arc<Provider<MemoryStore>>, ManualClock, Photos, Events) {
    let clock = ManualClock::at_unix(START);
    let store = MemoryStore::new();
    let events = Events::default();
    let provider = Provider::new(store.clone(), store, consumers(), config)
        .with_clock(clock.clone())
        .with_audit(events.clone());
    (Arc::new(provider), clock, Photos::new(), events)
}

/// A request to the app on [`ORIGIN`], in no framework's types.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: &'static str,
    pub target: String,
    pub authorization: Option<String>,
    /// A form body (sent with the form content type).
    pub form: Option<String>,
    /// The browser's `Sec-Fetch-Dest`: what the response is for.
    pub fetch_dest: Option<&'static str>,
}

/// How a test reaches an app of one framework.
pub(crate) trait Transport {
    /// Sends `call` to the app (Host: [`HOST`]).
    async fn send(&self, call: &Call) -> Reply;
}

/// A host app under test.
pub(crate) struct Site<T> {
    pub transport: T,
    pub provider: Arc<Provider<MemoryStore>>,
    pub clock: ManualClock,
    pub photos: Photos,
    pub events: Events,
}

/// An access token, and its session handle under the Session extension.
pub(crate) struct Token {
    pub token: String,
    pub secret: String,
    pub handle: Option<String>,
}

impl<T: Transport> Site<T> {
    pub(crate) fn signer(&self, app: &App) -> Signer<'static> {
        let now = self.clock.now().unix_timestamp();
        Signer::new(SignatureMethod::HmacSha1, app.key, app.secret)
            .timestamp(u64::try_from(now).unwrap())
    }

    /// `method target`, signed by `signer` (a form body signed too).
    pub(crate) fn signed(
        &self,
        signer: Signer<'_>,
        method: &'static str,
        target: &str,
        form: Option<&str>,
    ) -> Call {
        let authorization = signer
            .authorization_header(
                method,
                &format!("{ORIGIN}{target}"),
                form.map(str::as_bytes),
            )
            .unwrap();
        Call {
            method,
            target: target.to_owned(),
            authorization: Some(authorization),
            form: form.map(str::to_owned),
            fetch_dest: None,
        }
    }

    pub(crate) async fn send(&self, call: &Call) -> Reply {
        self.transport.send(call).await
    }

    /// A browser request (alice's session; no OAuth).
    pub(crate) async fn browse(
        &self,
        method: &'static str,
        target: &str,
        form: Option<&str>,
    ) -> Reply {
        self.send(&Call {
            method,
            target: target.to_owned(),
            authorization: None,
            form: form.map(str::to_owned),
            fetch_dest: None,
        })
        .await
    }

    /// The request-token call of `app`, with `scope` in the form body.
    pub(crate) async fn request_token(&self, app: &App, scope: Option<&str>) -> Reply {
        let form = scope.map(|scope| format!("scope={}", percent_encode(scope)));
        let signer = self.signer(app).callback(CALLBACK);
        let call = self.signed(signer, "POST", "/_ah/OAuthGetRequestToken", form.as_deref());
        self.send(&call).await
    }

    /// [`Site::request_token`], which must succeed: (token, secret).
    pub(crate) async fn issued(&self, app: &App, scope: Option<&str>) -> (String, String) {
        let reply = self.request_token(app, scope).await;
        reply.assert_status(200);
        (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        )
    }

    /// Opens `path` (the authorize or the authenticate endpoint) for
    /// `token`, as an older browser does (no `Sec-Fetch-Dest`).
    pub(crate) async fn open(&self, path: &str, token: &str) -> Reply {
        self.open_for(path, token, None).await
    }

    /// Opens `path` for `token`, the browser saying what for
    /// (`Sec-Fetch-Dest`: `document` for a top-level navigation).
    pub(crate) async fn open_for(
        &self,
        path: &str,
        token: &str,
        fetch_dest: Option<&'static str>,
    ) -> Reply {
        self.send(&Call {
            method: "GET",
            target: format!("{path}?oauth_token={token}"),
            authorization: None,
            form: None,
            fetch_dest,
        })
        .await
    }

    /// The consent page at `path` for `token`, which must be shown.
    pub(crate) async fn consent(&self, path: &str, token: &str) -> Reply {
        let page = self.open(path, token).await;
        page.assert_status(200);
        page.assert_page_headers();
        assert_eq!(hidden(&page.body, "oauth_token"), token);
        page
    }

    /// Alice allows `token` on the consent page at `path`: the verifier the
    /// callback gets.
    pub(crate) async fn allow(&self, path: &str, token: &str) -> String {
        let page = self.consent(path, token).await;
        let form = format!(
            "oauth_token={token}&csrf_token={}&decision=allow",
            hidden(&page.body, "csrf_token")
        );
        let reply = self.browse("POST", path, Some(&form)).await;
        callback_verifier(&reply, token)
    }

    /// Exchanges the approved `token` of `app`, which must work.
    pub(crate) async fn exchanged(
        &self,
        app: &App,
        token: &str,
        secret: &str,
        verifier: &str,
    ) -> Token {
        let signer = self.signer(app).token(token, secret).verifier(verifier);
        let call = self.signed(signer, "POST", "/_ah/OAuthGetAccessToken", None);
        let reply = self.send(&call).await;
        reply.assert_status(200);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        Token {
            token: reply.field("oauth_token"),
            secret: reply.field("oauth_token_secret"),
            handle: param(&reply.body, "oauth_session_handle"),
        }
    }

    /// The whole flow for `app` asking for `scope`, alice allowing at the
    /// authorize endpoint.
    pub(crate) async fn access(&self, app: &App, scope: Option<&str>) -> Token {
        let (token, secret) = self.issued(app, scope).await;
        let verifier = self.allow(AUTHORIZE, &token).await;
        self.exchanged(app, &token, &secret, &verifier).await
    }

    /// `method target` signed by `app` with `token`.
    pub(crate) fn api_call(
        &self,
        app: &App,
        token: &Token,
        method: &'static str,
        target: &str,
        form: Option<&str>,
    ) -> Call {
        let signer = self.signer(app).token(&token.token, &token.secret);
        self.signed(signer, method, target, form)
    }

    /// The photo API's three routes with `token`: list, upload `added`,
    /// delete `deleted`.
    pub(crate) async fn photo_calls(
        &self,
        app: &App,
        token: &Token,
        added: &str,
        deleted: &str,
    ) -> [Reply; 3] {
        let upload = format!("name={added}");
        let calls = [
            self.api_call(app, token, "GET", "/api/photos", None),
            self.api_call(app, token, "POST", "/api/photos", Some(&upload)),
            self.api_call(
                app,
                token,
                "DELETE",
                &format!("/api/photos/{deleted}"),
                None,
            ),
        ];
        let [list, add, delete] = &calls;
        [
            self.send(list).await,
            self.send(add).await,
            self.send(delete).await,
        ]
    }
}

/// The 303 to the callback after `token` was approved: its verifier.
#[track_caller]
pub(crate) fn callback_verifier(reply: &Reply, token: &str) -> String {
    reply.assert_status(303);
    let location = reply.location();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(param(location, "oauth_token").as_deref(), Some(token));
    param(location, "oauth_verifier").expect("a verifier")
}

/// The grants a consent page lists (`data-grant` of each `li.grant`).
pub(crate) fn listed_grants(page: &str) -> Vec<String> {
    page.split("data-grant=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// An identity token, decoded (and not yet trusted).
pub(crate) struct Jwt {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    /// Splits and decodes a compact JWS (RFC 7515 §7.1).
    pub(crate) fn decode(jwt: &str) -> Self {
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3, "{jwt}");
        let json = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        Self {
            header: json(parts[0]),
            claims: json(parts[1]),
            signing_input: format!("{}.{}", parts[0], parts[1]),
            signature: URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        }
    }

    /// Whether its HS256 signature verifies under `key`.
    pub(crate) fn verifies_with(&self, key: &str) -> bool {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(self.signing_input.as_bytes());
        mac.verify_slice(&self.signature).is_ok()
    }
}

/// Every scenario as a test of one adapter: `$test` is its test attribute,
/// `$site` an `async fn(ProviderConfig) -> Site<_>` building its app.
macro_rules! grant_tests {
    ($test:meta, $site:path) => {
        grant_tests!(@each $test, $site:
            a_read_token_reads_and_is_refused_writes(config),
            a_refused_write_spends_its_nonce(config),
            a_whole_app_token_does_everything(config),
            a_route_naming_no_grant_is_for_whole_app_tokens_only(config),
            scope_is_read_against_the_consumers_grants(config),
            refresh_keeps_the_grants(sessions_config),
            the_identity_endpoint_answers_a_signed_jwt(config),
            authenticate_signs_a_returning_user_in_without_a_page(config),
            authenticate_asks_every_other_app(config),
            grant_refusals_are_audited_and_a_route_may_let_visitors_in(config),
        );
    };
    (@each $test:meta, $site:path: $($name:ident($config:ident)),* $(,)?) => {$(
        #[$test]
        async fn $name() {
            crate::grants::scenarios::$name($site(crate::grants::$config()).await).await;
        }
    )*};
}

mod scenarios;
mod through_actix;
mod through_axum;
