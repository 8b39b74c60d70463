//! The extractors: [`OAuthUser`], `Option<OAuthUser>` and [`OAuthConsumer`]
//! find the verdict the layer left and answer refusals as the provider
//! says; and axum's request head for the shared core.

use std::net::{IpAddr, SocketAddr};

use ::axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, OriginalUri};
use ::axum::response::IntoResponse;
use http::request::Parts;
use http::{HeaderName, Uri};

use super::AxumResponse;
use crate::adapters::head::RequestHead;
use crate::adapters::verdict::{OAuthConsumer, OAuthRejection, OAuthUser, Verdict};

impl RequestHead for Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    /// The original URI's path and query, before a `nest` stripped a prefix.
    fn target(&self) -> &str {
        original_uri(self)
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
    }

    fn header(&self, name: &'static str) -> Option<&str> {
        let name = HeaderName::from_static(name);
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn header_repeated(&self, name: &'static str) -> bool {
        let name = HeaderName::from_static(name);
        self.headers.get_all(name).iter().nth(1).is_some()
    }

    /// The original URI's, as a `nest` may have rewritten the URI.
    fn uri_authority(&self) -> Option<&str> {
        original_uri(self).authority().map(|a| a.as_str())
    }

    /// axum's `ConnectInfo<SocketAddr>`, when the server provides it.
    fn peer(&self) -> Option<IpAddr> {
        self.extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
    }

    fn tls(&self) -> bool {
        false
    }
}

/// The URI as received, before a `nest` rewrote it.
fn original_uri(parts: &Parts) -> &Uri {
    (parts.extensions.get::<OriginalUri>()).map_or(&parts.uri, |original| &original.0)
}

/// The verdict the layer left in the request's extensions.
fn verdict(parts: &Parts) -> Result<Verdict, OAuthRejection> {
    (parts.extensions.get::<Verdict>().cloned()).ok_or_else(OAuthRejection::not_verified)
}

impl<T: Send + Sync> FromRequestParts<T> for OAuthUser {
    type Rejection = OAuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &T) -> Result<Self, Self::Rejection> {
        Self::from_verdict(verdict(parts)).await
    }
}

impl<T: Send + Sync> OptionalFromRequestParts<T> for OAuthUser {
    type Rejection = OAuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &T,
    ) -> Result<Option<Self>, Self::Rejection> {
        Self::maybe_from_verdict(verdict(parts)).await
    }
}

impl<T: Send + Sync> FromRequestParts<T> for OAuthConsumer {
    type Rejection = OAuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &T) -> Result<Self, Self::Rejection> {
        Self::from_verdict(verdict(parts)).await
    }
}

impl IntoResponse for OAuthRejection {
    fn into_response(self) -> AxumResponse {
        self.to_response().into_response()
    }
}
