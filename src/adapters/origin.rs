//! Which origin (scheme and host) a request was really addressed to — the
//! one its signature covers and its tokens are bound to.
//!
//! Behind a load balancer the connection's own scheme and `Host` may not be
//! what the client used. The answer comes from configuration — a fixed list
//! of public origins — and from `Forwarded` / `X-Forwarded-*` headers **only**
//! when the peer is a configured trusted proxy. Never trusted by default.

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
    pub public_origins: Vec<String>,
    /// Peers whose `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host`
    /// headers are believed. Empty by default: such headers are ignored.
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
}

/// The origin a request was addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrigin {
    /// `http` or `https`, lower-case.
    pub scheme: String,
    /// `host` or `host:port`, as the signature base string should see it.
    pub authority: String,
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
        if self.trusts(peer) {
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
        let served = self.public_origins.is_empty()
            || (self.public_origins.iter()).any(|origin| is_origin(origin, &scheme, uri));
        if !served {
            return Err(OriginError::UnknownOrigin);
        }
        Ok(ResolvedOrigin {
            scheme,
            authority: host.to_owned(),
        })
    }
}

fn first_value(list: &str) -> &str {
    list.split(',').next().unwrap_or("").trim()
}

/// Whether the configured `origin` (`https://Example.com/`) is `scheme`
/// (lower-case) with the host and port of `uri`: compared in place, on
/// every request.
fn is_origin(origin: &str, scheme: &str, uri: BaseUri<'_>) -> bool {
    // `split_once(':')` finds a byte; a `"://"` pattern sets up a substring
    // search, on every request.
    let Some((origin_scheme, rest)) = origin.split_once(':') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("//") else {
        return false;
    };
    let authority = rest.trim_end_matches('/');
    origin_scheme.eq_ignore_ascii_case(scheme)
        && BaseUri::new(scheme, authority, "").is_ok_and(|o| o.same_host(uri))
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
}
