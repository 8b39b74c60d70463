//! Racing exchanges: one access token from one request token, every wrong
//! verifier counted, a right one winning.

use std::sync::Arc;

use crate::support::harness::{ORIGIN, alice, assert_refused, harness};
use crate::support::reply::param;

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
    assert_eq!(h.grants(&alice()).await, 1);
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
