//! An independent client completes the flow against the demo process:
//! Python's oauthlib through requests-oauthlib
//! (`tests/clients/requests_oauthlib_flow.py`, in the venv
//! `.ci/python-venv.sh` makes; `OAUTH1_TEST_PYTHON` is its python).
//!
//! oauthlib signs every token request and API call — HMAC-SHA1, HMAC-SHA256
//! and HMAC-SHA512, with the parameters in the header, the query and a form
//! body — over query and form parameters with a literal `+`, spaces sent as
//! `+`, UTF-8 and repeated names. The script reports; this test asserts.
//!
//! Grants: a token asked for with `scope=photos.read` reads the photo API
//! and is refused writing to it; its identity token (`/_ah/OAuthIdentify`)
//! is decoded by PyJWT with the consumer secret, and refused with another.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::demo_client::{Credentials, Site, demo_with_consumer_and};
use crate::support::demo_process::DemoProcess;
use crate::support::env::service_env;

const SCRIPT: &str = "tests/clients/requests_oauthlib_flow.py";
const CALLBACK_PREFIX: &str = "http://client.test/";

/// The script's report, run once for the tests of this module; `None` (the
/// tests skip) without `OAUTH1_TEST_PYTHON`.
fn report() -> Option<&'static Value> {
    static REPORT: OnceLock<Option<Value>> = OnceLock::new();
    once(&REPORT, |python| {
        let consumer = Credentials::new("oauthlib-key", "oauthlib secret +/=");
        // The script authorizes the one app once per signature method and
        // uses every grant afterwards, as three devices would.
        let keep = ["--earlier-grants", "keep"];
        let demo = demo_with_consumer_and(&consumer, "oauthlib client", CALLBACK_PREFIX, &keep);
        let other_origin = format!("http://localhost:{}", demo.addr.port());
        let admin = "admin@example.com:password";
        let args = ["--other-origin", &other_origin, "--admin", admin];
        run_script(python, &demo, &consumer, &args)
    })
}

/// The script's report with `--scope photos.read`, against an app
/// registered for the photo grants; `None` as for [`report`].
fn grants_report() -> Option<&'static Value> {
    static REPORT: OnceLock<Option<Value>> = OnceLock::new();
    once(&REPORT, |python| {
        let consumer = Credentials::new("oauthlib-photos", "oauthlib photos secret");
        // NAME:GRANTS, as on the command line.
        let name = "oauthlib photos:photos.read,photos.write";
        let demo = demo_with_consumer_and(&consumer, name, CALLBACK_PREFIX, &[]);
        let other = "another consumer's secret";
        let args = ["--scope", "photos.read", "--other-secret", other];
        run_script(python, &demo, &consumer, &args)
    })
}

/// What `run` reports with `OAUTH1_TEST_PYTHON`'s python, run once into
/// `cell`; `None` without it.
fn once(
    cell: &'static OnceLock<Option<Value>>,
    run: impl FnOnce(&str) -> Value,
) -> Option<&'static Value> {
    cell.get_or_init(|| service_env("OAUTH1_TEST_PYTHON").map(|python| run(&python)))
        .as_ref()
}

/// Runs the script with `args` against `demo`, as `consumer`; its JSON
/// report.
fn run_script(python: &str, demo: &DemoProcess, consumer: &Credentials, args: &[&str]) -> Value {
    let site = Site::new(demo.addr, &demo.base_url());
    let script = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(SCRIPT);
    let output = Command::new(python)
        .arg(&script)
        .arg(&site.origin)
        .args(["--consumer-key", &consumer.key])
        .args(["--consumer-secret", &consumer.secret])
        .args(["--callback", &format!("{CALLBACK_PREFIX}oauthlib/done")])
        .args(["--user", "test@example.com:password"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {python} {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{SCRIPT} failed ({}):\n{}\n{stdout}\nprovider log:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        demo.log()
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{SCRIPT} printed no JSON ({e}): {stdout}"))
}

/// Asserts the reported `outcome` is a refusal with `status` and
/// `oauth_problem`.
#[track_caller]
fn assert_refused(outcome: &Value, status: u64, problem: &str) {
    let refusal = (
        outcome["status"].as_u64().expect("a status"),
        outcome["oauth_problem"].as_str(),
    );
    assert_eq!(refusal, (status, Some(problem)), "{outcome}");
}

#[test]
fn requests_oauthlib_completes_the_flow_and_signs_api_calls_every_way() {
    let Some(report) = report() else {
        return;
    };
    assert_eq!(report["oauthlib"], "3.2.2", "the pinned oauthlib");

    for (method, token_calls_in) in [
        ("HMAC-SHA1", "AUTH_HEADER"),
        ("HMAC-SHA256", "QUERY"),
        ("HMAC-SHA512", "BODY"),
    ] {
        let flow = &report["flows"][method];
        assert_eq!(flow["signature_type"], token_calls_in, "{method}");
        assert_eq!(flow["callback_confirmed"], "true", "{method}");
        assert_eq!(flow["callback"], "http://client.test/oauthlib/done");
        assert_eq!(flow["access_token"], true, "{method}");
        for call in [
            "header_get",
            "header_form_post",
            "query_get",
            "body_form_post",
        ] {
            let outcome = &flow["calls"][call];
            assert_eq!(outcome["status"], 200, "{method} {call}: {outcome}");
            assert_eq!(outcome["json"]["email"], "test@example.com");
            assert_eq!(outcome["json"]["consumer_key"], "oauthlib-key");
            assert_eq!(outcome["json"]["admin"], false);
        }
        // Not an admin.
        let admin = &flow["calls"]["admin"];
        assert_eq!(admin["status"], 403, "{method}: {admin}");
        assert_eq!(admin["json"]["error"], "admin_required");
    }

    // An admin's token opens /api/admin.
    let admin = &report["admin"];
    assert_eq!(admin["status"], 200, "{admin}");
    assert_eq!(admin["json"]["admin"], true);
    assert_eq!(admin["json"]["email"], "admin@example.com");
}

#[test]
fn requests_oauthlib_is_refused_plaintext_over_http_other_origins_and_unknown_hosts() {
    let Some(report) = report() else {
        return;
    };
    // PLAINTEXT sends the secrets in the clear: never over plain HTTP.
    assert_refused(
        &report["plaintext_request_token"],
        400,
        "signature_method_rejected",
    );
    // A token obtained on http://127.0.0.1:PORT is bound to it: refused on
    // http://localhost:PORT, the same process's other public origin.
    assert_refused(&report["other_origin"], 401, "token_rejected");
    // A Host the site is not served under never reaches OAuth.
    let unknown = &report["unknown_host"];
    assert_eq!(unknown["status"], 400, "{unknown}");
    assert_eq!(unknown["text"], "This site is not served at this address.");
}

#[test]
fn requests_oauthlib_with_scope_photos_read_reads_photos_and_is_refused_adding_one() {
    let Some(report) = grants_report() else {
        return;
    };
    assert_eq!(report["flow"]["access_token"], true, "{report}");
    let list = &report["list"];
    assert_eq!(list["status"], 200, "{list}");
    assert_eq!(list["json"]["photos"], serde_json::json!([]));
    assert_refused(&report["add"], 403, "permission_denied");
    assert_eq!(
        report["list_after"]["json"]["photos"],
        serde_json::json!([])
    );
    // Not asked for, so not granted, though the app is registered for it…
    // and the profile it was never registered for.
    assert_refused(&report["whoami"], 403, "permission_denied");
}

#[test]
fn pyjwt_decodes_the_identity_token_with_the_consumer_secret_and_no_other() {
    let Some(report) = grants_report() else {
        return;
    };
    assert_eq!(report["pyjwt"], "2.9.0", "the pinned PyJWT");
    let identity = &report["identity"];
    assert_eq!(identity["status"], 200, "{identity}");
    assert_eq!(identity["content_type"], "application/jwt");
    let claims = &identity["claims"];
    // jwt.decode checked the signature, `aud` (the consumer key), `iss`
    // (the provider's origin) and `exp`.
    assert_eq!(claims["email"], "test@example.com", "{claims}");
    assert_eq!(claims["admin"], false);
    assert_eq!(claims["sub"], demo_user_id("test@example.com"));
    assert_eq!(
        claims["grants"],
        serde_json::json!(["identity", "photos.read"])
    );
    assert_eq!(claims["nonce"], identity["sent_nonce"], "{identity}");
    assert!(
        identity["sent_nonce"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(identity["other_secret"], "InvalidSignatureError");
    assert_eq!(identity["other_audience"], "InvalidAudienceError");
}

/// The user id the demo gives `email` (`examples/provider/app/users.rs`):
/// the first 63 bits of its SHA-256, in decimal.
fn demo_user_id(email: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(email.as_bytes());
    let first: [u8; 8] = digest[..8].try_into().expect("8 bytes");
    (u64::from_be_bytes(first) >> 1).to_string()
}
