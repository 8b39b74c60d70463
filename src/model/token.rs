//! Token lifecycles as explicit state machines (RFC 5849 §2):
//!
//! ```text
//! request token:  Issued ──approve──▶ Authorized{user, verifier} ──exchange──▶ Exchanged
//!                   │                    │
//!                   └──deny──▶ Denied    └──too many wrong verifiers──▶ Burned
//!                 (any state but Exchanged is Expired once its TTL passes)
//! access token:   Active ──revoke──▶ Revoked
//!                   │
//!                   └──refresh (OAuth Session extension)──▶ Revoked, and a new
//!                      Active token with the same session
//! ```
//!
//! Transitions are pure functions from one record to the next; an illegal
//! transition is an error value, so no code path can build an illegal state.
//! Stores persist transitions with compare-and-set on [`StateTag`].
//!
//! With the `serde` feature every type here but [`TransitionError`]
//! deserializes; those without a secret serialize, and the records that hold
//! one ([`RequestToken`], [`RequestTokenState`], [`AccessToken`],
//! [`Session`]) serialize only through
//! [`secret_in_clear`](crate::model::secret_in_clear), by name.

use time::OffsetDateTime;

use crate::model::callback_url::callback_origin;
use crate::model::grant::Granted;
use crate::model::secret::{SessionHandle, TokenSecret, Verifier};
use crate::model::user::User;

/// Where the user's browser goes after the authorize step.
///
/// Serialized (feature `serde`) as `"oob"` or `{"url": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Callback {
    /// Out of band: the verifier is shown to the user to type in.
    Oob,
    /// A URL under one of the consumer's registered prefixes.
    Url(String),
}

impl Callback {
    /// Parses an `oauth_callback` value (`oob` in any case, or a URL).
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("oob") {
            Self::Oob
        } else {
            Self::Url(value.to_owned())
        }
    }

    /// Where the user's browser goes, as the consent page should name it:
    /// the origin (`scheme://host[:port]`) a browser visits for the URL,
    /// read by the WHATWG URL Standard — an internationalized host in its
    /// `xn--` form, a default port left out. `None` for `oob`, and for a
    /// URL the provider would not accept today (backslashes, user-info,
    /// whitespace, an authority a person reads otherwise), which a store
    /// may still hold from before.
    ///
    /// ```
    /// use oauth1_provider::model::Callback;
    /// let shown = |url: &str| Callback::Url(url.into()).origin();
    /// assert_eq!(shown("https://App.example:443/cb?x=1").as_deref(), Some("https://app.example"));
    /// assert_eq!(shown("http://127.0.0.1:18195\\@good.example/cb"), None);
    /// ```
    pub fn origin(&self) -> Option<String> {
        match self {
            Self::Oob => None,
            Self::Url(url) => callback_origin(url),
        }
    }

    /// The value as stored: `oob` or the URL.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Oob => "oob",
            Self::Url(url) => url,
        }
    }
}

/// Where a request token is in its lifecycle.
///
/// Written (feature `serde`, through
/// [`secret_in_clear`](crate::model::secret_in_clear)) as `"issued"`,
/// `{"authorized": {…}}`, … — `Authorized` with its verifier in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum RequestTokenState {
    /// Issued to the consumer, waiting for the user.
    Issued,
    /// Approved by `user`; exchangeable with `verifier`.
    Authorized {
        /// The user who approved.
        user: User,
        /// The verifier the consumer must present.
        verifier: Verifier,
        /// Wrong verifiers presented so far.
        failed_attempts: u32,
    },
    /// Exchanged for an access token: used up.
    Exchanged,
    /// Refused by the user.
    Denied,
    /// Too many wrong verifiers: unusable.
    Burned,
}

/// The part of a state that a compare-and-set compares: which state, and for
/// `Authorized` the failed-attempt count (so two racing wrong guesses cannot
/// both be counted as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum StateTag {
    /// [`RequestTokenState::Issued`].
    Issued,
    /// [`RequestTokenState::Authorized`] with this many failed attempts.
    Authorized {
        /// The failed-attempt count.
        failed_attempts: u32,
    },
    /// [`RequestTokenState::Exchanged`].
    Exchanged,
    /// [`RequestTokenState::Denied`].
    Denied,
    /// [`RequestTokenState::Burned`].
    Burned,
}

impl RequestTokenState {
    /// This state's tag.
    pub fn tag(&self) -> StateTag {
        match self {
            Self::Issued => StateTag::Issued,
            Self::Authorized {
                failed_attempts, ..
            } => StateTag::Authorized {
                failed_attempts: *failed_attempts,
            },
            Self::Exchanged => StateTag::Exchanged,
            Self::Denied => StateTag::Denied,
            Self::Burned => StateTag::Burned,
        }
    }
}

/// A temporary credential (request token) and what it was issued for.
///
/// With the `serde` feature it deserializes, and serializes only through
/// [`secret_in_clear`](crate::model::secret_in_clear): **its secret (and,
/// once authorized, its verifier) in the clear**, for a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct RequestToken {
    /// The token (`oauth_token`).
    pub token: String,
    /// Its shared secret.
    pub secret: TokenSecret,
    /// The consumer it was issued to.
    pub consumer_key: String,
    /// The host (`host[:port]`, normalized) it was obtained on; it is only
    /// usable there.
    pub host: String,
    /// Where to send the user afterwards.
    pub callback: Callback,
    /// The `scope` the consumer sent, as sent.
    pub scope: Option<String>,
    /// What the consumer asked for, as the user is asked to grant it: the
    /// `scope` read against the consumer's grants (see
    /// [`crate::model::Granted`]). Defaults (serde) to the whole app.
    #[cfg_attr(feature = "serde", serde(default))]
    pub grants: Granted,
    /// The `xoauth_displayname` the consumer sent, as sent.
    pub display_name: Option<String>,
    /// When it was issued.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When it stops being usable.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub expires_at: OffsetDateTime,
    /// Where it is in its lifecycle.
    pub state: RequestTokenState,
}

/// Why a transition is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The token's TTL has passed.
    #[error("the request token has expired")]
    Expired,
    /// The token was already exchanged.
    #[error("the request token was already used")]
    Used,
    /// The user denied it.
    #[error("the user denied the request token")]
    Denied,
    /// It was burned by wrong verifiers.
    #[error("the request token was invalidated after wrong verifiers")]
    Burned,
    /// It was already approved or denied (the authorize step happens once).
    #[error("the request token was already decided")]
    AlreadyDecided,
    /// It has not been approved yet.
    #[error("the request token is not authorized yet")]
    NotAuthorized,
}

impl RequestToken {
    /// Whether the TTL has passed at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// The state as seen at `now`, as an error when it is final.
    fn check_live(&self, now: OffsetDateTime) -> Result<(), TransitionError> {
        match self.state {
            RequestTokenState::Exchanged => Err(TransitionError::Used),
            RequestTokenState::Denied => Err(TransitionError::Denied),
            RequestTokenState::Burned => Err(TransitionError::Burned),
            _ if self.is_expired(now) => Err(TransitionError::Expired),
            _ => Ok(()),
        }
    }

    /// `Issued → Authorized{user, verifier}`.
    pub fn approve(
        &self,
        user: User,
        verifier: Verifier,
        now: OffsetDateTime,
    ) -> Result<Self, TransitionError> {
        self.check_live(now)?;
        match self.state {
            RequestTokenState::Issued => Ok(Self {
                state: RequestTokenState::Authorized {
                    user,
                    verifier,
                    failed_attempts: 0,
                },
                ..self.clone()
            }),
            _ => Err(TransitionError::AlreadyDecided),
        }
    }

    /// `Issued → Denied`.
    pub fn deny(&self, now: OffsetDateTime) -> Result<Self, TransitionError> {
        self.check_live(now)?;
        match self.state {
            RequestTokenState::Issued => Ok(Self {
                state: RequestTokenState::Denied,
                ..self.clone()
            }),
            _ => Err(TransitionError::AlreadyDecided),
        }
    }

    /// Checks `verifier` (in constant time) for the exchange.
    ///
    /// Right: `Ok(Ok((exchanged, user)))`, the `Exchanged` record and the
    /// approving user. Wrong: `Ok(Err(next))`, the record with one more failed
    /// attempt — `Burned` once `max_attempts` wrong verifiers were presented.
    /// Not exchangeable at all: `Err`.
    #[allow(clippy::type_complexity)]
    pub fn exchange(
        &self,
        verifier: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Result<(Self, User), Self>, TransitionError> {
        self.check_live(now)?;
        let RequestTokenState::Authorized {
            user,
            verifier: expected,
            failed_attempts,
        } = &self.state
        else {
            return Err(TransitionError::NotAuthorized);
        };
        if expected.ct_eq(verifier) {
            return Ok(Ok((
                Self {
                    state: RequestTokenState::Exchanged,
                    ..self.clone()
                },
                user.clone(),
            )));
        }
        let failed_attempts = failed_attempts + 1;
        let state = if failed_attempts >= max_attempts {
            RequestTokenState::Burned
        } else {
            RequestTokenState::Authorized {
                user: user.clone(),
                verifier: expected.clone(),
                failed_attempts,
            }
        };
        Ok(Err(Self {
            state,
            ..self.clone()
        }))
    }
}

/// Where an access token is in its lifecycle.
///
/// Serialized (feature `serde`) as `"active"` or `{"revoked": {"at": "…"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AccessTokenState {
    /// Usable.
    Active,
    /// Revoked by the user (or the host) at this time.
    Revoked {
        /// When.
        #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
        at: OffsetDateTime,
    },
}

/// The OAuth Session extension's part of an access token (Yahoo-style
/// expiring tokens): the handle that refreshes it, and how long the user's
/// authorization lasts across refreshes.
///
/// With the `serde` feature it deserializes, and serializes only through
/// [`secret_in_clear`](crate::model::secret_in_clear): **its handle in the
/// clear**, for a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct Session {
    /// `oauth_session_handle`: presented with the (possibly expired) token
    /// at the access-token endpoint to get a new one. Kept across refreshes.
    pub handle: SessionHandle,
    /// When the authorization itself ends: no refresh after it
    /// (`oauth_authorization_expires_in`). `None`: until revoked.
    #[cfg_attr(
        feature = "serde",
        serde(default, with = "time::serde::rfc3339::option")
    )]
    pub authorization_expires_at: Option<OffsetDateTime>,
}

impl Session {
    /// Whether the authorization has ended at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.authorization_expires_at.is_some_and(|at| now >= at)
    }
}

/// A token credential (access token): valid until its user revokes it — or,
/// with the OAuth Session extension, until `expires_at`, when the consumer
/// refreshes it with its session handle.
///
/// With the `serde` feature it deserializes, and serializes only through
/// [`secret_in_clear`](crate::model::secret_in_clear): **its secret (and
/// session handle) in the clear**, for a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct AccessToken {
    /// The token (`oauth_token`).
    pub token: String,
    /// Its shared secret.
    pub secret: TokenSecret,
    /// The consumer it was issued to.
    pub consumer_key: String,
    /// The host it was obtained on; only usable there.
    pub host: String,
    /// The user who authorized it.
    pub user: User,
    /// The `scope` sent with the request token, as sent.
    pub scope: Option<String>,
    /// What the user granted: kept through refreshes. Defaults (serde) to
    /// the whole app.
    #[cfg_attr(feature = "serde", serde(default))]
    pub grants: Granted,
    /// When it was granted.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub created_at: OffsetDateTime,
    /// When it stops working (`oauth_expires_in`); `None`: until revoked.
    #[cfg_attr(
        feature = "serde",
        serde(default, with = "time::serde::rfc3339::option")
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// Its OAuth Session extension data, when the provider issues sessions.
    #[cfg_attr(feature = "serde", serde(default))]
    pub session: Option<Session>,
    /// Active or revoked.
    pub state: AccessTokenState,
}

impl AccessToken {
    /// `Active → Revoked`; revoking a revoked token keeps the first time.
    pub fn revoke(&self, now: OffsetDateTime) -> Self {
        match self.state {
            AccessTokenState::Active => Self {
                state: AccessTokenState::Revoked { at: now },
                ..self.clone()
            },
            AccessTokenState::Revoked { .. } => self.clone(),
        }
    }

    /// Whether the token is usable (not revoked; see also
    /// [`AccessToken::is_expired`]).
    pub fn is_active(&self) -> bool {
        self.state == AccessTokenState::Active
    }

    /// Whether its lifetime has passed at `now` (only tokens of a session
    /// expire).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn issued(now: OffsetDateTime) -> RequestToken {
        RequestToken {
            token: "t".into(),
            secret: TokenSecret::new("s"),
            consumer_key: "k".into(),
            host: "example.com".into(),
            callback: Callback::Oob,
            scope: None,
            grants: Granted::WholeApp,
            display_name: None,
            created_at: now,
            expires_at: now + Duration::minutes(10),
            state: RequestTokenState::Issued,
        }
    }

    #[test]
    fn happy_path_and_single_use() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let t = issued(now);
        let user = User::new("a@example.com", "1");
        assert_eq!(t.exchange("v", 3, now), Err(TransitionError::NotAuthorized));
        let a = t.approve(user.clone(), Verifier::new("v"), now).unwrap();
        assert_eq!(a.state.tag(), StateTag::Authorized { failed_attempts: 0 });
        assert_eq!(
            a.approve(user.clone(), Verifier::new("w"), now),
            Err(TransitionError::AlreadyDecided)
        );
        assert_eq!(a.deny(now), Err(TransitionError::AlreadyDecided));
        let (x, u) = a.exchange("v", 3, now).unwrap().unwrap();
        assert_eq!(u, user);
        assert_eq!(x.state, RequestTokenState::Exchanged);
        assert_eq!(x.exchange("v", 3, now), Err(TransitionError::Used));
    }

    #[test]
    fn expiry_denial_and_burning() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let t = issued(now);
        let later = now + Duration::minutes(11);
        assert_eq!(
            t.approve(User::new("a@b", "1"), Verifier::new("v"), later),
            Err(TransitionError::Expired)
        );
        let d = t.deny(now).unwrap();
        assert_eq!(d.exchange("v", 3, now), Err(TransitionError::Denied));
        let mut a = t
            .approve(User::new("a@b", "1"), Verifier::new("v"), now)
            .unwrap();
        for n in 1..=3 {
            a = a.exchange("x", 3, now).unwrap().unwrap_err();
            if n < 3 {
                assert_eq!(a.state.tag(), StateTag::Authorized { failed_attempts: n });
            }
        }
        assert_eq!(a.state, RequestTokenState::Burned);
        assert_eq!(a.exchange("v", 3, now), Err(TransitionError::Burned));
    }
}
