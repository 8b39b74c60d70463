//! The actix-web 4 adapter (feature `actix`): mount the endpoints, verify
//! signed requests to the host's own handlers, hand them the user, and
//! enforce grants per route.
//! The same capabilities as the axum adapter, on the same framework-neutral
//! core ([`Provider`](crate::Provider), [`crate::consent`]).
//!
//! - [`OAuth::endpoints`] is a service factory for App Engine's three
//!   endpoints, the authenticate-only sign-in and the identity endpoint
//!   (GET and POST, paths from [`EndpointPaths`]): pass it to
//!   `App::service` or `Scope::service`. The authorize endpoint (RFC 5849
//!   §2.2) asks the host's [`ConsentUi`] only who is signed in; it shows the
//!   consent page, checks the CSRF token on the answer, approves or denies,
//!   and redirects to the callback (or shows the `oob` verifier), all by
//!   [`crate::consent::authorize_step`]. Hosts that want the authorize step
//!   entirely their own use [`OAuth::token_endpoints`] and the `Provider`'s
//!   authorize functions instead.
//! - [`OAuth::middleware`] (`App::wrap`) refuses requests whose origin is not
//!   served here, reads form-encoded bodies and any body of a request naming
//!   `oauth_body_hash` (only those, up to the configured limit) and puts them back for the handler untouched, and gives handlers
//!   the [`OAuthUser`], [`MaybeOAuthUser`] and [`OAuthConsumer`] extractors.
//!   It verifies lazily: the first extractor that asks runs
//!   [`Provider::authenticate`](crate::Provider::authenticate) (§3), and the verdict is kept in the
//!   request's extensions for the rest of the request; routes that never ask
//!   cost no store call and use no nonce.
//! - [`OAuth::require_grant`] (a [`RequireGrant`] middleware) lets a route's
//!   requests through only with a grant; a route without one is for
//!   whole-app tokens only.
//!
//! The request's origin (scheme and host, what signatures cover and tokens
//! are bound to) comes from the [`OriginPolicy`](crate::OriginPolicy): configured public origins,
//! `Forwarded` / `X-Forwarded-*` only from trusted proxies (the peer is
//! `HttpRequest::peer_addr`). The request target is `HttpRequest::uri()`,
//! path and query as received, whatever scope the route is in.
//!
//! ```no_run
//! use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::header, web};
//! use oauth1_provider::actix::{ConsentUi, OAuth, OAuthUser, SignedIn};
//! use oauth1_provider::protocol::percent_encode;
//! use oauth1_provider::{Consumer, ConsumerRegistry, MemoryStore, OriginPolicy, Provider, ProviderConfig};
//!
//! struct Consent;
//! impl ConsentUi for Consent {
//!     async fn signed_in(&self, request: &HttpRequest, return_to: &str) -> Result<SignedIn, HttpResponse> {
//!         // Ask the host's own session; send strangers to the login page.
//!         let _ = request;
//!         let login = format!("/login?next={}", percent_encode(return_to));
//!         Err(HttpResponse::SeeOther().insert_header((header::LOCATION, login)).finish())
//!     }
//! }
//!
//! async fn whoami(user: OAuthUser) -> String {
//!     format!("{} via {}", user.get_current_user().email, user.get_oauth_consumer_key())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let consumers = ConsumerRegistry::new();
//!     consumers.register(Consumer::new("printer", "printer-secret", "Photo Printer"));
//!     let store = MemoryStore::new();
//!     let provider = Provider::new(store.clone(), store, consumers, ProviderConfig::default());
//!     // The origin clients sign their URLs with: tokens are bound to it.
//!     let oauth = OAuth::new(provider).origins(OriginPolicy::public_origins(["http://localhost:8080"]));
//!     let (endpoints, middleware) = (oauth.endpoints(Consent), oauth.middleware());
//!     HttpServer::new(move || {
//!         App::new()
//!             .route("/api/whoami", web::route().to(whoami))
//!             .service(endpoints.clone())
//!             .wrap(middleware.clone())
//!     })
//!     .bind("localhost:8080")?
//!     .run()
//!     .await
//! }
//! ```

mod endpoints;
mod extract;
mod grant;
mod middleware;

use std::future::Future;

use ::actix_web::{HttpRequest, HttpResponse};

pub use crate::adapters::authorize::{EndpointPaths, SignedIn};
pub use crate::adapters::grant::RequireGrant;
pub use crate::adapters::oauth::OAuth;
pub use crate::adapters::verdict::{OAuthConsumer, OAuthRejection, OAuthUser};
pub use endpoints::OAuthEndpoints;
pub use extract::MaybeOAuthUser;
pub use grant::RequireGrantService;
pub use middleware::{OAuthMiddleware, OAuthMiddlewareService};

use crate::adapters::pages::{AuthorizePage, Page};

/// The host's part of the authorize step: who is signed in, and optionally
/// how the pages look. The adapter does the rest (token lookup, CSRF check,
/// approve / deny, redirect, security headers). The same contract as the
/// axum adapter's `ConsentUi`, with actix's request and response types.
pub trait ConsentUi: Send + Sync + 'static {
    /// The signed-in user and her session's CSRF token — or, for a visitor
    /// who is not signed in, the response that gets her signed in: usually a
    /// redirect to the login page that comes back to `return_to` (a path with
    /// query, on this site) afterwards.
    fn signed_in(
        &self,
        request: &HttpRequest,
        return_to: &str,
    ) -> impl Future<Output = Result<SignedIn, HttpResponse>>;

    /// Renders a page of the authorize step. Defaults to
    /// [`crate::consent::render_page`]. Whatever it returns gets
    /// [`crate::consent::PAGE_SECURITY_HEADERS`] it does not set itself.
    fn render(&self, page: &AuthorizePage<'_>) -> Page {
        crate::adapters::pages::render_page(page)
    }
}
