//! [`RequireGrant`]: a route that needs a grant, in one line.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::axum::response::IntoResponse;
use tower::{Layer, Service};

use super::AxumResponse;
use crate::adapters::verdict::{Verdict, checked_grant_name, require_grant};

/// Lets a request through only when its token was granted `grant` (see
/// [`OAuthContext::require_grant`](crate::OAuthContext::require_grant)):
/// otherwise 403 `permission_denied` (or the provider's refusal of a
/// request that does not authenticate), and the handler is never called.
/// A whole-app token passes every check, and every token passes
/// `RequireGrant::new("identity")` — the mark of a route open to any app the
/// user allowed, whose handler checks grants itself: without a
/// `RequireGrant`, the extractors refuse a token limited to grants (see
/// [`OAuthUser`](super::OAuthUser)). A grant the provider does not declare
/// is a misconfiguration: 500, and an error in the log. Needs the verifying layer
/// ([`OAuth::layer`](super::OAuth::layer)) around the route.
///
/// On a whole route with `route_layer`, or on one method's handler with
/// `Handler::layer`:
///
/// ```
/// use axum::{Router, handler::Handler, routing::get};
/// use oauth1_provider::axum::RequireGrant;
///
/// async fn list() {}
/// async fn upload() {}
/// async fn delete() {}
///
/// let api: Router = Router::new()
///     .route(
///         "/api/photos",
///         get(list.layer(RequireGrant::new("photos.read")))
///             .post(upload.layer(RequireGrant::new("photos.write"))),
///     )
///     .route(
///         "/api/photos/{id}",
///         axum::routing::delete(delete).route_layer(RequireGrant::new("photos.write")),
///     );
/// # let _ = api;
/// ```
///
/// # Panics
///
/// [`RequireGrant::new`] panics on a name no grant can have
/// ([`is_valid_grant_name`](crate::model::is_valid_grant_name)): a typo
/// caught when the router is built.
#[derive(Clone, Debug)]
pub struct RequireGrant {
    grant: Arc<str>,
}

impl RequireGrant {
    /// Requires `grant`.
    pub fn new(grant: &str) -> Self {
        Self {
            grant: checked_grant_name(grant),
        }
    }

    /// The grant required.
    pub fn grant(&self) -> &str {
        &self.grant
    }
}

impl<I> Layer<I> for RequireGrant {
    type Service = RequireGrantService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        RequireGrantService {
            grant: self.grant.clone(),
            inner,
        }
    }
}

/// The service [`RequireGrant`] wraps around a route or handler.
#[derive(Clone)]
pub struct RequireGrantService<I> {
    grant: Arc<str>,
    inner: I,
}

impl<I> std::fmt::Debug for RequireGrantService<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireGrantService")
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

impl<I> Service<::axum::extract::Request> for RequireGrantService<I>
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
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let verdict = request.extensions().get::<Verdict>().cloned();
        let grant = self.grant.clone();
        Box::pin(async move {
            match require_grant(verdict, &grant).await {
                Ok(()) => Ok(inner.call(request).await.into_response()),
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
