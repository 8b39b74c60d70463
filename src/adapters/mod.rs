//! What every host framework shares, once, and the framework adapters.
//!
//! The shared core: which origin a request was addressed to
//! ([`origin`], the host's `OriginPolicy`), what an adapter reads of a
//! request before the provider sees it ([`signed`]), the authorize endpoint
//! ([`authorize`]) and its pages ([`pages`]), and the verdict the
//! extractors read and the rejections they answer with ([`verdict`]). The
//! `axum` and `actix` folders keep only framework glue, split by role:
//! endpoints, the verifying layer or middleware, the extractors. This layer
//! may use everything below it: [`crate::provider`], [`crate::store`],
//! [`crate::model`], [`crate::protocol`].

#[cfg(feature = "actix")]
pub mod actix;
pub(crate) mod authorize;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) mod grant;
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) mod head;
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) mod oauth;
pub(crate) mod origin;
pub(crate) mod pages;
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) mod signed;
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) mod verdict;
