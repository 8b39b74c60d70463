//! Full verification of a signed request against raw HMAC-SHA1 over the same
//! base string, and `get_current_user` on a `MemoryStore` against the same.
//!
//! - `verify/N_params` runs what a protected-resource endpoint does per
//!   request without its stores: [`SignedRequest::collect`],
//!   `require(&["oauth_token"])`, `verify_signature` and `check_timestamp`.
//! - `raw_hmac/N_params` is the floor the issue names: `Hmac<Sha1>` keyed from
//!   the two secrets (key padding plus the inner and outer pad blocks; the
//!   fixture's 65-byte key is itself hashed first, as RFC 2104 says for keys
//!   longer than a block), over the precomputed base string, base64-encoded.
//!   Both sides do exactly this HMAC work.
//! - `prekeyed_hmac/N_params` is the same from an HMAC state keyed once: the
//!   least any verifier can do, shown for what a cache of keyed states could
//!   buy (this crate keeps none: see `docs/performance.md`).
//! - `get_current_user/2_params` is [`Provider::get_current_user`]: the
//!   above, plus the consumer and access-token lookup and the nonce insert in
//!   a `MemoryStore`, each request pre-signed with a unique nonce.
//!
//! N counts the query parameters; the 7 `oauth_*` parameters are in the
//! Authorization header. Absolute times drift on a shared machine, so after
//! criterion's groups the binary times each against the raw HMAC again in
//! adjacent ~1 ms batches of thread CPU time (time preempted by other
//! processes is not counted) and prints the median and interquartile range
//! of the per-pair ratio (`cargo bench --all-features --bench verify`; `cargo bench --all-features --bench
//! verify -- nothing` skips criterion and prints only that table).

mod fixture;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use fixture::{CpuClock, Fixture, SIZES, UserBench};

fn criterion_groups(c: &mut Criterion, fixtures: &[Fixture], user: &UserBench) {
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
    let mut group = c.benchmark_group("prekeyed_hmac");
    for f in fixtures {
        group.bench_function(format!("{}_params", f.params), |b| {
            b.iter(|| f.raw_hmac_prekeyed())
        });
    }
    group.finish();
    c.bench_function("get_current_user/2_params", |b| {
        b.iter_batched(
            || user.sign(1).pop().expect("one header"),
            |header| user.get_current_user(&header),
            BatchSize::SmallInput,
        )
    });
}

/// Mean time per call of `f` over `calls` calls.
fn time_calls(f: &mut dyn FnMut(), calls: u32) -> Duration {
    let start = CpuClock::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed() / calls
}

/// How many calls of something taking `per_call` fit in about `target`.
fn calls_per(target: Duration, per_call: Duration) -> u32 {
    let per_call = per_call.max(Duration::from_nanos(1));
    u32::try_from(target.as_nanos() / per_call.as_nanos()).map_or(u32::MAX, |n| n.max(1))
}

/// The first quartile, median and third quartile of `samples`.
fn quartiles(mut samples: Vec<f64>) -> [f64; 3] {
    samples.sort_unstable_by(f64::total_cmp);
    let at = |q: usize| samples[(samples.len() - 1) * q / 4];
    [at(1), at(2), at(3)]
}

/// Something timed against the raw HMAC in adjacent batches of about 1 ms.
struct Comparison {
    /// Median time per call, in µs.
    ours: f64,
    raw: f64,
    prekeyed: f64,
    /// Quartiles of the ratio to the raw HMAC within each adjacent pair of
    /// batches: both batches of a pair ran under the same machine load.
    ratio: [f64; 3],
    /// Median ratio to the pre-keyed HMAC, likewise.
    ratio_prekeyed: f64,
}

/// Times `ours` (which runs `n` calls and returns the time per call)
/// against the fixture's raw and pre-keyed HMAC, interleaved.
fn compare(fixture: &Fixture, ours: &mut dyn FnMut(u32) -> Duration) -> Comparison {
    let mut raw = || {
        black_box(black_box(fixture).raw_hmac());
    };
    let mut prekeyed = || {
        black_box(black_box(fixture).raw_hmac_prekeyed());
    };
    let ms = Duration::from_millis(1);
    let ours_calls = calls_per(ms, ours(1000));
    let raw_calls = calls_per(ms, time_calls(&mut raw, 1000));
    let prekeyed_calls = calls_per(ms, time_calls(&mut prekeyed, 1000));
    let mut samples = [(); 5].map(|()| Vec::new());
    for _ in 0..301 {
        let o = ours(ours_calls).as_secs_f64() * 1e6;
        let r = time_calls(&mut raw, raw_calls).as_secs_f64() * 1e6;
        let p = time_calls(&mut prekeyed, prekeyed_calls).as_secs_f64() * 1e6;
        for (sample, value) in samples.iter_mut().zip([o, r, p, o / r, o / p]) {
            sample.push(value);
        }
    }
    let [ours, raw, prekeyed, ratio, ratio_prekeyed] = samples.map(quartiles);
    Comparison {
        ours: ours[1],
        raw: raw[1],
        prekeyed: prekeyed[1],
        ratio,
        ratio_prekeyed: ratio_prekeyed[1],
    }
}

/// The target for the ratio to the raw HMAC of `verify` at `params` query
/// parameters (issue #19), when there is one.
fn verify_target(params: usize) -> Option<f64> {
    match params {
        2 => Some(2.0),
        100 => Some(3.5),
        _ => None,
    }
}

/// The target for `get_current_user` on a `MemoryStore` ÷ raw HMAC.
const GET_CURRENT_USER_TARGET: f64 = 2.5;

fn print_row(what: &str, c: &Comparison, target: Option<f64>) {
    let [q1, median, q3] = c.ratio;
    let target = target.map_or_else(
        || "—".to_owned(),
        |t| {
            let verdict = if median <= t { "met" } else { "not met" };
            format!("≤ {t:.1}× {verdict}")
        },
    );
    println!(
        "{what:<26} | {:>7.3} | {:>7.3} | {:>8.3} | {median:>6.2} | {q1:.2}–{q3:.2} | {:>10.2} | {target}",
        c.ours, c.raw, c.prekeyed, c.ratio_prekeyed
    );
}

fn main() {
    let fixtures: Vec<Fixture> = SIZES.into_iter().map(Fixture::new).collect();
    let user = UserBench::new();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion, &fixtures, &user);
    criterion.final_summary();

    // `cargo test --benches` runs each benchmark once, without `--bench`, and
    // `--profile-time` is for a profiler: there is nothing to compare then.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--profile-time") {
        return;
    }
    println!();
    println!(
        "what (µs per call)         |    ours |     raw | prekeyed | ÷ raw  | ÷ raw IQR | ÷ prekeyed | target (÷ raw)"
    );
    println!(
        "---------------------------|--------:|--------:|---------:|-------:|:----------|-----------:|:--------------"
    );
    for f in &fixtures {
        let c = compare(f, &mut |n| {
            time_calls(&mut || assert!(black_box(f).verify()), n)
        });
        print_row(
            &format!("verify, {} query params", f.params),
            &c,
            verify_target(f.params),
        );
    }
    let c = compare(&fixtures[0], &mut |n| user.time(n));
    print_row(
        "get_current_user, 2 params",
        &c,
        Some(GET_CURRENT_USER_TARGET),
    );
}
