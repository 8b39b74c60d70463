//! Parameter collection from header, query and body: never panics, refuses
//! only with 400/401, and whatever it accepts has a base string.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth1_provider::Request;
use oauth1_provider::protocol::{Limits, SignedRequest};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: &'a str,
    https: bool,
    authority: &'a str,
    target: &'a str,
    authorization: Option<&'a str>,
    form: bool,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let request = Request::new(
        input.method,
        if input.https { "https" } else { "http" },
        input.authority,
        input.target,
    )
    .authorization(input.authorization)
    .form_body(
        input.form.then_some("application/x-www-form-urlencoded"),
        input.body,
    );
    let limits = Limits::default();
    match SignedRequest::collect(&request, &limits) {
        Ok(signed) => {
            let _ = signed.normalized_parameters();
            match signed.base_string() {
                Ok(base) => assert!(base.is_ascii()),
                Err(e) => assert_eq!(e.status(), 400),
            }
            if let Err(e) = signed.require(&["oauth_token"]) {
                assert_eq!(e.status(), 400);
            }
        }
        Err(e) => assert!(matches!(e.status(), 400 | 401)),
    }
});
