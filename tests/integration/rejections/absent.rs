//! 400 `parameter_absent`: each missing required parameter is named.

use oauth1_provider::Request;
use oauth1_provider::protocol::TimestampWindow;

use super::{COMPLETE, CONSUMER_SECRET, NOW, collect, decode_form, oauth_header, refused, with};

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
