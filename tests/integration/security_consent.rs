//! The consent page and callbacks: the CSRF token is bound to the session
//! (not to the user), the callback is fixed at the request-token step (the
//! fix of OAuth 1.0's session fixation), and no callback can be a
//! `javascript:` or `data:` URL or escape the consumer's registered prefixes.

use axum::http::StatusCode;
use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;
use oauth1_provider::model::RequestTokenState;

use crate::axum_flow::{CALLBACK, demo};
use crate::support::harness::{
    CALLBACK as HARNESS_CALLBACK, ORIGIN, alice, assert_refused, field, harness,
};
use crate::support::request::OwnedRequest;

#[tokio::test]
async fn a_csrf_token_from_another_session_of_the_same_user_is_refused() {
    let demo = demo();
    let (token, _) = demo.request_token().await;
    // The same user, signed in twice: two sessions, two CSRF tokens.
    let mut first = demo.signed_in("test%40example.com").await;
    let mut second = demo.signed_in("test%40example.com").await;
    let (_, first_csrf) = first.consent(&token).await;
    let (_, second_csrf) = second.consent(&token).await;
    assert_ne!(first_csrf, second_csrf);

    // One session's token, posted from the other: refused, nothing decided.
    let reply = second.answer(&token, &first_csrf, "allow").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    reply.assert_page_headers();
    assert_eq!(demo.state(&token).await, RequestTokenState::Issued);
    let reply = first.answer(&token, &second_csrf, "deny").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(demo.state(&token).await, RequestTokenState::Issued);
    // Each session's own token works.
    let reply = first.answer(&token, &first_csrf, "allow").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn the_callback_is_the_one_given_with_the_request_token() {
    let demo = demo();
    let (token, _) = demo.request_token().await;
    let mut browser = demo.signed_in("test%40example.com").await;
    let (_, csrf) = browser.consent(&token).await;
    // OAuth 1.0 took the callback on the authorize URL; an attacker who
    // started the flow could send the victim's verifier to herself. Here an
    // `oauth_callback` in the query or the form is ignored.
    let evil = "https%3A%2F%2Fevil.example%2Fcb";
    let reply = browser
        .post(
            &format!("/_ah/OAuthAuthorizeToken?oauth_callback={evil}"),
            &format!("oauth_token={token}&csrf_token={csrf}&decision=allow&oauth_callback={evil}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(
        reply.location().starts_with(CALLBACK),
        "{}",
        reply.location()
    );
    assert!(!reply.location().contains("evil"));
}

#[tokio::test]
async fn an_approved_token_needs_the_verifier_sent_to_the_callback() {
    let h = harness();
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    let url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
    // Without a verifier, as a 1.0 client (or an attacker who started the
    // flow and had the victim approve it) would exchange.
    let request = h.signed(h.consumer().token(&token, &secret), "POST", &url);
    let response = h.provider.access_token(&request.view()).await;
    assert_refused(&response, 400, "parameter_absent");
    assert!(
        response
            .body
            .contains("oauth_parameters_absent=oauth_verifier")
    );
    // A guess is refused; the verifier the callback got works.
    let response = h.exchange_on(ORIGIN, &token, &secret, "guess").await;
    assert_refused(&response, 401, "verifier_invalid");
    let response = h.exchange_on(ORIGIN, &token, &secret, &verifier).await;
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test]
async fn script_data_and_lookalike_callbacks_are_refused() {
    let h = harness();
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let refused = [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "javascript://client.example/cb%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/cb",
        "https://client.example/cb\njavascript:alert(1)",
        " https://client.example/cb",
        "https://client.example/cbx",
        "https://client.example/cb.evil.example/",
        "https://client.example/cb@evil.example/",
        "https://client.example.evil.example/cb",
        "https://evil.example/?https://client.example/cb",
        "http://client.example/cb",
    ];
    // The registered consumer: only URLs under its prefix.
    for callback in refused {
        let request = h.signed(h.consumer().callback(callback), "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_refused(&response, 400, "parameter_rejected");
        let advice = response
            .form_fields()
            .into_iter()
            .find(|(n, _)| n == "oauth_problem_advice");
        assert_eq!(
            advice.map(|(_, v)| v).as_deref(),
            Some("oauth_callback is not registered for this consumer"),
            "{callback}"
        );
    }
    // The anonymous consumer takes any http(s) URL, and still none of the
    // scripts or data.
    let anonymous = || Signer::new(SignatureMethod::HmacSha1, "anonymous", "anonymous");
    for callback in &refused[..10] {
        let request = h.signed(anonymous().callback(callback), "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_refused(&response, 400, "parameter_rejected");
    }
    // What is allowed: under the prefix, at a boundary, and `oob`.
    for callback in [
        HARNESS_CALLBACK,
        "https://client.example/cb",
        "https://client.example/cb/done#frag",
        "oob",
        "OOB",
    ] {
        let request = h.signed(h.consumer().callback(callback), "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_eq!(response.status, 200, "{callback}: {}", response.body);
    }
}

#[tokio::test]
async fn a_repeat_authorization_is_asked_again_never_approved_automatically() {
    let demo = demo();
    let mut browser = demo.signed_in("test%40example.com").await;
    let (first, _) = demo.request_token().await;
    let (_, csrf) = browser.consent(&first).await;
    let reply = browser.answer(&first, &csrf, "allow").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    // The same app, the same user, moments later: the consent page again.
    let (second, _) = demo.request_token().await;
    let (page, _) = browser.consent(&second).await;
    assert!(page.body.contains("value=\"allow\""), "{}", page.body);
    assert_eq!(demo.state(&second).await, RequestTokenState::Issued);
}

/// Callbacks a browser reads otherwise than a person (issue 17, finding 4:
/// `http://127.0.0.1:18195\@good.example/cb` went to 127.0.0.1 while the
/// page said good.example) are refused even for the `anonymous` consumer,
/// which takes any http(s) URL; the accepted ones are stored as the browser
/// requests them, and the consent page names the browser's host.
#[tokio::test]
async fn callbacks_a_browser_reads_otherwise_are_refused_and_the_page_names_the_real_host() {
    let h = harness();
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let anonymous = || Signer::new(SignatureMethod::HmacSha1, "anonymous", "anonymous");
    for callback in [
        "http://127.0.0.1:18195\\@good.example/cb",
        "http://127.0.0.1:18195\\\\good.example/cb",
        "https:\\\\evil.example/cb",
        "http://good.example@evil.example/cb",
        "http://good.example:443@evil.example/cb",
        "http://@evil.example/cb",
        "http://good.exa\tmple/cb",
        "http://good.example\n.evil.example/cb",
        "http://0x7f.1/cb",
        "http://%65vil.example/cb",
        "http://evil。example/cb",
        "http://good.example:/cb",
        "http:///evil.example/cb",
    ] {
        let request = h.signed(anonymous().callback(callback), "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_refused(&response, 400, "parameter_rejected");
    }
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    for (callback, origin, stored) in [
        (
            "HTTP://Good.Example:80/cb",
            "http://good.example",
            "http://good.example/cb",
        ),
        (
            "https://bücher.example/cb",
            "https://xn--bcher-kva.example",
            "https://xn--bcher-kva.example/cb",
        ),
        (
            "http://[::1]:8080/cb?x=1",
            "http://[::1]:8080",
            "http://[::1]:8080/cb?x=1",
        ),
        (
            "http://127.0.0.1:18195/cb",
            "http://127.0.0.1:18195",
            "http://127.0.0.1:18195/cb",
        ),
    ] {
        let request = h.signed(anonymous().callback(callback), "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_eq!(response.status, 200, "{callback}: {}", response.body);
        let token = field(&response, "oauth_token");
        let pending = h
            .provider
            .pending_authorization(&page.view(), &token)
            .await
            .unwrap();
        assert_eq!(pending.callback.as_str(), stored);
        assert_eq!(pending.callback.origin().as_deref(), Some(origin));
    }
}
