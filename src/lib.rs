//! An OAuth 1.0a service provider (RFC 5849), modelled on Google App Engine's
//! "OAuth for Python" service: verify signed requests exactly as the RFC says
//! and as real clients send them.
//!
//! The core is pure and synchronous: a borrowed [`Request`] view goes through
//! [`SignedRequest::collect`] (Authorization header, query and form body,
//! §3.4.1.3), [`SignedRequest::require`], [`SignedRequest::verify_signature`]
//! (base string §3.4.1, HMAC or PLAINTEXT §3.4, constant-time comparison) and
//! [`SignedRequest::check_timestamp`] (§3.3). Every refusal is a
//! [`ProtocolError`] that knows its HTTP status and `oauth_problem`.
//!
//! ```
//! use oauth1_provider::{Limits, Request, SignatureMethod, SignedRequest, Signer, TimestampWindow};
//!
//! // A client signs a request…
//! let header = Signer::new(SignatureMethod::HmacSha1, "key", "consumer-secret")
//!     .token("token", "token-secret")
//!     .timestamp(1_700_000_000)
//!     .authorization_header("GET", "https://api.example.com/v1/events?max=10", None)
//!     .unwrap();
//!
//! // …and the provider verifies it as the server received it.
//! let request = Request::new("GET", "https", "api.example.com", "/v1/events?max=10")
//!     .authorization(Some(&header));
//! let signed = SignedRequest::collect(&request, &Limits::default()).unwrap();
//! signed.require(&["oauth_token"]).unwrap();
//! assert_eq!(signed.consumer_key(), Some("key"));
//! signed.verify_signature("consumer-secret", "token-secret").unwrap();
//! signed.check_timestamp(1_700_000_100, &TimestampWindow::default()).unwrap();
//!
//! // A wrong secret is a 401 `signature_invalid`.
//! let err = signed.verify_signature("consumer-secret", "wrong").unwrap_err();
//! assert_eq!((err.status(), err.problem().code()), (401, "signature_invalid"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod access_token_endpoint;
mod authorization_header;
mod authorize;
mod base_string;
mod clock;
mod config;
mod consumer;
mod encoding;
mod error;
mod host_api;
mod origin;
mod parameters;
mod protected_resource;
mod provider;
mod random;
mod request;
mod request_token_endpoint;
mod response;
mod secret;
pub mod signature;
mod signer;
pub mod store;
#[cfg(feature = "test-util")]
pub mod testing;
mod timestamp;
mod token;
mod user;

pub use authorization_header::{AuthorizationHeader, HeaderError, format_authorization_header};
pub use authorize::{Approval, AuthorizeError, Denial, PendingAuthorization};
pub use base_string::base_string_uri;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{DangerousConfig, ProviderConfig};
pub use consumer::{ANONYMOUS_CONSUMER_KEY, Consumer, ConsumerRegistry};
pub use encoding::percent_encode;
pub use error::{Problem, ProtocolError};
pub use host_api::{
    OAuthContext, OAuthError, OAuthRequestError, OAuthRequestErrorKind, OAuthServiceFailure, Reason,
};
pub use origin::{OriginError, OriginHeaders, OriginPolicy, ResolvedOrigin};
pub use parameters::{Limits, ParameterSource, SignedRequest};
pub use provider::{Authorization, Provider, normalized_host};
pub use random::RandomError;
pub use request::{Request, is_form_urlencoded};
pub use response::{FORM_CONTENT_TYPE, Response, parse_form};
pub use secret::{ConsumerSecret, TokenSecret, Verifier};
pub use signature::SignatureMethod;
pub use signer::{SignError, Signer};
pub use store::{MemoryStore, StoreError};
pub use timestamp::TimestampWindow;
pub use token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, StateTag,
    TransitionError,
};
pub use user::User;
