//! The consumer side: signing a request (RFC 5849 §3.1) and producing its
//! `Authorization` header (§3.5.1), with the same base string code the
//! provider verifies with.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::protocol::authorization_header::format_authorization_header;
use crate::protocol::error::ProtocolError;
use crate::protocol::random::random_token;
use crate::protocol::request::Request;
use crate::protocol::signature::SignatureMethod;
use crate::protocol::signed_request::{Limits, SignedRequest};

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The URL is not absolute `http(s)://authority/path?query`.
    #[error("the URL must be absolute: scheme://authority/path?query")]
    InvalidUrl,
    /// The request's parameters cannot be signed (malformed encoding, a
    /// protocol parameter given twice, a malformed authority).
    #[error("the request cannot be signed: {0}")]
    Request(#[from] ProtocolError),
    /// An RSA method without an RSA private key (`Signer::rsa_key`,
    /// feature `rsa`), or the key could not sign.
    #[error("RSA signing needs the consumer's RSA private key")]
    MissingKey,
    /// The OS random source failed while making a nonce.
    #[error("the operating system's random number generator failed")]
    Random,
}

/// Signs requests for a consumer (and optionally a token): the client half of
/// RFC 5849, for tests, examples and hosts that call other OAuth 1 APIs.
///
/// ```
/// use oauth1_provider::SignatureMethod;
/// use oauth1_provider::client::Signer;
/// let header = Signer::new(SignatureMethod::HmacSha1, "key", "secret")
///     .token("token", "token-secret")
///     .timestamp(1_700_000_000)
///     .nonce("abc123")
///     .authorization_header("GET", "https://api.example.com/v1/me?full=1", None)
///     .unwrap();
/// assert!(header.starts_with("OAuth oauth_consumer_key=\"key\", oauth_nonce=\"abc123\""));
/// ```
#[derive(Clone)]
pub struct Signer<'a> {
    method: SignatureMethod,
    consumer_key: &'a str,
    consumer_secret: &'a str,
    token: Option<(&'a str, &'a str)>,
    callback: Option<&'a str>,
    verifier: Option<&'a str>,
    realm: Option<&'a str>,
    nonce: Option<&'a str>,
    timestamp: Option<u64>,
    version: bool,
    extra: Vec<(&'a str, &'a str)>,
    body_hash: Option<String>,
    #[cfg(feature = "rsa")]
    rsa_key: Option<&'a crate::protocol::rsa::ConsumerPrivateKey>,
}

impl std::fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("method", &self.method)
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"[redacted]")
            .field("token", &self.token.map(|(t, _)| (t, "[redacted]")))
            .field("callback", &self.callback)
            .field("verifier", &self.verifier.map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl<'a> Signer<'a> {
    /// A signer for the client credentials `consumer_key` / `consumer_secret`.
    pub fn new(method: SignatureMethod, consumer_key: &'a str, consumer_secret: &'a str) -> Self {
        Self {
            method,
            consumer_key,
            consumer_secret,
            token: None,
            callback: None,
            verifier: None,
            realm: None,
            nonce: None,
            timestamp: None,
            version: true,
            extra: Vec::new(),
            body_hash: None,
            #[cfg(feature = "rsa")]
            rsa_key: None,
        }
    }

    /// Signs with this RSA private key (feature `rsa`): for
    /// [`SignatureMethod::RsaSha1`] / [`SignatureMethod::RsaSha256`], whose
    /// signatures need no shared secret (the consumer secret is ignored).
    #[cfg(feature = "rsa")]
    pub fn rsa_key(mut self, key: &'a crate::protocol::rsa::ConsumerPrivateKey) -> Self {
        self.rsa_key = Some(key);
        self
    }

    /// Signs with a token (temporary or token credentials) and its secret.
    pub fn token(mut self, token: &'a str, token_secret: &'a str) -> Self {
        self.token = Some((token, token_secret));
        self
    }

    /// Sends `oauth_callback` (the temporary-credentials request, §2.1).
    pub fn callback(mut self, callback: &'a str) -> Self {
        self.callback = Some(callback);
        self
    }

    /// Sends `oauth_verifier` (the token-credentials request, §2.3).
    pub fn verifier(mut self, verifier: &'a str) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Sends a `realm` in the header (not signed).
    pub fn realm(mut self, realm: &'a str) -> Self {
        self.realm = Some(realm);
        self
    }

    /// Uses this nonce instead of a random one.
    pub fn nonce(mut self, nonce: &'a str) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Uses this timestamp (Unix seconds) instead of the system clock.
    pub fn timestamp(mut self, timestamp: u64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Whether to send `oauth_version="1.0"` (optional, §3.1). Defaults to true.
    pub fn send_version(mut self, send: bool) -> Self {
        self.version = send;
        self
    }

    /// Adds another protocol parameter to the header (e.g. `oauth_body_hash`).
    pub fn header_param(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra.push((name, value));
        self
    }

    /// Sends `oauth_body_hash` for `body`, a body that is not form-encoded
    /// (JSON, XML, …), hashed as the signature method asks (the OAuth Request
    /// Body Hash draft). Set the method first; PLAINTEXT has no hash and
    /// sends none.
    ///
    /// ```
    /// use oauth1_provider::SignatureMethod;
    /// use oauth1_provider::client::Signer;
    /// let header = Signer::new(SignatureMethod::HmacSha1, "key", "secret")
    ///     .body_hash(b"Hello World!")
    ///     .authorization_header("POST", "https://api.example.com/v1/items", None)
    ///     .unwrap();
    /// assert!(header.contains("oauth_body_hash=\"Lve95gjOVATpfV8EL5X4nxwjKHE%3D\""));
    /// ```
    pub fn body_hash(mut self, body: &[u8]) -> Self {
        self.body_hash = crate::protocol::body_hash::body_hash(self.method, body);
        self
    }

    /// Signs a request and returns its `Authorization` header value.
    ///
    /// `url` is absolute, with the query exactly as it will be sent;
    /// `form_body` is the `application/x-www-form-urlencoded` body, if any
    /// (other bodies are not signed, §3.4.1.3.1).
    pub fn authorization_header(
        &self,
        http_method: &str,
        url: &str,
        form_body: Option<&[u8]>,
    ) -> Result<String, SignError> {
        let (scheme, rest) = url.split_once("://").ok_or(SignError::InvalidUrl)?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(authority_end);
        if authority.is_empty()
            || !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        {
            return Err(SignError::InvalidUrl);
        }
        let target = match target.find('#') {
            Some(i) => &target[..i],
            None => target,
        };

        let random_nonce;
        let nonce = match self.nonce {
            Some(n) => n,
            None => {
                random_nonce = random_token(24).map_err(|_| SignError::Random)?;
                &random_nonce
            }
        };
        let timestamp = self
            .timestamp
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            })
            .to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("oauth_consumer_key", self.consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", self.method.name()),
            ("oauth_timestamp", &timestamp),
        ];
        if let Some((token, _)) = self.token {
            params.push(("oauth_token", token));
        }
        if let Some(callback) = self.callback {
            params.push(("oauth_callback", callback));
        }
        if let Some(verifier) = self.verifier {
            params.push(("oauth_verifier", verifier));
        }
        if self.version {
            params.push(("oauth_version", "1.0"));
        }
        params.extend(self.extra.iter().copied());
        if let Some(hash) = &self.body_hash {
            params.push((crate::protocol::body_hash::BODY_HASH_PARAM, hash));
        }

        // Collect exactly as the provider will, then sign.
        let unsigned = format_authorization_header(None, params.iter().copied());
        let request = Request::new(
            http_method,
            scheme,
            authority,
            if target.is_empty() { "/" } else { target },
        )
        .authorization(Some(&unsigned))
        .form_body(
            form_body.map(|_| "application/x-www-form-urlencoded"),
            form_body.unwrap_or_default(),
        );
        let limits = Limits {
            max_parameters: usize::MAX,
            max_form_body_bytes: usize::MAX,
            max_authorization_header_bytes: usize::MAX,
            max_protocol_value_bytes: usize::MAX,
            max_token_bytes: usize::MAX,
            max_nonce_bytes: usize::MAX,
            max_scope_bytes: usize::MAX,
            max_display_name_chars: usize::MAX,
        };
        let signed = SignedRequest::collect(&request, &limits)?;
        let token_secret = self.token.map_or("", |(_, s)| s);
        #[cfg(feature = "rsa")]
        if crate::protocol::rsa::is_rsa(self.method) {
            let signature = self
                .rsa_key
                .map(|key| signed.rsa_signature(self.method, key))
                .transpose()?
                .flatten()
                .ok_or(SignError::MissingKey)?;
            params.push(("oauth_signature", &signature));
            return Ok(format_authorization_header(self.realm, params));
        }
        let signature =
            signed.expected_signature(self.method, self.consumer_secret, token_secret)?;
        params.push(("oauth_signature", &signature));
        Ok(format_authorization_header(self.realm, params))
    }
}
