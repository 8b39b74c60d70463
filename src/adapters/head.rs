//! What an adapter reads of a framework's request before the provider sees
//! it, once for every framework: the request head ([`RequestHead`]), the
//! origin it was addressed to ([`Site`]), which body to read
//! ([`BodyPlan`]), the neutral view the provider verifies, and the plain
//! answers for requests refused before that (misdirected, too large,
//! unreadable).

use std::net::IpAddr;

use crate::adapters::origin::{OriginError, OriginHeaders, OriginPolicy, ResolvedOrigin};
use crate::adapters::signed::names_body_hash;
use crate::protocol::base_string::BaseUri;
use crate::protocol::request::{Request, is_form_urlencoded};
use crate::protocol::response::Response;

mod sealed {
    pub trait Sealed {}
}

/// The head of a request as a framework received it: implemented for axum's
/// `http::request::Parts` (feature `axum`) and actix-web's `HttpRequest`
/// (feature `actix`). Sealed: the adapters are the only implementors.
pub trait RequestHead: sealed::Sealed {
    /// The method, as sent.
    #[doc(hidden)]
    fn method(&self) -> &str;
    /// The raw request target: path and query exactly as received, before
    /// any router stripped a prefix.
    #[doc(hidden)]
    fn target(&self) -> &str;
    /// A header's value, if present and visible ASCII; `name` is lower-case.
    #[doc(hidden)]
    fn header(&self, name: &'static str) -> Option<&str>;
    /// Whether the header `name` (lower-case) has more than one field line.
    #[doc(hidden)]
    fn header_repeated(&self, name: &'static str) -> bool;
    /// The authority of the request URI: HTTP/2's `:authority`, or that of an
    /// absolute-form request target (RFC 9112 §3.2.2).
    #[doc(hidden)]
    fn uri_authority(&self) -> Option<&str>;
    /// The peer's address, when the server provides it.
    #[doc(hidden)]
    fn peer(&self) -> Option<IpAddr>;
    /// Whether the server itself received the request over TLS.
    #[doc(hidden)]
    fn tls(&self) -> bool;

    /// The neutral view the provider verifies, for a resolved origin, the
    /// request target the client sent to it
    /// ([`ResolvedOrigin::public_target`]) and the form body read (empty
    /// when none was).
    #[doc(hidden)]
    fn view<'a>(
        &'a self,
        origin: &'a ResolvedOrigin,
        target: &'a str,
        form: &'a [u8],
    ) -> Request<'a> {
        Request::new(self.method(), &origin.scheme, &origin.authority, target)
            .authorization(self.header("authorization"))
            .form_body(self.header("content-type"), form)
    }
}

#[cfg(feature = "axum")]
impl sealed::Sealed for http::request::Parts {}

#[cfg(feature = "actix")]
impl sealed::Sealed for actix_web::HttpRequest {}

/// Where an app is served: what decides a request's origin.
#[derive(Debug, Clone, Default)]
pub(crate) struct Site {
    pub(crate) origins: OriginPolicy,
    /// Whether this server itself speaks TLS.
    pub(crate) https: bool,
}

impl Site {
    /// The origin `head` was addressed to, by the policy.
    ///
    /// The two framing ambiguities of RFC 9112 §3.2 are refused before the
    /// policy is asked: more than one `Host` field line (§3.2: 400), and a
    /// request-target authority (absolute form, or HTTP/2's `:authority`)
    /// that names another host than `Host`. §3.2.2 would have the target's
    /// authority win; the host app, its router and any layer in between may
    /// read `Host` instead, so this refuses the disagreement rather than
    /// verify a signature against an origin some other part of the app does
    /// not see. A conforming client never sends it.
    pub(crate) fn resolve(&self, head: &impl RequestHead) -> Result<ResolvedOrigin, OriginError> {
        if head.header_repeated("host") {
            return Err(OriginError::DuplicateHost);
        }
        let scheme = if self.https || head.tls() {
            "https"
        } else {
            "http"
        };
        let host = match (head.header("host"), head.uri_authority()) {
            (Some(host), Some(target)) if !same_authority(scheme, host, target) => {
                return Err(OriginError::ConflictingHost);
            }
            (host, target) => host.or(target),
        };
        let peer = head.peer();
        // Looked up only when they could count.
        let forwarding = |name| {
            self.origins
                .trusts(peer)
                .then(|| head.header(name))
                .flatten()
        };
        let headers = OriginHeaders {
            host,
            forwarded: forwarding("forwarded"),
            x_forwarded_proto: forwarding("x-forwarded-proto"),
            x_forwarded_host: forwarding("x-forwarded-host"),
            x_forwarded_prefix: forwarding("x-forwarded-prefix"),
        };
        self.origins.resolve(scheme, &headers, peer)
    }
}

/// Whether `host` and `target` name one host and port for `scheme` (case
/// and a default port aside). Either malformed: no.
fn same_authority(scheme: &str, host: &str, target: &str) -> bool {
    let (host, target) = (host.trim(), target.trim());
    host.eq_ignore_ascii_case(target)
        || matches!(
            (BaseUri::new(scheme, host, ""), BaseUri::new(scheme, target, "")),
            (Ok(a), Ok(b)) if a.same_host(b)
        )
}

/// Which body an adapter reads, decided before reading anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyPlan {
    /// Not a form (nor hashed), or no body: passed on unread.
    Leave,
    /// To be read whole, up to the limit.
    Read,
    /// Declared longer than the limit: refused (413) unread.
    TooLarge,
}

impl BodyPlan {
    /// Reads `application/x-www-form-urlencoded` bodies — and, with
    /// `hashed`, a body of any type when the request names `oauth_body_hash`
    /// — of at most `limit` bytes.
    pub(crate) fn of(head: &impl RequestHead, has_body: bool, limit: usize, hashed: bool) -> Self {
        if !has_body {
            return Self::Leave;
        }
        let hashed = hashed && names_body_hash(head.header("authorization"), head.target());
        if !hashed && !head.header("content-type").is_some_and(is_form_urlencoded) {
            return Self::Leave;
        }
        let declared = head
            .header("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            Self::TooLarge
        } else {
            Self::Read
        }
    }
}

/// A short plain-text answer.
pub(crate) fn plain(status: u16, text: &'static str) -> Response {
    Response {
        status,
        headers: vec![("content-type", "text/plain; charset=utf-8".to_owned())],
        body: text.to_owned(),
    }
}

/// 413: a body past the limit.
pub(crate) fn too_large() -> Response {
    plain(413, "The form body is larger than this site accepts.")
}

/// 400: a body that could not be read.
pub(crate) fn unreadable() -> Response {
    plain(400, "The request body could not be read.")
}

/// 400: a request for an origin not served here, or whose origin is
/// ambiguous.
pub(crate) fn misdirected(error: &OriginError) -> Response {
    tracing::info!(%error, "request refused: origin not served here");
    match error {
        OriginError::DuplicateHost | OriginError::ConflictingHost => {
            plain(400, "The request names more than one host.")
        }
        _ => plain(400, "This site is not served at this address."),
    }
}

/// The page security headers a response of the host's own lacks, given
/// which names it has.
pub(crate) fn missing_security_headers(
    has: impl Fn(&str) -> bool,
) -> Vec<(&'static str, &'static str)> {
    crate::adapters::pages::PAGE_SECURITY_HEADERS
        .into_iter()
        .filter(|(name, _)| !has(name))
        .collect()
}

/// A neutral response's headers in a framework's types; a header that is
/// not valid is dropped (and logged).
pub(crate) fn typed_headers<N, V, E, F>(
    headers: Vec<(&'static str, String)>,
    name: impl Fn(&'static str) -> Result<N, E>,
    value: impl Fn(&str) -> Result<V, F>,
) -> impl Iterator<Item = (N, V)> {
    headers
        .into_iter()
        .filter_map(move |(n, v)| match (name(n), value(&v)) {
            (Ok(n), Ok(v)) => Some((n, v)),
            _ => {
                tracing::warn!(header = n, "dropped a response header that is not valid");
                None
            }
        })
}
