//! Provider configuration with secure defaults (jsonwebtoken `Validation`):
//! every field says what it defaults to; what weakens security lives in
//! [`DangerousConfig`].

use std::time::Duration;

use crate::model::grant::{Grant, IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION, is_valid_grant_name};
use crate::protocol::signature::SignatureMethod;
use crate::protocol::signed_request::Limits;
use crate::protocol::timestamp::TimestampWindow;

/// How the provider behaves. `ProviderConfig::default()` is the secure
/// choice; change fields as needed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The `realm` in `WWW-Authenticate` challenges. Defaults to `""`.
    pub realm: String,
    /// How long a request token may wait for the user and the exchange.
    /// Defaults to 10 minutes (App Engine's).
    pub request_token_ttl: Duration,
    /// Accepted `oauth_timestamp` skew. Defaults to ±300 seconds.
    pub timestamp_window: TimestampWindow,
    /// Size limits on requests. Defaults to [`Limits::default`].
    pub limits: Limits,
    /// Signature methods accepted at all (each consumer narrows this further).
    /// Defaults to HMAC-SHA1, HMAC-SHA256, HMAC-SHA512, and with feature
    /// `rsa` RSA-SHA1 and RSA-SHA256 (which only consumers registered with a
    /// key can use); PLAINTEXT is off.
    pub signature_methods: Vec<SignatureMethod>,
    /// Most unexpired request tokens one registered consumer may hold (in
    /// any state): past it, a request token is refused with 429
    /// `consumer_key_refused` and `Retry-After`, and no other token is
    /// evicted. Counted in the store, so every instance sharing it sees the
    /// same count; instances racing at the cap may each issue one more.
    /// Defaults to 1000 (about 1.7 a second for the default 10-minute TTL).
    pub max_request_tokens: usize,
    /// The same for the unregistered `anonymous` consumer, whose key and
    /// secret are public: anyone can spend its allowance, so it is small.
    /// Defaults to 100.
    pub max_anonymous_request_tokens: usize,
    /// Wrong verifiers tolerated before a request token is burned.
    /// Defaults to 3.
    pub max_verifier_attempts: u32,
    /// Refuse `oauth_version=1.0a` and `1.0A` (400 `version_rejected`),
    /// accepting only RFC 5849's `1.0` (§3.1). Defaults to false: they are
    /// accepted as `1.0`, since node-oauth's documentation tells its users
    /// to send `1.0A` and the value is signed like any other parameter.
    pub strict_oauth_version: bool,
    /// One grant per user and app: an exchange revokes the user's earlier
    /// access tokens for the same consumer once the new one is issued, so
    /// an account page never lists an app twice. The unverified `anonymous`
    /// consumer, shared by unrelated apps, is never affected. Defaults to
    /// true; false keeps every grant, for apps that authorize each device
    /// separately (a desktop client on two computers, each with its own
    /// token).
    pub replace_earlier_grants: bool,
    /// The grants this host declares, each with the sentence its consent
    /// page shows (see [`crate::model::Grant`]): consumers registered with
    /// some of them ([`Consumer::grants`](crate::Consumer::grants)) get
    /// tokens limited to what the user approved, which handlers check with
    /// [`OAuthContext::require_grant`](crate::OAuthContext::require_grant)
    /// (or the adapters' `RequireGrant`). Names must pass
    /// [`is_valid_grant_name`](crate::model::is_valid_grant_name), once
    /// each: [`Provider::new`](crate::Provider::new) panics otherwise.
    /// [`IDENTITY_GRANT`](crate::model::IDENTITY_GRANT) is built in;
    /// declare it only to change its sentence. Defaults to none: App
    /// Engine's whole-app scope for every consumer.
    pub grants: Vec<Grant>,
    /// How long an identity token from
    /// [`Provider::identify`](crate::Provider::identify) is valid (its
    /// `exp` minus its `iat`). Defaults to 5 minutes: the consumer checks
    /// it once, at sign-in.
    pub identity_token_ttl: Duration,
    /// The OAuth Session extension (Yahoo-style expiring access tokens with
    /// a session handle to refresh them). Defaults to `None`: App Engine's
    /// access tokens, valid until revoked.
    pub sessions: Option<SessionConfig>,
    /// Settings that weaken security. Defaults to none of them.
    pub dangerous: DangerousConfig,
}

impl ProviderConfig {
    /// The declared grant named `name` — [`IDENTITY_GRANT`] always, with
    /// its built-in sentence unless the host declared its own.
    pub fn grant(&self, name: &str) -> Option<Grant> {
        match self.grants.iter().find(|g| g.name == name) {
            Some(grant) => Some(grant.clone()),
            None if name == IDENTITY_GRANT => {
                Some(Grant::new(IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION))
            }
            None => None,
        }
    }

    /// Whether `name` is a grant consumers may be registered with:
    /// declared, or [`IDENTITY_GRANT`].
    pub fn declares_grant(&self, name: &str) -> bool {
        name == IDENTITY_GRANT || self.grants.iter().any(|g| g.name == name)
    }

    /// Panics with the first declared grant that is malformed or declared
    /// twice: a configuration bug, caught when the provider is built.
    pub(crate) fn check_grants(&self) {
        for (i, grant) in self.grants.iter().enumerate() {
            assert!(
                is_valid_grant_name(&grant.name),
                "ProviderConfig::grants: {:?} is not a valid grant name \
                 (1 to 200 visible ASCII characters, no comma, not `*`)",
                grant.name
            );
            assert!(
                !self.grants[..i].iter().any(|g| g.name == grant.name),
                "ProviderConfig::grants: {:?} is declared twice",
                grant.name
            );
        }
    }
}

/// How access tokens expire and refresh under the OAuth Session extension.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// How long an access token works (`oauth_expires_in`). Defaults to one
    /// hour (Yahoo's).
    pub access_token_ttl: Duration,
    /// How long the user's authorization lasts across refreshes
    /// (`oauth_authorization_expires_in`), from the first access token.
    /// `None`: until revoked. Defaults to 30 days.
    pub authorization_ttl: Option<Duration>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(3600),
            authorization_ttl: Some(Duration::from_secs(30 * 24 * 3600)),
        }
    }
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            realm: String::new(),
            request_token_ttl: Duration::from_secs(600),
            timestamp_window: TimestampWindow::default(),
            limits: Limits::default(),
            signature_methods: vec![
                SignatureMethod::HmacSha1,
                SignatureMethod::HmacSha256,
                SignatureMethod::HmacSha512,
                #[cfg(feature = "rsa")]
                SignatureMethod::RsaSha1,
                #[cfg(feature = "rsa")]
                SignatureMethod::RsaSha256,
            ],
            max_request_tokens: 1000,
            max_anonymous_request_tokens: 100,
            max_verifier_attempts: 3,
            strict_oauth_version: false,
            replace_earlier_grants: true,
            grants: Vec::new(),
            identity_token_ttl: Duration::from_secs(300),
            sessions: None,
            dangerous: DangerousConfig::default(),
        }
    }
}

/// Settings that make the provider less safe. Each is off by default; turn
/// one on only with a reason you could defend in a security review.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DangerousConfig {
    /// Accept PLAINTEXT signatures over plain `http`, where anyone on the
    /// path reads the secrets. Defaults to false (PLAINTEXT needs `https`).
    pub allow_plaintext_over_http: bool,
}
