//! The pure, synchronous core of RFC 5849 §3: everything about one signed
//! request, with no I/O, no async and no store.
//!
//! It owns the borrowed [`Request`] view it reads and the neutral
//! [`Response`] it answers with; percent-encoding (§3.6); the
//! `Authorization` header (§3.5.1); parameter collection into a
//! [`SignedRequest`] (§3.4.1.3); the signature base string (§3.4.1); the
//! signature methods (§3.4, [`SignatureMethod`]); timestamps (§3.3,
//! [`TimestampWindow`]); the body hash extension; the client-side signer
//! (re-exported as [`crate::client`]); and the protocol errors
//! ([`ProtocolError`], [`Problem`]). It may use only the standard library and
//! its crypto dependencies — nothing else in this crate. Every other layer
//! builds on it.
//!
//! ```
//! use oauth1_provider::client::Signer;
//! use oauth1_provider::protocol::{Limits, Request, SignedRequest, TimestampWindow};
//! use oauth1_provider::SignatureMethod;
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

pub(crate) mod authorization_header;
pub(crate) mod base_string;
pub(crate) mod body_hash;
pub(crate) mod diagnose;
pub(crate) mod encoding;
pub(crate) mod error;
pub(crate) mod hmac;
pub(crate) mod random;
pub(crate) mod request;
pub(crate) mod response;
#[cfg(feature = "rsa")]
pub(crate) mod rsa;
pub(crate) mod signature;
pub(crate) mod signed_request;
pub(crate) mod signer;
pub(crate) mod timestamp;

pub use authorization_header::{AuthorizationHeader, HeaderError, format_authorization_header};
pub use base_string::base_string_uri;
pub use body_hash::{BODY_HASH_PARAM, body_hash, verify_body_hash};
pub use diagnose::{BaseStringDifference, common_prefix_chars, first_difference};
pub use encoding::percent_encode;
pub use error::{Problem, ProtocolError};
pub use request::{Request, is_form_urlencoded};
pub use response::{FORM_CONTENT_TYPE, Response, parse_form};
#[cfg(feature = "rsa")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
pub use rsa::{ConsumerPublicKey, KeyError, MAX_RSA_BITS, MIN_RSA_BITS};
pub use signature::SignatureMethod;
pub use signed_request::{Limits, ParameterSource, SignedRequest};
pub use timestamp::TimestampWindow;
