//! The three-legged flow driven over real HTTP against a demo provider
//! process, signing with the crate's `Signer`: sign in, request token,
//! consent, exchange, protected calls, a forged call and a denial.

use crate::support::demo_client::{Credentials, Site, oauth_problem};
use crate::support::demo_process::DemoProcess;
use crate::support::reply::param as query_param;

#[test]
fn the_whole_flow_over_http_against_the_demo_process() {
    let demo = DemoProcess::spawn(&[
        "--store",
        "memory",
        "--consumer",
        "flow-key:flow-secret:Flow Test",
        "--callback-prefix",
        "http://client.test/",
    ]);
    let site = Site::new(demo.addr, &demo.base_url());
    let consumer = Credentials::new("flow-key", "flow-secret");
    let token = site.obtain_access_token(
        &consumer,
        "http://client.test/done",
        "test@example.com",
        "password",
    );
    let whoami = site.whoami(&consumer, &token);
    assert_eq!(whoami.status, 200, "{}", whoami.text());
    let json: serde_json::Value = serde_json::from_slice(&whoami.body).expect("JSON");
    assert_eq!(json["email"], "test@example.com");
    assert_eq!(json["consumer_key"], "flow-key");
    assert_eq!(json["admin"], false);

    // A wrong token secret is refused with the signature problem.
    let forged = site.whoami(&consumer, &Credentials::new(&token.key, "wrong"));
    assert_eq!(forged.status, 401);
    assert_eq!(oauth_problem(&forged).as_deref(), Some("signature_invalid"));

    // Deny → the callback hears user_refused... and the token cannot be exchanged.
    let temporary = site
        .request_token(&consumer, "http://client.test/done")
        .expect("request token");
    let cookie = site.sign_in("test@example.com", "password");
    let denied = site.consent(&cookie, &temporary.key, "deny");
    assert_eq!(denied.status, 303);
    let location = denied.header("location").expect("callback");
    assert!(
        query_param(location, "oauth_verifier").is_none(),
        "{location}"
    );
    let exchange = site
        .access_token(&consumer, &temporary, "anything")
        .expect_err("a denied token cannot be exchanged");
    assert_eq!(exchange.status, 401);
}
