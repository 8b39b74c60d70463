//! The temporary credentials endpoint (RFC 5849 §2.1), App Engine's
//! `/_ah/OAuthGetRequestToken`.

use std::fmt::Write as _;

use crate::model::callback_url::callback_href;
use crate::model::secret::TokenSecret;
use crate::model::text::is_hidden_character;
use crate::model::token::{Callback, RequestToken, RequestTokenState};
use crate::protocol::encoding::Encoded;
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::random::random_token;
use crate::protocol::request::Request;
use crate::protocol::response::Response;
use crate::protocol::signed_request::SignedRequest;
use crate::provider::context::{OAuthError, Reason};
use crate::provider::events::{AuditEvent, Endpoint, EventKind};
use crate::provider::{Provider, normalized_host};
use crate::store::{NonceStore, TokenStore};

/// The `Retry-After` of a consumer refused for holding too many request
/// tokens: the store does not say when its oldest expires, so a minute.
const RETRY_AFTER_SECONDS: u64 = 60;

/// Random bytes in tokens, secrets and verifiers: 192 bits, 32 URL-safe characters.
pub(crate) const TOKEN_BYTES: usize = 24;

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Answers a temporary-credentials request: signed with the client
    /// credentials only, `oauth_callback` required (a URL under one of the
    /// consumer's registered prefixes, or `oob` in any case). Issues a request
    /// token bound to the request's host, valid for the configured TTL (10
    /// minutes by default), and answers
    /// `oauth_token=…&oauth_token_secret=…&oauth_callback_confirmed=true`.
    ///
    /// A callback URL must read the same to a browser (the WHATWG URL
    /// Standard) as to a person — no `\`, user-info, whitespace or control
    /// character (see [`Callback::origin`]) — and is recorded as a browser
    /// will request it (ASCII, `xn--` hosts, no default port).
    ///
    /// `scope` and `xoauth_displayname`, when sent, are recorded as sent,
    /// within [`Limits`]' `max_scope_bytes` and `max_display_name_chars`
    /// (400 `parameter_rejected` past them, or for a display name holding a
    /// [hidden character](crate::model::is_hidden_character)). A consumer
    /// holding [`ProviderConfig::max_request_tokens`] unexpired request
    /// tokens ([`ProviderConfig::max_anonymous_request_tokens`] for
    /// `anonymous`) is refused with 429 `consumer_key_refused` and
    /// `Retry-After`.
    ///
    /// [`Limits`]: crate::protocol::Limits
    /// [`ProviderConfig::max_request_tokens`]: crate::ProviderConfig::max_request_tokens
    /// [`ProviderConfig::max_anonymous_request_tokens`]: crate::ProviderConfig::max_anonymous_request_tokens
    pub async fn request_token(&self, request: &Request<'_>) -> Response {
        match self.issue_request_token(request).await {
            Ok(token) => {
                let mut body = String::with_capacity(128);
                let _ = write!(
                    body,
                    "oauth_token={}&oauth_token_secret={}&oauth_callback_confirmed=true",
                    Encoded(&token.token),
                    Encoded(token.secret.secret())
                );
                Response::credentials(body)
            }
            Err(e) => self.refusal(&e, Endpoint::RequestToken, request),
        }
    }

    async fn issue_request_token(&self, request: &Request<'_>) -> Result<RequestToken, OAuthError> {
        let now = self.now();
        let signed = self.precheck(request, &["oauth_callback"], now)?;
        if signed.token().is_some() {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::ParameterRejected)
                    .with_advice("a temporary-credentials request carries no oauth_token"),
                Reason::Protocol,
            ));
        }
        let host = normalized_host(request.scheme, request.authority)
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?;
        let scope = signed.param("scope");
        let display_name = signed.param("xoauth_displayname");
        self.check_recorded_values(scope.as_deref(), display_name.as_deref())?;
        let consumer = self.verify_consumer_only(request, &signed, now).await?;
        let grants = self.requested_grants(&consumer, scope.as_deref())?;
        let callback = signed.callback().unwrap_or("");
        if !consumer.allows_callback(callback) {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::ParameterRejected)
                    .with_advice("oauth_callback is not registered for this consumer"),
                Reason::CallbackNotAllowed,
            ));
        }
        let cap = if consumer.unverified {
            self.config.max_anonymous_request_tokens
        } else {
            self.config.max_request_tokens
        };
        if self.store.count_request_tokens(&consumer.key, now).await? >= cap {
            return Err(OAuthError::refused(
                ProtocolError::throttled(
                    "this consumer holds as many request tokens as it may; \
                     exchange or let some expire, then try again",
                    RETRY_AFTER_SECONDS,
                ),
                Reason::TooManyRequestTokens,
            ));
        }
        let ttl = time::Duration::try_from(self.config.request_token_ttl)
            .unwrap_or(time::Duration::minutes(10));
        let token = RequestToken {
            token: random_token(TOKEN_BYTES)?,
            secret: TokenSecret::new(random_token(TOKEN_BYTES)?),
            consumer_key: consumer.key.clone(),
            host,
            // Kept as the browser will request it (see `Callback::origin`).
            callback: match callback_href(callback) {
                Some(href) => Callback::Url(href),
                None => Callback::parse(callback),
            },
            scope: scope.map(|s| s.into_owned()),
            grants,
            display_name: display_name.map(|s| s.into_owned()),
            created_at: now,
            expires_at: now + ttl,
            state: RequestTokenState::Issued,
        };
        self.store.insert_request_token(&token).await?;
        self.emit(
            AuditEvent::new(now, EventKind::RequestTokenIssued)
                .consumer(&token.consumer_key)
                .token(&token.token),
        );
        Ok(token)
    }

    /// Refuses a `scope` or `xoauth_displayname` the token may not record:
    /// over its limit, or a display name with a hidden character.
    fn check_recorded_values(
        &self,
        scope: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<(), OAuthError> {
        let limits = &self.config.limits;
        let rejected = |advice: &'static str| {
            OAuthError::refused(
                ProtocolError::new(Problem::ParameterRejected).with_advice(advice),
                Reason::ValueRejected,
            )
        };
        if scope.is_some_and(|s| s.len() > limits.max_scope_bytes) {
            return Err(rejected("scope is too long"));
        }
        if let Some(name) = display_name {
            if name.chars().nth(limits.max_display_name_chars).is_some() {
                return Err(rejected("xoauth_displayname is too long"));
            }
            if name.chars().any(is_hidden_character) {
                return Err(rejected(
                    "xoauth_displayname holds control, bidirectional or invisible characters",
                ));
            }
        }
        Ok(())
    }

    /// Records a refusal with its precise reason (an [`EventKind::Refused`]
    /// audit event: the consumer key the client sent and its token's prefix,
    /// never a secret), logs a service failure, and renders either.
    ///
    /// The parameters are collected again here rather than carried out of
    /// every refusal path: a refusal costs one more parse, never a store
    /// call or a signature.
    pub(crate) fn refusal(
        &self,
        error: &OAuthError,
        endpoint: Endpoint,
        request: &Request<'_>,
    ) -> Response {
        match error {
            OAuthError::Request(e) => {
                let mut event = AuditEvent::new(
                    self.now(),
                    EventKind::Refused {
                        endpoint,
                        problem: e.protocol_error().problem(),
                        reason: e.reason(),
                    },
                );
                event.peer = request.peer;
                if let Ok(signed) = SignedRequest::collect(request, &self.config.limits) {
                    if let Some(key) = signed.consumer_key() {
                        event = event.consumer(key);
                    }
                    if let Some(token) = signed.token() {
                        event = event.token(token);
                    }
                }
                self.emit(event);
            }
            OAuthError::ServiceFailure(e) => tracing::error!(
                endpoint = endpoint.name(),
                error = %e,
                source = ?std::error::Error::source(e).map(ToString::to_string),
                "OAuth service failure"
            ),
        }
        error.to_response(&self.config.realm)
    }
}
