//! Bodies and Authorization schemes that are not OAuth's: not signed, ignored.

use oauth1_provider::Request;
use oauth1_provider::protocol::ParameterSource;

use super::{FORM, collect, header_as_form, refused, signer, verify};

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
