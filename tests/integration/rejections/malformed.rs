//! 400 `parameter_rejected`: malformed input.

use oauth1_provider::Request;

use super::{FORM, collect, oauth_header, refused};

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
