//! The demo host app: a small site with its own login that lends its users'
//! accounts to OAuth 1.0a consumers through the library's axum adapter.
//!
//! Shared by `main.rs` (the command line), the integration tests, which
//! drive [`build`]'s router in process, and the end-to-end bench. This file
//! builds the router and holds what its handlers share; the rest is in
//! `app/`, one file per role: [`config`] (what the command line sets),
//! [`extensions`] (the opt-in protocol extensions), [`users`] (accounts,
//! password hashing), [`guard`] (cross-site posts refused, sign-in attempts
//! limited), [`sessions`] (sign-in sessions, their cookie),
//! [`pages`] (the HTML pages, the account page), [`developers`] (apps as
//! managed data), [`activity`] (the audit trail's pages), [`api`] (the
//! JSON API) and [`photos`] (the photo API, each route behind a grant).
//!
//! The tests and the bench include this file with `#[path]`, which moves
//! where `mod x;` looks; each part is named by its path, so that it is found
//! from every includer. What all three name is at the root; what only
//! `main.rs` names ([`config::UserSpec`], [`extensions::Extensions`]) is
//! reached through its module, so that no includer has an unused import.

#[path = "app/activity.rs"]
mod activity;
#[path = "app/api.rs"]
mod api;
#[path = "app/config.rs"]
pub mod config;
#[path = "app/developers.rs"]
mod developers;
#[path = "app/extensions.rs"]
pub mod extensions;
#[path = "app/guard.rs"]
mod guard;
#[path = "app/html.rs"]
mod html;
#[path = "app/pages.rs"]
mod pages;
#[path = "app/photos.rs"]
mod photos;
#[path = "app/sessions.rs"]
mod sessions;
#[path = "app/users.rs"]
mod users;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use oauth1_provider::axum::{ConsentUi, OAuth, SignedIn};
use oauth1_provider::origin::ResolvedOrigin;
use oauth1_provider::protocol::percent_encode;
use oauth1_provider::provider::StoreAudit;
use oauth1_provider::store::{EventStore, NonceStore};
use oauth1_provider::{Consumer, ConsumerRegistry, ConsumerStore, OriginPolicy, Provider, User};
use rand::TryRng as _;

pub use config::{ConsumerSpec, DemoConfig};
pub use sessions::SESSION_COOKIE;

use guard::LoginGuard;
use sessions::{Session, Sessions, cookie};
use users::{Users, user_id};

/// Stores the demo can run on: token stores that also keep consumers
/// (apps registered on `/developers`) and the audit trail.
pub trait DemoStore: ConsumerStore + EventStore + Clone + 'static {}
impl<S: ConsumerStore + EventStore + Clone + 'static> DemoStore for S {}

/// Where the demo remembers nonces (the token store itself, or Redis).
pub trait DemoNonces: NonceStore + 'static {}
impl<N: NonceStore + 'static> DemoNonces for N {}

/// The built app: its router, and the provider behind it.
pub struct DemoApp<S, N> {
    /// Serve this (with `into_make_service_with_connect_info::<SocketAddr>()`).
    pub router: Router,
    /// The provider, for housekeeping (`purge_expired`) and tests.
    pub provider: Arc<Provider<S, N>>,
}

/// Builds the app on `store`, inside a Tokio runtime (the audit trail is
/// written to the store by a background task).
pub fn build<S: DemoStore + NonceStore>(
    config: &DemoConfig,
    store: S,
) -> Result<DemoApp<S, S>, String> {
    build_split(config, store.clone(), store)
}

/// [`build`] with nonces kept apart from the tokens (`--nonces redis://…`).
pub fn build_split<S: DemoStore, N: DemoNonces>(
    config: &DemoConfig,
    store: S,
    nonces: N,
) -> Result<DemoApp<S, N>, String> {
    let consumers = ConsumerRegistry::new();
    // The unregistered app may ask for any grant the site declares.
    let every_grant = config::GRANTS.map(|(name, _)| name);
    consumers.register(Consumer::anonymous().grants(every_grant));
    let registered = config.consumers.iter().map(|spec| {
        Consumer::new(&spec.key, &spec.secret, &spec.name).grants(spec.grants.iter().cloned())
    });
    for consumer in registered.chain(config.extensions.rsa_consumers()?) {
        let consumer = config
            .callback_prefixes
            .iter()
            .fold(consumer, |c, prefix| c.callback_prefix(prefix));
        consumers.register(config.extensions.configure(consumer));
    }
    let mut provider_config = config.extensions.provider_config();
    provider_config.grants = config::declared_grants();
    // Consumers configured on the command line live in the registry;
    // apps registered on `/developers` in the store.
    tokio::runtime::Handle::try_current()
        .map_err(|_| "the demo app is built inside a Tokio runtime".to_owned())?;
    let audit = StoreAudit::spawn(store.clone());
    let provider = Provider::new(store, nonces, consumers, provider_config)
        .with_stored_consumers()
        .with_audit(audit.clone())
        // What /developers/refusals shows an app's owner.
        .with_refusal_log(10, oauth1_provider::time::Duration::hours(1));
    let directory: HashMap<String, User> = config
        .users
        .iter()
        .map(|u| {
            let user = User::new(&u.email, user_id(&u.email)).admin(u.admin);
            (u.email.clone(), user)
        })
        .collect();
    let provider =
        Arc::new(provider.with_requestor_lookup(move |email| directory.get(email).cloned()));
    let origins = config.trusted_proxies.iter().fold(
        OriginPolicy::public_origins(config.public_origins.iter().cloned()),
        |policy, proxy| policy.trust_proxy(*proxy),
    );
    let oauth = OAuth::new(provider.clone()).origins(origins);
    let demo = Arc::new(Demo {
        provider: provider.clone(),
        users: Users::new(&config.users, config.password_hashing.clone())?,
        sessions: Sessions::default(),
        logins: LoginGuard::new(config.login_limits.clone(), config.trusted_proxies.clone()),
        paths: oauth.endpoint_paths().clone(),
        auto_approve: config.auto_approve,
        audit,
    });
    let router = Router::new()
        .merge(pages::routes::<S, N>())
        .merge(developers::routes::<S, N>())
        .merge(activity::routes::<S, N>())
        .merge(api::routes())
        .merge(photos::routes())
        .fallback(pages::not_found)
        .with_state(demo.clone())
        .merge(oauth.router(Consent(demo)))
        // Inside the OAuth layer, which resolves the origin it compares.
        .layer(axum::middleware::from_fn(guard::same_origin_posts))
        .layer(oauth.layer());
    Ok(DemoApp { router, provider })
}

struct Demo<S, N> {
    provider: Arc<Provider<S, N>>,
    users: Users,
    sessions: Sessions,
    logins: LoginGuard,
    paths: oauth1_provider::axum::EndpointPaths,
    /// New apps start approved (`--auto-approve`), not proposed.
    auto_approve: bool,
    /// The audit trail's writer (flushed before the trail is shown).
    audit: StoreAudit,
}

type AppState<S, N> = State<Arc<Demo<S, N>>>;

impl<S, N> Demo<S, N> {
    /// The session named by the request's cookie, with its id and user.
    fn signed_in(&self, headers: &HeaderMap) -> Option<(String, Session, User)> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let session = self.sessions.get(id)?;
        let user = self.users.get(&session.email)?.clone();
        Some((id.to_owned(), session, user))
    }
}

/// The consent page's question to the host: who is signed in?
struct Consent<S, N>(Arc<Demo<S, N>>);

impl<S: DemoStore, N: DemoNonces> ConsentUi for Consent<S, N> {
    async fn signed_in(&self, request: &Parts, return_to: &str) -> Result<SignedIn, Response> {
        match self.0.signed_in(&request.headers) {
            Some((_, session, user)) => Ok(SignedIn {
                user,
                csrf_token: session.csrf,
            }),
            // `return_to` is the public path, prefix included.
            None => {
                let origin = request.extensions.get::<ResolvedOrigin>();
                Err(to_login(origin.map_or("", |o| &o.prefix), return_to))
            }
        }
    }
}

/// To the sign-in page under the public path `prefix` (see
/// [`ResolvedOrigin::prefix`]), to come back to `next` (a public path).
fn to_login(prefix: &str, next: &str) -> Response {
    Redirect::to(&format!("{prefix}/login?next={}", percent_encode(next))).into_response()
}

/// `N` bytes from the OS (a password's salt, a session id).
fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| format!("the OS random source failed: {e}"))?;
    Ok(bytes)
}

/// 256 random bits, URL-safe (a session id, a CSRF token).
fn random_id() -> Result<String, String> {
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}
