//! Percent-encoding as RFC 5849 §3.6 defines it, and the strict decoding the
//! parameter sources need (§3.4.1.3.1).
//!
//! OAuth encodes every byte outside the RFC 3986 unreserved set
//! (`ALPHA / DIGIT / "-" / "." / "_" / "~"`) as `%XX` with upper-case hex, and
//! nothing else. Decoding is strict: a `%` not followed by two hex digits is an
//! error, never passed through.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Every byte but the RFC 3986 unreserved characters is encoded (RFC 5849 §3.6).
const OAUTH_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Whether `b` is an RFC 3986 unreserved character, which OAuth never encodes.
#[inline]
pub(crate) const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes `input` as RFC 5849 §3.6 requires: UTF-8 bytes, every byte
/// outside the unreserved set as `%XX` with upper-case hex.
///
/// ```
/// assert_eq!(oauth1_provider::percent_encode("a b&c=ü~"), "a%20b%26c%3D%C3%BC~");
/// ```
pub fn percent_encode(input: &str) -> Cow<'_, str> {
    percent_encode_bytes(input.as_bytes())
}

/// Percent-encodes raw bytes as [`percent_encode`] does for a string.
pub(crate) fn percent_encode_bytes(input: &[u8]) -> Cow<'_, str> {
    percent_encoding::percent_encode(input, OAUTH_ENCODE_SET).into()
}

/// A `Display` adapter that writes the OAuth percent-encoding of a string
/// without allocating.
pub(crate) struct Encoded<'a>(pub(crate) &'a str);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(
            &percent_encoding::utf8_percent_encode(self.0, OAUTH_ENCODE_SET),
            f,
        )
    }
}

/// Malformed percent-encoding: a `%` not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MalformedEncoding;

#[inline]
const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `input`. With `plus_as_space`, `+` decodes to a space (the
/// `application/x-www-form-urlencoded` rule used for the query and a form
/// body); without it (the Authorization header, §3.5.1) `+` stays `+`.
///
/// Borrows when there is nothing to decode. The result is bytes: whether they
/// are UTF-8 is the caller's question.
pub(crate) fn percent_decode(
    input: &str,
    plus_as_space: bool,
) -> Result<Cow<'_, [u8]>, MalformedEncoding> {
    let bytes = input.as_bytes();
    let needs_work = bytes
        .iter()
        .any(|&b| b == b'%' || (plus_as_space && b == b'+'));
    if !needs_work {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(MalformedEncoding),
                }
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// Percent-decodes `input` into a UTF-8 string (see [`percent_decode`]).
/// `None` when the encoding is malformed or the bytes are not UTF-8.
pub(crate) fn percent_decode_str(input: &str, plus_as_space: bool) -> Option<Cow<'_, str>> {
    match percent_decode(input, plus_as_space).ok()? {
        Cow::Borrowed(_) => Some(Cow::Borrowed(input)),
        Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
    }
}

/// Re-encodes a raw (as sent) parameter name or value into its canonical OAuth
/// encoding: decode (with `+` as space when `plus_as_space`), then encode.
///
/// This is the value that is sorted and signed (§3.4.1.3.2). It borrows the
/// input when the input already is canonical — only unreserved characters and
/// upper-case `%XX` escapes of bytes that must be escaped — which is what real
/// clients send for nearly every parameter, so the hot path does not allocate.
pub(crate) fn canonicalize(
    raw: &str,
    plus_as_space: bool,
) -> Result<Cow<'_, str>, MalformedEncoding> {
    if is_canonical(raw.as_bytes()) {
        return Ok(Cow::Borrowed(raw));
    }
    let decoded = percent_decode(raw, plus_as_space)?;
    Ok(Cow::Owned(percent_encode_bytes(&decoded).into_owned()))
}

/// Whether `bytes` is already exactly the OAuth encoding of its own decoding.
fn is_canonical(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_unreserved(b) {
            i += 1;
        } else if b == b'%' {
            let (Some(&hi), Some(&lo)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
                return false;
            };
            let upper_hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
            if !upper_hex(hi) || !upper_hex(lo) {
                return false;
            }
            // An escaped unreserved byte (`%41` for `A`) is not canonical.
            let decoded = (hi as char).to_digit(16).unwrap_or(0) << 4
                | (lo as char).to_digit(16).unwrap_or(0);
            if is_unreserved(decoded as u8) {
                return false;
            }
            i += 3;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved_in_upper_case() {
        assert_eq!(percent_encode("abcABC123-._~"), "abcABC123-._~");
        assert_eq!(percent_encode("%+&=* \n"), "%25%2B%26%3D%2A%20%0A");
        assert_eq!(percent_encode("\u{3001}"), "%E3%80%81");
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(percent_decode("a%zz", false), Err(MalformedEncoding));
        assert_eq!(percent_decode("a%2", false), Err(MalformedEncoding));
        assert_eq!(percent_decode("%", true), Err(MalformedEncoding));
        assert_eq!(&*percent_decode("a+b%2b", true).unwrap(), b"a b+");
        assert_eq!(&*percent_decode("a+b%2B", false).unwrap(), b"a+b+");
    }

    #[test]
    fn canonicalize_borrows_canonical_input_and_fixes_the_rest() {
        assert!(matches!(
            canonicalize("abc%20def", true),
            Ok(Cow::Borrowed(_))
        ));
        assert_eq!(canonicalize("abc%2fdef", true).unwrap(), "abc%2Fdef");
        assert_eq!(canonicalize("%41b", true).unwrap(), "Ab");
        assert_eq!(canonicalize("x!y", true).unwrap(), "x%21y");
        assert_eq!(canonicalize("a+b", true).unwrap(), "a%20b");
        assert_eq!(canonicalize("a+b", false).unwrap(), "a%2Bb");
        assert_eq!(canonicalize("ü", false).unwrap(), "%C3%BC");
        assert!(canonicalize("%g0", false).is_err());
    }
}
