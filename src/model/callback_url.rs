//! Callback URLs read as a browser reads them: the WHATWG URL Standard (the
//! `url` crate), checked against the plain reading a person (or a prefix
//! match) makes of the same text. A callback is accepted only where the two
//! agree on the scheme and the authority, so that the host the consent page
//! names is the host the browser delivers the verifier to.
//!
//! What the Standard reads differently from the text, and is refused:
//! `\` (a `/` in `http(s)`: `http://a.example\@b.example/` goes to
//! `a.example`), tabs and newlines (silently removed), user-info (the part
//! before `@`, which people read as the host), percent-encoded and numeric
//! IPv4 hosts (`http://0x7f.1/` is `127.0.0.1`), and a host whose IDNA
//! mapping adds or removes a dot (`．`, `。`).

use url::Url;

/// The origin (`scheme://host[:port]`, the port only when not the
/// scheme's default) a browser sends the user to for `callback`, as the
/// WHATWG URL Standard reads it; `None` unless `callback` is an absolute
/// `http`/`https` URL whose authority reads the same to a person, with no
/// user-info, backslash, whitespace or control character.
///
/// An internationalized host is shown as the browser looks it up, in its
/// ASCII (`xn--`) form.
pub(crate) fn callback_origin(callback: &str) -> Option<String> {
    read_callback(callback).map(|(origin, _)| origin)
}

/// `callback` as a browser will request it (the WHATWG serialization:
/// ASCII, the host in its `xn--` form, a default port left out), if it is
/// a callback [`callback_origin`] accepts.
pub(crate) fn callback_href(callback: &str) -> Option<String> {
    read_callback(callback).map(|(_, href)| href)
}

/// The origin and the serialization of an accepted callback.
fn read_callback(callback: &str) -> Option<(String, String)> {
    if callback
        .bytes()
        .any(|b| b.is_ascii_control() || b == b' ' || b == b'\\')
    {
        return None;
    }
    let parsed = Url::parse(callback).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return None;
    }
    // The plain reading: the scheme, `://`, then the authority up to the
    // first `/`, `?` or `#`.
    let (scheme, rest) = callback.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if !scheme.eq_ignore_ascii_case(parsed.scheme()) || authority.contains('@') {
        return None;
    }
    let (host, port) = split_authority(authority)?;
    let parsed_host = parsed.host_str()?;
    let hosts_agree = if host.is_ascii() {
        host.eq_ignore_ascii_case(parsed_host)
    } else {
        matches!(parsed.host(), Some(url::Host::Domain(_)))
            && !host.contains('%')
            && host.split('.').count() == parsed_host.split('.').count()
    };
    let ports_agree = match port {
        None => parsed.port().is_none(),
        Some(digits) => {
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u32>().ok() == parsed.port_or_known_default().map(u32::from)
        }
    };
    if !(hosts_agree && ports_agree) {
        return None;
    }
    let origin = match parsed.port() {
        Some(port) => format!("{}://{parsed_host}:{port}", parsed.scheme()),
        None => format!("{}://{parsed_host}", parsed.scheme()),
    };
    Some((origin, parsed.into()))
}

/// `host[:port]` or `[v6][:port]`, read plainly: the host and the port's
/// text after the last `:` (outside brackets), if any.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        return match &authority[end..] {
            "" => Some((&authority[..end], None)),
            rest => Some((&authority[..end], Some(rest.strip_prefix(':')?))),
        };
    }
    Some(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

#[cfg(test)]
mod tests {
    use super::{callback_href, callback_origin};

    /// Cases from the WHATWG URL test data that matter for where a browser
    /// goes (backslashes, user-info, tabs and newlines, IDNA, IPv4 and IPv6
    /// forms, ports), with the origin shown or `None` for a refusal.
    #[test]
    fn callbacks_are_accepted_only_where_browser_and_reader_agree() {
        let table: &[(&str, Option<&str>)] = &[
            ("https://app.example/cb?x=1#y", Some("https://app.example")),
            (
                "HTTPS://App.Example:8443/cb",
                Some("https://app.example:8443"),
            ),
            ("http://app.example:80/cb", Some("http://app.example")),
            ("https://app.example:443", Some("https://app.example")),
            ("http://app.example:0080/", Some("http://app.example")),
            ("http://127.0.0.1:18195/cb", Some("http://127.0.0.1:18195")),
            ("http://[::1]:8080/cb", Some("http://[::1]:8080")),
            ("http://app.example./cb", Some("http://app.example.")),
            (
                "https://bücher.example/cb",
                Some("https://xn--bcher-kva.example"),
            ),
            (
                "https://xn--bcher-kva.example/",
                Some("https://xn--bcher-kva.example"),
            ),
            // Backslashes are slashes to the browser.
            ("http://127.0.0.1:18195\\@good.example/cb", None),
            ("http://good.example\\.evil.example/", None),
            ("https:\\\\evil.example/", None),
            ("http:/\\evil.example/", None),
            // User-info, empty or not.
            ("http://good.example@evil.example/", None),
            ("http://u:p@evil.example/cb", None),
            ("http://@evil.example/", None),
            ("http://good.example:@evil.example/", None),
            // Tabs and newlines are removed by the parser; spaces and
            // controls are not URL text.
            ("http://good.exa\tmple/", None),
            ("http://evil.example\n.good.example/", None),
            ("http://good.example/\r\n", None),
            (" http://good.example/", None),
            ("http://good.example/\0", None),
            // Hosts the parser rewrites.
            ("http://0x7f.1/", None),
            ("http://127.1/", None),
            ("http://%65vil.example/", None),
            ("http://[0:0::1]/", None),
            ("http://evil．example/", None),
            ("http://evil。example/", None),
            // Ports the parser reads otherwise, or not at all.
            ("http://app.example:/", None),
            ("http://app.example:65536/", None),
            ("http://app.example:8o/", None),
            // Not an absolute http(s) URL with a host.
            ("http:///evil.example/", None),
            ("http:evil.example", None),
            ("//evil.example/", None),
            ("javascript://app.example/%0aalert(1)", None),
            ("ftp://app.example/", None),
            ("oob", None),
            ("", None),
        ];
        for (callback, shown) in table {
            assert_eq!(callback_origin(callback).as_deref(), *shown, "{callback:?}");
        }
    }

    #[test]
    fn accepted_callbacks_are_kept_as_the_browser_requests_them() {
        for (callback, href) in [
            (
                "https://app.example/cb?x=1#y",
                "https://app.example/cb?x=1#y",
            ),
            ("HTTP://App.Example:80", "http://app.example/"),
            (
                "https://bücher.example/ré?q=ü",
                "https://xn--bcher-kva.example/r%C3%A9?q=%C3%BC",
            ),
        ] {
            assert_eq!(callback_href(callback).as_deref(), Some(href), "{callback}");
        }
        assert_eq!(callback_href("http://a.example\\@b.example/"), None);
    }
}
