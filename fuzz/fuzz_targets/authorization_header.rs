//! The `Authorization: OAuth …` parser: never panics; what it accepts
//! formats back to a header that parses to the same parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth1_provider::protocol::{AuthorizationHeader, format_authorization_header};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(header) = AuthorizationHeader::parse(text) else {
        return;
    };
    let params: Vec<(&str, &str)> = header.params().collect();
    let formatted = format_authorization_header(None, params.iter().copied());
    let reparsed = AuthorizationHeader::parse(&formatted).expect("formatted header parses");
    assert_eq!(reparsed.params().collect::<Vec<_>>(), params);
});
