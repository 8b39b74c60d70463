//! What the provider knows between requests: consumers and their registry,
//! request and access tokens with their state machines (RFC 5849 §2), the
//! user a token acts for, the secret newtypes, and the clock.
//!
//! Values here are plain data with synchronous transitions
//! ([`RequestToken::approve`], [`AccessToken`]'s
//! revocation…); nothing here does I/O. It may use [`crate::protocol`] (a
//! consumer's signature methods and RSA key) and nothing above it: the
//! stores persist these types, the provider drives them.
//!
//! # Serialization (feature `serde`)
//!
//! A host writing its own store can persist the records with serde:
//! [`RequestToken`], [`AccessToken`] (with their states, [`Session`],
//! [`Callback`], [`StateTag`]) and [`User`] implement `Serialize` and
//! `Deserialize`; times are RFC 3339 strings (to the nanosecond, years
//! 0–9999), enum variants `snake_case`. A record reads back equal to what
//! was written.
//!
//! Secrets are the exception, on purpose: [`ConsumerSecret`],
//! [`TokenSecret`], [`Verifier`] and [`SessionHandle`] deserialize but do
//! not serialize, so that nothing writes one out by accident. The records
//! write theirs through `model::secret_in_clear`, which says what it does: a
//! serialized token record holds its secret **in the clear** (the provider
//! needs the secret itself to verify signatures), so wherever it goes must
//! be protected like the rest of the store. `Debug` stays redacted.

pub(crate) mod callback_url;
pub(crate) mod clock;
pub(crate) mod consumer;
pub(crate) mod secret;
pub(crate) mod text;
pub(crate) mod token;
pub(crate) mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use consumer::{ANONYMOUS_CONSUMER_KEY, Consumer, ConsumerRegistry};
#[cfg(feature = "serde")]
pub use secret::secret_in_clear;
pub use secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
pub use text::{is_hidden_character, strip_hidden_characters};
pub use token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
    TransitionError,
};
pub use user::User;
