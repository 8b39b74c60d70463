//! Fault injection across the whole flow: a store whose Nth operation fails,
//! for every N, and stores that fail at random from a seed. Every endpoint
//! answers 503 exactly when one of its store operations failed, and the
//! correct answer otherwise; afterwards no token is in a state the flow did
//! not reach, and no access token exists that the client was not given.

use std::future::Future;

use oauth1_provider::consent::Denial;
use oauth1_provider::model::{RequestTokenState, StateTag};
use oauth1_provider::store::TokenStore;
use oauth1_provider::{Approval, Response};

use crate::support::flaky_store::FlakyStore;
use crate::support::harness::{CALLBACK, Harness, ORIGIN, alice, field, harness_on, url_param};
use crate::support::request::OwnedRequest;

/// One attempt at one step of the flow.
#[derive(Debug)]
struct Attempt {
    step: &'static str,
    status: u16,
    /// Whether a store operation failed during the attempt.
    injected: bool,
}

/// What the client got out of the flow.
#[derive(Debug, Default)]
struct Held {
    request_tokens: Vec<String>,
    approved: bool,
    wrong_verifiers: u32,
    access: Option<(String, String)>,
    revoked: bool,
    denied: bool,
}

/// A client that runs the flow against a [`FlakyStore`], retrying a step
/// that answered 503 up to `retries` times, and giving up after that.
struct Client<'h> {
    h: &'h Harness<FlakyStore>,
    retries: u32,
    journal: Vec<Attempt>,
}

/// A step's answer: status, `oauth_problem`, and what the client keeps.
type Answer<T> = (u16, Option<String>, T);

fn answer(response: Response) -> Answer<Response> {
    let problem = response
        .form_fields()
        .into_iter()
        .find(|(n, _)| n == "oauth_problem")
        .map(|(_, v)| v);
    (response.status, problem, response)
}

impl<'h> Client<'h> {
    /// Runs `attempt` until it answers something but 503 (or retries run
    /// out). Asserts that each attempt answered 503 if a store operation
    /// failed during it and `expected` otherwise; returns what the
    /// successful attempt returned.
    async fn step<T, F, Fut>(
        &mut self,
        step: &'static str,
        expected: (u16, Option<&str>),
        mut attempt: F,
    ) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Answer<T>>,
    {
        for _ in 0..=self.retries {
            let injected_before = self.h.store.faults().injected;
            let (status, problem, value) = attempt().await;
            let injected = self.h.store.faults().injected > injected_before;
            self.journal.push(Attempt {
                step,
                status,
                injected,
            });
            if injected {
                assert_eq!(status, 503, "{step} with a failed store operation");
                continue;
            }
            assert_eq!(
                (status, problem.as_deref()),
                expected,
                "{step}: {:?}",
                self.journal
            );
            return Some(value);
        }
        None
    }
}

/// The whole flow: a request token approved, a wrong verifier, the exchange,
/// a call, a revocation and a call with the revoked token; then a second
/// request token denied and its exchange refused.
async fn run_flow(h: &Harness<FlakyStore>, retries: u32) -> (Held, Vec<Attempt>) {
    let mut c = Client {
        h,
        retries,
        journal: Vec::new(),
    };
    let mut held = Held::default();
    run_steps(&mut c, &mut held).await;
    (held, c.journal)
}

async fn run_steps(c: &mut Client<'_>, held: &mut Held) {
    let h = c.h;
    let request_token_url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let request_token = || async {
        let request = h.signed(h.consumer().callback(CALLBACK), "POST", &request_token_url);
        answer(h.provider.request_token(&request.view()).await)
    };
    let Some(response) = c.step("request_token", (200, None), request_token).await else {
        return;
    };
    let (token, secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    held.request_tokens.push(token.clone());

    let page = OwnedRequest::from_url("GET", &format!("{ORIGIN}/_ah/OAuthAuthorizeToken"), None);
    let pending = || async {
        match h.provider.pending_authorization(&page.view(), &token).await {
            Ok(_) => (200, None, ()),
            Err(e) => (e.status(), None, ()),
        }
    };
    if c.step("pending_authorization", (200, None), pending)
        .await
        .is_none()
    {
        return;
    }
    let approve = || async {
        match h.provider.approve(&page.view(), &token, alice()).await {
            Ok(Approval::Redirect(url)) => (200, None, url_param(&url, "oauth_verifier")),
            Ok(Approval::Oob { .. }) => panic!("the callback is a URL"),
            Err(e) => (e.status(), None, String::new()),
        }
    };
    let Some(verifier) = c.step("approve", (200, None), approve).await else {
        return;
    };
    held.approved = true;

    let exchange = |verifier: &'static str| {
        let (token, secret) = (&token, &secret);
        move || async move { answer(h.exchange_on(ORIGIN, token, secret, verifier).await) }
    };
    let wrong = exchange("not-the-verifier");
    if c.step("wrong_verifier", (401, Some("verifier_invalid")), wrong)
        .await
        .is_none()
    {
        return;
    }
    held.wrong_verifiers += 1;
    let exchange = || async { answer(h.exchange_on(ORIGIN, &token, &secret, &verifier).await) };
    let Some(response) = c.step("access_token", (200, None), exchange).await else {
        return;
    };
    let (access, access_secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    held.access = Some((access.clone(), access_secret.clone()));

    let url = format!("{ORIGIN}/api/whoami");
    let call = || async {
        match h.call(&url, &access, &access_secret).await {
            Ok(context) => {
                assert_eq!(context.get_current_user().unwrap(), &alice());
                (200, None, ())
            }
            Err(e) => (e.status(), e.problem().map(|p| p.code().to_owned()), ()),
        }
    };
    if c.step("call", (200, None), call).await.is_none() {
        return;
    }
    let revoke = || async {
        match h.provider.revoke_token(&access).await {
            Ok(true) => (200, None, ()),
            Ok(false) => (404, None, ()),
            Err(_) => (503, None, ()),
        }
    };
    if c.step("revoke", (200, None), revoke).await.is_none() {
        return;
    }
    held.revoked = true;
    if c.step("call_revoked", (401, Some("token_revoked")), call)
        .await
        .is_none()
    {
        return;
    }

    // A second request token, denied: it can never be exchanged.
    let Some(response) = c.step("request_token", (200, None), request_token).await else {
        return;
    };
    let (token2, secret2) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    held.request_tokens.push(token2.clone());
    let deny = || async {
        match h.provider.deny(&page.view(), &token2).await {
            Ok(Denial::Redirect(url)) => {
                assert_eq!(url_param(&url, "oauth_problem"), "user_refused");
                (200, None, ())
            }
            Ok(Denial::Oob) => panic!("the callback is a URL"),
            Err(e) => (e.status(), None, ()),
        }
    };
    if c.step("deny", (200, None), deny).await.is_none() {
        return;
    }
    held.denied = true;
    let exchange_denied = || async {
        answer(
            h.exchange_on(ORIGIN, &token2, &secret2, "any-verifier")
                .await,
        )
    };
    c.step(
        "access_token_denied",
        (401, Some("token_rejected")),
        exchange_denied,
    )
    .await;
}

/// With the store healthy again: every token is in the state the client's
/// successful steps put it in, and the only access token that exists is the
/// one the client holds (usable unless it revoked it).
async fn assert_final_state(h: &Harness<FlakyStore>, held: &Held, journal: &[Attempt]) {
    {
        let mut faults = h.store.faults();
        faults.fail_at = None;
        faults.random = None;
    }
    let store = &h.store.inner;
    assert_eq!(
        store.request_token_count(),
        held.request_tokens.len(),
        "no request token but those handed out: {journal:?}"
    );
    for (i, token) in held.request_tokens.iter().enumerate() {
        let state = store.get_request_token(token).await.unwrap().unwrap().state;
        let expected = match i {
            0 if held.access.is_some() => StateTag::Exchanged,
            0 if held.approved => StateTag::Authorized {
                failed_attempts: held.wrong_verifiers,
            },
            1 if held.denied => StateTag::Denied,
            _ => StateTag::Issued,
        };
        assert_eq!(state.tag(), expected, "request token {i}: {journal:?}");
        if let RequestTokenState::Authorized { user, .. } = state {
            assert_eq!(user, alice());
        }
    }
    let active = store.list_user_tokens(&alice().user_id).await.unwrap();
    let active: Vec<&str> = active.iter().map(|t| t.token.as_str()).collect();
    match &held.access {
        Some((access, secret)) if !held.revoked => {
            assert_eq!(active, [access.as_str()], "{journal:?}");
            let context = h
                .call(&format!("{ORIGIN}/api/whoami"), access, secret)
                .await
                .unwrap();
            assert_eq!(context.get_current_user().unwrap(), &alice());
        }
        _ => assert!(
            active.is_empty(),
            "no access token left active: {journal:?}"
        ),
    }
}

/// How many store operations the whole flow makes when nothing fails.
async fn operations_in_a_clean_run() -> u64 {
    let h = harness_on(FlakyStore::default());
    let (held, journal) = run_flow(&h, 0).await;
    assert!(held.denied, "the clean run completes: {journal:?}");
    assert!(journal.iter().all(|a| !a.injected));
    let ops = h.store.faults().ops;
    assert_final_state(&h, &held, &journal).await;
    ops
}

#[tokio::test]
async fn failing_the_nth_store_operation_gives_503_and_no_half_state() {
    let total = operations_in_a_clean_run().await;
    assert!(total >= 15, "the flow makes {total} store operations");
    for n in 1..=total {
        // The client gives up at the first 503.
        let h = harness_on(FlakyStore::failing_at(n));
        let (held, journal) = run_flow(&h, 0).await;
        let failed: Vec<&Attempt> = journal.iter().filter(|a| a.injected).collect();
        assert_eq!(failed.len(), 1, "operation {n}: {journal:?}");
        assert_eq!(journal.last().unwrap().status, 503, "operation {n}");
        assert_final_state(&h, &held, &journal).await;

        // The client retries the step that answered 503, and finishes.
        let h = harness_on(FlakyStore::failing_at(n));
        let (held, journal) = run_flow(&h, 1).await;
        let unavailable: Vec<usize> = (0..journal.len())
            .filter(|&i| journal[i].status == 503)
            .collect();
        assert_eq!(unavailable.len(), 1, "operation {n}: {journal:?}");
        let retried = &journal[unavailable[0]..=unavailable[0] + 1];
        assert_eq!(retried[0].step, retried[1].step, "operation {n}");
        assert!(held.denied && held.revoked, "operation {n}: {journal:?}");
        assert_final_state(&h, &held, &journal).await;
    }
}

#[tokio::test]
async fn random_store_failures_from_a_seed_give_503_and_no_half_state() {
    let (mut completed, mut gave_up, mut injected) = (0, 0, 0);
    for seed in 0..200 {
        let h = harness_on(FlakyStore::failing_randomly(seed, 150));
        let (held, journal) = run_flow(&h, 2).await;
        injected += h.store.faults().injected;
        if held.denied {
            completed += 1;
        } else {
            gave_up += 1;
        }
        assert_final_state(&h, &held, &journal).await;
    }
    // The seeds exercise both outcomes.
    assert!(completed > 0 && gave_up > 0 && injected > 200);
}
