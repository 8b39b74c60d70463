//! Signature methods (RFC 5849 §3.4): HMAC-SHA1, HMAC-SHA256, HMAC-SHA512
//! and PLAINTEXT, signing and verifying.
//!
//! Verification computes the expected signature, base64-encodes it, and
//! compares that text with the received one in constant time — never
//! base64-decoding the received signature. A request's `oauth_signature`
//! arrives percent-encoded (`%2B` for `+`); it is percent-decoded byte by
//! byte as it is compared, with nothing allocated.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use crate::protocol::base_string::Sink;
use crate::protocol::encoding::{Class, for_each_decoded, percent_encode, run_len};
use crate::protocol::hmac::{Compression, HmacKey, MAX_OUTPUT_BYTES, Sha1, Sha256, Sha512};

/// An OAuth signature method (RFC 5849 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// `HMAC-SHA1` (§3.4.2), the method nearly every client uses.
    HmacSha1,
    /// `HMAC-SHA256`, as §3.4.2 with SHA-256.
    HmacSha256,
    /// `HMAC-SHA512`, as §3.4.2 with SHA-512.
    HmacSha512,
    /// `PLAINTEXT` (§3.4.4): the signing key itself. Only safe over TLS.
    Plaintext,
    /// `RSA-SHA1` (§3.4.3): PKCS#1 v1.5 with the consumer's registered RSA
    /// key (feature `rsa`).
    #[cfg(feature = "rsa")]
    RsaSha1,
    /// `RSA-SHA256`, as §3.4.3 with SHA-256 (feature `rsa`).
    #[cfg(feature = "rsa")]
    RsaSha256,
}

impl SignatureMethod {
    /// The RSA methods (feature `rsa`), which verify with a consumer's
    /// public key rather than shared secrets.
    #[cfg(feature = "rsa")]
    pub const RSA: [Self; 2] = [Self::RsaSha1, Self::RsaSha256];

    /// Every shared-secret method this crate implements (see also
    /// [`SignatureMethod::RSA`] with feature `rsa`).
    pub const ALL: [Self; 4] = [
        Self::HmacSha1,
        Self::HmacSha256,
        Self::HmacSha512,
        Self::Plaintext,
    ];

    /// The `oauth_signature_method` value.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC-SHA1",
            Self::HmacSha256 => "HMAC-SHA256",
            Self::HmacSha512 => "HMAC-SHA512",
            Self::Plaintext => "PLAINTEXT",
            #[cfg(feature = "rsa")]
            Self::RsaSha1 => "RSA-SHA1",
            #[cfg(feature = "rsa")]
            Self::RsaSha256 => "RSA-SHA256",
        }
    }

    /// Parses an `oauth_signature_method` value (exact, case-sensitive, as
    /// RFC 5849 names them).
    pub fn from_name(name: &str) -> Option<Self> {
        let found = Self::ALL.into_iter().find(|m| m.name() == name);
        #[cfg(feature = "rsa")]
        let found = found.or_else(|| Self::RSA.into_iter().find(|m| m.name() == name));
        found
    }

    /// Signs `base_string` with the client credentials secret and the token
    /// secret (empty when there is no token), returning the
    /// `oauth_signature` value (before the percent-encoding of transport).
    /// The RSA methods sign with a private key, not secrets: for them this
    /// is empty (see `ConsumerPrivateKey`, feature `rsa`).
    ///
    /// ```
    /// use oauth1_provider::SignatureMethod;
    /// assert_eq!(SignatureMethod::HmacSha1.sign("bs", "cs", ""), "egQqG5AJep5sJ7anhXju1unge2I=");
    /// assert_eq!(SignatureMethod::Plaintext.sign("ignored", "c s", "t&s"), "c%20s&t%26s");
    /// ```
    pub fn sign(self, base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
        let mut out = SignatureBuf::new();
        self.compute(consumer_secret, token_secret, base_string, &mut out);
        out.as_str().to_owned()
    }

    /// Whether `signature` (the decoded `oauth_signature` value) is right for
    /// `base_string`, compared in constant time on the encoded signature.
    pub fn verify(
        self,
        base_string: &str,
        consumer_secret: &str,
        token_secret: &str,
        signature: &str,
    ) -> bool {
        let mut expected = SignatureBuf::new();
        self.compute(consumer_secret, token_secret, base_string, &mut expected);
        expected.matches(signature)
    }

    /// Computes the signature of `base_string`.
    pub(crate) fn compute(
        self,
        consumer_secret: &str,
        token_secret: &str,
        base_string: &(impl BaseString + ?Sized),
        out: &mut SignatureBuf,
    ) {
        let key = SigningKey::new(consumer_secret, token_secret);
        match self {
            Self::HmacSha1 => hmac_into::<Sha1>(key.as_bytes(), base_string, out),
            Self::HmacSha256 => hmac_into::<Sha256>(key.as_bytes(), base_string, out),
            Self::HmacSha512 => hmac_into::<Sha512>(key.as_bytes(), base_string, out),
            Self::Plaintext => out.set(key.as_bytes()),
            // No shared-secret signature exists for an RSA method: the
            // expected signature stays empty, which never matches.
            #[cfg(feature = "rsa")]
            Self::RsaSha1 | Self::RsaSha256 => out.len = 0,
        }
    }
}

impl std::fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a signature covers: a base string already built, or a request that
/// streams its base string straight into the MAC.
pub(crate) trait BaseString {
    fn write_to(&self, sink: &mut impl Sink);
}

impl BaseString for str {
    fn write_to(&self, sink: &mut impl Sink) {
        sink.put(self.as_bytes());
    }
}

/// The signing key `encode(consumer_secret) & encode(token_secret)`
/// (§3.4.2), on the stack for secrets of ordinary length, wiped on drop.
struct SigningKey {
    inline: [u8; 192],
    len: usize,
    spilled: Option<zeroize::Zeroizing<Vec<u8>>>,
}

impl SigningKey {
    fn new(consumer_secret: &str, token_secret: &str) -> Self {
        let plain = |s: &str| run_len(s.as_bytes(), Class::UNRESERVED) == s.len();
        let total = consumer_secret.len() + 1 + token_secret.len();
        if total <= 192 && plain(consumer_secret) && plain(token_secret) {
            let mut inline = [0u8; 192];
            inline[..consumer_secret.len()].copy_from_slice(consumer_secret.as_bytes());
            inline[consumer_secret.len()] = b'&';
            inline[consumer_secret.len() + 1..total].copy_from_slice(token_secret.as_bytes());
            return Self {
                inline,
                len: total,
                spilled: None,
            };
        }
        let mut key = zeroize::Zeroizing::new(Vec::new());
        key.extend_from_slice(percent_encode(consumer_secret).as_bytes());
        key.push(b'&');
        key.extend_from_slice(percent_encode(token_secret).as_bytes());
        Self {
            inline: [0; 192],
            len: 0,
            spilled: Some(key),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.spilled {
            Some(key) => key,
            None => &self.inline[..self.len],
        }
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        // Only the first `len` bytes were ever written.
        zeroize::Zeroize::zeroize(&mut self.inline[..self.len]);
    }
}

fn hmac_into<C: Compression>(
    key: &[u8],
    base_string: &(impl BaseString + ?Sized),
    out: &mut SignatureBuf,
) {
    let key = HmacKey::<C>::new(key);
    let mut message = key.message();
    base_string.write_to(&mut message);
    let mut digest = [0; MAX_OUTPUT_BYTES];
    let digest = key.finish(message, &mut digest);
    let n = STANDARD.encode_slice(digest, &mut out.bytes).unwrap_or(0);
    out.len = n;
    out.spilled = None;
}

/// An encoded signature, on the stack for the HMAC methods (≤ 88 bytes).
pub(crate) struct SignatureBuf {
    bytes: [u8; 128],
    /// How much of `bytes` holds the signature; nothing past it is written.
    len: usize,
    spilled: Option<zeroize::Zeroizing<Vec<u8>>>,
}

impl SignatureBuf {
    pub(crate) fn new() -> Self {
        Self {
            bytes: [0; 128],
            len: 0,
            spilled: None,
        }
    }

    fn set(&mut self, value: &[u8]) {
        if value.len() <= self.bytes.len() {
            self.bytes[..value.len()].copy_from_slice(value);
            self.len = value.len();
            self.spilled = None;
        } else {
            self.spilled = Some(zeroize::Zeroizing::new(value.to_vec()));
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.spilled {
            Some(v) => v,
            None => &self.bytes[..self.len],
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Base64 or a percent-encoded key: ASCII either way.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// Constant-time comparison with the received, decoded signature. The
    /// lengths are public (the method fixes them), the contents are not.
    fn matches(&self, received: &str) -> bool {
        let (expected, received) = (self.as_bytes(), received.as_bytes());
        if expected.is_empty() || expected.len() != received.len() {
            return false;
        }
        // OR together the differences of every byte, then compare once:
        // no branch on the contents, and one optimization barrier rather
        // than one per byte.
        let difference = expected
            .iter()
            .zip(received)
            .fold(0u8, |acc, (e, r)| acc | (e ^ r));
        bool::from(difference.ct_eq(&0))
    }

    /// [`SignatureBuf::matches`] for the received signature in its canonical
    /// percent-encoding (`%2B` for `+`): decoded byte by byte as it is
    /// compared, with nothing allocated. Only the received text, which the
    /// client chose, steers the loop; the expected bytes are only XORed in.
    pub(crate) fn matches_encoded(&self, received: &str) -> bool {
        let expected = self.as_bytes();
        let (mut difference, mut len) = (0u8, 0usize);
        let decoded = for_each_decoded(received.as_bytes(), false, |b| {
            // Past the expected length every byte differs (`!b`).
            difference |= b ^ expected.get(len).copied().unwrap_or(!b);
            len += 1;
        });
        decoded.is_ok()
            && !expected.is_empty()
            && len == expected.len()
            && bool::from(difference.ct_eq(&0))
    }
}

impl Drop for SignatureBuf {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes[..self.len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encoding::percent_encode_bytes;

    #[test]
    fn encoded_signatures_match_as_their_decoding_does() {
        let mut expected = SignatureBuf::new();
        expected.set(b"ab+/c=");
        for (received, matches) in [
            ("ab%2B%2Fc%3D", true),
            ("ab%2B%2fc%3D", true), // what it decodes to is what counts
            ("ab+%2Fc%3D", true),   // `+` is no space here
            ("ab%2B%2Fc", false),   // short
            ("ab%2B%2Fc%3D%3D", false),
            ("ab%2B%2Fc%3E", false),
            ("ab%2B%2Fc%3", false), // malformed
            ("", false),
        ] {
            assert_eq!(expected.matches_encoded(received), matches, "{received}");
            let decoded = crate::protocol::encoding::percent_decode_str(received, false);
            let by_decoding = decoded.is_some_and(|d| expected.matches(&d));
            assert_eq!(by_decoding, matches, "{received}");
        }
        assert!(
            !SignatureBuf::new().matches_encoded(""),
            "nothing expected never matches"
        );
    }

    #[test]
    fn encoded_signatures_of_every_length_match_as_their_decoding_does() {
        // Around `SignatureBuf`'s 128 bytes too, past which it spills.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        for len in [1, 2, 27, 28, 88, 126, 127, 128, 129, 130, 200] {
            let value: Vec<u8> = (0..len).map(|_| b"aZ+/=%&"[next(7)]).collect();
            let mut expected = SignatureBuf::new();
            expected.set(&value);
            for _ in 0..50 {
                let mut received = percent_encode_bytes(&value).into_owned();
                match next(6) {
                    0 => {}
                    1 => received = received.to_ascii_lowercase(),
                    2 => received.push_str("%3D"),
                    3 => {
                        received.pop();
                    }
                    4 => received.insert(next(received.len()), 'x'),
                    _ => received.push('%'),
                }
                let decoded = crate::protocol::encoding::percent_decode_str(&received, false);
                let by_decoding = decoded.is_some_and(|d| expected.matches(&d));
                assert_eq!(
                    expected.matches_encoded(&received),
                    by_decoding,
                    "{len} {received}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for m in SignatureMethod::ALL {
            assert_eq!(SignatureMethod::from_name(m.name()), Some(m));
        }
        assert_eq!(SignatureMethod::from_name("hmac-sha1"), None);
        #[cfg(not(feature = "rsa"))]
        assert_eq!(SignatureMethod::from_name("RSA-SHA1"), None);
    }

    #[test]
    fn verify_is_exact() {
        let sig = SignatureMethod::HmacSha1.sign("bs", "cs", "ts");
        assert_eq!(sig, "VZVjXceV7JgPq/dOTnNmEfO0Fv8=");
        assert!(SignatureMethod::HmacSha1.verify("bs", "cs", "ts", &sig));
        assert!(!SignatureMethod::HmacSha1.verify("bs", "cs", "ts", &sig[..sig.len() - 1]));
        assert!(!SignatureMethod::HmacSha1.verify("bs", "cs", "tz", &sig));
        assert!(!SignatureMethod::HmacSha1.verify("bs", "cs", "ts", ""));
        // Signing keys with characters that need encoding take the slow path.
        let long = "x".repeat(300);
        let s = SignatureMethod::HmacSha256.sign("bs", &long, "a b");
        assert!(SignatureMethod::HmacSha256.verify("bs", &long, "a b", &s));
        assert!(SignatureMethod::Plaintext.verify("", "", "", "&"));
        assert!(!SignatureMethod::Plaintext.verify("", "", "", ""));
    }
}
