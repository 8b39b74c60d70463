//! The resource owner authorization step (RFC 5849 §2.2), App Engine's
//! `/_ah/OAuthAuthorizeToken`: functions for the host's consent page.
//!
//! The host signs the user in with its own login, shows
//! [`PendingAuthorization`] on a consent page, and calls
//! [`Provider::approve`] or [`Provider::deny`] with the user's answer.

use time::OffsetDateTime;

use crate::model::grant::{Grant, IDENTITY_GRANT};
use crate::model::secret::Verifier;
use crate::model::token::{Callback, RequestToken, TransitionError};
use crate::model::user::User;
use crate::protocol::base_string::BaseUri;
use crate::protocol::encoding::Encoded;
use crate::protocol::random::random_token;
use crate::protocol::request::Request;
use crate::provider::Provider;
use crate::provider::context::OAuthServiceFailure;
use crate::provider::events::{AuditEvent, EventKind};
use crate::provider::request_token::TOKEN_BYTES;
use crate::store::{NonceStore, StoreError, TokenStore};

/// A request token waiting for the user's answer: what a consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// The request token (put it in the consent form as a hidden field).
    pub token: String,
    /// The consumer's key.
    pub consumer_key: String,
    /// The consumer's registered display name.
    pub consumer_name: String,
    /// The name the app gave itself (`xoauth_displayname`), for unregistered
    /// consumers.
    pub display_name: Option<String>,
    /// Whether the consumer is unregistered (`anonymous`): warn the user that
    /// the app is unverified.
    pub unverified: bool,
    /// Where the user goes afterwards.
    pub callback: Callback,
    /// The `scope` the consumer asked for, as sent.
    pub scope: Option<String>,
    /// What the user is asked to grant, each grant with its consent-page
    /// sentence ([`IDENTITY_GRANT`] first); `None`: the whole app (App
    /// Engine's scope).
    pub grants: Option<Vec<Grant>>,
    /// When the request token expires.
    pub expires_at: OffsetDateTime,
}

impl PendingAuthorization {
    /// Whether the app asks only to learn who the user is
    /// ([`IDENTITY_GRANT`] alone): a sign-in, no access to the account.
    pub fn is_sign_in_only(&self) -> bool {
        self.grants
            .as_ref()
            .is_some_and(|grants| grants.iter().all(|g| g.name == IDENTITY_GRANT))
    }

    /// The name to show the user: the display name the unregistered app sent,
    /// else the registered name.
    pub fn app_name(&self) -> &str {
        match (&self.display_name, self.unverified) {
            (Some(name), true) if !name.is_empty() => name,
            _ => &self.consumer_name,
        }
    }
}

/// The outcome of approving a request token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// Redirect the user's browser here: the callback with `oauth_token` and
    /// `oauth_verifier` added (its own query kept).
    Redirect(String),
    /// Out of band: show the user this verifier to type into the app.
    Oob {
        /// The verifier.
        verifier: Verifier,
    },
}

/// The outcome of denying a request token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Redirect the user's browser here: the callback with `oauth_token` and
    /// `oauth_problem=user_refused`.
    Redirect(String),
    /// Out of band: tell the user the app was refused.
    Oob,
}

/// Why the authorize step cannot proceed. Show the user a human page, not
/// this text verbatim.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// No such request token (or its consumer is gone).
    #[error("this authorization request is not known")]
    UnknownToken,
    /// The request token's 10 minutes have passed.
    #[error("this authorization request has expired")]
    Expired,
    /// The request token was already approved, denied or used.
    #[error("this authorization request was already answered")]
    AlreadyDecided,
    /// The request token was obtained on another host: it can only be
    /// authorized there.
    #[error("this authorization request belongs to another site")]
    WrongHost,
    /// The store or the random source failed (answer 503).
    #[error(transparent)]
    ServiceFailure(#[from] OAuthServiceFailure),
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        Self::ServiceFailure(OAuthServiceFailure::new(e))
    }
}

impl From<crate::protocol::random::RandomError> for AuthorizeError {
    fn from(e: crate::protocol::random::RandomError) -> Self {
        Self::ServiceFailure(OAuthServiceFailure::new(e))
    }
}

impl AuthorizeError {
    /// The HTTP status for the error page: 503 for a service failure, 400
    /// otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::ServiceFailure(_) => 503,
            _ => 400,
        }
    }
}

fn transition_error(e: TransitionError) -> AuthorizeError {
    match e {
        TransitionError::Expired => AuthorizeError::Expired,
        _ => AuthorizeError::AlreadyDecided,
    }
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Looks up a request token for the consent page, on the host that
    /// `request` (the consent page request) was addressed to.
    pub async fn pending_authorization(
        &self,
        request: &Request<'_>,
        token: &str,
    ) -> Result<PendingAuthorization, AuthorizeError> {
        let record = self.live_request_token(request, token).await?;
        if !matches!(record.state, crate::model::token::RequestTokenState::Issued) {
            return Err(AuthorizeError::AlreadyDecided);
        }
        let consumer = self
            .find_consumer(&record.consumer_key)
            .await?
            .filter(|c| c.is_approved())
            .ok_or(AuthorizeError::UnknownToken)?;
        Ok(PendingAuthorization {
            token: record.token,
            consumer_key: record.consumer_key,
            consumer_name: consumer.display_name.clone(),
            display_name: record.display_name,
            unverified: consumer.unverified,
            callback: record.callback,
            // What the app would get today: narrowed as its requests are.
            grants: self.describe_grants(
                self.narrowed_grants(&consumer, &record.grants)
                    .as_ref()
                    .unwrap_or(&record.grants),
            ),
            scope: record.scope,
            expires_at: record.expires_at,
        })
    }

    /// The signed-in `user` approves the request token: it becomes exchangeable
    /// with a fresh verifier. Returns where to send the browser (or the
    /// verifier to show, for `oob`).
    pub async fn approve(
        &self,
        request: &Request<'_>,
        token: &str,
        user: User,
    ) -> Result<Approval, AuthorizeError> {
        let record = self.live_request_token(request, token).await?;
        let verifier = Verifier::new(random_token(TOKEN_BYTES)?);
        let user_id = user.user_id.clone();
        let now = self.now();
        let next = record
            .approve(user, verifier.clone(), now)
            .map_err(transition_error)?;
        if !self
            .store
            .update_request_token(record.state.tag(), &next)
            .await?
        {
            return Err(AuthorizeError::AlreadyDecided);
        }
        self.emit(
            AuditEvent::new(now, EventKind::Authorized)
                .consumer(&record.consumer_key)
                .user(&user_id)
                .token(&record.token),
        );
        Ok(match &record.callback {
            Callback::Oob => Approval::Oob { verifier },
            Callback::Url(url) => Approval::Redirect(with_query(
                url,
                &[
                    ("oauth_token", token),
                    ("oauth_verifier", verifier.secret()),
                ],
            )),
        })
    }

    /// "Sign in with …" again, without asking (Twitter's
    /// `oauth/authenticate`, MediaWiki's `/authenticate`): approves the
    /// request token for `user` at once when its consumer is registered
    /// for [`IDENTITY_GRANT`] alone, the token asks for nothing more, and
    /// `user` already allowed that consumer on this host — she holds an
    /// active access token of it whose authorization has not ended. Revoking
    /// the app on her account page ([`Provider::revoke_authorization`]: all
    /// its tokens) ends it: the next sign-in asks again. The shared
    /// `anonymous` consumer is never approved this way.
    ///
    /// `Ok(None)` when any of that does not hold: show the consent page, as
    /// [`Provider::approve`]'s caller does. A consumer with any other grant
    /// (or the whole app) always gets `None`, and so does an `oob` request
    /// token (a code shown without a click could be read to an attacker).
    pub async fn sign_in_again(
        &self,
        request: &Request<'_>,
        token: &str,
        user: &User,
    ) -> Result<Option<Approval>, AuthorizeError> {
        let record = self.live_request_token(request, token).await?;
        // An `oob` sign-in shows a code to type into the app: never show
        // one the user did not ask for.
        if !record.grants.is_identity_only() || record.callback == Callback::Oob {
            return Ok(None);
        }
        let Some(consumer) = self
            .find_consumer(&record.consumer_key)
            .await?
            .filter(|c| c.is_approved())
        else {
            return Err(AuthorizeError::UnknownToken);
        };
        let sign_in_only =
            !consumer.grants.is_empty() && consumer.grants.iter().all(|g| g == IDENTITY_GRANT);
        if !sign_in_only || consumer.unverified {
            return Ok(None);
        }
        let now = self.now();
        let allowed_before = self
            .store
            .list_user_tokens(&user.user_id)
            .await?
            .iter()
            .any(|t| {
                t.consumer_key == record.consumer_key
                    && t.host == record.host
                    && t.is_active()
                    && !t.session.as_ref().is_some_and(|s| s.is_expired(now))
            });
        if !allowed_before {
            return Ok(None);
        }
        self.approve(request, token, user.clone()).await.map(Some)
    }

    /// The user denies the request token. Returns where to send the browser.
    pub async fn deny(&self, request: &Request<'_>, token: &str) -> Result<Denial, AuthorizeError> {
        let record = self.live_request_token(request, token).await?;
        let now = self.now();
        let next = record.deny(now).map_err(transition_error)?;
        if !self
            .store
            .update_request_token(record.state.tag(), &next)
            .await?
        {
            return Err(AuthorizeError::AlreadyDecided);
        }
        self.emit(
            AuditEvent::new(now, EventKind::Denied)
                .consumer(&record.consumer_key)
                .token(&record.token),
        );
        Ok(match &record.callback {
            Callback::Oob => Denial::Oob,
            Callback::Url(url) => Denial::Redirect(with_query(
                url,
                &[("oauth_token", token), ("oauth_problem", "user_refused")],
            )),
        })
    }

    /// A request token that exists, was obtained on this host and has not expired.
    async fn live_request_token(
        &self,
        request: &Request<'_>,
        token: &str,
    ) -> Result<RequestToken, AuthorizeError> {
        let host = BaseUri::new(request.scheme, request.authority, "")
            .map_err(|_| AuthorizeError::WrongHost)?;
        let record = self
            .store
            .get_request_token(token)
            .await?
            .ok_or(AuthorizeError::UnknownToken)?;
        if !host.has_host_string(&record.host) {
            return Err(AuthorizeError::WrongHost);
        }
        if record.is_expired(self.now()) {
            return Err(AuthorizeError::Expired);
        }
        Ok(record)
    }
}

/// Adds form-encoded parameters to a URL's query, before any fragment.
fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let mut out = String::with_capacity(url.len() + 96);
    out.push_str(base);
    let mut separator = if !base.contains('?') {
        '?'
    } else if base.ends_with(['?', '&']) {
        '\0'
    } else {
        '&'
    };
    for (name, value) in params {
        if separator != '\0' {
            out.push(separator);
        }
        separator = '&';
        out.push_str(&format!("{}={}", Encoded(name), Encoded(value)));
    }
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn callback_query_is_kept() {
        assert_eq!(
            with_query("https://a/cb", &[("x", "1 2")]),
            "https://a/cb?x=1%202"
        );
        assert_eq!(
            with_query("https://a/cb?s=1", &[("x", "1")]),
            "https://a/cb?s=1&x=1"
        );
        assert_eq!(
            with_query("https://a/cb?", &[("x", "1")]),
            "https://a/cb?x=1"
        );
        assert_eq!(
            with_query("https://a/cb#f", &[("x", "1"), ("y", "2")]),
            "https://a/cb?x=1&y=2#f"
        );
    }
}
