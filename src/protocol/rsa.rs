//! RSA-SHA1 and RSA-SHA256 signatures (RFC 5849 §3.4.3; feature `rsa`):
//! PKCS#1 v1.5 over the signature base string, verified with the public key
//! the consumer registered — as Google's OAuth 1 registrations used them.
//!
//! A consumer registered with a key ([`Consumer::rsa`](crate::Consumer::rsa))
//! signs with RSA only: no HMAC key is derived from its key or from anything
//! else, and its token secrets are not part of any signature (§3.4.3).
//!
//! ```
//! use oauth1_provider::{Request, SignatureMethod};
//! use oauth1_provider::protocol::{ConsumerPublicKey, Limits, SignedRequest};
//!
//! // The oauth.net wiki's RSA-SHA1 test case, with its certificate.
//! let certificate = "-----BEGIN CERTIFICATE-----
//! MIIBpjCCAQ+gAwIBAgIBATANBgkqhkiG9w0BAQUFADAZMRcwFQYDVQQDDA5UZXN0
//! IFByaW5jaXBhbDAeFw03MDAxMDEwODAwMDBaFw0zODEyMzEwODAwMDBaMBkxFzAV
//! BgNVBAMMDlRlc3QgUHJpbmNpcGFsMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKB
//! gQC0YjCwIfYoprq/FQO6lb3asXrxLlJFuCvtinTF5p0GxvQGu5O3gYytUvtC2JlY
//! zypSRjVxwxrsuRcP3e641SdASwfrmzyvIgP08N4S0IFzEURkV1wp/IpH7kH41Etb
//! mUmrXSwfNZsnQRE5SYSOhh+LcK2wyQkdgcMv11l4KoBkcwIDAQABMA0GCSqGSIb3
//! DQEBBQUAA4GBAGZLPEuJ5SiJ2ryq+CmEGOXfvlTtEL2nuGtr9PewxkgnOjZpUy+d
//! 4TvuXJbNQc8f4AMWL/tO9w0Fk80rWKp9ea8/df4qMq5qlFWlx6yOLQxumNOmECKb
//! WpkUQDIDJEoFUzKMVuJf4KO/FJ345+BNLGgbJ6WujreoM1X/gYfdnJ/J
//! -----END CERTIFICATE-----";
//! let key = ConsumerPublicKey::from_pem(certificate).unwrap();
//! assert_eq!(key.bits(), 1024);
//!
//! let signature = "jvTp%2FwX1TYtByB1m%2BPbyo0lnCOLIsyGCH7wke8AUs3BpnwZJtAuEJkvQL2%2F9n4s5wUmUl4aCI4BwpraNx4RtEXMe5qg5T1LVTGliMRpKasKsW%2F%2Fe%2BRinhejgCuzoH26dyF8iY2ZZ%2F5D1ilgeijhV%2FvBka5twt399mXwaYdCwFYE%3D";
//! let target = format!(
//!     "/photos?file=vacaction.jpg&size=original&oauth_version=1.0&oauth_consumer_key=dpf43f3p2l4k3l03\
//!      &oauth_timestamp=1196666512&oauth_nonce=13917289812797014437&oauth_signature_method=RSA-SHA1\
//!      &oauth_signature={signature}"
//! );
//! let request = Request::new("GET", "http", "photos.example.net", &target);
//! let signed = SignedRequest::collect(&request, &Limits::default()).unwrap();
//! assert_eq!(signed.signature_method(), Some(SignatureMethod::RsaSha1));
//! signed.verify_rsa_signature(&key).unwrap();
//! ```

use std::sync::{Arc, OnceLock};

use ::rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use ::rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _, LineEnding};
use ::rsa::traits::PublicKeyParts as _;
use ::rsa::{Pkcs1v15Sign, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest as _;
use x509_cert::der::{DecodePem as _, Encode as _};

use crate::protocol::base_string::Sink;
use crate::protocol::signature::SignatureMethod;

/// Smallest accepted modulus. The published test vector and many old
/// registrations use 1024 bits; new keys should have 2048 or more.
pub const MIN_RSA_BITS: usize = 1024;
/// Largest accepted modulus (bounds the work one request can cost).
pub const MAX_RSA_BITS: usize = 4096;

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PEM/DER RSA public key, private key or X.509 certificate this
    /// crate reads.
    #[error("not an RSA key or certificate in a supported encoding")]
    Malformed,
    /// The modulus is outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`].
    #[error("RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, this one has {bits}")]
    Size {
        /// The key's size in bits.
        bits: usize,
    },
    /// Generating a key failed (the OS random source).
    #[error("RSA key generation failed")]
    Generation,
}

/// A consumer's registered RSA public key (RFC 5849 §3.4.3): read from a
/// PEM `PUBLIC KEY` (SubjectPublicKeyInfo), `RSA PUBLIC KEY` (PKCS#1) or
/// `CERTIFICATE` (X.509, as Google's registration page took them). Public
/// data: `Debug` shows its size. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsumerPublicKey(Arc<RsaPublicKey>);

impl std::fmt::Debug for ConsumerPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerPublicKey")
            .field("bits", &self.bits())
            .finish()
    }
}

impl ConsumerPublicKey {
    /// Reads a PEM public key or certificate (the first PEM block).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN CERTIFICATE-----") {
            certificate_key(x509_cert::Certificate::from_pem(pem))?
        } else if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            RsaPublicKey::from_pkcs1_pem(pem).map_err(|_| refused_pem(pem))?
        } else {
            RsaPublicKey::from_public_key_pem(pem).map_err(|_| refused_pem(pem))?
        };
        Self::checked(key)
    }

    /// Reads a DER public key: SubjectPublicKeyInfo, PKCS#1, or an X.509
    /// certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPublicKey::from_public_key_der(der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
            .map_err(|_| refused(der))
            .or_else(|refusal| {
                use x509_cert::der::Decode as _;
                match x509_cert::Certificate::from_der(der) {
                    Ok(certificate) => certificate_key(Ok(certificate)),
                    Err(_) => Err(refusal),
                }
            })?;
        Self::checked(key)
    }

    fn checked(key: RsaPublicKey) -> Result<Self, KeyError> {
        let bits = key.n().bit_width() as usize;
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::Size { bits });
        }
        Ok(Self(Arc::new(key)))
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.n().bit_width() as usize
    }

    /// The key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// Whether `signature` (the decoded, base64 `oauth_signature`) is a
    /// PKCS#1 v1.5 signature of `base_string` with `method`'s hash. Any
    /// method other than RSA-SHA1 / RSA-SHA256 never verifies.
    pub fn verify(&self, method: SignatureMethod, base_string: &str, signature: &str) -> bool {
        let mut digest = Digest::new(method);
        digest.put(base_string.as_bytes());
        digest.verify(self, signature)
    }
}

/// The RSA key in an X.509 certificate's SubjectPublicKeyInfo.
fn certificate_key(
    certificate: Result<x509_cert::Certificate, x509_cert::der::Error>,
) -> Result<RsaPublicKey, KeyError> {
    let spki = certificate
        .and_then(|c| c.tbs_certificate().subject_public_key_info().to_der())
        .map_err(|_| KeyError::Malformed)?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| refused(&spki))
}

/// Why the `rsa` crate refused a key: it decodes no modulus under 1024 bits
/// (nor over 8192), calling such a key malformed. When the DER still holds
/// an RSA modulus outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`], that is a
/// [`KeyError::Size`]; anything else is [`KeyError::Malformed`].
fn refused(der: &[u8]) -> KeyError {
    match modulus_bits(der) {
        Some(bits) if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) => KeyError::Size { bits },
        _ => KeyError::Malformed,
    }
}

/// [`refused`] for the first PEM block of `pem`.
fn refused_pem(pem: &str) -> KeyError {
    x509_cert::der::pem::decode_vec(pem.as_bytes())
        .map_or(KeyError::Malformed, |(_, der)| refused(&der))
}

/// The size of the modulus in an RSA key's DER (SubjectPublicKeyInfo,
/// PKCS#8, or PKCS#1 public or private), read without checking the key.
fn modulus_bits(der: &[u8]) -> Option<usize> {
    use ::rsa::pkcs1::{ALGORITHM_OID, RsaPrivateKeyRef, RsaPublicKeyRef};
    use ::rsa::pkcs8::{PrivateKeyInfoRef, SubjectPublicKeyInfoRef};
    use x509_cert::der::Decode as _;
    let modulus = if let Ok(spki) = SubjectPublicKeyInfoRef::from_der(der) {
        if spki.algorithm.oid != ALGORITHM_OID {
            return None;
        }
        RsaPublicKeyRef::from_der(spki.subject_public_key.as_bytes()?)
            .ok()?
            .modulus
    } else if let Ok(info) = PrivateKeyInfoRef::from_der(der) {
        if info.algorithm.oid != ALGORITHM_OID {
            return None;
        }
        RsaPrivateKeyRef::from_der(info.private_key.as_bytes())
            .ok()?
            .modulus
    } else if let Ok(key) = RsaPublicKeyRef::from_der(der) {
        key.modulus
    } else {
        RsaPrivateKeyRef::from_der(der).ok()?.modulus
    };
    // DER integers carry no leading zero bytes past the sign byte, which
    // `UintRef` strips.
    let bytes = modulus.as_bytes();
    let top = bytes.first()?;
    Some(bytes.len() * 8 - top.leading_zeros() as usize)
}

/// An RSA private key, for the consumer side ([`Signer::rsa_key`](crate::client::Signer::rsa_key)),
/// tests and demos. The provider itself never needs one. `Debug` is
/// redacted; the key material is wiped on drop.
///
/// Signing is blinded, and `rsa` 0.10 is no longer open to the Marvin timing
/// attack (RUSTSEC-2023-0071), but its constant-time hardening is still in
/// progress: keep serious private keys in a dedicated signer. Verification, all a provider does, uses only public
/// data.
#[derive(Clone)]
pub struct ConsumerPrivateKey(RsaPrivateKey);

impl std::fmt::Debug for ConsumerPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsumerPrivateKey([redacted])")
    }
}

impl ConsumerPrivateKey {
    /// Reads a PEM `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| refused_pem(pem))?;
        ConsumerPublicKey::checked(key.to_public_key())?;
        Ok(Self(key))
    }

    /// A fresh key of `bits` bits from the OS random source (slow: seconds
    /// for 2048 bits).
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::Size { bits });
        }
        RsaPrivateKey::new(&mut rand::rngs::SysRng, bits)
            .map(Self)
            .map_err(|_| KeyError::Generation)
    }

    /// The key as a PEM `PRIVATE KEY` (PKCS#8), wiped from memory when
    /// dropped: for handing to a client library. Never log it.
    pub fn to_pem(&self) -> zeroize::Zeroizing<String> {
        use ::rsa::pkcs8::EncodePrivateKey as _;
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap_or_else(|_| zeroize::Zeroizing::new(String::new()))
    }

    /// The public half, to register with the provider.
    pub fn public_key(&self) -> ConsumerPublicKey {
        ConsumerPublicKey(Arc::new(self.0.to_public_key()))
    }

    /// Signs `base_string` with `method` (RSA-SHA1 or RSA-SHA256), returning
    /// the base64 `oauth_signature` value; `None` for any other method.
    pub fn sign(&self, method: SignatureMethod, base_string: &str) -> Option<String> {
        let mut digest = Digest::new(method);
        digest.put(base_string.as_bytes());
        digest.sign(self)
    }
}

/// The base string's hash for an RSA method, fed as the base string streams.
pub(crate) enum Digest {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    /// Not an RSA method: nothing verifies.
    None,
}

impl Sink for Digest {
    fn put(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha1(d) => d.update(bytes),
            Self::Sha256(d) => d.update(bytes),
            Self::None => {}
        }
    }
}

impl Digest {
    pub(crate) fn new(method: SignatureMethod) -> Self {
        match method {
            SignatureMethod::RsaSha1 => Self::Sha1(sha1::Sha1::new()),
            SignatureMethod::RsaSha256 => Self::Sha256(sha2::Sha256::new()),
            _ => Self::None,
        }
    }

    fn scheme_and_hash(self) -> Option<(Pkcs1v15Sign, Vec<u8>)> {
        match self {
            Self::Sha1(d) => Some((Pkcs1v15Sign::new::<sha1::Sha1>(), d.finalize().to_vec())),
            Self::Sha256(d) => Some((Pkcs1v15Sign::new::<sha2::Sha256>(), d.finalize().to_vec())),
            Self::None => None,
        }
    }

    pub(crate) fn verify(self, key: &ConsumerPublicKey, signature: &str) -> bool {
        let key = &*key.0;
        let Some((scheme, hash)) = self.scheme_and_hash() else {
            return false;
        };
        // A PKCS#1 v1.5 signature is exactly as long as the modulus.
        let Ok(signature) = STANDARD.decode(signature) else {
            return false;
        };
        signature.len() == key.size() && key.verify(scheme, &hash, &signature).is_ok()
    }

    pub(crate) fn sign(self, key: &ConsumerPrivateKey) -> Option<String> {
        let key = &key.0;
        let (scheme, hash) = self.scheme_and_hash()?;
        let signature = key
            .sign_with_rng(&mut rand::rngs::SysRng, scheme, &hash)
            .ok()?;
        Some(STANDARD.encode(signature))
    }
}

/// A public key no consumer has: requests naming an unknown consumer (or a
/// consumer without a key) are verified against it, so that they cost the
/// same work as a known one and get the same answer.
const DUMMY_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwmxXqDo/VzyW1z1nSv85
BFpnbwGjffjsZbSH7y6ec1gf/Ab8kPRzSpF0v+iuXikEYN3HcgYuS3Z2CoqFnPuP
SLWiT6LEdz/f3mYszJLhOGTZikOmdQ+hHlz6xsgiGXRvn9tJwtC06BwV2O3Nb0+j
GYI+jJAiZbuEtqJwiZTx+k/SKOVdW1BhBD+yoFU8IEUgbGqjPQW/W9fpeoc4EHrE
8/hlDSQkIO2Qf8XPNorc2uny7wMsT4dTo6p63rB2K8U0nkrGp8qJRVRH/BIwNbP8
D2S6LJ9YcW+su5ZFOQTLtGP2VDmB/rZ2L/Rl6jcrngjPXC0GtOJZCziiFSPncgsD
hQIDAQAB
-----END PUBLIC KEY-----";

pub(crate) fn dummy_key() -> Option<&'static ConsumerPublicKey> {
    static KEY: OnceLock<Option<ConsumerPublicKey>> = OnceLock::new();
    KEY.get_or_init(|| ConsumerPublicKey::from_pem(DUMMY_PUBLIC_KEY).ok())
        .as_ref()
}

/// Whether `method` is one of the RSA methods.
pub(crate) fn is_rsa(method: SignatureMethod) -> bool {
    matches!(
        method,
        SignatureMethod::RsaSha1 | SignatureMethod::RsaSha256
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_key_parses() {
        assert_eq!(dummy_key().map(ConsumerPublicKey::bits), Some(2048));
    }

    #[test]
    fn refuses_garbage_and_small_keys() {
        assert_eq!(
            ConsumerPublicKey::from_pem(
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
            ),
            Err(KeyError::Malformed)
        );
        assert_eq!(
            ConsumerPrivateKey::generate(512).unwrap_err(),
            KeyError::Size { bits: 512 }
        );
    }

    /// One 512-bit test key, too small to accept, in every encoding this
    /// module reads (three public, two private); the `rsa` crate refuses to
    /// decode it at all, and it is still reported by its size.
    const SMALL_KEYS: [&str; 5] = [
        "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKAUuIGbajKtHmGJGFmi0ectv4vUV4nO\n/qprnNdIMexgUP0uI7B9SsZT7h3S7aW598g1QXSmbrFWtiyXOc0QFSsCAwEAAQ==\n-----END PUBLIC KEY-----",
        "-----BEGIN RSA PUBLIC KEY-----\nMEgCQQCgFLiBm2oyrR5hiRhZotHnLb+L1FeJzv6qa5zXSDHsYFD9LiOwfUrGU+4d\n0u2luffINUF0pm6xVrYslznNEBUrAgMBAAE=\n-----END RSA PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBbzCCARmgAwIBAgIULkuV5PknWhO3ET2LZcQK5Dn90kcwDQYJKoZIhvcNAQEL\nBQAwDDEKMAgGA1UEAwwBdDAeFw0yNjEyMDYwMzA1MTZaFw0zNjEyMDMwMzA1MTZa\nMAwxCjAIBgNVBAMMAXQwXDANBgkqhkiG9w0BAQEFAANLADBIAkEAoBS4gZtqMq0e\nYYkYWaLR5y2/i9RXic7+qmuc10gx7GBQ/S4jsH1KxlPuHdLtpbn3yDVBdKZusVa2\nLJc5zRAVKwIDAQABo1MwUTAdBgNVHQ4EFgQU0XFZmt0yDBQ6SCzndprpKi4D0Vgw\nHwYDVR0jBBgwFoAU0XFZmt0yDBQ6SCzndprpKi4D0VgwDwYDVR0TAQH/BAUwAwEB\n/zANBgkqhkiG9w0BAQsFAANBAINBFuuLzHxAmO6BQ4gBo+KgSgkdK39lUGgtnvuv\ndECuWlNs7VwT7MR4aRvNFIjjc7g8NyTH1GXmkVMQxUaVRt8=\n-----END CERTIFICATE-----",
        "-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEAoBS4gZtqMq0eYYkY\nWaLR5y2/i9RXic7+qmuc10gx7GBQ/S4jsH1KxlPuHdLtpbn3yDVBdKZusVa2LJc5\nzRAVKwIDAQABAkAlpJm6iIRRhFoXj3h1Y48+cIiRZg5rrow+IO4Rxb1PmvtZODz5\n3dO7YafPpIYfpfoURRCFY2M4TLkeui3YpxKBAiEAzSl+upyvY3Fmp3auuLv1uCKM\nQ24otIOL3HzqLcY90sECIQDHv34SLklM9R8wvMOZGCTuoPCoZvBnLSU+Qu6aY90e\n6wIhAMfv9GzwXYxP63awFr45jtGP+ZmNNWYV/Ks3oRBS7dUBAiAHFt7MmmPznUeM\nHUb76gV1irS/5Vdm8g0+VnXNePniHQIgJqGXxrAU+nX5PLE6nrMXVhwevcSWSHnH\nHDp9ttqo06w=\n-----END PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKAUuIGbajKtHmGJGFmi0ectv4vUV4nO/qprnNdIMexgUP0uI7B9\nSsZT7h3S7aW598g1QXSmbrFWtiyXOc0QFSsCAwEAAQJAJaSZuoiEUYRaF494dWOP\nPnCIkWYOa66MPiDuEcW9T5r7WTg8+d3Tu2Gnz6SGH6X6FEUQhWNjOEy5Hrot2KcS\ngQIhAM0pfrqcr2NxZqd2rri79bgijENuKLSDi9x86i3GPdLBAiEAx79+Ei5JTPUf\nMLzDmRgk7qDwqGbwZy0lPkLummPdHusCIQDH7/Rs8F2MT+t2sBa+OY7Rj/mZjTVm\nFfyrN6EQUu3VAQIgBxbezJpj851HjB1G++oFdYq0v+VXZvINPlZ1zXj54h0CICah\nl8awFPp1+TyxOp6zF1YcHr3Elkh5xxw6fbbaqNOs\n-----END RSA PRIVATE KEY-----",
    ];

    #[test]
    fn small_keys_are_refused_for_their_size() {
        let size = KeyError::Size { bits: 512 };
        for pem in &SMALL_KEYS[..3] {
            assert_eq!(ConsumerPublicKey::from_pem(pem), Err(size.clone()));
            let (_, der) = x509_cert::der::pem::decode_vec(pem.as_bytes()).unwrap();
            assert_eq!(ConsumerPublicKey::from_der(&der), Err(size.clone()));
        }
        for pem in &SMALL_KEYS[3..] {
            assert_eq!(ConsumerPrivateKey::from_pem(pem).err(), Some(size.clone()));
        }
    }

    #[test]
    fn signs_and_verifies_and_rejects_other_methods() {
        let key = ConsumerPrivateKey::generate(1024).unwrap();
        let public = key.public_key();
        for method in [SignatureMethod::RsaSha1, SignatureMethod::RsaSha256] {
            let signature = key.sign(method, "base").unwrap();
            assert!(public.verify(method, "base", &signature));
            assert!(!public.verify(method, "basf", &signature));
        }
        let sha1 = key.sign(SignatureMethod::RsaSha1, "base").unwrap();
        assert!(!public.verify(SignatureMethod::RsaSha256, "base", &sha1));
        assert!(!public.verify(SignatureMethod::HmacSha1, "base", &sha1));
        assert!(key.sign(SignatureMethod::HmacSha1, "base").is_none());
        let pem = public.to_pem();
        assert_eq!(ConsumerPublicKey::from_pem(&pem).unwrap(), public);
        let private = ConsumerPrivateKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(private.public_key(), public);
        assert_eq!(format!("{key:?}"), "ConsumerPrivateKey([redacted])");
    }
}
