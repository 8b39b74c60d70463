//! Integration tests, one module per concern. The suite package
//! (`tests/Cargo.toml`) builds the library with every feature, so no module
//! here is gated on one.

mod actix_flow;
mod axum_flow;
mod body_hash;
mod broken_stores;
mod browser;
mod clients_python;
mod clients_rust;
mod conformance;
mod custom_store;
mod demo_consumers;
mod demo_flow;
mod demo_grants;
mod demo_process;
mod events;
mod explain;
mod grant_escalation;
mod grants;
mod interop;
mod load;
mod multi_instance;
mod proptests;
mod provider_flow;
mod rejections;
mod restart;
mod reverse_proxy;
mod rsa;
mod security_at_rest;
mod security_consent;
mod security_demo;
mod security_exhaustion;
mod security_faults;
mod security_limits;
mod security_secrets;
mod security_timing;
mod sessions;
mod stores;
mod support;
mod two_legged;
mod vectors;
