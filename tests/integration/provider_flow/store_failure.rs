//! A failing store: 503 everywhere, no half state, and all well again after.

use std::sync::atomic::Ordering;

use oauth1_provider::OAuthError;

use crate::support::flaky_store::FlakyStore;
use crate::support::harness::{CALLBACK, ORIGIN, alice, harness_on};
use crate::support::request::OwnedRequest;

#[tokio::test]
async fn a_failing_store_answers_503_everywhere_and_leaves_no_half_state() {
    let h = harness_on(FlakyStore::default());
    let (access, access_secret) = h.access_on(ORIGIN, alice()).await;
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    let (pending, _) = h.request_token_on(ORIGIN, CALLBACK).await;
    let request_tokens_before = h.store.inner.request_token_count();
    h.store.failing.store(true, Ordering::SeqCst);

    let request = h.signed(
        h.consumer().callback(CALLBACK),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    let response = h.provider.request_token(&request.view()).await;
    assert_eq!(response.status, 503);
    assert!(
        !response.body.contains("connection refused"),
        "no store detail leaks: {}",
        response.body
    );
    assert_eq!(
        h.exchange_on(ORIGIN, &token, &secret, &verifier)
            .await
            .status,
        503
    );
    let err = h
        .call(&format!("{ORIGIN}/api/whoami"), &access, &access_secret)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503);
    assert!(matches!(err, OAuthError::ServiceFailure(_)));
    let identify = h.signed(
        h.consumer().token(&access, &access_secret),
        "GET",
        &format!("{ORIGIN}/_ah/OAuthIdentify"),
    );
    let response = h.provider.identify(&identify.view()).await;
    assert_eq!(response.status, 503, "{}", response.body);
    assert_eq!(response.header("retry-after"), Some("1"));
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let err = h
        .provider
        .approve(&page.view(), &pending, alice())
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503);
    assert!(h.provider.revoke_token(&access).await.is_err());

    h.store.failing.store(false, Ordering::SeqCst);
    assert_eq!(
        h.store.inner.request_token_count(),
        request_tokens_before,
        "no request token was issued"
    );
    // The interrupted exchange left the request token exchangeable, once.
    assert_eq!(
        h.exchange_on(ORIGIN, &token, &secret, &verifier)
            .await
            .status,
        200
    );
    // The pending token is still undecided, and the access token still works.
    assert!(
        h.provider
            .pending_authorization(&page.view(), &pending)
            .await
            .is_ok()
    );
    assert!(
        h.call(&format!("{ORIGIN}/api/whoami"), &access, &access_secret)
            .await
            .is_ok()
    );
}
