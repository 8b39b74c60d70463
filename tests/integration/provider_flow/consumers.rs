//! Refusals by consumer: disabled, PLAINTEXT without TLS or registration, a
//! callback it may not use; and an unknown consumer, an unknown token and a
//! bad signature answered alike.

use oauth1_provider::client::Signer;
use oauth1_provider::provider::Reason;
use oauth1_provider::{
    ConsumerState, MemoryStore, OAuthError, Provider, ProviderConfig, SignatureMethod,
};

use crate::support::harness::{
    CALLBACK, CONSUMER, ORIGIN, alice, assert_refused, consumers, harness, refused,
};

/// A disabled consumer is refused exactly as an unknown one: 401
/// `signature_invalid`, the host's log saying why.
#[tokio::test]
async fn disabled_consumer_is_refused_like_an_unknown_one() {
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    h.provider
        .consumers()
        .set_state(CONSUMER.0, ConsumerState::Disabled);
    let err = refused(
        h.call(&format!("{ORIGIN}/api/whoami"), &access, &secret)
            .await,
        401,
        "signature_invalid",
    );
    assert!(matches!(err, OAuthError::Request(ref e) if e.reason() == Reason::ConsumerNotApproved));
    let request = h.signed(
        h.consumer().callback(CALLBACK),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );
}

#[tokio::test]
async fn plaintext_needs_tls() {
    let h = harness();
    let signer =
        || Signer::new(SignatureMethod::Plaintext, "plain", "plain-secret").callback("oob");
    let http = h.signed(
        signer(),
        "POST",
        "http://api.example.com/_ah/OAuthGetRequestToken",
    );
    assert_refused(
        &h.provider.request_token(&http.view()).await,
        400,
        "signature_method_rejected",
    );
    let https = h.signed(
        signer(),
        "POST",
        "https://api.example.com/_ah/OAuthGetRequestToken",
    );
    assert_eq!(h.provider.request_token(&https.view()).await.status, 200);
    // A consumer not registered for PLAINTEXT may not use it, even over TLS.
    let other = h.signed(
        Signer::new(SignatureMethod::Plaintext, CONSUMER.0, CONSUMER.1).callback("oob"),
        "POST",
        "https://api.example.com/_ah/OAuthGetRequestToken",
    );
    assert_refused(
        &h.provider.request_token(&other.view()).await,
        400,
        "signature_method_rejected",
    );
    // PLAINTEXT is off by default.
    let default = Provider::new(
        MemoryStore::new(),
        MemoryStore::new(),
        consumers(),
        ProviderConfig::default(),
    )
    .with_clock(h.clock.clone());
    assert_refused(
        &default.request_token(&https.view()).await,
        400,
        "signature_method_rejected",
    );
}

#[tokio::test]
async fn callback_must_match_the_consumer() {
    let h = harness();
    for callback in [
        "https://evil.example/cb",
        "https://client.example/cbx",
        "javascript:alert(1)",
        "https://client.example.evil.com/cb",
    ] {
        let request = h.signed(
            h.consumer().callback(callback),
            "POST",
            &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
        );
        assert_refused(
            &h.provider.request_token(&request.view()).await,
            400,
            "parameter_rejected",
        );
    }
    assert_eq!(h.store.request_token_count(), 0, "nothing issued");
    let request = h.signed(
        h.consumer(),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    let response = h.provider.request_token(&request.view()).await;
    assert_refused(&response, 400, "parameter_absent");
    assert!(
        response
            .body
            .contains("oauth_parameters_absent=oauth_callback"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn unknown_consumer_unknown_token_and_bad_signature_look_the_same() {
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    let url = format!("{ORIGIN}/api/whoami");
    let cases = [
        (
            Signer::new(SignatureMethod::HmacSha1, "nobody", "x").token(&access, &secret),
            Reason::UnknownConsumer,
        ),
        (
            h.consumer().token("no-such-token", &secret),
            Reason::UnknownToken,
        ),
        (
            h.consumer().token(&access, "wrong-secret"),
            Reason::BadSignature,
        ),
        (
            Signer::new(SignatureMethod::HmacSha1, "robot", "robot-secret").token(&access, &secret),
            Reason::TokenOfAnotherConsumer,
        ),
    ];
    let mut bodies = Vec::new();
    for (signer, reason) in cases {
        let request = h.signed(signer, "GET", &url);
        let err = refused(
            h.provider.authenticate(&request.view()).await,
            401,
            "signature_invalid",
        );
        assert_eq!(err.reason(), Some(reason));
        bodies.push(err.to_response("").body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "identical answers: {bodies:?}"
    );
    // At the token endpoints too.
    let (token, token_secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    assert_refused(
        &h.exchange_on(ORIGIN, "unknown", &token_secret, &verifier)
            .await,
        401,
        "signature_invalid",
    );
    assert_refused(
        &h.exchange_on(ORIGIN, &token, "bad", &verifier).await,
        401,
        "signature_invalid",
    );
    let request = h.signed(
        Signer::new(SignatureMethod::HmacSha1, "nobody", "x").callback("oob"),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );
}
