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
    CLASSES[b as usize] & Class::UNRESERVED.0 != 0
}

/// A kind of run of bytes that the parsers scan for: a set of bytes, one bit
/// of [`CLASSES`]. A single table answers every kind, so a scan over whole
/// runs ([`run_len`]) is one load and one `and` per byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class(u8);

impl Class {
    /// RFC 3986 unreserved: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
    pub(crate) const UNRESERVED: Self = Self(1);
    /// Unreserved and not an upper-case letter: left as is by lower-casing.
    pub(crate) const UNRESERVED_LOWER: Self = Self(1 << 1);
    /// Unreserved and not a lower-case letter: left as is by upper-casing.
    pub(crate) const UNRESERVED_UPPER: Self = Self(1 << 2);
    /// An RFC 7230 `tchar`: a header parameter name or a bare token value.
    pub(crate) const TOKEN: Self = Self(1 << 3);
    /// Inside a quoted header value: anything but `"`, `\` and controls.
    pub(crate) const QUOTED: Self = Self(1 << 4);
    /// Inside a form (or query) name: anything but `=` and `&`.
    pub(crate) const FORM_NAME: Self = Self(1 << 5);
    /// Inside a form (or query) value: anything but `&`.
    pub(crate) const FORM_VALUE: Self = Self(1 << 6);

    /// Whether `b` belongs to this class.
    #[inline]
    pub(crate) const fn contains(self, b: u8) -> bool {
        CLASSES[b as usize] & self.0 != 0
    }
}

/// For each byte, the [`Class`]es it belongs to.
const CLASSES: [u8; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        let token = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        let classes = [
            (Class::UNRESERVED, unreserved),
            (
                Class::UNRESERVED_LOWER,
                unreserved && !b.is_ascii_uppercase(),
            ),
            (
                Class::UNRESERVED_UPPER,
                unreserved && !b.is_ascii_lowercase(),
            ),
            (Class::TOKEN, token),
            (
                Class::QUOTED,
                !(b == b'"' || b == b'\\' || b.is_ascii_control()),
            ),
            (Class::FORM_NAME, b != b'=' && b != b'&'),
            (Class::FORM_VALUE, b != b'&'),
        ];
        let mut c = 0;
        while c < classes.len() {
            if classes[c].1 {
                table[i] |= classes[c].0.0;
            }
            c += 1;
        }
        i += 1;
    }
    table
};

/// The length of the longest prefix of `bytes` whose bytes all belong to
/// `class`.
///
/// Why not `position`: its loop spends a counter update, a bound check and a
/// branch on every byte besides the test itself. Here the test is unrolled
/// eight bytes at a time (a load and a branch per byte, each exiting at
/// once, so a short run costs no more than it must), and only a tail of
/// fewer than eight bytes is walked with the plain loop.
#[inline]
pub(crate) fn run_len(bytes: &[u8], class: Class) -> usize {
    let mut len = 0;
    while let Some(chunk) = bytes[len..].first_chunk::<8>() {
        if let Some(i) = chunk.iter().position(|&b| !class.contains(b)) {
            return len + i;
        }
        len += 8;
    }
    let rest = &bytes[len..];
    len + rest
        .iter()
        .position(|&b| !class.contains(b))
        .unwrap_or(rest.len())
}

/// Eight copies of the byte `b`, one in each byte of a word.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of each byte of `word` that is zero: exact for every byte
/// (the `x - 0x01…` trick is only exact for the first), so that the matches
/// can be counted as well as found.
#[inline]
const fn zero_bytes(word: u64) -> u64 {
    const LOW7: u64 = splat(0x7f);
    !(((word & LOW7) + LOW7) | word) & !LOW7
}

/// Where the first `needle` in `bytes` is.
///
/// Why not `position`, or `str::find`: the first tests a byte per loop, the
/// second sets up a searcher that costs more than a short query. This tests
/// a word (eight bytes) per loop, with no setup.
#[inline]
pub(crate) fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    find_first(
        bytes,
        |word| zero_bytes(word ^ splat(needle)),
        |b| b == needle,
    )
}

/// Where the first `a` or `b` in `bytes` is, a word at a time (see
/// [`find_byte`]).
#[inline]
pub(crate) fn find_either(bytes: &[u8], a: u8, b: u8) -> Option<usize> {
    find_first(
        bytes,
        |word| zero_bytes(word ^ splat(a)) | zero_bytes(word ^ splat(b)),
        |c| c == a || c == b,
    )
}

/// The scan behind [`find_byte`] and [`find_either`]: `word_matches` marks
/// the high bit of each matching byte of a word (little-endian), `matches`
/// tests the bytes of the tail shorter than a word.
#[inline(always)]
fn find_first(
    bytes: &[u8],
    word_matches: impl Fn(u64) -> u64,
    matches: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = bytes[i..].first_chunk::<8>() {
        let found = word_matches(u64::from_le_bytes(*chunk));
        if found != 0 {
            // Little-endian: the lowest set bit is the first match.
            return Some(i + found.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    let tail = bytes[i..].iter().position(|&b| matches(b));
    tail.map(|j| i + j)
}

/// How many times `needle` occurs in `bytes`, a word at a time (see
/// [`find_byte`]).
#[inline]
pub(crate) fn count_byte(bytes: &[u8], needle: u8) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut count = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        count += zero_bytes(word ^ splat(needle)).count_ones() as usize;
    }
    count + chunks.remainder().iter().filter(|&&b| b == needle).count()
}

/// Percent-encodes `input` as RFC 5849 §3.6 requires: UTF-8 bytes, every byte
/// outside the unreserved set as `%XX` with upper-case hex.
///
/// ```
/// assert_eq!(oauth1_provider::protocol::percent_encode("a b&c=ü~"), "a%20b%26c%3D%C3%BC~");
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
pub(crate) fn for_each_decoded(
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
    // `find_byte`, not `find`: that sets up a searcher, costly on short values.
    while let Some(i) = find_byte(rest.as_bytes(), b'%') {
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
    if canonical_prefix(raw.as_bytes()).0 == raw.len() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::new();
    reencode_into(raw, plus_as_space, &mut out)?;
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
    raw: &str,
    plus_as_space: bool,
    out: &mut String,
) -> Result<bool, MalformedEncoding> {
    let start = out.len();
    // Decoding never lengthens the text, encoding at most triples it.
    out.reserve(3 * raw.len());
    let mut escaped = false;
    let mut rest = raw.as_bytes();
    // Byte by byte, each pushed as a `char`: that is ASCII, so a store (no
    // UTF-8 check of the output), and values that need re-encoding are short
    // runs between escapes, too short for a copy call per run to pay.
    while let [first, tail @ ..] = rest {
        let (decoded, tail) = match (first, tail) {
            (b'%', [hi, lo, tail @ ..]) => match (hex_value(*hi), hex_value(*lo)) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, tail),
                _ => {
                    out.truncate(start);
                    return Err(MalformedEncoding);
                }
            },
            (b'%', _) => {
                out.truncate(start);
                return Err(MalformedEncoding);
            }
            (b'+', _) if plus_as_space => (b' ', tail),
            (&b, _) => (b, tail),
        };
        if is_unreserved(decoded) {
            out.push(char::from(decoded));
        } else {
            escaped = true;
            out.push('%');
            out.push(char::from(HEX[usize::from(decoded >> 4)]));
            out.push(char::from(HEX[usize::from(decoded & 15)]));
        }
        rest = tail;
    }
    Ok(escaped)
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
        len += run_len(&bytes[len..], Class::UNRESERVED);
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

/// Splits the raw name or value at the start of `input` — the longest
/// prefix of bytes in `within`, which ends at a delimiter or the end of the
/// input — from the rest, and checks whether it is canonical in the same
/// pass. `within` holds every unreserved byte and `%`.
#[inline(always)]
pub(crate) fn split_component(input: &str, within: Class) -> (RawComponent<'_>, &str) {
    let bytes = input.as_bytes();
    let (len, escaped) = canonical_prefix(bytes);
    let (end, canonical) = match bytes.get(len) {
        Some(&b) if within.contains(b) => (len + run_len(&bytes[len..], within), None),
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

    /// Inputs for the scanners: every length up to past two words, with the
    /// interesting bytes (and their neighbours, which trip up word tricks)
    /// at every place.
    fn scanner_inputs() -> Vec<Vec<u8>> {
        let mut inputs = Vec::new();
        for len in 0..20 {
            for special in [b'&', b'#', b'%', b'\'', b'%' + 1, 0x80, 0xff, 0, b'a'] {
                for at in 0..len {
                    let mut input = vec![b'x'; len];
                    input[at] = special;
                    inputs.push(input.clone());
                    if at + 3 < len {
                        input[at + 3] = b'&';
                        inputs.push(input);
                    }
                }
            }
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let len = (state % 40) as usize;
            let input = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    const BYTES: &[u8] = b"&#%'ab~-=+\x80\xff\"\\\x01";
                    BYTES[(state % BYTES.len() as u64) as usize]
                })
                .collect();
            inputs.push(input);
        }
        inputs
    }

    #[test]
    fn word_scanners_agree_with_byte_loops() {
        for input in scanner_inputs() {
            for needle in [b'&', b'#', b'%', 0x80, 0xff, 0] {
                assert_eq!(
                    find_byte(&input, needle),
                    input.iter().position(|&b| b == needle),
                    "{input:?} {needle}"
                );
                assert_eq!(
                    find_either(&input, needle, b'#'),
                    input.iter().position(|&b| b == needle || b == b'#'),
                    "{input:?} {needle}"
                );
                assert_eq!(
                    count_byte(&input, needle),
                    input.iter().filter(|&&b| b == needle).count(),
                    "{input:?} {needle}"
                );
            }
        }
    }

    #[test]
    fn run_len_agrees_with_a_byte_loop() {
        let classes = [
            (Class::UNRESERVED, is_unreserved as fn(u8) -> bool),
            (Class::FORM_NAME, |b| b != b'=' && b != b'&'),
            (Class::FORM_VALUE, |b| b != b'&'),
            (Class::QUOTED, |b: u8| {
                b != b'"' && b != b'\\' && !b.is_ascii_control()
            }),
        ];
        for input in scanner_inputs() {
            for (class, member) in classes {
                let expected = input.iter().position(|&b| !member(b));
                assert_eq!(
                    run_len(&input, class),
                    expected.unwrap_or(input.len()),
                    "{input:?}"
                );
            }
        }
    }

    /// The canonical encoding the slow way: decode it all, then encode it all.
    fn reencoded_by_reference(raw: &str, plus_as_space: bool) -> Option<(String, bool)> {
        let decoded = percent_decode(raw, plus_as_space).ok()?;
        let encoded = percent_encode_bytes(&decoded).into_owned();
        let escaped = encoded.contains('%');
        Some((encoded, escaped))
    }

    #[test]
    fn reencode_into_agrees_with_decoding_then_encoding() {
        const CHARS: [&str; 17] = [
            "a", "Z", "0", "-", "~", "+", "%", "2", "f", "F", "é", "€", " ", "&", "!", "*", "%4",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            let raw: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    CHARS[(state % CHARS.len() as u64) as usize]
                })
                .collect();
            for plus_as_space in [false, true] {
                let mut out = String::from("kept");
                let got = reencode_into(&raw, plus_as_space, &mut out);
                match reencoded_by_reference(&raw, plus_as_space) {
                    Some((expected, escaped)) => {
                        assert_eq!(got, Ok(escaped), "{raw:?}");
                        assert_eq!(out, format!("kept{expected}"), "{raw:?}");
                    }
                    None => {
                        assert_eq!(got, Err(MalformedEncoding), "{raw:?}");
                        assert_eq!(out, "kept", "{raw:?}");
                    }
                }
            }
        }
    }

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
