//! `explain`: why does my OAuth 1.0a signature not match?
//!
//! Feed it a request as the server received it, plus the secrets the server
//! holds, and it shows what the provider signs (RFC 5849 §3.4.1), the
//! signature it expects, whether the received one verifies — and, when it does
//! not, which part of the request the client most likely signed differently.
//!
//! ```text
//! cargo run --example explain < request.json
//! cargo run --example explain -- request.json
//! ```
//!
//! # Input
//!
//! One JSON object, in the form of the `kind: "request"` vectors of
//! `tests/data/published.json` (other fields are ignored):
//!
//! ```json
//! {
//!   "request": {
//!     "method": "GET",
//!     "url": "http://photos.example.net/photos?file=vacation.jpg&size=original",
//!     "headers": {
//!       "Host": "photos.example.net",
//!       "Authorization": "OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", …"
//!     },
//!     "body": null
//!   },
//!   "consumer_secret": "kd94hf93k423kf44",
//!   "token_secret": "pfkkdhi9sl3r4s00"
//! }
//! ```
//!
//! `url` is absolute: its scheme is the one the request arrived with, its path
//! and query exactly as on the wire. A `Host` header, when present, is the
//! authority. Header names are matched case-insensitively; only `Host`,
//! `Authorization` and `Content-Type` matter. `token_secret` is `null` (or
//! absent) when the request carries no token.
//!
//! # Output
//!
//! - **stdout**: one JSON object — `valid`, `base_string`, `base_string_uri`,
//!   `normalized_params`, `expected_signature`, `received_signature`,
//!   `signature_method`, `problem` (the `oauth_problem` the provider would
//!   answer, or `null`) and a `note`. Everything is computed with the
//!   functions a provider calls: [`SignedRequest::collect`],
//!   [`SignedRequest::require`], [`SignedRequest::verify_signature`] and
//!   friends.
//! - **stderr**: an explanation for people. When the signature does not
//!   verify, the tool recomputes it for the mistakes clients commonly make
//!   (the other scheme, a port kept or dropped, the path's encoding, the
//!   query signed as part of the path, an unsigned body, `+` in the query or
//!   for a space in the base string, a value percent-encoded twice, a value's
//!   UTF-8 encoded twice — mojibake such as `ZÃ¼rich` —, a missing token
//!   secret, …) and reports those that reproduce the received signature. The
//!   secrets are never printed there.
//! - **exit code**: 0 when the request would be accepted, 1 when it would be
//!   refused (`valid: false`), 2 when the input is unusable (bad JSON, a
//!   missing field, a URL that is not absolute) or the provider refuses the
//!   request before any signature can be computed.
//!
//! Timestamp and nonce freshness are not checked.
//!
//! The expected signature is as good as a valid one for this request (with
//! PLAINTEXT it *is* the encoded secrets): treat stdout like a credential and
//! do not paste it into public tickets. stderr is safe to share.
//!
//! [`SignedRequest::collect`]: oauth1_provider::protocol::SignedRequest::collect
//! [`SignedRequest::require`]: oauth1_provider::protocol::SignedRequest::require
//! [`SignedRequest::verify_signature`]: oauth1_provider::protocol::SignedRequest::verify_signature

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal as _, Read as _};
use std::process::ExitCode;

use oauth1_provider::protocol::{Limits, SignedRequest, base_string_uri, percent_encode};
use oauth1_provider::{ProtocolError, Request, SignatureMethod};
use serde::{Deserialize, Serialize};

const NOTE: &str = "timestamp and nonce freshness are not checked by this tool";

const USAGE: &str = "\
usage: cargo run --example explain < request.json
       cargo run --example explain -- request.json

request.json is one JSON object:
  {\"request\": {\"method\": \"GET\", \"url\": \"https://host/path?query\",
               \"headers\": {\"Authorization\": \"OAuth …\"}, \"body\": null},
   \"consumer_secret\": \"…\", \"token_secret\": \"…\" or null}";

const FORM: &str = "application/x-www-form-urlencoded";

/// The request as the server received it, and the secrets it holds.
#[derive(Deserialize)]
struct Input {
    request: HttpRequest,
    consumer_secret: String,
    #[serde(default)]
    token_secret: Option<String>,
}

#[derive(Deserialize)]
struct HttpRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What goes to stdout.
#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    base_string: &'a str,
    base_string_uri: &'a str,
    normalized_params: &'a str,
    expected_signature: &'a str,
    received_signature: &'a str,
    signature_method: &'a str,
    problem: Option<&'static str>,
    note: &'static str,
}

/// Unusable input: the message goes to stderr and the exit code is 2.
struct Fatal(String);

impl From<String> for Fatal {
    fn from(message: String) -> Self {
        Self(message)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Fatal(message)) => {
            eprintln!("explain: {message}");
            ExitCode::from(2)
        }
    }
}

fn read_input() -> Result<Option<String>, Fatal> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            Ok(None)
        }
        [path] if path != "-" => std::fs::read_to_string(path)
            .map(Some)
            .map_err(|e| Fatal(format!("cannot read {path}: {e}"))),
        [] | [_] => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Fatal(format!("expected a request on stdin\n{USAGE}")));
            }
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|e| Fatal(format!("cannot read stdin: {e}")))?;
            Ok(Some(text))
        }
        _ => Err(Fatal(format!("too many arguments\n{USAGE}"))),
    }
}

/// Splits an absolute URL into scheme, authority and request target.
fn split_url(url: &str) -> Result<(&str, &str, String), String> {
    let not_absolute = || {
        format!(
            "request.url must be an absolute URL (scheme://host/path?query), as the server \
             received it; got {url:?}"
        )
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(not_absolute)?;
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    if !scheme_ok || authority.is_empty() {
        return Err(not_absolute());
    }
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    Ok((scheme, authority, target))
}

/// A refusal before any signature can be computed: which `oauth_problem`, and why.
fn refused(stage: &str, e: &ProtocolError) -> Fatal {
    Fatal(format!(
        "the provider refuses this request {stage}: HTTP {} oauth_problem={}\n  advice: {}\n  \
         No base string or signature can be computed for it; fix this first.",
        e.status(),
        e.problem().code(),
        e.advice()
    ))
}

fn run() -> Result<bool, Fatal> {
    let Some(text) = read_input()? else {
        return Ok(true);
    };
    let input: Input =
        serde_json::from_str(&text).map_err(|e| Fatal(format!("invalid input: {e}\n{USAGE}")))?;
    let http = &input.request;
    let (scheme, url_authority, target) = split_url(&http.url)?;
    let host_header = http.header("Host");
    let authority = host_header.unwrap_or(url_authority);
    let body = http.body.as_deref().unwrap_or("");
    let request = Request::new(&http.method, scheme, authority, &target)
        .authorization(http.header("Authorization"))
        .form_body(http.header("Content-Type"), body.as_bytes());

    let limits = Limits::default();
    let signed = SignedRequest::collect(&request, &limits)
        .map_err(|e| refused("while collecting its parameters", &e))?;
    let base_string = signed
        .base_string()
        .map_err(|e| refused("while building its base string", &e))?;
    let uri = signed
        .base_string_uri()
        .map_err(|e| refused("while building its base string", &e))?;
    let normalized = signed.normalized_parameters();

    let consumer_secret = input.consumer_secret.as_str();
    let token_secret = input.token_secret.as_deref().unwrap_or("");
    let required = signed.require(&[]);
    let method = signed.signature_method();
    let expected = match method {
        // The explain tool shows it to the developer debugging their own
        // signature: the one place it may be printed.
        Some(m) => {
            oauth1_provider::danger::expected_signature(&signed, m, consumer_secret, token_secret)
                .map_err(|e| refused("while computing its signature", &e))?
        }
        None => String::new(),
    };
    let verdict = signed.verify_signature(consumer_secret, token_secret);
    let problem = match (&required, &verdict) {
        (Err(e), _) | (Ok(()), Err(e)) => Some(e.problem().code()),
        (Ok(()), Ok(())) => None,
    };
    let valid = problem.is_none();

    let report = Report {
        valid,
        base_string: &base_string,
        base_string_uri: &uri,
        normalized_params: &normalized,
        expected_signature: &expected,
        received_signature: signed.signature().unwrap_or(""),
        signature_method: signed.signature_method_name().unwrap_or(""),
        problem,
        note: NOTE,
    };
    let json = serde_json::to_string_pretty(&report).expect("a report serializes");
    println!("{json}");

    let case = Case {
        signed: &signed,
        request: &request,
        limits: &limits,
        scheme,
        authority,
        url_authority,
        host_header,
        consumer_secret,
        token_secret,
        token_secret_given: input.token_secret.is_some(),
        base_string: &base_string,
        uri: &uri,
        normalized: &normalized,
    };
    eprint!("{}", case.explain(required.err(), verdict.is_ok()));
    Ok(valid)
}

/// Everything the explanation needs about one request.
struct Case<'a> {
    signed: &'a SignedRequest<'a>,
    request: &'a Request<'a>,
    limits: &'a Limits,
    scheme: &'a str,
    authority: &'a str,
    url_authority: &'a str,
    host_header: Option<&'a str>,
    consumer_secret: &'a str,
    token_secret: &'a str,
    token_secret_given: bool,
    base_string: &'a str,
    uri: &'a str,
    normalized: &'a str,
}

/// A client mistake whose recomputed signature matches the received one.
struct Finding {
    component: &'static str,
    text: String,
}

impl Finding {
    fn new(component: &'static str, text: impl Into<String>) -> Self {
        Self {
            component,
            text: text.into(),
        }
    }
}

/// Collects the hypotheses that reproduce the received signature, and the
/// components that were tried.
#[derive(Default)]
struct Findings {
    found: Vec<Finding>,
    tried: BTreeSet<&'static str>,
}

impl Findings {
    fn test(&mut self, component: &'static str, matches: bool, text: impl FnOnce() -> String) {
        self.tried.insert(component);
        if matches {
            let text = text();
            if !self.found.iter().any(|f| f.text == text) {
                self.found.push(Finding::new(component, text));
            }
        }
    }
}

impl Case<'_> {
    fn explain(&self, required: Option<ProtocolError>, signature_ok: bool) -> String {
        let mut out = String::new();
        let method_name = self.signed.signature_method_name();
        match (&required, signature_ok) {
            (None, true) => {
                out.push_str(&format!(
                    "explain: valid: the {} signature matches this request with the secrets given.\n",
                    method_name.unwrap_or("")
                ));
            }
            (Some(e), true) => {
                out.push_str(&format!(
                    "explain: refused with HTTP {} oauth_problem={}: {}\n  The signature itself \
                     matches; the request is refused for this reason only.\n",
                    e.status(),
                    e.problem().code(),
                    e.advice()
                ));
            }
            (Some(e), false) => {
                out.push_str(&format!(
                    "explain: refused with HTTP {} oauth_problem={}: {}\n",
                    e.status(),
                    e.problem().code(),
                    e.advice()
                ));
            }
            (None, false) => {
                out.push_str(
                    "explain: refused with HTTP 401 oauth_problem=signature_invalid: the \
                     signature does not match the request.\n",
                );
            }
        }
        for warning in self.warnings() {
            out.push_str(&format!("  warning: {warning}\n"));
        }
        if !signature_ok {
            out.push('\n');
            out.push_str(&self.diagnose());
        }
        out.push_str(&format!("\nNote: {NOTE}.\n"));
        out
    }

    /// Things a provider may object to that this tool does not decide.
    fn warnings(&self) -> Vec<String> {
        let s = self.signed;
        let mut w = Vec::new();
        if let Some(host) = self.host_header
            && !host.eq_ignore_ascii_case(self.url_authority)
        {
            w.push(format!(
                "the Host header ({host}) differs from the URL's authority ({}); the Host \
                     header is what the provider signs",
                self.url_authority
            ));
        }
        if s.token().is_some() && !self.token_secret_given {
            w.push(
                "the request carries oauth_token but no token_secret was given: the signature \
                 is checked with an empty token secret"
                    .to_owned(),
            );
        }
        if s.token().is_none() && !self.token_secret.is_empty() {
            w.push(
                "a token_secret was given but the request carries no oauth_token (clients \
                 usually sign a temporary-credentials request with an empty token secret)"
                    .to_owned(),
            );
        }
        if s.signature_method() == Some(SignatureMethod::Plaintext)
            && !self.scheme.eq_ignore_ascii_case("https")
        {
            w.push(
                "PLAINTEXT over a non-TLS transport sends the secrets in clear; a provider \
                 should refuse it"
                    .to_owned(),
            );
        }
        if let Some(ts) = s.timestamp()
            && (ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()))
        {
            w.push(
                "oauth_timestamp is not a number of seconds; a provider checking freshness \
                     refuses it (parameter_rejected)"
                    .to_owned(),
            );
        }
        if !self.request.body.is_empty() && !self.request.body_is_form() {
            w.push(format!(
                "the body is not signed: its Content-Type is {}, not {FORM} (§3.4.1.3.1)",
                self.request
                    .content_type
                    .map_or_else(|| "missing".to_owned(), |ct| format!("{ct:?}"))
            ));
        }
        w
    }

    /// The explanation of a signature that does not verify.
    fn diagnose(&self) -> String {
        let s = self.signed;
        let mut out = String::new();
        let Some(received) = s.signature().filter(|r| !r.is_empty()) else {
            out.push_str(
                "The request carries no oauth_signature, so there is nothing to compare.\n",
            );
            out.push_str(&self.server_view());
            return out;
        };
        let Some(method) = s.signature_method() else {
            out.push_str(&self.unknown_method(received));
            out.push('\n');
            out.push_str(&self.server_view());
            return out;
        };
        if !SignatureMethod::ALL.contains(&method) {
            // RSA (feature `rsa`): no shared secret to recompute with.
            out.push_str(&format!(
                "{method} signatures are made with the consumer's RSA private key and verified \
                 with its registered public key, which this tool does not take: compare the base \
                 string below with the one the client signed.\n\n"
            ));
            out.push_str(&self.server_view());
            return out;
        }
        let findings = self.hypotheses(method, received);
        if findings.found.is_empty() {
            out.push_str(&self.no_match(&findings));
        } else {
            out.push_str(if findings.found.len() == 1 {
                "Likely cause — recomputing the signature with this change reproduces the one \
                 received:\n"
            } else {
                "Likely causes — recomputing the signature with any of these changes reproduces \
                 the one received:\n"
            });
            for f in &findings.found {
                out.push_str(&format!("  * {}: {}\n", f.component, f.text));
            }
        }
        out.push('\n');
        out.push_str(&self.server_view());
        out
    }

    /// No expected signature without a known method: say whether one of the
    /// known methods gives the received signature.
    fn unknown_method(&self, received: &str) -> String {
        let (cs, ts) = (self.consumer_secret, self.token_secret);
        let name = self.signed.signature_method_name();
        let known = SignatureMethod::ALL.map(|m| m.name()).join(", ");
        let matching = SignatureMethod::ALL
            .into_iter()
            .find(|m| m.verify(self.base_string, cs, ts, received));
        match (name, matching) {
            (None, Some(m)) => format!(
                "Likely cause — recomputing reproduces the received signature:\n  * signature \
                 method: the signature is a valid {m} signature, but the request omits \
                 oauth_signature_method; send oauth_signature_method={m} (and sign it).\n"
            ),
            (None, None) => format!(
                "The request omits oauth_signature_method, so no expected signature can be \
                 computed; none of {known} gives the received signature either.\n"
            ),
            (Some(name), Some(m)) => format!(
                "Likely cause — recomputing reproduces the received signature:\n  * signature \
                 method: the signature is a valid {m} signature, but the request declares \
                 oauth_signature_method={name:?}, which this provider does not accept (method \
                 names are case-sensitive: send {m}).\n"
            ),
            (Some(name), None) => format!(
                "oauth_signature_method={name:?} is not a method this provider implements \
                 ({known}), so no expected signature can be computed.\n"
            ),
        }
    }

    fn no_match(&self, findings: &Findings) -> String {
        let mut out = String::from(
            "No single common client mistake reproduces the received signature. Ruled out by \
             recomputing: ",
        );
        out.push_str(
            &findings
                .tried
                .iter()
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push_str(".\n");
        let s = self.signed;
        if s.token().is_some() && self.token_secret.is_empty() {
            out.push_str(
                "Most likely component: the token secret — the request carries oauth_token but \
                 the token secret given is empty.\n",
            );
        } else if s.signature_method() == Some(SignatureMethod::Plaintext) {
            out.push_str(
                "Most likely component: the consumer secret or the token secret (a PLAINTEXT \
                 signature is the secrets themselves; see above which part differs).\n",
            );
        } else {
            out.push_str(
                "Most likely component: a parameter value the client signed differently (or \
                 added or changed after signing), or the consumer secret. Compare the \
                 parameters below, one by one, with the base string your client logs.\n",
            );
        }
        out
    }

    /// The server's side of the base string, one component per line.
    fn server_view(&self) -> String {
        let mut out =
            String::from("What the server signs (compare with your client's base string):\n");
        out.push_str(&format!(
            "  method:     {}\n",
            self.signed.method().to_ascii_uppercase()
        ));
        out.push_str(&format!("  URI:        {}\n", self.uri));
        out.push_str("  parameters (encoded, sorted):\n");
        if self.normalized.is_empty() {
            out.push_str("    (none)\n");
        }
        for (name, value) in self.signed.encoded_params() {
            out.push_str(&format!("    {name}={value}\n"));
        }
        out.push_str(&format!("  base string: {}\n", self.base_string));
        out
    }

    /// Recomputes the signature for the usual client mistakes.
    fn hypotheses(&self, method: SignatureMethod, received: &str) -> Findings {
        let mut f = Findings::default();
        let (cs, ts) = (self.consumer_secret, self.token_secret);
        let http_method = self.signed.method().to_ascii_uppercase();
        // The base string from its three parts; checked against the library's
        // so that the variants below differ from it only where they say.
        let composable = compose(&http_method, self.uri, self.normalized) == self.base_string;
        let by_parts = |m: &str, uri: &str, params: &str| {
            composable && method.verify(&compose(m, uri, params), cs, ts, received)
        };

        if method != SignatureMethod::Plaintext {
            self.uri_hypotheses(&mut f, &by_parts, &http_method);
            self.method_hypotheses(&mut f, &by_parts, &http_method);
            self.parameter_hypotheses(&mut f, &by_parts, &http_method);
        }
        self.secret_hypotheses(&mut f);
        if method == SignatureMethod::Plaintext && f.found.is_empty() {
            self.plaintext_parts(&mut f, received);
        }
        self.transport_hypotheses(&mut f, method, received);
        f
    }

    /// Scheme, authority (host and port) and path as the client may have
    /// signed them: first as valid alternatives a provider could have
    /// received, then as normalization mistakes.
    fn uri_hypotheses(
        &self,
        f: &mut Findings,
        by_parts: &dyn Fn(&str, &str, &str) -> bool,
        http_method: &str,
    ) {
        let path = self.request.path();
        let mut schemes = vec![self.scheme.to_owned()];
        if self.scheme.eq_ignore_ascii_case("http") {
            schemes.push("https".to_owned());
        } else if self.scheme.eq_ignore_ascii_case("https") {
            schemes.push("http".to_owned());
        }
        let mut authorities = vec![self.authority.to_owned()];
        if !self.url_authority.eq_ignore_ascii_case(self.authority) {
            authorities.push(self.url_authority.to_owned());
        }
        for a in authorities.clone() {
            if let Some(host) = strip_port(&a) {
                authorities.push(host.to_owned());
            }
        }
        let mut paths: Vec<(String, &str)> = vec![(path.to_owned(), "")];
        let decoded = percent_decode(path).unwrap_or_else(|| path.to_owned());
        let reencoded = decoded
            .split('/')
            .map(|segment| percent_encode(segment).into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if decoded != path {
            paths.push((decoded.clone(), "the percent-decoded path"));
        }
        if reencoded != path && reencoded != decoded {
            paths.push((reencoded, "the path re-encoded the OAuth way (§3.6)"));
        }
        if path.len() > 1 {
            match path.strip_suffix('/') {
                Some(p) => paths.push((p.to_owned(), "the path without its trailing slash")),
                None => paths.push((format!("{path}/"), "the path with a trailing slash")),
            }
        }

        let mut seen = BTreeSet::from([self.uri.to_owned()]);
        for s in &schemes {
            for a in &authorities {
                for (p, how) in &paths {
                    let Ok(uri) = base_string_uri(s, a, p) else {
                        continue;
                    };
                    if !seen.insert(uri.clone()) {
                        continue;
                    }
                    let component = self.uri_component(&uri, s, p);
                    f.test(
                        component,
                        by_parts(http_method, &uri, self.normalized),
                        || self.describe_uri(&uri, s, how),
                    );
                }
            }
        }

        // Normalization mistakes (§3.4.1.2) no correct provider makes.
        let (scheme_part, rest) = self.uri.split_once("://").unwrap_or(("", self.uri));
        let host_end = rest.find('/').unwrap_or(rest.len());
        let (hostport, uri_path) = rest.split_at(host_end);
        if let Some(port) = match scheme_part {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        }
        .filter(|_| strip_port(hostport).is_none())
        {
            let uri = format!("{scheme_part}://{hostport}:{port}{uri_path}");
            f.test("port", by_parts(http_method, &uri, self.normalized), || {
                format!(
                    "your client kept the default port in the base string URI ({uri}); \
                     §3.4.1.2 leaves out :{port} for {scheme_part}"
                )
            });
        }
        let raw_host = strip_port(self.authority).unwrap_or(self.authority);
        if raw_host != raw_host.to_ascii_lowercase() {
            let uri = format!(
                "{scheme_part}://{raw_host}{}{uri_path}",
                &hostport[raw_host.len().min(hostport.len())..]
            );
            f.test("host", by_parts(http_method, &uri, self.normalized), || {
                format!(
                    "your client signed the host as {raw_host} without lower-casing it \
                     (§3.4.1.2 lower-cases it)"
                )
            });
        }
        if let Some(query) = self.request.query().filter(|q| !q.is_empty()) {
            let uri = format!("{}?{query}", self.uri);
            f.test("path", by_parts(http_method, &uri, self.normalized), || {
                "your client put the query string into the base string URI; it belongs in the \
                 parameters only (§3.4.1.2)"
                    .to_owned()
            });
            // A client that does not parse the URL's query at all signs it
            // as part of the path, and not as parameters.
            let path_only = Request {
                target: self.request.path(),
                ..*self.request
            };
            if let Ok(without) = SignedRequest::collect(&path_only, self.limits) {
                let params = without.normalized_parameters();
                f.test("path", by_parts(http_method, &uri, &params), || {
                    "your client signed the query string as part of the path (in the base \
                     string URI) instead of as parameters; the URI ends at the path, and each \
                     query parameter is signed with the others (§3.4.1.2, §3.4.1.3.1)"
                        .to_owned()
                });
            }
        }
    }

    /// Which component an alternative base string URI changes.
    fn uri_component(&self, uri: &str, scheme: &str, path: &str) -> &'static str {
        let (theirs, mine) = (host_of(uri), host_of(self.uri));
        if !scheme.eq_ignore_ascii_case(self.scheme) {
            "scheme"
        } else if path != self.request.path() {
            "path"
        } else if strip_port(theirs).unwrap_or(theirs) != strip_port(mine).unwrap_or(mine) {
            "host"
        } else {
            "port"
        }
    }

    fn describe_uri(&self, uri: &str, scheme: &str, path_change: &str) -> String {
        let mut parts = Vec::new();
        if !scheme.eq_ignore_ascii_case(self.scheme) {
            let mut part = format!(
                "your client signed the URL with scheme {scheme}; the server received {}",
                self.scheme.to_ascii_lowercase()
            );
            if scheme.eq_ignore_ascii_case("https") {
                part.push_str(
                    " (behind a TLS-terminating proxy, give the provider the public scheme)",
                );
            }
            parts.push(part);
        }
        let (mine, theirs) = (host_of(self.uri), host_of(uri));
        if mine != theirs {
            let what = if strip_port(mine).unwrap_or(mine) == strip_port(theirs).unwrap_or(theirs) {
                "the port differs"
            } else {
                "the host differs"
            };
            parts.push(format!(
                "your client signed the authority {theirs}; the server used {mine} — {what} (the \
                 provider must sign the Host the client addressed, not an internal one)"
            ));
        }
        if !path_change.is_empty() {
            parts.push(format!(
                "your client signed {path_change}; the server signs the path exactly as \
                 received, {}",
                self.request.path()
            ));
        }
        format!("{} — signed URI {uri}", parts.join("; and "))
    }

    fn method_hypotheses(
        &self,
        f: &mut Findings,
        by_parts: &dyn Fn(&str, &str, &str) -> bool,
        http_method: &str,
    ) {
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] {
            if m != http_method {
                f.test("method", by_parts(m, self.uri, self.normalized), || {
                    format!(
                        "your client signed the request as {m}; the server received \
                         {http_method} (a redirect may have changed the method)"
                    )
                });
            }
        }
        let lower = http_method.to_ascii_lowercase();
        if lower != http_method {
            f.test(
                "method",
                by_parts(&lower, self.uri, self.normalized),
                || {
                    format!(
                        "your client signed the method in lower case ({lower}); the base string \
                     upper-cases it (§3.4.1.1)"
                    )
                },
            );
        }
    }

    fn parameter_hypotheses(
        &self,
        f: &mut Findings,
        by_parts: &dyn Fn(&str, &str, &str) -> bool,
        http_method: &str,
    ) {
        let r = self.request;
        let (cs, ts) = (self.consumer_secret, self.token_secret);
        // Request-level changes, collected and verified as a provider would.
        let verifies = |variant: &Request<'_>| {
            SignedRequest::collect(variant, self.limits)
                .is_ok_and(|v| v.verify_signature(cs, ts).is_ok())
        };
        if !r.body.is_empty() {
            if r.body_is_form() {
                let variant = r.form_body(None, &[]);
                f.test("body", verifies(&variant), || {
                    format!(
                        "your client did not sign the form body, but the request is sent with \
                         Content-Type {:?}, so the provider signs every body parameter \
                         (§3.4.1.3.1); sign the body, or send it with another content type",
                        r.content_type.unwrap_or(FORM)
                    )
                });
            } else {
                let variant = r.form_body(Some(FORM), r.body);
                f.test("body", verifies(&variant), || {
                    format!(
                        "your client signed the body as form parameters, but the request's \
                         Content-Type is {}, so the provider does not sign the body \
                         (§3.4.1.3.1); send Content-Type: {FORM}, or do not sign the body",
                        r.content_type
                            .map_or_else(|| "missing".to_owned(), |ct| format!("{ct:?}"))
                    )
                });
            }
        }
        if let Some(query) = r.query().filter(|q| q.contains('+')) {
            let target = format!("{}?{}", r.path(), query.replace('+', "%2B"));
            let variant = Request {
                target: &target,
                ..*r
            };
            f.test("parameter", verifies(&variant), || {
                "your client signed '+' in the query as a literal plus; in a query string '+' \
                 means a space (§3.4.1.3.1) — send a literal plus as %2B"
                    .to_owned()
            });
        }
        if r.body_is_form() && r.body.contains(&b'+') {
            let body = String::from_utf8_lossy(r.body).replace('+', "%2B");
            let variant = r.form_body(r.content_type, body.as_bytes());
            f.test("parameter", verifies(&variant), || {
                "your client signed '+' in the form body as a literal plus; in a form body '+' \
                 means a space — send a literal plus as %2B"
                    .to_owned()
            });
        }

        // Encoding mistakes in the normalized parameters (§3.4.1.3.2, §3.6).
        let params = self.normalized;
        let mut encoding = |variant: String, text: &str| {
            if variant != params {
                f.test(
                    "parameter",
                    by_parts(http_method, self.uri, &variant),
                    || text.to_owned(),
                );
            }
        };
        encoding(
            params.replace("%20", "+"),
            "your client encoded spaces as '+' (form encoding); OAuth encodes them as %20 (§3.6)",
        );
        encoding(
            ["!", "'", "(", ")", "*"]
                .iter()
                .fold(params.to_owned(), |p, c| {
                    p.replace(&percent_encode(c).into_owned(), c)
                }),
            "your client left !'()* unencoded (JavaScript's encodeURIComponent does); OAuth \
             encodes every character but A-Z a-z 0-9 - . _ ~ (§3.6)",
        );
        encoding(
            params.replace('~', "%7E"),
            "your client encoded '~' as %7E; OAuth leaves it as is (§3.6)",
        );
        encoding(
            lower_hex(params),
            "your client used lower-case hex in percent-encoding; OAuth uses upper case (§3.6)",
        );
        encoding(
            params.replace('%', "%25"),
            "your client percent-encoded the parameters twice",
        );

        let pairs: Vec<(&str, &str)> = self.signed.encoded_params().collect();
        self.value_hypotheses(f, by_parts, http_method, &pairs);

        // A parameter signed by one side only.
        if let Some(realm) = self.signed.realm() {
            let mut with_realm = pairs.clone();
            let realm = percent_encode(realm);
            with_realm.push(("realm", realm.as_ref()));
            with_realm.sort_unstable();
            f.test(
                "parameter",
                by_parts(http_method, self.uri, &join(&with_realm)),
                || {
                    "your client signed the Authorization header's realm; realm is not signed \
                     (§3.4.1.3.1)"
                        .to_owned()
                },
            );
        }
        for i in 0..pairs.len() {
            let name = pairs[i].0;
            let mut without = pairs.clone();
            without.remove(i);
            f.test(
                "parameter",
                by_parts(http_method, self.uri, &join(&without)),
                || {
                    format!(
                        "your client did not sign the parameter `{name}` — was it added after \
                         signing (by a proxy, a framework, a cache-buster)? Every query, form \
                         body and oauth_ parameter is signed (§3.4.1.3.1)"
                    )
                },
            );
        }
    }

    /// One parameter value as the client may have signed it: encoded twice
    /// (it was already percent-encoded when handed to the OAuth library), or
    /// its UTF-8 encoded twice (mojibake: `Zürich` signed as `ZÃ¼rich`, or
    /// received so). `pairs` are the normalized parameters.
    fn value_hypotheses(
        &self,
        f: &mut Findings,
        by_parts: &dyn Fn(&str, &str, &str) -> bool,
        http_method: &str,
        pairs: &[(&str, &str)],
    ) {
        // The normalized parameters with the `i`th value replaced, re-sorted.
        let with_value = |i: usize, value: &str| {
            let mut variant: Vec<(&str, &str)> = pairs.to_vec();
            variant[i].1 = value;
            variant.sort_unstable();
            join(&variant)
        };
        let mut client_values = Vec::new();
        for (i, &(name, value)) in pairs.iter().enumerate() {
            if value.contains('%') {
                let twice = value.replace('%', "%25");
                f.test(
                    "parameter",
                    by_parts(http_method, self.uri, &with_value(i, &twice)),
                    || {
                        format!(
                            "your client percent-encoded the value of `{name}` twice: it signed \
                             {twice}, the server received {value} — the value was already \
                             encoded when your code handed it to the OAuth library; pass it \
                             decoded"
                        )
                    },
                );
                if !name.starts_with("oauth_") {
                    client_values.push(i);
                }
            }
            let Some(decoded) = percent_decode(value) else {
                continue;
            };
            if !decoded.is_ascii() {
                let mojibake: String = decoded.bytes().map(char::from).collect();
                let signed = percent_encode(&mojibake);
                f.test(
                    "parameter",
                    by_parts(http_method, self.uri, &with_value(i, &signed)),
                    || {
                        format!(
                            "your client encoded the value of `{name}` as UTF-8 twice: it \
                             signed {mojibake:?} for the {decoded:?} the server received (UTF-8 \
                             bytes read as Latin-1 and encoded again); sign the text, encoded \
                             once"
                        )
                    },
                );
            }
            // The other way round: the server received the mojibake.
            let latin1: Option<Vec<u8>> = (decoded.chars())
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect();
            if let Some(bytes) = latin1.filter(|_| !decoded.is_ascii())
                && let Ok(once) = String::from_utf8(bytes)
            {
                let signed = percent_encode(&once);
                f.test(
                    "parameter",
                    by_parts(http_method, self.uri, &with_value(i, &signed)),
                    || {
                        format!(
                            "the server received the value of `{name}` encoded as UTF-8 \
                             twice ({decoded:?}), your client signed it encoded once \
                             ({once:?}): it sent other bytes than it signed — declare and \
                             send UTF-8 once"
                        )
                    },
                );
            }
        }
        // Every (non-protocol) value at once, when several were encoded twice.
        if client_values.len() > 1 {
            let mut variant: Vec<(String, String)> = (pairs.iter())
                .map(|&(n, v)| (n.to_owned(), v.to_owned()))
                .collect();
            for &i in &client_values {
                variant[i].1 = variant[i].1.replace('%', "%25");
            }
            variant.sort_unstable();
            let variant: Vec<(&str, &str)> = (variant.iter())
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            f.test(
                "parameter",
                by_parts(http_method, self.uri, &join(&variant)),
                || {
                    "your client percent-encoded every parameter value twice (they were already \
                     encoded when your code handed them to the OAuth library); pass them decoded"
                        .to_owned()
                },
            );
        }
    }

    /// Secrets: the token secret left out or swapped, stray whitespace.
    fn secret_hypotheses(&self, f: &mut Findings) {
        let s = self.signed;
        let (cs, ts) = (self.consumer_secret, self.token_secret);
        let verifies = |c: &str, t: &str| s.verify_signature(c, t).is_ok();
        if !ts.is_empty() {
            f.test("token secret", verifies(cs, ""), || {
                if s.token().is_some() {
                    "your client signed without the token secret (signing key \
                     consumer_secret&); sign with the secret of the oauth_token it sends"
                        .to_owned()
                } else {
                    "the request carries no oauth_token and your client signed without a \
                     token secret — correct for a temporary-credentials request; the token \
                     secret given here does not belong to it"
                        .to_owned()
                }
            });
            f.test("consumer secret", verifies(ts, cs), || {
                "your client swapped the consumer secret and the token secret".to_owned()
            });
        }
        if !cs.is_empty() {
            f.test("consumer secret", verifies("", ts), || {
                "your client signed with an empty consumer secret (is its configuration \
                 loaded?)"
                    .to_owned()
            });
        }
        if cs.trim() != cs {
            f.test("consumer secret", verifies(cs.trim(), ts), || {
                "the consumer secret given here has leading or trailing whitespace; your client \
                 signed without it"
                    .to_owned()
            });
        }
        if ts.trim() != ts {
            f.test("token secret", verifies(cs, ts.trim()), || {
                "the token secret given here has leading or trailing whitespace; your client \
                 signed without it"
                    .to_owned()
            });
        }
    }

    /// PLAINTEXT signs nothing but the secrets: say which half differs,
    /// without printing either.
    fn plaintext_parts(&self, f: &mut Findings, received: &str) {
        let Some((c, t)) = received.split_once('&') else {
            return;
        };
        let c_ok = c == percent_encode(self.consumer_secret);
        let t_ok = t == percent_encode(self.token_secret);
        f.tried.insert("consumer secret");
        f.tried.insert("token secret");
        let text = match (c_ok, t_ok) {
            (true, false) if t.is_empty() => Some((
                "token secret",
                "your client sent no token secret in the PLAINTEXT signature",
            )),
            (true, false) => Some((
                "token secret",
                "the consumer secret part of the PLAINTEXT signature matches; the token secret \
                 part differs",
            )),
            (false, true) => Some((
                "consumer secret",
                "the token secret part of the PLAINTEXT signature matches; the consumer secret \
                 part differs",
            )),
            _ => None,
        };
        if let Some((component, text)) = text {
            f.found.push(Finding::new(component, text));
        }
    }

    /// The signature as transported: another method, or encoded once too often.
    fn transport_hypotheses(&self, f: &mut Findings, method: SignatureMethod, received: &str) {
        let (cs, ts, bs) = (self.consumer_secret, self.token_secret, self.base_string);
        for other in SignatureMethod::ALL {
            if other != method {
                f.test(
                    "signature method",
                    other.verify(bs, cs, ts, received),
                    || {
                        format!(
                            "the signature is a valid {other} signature, but the request declares \
                         oauth_signature_method={method}"
                        )
                    },
                );
            }
        }
        if received.contains(' ') {
            let plus = received.replace(' ', "+");
            f.test("signature", method.verify(bs, cs, ts, &plus), || {
                "the signature's '+' arrived as a space: your client sent oauth_signature in the \
                 query or body without percent-encoding it (send '+' as %2B)"
                    .to_owned()
            });
        }
        if let Some(decoded) = percent_decode(received).filter(|d| d != received) {
            f.test("signature", method.verify(bs, cs, ts, &decoded), || {
                "your client percent-encoded oauth_signature twice".to_owned()
            });
        }
    }
}

/// The signature base string from its parts (§3.4.1.1).
fn compose(method: &str, uri: &str, params: &str) -> String {
    format!(
        "{}&{}&{}",
        percent_encode(method),
        percent_encode(uri),
        percent_encode(params)
    )
}

fn join(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `host:port` → `Some(host)`; `None` when there is no port.
fn strip_port(authority: &str) -> Option<&str> {
    let colon = authority.rfind(':')?;
    if authority[colon..].contains(']') {
        return None;
    }
    Some(&authority[..colon])
}

/// The authority part of a base string URI.
fn host_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    &rest[..rest.find('/').unwrap_or(rest.len())]
}

/// Decodes `%XX` escapes; `None` when malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `%2F` → `%2f`.
fn lower_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escape = 0;
    for c in s.chars() {
        if c == '%' {
            escape = 2;
            out.push(c);
        } else if escape > 0 {
            escape -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
