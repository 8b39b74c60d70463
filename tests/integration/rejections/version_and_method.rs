//! 400 `version_rejected` and `signature_method_rejected`.

use oauth1_provider::Request;
use oauth1_provider::protocol::percent_encode;

use super::{CONSUMER_SECRET, FORM, TOKEN_SECRET, collect, oauth_header, refused, with};

#[test]
fn an_oauth_version_other_than_1_0_is_rejected() {
    for version in [
        "2.0", "1.0b", "1.0aa", "1", "1.00", "", " 1.0", "1.0 ", "1.0a ",
    ] {
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

/// node-oauth's README tells its users to send `1.0A`: collection accepts
/// `1.0a` and `1.0A` (signed like any other parameter) and says which it was.
#[test]
fn oauth_version_1_0a_is_collected_as_sent() {
    for version in ["1.0a", "1.0A"] {
        let header = oauth_header(&with("oauth_version", version));
        let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
        let signed = collect(&request).unwrap();
        assert_eq!(signed.version(), Some(version));
        assert!(signed.version_is_1_0a());
    }
    let header = oauth_header(&with("oauth_version", "1.0"));
    let request = Request::new("GET", "https", "h", "/").authorization(Some(&header));
    assert!(!collect(&request).unwrap().version_is_1_0a());
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
