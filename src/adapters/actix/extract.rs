//! The extractors: [`OAuthUser`], [`MaybeOAuthUser`] and [`OAuthConsumer`]
//! find the verdict the middleware left and answer refusals as the provider
//! says; and actix-web's request head for the shared core.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use ::actix_web::dev::Payload;
use ::actix_web::http::StatusCode;
use ::actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};

use crate::adapters::head::RequestHead;
use crate::adapters::verdict::{OAuthConsumer, OAuthRejection, OAuthUser, Verdict};

impl RequestHead for HttpRequest {
    fn method(&self) -> &str {
        HttpRequest::method(self).as_str()
    }

    /// actix keeps the whole URI whatever scope matched.
    fn target(&self) -> &str {
        self.uri().path_and_query().map_or("/", |pq| pq.as_str())
    }

    fn header(&self, name: &'static str) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }

    fn header_repeated(&self, name: &'static str) -> bool {
        self.headers().get_all(name).nth(1).is_some()
    }

    fn uri_authority(&self) -> Option<&str> {
        self.uri().authority().map(|a| a.as_str())
    }

    /// `HttpRequest::peer_addr`.
    fn peer(&self) -> Option<IpAddr> {
        self.peer_addr().map(|addr| addr.ip())
    }

    fn tls(&self) -> bool {
        self.app_config().secure()
    }
}

/// The verdict the middleware left in the request's extensions.
fn verdict(request: &HttpRequest) -> Result<Verdict, OAuthRejection> {
    (request.extensions().get::<Verdict>().cloned()).ok_or_else(OAuthRejection::not_verified)
}

type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, OAuthRejection>>>>;

impl FromRequest for OAuthUser {
    type Error = OAuthRejection;
    type Future = Extraction<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Self::from_verdict(verdict(request)))
    }
}

/// The user behind a request if it carries OAuth credentials, `None` if it
/// carries none at all (no `OAuth` Authorization header, no `oauth_*`
/// parameter); a request that carries them but is refused gets the refusal,
/// as with [`OAuthUser`]. Needs the middleware
/// ([`OAuth::middleware`](super::OAuth::middleware)).
///
/// actix's own `Option<OAuthUser>` is `None` whenever extraction fails, so
/// a request whose credentials are refused (a revoked token, a bad
/// signature) is `None` too, as an unsigned one; this is the axum adapter's
/// `Option<OAuthUser>`.
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
        let verdict = verdict(request);
        Box::pin(async move { OAuthUser::maybe_from_verdict(verdict).await.map(Self) })
    }
}

impl FromRequest for OAuthConsumer {
    type Error = OAuthRejection;
    type Future = Extraction<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Self::from_verdict(verdict(request)))
    }
}

impl ResponseError for OAuthRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response().into()
    }
}
