//! What the host's handlers see: App Engine's `get_current_user`,
//! `is_current_user_admin` and `get_oauth_consumer_key`, and its error
//! taxonomy (`OAuthRequestError`, `OAuthServiceFailure`).

use std::sync::Arc;

use crate::model::grant::Granted;
use crate::model::token::AccessToken;
use crate::model::user::User;
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::response::{FORM_CONTENT_TYPE, Response};
use crate::store::StoreError;

/// App Engine's kinds of `OAuthRequestError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthRequestErrorKind {
    /// The request is valid OAuth but not allowed: a disabled consumer, a
    /// two-legged request from a consumer not allowed them, no user behind a
    /// two-legged request.
    NotAllowed,
    /// The OAuth parameters are missing, malformed, or do not verify.
    InvalidOAuthParameters,
    /// The token is unknown to the client's eyes, expired, used, revoked, or
    /// from another host.
    InvalidOAuthToken,
}

/// The precise reason a request was refused, for the host's logs and
/// diagnostics. Clients get the coarser [`ProtocolError`]: an unknown
/// consumer, an unknown token and a bad signature all look like
/// `signature_invalid` to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The request broke the protocol (see the [`ProtocolError`]).
    Protocol,
    /// The consumer key is not registered.
    UnknownConsumer,
    /// The token is not known.
    UnknownToken,
    /// The token belongs to another consumer.
    TokenOfAnotherConsumer,
    /// The signature does not verify.
    BadSignature,
    /// The consumer is stored but not approved (proposed, rejected or
    /// disabled): answered exactly as an unknown consumer.
    ConsumerNotApproved,
    /// The consumer may not use this signature method.
    MethodNotAllowedForConsumer,
    /// PLAINTEXT over plain `http`.
    PlaintextWithoutTls,
    /// The nonce was already used.
    Replay,
    /// The token was obtained on another host.
    WrongHost,
    /// The request token expired.
    Expired,
    /// The request token was already exchanged.
    Used,
    /// The request token was denied by the user.
    Denied,
    /// The request token was burned by wrong verifiers.
    Burned,
    /// The request token was not approved yet.
    NotAuthorized,
    /// The verifier is wrong.
    WrongVerifier,
    /// The access token was revoked.
    Revoked,
    /// The callback is not registered for the consumer.
    CallbackNotAllowed,
    /// A two-legged request from a consumer not allowed them.
    TwoLeggedNotAllowed,
    /// A two-legged request has no user behind it.
    NoUser,
    /// `xoauth_requestor_id` names a user of a domain the consumer is not
    /// trusted for (or is not an address).
    RequestorNotAllowed,
    /// `xoauth_requestor_id` names a user the host's requestor lookup does
    /// not know (or the host has none).
    UnknownRequestor,
    /// `oauth_body_hash` does not match the body.
    BodyHashMismatch,
    /// The access token's lifetime (OAuth Session extension) has passed.
    AccessTokenExpired,
    /// The session handle does not belong to the token being refreshed.
    WrongSessionHandle,
    /// The session's authorization has ended: no more refreshes.
    AuthorizationExpired,
    /// A request to a protected resource carried no OAuth protocol
    /// parameter at all (answered 401 with a bare challenge).
    NoCredentials,
    /// `scope` or `xoauth_displayname` is over its limit, or the display
    /// name holds control, bidirectional or invisible characters.
    ValueRejected,
    /// The consumer holds as many unexpired request tokens as it may.
    TooManyRequestTokens,
    /// `scope` names a grant the consumer was not registered for.
    GrantNotRegistered,
    /// The request is authentic, but its token was not granted what the
    /// route needs ([`OAuthContext::require_grant`]): 403.
    GrantMissing,
    /// The identity endpoint was asked without an access token (a
    /// two-legged request, even one naming a user, or development mode).
    NoAccessToken,
    /// The identity endpoint was asked by a consumer without a secret of
    /// its own to sign the identity token with (an RSA consumer, or the
    /// unverified `anonymous` consumer, whose secret is public): 403.
    NoConsumerSecret,
}

/// A request the provider refuses (App Engine's `OAuthRequestError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {error}")]
pub struct OAuthRequestError {
    kind: OAuthRequestErrorKind,
    error: ProtocolError,
    reason: Reason,
}

impl OAuthRequestError {
    pub(crate) fn new(error: ProtocolError, reason: Reason) -> Self {
        let kind = match (reason, error.problem()) {
            (
                Reason::TwoLeggedNotAllowed
                | Reason::NoUser
                | Reason::NoAccessToken
                | Reason::GrantMissing
                | Reason::NoConsumerSecret
                | Reason::RequestorNotAllowed
                | Reason::UnknownRequestor
                | Reason::MethodNotAllowedForConsumer,
                _,
            ) => OAuthRequestErrorKind::NotAllowed,
            (
                _,
                Problem::TokenExpired
                | Problem::TokenRejected
                | Problem::TokenRevoked
                | Problem::TokenUsed
                | Problem::VerifierInvalid
                | Problem::UserRefused,
            ) => OAuthRequestErrorKind::InvalidOAuthToken,
            _ => OAuthRequestErrorKind::InvalidOAuthParameters,
        };
        Self {
            kind,
            error,
            reason,
        }
    }

    /// App Engine's kind of error.
    pub fn kind(&self) -> OAuthRequestErrorKind {
        self.kind
    }

    /// What the client is told: status and `oauth_problem`.
    pub fn protocol_error(&self) -> &ProtocolError {
        &self.error
    }

    /// The precise reason, for the host only (never send it to the client).
    pub fn reason(&self) -> Reason {
        self.reason
    }
}

/// The provider's infrastructure failed (App Engine's `OAuthServiceFailure`):
/// the store, or the OS random source. Answered with 503.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the OAuth service failed")]
pub struct OAuthServiceFailure(#[source] Arc<dyn std::error::Error + Send + Sync + 'static>);

impl OAuthServiceFailure {
    pub(crate) fn new(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(source))
    }
}

/// Why a request did not authenticate.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The request was refused (400/401).
    #[error(transparent)]
    Request(#[from] OAuthRequestError),
    /// The service failed (503).
    #[error(transparent)]
    ServiceFailure(#[from] OAuthServiceFailure),
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::ServiceFailure(OAuthServiceFailure::new(e))
    }
}

impl From<crate::protocol::random::RandomError> for OAuthError {
    fn from(e: crate::protocol::random::RandomError) -> Self {
        Self::ServiceFailure(OAuthServiceFailure::new(e))
    }
}

impl OAuthError {
    pub(crate) fn refused(problem: impl Into<ProtocolError>, reason: Reason) -> Self {
        Self::Request(OAuthRequestError::new(problem.into(), reason))
    }

    /// The HTTP status to answer with: 400, 401 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Self::Request(e) => e.error.status(),
            Self::ServiceFailure(_) => 503,
        }
    }

    /// The `oauth_problem`, for refusals.
    pub fn problem(&self) -> Option<Problem> {
        match self {
            Self::Request(e) => Some(e.error.problem()),
            Self::ServiceFailure(_) => None,
        }
    }

    /// The precise reason, for the host's diagnostics; `None` for a service
    /// failure.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Request(e) => Some(e.reason),
            Self::ServiceFailure(_) => None,
        }
    }

    /// The response to send: the Problem Reporting form body with
    /// `WWW-Authenticate: OAuth realm="…", oauth_problem="…"`, or a 503.
    pub fn to_response(&self, realm: &str) -> Response {
        match self {
            Self::Request(e) => {
                let mut headers = vec![
                    ("www-authenticate", e.error.www_authenticate(realm)),
                    ("content-type", FORM_CONTENT_TYPE.to_owned()),
                    ("cache-control", "no-store".to_owned()),
                ];
                if let Some(seconds) = e.error.retry_after() {
                    headers.push(("retry-after", seconds.to_string()));
                }
                Response {
                    status: e.error.status(),
                    headers,
                    body: e.error.form_body(),
                }
            }
            Self::ServiceFailure(_) => Response {
                status: 503,
                headers: vec![
                    ("content-type", "text/plain; charset=utf-8".to_owned()),
                    ("retry-after", "1".to_owned()),
                    ("cache-control", "no-store".to_owned()),
                ],
                body: "The OAuth service is temporarily unavailable.".to_owned(),
            },
        }
    }
}

/// Who is behind a request that authenticated: the verdict for one request,
/// computed once by [`Provider::authenticate`](crate::Provider::authenticate)
/// and reused by every later question about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthContext {
    pub(crate) credentials: Credentials,
    /// The token's grants narrowed to what its consumer may still be
    /// granted, when that is less (see [`OAuthContext::grants`]).
    pub(crate) narrowed: Option<Granted>,
}

/// What a request was authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// An access token, shared with the store that has it (nothing of it is
    /// copied per request).
    Token(Arc<AccessToken>),
    /// A consumer's own credentials (a two-legged request, or development
    /// mode), with the user it acts for, if any.
    Consumer {
        consumer_key: String,
        user: Option<User>,
        requestor_id: Option<String>,
        /// The consumer's own grants (the whole app in development mode).
        granted: Granted,
    },
}

/// The refusal of a user-only question about a request without a user.
fn no_user() -> OAuthError {
    OAuthError::refused(
        ProtocolError::new(Problem::PermissionDenied)
            .with_advice("this request carries no user authorization"),
        Reason::NoUser,
    )
}

impl OAuthContext {
    /// The user who authorized the token (App Engine's `get_current_user`).
    /// A two-legged request has none: `NotAllowed`.
    pub fn get_current_user(&self) -> Result<&User, OAuthError> {
        self.user().ok_or_else(no_user)
    }

    /// The user, if the request has one.
    pub(crate) fn user(&self) -> Option<&User> {
        match &self.credentials {
            Credentials::Token(token) => Some(&token.user),
            Credentials::Consumer { user, .. } => user.as_ref(),
        }
    }

    /// [`OAuthContext::get_current_user`], taking the user out (copied when
    /// the token is still shared with its store).
    pub(crate) fn into_user(self) -> Result<User, OAuthError> {
        match self.credentials {
            Credentials::Token(token) => {
                Ok(Arc::try_unwrap(token).map_or_else(|shared| shared.user.clone(), |t| t.user))
            }
            Credentials::Consumer { user, .. } => user.ok_or_else(no_user),
        }
    }

    /// Whether the user is an admin of the host app (`is_current_user_admin`).
    pub fn is_current_user_admin(&self) -> Result<bool, OAuthError> {
        Ok(self.get_current_user()?.admin)
    }

    /// The consumer key of the signed request (`get_oauth_consumer_key`).
    pub fn get_oauth_consumer_key(&self) -> &str {
        match &self.credentials {
            Credentials::Token(token) => &token.consumer_key,
            Credentials::Consumer { consumer_key, .. } => consumer_key,
        }
    }

    /// The access token record used, if any.
    pub(crate) fn access_token(&self) -> Option<&AccessToken> {
        match &self.credentials {
            Credentials::Token(token) => Some(token),
            Credentials::Consumer { .. } => None,
        }
    }

    /// The access token used, if any (none for a two-legged request).
    pub fn token(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Token(token) => Some(&token.token),
            Credentials::Consumer { .. } => None,
        }
    }

    /// The `scope` the consumer sent when it asked for the request token
    /// behind this access token, as sent. What it was granted is
    /// [`OAuthContext::grants`]. `None` without an access token or when
    /// none was sent.
    pub fn scope(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Token(token) => token.scope.as_deref(),
            Credentials::Consumer { .. } => None,
        }
    }

    /// What this request may do: the grants the user approved for its
    /// access token (kept through refreshes), or for a request without a
    /// token the consumer's own grants; App Engine's whole app when the
    /// consumer has none. A grant the consumer may no longer ask for (the
    /// host took it from the consumer, or stopped declaring it) is no
    /// longer granted by its earlier tokens either.
    pub fn grants(&self) -> &Granted {
        if let Some(narrowed) = &self.narrowed {
            return narrowed;
        }
        match &self.credentials {
            Credentials::Token(token) => &token.grants,
            Credentials::Consumer { granted, .. } => granted,
        }
    }

    /// Whether this request may use what `grant` covers
    /// ([`Granted::allows`]): always for a whole-app token and for
    /// [`IDENTITY_GRANT`](crate::model::IDENTITY_GRANT).
    pub fn has_grant(&self, grant: &str) -> bool {
        self.grants().allows(grant)
    }

    /// [`OAuthContext::has_grant`], as the refusal to answer when it is
    /// false: 403 `permission_denied`, naming the grant in the advice. The
    /// request was authentic (its nonce is recorded); only this route is
    /// beyond its grants.
    ///
    /// ```
    /// # use oauth1_provider::OAuthContext;
    /// fn delete_photo(context: &OAuthContext) -> Result<(), oauth1_provider::OAuthError> {
    ///     context.require_grant("photos.write")?;
    ///     // … delete it
    ///     Ok(())
    /// }
    /// # let _ = delete_photo;
    /// ```
    pub fn require_grant(&self, grant: &str) -> Result<(), OAuthError> {
        if self.has_grant(grant) {
            return Ok(());
        }
        Err(OAuthError::refused(
            ProtocolError::forbidden(format!(
                "this token was not granted {grant}; ask the user again with it in scope"
            )),
            Reason::GrantMissing,
        ))
    }

    /// For a two-legged request made on a user's behalf, the
    /// `xoauth_requestor_id` it named (the user is then
    /// [`OAuthContext::get_current_user`]).
    pub fn requestor_id(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Token(_) => None,
            Credentials::Consumer { requestor_id, .. } => requestor_id.as_deref(),
        }
    }
}
