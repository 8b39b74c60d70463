//! Our side of the peer comparison (`benches/peers/run.sh`).
//!
//! `peers fixture` prints the fixture request as JSON — the 2-parameter
//! request of the other benches, signed now (oauthlib checks timestamps
//! against its own clock), with keys and a nonce that oauthlib's character
//! and length checks accept — and `peers time FILE` prints the µs per
//! verification of that request: collect, require, verify the signature,
//! check the timestamp, as the Python and Node scripts do theirs;
//! `peers time FILE raw` and `peers time FILE prekeyed` the raw and the
//! pre-keyed HMAC-SHA1 of its base string (see `benches/verify.rs`), for the
//! same table. No side remembers nonces. Every side times in CPU time (this thread's here,
//! `time.thread_time` in Python, `process.cpuUsage` in Node), so that
//! other processes on a shared machine inflate none of them by preempting.

#[path = "../fixture/mod.rs"]
mod fixture;

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use fixture::CpuClock;

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{Limits, SignedRequest, TimestampWindow};
use oauth1_provider::{Request, SignatureMethod};
use serde_json::{Value, json};

const CONSUMER_KEY: &str = "dpf43f3p2l4k3l03consumerkey";
const TOKEN: &str = "nnch734d00sl2jdkaccesstoken";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// The fixture's Authorization header, signed now.
fn sign_now(url: &str) -> String {
    Signer::new(
        SignatureMethod::HmacSha1,
        CONSUMER_KEY,
        fixture::CONSUMER_SECRET,
    )
    .token(TOKEN, fixture::TOKEN_SECRET)
    .nonce(fixture::NONCE)
    .timestamp(now())
    .authorization_header("GET", url, None)
    .expect("the fixture signs")
}

fn print_fixture() {
    let target = fixture::target(2);
    let url = format!("https://{}{target}", fixture::AUTHORITY);
    let authorization = sign_now(&url);
    let fixture = json!({
        "method": "GET",
        "url": url,
        "authority": fixture::AUTHORITY,
        "target": target,
        "authorization": authorization,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": fixture::CONSUMER_SECRET,
        "token": TOKEN,
        "token_secret": fixture::TOKEN_SECRET,
    });
    println!("{fixture}");
}

fn verify(target: &str, authorization: &str, consumer_secret: &str, token_secret: &str) -> bool {
    let request =
        Request::new("GET", "https", fixture::AUTHORITY, target).authorization(Some(authorization));
    let Ok(signed) = SignedRequest::collect(black_box(&request), &Limits::default()) else {
        return false;
    };
    signed.require(&["oauth_token"]).is_ok()
        && signed.consumer_key() == Some(CONSUMER_KEY)
        && signed.token() == Some(TOKEN)
        && signed
            .verify_signature(black_box(consumer_secret), black_box(token_secret))
            .is_ok()
        && signed
            .check_timestamp(now(), &TimestampWindow::default())
            .is_ok()
}

/// Prints the µs per call of `what` (`ours`, `raw` or `prekeyed`) on the
/// fixture in `path`.
fn time(path: &str, what: &str) {
    let text = std::fs::read_to_string(path).expect("the fixture file");
    let f: Value = serde_json::from_str(&text).expect("JSON");
    let field = |name: &str| f[name].as_str().expect("a string field").to_owned();
    let (target, authorization) = (field("target"), field("authorization"));
    let (consumer_secret, token_secret) = (field("consumer_secret"), field("token_secret"));
    let hmac = fixture::Fixture::new(2);
    let mut run: Box<dyn FnMut()> = match what {
        "ours" => Box::new(|| {
            assert!(verify(
                &target,
                &authorization,
                &consumer_secret,
                &token_secret
            ))
        }),
        "raw" => Box::new(|| {
            black_box(black_box(&hmac).raw_hmac());
        }),
        "prekeyed" => Box::new(|| {
            black_box(black_box(&hmac).raw_hmac_prekeyed());
        }),
        other => panic!("time takes ours, raw or prekeyed, not {other}"),
    };
    // Batches of about 10 ms for a second; the median batch.
    let start = CpuClock::now();
    for _ in 0..1000 {
        run();
    }
    let per_call = start.elapsed() / 1000;
    let calls = (10_000_000 / per_call.as_nanos().max(1)).max(1) as u32;
    let mut batches: Vec<f64> = (0..100)
        .map(|_| {
            let start = CpuClock::now();
            for _ in 0..calls {
                run();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
        })
        .collect();
    batches.sort_unstable_by(f64::total_cmp);
    println!("{:.3}", batches[batches.len() / 2]);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["fixture", ..] => print_fixture(),
        ["time", path, what] => time(path, what),
        ["time", path, ..] => time(path, "ours"),
        // `cargo bench` / `cargo test --benches`: check the fixture verifies.
        _ => {
            let target = fixture::target(2);
            let header = sign_now(&format!("https://{}{target}", fixture::AUTHORITY));
            let (consumer_secret, token_secret) = (fixture::CONSUMER_SECRET, fixture::TOKEN_SECRET);
            assert!(verify(&target, &header, consumer_secret, token_secret));
            println!("peers: run benches/peers/run.sh for the comparison");
        }
    }
}
