//! The async orchestrator: a [`Provider`] owns the stores, the consumer
//! registry, the configuration and the clock, and runs the three endpoints
//! and request authentication with a few store calls each.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::base_string::BaseUri;
use crate::clock::{Clock, SystemClock};
use crate::config::ProviderConfig;
use crate::consumer::{Consumer, ConsumerRegistry};
use crate::error::{Problem, ProtocolError};
use crate::host_api::{OAuthError, Reason};
use crate::parameters::SignedRequest;
use crate::request::Request;
use crate::secret::TokenSecret;
use crate::signature::SignatureMethod;
use crate::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};
use crate::user::User;

/// Secrets used to verify a signature when the consumer or token is unknown,
/// so that an unknown key costs the same work as a bad signature.
const DUMMY_CONSUMER_SECRET: &str = "dummy-consumer-secret-0123456789";
const DUMMY_TOKEN_SECRET: &str = "dummy-token-secret-0123456789abc";

/// An OAuth 1.0a service provider (RFC 5849) on the App Engine model.
///
/// `S` stores tokens, `N` nonces (often the same store). See the crate docs
/// for the whole flow.
pub struct Provider<S, N = S> {
    pub(crate) store: S,
    pub(crate) nonces: N,
    pub(crate) consumers: ConsumerRegistry,
    pub(crate) config: ProviderConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) development: bool,
}

impl<S, N> std::fmt::Debug for Provider<S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("config", &self.config)
            .field("development", &self.development)
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// A provider on `store` (tokens) and `nonces`, for the consumers in
    /// `consumers`, on the system clock.
    pub fn new(store: S, nonces: N, consumers: ConsumerRegistry, config: ProviderConfig) -> Self {
        Self {
            store,
            nonces,
            consumers,
            config,
            clock: Arc::new(SystemClock),
            development: false,
        }
    }

    /// **Development mode**, App Engine's dev server behaviour: every request
    /// authenticates as `example@example.com` (user id `0`) via consumer
    /// `example.com`, whatever it carries, and a warning is logged each time.
    /// Only by this explicit call; never from configuration or environment.
    pub fn development(
        store: S,
        nonces: N,
        consumers: ConsumerRegistry,
        config: ProviderConfig,
    ) -> Self {
        tracing::warn!(
            "OAuth provider in DEVELOPMENT MODE: every request authenticates as example@example.com"
        );
        Self {
            development: true,
            ..Self::new(store, nonces, consumers, config)
        }
    }

    /// Replaces the clock (tests set the time instead of sleeping).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The consumer registry (shared: changes apply at once).
    pub fn consumers(&self) -> &ConsumerRegistry {
        &self.consumers
    }

    /// The token store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The nonce store.
    pub fn nonce_store(&self) -> &N {
        &self.nonces
    }

    /// Whether this provider is in development mode.
    pub fn is_development(&self) -> bool {
        self.development
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Collects and checks what needs no store: parameters (`extra` required
    /// beyond the basic ones), the signature method against the
    /// configuration, PLAINTEXT only over TLS, and the timestamp window.
    pub(crate) fn precheck<'r>(
        &self,
        request: &Request<'r>,
        extra: &[&'static str],
    ) -> Result<SignedRequest<'r>, OAuthError> {
        let protocol = |e: ProtocolError| OAuthError::refused(e, Reason::Protocol);
        let signed = SignedRequest::collect(request, &self.config.limits).map_err(protocol)?;
        signed.require(extra).map_err(protocol)?;
        let method = signed
            .signature_method()
            .ok_or_else(|| protocol(Problem::SignatureMethodRejected.into()))?;
        if !self.config.signature_methods.contains(&method) {
            return Err(protocol(Problem::SignatureMethodRejected.into()));
        }
        if method == SignatureMethod::Plaintext
            && !request.scheme.eq_ignore_ascii_case("https")
            && !self.config.dangerous.allow_plaintext_over_http
        {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::SignatureMethodRejected)
                    .with_advice("PLAINTEXT is only accepted over HTTPS"),
                Reason::PlaintextWithoutTls,
            ));
        }
        if signed.timestamp().is_some() || method != SignatureMethod::Plaintext {
            signed
                .check_timestamp(self.unix_now(), &self.config.timestamp_window)
                .map_err(protocol)?;
        }
        Ok(signed)
    }

    fn unix_now(&self) -> u64 {
        u64::try_from(self.now().unix_timestamp()).unwrap_or(0)
    }

    /// Verifies the signature with the consumer's and the token's secrets —
    /// or dummy ones when either is unknown, so that an unknown key does the
    /// same work and gets the same answer (401 `signature_invalid`) as a bad
    /// signature — then checks the consumer may make this request, and
    /// records the nonce (only now that the signature is known good).
    ///
    /// `token` is `None` for a request without a token, `Some(None)` for a
    /// token that is unknown (or belongs to another consumer).
    pub(crate) async fn verify_signed(
        &self,
        signed: &SignedRequest<'_>,
        consumer: Option<&Consumer>,
        token: Option<Option<&TokenSecret>>,
        unknown_token_reason: Reason,
    ) -> Result<(), OAuthError> {
        let consumer_secret = consumer.map_or(DUMMY_CONSUMER_SECRET, |c| c.secret.secret());
        let token_secret = match token {
            None => "",
            Some(None) => DUMMY_TOKEN_SECRET,
            Some(Some(secret)) => secret.secret(),
        };
        let verdict = signed.verify_signature(consumer_secret, token_secret);
        let invalid = |reason| OAuthError::refused(Problem::SignatureInvalid, reason);
        let Some(consumer) = consumer else {
            return Err(invalid(Reason::UnknownConsumer));
        };
        if token == Some(None) {
            return Err(invalid(unknown_token_reason));
        }
        if verdict.is_err() {
            return Err(invalid(Reason::BadSignature));
        }
        if !consumer.enabled {
            return Err(OAuthError::refused(
                Problem::ConsumerKeyRefused,
                Reason::ConsumerDisabled,
            ));
        }
        let method = signed
            .signature_method()
            .unwrap_or(SignatureMethod::HmacSha1);
        if !consumer.signature_methods.contains(&method) {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::SignatureMethodRejected)
                    .with_advice("this consumer may not use this signature method"),
                Reason::MethodNotAllowedForConsumer,
            ));
        }
        self.record_nonce(signed, &consumer.key).await
    }

    async fn record_nonce(
        &self,
        signed: &SignedRequest<'_>,
        consumer_key: &str,
    ) -> Result<(), OAuthError> {
        let (Some(nonce), Some(timestamp)) = (signed.nonce(), signed.timestamp()) else {
            // PLAINTEXT may omit both (§3.1); it is only accepted over TLS.
            return Ok(());
        };
        // The timestamp passed the window check, so it parses.
        let timestamp: u64 = timestamp.trim_start_matches('0').parse().unwrap_or(0);
        let key = NonceKey {
            consumer_key: consumer_key.to_owned(),
            token: signed.token().unwrap_or("").to_owned(),
            timestamp,
            nonce: nonce.to_owned(),
        };
        // Forgotten once the timestamp has left the window.
        let past = self.config.timestamp_window.past_secs;
        let expires_unix = timestamp.saturating_add(past).saturating_add(1);
        let expires_at =
            OffsetDateTime::from_unix_timestamp(i64::try_from(expires_unix).unwrap_or(i64::MAX))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        match self
            .nonces
            .insert_nonce(&key, self.now(), expires_at)
            .await?
        {
            NonceOutcome::Fresh => Ok(()),
            NonceOutcome::Replayed => Err(OAuthError::refused(Problem::NonceUsed, Reason::Replay)),
        }
    }

    /// Revokes one access token. `Ok(false)` when it was not active.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        self.store.revoke_access_token(token, self.now()).await
    }

    /// Revokes every token `user_id` granted to `consumer_key`; returns how many.
    pub async fn revoke_authorization(
        &self,
        user_id: &str,
        consumer_key: &str,
    ) -> Result<usize, StoreError> {
        self.store
            .revoke_user_tokens(user_id, consumer_key, self.now())
            .await
    }

    /// The apps `user_id` has authorized, for an account page: one entry per
    /// active access token, oldest first.
    pub async fn authorizations(&self, user_id: &str) -> Result<Vec<Authorization>, StoreError> {
        let tokens = self.store.list_user_tokens(user_id).await?;
        Ok(tokens
            .into_iter()
            .map(|t| {
                let consumer = self.consumers.get(&t.consumer_key);
                Authorization {
                    consumer_name: consumer
                        .map_or_else(|| t.consumer_key.clone(), |c| c.display_name.clone()),
                    consumer_key: t.consumer_key,
                    token: t.token,
                    host: t.host,
                    granted_at: t.created_at,
                }
            })
            .collect())
    }

    /// Purges expired request tokens and nonces; returns how many of each.
    /// Call it on a schedule (the memory store also purges lazily).
    pub async fn purge_expired(&self) -> Result<(usize, usize), StoreError> {
        let now = self.now();
        Ok((
            self.store.purge_expired(now).await?,
            self.nonces.purge_nonces(now).await?,
        ))
    }

    /// The user development mode authenticates every request as.
    pub(crate) fn development_user() -> User {
        User::new("example@example.com", "0")
    }
}

/// One app a user has authorized, for an account page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The consumer's key.
    pub consumer_key: String,
    /// The consumer's display name.
    pub consumer_name: String,
    /// The access token (to revoke it by).
    pub token: String,
    /// The host it was granted on.
    pub host: String,
    /// When it was granted.
    pub granted_at: OffsetDateTime,
}

/// The host a request was addressed to, normalized as tokens record it:
/// lower-case, the scheme's default port dropped (`Example.com:443` over
/// https → `example.com`).
pub fn normalized_host(scheme: &str, authority: &str) -> Result<String, ProtocolError> {
    Ok(BaseUri::new(scheme, authority, "")?.host_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(
            normalized_host("https", "Example.COM:443").unwrap(),
            "example.com"
        );
        assert_eq!(
            normalized_host("http", "example.com:8080").unwrap(),
            "example.com:8080"
        );
        assert_eq!(normalized_host("http", "[::1]:80").unwrap(), "[::1]");
        assert!(normalized_host("http", "a b").is_err());
    }
}
