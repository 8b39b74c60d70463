//! Two-legged requests (signed with consumer credentials, no token) and
//! `xoauth_requestor_id`: a consumer the host trusts for a domain acts for
//! that domain's users, and is refused for any other consumer, domain or
//! unknown user. Also `scope`, recorded and exposed to the host.

use oauth1_provider::client::Signer;
use oauth1_provider::provider::Reason;
use oauth1_provider::{
    Consumer, ConsumerRegistry, OAuthRequestErrorKind, Provider, ProviderConfig, SignatureMethod,
    User,
};

use crate::support::breadth::{ORIGIN, Site, site};
use crate::support::harness::{alice, field, refused};
use crate::support::request::OwnedRequest;

fn consumers() -> ConsumerRegistry {
    let consumers = ConsumerRegistry::new();
    consumers.register(Consumer::new("robot", "robot-secret", "Robot").two_legged(true));
    consumers.register(
        Consumer::new("corp-app", "corp-secret", "Corp App").act_for_domain("corp.example"),
    );
    consumers.register(
        Consumer::new("client", "client-secret", "Client")
            .callback_prefix("https://client.example/cb"),
    );
    consumers
}

fn directory(email: &str) -> Option<User> {
    match email {
        "bob@corp.example" => Some(User::new("bob@corp.example", "2002")),
        "alice@example.com" => Some(alice()),
        _ => None,
    }
}

fn corp_site() -> Site {
    let s = site(consumers(), ProviderConfig::default());
    let Site { provider, clock } = s;
    Site {
        provider: provider.with_requestor_lookup(directory),
        clock,
    }
}

fn signer<'a>(key: &'a str, secret: &'a str) -> Signer<'a> {
    Signer::new(SignatureMethod::HmacSha1, key, secret)
}

fn url_for(requestor: &str) -> String {
    format!(
        "{ORIGIN}/api/whoami?xoauth_requestor_id={}",
        oauth1_provider::protocol::percent_encode(requestor)
    )
}

#[tokio::test]
async fn two_legged_request_names_the_consumer_and_no_user() {
    let s = corp_site();
    let request = s.signed(
        signer("robot", "robot-secret"),
        "GET",
        &format!("{ORIGIN}/api/stats"),
        None,
    );
    let context = s.provider.authenticate(&request.view()).await.unwrap();
    assert_eq!(context.get_oauth_consumer_key(), "robot");
    assert_eq!(context.token(), None);
    assert_eq!(context.requestor_id(), None);
    let err = context.get_current_user().unwrap_err();
    assert!(
        matches!(err, oauth1_provider::OAuthError::Request(ref e) if e.kind() == OAuthRequestErrorKind::NotAllowed)
    );
    // A consumer not allowed two-legged requests.
    let request = s.signed(
        signer("client", "client-secret"),
        "GET",
        &format!("{ORIGIN}/api/stats"),
        None,
    );
    let err = refused(
        s.provider.authenticate(&request.view()).await,
        401,
        "permission_denied",
    );
    assert_eq!(err.reason(), Some(Reason::TwoLeggedNotAllowed));
}

#[tokio::test]
async fn a_trusted_consumer_acts_for_a_user_of_its_domain() {
    let s = corp_site();
    let request = s.signed(
        signer("corp-app", "corp-secret"),
        "GET",
        &url_for("bob@corp.example"),
        None,
    );
    let context = s.provider.authenticate(&request.view()).await.unwrap();
    assert_eq!(
        context.get_current_user().unwrap().email,
        "bob@corp.example"
    );
    assert_eq!(context.get_current_user().unwrap().user_id, "2002");
    assert_eq!(context.requestor_id(), Some("bob@corp.example"));
    assert_eq!(context.get_oauth_consumer_key(), "corp-app");
    // In a POST form body too (it is signed either way).
    let body = b"xoauth_requestor_id=bob%40corp.example";
    let form = "application/x-www-form-urlencoded";
    let request = s.signed(
        signer("corp-app", "corp-secret"),
        "POST",
        &format!("{ORIGIN}/api/whoami"),
        Some((form, body)),
    );
    let context = s.provider.authenticate(&request.view()).await.unwrap();
    assert_eq!(context.requestor_id(), Some("bob@corp.example"));
}

/// Consumer key and secret, URL, expected (status, problem) and reason.
type Case<'a> = (&'a str, &'a str, String, (u16, &'a str), Option<Reason>);

#[tokio::test]
async fn requestor_refusals() {
    let s = corp_site();
    let twice = format!(
        "{}&xoauth_requestor_id=carol%40corp.example",
        url_for("bob@corp.example")
    );
    let denied = (401, "permission_denied");
    let cases: [Case<'_>; 8] = [
        // Another domain, for the trusted consumer.
        (
            "corp-app",
            "corp-secret",
            url_for("alice@example.com"),
            denied,
            Some(Reason::RequestorNotAllowed),
        ),
        // A look-alike domain.
        (
            "corp-app",
            "corp-secret",
            url_for("bob@corp.example.evil"),
            denied,
            Some(Reason::RequestorNotAllowed),
        ),
        // Any other consumer, even one allowed two-legged requests.
        (
            "robot",
            "robot-secret",
            url_for("bob@corp.example"),
            denied,
            Some(Reason::RequestorNotAllowed),
        ),
        (
            "client",
            "client-secret",
            url_for("bob@corp.example"),
            denied,
            Some(Reason::RequestorNotAllowed),
        ),
        // A user the host does not know.
        (
            "corp-app",
            "corp-secret",
            url_for("mallory@corp.example"),
            denied,
            Some(Reason::UnknownRequestor),
        ),
        // Not an address.
        (
            "corp-app",
            "corp-secret",
            url_for("corp.example"),
            denied,
            Some(Reason::RequestorNotAllowed),
        ),
        // Named twice.
        (
            "corp-app",
            "corp-secret",
            twice,
            (400, "parameter_rejected"),
            Some(Reason::Protocol),
        ),
        // A bad signature is still a bad signature, before anything else.
        (
            "corp-app",
            "wrong",
            url_for("bob@corp.example"),
            (401, "signature_invalid"),
            Some(Reason::BadSignature),
        ),
    ];
    for (key, secret, url, (status, problem), reason) in cases {
        let request = s.signed(signer(key, secret), "GET", &url, None);
        let err = refused(
            s.provider.authenticate(&request.view()).await,
            status,
            problem,
        );
        assert_eq!(err.reason(), reason, "{key} {url}");
    }
}

#[tokio::test]
async fn requestor_ids_need_a_host_directory_and_no_token() {
    // Without a requestor lookup every requestor is refused.
    let s = site(consumers(), ProviderConfig::default());
    let request = s.signed(
        signer("corp-app", "corp-secret"),
        "GET",
        &url_for("bob@corp.example"),
        None,
    );
    let err = refused(
        s.provider.authenticate(&request.view()).await,
        401,
        "permission_denied",
    );
    assert_eq!(err.reason(), Some(Reason::UnknownRequestor));
    // With a token, xoauth_requestor_id makes no sense.
    let s = corp_site();
    let (token, secret) = s
        .three_legged(|| signer("client", "client-secret"), alice())
        .await;
    let request = s.signed(
        signer("client", "client-secret").token(&token, &secret),
        "GET",
        &url_for("bob@corp.example"),
        None,
    );
    refused(
        s.provider.authenticate(&request.view()).await,
        400,
        "parameter_rejected",
    );
}

#[tokio::test]
async fn scope_is_recorded_and_exposed_to_the_host() {
    let s = corp_site();
    // breadth_support's flow asks for scope=https://api.example.com/photos.
    let (token, secret) = s
        .three_legged(|| signer("client", "client-secret"), alice())
        .await;
    let request = s.signed(
        signer("client", "client-secret").token(&token, &secret),
        "GET",
        &format!("{ORIGIN}/api/whoami"),
        None,
    );
    let context = s.provider.authenticate(&request.view()).await.unwrap();
    assert_eq!(context.scope(), Some("https://api.example.com/photos"));
    let record = oauth1_provider::store::TokenStore::get_access_token(s.provider.store(), &token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.scope.as_deref(),
        Some("https://api.example.com/photos")
    );
    // The consent page sees it too.
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken?scope=feeds");
    let request = s.signed(
        signer("client", "client-secret").callback("oob"),
        "POST",
        &url,
        None,
    );
    let response = s.provider.request_token(&request.view()).await;
    let token = field(&response, "oauth_token");
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let pending = s
        .provider
        .pending_authorization(&page.view(), &token)
        .await
        .unwrap();
    assert_eq!(pending.scope.as_deref(), Some("feeds"));
}

#[test]
fn provider_with_a_lookup_is_still_send_and_sync() {
    fn check<T: Send + Sync>(_: &T) {}
    let p = Provider::new(
        oauth1_provider::MemoryStore::new(),
        oauth1_provider::MemoryStore::new(),
        consumers(),
        ProviderConfig::default(),
    )
    .with_requestor_lookup(directory);
    check(&p);
}
