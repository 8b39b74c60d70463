//! The token credentials endpoint (RFC 5849 §2.3), App Engine's
//! `/_ah/OAuthGetAccessToken`.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::model::secret::{SessionHandle, TokenSecret};
use crate::model::token::{
    AccessToken, AccessTokenState, RequestTokenState, Session, TransitionError,
};
use crate::protocol::base_string::BaseUri;
use crate::protocol::encoding::Encoded;
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::random::random_token;
use crate::protocol::request::Request;
use crate::protocol::response::Response;
use crate::protocol::signed_request::SignedRequest;
use crate::provider::context::{OAuthError, Reason};
use crate::provider::events::{AuditEvent, Endpoint, EventKind, RevokedBy};
use crate::provider::request_token::TOKEN_BYTES;
use crate::provider::{Provider, single_param};
use crate::store::{NonceStore, StoreError, TokenStore};

/// The OAuth Session extension's handle parameter.
pub(crate) const SESSION_HANDLE_PARAM: &str = "oauth_session_handle";

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Answers a token-credentials request: signed with the client
    /// credentials and the request token, with `oauth_verifier`. The request
    /// token must be authorized, unexpired, unused, the consumer's, and
    /// obtained on this host; the verifier is compared in constant time, and
    /// a few wrong ones burn the token. The exchange is atomic: of many racing
    /// requests, exactly one gets `oauth_token=…&oauth_token_secret=…`.
    ///
    /// With the OAuth Session extension on ([`ProviderConfig::sessions`]),
    /// the answer adds `oauth_expires_in`, `oauth_session_handle` and
    /// `oauth_authorization_expires_in`, and a request with
    /// `oauth_session_handle` instead of a verifier, signed with the
    /// (possibly expired) access token, refreshes it: a new token for the
    /// same session, the old one retired — atomically, so of racing
    /// refreshes one wins. A wrong handle → 401 `token_rejected`; the
    /// session's authorization ended → 401 `token_expired`; a token already
    /// refreshed or revoked → 401 `token_revoked`.
    ///
    /// [`ProviderConfig::sessions`]: crate::ProviderConfig::sessions
    pub async fn access_token(&self, request: &Request<'_>) -> Response {
        let result = match self.collect(request) {
            Err(e) => Err(e),
            Ok(signed)
                if signed
                    .encoded_params()
                    .any(|(n, _)| n == SESSION_HANDLE_PARAM) =>
            {
                self.refresh(request, signed).await
            }
            Ok(signed) => self.exchange(request, signed).await,
        };
        match result {
            Ok(token) => Response::credentials(Self::credentials_body(&token)),
            Err(e) => self.refusal(&e, Endpoint::AccessToken, request),
        }
    }

    /// `oauth_token=…&oauth_token_secret=…`, and the session's parameters.
    fn credentials_body(token: &AccessToken) -> String {
        let mut body = String::with_capacity(192);
        let _ = write!(
            body,
            "oauth_token={}&oauth_token_secret={}",
            Encoded(&token.token),
            Encoded(token.secret.secret())
        );
        // Counted from the token's own creation, the instant it was issued.
        let seconds = |at: OffsetDateTime| (at - token.created_at).whole_seconds().max(0);
        if let Some(expires_at) = token.expires_at {
            let _ = write!(body, "&oauth_expires_in={}", seconds(expires_at));
        }
        if let Some(session) = &token.session {
            let _ = write!(
                body,
                "&oauth_session_handle={}",
                Encoded(session.handle.secret())
            );
            if let Some(at) = session.authorization_expires_at {
                let _ = write!(body, "&oauth_authorization_expires_in={}", seconds(at));
            }
        }
        body
    }

    /// A new access token's lifetime and session under the configuration:
    /// `session` continues an existing one (a refresh).
    pub(crate) fn session_terms(
        &self,
        now: OffsetDateTime,
        session: Option<Session>,
    ) -> Result<(Option<OffsetDateTime>, Option<Session>), OAuthError> {
        let Some(config) = &self.config.sessions else {
            return Ok((None, None));
        };
        let duration =
            |d: std::time::Duration| time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
        let session = match session {
            Some(session) => session,
            None => Session {
                handle: SessionHandle::new(random_token(TOKEN_BYTES)?),
                authorization_expires_at: config
                    .authorization_ttl
                    .map(|ttl| now.saturating_add(duration(ttl))),
            },
        };
        let expires_at = now.saturating_add(duration(config.access_token_ttl));
        // Never past the authorization it belongs to.
        let expires_at = session
            .authorization_expires_at
            .map_or(expires_at, |end| expires_at.min(end));
        Ok((Some(expires_at), Some(session)))
    }

    /// The OAuth Session extension's refresh (see [`Provider::access_token`]).
    async fn refresh(
        &self,
        request: &Request<'_>,
        signed: SignedRequest<'_>,
    ) -> Result<AccessToken, OAuthError> {
        let now = self.now();
        self.precheck_collected(
            request,
            &signed,
            &["oauth_token", SESSION_HANDLE_PARAM],
            now,
        )?;
        if self.config.sessions.is_none() {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::ParameterRejected)
                    .with_advice("this provider does not issue sessions"),
                Reason::Protocol,
            ));
        }
        let handle = single_param(&signed, SESSION_HANDLE_PARAM)
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?
            .unwrap_or_default();
        let host = BaseUri::new(request.scheme, request.authority, "")
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?;
        let consumer = self
            .find_consumer(signed.consumer_key().unwrap_or(""))
            .await?;
        let record = self
            .store
            .get_access_token(signed.token().unwrap_or(""))
            .await?;
        let old = self
            .verify_with_token(request, &signed, consumer.as_deref(), record, now)
            .await?;
        if let AccessTokenState::Revoked { .. } = old.state {
            return Err(OAuthError::refused(Problem::TokenRevoked, Reason::Revoked));
        }
        if !host.has_host_string(&old.host) {
            return Err(OAuthError::refused(
                Problem::TokenRejected,
                Reason::WrongHost,
            ));
        }
        let session = match &old.session {
            Some(session) if session.handle.ct_eq(&handle) => session.clone(),
            _ => {
                return Err(OAuthError::refused(
                    ProtocolError::new(Problem::TokenRejected)
                        .with_advice("the session handle does not belong to this token"),
                    Reason::WrongSessionHandle,
                ));
            }
        };
        if session.is_expired(now) {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::TokenExpired)
                    .with_advice("the authorization has ended: ask the user again"),
                Reason::AuthorizationExpired,
            ));
        }
        let (expires_at, session) = self.session_terms(now, Some(session))?;
        let next = AccessToken {
            token: random_token(TOKEN_BYTES)?,
            secret: TokenSecret::new(random_token(TOKEN_BYTES)?),
            created_at: now,
            expires_at,
            session,
            ..old.clone()
        };
        if self
            .store
            .refresh_access_token(&old.token, now, &next)
            .await?
        {
            self.emit(
                AuditEvent::new(now, EventKind::AccessTokenRefreshed)
                    .consumer(&next.consumer_key)
                    .user(&next.user.user_id)
                    .token(&next.token),
            );
            Ok(next)
        } else {
            // Another request refreshed (or the user revoked) it first.
            Err(OAuthError::refused(Problem::TokenRevoked, Reason::Revoked))
        }
    }

    async fn exchange(
        &self,
        request: &Request<'_>,
        signed: SignedRequest<'_>,
    ) -> Result<AccessToken, OAuthError> {
        let now = self.now();
        self.precheck_collected(request, &signed, &["oauth_token", "oauth_verifier"], now)?;
        let host = BaseUri::new(request.scheme, request.authority, "")
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?;
        let consumer = self
            .find_consumer(signed.consumer_key().unwrap_or(""))
            .await?;
        let record = self
            .store
            .get_request_token(signed.token().unwrap_or(""))
            .await?;
        let record = self
            .verify_with_token(request, &signed, consumer.as_deref(), record, now)
            .await?;
        if !host.has_host_string(&record.host) {
            return Err(OAuthError::refused(
                Problem::TokenRejected,
                Reason::WrongHost,
            ));
        }
        let verifier = signed.verifier().unwrap_or("");
        // Each pass decides on the token as stored. A compare-and-set that
        // loses means another request changed the token first (counted a
        // wrong guess, exchanged it, burned it): read it again and decide
        // again, so that every wrong guess is counted (the attempt limit
        // holds under concurrency) and a right verifier is not refused
        // because a wrong guess landed first. Every lost race is another
        // request's won one, and an authorized token takes at most
        // `max_verifier_attempts + 1` writes, so a store whose
        // compare-and-set works ends this within that many passes.
        let mut record = record;
        for _ in 0..=self.config.max_verifier_attempts.saturating_add(1) {
            let expected = record.state.tag();
            match record.exchange(verifier, self.config.max_verifier_attempts, now) {
                Err(e) => return Err(transition_refusal(e)),
                Ok(Err(counted)) => {
                    if self.store.update_request_token(expected, &counted).await? {
                        if counted.state == RequestTokenState::Burned {
                            self.emit(
                                AuditEvent::new(now, EventKind::Burned)
                                    .consumer(&counted.consumer_key)
                                    .token(&counted.token),
                            );
                        }
                        return Err(OAuthError::refused(
                            Problem::VerifierInvalid,
                            Reason::WrongVerifier,
                        ));
                    }
                }
                Ok(Ok((exchanged, user))) => {
                    let (expires_at, session) = self.session_terms(now, None)?;
                    let access = AccessToken {
                        token: random_token(TOKEN_BYTES)?,
                        secret: TokenSecret::new(random_token(TOKEN_BYTES)?),
                        consumer_key: record.consumer_key.clone(),
                        host: record.host.clone(),
                        user,
                        scope: record.scope.clone(),
                        grants: record.grants.clone(),
                        created_at: now,
                        expires_at,
                        session,
                        state: AccessTokenState::Active,
                    };
                    if self
                        .store
                        .exchange_request_token(expected, &exchanged, &access)
                        .await?
                    {
                        self.emit(
                            AuditEvent::new(now, EventKind::Exchanged)
                                .consumer(&record.consumer_key)
                                .user(&access.user.user_id)
                                .token(&record.token),
                        );
                        self.emit_issued(&access);
                        let shared = consumer.as_deref().is_some_and(|c| c.unverified);
                        if self.config.replace_earlier_grants && !shared {
                            self.revoke_earlier_grants(&access, now).await;
                        }
                        return Ok(access);
                    }
                }
            }
            record = match self.store.get_request_token(&record.token).await? {
                Some(current) => current,
                // Gone under us: only purging expired tokens deletes them.
                None => return Err(transition_refusal(TransitionError::Expired)),
            };
        }
        Err(StoreError::new(
            "the request token kept changing under its exchange: the store's compare-and-set \
             does not hold",
        )
        .into())
    }
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Records an [`EventKind::AccessTokenIssued`] for `access`.
    pub(crate) fn emit_issued(&self, access: &AccessToken) {
        self.emit(
            AuditEvent::new(access.created_at, EventKind::AccessTokenIssued)
                .consumer(&access.consumer_key)
                .user(&access.user.user_id)
                .token(&access.token),
        );
    }

    /// Revokes the user's other active access tokens for `access`'s
    /// consumer ([`ProviderConfig::replace_earlier_grants`]). The new token
    /// is issued already: a store failure here is logged, and the earlier
    /// grants stay until the user revokes them or the next exchange.
    ///
    /// [`ProviderConfig::replace_earlier_grants`]: crate::ProviderConfig::replace_earlier_grants
    pub(crate) async fn revoke_earlier_grants(&self, access: &AccessToken, now: OffsetDateTime) {
        let result = async {
            let mut revoked = 0;
            for earlier in self.store.list_user_tokens(&access.user.user_id).await? {
                if earlier.consumer_key == access.consumer_key
                    && earlier.token != access.token
                    && self.store.revoke_access_token(&earlier.token, now).await?
                {
                    revoked += 1;
                }
            }
            Ok::<_, StoreError>(revoked)
        };
        match result.await {
            Ok(0) => {}
            Ok(count) => self.emit(
                AuditEvent::new(
                    now,
                    EventKind::AccessTokenRevoked {
                        by: RevokedBy::Replaced,
                        count,
                    },
                )
                .consumer(&access.consumer_key)
                .user(&access.user.user_id),
            ),
            Err(error) => tracing::warn!(
                consumer = ?access.consumer_key,
                error = %error,
                "could not revoke the user's earlier grants to the consumer"
            ),
        }
    }
}

/// The answer for a request token that cannot be exchanged.
pub(crate) fn transition_refusal(e: TransitionError) -> OAuthError {
    match e {
        TransitionError::Expired => OAuthError::refused(Problem::TokenExpired, Reason::Expired),
        TransitionError::Used => OAuthError::refused(Problem::TokenUsed, Reason::Used),
        TransitionError::Denied => OAuthError::refused(Problem::TokenRejected, Reason::Denied),
        TransitionError::Burned => OAuthError::refused(Problem::TokenRejected, Reason::Burned),
        TransitionError::NotAuthorized | TransitionError::AlreadyDecided => {
            OAuthError::refused(Problem::TokenRejected, Reason::NotAuthorized)
        }
    }
}
