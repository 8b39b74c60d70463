//! The identity endpoint: "Sign in with your site" for consumers
//! (MediaWiki's `Special:OAuth/identify`). A signed request like any other
//! is answered with a JSON Web Token (RFC 7519) that says who the user is,
//! signed `HS256` with the consumer's secret, so that the consumer can check
//! it came from this provider and was made for it.
//!
//! The token is built here in a few lines rather than with a JWT crate:
//! the provider only *issues* it — a fixed header, claims it writes itself,
//! one HMAC-SHA256 (the crate's own, tested against RFC 4231) — so none of
//! what makes JWT libraries large or risky (parsing, algorithm choice,
//! key types, validation) is needed. The tests decode it with PyJWT.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::model::grant::Granted;
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::hmac::hmac_sha256;
use crate::protocol::request::Request;
use crate::protocol::response::Response;
use crate::protocol::signed_request::SignedRequest;
use crate::provider::context::{OAuthError, Reason};
use crate::provider::events::Endpoint;
use crate::provider::{Provider, normalized_host};
use crate::store::{NonceStore, TokenStore};

/// The identity token's media type (RFC 7519 §10.3.1).
pub const JWT_CONTENT_TYPE: &str = "application/jwt";

/// The `grants` claim of a whole-app token: `*`, never a grant's name.
pub const WHOLE_APP_CLAIM: &str = "*";

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Answers the identity endpoint (App Engine-style path
    /// `/_ah/OAuthIdentify` in the adapters): a request signed with an
    /// access token (any grant: every token may learn who its user is)
    /// gets `200` with `Content-Type: application/jwt` and a JSON Web Token
    /// signed `HS256` with the consumer's secret, whose claims are
    ///
    /// - `iss`: this provider's origin (`https://photos.example`), `aud`:
    ///   the consumer key, `sub`: the user id;
    /// - `iat` and `exp` ([`ProviderConfig::identity_token_ttl`] later);
    /// - `nonce`: the request's `oauth_nonce`, so that a consumer can tie
    ///   the answer to its own request;
    /// - `email`, `admin`, and `grants`: the granted names (`["*"]` for the
    ///   whole app).
    ///
    /// During a secret rotation's grace period, a request signed with the
    /// old secret gets a token signed with the old secret.
    ///
    /// Refusals are the protected resource's ([`Provider::authenticate`]),
    /// plus 401 `permission_denied` for a request without an access token
    /// (two-legged, even naming a user with `xoauth_requestor_id`, or
    /// development mode) and 403 `permission_denied` for a consumer without
    /// a secret of its own to sign with: one that signs with RSA, or the
    /// unverified `anonymous` consumer, whose secret is public.
    ///
    /// The token is as strong as the consumer secret: anyone who holds one
    /// can try secrets offline. Secrets the provider generates
    /// ([`Provider::register_consumer`]) are 192 random bits; give consumers
    /// configured in code secrets as strong.
    ///
    /// [`ProviderConfig::identity_token_ttl`]: crate::ProviderConfig::identity_token_ttl
    pub async fn identify(&self, request: &Request<'_>) -> Response {
        match self.identity_token(request).await {
            Ok(jwt) => Response {
                status: 200,
                headers: vec![
                    ("content-type", JWT_CONTENT_TYPE.to_owned()),
                    ("cache-control", "no-store".to_owned()),
                ],
                body: jwt,
            },
            Err(e) => e.to_response(&self.config.realm),
        }
    }

    /// The JSON Web Token [`Provider::identify`] answers with, for a host
    /// that serves it its own way.
    pub async fn identity_token(&self, request: &Request<'_>) -> Result<String, OAuthError> {
        // Every refusal (and service failure) is recorded as this
        // endpoint's. Development mode's fixed user gets no token: the
        // request is checked as signed.
        let refused = |e: OAuthError| {
            let _ = self.refusal(&e, Endpoint::Identify, request);
            e
        };
        let context = self.authenticate_signed(request).await.map_err(refused)?;
        // Only a user's own authorization says who she is: not a consumer's
        // two-legged request (even naming a user), not development mode.
        let (Some(token), Ok(user)) = (context.access_token(), context.get_current_user()) else {
            return Err(refused(OAuthError::refused(
                ProtocolError::new(Problem::PermissionDenied).with_advice(
                    "the identity endpoint needs a request signed with an access token",
                ),
                Reason::NoUser,
            )));
        };
        let no_secret = || {
            refused(OAuthError::refused(
                ProtocolError::forbidden(
                    "identity tokens are signed with the consumer secret, \
                     and this consumer has none of its own",
                ),
                Reason::NoConsumerSecret,
            ))
        };
        let consumer = self
            .find_consumer(&token.consumer_key)
            .await
            .map_err(|e| refused(e.into()))?
            .ok_or_else(no_secret)?;
        // An RSA consumer has no secret; `anonymous`'s is public.
        if consumer.signs_with_rsa() || consumer.unverified || consumer.secret.secret().is_empty() {
            return Err(no_secret());
        }
        let signed = SignedRequest::collect(request, &self.config.limits)
            .map_err(|e| refused(OAuthError::refused(e, Reason::Protocol)))?;
        let now = self.now();
        // During a rotation, sign with the secret the client signed with:
        // it may not have the new one yet.
        let key = match consumer.grace_secret_at(now) {
            Some(grace)
                if signed
                    .verify_signature(consumer.secret.secret(), token.secret.secret())
                    .is_err() =>
            {
                grace.secret()
            }
            _ => consumer.secret.secret(),
        };
        let issuer = normalized_host(request.scheme, request.authority)
            .map(|host| format!("{}://{host}", request.scheme.to_ascii_lowercase()))
            .map_err(|e| refused(OAuthError::refused(e, Reason::Protocol)))?;
        // At least a second, so that a token is never born expired.
        let ttl =
            i64::try_from(self.config.identity_token_ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        let claims = IdentityClaims {
            issuer: &issuer,
            subject: &user.user_id,
            audience: &consumer.key,
            issued_at: now.unix_timestamp(),
            expires_at: now.unix_timestamp().saturating_add(ttl),
            nonce: signed.nonce(),
            email: &user.email,
            admin: user.admin,
            grants: context.grants(),
        };
        Ok(sign_hs256(&claims.to_json(), key.as_bytes()))
    }
}

/// What an identity token says.
struct IdentityClaims<'a> {
    issuer: &'a str,
    subject: &'a str,
    audience: &'a str,
    issued_at: i64,
    expires_at: i64,
    nonce: Option<&'a str>,
    email: &'a str,
    admin: bool,
    grants: &'a Granted,
}

impl IdentityClaims<'_> {
    /// The claims as a JSON object.
    fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push('{');
        for (name, value) in [
            ("iss", self.issuer),
            ("sub", self.subject),
            ("aud", self.audience),
        ] {
            json_string(&mut out, name);
            out.push(':');
            json_string(&mut out, value);
            out.push(',');
        }
        let _ = write!(
            out,
            "\"iat\":{},\"exp\":{},",
            self.issued_at, self.expires_at
        );
        if let Some(nonce) = self.nonce {
            out.push_str("\"nonce\":");
            json_string(&mut out, nonce);
            out.push(',');
        }
        out.push_str("\"email\":");
        json_string(&mut out, self.email);
        let _ = write!(out, ",\"admin\":{},\"grants\":[", self.admin);
        match self.grants.names() {
            None => json_string(&mut out, WHOLE_APP_CLAIM),
            Some(names) => {
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(&mut out, name);
                }
            }
        }
        out.push_str("]}");
        out
    }
}

/// `value` as a JSON string (RFC 8259 §7): quoted, with `"`, `\` and the
/// control characters escaped.
fn json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A compact JWS (RFC 7515 §7.1) of `claims`, `HS256` under `key`.
fn sign_hs256(claims: &str, key: &[u8]) -> String {
    const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
    let mut jwt = String::with_capacity(64 + claims.len() * 4 / 3 + 48);
    URL_SAFE_NO_PAD.encode_string(HEADER, &mut jwt);
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut jwt);
    let mac = hmac_sha256(key, jwt.as_bytes());
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(mac, &mut jwt);
    jwt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}e\u{2028}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001e\u2028é""#);
    }

    #[test]
    fn claims_are_one_json_object() {
        let grants = Granted::only(["photos.read", "identity"]);
        let claims = IdentityClaims {
            issuer: "https://photos.example",
            subject: "u-1",
            audience: "printer",
            issued_at: 1_700_000_000,
            expires_at: 1_700_000_300,
            nonce: Some("n\"1"),
            email: "ada@example.com",
            admin: false,
            grants: &grants,
        };
        assert_eq!(
            claims.to_json(),
            r#"{"iss":"https://photos.example","sub":"u-1","aud":"printer","iat":1700000000,"exp":1700000300,"nonce":"n\"1","email":"ada@example.com","admin":false,"grants":["identity","photos.read"]}"#
        );
        let whole = Granted::WholeApp;
        let claims = IdentityClaims {
            nonce: None,
            grants: &whole,
            ..claims
        };
        assert!(
            claims
                .to_json()
                .ends_with(r#""admin":false,"grants":["*"]}"#)
        );
    }

    /// RFC 7515 appendix A.1's example, signed with its key.
    #[test]
    fn the_signature_is_rfc_7515_hs256() {
        let key = URL_SAFE_NO_PAD
            .decode(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
            )
            .unwrap();
        let header = r#"{"typ":"JWT",
 "alg":"HS256"}"#
            .replace('\n', "\r\n");
        let payload =
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        assert_eq!(
            URL_SAFE_NO_PAD.encode(hmac_sha256(&key, signing_input.as_bytes())),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        let jwt = sign_hs256("{}", b"k");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[0]).unwrap(),
            br#"{"alg":"HS256","typ":"JWT"}"#
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), b"{}");
    }
}
