//! The store conformance suite on `MemoryStore` (and through `Arc`), and on
//! the stores whose data outlives them — SQLite, PostgreSQL, the Redis
//! nonce store — reopening them, so that it also checks what survives. (The
//! stores' own module runs the suite on them without reopening.)
//! `broken_stores` proves the suite fails where it should.

use std::sync::Arc;

use oauth1_provider::{MemoryStore, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_conformance_suite() {
    testing::run_conformance_suite(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arc_store_passes_the_conformance_suite() {
    testing::run_conformance_suite(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_store_passes_the_suite_reopened() {
    use oauth1_provider::store::SqliteStore;

    use crate::support::temp::{TempDir, temp_db_path};

    let path = temp_db_path("conformance-reopen");
    let _dir = TempDir::of(&path);
    testing::run_conformance_suite_with_reopen(|| SqliteStore::open(&path)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_suite_reopened() {
    use oauth1_provider::store::PostgresStore;

    use crate::support::env::service_env;
    use crate::support::services::TempSchema;

    let Some(url) = service_env("OAUTH1_TEST_POSTGRES_URL") else {
        return;
    };
    // A schema of its own: no other test's purge reaches its tokens.
    let (schema, url) = TempSchema::create(&url).await;
    testing::run_conformance_suite_with_reopen(|| PostgresStore::connect(&url)).await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_nonce_store_passes_the_nonce_suite_reopened() {
    use oauth1_provider::store::RedisNonceStore;

    use crate::support::services::RedisPrefix;

    let Some(redis) = RedisPrefix::create() else {
        return;
    };
    let redis = &redis;
    testing::run_nonce_store_suite_with_reopen(move || async move {
        let store = RedisNonceStore::connect(&redis.url).await?;
        Ok::<_, oauth1_provider::StoreError>(store.with_key_prefix(redis.prefix.clone()))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_consumer_suite() {
    testing::run_consumer_store_suite(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_consumer_suite() {
    use oauth1_provider::store::SqliteStore;

    use crate::support::temp::{TempDir, temp_db_path};

    let path = temp_db_path("conformance-consumers");
    let _dir = TempDir::of(&path);
    let store = SqliteStore::open(&path).await.expect("open");
    testing::run_consumer_store_suite(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_consumer_suite() {
    use oauth1_provider::store::PostgresStore;

    use crate::support::env::service_env;
    use crate::support::services::TempSchema;

    let Some(url) = service_env("OAUTH1_TEST_POSTGRES_URL") else {
        return;
    };
    let (schema, url) = TempSchema::create(&url).await;
    let store = PostgresStore::connect(&url).await.expect("connect");
    testing::run_consumer_store_suite(Arc::new(store)).await;
    schema.drop_schema().await;
}

/// With a server key, every secret is sealed on the way in and opened on
/// the way out: the store still keeps every contract, across a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_with_a_server_key_passes_every_suite_reopened() {
    use oauth1_provider::store::{ServerKey, SqliteStore};

    use crate::support::temp::{TempDir, temp_db_path};

    let key = ServerKey::generate().expect("a key");
    let path = temp_db_path("conformance-sealed");
    let _dir = TempDir::of(&path);
    let open = || async {
        Ok::<_, oauth1_provider::StoreError>(SqliteStore::open(&path).await?.with_server_key(&key))
    };
    testing::run_conformance_suite_with_reopen(open).await;
    testing::run_consumer_store_suite(Arc::new(open().await.expect("open"))).await;
}
