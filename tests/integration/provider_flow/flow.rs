//! The three-legged flow with our signer: to a callback and out of band, for
//! a registered consumer and for the anonymous one.

use oauth1_provider::client::Signer;
use oauth1_provider::{Approval, OAuthError, OAuthRequestErrorKind, SignatureMethod};

use crate::support::harness::{
    CALLBACK, CONSUMER, ORIGIN, START, alice, field, harness, refused, url_param,
};
use crate::support::request::OwnedRequest;

#[tokio::test]
async fn three_legged_flow_end_to_end() {
    let h = harness();
    // 1. Temporary credentials.
    let url =
        format!("{ORIGIN}/_ah/OAuthGetRequestToken?scope=https%3A%2F%2Fapi.example.com%2Ffeeds%2F");
    let request = h.signed(h.consumer().callback(CALLBACK), "GET", &url);
    let response = h.provider.request_token(&request.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(field(&response, "oauth_callback_confirmed"), "true");
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(
        response.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let token = field(&response, "oauth_token");
    let secret = field(&response, "oauth_token_secret");
    assert!(token.len() >= 22 && secret.len() >= 22, "≥ 128 bits each");
    assert_ne!(token, secret);

    // 2. The consent page.
    let page = OwnedRequest::from_url(
        "GET",
        &format!("{ORIGIN}/_ah/OAuthAuthorizeToken?oauth_token={token}"),
        None,
    );
    let pending = h
        .provider
        .pending_authorization(&page.view(), &token)
        .await
        .unwrap();
    assert_eq!(pending.consumer_name, "Client App");
    assert_eq!(pending.app_name(), "Client App");
    assert!(!pending.unverified);
    assert_eq!(
        pending.scope.as_deref(),
        Some("https://api.example.com/feeds/")
    );
    assert_eq!(pending.expires_at.unix_timestamp(), START + 600);
    let Approval::Redirect(redirect) = h
        .provider
        .approve(&page.view(), &token, alice())
        .await
        .unwrap()
    else {
        panic!("expected a redirect")
    };
    assert!(
        redirect.starts_with("https://client.example/cb?state=xyz&oauth_token="),
        "{redirect}"
    );
    assert_eq!(url_param(&redirect, "oauth_token"), token);
    let verifier = url_param(&redirect, "oauth_verifier");

    // 3. Token credentials.
    let response = h.exchange_on(ORIGIN, &token, &secret, &verifier).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let access = field(&response, "oauth_token");
    let access_secret = field(&response, "oauth_token_secret");

    // 4. Protected resources, with query and form parameters.
    let context = h
        .call(
            &format!("{ORIGIN}/api/whoami?q=a+b&q=%C3%BC"),
            &access,
            &access_secret,
        )
        .await
        .unwrap();
    assert_eq!(context.get_current_user().unwrap(), &alice());
    assert!(context.is_current_user_admin().unwrap());
    assert_eq!(context.get_oauth_consumer_key(), CONSUMER.0);
    assert_eq!(context.token(), Some(access.as_str()));
    let body = b"status=hello+world&tag=%E2%9C%93";
    let header = h
        .consumer()
        .token(&access, &access_secret)
        .timestamp(h.now())
        .authorization_header("POST", &format!("{ORIGIN}/api/post"), Some(body))
        .unwrap();
    let mut post = OwnedRequest::from_url("POST", &format!("{ORIGIN}/api/post"), None);
    post.authorization = Some(header);
    post.content_type = Some("application/x-www-form-urlencoded; charset=UTF-8".into());
    post.body = body.to_vec();
    assert_eq!(
        h.provider.get_current_user(&post.view()).await.unwrap(),
        alice()
    );

    // 5. The account page lists the grant; revoking it ends access.
    let grants = h.provider.authorizations(&alice().user_id).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].consumer_name, "Client App");
    assert_eq!(grants[0].granted_at.unix_timestamp(), START);
    assert!(h.provider.revoke_token(&grants[0].token).await.unwrap());
    let err = refused(
        h.call(&format!("{ORIGIN}/api/whoami"), &access, &access_secret)
            .await,
        401,
        "token_revoked",
    );
    assert!(
        matches!(err, OAuthError::Request(ref e) if e.kind() == OAuthRequestErrorKind::InvalidOAuthToken)
    );
    assert_eq!(h.grants(&alice()).await, 0);
}

#[tokio::test]
async fn out_of_band_flow_shows_the_verifier() {
    let h = harness();
    let (token, secret) = h.request_token_on(ORIGIN, "OOB").await;
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let Approval::Oob { verifier } = h
        .provider
        .approve(&page.view(), &token, alice())
        .await
        .unwrap()
    else {
        panic!("expected oob")
    };
    let response = h
        .exchange_on(ORIGIN, &token, &secret, verifier.secret())
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test]
async fn anonymous_consumer_shows_its_display_name_as_unverified() {
    let h = harness();
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken?xoauth_displayname=Photo%20Printer");
    let signer = Signer::new(SignatureMethod::HmacSha1, "anonymous", "anonymous")
        .callback("http://localhost:9999/cb");
    let request = h.signed(signer, "GET", &url);
    let response = h.provider.request_token(&request.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let token = field(&response, "oauth_token");
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let pending = h
        .provider
        .pending_authorization(&page.view(), &token)
        .await
        .unwrap();
    assert!(pending.unverified);
    assert_eq!(pending.app_name(), "Photo Printer");
}
