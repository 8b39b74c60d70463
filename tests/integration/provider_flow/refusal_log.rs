//! Signature-mismatch help: with a refusal log, the provider keeps its view
//! of each approved consumer's last requests refused with
//! `signature_invalid` — bounded in count and age, secrets redacted, none
//! for an unknown consumer — and `first_difference` names what a client's
//! own base string got wrong.

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{BaseStringDifference, Limits, SignedRequest, first_difference};
use oauth1_provider::provider::Reason;
use oauth1_provider::time::Duration;
use oauth1_provider::{MemoryStore, SignatureMethod};

use crate::support::harness::{CONSUMER, Harness, ORIGIN, alice, assert_refused, harness};
use crate::support::request::OwnedRequest;

fn logged() -> Harness<MemoryStore> {
    let mut h = harness();
    let provider = std::mem::replace(&mut h.provider, harness().provider);
    h.provider = provider.with_refusal_log(3, Duration::minutes(10));
    h
}

/// The base string the client signed for `request`.
fn client_base_string(request: &OwnedRequest) -> String {
    let view = request.view();
    let signed = SignedRequest::collect(&view, &Limits::default()).expect("collects");
    signed.base_string().expect("a base string")
}

fn wrong_secret() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, CONSUMER.0, "not-the-secret")
}

#[tokio::test]
async fn a_bad_signature_is_kept_as_the_provider_saw_it() {
    let h = logged();
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken?scope=photos%20ü");
    let request = h.signed(wrong_secret().callback("oob"), "POST", &url);
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );
    let kept = h.provider.recent_refusals(CONSUMER.0);
    assert_eq!(kept.len(), 1);
    let refused = &kept[0];
    assert_eq!(refused.reason, Reason::BadSignature);
    assert_eq!(refused.method, "POST");
    assert_eq!(
        refused.base_string_uri,
        format!("{ORIGIN}/_ah/OAuthGetRequestToken")
    );
    // The client signed the same base string: its mistake is the secret.
    let client = client_base_string(&request);
    assert_eq!(refused.base_string, client);
    assert_eq!(first_difference(&refused.base_string, &client), None);
    // A client that signed another URL is told which component differs.
    let port = client.replacen("api.example.com", "api.example.com%3A443", 1);
    assert!(matches!(
        first_difference(&refused.base_string, &port),
        Some(BaseStringDifference::Uri { .. })
    ));
    assert!(!format!("{refused:?}").contains("not-the-secret"));
}

#[tokio::test]
async fn verifiers_are_redacted_and_unknown_consumers_are_not_kept() {
    let h = logged();
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    let url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
    let signer = wrong_secret().token(&token, &secret).verifier(&verifier);
    let request = h.signed(signer, "POST", &url);
    assert_refused(
        &h.provider.access_token(&request.view()).await,
        401,
        "signature_invalid",
    );
    let kept = h.provider.recent_refusals(CONSUMER.0);
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0]
            .normalized_parameters
            .contains("oauth_verifier=REDACTED")
    );
    let everything = format!("{kept:?}");
    assert!(!everything.contains(&verifier) && !everything.contains(&secret));

    let stranger = Signer::new(SignatureMethod::HmacSha1, "stranger", "s").callback("oob");
    let request = h.signed(
        stranger,
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );
    assert!(h.provider.recent_refusals("stranger").is_empty());
}

#[tokio::test]
async fn the_log_is_bounded_in_count_and_age() {
    let h = logged();
    for n in 0..5 {
        let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken?n={n}");
        let request = h.signed(wrong_secret().callback("oob"), "POST", &url);
        h.provider.request_token(&request.view()).await;
    }
    let kept = h.provider.recent_refusals(CONSUMER.0);
    let queries: Vec<&str> = kept
        .iter()
        .map(|r| {
            r.normalized_parameters
                .split('&')
                .next()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(queries, ["n=2", "n=3", "n=4"]);
    h.clock.advance(std::time::Duration::from_secs(600));
    assert!(h.provider.recent_refusals(CONSUMER.0).is_empty());
    // Without a log, nothing is kept.
    let plain = harness();
    let request = plain.signed(
        wrong_secret().callback("oob"),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    plain.provider.request_token(&request.view()).await;
    assert!(plain.provider.recent_refusals(CONSUMER.0).is_empty());
}
