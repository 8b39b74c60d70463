//! Helpers shared by the integration tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use oauth1_provider::{Request, parse_form};

/// An owned request as a vector or test describes it, viewable as a [`Request`].
#[derive(Debug)]
pub struct OwnedRequest {
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub target: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl OwnedRequest {
    /// Splits an absolute URL; `host` (the Host header) overrides its authority.
    pub fn from_url(method: &str, url: &str, host: Option<&str>) -> Self {
        let (scheme, rest) = url.split_once("://").expect("absolute URL");
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        Self {
            method: method.to_owned(),
            scheme: scheme.to_owned(),
            authority: host.unwrap_or(authority).to_owned(),
            target: if target.is_empty() {
                "/".to_owned()
            } else {
                target.to_owned()
            },
            authorization: None,
            content_type: None,
            body: Vec::new(),
        }
    }

    pub fn view(&self) -> Request<'_> {
        Request::new(&self.method, &self.scheme, &self.authority, &self.target)
            .authorization(self.authorization.as_deref())
            .form_body(self.content_type.as_deref(), &self.body)
    }
}

/// The value of environment variable `var` — the URL of a test server, the
/// path of a client program — or `None` after printing that the test is
/// skipped. Under CI (`CI` set) a missing value is a failure: CI must run
/// these tests for real (`.ci/run` sets every such variable).
pub fn service_env(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{var} is not set but CI is: CI must run this test for real \
             (`.ci/run` sets it; see .ci/services.sh, .ci/python-venv.sh, .ci/browser.sh)"
        ),
        _ => {
            eprintln!(
                "skipping: set {var} to run this test for real \
                 (`.ci/run` shows how: .ci/services.sh, .ci/python-venv.sh, .ci/browser.sh)"
            );
            None
        }
    }
}

/// A response as the in-process adapter tests read it: status (the
/// framework's own `StatusCode`), headers and body text.
pub struct Reply<Status> {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl<Status: Copy + Into<u16>> Reply<Status> {
    /// Builds a reply from header pairs (names compared case-insensitively).
    pub fn new<'a>(
        status: Status,
        headers: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        body: &[u8],
    ) -> Self {
        Self {
            status,
            headers: headers
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
                .collect(),
            body: String::from_utf8(body.to_vec()).expect("a UTF-8 body"),
        }
    }

    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Location` header, which must be there.
    pub fn location(&self) -> &str {
        self.header("location").expect("a Location header")
    }

    /// A decoded field of a form-encoded body, which must be there.
    pub fn field(&self, name: &str) -> String {
        param(&self.body, name).unwrap_or_else(|| panic!("no {name} in {}", self.body))
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status.into(), status, "{}", self.body);
    }

    /// The status, the body's `oauth_problem` and the `WWW-Authenticate`
    /// challenge all say `problem`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, problem: &str) {
        self.assert_status(status);
        assert_eq!(
            param(&self.body, "oauth_problem").as_deref(),
            Some(problem),
            "{}",
            self.body
        );
        let challenge = self.header("www-authenticate").expect("WWW-Authenticate");
        assert!(
            challenge.starts_with("OAuth realm=\"")
                && challenge.contains(&format!("oauth_problem=\"{problem}\"")),
            "{challenge}"
        );
    }

    /// The headers every consent and account page carries.
    #[track_caller]
    pub fn assert_page_headers(&self) {
        assert_eq!(self.header("x-frame-options"), Some("DENY"));
        let csp = self.header("content-security-policy").expect("CSP");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(self.header("cache-control"), Some("no-store"));
    }
}

/// A decoded parameter of a URL's query, or of form-encoded text.
pub fn param(form: &str, name: &str) -> Option<String> {
    let query = form.split_once('?').map_or(form, |(_, q)| q);
    parse_form(query)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// The value of `<input type="hidden" name="NAME" value="...">` (our
/// pages' hidden values are tokens and need no HTML unescaping).
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// [`hidden_field`], which must be there.
pub fn hidden(html: &str, name: &str) -> String {
    hidden_field(html, name).unwrap_or_else(|| panic!("no field {name} in {html}"))
}

/// The compiled example `name`, next to this test binary:
/// `target/<profile>/deps/…` → `target/<profile>/examples/<name>`.
///
/// `cargo test` builds the examples, but `cargo test --test integration` does
/// not, so each example is built (or brought up to date) once per test run
/// here: a test never runs a stale binary.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get_or_insert_with(HashMap::new).get(name) {
        return path.clone();
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .args(["build", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(other) => {
            build.args(["--profile", other]);
        }
    }
    let status = build
        .status()
        .unwrap_or_else(|e| panic!("run cargo build --example {name}: {e}"));
    assert!(status.success(), "cargo build --example {name} failed");
    assert!(binary.exists(), "{} was not built", binary.display());
    built
        .get_or_insert_with(HashMap::new)
        .insert(name.to_owned(), binary.clone());
    binary
}
