//! Integration tests, one module per concern.

mod actix_flow;
mod axum_flow;
mod body_hash;
mod breadth_support;
#[cfg(feature = "test-util")]
mod conformance;
mod demo_process;
mod explain;
mod interop;
mod proptests;
mod provider_flow;
mod rejections;
#[cfg(feature = "rsa")]
mod rsa;
mod sessions;
#[cfg(all(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    feature = "test-util"
))]
mod stores;
mod support;
mod two_legged;
mod vectors;
