//! The `Authorization: OAuth …` header (RFC 5849 §3.5.1): parsing what clients
//! send and formatting what the signer sends.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::protocol::encoding::{
    Class, Encoded, RawComponent, percent_decode_str, split_component,
};

/// Why an `Authorization` header could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The scheme is not `OAuth`.
    #[error("the Authorization scheme is not OAuth")]
    NotOAuth,
    /// A parameter is not `name="value"`.
    #[error("malformed OAuth Authorization header parameter")]
    Malformed,
    /// A name or value has malformed percent-encoding or is not UTF-8.
    #[error("malformed percent-encoding in the OAuth Authorization header")]
    BadEncoding,
}

/// A parsed `Authorization: OAuth …` header with its names and values
/// percent-decoded (RFC 5849 §3.5.1; no `+`-as-space rule).
///
/// ```
/// use oauth1_provider::protocol::AuthorizationHeader;
/// let h = AuthorizationHeader::parse(
///     r#"OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_callback="http%3A%2F%2Fprinter.example.com%2Fready""#,
/// ).unwrap();
/// assert_eq!(h.realm(), Some("Photos"));
/// assert_eq!(h.get("oauth_callback"), Some("http://printer.example.com/ready"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    realm: Option<&'a str>,
    params: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> AuthorizationHeader<'a> {
    /// Parses a header value. The scheme is matched case-insensitively;
    /// parameters are `name="value"` separated by commas with optional
    /// whitespace; `realm` is kept aside and not percent-decoded.
    pub fn parse(value: &'a str) -> Result<Self, HeaderError> {
        let mut realm = None;
        let mut params = Vec::new();
        for pair in raw_pairs(value)? {
            let (name, raw_value) = pair?;
            let (name, raw_value) = (name.raw, raw_value.raw);
            if name == "realm" {
                realm = Some(raw_value);
                continue;
            }
            let name = percent_decode_str(name, false).ok_or(HeaderError::BadEncoding)?;
            let value = percent_decode_str(raw_value, false).ok_or(HeaderError::BadEncoding)?;
            params.push((name, value));
        }
        Ok(Self { realm, params })
    }

    /// The `realm`, if sent (it is not signed).
    pub fn realm(&self) -> Option<&'a str> {
        self.realm
    }

    /// The first value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// All parameters but `realm`, decoded, in the order sent.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }
}

/// Formats an `Authorization` header from decoded parameters, encoding each
/// name and value (§3.5.1). `realm` is written first, as a quoted string.
///
/// ```
/// let h = oauth1_provider::protocol::format_authorization_header(
///     Some("Photos"),
///     [("oauth_consumer_key", "key"), ("oauth_signature", "a+b/c=")],
/// );
/// assert_eq!(h, r#"OAuth realm="Photos", oauth_consumer_key="key", oauth_signature="a%2Bb%2Fc%3D""#);
/// ```
pub fn format_authorization_header<'p>(
    realm: Option<&str>,
    params: impl IntoIterator<Item = (&'p str, &'p str)>,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("OAuth ");
    let mut first = true;
    if let Some(realm) = realm {
        out.push_str("realm=\"");
        for c in realm
            .chars()
            .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        {
            out.push(c);
        }
        out.push('"');
        first = false;
    }
    for (name, value) in params {
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{}=\"{}\"", Encoded(name), Encoded(value));
    }
    out
}

/// Splits a header value into raw (still percent-encoded) `(name, value)`
/// pairs, `realm` included, without allocating, noting which names and
/// values are already canonically encoded.
///
/// Returns [`HeaderError::NotOAuth`] when the scheme is something else.
pub(crate) fn raw_pairs(value: &str) -> Result<RawPairs<'_>, HeaderError> {
    let start = value
        .bytes()
        .position(|b| !is_ows(b))
        .unwrap_or(value.len());
    let value = &value[start..];
    let scheme_end = value.bytes().position(is_ows).unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case("OAuth") {
        return Err(HeaderError::NotOAuth);
    }
    Ok(RawPairs {
        rest: &value[scheme_end..],
        failed: false,
    })
}

/// The iterator [`raw_pairs`] returns.
pub(crate) struct RawPairs<'a> {
    rest: &'a str,
    failed: bool,
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl<'a> RawPairs<'a> {
    fn next_pair(&mut self) -> Option<Result<RawPair<'a>, HeaderError>> {
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        // Skip whitespace and empty list elements (`a="1", , b="2"`, a trailing comma).
        while i < bytes.len() && (is_ows(bytes[i]) || bytes[i] == b',') {
            i += 1;
        }
        if i == bytes.len() {
            return None;
        }
        let (name, _) = split_component(&self.rest[i..], Class::TOKEN);
        i += name.raw.len();
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        if name.raw.is_empty() || bytes.get(i) != Some(&b'=') {
            return Some(Err(HeaderError::Malformed));
        }
        i += 1;
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        let value = if bytes.get(i) == Some(&b'"') {
            // Values are percent-encoded (§3.5.1), so a backslash escape or a
            // control character before the closing quote can only be a
            // malformed header.
            let (value, _) = split_component(&self.rest[i + 1..], Class::QUOTED);
            i += 1 + value.raw.len();
            if bytes.get(i) != Some(&b'"') {
                return Some(Err(HeaderError::Malformed));
            }
            i += 1;
            value
        } else {
            // A bare token value (RFC 7235 allows it; some clients send it).
            let (value, _) = split_component(&self.rest[i..], Class::TOKEN);
            i += value.raw.len();
            value
        };
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        match bytes.get(i) {
            None => {}
            Some(b',') => i += 1,
            Some(_) => return Some(Err(HeaderError::Malformed)),
        }
        self.rest = &self.rest[i..];
        Some(Ok((name, value)))
    }
}

/// A raw `(name, value)` pair of the header.
type RawPair<'a> = (RawComponent<'a>, RawComponent<'a>);

impl<'a> Iterator for RawPairs<'a> {
    type Item = Result<RawPair<'a>, HeaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_pair();
        if matches!(item, Some(Err(_))) {
            self.failed = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_example_with_realm_aside() {
        let h = AuthorizationHeader::parse(
            "OAuth realm=\"Example\",\n oauth_consumer_key=\"9djdj82h48djs9d2\",oauth_token=\"kkk9d7dh3k39sjv7\"",
        );
        // A newline is not optional whitespace.
        assert_eq!(h, Err(HeaderError::Malformed));
        let h = AuthorizationHeader::parse(
            "oauth  realm=\"Example\",oauth_consumer_key=\"9djdj82h48djs9d2\" ,  oauth_sig=\"a%2Bb+c\",",
        )
        .unwrap();
        assert_eq!(h.realm(), Some("Example"));
        assert_eq!(h.get("oauth_consumer_key"), Some("9djdj82h48djs9d2"));
        assert_eq!(h.get("oauth_sig"), Some("a+b+c"));
        assert_eq!(h.params().count(), 2);
    }

    #[test]
    fn rejects_malformed_headers_without_panicking() {
        for bad in [
            "OAuth a",
            "OAuth a=\"1",
            "OAuth =\"1\"",
            "OAuth a=\"1\" b=\"2\"",
            "OAuth a=\"x\\\"y\"",
            "OAuth a=\"%zz\"",
            "OAuth a=\"%\"",
            "OAuth a=\"\u{7f}\"",
        ] {
            assert!(AuthorizationHeader::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            AuthorizationHeader::parse("Bearer abc"),
            Err(HeaderError::NotOAuth)
        );
        assert_eq!(
            AuthorizationHeader::parse("OAuthx a=\"1\""),
            Err(HeaderError::NotOAuth)
        );
        assert!(
            AuthorizationHeader::parse("OAuth")
                .unwrap()
                .params()
                .next()
                .is_none()
        );
        assert_eq!(
            AuthorizationHeader::parse("OAuth a=b").unwrap().get("a"),
            Some("b")
        );
    }

    #[test]
    fn format_then_parse_round_trips() {
        let h = format_authorization_header(None, [("oauth_nonce", "a \"b\" ü&=")]);
        let p = AuthorizationHeader::parse(&h).unwrap();
        assert_eq!(p.get("oauth_nonce"), Some("a \"b\" ü&="));
    }
}
