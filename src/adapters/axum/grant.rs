//! [`RequireGrant`] as a tower layer: its service checks the grant, then
//! calls the route.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::axum::response::IntoResponse;
use tower::{Layer, Service};

use super::AxumResponse;
use crate::adapters::grant::RequireGrant;
use crate::adapters::verdict::{Verdict, require_grant};

impl<I> Layer<I> for RequireGrant {
    type Service = RequireGrantService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        RequireGrantService {
            required: self.clone(),
            inner,
        }
    }
}

/// The service [`RequireGrant`] wraps around a route or handler.
#[derive(Clone)]
pub struct RequireGrantService<I> {
    required: RequireGrant,
    inner: I,
}

impl<I> std::fmt::Debug for RequireGrantService<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireGrantService")
            .field("grant", &self.required.grant)
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
        let required = self.required.clone();
        Box::pin(async move {
            match require_grant(verdict, &required).await {
                Ok(()) => Ok(inner.call(request).await.into_response()),
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
