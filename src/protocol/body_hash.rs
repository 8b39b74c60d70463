//! The OAuth Request Body Hash extension (draft-eaton-oauth-bodyhash-00):
//! integrity for bodies the signature does not cover — JSON, XML, anything
//! but a form — as LTI and MasterCard-style clients send them.
//!
//! The client hashes the raw body, puts the base64 digest in the signed
//! `oauth_body_hash` parameter, and signs as usual; the provider recomputes
//! the digest and compares in constant time. The hash follows the signature
//! method: SHA-1 for HMAC-SHA1 / RSA-SHA1, SHA-256 for HMAC-SHA256 /
//! RSA-SHA256, SHA-512 for HMAC-SHA512. A request without a body hashes the
//! empty string.
//!
//! ```
//! use oauth1_provider::SignatureMethod;
//! use oauth1_provider::protocol::body_hash;
//! assert_eq!(
//!     body_hash(SignatureMethod::HmacSha1, b"Hello World!").as_deref(),
//!     Some("Lve95gjOVATpfV8EL5X4nxwjKHE=")
//! );
//! assert_eq!(body_hash(SignatureMethod::Plaintext, b""), None);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::signature::SignatureMethod;

/// The parameter's name.
pub const BODY_HASH_PARAM: &str = "oauth_body_hash";

/// The `oauth_body_hash` value for `body` under `method`: the base64 digest
/// with the method's hash. `None` for PLAINTEXT, which has no hash.
pub fn body_hash(method: SignatureMethod, body: &[u8]) -> Option<String> {
    digest(method, body).map(|d| STANDARD.encode(d))
}

fn digest(method: SignatureMethod, body: &[u8]) -> Option<Vec<u8>> {
    match method {
        SignatureMethod::HmacSha1 => Some(sha1::Sha1::digest(body).to_vec()),
        SignatureMethod::HmacSha256 => Some(sha2::Sha256::digest(body).to_vec()),
        SignatureMethod::HmacSha512 => Some(sha2::Sha512::digest(body).to_vec()),
        #[cfg(feature = "rsa")]
        SignatureMethod::RsaSha1 => Some(sha1::Sha1::digest(body).to_vec()),
        #[cfg(feature = "rsa")]
        SignatureMethod::RsaSha256 => Some(sha2::Sha256::digest(body).to_vec()),
        _ => None,
    }
}

/// Checks what needs no secret: `oauth_body_hash` on a form-encoded body
/// (whose parameters the signature already covers) → 400
/// `parameter_rejected`, as on a PLAINTEXT request.
pub(crate) fn check_placement(
    method: SignatureMethod,
    body_is_form: bool,
) -> Result<(), ProtocolError> {
    if body_is_form {
        return Err(ProtocolError::new(Problem::ParameterRejected)
            .with_advice("oauth_body_hash must not be sent with a form-encoded body"));
    }
    if digest(method, b"").is_none() {
        return Err(ProtocolError::new(Problem::ParameterRejected)
            .with_advice("oauth_body_hash needs a signature method with a hash"));
    }
    Ok(())
}

/// Whether `received` (the decoded `oauth_body_hash`) is `body`'s hash under
/// `method`, compared in constant time on the digest. A value that is not
/// base64, or a method without a hash, never matches.
pub fn verify_body_hash(method: SignatureMethod, body: &[u8], received: &str) -> bool {
    let (Some(expected), Ok(received)) = (digest(method, body), STANDARD.decode(received)) else {
        return false;
    };
    expected.len() == received.len() && bool::from(expected.ct_eq(&received))
}

/// The provider's check once the signature verified: a present hash must
/// match the body (401 `signature_invalid` otherwise, as a changed body is a
/// forged request); a consumer that requires hashes gets 400
/// `parameter_absent` for a non-form request without one.
pub(crate) fn check(
    method: SignatureMethod,
    received: Option<&str>,
    body: &[u8],
    body_is_form: bool,
    required: bool,
) -> Result<(), ProtocolError> {
    match received {
        Some(received) if !verify_body_hash(method, body, received) => {
            Err(ProtocolError::new(Problem::SignatureInvalid)
                .with_advice("oauth_body_hash does not match the request body"))
        }
        None if required && !body_is_form => {
            Err(ProtocolError::parameters_absent(vec![BODY_HASH_PARAM]))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drafts_example_and_the_empty_body() {
        // draft-eaton-oauth-bodyhash-00, Appendix A.
        assert_eq!(
            body_hash(SignatureMethod::HmacSha1, b"Hello World!").unwrap(),
            "Lve95gjOVATpfV8EL5X4nxwjKHE="
        );
        assert_eq!(
            body_hash(SignatureMethod::HmacSha1, b"").unwrap(),
            "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
        );
        assert_eq!(
            body_hash(SignatureMethod::HmacSha256, b"").unwrap(),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn verification_follows_the_method() {
        let sha1 = body_hash(SignatureMethod::HmacSha1, b"{}").unwrap();
        assert!(verify_body_hash(SignatureMethod::HmacSha1, b"{}", &sha1));
        assert!(!verify_body_hash(SignatureMethod::HmacSha256, b"{}", &sha1));
        assert!(!verify_body_hash(SignatureMethod::HmacSha1, b"{ }", &sha1));
        assert!(!verify_body_hash(
            SignatureMethod::HmacSha1,
            b"{}",
            "not base64!"
        ));
        assert!(!verify_body_hash(SignatureMethod::Plaintext, b"{}", &sha1));
        assert!(check(SignatureMethod::HmacSha1, None, b"{}", false, false).is_ok());
        assert_eq!(
            check(SignatureMethod::HmacSha1, None, b"{}", false, true)
                .unwrap_err()
                .missing_parameters(),
            &[BODY_HASH_PARAM]
        );
        assert!(check(SignatureMethod::HmacSha1, None, b"a=1", true, true).is_ok());
        assert_eq!(
            check(SignatureMethod::HmacSha1, Some("x"), b"{}", false, false)
                .unwrap_err()
                .status(),
            401
        );
        assert!(check_placement(SignatureMethod::HmacSha1, true).is_err());
        assert!(check_placement(SignatureMethod::Plaintext, false).is_err());
        assert!(check_placement(SignatureMethod::HmacSha512, false).is_ok());
    }
}
