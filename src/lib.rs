//! An OAuth 1.0a service provider (RFC 5849), modelled on Google App Engine's
//! "OAuth for Python" service provider: third-party apps (consumers) get a
//! request token, send the user to the host's consent page, exchange the
//! approved token for an access token, and sign calls to the host's API; the
//! host's handlers ask "who is the user behind this signed request?".
//!
//! # Layers
//!
//! One crate, one folder per layer; imports go one way, down the list
//! (`.ci/layers.py` checks it):
//!
//! ```text
//!  adapters/  axum, actix-web: mount the endpoints, extractors, the consent
//!     │       pages and the authorize step, the origin policy — shared once
//!     ▼
//!  provider/  Provider: config, the three endpoints, the protected-resource
//!     │       check, OAuthContext (get_current_user …)        — async
//!     ▼
//!  store/     TokenStore / NonceStore, MemoryStore, SQLite, PostgreSQL,
//!     │       Redis, the conformance suite                     — async edge
//!     ▼
//!  model/     consumers, tokens and their state machines, users, secrets,
//!     │       the clock                                        — plain data
//!     ▼
//!  protocol/  RFC 5849 §3: request view, encoding, header, base string,
//!             signatures, timestamps, body hash, SignedRequest — pure, sync
//! ```
//!
//! The root re-exports what a host touches first; the rest lives in named
//! modules: [`protocol`] (the pure core), [`client`] (the consumer-side
//! [`client::Signer`]), [`model`], [`store`], [`provider`], [`consent`] (the
//! authorize step), [`origin`], [`danger`] (what weakens security), the
//! adapters `axum` and `actix`, and
//! `testing` (the store conformance suite). The design and the protocol
//! decisions are written up in `docs/design.md`, the measurements in
//! `docs/performance.md`.
//!
//! # The whole flow
//!
//! A host builds a [`Provider`] on a store ([`MemoryStore`] here) with its
//! consumers, and hands it requests as borrowed [`Request`] views. The
//! consumer side is played by the crate's [`client::Signer`].
//!
//! ```
//! use oauth1_provider::client::Signer;
//! use oauth1_provider::protocol::parse_form;
//! use oauth1_provider::{
//!     Approval, Consumer, ConsumerRegistry, MemoryStore, Provider, ProviderConfig, Request,
//!     SignatureMethod, User,
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
//! runtime: [`protocol::SignedRequest`] collects the parameters (§3.4.1.3),
//! verifies the signature (§3.4) and checks the timestamp (§3.3); every
//! refusal is a [`ProtocolError`] that knows its HTTP status and
//! `oauth_problem`. The [`protocol`] module's docs show it on its own.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `axum` | `axum`: the endpoints, a verifying layer and extractors for axum 0.8 |
//! | `actix` | `actix`: the same for actix-web 4 |
//! | `sqlite` (`sqlite-bundled` compiles SQLite in) | `store::SqliteStore`, the embedded default |
//! | `postgres` | `store::PostgresStore`, for many instances |
//! | `redis` | `store::RedisNonceStore`, nonces shared by many instances |
//! | `rsa` | RSA-SHA1 / RSA-SHA256 with a consumer's public key |
//! | `serde` | `Serialize`/`Deserialize` for the token records and users; a secret, or a record holding one, is written only through `model::secret_in_clear` |
//! | `tokio` | `Provider::spawn_purger` (implied by the adapters and the stores) |
//! | `test-util` | `testing`: the store conformance suite |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Every snippet in the docs, the README and docs/ compiles without a warning.
#![doc(test(attr(deny(warnings))))]

mod adapters;
pub mod model;
pub mod protocol;
pub mod provider;
pub mod store;

pub use adapters::origin::OriginPolicy;
pub use model::{Consumer, ConsumerRegistry, ConsumerState, User};
pub use protocol::{ProtocolError, Request, Response, SignatureMethod};
pub use provider::authorize::Approval;
pub use provider::{
    OAuthContext, OAuthError, OAuthRequestError, OAuthRequestErrorKind, OAuthServiceFailure,
    Provider, ProviderConfig,
};
pub use store::{ConsumerStore, MemoryStore, NonceStore, StoreError, TokenStore};
/// The `time` crate the store traits' timestamps come from
/// (`time::OffsetDateTime`), so that a store of the host's own names the
/// same version.
pub use time;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use adapters::actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use adapters::axum;

pub mod client {
    //! The consumer side: [`Signer`] signs requests as a client would (RFC
    //! 5849 §3.1), for tests, examples and hosts that call other providers.
    //!
    //! ```
    //! use oauth1_provider::client::Signer;
    //! use oauth1_provider::SignatureMethod;
    //! let header = Signer::new(SignatureMethod::HmacSha1, "key", "secret")
    //!     .authorization_header("GET", "https://api.example/x", None)
    //!     .unwrap();
    //! assert!(header.starts_with("OAuth "));
    //! ```

    #[cfg(feature = "rsa")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
    pub use crate::protocol::rsa::ConsumerPrivateKey;
    pub use crate::protocol::signer::{SignError, Signer};
}

pub mod consent {
    //! The resource owner authorization step (RFC 5849 §2.2): what a consent
    //! page shows and the user's answer ([`PendingAuthorization`],
    //! [`Approval`], [`Denial`]), and the framework-neutral authorize
    //! endpoint the adapters share ([`authorize_step`], the pages of
    //! [`render_page`]). A host with its own adapter or its own pages starts
    //! here.
    //!
    //! ```
    //! use oauth1_provider::consent::{AuthorizePage, render_page};
    //! let page = render_page(&AuthorizePage::Denied { app_name: "<Photo Printer>", site: "example.com" });
    //! assert_eq!(page.status, 200);
    //! assert!(page.body.contains("&lt;Photo Printer&gt;"));
    //! assert_eq!(page.header("x-frame-options"), Some("DENY"));
    //! ```

    pub use crate::adapters::authorize::{
        AuthorizeRequest, Decision, EndpointPaths, SignedIn, authenticate_step, authorize_step,
        csrf_matches,
    };
    pub use crate::adapters::pages::{
        AuthorizeHints, AuthorizePage, CSRF_FIELD, ConsentPage, DECISION_FIELD,
        MAX_CONSENT_FORM_BYTES, PAGE_SECURITY_HEADERS, Page, PageError, TOKEN_FIELD, render_page,
    };
    pub use crate::provider::authorize::{Approval, AuthorizeError, Denial, PendingAuthorization};
}

pub mod origin {
    //! Which origin (scheme and host) a request was really addressed to:
    //! what its signature covers and its tokens are bound to. Configured
    //! public origins (which may carry the path prefix a proxy strips), or
    //! `Forwarded` / `X-Forwarded-*` from trusted proxies only
    //! ([`OriginPolicy`]).

    #[cfg(any(feature = "axum", feature = "actix"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix"))))]
    pub use crate::adapters::head::RequestHead;
    pub use crate::adapters::origin::{
        OriginError, OriginHeaders, OriginPolicy, ResolvedOrigin, is_valid_public_origin,
    };
}

pub mod danger {
    //! What weakens security, named as such (as rustls' `danger` and
    //! jsonwebtoken's `dangerous`): development mode, the configuration
    //! switches that turn checks off, and the expected signature of a
    //! request, which is as good as a valid one.

    use crate::model::ConsumerRegistry;
    use crate::protocol::{ProtocolError, SignatureMethod, SignedRequest};
    use crate::provider::{Provider, ProviderConfig};
    use crate::store::{NonceStore, TokenStore};

    pub use crate::provider::config::DangerousConfig;

    /// **Development mode**, App Engine's dev server behaviour: every request
    /// authenticates as `example@example.com` (user id `0`) via consumer
    /// `example.com`, whatever it carries, and a warning is logged each time.
    /// Only by this explicit call; never from configuration or environment.
    ///
    /// ```
    /// use oauth1_provider::{ConsumerRegistry, MemoryStore, ProviderConfig};
    /// let store = MemoryStore::new();
    /// let provider = oauth1_provider::danger::development_provider(
    ///     store.clone(), store, ConsumerRegistry::new(), ProviderConfig::default());
    /// assert!(provider.is_development());
    /// ```
    pub fn development_provider<S: TokenStore, N: NonceStore>(
        store: S,
        nonces: N,
        consumers: ConsumerRegistry,
        config: ProviderConfig,
    ) -> Provider<S, N> {
        Provider::development(store, nonces, consumers, config)
    }

    /// The signature `request` should carry with these secrets — for
    /// diagnostics (an explain tool) and signers. Never send it to a client
    /// or log it: it is as good as a valid signature.
    pub fn expected_signature(
        request: &SignedRequest<'_>,
        method: SignatureMethod,
        consumer_secret: &str,
        token_secret: &str,
    ) -> Result<String, ProtocolError> {
        request.expected_signature(method, consumer_secret, token_secret)
    }
}

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[doc(inline)]
pub use store::conformance as testing;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// `docs/design.md`'s code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/design.md")]
pub struct DesignDoctests;

/// `docs/operations.md`'s code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/operations.md")]
pub struct OperationsDoctests;

/// `docs/performance.md`'s code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/performance.md")]
pub struct PerformanceDoctests;
