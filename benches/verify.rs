//! Full verification of a signed request against raw HMAC-SHA1 over the same
//! base string.
//!
//! `verify/N_params` runs what a protected-resource endpoint does per request:
//! [`SignedRequest::collect`], `require(&["oauth_token"])`,
//! `verify_signature` and `check_timestamp`. `raw_hmac/N_params` is the floor:
//! `Hmac<Sha1>` over the precomputed base string plus the base64 encoding of
//! the digest. N counts the query parameters; the 7 `oauth_*` parameters are
//! in the Authorization header.
//!
//! Absolute times drift on a shared machine, so after criterion's groups the
//! binary times both again in adjacent ~1 ms batches and prints the median
//! and interquartile range of the per-pair ratio (`cargo bench --bench verify`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::Criterion;
use hmac::{Hmac, Mac};
use oauth1_provider::{Limits, Request, SignatureMethod, SignedRequest, Signer, TimestampWindow};
use sha1::Sha1;

const SIZES: [usize; 3] = [2, 10, 100];
const CONSUMER_KEY: &str = "dpf43f3p2l4k3l03-consumer-key";
const CONSUMER_SECRET: &str = "kd94hf93k423kf44kd94hf93k423kf44"; // 32 chars
const TOKEN: &str = "nnch734d00sl2jdk-access-token";
const TOKEN_SECRET: &str = "pfkkdhi9sl3r4s00pfkkdhi9sl3r4s00"; // 32 chars
const NONCE: &str = "kllo9940pd9333jhkllo9940pd9333jhkllo9940pd"; // 42 chars
const TIMESTAMP: u64 = 1_700_000_000;

/// A signed request as the server receives it.
struct Fixture {
    params: usize,
    target: String,
    authorization: String,
    /// The signing key and base string, precomputed for the raw HMAC.
    key: Vec<u8>,
    base_string: String,
}

impl Fixture {
    fn new(params: usize) -> Self {
        let mut query = String::from("maxResults=10&pageToken=abc%20def");
        for i in 0..params.saturating_sub(2) {
            // Mostly what clients send; every few a value that is not in its
            // canonical encoding (`+`, lower-case hex, a reserved byte raw) and
            // so must be re-encoded before it is signed.
            match i % 5 {
                0 => query.push_str(&format!("&p{i}=hello+world")),
                1 => query.push_str(&format!("&p{i}=a%2fb%3ac")),
                2 => query.push_str(&format!("&p{i}=caf%C3%A9")),
                3 => query.push_str(&format!("&p{i}=x!y*z")),
                _ => query.push_str(&format!("&p{i}=v{i}")),
            }
        }
        let target = format!("/v1/calendars/primary/events?{query}");
        let url = format!("https://api.example.com{target}");
        let authorization = Signer::new(SignatureMethod::HmacSha1, CONSUMER_KEY, CONSUMER_SECRET)
            .token(TOKEN, TOKEN_SECRET)
            .nonce(NONCE)
            .timestamp(TIMESTAMP)
            .authorization_header("GET", &url, None)
            .expect("the fixture signs");
        let mut fixture = Self {
            params,
            target,
            authorization,
            key: format!("{CONSUMER_SECRET}&{TOKEN_SECRET}").into_bytes(),
            base_string: String::new(),
        };
        let request = fixture.request();
        let signed =
            SignedRequest::collect(&request, &Limits::default()).expect("the fixture collects");
        assert_eq!(signed.encoded_params().count(), params + 6);
        let base_string = signed.base_string().expect("the fixture has a base string");
        let signature = signed.signature().unwrap_or_default().to_owned();
        fixture.base_string = base_string;
        assert!(fixture.verify(), "the fixture verifies");
        assert_eq!(
            fixture.raw_hmac().as_slice(),
            signature.as_bytes(),
            "the raw HMAC computes the same signature"
        );
        fixture
    }

    fn request(&self) -> Request<'_> {
        Request::new("GET", "https", "api.example.com", &self.target)
            .authorization(Some(&self.authorization))
    }

    /// What a protected-resource endpoint does per request.
    fn verify(&self) -> bool {
        let request = self.request();
        let Ok(signed) = SignedRequest::collect(black_box(&request), &Limits::default()) else {
            return false;
        };
        signed.require(&["oauth_token"]).is_ok()
            && signed
                .verify_signature(black_box(CONSUMER_SECRET), black_box(TOKEN_SECRET))
                .is_ok()
            && signed
                .check_timestamp(TIMESTAMP + 10, &TimestampWindow::default())
                .is_ok()
    }

    /// HMAC-SHA1 of the precomputed base string, base64-encoded.
    fn raw_hmac(&self) -> Base64Digest {
        let mut mac =
            Hmac::<Sha1>::new_from_slice(black_box(&self.key)).expect("HMAC takes any key length");
        mac.update(black_box(self.base_string.as_bytes()));
        let digest = mac.finalize().into_bytes();
        let mut out = Base64Digest([0; 28]);
        STANDARD
            .encode_slice(digest, &mut out.0)
            .expect("28 bytes hold a base64 SHA-1 digest");
        out
    }
}

struct Base64Digest([u8; 28]);

impl Base64Digest {
    fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

fn criterion_groups(c: &mut Criterion, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("verify");
    for f in fixtures {
        group.bench_function(format!("{}_params", f.params), |b| {
            b.iter(|| assert!(f.verify()))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("raw_hmac");
    for f in fixtures {
        group.bench_function(format!("{}_params", f.params), |b| b.iter(|| f.raw_hmac()));
    }
    group.finish();
}

/// Mean time per call of `f` over `iterations` calls.
fn time_batch(f: &mut dyn FnMut(), iterations: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed() / iterations
}

/// How many calls of `f` take about `target`.
fn calls_per(target: Duration, f: &mut dyn FnMut()) -> u32 {
    let per_call = time_batch(f, 1000).max(Duration::from_nanos(1));
    u32::try_from(target.as_nanos() / per_call.as_nanos()).map_or(u32::MAX, |n| n.max(1))
}

/// The first quartile, median and third quartile of `samples`.
fn quartiles(mut samples: Vec<f64>) -> [f64; 3] {
    samples.sort_unstable_by(f64::total_cmp);
    let at = |q: usize| samples[(samples.len() - 1) * q / 4];
    [at(1), at(2), at(3)]
}

/// Ours against the raw HMAC, timed in adjacent batches of about 1 ms each.
struct Comparison {
    /// Median time per call, in µs.
    ours: f64,
    raw: f64,
    /// Quartiles of the ratio within each adjacent pair of batches: both
    /// batches of a pair ran under the same machine load.
    ratio: [f64; 3],
}

fn compare(fixture: &Fixture) -> Comparison {
    let mut ours = || assert!(black_box(fixture).verify());
    let mut raw = || {
        black_box(black_box(fixture).raw_hmac());
    };
    let ours_calls = calls_per(Duration::from_millis(1), &mut ours);
    let raw_calls = calls_per(Duration::from_millis(1), &mut raw);
    let (mut ours_us, mut raw_us, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..501 {
        let o = time_batch(&mut ours, ours_calls).as_secs_f64() * 1e6;
        let r = time_batch(&mut raw, raw_calls).as_secs_f64() * 1e6;
        ours_us.push(o);
        raw_us.push(r);
        ratios.push(o / r);
    }
    Comparison {
        ours: quartiles(ours_us)[1],
        raw: quartiles(raw_us)[1],
        ratio: quartiles(ratios),
    }
}

fn main() {
    let fixtures: Vec<Fixture> = SIZES.into_iter().map(Fixture::new).collect();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion, &fixtures);
    criterion.final_summary();

    // `cargo test --benches` runs each benchmark once, without `--bench`, and
    // `--profile-time` is for a profiler: there is nothing to compare then.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--profile-time") {
        return;
    }
    println!();
    println!("params | ours µs | raw hmac µs | ratio | ratio IQR");
    println!("------:|--------:|------------:|------:|:----------");
    for f in &fixtures {
        let c = compare(f);
        let [q1, median, q3] = c.ratio;
        println!(
            "{:>6} | {:>7.3} | {:>11.3} | {median:>5.2} | {q1:.2}–{q3:.2}",
            f.params, c.ours, c.raw
        );
    }
}
