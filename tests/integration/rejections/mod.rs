//! Every refusal of the signature engine, each asserting the HTTP status and
//! the `oauth_problem` code (RFC 5849 §3.2 and the OAuth Problem Reporting
//! extension), plus what the engine must not refuse: non-form bodies are not
//! signed, a form content type is recognized in any case and with
//! parameters, and an Authorization header of another scheme is ignored.
//!
//! One file per kind of refusal: [`placement`] (where and how often
//! protocol parameters appear), [`absent`], [`version_and_method`],
//! [`malformed`], [`limits`], [`timestamp`], [`signature`], [`not_oauth`]
//! (what is not refused) and [`problem_reporting`] (how a refusal reads).
//! This file holds what they share: the valid request they vary, its
//! secrets, and the assertion of a refusal.

mod absent;
mod limits;
mod malformed;
mod not_oauth;
mod placement;
mod problem_reporting;
mod signature;
mod timestamp;
mod version_and_method;

use std::fmt::Debug;

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{
    AuthorizationHeader, Limits, SignedRequest, TimestampWindow, format_authorization_header,
    percent_encode,
};
use oauth1_provider::{ProtocolError, Request, SignatureMethod};

const FORM: &str = "application/x-www-form-urlencoded";
const NOW: u64 = 1_700_000_000;
const CONSUMER_SECRET: &str = "consumer-secret";
const TOKEN_SECRET: &str = "token-secret";

fn collect<'a>(request: &Request<'a>) -> Result<SignedRequest<'a>, ProtocolError> {
    SignedRequest::collect(request, &Limits::default())
}

/// Asserts that `result` is a refusal with this status and `oauth_problem`.
#[track_caller]
fn refused<T: Debug>(result: Result<T, ProtocolError>, status: u16, code: &str) -> ProtocolError {
    let e = match result {
        Ok(v) => panic!("expected {status} {code}, got Ok({v:?})"),
        Err(e) => e,
    };
    assert_eq!((e.status(), e.problem().code()), (status, code), "{e}");
    e
}

/// The signer of every valid request here: HMAC-SHA1 with a token, a fixed
/// nonce and timestamp.
fn signer() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, "key", CONSUMER_SECRET)
        .token("token", TOKEN_SECRET)
        .nonce("nonce-123")
        .timestamp(NOW)
}

/// Collects, requires a token, verifies with the right secrets and checks
/// the timestamp — what a protected-resource endpoint does.
fn verify(request: &Request<'_>) -> Result<(), ProtocolError> {
    let signed = collect(request)?;
    signed.require(&["oauth_token"])?;
    signed.verify_signature(CONSUMER_SECRET, TOKEN_SECRET)?;
    signed.check_timestamp(NOW, &TimestampWindow::default())?;
    Ok(())
}

/// The protocol parameters of a signed header, as `name=value` pairs
/// encoded for a query or form body.
fn header_as_form(header: &str) -> String {
    let parsed = AuthorizationHeader::parse(header).unwrap();
    parsed
        .params()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes an `application/x-www-form-urlencoded` body (independently of the
/// crate's own decoder).
fn decode_form(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex escape"));
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).expect("UTF-8")
    }
    body.split('&')
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(n), decode(v))
        })
        .collect()
}

fn oauth_header(params: &[(&str, &str)]) -> String {
    format_authorization_header(None, params.iter().copied())
}

/// A complete set of protocol parameters (signature not valid) to vary.
const COMPLETE: [(&str, &str); 7] = [
    ("oauth_consumer_key", "key"),
    ("oauth_token", "token"),
    ("oauth_signature_method", "HMAC-SHA1"),
    ("oauth_signature", "c2lnbmF0dXJl"),
    ("oauth_timestamp", "1700000000"),
    ("oauth_nonce", "nonce-123"),
    ("oauth_version", "1.0"),
];

fn with(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    COMPLETE
        .iter()
        .map(|&(n, v)| (n, if n == name { value } else { v }))
        .collect()
}

/// The URL the signature and Problem Reporting tests sign.
const URL: &str = "https://api.example.com/v1/events?max=10&q=caf%C3%A9+au+lait";

/// A GET of [`URL`] as the provider receives it, authorized by `header`.
fn received(header: &str) -> Request<'_> {
    Request::new(
        "GET",
        "https",
        "api.example.com",
        "/v1/events?max=10&q=caf%C3%A9+au+lait",
    )
    .authorization(Some(header))
}
