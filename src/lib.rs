//! An OAuth 1.0a service provider (RFC 5849), modelled on Google App Engine's
//! "OAuth for Python" service provider: third-party apps (consumers) get a
//! request token, send the user to the host's consent page, exchange the
//! approved token for an access token, and sign calls to the host's API; the
//! host's handlers ask "who is the user behind this signed request?".
//!
//! # The whole flow
//!
//! A host builds a [`Provider`] on a store ([`MemoryStore`] here) with its
//! consumers, and hands it requests as borrowed [`Request`] views. The
//! consumer side is played by the crate's [`Signer`].
//!
//! ```
//! use oauth1_provider::{
//!     Approval, Consumer, ConsumerRegistry, MemoryStore, Provider, ProviderConfig, Request,
//!     SignatureMethod, Signer, User, parse_form,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let consumers = ConsumerRegistry::new();
//! consumers.register(
//!     Consumer::new("printer", "printer-secret", "Photo Printer")
//!         .callback_prefix("https://printer.example/ready"),
//! );
//! let store = MemoryStore::new();
//! let provider = Provider::new(store.clone(), store, consumers, ProviderConfig::default());
//! let field = |body: &str, name: &str| {
//!     parse_form(body).into_iter().find(|(n, _)| n == name).map(|(_, v)| v).unwrap()
//! };
//! let client = || Signer::new(SignatureMethod::HmacSha1, "printer", "printer-secret");
//!
//! // 1. The consumer asks for a request token (RFC 5849 §2.1).
//! let url = "https://photos.example/_ah/OAuthGetRequestToken";
//! let header = client()
//!     .callback("https://printer.example/ready")
//!     .authorization_header("POST", url, None)
//!     .unwrap();
//! let request = Request::new("POST", "https", "photos.example", "/_ah/OAuthGetRequestToken")
//!     .authorization(Some(&header));
//! let response = provider.request_token(&request).await;
//! assert_eq!(response.status, 200);
//! let (token, secret) = (field(&response.body, "oauth_token"), field(&response.body, "oauth_token_secret"));
//!
//! // 2. The user, signed in with the host's own login, approves (§2.2).
//! let consent = Request::new("POST", "https", "photos.example", "/_ah/OAuthAuthorizeToken");
//! let pending = provider.pending_authorization(&consent, &token).await.unwrap();
//! assert_eq!(pending.app_name(), "Photo Printer");
//! let user = User::new("alice@photos.example", "42");
//! let Approval::Redirect(callback) = provider.approve(&consent, &token, user.clone()).await.unwrap()
//! else { unreachable!() };
//! let verifier = field(callback.split_once('?').unwrap().1, "oauth_verifier");
//!
//! // 3. The consumer exchanges it for an access token (§2.3).
//! let url = "https://photos.example/_ah/OAuthGetAccessToken";
//! let header = client()
//!     .token(&token, &secret)
//!     .verifier(&verifier)
//!     .authorization_header("POST", url, None)
//!     .unwrap();
//! let request = Request::new("POST", "https", "photos.example", "/_ah/OAuthGetAccessToken")
//!     .authorization(Some(&header));
//! let response = provider.access_token(&request).await;
//! assert_eq!(response.status, 200);
//! let (access, access_secret) = (field(&response.body, "oauth_token"), field(&response.body, "oauth_token_secret"));
//!
//! // 4. Signed calls to the host's API: who is the user?
//! let url = "https://photos.example/photos?size=original";
//! let header = client().token(&access, &access_secret).authorization_header("GET", url, None).unwrap();
//! let request = Request::new("GET", "https", "photos.example", "/photos?size=original")
//!     .authorization(Some(&header));
//! let context = provider.authenticate(&request).await.unwrap();
//! assert_eq!(context.get_current_user().unwrap(), &user);
//! assert_eq!(context.get_oauth_consumer_key(), "printer");
//!
//! // A replay of the same signed request is refused.
//! let err = provider.authenticate(&request).await.unwrap_err();
//! assert_eq!((err.status(), err.problem().unwrap().code()), (401, "nonce_used"));
//! # }
//! ```
//!
//! # The pure core
//!
//! Everything about a single request is synchronous and usable without a
//! runtime: [`SignedRequest::collect`] (Authorization header, query and form
//! body, §3.4.1.3), [`SignedRequest::require`],
//! [`SignedRequest::verify_signature`] (base string §3.4.1, HMAC or PLAINTEXT
//! §3.4, constant-time comparison) and [`SignedRequest::check_timestamp`]
//! (§3.3). Every refusal is a [`ProtocolError`] that knows its HTTP status and
//! `oauth_problem`.
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
//!
//! # Features
//!
//! - `axum`, `actix`: adapters that mount the endpoints and give handlers the
//!   current OAuth user.
//! - `sqlite` (`sqlite-bundled` to compile SQLite in), `postgres`, `redis`:
//!   stores for one process and for many.
//! - `rsa`: RSA-SHA1 and RSA-SHA256 with a consumer's registered public key
//!   (`Consumer::rsa`, `ConsumerPublicKey`).
//! - `test-util`: the store conformance suite, `oauth1_provider::testing`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod access_token_endpoint;
#[cfg(feature = "actix")]
pub mod actix;
pub mod adapter;
mod authorization_header;
mod authorize;
#[cfg(feature = "axum")]
pub mod axum;
mod base_string;
mod body_hash;
mod clock;
mod config;
mod consumer;
mod encoding;
mod error;
mod host_api;
mod origin;
mod parameters;
#[cfg(feature = "postgres")]
mod postgres_store;
mod protected_resource;
mod provider;
mod random;
#[cfg(feature = "redis")]
mod redis_store;
mod request;
mod request_token_endpoint;
mod response;
#[cfg(feature = "rsa")]
mod rsa;
mod secret;
pub mod signature;
mod signer;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_columns;
#[cfg(feature = "sqlite")]
mod sqlite_store;
pub mod store;
#[cfg(feature = "test-util")]
pub mod testing;
mod timestamp;
mod token;
mod user;

pub use authorization_header::{AuthorizationHeader, HeaderError, format_authorization_header};
pub use authorize::{Approval, AuthorizeError, Denial, PendingAuthorization};
pub use base_string::base_string_uri;
pub use body_hash::{BODY_HASH_PARAM, body_hash, verify_body_hash};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{DangerousConfig, ProviderConfig, SessionConfig};
pub use consumer::{ANONYMOUS_CONSUMER_KEY, Consumer, ConsumerRegistry};
pub use encoding::percent_encode;
pub use error::{Problem, ProtocolError};
pub use host_api::{
    OAuthContext, OAuthError, OAuthRequestError, OAuthRequestErrorKind, OAuthServiceFailure, Reason,
};
pub use origin::{OriginError, OriginHeaders, OriginPolicy, ResolvedOrigin};
pub use parameters::{Limits, ParameterSource, SignedRequest};
#[cfg(feature = "postgres")]
pub use postgres_store::PostgresStore;
pub use provider::{Authorization, Provider, normalized_host};
pub use random::RandomError;
#[cfg(feature = "redis")]
pub use redis_store::RedisNonceStore;
pub use request::{Request, is_form_urlencoded};
pub use response::{FORM_CONTENT_TYPE, Response, parse_form};
#[cfg(feature = "rsa")]
pub use rsa::{ConsumerPrivateKey, ConsumerPublicKey, KeyError, MAX_RSA_BITS, MIN_RSA_BITS};
pub use secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
pub use signature::SignatureMethod;
pub use signer::{SignError, Signer};
#[cfg(feature = "sqlite")]
pub use sqlite_store::SqliteStore;
pub use store::{MemoryStore, StoreError};
pub use timestamp::TimestampWindow;
pub use token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
    TransitionError,
};
pub use user::User;
