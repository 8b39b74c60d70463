//! An independent Rust client completes the flow over HTTP against the demo
//! process: every token request and API call is signed by the
//! `oauth1-request` crate (0.6: HMAC-SHA1 and PLAINTEXT), not by our
//! [`Signer`](oauth1_provider::client::Signer). Sign-in and consent are the browser's
//! part, done by [`Site`].
//!
//! `oauth1-request` 0.6 sorts repeated names by raw value (RFC 5849 sorts by
//! encoded value; see `interop.rs`), so the repeated values here sort the
//! same both ways.

use oauth1_request as oauth;

use crate::support::demo_client::{
    Credentials, Site, credentials_in, demo_with_consumer, oauth_problem,
};
use crate::support::demo_process::DemoProcess;
use crate::support::http::HttpResponse;

const REQUEST_TOKEN: &str = "/_ah/OAuthGetRequestToken";
const ACCESS_TOKEN: &str = "/_ah/OAuthGetAccessToken";
const WHOAMI: &str = "/api/whoami";
const FORM: &str = "application/x-www-form-urlencoded";
const CALLBACK: &str = "http://client.test/oauth1-request/done";

fn consumer() -> Credentials {
    Credentials::new("oauth1-request-key", "oauth1-request secret&+")
}

/// A demo with [`consumer`] registered.
fn demo() -> (DemoProcess, Site) {
    demo_with_consumer(&consumer(), "oauth1-request client", "http://client.test/")
}

/// Query and form parameters: a literal `+`, spaces, UTF-8 beyond Latin-1,
/// a repeated name, an empty value, reserved characters.
fn params() -> oauth::ParameterList<&'static str, &'static str> {
    oauth::ParameterList::new(vec![
        ("q", "a+b c"),
        ("city", "Z\u{fc}rich \u{20ac} \u{1f980}"),
        ("tag", "beta"),
        ("tag", "alpha"),
        ("tag", "alpha beta"),
        ("empty", ""),
        ("expr", "x=1&y=2/3?"),
    ])
}

/// `params` form-encoded as browsers and most clients send them: a space as
/// `+`, a literal `+` as `%2B`.
fn params_form() -> String {
    let form = oauth::to_form(&params());
    assert!(form.contains("a%2Bb%20c"), "{form}");
    form.replace("%20", "+")
}

/// Sends a request with an optional `Authorization` header and form body.
fn send(
    site: &Site,
    method: &str,
    target: &str,
    authorization: Option<&str>,
    form: Option<&str>,
) -> HttpResponse {
    let mut headers = Vec::new();
    if let Some(authorization) = authorization {
        headers.push(("Authorization", authorization));
    }
    if form.is_some() {
        headers.push(("Content-Type", FORM));
    }
    site.send(
        method,
        target,
        &headers,
        form.unwrap_or_default().as_bytes(),
    )
}

fn client_credentials(consumer: &Credentials) -> oauth::Credentials<&str> {
    oauth::Credentials::new(&consumer.key, &consumer.secret)
}

/// Signs with token credentials, HMAC-SHA1.
type TokenSigner<'a> = oauth::Builder<'a, oauth::signature_method::HmacSha1, &'a str>;

fn token_signer<'a>(consumer: &'a Credentials, token: &'a Credentials) -> TokenSigner<'a> {
    oauth::Builder::with_token(token_credentials(consumer, token), oauth::HMAC_SHA1)
}

/// A `GET` of `target` on `site`, signed for that site's URL of it.
fn signed_get(site: &Site, signer: &TokenSigner<'_>, target: &str) -> HttpResponse {
    let authorization = signer.get(site.url(target), &());
    send(site, "GET", target, Some(&authorization), None)
}

fn token_credentials<'a>(
    consumer: &'a Credentials,
    token: &'a Credentials,
) -> oauth::Token<&'a str> {
    oauth::Token::from_parts(&consumer.key, &consumer.secret, &token.key, &token.secret)
}

/// Request token → sign in as `email` and allow (as a browser) → exchange,
/// the token requests signed by oauth1-request.
fn obtain_access_token(site: &Site, consumer: &Credentials, email: &str) -> Credentials {
    let header = oauth::Builder::<_, _>::new(client_credentials(consumer), oauth::HMAC_SHA1)
        .callback(CALLBACK)
        .post(site.url(REQUEST_TOKEN), &());
    let reply = send(site, "POST", REQUEST_TOKEN, Some(&header), None);
    assert!(
        reply.text().contains("oauth_callback_confirmed=true"),
        "{} {}",
        reply.status,
        reply.text()
    );
    let temporary = credentials_in(reply).expect("temporary credentials");

    let cookie = site.sign_in(email, "password");
    let verifier = site.approve(&cookie, &temporary.key);

    let header = token_signer(consumer, &temporary)
        .verifier(verifier.as_str())
        .post(site.url(ACCESS_TOKEN), &());
    let reply = send(site, "POST", ACCESS_TOKEN, Some(&header), None);
    credentials_in(reply).unwrap_or_else(|r| panic!("access token: {} {}", r.status, r.text()))
}

fn assert_whoami(reply: &HttpResponse, email: &str, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
    let json = reply.json();
    assert_eq!(json["email"], email, "{what}");
    assert_eq!(json["consumer_key"], "oauth1-request-key", "{what}");
}

#[test]
fn oauth1_request_completes_the_flow_and_signs_api_calls_every_way() {
    let (_demo, site) = demo();
    let consumer = consumer();
    let token = obtain_access_token(&site, &consumer, "test@example.com");
    let builder = token_signer(&consumer, &token);
    let (params, form) = (params(), params_form());
    let url = site.url(WHOAMI);

    // Header, parameters in the query.
    let header = builder.get(&url, &params);
    let target = format!("{WHOAMI}?{form}");
    let reply = send(&site, "GET", &target, Some(&header), None);
    assert_whoami(&reply, "test@example.com", "header-signed GET");

    // The query is covered by the signature.
    let tampered = target.replace("alpha+beta", "alpha+gamma");
    let reply = send(&site, "GET", &tampered, Some(&header), None);
    assert_eq!(
        (reply.status, oauth_problem(&reply).as_deref()),
        (401, Some("signature_invalid")),
        "{}",
        reply.text()
    );

    // Header, parameters in a form body.
    let header = builder.post(&url, &params);
    let reply = send(&site, "POST", WHOAMI, Some(&header), Some(&form));
    assert_whoami(&reply, "test@example.com", "header-signed form POST");

    // Protocol parameters in the query (oauth1-request's `get_query` leaves
    // the request's own parameters out of the URI it returns: append them).
    let signed_url = builder.get_query(url.clone(), &params);
    let query = signed_url.split_once('?').expect("a query").1;
    let reply = send(
        &site,
        "GET",
        &format!("{WHOAMI}?{query}&{form}"),
        None,
        None,
    );
    assert_whoami(&reply, "test@example.com", "query-signed GET");

    // Protocol parameters in the form body (likewise).
    let protocol = builder.post_form(&url, &params);
    let body = format!("{form}&{protocol}");
    let reply = send(&site, "POST", WHOAMI, None, Some(&body));
    assert_whoami(&reply, "test@example.com", "body-signed form POST");

    // Not an admin…
    let reply = signed_get(&site, &builder, "/api/admin");
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(reply.json()["error"], "admin_required");

    // …but the admin is.
    let admin = obtain_access_token(&site, &consumer, "admin@example.com");
    let reply = signed_get(&site, &token_signer(&consumer, &admin), "/api/admin");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["email"], "admin@example.com");
}

#[test]
fn oauth1_request_is_refused_plaintext_over_http_other_origins_and_unknown_hosts() {
    let (demo, site) = demo();
    let consumer = consumer();

    // PLAINTEXT sends the secrets in the clear: never over plain HTTP.
    let header = oauth::Builder::<_, _>::new(client_credentials(&consumer), oauth::PLAINTEXT)
        .callback(CALLBACK)
        .post(site.url(REQUEST_TOKEN), &());
    let reply = send(&site, "POST", REQUEST_TOKEN, Some(&header), None);
    assert_eq!(
        (reply.status, oauth_problem(&reply).as_deref()),
        (400, Some("signature_method_rejected")),
        "{}",
        reply.text()
    );

    // A token obtained on http://127.0.0.1:PORT, signed correctly for
    // http://localhost:PORT (the same process's other public origin), is
    // refused there: tokens are bound to the host they were obtained on.
    let token = obtain_access_token(&site, &consumer, "test@example.com");
    let signer = token_signer(&consumer, &token);
    let localhost = Site::new(demo.addr, &format!("http://localhost:{}", demo.addr.port()));
    let reply = signed_get(&localhost, &signer, WHOAMI);
    assert_eq!(
        (reply.status, oauth_problem(&reply).as_deref()),
        (401, Some("token_rejected")),
        "{}",
        reply.text()
    );
    // Where it was obtained, it works.
    let reply = signed_get(&site, &signer, WHOAMI);
    assert_whoami(&reply, "test@example.com", "on its own origin");

    // A Host the site is not served under is refused before OAuth.
    let stranger = Site::new(demo.addr, "http://evil.example");
    let reply = signed_get(&stranger, &signer, WHOAMI);
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.text(), "This site is not served at this address.");
}
