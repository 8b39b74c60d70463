//! 400 `parameter_rejected`: each of `Limits`, at and just over the limit.

use oauth1_provider::Request;
use oauth1_provider::protocol::{Limits, SignedRequest};

use super::{FORM, collect, oauth_header, refused, signer, verify};

#[test]
fn limits_default_as_documented() {
    let limits = Limits::default();
    assert_eq!(limits.max_authorization_header_bytes, 8 * 1024);
    assert_eq!(limits.max_form_body_bytes, 1024 * 1024);
    assert_eq!(limits.max_parameters, 512);
    assert_eq!(limits.max_protocol_value_bytes, 2048);
    assert_eq!(limits.max_nonce_bytes, 128);
}

#[test]
fn an_authorization_header_over_the_limit_is_rejected() {
    let header = signer()
        .authorization_header("GET", "https://api.example.com/r", None)
        .unwrap();
    let request =
        Request::new("GET", "https", "api.example.com", "/r").authorization(Some(&header));
    let mut limits = Limits::default();
    limits.max_authorization_header_bytes = header.len();
    assert!(SignedRequest::collect(&request, &limits).is_ok());
    limits.max_authorization_header_bytes = header.len() - 1;
    refused(
        SignedRequest::collect(&request, &limits),
        400,
        "parameter_rejected",
    );
    // The default is generous enough for a long callback.
    let callback = format!("https://client.example.net/cb?{}", "x".repeat(1500));
    let header = signer()
        .callback(&callback)
        .authorization_header("POST", "https://api.example.com/r", None)
        .unwrap();
    let request =
        Request::new("POST", "https", "api.example.com", "/r").authorization(Some(&header));
    assert_eq!(verify(&request), Ok(()));
}

#[test]
fn a_form_body_over_the_limit_is_rejected() {
    let body = b"status=hello%20world&x=1";
    let request = Request::new("POST", "https", "h", "/").form_body(Some(FORM), body);
    let mut limits = Limits::default();
    limits.max_form_body_bytes = body.len();
    assert!(SignedRequest::collect(&request, &limits).is_ok());
    limits.max_form_body_bytes = body.len() - 1;
    refused(
        SignedRequest::collect(&request, &limits),
        400,
        "parameter_rejected",
    );
    // A body that is not a form is not read, so not limited.
    let request = Request::new("POST", "https", "h", "/").form_body(Some("text/plain"), body);
    assert!(SignedRequest::collect(&request, &limits).is_ok());
}

#[test]
fn too_many_parameters_are_rejected() {
    let mut limits = Limits::default();
    limits.max_parameters = 3;
    let header = oauth_header(&[("oauth_consumer_key", "k"), ("oauth_nonce", "n")]);
    // Header, query and body count together.
    let cases = [
        (None, "/?a&b&c", None, true),
        (None, "/?a&b&c&d", None, false),
        (None, "/?a=1&a=1&a=1&a=1", None, false),
        (None, "/?a&b", Some("c"), true),
        (None, "/?a&b", Some("c&d"), false),
        (Some(header.as_str()), "/?a", None, true),
        (Some(header.as_str()), "/?a&b", None, false),
        (Some(header.as_str()), "/", Some("a&b"), false),
    ];
    for (header, target, body, ok) in cases {
        let request = Request::new("POST", "https", "h", target)
            .authorization(header)
            .form_body(Some(FORM), body.unwrap_or("").as_bytes());
        let result = SignedRequest::collect(&request, &limits);
        if ok {
            assert!(result.is_ok(), "{target} {body:?}: {result:?}");
        } else {
            refused(result, 400, "parameter_rejected");
        }
    }
}

#[test]
fn a_protocol_value_over_the_limit_is_rejected() {
    let mut limits = Limits::default();
    limits.max_protocol_value_bytes = 8;
    for name in ["oauth_token", "oauth_callback", "oauth_verifier", "oauth_x"] {
        let at_limit = oauth_header(&[(name, "12345678")]);
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&at_limit));
        assert!(SignedRequest::collect(&request, &limits).is_ok(), "{name}");
        let over = oauth_header(&[(name, "123456789")]);
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&over));
        refused(
            SignedRequest::collect(&request, &limits),
            400,
            "parameter_rejected",
        );
        let target = format!("/?{name}=123456789");
        refused(
            SignedRequest::collect(&Request::new("GET", "https", "h", &target), &limits),
            400,
            "parameter_rejected",
        );
    }
    // Ordinary parameters are not protocol values.
    let request = Request::new("GET", "https", "h", "/?q=123456789");
    assert!(SignedRequest::collect(&request, &limits).is_ok());
}

/// `Limits::max_protocol_value_bytes` is documented as the *decoded* length,
/// but is compared with the canonical *encoded* value: an 8-byte callback
/// `http://x` (14 bytes encoded, `http%3A%2F%2Fx`) is refused under a limit
/// of 8, and a 700-character non-ASCII callback under the default of 2048.
#[test]
fn the_protocol_value_limit_counts_decoded_bytes() {
    let mut limits = Limits::default();
    limits.max_protocol_value_bytes = 8;
    let header = oauth_header(&[("oauth_callback", "http://x")]);
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    assert!(SignedRequest::collect(&request, &limits).is_ok());

    let callback = format!("https://c.example/{}", "é".repeat(500));
    assert!(callback.len() <= 2048);
    let header = oauth_header(&[("oauth_callback", &callback)]);
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    assert!(collect(&request).is_ok());
}

#[test]
fn a_nonce_over_the_limit_is_rejected() {
    let mut limits = Limits::default();
    limits.max_nonce_bytes = 4;
    let ok = ["/?oauth_nonce=abcd", "/?oauth_nonce=a+%C3%A9"];
    for target in ok {
        let request = Request::new("GET", "https", "h", target);
        assert!(
            SignedRequest::collect(&request, &limits).is_ok(),
            "{target}"
        );
    }
    for target in ["/?oauth_nonce=abcde", "/?oauth_nonce=%C3%A9%C3%A9%C3%A9"] {
        let request = Request::new("GET", "https", "h", target);
        refused(
            SignedRequest::collect(&request, &limits),
            400,
            "parameter_rejected",
        );
    }
    // Real clients' 42-character nonces pass the default.
    let nonce = "a".repeat(42);
    let header = signer()
        .nonce(&nonce)
        .authorization_header("GET", "https://api.example.com/r", None)
        .unwrap();
    let request =
        Request::new("GET", "https", "api.example.com", "/r").authorization(Some(&header));
    assert_eq!(verify(&request), Ok(()));
}
