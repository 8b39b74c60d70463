//! Which origin (scheme and host) a request was really addressed to — the
//! one its signature covers and its tokens are bound to.
//!
//! Behind a load balancer the connection's own scheme and `Host` may not be
//! what the client used. The answer comes from configuration — a fixed list
//! of public origins — and from `Forwarded` / `X-Forwarded-*` headers **only**
//! when the peer is a configured trusted proxy. Never trusted by default.
//!
//! A proxy may also mount the app under a path it strips
//! (`https://example.test/api/whoami` reaches the app as `/whoami`): a public
//! origin with a path (`https://example.test/api`), or `X-Forwarded-Prefix`
//! from a trusted proxy, gives that prefix, and the signature is checked
//! against the public URL — the one the client signed.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::protocol::base_string::BaseUri;

/// How adapters decide the public origin of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OriginPolicy {
    /// The origins the app is served under, e.g. `https://www.example.com`
    /// or `http://localhost:8080`. A request whose origin is none of them is
    /// refused. Empty (the default) accepts the `Host` header as sent, with
    /// the connection's scheme.
    ///
    /// An origin may end in a path prefix that a reverse proxy strips before
    /// the app sees the request: with `https://example.test/api`, a request
    /// for `/whoami` addressed to `example.test` over https is
    /// `https://example.test/api/whoami` to its client, and verified so.
    /// When a trusted proxy sends `X-Forwarded-Prefix`, the prefix must be
    /// the one of an origin listed for that scheme and host.
    pub public_origins: Vec<String>,
    /// Peers whose `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` /
    /// `X-Forwarded-Prefix` headers are believed. Empty by default: such
    /// headers are ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

/// The headers of a request that bear on its origin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OriginHeaders<'a> {
    /// The `Host` header (or HTTP/2 `:authority`).
    pub host: Option<&'a str>,
    /// The `Forwarded` header (RFC 7239).
    pub forwarded: Option<&'a str>,
    /// The `X-Forwarded-Proto` header.
    pub x_forwarded_proto: Option<&'a str>,
    /// The `X-Forwarded-Host` header.
    pub x_forwarded_host: Option<&'a str>,
    /// The `X-Forwarded-Prefix` header: the path prefix the proxy stripped
    /// (RFC 7239's `Forwarded` has no parameter for it).
    pub x_forwarded_prefix: Option<&'a str>,
}

/// The origin a request was addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrigin {
    /// `http` or `https`, lower-case.
    pub scheme: String,
    /// `host` or `host:port`, as the signature base string should see it.
    pub authority: String,
    /// The path prefix a reverse proxy stripped (`/api`), or empty: the
    /// client's URL is this followed by the path the app received.
    pub prefix: String,
}

impl ResolvedOrigin {
    /// The request target as the client sent it to the public origin: the
    /// stripped prefix, then `target` (path and query as the app received
    /// them). `target` itself without a prefix.
    pub fn public_target<'t>(&self, target: &'t str) -> Cow<'t, str> {
        if self.prefix.is_empty() {
            Cow::Borrowed(target)
        } else {
            Cow::Owned(format!("{}{target}", self.prefix))
        }
    }

    /// `scheme://authority` and the prefix: where the app's own paths
    /// start for its clients (`https://example.test/api`).
    pub fn base_url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

/// Why no origin could be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// No `Host` header (and no trusted forwarded host).
    #[error("the request has no Host header")]
    MissingHost,
    /// The host is malformed.
    #[error("the request's host is malformed")]
    MalformedHost,
    /// The origin is not one of the configured public origins.
    #[error("the request's host is not served here")]
    UnknownOrigin,
    /// A trusted proxy's `X-Forwarded-Prefix` is not a plain absolute path
    /// (no query, fragment, `.` or `..` segment, empty segment or
    /// character outside RFC 3986's path characters).
    #[error("the forwarded path prefix is malformed")]
    MalformedPrefix,
    /// More than one `Host` field line (RFC 9112 §3.2).
    #[error("the request has more than one Host header")]
    DuplicateHost,
    /// The request target's authority (absolute form, or HTTP/2's
    /// `:authority`) names another host than the `Host` header.
    #[error("the request target and the Host header name different hosts")]
    ConflictingHost,
}

impl OriginPolicy {
    /// A policy serving exactly these origins, trusting no proxy.
    pub fn public_origins(origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            public_origins: origins.into_iter().map(Into::into).collect(),
            trusted_proxies: Vec::new(),
        }
    }

    /// Also believe forwarding headers from `proxy`.
    pub fn trust_proxy(mut self, proxy: IpAddr) -> Self {
        self.trusted_proxies.push(proxy);
        self
    }

    /// Whether forwarding headers from `peer` are believed: it is a
    /// configured trusted proxy. Adapters need not even look for those
    /// headers otherwise.
    pub fn trusts(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|p| self.trusted_proxies.contains(&p))
    }

    /// Decides the origin of a request that arrived over `transport_scheme`
    /// (`http` or `https`) from `peer`.
    pub fn resolve(
        &self,
        transport_scheme: &str,
        headers: &OriginHeaders<'_>,
        peer: Option<IpAddr>,
    ) -> Result<ResolvedOrigin, OriginError> {
        let mut scheme = transport_scheme.to_ascii_lowercase();
        let mut host = headers.host.map(str::trim);
        let mut forwarded_prefix = None;
        if self.trusts(peer) {
            if let Some(prefix) = headers.x_forwarded_prefix {
                forwarded_prefix =
                    Some(path_prefix(first_value(prefix)).ok_or(OriginError::MalformedPrefix)?);
            }
            if let Some(forwarded) = headers.forwarded {
                // The first element is the one the outermost proxy added
                // for the client's request.
                let first = forwarded.split(',').next().unwrap_or("");
                for pair in first.split(';') {
                    let Some((name, value)) = pair.split_once('=') else {
                        continue;
                    };
                    let value = value.trim().trim_matches('"');
                    match name.trim().to_ascii_lowercase().as_str() {
                        "proto" => scheme = value.to_ascii_lowercase(),
                        "host" => host = Some(value),
                        _ => {}
                    }
                }
            } else {
                if let Some(proto) = headers.x_forwarded_proto {
                    scheme = first_value(proto).to_ascii_lowercase();
                }
                if let Some(forwarded_host) = headers.x_forwarded_host {
                    host = Some(first_value(forwarded_host));
                }
            }
        }
        if scheme != "http" && scheme != "https" {
            return Err(OriginError::MalformedHost);
        }
        let host = host
            .filter(|h| !h.is_empty())
            .ok_or(OriginError::MissingHost)?;
        let uri = BaseUri::new(&scheme, host, "").map_err(|_| OriginError::MalformedHost)?;
        let prefix = if self.public_origins.is_empty() {
            forwarded_prefix.unwrap_or("")
        } else {
            // The first origin of this scheme and host — with the forwarded
            // prefix, if a trusted proxy sent one.
            (self.public_origins.iter())
                .filter_map(|origin| origin_prefix(origin, &scheme, uri))
                .find(|prefix| forwarded_prefix.is_none_or(|forwarded| forwarded == *prefix))
                .ok_or(OriginError::UnknownOrigin)?
        };
        Ok(ResolvedOrigin {
            scheme,
            authority: host.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

fn first_value(list: &str) -> &str {
    list.split(',').next().unwrap_or("").trim()
}

/// `prefix` as a path prefix without its trailing `/` (`""` for `/` or
/// nothing); `None` unless it is a plain absolute path: no query or
/// fragment, no empty, `.` or `..` segment, only RFC 3986 path characters.
fn path_prefix(prefix: &str) -> Option<&str> {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return Some("");
    }
    let plain = prefix.strip_prefix('/')?.split('/').all(|segment| {
        !matches!(segment, "" | "." | "..")
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b))
    });
    plain.then_some(prefix)
}

/// The path prefix of the configured `origin` (`https://Example.com/api/`
/// has `/api`) if it is `scheme` (lower-case) with the host and port of
/// `uri`: compared in place, on every request.
fn origin_prefix<'o>(origin: &'o str, scheme: &str, uri: BaseUri<'_>) -> Option<&'o str> {
    // `split_once(':')` finds a byte; a `"://"` pattern sets up a substring
    // search, on every request.
    let (origin_scheme, rest) = origin.split_once(':')?;
    let rest = rest.strip_prefix("//")?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let same = origin_scheme.eq_ignore_ascii_case(scheme)
        && BaseUri::new(scheme, authority, "").is_ok_and(|o| o.same_host(uri));
    same.then(|| path_prefix(path)).flatten()
}

/// Whether `origin` is a public origin [`OriginPolicy`] can serve:
/// `http(s)://host[:port]`, optionally followed by a plain path prefix.
pub fn is_valid_public_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let scheme = scheme.to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https")
        && BaseUri::new(&scheme, authority, "").is_ok()
        && path_prefix(path).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> OriginHeaders<'_> {
        OriginHeaders {
            host: Some(host),
            ..OriginHeaders::default()
        }
    }

    #[test]
    fn without_configuration_the_host_header_is_used() {
        let o = OriginPolicy::default()
            .resolve("http", &headers("Example.com:8080"), None)
            .unwrap();
        assert_eq!(
            (o.scheme.as_str(), o.authority.as_str()),
            ("http", "Example.com:8080")
        );
        assert_eq!(
            OriginPolicy::default().resolve("http", &OriginHeaders::default(), None),
            Err(OriginError::MissingHost)
        );
    }

    #[test]
    fn public_origins_are_enforced() {
        let p = OriginPolicy::public_origins(["http://127.0.0.1:8080", "https://www.example.com/"]);
        assert!(p.resolve("http", &headers("127.0.0.1:8080"), None).is_ok());
        assert!(
            p.resolve("https", &headers("WWW.example.com:443"), None)
                .is_ok()
        );
        assert_eq!(
            p.resolve("http", &headers("evil.example"), None),
            Err(OriginError::UnknownOrigin)
        );
        assert_eq!(
            p.resolve("http", &headers("www.example.com"), None),
            Err(OriginError::UnknownOrigin),
            "the scheme is part of the origin"
        );
    }

    #[test]
    fn forwarding_headers_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let p = OriginPolicy::public_origins(["https://www.example.com"]).trust_proxy(proxy);
        let forwarded = OriginHeaders {
            host: Some("10.0.0.5:8080"),
            x_forwarded_proto: Some("https"),
            x_forwarded_host: Some("www.example.com, inner"),
            ..OriginHeaders::default()
        };
        let o = p.resolve("http", &forwarded, Some(proxy)).unwrap();
        assert_eq!(
            (o.scheme.as_str(), o.authority.as_str()),
            ("https", "www.example.com")
        );
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            p.resolve("http", &forwarded, Some(stranger)),
            Err(OriginError::UnknownOrigin),
            "a stranger's X-Forwarded-Host is ignored"
        );
        let rfc7239 = OriginHeaders {
            host: Some("10.0.0.5"),
            forwarded: Some("proto=https;host=\"www.example.com\", proto=http;host=inner"),
            ..OriginHeaders::default()
        };
        let o = p.resolve("http", &rfc7239, Some(proxy)).unwrap();
        assert_eq!(o.authority, "www.example.com");
    }

    #[test]
    fn a_public_origin_may_have_a_path_prefix() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let p = OriginPolicy::public_origins(["https://example.test/api/", "http://10.0.0.5"])
            .trust_proxy(proxy);
        let through_proxy = OriginHeaders {
            host: Some("10.0.0.5"),
            x_forwarded_proto: Some("https"),
            x_forwarded_host: Some("example.test"),
            ..OriginHeaders::default()
        };
        // Configured alone: the proxy strips it and says nothing.
        let o = p.resolve("http", &through_proxy, Some(proxy)).unwrap();
        assert_eq!(o.prefix, "/api");
        assert_eq!(o.public_target("/whoami?a=1"), "/api/whoami?a=1");
        assert_eq!(o.base_url(), "https://example.test/api");
        // Direct, the other origin has none.
        let o = p.resolve("http", &headers("10.0.0.5"), None).unwrap();
        assert_eq!(
            (o.prefix.as_str(), o.public_target("/x")),
            ("", "/x".into())
        );
        // Forwarded by the trusted proxy: it must be the configured one.
        for (sent, outcome) in [
            ("/api", Ok("/api")),
            ("/api/", Ok("/api")),
            ("/other", Err(OriginError::UnknownOrigin)),
            ("/API", Err(OriginError::UnknownOrigin)),
            ("/api?x", Err(OriginError::MalformedPrefix)),
            ("/a//b", Err(OriginError::MalformedPrefix)),
            ("/a/../b", Err(OriginError::MalformedPrefix)),
            ("api", Err(OriginError::MalformedPrefix)),
            ("/a b", Err(OriginError::MalformedPrefix)),
        ] {
            let with_prefix = OriginHeaders {
                x_forwarded_prefix: Some(sent),
                ..through_proxy
            };
            let resolved = p.resolve("http", &with_prefix, Some(proxy));
            assert_eq!(
                resolved.map(|o| o.prefix).as_deref(),
                outcome.as_deref(),
                "{sent}"
            );
        }
        // From anyone else it is ignored.
        let spoofed = OriginHeaders {
            host: Some("10.0.0.5"),
            x_forwarded_prefix: Some("/elsewhere"),
            ..OriginHeaders::default()
        };
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let o = p.resolve("http", &spoofed, Some(stranger)).unwrap();
        assert_eq!(o.prefix, "");
        // Without configured origins, a trusted proxy's prefix is taken.
        let open = OriginPolicy::default().trust_proxy(proxy);
        let o = open.resolve("http", &spoofed, Some(proxy)).unwrap();
        assert_eq!(o.base_url(), "http://10.0.0.5/elsewhere");
    }

    #[test]
    fn public_origins_are_validated() {
        for good in [
            "https://example.test",
            "https://example.test/",
            "http://127.0.0.1:8080/api",
            "https://example.test/a/b/",
        ] {
            assert!(is_valid_public_origin(good), "{good}");
        }
        for bad in [
            "example.test",
            "ftp://example.test",
            "https://",
            "https://example.test/a?b",
            "https://example.test/a/../b",
            "https://example.test//a",
        ] {
            assert!(!is_valid_public_origin(bad), "{bad}");
        }
    }
}
