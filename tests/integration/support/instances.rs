//! Demo instances behind a load balancer: each serves the one public
//! [`ORIGIN`] on its own port, with the same registered consumer, on a shared
//! store (and Redis nonces).

use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;

use crate::support::demo_client::{Credentials, Site};
use crate::support::services::RedisPrefix;

/// The one public origin every instance serves, as behind a load balancer.
pub const ORIGIN: &str = "http://app.test:8080";
/// The registered consumer the tests use.
pub const CONSUMER_KEY: &str = "lb-key";
pub const CONSUMER_SECRET: &str = "lb-secret";
pub const CALLBACK: &str = "http://client.test/ready";

/// The demo's arguments for one instance behind the balancer.
pub fn instance_args<'a>(store: &'a str, nonces: Option<&'a RedisPrefix>) -> Vec<&'a str> {
    let mut args = vec![
        "--store",
        store,
        "--public-origin",
        ORIGIN,
        "--consumer",
        "lb-key:lb-secret:Load Balanced",
        "--callback-prefix",
        CALLBACK,
        // Many grants of the one app by each user, all in use at once.
        "--earlier-grants",
        "keep",
    ];
    if let Some(redis) = nonces {
        args.extend(["--nonces", &redis.url, "--nonce-key-prefix", &redis.prefix]);
    }
    args
}

pub fn consumer() -> Credentials {
    Credentials::new(CONSUMER_KEY, CONSUMER_SECRET)
}

/// A signed `GET /api/whoami`'s `Authorization` header for `site`'s origin,
/// to send (and resend) as is.
pub fn signed_whoami(site: &Site, token: &Credentials) -> String {
    Signer::new(SignatureMethod::HmacSha1, CONSUMER_KEY, CONSUMER_SECRET)
        .token(&token.key, &token.secret)
        .authorization_header("GET", &site.url("/api/whoami"), None)
        .expect("sign")
}
