//! The endpoints as an actix-web service factory, and the neutral
//! [`Response`] as an actix-web response.

use std::sync::Arc;

use ::actix_web::body::BodyStream;
use ::actix_web::dev::{AppService, HttpServiceFactory, Payload};
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{HeaderName, HeaderValue};
use ::actix_web::{HttpRequest, HttpResponse, Responder, web};
use bytes::Bytes;

use super::ConsentUi;
use crate::adapters::authorize::{AuthorizeMode, EndpointPaths};
use crate::adapters::head::{
    BodyPlan, missing_security_headers, too_large, typed_headers, unreadable,
};
use crate::adapters::oauth::{OAuth, TokenEndpoint};
use crate::protocol::response::Response;
use crate::store::{NonceStore, TokenStore};

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// The endpoints of [`EndpointPaths`], GET and POST each, with `ui` for
    /// the consent page: `App::new().service(oauth.endpoints(ui))`. Clone it into each
    /// worker's `App` (feature `actix`).
    pub fn endpoints(&self, ui: impl ConsentUi) -> OAuthEndpoints<S, N> {
        let ui = Arc::new(ui);
        let register: RegisterAuthorize<S, N> = Arc::new(move |oauth, mode, path, config| {
            register_authorize(oauth, ui.clone(), mode, path, config)
        });
        OAuthEndpoints {
            oauth: self.clone(),
            authorize: Some(register),
        }
    }

    /// Only the two token endpoints (§2.1, §2.3) and the identity endpoint,
    /// for a host that serves the authorize step itself with
    /// [`Provider::pending_authorization`](crate::Provider::pending_authorization),
    /// [`Provider::approve`](crate::Provider::approve) and
    /// [`Provider::deny`](crate::Provider::deny) (feature `actix`).
    pub fn token_endpoints(&self) -> OAuthEndpoints<S, N> {
        OAuthEndpoints {
            oauth: self.clone(),
            authorize: None,
        }
    }
}

/// Registers the authorize endpoint (or the authenticate endpoint) with the
/// host's (type-erased) consent UI.
type RegisterAuthorize<S, N> =
    Arc<dyn Fn(&OAuth<S, N>, AuthorizeMode, &str, &mut AppService) + Send + Sync>;

/// The endpoints as an actix service factory: see [`OAuth::endpoints`].
pub struct OAuthEndpoints<S, N = S> {
    oauth: OAuth<S, N>,
    authorize: Option<RegisterAuthorize<S, N>>,
}

impl<S, N> Clone for OAuthEndpoints<S, N> {
    fn clone(&self) -> Self {
        Self {
            oauth: self.oauth.clone(),
            authorize: self.authorize.clone(),
        }
    }
}

impl<S, N> std::fmt::Debug for OAuthEndpoints<S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthEndpoints")
            .field("paths", &self.oauth.paths)
            .field("authorize", &self.authorize.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> HttpServiceFactory for OAuthEndpoints<S, N> {
    fn register(self, config: &mut AppService) {
        let EndpointPaths {
            request_token,
            access_token,
            authorize,
            authenticate,
            identify,
        } = &self.oauth.paths;
        for (path, which) in [
            (request_token, TokenEndpoint::Request),
            (access_token, TokenEndpoint::Access),
            (identify, TokenEndpoint::Identify),
        ] {
            let oauth = self.oauth.clone();
            get_and_post(path, config, move |request, payload| {
                token_endpoint(oauth.clone(), which, request, payload)
            });
        }
        if let Some(register) = &self.authorize {
            register(&self.oauth, AuthorizeMode::Authorize, authorize, config);
            register(&self.oauth, AuthorizeMode::SignIn, authenticate, config);
        }
    }
}

/// Mounts `handler` at `path` for GET and POST.
fn get_and_post<F, Fut>(path: &str, config: &mut AppService, handler: F)
where
    F: Fn(HttpRequest, Payload) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = HttpResponse> + 'static,
{
    let handler =
        move |request: HttpRequest, payload: web::Payload| handler(request, payload.into_inner());
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::post().to(handler))
        .register(config);
}

fn register_authorize<S, N, U>(
    oauth: &OAuth<S, N>,
    ui: Arc<U>,
    mode: AuthorizeMode,
    path: &str,
    config: &mut AppService,
) where
    S: TokenStore + 'static,
    N: NonceStore + 'static,
    U: ConsentUi,
{
    let oauth = oauth.clone();
    get_and_post(path, config, move |request, payload| {
        authorize(oauth.clone(), ui.clone(), mode, request, payload)
    });
}

/// Reads the body `plan` says to read, up to `limit` bytes: 413 past it,
/// 400 if it cannot be read; `None` for a body left unread.
pub(super) async fn read_planned(
    plan: BodyPlan,
    payload: &mut Payload,
    limit: usize,
) -> Result<Option<Bytes>, Response> {
    match plan {
        BodyPlan::Leave => Ok(None),
        BodyPlan::TooLarge => Err(too_large()),
        BodyPlan::Read => {
            let stream = BodyStream::new(payload.take());
            match ::actix_web::body::to_bytes_limited(stream, limit).await {
                Ok(Ok(bytes)) => Ok(Some(bytes)),
                Ok(Err(_)) => Err(unreadable()),
                Err(_limit_exceeded) => Err(too_large()),
            }
        }
    }
}

async fn token_endpoint<S: TokenStore + 'static, N: NonceStore + 'static>(
    oauth: OAuth<S, N>,
    which: TokenEndpoint,
    request: HttpRequest,
    mut payload: Payload,
) -> HttpResponse {
    let read = async |plan, limit| {
        read_planned(plan, &mut payload, limit)
            .await
            .map(Option::unwrap_or_default)
    };
    (oauth.token_endpoint(which, &request, true, read).await).into()
}

/// The authorize endpoint (§2.2): consent page on GET, the answer on POST,
/// by [`crate::consent::authorize_step`] — or the authenticate endpoint, by
/// [`crate::consent::authenticate_step`].
async fn authorize<S, N, U>(
    oauth: OAuth<S, N>,
    ui: Arc<U>,
    mode: AuthorizeMode,
    request: HttpRequest,
    mut payload: Payload,
) -> HttpResponse
where
    S: TokenStore + 'static,
    N: NonceStore + 'static,
    U: ConsentUi,
{
    let (ui, request) = (&*ui, &request);
    let signed_in = |return_to: String| async move { ui.signed_in(request, &return_to).await };
    let read = async |plan, limit| {
        let form = read_planned(plan, &mut payload, limit).await?;
        Ok(form.unwrap_or_default())
    };
    let step =
        oauth.authorize_endpoint(mode, request, true, read, signed_in, |page| ui.render(page));
    step.await
        .map_or_else(with_page_headers, HttpResponse::from)
}

/// The host's answer for a visitor who is not signed in, with the page
/// security headers it lacks.
fn with_page_headers(mut sign_in: HttpResponse) -> HttpResponse {
    let headers = sign_in.headers_mut();
    let missing = missing_security_headers(|name| headers.contains_key(name));
    for (name, value) in missing {
        let name = HeaderName::from_static(name);
        headers.insert(name, HeaderValue::from_static(value));
    }
    sign_in
}

/// Turns the neutral response into actix's; a header that is not valid is
/// dropped (and logged).
impl From<Response> for HttpResponse {
    fn from(response: Response) -> Self {
        let status =
            StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut out = HttpResponse::with_body(status, response.body).map_into_boxed_body();
        let headers = typed_headers(
            response.headers,
            |name| HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str,
        );
        for (name, value) in headers {
            out.headers_mut().append(name, value);
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
