//! The verifying middleware: resolves each request's origin, reads the
//! bodies a signature covers (and puts them back), and leaves the verdict
//! for the extractors.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use ::actix_web::HttpMessage as _;
use ::actix_web::body::{EitherBody, MessageBody};
use ::actix_web::dev::{
    Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use bytes::Bytes;

use super::endpoints::read_planned;
use crate::adapters::head::{BodyPlan, misdirected};
use crate::adapters::oauth::OAuth;
use crate::adapters::verdict::{Verdict, Verifier};
use crate::store::{NonceStore, TokenStore};

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// The middleware that gives the routes it wraps
    /// [`OAuthUser`](super::OAuthUser), [`MaybeOAuthUser`](super::MaybeOAuthUser)
    /// and [`OAuthConsumer`](super::OAuthConsumer) (feature `actix`): it
    /// refuses requests to origins not served here (400), reads
    /// form-encoded bodies — and the body of any type of a request that names
    /// `oauth_body_hash` — up to the provider's `limits.max_form_body_bytes`
    /// (413 past it) and puts them back untouched, and verifies on demand.
    /// Handlers also find the request's
    /// [`ResolvedOrigin`](crate::origin::ResolvedOrigin) in its extensions
    /// (`web::ReqData<ResolvedOrigin>`).
    ///
    /// Wrap the whole app if you like: it touches the provider only when an
    /// extractor asks, so it never uses up the nonce of a request to the
    /// token endpoints.
    pub fn middleware(&self) -> OAuthMiddleware {
        OAuthMiddleware {
            verifier: self.verifier(),
        }
    }
}

/// The verifying middleware: see [`OAuth::middleware`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OAuthMiddleware {
    verifier: Arc<Verifier>,
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
            verifier: self.verifier.clone(),
            service: Rc::new(service),
        }))
    }
}

/// The service [`OAuthMiddleware`] wraps around the host's routes.
pub struct OAuthMiddlewareService<I> {
    verifier: Arc<Verifier>,
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
        let verifier = self.verifier.clone();
        let service = self.service.clone();
        Box::pin(async move {
            let origin = match verifier.site.resolve(request.request()) {
                Ok(origin) => origin,
                Err(e) => {
                    let response: ::actix_web::HttpResponse = misdirected(&e).into();
                    return Ok(request.into_response(response).map_into_right_body());
                }
            };
            let mut payload = request.take_payload();
            let limit = verifier.body_limit;
            let plan = BodyPlan::of(request.request(), true, limit, true);
            let form = match read_planned(plan, &mut payload, limit).await {
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
                    let response: ::actix_web::HttpResponse = response.into();
                    return Ok(request.into_response(response).map_into_right_body());
                }
            };
            let verdict = Verdict::new(&verifier, request.request(), &origin, form);
            request.extensions_mut().insert(verdict);
            request.extensions_mut().insert(origin);
            Ok(service.call(request).await?.map_into_left_body())
        })
    }
}
