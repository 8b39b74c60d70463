//! A framework-neutral, borrowed view of an HTTP request as the server
//! received it: everything RFC 5849 signs, nothing it does not.

use std::net::IpAddr;

use crate::protocol::encoding::{find_byte, find_either};

/// What the signature covers of an HTTP request, borrowed from the host's
/// request type (RFC 5849 §3.4.1).
///
/// The request target must be the **raw** path and query exactly as sent on the
/// wire (`/a%2Fb?x=1+2`), never a decoded or re-encoded path: the base string
/// signs the path byte for byte. An absolute-form target
/// (`http://host/path?q`) is accepted too.
///
/// ```
/// use oauth1_provider::Request;
/// let body = b"status=hello%20world";
/// let request = Request::new("POST", "https", "api.example.com", "/1/update?draft=1")
///     .authorization(Some("OAuth oauth_consumer_key=\"key\", ..."))
///     .form_body(Some("application/x-www-form-urlencoded; charset=UTF-8"), body);
/// assert!(request.body_is_form());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `GET`; upper-cased in the base string.
    pub method: &'a str,
    /// The scheme the request was really received with: `http` or `https`
    /// (as the client saw it — behind a TLS-terminating proxy, `https`).
    pub scheme: &'a str,
    /// The authority the request was addressed to: `host` or `host:port`, as
    /// the client wrote it (the `Host` header, or the configured public origin).
    pub authority: &'a str,
    /// The raw request target: path and query exactly as sent.
    pub target: &'a str,
    /// The `Authorization` header value, if any.
    pub authorization: Option<&'a str>,
    /// The `Content-Type` header value, if any.
    pub content_type: Option<&'a str>,
    /// The request body. Its parameters are signed when `content_type` is
    /// `application/x-www-form-urlencoded`; any other body is only read to
    /// check an `oauth_body_hash`, and may be empty when there is none.
    pub body: &'a [u8],
    /// The address the request came from, when the server knows it (the
    /// TCP peer: behind a reverse proxy, the proxy's). Not signed; only
    /// recorded in audit events.
    pub peer: Option<IpAddr>,
}

impl<'a> Request<'a> {
    /// A request with no Authorization header and no body.
    pub fn new(method: &'a str, scheme: &'a str, authority: &'a str, target: &'a str) -> Self {
        Self {
            method,
            scheme,
            authority,
            target,
            authorization: None,
            content_type: None,
            body: &[],
            peer: None,
        }
    }

    /// Sets the address the request came from.
    pub fn peer(mut self, peer: Option<IpAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// Sets the `Authorization` header value.
    pub fn authorization(mut self, value: Option<&'a str>) -> Self {
        self.authorization = value;
        self
    }

    /// Sets the `Content-Type` and the body. The body is only signed when the
    /// content type is `application/x-www-form-urlencoded` (§3.4.1.3.1).
    pub fn form_body(mut self, content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        self.content_type = content_type;
        self.body = body;
        self
    }

    /// Whether the content type is `application/x-www-form-urlencoded`
    /// (media type compared case-insensitively, parameters such as
    /// `; charset=UTF-8` allowed).
    pub fn body_is_form(&self) -> bool {
        self.content_type.is_some_and(is_form_urlencoded)
    }

    /// The path part of the target (without the query), raw.
    pub fn path(&self) -> &'a str {
        self.path_and_query().0
    }

    /// The query part of the target (without the `?`), raw, if any.
    pub fn query(&self) -> Option<&'a str> {
        self.path_and_query().1
    }

    /// The path and the query of the target, each found in one pass a word
    /// at a time.
    pub(crate) fn path_and_query(&self) -> (&'a str, Option<&'a str>) {
        let target = strip_absolute_form(self.target);
        // The path ends at `?` or `#`, the query at `#` (a fragment is never
        // sent by conforming clients, and never signed).
        let path_end = find_either(target.as_bytes(), b'?', b'#').unwrap_or(target.len());
        let (path, rest) = target.split_at(path_end);
        let query = rest
            .strip_prefix('?')
            .map(|q| match find_byte(q.as_bytes(), b'#') {
                Some(i) => &q[..i],
                None => q,
            });
        (path, query)
    }
}

/// Whether a `Content-Type` value names `application/x-www-form-urlencoded`.
pub fn is_form_urlencoded(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// `http://host/path?q` → `/path?q`; a target in origin-form is returned as is.
fn strip_absolute_form(target: &str) -> &str {
    if target.starts_with('/') {
        return target;
    }
    match target.find("://") {
        Some(i) => {
            let rest = &target[i + 3..];
            match rest.find(['/', '?', '#']) {
                Some(j) => &rest[j..],
                None => "",
            }
        }
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query_raw() {
        let r = Request::new("GET", "http", "h", "/a%2Fb?x=1+2&y");
        assert_eq!(r.path(), "/a%2Fb");
        assert_eq!(r.query(), Some("x=1+2&y"));
        let r = Request::new("GET", "http", "h", "http://h:8/p?q=1");
        assert_eq!(r.path(), "/p");
        assert_eq!(r.query(), Some("q=1"));
        let r = Request::new("GET", "http", "h", "http://h?q");
        assert_eq!(r.path(), "");
        assert_eq!(r.query(), Some("q"));
        let r = Request::new("GET", "http", "h", "/p#f?x");
        assert_eq!((r.path(), r.query()), ("/p", None));
        let r = Request::new("GET", "http", "h", "/p?q=1#f");
        assert_eq!((r.path(), r.query()), ("/p", Some("q=1")));
        let r = Request::new("GET", "http", "h", "http://h#f");
        assert_eq!((r.path(), r.query()), ("", None));
    }

    #[test]
    fn form_media_type_is_case_insensitive_with_parameters() {
        assert!(is_form_urlencoded(
            "Application/X-WWW-Form-URLEncoded; charset=UTF-8"
        ));
        assert!(is_form_urlencoded("application/x-www-form-urlencoded"));
        assert!(!is_form_urlencoded("application/json"));
        assert!(!is_form_urlencoded("application/x-www-form-urlencodedx"));
    }
}
