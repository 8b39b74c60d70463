//! The async orchestrator: a [`Provider`] owns the stores, the consumer
//! registry, the configuration and the clock, and runs the three endpoints
//! and request authentication with a few store calls each. It may use
//! [`crate::store`], [`crate::model`] and [`crate::protocol`]; the adapters
//! above call it.

use std::sync::Arc;

use time::{OffsetDateTime, PrimitiveDateTime};

pub(crate) mod access_token;
pub(crate) mod authorize;
pub(crate) mod config;
pub(crate) mod consumers;
pub(crate) mod context;
pub(crate) mod events;
pub(crate) mod grants;
pub(crate) mod identity;
pub(crate) mod protected_resource;
#[cfg(feature = "tokio")]
pub(crate) mod purger;
pub(crate) mod refusals;
pub(crate) mod request_token;
#[cfg(feature = "tokio")]
pub(crate) mod store_audit;

/// The consumer lifecycle, here beside the operations that drive it.
pub use crate::model::consumer::{ConsumerAction, ConsumerState};
pub use config::{ProviderConfig, SessionConfig};
pub use consumers::{
    ConsumerDetails, ConsumerError, ConsumerRegistration, DEFAULT_CONSUMER_CACHE_TTL,
};
pub use context::{
    OAuthContext, OAuthError, OAuthRequestError, OAuthRequestErrorKind, OAuthServiceFailure, Reason,
};
pub use events::{
    AuditEvent, AuditSink, Endpoint, EventKind, RevokedBy, TOKEN_PREFIX_CHARS, TracingAudit,
};
pub use identity::{JWT_CONTENT_TYPE, WHOLE_APP_CLAIM};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use purger::Purger;
pub use refusals::RefusedRequest;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use store_audit::StoreAudit;

use crate::model::clock::{Clock, SystemClock};
use crate::model::consumer::{Consumer, ConsumerRegistry};
use crate::model::secret::TokenSecret;
use crate::model::token::{AccessToken, RequestToken};
use crate::model::user::User;
use crate::protocol::base_string::BaseUri;
use crate::protocol::body_hash;
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::request::Request;
use crate::protocol::signature::SignatureMethod;
use crate::protocol::signed_request::SignedRequest;
use crate::store::{
    EventStore, NonceKey, NonceOutcome, NonceStore, Purged, StoreError, StoredEvent, TokenStore,
};

/// A stored token's consumer and secret: what verifying a request signed
/// with it needs.
pub(crate) trait TokenCredentials {
    /// The key of the consumer the token was issued to.
    fn consumer_key(&self) -> &str;
    /// The token's shared secret.
    fn secret(&self) -> &TokenSecret;
}

impl TokenCredentials for RequestToken {
    fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    fn secret(&self) -> &TokenSecret {
        &self.secret
    }
}

impl TokenCredentials for AccessToken {
    fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    fn secret(&self) -> &TokenSecret {
        &self.secret
    }
}

impl<T: TokenCredentials> TokenCredentials for Arc<T> {
    fn consumer_key(&self) -> &str {
        T::consumer_key(self)
    }

    fn secret(&self) -> &TokenSecret {
        T::secret(self)
    }
}

/// Seconds since the Unix epoch at `at` (0 before it).
fn unix_seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

/// The secret a signature is verified with when the token is unknown, so
/// that an unknown token costs the same work as a bad signature: as long as
/// the token secrets the provider issues (for an unknown consumer, see
/// [`ConsumerRegistry::decoy_secret`]).
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
    pub(crate) requestors: Option<RequestorLookup>,
    pub(crate) managed: Option<consumers::Managed<S>>,
    pub(crate) refusals: Option<refusals::RefusalLog>,
    pub(crate) audit: Arc<dyn AuditSink>,
}

/// The host's directory for `xoauth_requestor_id`: the user with this
/// email address, if the host knows her.
pub(crate) type RequestorLookup = Arc<dyn Fn(&str) -> Option<User> + Send + Sync>;

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
    ///
    /// # Panics
    ///
    /// When [`ProviderConfig::grants`] declares a malformed name, or one
    /// name twice.
    pub fn new(store: S, nonces: N, consumers: ConsumerRegistry, config: ProviderConfig) -> Self {
        config.check_grants();
        Self {
            store,
            nonces,
            consumers,
            config,
            clock: Arc::new(SystemClock),
            development: false,
            requestors: None,
            managed: None,
            refusals: None,
            audit: Arc::new(TracingAudit),
        }
    }

    /// **Development mode**, App Engine's dev server behaviour: every request
    /// authenticates as `example@example.com` (user id `0`) via consumer
    /// `example.com`, whatever it carries, and a warning is logged each time.
    /// Only by this explicit call ([`crate::danger::development_provider`]);
    /// never from configuration or environment.
    pub(crate) fn development(
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

    /// The host's user directory for two-legged requests on a user's behalf
    /// (`xoauth_requestor_id=user@domain`, from a consumer trusted for that
    /// domain: [`Consumer::act_for_domain`]). `lookup` gets the address and
    /// answers the user, or `None` to refuse (401 `permission_denied`). It
    /// runs once per such request: keep it fast (memory, a cache). Without
    /// one, every `xoauth_requestor_id` is refused.
    pub fn with_requestor_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<User> + Send + Sync + 'static,
    ) -> Self {
        self.requestors = Some(Arc::new(lookup));
        self
    }

    /// Sends the audit trail to `sink` instead of the default
    /// [`TracingAudit`]: every token issued, approved, denied, exchanged,
    /// burned, refreshed or revoked, every change to a stored consumer, and
    /// every refused request, as an [`AuditEvent`] (never a secret).
    pub fn with_audit(mut self, sink: impl AuditSink) -> Self {
        self.audit = Arc::new(sink);
        self
    }

    /// Hands `event` to the audit sink.
    pub(crate) fn emit(&self, event: AuditEvent) {
        self.audit.record(&event);
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

    /// The time on the provider's clock. Each request reads it once and
    /// decides everything (timestamp window, nonce expiry, token expiry and
    /// creation) at that one instant.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Collects and checks what needs no store: parameters (`extra` required
    /// beyond the basic ones), the signature method against the
    /// configuration, PLAINTEXT only over TLS, `oauth_body_hash` only once
    /// and never on a form body, and the timestamp window at `now`.
    ///
    /// `now` is read once per request (see [`Provider::now`]) and used for
    /// every time check and timestamp the request makes.
    pub(crate) fn precheck<'r>(
        &self,
        request: &Request<'r>,
        extra: &[&'static str],
        now: OffsetDateTime,
    ) -> Result<SignedRequest<'r>, OAuthError> {
        let signed = self.collect(request)?;
        self.precheck_collected(request, &signed, extra, now)?;
        Ok(signed)
    }

    /// Collects `request`'s parameters (400 when they cannot be).
    pub(crate) fn collect<'r>(
        &self,
        request: &Request<'r>,
    ) -> Result<SignedRequest<'r>, OAuthError> {
        SignedRequest::collect(request, &self.config.limits)
            .map_err(|e| OAuthError::refused(e, Reason::Protocol))
    }

    /// [`Provider::precheck`] on parameters already collected (borrowed: a
    /// `SignedRequest` is a few hundred bytes, not worth moving in and out).
    pub(crate) fn precheck_collected(
        &self,
        request: &Request<'_>,
        signed: &SignedRequest<'_>,
        extra: &[&'static str],
        now: OffsetDateTime,
    ) -> Result<(), OAuthError> {
        let protocol = |e: ProtocolError| OAuthError::refused(e, Reason::Protocol);
        if self.config.strict_oauth_version && signed.version_is_1_0a() {
            return Err(protocol(
                ProtocolError::new(Problem::VersionRejected)
                    .with_advice("oauth_version must be 1.0 or absent (1.0a is refused here)"),
            ));
        }
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
        if signed.body_hash().is_some() {
            body_hash::check_placement(method, request.body_is_form()).map_err(protocol)?;
        }
        if signed.timestamp().is_some() || method != SignatureMethod::Plaintext {
            signed
                .check_timestamp(unix_seconds(now), &self.config.timestamp_window)
                .map_err(protocol)?;
        }
        Ok(())
    }

    /// Verifies the signature with the consumer's and the token's secrets —
    /// or dummy ones when either is unknown, so that an unknown key does the
    /// same work and gets the same answer (401 `signature_invalid`) as a bad
    /// signature — then checks the consumer may make this request and the
    /// body against `oauth_body_hash`, and records the nonce (only now that
    /// the signature is known good) as seen at `now`.
    ///
    /// `token` is `None` for a request without a token, `Some(None)` for a
    /// token that is unknown (or belongs to another consumer).
    pub(crate) async fn verify_signed(
        &self,
        request: &Request<'_>,
        signed: &SignedRequest<'_>,
        consumer: Option<&Consumer>,
        token: Option<Option<&TokenSecret>>,
        unknown_token_reason: Reason,
        now: OffsetDateTime,
    ) -> Result<(), OAuthError> {
        // A consumer that is not approved is refused exactly as an unknown
        // one: the same decoy secret, the same work, the same answer.
        let known = consumer.is_some();
        let consumer = consumer.filter(|c| c.is_approved());
        let decoy;
        let consumer_secret = match consumer {
            Some(consumer) => consumer.secret.secret(),
            None => {
                decoy = self.consumers.decoy_secret();
                decoy.secret()
            }
        };
        let token_secret = match token {
            None => "",
            Some(None) => DUMMY_TOKEN_SECRET,
            Some(Some(secret)) => secret.secret(),
        };
        let method = signed
            .signature_method()
            .unwrap_or(SignatureMethod::HmacSha1);
        let verdict = check_signature(signed, method, consumer, consumer_secret, token_secret);
        let verdict = self.check_grace_secret(signed, method, consumer, token_secret, verdict, now);
        let invalid = |reason| OAuthError::refused(Problem::SignatureInvalid, reason);
        let Some(consumer) = consumer else {
            let reason = if known {
                Reason::ConsumerNotApproved
            } else {
                Reason::UnknownConsumer
            };
            self.note_refusal(signed, None, reason, now);
            return Err(invalid(reason));
        };
        if token == Some(None) {
            self.note_refusal(signed, Some(&consumer.key), unknown_token_reason, now);
            return Err(invalid(unknown_token_reason));
        }
        if let Err(reason) = verdict {
            let kept = (reason == Reason::BadSignature).then_some(consumer.key.as_str());
            self.note_refusal(signed, kept, reason, now);
            return Err(invalid(reason));
        }
        if !consumer.signature_methods.contains(&method) {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::SignatureMethodRejected)
                    .with_advice("this consumer may not use this signature method"),
                Reason::MethodNotAllowedForConsumer,
            ));
        }
        // Sent at most once (collection refuses a repeated `oauth_*`), and
        // only where it belongs (`precheck`).
        body_hash::check(
            method,
            signed.body_hash(),
            request.body,
            request.body_is_form(),
            consumer.body_hash_required,
        )
        .map_err(|e| {
            let reason = if e.problem() == Problem::SignatureInvalid {
                Reason::BodyHashMismatch
            } else {
                Reason::Protocol
            };
            OAuthError::refused(e, reason)
        })?;
        self.record_nonce(signed, &consumer.key, now).await
    }

    /// With stored consumers, also checks the signature against the
    /// consumer's grace secret ([`Provider::rotate_consumer_secret`]) — or,
    /// when it has none, a decoy, so that the work is the same whether or
    /// not a rotation is under way; a signature by either secret verifies.
    /// RSA consumers have no secret, and a provider without stored consumers
    /// no rotations: for them this does nothing.
    fn check_grace_secret(
        &self,
        signed: &SignedRequest<'_>,
        method: SignatureMethod,
        consumer: Option<&Consumer>,
        token_secret: &str,
        verdict: Result<(), Reason>,
        now: OffsetDateTime,
    ) -> Result<(), Reason> {
        // Without stored consumers there are no rotations: the hot path
        // returns at once.
        if self.managed.is_none() || consumer.is_some_and(Consumer::signs_with_rsa) {
            return verdict;
        }
        #[cfg(feature = "rsa")]
        if crate::protocol::rsa::is_rsa(method) {
            return verdict;
        }
        let grace = consumer.and_then(|c| c.grace_secret_at(now));
        let decoy = self.consumers.decoy_secret();
        let second = grace.map_or(decoy.secret(), |g| g.secret());
        let by_grace = check_signature(signed, method, consumer, second, token_secret);
        match (verdict, grace.is_some() && by_grace.is_ok()) {
            (Ok(()), _) | (Err(_), true) => Ok(()),
            (Err(reason), false) => Err(reason),
        }
    }

    /// [`Provider::verify_signed`] for a request without a token (the
    /// temporary-credentials request, a two-legged request): the consumer
    /// once the signature verified. An unknown consumer is 401
    /// `signature_invalid` after the same work.
    pub(crate) async fn verify_consumer_only(
        &self,
        request: &Request<'_>,
        signed: &SignedRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Arc<Consumer>, OAuthError> {
        let consumer = self
            .find_consumer(signed.consumer_key().unwrap_or(""))
            .await?;
        self.verify_signed(
            request,
            signed,
            consumer.as_deref(),
            None,
            Reason::UnknownToken,
            now,
        )
        .await?;
        // `verify_signed` refuses an unknown consumer: this is the same answer.
        consumer
            .ok_or_else(|| OAuthError::refused(Problem::SignatureInvalid, Reason::UnknownConsumer))
    }

    /// [`Provider::verify_signed`] for a request with a token: `record` is
    /// what the store has for it, kept only when it is the consumer's.
    /// Returns the record once the signature verified; an unknown token, or
    /// another consumer's, is 401 `signature_invalid` after the same work.
    pub(crate) async fn verify_with_token<T: TokenCredentials>(
        &self,
        request: &Request<'_>,
        signed: &SignedRequest<'_>,
        consumer: Option<&Consumer>,
        record: Option<T>,
        now: OffsetDateTime,
    ) -> Result<T, OAuthError> {
        let (record, reason) = match record {
            Some(r) if consumer.is_some_and(|c| c.key == r.consumer_key()) => {
                (Some(r), Reason::UnknownToken)
            }
            Some(_) => (None, Reason::TokenOfAnotherConsumer),
            None => (None, Reason::UnknownToken),
        };
        let secret = record.as_ref().map(TokenCredentials::secret);
        self.verify_signed(request, signed, consumer, Some(secret), reason, now)
            .await?;
        record.ok_or_else(|| OAuthError::refused(Problem::SignatureInvalid, Reason::UnknownToken))
    }

    async fn record_nonce(
        &self,
        signed: &SignedRequest<'_>,
        consumer_key: &str,
        now: OffsetDateTime,
    ) -> Result<(), OAuthError> {
        let (Some(nonce), Some(_)) = (signed.nonce(), signed.timestamp()) else {
            // PLAINTEXT may omit both (§3.1); it is only accepted over TLS.
            return Ok(());
        };
        // The timestamp passed the window check, so it parsed.
        let timestamp = signed.timestamp_secs().unwrap_or(0);
        let key = NonceKey {
            consumer_key,
            token: signed.token().unwrap_or(""),
            timestamp,
            nonce,
        };
        // Forgotten once the timestamp has left the window — or never, when
        // that is past the last instant `time` can represent (a window
        // stretched to accept any timestamp lets such a one through).
        let past = self.config.timestamp_window.past_secs;
        let expires_unix = timestamp.saturating_add(past).saturating_add(1);
        let expires_at = i64::try_from(expires_unix)
            .ok()
            .and_then(|unix| OffsetDateTime::from_unix_timestamp(unix).ok())
            .unwrap_or(PrimitiveDateTime::MAX.assume_utc());
        match self.nonces.insert_nonce(&key, now, expires_at).await? {
            NonceOutcome::Fresh => Ok(()),
            NonceOutcome::Replayed => Err(OAuthError::refused(Problem::NonceUsed, Reason::Replay)),
        }
    }

    /// Revokes one access token (audited as [`RevokedBy::Host`]).
    /// `Ok(false)` when it was not active.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let now = self.now();
        let record = self.store.get_access_token(token).await?;
        let revoked = self.store.revoke_access_token(token, now).await?;
        if revoked {
            let mut event = AuditEvent::new(
                now,
                EventKind::AccessTokenRevoked {
                    by: RevokedBy::Host,
                    count: 1,
                },
            )
            .token(token);
            if let Some(record) = record {
                event = event
                    .consumer(&record.consumer_key)
                    .user(&record.user.user_id);
            }
            self.emit(event);
        }
        Ok(revoked)
    }

    /// Revokes every token `user_id` granted to `consumer_key` (the user's
    /// own decision on her account page: audited as [`RevokedBy::User`]);
    /// returns how many.
    pub async fn revoke_authorization(
        &self,
        user_id: &str,
        consumer_key: &str,
    ) -> Result<usize, StoreError> {
        let now = self.now();
        let count = self
            .store
            .revoke_user_tokens(user_id, consumer_key, now)
            .await?;
        if count > 0 {
            self.emit(
                AuditEvent::new(
                    now,
                    EventKind::AccessTokenRevoked {
                        by: RevokedBy::User,
                        count,
                    },
                )
                .consumer(consumer_key)
                .user(user_id),
            );
        }
        Ok(count)
    }

    /// The apps `user_id` has authorized, for an account page: one entry per
    /// active access token (and live session, with the Session extension),
    /// oldest first.
    pub async fn authorizations(&self, user_id: &str) -> Result<Vec<Authorization>, StoreError> {
        let tokens = self.store.list_user_tokens(user_id).await?;
        let now = self.now();
        let mut authorizations = Vec::with_capacity(tokens.len());
        // A session whose authorization ended grants nothing any more (its
        // token can neither be used nor refreshed), and a token whose
        // consumer is gone (deleted, or removed from the registry) cannot be
        // used either: neither is listed. A disabled app's tokens are, so
        // that its user can revoke them.
        for t in tokens {
            if t.session.as_ref().is_some_and(|s| s.is_expired(now)) {
                continue;
            }
            let Some(consumer) = self.find_consumer(&t.consumer_key).await? else {
                continue;
            };
            // What the token grants today, as a request with it would find
            // (`OAuthContext::grants`): not a grant taken away since.
            let narrowed = self.narrowed_grants(&consumer, &t.grants);
            authorizations.push(Authorization {
                consumer_name: consumer.display_name.clone(),
                consumer_key: t.consumer_key,
                token: t.token,
                host: t.host,
                granted_at: t.created_at,
                grants: self.describe_grants(narrowed.as_ref().unwrap_or(&t.grants)),
            });
        }
        Ok(authorizations)
    }

    /// Purges expired request tokens and nonces; returns how many of each.
    /// Call it on a schedule (the memory store also purges lazily).
    pub async fn purge_expired(&self) -> Result<Purged, StoreError> {
        let now = self.now();
        Ok(Purged {
            request_tokens: self.store.purge_expired(now).await?,
            nonces: self.nonces.purge_nonces(now).await?,
        })
    }

    /// The user development mode authenticates every request as.
    pub(crate) fn development_user() -> User {
        User::new("example@example.com", "0")
    }
}

impl<S: TokenStore + EventStore, N: NonceStore> Provider<S, N> {
    /// The newest `limit` stored audit events (kept by `StoreAudit`, feature `tokio`), of
    /// `user_id` if given (an account page's "recent activity"), else
    /// everyone's (an administrator's page), newest first.
    pub async fn recent_events(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.store.list_events(user_id, limit).await
    }

    /// Deletes the stored audit events older than `max_age` on the
    /// provider's clock; how many. Call it on a schedule, with the
    /// retention the site promises its users.
    pub async fn purge_events(&self, max_age: time::Duration) -> Result<usize, StoreError> {
        self.store.purge_events(self.now() - max_age).await
    }
}

/// The single value of a signed parameter: `None` when absent, 400
/// `parameter_rejected` when sent more than once (which one would count?).
pub(crate) fn single_param<'s>(
    signed: &'s SignedRequest<'_>,
    name: &'static str,
) -> Result<Option<std::borrow::Cow<'s, str>>, ProtocolError> {
    let mut values = signed
        .encoded_params()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v);
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(ProtocolError::new(Problem::ParameterRejected)
            .with_advice(format!("{name} is sent more than once"))),
        (Some(value), None) => crate::protocol::encoding::percent_decode_str(value, false)
            .map(Some)
            .ok_or_else(|| {
                ProtocolError::new(Problem::ParameterRejected)
                    .with_advice(format!("{name} is not UTF-8"))
            }),
    }
}

/// Verifies the signature with the consumer's credentials: its RSA key for
/// the RSA methods (feature `rsa`), else its shared secret — for an unknown
/// consumer, `consumer_secret` is the registry's decoy, as long as the
/// registered secrets, so that the work is the same. A consumer with an
/// RSA key has no shared secret: nothing but RSA verifies for it.
#[cfg_attr(not(feature = "rsa"), allow(unused_variables))]
fn check_signature(
    signed: &SignedRequest<'_>,
    method: SignatureMethod,
    consumer: Option<&Consumer>,
    consumer_secret: &str,
    token_secret: &str,
) -> Result<(), Reason> {
    #[cfg(feature = "rsa")]
    {
        let key = consumer.and_then(|c| c.rsa_key.as_ref());
        if crate::protocol::rsa::is_rsa(method) {
            return signed
                .verify_rsa_or_dummy(key)
                .map_err(|_| Reason::BadSignature);
        }
        if key.is_some() {
            // The same work as a bad HMAC signature, and the same answer.
            let _ = signed.verify_signature(consumer_secret, token_secret);
            return Err(Reason::MethodNotAllowedForConsumer);
        }
    }
    signed
        .verify_signature(consumer_secret, token_secret)
        .map_err(|_| Reason::BadSignature)
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
    /// What the token grants, each grant with its consent-page sentence;
    /// `None`: the whole app. As [`OAuthContext::grants`]: a grant taken
    /// from the consumer since (or no longer declared) is not listed.
    pub grants: Option<Vec<crate::model::Grant>>,
}

/// The host a request was addressed to, normalized as tokens record it:
/// lower-case, the scheme's default port dropped (`Example.com:443` over
/// https → `example.com`).
pub(crate) fn normalized_host(scheme: &str, authority: &str) -> Result<String, ProtocolError> {
    Ok(BaseUri::new(scheme, authority, "")?.host_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_token_secret_is_as_long_as_issued_ones() {
        let issued =
            crate::protocol::random::random_token(crate::provider::request_token::TOKEN_BYTES);
        assert_eq!(DUMMY_TOKEN_SECRET.len(), issued.unwrap().len());
    }

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
