//! An independent client completes the flow against the demo process:
//! Python's oauthlib through requests-oauthlib
//! (`tests/clients/requests_oauthlib_flow.py`, in the venv
//! `.ci/python-venv.sh` makes; `OAUTH1_TEST_PYTHON` is its python).
//!
//! oauthlib signs every token request and API call — HMAC-SHA1, HMAC-SHA256
//! and HMAC-SHA512, with the parameters in the header, the query and a form
//! body — over query and form parameters with a literal `+`, spaces sent as
//! `+`, UTF-8 and repeated names. The script reports; this test asserts.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::demo_client::{Credentials, Site, demo_with_consumer_and};
use crate::support::env::service_env;

const SCRIPT: &str = "tests/clients/requests_oauthlib_flow.py";
const CALLBACK_PREFIX: &str = "http://client.test/";

/// The script's report, run once for the tests of this module; `None` (the
/// tests skip) without `OAUTH1_TEST_PYTHON`.
fn report() -> Option<&'static Value> {
    static REPORT: OnceLock<Option<Value>> = OnceLock::new();
    REPORT
        .get_or_init(|| service_env("OAUTH1_TEST_PYTHON").map(|python| run_script(&python)))
        .as_ref()
}

/// Runs the script against a fresh demo; its JSON report.
fn run_script(python: &str) -> Value {
    let consumer = Credentials::new("oauthlib-key", "oauthlib secret +/=");
    // The script authorizes the one app once per signature method and uses
    // every grant afterwards, as three devices would.
    let keep = ["--earlier-grants", "keep"];
    let demo = demo_with_consumer_and(&consumer, "oauthlib client", CALLBACK_PREFIX, &keep);
    let site = Site::new(demo.addr, &demo.base_url());
    let script = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(SCRIPT);
    let output = Command::new(python)
        .arg(&script)
        .arg(&site.origin)
        .args([
            "--other-origin",
            &format!("http://localhost:{}", demo.addr.port()),
        ])
        .args(["--consumer-key", &consumer.key])
        .args(["--consumer-secret", &consumer.secret])
        .args(["--callback", &format!("{CALLBACK_PREFIX}oauthlib/done")])
        .args(["--user", "test@example.com:password"])
        .args(["--admin", "admin@example.com:password"])
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

/// `(status, oauth_problem)` of a reported refusal.
fn refusal(outcome: &Value) -> (u64, Option<&str>) {
    (
        outcome["status"].as_u64().expect("a status"),
        outcome["oauth_problem"].as_str(),
    )
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
    assert_eq!(
        refusal(&report["plaintext_request_token"]),
        (400, Some("signature_method_rejected")),
        "{}",
        report["plaintext_request_token"]
    );
    // A token obtained on http://127.0.0.1:PORT is bound to it: refused on
    // http://localhost:PORT, the same process's other public origin.
    assert_eq!(
        refusal(&report["other_origin"]),
        (401, Some("token_rejected")),
        "{}",
        report["other_origin"]
    );
    // A Host the site is not served under never reaches OAuth.
    let unknown = &report["unknown_host"];
    assert_eq!(unknown["status"], 400, "{unknown}");
    assert_eq!(unknown["text"], "This site is not served at this address.");
}
