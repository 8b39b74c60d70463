//! [`RequireGrant`] as an actix-web middleware: its service checks the
//! grant, then calls the route.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use ::actix_web::HttpMessage as _;
use ::actix_web::body::{EitherBody, MessageBody};
use ::actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use ::actix_web::{HttpResponse, ResponseError as _};

use crate::adapters::grant::RequireGrant;
use crate::adapters::verdict::{Verdict, require_grant};

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
            required: self.clone(),
            service: Rc::new(service),
        }))
    }
}

/// The service [`RequireGrant`] wraps around a route.
pub struct RequireGrantService<I> {
    required: RequireGrant,
    service: Rc<I>,
}

impl<I> std::fmt::Debug for RequireGrantService<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireGrantService")
            .field("grant", &self.required.grant)
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
        let required = self.required.clone();
        let verdict = request.extensions().get::<Verdict>().cloned();
        Box::pin(async move {
            match require_grant(verdict, &required).await {
                Ok(()) => Ok(service.call(request).await?.map_into_left_body()),
                Err(rejection) => {
                    let response: HttpResponse = rejection.error_response();
                    Ok(request.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
