//! The axum 0.8 adapter (feature `axum`): mount the endpoints, verify
//! signed requests to the host's own handlers, hand them the user, and
//! enforce grants per route.
//!
//! - [`OAuth::router`](OAuth::router) mounts App Engine's three endpoints,
//!   the authenticate-only sign-in and the identity endpoint (GET and POST,
//!   paths from [`EndpointPaths`]) as a `Router` to merge into the host's.
//!   The authorize endpoint (RFC 5849 §2.2) asks the host's [`ConsentUi`]
//!   only who is signed in; it shows the consent page, checks the CSRF token
//!   on the answer, approves or denies, and redirects to the callback (or
//!   shows the `oob` verifier). Hosts that want the authorize step entirely
//!   their own use [`OAuth::token_router`] and the `Provider`'s authorize
//!   functions instead.
//! - [`OAuth::layer`] buffers form-encoded bodies, and any body of a request
//!   naming `oauth_body_hash` (only those, up to the configured limit),
//!   refuses requests whose origin is not served here,
//!   and gives handlers the [`OAuthUser`] / `Option<OAuthUser>` /
//!   [`OAuthConsumer`] extractors. It verifies lazily: the first extractor
//!   that asks runs [`Provider::authenticate`](crate::Provider::authenticate) (§3), and the verdict is kept
//!   for the rest of the request; routes that never ask cost no store call and
//!   use no nonce. The handler receives the body untouched.
//! - [`OAuth::require_grant`] (a [`RequireGrant`] layer) lets a route's
//!   requests through only with a grant; a route without one is for
//!   whole-app tokens only.
//!
//! The request's origin (scheme and host, what signatures cover and tokens
//! are bound to) comes from the [`OriginPolicy`](crate::OriginPolicy): configured public origins,
//! `Forwarded` / `X-Forwarded-*` only from trusted proxies (the peer address
//! is axum's `ConnectInfo<SocketAddr>`, when the server provides it). The
//! request target is the original URI, before any `nest` stripped a prefix.
//!
//! ```no_run
//! use std::{net::SocketAddr, time::Duration};
//! use axum::{Router, http::request::Parts, response::{IntoResponse, Redirect, Response}, routing::get};
//! use oauth1_provider::axum::{ConsentUi, OAuth, OAuthUser, SignedIn};
//! use oauth1_provider::protocol::percent_encode;
//! use oauth1_provider::{Consumer, ConsumerRegistry, MemoryStore, OriginPolicy, Provider, ProviderConfig};
//!
//! struct Consent;
//! impl ConsentUi for Consent {
//!     async fn signed_in(&self, request: &Parts, return_to: &str) -> Result<SignedIn, Response> {
//!         // Ask the host's own session; send strangers to the login page.
//!         let _ = request;
//!         Err(Redirect::to(&format!("/login?next={}", percent_encode(return_to))).into_response())
//!     }
//! }
//!
//! async fn whoami(user: OAuthUser) -> String {
//!     format!("{} via {}", user.get_current_user().email, user.get_oauth_consumer_key())
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let consumers = ConsumerRegistry::new();
//!     consumers.register(Consumer::new("printer", "printer-secret", "Photo Printer"));
//!     let store = MemoryStore::new();
//!     let provider = Provider::new(store.clone(), store, consumers, ProviderConfig::default());
//!     // The origin clients sign their URLs with: tokens are bound to it.
//!     let oauth = OAuth::new(provider).origins(OriginPolicy::public_origins(["http://localhost:8080"]));
//!     // Expired request tokens and nonces go once a minute (else only as new ones come).
//!     oauth.provider().spawn_purger(Duration::from_secs(60)).detach();
//!     let app = Router::new()
//!         .route("/api/whoami", get(whoami).post(whoami))
//!         .merge(oauth.router(Consent))
//!         .layer(oauth.layer());
//!     let listener = tokio::net::TcpListener::bind("localhost:8080").await?;
//!     axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! }
//! ```

mod endpoints;
mod extract;
mod grant;
mod layer;

use std::future::Future;

use http::request::Parts;

pub use crate::adapters::authorize::{EndpointPaths, SignedIn};
pub use crate::adapters::grant::RequireGrant;
pub use crate::adapters::oauth::OAuth;
pub use crate::adapters::verdict::{OAuthConsumer, OAuthRejection, OAuthUser};
pub use grant::RequireGrantService;
pub use layer::{OAuthLayer, OAuthService};

use crate::adapters::pages::{AuthorizePage, Page};

/// An axum response.
type AxumResponse = ::axum::response::Response;

/// The host's part of the authorize step: who is signed in, and optionally
/// how the pages look. The adapter does the rest (token lookup, CSRF check,
/// approve / deny, redirect, security headers).
pub trait ConsentUi: Send + Sync + 'static {
    /// The signed-in user and her session's CSRF token — or, for a visitor
    /// who is not signed in, the response that gets her signed in: usually a
    /// redirect to the login page that comes back to `return_to` (a path with
    /// query, on this site) afterwards.
    fn signed_in(
        &self,
        request: &Parts,
        return_to: &str,
    ) -> impl Future<Output = Result<SignedIn, AxumResponse>> + Send;

    /// Renders a page of the authorize step. Defaults to
    /// [`crate::consent::render_page`]. Whatever it returns gets
    /// [`crate::consent::PAGE_SECURITY_HEADERS`] it does not set itself.
    fn render(&self, page: &AuthorizePage<'_>) -> Page {
        crate::adapters::pages::render_page(page)
    }
}
