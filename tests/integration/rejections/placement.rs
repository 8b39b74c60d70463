//! 400 `parameter_rejected`: where and how often protocol parameters appear.

use oauth1_provider::Request;
use oauth1_provider::protocol::{
    AuthorizationHeader, ParameterSource, format_authorization_header, percent_encode,
};

use super::{FORM, collect, oauth_header, refused, signer};

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
