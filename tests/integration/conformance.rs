//! The store conformance suite on `MemoryStore` (and through `Arc`).

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
