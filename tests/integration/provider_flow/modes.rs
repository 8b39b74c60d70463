//! Two-legged requests (opt-in per consumer) and development mode.

use oauth1_provider::client::Signer;
use oauth1_provider::provider::Reason;
use oauth1_provider::{
    ConsumerRegistry, MemoryStore, OAuthError, OAuthRequestErrorKind, ProviderConfig,
    SignatureMethod,
};

use oauth1_provider::Provider;

use crate::support::harness::{
    CALLBACK, ORIGIN, alice, approve_for_verifier, assert_refused, consumers, field, harness,
    refused,
};
use crate::support::request::OwnedRequest;

#[tokio::test]
async fn two_legged_requests_are_opt_in() {
    let h = harness();
    let url = format!("{ORIGIN}/api/whoami");
    let robot = h.signed(
        Signer::new(SignatureMethod::HmacSha1, "robot", "robot-secret"),
        "GET",
        &url,
    );
    let context = h.provider.authenticate(&robot.view()).await.unwrap();
    assert_eq!(context.get_oauth_consumer_key(), "robot");
    let err = context.get_current_user().unwrap_err();
    assert!(
        matches!(err, OAuthError::Request(ref e) if e.kind() == OAuthRequestErrorKind::NotAllowed)
    );
    let client = h.signed(h.consumer(), "GET", &url);
    let err = refused(
        h.provider.authenticate(&client.view()).await,
        401,
        "permission_denied",
    );
    assert_eq!(err.reason(), Some(Reason::TwoLeggedNotAllowed));
}

#[tokio::test]
async fn development_mode_authenticates_everything_as_the_example_user() {
    let provider = oauth1_provider::danger::development_provider(
        MemoryStore::new(),
        MemoryStore::new(),
        ConsumerRegistry::new(),
        ProviderConfig::default(),
    );
    let request = OwnedRequest::from_url("GET", "http://localhost:8080/api/whoami", None);
    let context = provider.authenticate(&request.view()).await.unwrap();
    let user = context.get_current_user().unwrap();
    assert_eq!((user.email(), user.user_id()), ("example@example.com", "0"));
    assert_eq!(context.get_oauth_consumer_key(), "example.com");
    assert!(provider.is_development());
    // An ordinary provider refuses the same unsigned request.
    let h = harness();
    let err = h.provider.authenticate(&request.view()).await.unwrap_err();
    assert_eq!(
        (err.status(), err.problem().map(|p| p.code())),
        (401, Some("parameter_absent"))
    );
    assert_eq!(err.reason(), Some(Reason::NoCredentials));
    let response = err.to_response("Example");
    assert_eq!(
        response.header("www-authenticate"),
        Some(r#"OAuth realm="Example""#)
    );
}

/// `oauth_version="1.0A"` (node-oauth's README) and `1.0a` are accepted as
/// 1.0 through the whole flow by default; `strict_oauth_version` refuses
/// them with 400 `version_rejected` and still accepts `1.0`.
#[tokio::test]
async fn oauth_version_1_0a_is_accepted_unless_strict() {
    let h = harness();
    let sign = |signer: Signer<'static>, version: &'static str, method: &str, url: &str| {
        h.signed(
            signer
                .send_version(false)
                .header_param("oauth_version", version),
            method,
            url,
        )
    };
    for version in ["1.0A", "1.0a"] {
        let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
        let request = sign(h.consumer().callback(CALLBACK), version, "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let (token, secret) = (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        );
        let verifier = approve_for_verifier(&h.provider, ORIGIN, &token, alice()).await;
        let signer = h.consumer().token(&token, &secret).verifier(&verifier);
        let url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
        let header = signer
            .send_version(false)
            .header_param("oauth_version", version)
            .timestamp(h.now())
            .authorization_header("POST", &url, None)
            .unwrap();
        let mut request = OwnedRequest::from_url("POST", &url, None);
        request.authorization = Some(header);
        let response = h.provider.access_token(&request.view()).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let (access, access_secret) = (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        );
        let header = h
            .consumer()
            .token(&access, &access_secret)
            .send_version(false)
            .header_param("oauth_version", version)
            .timestamp(h.now())
            .authorization_header("GET", &format!("{ORIGIN}/api/whoami"), None)
            .unwrap();
        let mut request = OwnedRequest::from_url("GET", &format!("{ORIGIN}/api/whoami"), None);
        request.authorization = Some(header);
        let context = h.provider.authenticate(&request.view()).await.unwrap();
        assert_eq!(
            context.get_current_user().unwrap().email(),
            "alice@example.com"
        );
    }

    let mut config = ProviderConfig::default();
    config.strict_oauth_version = true;
    let strict = Provider::new(MemoryStore::new(), MemoryStore::new(), consumers(), config)
        .with_clock(h.clock.clone());
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    for version in ["1.0A", "1.0a"] {
        let request = sign(h.consumer().callback(CALLBACK), version, "POST", &url);
        assert_refused(
            &strict.request_token(&request.view()).await,
            400,
            "version_rejected",
        );
    }
    let request = h.signed(h.consumer().callback(CALLBACK), "POST", &url);
    let response = strict.request_token(&request.view()).await;
    assert_eq!(
        response.status, 200,
        "1.0 is still accepted: {}",
        response.body
    );
}
