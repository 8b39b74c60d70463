//! Every refusal of the signature engine, each asserting the HTTP status and
//! the `oauth_problem` code (RFC 5849 §3.2 and the OAuth Problem Reporting
//! extension), plus what the engine must not refuse: non-form bodies are not
//! signed, a form content type is recognized in any case and with
//! parameters, and an Authorization header of another scheme is ignored.

use std::fmt::Debug;

use oauth1_provider::{
    AuthorizationHeader, Limits, ParameterSource, ProtocolError, Request, SignatureMethod,
    SignedRequest, Signer, TimestampWindow, format_authorization_header, percent_encode,
};

const FORM: &str = "application/x-www-form-urlencoded";
const NOW: u64 = 1_700_000_000;
const CONSUMER_SECRET: &str = "consumer-secret";
const TOKEN_SECRET: &str = "token-secret";

fn collect<'a>(request: &Request<'a>) -> Result<SignedRequest<'a>, ProtocolError> {
    SignedRequest::collect(request, &Limits::default())
}

/// Asserts that `result` is a refusal with this status and `oauth_problem`.
#[track_caller]
fn refused<T: Debug>(result: Result<T, ProtocolError>, status: u16, code: &str) -> ProtocolError {
    let e = match result {
        Ok(v) => panic!("expected {status} {code}, got Ok({v:?})"),
        Err(e) => e,
    };
    assert_eq!((e.status(), e.problem().code()), (status, code), "{e}");
    e
}

/// The signer of every valid request here: HMAC-SHA1 with a token, a fixed
/// nonce and timestamp.
fn signer() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, "key", CONSUMER_SECRET)
        .token("token", TOKEN_SECRET)
        .nonce("nonce-123")
        .timestamp(NOW)
}

/// Collects, requires a token, verifies with the right secrets and checks
/// the timestamp — what a protected-resource endpoint does.
fn verify(request: &Request<'_>) -> Result<(), ProtocolError> {
    let signed = collect(request)?;
    signed.require(&["oauth_token"])?;
    signed.verify_signature(CONSUMER_SECRET, TOKEN_SECRET)?;
    signed.check_timestamp(NOW, &TimestampWindow::default())?;
    Ok(())
}

/// The protocol parameters of a signed header, as `name=value` pairs
/// encoded for a query or form body.
fn header_as_form(header: &str) -> String {
    let parsed = AuthorizationHeader::parse(header).unwrap();
    parsed
        .params()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes an `application/x-www-form-urlencoded` body (independently of the
/// crate's own decoder).
fn decode_form(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex escape"));
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).expect("UTF-8")
    }
    body.split('&')
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(n), decode(v))
        })
        .collect()
}

fn oauth_header(params: &[(&str, &str)]) -> String {
    format_authorization_header(None, params.iter().copied())
}

/// A complete set of protocol parameters (signature not valid) to vary.
const COMPLETE: [(&str, &str); 7] = [
    ("oauth_consumer_key", "key"),
    ("oauth_token", "token"),
    ("oauth_signature_method", "HMAC-SHA1"),
    ("oauth_signature", "c2lnbmF0dXJl"),
    ("oauth_timestamp", "1700000000"),
    ("oauth_nonce", "nonce-123"),
    ("oauth_version", "1.0"),
];

fn with(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    COMPLETE
        .iter()
        .map(|&(n, v)| (n, if n == name { value } else { v }))
        .collect()
}

// ---------------------------------------------------------------------------
// 400 parameter_rejected: where and how often protocol parameters appear.
// ---------------------------------------------------------------------------

#[test]
fn protocol_parameters_in_two_sources_are_rejected() {
    let header = oauth_header(&[("oauth_consumer_key", "key"), ("oauth_token", "token")]);
    let cases = [
        // header + query
        (Some(header.as_str()), "/r?oauth_nonce=n", None),
        // the same parameter in header and query
        (Some(header.as_str()), "/r?oauth_consumer_key=key", None),
        // query + body
        (None, "/r?oauth_consumer_key=key", Some("oauth_nonce=n")),
        // header + body
        (Some(header.as_str()), "/r", Some("oauth_nonce=n")),
        // an extension parameter counts as a protocol parameter
        (Some(header.as_str()), "/r?oauth_body_hash=x", None),
        // …and so does an escaped name
        (Some(header.as_str()), "/r?oauth%5Fnonce=n", None),
    ];
    for (header, target, body) in cases {
        let request = Request::new("POST", "https", "api.example.com", target)
            .authorization(header)
            .form_body(body.map(|_| FORM), body.unwrap_or("").as_bytes());
        refused(collect(&request), 400, "parameter_rejected");
    }
    // Non-protocol parameters may be anywhere.
    let request = Request::new("POST", "https", "api.example.com", "/r?a=1")
        .authorization(Some(&header))
        .form_body(Some(FORM), b"a=2");
    assert_eq!(
        collect(&request).unwrap().parameter_source(),
        Some(ParameterSource::Header)
    );
}

#[test]
fn a_signature_sent_apart_from_the_other_protocol_parameters_is_rejected() {
    let header = signer()
        .authorization_header("GET", "https://api.example.com/r", None)
        .unwrap();
    let parsed = AuthorizationHeader::parse(&header).unwrap();
    let without_signature = format_authorization_header(
        None,
        parsed.params().filter(|(n, _)| *n != "oauth_signature"),
    );
    let target = format!(
        "/r?oauth_signature={}",
        percent_encode(parsed.get("oauth_signature").unwrap())
    );
    let request = Request::new("GET", "https", "api.example.com", &target)
        .authorization(Some(&without_signature));
    refused(collect(&request), 400, "parameter_rejected");
}

#[test]
fn a_repeated_protocol_parameter_is_rejected() {
    for name in [
        "oauth_consumer_key",
        "oauth_token",
        "oauth_nonce",
        "oauth_timestamp",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_version",
        "oauth_callback",
        "oauth_verifier",
        "oauth_body_hash",
    ] {
        // In the header, even with the same value.
        let header = oauth_header(&[(name, "1"), ("a", "k"), (name, "1")]);
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        refused(collect(&request), 400, "parameter_rejected");
        // In the query, one of them escaped.
        let target = format!("/?{name}=1&{}=2", name.replace('_', "%5F"));
        refused(
            collect(&Request::new("GET", "https", "h", &target)),
            400,
            "parameter_rejected",
        );
        // In the body.
        let body = format!("{name}=1&a=b&{name}=2");
        let request =
            Request::new("POST", "https", "h", "/").form_body(Some(FORM), body.as_bytes());
        refused(collect(&request), 400, "parameter_rejected");
    }
    // Other parameters may repeat.
    assert!(collect(&Request::new("GET", "https", "h", "/?a=1&a=1&a=2")).is_ok());
}

// ---------------------------------------------------------------------------
// 400 parameter_absent
// ---------------------------------------------------------------------------

#[test]
fn missing_required_parameters_are_named() {
    let header = oauth_header(&[("oauth_consumer_key", "key")]);
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    let e = refused(
        signed.require(&["oauth_token", "oauth_verifier"]),
        400,
        "parameter_absent",
    );
    let missing = [
        "oauth_signature_method",
        "oauth_signature",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_token",
        "oauth_verifier",
    ];
    assert_eq!(e.missing_parameters(), missing);
    let body = decode_form(&e.form_body());
    let absent = body
        .iter()
        .find(|(n, _)| n == "oauth_parameters_absent")
        .map(|(_, v)| v.as_str());
    assert_eq!(absent, Some(missing.join("&").as_str()));
    assert!(
        e.form_body()
            .contains("&oauth_parameters_absent=oauth_signature_method%26oauth_signature%26"),
        "{}",
        e.form_body()
    );
}

#[test]
fn each_missing_parameter_is_named_alone() {
    let required = [
        "oauth_consumer_key",
        "oauth_token",
        "oauth_signature_method",
        "oauth_signature",
        "oauth_timestamp",
        "oauth_nonce",
    ];
    for name in required {
        let params: Vec<_> = COMPLETE
            .iter()
            .copied()
            .filter(|(n, _)| *n != name)
            .collect();
        let header = oauth_header(&params);
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        let signed = collect(&request).unwrap();
        let e = refused(signed.require(&["oauth_token"]), 400, "parameter_absent");
        assert_eq!(e.missing_parameters(), [name]);
    }
    // `oauth_version` is optional (§3.1).
    let params: Vec<_> = COMPLETE
        .iter()
        .copied()
        .filter(|(n, _)| *n != "oauth_version")
        .collect();
    let header = oauth_header(&params);
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    assert_eq!(collect(&request).unwrap().require(&["oauth_token"]), Ok(()));
}

#[test]
fn callback_verifier_and_other_required_parameters_are_named() {
    let header = oauth_header(&COMPLETE);
    let request = Request::new("GET", "https", "h", "/?scope=all").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    let e = refused(
        signed.require(&[
            "oauth_callback",
            "oauth_verifier",
            "xoauth_displayname",
            "scope",
        ]),
        400,
        "parameter_absent",
    );
    assert_eq!(
        e.missing_parameters(),
        ["oauth_callback", "oauth_verifier", "xoauth_displayname"]
    );
}

#[test]
fn plaintext_may_omit_timestamp_and_nonce_but_not_the_rest() {
    let header = oauth_header(&[
        ("oauth_consumer_key", "key"),
        ("oauth_signature_method", "PLAINTEXT"),
        ("oauth_signature", "consumer-secret&"),
    ]);
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    assert_eq!(signed.require(&[]), Ok(()));
    assert_eq!(signed.verify_signature(CONSUMER_SECRET, ""), Ok(()));
    let e = refused(signed.require(&["oauth_token"]), 400, "parameter_absent");
    assert_eq!(e.missing_parameters(), ["oauth_token"]);
}

#[test]
fn verify_and_timestamp_checks_name_what_is_missing() {
    let header = oauth_header(&[("oauth_consumer_key", "key")]);
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    let e = refused(signed.verify_signature("a", "b"), 400, "parameter_absent");
    assert_eq!(
        e.missing_parameters(),
        ["oauth_signature_method", "oauth_signature"]
    );
    let e = refused(
        signed.check_timestamp(NOW, &TimestampWindow::default()),
        400,
        "parameter_absent",
    );
    assert_eq!(e.missing_parameters(), ["oauth_timestamp"]);
}

/// `token()` treats `oauth_token=""` as absent (some clients send it on the
/// temporary-credentials request), but `require(&["oauth_token"])` accepts
/// it, so a host that requires a token and then reads it finds none.
#[test]
fn an_empty_token_does_not_satisfy_a_required_token() {
    let header = oauth_header(&with("oauth_token", ""));
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    assert_eq!(signed.token(), None);
    let e = refused(signed.require(&["oauth_token"]), 400, "parameter_absent");
    assert_eq!(e.missing_parameters(), ["oauth_token"]);
}

// ---------------------------------------------------------------------------
// 400 version_rejected, signature_method_rejected
// ---------------------------------------------------------------------------

#[test]
fn an_oauth_version_other_than_1_0_is_rejected() {
    for version in ["2.0", "1.0a", "1", "1.00", "", " 1.0", "1.0 "] {
        let header = oauth_header(&with("oauth_version", version));
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        refused(collect(&request), 400, "version_rejected");
        let target = format!("/?oauth_version={}", percent_encode(version));
        refused(
            collect(&Request::new("GET", "https", "h", &target)),
            400,
            "version_rejected",
        );
        let body = format!("oauth_version={}", percent_encode(version));
        let request =
            Request::new("POST", "https", "h", "/").form_body(Some(FORM), body.as_bytes());
        refused(collect(&request), 400, "version_rejected");
    }
    let header = oauth_header(&with("oauth_version", "1.0"));
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    assert_eq!(collect(&request).unwrap().version(), Some("1.0"));
}

#[test]
fn an_unknown_signature_method_is_rejected() {
    for name in [
        "MD5",
        "HMAC-MD5",
        "hmac-sha1",
        "HMAC-SHA1 ",
        "PlainText",
        "",
    ] {
        let header = oauth_header(&with("oauth_signature_method", name));
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        let signed = collect(&request).unwrap();
        assert_eq!(signed.signature_method(), None);
        assert_eq!(signed.signature_method_name(), Some(name));
        refused(signed.require(&[]), 400, "signature_method_rejected");
    }
}

/// `verify_signature` on a request whose method is present but unknown
/// answers `parameter_absent` naming `oauth_signature_method`, which is
/// there: a host that skips `require` tells the client the wrong thing.
#[test]
fn verify_signature_rejects_an_unknown_method_as_such() {
    let header = oauth_header(&with("oauth_signature_method", "MD5"));
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    refused(
        signed.verify_signature(CONSUMER_SECRET, TOKEN_SECRET),
        400,
        "signature_method_rejected",
    );
}

// ---------------------------------------------------------------------------
// 400 parameter_rejected: malformed input.
// ---------------------------------------------------------------------------

#[test]
fn malformed_percent_encoding_in_the_header_is_rejected() {
    for header in [
        r#"OAuth oauth_consumer_key="k%zz""#,
        r#"OAuth oauth_consumer_key="k%2""#,
        r#"OAuth oauth_consumer_key="k%""#,
        r#"OAuth oauth_consumer_key="%G0k""#,
        r#"OAuth oauth_consumer%zz="k""#,
        r#"OAuth a="%""#,
    ] {
        let request = Request::new("GET", "https", "h", "/").authorization(Some(header));
        refused(collect(&request), 400, "parameter_rejected");
    }
}

#[test]
fn malformed_percent_encoding_in_the_query_is_rejected() {
    for target in [
        "/?a=%zz",
        "/?a=%2",
        "/?a=%",
        "/?a%=1",
        "/?a=1&b=%4g",
        "/?oauth_nonce=%g1",
    ] {
        refused(
            collect(&Request::new("GET", "https", "h", target)),
            400,
            "parameter_rejected",
        );
    }
    // Lower-case hex is well-formed.
    assert!(collect(&Request::new("GET", "https", "h", "/?a=%2f")).is_ok());
}

#[test]
fn malformed_percent_encoding_in_the_body_is_rejected() {
    for body in ["a=%zz", "a=1&b=%", "a%2=1", "oauth_token=%x0"] {
        let request =
            Request::new("POST", "https", "h", "/").form_body(Some(FORM), body.as_bytes());
        refused(collect(&request), 400, "parameter_rejected");
    }
}

#[test]
fn a_protocol_parameter_that_is_not_utf8_is_rejected() {
    let header = oauth_header(&[("oauth_consumer_key", "k")]).replace("\"k\"", "\"%FF\"");
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    refused(collect(&request), 400, "parameter_rejected");
    refused(
        collect(&Request::new("GET", "https", "h", "/?oauth_token=%C3")),
        400,
        "parameter_rejected",
    );
    let request = Request::new("POST", "https", "h", "/").form_body(Some(FORM), b"a=\xff");
    refused(collect(&request), 400, "parameter_rejected");
    // Any byte is fine in an ordinary parameter: it is signed as it is.
    assert!(collect(&Request::new("GET", "https", "h", "/?a=%FF")).is_ok());
}

#[test]
fn a_malformed_authorization_header_is_rejected() {
    for header in [
        // unterminated quote
        r#"OAuth oauth_consumer_key="key"#,
        r#"OAuth oauth_consumer_key="key", oauth_nonce="n"#,
        // missing '='
        r#"OAuth oauth_consumer_key"key""#,
        "OAuth oauth_consumer_key",
        r#"OAuth oauth_consumer_key="key", oauth_nonce"#,
        // missing name
        r#"OAuth ="key""#,
        // missing comma
        r#"OAuth oauth_consumer_key="key" oauth_nonce="n""#,
        // garbage
        "OAuth !!!!",
        "OAuth ,=,",
        "OAuth \"\"\"",
        r#"OAuth oauth_consumer_key="key"garbage"#,
        "OAuth oauth_consumer_key=(key)",
        // escapes and control characters cannot be in an encoded value
        r#"OAuth oauth_consumer_key="k\"ey""#,
        "OAuth oauth_consumer_key=\"k\r\nX-Injected: 1\"",
        "OAuth oauth_consumer_key=\"k\0\"",
        // a line break is not optional whitespace
        "OAuth oauth_consumer_key=\"key\",\r\n oauth_nonce=\"n\"",
    ] {
        let request = Request::new("GET", "https", "h", "/").authorization(Some(header));
        refused(collect(&request), 400, "parameter_rejected");
    }
}

// ---------------------------------------------------------------------------
// 400 parameter_rejected: each of `Limits`, at and just over the limit.
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// oauth_timestamp: 401 timestamp_refused, 400 when not a number.
// ---------------------------------------------------------------------------

fn signed_at(timestamp: u64) -> String {
    signer()
        .timestamp(timestamp)
        .authorization_header("GET", "https://api.example.com/r", None)
        .unwrap()
}

#[test]
fn a_timestamp_too_far_in_the_past_is_refused() {
    let window = TimestampWindow::default();
    let header = signed_at(NOW - 300);
    let request =
        Request::new("GET", "https", "api.example.com", "/r").authorization(Some(&header));
    assert_eq!(
        collect(&request).unwrap().check_timestamp(NOW, &window),
        Ok(NOW - 300)
    );

    let header = signed_at(NOW - 301);
    let request =
        Request::new("GET", "https", "api.example.com", "/r").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    assert_eq!(
        signed.verify_signature(CONSUMER_SECRET, TOKEN_SECRET),
        Ok(())
    );
    let e = refused(
        signed.check_timestamp(NOW, &window),
        401,
        "timestamp_refused",
    );
    assert_eq!(e.acceptable_timestamps(), Some((NOW - 300, NOW + 300)));
    let body = decode_form(&e.form_body());
    assert!(body.contains(&(
        "oauth_acceptable_timestamps".to_owned(),
        format!("{}-{}", NOW - 300, NOW + 300)
    )));
    // Far in the past, and the start of the epoch.
    for ts in ["1", "0", "000"] {
        refused(window.check(ts, NOW), 401, "timestamp_refused");
    }
}

#[test]
fn a_timestamp_too_far_in_the_future_is_refused() {
    let window = TimestampWindow {
        past_secs: 600,
        future_secs: 60,
    };
    let header = signed_at(NOW + 60);
    let request =
        Request::new("GET", "https", "api.example.com", "/r").authorization(Some(&header));
    assert_eq!(
        collect(&request).unwrap().check_timestamp(NOW, &window),
        Ok(NOW + 60)
    );

    let header = signed_at(NOW + 61);
    let request =
        Request::new("GET", "https", "api.example.com", "/r").authorization(Some(&header));
    let signed = collect(&request).unwrap();
    let e = refused(
        signed.check_timestamp(NOW, &window),
        401,
        "timestamp_refused",
    );
    assert_eq!(e.acceptable_timestamps(), Some((NOW - 600, NOW + 60)));
    assert!(
        e.form_body().ends_with(&format!(
            "&oauth_acceptable_timestamps={}-{}",
            NOW - 600,
            NOW + 60
        )),
        "{}",
        e.form_body()
    );
    // Milliseconds (a common client mistake) and absurd lengths.
    for ts in [
        (NOW * 1000).to_string(),
        "99999999999999999999999999".to_owned(),
    ] {
        refused(window.check(&ts, NOW), 401, "timestamp_refused");
    }
}

#[test]
fn a_timestamp_that_is_not_a_number_is_rejected() {
    for ts in [
        "",
        "abc",
        "-1",
        "+1700000000",
        "1.5",
        "0x10",
        " 1700000000",
        "١٧٠٠",
    ] {
        let header = oauth_header(&with("oauth_timestamp", ts));
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        let signed = collect(&request).unwrap();
        refused(
            signed.check_timestamp(NOW, &TimestampWindow::default()),
            400,
            "parameter_rejected",
        );
    }
}

// ---------------------------------------------------------------------------
// 401 signature_invalid: wrong secrets, and every part of the request signed.
// ---------------------------------------------------------------------------

const URL: &str = "https://api.example.com/v1/events?max=10&q=caf%C3%A9+au+lait";

#[test]
fn the_signed_request_verifies_as_received() {
    let header = signer().authorization_header("GET", URL, None).unwrap();
    let target = "/v1/events?max=10&q=caf%C3%A9+au+lait";
    for (method, scheme, authority) in [
        ("GET", "https", "api.example.com"),
        ("GET", "HTTPS", "API.Example.COM"),
        ("GET", "https", "api.example.com:443"),
        ("get", "https", "api.example.com"),
    ] {
        let request = Request::new(method, scheme, authority, target).authorization(Some(&header));
        assert_eq!(verify(&request), Ok(()), "{method} {scheme} {authority}");
    }
    // Parameters in another order or encoding are the same parameters.
    let request = Request::new(
        "GET",
        "https",
        "api.example.com",
        "/v1/events?q=caf%c3%a9%20au%20lait&max=%310",
    )
    .authorization(Some(&header));
    assert_eq!(verify(&request), Ok(()));
}

#[test]
fn a_wrong_consumer_secret_is_refused() {
    let header = signer().authorization_header("GET", URL, None).unwrap();
    let request = Request::new(
        "GET",
        "https",
        "api.example.com",
        "/v1/events?max=10&q=caf%C3%A9+au+lait",
    )
    .authorization(Some(&header));
    let signed = collect(&request).unwrap();
    for secret in [
        "consumer-secreT",
        "consumer-secret ",
        "",
        "consumer-secret&token-secret",
    ] {
        refused(
            signed.verify_signature(secret, TOKEN_SECRET),
            401,
            "signature_invalid",
        );
    }
}

#[test]
fn a_wrong_token_secret_is_refused() {
    let header = signer().authorization_header("GET", URL, None).unwrap();
    let request = Request::new(
        "GET",
        "https",
        "api.example.com",
        "/v1/events?max=10&q=caf%C3%A9+au+lait",
    )
    .authorization(Some(&header));
    let signed = collect(&request).unwrap();
    for secret in ["token-secreT", "", "token-secret&"] {
        refused(
            signed.verify_signature(CONSUMER_SECRET, secret),
            401,
            "signature_invalid",
        );
    }
    // Signed without a token, verified as if with one.
    let header = Signer::new(SignatureMethod::HmacSha1, "key", CONSUMER_SECRET)
        .authorization_header("GET", URL, None)
        .unwrap();
    let request = Request::new(
        "GET",
        "https",
        "api.example.com",
        "/v1/events?max=10&q=caf%C3%A9+au+lait",
    )
    .authorization(Some(&header));
    let signed = collect(&request).unwrap();
    assert_eq!(signed.verify_signature(CONSUMER_SECRET, ""), Ok(()));
    refused(
        signed.verify_signature(CONSUMER_SECRET, TOKEN_SECRET),
        401,
        "signature_invalid",
    );
}

/// Signs `url` with [`signer`] and verifies the request as received with
/// this method, scheme, authority and target.
fn received_as(
    url: &str,
    method: &str,
    scheme: &str,
    authority: &str,
    target: &str,
) -> Result<(), ProtocolError> {
    let header = signer().authorization_header("GET", url, None).unwrap();
    let request = Request::new(method, scheme, authority, target).authorization(Some(&header));
    verify(&request)
}

#[test]
fn a_tampered_path_is_refused() {
    for target in [
        "/v1/Events?max=10&q=caf%C3%A9+au+lait",
        "/v1/events/?max=10&q=caf%C3%A9+au+lait",
        "/v1/event%73?max=10&q=caf%C3%A9+au+lait",
        "/v2/events?max=10&q=caf%C3%A9+au+lait",
        "/v1//events?max=10&q=caf%C3%A9+au+lait",
        "?max=10&q=caf%C3%A9+au+lait",
    ] {
        refused(
            received_as(URL, "GET", "https", "api.example.com", target),
            401,
            "signature_invalid",
        );
    }
    // The path is signed byte for byte: `%20` and `+` differ in a path.
    let url = "https://api.example.com/a%20b";
    assert_eq!(
        received_as(url, "GET", "https", "api.example.com", "/a%20b"),
        Ok(())
    );
    for target in ["/a+b", "/a%2520b", "/a%20B", "/a b"] {
        refused(
            received_as(url, "GET", "https", "api.example.com", target),
            401,
            "signature_invalid",
        );
    }
}

#[test]
fn a_tampered_query_is_refused() {
    for target in [
        "/v1/events?max=11&q=caf%C3%A9+au+lait",
        "/v1/events?max=10&q=cafe+au+lait",
        "/v1/events?max=10",
        "/v1/events?max=10&q=caf%C3%A9+au+lait&admin=1",
        "/v1/events?max=10&max=10&q=caf%C3%A9+au+lait",
        "/v1/events?max=10&q=caf%C3%A9%2Bau%2Blait",
        "/v1/events",
    ] {
        refused(
            received_as(URL, "GET", "https", "api.example.com", target),
            401,
            "signature_invalid",
        );
    }
}

#[test]
fn a_tampered_method_is_refused() {
    for method in ["POST", "HEAD", "PUT", "GETX"] {
        refused(
            received_as(
                URL,
                method,
                "https",
                "api.example.com",
                "/v1/events?max=10&q=caf%C3%A9+au+lait",
            ),
            401,
            "signature_invalid",
        );
    }
}

#[test]
fn a_tampered_host_is_refused() {
    for authority in [
        "api.example.org",
        "example.com",
        "www.api.example.com",
        "api.example.com.",
    ] {
        refused(
            received_as(
                URL,
                "GET",
                "https",
                authority,
                "/v1/events?max=10&q=caf%C3%A9+au+lait",
            ),
            401,
            "signature_invalid",
        );
    }
}

#[test]
fn a_different_port_or_scheme_is_refused() {
    let target = "/v1/events?max=10&q=caf%C3%A9+au+lait";
    let on_8443 = "https://api.example.com:8443/v1/events?max=10&q=caf%C3%A9+au+lait";
    assert_eq!(
        received_as(on_8443, "GET", "https", "api.example.com:8443", target),
        Ok(())
    );
    for (scheme, authority) in [
        ("https", "api.example.com:9443"),
        ("https", "api.example.com"),
        ("https", "api.example.com:443"),
        ("http", "api.example.com:8443"),
    ] {
        refused(
            received_as(on_8443, "GET", scheme, authority, target),
            401,
            "signature_invalid",
        );
    }
    for (scheme, authority) in [
        ("https", "api.example.com:8443"),
        ("http", "api.example.com"),
        ("http", "api.example.com:443"),
        ("https", "api.example.com:80"),
    ] {
        refused(
            received_as(URL, "GET", scheme, authority, target),
            401,
            "signature_invalid",
        );
    }
}

#[test]
fn a_tampered_signature_or_protocol_parameter_is_refused() {
    let header = signer().authorization_header("GET", URL, None).unwrap();
    let parsed = AuthorizationHeader::parse(&header).unwrap();
    let original: Vec<(String, String)> = parsed
        .params()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let target = "/v1/events?max=10&q=caf%C3%A9+au+lait";
    for (name, value) in [
        ("oauth_signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("oauth_signature", ""),
        ("oauth_nonce", "nonce-124"),
        ("oauth_timestamp", "1700000001"),
        ("oauth_timestamp", "01700000000"),
        ("oauth_consumer_key", "key2"),
        ("oauth_token", "token2"),
    ] {
        let params = original
            .iter()
            .map(|(n, v)| (n.as_str(), if n == name { value } else { v.as_str() }));
        let tampered = format_authorization_header(None, params);
        let request =
            Request::new("GET", "https", "api.example.com", target).authorization(Some(&tampered));
        refused(verify(&request), 401, "signature_invalid");
    }
    // Dropping the optional oauth_version changes what was signed too.
    let params = original
        .iter()
        .filter(|(n, _)| n != "oauth_version")
        .map(|(n, v)| (n.as_str(), v.as_str()));
    let tampered = format_authorization_header(None, params);
    let request =
        Request::new("GET", "https", "api.example.com", target).authorization(Some(&tampered));
    refused(verify(&request), 401, "signature_invalid");
}

// ---------------------------------------------------------------------------
// Bodies and Authorization schemes that are not OAuth's.
// ---------------------------------------------------------------------------

#[test]
fn a_body_that_is_not_a_form_is_not_signed() {
    let body = b"status=hello%20world";
    let url = "https://api.example.com/1/update";
    let with_body = signer()
        .authorization_header("POST", url, Some(body))
        .unwrap();
    let without_body = signer().authorization_header("POST", url, None).unwrap();
    for content_type in [
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/x-www-form-urlencodedx"),
        None,
    ] {
        let signed_with_body = Request::new("POST", "https", "api.example.com", "/1/update")
            .authorization(Some(&with_body))
            .form_body(content_type, body);
        refused(verify(&signed_with_body), 401, "signature_invalid");
        let signed_without = Request::new("POST", "https", "api.example.com", "/1/update")
            .authorization(Some(&without_body))
            .form_body(content_type, body);
        assert_eq!(verify(&signed_without), Ok(()), "{content_type:?}");
    }
}

#[test]
fn a_form_body_is_signed_whatever_the_case_of_its_media_type() {
    let body = b"status=hello%20world&lang=fr";
    let url = "https://api.example.com/1/update";
    let with_body = signer()
        .authorization_header("POST", url, Some(body))
        .unwrap();
    let without_body = signer().authorization_header("POST", url, None).unwrap();
    for content_type in [
        FORM,
        "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "application/x-www-form-urlencoded ; charset=utf-8",
    ] {
        let request = Request::new("POST", "https", "api.example.com", "/1/update")
            .authorization(Some(&with_body))
            .form_body(Some(content_type), body);
        assert_eq!(verify(&request), Ok(()), "{content_type}");
        let request = Request::new("POST", "https", "api.example.com", "/1/update")
            .authorization(Some(&without_body))
            .form_body(Some(content_type), body);
        refused(verify(&request), 401, "signature_invalid");
        let tampered = Request::new("POST", "https", "api.example.com", "/1/update")
            .authorization(Some(&with_body))
            .form_body(Some(content_type), b"status=hello%20world&lang=de");
        refused(verify(&tampered), 401, "signature_invalid");
    }
}

#[test]
fn an_authorization_header_of_another_scheme_is_ignored() {
    let header = signer()
        .authorization_header("GET", "https://api.example.com/r?a=1", None)
        .unwrap();
    let target = format!("/r?a=1&{}", header_as_form(&header));
    for other in [
        "Basic dXNlcjpwYXNz",
        "Bearer abc.def",
        "basic",
        "OAuth2 x=\"1\"",
    ] {
        // Protocol parameters in the query, another scheme in the header.
        let request =
            Request::new("GET", "https", "api.example.com", &target).authorization(Some(other));
        let signed = collect(&request).unwrap();
        assert_eq!(signed.parameter_source(), Some(ParameterSource::Query));
        assert_eq!(verify(&request), Ok(()), "{other}");
        // Alone, it is no OAuth request at all.
        let request =
            Request::new("GET", "https", "api.example.com", "/r?a=1").authorization(Some(other));
        let signed = collect(&request).unwrap();
        assert_eq!(signed.parameter_source(), None);
        let e = refused(signed.require(&[]), 400, "parameter_absent");
        assert_eq!(e.missing_parameters().len(), 5);
    }
}

/// An `Authorization` header of another scheme is documented as ignored,
/// but one longer than `max_authorization_header_bytes` (a Kerberos
/// `Negotiate` token easily is) is refused before its scheme is looked at.
#[test]
fn a_long_authorization_header_of_another_scheme_is_ignored() {
    let header = signer()
        .authorization_header("GET", "https://api.example.com/r?a=1", None)
        .unwrap();
    let target = format!("/r?a=1&{}", header_as_form(&header));
    let negotiate = format!("Negotiate {}", "YII".repeat(4000));
    let request =
        Request::new("GET", "https", "api.example.com", &target).authorization(Some(&negotiate));
    assert_eq!(verify(&request), Ok(()));
}

// ---------------------------------------------------------------------------
// Problem Reporting: `WWW-Authenticate` and the form body.
// ---------------------------------------------------------------------------

#[test]
fn refusals_render_as_problem_reporting() {
    let header = signer().authorization_header("GET", URL, None).unwrap();
    let request = Request::new(
        "GET",
        "https",
        "api.example.com",
        "/v1/events?max=10&q=caf%C3%A9+au+lait",
    )
    .authorization(Some(&header));
    let signed = collect(&request).unwrap();
    let e = refused(
        signed.verify_signature(CONSUMER_SECRET, "wrong"),
        401,
        "signature_invalid",
    );
    assert_eq!(
        e.www_authenticate("Example"),
        r#"OAuth realm="Example", oauth_problem="signature_invalid""#
    );
    // The header parses as an OAuth auth-param list.
    let www_authenticate = e.www_authenticate("Example");
    let parsed = AuthorizationHeader::parse(&www_authenticate).unwrap();
    assert_eq!(parsed.realm(), Some("Example"));
    assert_eq!(parsed.get("oauth_problem"), Some("signature_invalid"));
    // A realm cannot break out of its quoted string.
    assert_eq!(
        e.www_authenticate(r#"a"b\c"#),
        r#"OAuth realm="a\"b\\c", oauth_problem="signature_invalid""#
    );
    assert_eq!(
        decode_form(&e.form_body()),
        [
            ("oauth_problem".to_owned(), "signature_invalid".to_owned()),
            ("oauth_problem_advice".to_owned(), e.advice().to_owned()),
        ]
    );
    assert!(
        e.form_body()
            .starts_with("oauth_problem=signature_invalid&oauth_problem_advice=")
    );

    // Every problem renders the same way, with its own extras.
    let missing = ProtocolError::parameters_absent(vec!["oauth_token", "oauth_nonce"]);
    assert_eq!(
        decode_form(&missing.form_body()),
        [
            ("oauth_problem".to_owned(), "parameter_absent".to_owned()),
            (
                "oauth_problem_advice".to_owned(),
                missing.advice().to_owned()
            ),
            (
                "oauth_parameters_absent".to_owned(),
                "oauth_token&oauth_nonce".to_owned()
            ),
        ]
    );
    assert_eq!(
        missing.www_authenticate("r"),
        r#"OAuth realm="r", oauth_problem="parameter_absent""#
    );
    let late = ProtocolError::timestamp_refused(100, 700);
    assert_eq!(
        decode_form(&late.form_body()),
        [
            ("oauth_problem".to_owned(), "timestamp_refused".to_owned()),
            ("oauth_problem_advice".to_owned(), late.advice().to_owned()),
            (
                "oauth_acceptable_timestamps".to_owned(),
                "100-700".to_owned()
            ),
        ]
    );
}

/// The Problem Reporting extension: on `version_rejected` "the response
/// SHOULD also contain an oauth_acceptable_versions parameter", the range of
/// versions accepted, here `1.0-1.0`.
#[test]
fn version_rejected_names_the_acceptable_versions() {
    let e = refused(
        collect(&Request::new("GET", "https", "h", "/?oauth_version=2.0")),
        400,
        "version_rejected",
    );
    assert!(
        decode_form(&e.form_body())
            .contains(&("oauth_acceptable_versions".to_owned(), "1.0-1.0".to_owned())),
        "{}",
        e.form_body()
    );
}

#[test]
fn refusals_never_echo_request_values() {
    const MARK: &str = "s3cr3tMARK";
    let header_with = |name: &str, value: &str| {
        format_authorization_header(
            None,
            COMPLETE
                .iter()
                .copied()
                .filter(|(n, _)| *n != name)
                .chain([(name, value)]),
        )
    };
    let mut tiny = Limits::default();
    tiny.max_protocol_value_bytes = 4;
    tiny.max_nonce_bytes = 4;
    let cases: Vec<(String, Option<String>, Limits)> = vec![
        (format!("/?oauth_version={MARK}"), None, Limits::default()),
        (
            format!("/?oauth_nonce={MARK}&oauth_nonce={MARK}"),
            None,
            Limits::default(),
        ),
        (format!("/?{MARK}=%zz{MARK}"), None, Limits::default()),
        (format!("/?oauth_token={MARK}"), None, tiny.clone()),
        (format!("/?oauth_nonce={MARK}"), None, tiny),
        (
            format!("/?oauth_consumer_key={MARK}"),
            Some(header_with("oauth_nonce", MARK)),
            Limits::default(),
        ),
        (
            "/".to_owned(),
            Some(format!("OAuth oauth_token=\"{MARK}")),
            Limits::default(),
        ),
    ];
    let mut refusals = Vec::new();
    for (target, header, limits) in &cases {
        let request = Request::new("GET", "https", "h", target).authorization(header.as_deref());
        refusals.push(SignedRequest::collect(&request, limits).expect_err(target));
    }
    for (name, value) in [
        ("oauth_signature_method", MARK),
        ("oauth_timestamp", MARK),
        ("oauth_signature", MARK),
    ] {
        let header = header_with(name, value);
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        let signed = collect(&request).unwrap();
        let refusal = signed
            .require(&["oauth_token"])
            .and_then(|()| {
                signed
                    .check_timestamp(NOW, &TimestampWindow::default())
                    .map(drop)
            })
            .and_then(|()| signed.verify_signature(MARK, MARK));
        refusals.push(refusal.expect_err(name));
    }
    for e in refusals {
        for rendered in [
            e.advice().to_owned(),
            e.form_body(),
            e.www_authenticate("realm"),
            e.to_string(),
            format!("{e:?}"),
        ] {
            assert!(!rendered.contains(MARK), "{rendered}");
        }
    }
}
