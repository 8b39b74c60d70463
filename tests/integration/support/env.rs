//! What the environment provides: test servers and client programs, or a
//! printed reason to skip.

/// The value of environment variable `var` — the URL of a test server, the
/// path of a client program — or `None` after printing that the test is
/// skipped. Under CI (`CI` set) a missing value is a failure: CI must run
/// these tests for real (`.ci/run` sets every such variable).
pub fn service_env(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{var} is not set but CI is: CI must run this test for real \
             (`.ci/run` sets it; see .ci/services.sh, .ci/python-venv.sh, .ci/browser.sh, \
             .ci/nginx.sh)"
        ),
        _ => {
            eprintln!(
                "skipping: set {var} to run this test for real \
                 (`.ci/run` shows how: .ci/services.sh, .ci/python-venv.sh, .ci/browser.sh, \
                 .ci/nginx.sh)"
            );
            None
        }
    }
}
