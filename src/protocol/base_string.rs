//! The signature base string (RFC 5849 §3.4.1): the method, the base string
//! URI (§3.4.1.2) and the normalized parameters (§3.4.1.3.2), each
//! percent-encoded and joined by `&`.
//!
//! The base string is written into a [`Sink`]: a `String` when a caller wants
//! to see it, or the MAC itself when verifying, so the hot path never builds
//! the string.

use std::fmt::Write as _;

use crate::protocol::encoding::{Class, HEX, is_unreserved, run_len};
use crate::protocol::error::{Problem, ProtocolError};

/// Receives the bytes of a base string as they are produced.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Writes the OAuth encoding of `bytes`, each byte first mapped by `map`
/// (used to lower-case a host or upper-case a method). `kept` is the class
/// of bytes that `map` leaves as they are and that are unreserved.
///
/// A run of `kept` bytes — nearly all of a method, host or path — is its own
/// encoding, so it is written with one `put`; only the bytes between runs
/// are mapped and escaped one at a time.
fn put_encoded(sink: &mut impl Sink, bytes: &[u8], kept: Class, map: impl Fn(u8) -> u8) {
    let mut rest = bytes;
    loop {
        let run = run_len(rest, kept);
        if run > 0 {
            sink.put(&rest[..run]);
        }
        let Some((&b, tail)) = rest[run..].split_first() else {
            return;
        };
        let b = map(b);
        if is_unreserved(b) {
            sink.put(&[b]);
        } else {
            sink.put(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        rest = tail;
    }
}

fn identity(b: u8) -> u8 {
    b
}

/// Writes the encoding of a canonical name or value, given whether it has a
/// `%XX` escape: plain unreserved text is its own encoding.
#[inline]
fn put_canonical(sink: &mut impl Sink, canonical: &str, escaped: bool) {
    if escaped {
        put_reencoded(sink, canonical);
    } else {
        sink.put(canonical.as_bytes());
    }
}

/// Writes the encoding of an already canonically encoded string: only `%`
/// needs escaping (as `%25`), since everything else is unreserved. The text
/// between escapes is written a run at a time, as [`put_encoded`] does.
fn put_reencoded(sink: &mut impl Sink, canonical: &str) {
    let mut rest = canonical.as_bytes();
    loop {
        let run = run_len(rest, Class::UNRESERVED);
        sink.put(&rest[..run]);
        match rest[run..].split_first() {
            Some((_percent, tail)) => {
                sink.put(b"%25");
                rest = tail;
            }
            None => return,
        }
    }
}

/// The parts of the base string URI (§3.4.1.2): lower-case scheme and host,
/// the port only when it is not the scheme's default, and the raw path
/// (`/` when empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BaseUri<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
}

impl<'a> BaseUri<'a> {
    /// Splits `authority` (`host`, `host:port`, `[v6]:port`) and drops a
    /// default port. A malformed authority (bad port, unbalanced bracket,
    /// userinfo, empty host) is refused.
    pub(crate) fn new(
        scheme: &'a str,
        authority: &'a str,
        path: &'a str,
    ) -> Result<Self, ProtocolError> {
        // The common cases, a host name or IPv4 address with or without a
        // port (`api.example.com`, `127.0.0.1:8080`): one scan, and the
        // digits read as they are checked.
        let bytes = authority.as_bytes();
        let host_len = run_len(bytes, Class::UNRESERVED);
        if host_len > 0 {
            let host = &authority[..host_len];
            match bytes[host_len..] {
                [] => {
                    return Ok(Self {
                        scheme,
                        host,
                        port: None,
                        path,
                    });
                }
                [b':', ref digits @ ..] => {
                    if let Some(port) = port_number(digits) {
                        return Ok(Self {
                            scheme,
                            host,
                            port: Some(port).filter(|&p| Some(p) != default_port(scheme)),
                            path,
                        });
                    }
                }
                _ => {}
            }
        }
        Self::parse(scheme, authority, path)
    }

    /// [`BaseUri::new`] for any authority, without its fast paths.
    fn parse(scheme: &'a str, authority: &'a str, path: &'a str) -> Result<Self, ProtocolError> {
        let bad = || {
            ProtocolError::new(Problem::ParameterRejected)
                .with_advice("the request's host is malformed")
        };
        if authority
            .bytes()
            .any(|b| matches!(b, b'@' | b'/' | b'?' | b'#' | b' '))
        {
            return Err(bad());
        }
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let end = rest.find(']').ok_or_else(bad)?;
            let after = &rest[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad()),
            };
            (&authority[..end + 2], port)
        } else {
            match authority.bytes().rposition(|b| b == b':') {
                Some(i) => (&authority[..i], Some(&authority[i + 1..])),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        let port = match port {
            None | Some("") => None,
            Some(p) => Some(port_number(p.as_bytes()).ok_or_else(bad)?),
        };
        let port = port.filter(|&p| Some(p) != default_port(scheme));
        Ok(Self {
            scheme,
            host,
            port,
            path,
        })
    }

    /// Writes the URI, percent-encoded, into `sink`.
    fn put_encoded(&self, sink: &mut impl Sink) {
        put_encoded(sink, self.scheme.as_bytes(), Class::UNRESERVED_LOWER, |b| {
            b.to_ascii_lowercase()
        });
        sink.put(b"%3A%2F%2F");
        put_encoded(sink, self.host.as_bytes(), Class::UNRESERVED_LOWER, |b| {
            b.to_ascii_lowercase()
        });
        if let Some(port) = self.port {
            sink.put(b"%3A");
            let mut digits = [0u8; 5];
            let mut n = port;
            let mut i = digits.len();
            loop {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            sink.put(&digits[i..]);
        }
        if self.path.is_empty() {
            sink.put(b"%2F");
        } else {
            put_encoded(sink, self.path.as_bytes(), Class::UNRESERVED, identity);
        }
    }

    /// The URI itself, not encoded: `http://example.com/r%20v/X`.
    pub(crate) fn to_uri_string(self) -> String {
        let mut out =
            String::with_capacity(self.scheme.len() + self.host.len() + self.path.len() + 10);
        out.push_str(&self.scheme.to_ascii_lowercase());
        out.push_str("://");
        self.push_host(&mut out);
        out.push_str(if self.path.is_empty() { "/" } else { self.path });
        out
    }

    /// The host, lower-case, and the port unless it is the default:
    /// `example.com`, `[::1]:8080`.
    pub(crate) fn host_string(self) -> String {
        let mut out = String::with_capacity(self.host.len() + 6);
        self.push_host(&mut out);
        out
    }

    /// Whether `normalized` is what [`BaseUri::host_string`] gives for this
    /// URI — compared in place, without building that string (asked on
    /// every request to a protected resource).
    pub(crate) fn has_host_string(self, normalized: &str) -> bool {
        let (Some(host), Some(rest)) = (
            normalized.get(..self.host.len()),
            normalized.get(self.host.len()..),
        ) else {
            return false;
        };
        let same_host = (host.bytes())
            .zip(self.host.bytes())
            .all(|(n, h)| n == h.to_ascii_lowercase());
        // `host_string` writes a port in decimal, without leading zeros.
        let no_leading_zero = |p: &str| p == "0" || !p.starts_with('0');
        same_host
            && match self.port {
                None => rest.is_empty(),
                Some(port) => rest
                    .strip_prefix(':')
                    .is_some_and(|p| no_leading_zero(p) && port_number(p.as_bytes()) == Some(port)),
            }
    }

    /// Whether `other` has the same host (compared without case) and port.
    pub(crate) fn same_host(self, other: Self) -> bool {
        self.host.eq_ignore_ascii_case(other.host) && self.port == other.port
    }

    fn push_host(self, out: &mut String) {
        out.extend(self.host.chars().map(|c| c.to_ascii_lowercase()));
        if let Some(port) = self.port {
            // Writing to a String cannot fail.
            let _ = write!(out, ":{port}");
        }
    }
}

/// A port as an authority writes it: 1 to 5 ASCII digits (leading zeros
/// allowed) for a number up to 65535.
fn port_number(digits: &[u8]) -> Option<u16> {
    if !(1..=5).contains(&digits.len()) {
        return None;
    }
    let port = digits.iter().try_fold(0u32, |port, &d| {
        d.is_ascii_digit().then(|| port * 10 + u32::from(d - b'0'))
    })?;
    u16::try_from(port).ok()
}

/// The port a URI of `scheme` has when it names none: 80 for `http`, 443
/// for `https` (any case).
fn default_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else {
        None
    }
}

/// The base string URI (§3.4.1.2) of a URL as the client requested it, e.g.
/// `HTTP://Example.com:80/a?b` → `http://example.com/a`.
///
/// ```
/// use oauth1_provider::protocol::base_string_uri;
/// assert_eq!(base_string_uri("https", "Photos.Example.net:443", "/photos").unwrap(),
///            "https://photos.example.net/photos");
/// assert_eq!(base_string_uri("http", "[::1]:8080", "").unwrap(), "http://[::1]:8080/");
/// ```
pub fn base_string_uri(scheme: &str, authority: &str, path: &str) -> Result<String, ProtocolError> {
    Ok(BaseUri::new(scheme, authority, path)?.to_uri_string())
}

/// Streams a signature base string (§3.4.1.1) into `sink`: the method
/// upper-cased, the base string URI, and the normalized parameters (§3.4.1.3.2)
/// given already encoded and sorted, each with whether its name and its value
/// hold escapes that must be encoded again.
#[inline]
pub(crate) fn write_base_string<'p>(
    sink: &mut impl Sink,
    method: &str,
    uri: &BaseUri<'_>,
    params: impl Iterator<Item = (&'p str, &'p str, [bool; 2])>,
) {
    put_encoded(sink, method.as_bytes(), Class::UNRESERVED_UPPER, |b| {
        b.to_ascii_uppercase()
    });
    sink.put(b"&");
    uri.put_encoded(sink);
    sink.put(b"&");
    for (i, (name, value, [name_escaped, value_escaped])) in params.enumerate() {
        if i > 0 {
            sink.put(b"%26");
        }
        put_canonical(sink, name, name_escaped);
        sink.put(b"%3D");
        put_canonical(sink, value, value_escaped);
    }
}

/// The base string is ASCII by construction: every byte outside the
/// unreserved set is written as `%XX`.
pub(crate) fn ascii_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_host_string_agrees_with_host_string() {
        let authorities = [
            "example.com",
            "Example.COM:443",
            "example.com:80",
            "EXAMPLE.com:8080",
            "[::1]:8080",
            "[::1]",
            "h:0",
            "h:65535",
            "h:",
            "é.example",
        ];
        let candidates = [
            "example.com",
            "example.com:443",
            "example.com:80",
            "example.com:8080",
            "example.com:08080",
            "example.com:+8080",
            "EXAMPLE.com:8080",
            "[::1]:8080",
            "[::1]",
            "h:0",
            "h:00",
            "h",
            "h:65535",
            "é.example",
            "example.co",
            "",
        ];
        for scheme in ["http", "https"] {
            for authority in authorities {
                let uri = BaseUri::new(scheme, authority, "").unwrap();
                for candidate in candidates {
                    assert_eq!(
                        uri.has_host_string(candidate),
                        uri.host_string() == candidate,
                        "{scheme}://{authority} vs {candidate}"
                    );
                }
            }
        }
    }

    #[test]
    fn base_string_uri_normalizes_scheme_host_and_port() {
        let cases = [
            (
                "http",
                "EXAMPLE.COM:80",
                "/r%20v/X",
                "http://example.com/r%20v/X",
            ),
            (
                "https",
                "www.example.net:8080",
                "/",
                "https://www.example.net:8080/",
            ),
            (
                "HTTP",
                "www.example.com:443",
                "/",
                "http://www.example.com:443/",
            ),
            (
                "https",
                "www.example.com:0443",
                "/",
                "https://www.example.com/",
            ),
            (
                "https",
                "[123:db8:fd00:1000::5]:13000",
                "",
                "https://[123:db8:fd00:1000::5]:13000/",
            ),
            ("http", "[::1]", "/x", "http://[::1]/x"),
            ("http", "h:", "/", "http://h/"),
        ];
        for (scheme, authority, path, expected) in cases {
            assert_eq!(base_string_uri(scheme, authority, path).unwrap(), expected);
        }
        for bad in [
            "", "h:x", "h:999999", "u@h", "[::1", "[::1]x", ":80", "h:65536",
        ] {
            let e = base_string_uri("http", bad, "/").unwrap_err();
            assert_eq!(
                (e.status(), e.problem()),
                (400, Problem::ParameterRejected),
                "{bad}"
            );
        }
    }

    #[test]
    fn fast_paths_agree_with_the_general_parse() {
        let hosts = [
            "h",
            "Example.COM",
            "127.0.0.1",
            "a-b.c_d~e",
            "é",
            "[::1]",
            "",
        ];
        let ports = [
            "", ":", ":0", ":80", ":443", ":0443", ":8080", ":65535", ":65536", ":99999",
            ":123456", ":8x", ":+80", ": 80", "::80", "@x",
        ];
        for scheme in ["http", "HTTPS", "ftp"] {
            for host in hosts {
                for port in ports {
                    let authority = format!("{host}{port}");
                    assert_eq!(
                        BaseUri::new(scheme, &authority, "/p").ok(),
                        BaseUri::parse(scheme, &authority, "/p").ok(),
                        "{scheme}://{authority}"
                    );
                }
            }
        }
    }

    #[test]
    fn put_encoded_maps_and_escapes() {
        let mut out = Vec::new();
        put_encoded(&mut out, b"pOsT /x", Class::UNRESERVED_UPPER, |b| {
            b.to_ascii_uppercase()
        });
        assert_eq!(out, b"POST%20%2FX");
        let mut out = Vec::new();
        put_reencoded(&mut out, "a%20b%2Fc");
        assert_eq!(out, b"a%2520b%252Fc");
    }
}
