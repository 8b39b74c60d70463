//! [`RequireGrant`]: a route that needs a grant, in one line.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use ::actix_web::HttpMessage as _;
use ::actix_web::body::{EitherBody, MessageBody};
use ::actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use ::actix_web::{HttpResponse, ResponseError as _};

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
/// is a misconfiguration: 500, and an error in the log. Needs the verifying middleware
/// ([`OAuth::middleware`](super::OAuth::middleware)) around the route.
///
/// `wrap` it on a route, a resource or a scope:
///
/// ```
/// use actix_web::{App, web};
/// use oauth1_provider::actix::RequireGrant;
///
/// async fn list() -> &'static str { "[]" }
/// async fn upload() -> &'static str { "{}" }
///
/// let app = App::new().service(
///     web::resource("/api/photos")
///         .route(web::get().to(list).wrap(RequireGrant::new("photos.read")))
///         .route(web::post().to(upload).wrap(RequireGrant::new("photos.write"))),
/// );
/// # let _ = app;
/// ```
///
/// # Panics
///
/// [`RequireGrant::new`] panics on a name no grant can have
/// ([`is_valid_grant_name`](crate::model::is_valid_grant_name)): a typo
/// caught when the app is built.
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

impl<I, B> Transform<I, ServiceRequest> for RequireGrant
where
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ::actix_web::Error;
    type Transform = RequireGrantService<I>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: I) -> Self::Future {
        ready(Ok(RequireGrantService {
            grant: self.grant.clone(),
            service: Rc::new(service),
        }))
    }
}

/// The service [`RequireGrant`] wraps around a route.
pub struct RequireGrantService<I> {
    grant: Arc<str>,
    service: Rc<I>,
}

impl<I> std::fmt::Debug for RequireGrantService<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireGrantService")
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

impl<I, B> Service<ServiceRequest> for RequireGrantService<I>
where
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let grant = self.grant.clone();
        let verdict = request.extensions().get::<Verdict>().cloned();
        Box::pin(async move {
            match require_grant(verdict, &grant).await {
                Ok(()) => Ok(service.call(request).await?.map_into_left_body()),
                Err(rejection) => {
                    let response: HttpResponse = rejection.error_response();
                    Ok(request.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
