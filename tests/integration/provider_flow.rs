//! The provider end to end, in process: the three-legged flow with our
//! signer, every refusal (status + `oauth_problem` + state), two-legged
//! requests, development mode, a failing store, and `Send` futures.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use oauth1_provider::store::TokenStore;
use oauth1_provider::{
    Approval, AuthorizeError, ConsumerRegistry, Denial, ManualClock, MemoryStore, OAuthError,
    OAuthRequestErrorKind, Provider, ProviderConfig, Reason, RequestTokenState, SignatureMethod,
    Signer, StateTag,
};

use crate::support::flaky_store::FlakyStore;
use crate::support::harness::{
    CALLBACK, CONSUMER, Harness, ORIGIN, START, alice, assert_refused, consumers, field, harness,
    harness_on, refused, url_param,
};
use crate::support::reply::param;
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
    assert!(
        h.provider
            .authorizations(&alice().user_id)
            .await
            .unwrap()
            .is_empty()
    );
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
    assert!(
        h.provider
            .authorizations(&alice().user_id)
            .await
            .unwrap()
            .is_empty()
    );
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

#[tokio::test]
async fn replayed_nonce_is_refused() {
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    let request = h.signed(
        h.consumer().token(&access, &secret).nonce("fixed-nonce"),
        "GET",
        &format!("{ORIGIN}/api/whoami"),
    );
    assert!(h.provider.authenticate(&request.view()).await.is_ok());
    let err = refused(
        h.provider.authenticate(&request.view()).await,
        401,
        "nonce_used",
    );
    assert_eq!(err.reason(), Some(Reason::Replay));
    // A request with a bad signature does not burn the nonce of a good one.
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    let forged = h.signed(
        h.consumer().token(&access, "wrong").nonce("n2"),
        "GET",
        &format!("{ORIGIN}/api/whoami"),
    );
    refused(
        h.provider.authenticate(&forged.view()).await,
        401,
        "signature_invalid",
    );
    let good = h.signed(
        h.consumer().token(&access, &secret).nonce("n2"),
        "GET",
        &format!("{ORIGIN}/api/whoami"),
    );
    assert!(h.provider.authenticate(&good.view()).await.is_ok());
}

#[tokio::test]
async fn a_nonce_whose_expiry_is_past_representable_time_is_never_forgotten() {
    // A window stretched to accept any timestamp lets one through whose
    // expiry is past the year 9999: it must stay remembered, not be
    // forgotten at the next insert (its expiry once fell back to 1970).
    let store = MemoryStore::new();
    let clock = ManualClock::at_unix(START);
    let mut config = ProviderConfig::default();
    config.timestamp_window.future_secs = u64::MAX;
    let provider =
        Provider::new(store.clone(), store.clone(), consumers(), config).with_clock(clock.clone());
    let h = Harness {
        provider,
        clock,
        store,
    };
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    let url = format!("{ORIGIN}/api/whoami");
    let far = 1_000_000_000_000; // the year 33658
    let replayed = h.signed_at(
        h.consumer().token(&access, &secret).nonce("far"),
        "GET",
        &url,
        far,
    );
    assert!(h.provider.authenticate(&replayed.view()).await.is_ok());
    // Another request purges what has expired.
    let other = h.signed(h.consumer().token(&access, &secret), "GET", &url);
    assert!(h.provider.authenticate(&other.view()).await.is_ok());
    let err = refused(
        h.provider.authenticate(&replayed.view()).await,
        401,
        "nonce_used",
    );
    assert_eq!(err.reason(), Some(Reason::Replay));
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused() {
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    for offset in [-301_i64, 301] {
        let ts = u64::try_from(START + offset).unwrap();
        let header = h
            .consumer()
            .token(&access, &secret)
            .timestamp(ts)
            .authorization_header("GET", &format!("{ORIGIN}/api/whoami"), None)
            .unwrap();
        let mut request = OwnedRequest::from_url("GET", &format!("{ORIGIN}/api/whoami"), None);
        request.authorization = Some(header);
        let err = refused(
            h.provider.authenticate(&request.view()).await,
            401,
            "timestamp_refused",
        );
        let OAuthError::Request(e) = err else {
            panic!()
        };
        assert_eq!(
            e.protocol_error().acceptable_timestamps(),
            Some((1_699_999_700, 1_700_000_300))
        );
    }
}

#[tokio::test]
async fn disabled_consumer_is_refused() {
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    h.provider.consumers().set_enabled(CONSUMER.0, false);
    let err = refused(
        h.call(&format!("{ORIGIN}/api/whoami"), &access, &secret)
            .await,
        401,
        "consumer_key_refused",
    );
    assert!(
        matches!(err, OAuthError::Request(ref e) if e.kind() == OAuthRequestErrorKind::NotAllowed)
    );
    let request = h.signed(
        h.consumer().callback(CALLBACK),
        "POST",
        &format!("{ORIGIN}/_ah/OAuthGetRequestToken"),
    );
    assert_refused(
        &h.provider.request_token(&request.view()).await,
        401,
        "consumer_key_refused",
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
    let provider = Provider::development(
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

#[tokio::test]
async fn concurrent_exchanges_issue_exactly_one_access_token() {
    let h = Arc::new(harness());
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (h, token, secret, verifier) =
            (h.clone(), token.clone(), secret.clone(), verifier.clone());
        tasks.push(tokio::spawn(async move {
            h.exchange_on(ORIGIN, &token, &secret, &verifier).await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let response = task.await.unwrap();
        if response.status == 200 {
            ok += 1;
        } else {
            assert_refused(&response, 401, "token_used");
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        h.provider
            .authorizations(&alice().user_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Racing wrong verifiers are each counted: exactly `max_verifier_attempts`
/// of them are compared, every later one finds the token burned.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_verifiers_are_all_counted() {
    for _ in 0..20 {
        let h = Arc::new(harness());
        let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (h, token, secret) = (h.clone(), token.clone(), secret.clone());
            tasks.push(tokio::spawn(async move {
                h.exchange_on(ORIGIN, &token, &secret, "wrong-verifier")
                    .await
            }));
        }
        let mut compared = 0;
        for task in tasks {
            let response = task.await.unwrap();
            assert_eq!(response.status, 401);
            match param(&response.body, "oauth_problem").as_deref() {
                Some("verifier_invalid") => compared += 1,
                Some("token_rejected") => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(compared, 3);
        assert_refused(
            &h.exchange_on(ORIGIN, &token, &secret, &verifier).await,
            401,
            "token_rejected",
        );
    }
}

/// A right verifier racing wrong ones (fewer than the limit) always wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_right_verifier_racing_wrong_ones_wins() {
    for _ in 0..50 {
        let h = Arc::new(harness());
        let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
        let mut tasks = Vec::new();
        for guess in ["wrong-1", verifier.as_str(), "wrong-2"] {
            let (h, token, secret, guess) =
                (h.clone(), token.clone(), secret.clone(), guess.to_owned());
            tasks.push(tokio::spawn(async move {
                h.exchange_on(ORIGIN, &token, &secret, &guess).await
            }));
        }
        let statuses: Vec<u16> = {
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.unwrap().status);
            }
            out
        };
        assert_eq!(statuses, [401, 200, 401]);
    }
}

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

#[test]
fn provider_futures_and_public_types_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    let h = harness();
    let request = OwnedRequest::from_url("GET", "https://api.example.com/x", None);
    let view = request.view();
    assert_send(&h.provider.request_token(&view));
    assert_send(&h.provider.access_token(&view));
    assert_send(&h.provider.authenticate(&view));
    assert_send(&h.provider.get_current_user(&view));
    assert_send(&h.provider.approve(&view, "t", alice()));
    assert_send(&h.provider.deny(&view, "t"));
    assert_send(&h.provider.pending_authorization(&view, "t"));
    assert_send(&h.provider.authorizations("u"));
    assert_send_sync::<Provider<MemoryStore>>();
    assert_send_sync::<Provider<Arc<MemoryStore>>>();
    assert_send_sync::<OAuthError>();
    assert_send_sync::<oauth1_provider::OAuthContext>();
    assert_send_sync::<ConsumerRegistry>();
}
