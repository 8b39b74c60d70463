//! Memory of `MemoryStore`'s nonces: bytes per remembered nonce at one
//! million, and a steady stream of requests to show it stays bounded as
//! nonces expire (`cargo bench --all-features --bench nonces`).
//!
//! Heap bytes are counted exactly by a counting global allocator, not read
//! from the process's resident size. For comparison the same keys are also
//! kept the obvious way, a `HashMap<OwnedKey, OffsetDateTime>` (what the
//! store did before it kept fingerprints).

mod fixture;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use fixture::ready;
use oauth1_provider::MemoryStore;
use oauth1_provider::store::{NonceKey, NonceOutcome, NonceStore};
use time::OffsetDateTime;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only a counter is
// updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// The parts of a nonce key as real clients make them, owned: a
/// 29-character consumer key and token, a 10-digit timestamp, a
/// 42-character nonce. The naive map keeps these; the store is handed a
/// borrowed [`NonceKey`] of them.
#[derive(PartialEq, Eq, Hash)]
struct OwnedKey {
    consumer_key: String,
    token: String,
    timestamp: u64,
    nonce: String,
}

fn key(timestamp: u64, i: u64) -> OwnedKey {
    OwnedKey {
        consumer_key: "dpf43f3p2l4k3l03-consumer-key".to_owned(),
        token: "nnch734d00sl2jdk-access-token".to_owned(),
        timestamp,
        nonce: format!("{i:042}"),
    }
}

impl OwnedKey {
    fn borrow(&self) -> NonceKey<'_> {
        NonceKey {
            consumer_key: &self.consumer_key,
            token: &self.token,
            timestamp: self.timestamp,
            nonce: &self.nonce,
        }
    }
}

const WINDOW_SECS: i64 = 300;
const START: i64 = 1_700_000_000;

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a valid time")
}

/// Inserts `n` distinct nonces at one instant; returns heap bytes per nonce
/// and ns per insert.
fn one_million(n: u64) -> (f64, f64) {
    let store = MemoryStore::new();
    let before = live_bytes();
    let started = Instant::now();
    for i in 0..n {
        // The key is built outside the store and dropped after: only what
        // the store keeps is counted.
        let key = key(START as u64, i);
        let outcome =
            ready(store.insert_nonce(&key.borrow(), at(START), at(START + WINDOW_SECS + 1)));
        assert_eq!(outcome.expect("memory"), NonceOutcome::Fresh);
    }
    let elapsed = started.elapsed();
    assert_eq!(store.nonce_count() as u64, n);
    let bytes = (live_bytes() - before) as f64;
    (bytes / n as f64, elapsed.as_nanos() as f64 / n as f64)
}

/// The same keys in a plain map of owned keys, for comparison.
fn one_million_naive(n: u64) -> f64 {
    let mut map = HashMap::new();
    let before = live_bytes();
    for i in 0..n {
        map.insert(key(START as u64, i), at(START + WINDOW_SECS + 1));
    }
    let bytes = (live_bytes() - before) as f64;
    drop(map);
    bytes / n as f64
}

/// `rate` requests per second for `seconds` simulated seconds, each with a
/// fresh nonce timestamped now (the provider remembers a nonce until its
/// timestamp leaves the ±300 s window); prints the remembered count and heap
/// every `every` seconds.
fn steady_stream(rate: u64, seconds: i64, every: i64) {
    let store = MemoryStore::new();
    let before = live_bytes();
    let mut i = 0;
    println!("simulated s | nonces remembered | heap MB | bytes/nonce");
    println!("-----------:|------------------:|--------:|-----------:");
    for second in 0..seconds {
        let now = START + second;
        for _ in 0..rate {
            let key = key(now as u64, i);
            i += 1;
            let expires = at(now + WINDOW_SECS + 1);
            let outcome = ready(store.insert_nonce(&key.borrow(), at(now), expires));
            assert_eq!(outcome.expect("memory"), NonceOutcome::Fresh);
        }
        if (second + 1) % every == 0 {
            let bytes = (live_bytes() - before) as f64;
            let count = store.nonce_count();
            println!(
                "{:>11} | {count:>17} | {:>7.1} | {:>11.1}",
                second + 1,
                bytes / 1e6,
                bytes / count as f64
            );
        }
    }
}

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: keep it short.
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 1_000_000 } else { 10_000 };
    let (per_nonce, ns) = one_million(n);
    let naive = one_million_naive(n);
    println!(
        "MemoryStore at {n} nonces: {per_nonce:.1} heap bytes per nonce, {ns:.0} ns per insert"
    );
    println!("(the same keys as HashMap<OwnedKey, OffsetDateTime>: {naive:.1} bytes per nonce)");
    println!();
    if full {
        // 3,500 requests/s: one million remembered at the plateau (301 s).
        steady_stream(3_500, 1_200, 100);
    } else {
        steady_stream(10, 20, 10);
    }
}
