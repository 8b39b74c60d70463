//! Problem Reporting: `WWW-Authenticate` and the form body.

use oauth1_provider::protocol::{
    AuthorizationHeader, Limits, SignedRequest, TimestampWindow, format_authorization_header,
};
use oauth1_provider::{ProtocolError, Request};

use super::{COMPLETE, CONSUMER_SECRET, NOW, URL, collect, decode_form, received, refused, signer};

#[test]
fn refusals_render_as_problem_reporting() {
    let header = signer().authorization_header("GET", URL, None).unwrap();
    let request = received(&header);
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
