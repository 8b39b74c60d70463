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
///
/// One table lookup: this is asked of nearly every byte of a request.
#[inline]
pub(crate) const fn is_unreserved(b: u8) -> bool {
    UNRESERVED[b as usize]
}

const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        i += 1;
    }
    table
};

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
    for_each_decoded(bytes, plus_as_space, |b| out.push(b))?;
    Ok(Cow::Owned(out))
}

/// Calls `emit` with each byte that `input` percent-decodes to, in order
/// (see [`percent_decode`] for `plus_as_space`).
#[inline]
fn for_each_decoded(
    input: &[u8],
    plus_as_space: bool,
    mut emit: impl FnMut(u8),
) -> Result<(), MalformedEncoding> {
    let mut rest = input;
    while let [first, tail @ ..] = rest {
        let (decoded, tail) = match (first, tail) {
            (b'%', [hi, lo, tail @ ..]) => match (hex_value(*hi), hex_value(*lo)) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, tail),
                _ => return Err(MalformedEncoding),
            },
            (b'%', _) => return Err(MalformedEncoding),
            (b'+', _) if plus_as_space => (b' ', tail),
            (&b, _) => (b, tail),
        };
        emit(decoded);
        rest = tail;
    }
    Ok(())
}

/// Percent-decodes `input` into a UTF-8 string (see [`percent_decode`]).
/// `None` when the encoding is malformed or the bytes are not UTF-8.
pub(crate) fn percent_decode_str(input: &str, plus_as_space: bool) -> Option<Cow<'_, str>> {
    match percent_decode(input, plus_as_space).ok()? {
        Cow::Borrowed(_) => Some(Cow::Borrowed(input)),
        Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
    }
}

/// Appends the percent-decoding of `input` (without `+` as space) to `out`.
/// `None` when the encoding is malformed or the bytes are not UTF-8; `out` is
/// then as it was.
pub(crate) fn percent_decode_into(input: &str, out: &mut String) -> Option<()> {
    let start = out.len();
    out.reserve(input.len());
    let mut rest = input;
    // Copy the text between escapes as it is; decode each `%XX` that is ASCII.
    // A byte loop: `find` sets up a searcher, costly on short values.
    while let Some(i) = rest.bytes().position(|b| b == b'%') {
        out.push_str(&rest[..i]);
        let decoded = match rest.as_bytes()[i + 1..] {
            [hi, lo, ..] => hex_value(hi)
                .zip(hex_value(lo))
                .map(|(hi, lo)| hi << 4 | lo),
            _ => None,
        };
        match decoded {
            Some(b) if b.is_ascii() => out.push(char::from(b)),
            _ => {
                // Malformed, or not ASCII (rare in protocol values): decode
                // all of it again, then check the bytes are UTF-8.
                out.truncate(start);
                out.push_str(&percent_decode_str(input, false)?);
                return Some(());
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Some(())
}

/// Re-encodes a raw (as sent) parameter name or value into its canonical OAuth
/// encoding, borrowing input that already is canonical.
#[cfg(test)]
pub(crate) fn canonicalize(
    raw: &str,
    plus_as_space: bool,
) -> Result<Cow<'_, str>, MalformedEncoding> {
    if split_component(raw, |_| false).0.canonical.is_some() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::new();
    reencode_into(raw.as_bytes(), plus_as_space, &mut out)?;
    Ok(Cow::Owned(out))
}

/// Appends the canonical OAuth encoding of a raw (as sent) parameter name or
/// value to `out` — decoded (with `+` as space when `plus_as_space`), then
/// encoded — and returns whether it has any `%XX` escape. This is the text
/// that is sorted and signed (§3.4.1.3.2).
///
/// Only for input that is not canonical already (see [`RawComponent`]): real
/// clients send nearly every parameter canonically, and those are signed as
/// sent, borrowed from the request.
pub(crate) fn reencode_into(
    raw: &[u8],
    plus_as_space: bool,
    out: &mut String,
) -> Result<bool, MalformedEncoding> {
    let start = out.len();
    // Decoding never lengthens the text, encoding at most triples it.
    out.reserve(3 * raw.len());
    let mut escaped = false;
    // Encoded on the stack, appended to `out` a chunk at a time.
    let mut chunk = [0u8; 96];
    let mut len = 0;
    let decoded = for_each_decoded(raw, plus_as_space, |b| {
        if len + 3 > chunk.len() {
            out.push_str(ascii(&chunk[..len]));
            len = 0;
        }
        if is_unreserved(b) {
            chunk[len] = b;
            len += 1;
        } else {
            escaped = true;
            chunk[len..len + 3].copy_from_slice(&[
                b'%',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
            len += 3;
        }
    });
    out.push_str(ascii(&chunk[..len]));
    if decoded.is_err() {
        out.truncate(start);
    }
    decoded.map(|()| escaped)
}

/// Encoded text as a `str`: it is ASCII by construction.
fn ascii(encoded: &[u8]) -> &str {
    std::str::from_utf8(encoded).unwrap_or_default()
}

/// Upper-case hex digits, for `%XX`.
pub(crate) const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The length of the longest prefix of `bytes` that is canonically encoded —
/// unreserved bytes, and `%XX` in upper-case hex for every other byte — and
/// whether that prefix has any such escape.
///
/// A canonical name or value is followed by its delimiter (`=`, `&`, `"`) or
/// the end of the input, none of them unreserved, so one pass finds where it
/// ends and checks its encoding.
#[inline]
fn canonical_prefix(bytes: &[u8]) -> (usize, bool) {
    let mut escaped = false;
    let mut len = 0;
    loop {
        len += bytes[len..]
            .iter()
            .position(|&b| !is_unreserved(b))
            .unwrap_or(bytes.len() - len);
        match bytes[len..] {
            [b'%', hi, lo, ..] => match (upper_hex_value(hi), upper_hex_value(lo)) {
                // An escaped unreserved byte (`%41` for `A`) is not canonical.
                (Some(hi), Some(lo)) if !is_unreserved(hi << 4 | lo) => {
                    escaped = true;
                    len += 3;
                }
                _ => return (len, escaped),
            },
            _ => return (len, escaped),
        }
    }
}

/// A parameter name or value as sent, and whether it is canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawComponent<'a> {
    pub(crate) raw: &'a str,
    /// When `raw` already is exactly the OAuth encoding of its own decoding
    /// (unreserved bytes, and `%XX` in upper-case hex for every other byte),
    /// whether it has any such escape; `None` when it must be re-encoded.
    ///
    /// Canonical text without an escape is plain unreserved text: its own
    /// decoding, and written to the base string as it is.
    pub(crate) canonical: Option<bool>,
}

/// Splits the raw name or value at the start of `input` — up to the first
/// byte `is_end` accepts, or all of it — from the rest, which starts with
/// that byte, and checks whether it is canonical in the same pass.
#[inline]
pub(crate) fn split_component(
    input: &str,
    is_end: impl Fn(u8) -> bool,
) -> (RawComponent<'_>, &str) {
    let bytes = input.as_bytes();
    let (len, escaped) = canonical_prefix(bytes);
    let (end, canonical) = match bytes.get(len) {
        Some(&b) if !is_end(b) => {
            let end = bytes[len..].iter().position(|&b| is_end(b));
            (end.map_or(bytes.len(), |i| len + i), None)
        }
        _ => (len, Some(escaped)),
    };
    let (raw, rest) = input.split_at(end);
    (RawComponent { raw, canonical }, rest)
}

#[inline]
const fn upper_hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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
