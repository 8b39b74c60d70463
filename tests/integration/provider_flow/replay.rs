//! Replays: a nonce is used once (and remembered however far its expiry), and
//! a request is timely.

use oauth1_provider::model::ManualClock;
use oauth1_provider::provider::Reason;
use oauth1_provider::{MemoryStore, OAuthError, Provider, ProviderConfig};

use crate::support::harness::{Harness, ORIGIN, START, alice, consumers, harness, refused};
use crate::support::request::OwnedRequest;

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
