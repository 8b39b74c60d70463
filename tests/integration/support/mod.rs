//! Helpers that several test modules share, one file per role. A helper
//! that one module needs lives in that module (or its folder's `mod.rs`);
//! these may use one another and the crate, never a test module.
//!
//! - In process: [`request`] (an owned request to verify), [`reply`]
//!   (reading an adapter's answer), [`harness`] (a provider on a manual
//!   clock, our signer as its consumer), [`breadth`] (the same for any
//!   signer and configuration), [`flaky_store`] (a store that fails on
//!   purpose), [`alloc_probe`] (the global allocator, watching).
//! - Processes: [`examples`] (the crate's examples, built), [`demo_process`]
//!   (the demo provider on loopback), [`http`] (a blocking HTTP/1.1 client),
//!   [`demo_client`] (the OAuth flow against a demo over HTTP),
//!   [`instances`] (demo instances behind a load balancer), [`oauthlib`]
//!   (Python oauthlib as an independent signer).
//! - Surroundings: [`env`] (services and clients, or a reason to skip),
//!   [`services`] (a test's own PostgreSQL schema and Redis prefix),
//!   [`ports`] (a loopback port held closed), [`temp`] (temporary files).
//!
//! [`services`] and [`instances`] use the PostgreSQL and Redis stores and the
//! conformance suite's samples: they are built with those features only.

pub mod alloc_probe;
pub mod breadth;
pub mod demo_client;
pub mod demo_process;
pub mod env;
pub mod examples;
pub mod flaky_store;
pub mod harness;
pub mod http;
pub mod instances;
pub mod oauthlib;
pub mod ports;
pub mod reply;
pub mod request;
pub mod services;
pub mod temp;
