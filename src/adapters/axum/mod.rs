//! The axum 0.8 adapter (feature `axum`): mount the three endpoints, verify
//! signed requests to the host's own handlers, and hand them the user.
//!
//! - [`OAuth::router`] mounts App Engine's three endpoints (GET and POST,
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
//!   that asks runs [`Provider::authenticate`] (§3), and the verdict is kept
//!   for the rest of the request; routes that never ask cost no store call and
//!   use no nonce. The handler receives the body untouched.
//!
//! The request's origin (scheme and host, what signatures cover and tokens
//! are bound to) comes from the [`OriginPolicy`]: configured public origins,
//! `Forwarded` / `X-Forwarded-*` only from trusted proxies (the peer address
//! is axum's `ConnectInfo<SocketAddr>`, when the server provides it). The
//! request target is the original URI, before any `nest` stripped a prefix.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::{Router, http::request::Parts, response::{IntoResponse, Redirect, Response}, routing::get};
//! use oauth1_provider::axum::{ConsentUi, OAuth, OAuthUser, SignedIn};
//! use oauth1_provider::{ConsumerRegistry, MemoryStore, OriginPolicy, Provider, ProviderConfig, User};
//!
//! struct Consent;
//! impl ConsentUi for Consent {
//!     async fn signed_in(&self, request: &Parts, return_to: &str) -> Result<SignedIn, Response> {
//!         // Ask the host's own session; send strangers to the login page.
//!         let _ = request;
//!         Err(Redirect::to(&format!("/login?next={}", oauth1_provider::protocol::percent_encode(return_to))).into_response())
//!     }
//! }
//!
//! async fn whoami(user: OAuthUser) -> String {
//!     format!("{} via {}", user.get_current_user().email, user.get_oauth_consumer_key())
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let consumers = ConsumerRegistry::new();
//! consumers.allow_anonymous();
//! let store = MemoryStore::new();
//! let provider = Provider::new(store.clone(), store, consumers, ProviderConfig::default());
//! let oauth = OAuth::new(provider)
//!     .origins(OriginPolicy::public_origins(["http://localhost:8080"]));
//! let app = Router::new()
//!     .route("/api/whoami", get(whoami).post(whoami))
//!     .merge(oauth.router(Consent))
//!     .layer(oauth.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::axum::Router;
use ::axum::body::Body;
use ::axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, OriginalUri};
use ::axum::response::IntoResponse;
use ::axum::routing::{MethodFilter, on};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tower::{Layer, Service};

use crate::adapters::authorize::AuthorizeRequest;
use crate::adapters::origin::{OriginError, OriginHeaders, OriginPolicy, ResolvedOrigin};
use crate::adapters::pages::AuthorizePage;
use crate::adapters::signed::SignedParts;
use crate::model::user::User;
use crate::protocol::request::{Request, is_form_urlencoded};
use crate::protocol::response::Response;
use crate::provider::Provider;
use crate::provider::context::{OAuthContext, OAuthError};
use crate::store::{NonceStore, TokenStore};

/// An axum response.
type AxumResponse = ::axum::response::Response;

pub use crate::adapters::authorize::{EndpointPaths, SignedIn};

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
    fn render(&self, page: &AuthorizePage<'_>) -> Response {
        crate::adapters::pages::render_page(page)
    }
}

/// The axum adapter for a [`Provider`]: builds the endpoints' router and the
/// verifying layer. Cheap to clone.
pub struct OAuth<S, N = S> {
    provider: Arc<Provider<S, N>>,
    site: Site,
    paths: EndpointPaths,
}

impl<S, N> Clone for OAuth<S, N> {
    fn clone(&self) -> Self {
        Self {
            provider: self.provider.clone(),
            site: self.site.clone(),
            paths: self.paths.clone(),
        }
    }
}

impl<S, N> std::fmt::Debug for OAuth<S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("origins", &self.site.origins)
            .field("https", &self.site.https)
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// An adapter for `provider` (a `Provider` or an `Arc<Provider>`), with
    /// the default paths, over plain http, accepting the `Host` header as
    /// sent until [`OAuth::origins`] says which origins are served.
    pub fn new(provider: impl Into<Arc<Provider<S, N>>>) -> Self {
        Self {
            provider: provider.into(),
            site: Site {
                origins: OriginPolicy::default(),
                https: false,
            },
            paths: EndpointPaths::default(),
        }
    }

    /// The origins served and the proxies trusted. Defaults to
    /// [`OriginPolicy::default`]: any `Host`, no proxy.
    pub fn origins(mut self, policy: OriginPolicy) -> Self {
        self.site.origins = policy;
        self
    }

    /// Whether this server itself speaks TLS (e.g. axum-server with rustls).
    /// Defaults to false, as `axum::serve` speaks plain http; behind a
    /// TLS-terminating proxy, trust the proxy in the [`OriginPolicy`] instead.
    pub fn https(mut self, https: bool) -> Self {
        self.site.https = https;
        self
    }

    /// Mounts the endpoints at these paths.
    pub fn paths(mut self, paths: EndpointPaths) -> Self {
        self.paths = paths;
        self
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<Provider<S, N>> {
        &self.provider
    }

    /// The endpoint paths.
    pub fn endpoint_paths(&self) -> &EndpointPaths {
        &self.paths
    }

    /// The origin `request` was addressed to, by the configured policy.
    pub fn resolve_origin(&self, request: &Parts) -> Result<ResolvedOrigin, OriginError> {
        self.site.resolve(request)
    }

    /// The three endpoints, GET and POST each, with `ui` for the consent
    /// page; merge it into the host's router.
    pub fn router<T>(&self, ui: impl ConsentUi) -> Router<T>
    where
        T: Clone + Send + Sync + 'static,
    {
        let endpoints = self.endpoints();
        let ui = Arc::new(ui);
        self.token_router().route(
            &self.paths.authorize,
            on(get_or_post(), move |request| {
                authorize(endpoints, ui, request)
            }),
        )
    }

    /// Only the two token endpoints (§2.1, §2.3), for a host that serves the
    /// authorize step itself with [`Provider::pending_authorization`],
    /// [`Provider::approve`] and [`Provider::deny`].
    pub fn token_router<T>(&self) -> Router<T>
    where
        T: Clone + Send + Sync + 'static,
    {
        let request_token = self.endpoints();
        let access_token = self.endpoints();
        Router::new()
            .route(
                &self.paths.request_token,
                on(get_or_post(), move |request| {
                    token_endpoint(request_token, TokenEndpoint::Request, request)
                }),
            )
            .route(
                &self.paths.access_token,
                on(get_or_post(), move |request| {
                    token_endpoint(access_token, TokenEndpoint::Access, request)
                }),
            )
    }

    /// The layer that gives the routes it wraps [`OAuthUser`],
    /// `Option<OAuthUser>` and [`OAuthConsumer`]: it refuses requests to
    /// origins not served here (400), buffers form-encoded bodies — and the
    /// body of any type of a request that names `oauth_body_hash` — up to the
    /// provider's `limits.max_form_body_bytes` (413 past it) and passes them
    /// on untouched, and verifies on demand. Handlers also find the
    /// request's [`ResolvedOrigin`] in its extensions
    /// (`Extension<ResolvedOrigin>`).
    ///
    /// Apply it to the whole app if you like: it touches the provider only
    /// when an extractor asks, so it never uses up the nonce of a request to
    /// the token endpoints.
    pub fn layer(&self) -> OAuthLayer {
        OAuthLayer {
            shared: Arc::new(LayerShared {
                authenticator: self.provider.clone(),
                realm: self.provider.config().realm.as_str().into(),
                site: self.site.clone(),
                body_limit: self.provider.config().limits.max_form_body_bytes,
            }),
        }
    }

    fn endpoints(&self) -> Arc<Endpoints<S, N>> {
        Arc::new(Endpoints {
            provider: self.provider.clone(),
            site: self.site.clone(),
        })
    }
}

fn get_or_post() -> MethodFilter {
    MethodFilter::GET.or(MethodFilter::POST)
}

/// Where this app is served: what decides a request's origin.
#[derive(Debug, Clone)]
struct Site {
    origins: OriginPolicy,
    https: bool,
}

impl Site {
    fn resolve(&self, parts: &Parts) -> Result<ResolvedOrigin, OriginError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let header = |name: HeaderName| header_str(&parts.headers, name);
        // Looked up only when they could count.
        let forwarding = |name: &'static str| {
            (self.origins.trusts(peer))
                .then(|| header(HeaderName::from_static(name)))
                .flatten()
        };
        let headers = OriginHeaders {
            // HTTP/2 carries the authority in the URI, not a Host header.
            host: header(header::HOST).or_else(|| parts.uri.authority().map(|a| a.as_str())),
            forwarded: forwarding("forwarded"),
            x_forwarded_proto: forwarding("x-forwarded-proto"),
            x_forwarded_host: forwarding("x-forwarded-host"),
        };
        let scheme = if self.https { "https" } else { "http" };
        self.origins.resolve(scheme, &headers, peer)
    }
}

struct Endpoints<S, N> {
    provider: Arc<Provider<S, N>>,
    site: Site,
}

#[derive(Clone, Copy)]
enum TokenEndpoint {
    Request,
    Access,
}

/// The raw request target as the client sent it: the original URI's path
/// and query, before a `nest` stripped a prefix.
fn raw_target(parts: &Parts) -> &str {
    let uri: &Uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    uri.path_and_query().map_or("/", |pq| pq.as_str())
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The neutral view of a request whose origin is resolved.
fn request_view<'a>(parts: &'a Parts, origin: &'a ResolvedOrigin, form: &'a [u8]) -> Request<'a> {
    let content_type = header_str(&parts.headers, header::CONTENT_TYPE);
    Request::new(
        parts.method.as_str(),
        &origin.scheme,
        &origin.authority,
        raw_target(parts),
    )
    .authorization(header_str(&parts.headers, header::AUTHORIZATION))
    .form_body(content_type, form)
}

/// Reads the body only if it is `application/x-www-form-urlencoded` — or,
/// with `hashed`, of any type when the request names `oauth_body_hash` — up
/// to `limit` bytes: 413 past it, 400 if it cannot be read. Empty for a
/// body left unread.
async fn read_form_body(
    parts: &Parts,
    body: Body,
    limit: usize,
    hashed: bool,
) -> Result<Bytes, AxumResponse> {
    match body_plan(parts, body, limit, hashed) {
        BodyPlan::Leave(_) => Ok(Bytes::new()),
        BodyPlan::Read(body) => read_body(body, limit).await,
        BodyPlan::TooLarge => Err(too_large()),
    }
}

/// What [`read_form_body`] decides before reading anything.
enum BodyPlan {
    /// Not a form (nor hashed): passed on unread.
    Leave(Body),
    /// To be read whole.
    Read(Body),
    /// Declared longer than the limit: refused (413) unread.
    TooLarge,
}

/// [`read_form_body`]'s decision, taken without waiting: which bodies to
/// read, and which are declared longer than `limit`.
fn body_plan(parts: &Parts, body: Body, limit: usize, hashed: bool) -> BodyPlan {
    // No body at all (a GET): nothing to read, no header to look at.
    if ::axum::body::HttpBody::is_end_stream(&body) {
        return BodyPlan::Leave(body);
    }
    let headers = &parts.headers;
    let hashed = hashed
        && crate::adapters::signed::names_body_hash(
            header_str(headers, header::AUTHORIZATION),
            raw_target(parts),
        );
    if !hashed && !header_str(headers, header::CONTENT_TYPE).is_some_and(is_form_urlencoded) {
        return BodyPlan::Leave(body);
    }
    let declared = header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return BodyPlan::TooLarge;
    }
    BodyPlan::Read(body)
}

/// Reads a whole body of at most `limit` bytes: 413 past it, 400 if it
/// cannot be read.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, AxumResponse> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(_) => Err(plain(
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )),
    }
}

fn too_large() -> AxumResponse {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The form body is larger than this site accepts.",
    )
}

fn plain(status: StatusCode, text: &'static str) -> AxumResponse {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// The answer to a request for an origin not served here.
fn misdirected(error: &OriginError) -> AxumResponse {
    tracing::info!(%error, "request refused: origin not served here");
    plain(
        StatusCode::BAD_REQUEST,
        "This site is not served at this address.",
    )
}

/// Turns the neutral response into axum's.
impl IntoResponse for Response {
    fn into_response(self) -> AxumResponse {
        let mut out = AxumResponse::new(Body::from(self.body));
        *out.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in self.headers {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                (Ok(name), Ok(value)) => {
                    out.headers_mut().append(name, value);
                }
                _ => tracing::warn!(header = name, "dropped a response header that is not valid"),
            }
        }
        out
    }
}

async fn token_endpoint<S: TokenStore + 'static, N: NonceStore + 'static>(
    endpoints: Arc<Endpoints<S, N>>,
    which: TokenEndpoint,
    request: ::axum::extract::Request,
) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let origin = match endpoints.site.resolve(&parts) {
        Ok(origin) => origin,
        Err(e) => return misdirected(&e),
    };
    let limit = endpoints.provider.config().limits.max_form_body_bytes;
    let form = match read_form_body(&parts, body, limit, true).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let view = request_view(&parts, &origin, &form);
    match which {
        TokenEndpoint::Request => endpoints.provider.request_token(&view).await,
        TokenEndpoint::Access => endpoints.provider.access_token(&view).await,
    }
    .into_response()
}

/// The authorize endpoint (§2.2): consent page on GET, the answer on POST,
/// by [`crate::consent::authorize_step`].
async fn authorize<S, N, U>(
    endpoints: Arc<Endpoints<S, N>>,
    ui: Arc<U>,
    request: ::axum::extract::Request,
) -> AxumResponse
where
    S: TokenStore + 'static,
    N: NonceStore + 'static,
    U: ConsentUi,
{
    let (parts, body) = request.into_parts();
    let origin = match endpoints.site.resolve(&parts) {
        Ok(origin) => origin,
        Err(e) => return misdirected(&e),
    };
    let form = if parts.method == Method::POST {
        match read_form_body(
            &parts,
            body,
            crate::adapters::pages::MAX_CONSENT_FORM_BYTES,
            false,
        )
        .await
        {
            Ok(form) => form,
            Err(response) => return response,
        }
    } else {
        Bytes::new()
    };
    let request = AuthorizeRequest {
        method: parts.method.as_str(),
        origin: &origin,
        target: raw_target(&parts),
        form: &form,
    };
    let (parts, ui) = (&parts, &*ui);
    let step = crate::adapters::authorize::authorize_step(
        &endpoints.provider,
        request,
        |return_to| async move { ui.signed_in(parts, &return_to).await },
        |page| ui.render(page),
    )
    .await;
    match step {
        Ok(response) => response.into_response(),
        // The host's answer for a visitor who is not signed in.
        Err(response) => with_security_headers(response),
    }
}

/// Adds the page security headers an axum response lacks.
fn with_security_headers(mut response: AxumResponse) -> AxumResponse {
    let headers = response.headers_mut();
    for (name, value) in crate::adapters::pages::PAGE_SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// Authenticates a request on a type-erased provider.
trait Authenticate: Send + Sync + 'static {
    fn authenticate<'a>(
        &'a self,
        request: &'a Request<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<OAuthContext, OAuthError>> + Send + 'a>>;

    fn is_development(&self) -> bool;
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> Authenticate for Provider<S, N> {
    fn authenticate<'a>(
        &'a self,
        request: &'a Request<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<OAuthContext, OAuthError>> + Send + 'a>> {
        // Borrowed, not moved in: the boxed future is only the provider's,
        // small enough for the allocator's per-thread cache.
        Box::pin(Provider::authenticate(self, request))
    }

    fn is_development(&self) -> bool {
        Provider::is_development(self)
    }
}

struct LayerShared {
    authenticator: Arc<dyn Authenticate>,
    realm: Arc<str>,
    site: Site,
    body_limit: usize,
}

/// The verifying layer: see [`OAuth::layer`].
#[derive(Clone)]
pub struct OAuthLayer {
    shared: Arc<LayerShared>,
}

impl std::fmt::Debug for OAuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthLayer")
            .field("origins", &self.shared.site.origins)
            .field("body_limit", &self.shared.body_limit)
            .finish_non_exhaustive()
    }
}

impl<I> Layer<I> for OAuthLayer {
    type Service = OAuthService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        OAuthService {
            shared: self.shared.clone(),
            inner,
        }
    }
}

/// The service [`OAuthLayer`] wraps around the host's routes.
#[derive(Clone)]
pub struct OAuthService<I> {
    shared: Arc<LayerShared>,
    inner: I,
}

impl<I> std::fmt::Debug for OAuthService<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthService").finish_non_exhaustive()
    }
}

impl<I> Service<::axum::extract::Request> for OAuthService<I>
where
    I: Service<::axum::extract::Request, Error = Infallible> + Clone + Send + 'static,
    I::Response: IntoResponse,
    I::Future: Send + 'static,
{
    type Response = AxumResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<AxumResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: ::axum::extract::Request) -> Self::Future {
        // The clone is not ready; call the one that is (tower's usual dance).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let (parts, body) = request.into_parts();
        let origin = match self.shared.site.resolve(&parts) {
            Ok(origin) => origin,
            Err(e) => return Box::pin(std::future::ready(Ok(misdirected(&e)))),
        };
        let limit = self.shared.body_limit;
        match body_plan(&parts, body, limit, true) {
            BodyPlan::TooLarge => Box::pin(std::future::ready(Ok(too_large()))),
            // Nearly every protected request (a GET): nothing to wait for
            // before the inner service, so the boxed future is only its.
            BodyPlan::Leave(body) => {
                let request = with_verdict(&self.shared, parts, origin, body, Bytes::new());
                let response = inner.call(request);
                Box::pin(async move { Ok(response.await.into_response()) })
            }
            BodyPlan::Read(body) => {
                let shared = self.shared.clone();
                Box::pin(async move {
                    let form = match read_body(body, limit).await {
                        Ok(form) => form,
                        Err(response) => return Ok(response),
                    };
                    let body = Body::from(form.clone());
                    let request = with_verdict(&shared, parts, origin, body, form);
                    Ok(inner.call(request).await.into_response())
                })
            }
        }
    }
}

/// The request rebuilt for the inner service, with its (not yet computed)
/// OAuth verdict and its origin in its extensions.
fn with_verdict(
    shared: &LayerShared,
    mut parts: Parts,
    origin: ResolvedOrigin,
    body: Body,
    form: Bytes,
) -> ::axum::extract::Request {
    let verdict = Verdict::new(shared, &parts, &origin, form);
    parts.extensions.insert(verdict);
    parts.extensions.insert(origin);
    ::axum::extract::Request::from_parts(parts, body)
}

struct VerdictInner {
    authenticator: Arc<dyn Authenticate>,
    realm: Arc<str>,
    request: SignedParts,
    /// Whether the request carries OAuth credentials at all.
    signed: bool,
    result: tokio::sync::OnceCell<Result<Arc<OAuthContext>, OAuthError>>,
}

/// The request's OAuth verdict, computed on first use and kept in the
/// request's extensions.
#[derive(Clone)]
struct Verdict(Arc<VerdictInner>);

impl Verdict {
    fn new(shared: &LayerShared, parts: &Parts, origin: &ResolvedOrigin, form: Bytes) -> Self {
        let request = SignedParts::new(
            parts.method.as_str(),
            origin,
            raw_target(parts),
            header_str(&parts.headers, header::AUTHORIZATION),
            header_str(&parts.headers, header::CONTENT_TYPE),
            form,
        );
        let signed = shared.authenticator.is_development()
            || crate::adapters::signed::carries_oauth_credentials(
                request.authorization(),
                request.query(),
                Some(request.form()),
            );
        Self(Arc::new(VerdictInner {
            authenticator: shared.authenticator.clone(),
            realm: shared.realm.clone(),
            request,
            signed,
            result: tokio::sync::OnceCell::new(),
        }))
    }

    async fn get(&self) -> Result<&Arc<OAuthContext>, OAuthRejection> {
        let inner = &self.0;
        let result = inner
            .result
            .get_or_init(|| async {
                let view = inner.request.request();
                inner.authenticator.authenticate(&view).await.map(Arc::new)
            })
            .await;
        result.as_ref().map_err(|e| self.rejection(e.clone()))
    }

    fn rejection(&self, error: OAuthError) -> OAuthRejection {
        OAuthRejection(Rejection::Refused {
            error,
            realm: self.0.realm.clone(),
        })
    }

    fn from_parts(parts: &Parts) -> Result<Self, OAuthRejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(OAuthRejection(Rejection::MissingLayer))
    }
}

/// The user behind a signed request with an access token (App Engine's
/// `get_current_user`), as a handler argument. Needs [`OAuth::layer`].
///
/// As `OAuthUser`, an unsigned or refused request gets the provider's
/// 400/401/503 answer with `WWW-Authenticate: OAuth realm="…",
/// oauth_problem="…"`. As `Option<OAuthUser>`, a request carrying no OAuth
/// credentials at all gives `None`; one that carries them but is refused
/// still gets the refusal.
#[derive(Debug, Clone)]
pub struct OAuthUser {
    /// A context with a user: checked when the extractor ran.
    context: Arc<OAuthContext>,
}

impl OAuthUser {
    /// The user who authorized the token.
    pub fn get_current_user(&self) -> &User {
        (self.context.user()).expect("an OAuthUser is only extracted with a user")
    }

    /// Whether the user is an admin of the host app.
    pub fn is_current_user_admin(&self) -> bool {
        self.get_current_user().admin
    }

    /// The consumer key of the signed request.
    pub fn get_oauth_consumer_key(&self) -> &str {
        self.context.get_oauth_consumer_key()
    }

    /// The whole verdict (the access token used, …).
    pub fn context(&self) -> &OAuthContext {
        &self.context
    }
}

impl<T: Send + Sync> FromRequestParts<T> for OAuthUser {
    type Rejection = OAuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &T) -> Result<Self, Self::Rejection> {
        let verdict = Verdict::from_parts(parts)?;
        let context = verdict.get().await?;
        context
            .get_current_user()
            .map_err(|e| verdict.rejection(e))?;
        Ok(Self {
            context: Arc::clone(context),
        })
    }
}

impl<T: Send + Sync> OptionalFromRequestParts<T> for OAuthUser {
    type Rejection = OAuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &T,
    ) -> Result<Option<Self>, Self::Rejection> {
        if !Verdict::from_parts(parts)?.0.signed {
            return Ok(None);
        }
        <Self as FromRequestParts<T>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// The consumer behind a signed request, with or without a user (a
/// two-legged request has none), as a handler argument. Needs
/// [`OAuth::layer`]; refusals as for [`OAuthUser`].
#[derive(Debug, Clone)]
pub struct OAuthConsumer {
    context: Arc<OAuthContext>,
}

impl OAuthConsumer {
    /// The consumer key of the signed request.
    pub fn get_oauth_consumer_key(&self) -> &str {
        self.context.get_oauth_consumer_key()
    }

    /// The user who authorized the token (App Engine's `get_current_user`,
    /// as [`OAuthContext::get_current_user`]); a two-legged request has none:
    /// `NotAllowed`.
    pub fn get_current_user(&self) -> Result<&User, OAuthError> {
        self.context.get_current_user()
    }

    /// The whole verdict.
    pub fn context(&self) -> &OAuthContext {
        &self.context
    }
}

impl<T: Send + Sync> FromRequestParts<T> for OAuthConsumer {
    type Rejection = OAuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &T) -> Result<Self, Self::Rejection> {
        let verdict = Verdict::from_parts(parts)?;
        let context = verdict.get().await?.clone();
        Ok(Self { context })
    }
}

/// Why [`OAuthUser`] or [`OAuthConsumer`] could not be extracted: the
/// provider refused the request (answered as it says), or the route is not
/// under [`OAuth::layer`] (500, a bug in the host).
#[derive(Debug)]
pub struct OAuthRejection(Rejection);

#[derive(Debug)]
enum Rejection {
    Refused { error: OAuthError, realm: Arc<str> },
    MissingLayer,
}

impl OAuthRejection {
    /// The provider's refusal; `None` when the layer is missing.
    pub fn error(&self) -> Option<&OAuthError> {
        match &self.0 {
            Rejection::Refused { error, .. } => Some(error),
            Rejection::MissingLayer => None,
        }
    }
}

impl std::fmt::Display for OAuthRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Rejection::Refused { error, .. } => std::fmt::Display::fmt(error, f),
            Rejection::MissingLayer => f.write_str("the route is not under the OAuth layer"),
        }
    }
}

impl std::error::Error for OAuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Rejection::Refused { error, .. } => Some(error),
            Rejection::MissingLayer => None,
        }
    }
}

impl IntoResponse for OAuthRejection {
    fn into_response(self) -> AxumResponse {
        match self.0 {
            Rejection::Refused { error, realm } => error.to_response(&realm).into_response(),
            Rejection::MissingLayer => {
                tracing::error!(
                    "OAuthUser/OAuthConsumer used on a route without OAuth::layer(); add the layer"
                );
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server is misconfigured.",
                )
            }
        }
    }
}
