//! Refusals by a request token's state: expired, used, burned by wrong
//! verifiers, undecided or denied; and any token on another host than its own.

use std::time::Duration;

use oauth1_provider::consent::{AuthorizeError, Denial};
use oauth1_provider::model::{RequestTokenState, StateTag};
use oauth1_provider::provider::Reason;
use oauth1_provider::store::TokenStore as _;

use crate::support::harness::{
    CALLBACK, ORIGIN, alice, assert_refused, harness, refused, url_param,
};
use crate::support::request::OwnedRequest;

#[tokio::test]
async fn expired_request_token_is_refused() {
    let h = harness();
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    h.clock.advance(Duration::from_secs(11 * 60));
    let response = h.exchange_on(ORIGIN, &token, &secret, &verifier).await;
    assert_refused(&response, 401, "token_expired");
    let (token2, _) = h.request_token_on(ORIGIN, CALLBACK).await;
    h.clock.advance(Duration::from_secs(11 * 60));
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    assert!(matches!(
        h.provider.approve(&page.view(), &token2, alice()).await,
        Err(AuthorizeError::Expired)
    ));
    assert!(matches!(
        h.provider
            .pending_authorization(&page.view(), &token2)
            .await,
        Err(AuthorizeError::Expired)
    ));
}

#[tokio::test]
async fn request_token_is_single_use() {
    let h = harness();
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    assert_eq!(
        h.exchange_on(ORIGIN, &token, &secret, &verifier)
            .await
            .status,
        200
    );
    assert_refused(
        &h.exchange_on(ORIGIN, &token, &secret, &verifier).await,
        401,
        "token_used",
    );
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    assert!(matches!(
        h.provider.approve(&page.view(), &token, alice()).await,
        Err(AuthorizeError::AlreadyDecided)
    ));
}

#[tokio::test]
async fn wrong_verifiers_are_refused_and_burn_the_token() {
    let h = harness();
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    for attempt in 1..=3 {
        assert_refused(
            &h.exchange_on(ORIGIN, &token, &secret, "wrong-verifier")
                .await,
            401,
            "verifier_invalid",
        );
        let state = h
            .store
            .get_request_token(&token)
            .await
            .unwrap()
            .unwrap()
            .state;
        if attempt < 3 {
            assert_eq!(
                state.tag(),
                StateTag::Authorized {
                    failed_attempts: attempt
                }
            );
        } else {
            assert_eq!(state, RequestTokenState::Burned);
        }
    }
    // Even the right verifier no longer works.
    assert_refused(
        &h.exchange_on(ORIGIN, &token, &secret, &verifier).await,
        401,
        "token_rejected",
    );
    assert_eq!(h.grants(&alice()).await, 0);
}

#[tokio::test]
async fn unapproved_and_denied_tokens_cannot_be_exchanged() {
    let h = harness();
    let (token, secret) = h.request_token_on(ORIGIN, CALLBACK).await;
    assert_refused(
        &h.exchange_on(ORIGIN, &token, &secret, "guess").await,
        401,
        "token_rejected",
    );
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let Denial::Redirect(url) = h.provider.deny(&page.view(), &token).await.unwrap() else {
        panic!("expected a redirect")
    };
    assert_eq!(url_param(&url, "oauth_problem"), "user_refused");
    assert_eq!(url_param(&url, "state"), "xyz");
    assert_refused(
        &h.exchange_on(ORIGIN, &token, &secret, "guess").await,
        401,
        "token_rejected",
    );
    assert_eq!(
        h.store
            .get_request_token(&token)
            .await
            .unwrap()
            .unwrap()
            .state,
        RequestTokenState::Denied
    );
}

#[tokio::test]
async fn tokens_are_bound_to_the_host_they_were_obtained_on() {
    let h = harness();
    let other = "https://example.appspot.com";
    // The consent page on another host cannot approve it.
    let (token, _) = h.request_token_on(ORIGIN, CALLBACK).await;
    let page = OwnedRequest::from_url("GET", &format!("{other}/_ah/OAuthAuthorizeToken"), None);
    assert!(matches!(
        h.provider.approve(&page.view(), &token, alice()).await,
        Err(AuthorizeError::WrongHost)
    ));
    // The exchange on another host is refused.
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    assert_refused(
        &h.exchange_on(other, &token, &secret, &verifier).await,
        401,
        "token_rejected",
    );
    // The access token works only where it was obtained ("https://API.example.com:443" is the same host).
    let (access, access_secret) = h.access_on(ORIGIN, alice()).await;
    assert!(
        h.call(
            "https://API.example.com:443/api/whoami",
            &access,
            &access_secret
        )
        .await
        .is_ok()
    );
    let err = refused(
        h.call(&format!("{other}/api/whoami"), &access, &access_secret)
            .await,
        401,
        "token_rejected",
    );
    assert_eq!(err.reason(), Some(Reason::WrongHost));
    refused(
        h.call(
            "https://api.example.com:8443/api/whoami",
            &access,
            &access_secret,
        )
        .await,
        401,
        "token_rejected",
    );
}
