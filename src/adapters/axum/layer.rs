//! The verifying layer: resolves each request's origin, buffers the bodies
//! a signature covers, and leaves the verdict for the extractors.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::axum::body::Body;
use ::axum::response::IntoResponse;
use bytes::Bytes;
use http::request::Parts;
use tower::{Layer, Service};

use super::AxumResponse;
use super::endpoints::{has_body, read_planned};
use crate::adapters::head::{BodyPlan, misdirected, too_large};
use crate::adapters::oauth::OAuth;
use crate::adapters::origin::ResolvedOrigin;
use crate::adapters::verdict::{Verdict, Verifier};
use crate::store::{NonceStore, TokenStore};

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// The layer that gives the routes it wraps [`OAuthUser`](super::OAuthUser),
    /// `Option<OAuthUser>` and [`OAuthConsumer`](super::OAuthConsumer)
    /// (feature `axum`): it refuses requests to origins not served here
    /// (400), buffers form-encoded bodies — and the body of any type of a
    /// request that names `oauth_body_hash` — up to the provider's
    /// `limits.max_form_body_bytes` (413 past it) and passes them on
    /// untouched, and verifies on demand. Handlers also find the request's
    /// [`ResolvedOrigin`] in its extensions (`Extension<ResolvedOrigin>`).
    ///
    /// Apply it to the whole app if you like: it touches the provider only
    /// when an extractor asks, so it never uses up the nonce of a request to
    /// the token endpoints.
    pub fn layer(&self) -> OAuthLayer {
        OAuthLayer {
            verifier: self.verifier(),
        }
    }
}

/// The verifying layer: see [`OAuth::layer`].
#[derive(Clone, Debug)]
pub struct OAuthLayer {
    verifier: Arc<Verifier>,
}

impl<I> Layer<I> for OAuthLayer {
    type Service = OAuthService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        OAuthService {
            verifier: self.verifier.clone(),
            inner,
        }
    }
}

/// The service [`OAuthLayer`] wraps around the host's routes.
#[derive(Clone)]
pub struct OAuthService<I> {
    verifier: Arc<Verifier>,
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
        let origin = match self.verifier.site.resolve(&parts) {
            Ok(origin) => origin,
            Err(e) => return Box::pin(std::future::ready(Ok(misdirected(&e).into_response()))),
        };
        let limit = self.verifier.body_limit;
        match BodyPlan::of(&parts, has_body(&body), limit, true) {
            BodyPlan::TooLarge => Box::pin(std::future::ready(Ok(too_large().into_response()))),
            // Nearly every protected request (a GET): nothing to wait for
            // before the inner service, so the boxed future is only its.
            BodyPlan::Leave => {
                let request = with_verdict(&self.verifier, parts, origin, body, Bytes::new());
                let response = inner.call(request);
                Box::pin(async move { Ok(response.await.into_response()) })
            }
            BodyPlan::Read => {
                let verifier = self.verifier.clone();
                Box::pin(async move {
                    let form = match read_planned(BodyPlan::Read, body, limit).await {
                        Ok(form) => form,
                        Err(response) => return Ok(response.into_response()),
                    };
                    let body = Body::from(form.clone());
                    let request = with_verdict(&verifier, parts, origin, body, form);
                    Ok(inner.call(request).await.into_response())
                })
            }
        }
    }
}

/// The request rebuilt for the inner service, with its (not yet computed)
/// OAuth verdict and its origin in its extensions.
fn with_verdict(
    verifier: &Verifier,
    mut parts: Parts,
    origin: ResolvedOrigin,
    body: Body,
    form: Bytes,
) -> ::axum::extract::Request {
    let verdict = Verdict::new(verifier, &parts, &origin, form);
    parts.extensions.insert(verdict);
    parts.extensions.insert(origin);
    ::axum::extract::Request::from_parts(parts, body)
}
