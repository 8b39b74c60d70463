//! The hand-written HMAC behind the HMAC-SHA1/-SHA256/-SHA512 signature
//! methods against RustCrypto's `hmac` crate: any secrets, any base string,
//! the same signature.
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use oauth1_provider::SignatureMethod;
use oauth1_provider::protocol::percent_encode;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method_index: u8,
    consumer_secret: &'a str,
    token_secret: &'a str,
    base_string: &'a str,
}

fn theirs<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> String {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

fuzz_target!(|input: Input<'_>| {
    let methods = [
        SignatureMethod::HmacSha1,
        SignatureMethod::HmacSha256,
        SignatureMethod::HmacSha512,
    ];
    let method = methods[usize::from(input.method_index) % methods.len()];
    // The signing key of RFC 5849 §3.4.2.
    let key = format!(
        "{}&{}",
        percent_encode(input.consumer_secret),
        percent_encode(input.token_secret)
    );
    let message = input.base_string.as_bytes();
    let expected = match method {
        SignatureMethod::HmacSha1 => theirs::<Hmac<sha1::Sha1>>(key.as_bytes(), message),
        SignatureMethod::HmacSha256 => theirs::<Hmac<sha2::Sha256>>(key.as_bytes(), message),
        _ => theirs::<Hmac<sha2::Sha512>>(key.as_bytes(), message),
    };
    let ours = method.sign(input.base_string, input.consumer_secret, input.token_secret);
    assert_eq!(ours, expected);
    assert!(method.verify(input.base_string, input.consumer_secret, input.token_secret, &ours));
});
