//! 401 `signature_invalid`: wrong secrets, and every part of the request signed.

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{AuthorizationHeader, format_authorization_header};
use oauth1_provider::{ProtocolError, Request, SignatureMethod};

use super::{CONSUMER_SECRET, TOKEN_SECRET, URL, collect, received, refused, signer, verify};

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
    let request = received(&header);
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
    let request = received(&header);
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
    let request = received(&header);
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
