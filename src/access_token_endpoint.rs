//! The token credentials endpoint (RFC 5849 §2.3), App Engine's
//! `/_ah/OAuthGetAccessToken`.

use std::fmt::Write as _;

use crate::encoding::Encoded;
use crate::error::Problem;
use crate::host_api::{OAuthError, Reason};
use crate::provider::{Provider, normalized_host};
use crate::random::random_token;
use crate::request::Request;
use crate::request_token_endpoint::TOKEN_BYTES;
use crate::response::Response;
use crate::secret::TokenSecret;
use crate::store::{NonceStore, TokenStore};
use crate::token::{AccessToken, AccessTokenState, TransitionError};

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Answers a token-credentials request: signed with the client
    /// credentials and the request token, with `oauth_verifier`. The request
    /// token must be authorized, unexpired, unused, the consumer's, and
    /// obtained on this host; the verifier is compared in constant time, and
    /// a few wrong ones burn the token. The exchange is atomic: of many racing
    /// requests, exactly one gets `oauth_token=…&oauth_token_secret=…`.
    pub async fn access_token(&self, request: &Request<'_>) -> Response {
        match self.exchange(request).await {
            Ok(token) => {
                let mut body = String::with_capacity(96);
                let _ = write!(
                    body,
                    "oauth_token={}&oauth_token_secret={}",
                    Encoded(&token.token),
                    Encoded(token.secret.secret())
                );
                Response::credentials(body)
            }
            Err(e) => self.refusal(&e, "access_token"),
        }
    }

    async fn exchange(&self, request: &Request<'_>) -> Result<AccessToken, OAuthError> {
        let signed = self.precheck(request, &["oauth_token", "oauth_verifier"])?;
        let host = normalized_host(request.scheme, request.authority)
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?;
        let consumer = self.consumers.get(signed.consumer_key().unwrap_or(""));
        let record = self
            .store
            .get_request_token(signed.token().unwrap_or(""))
            .await?;
        let (record, reason) = match record {
            Some(r) if consumer.as_ref().is_some_and(|c| c.key == r.consumer_key) => {
                (Some(r), Reason::UnknownToken)
            }
            Some(_) => (None, Reason::TokenOfAnotherConsumer),
            None => (None, Reason::UnknownToken),
        };
        self.verify_signed(
            request,
            &signed,
            consumer.as_deref(),
            Some(record.as_ref().map(|r| &r.secret)),
            reason,
        )
        .await?;
        let Some(record) = record else {
            return Err(OAuthError::refused(
                Problem::SignatureInvalid,
                Reason::UnknownToken,
            ));
        };
        if record.host != host {
            return Err(OAuthError::refused(
                Problem::TokenRejected,
                Reason::WrongHost,
            ));
        }
        let now = self.now();
        let verifier = signed.verifier().unwrap_or("");
        let expected = record.state.tag();
        match record.exchange(verifier, self.config.max_verifier_attempts, now) {
            Err(e) => Err(transition_refusal(e)),
            Ok(Err(counted)) => {
                // Count the wrong guess; if another request changed the token
                // meanwhile, the guess is still wrong — the answer is the same.
                self.store.update_request_token(expected, &counted).await?;
                Err(OAuthError::refused(
                    Problem::VerifierInvalid,
                    Reason::WrongVerifier,
                ))
            }
            Ok(Ok((exchanged, user))) => {
                let access = AccessToken {
                    token: random_token(TOKEN_BYTES)?,
                    secret: TokenSecret::new(random_token(TOKEN_BYTES)?),
                    consumer_key: record.consumer_key.clone(),
                    host: record.host.clone(),
                    user,
                    scope: record.scope.clone(),
                    created_at: now,
                    state: AccessTokenState::Active,
                };
                if self
                    .store
                    .exchange_request_token(expected, &exchanged, &access)
                    .await?
                {
                    tracing::info!(consumer = %access.consumer_key, host = %access.host, "issued access token");
                    Ok(access)
                } else {
                    // Another request exchanged (or burned) it first.
                    Err(OAuthError::refused(Problem::TokenUsed, Reason::Used))
                }
            }
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
