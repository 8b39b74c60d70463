//! `oauth_timestamp`: 401 `timestamp_refused`, 400 when not a number.

use oauth1_provider::Request;
use oauth1_provider::protocol::TimestampWindow;

use super::{
    CONSUMER_SECRET, NOW, TOKEN_SECRET, collect, decode_form, oauth_header, refused, signer, with,
};

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
