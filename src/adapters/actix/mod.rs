//! The actix-web 4 adapter (feature `actix`): mount the three endpoints,
//! verify signed requests to the host's own handlers, and hand them the user.
//! The same capabilities as the axum adapter, on the same framework-neutral
//! core ([`Provider`], [`crate::consent`]).
//!
//! - [`OAuth::endpoints`] is a service factory for App Engine's three
//!   endpoints (GET and POST, paths from [`EndpointPaths`]): pass it to
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
//!   [`Provider::authenticate`] (§3), and the verdict is kept in the
//!   request's extensions for the rest of the request; routes that never ask
//!   cost no store call and use no nonce.
//!
//! The request's origin (scheme and host, what signatures cover and tokens
//! are bound to) comes from the [`OriginPolicy`]: configured public origins,
//! `Forwarded` / `X-Forwarded-*` only from trusted proxies (the peer is
//! `HttpRequest::peer_addr`). The request target is `HttpRequest::uri()`,
//! path and query as received, whatever scope the route is in.
//!
//! ```no_run
//! use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::header, web};
//! use oauth1_provider::actix::{ConsentUi, OAuth, OAuthUser, SignedIn};
//! use oauth1_provider::{ConsumerRegistry, MemoryStore, OriginPolicy, Provider, ProviderConfig};
//!
//! struct Consent;
//! impl ConsentUi for Consent {
//!     async fn signed_in(&self, request: &HttpRequest, return_to: &str) -> Result<SignedIn, HttpResponse> {
//!         // Ask the host's own session; send strangers to the login page.
//!         let _ = request;
//!         let login = format!("/login?next={}", oauth1_provider::protocol::percent_encode(return_to));
//!         Err(HttpResponse::SeeOther().insert_header((header::LOCATION, login)).finish())
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
//! let (endpoints, middleware) = (oauth.endpoints(Consent), oauth.middleware());
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/api/whoami", web::route().to(whoami))
//!         .service(endpoints.clone())
//!         .wrap(middleware.clone())
//! })
//! .bind("127.0.0.1:8080")?
//! .run()
//! .await
//! # }
//! ```

use std::cell::RefCell;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ::actix_web::body::{BodyStream, EitherBody, MessageBody};
use ::actix_web::dev::{
    AppService, HttpServiceFactory, Payload, Service, ServiceRequest, ServiceResponse, Transform,
    forward_ready,
};
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use ::actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, Responder, ResponseError, web,
};
use bytes::Bytes;

pub use crate::adapters::authorize::{EndpointPaths, SignedIn};

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
    fn render(&self, page: &AuthorizePage<'_>) -> Response {
        crate::adapters::pages::render_page(page)
    }
}

/// The actix-web adapter for a [`Provider`]: builds the endpoints' service
/// factory and the verifying middleware. Cheap to clone.
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

/// What the endpoints share: the provider and where the app is served.
struct Shared<S, N> {
    provider: Arc<Provider<S, N>>,
    site: Site,
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// An adapter for `provider` (a `Provider` or an `Arc<Provider>`), with
    /// the default paths, accepting the `Host` header as sent until
    /// [`OAuth::origins`] says which origins are served.
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

    /// Treat every connection as `https`. Defaults to false: the scheme is
    /// `https` only on a listener actix itself serves with TLS
    /// (`AppConfig::secure`). Behind a TLS-terminating proxy, trust the proxy
    /// in the [`OriginPolicy`] instead.
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
    pub fn resolve_origin(&self, request: &HttpRequest) -> Result<ResolvedOrigin, OriginError> {
        self.site.resolve(request)
    }

    /// The three endpoints, GET and POST each, with `ui` for the consent
    /// page: `App::new().service(oauth.endpoints(ui))`. Clone it into each
    /// worker's `App`.
    pub fn endpoints(&self, ui: impl ConsentUi) -> OAuthEndpoints<S, N> {
        let ui = Arc::new(ui);
        let register: RegisterAuthorize<S, N> = Arc::new(move |shared, path, config| {
            register_authorize(shared, ui.clone(), path, config)
        });
        OAuthEndpoints {
            shared: self.shared(),
            paths: self.paths.clone(),
            authorize: Some(register),
        }
    }

    /// Only the two token endpoints (§2.1, §2.3), for a host that serves the
    /// authorize step itself with [`Provider::pending_authorization`],
    /// [`Provider::approve`] and [`Provider::deny`].
    pub fn token_endpoints(&self) -> OAuthEndpoints<S, N> {
        OAuthEndpoints {
            shared: self.shared(),
            paths: self.paths.clone(),
            authorize: None,
        }
    }

    /// The middleware that gives the routes it wraps [`OAuthUser`],
    /// [`MaybeOAuthUser`] and [`OAuthConsumer`]: it refuses requests to
    /// origins not served here (400), reads form-encoded bodies — and the
    /// body of any type of a request that names `oauth_body_hash` — up to the
    /// provider's `limits.max_form_body_bytes` (413 past it) and puts them
    /// back untouched, and verifies on demand. Handlers also find the
    /// request's [`ResolvedOrigin`] in its extensions
    /// (`web::ReqData<ResolvedOrigin>`).
    ///
    /// Wrap the whole app if you like: it touches the provider only when an
    /// extractor asks, so it never uses up the nonce of a request to the
    /// token endpoints.
    pub fn middleware(&self) -> OAuthMiddleware {
        let provider = &self.provider;
        OAuthMiddleware {
            shared: Arc::new(MiddlewareShared {
                authenticator: provider.clone(),
                realm: provider.config().realm.as_str().into(),
                site: self.site.clone(),
                body_limit: provider.config().limits.max_form_body_bytes,
            }),
        }
    }

    fn shared(&self) -> Arc<Shared<S, N>> {
        Arc::new(Shared {
            provider: self.provider.clone(),
            site: self.site.clone(),
        })
    }
}

/// Registers the authorize endpoint with the host's (type-erased) consent UI.
type RegisterAuthorize<S, N> = Arc<dyn Fn(&Arc<Shared<S, N>>, &str, &mut AppService) + Send + Sync>;

/// The endpoints as an actix service factory: see [`OAuth::endpoints`].
pub struct OAuthEndpoints<S, N = S> {
    shared: Arc<Shared<S, N>>,
    paths: EndpointPaths,
    authorize: Option<RegisterAuthorize<S, N>>,
}

impl<S, N> Clone for OAuthEndpoints<S, N> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            paths: self.paths.clone(),
            authorize: self.authorize.clone(),
        }
    }
}

impl<S, N> std::fmt::Debug for OAuthEndpoints<S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthEndpoints")
            .field("paths", &self.paths)
            .field("authorize", &self.authorize.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> HttpServiceFactory for OAuthEndpoints<S, N> {
    fn register(self, config: &mut AppService) {
        for (path, which) in [
            (&self.paths.request_token, TokenEndpoint::Request),
            (&self.paths.access_token, TokenEndpoint::Access),
        ] {
            let shared = self.shared.clone();
            let handler = move |request: HttpRequest, payload: web::Payload| {
                token_endpoint(shared.clone(), which, request, payload.into_inner())
            };
            web::resource(path.as_str())
                .route(web::get().to(handler.clone()))
                .route(web::post().to(handler))
                .register(config);
        }
        if let Some(register) = &self.authorize {
            register(&self.shared, &self.paths.authorize, config);
        }
    }
}

fn register_authorize<S, N, U>(
    shared: &Arc<Shared<S, N>>,
    ui: Arc<U>,
    path: &str,
    config: &mut AppService,
) where
    S: TokenStore + 'static,
    N: NonceStore + 'static,
    U: ConsentUi,
{
    let shared = shared.clone();
    let handler = move |request: HttpRequest, payload: web::Payload| {
        authorize(shared.clone(), ui.clone(), request, payload.into_inner())
    };
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::post().to(handler))
        .register(config);
}

/// Where this app is served: what decides a request's origin.
#[derive(Debug, Clone)]
struct Site {
    origins: OriginPolicy,
    https: bool,
}

impl Site {
    fn resolve(&self, request: &HttpRequest) -> Result<ResolvedOrigin, OriginError> {
        let header = |name: &str| header_str(request.headers(), name);
        let uri = request.uri();
        let peer = request.peer_addr().map(|addr| addr.ip());
        // Looked up only when they could count.
        let forwarding = |name| self.origins.trusts(peer).then(|| header(name)).flatten();
        let headers = OriginHeaders {
            // HTTP/2 carries the authority in the URI, not a Host header.
            host: header("host").or_else(|| uri.authority().map(|a| a.as_str())),
            forwarded: forwarding("forwarded"),
            x_forwarded_proto: forwarding("x-forwarded-proto"),
            x_forwarded_host: forwarding("x-forwarded-host"),
        };
        let scheme = if self.https || request.app_config().secure() {
            "https"
        } else {
            "http"
        };
        self.origins.resolve(scheme, &headers, peer)
    }
}

#[derive(Clone, Copy)]
enum TokenEndpoint {
    Request,
    Access,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The raw request target as the client sent it: path and query. actix
/// keeps the whole URI whatever scope matched.
fn raw_target(request: &HttpRequest) -> &str {
    request.uri().path_and_query().map_or("/", |pq| pq.as_str())
}

/// Reads the body only if it is `application/x-www-form-urlencoded` — or,
/// given the request target, of any type when the request names
/// `oauth_body_hash` — up to `limit` bytes: `None` for any other body (left
/// unread), 413 past the limit, 400 if it cannot be read.
async fn read_form_body(
    headers: &HeaderMap,
    payload: &mut Payload,
    limit: usize,
    hashed_target: Option<&str>,
) -> Result<Option<Bytes>, HttpResponse> {
    let hashed = hashed_target.is_some_and(|target| {
        crate::adapters::signed::names_body_hash(header_str(headers, "authorization"), target)
    });
    if !hashed && !header_str(headers, "content-type").is_some_and(is_form_urlencoded) {
        return Ok(None);
    }
    let declared = header_str(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let stream = BodyStream::new(payload.take());
    match ::actix_web::body::to_bytes_limited(stream, limit).await {
        Ok(Ok(bytes)) => Ok(Some(bytes)),
        Ok(Err(_)) => Err(plain(
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )),
        Err(_limit_exceeded) => Err(too_large()),
    }
}

fn too_large() -> HttpResponse {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The form body is larger than this site accepts.",
    )
}

fn plain(status: StatusCode, text: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(text)
}

/// The answer to a request for an origin not served here.
fn misdirected(error: &OriginError) -> HttpResponse {
    tracing::info!(%error, "request refused: origin not served here");
    plain(
        StatusCode::BAD_REQUEST,
        "This site is not served at this address.",
    )
}

/// Turns the neutral response into actix's; a header that is not valid is
/// dropped (and logged).
impl From<Response> for HttpResponse {
    fn from(response: Response) -> Self {
        let status =
            StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut out = HttpResponse::with_body(status, response.body).map_into_boxed_body();
        for (name, value) in response.headers {
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

/// A handler may return the neutral response (e.g. a page of
/// [`crate::consent::render_page`]).
impl Responder for Response {
    type Body = ::actix_web::body::BoxBody;

    fn respond_to(self, _request: &HttpRequest) -> HttpResponse {
        self.into()
    }
}

async fn token_endpoint<S: TokenStore + 'static, N: NonceStore + 'static>(
    shared: Arc<Shared<S, N>>,
    which: TokenEndpoint,
    request: HttpRequest,
    mut payload: Payload,
) -> HttpResponse {
    let origin = match shared.site.resolve(&request) {
        Ok(origin) => origin,
        Err(e) => return misdirected(&e),
    };
    let limit = shared.provider.config().limits.max_form_body_bytes;
    let target = Some(raw_target(&request));
    let form = match read_form_body(request.headers(), &mut payload, limit, target).await {
        Ok(form) => form.unwrap_or_default(),
        Err(response) => return response,
    };
    let headers = request.headers();
    let view = Request::new(
        request.method().as_str(),
        &origin.scheme,
        &origin.authority,
        raw_target(&request),
    )
    .authorization(header_str(headers, "authorization"))
    .form_body(header_str(headers, "content-type"), &form);
    match which {
        TokenEndpoint::Request => shared.provider.request_token(&view).await,
        TokenEndpoint::Access => shared.provider.access_token(&view).await,
    }
    .into()
}

/// The authorize endpoint (§2.2): consent page on GET, the answer on POST.
async fn authorize<S, N, U>(
    shared: Arc<Shared<S, N>>,
    ui: Arc<U>,
    request: HttpRequest,
    mut payload: Payload,
) -> HttpResponse
where
    S: TokenStore + 'static,
    N: NonceStore + 'static,
    U: ConsentUi,
{
    let origin = match shared.site.resolve(&request) {
        Ok(origin) => origin,
        Err(e) => return misdirected(&e),
    };
    let posted = request.method() == ::actix_web::http::Method::POST;
    let form = if posted {
        match read_form_body(
            request.headers(),
            &mut payload,
            crate::adapters::pages::MAX_CONSENT_FORM_BYTES,
            None,
        )
        .await
        {
            Ok(form) => form.unwrap_or_default(),
            Err(response) => return response,
        }
    } else {
        Bytes::new()
    };
    let step = AuthorizeRequest {
        method: request.method().as_str(),
        origin: &origin,
        target: raw_target(&request),
        form: &form,
    };
    let (ui, request) = (&*ui, &request);
    let outcome = crate::adapters::authorize::authorize_step(
        &shared.provider,
        step,
        |return_to| async move { ui.signed_in(request, &return_to).await },
        |page| ui.render(page),
    )
    .await;
    match outcome {
        Ok(response) => response.into(),
        Err(sign_in) => with_security_headers(sign_in),
    }
}

/// Adds the page security headers an actix response lacks.
fn with_security_headers(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    for (name, value) in crate::adapters::pages::PAGE_SECURITY_HEADERS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

// ------------------------------------------------------------ the middleware

/// Authenticates a request on a type-erased provider.
trait Authenticate: Send + Sync + 'static {
    fn authenticate<'a>(
        &'a self,
        request: &'a Request<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<OAuthContext, OAuthError>> + 'a>>;

    fn is_development(&self) -> bool;
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> Authenticate for Provider<S, N> {
    fn authenticate<'a>(
        &'a self,
        request: &'a Request<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<OAuthContext, OAuthError>> + 'a>> {
        // Borrowed, not moved in: the boxed future is only the provider's,
        // small enough for the allocator's per-thread cache.
        Box::pin(Provider::authenticate(self, request))
    }

    fn is_development(&self) -> bool {
        Provider::is_development(self)
    }
}

struct MiddlewareShared {
    authenticator: Arc<dyn Authenticate>,
    realm: Arc<str>,
    site: Site,
    body_limit: usize,
}

/// The verifying middleware: see [`OAuth::middleware`]. Cheap to clone.
#[derive(Clone)]
pub struct OAuthMiddleware {
    shared: Arc<MiddlewareShared>,
}

impl std::fmt::Debug for OAuthMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthMiddleware")
            .field("origins", &self.shared.site.origins)
            .field("body_limit", &self.shared.body_limit)
            .finish_non_exhaustive()
    }
}

impl<I, B> Transform<I, ServiceRequest> for OAuthMiddleware
where
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ::actix_web::Error;
    type Transform = OAuthMiddlewareService<I>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: I) -> Self::Future {
        ready(Ok(OAuthMiddlewareService {
            shared: self.shared.clone(),
            service: Rc::new(service),
        }))
    }
}

/// The service [`OAuthMiddleware`] wraps around the host's routes.
pub struct OAuthMiddlewareService<I> {
    shared: Arc<MiddlewareShared>,
    service: Rc<I>,
}

impl<I> std::fmt::Debug for OAuthMiddlewareService<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthMiddlewareService")
            .finish_non_exhaustive()
    }
}

impl<I, B> Service<ServiceRequest> for OAuthMiddlewareService<I>
where
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let shared = self.shared.clone();
        let service = self.service.clone();
        Box::pin(async move {
            let origin = match shared.site.resolve(request.request()) {
                Ok(origin) => origin,
                Err(e) => return Ok(request.into_response(misdirected(&e)).map_into_right_body()),
            };
            let mut payload = request.take_payload();
            let target = Some(raw_target(request.request()));
            let read = read_form_body(request.headers(), &mut payload, shared.body_limit, target);
            let form = match read.await {
                Ok(Some(bytes)) => {
                    // Hand the handler the very bytes that were signed.
                    request.set_payload(Payload::from(bytes.clone()));
                    bytes
                }
                Ok(None) => {
                    request.set_payload(payload);
                    Bytes::new()
                }
                Err(response) => {
                    return Ok(request.into_response(response).map_into_right_body());
                }
            };
            let verdict = Verdict::new(&shared, request.request(), &origin, form);
            request.extensions_mut().insert(verdict);
            request.extensions_mut().insert(origin);
            Ok(service.call(request).await?.map_into_left_body())
        })
    }
}

type VerdictFuture = Pin<Box<dyn Future<Output = Result<Arc<OAuthContext>, OAuthError>>>>;

/// Where the request's verification is: not asked yet, running (shared by
/// every extractor that asks meanwhile), or done.
enum VerdictState {
    NotAsked(Box<SignedParts>),
    Running {
        future: VerdictFuture,
        waiting: Vec<Waker>,
    },
    Done(Result<Arc<OAuthContext>, OAuthError>),
    /// Only while moving from `NotAsked` to `Running`.
    Moving,
}

struct VerdictInner {
    authenticator: Arc<dyn Authenticate>,
    realm: Arc<str>,
    /// Whether the request carries OAuth credentials at all.
    signed: bool,
    state: RefCell<VerdictState>,
}

/// The request's OAuth verdict, computed on first use and kept in the
/// request's extensions. actix runs a request on one thread, so it is an
/// `Rc`; its computation is a future shared by every extractor that asks.
#[derive(Clone)]
struct Verdict(Rc<VerdictInner>);

impl Verdict {
    fn new(
        shared: &MiddlewareShared,
        request: &HttpRequest,
        origin: &ResolvedOrigin,
        form: Bytes,
    ) -> Self {
        let headers = request.headers();
        let parts = SignedParts::new(
            request.method().as_str(),
            origin,
            raw_target(request),
            header_str(headers, "authorization"),
            header_str(headers, "content-type"),
            form,
        );
        let signed = shared.authenticator.is_development()
            || crate::adapters::signed::carries_oauth_credentials(
                parts.authorization(),
                parts.query(),
                Some(parts.form()),
            );
        Self(Rc::new(VerdictInner {
            authenticator: shared.authenticator.clone(),
            realm: shared.realm.clone(),
            signed,
            state: RefCell::new(VerdictState::NotAsked(Box::new(parts))),
        }))
    }

    fn of(request: &HttpRequest) -> Result<Self, OAuthRejection> {
        request
            .extensions()
            .get::<Self>()
            .cloned()
            .ok_or(OAuthRejection(Rejection::MissingMiddleware))
    }

    fn poll_verdict(&self, cx: &mut Context<'_>) -> Poll<Result<Arc<OAuthContext>, OAuthError>> {
        let mut state = self.0.state.borrow_mut();
        loop {
            match &mut *state {
                VerdictState::Done(result) => return Poll::Ready(result.clone()),
                VerdictState::NotAsked(_) => {
                    let VerdictState::NotAsked(parts) =
                        std::mem::replace(&mut *state, VerdictState::Moving)
                    else {
                        unreachable!("matched above")
                    };
                    let authenticator = self.0.authenticator.clone();
                    let future = Box::pin(async move {
                        let request = parts.request();
                        authenticator.authenticate(&request).await.map(Arc::new)
                    });
                    *state = VerdictState::Running {
                        future,
                        waiting: Vec::new(),
                    };
                }
                VerdictState::Running { future, waiting } => {
                    return match future.as_mut().poll(cx) {
                        Poll::Ready(result) => {
                            let waiting = std::mem::take(waiting);
                            *state = VerdictState::Done(result.clone());
                            drop(state);
                            waiting.into_iter().for_each(Waker::wake);
                            Poll::Ready(result)
                        }
                        Poll::Pending => {
                            // The future keeps only the latest waker: remember
                            // every asker to wake them all when it is done.
                            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                                waiting.push(cx.waker().clone());
                            }
                            Poll::Pending
                        }
                    };
                }
                VerdictState::Moving => unreachable!("never observed outside poll_verdict"),
            }
        }
    }

    async fn get(&self) -> Result<Arc<OAuthContext>, OAuthRejection> {
        std::future::poll_fn(|cx| self.poll_verdict(cx))
            .await
            .map_err(|e| self.rejection(e))
    }

    fn rejection(&self, error: OAuthError) -> OAuthRejection {
        OAuthRejection(Rejection::Refused {
            error,
            realm: self.0.realm.clone(),
        })
    }
}

// ------------------------------------------------------------ extractors

/// The user behind a signed request with an access token (App Engine's
/// `get_current_user`), as a handler argument. Needs [`OAuth::middleware`].
///
/// An unsigned or refused request gets the provider's 400/401/503 answer
/// with `WWW-Authenticate: OAuth realm="…", oauth_problem="…"`.
///
/// `Option<OAuthUser>` follows actix's own rule for optional extractors:
/// `None` whenever extraction fails, so a request that carries OAuth
/// credentials that are refused (a revoked token, a bad signature) is
/// `None` too, as an unsigned one. To answer those with the refusal and get
/// `None` only for requests that carry no OAuth credentials at all — the
/// axum adapter's `Option<OAuthUser>` — take [`MaybeOAuthUser`].
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

    async fn extract(verdict: Result<Verdict, OAuthRejection>) -> Result<Self, OAuthRejection> {
        let verdict = verdict?;
        let context = verdict.get().await?;
        context
            .get_current_user()
            .map_err(|e| verdict.rejection(e))?;
        Ok(Self { context })
    }
}

type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, OAuthRejection>>>>;

impl FromRequest for OAuthUser {
    type Error = OAuthRejection;
    type Future = Extraction<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Self::extract(Verdict::of(request)))
    }
}

/// The user behind a request if it carries OAuth credentials, `None` if it
/// carries none at all (no `OAuth` Authorization header, no `oauth_*`
/// parameter); a request that carries them but is refused gets the refusal,
/// as with [`OAuthUser`]. Needs [`OAuth::middleware`].
#[derive(Debug, Clone)]
pub struct MaybeOAuthUser(pub Option<OAuthUser>);

impl MaybeOAuthUser {
    /// The user, if the request was signed.
    pub fn into_inner(self) -> Option<OAuthUser> {
        self.0
    }
}

impl FromRequest for MaybeOAuthUser {
    type Error = OAuthRejection;
    type Future = Extraction<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verdict = Verdict::of(request);
        Box::pin(async move {
            match verdict {
                Ok(verdict) if !verdict.0.signed => Ok(Self(None)),
                verdict => OAuthUser::extract(verdict).await.map(|u| Self(Some(u))),
            }
        })
    }
}

/// The consumer behind a signed request, with or without a user (a
/// two-legged request has none), as a handler argument. Needs
/// [`OAuth::middleware`]; refusals as for [`OAuthUser`].
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

impl FromRequest for OAuthConsumer {
    type Error = OAuthRejection;
    type Future = Extraction<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verdict = Verdict::of(request);
        Box::pin(async move {
            let context = verdict?.get().await?;
            Ok(Self { context })
        })
    }
}

/// Why [`OAuthUser`], [`MaybeOAuthUser`] or [`OAuthConsumer`] could not be
/// extracted: the provider refused the request (answered as it says), or
/// the route is not wrapped in [`OAuth::middleware`] (500, a bug in the
/// host).
#[derive(Debug)]
pub struct OAuthRejection(Rejection);

#[derive(Debug)]
enum Rejection {
    Refused { error: OAuthError, realm: Arc<str> },
    MissingMiddleware,
}

impl OAuthRejection {
    /// The provider's refusal; `None` when the middleware is missing.
    pub fn error(&self) -> Option<&OAuthError> {
        match &self.0 {
            Rejection::Refused { error, .. } => Some(error),
            Rejection::MissingMiddleware => None,
        }
    }
}

impl std::fmt::Display for OAuthRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Rejection::Refused { error, .. } => std::fmt::Display::fmt(error, f),
            Rejection::MissingMiddleware => {
                f.write_str("the route is not wrapped in the OAuth middleware")
            }
        }
    }
}

impl std::error::Error for OAuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Rejection::Refused { error, .. } => Some(error),
            Rejection::MissingMiddleware => None,
        }
    }
}

impl ResponseError for OAuthRejection {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            Rejection::Refused { error, .. } => {
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Rejection::MissingMiddleware => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.0 {
            Rejection::Refused { error, realm } => error.to_response(realm).into(),
            Rejection::MissingMiddleware => {
                tracing::error!(
                    "OAuthUser/OAuthConsumer used on a route without OAuth::middleware(); wrap it"
                );
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server is misconfigured.",
                )
            }
        }
    }
}
