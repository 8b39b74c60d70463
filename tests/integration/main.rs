//! Integration tests, one module per concern.

mod axum_flow;
#[cfg(feature = "test-util")]
mod conformance;
mod explain;
mod interop;
mod proptests;
mod provider_flow;
mod rejections;
mod support;
mod vectors;
