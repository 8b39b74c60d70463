//! A whole request through verification: a correctly signed request built
//! from arbitrary parts verifies; any mutation of its signed parts does not,
//! and nothing panics on the way.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth1_provider::{Request, SignatureMethod};
use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{Limits, SignedRequest, TimestampWindow};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method_index: u8,
    path: &'a str,
    query: &'a str,
    body: &'a str,
    consumer_secret: &'a str,
    token_secret: &'a str,
    nonce: &'a str,
    flip: Option<(u16, u8)>,
}

fuzz_target!(|input: Input<'_>| {
    let method = SignatureMethod::ALL[usize::from(input.method_index) % SignatureMethod::ALL.len()];
    // Keep the target a valid origin-form so that the client and the server
    // see the same request.
    if input.path.contains(['?', '#']) || input.query.contains('#') {
        return;
    }
    let target = format!("/{}?{}", input.path, input.query);
    let url = format!("https://api.example.com{target}");
    let signer = Signer::new(method, "consumer", input.consumer_secret)
        .token("token", input.token_secret)
        .nonce(input.nonce)
        .timestamp(1_700_000_000);
    let Ok(header) = signer.authorization_header("POST", &url, Some(input.body.as_bytes())) else {
        return;
    };
    let mut target = target;
    if let Some((position, byte)) = input.flip {
        // Mutate one byte of the target the server receives.
        let mut bytes = target.into_bytes();
        let i = usize::from(position) % bytes.len();
        bytes[i] = byte;
        match String::from_utf8(bytes) {
            Ok(t) => target = t,
            Err(_) => return,
        }
    }
    let request = Request::new("POST", "https", "api.example.com", &target)
        .authorization(Some(&header))
        .form_body(Some("application/x-www-form-urlencoded"), input.body.as_bytes());
    let Ok(signed) = SignedRequest::collect(&request, &Limits::default()) else {
        return;
    };
    let verified = signed.verify_signature(input.consumer_secret, input.token_secret);
    let _ = signed.check_timestamp(1_700_000_000, &TimestampWindow::default());
    if input.flip.is_none() {
        assert!(verified.is_ok(), "a correctly signed request verifies");
    } else if verified.is_ok() && method != SignatureMethod::Plaintext {
        // (PLAINTEXT signs only the secrets, so it survives any mutation.)
        // A mutation may leave the signed content equal (e.g. %41 for A,
        // '+' for %20); then the normalized parameters must be unchanged.
        let original_target = format!("/{}?{}", input.path, input.query);
        let original = Request::new("POST", "https", "api.example.com", &original_target)
            .authorization(Some(&header))
            .form_body(Some("application/x-www-form-urlencoded"), input.body.as_bytes());
        let original = SignedRequest::collect(&original, &Limits::default()).expect("original collects");
        assert_eq!(original.base_string().ok(), signed.base_string().ok());
    }
});
