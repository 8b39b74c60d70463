//! The base string URI and percent-encoding: never panic; encoding output
//! uses only unreserved characters and upper-case escapes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth1_provider::protocol::{base_string_uri, percent_encode};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    if let Ok(uri) = base_string_uri(input.scheme, input.authority, input.path) {
        assert!(uri.contains("://"));
    }
    let encoded = percent_encode(input.text);
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            assert!(bytes[i + 1..i + 3].iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)));
            i += 3;
        } else {
            assert!(b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            i += 1;
        }
    }
});
