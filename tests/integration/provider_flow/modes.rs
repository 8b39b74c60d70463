//! Two-legged requests (opt-in per consumer) and development mode.

use oauth1_provider::client::Signer;
use oauth1_provider::provider::Reason;
use oauth1_provider::{
    ConsumerRegistry, MemoryStore, OAuthError, OAuthRequestErrorKind, ProviderConfig,
    SignatureMethod,
};

use crate::support::harness::{ORIGIN, harness, refused};
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
        (400, Some("parameter_absent"))
    );
}
