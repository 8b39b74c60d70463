//! What is checked on a [`SignedRequest`]: its base string (RFC 5849
//! §3.4.1), its signature (§3.4, HMAC and PLAINTEXT; RSA with feature `rsa`)
//! and its timestamp (§3.3). The primitives live in their own modules
//! (`base_string`, `signature`, `rsa`, `timestamp`) and take plain values;
//! only this module names `SignedRequest`.

use crate::protocol::base_string::{BaseUri, Sink, ascii_string, write_base_string};
use crate::protocol::error::{Problem, ProtocolError};
#[cfg(feature = "rsa")]
use crate::protocol::rsa::{ConsumerPrivateKey, ConsumerPublicKey, Digest, dummy_key, is_rsa};
use crate::protocol::signature::{BaseString, SignatureBuf, SignatureMethod};
use crate::protocol::signed_request::SignedRequest;
use crate::protocol::timestamp::TimestampWindow;

impl<'a> SignedRequest<'a> {
    /// The base string URI (§3.4.1.2), split when the request was
    /// collected. A malformed authority → 400 `parameter_rejected`.
    pub(crate) fn base_uri(&self) -> Result<BaseUri<'a>, ProtocolError> {
        match self.uri {
            Some(uri) => Ok(uri),
            // Only to build the same error as the split did.
            None => BaseUri::new(self.scheme, self.authority, self.path),
        }
    }

    /// Streams the signature base string (§3.4.1.1) into `sink`.
    pub(crate) fn write_base_string(&self, sink: &mut impl Sink) -> Result<(), ProtocolError> {
        let uri = self.base_uri()?;
        self.write_base_string_with(&uri, sink);
        Ok(())
    }

    /// Streams the signature base string into `sink`, given this request's
    /// base string URI (already validated by [`SignedRequest::base_uri`]).
    pub(crate) fn write_base_string_with(&self, uri: &BaseUri<'_>, sink: &mut impl Sink) {
        write_base_string(sink, self.method, uri, self.canonical_params());
    }

    /// The signature base string (§3.4.1.1).
    ///
    /// Refused (400 `parameter_rejected`) only when the authority is malformed.
    pub fn base_string(&self) -> Result<String, ProtocolError> {
        let mut out = Vec::with_capacity(256 + self.params.len() * 24);
        self.write_base_string(&mut out)?;
        Ok(ascii_string(out))
    }

    /// The base string URI (§3.4.1.2), not encoded.
    pub fn base_string_uri(&self) -> Result<String, ProtocolError> {
        Ok(self.base_uri()?.to_uri_string())
    }

    /// The normalized request parameters (§3.4.1.3.2): `name=value` pairs,
    /// encoded and sorted, joined by `&`.
    pub fn normalized_parameters(&self) -> String {
        let mut out = String::with_capacity(self.params.len() * 24);
        for (i, (name, value, _)) in self.canonical_params().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        out
    }
}

/// A request with its base string URI, validated before signing starts, so
/// that writing the base string cannot fail.
struct RequestBaseString<'r, 'a> {
    request: &'r SignedRequest<'a>,
    uri: BaseUri<'r>,
}

impl BaseString for RequestBaseString<'_, '_> {
    fn write_to(&self, sink: &mut impl Sink) {
        self.request.write_base_string_with(&self.uri, sink);
    }
}

impl SignedRequest<'_> {
    /// Verifies `oauth_signature` against this request with the given secrets
    /// (`token_secret` empty when there is no token), streaming the base
    /// string into the MAC and comparing in constant time.
    ///
    /// A missing signature or method → 400 `parameter_absent`; a method this
    /// crate does not implement → 400 `signature_method_rejected`; a wrong
    /// signature → 401 `signature_invalid`.
    pub fn verify_signature(
        &self,
        consumer_secret: &str,
        token_secret: &str,
    ) -> Result<(), ProtocolError> {
        if self.signature_method().is_none() && self.signature_method_name().is_some() {
            return Err(ProtocolError::new(Problem::SignatureMethodRejected));
        }
        let (Some(method), Some(received)) = (self.signature_method(), self.signature_encoded())
        else {
            return Err(ProtocolError::parameters_absent(
                [
                    ("oauth_signature_method", self.signature_method().is_none()),
                    ("oauth_signature", self.signature().is_none()),
                ]
                .into_iter()
                .filter_map(|(n, missing)| missing.then_some(n))
                .collect(),
            ));
        };
        let base_string = RequestBaseString {
            request: self,
            uri: self.base_uri()?,
        };
        let mut expected = SignatureBuf::new();
        method.compute(consumer_secret, token_secret, &base_string, &mut expected);
        if expected.matches_encoded(received) {
            Ok(())
        } else {
            Err(ProtocolError::new(Problem::SignatureInvalid))
        }
    }

    /// The signature this request should carry with these secrets — for
    /// diagnostics (the explain tool) and signers. Never send it to a client
    /// or log it: it is as good as a valid signature.
    pub(crate) fn expected_signature(
        &self,
        method: SignatureMethod,
        consumer_secret: &str,
        token_secret: &str,
    ) -> Result<String, ProtocolError> {
        let base_string = RequestBaseString {
            request: self,
            uri: self.base_uri()?,
        };
        let mut out = SignatureBuf::new();
        method.compute(consumer_secret, token_secret, &base_string, &mut out);
        Ok(out.as_str().to_owned())
    }
}

impl SignedRequest<'_> {
    /// Checks `oauth_timestamp` against `now` (Unix seconds) — see
    /// [`TimestampWindow::check`]. A missing timestamp → 400 `parameter_absent`.
    pub fn check_timestamp(
        &self,
        now: u64,
        window: &TimestampWindow,
    ) -> Result<u64, ProtocolError> {
        match self.timestamp() {
            Some(_) => window.check_parsed(self.timestamp_secs, now),
            None => Err(ProtocolError::parameters_absent(vec!["oauth_timestamp"])),
        }
    }
}

#[cfg(feature = "rsa")]
impl SignedRequest<'_> {
    /// Verifies an RSA-SHA1 / RSA-SHA256 `oauth_signature` (§3.4.3) with the
    /// consumer's public key, streaming the base string into the hash.
    ///
    /// Missing signature or method → 400 `parameter_absent`; a method other
    /// than the RSA ones → 400 `signature_method_rejected`; a wrong
    /// signature → 401 `signature_invalid`.
    pub fn verify_rsa_signature(&self, key: &ConsumerPublicKey) -> Result<(), ProtocolError> {
        let (Some(method), Some(signature)) = (self.signature_method(), self.signature()) else {
            // The shared-secret check answers a missing parameter without
            // computing anything, naming what is missing.
            return self.verify_signature("", "");
        };
        if !is_rsa(method) {
            return Err(ProtocolError::new(Problem::SignatureMethodRejected));
        }
        let mut digest = Digest::new(method);
        self.write_base_string(&mut digest)?;
        if digest.verify(key, signature) {
            Ok(())
        } else {
            Err(ProtocolError::new(Problem::SignatureInvalid))
        }
    }

    /// The provider's RSA check: with the consumer's key, or the dummy key
    /// when it has none (same work, same answer).
    pub(crate) fn verify_rsa_or_dummy(
        &self,
        key: Option<&ConsumerPublicKey>,
    ) -> Result<(), ProtocolError> {
        let key = match key {
            Some(key) => Some(key),
            None => dummy_key(),
        };
        match key {
            Some(key) => self.verify_rsa_signature(key),
            None => Err(ProtocolError::new(Problem::SignatureInvalid)),
        }
    }

    /// The RSA `oauth_signature` for this request, for signers.
    pub(crate) fn rsa_signature(
        &self,
        method: SignatureMethod,
        key: &ConsumerPrivateKey,
    ) -> Result<Option<String>, ProtocolError> {
        let mut digest = Digest::new(method);
        self.write_base_string(&mut digest)?;
        Ok(digest.sign(key))
    }
}
