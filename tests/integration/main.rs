//! Integration tests, one module per concern.

mod actix_flow;
mod axum_flow;
mod body_hash;
#[cfg(feature = "test-util")]
mod broken_stores;
mod browser;
mod clients_python;
mod clients_rust;
#[cfg(feature = "test-util")]
mod conformance;
mod demo_flow;
mod demo_process;
mod explain;
mod interop;
#[cfg(all(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    feature = "test-util"
))]
mod load;
#[cfg(all(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    feature = "test-util"
))]
mod multi_instance;
mod proptests;
mod provider_flow;
mod rejections;
#[cfg(all(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    feature = "test-util"
))]
mod restart;
#[cfg(feature = "rsa")]
mod rsa;
mod security_consent;
mod security_faults;
mod security_limits;
mod security_secrets;
mod security_timing;
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
