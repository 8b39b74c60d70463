//! Integration tests, one module per concern.

mod actix_flow;
mod alloc_probe;
mod axum_flow;
#[cfg(feature = "test-util")]
mod conformance;
mod demo_process;
mod explain;
mod interop;
mod proptests;
mod provider_flow;
mod rejections;
mod security_consent;
mod security_faults;
mod security_limits;
mod security_secrets;
mod security_timing;
#[cfg(all(
    feature = "sqlite",
    feature = "postgres",
    feature = "redis",
    feature = "test-util"
))]
mod stores;
mod support;
mod vectors;
