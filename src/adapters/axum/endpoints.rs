//! The endpoints as an axum `Router`, and the neutral [`Response`]
//! as an axum response.

use std::sync::Arc;

use ::axum::Router;
use ::axum::body::Body;
use ::axum::response::IntoResponse;
use ::axum::routing::{MethodFilter, on};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use super::{AxumResponse, ConsentUi};
use crate::adapters::authorize::AuthorizeMode;
use crate::adapters::head::{
    BodyPlan, missing_security_headers, too_large, typed_headers, unreadable,
};
use crate::adapters::oauth::{OAuth, TokenEndpoint};
use crate::protocol::response::Response;
use crate::store::{NonceStore, TokenStore};

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// The endpoints of [`EndpointPaths`](crate::consent::EndpointPaths),
    /// GET and POST each, with `ui` for the consent page; merge it into the
    /// host's router (feature `axum`).
    pub fn router<T>(&self, ui: impl ConsentUi) -> Router<T>
    where
        T: Clone + Send + Sync + 'static,
    {
        let ui = Arc::new(ui);
        let (oauth, sign_in, ui_too) = (self.clone(), self.clone(), ui.clone());
        self.token_router()
            .route(
                &self.paths.authorize,
                on(get_or_post(), move |request| {
                    authorize(oauth.clone(), ui.clone(), AuthorizeMode::Authorize, request)
                }),
            )
            .route(
                &self.paths.authenticate,
                on(get_or_post(), move |request| {
                    authorize(
                        sign_in.clone(),
                        ui_too.clone(),
                        AuthorizeMode::SignIn,
                        request,
                    )
                }),
            )
    }

    /// Only the two token endpoints (§2.1, §2.3) and the identity endpoint,
    /// for a host that serves the authorize step itself with
    /// [`Provider::pending_authorization`](crate::Provider::pending_authorization),
    /// [`Provider::approve`](crate::Provider::approve) and
    /// [`Provider::deny`](crate::Provider::deny) (feature `axum`).
    pub fn token_router<T>(&self) -> Router<T>
    where
        T: Clone + Send + Sync + 'static,
    {
        let (request_token, access_token) = (self.clone(), self.clone());
        let identify = self.clone();
        Router::new()
            .route(
                &self.paths.request_token,
                on(get_or_post(), move |request| {
                    token_endpoint(request_token.clone(), TokenEndpoint::Request, request)
                }),
            )
            .route(
                &self.paths.access_token,
                on(get_or_post(), move |request| {
                    token_endpoint(access_token.clone(), TokenEndpoint::Access, request)
                }),
            )
            .route(
                &self.paths.identify,
                on(get_or_post(), move |request| {
                    token_endpoint(identify.clone(), TokenEndpoint::Identify, request)
                }),
            )
    }
}

fn get_or_post() -> MethodFilter {
    MethodFilter::GET.or(MethodFilter::POST)
}

/// Reads the body `plan` says to read, up to `limit` bytes: 413 past it, 400
/// if it cannot be read; empty for a body left unread.
pub(super) async fn read_planned(
    plan: BodyPlan,
    body: Body,
    limit: usize,
) -> Result<Bytes, Response> {
    match plan {
        BodyPlan::Leave => Ok(Bytes::new()),
        BodyPlan::TooLarge => Err(too_large()),
        BodyPlan::Read => match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
            Err(_) => Err(unreadable()),
        },
    }
}

/// Whether a body is there to read (a GET has none).
pub(super) fn has_body(body: &Body) -> bool {
    !::axum::body::HttpBody::is_end_stream(body)
}

async fn token_endpoint<S: TokenStore + 'static, N: NonceStore + 'static>(
    oauth: OAuth<S, N>,
    which: TokenEndpoint,
    request: ::axum::extract::Request,
) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let has_body = has_body(&body);
    let read = |plan, limit| read_planned(plan, body, limit);
    (oauth.token_endpoint(which, &parts, has_body, read).await).into_response()
}

/// The authorize endpoint (§2.2): consent page on GET, the answer on POST,
/// by [`crate::consent::authorize_step`] — or the authenticate endpoint, by
/// [`crate::consent::authenticate_step`].
async fn authorize<S, N, U>(
    oauth: OAuth<S, N>,
    ui: Arc<U>,
    mode: AuthorizeMode,
    request: ::axum::extract::Request,
) -> AxumResponse
where
    S: TokenStore + 'static,
    N: NonceStore + 'static,
    U: ConsentUi,
{
    let (parts, body) = request.into_parts();
    let has_body = has_body(&body);
    let (parts, ui): (&Parts, &U) = (&parts, &ui);
    let signed_in = |return_to: String| async move { ui.signed_in(parts, &return_to).await };
    let read = |plan, limit| read_planned(plan, body, limit);
    let step = oauth.authorize_endpoint(mode, parts, has_body, read, signed_in, |page| {
        ui.render(page)
    });
    step.await.map_or_else(secured, IntoResponse::into_response)
}

/// The host's answer for a visitor who is not signed in, with the page
/// security headers it lacks.
fn secured(mut response: AxumResponse) -> AxumResponse {
    let headers = response.headers_mut();
    for (name, value) in missing_security_headers(|name| headers.contains_key(name)) {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Turns the neutral response into axum's.
impl IntoResponse for Response {
    fn into_response(self) -> AxumResponse {
        let mut out = AxumResponse::new(Body::from(self.body));
        *out.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = typed_headers(
            self.headers,
            |name| HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str,
        );
        out.headers_mut().extend(headers);
        out
    }
}
