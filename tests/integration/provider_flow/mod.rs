//! The provider end to end, in process: the three-legged flow with our
//! signer, every refusal (status + `oauth_problem` + state), two-legged
//! requests, development mode, a failing store, and `Send` futures.
//!
//! One file per concern: [`flow`], [`token_state`], [`replay`],
//! [`consumers`], [`grants`], [`modes`], [`concurrency`], [`store_failure`] and
//! [`send`]. What they share is the in-process harness in
//! [`crate::support::harness`].

mod concurrency;
mod consumers;
mod flow;
mod grants;
mod modes;
mod refusal_log;
mod replay;
mod send;
mod store_failure;
mod stored_consumers;
mod token_state;
