//! What the provider knows between requests: consumers and their registry,
//! request and access tokens with their state machines (RFC 5849 §2), the
//! user a token acts for, the secret newtypes, and the clock.
//!
//! Values here are plain data with synchronous transitions
//! ([`RequestToken::approve`], [`AccessToken`]'s
//! revocation…); nothing here does I/O. It may use [`crate::protocol`] (a
//! consumer's signature methods and RSA key) and nothing above it: the
//! stores persist these types, the provider drives them.

pub(crate) mod clock;
pub(crate) mod consumer;
pub(crate) mod secret;
pub(crate) mod token;
pub(crate) mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use consumer::{ANONYMOUS_CONSUMER_KEY, Consumer, ConsumerRegistry};
pub use secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
pub use token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
    TransitionError,
};
pub use user::User;
