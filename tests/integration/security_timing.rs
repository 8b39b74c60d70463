//! Timing side channels: an unknown consumer and a bad signature do the
//! same work (the provider verifies an unknown consumer's request with a
//! decoy secret as long as the registered ones) and get the same answer.
//!
//! The statistical test: thousands of requests of two kinds, interleaved in
//! pairs in a random order (so that load on a shared machine falls on both
//! alike), each timed through `Provider`. The two samples are compared by
//! their common-language effect size, the probability that a random request
//! of one kind took longer than a random request of the other (the
//! Mann–Whitney U statistic over n·m): 0.5 for the same distribution, 0 or 1
//! for fully separated ones. Ranks make it indifferent to outliers and to how
//! fast the machine is; no absolute time is asserted. The same measurement
//! must see the difference a leak would make — a request refused before any
//! signature work — or the test proves nothing.

use std::future::Future;
use std::time::{Duration, Instant};

use oauth1_provider::{Response, SignatureMethod, Signer};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::provider_flow::{CALLBACK, CONSUMER, Harness, ORIGIN, alice, assert_refused, harness};
use crate::support::OwnedRequest;

/// Pairs of requests timed per comparison.
const PAIRS: usize = 4000;
/// Requests of each kind run first, untimed.
const WARM_UP: usize = 200;
/// |effect size − 0.5| below this is "no usable difference". The standard
/// error of the estimate at 4000 + 4000 samples is about 0.0065; what is left
/// between the two kinds (a hash-map miss against a hit, a few hundred
/// nanoseconds in a debug build) stays within 0.1, while the leak this test
/// found — a decoy secret long enough to cost HMAC one more block — measured
/// 0.25, and skipping verification altogether 0.45.
const INDISTINGUISHABLE: f64 = 0.15;
/// |effect size − 0.5| above this is "clearly different" (for the control).
const DISTINGUISHABLE: f64 = 0.3;

/// Times `a` and `b` alternately, `PAIRS` times each, in a random order
/// within each pair; returns the effect size P(time(a) > time(b)) and the
/// two medians (for the failure message).
async fn compare<A, FutA, B, FutB>(mut a: A, mut b: B) -> (f64, Duration, Duration)
where
    A: FnMut() -> FutA,
    FutA: Future<Output = ()>,
    B: FnMut() -> FutB,
    FutB: Future<Output = ()>,
{
    for _ in 0..WARM_UP {
        a().await;
        b().await;
    }
    let mut rng = StdRng::seed_from_u64(5849);
    let (mut times_a, mut times_b) = (Vec::with_capacity(PAIRS), Vec::with_capacity(PAIRS));
    for _ in 0..PAIRS {
        let a_first = rng.random::<bool>();
        for which_a in [a_first, !a_first] {
            let start = Instant::now();
            if which_a {
                a().await;
            } else {
                b().await;
            }
            let elapsed = start.elapsed();
            if which_a {
                times_a.push(elapsed);
            } else {
                times_b.push(elapsed);
            }
        }
    }
    let effect = effect_size(&times_a, &times_b);
    (effect, median(&mut times_a), median(&mut times_b))
}

/// P(a > b) + P(a = b) / 2 over all pairs, from the ranks of the pooled
/// samples (ties get their average rank).
fn effect_size(a: &[Duration], b: &[Duration]) -> f64 {
    let mut pooled: Vec<(Duration, bool)> = a
        .iter()
        .map(|&t| (t, true))
        .chain(b.iter().map(|&t| (t, false)))
        .collect();
    pooled.sort_unstable_by_key(|&(t, _)| t);
    let mut rank_sum_a = 0.0;
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j < pooled.len() && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their average.
        let average_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum_a += average_rank * pooled[i..j].iter().filter(|(_, is_a)| *is_a).count() as f64;
        i = j;
    }
    let (n, m) = (a.len() as f64, b.len() as f64);
    let u_a = rank_sum_a - n * (n + 1.0) / 2.0;
    u_a / (n * m)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// The requests compared, each refused with 401.
struct Cases {
    h: Harness,
    /// `authenticate`: an unknown consumer key with a real access token, and
    /// the real consumer with a wrong token secret.
    unknown_consumer: OwnedRequest,
    bad_signature: OwnedRequest,
    /// The control: refused for its timestamp, before any lookup or
    /// signature work.
    stale_timestamp: OwnedRequest,
    /// The temporary-credentials endpoint: no token at all.
    request_token_unknown_consumer: OwnedRequest,
    request_token_bad_signature: OwnedRequest,
    /// The token-credentials endpoint, with a real approved request token.
    exchange_unknown_consumer: OwnedRequest,
    exchange_bad_signature: OwnedRequest,
}

const WRONG_SECRET: &str = "0123456789abcdef0123456789abcdef";

/// `request` signed by `signer` with the first nonce that makes a signature
/// with no `+` or `/` (sent percent-encoded): so that the requests compared
/// differ in nothing but their credentials, not in how much decoding their
/// signatures need.
fn signed_plainly(h: &Harness, signer: Signer<'_>, method: &str, url: &str) -> OwnedRequest {
    (0..10_000)
        .map(|i| {
            let nonce = format!("nonce{i:08}");
            h.signed(signer.clone().nonce(&nonce), method, url)
        })
        .find(|request| {
            let header = request.authorization.as_deref().unwrap();
            let signature = header.split("oauth_signature=\"").nth(1).unwrap();
            let signature = &signature[..signature.find('"').unwrap()];
            !signature.contains("%2B") && !signature.contains("%2F")
        })
        .expect("a signature without escapes")
}

async fn cases() -> Cases {
    let h = harness();
    let (access, secret) = h.access_on(ORIGIN, alice()).await;
    let (token, token_secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    // An unknown key, signed with a secret as long as the real one.
    let nobody = || Signer::new(SignatureMethod::HmacSha1, "nobody-key", "nobody-secre");
    let wrong_consumer = || Signer::new(SignatureMethod::HmacSha1, CONSUMER.0, "wrong-secret!");

    let url = format!("{ORIGIN}/api/photos?size=original&page=2");
    let api = |signer: Signer<'_>| signed_plainly(&h, signer, "GET", &url);
    let stale_timestamp = h.signed_at(
        h.consumer().token(&access, &secret),
        "GET",
        &url,
        h.now() - 3600,
    );

    let request_token_url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let request_token =
        |signer: Signer<'_>| h.signed(signer.callback(CALLBACK), "POST", &request_token_url);
    let exchange_url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
    let exchange =
        |signer: Signer<'_>| signed_plainly(&h, signer.verifier(&verifier), "POST", &exchange_url);
    Cases {
        unknown_consumer: api(nobody().token(&access, &secret)),
        bad_signature: api(h.consumer().token(&access, WRONG_SECRET)),
        stale_timestamp,
        request_token_unknown_consumer: request_token(nobody()),
        request_token_bad_signature: request_token(wrong_consumer()),
        exchange_unknown_consumer: exchange(nobody().token(&token, &token_secret)),
        exchange_bad_signature: exchange(h.consumer().token(&token, WRONG_SECRET)),
        h,
    }
}

/// Authenticates `request`, which must be refused with `problem`.
async fn refused(h: &Harness, request: &OwnedRequest, problem: &str) {
    let err = h.provider.authenticate(&request.view()).await.unwrap_err();
    assert_eq!(err.problem().map(|p| p.code()), Some(problem));
}

/// Sends `request` to an endpoint; it must be refused as `signature_invalid`.
async fn endpoint_refused(h: &Harness, request: &OwnedRequest) -> Response {
    let view = request.view();
    let response = if view.path() == "/_ah/OAuthGetRequestToken" {
        h.provider.request_token(&view).await
    } else {
        h.provider.access_token(&view).await
    };
    assert_refused(&response, 401, "signature_invalid");
    response
}

#[track_caller]
fn assert_indistinguishable(what: &str, (effect, a, b): (f64, Duration, Duration)) {
    eprintln!("{what}: effect size {effect:.3} (medians {a:?} vs {b:?})");
    assert!(
        (effect - 0.5).abs() < INDISTINGUISHABLE,
        "{what}: effect size {effect:.3} (medians {a:?} vs {b:?})"
    );
}

#[tokio::test]
async fn an_unknown_consumer_and_a_bad_signature_take_the_same_time() {
    let c = cases().await;
    let h = &c.h;
    // The same answer, byte for byte.
    let unknown = h.provider.authenticate(&c.unknown_consumer.view()).await;
    let bad = h.provider.authenticate(&c.bad_signature.view()).await;
    assert_eq!(
        unknown.unwrap_err().to_response("r"),
        bad.unwrap_err().to_response("r")
    );
    for (unknown, bad) in [
        (
            &c.request_token_unknown_consumer,
            &c.request_token_bad_signature,
        ),
        (&c.exchange_unknown_consumer, &c.exchange_bad_signature),
    ] {
        assert_eq!(
            endpoint_refused(h, unknown).await,
            endpoint_refused(h, bad).await
        );
    }

    let bad_signature = || refused(h, &c.bad_signature, "signature_invalid");
    assert_indistinguishable(
        "protected resource: unknown consumer vs bad signature",
        compare(
            || refused(h, &c.unknown_consumer, "signature_invalid"),
            bad_signature,
        )
        .await,
    );
    for (endpoint, unknown, bad) in [
        (
            "temporary credentials",
            &c.request_token_unknown_consumer,
            &c.request_token_bad_signature,
        ),
        (
            "token credentials",
            &c.exchange_unknown_consumer,
            &c.exchange_bad_signature,
        ),
    ] {
        assert_indistinguishable(
            &format!("{endpoint}: unknown consumer vs bad signature"),
            compare(
                || async {
                    endpoint_refused(h, unknown).await;
                },
                || async {
                    endpoint_refused(h, bad).await;
                },
            )
            .await,
        );
    }

    // The control: skipping the lookups and the signature work is visible to
    // the same measurement.
    let (effect, stale, bad) = compare(
        || refused(h, &c.stale_timestamp, "timestamp_refused"),
        bad_signature,
    )
    .await;
    eprintln!("control, stale timestamp vs bad signature: effect size {effect:.3}");
    assert!(
        (effect - 0.5).abs() > DISTINGUISHABLE,
        "the measurement cannot see a request that skips verification: \
         effect size {effect:.3} (medians {stale:?} vs {bad:?})"
    );
}
