//! Authenticated requests (RFC 5849 §3): who is behind a signed request to
//! one of the host's own handlers.

use crate::model::consumer::Consumer;
use crate::model::grant::Granted;
use crate::model::token::AccessTokenState;
use crate::model::user::User;
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::request::Request;
use crate::provider::context::{Credentials, OAuthContext, OAuthError, Reason};
use crate::provider::events::Endpoint;
use crate::provider::{Provider, single_param};
use crate::store::{NonceStore, TokenStore};

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Authenticates a signed request to a protected resource: parameters,
    /// signature, timestamp window, nonce (recorded only after the signature
    /// verified), an active access token of the same consumer obtained on
    /// **this host** — or, for a consumer allowed them, a two-legged request
    /// with no token: with no user, or on behalf of the user named by
    /// `xoauth_requestor_id=user@domain` when the consumer is trusted for
    /// that domain ([`Consumer::act_for_domain`]) and the host's requestor
    /// lookup knows her ([`Provider::with_requestor_lookup`]).
    ///
    /// A request with no OAuth protocol parameter at all lacks credentials:
    /// 401 with the bare challenge `WWW-Authenticate: OAuth realm="…"`
    /// ([`ProtocolError::credentials_absent`]); one with some but not all of
    /// them is 400 `parameter_absent`.
    ///
    /// Compute this once per request and ask the [`OAuthContext`] (App
    /// Engine's `get_current_user`, `is_current_user_admin`,
    /// `get_oauth_consumer_key`) as often as needed.
    pub async fn authenticate(&self, request: &Request<'_>) -> Result<OAuthContext, OAuthError> {
        if self.development {
            tracing::warn!(
                "OAuth development mode: request authenticated as example@example.com without checks"
            );
            return Ok(OAuthContext {
                narrowed: None,
                credentials: Credentials::Consumer {
                    consumer_key: "example.com".to_owned(),
                    user: Some(Self::development_user()),
                    requestor_id: None,
                    granted: Granted::WholeApp,
                },
            });
        }
        let result = self.authenticate_signed(request).await;
        if let Err(e) = &result {
            // Log the precise reason; the response carries the coarse one.
            let _ = self.refusal(e, Endpoint::ProtectedResource, request);
        }
        result
    }

    /// `authenticate`, then the user (App Engine's `get_current_user`).
    pub async fn get_current_user(&self, request: &Request<'_>) -> Result<User, OAuthError> {
        self.authenticate(request).await?.into_user()
    }

    pub(crate) async fn authenticate_signed(
        &self,
        request: &Request<'_>,
    ) -> Result<OAuthContext, OAuthError> {
        let now = self.now();
        let signed = self.collect(request)?;
        if signed.parameter_source().is_none() {
            // No credentials at all, not a malformed OAuth request.
            let missing = signed.require(&[]).err();
            let names = missing.map_or_else(Vec::new, |e| e.missing_parameters().to_vec());
            return Err(OAuthError::refused(
                ProtocolError::credentials_absent(names),
                Reason::NoCredentials,
            ));
        }
        self.precheck_collected(request, &signed, &[], now)?;
        let requestor = single_param(&signed, "xoauth_requestor_id")
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?;
        let Some(token) = signed.token() else {
            // Two-legged: the consumer's own credentials only.
            let consumer = self.verify_consumer_only(request, &signed, now).await?;
            if let Some(requestor) = requestor {
                return self.act_for(&consumer, &requestor);
            }
            if !consumer.two_legged {
                return Err(OAuthError::refused(
                    Problem::PermissionDenied,
                    Reason::TwoLeggedNotAllowed,
                ));
            }
            return Ok(OAuthContext {
                narrowed: None,
                credentials: Credentials::Consumer {
                    consumer_key: consumer.key.clone(),
                    user: None,
                    requestor_id: None,
                    granted: self.consumer_granted(&consumer),
                },
            });
        };
        if requestor.is_some() {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::ParameterRejected)
                    .with_advice("xoauth_requestor_id is for requests without oauth_token"),
                Reason::Protocol,
            ));
        }
        // The request's own base string URI: its host, split once.
        let host = signed
            .base_uri()
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))?;
        let consumer = self
            .find_consumer(signed.consumer_key().unwrap_or(""))
            .await?;
        let record = self.store.get_access_token_shared(token).await?;
        let record = self
            .verify_with_token(request, &signed, consumer.as_deref(), record, now)
            .await?;
        if let AccessTokenState::Revoked { .. } = record.state {
            return Err(OAuthError::refused(Problem::TokenRevoked, Reason::Revoked));
        }
        if record.is_expired(now) {
            let advice = if record.session.is_some() {
                "the access token has expired: refresh it with oauth_session_handle"
            } else {
                "the access token has expired"
            };
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::TokenExpired).with_advice(advice),
                Reason::AccessTokenExpired,
            ));
        }
        if !host.has_host_string(&record.host) {
            return Err(OAuthError::refused(
                Problem::TokenRejected,
                Reason::WrongHost,
            ));
        }
        Ok(OAuthContext {
            narrowed: consumer
                .as_deref()
                .and_then(|c| self.narrowed_grants(c, &record.grants)),
            credentials: Credentials::Token(record),
        })
    }

    /// A verified two-legged request on behalf of `requestor`: only from a
    /// consumer trusted for the requestor's domain, only for a user the host
    /// knows.
    fn act_for(&self, consumer: &Consumer, requestor: &str) -> Result<OAuthContext, OAuthError> {
        let denied = |advice, reason| {
            OAuthError::refused(
                ProtocolError::new(Problem::PermissionDenied).with_advice(advice),
                reason,
            )
        };
        if !consumer.may_act_for(requestor) {
            return Err(denied(
                "this consumer may not act for users of that domain",
                Reason::RequestorNotAllowed,
            ));
        }
        let user = self
            .requestors
            .as_ref()
            .and_then(|lookup| lookup(requestor))
            .ok_or_else(|| denied("the requestor is not known here", Reason::UnknownRequestor))?;
        tracing::info!(consumer = ?consumer.key, "two-legged request on a user's behalf");
        Ok(OAuthContext {
            narrowed: None,
            credentials: Credentials::Consumer {
                consumer_key: consumer.key.clone(),
                user: Some(user),
                requestor_id: Some(requestor.to_owned()),
                granted: self.consumer_granted(consumer),
            },
        })
    }
}
