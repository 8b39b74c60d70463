//! What an adapter reads of a request before the provider sees it: whether
//! it carries OAuth credentials at all, whether it names a body hash, and an
//! owned copy of what its signature covers for lazy verification.

use crate::adapters::origin::ResolvedOrigin;
use crate::protocol::authorization_header::raw_pairs;
use crate::protocol::request::Request;

/// Whether a request carries OAuth credentials at all: an `Authorization`
/// header with the `OAuth` scheme, or an `oauth_*` parameter in the query or
/// the form body (RFC 5849 §3.5). Adapters use it to tell "not signed" (no
/// OAuth user, `None`) from "signed but refused".
pub(crate) fn carries_oauth_credentials(
    authorization: Option<&str>,
    query: Option<&str>,
    form_body: Option<&[u8]>,
) -> bool {
    // The scheme as parameter collection reads it: what it would ignore
    // carries nothing.
    let header = authorization.is_some_and(|value| raw_pairs(value).is_ok());
    let names_oauth = |form: &str| {
        form.split('&').any(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            name.starts_with("oauth_")
                || name.starts_with("oauth%5F")
                || name.starts_with("oauth%5f")
        })
    };
    header
        || query.is_some_and(names_oauth)
        || form_body
            .and_then(|body| std::str::from_utf8(body).ok())
            .is_some_and(names_oauth)
}

/// An owned copy of what a request's signature covers, kept by an adapter
/// for lazy verification (the framework's request is gone by the time a
/// handler asks): its text in one allocation, the form body shared.
pub(crate) struct SignedParts {
    /// Method, scheme, authority, target, Authorization and Content-Type,
    /// one after the other.
    text: String,
    /// Where each of those ends in `text`.
    ends: [usize; 6],
    has_authorization: bool,
    has_content_type: bool,
    form: bytes::Bytes,
    /// The address the request came from, if known.
    peer: Option<std::net::IpAddr>,
}

impl SignedParts {
    pub(crate) fn new(
        method: &str,
        origin: &ResolvedOrigin,
        target: &str,
        authorization: Option<&str>,
        content_type: Option<&str>,
        form: bytes::Bytes,
        peer: Option<std::net::IpAddr>,
    ) -> Self {
        let parts = [
            method,
            &origin.scheme,
            &origin.authority,
            target,
            authorization.unwrap_or(""),
            content_type.unwrap_or(""),
        ];
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let ends = parts.map(|part| {
            text.push_str(part);
            text.len()
        });
        Self {
            text,
            ends,
            has_authorization: authorization.is_some(),
            has_content_type: content_type.is_some(),
            form,
            peer,
        }
    }

    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The query of the target, if any.
    pub(crate) fn query(&self) -> Option<&str> {
        self.part(3).split_once('?').map(|(_, query)| query)
    }

    /// The Authorization header, if any.
    pub(crate) fn authorization(&self) -> Option<&str> {
        self.has_authorization.then(|| self.part(4))
    }

    /// The form body (empty unless the body was read as a form).
    pub(crate) fn form(&self) -> &[u8] {
        &self.form
    }

    /// The neutral view the provider verifies.
    pub(crate) fn request(&self) -> Request<'_> {
        let content_type = self.has_content_type.then(|| self.part(5));
        Request::new(self.part(0), self.part(1), self.part(2), self.part(3))
            .authorization(self.authorization())
            .form_body(content_type, &self.form)
            .peer(self.peer)
    }
}

/// Whether a request names `oauth_body_hash` (the Request Body Hash
/// extension) in its `Authorization` header or query: then its body, of any
/// content type, must be read (within the form-body limit) to verify it.
/// Adapters read form-encoded bodies anyway; other bodies only then.
pub(crate) fn names_body_hash(authorization: Option<&str>, target: &str) -> bool {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    authorization.is_some_and(|h| h.contains(crate::protocol::body_hash::BODY_HASH_PARAM))
        || query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(crate::protocol::body_hash::BODY_HASH_PARAM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_oauth_credentials() {
        assert!(carries_oauth_credentials(
            Some("OAuth realm=\"\""),
            None,
            None
        ));
        assert!(carries_oauth_credentials(Some("oauth x"), None, None));
        assert!(carries_oauth_credentials(Some(" \tOAuth"), None, None));
        assert!(!carries_oauth_credentials(Some("Bearer x"), None, None));
        // Read as collection reads it: not the OAuth scheme, not signed.
        for other in ["OAuthx a=\"1\"", "OAuth\u{a0}a=\"1\"", "", "Basic OAuth"] {
            assert!(
                !carries_oauth_credentials(Some(other), None, None),
                "{other:?}"
            );
            let request = Request::new("GET", "http", "h", "/").authorization(Some(other));
            let signed = crate::protocol::SignedRequest::collect(
                &request,
                &crate::protocol::Limits::default(),
            );
            assert_eq!(signed.map(|s| s.consumer_key().is_none()), Ok(true));
        }
        assert!(carries_oauth_credentials(
            None,
            Some("a=1&oauth_token=x"),
            None
        ));
        assert!(carries_oauth_credentials(
            None,
            None,
            Some(b"oauth_consumer_key=k")
        ));
        assert!(!carries_oauth_credentials(
            None,
            Some("a=oauth_"),
            Some(b"x=1")
        ));
    }

    #[test]
    fn detects_body_hashes() {
        assert!(names_body_hash(Some("OAuth oauth_body_hash=\"x\""), "/a"));
        assert!(names_body_hash(None, "/a?b=1&oauth_body_hash=x"));
        assert!(!names_body_hash(None, "/a?b=oauth_body_hash"));
        assert!(!names_body_hash(Some("OAuth oauth_token=\"t\""), "/a"));
    }
}
