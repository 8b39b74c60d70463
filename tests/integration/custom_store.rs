//! `examples/custom_store.rs`, a store a host might write (tokens and nonces
//! in a JSON file, through the `serde` feature): it passes the conformance
//! suite, keeps everything across a reopen, writes nonces as digests only,
//! and runs as a program.

use std::process::Command;

use oauth1_provider::model::{StateTag, User, Verifier};
use oauth1_provider::store::{NonceKey, NonceOutcome, NonceStore, TokenStore};
use oauth1_provider::testing::{self, sample_request_token, sample_session_token};
use time::{Duration, OffsetDateTime};

use crate::support::temp::TempDir;

#[allow(dead_code)] // its `main`
#[path = "../../examples/custom_store.rs"]
mod example;

use example::FileStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_store_keeps_tokens_and_nonces_across_a_reopen() {
    let dir = TempDir::new("custom-store");
    let path = dir.0.join("store.json");
    let store = FileStore::open(&path).expect("open");
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let user = User::new("ada@example.com", "ada");

    let pending = sample_request_token(now);
    store.insert_request_token(&pending).await.expect("insert");
    let request = sample_request_token(now);
    let session = sample_session_token(&request, &user, now);
    testing::store_by_exchange(&store, &request, &session).await;
    let approved = pending
        .approve(user.clone(), Verifier::new("verifier"), now)
        .expect("approve");
    assert!(
        store
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas")
    );
    let nonce = "a nonce the file must not hold";
    let key = NonceKey {
        consumer_key: &session.consumer_key,
        token: &session.token,
        timestamp: 1_700_000_000,
        nonce,
    };
    let window = now + Duration::minutes(5);
    assert_eq!(
        store.insert_nonce(&key, now, window).await.expect("nonce"),
        NonceOutcome::Fresh
    );
    drop(store);

    let file = std::fs::read_to_string(&path).expect("the store's file");
    assert!(!file.contains(nonce), "nonces are kept as digests");
    let digest: String = key.digest().iter().map(|b| format!("{b:02x}")).collect();
    assert!(file.contains(&digest), "the nonce's digest is kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the file holds secrets: owner only");
    }

    let reopened = FileStore::open(&path).expect("reopen");
    assert_eq!(
        reopened
            .get_request_token(&approved.token)
            .await
            .expect("get"),
        Some(approved.clone()),
        "an authorized request token, verifier and all, survives a reopen"
    );
    assert_eq!(
        reopened
            .get_access_token(&session.token)
            .await
            .expect("get"),
        Some(session.clone()),
        "an access token with a session survives a reopen"
    );
    assert_eq!(
        reopened
            .insert_nonce(&key, now, window)
            .await
            .expect("nonce"),
        NonceOutcome::Replayed,
        "a used nonce is still used after a reopen"
    );
    assert!(
        !reopened
            .update_request_token(StateTag::Issued, &approved)
            .await
            .expect("cas"),
        "compare-and-set sees the reopened state"
    );
}

/// `cargo run --example custom_store` runs the conformance suite on the
/// store, reopening it from its file: the suite's every check, from outside.
#[test]
fn the_example_store_passes_the_conformance_suite() {
    let binary = crate::support::examples::example_binary("custom_store");
    let output = Command::new(binary).output().expect("run custom_store");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "custom_store failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("FileStore passes the conformance suite"),
        "{stdout}"
    );
}
