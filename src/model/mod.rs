//! What the provider knows between requests: consumers and their registry,
//! request and access tokens with their state machines (RFC 5849 §2), the
//! user a token acts for, the grants a token carries, the secret newtypes,
//! and the clock.
//!
//! Values here are plain data with synchronous transitions
//! ([`RequestToken::approve`], [`AccessToken`]'s
//! revocation…); nothing here does I/O. It may use [`crate::protocol`] (a
//! consumer's signature methods and RSA key) and nothing above it: the
//! stores persist these types, the provider drives them.
//!
//! # Serialization (feature `serde`)
//!
//! A host writing its own store can persist the records with serde. Every
//! type here deserializes. Those without a secret ([`User`], [`Callback`],
//! [`StateTag`], [`AccessTokenState`]) serialize; the secrets
//! ([`ConsumerSecret`], [`TokenSecret`], [`Verifier`], [`SessionHandle`])
//! and the records that hold one ([`RequestToken`], [`RequestTokenState`],
//! [`AccessToken`], [`Session`]) serialize only through [`secret_in_clear`],
//! named on the field (`#[serde(with = "…::secret_in_clear")]`) or around
//! the value ([`secret_in_clear::Clear`]), so that an API response or a log
//! line that holds a token cannot write its secret by accident. `Debug`
//! stays redacted.

pub(crate) mod callback_url;
pub(crate) mod clock;
pub(crate) mod consumer;
pub(crate) mod grant;
pub(crate) mod secret;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod secret_in_clear;
pub(crate) mod text;
pub(crate) mod token;
pub(crate) mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use consumer::{
    ANONYMOUS_CONSUMER_KEY, Consumer, ConsumerAction, ConsumerRegistry, ConsumerState,
};
pub use grant::{
    Grant, Granted, IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION, MAX_GRANT_NAME_BYTES,
    is_valid_grant_name,
};
pub use secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
pub use text::{is_hidden_character, strip_hidden_characters};
pub use token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
    TransitionError,
};
pub use user::User;
