//! Python oauthlib as an independent signer: requests it signs, as the
//! provider receives them.

use crate::support::request::OwnedRequest;

/// Signs a request with Python oauthlib (`tests/clients/oauthlib_sign.py`,
/// run by `OAUTH1_TEST_PYTHON`): its `{uri, headers, body}`. `None`, with the
/// reason printed, when no such Python is configured — unless `CI` is set,
/// where that is a failure.
pub fn oauthlib_sign(spec: &serde_json::Value) -> Option<serde_json::Value> {
    use std::io::Write as _;
    let Some(python) = std::env::var_os("OAUTH1_TEST_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but OAUTH1_TEST_PYTHON is not: create the venv with .ci/python-venv.sh"
        );
        eprintln!(
            "skipped: OAUTH1_TEST_PYTHON is not set (a Python with tests/clients/requirements.txt, \
             e.g. target/ci-venv/bin/python)"
        );
        return None;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/..",
        "/tests/clients/oauthlib_sign.py"
    );
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run OAUTH1_TEST_PYTHON");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oauthlib_sign.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("oauthlib_sign.py prints JSON"))
}

/// The request oauthlib signed, as the provider receives it.
pub fn from_oauthlib(method: &str, signed: &serde_json::Value) -> OwnedRequest {
    let mut request = OwnedRequest::from_url(method, signed["uri"].as_str().unwrap(), None);
    let headers = signed["headers"].as_object().unwrap();
    request.authorization = headers
        .get("Authorization")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    request.content_type = headers
        .get("Content-Type")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    if let Some(body) = signed["body"].as_str() {
        request.body = body.as_bytes().to_vec();
    }
    request
}
