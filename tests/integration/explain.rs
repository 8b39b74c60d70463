//! The `explain` example (`cargo run --example explain < request.json`), run as
//! a program: its JSON on stdout agrees with every published request vector,
//! and its explanation on stderr names the component a client signed
//! differently — without ever printing a secret.

use std::io::Write as _;
use std::process::{Command, Stdio};

use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{format_authorization_header, percent_encode};
use serde_json::{Value, json};

const CONSUMER_SECRET: &str = "cs-Kq3Zr8";
const TOKEN_SECRET: &str = "ts-Wp5Nx2";
const TIMESTAMP: u64 = 1_700_000_000;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The explanation never contains the secrets of [`input`].
    fn assert_no_secrets(&self) {
        for secret in [CONSUMER_SECRET, TOKEN_SECRET] {
            assert!(
                !self.stderr.contains(secret),
                "a secret on stderr:\n{}",
                self.stderr
            );
            assert!(
                !self.stderr.contains(&*percent_encode(secret)),
                "{}",
                self.stderr
            );
        }
    }
}

fn run(stdin: &str) -> Outcome {
    let mut child = Command::new(crate::support::examples::example_binary("explain"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn explain");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("explain output");
    Outcome {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn input(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    token_secret: Option<&str>,
) -> String {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    json!({
        "request": {"method": method, "url": url, "headers": headers, "body": body},
        "consumer_secret": CONSUMER_SECRET,
        "token_secret": token_secret,
    })
    .to_string()
}

fn signer() -> Signer<'static> {
    Signer::new(SignatureMethod::HmacSha1, "key", CONSUMER_SECRET)
        .token("token", TOKEN_SECRET)
        .timestamp(TIMESTAMP)
        .nonce("n0nce")
}

/// A refused request: exit 1, `valid: false`, this `problem`.
fn assert_refused(out: &Outcome, problem: &str) -> Value {
    assert_eq!(out.code, 1, "stderr:\n{}", out.stderr);
    let json = out.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["problem"], problem, "stderr:\n{}", out.stderr);
    out.assert_no_secrets();
    json
}

/// Signs `method signed_url` (with `signed_body` as its form body) with
/// [`signer`], then explains the request as the server received it: `url`,
/// the `Authorization` header plus `headers`, and `body`.
fn explain_signed(
    method: &str,
    signed_url: &str,
    signed_body: Option<&str>,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Outcome {
    let header = signer()
        .authorization_header(method, signed_url, signed_body.map(str::as_bytes))
        .expect("sign");
    let mut all = vec![("Authorization", header.as_str())];
    all.extend_from_slice(headers);
    run(&input(method, url, &all, body, Some(TOKEN_SECRET)))
}

/// A signature mismatch whose explanation names `component` and says `text`.
fn assert_explained(out: &Outcome, component: &str, text: &str) {
    assert_refused(out, "signature_invalid");
    let cause = format!("  * {component}: ");
    assert!(
        out.stderr.contains(&cause) && out.stderr.contains(text),
        "expected `{cause}…{text}` on stderr:\n{}",
        out.stderr
    );
}

#[test]
fn agrees_with_every_published_request_vector() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/..",
        "/tests/data/published.json"
    ))
    .expect("tests/data/published.json");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let mut checked = 0;
    for v in doc["vectors"].as_array().expect("vectors") {
        if v["kind"] != "request" {
            continue;
        }
        let id = v["id"].as_str().expect("id");
        let out = run(&v.to_string());
        let json = out.json();
        let valid = v["valid"].as_bool().unwrap_or(true);
        assert_eq!(json["valid"], valid, "{id}: {}", out.stderr);
        assert_eq!(out.code, if valid { 0 } else { 1 }, "{id}");
        if valid {
            assert_eq!(json["problem"], Value::Null, "{id}");
            assert!(out.stderr.starts_with("explain: valid"), "{id}");
        } else {
            assert_eq!(json["problem"], "signature_invalid", "{id}");
        }
        let expected = &v["expected"];
        for (field, key) in [
            ("base_string", "base_string"),
            ("base_string_uri", "base_string_uri"),
            ("normalized_params", "normalized_params"),
            ("expected_signature", "signature"),
        ] {
            if let Some(want) = expected[key].as_str() {
                assert_eq!(json[field], want, "{id}: {field}");
            }
        }
        assert_eq!(json["signature_method"], v["signature_method"], "{id}");
        assert_eq!(
            json["note"],
            "timestamp and nonce freshness are not checked by this tool"
        );
        checked += 1;
    }
    assert_eq!(checked, 18, "the request vectors changed: review them");
}

#[test]
fn a_valid_request_exits_0_and_says_so() {
    let url = "https://api.example.com/v1/events?max=10";
    let out = explain_signed("GET", url, None, url, &[], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["problem"], Value::Null);
    assert_eq!(json["expected_signature"], json["received_signature"]);
    assert_eq!(json["base_string_uri"], "https://api.example.com/v1/events");
    assert!(out.stderr.contains("valid"), "{}", out.stderr);
    out.assert_no_secrets();
}

#[test]
fn a_tampered_query_parameter_is_signature_invalid_and_points_at_the_parameters() {
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/events?max=10",
        None,
        "https://api.example.com/v1/events?max=11",
        &[],
        None,
    );
    let json = assert_refused(&out, "signature_invalid");
    assert_ne!(json["expected_signature"], json["received_signature"]);
    assert!(
        out.stderr.contains("No single common client mistake")
            && out
                .stderr
                .contains("Most likely component: a parameter value"),
        "{}",
        out.stderr
    );
    // The parameters are listed for comparison, the changed one included.
    assert!(out.stderr.contains("\n    max=11\n"), "{}", out.stderr);
    // What was ruled out is said.
    assert!(out.stderr.contains("scheme"), "{}", out.stderr);
}

#[test]
fn a_parameter_added_after_signing_is_named() {
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/events?max=10",
        None,
        "https://api.example.com/v1/events?max=10&_=1699999999",
        &[],
        None,
    );
    assert_explained(&out, "parameter", "did not sign the parameter `_`");
}

#[test]
fn a_request_signed_for_https_but_received_over_http_names_the_scheme() {
    let out = explain_signed(
        "POST",
        "https://api.example.com/v1/update",
        None,
        "http://api.example.com/v1/update",
        &[("Host", "api.example.com")],
        None,
    );
    assert_explained(
        &out,
        "scheme",
        "your client signed the URL with scheme https; the server received http",
    );
}

#[test]
fn a_request_received_on_an_internal_http_port_names_scheme_and_port() {
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/me",
        None,
        "http://api.example.com:8080/v1/me",
        &[],
        None,
    );
    // Both the scheme and the port differ; one recomputation finds both.
    assert_explained(&out, "scheme", "the port differs");
}

#[test]
fn a_rewritten_host_header_names_the_host() {
    let url = "https://api.example.com/v1/me";
    let out = explain_signed(
        "GET",
        url,
        None,
        url,
        &[("HOST", "backend.internal:8443")],
        None,
    );
    assert_explained(
        &out,
        "host",
        "your client signed the authority api.example.com; the server used \
         backend.internal:8443 — the host differs",
    );
    assert_eq!(
        out.json()["base_string_uri"],
        "https://backend.internal:8443/v1/me"
    );
}

/// The `Authorization` header of a client that builds its own base string
/// wrongly: `GET`, `uri`, and the protocol parameters plus `extra` (encoded
/// as the client encoded them) as its normalized parameters.
fn hand_signed(uri: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("oauth_consumer_key", "key"),
        ("oauth_nonce", "n0nce"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_token", "token"),
    ];
    let mut signed = params.clone();
    signed.extend_from_slice(extra);
    signed.sort_unstable();
    let normalized = signed
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base_string = format!(
        "GET&{}&{}",
        percent_encode(uri),
        percent_encode(&normalized)
    );
    let signature = SignatureMethod::HmacSha1.sign(&base_string, CONSUMER_SECRET, TOKEN_SECRET);
    params.push(("oauth_signature", &signature));
    format_authorization_header(None, params)
}

/// `GET url` as the server received it, with `authorization`.
fn explain_received(url: &str, authorization: &str) -> Outcome {
    run(&input(
        "GET",
        url,
        &[("Authorization", authorization)],
        None,
        Some(TOKEN_SECRET),
    ))
}

#[test]
fn a_default_port_kept_in_the_base_string_names_the_port() {
    // A client that signs `https://api.example.com:443/v1/me`, against §3.4.1.2.
    let header = hand_signed("https://api.example.com:443/v1/me", &[]);
    let out = explain_received("https://api.example.com/v1/me", &header);
    assert_explained(&out, "port", "kept the default port");
}

#[test]
fn a_port_dropped_from_the_signed_url_names_the_port() {
    // The client signs the URL without the port it then connects to.
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/me",
        None,
        "https://api.example.com:8443/v1/me",
        &[],
        None,
    );
    assert_explained(
        &out,
        "port",
        "your client signed the authority api.example.com; the server used \
         api.example.com:8443 — the port differs",
    );
}

#[test]
fn a_query_signed_as_part_of_the_path_names_the_path() {
    // A client that does not split the query off the URL: the base string
    // URI keeps it, and its parameters are not among the signed ones.
    let url = "https://api.example.com/v1/search?q=rust&page=2";
    let out = explain_received(url, &hand_signed(url, &[]));
    assert_explained(
        &out,
        "path",
        "your client signed the query string as part of the path",
    );
    // Or keeps it in the URI and also signs its parameters.
    let header = hand_signed(url, &[("page", "2"), ("q", "rust")]);
    let out = explain_received(url, &header);
    assert_explained(
        &out,
        "path",
        "your client put the query string into the base string URI",
    );
}

#[test]
fn a_plus_for_a_space_in_the_base_string_names_the_parameter() {
    // `q=a b` sent as `q=a%20b`, signed with form encoding's `+` (§3.6 wants %20).
    let header = hand_signed("https://api.example.com/search", &[("q", "a+b")]);
    let out = explain_received("https://api.example.com/search?q=a%20b", &header);
    assert_explained(
        &out,
        "parameter",
        "your client encoded spaces as '+' (form encoding); OAuth encodes them as %20",
    );
}

#[test]
fn a_value_percent_encoded_twice_names_the_parameter() {
    // The app hands the OAuth library `caf%C3%A9` already encoded: it signs
    // the value encoded twice and sends it encoded once. `name` is right.
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/items?q=caf%25C3%25A9&name=a%20b",
        None,
        "https://api.example.com/v1/items?q=caf%C3%A9&name=a%20b",
        &[],
        None,
    );
    assert_explained(
        &out,
        "parameter",
        "your client percent-encoded the value of `q` twice: it signed caf%25C3%25A9, the \
         server received caf%C3%A9",
    );
    assert!(
        !out.stderr.contains("the value of `name`"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_value_percent_encoded_twice_is_named_at_once() {
    // Two values handed over encoded; the callback (an oauth_ value with
    // escapes) is right, so only the non-protocol values were encoded twice.
    let signer = signer().callback("https://client.example/cb");
    let header = signer
        .authorization_header(
            "GET",
            "https://api.example.com/v1/items?q=caf%25C3%25A9&name=a%2520b",
            None,
        )
        .expect("sign");
    let out = explain_received(
        "https://api.example.com/v1/items?q=caf%C3%A9&name=a%20b",
        &header,
    );
    assert_explained(
        &out,
        "parameter",
        "your client percent-encoded every parameter value twice",
    );
}

#[test]
fn a_value_whose_utf8_is_encoded_twice_names_the_mojibake() {
    // Signed as "ZÃ¼rich" (UTF-8 read as Latin-1, encoded again), sent as "Zürich".
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/weather?city=Z%C3%83%C2%BCrich",
        None,
        "https://api.example.com/v1/weather?city=Z%C3%BCrich",
        &[],
        None,
    );
    assert_explained(
        &out,
        "parameter",
        "your client encoded the value of `city` as UTF-8 twice: it signed \"ZÃ¼rich\" for the \
         \"Zürich\" the server received",
    );
    // Signed as "Zürich", received as "ZÃ¼rich".
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/weather?city=Z%C3%BCrich",
        None,
        "https://api.example.com/v1/weather?city=Z%C3%83%C2%BCrich",
        &[],
        None,
    );
    assert_explained(
        &out,
        "parameter",
        "the server received the value of `city` encoded as UTF-8 twice (\"ZÃ¼rich\"), your \
         client signed it encoded once (\"Zürich\")",
    );
}

#[test]
fn a_path_signed_decoded_names_the_path() {
    let out = explain_signed(
        "GET",
        "https://api.example.com/files/my report.txt",
        None,
        "https://api.example.com/files/my%20report.txt",
        &[],
        None,
    );
    assert_explained(&out, "path", "the percent-decoded path");
}

#[test]
fn a_form_body_sent_with_another_content_type_names_the_body() {
    let body = "status=hello";
    let out = explain_signed(
        "POST",
        "https://api.example.com/v1/update",
        Some(body),
        "https://api.example.com/v1/update",
        &[("content-type", "application/json")],
        Some(body),
    );
    assert_explained(
        &out,
        "body",
        "your client signed the body as form parameters, but the request's Content-Type is \
         \"application/json\"",
    );
}

#[test]
fn an_unsigned_form_body_names_the_body() {
    let out = explain_signed(
        "POST",
        "https://api.example.com/v1/update",
        None,
        "https://api.example.com/v1/update",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("status=hello"),
    );
    assert_explained(&out, "body", "your client did not sign the form body");
}

#[test]
fn a_plus_signed_as_a_literal_plus_names_the_query() {
    let out = explain_signed(
        "GET",
        "https://api.example.com/search?q=a%2Bb",
        None,
        "https://api.example.com/search?q=a+b",
        &[],
        None,
    );
    assert_explained(&out, "parameter", "'+' in the query as a literal plus");
}

#[test]
fn a_signature_without_the_token_secret_names_the_token_secret() {
    let header = Signer::new(SignatureMethod::HmacSha1, "key", CONSUMER_SECRET)
        .token("token", "")
        .timestamp(TIMESTAMP)
        .authorization_header("GET", "https://api.example.com/v1/me", None)
        .unwrap();
    let out = run(&input(
        "GET",
        "https://api.example.com/v1/me",
        &[("Authorization", &header)],
        None,
        Some(TOKEN_SECRET),
    ));
    assert_explained(
        &out,
        "token secret",
        "your client signed without the token secret",
    );
}

#[test]
fn a_wrong_plaintext_token_secret_is_located_without_printing_secrets() {
    let header = Signer::new(SignatureMethod::Plaintext, "key", CONSUMER_SECRET)
        .token("token", "ts-other")
        .authorization_header("GET", "https://api.example.com/v1/me", None)
        .unwrap();
    let out = run(&input(
        "GET",
        "https://api.example.com/v1/me",
        &[("Authorization", &header)],
        None,
        Some(TOKEN_SECRET),
    ));
    assert_explained(&out, "token secret", "the token secret part differs");
    assert!(!out.stderr.contains("ts-other"), "{}", out.stderr);
}

#[test]
fn a_request_missing_oauth_nonce_is_parameter_absent() {
    // Correctly signed, but without oauth_nonce: refused for that alone.
    let unsigned = [
        ("oauth_consumer_key", "key"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_token", "token"),
    ];
    let url = "https://api.example.com/v1/me";
    let normalized = unsigned
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base_string = format!(
        "GET&{}&{}",
        percent_encode(url),
        percent_encode(&normalized)
    );
    let signature = SignatureMethod::HmacSha1.sign(&base_string, CONSUMER_SECRET, TOKEN_SECRET);
    let header = format_authorization_header(
        None,
        unsigned
            .into_iter()
            .chain([("oauth_signature", &*signature)]),
    );
    let out = run(&input(
        "GET",
        url,
        &[("Authorization", &header)],
        None,
        Some(TOKEN_SECRET),
    ));
    let json = assert_refused(&out, "parameter_absent");
    assert_eq!(json["base_string"], base_string);
    assert_eq!(json["expected_signature"], json["received_signature"]);
    assert!(
        out.stderr.contains("oauth_problem=parameter_absent")
            && out.stderr.contains("missing: oauth_nonce")
            && out.stderr.contains("The signature itself matches"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_signature_method_is_signature_method_rejected() {
    let url = "http://api.example.com/x?oauth_consumer_key=key&oauth_nonce=n&oauth_timestamp=1\
               &oauth_signature_method=RSA-SHA512&oauth_signature=abc";
    let out = run(&input("GET", url, &[], None, None));
    let json = assert_refused(&out, "signature_method_rejected");
    assert_eq!(json["signature_method"], "RSA-SHA512");
    assert_eq!(json["expected_signature"], "");
    assert!(
        out.stderr.contains("not a method this provider implements"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_rsa_signature_gets_its_base_string_and_no_guesswork() {
    let url = "http://api.example.com/x?oauth_consumer_key=key&oauth_nonce=n&oauth_timestamp=1\
               &oauth_signature_method=RSA-SHA1&oauth_signature=abc";
    let out = run(&input("GET", url, &[], None, None));
    let json = assert_refused(&out, "signature_invalid");
    assert_eq!(json["signature_method"], "RSA-SHA1");
    assert!(
        json["base_string"]
            .as_str()
            .unwrap()
            .starts_with("GET&http%3A%2F%2Fapi.example.com%2Fx&")
    );
    assert!(out.stderr.contains("RSA private key"), "{}", out.stderr);
}

#[test]
fn bad_json_exits_2_with_a_message() {
    let out = run("{\"request\": ");
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.starts_with("explain: invalid input:") && out.stderr.contains("usage:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_field_exits_2_naming_it() {
    let out = run(r#"{"request": {"method": "GET", "url": "http://h/"}}"#);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("missing field `consumer_secret`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_relative_url_exits_2() {
    let out = run(&input(
        "GET",
        "/v1/me",
        &[("Host", "api.example.com")],
        None,
        None,
    ));
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("absolute URL"), "{}", out.stderr);
}

#[test]
fn a_request_that_cannot_be_collected_exits_2_with_its_problem() {
    // Protocol parameters in the header and the query at once.
    let out = explain_signed(
        "GET",
        "https://api.example.com/v1/me",
        None,
        "https://api.example.com/v1/me?oauth_nonce=again",
        &[],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("oauth_problem=parameter_rejected")
            && out
                .stderr
                .contains("advice: OAuth protocol parameters must be sent in one place only"),
        "{}",
        out.stderr
    );
    let out = run(&input(
        "GET",
        "https://api.example.com/v1/me?oauth_version=2.0",
        &[],
        None,
        None,
    ));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("HTTP 400 oauth_problem=version_rejected"),
        "{}",
        out.stderr
    );
}
