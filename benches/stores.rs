//! Store operations per second: request-token insert, access-token lookup
//! and nonce insert, on `MemoryStore`, `SqliteStore` (a WAL file in the temp
//! dir) and — when `OAUTH1_TEST_POSTGRES_URL` is set — `PostgresStore`
//! (`cargo bench --all-features --bench stores`; `source .ci/services.sh && start_services`
//! starts a throwaway server), and nonce insert on `RedisNonceStore` when
//! `OAUTH1_TEST_REDIS_URL` is set.
//!
//! One operation at a time from one task, so the numbers are latency-bound
//! (a real server overlaps many requests). Criterion reports each as
//! `thrpt: … elem/s`, which is operations per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use oauth1_provider::model::Verifier;
use oauth1_provider::store::{NonceKey, NonceStore, TokenStore};
use oauth1_provider::store::{PostgresStore, RedisNonceStore, SqliteStore};
use oauth1_provider::testing::{sample_access_token, sample_request_token};
use oauth1_provider::{MemoryStore, User};
use time::OffsetDateTime;
use tokio::runtime::Runtime;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Stores an exchanged access token and returns it.
async fn stored_access_token<S: TokenStore>(store: &S) -> String {
    let issued = sample_request_token(now());
    store.insert_request_token(&issued).await.expect("insert");
    let user = User::new("bench@example.com", "bench");
    let approved = issued
        .approve(user.clone(), Verifier::new("v"), now())
        .expect("approve");
    let tag = issued.state.tag();
    assert!(
        store
            .update_request_token(tag, &approved)
            .await
            .expect("cas")
    );
    let (exchanged, _) = approved
        .exchange("v", 3, now())
        .expect("live")
        .expect("right");
    let access = sample_access_token(&approved, &user, now());
    assert!(
        store
            .exchange_request_token(approved.state.tag(), &exchanged, &access)
            .await
            .expect("exchange")
    );
    access.token
}

fn bench_store<S>(c: &mut Criterion, rt: &Runtime, name: &str, store: &S)
where
    S: TokenStore + NonceStore,
{
    let run = format!("{}-{}", std::process::id(), next());
    let template = sample_request_token(now());
    let access = rt.block_on(stored_access_token(store));

    let mut group = c.benchmark_group("request_token_insert");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut token = template.clone();
            token.token = format!("bench-{run}-{}", next());
            rt.block_on(store.insert_request_token(&token))
                .expect("insert");
        });
    });
    group.finish();

    let mut group = c.benchmark_group("access_token_lookup");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| {
            let found = rt.block_on(store.get_access_token(&access)).expect("get");
            assert!(found.is_some());
        });
    });
    group.finish();

    bench_nonces(c, rt, name, store, &access);
}

fn bench_nonces<N: NonceStore>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    store: &N,
    token: &str,
) {
    let run = format!("{}-{}", std::process::id(), next());
    let mut group = c.benchmark_group("nonce_insert");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| {
            let at = now();
            let nonce = format!("kllo9940pd9333jhkllo9940pd9333jh-{run}-{}", next());
            let key = NonceKey {
                consumer_key: "bench-consumer",
                token,
                timestamp: u64::try_from(at.unix_timestamp()).unwrap_or(0),
                nonce: &nonce,
            };
            rt.block_on(store.insert_nonce(&key, at, at + time::Duration::seconds(301)))
                .expect("nonce");
        });
    });
    group.finish();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    bench_store(&mut c, &rt, "memory", &MemoryStore::new());

    let dir = std::env::temp_dir().join(format!("oauth1-provider-bench-{}", std::process::id()));
    let sqlite = rt
        .block_on(SqliteStore::open(dir.join("bench.sqlite3")))
        .expect("open SQLite");
    bench_store(&mut c, &rt, "sqlite", &sqlite);
    drop(sqlite);
    let _ = std::fs::remove_dir_all(&dir);

    match std::env::var("OAUTH1_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let pg = rt
                .block_on(PostgresStore::connect(&url))
                .expect("connect to PostgreSQL");
            bench_store(&mut c, &rt, "postgres", &pg);
        }
        _ => eprintln!("skipping PostgreSQL: set OAUTH1_TEST_POSTGRES_URL"),
    }
    match std::env::var("OAUTH1_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let redis = rt
                .block_on(RedisNonceStore::connect(&url))
                .expect("connect to Redis");
            bench_nonces(&mut c, &rt, "redis", &redis, "bench-token");
        }
        _ => eprintln!("skipping Redis: set OAUTH1_TEST_REDIS_URL"),
    }

    c.final_summary();
}
