//! Timing side channels: an unknown consumer and a bad signature do the
//! same work (the provider verifies an unknown consumer's request with a
//! decoy secret as long as the registered ones) and get the same answer.
//!
//! The statistical test: thousands of pairs of requests, one of each kind,
//! in a random order within each pair, each timed through `Provider`. A
//! pair's two requests run back to back, under the same load from whatever
//! else the shared machine is doing, so the difference within a pair cancels
//! that load; the median of those differences is the gap between the kinds.
//! A gap is "usable" when it is a sizeable part of the work the defence
//! exists to hide: the test measures, in the same run, a request refused
//! before any lookup or signature work (a stale timestamp) against a bad
//! signature, and requires every gap between the kinds to stay under a tenth
//! of that one. No absolute time is asserted. The control must itself be
//! plainly visible, or the test proves nothing; and the rank-based effect
//! size (Mann–Whitney U over n·m, 0.5 for the same distribution) of the
//! unpaired samples must stay near 0.5, which catches a leak that shows on
//! only some requests.

use std::future::Future;
use std::time::{Duration, Instant};

use oauth1_provider::client::Signer;
use oauth1_provider::{Response, SignatureMethod};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

use crate::support::harness::{
    CALLBACK, CONSUMER, Harness, ORIGIN, alice, assert_refused, harness,
};
use crate::support::request::OwnedRequest;

/// Pairs of requests timed per comparison.
const PAIRS: usize = 4000;
/// Requests of each kind run first, untimed.
const WARM_UP: usize = 200;
/// The largest gap between the two kinds, as a share of the control's gap
/// (the cost of the lookups and the signature work). What is left between
/// the kinds measures about 0.01 (a hash-map miss against a hit); the leak
/// this test found — a decoy secret long enough to cost HMAC one more SHA-1
/// block — is several times this bound.
const USABLE_SHARE: f64 = 0.1;
/// |effect size − 0.5| allowed between the kinds: the estimate's standard
/// error at 4000 + 4000 samples is about 0.0065, but load on a shared
/// machine makes samples far from independent; the kinds have stayed within
/// 0.13 of 0.5 under heavy load.
const EFFECT_TOLERANCE: f64 = 0.3;

/// Two kinds of request timed against each other.
#[derive(Debug)]
struct Comparison {
    /// Median over pairs of time(a) − time(b), in nanoseconds.
    gap: f64,
    /// P(time(a) > time(b)) over all unpaired samples (ties count half).
    effect: f64,
    median_a: Duration,
    median_b: Duration,
}

/// Times `a` and `b` as `PAIRS` pairs, in a random order within each pair.
async fn compare<A, FutA, B, FutB>(mut a: A, mut b: B) -> Comparison
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
    let mut gaps: Vec<f64> = times_a
        .iter()
        .zip(&times_b)
        .map(|(a, b)| a.as_nanos() as f64 - b.as_nanos() as f64)
        .collect();
    gaps.sort_unstable_by(f64::total_cmp);
    Comparison {
        gap: gaps[gaps.len() / 2],
        effect: effect_size(&times_a, &times_b),
        median_a: median(&mut times_a),
        median_b: median(&mut times_b),
    }
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

/// The gap between the kinds is under `USABLE_SHARE` of the control's.
#[track_caller]
fn assert_indistinguishable(what: &str, control: &Comparison, c: Comparison) {
    let share = c.gap.abs() / control.gap.abs();
    eprintln!(
        "{what}: gap {:.0} ns = {share:.3} of the control's, effect size {:.3} \
         (medians {:?} vs {:?})",
        c.gap, c.effect, c.median_a, c.median_b
    );
    assert!(
        share < USABLE_SHARE && (c.effect - 0.5).abs() < EFFECT_TOLERANCE,
        "{what}: {c:?} against the control's gap of {:.0} ns",
        control.gap
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
    // The control: skipping the lookups and the signature work is plainly
    // visible to the same measurement.
    let control = compare(
        || refused(h, &c.stale_timestamp, "timestamp_refused"),
        bad_signature,
    )
    .await;
    eprintln!("control, stale timestamp vs bad signature: {control:?}");
    assert!(
        control.gap < 0.0 && control.effect < 0.5 - EFFECT_TOLERANCE,
        "the measurement cannot see a request that skips verification: {control:?}"
    );

    assert_indistinguishable(
        "protected resource: unknown consumer vs bad signature",
        &control,
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
            &control,
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
}
