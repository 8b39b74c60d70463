//! Grant escalation (SECURITY.md, *Grants*): what a consumer was granted
//! cannot grow after the consent page — not by sending `scope` again at
//! the exchange or at a refresh, not by asking for a grant it was not
//! registered for, and not by keeping a grant the host took away.

use oauth1_provider::client::Signer;
use oauth1_provider::model::{Grant, Granted, IDENTITY_GRANT};
use oauth1_provider::provider::{Reason, SessionConfig};
use oauth1_provider::store::TokenStore;
use oauth1_provider::{Consumer, ConsumerRegistry, OAuthContext, ProviderConfig, SignatureMethod};

use crate::support::breadth::{CALLBACK, ORIGIN, Site, site};
use crate::support::harness::{alice, approve_for_verifier, assert_refused, field};

const APP: (&str, &str) = ("printer", "printer-secret");

fn app() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, APP.0, APP.1)
}

fn config() -> ProviderConfig {
    let mut config = ProviderConfig::default();
    config.grants = vec![
        Grant::new("photos.read", "See your photos"),
        Grant::new("photos.write", "Add and delete your photos"),
    ];
    config.sessions = Some(SessionConfig::default());
    config
}

fn printer_site(grants: &[&str]) -> Site {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::new(APP.0, APP.1, "Photo Printer")
            .callback_prefix(CALLBACK)
            .grants(grants.iter().copied()),
    );
    site(consumers, config())
}

/// A signed request to `path` (with its query) and the provider's answer.
async fn post(s: &Site, signer: Signer<'_>, path: &str) -> oauth1_provider::Response {
    let url = format!("{ORIGIN}{path}");
    let request = s.signed(signer, "POST", &url, None);
    if path.starts_with("/_ah/OAuthGetRequestToken") {
        s.provider.request_token(&request.view()).await
    } else {
        s.provider.access_token(&request.view()).await
    }
}

async fn context(s: &Site, token: &str, secret: &str) -> OAuthContext {
    let url = format!("{ORIGIN}/api/photos?scope=photos.write");
    let request = s.signed(app().token(token, secret), "GET", &url, None);
    s.provider.authenticate(&request.view()).await.unwrap()
}

/// Asks for `photos.read`, approves, and exchanges with `scope` naming
/// `photos.write` as well: (token, secret, session handle).
async fn read_token_exchanged_with_a_wider_scope(s: &Site) -> (String, String, String) {
    let response = post(
        s,
        app().callback(CALLBACK),
        "/_ah/OAuthGetRequestToken?scope=photos.read",
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    let verifier = approve_for_verifier(&s.provider, ORIGIN, &token, alice()).await;
    let exchange = app().token(&token, &secret).verifier(&verifier);
    let response = post(
        s,
        exchange,
        "/_ah/OAuthGetAccessToken?scope=photos.read%20photos.write",
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.body);
    (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
        field(&response, "oauth_session_handle"),
    )
}

#[tokio::test]
async fn scope_sent_again_at_the_exchange_or_a_refresh_widens_nothing() {
    let s = printer_site(&["photos.read", "photos.write"]);
    let (token, secret, handle) = read_token_exchanged_with_a_wider_scope(&s).await;
    let only_read = Granted::only([IDENTITY_GRANT, "photos.read"]);
    let granted = context(&s, &token, &secret).await;
    assert_eq!(granted.grants(), &only_read);
    let refused = granted.require_grant("photos.write").unwrap_err();
    assert_eq!(
        (refused.status(), refused.reason()),
        (403, Some(Reason::GrantMissing))
    );
    assert_eq!(
        s.provider
            .store()
            .get_access_token(&token)
            .await
            .unwrap()
            .unwrap()
            .grants,
        only_read
    );

    let refresh = app()
        .token(&token, &secret)
        .header_param("oauth_session_handle", &handle);
    let response = post(&s, refresh, "/_ah/OAuthGetAccessToken?scope=photos.write").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    let refreshed = context(&s, &token, &secret).await;
    assert_eq!(
        refreshed.grants(),
        &only_read,
        "the refresh kept the grants"
    );
    assert!(!refreshed.has_grant("photos.write"));
}

#[tokio::test]
async fn a_consumer_cannot_ask_for_a_grant_it_was_not_registered_for() {
    let s = printer_site(&["photos.read"]);
    for scope in ["photos.write", "photos.read,photos.write", "admin"] {
        let path = format!("/_ah/OAuthGetRequestToken?scope={scope}");
        let response = post(&s, app().callback(CALLBACK), &path).await;
        assert_refused(&response, 400, "parameter_rejected");
        let advice = field(&response, "oauth_problem_advice");
        let unknown = scope.rsplit(',').next().unwrap();
        assert!(
            advice.contains(&format!("not registered for: {unknown} ")),
            "{advice}"
        );
        assert!(
            advice.ends_with("(it may ask for: identity photos.read)"),
            "{advice}"
        );
    }
    let held = s
        .provider
        .store()
        .count_request_tokens(APP.0, oauth1_provider::model::Clock::now(&s.clock))
        .await
        .unwrap();
    assert_eq!(held, 0, "no request token was issued");
    // A sign-in-only app may not ask for an API grant either.
    let forum = printer_site(&["identity"]);
    let response = post(
        &forum,
        app().callback(CALLBACK),
        "/_ah/OAuthGetRequestToken?scope=photos.read",
    )
    .await;
    assert_refused(&response, 400, "parameter_rejected");
}

#[tokio::test]
async fn a_grant_the_host_takes_from_the_consumer_ends_for_its_tokens() {
    let s = printer_site(&["photos.read", "photos.write"]);
    let response = post(
        &s,
        app().callback(CALLBACK),
        "/_ah/OAuthGetRequestToken?scope=photos.read+photos.write",
    )
    .await;
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    let verifier = approve_for_verifier(&s.provider, ORIGIN, &token, alice()).await;
    let exchange = app().token(&token, &secret).verifier(&verifier);
    let response = post(&s, exchange, "/_ah/OAuthGetAccessToken").await;
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    assert!(context(&s, &token, &secret).await.has_grant("photos.write"));
    // The host registers the app again with read only (a redeploy).
    s.provider.consumers().register(
        Consumer::new(APP.0, APP.1, "Photo Printer")
            .callback_prefix(CALLBACK)
            .grants(["photos.read"]),
    );
    let narrowed = context(&s, &token, &secret).await;
    assert_eq!(
        narrowed.grants(),
        &Granted::only([IDENTITY_GRANT, "photos.read"])
    );
    assert_eq!(
        narrowed.require_grant("photos.write").unwrap_err().status(),
        403
    );
}
