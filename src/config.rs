//! Provider configuration with secure defaults (jsonwebtoken `Validation`):
//! every field says what it defaults to; what weakens security lives in
//! [`DangerousConfig`].

use std::time::Duration;

use crate::parameters::Limits;
use crate::signature::SignatureMethod;
use crate::timestamp::TimestampWindow;

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
    /// Wrong verifiers tolerated before a request token is burned.
    /// Defaults to 3.
    pub max_verifier_attempts: u32,
    /// Settings that weaken security. Defaults to none of them.
    pub dangerous: DangerousConfig,
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
            max_verifier_attempts: 3,
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
