//! Resource exhaustion through request tokens (issue 17, finding 2): every
//! client value a request token stores is capped, and so is how many
//! unexpired request tokens one consumer holds — past the cap a 429
//! `consumer_key_refused` with `Retry-After`, and no other token is evicted.

use std::time::Duration;

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::percent_encode;
use oauth1_provider::store::{NonceStore, SqliteStore, TokenStore};
use oauth1_provider::{MemoryStore, Provider, ProviderConfig, Response, SignatureMethod, User};

use crate::support::demo_client::{Credentials, Site, oauth_problem};
use crate::support::demo_process::DemoProcess;
use crate::support::harness::{
    CALLBACK, Harness, ORIGIN, approve_for_verifier, assert_refused, consumers, field, harness_on,
};
use crate::support::request::OwnedRequest;

/// `harness_on(store)` with caps of 5 request tokens for a registered
/// consumer and 2 for `anonymous`.
fn capped<S: TokenStore + NonceStore + Clone>(store: S) -> Harness<S> {
    let h = harness_on(store.clone());
    let mut config = ProviderConfig::default();
    config.max_request_tokens = 5;
    config.max_anonymous_request_tokens = 2;
    let provider = Provider::new(store.clone(), store.clone(), consumers(), config)
        .with_clock(h.clock.clone());
    Harness { provider, ..h }
}

/// A request-token call signed by `signer`, with `query` (`?…` or empty).
async fn request_token<S: TokenStore + NonceStore + Clone>(
    h: &Harness<S>,
    signer: Signer<'_>,
    query: &str,
) -> Response {
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken{query}");
    let request = h.signed(signer.callback(CALLBACK), "POST", &url);
    h.provider.request_token(&request.view()).await
}

fn anonymous() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, "anonymous", "anonymous")
}

async fn caps_hold<S: TokenStore + NonceStore + Clone>(h: Harness<S>) {
    let mut issued = Vec::new();
    for _ in 0..5 {
        let response = request_token(&h, h.consumer(), "").await;
        assert_eq!(response.status, 200, "{}", response.body);
        issued.push(field(&response, "oauth_token"));
    }
    let refused = request_token(&h, h.consumer(), "").await;
    assert_refused(&refused, 429, "consumer_key_refused");
    assert_eq!(refused.header("retry-after"), Some("60"));
    // Nothing was evicted to make room: every token issued still waits.
    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    for token in &issued {
        let pending = h.provider.pending_authorization(&page.view(), token).await;
        assert!(pending.is_ok(), "{token}: {pending:?}");
    }
    // The anonymous consumer has its own, smaller allowance.
    for _ in 0..2 {
        assert_eq!(request_token(&h, anonymous(), "").await.status, 200);
    }
    assert_refused(
        &request_token(&h, anonymous(), "").await,
        429,
        "consumer_key_refused",
    );
    // An approved token counts until it expires…
    let user = User::new("bob@example.com", "2002");
    approve_for_verifier(&h.provider, ORIGIN, &issued[0], user).await;
    assert_refused(
        &request_token(&h, h.consumer(), "").await,
        429,
        "consumer_key_refused",
    );
    // …and once they expire, the consumer may have more.
    h.clock.advance(Duration::from_secs(601));
    assert_eq!(request_token(&h, h.consumer(), "").await.status, 200);
    assert_eq!(request_token(&h, anonymous(), "").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_request_token_cap_a_consumer_is_refused_and_nothing_is_evicted_in_memory() {
    caps_hold(capped(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_request_token_cap_a_consumer_is_refused_and_nothing_is_evicted_in_sqlite() {
    caps_hold(capped(SqliteStore::open_in_memory().await.unwrap())).await;
}

#[tokio::test]
async fn over_long_scope_and_display_names_and_hidden_characters_are_refused() {
    let h = harness_on(MemoryStore::new());
    let query = |scope: &str, name: &str| {
        format!(
            "?scope={}&xoauth_displayname={}",
            percent_encode(scope),
            percent_encode(name)
        )
    };
    let (scope, name) = ("s".repeat(1024), "é".repeat(128));
    let at_the_limits = request_token(&h, anonymous(), &query(&scope, &name)).await;
    assert_eq!(at_the_limits.status, 200, "{}", at_the_limits.body);
    for (scope, name) in [
        ("s".repeat(1025), "App".to_owned()),
        ("s".repeat(1_000_000), "App".to_owned()),
        ("s".to_owned(), "é".repeat(129)),
        ("s".to_owned(), "Google Drive\u{202E}".to_owned()),
        ("s".to_owned(), "Google\u{200B}Drive".to_owned()),
        ("s".to_owned(), "Drive\n(verified)".to_owned()),
        ("s".to_owned(), "Drive\u{2066}x\u{2069}".to_owned()),
    ] {
        let response = request_token(&h, anonymous(), &query(&scope, &name)).await;
        assert_refused(&response, 400, "parameter_rejected");
    }
    assert_eq!(h.store.request_token_count(), 1);
}

/// The resident memory of process `pid`, in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// 200 request tokens with the largest values the demo accepts, and 50
/// more with a 1 MB scope, signed as the public `anonymous` consumer: the
/// first 100 are issued, the rest refused (429 past the cap, 400 for the
/// scope), and the demo's resident memory stays flat. The demo's
/// `anonymous` may ask for its declared grants only: the largest scope is
/// 1024 characters of their names (kept as sent).
fn exhaustion_is_refused(store: &str) {
    let demo = DemoProcess::spawn(&["--store", store]);
    let site = Site::new(demo.addr, &demo.base_url());
    let anonymous = Credentials::new("anonymous", "anonymous");
    let send = |scope: &str| {
        let signer = Signer::new(SignatureMethod::HmacSha1, &anonymous.key, &anonymous.secret)
            .callback("oob");
        let form = format!(
            "scope={}&xoauth_displayname={}",
            percent_encode(scope),
            percent_encode(&"n".repeat(128))
        );
        site.signed(&signer, "POST", "/_ah/OAuthGetRequestToken", Some(&form))
    };
    let warm = send("photos.read");
    assert_eq!(warm.status, 200, "{}", warm.text());
    let before = resident_kib(demo.pid());
    let maximal = format!("{},,,,", "admin,".repeat(170));
    assert_eq!(maximal.len(), 1024);
    let mut statuses = Vec::new();
    for _ in 0..200 {
        let reply = send(&maximal);
        if reply.status != 200 {
            assert_eq!(reply.status, 429, "{}", reply.text());
            assert_eq!(
                oauth_problem(&reply).as_deref(),
                Some("consumer_key_refused")
            );
            assert!(reply.header("retry-after").is_some());
        }
        statuses.push(reply.status);
    }
    let huge = "s".repeat(1_000_000);
    for _ in 0..50 {
        let reply = send(&huge);
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(oauth_problem(&reply).as_deref(), Some("parameter_rejected"));
    }
    let after = resident_kib(demo.pid());
    let issued = statuses.iter().filter(|&&s| s == 200).count();
    // The warm-up took one of the anonymous consumer's 100.
    assert_eq!(issued, 99, "{statuses:?}");
    assert!(
        after < before + 32 * 1024,
        "resident memory grew from {before} KiB to {after} KiB on {store}"
    );
    eprintln!("{store}: resident {before} KiB before, {after} KiB after");
}

#[test]
fn two_hundred_maximal_request_tokens_leave_the_demo_flat_in_memory() {
    exhaustion_is_refused("memory");
}

#[test]
fn two_hundred_maximal_request_tokens_leave_the_demo_flat_in_sqlite() {
    let dir = crate::support::temp::TempDir::new("exhaustion");
    let path = format!("sqlite:{}", dir.0.join("tokens.sqlite3").display());
    exhaustion_is_refused(&path);
}
