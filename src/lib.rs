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

mod authorization_header;
mod base_string;
mod encoding;
mod error;
mod parameters;
mod random;
mod request;
pub mod signature;
mod signer;
mod timestamp;

pub use authorization_header::{AuthorizationHeader, HeaderError, format_authorization_header};
pub use base_string::base_string_uri;
pub use encoding::percent_encode;
pub use error::{Problem, ProtocolError};
pub use parameters::{Limits, ParameterSource, SignedRequest};
pub use random::RandomError;
pub use request::{Request, is_form_urlencoded};
pub use signature::SignatureMethod;
pub use signer::{SignError, Signer};
pub use timestamp::TimestampWindow;
