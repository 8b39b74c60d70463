//! A client of a demo provider process over real HTTP, signing with the
//! crate's [`Signer`]: sign in, request token, consent (with the page's
//! CSRF token), exchange, protected calls.
//!
//! A [`Site`] is one public origin as the client sees it (`http://host:port`)
//! plus the socket it is actually reached at — the same origin can be served
//! by several processes, as behind a load balancer.

use std::net::SocketAddr;

use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;
use oauth1_provider::protocol::parse_form;

use crate::support::demo_process::DemoProcess;
use crate::support::http::{HttpResponse, http};
use crate::support::reply::{hidden_field, param as query_param};

/// Credentials: a key and its secret (consumer or token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub key: String,
    pub secret: String,
}

impl Credentials {
    pub fn new(key: &str, secret: &str) -> Self {
        Self {
            key: key.to_owned(),
            secret: secret.to_owned(),
        }
    }
}

/// One public origin, reached through one socket.
#[derive(Debug, Clone)]
pub struct Site {
    /// Where the process listens.
    pub addr: SocketAddr,
    /// The public origin, e.g. `http://127.0.0.1:8080` or `http://app.test`.
    pub origin: String,
}

impl Site {
    pub fn new(addr: SocketAddr, origin: &str) -> Self {
        Self {
            addr,
            origin: origin.trim_end_matches('/').to_owned(),
        }
    }

    /// The Host header for this origin.
    pub fn host(&self) -> &str {
        self.origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, authority)| authority)
    }

    /// `origin + target`.
    pub fn url(&self, target: &str) -> String {
        format!("{}{target}", self.origin)
    }

    /// A plain (unsigned) request.
    pub fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http(self.addr, method, self.host(), target, headers, body)
            .unwrap_or_else(|e| panic!("{method} {target} to {}: {e}", self.addr))
    }

    /// A request signed with `signer` (HMAC-SHA1 unless the signer says
    /// otherwise); `form` is sent as an `application/x-www-form-urlencoded`
    /// body when given.
    pub fn signed(
        &self,
        signer: &Signer<'_>,
        method: &str,
        target: &str,
        form: Option<&str>,
    ) -> HttpResponse {
        let authorization = signer
            .authorization_header(method, &self.url(target), form.map(str::as_bytes))
            .expect("sign the request");
        let mut headers = vec![("Authorization", authorization.as_str())];
        if form.is_some() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        self.send(
            method,
            target,
            &headers,
            form.map(str::as_bytes).unwrap_or_default(),
        )
    }

    /// Signs in; returns the `Cookie` header value of the new session.
    pub fn sign_in(&self, email: &str, password: &str) -> String {
        let body = format!(
            "email={}&password={}&next=%2F",
            form_encode(email),
            form_encode(password)
        );
        let reply = self.send(
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        assert_eq!(reply.status, 303, "sign-in: {}", reply.text());
        let set_cookie = reply.header("set-cookie").expect("a session cookie");
        set_cookie.split(';').next().expect("name=value").to_owned()
    }

    /// `POST /_ah/OAuthGetRequestToken` with `callback`; the temporary
    /// credentials on 200, else the response.
    pub fn request_token(
        &self,
        consumer: &Credentials,
        callback: &str,
    ) -> Result<Credentials, HttpResponse> {
        self.scoped_request_token(consumer, callback, None)
    }

    /// [`Site::request_token`] asking for `scope` (a form field) when given.
    pub fn scoped_request_token(
        &self,
        consumer: &Credentials,
        callback: &str,
        scope: Option<&str>,
    ) -> Result<Credentials, HttpResponse> {
        let signer = Signer::new(SignatureMethod::HmacSha1, &consumer.key, &consumer.secret)
            .callback(callback);
        let form = scope.map(|scope| format!("scope={}", form_encode(scope)));
        let reply = self.signed(
            &signer,
            "POST",
            "/_ah/OAuthGetRequestToken",
            form.as_deref(),
        );
        credentials_in(reply)
    }

    /// Opens the consent page for `token` as the signed-in `cookie` and
    /// answers it (`allow` or `deny`) with the page's own CSRF token; returns
    /// the answer's response (a 303 to the callback, or the oob page).
    pub fn consent(&self, cookie: &str, token: &str, decision: &str) -> HttpResponse {
        let target = format!(
            "/_ah/OAuthAuthorizeToken?oauth_token={}",
            form_encode(token)
        );
        let page = self.send("GET", &target, &[("Cookie", cookie)], b"");
        assert_eq!(page.status, 200, "consent page: {}", page.text());
        let html = page.text();
        let csrf = hidden_field(&html, "csrf_token").expect("the consent form's CSRF token");
        let body = format!(
            "oauth_token={}&csrf_token={}&decision={decision}",
            form_encode(token),
            form_encode(&csrf)
        );
        self.send(
            "POST",
            "/_ah/OAuthAuthorizeToken",
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    }

    /// Allows `token` and returns the verifier from the callback redirect.
    pub fn approve(&self, cookie: &str, token: &str) -> String {
        let reply = self.consent(cookie, token, "allow");
        assert_eq!(reply.status, 303, "approve: {}", reply.text());
        let location = reply.header("location").expect("redirect to the callback");
        query_param(location, "oauth_verifier").expect("a verifier in the callback")
    }

    /// `POST /_ah/OAuthGetAccessToken`; the token credentials on 200, else
    /// the response.
    pub fn access_token(
        &self,
        consumer: &Credentials,
        temporary: &Credentials,
        verifier: &str,
    ) -> Result<Credentials, HttpResponse> {
        let signer = Signer::new(SignatureMethod::HmacSha1, &consumer.key, &consumer.secret)
            .token(&temporary.key, &temporary.secret)
            .verifier(verifier);
        let reply = self.signed(&signer, "POST", "/_ah/OAuthGetAccessToken", None);
        credentials_in(reply)
    }

    /// Request token → sign in → allow → exchange: token credentials.
    pub fn obtain_access_token(
        &self,
        consumer: &Credentials,
        callback: &str,
        email: &str,
        password: &str,
    ) -> Credentials {
        self.obtain_scoped_access_token(consumer, callback, None, email, password)
    }

    /// [`Site::obtain_access_token`] asking for `scope` when given.
    pub fn obtain_scoped_access_token(
        &self,
        consumer: &Credentials,
        callback: &str,
        scope: Option<&str>,
        email: &str,
        password: &str,
    ) -> Credentials {
        let temporary = self
            .scoped_request_token(consumer, callback, scope)
            .unwrap_or_else(|r| panic!("request token: {} {}", r.status, r.text()));
        let cookie = self.sign_in(email, password);
        let verifier = self.approve(&cookie, &temporary.key);
        self.access_token(consumer, &temporary, &verifier)
            .unwrap_or_else(|r| panic!("access token: {} {}", r.status, r.text()))
    }

    /// A signed `GET /api/whoami` with token credentials.
    pub fn whoami(&self, consumer: &Credentials, token: &Credentials) -> HttpResponse {
        self.call(consumer, token, "GET", "/api/whoami", None)
    }

    /// A request to `target` signed with token credentials, with `form` as
    /// its body when given.
    pub fn call(
        &self,
        consumer: &Credentials,
        token: &Credentials,
        method: &str,
        target: &str,
        form: Option<&str>,
    ) -> HttpResponse {
        let signer = Signer::new(SignatureMethod::HmacSha1, &consumer.key, &consumer.secret)
            .token(&token.key, &token.secret);
        self.signed(&signer, method, target, form)
    }
}

/// The `oauth_token` / `oauth_token_secret` of a 200 form response.
pub fn credentials_in(reply: HttpResponse) -> Result<Credentials, HttpResponse> {
    if reply.status != 200 {
        return Err(reply);
    }
    let fields = parse_form(&reply.text());
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} missing from {}", reply.text()))
    };
    Ok(Credentials {
        key: get("oauth_token"),
        secret: get("oauth_token_secret"),
    })
}

/// A demo process on loopback (memory store) with one registered consumer
/// that may call back under `callback_prefix`, and its
/// `http://127.0.0.1:PORT` site.
pub fn demo_with_consumer(
    consumer: &Credentials,
    name: &str,
    callback_prefix: &str,
) -> (DemoProcess, Site) {
    let demo = demo_with_consumer_and(consumer, name, callback_prefix, &[]);
    let site = Site::new(demo.addr, &demo.base_url());
    (demo, site)
}

/// [`demo_with_consumer`]'s demo, with more command-line `args`.
pub fn demo_with_consumer_and(
    consumer: &Credentials,
    name: &str,
    callback_prefix: &str,
    args: &[&str],
) -> DemoProcess {
    let registration = format!("{}:{}:{name}", consumer.key, consumer.secret);
    let mut all = vec![
        "--store",
        "memory",
        "--consumer",
        &registration,
        "--callback-prefix",
        callback_prefix,
    ];
    all.extend_from_slice(args);
    DemoProcess::spawn(&all)
}

/// The `oauth_problem` of an error response (from its body or its
/// `WWW-Authenticate` header).
pub fn oauth_problem(reply: &HttpResponse) -> Option<String> {
    let fields = parse_form(&reply.text());
    if let Some((_, v)) = fields.into_iter().find(|(n, _)| n == "oauth_problem") {
        return Some(v);
    }
    let header = reply.header("www-authenticate")?;
    let start = header.find("oauth_problem=\"")? + "oauth_problem=\"".len();
    let end = header[start..].find('"')?;
    Some(header[start..start + end].to_owned())
}

/// Asserts `reply` is a refusal with `status` and `oauth_problem`.
#[track_caller]
pub fn assert_problem(reply: &HttpResponse, status: u16, problem: &str) {
    assert_eq!(
        (reply.status, oauth_problem(reply).as_deref()),
        (status, Some(problem)),
        "{}",
        reply.text()
    );
}

/// `application/x-www-form-urlencoded` value encoding (RFC 3986 unreserved
/// kept, everything else escaped — always valid form encoding).
pub fn form_encode(value: &str) -> String {
    oauth1_provider::protocol::percent_encode(value).into_owned()
}
