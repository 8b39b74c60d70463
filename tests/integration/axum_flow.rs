//! The axum adapter end to end, in process (`tower::ServiceExt::oneshot`):
//! the demo provider app's whole flow as a browser and a consumer see it —
//! login, consent with CSRF, approve / deny, exchange, signed API calls,
//! revoke — and the adapter's own guarantees on a small test app (bodies
//! handed back untouched, `nest`, `Option<OAuthUser>`, limits, expiry).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::Response as AxumResponse;
use axum::routing::{get, post};
use oauth1_provider::axum::{ConsentUi, OAuth, OAuthConsumer, OAuthUser, SignedIn};
use oauth1_provider::client::Signer;
use oauth1_provider::model::{ManualClock, RequestTokenState};
use oauth1_provider::store::TokenStore;
use oauth1_provider::{
    Consumer, ConsumerRegistry, MemoryStore, OriginPolicy, Provider, ProviderConfig,
    SignatureMethod, User,
};
use tower::ServiceExt as _;

use crate::support::reply::{hidden, param};

pub(crate) type Reply = crate::support::reply::Reply<StatusCode>;

#[allow(dead_code)]
#[path = "../../examples/provider/app.rs"]
mod demo_app;

const HOME: &str = "http://127.0.0.1:8080";
const OTHER: &str = "http://localhost:8080";
const CLIENT: (&str, &str) = ("client-key", "client-secret");
pub(crate) const CALLBACK: &str = "https://client.example/cb?state=1";
const FORM: &str = "application/x-www-form-urlencoded";

// ------------------------------------------------------------ harness

pub(crate) async fn send(router: &Router, request: axum::http::Request<Body>) -> Reply {
    let response: AxumResponse = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply::new(
        status,
        headers.iter().map(|(n, v)| (n.as_str(), v.to_str().ok())),
        &bytes,
    )
}

fn host_of(origin: &str) -> &str {
    origin.split_once("://").unwrap().1
}

/// A request to `origin` (its Host header) for `target`.
fn request(method: Method, origin: &str, target: &str) -> axum::http::request::Builder {
    axum::http::Request::builder()
        .method(method)
        .uri(target)
        .header(header::HOST, host_of(origin))
}

/// A consumer talking to one app: signs with our `Signer` at `now`.
struct Client<'a> {
    router: &'a Router,
    key: &'a str,
    secret: &'a str,
    now: Option<u64>,
}

impl<'a> Client<'a> {
    fn new(router: &'a Router, (key, secret): (&'a str, &'a str)) -> Self {
        Self {
            router,
            key,
            secret,
            now: None,
        }
    }

    fn signer(&self) -> Signer<'a> {
        let signer = Signer::new(SignatureMethod::HmacSha1, self.key, self.secret);
        match self.now {
            Some(now) => signer.timestamp(now),
            None => signer,
        }
    }

    /// Sends `method origin+target` signed by `signer`, with an optional
    /// form body.
    async fn call(
        &self,
        signer: Signer<'_>,
        method: Method,
        origin: &str,
        target: &str,
        form: Option<&str>,
    ) -> Reply {
        let url = format!("{origin}{target}");
        let authorization = signer
            .authorization_header(method.as_str(), &url, form.map(str::as_bytes))
            .unwrap();
        let mut builder =
            request(method, origin, target).header(header::AUTHORIZATION, authorization);
        if form.is_some() {
            builder = builder.header(header::CONTENT_TYPE, FORM);
        }
        let body = Body::from(form.unwrap_or("").to_owned());
        send(self.router, builder.body(body).unwrap()).await
    }

    async fn request_token(&self, origin: &str, callback: &str, query: &str) -> (String, String) {
        let reply = self
            .call(
                self.signer().callback(callback),
                Method::POST,
                origin,
                &format!("/_ah/OAuthGetRequestToken{query}"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.field("oauth_callback_confirmed"), "true");
        (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        )
    }

    async fn exchange(&self, origin: &str, token: &str, secret: &str, verifier: &str) -> Reply {
        self.call(
            self.signer().token(token, secret).verifier(verifier),
            Method::POST,
            origin,
            "/_ah/OAuthGetAccessToken",
            None,
        )
        .await
    }

    async fn access(
        &self,
        origin: &str,
        token: &str,
        secret: &str,
        verifier: &str,
    ) -> (String, String) {
        let reply = self.exchange(origin, token, secret, verifier).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        )
    }

    async fn api(
        &self,
        method: Method,
        origin: &str,
        target: &str,
        (token, secret): (&str, &str),
        form: Option<&str>,
    ) -> Reply {
        self.call(
            self.signer().token(token, secret),
            method,
            origin,
            target,
            form,
        )
        .await
    }
}

/// A browser on one origin, keeping the session cookie.
pub(crate) struct Browser<'a> {
    router: &'a Router,
    origin: &'a str,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(router: &'a Router, origin: &'a str) -> Self {
        Self {
            router,
            origin,
            cookie: None,
        }
    }

    async fn go(&mut self, method: Method, target: &str, form: Option<&str>) -> Reply {
        let mut builder = request(method, self.origin, target);
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if form.is_some() {
            builder = builder.header(header::CONTENT_TYPE, FORM);
        }
        let reply = send(
            self.router,
            builder
                .body(Body::from(form.unwrap_or("").to_owned()))
                .unwrap(),
        )
        .await;
        if let Some(set) = reply.header("set-cookie") {
            let pair = set.split(';').next().unwrap();
            self.cookie = (!pair.ends_with('=')).then(|| pair.to_owned());
        }
        reply
    }

    async fn get(&mut self, target: &str) -> Reply {
        self.go(Method::GET, target, None).await
    }

    pub(crate) async fn post(&mut self, target: &str, form: &str) -> Reply {
        self.go(Method::POST, target, Some(form)).await
    }

    async fn login(&mut self, email: &str) -> Reply {
        let reply = self
            .post(
                "/login",
                &format!("email={email}&password=password&next=%2F"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        reply
    }

    /// Opens the consent page for `token` (signed in): the CSRF token on it.
    pub(crate) async fn consent(&mut self, token: &str) -> (Reply, String) {
        let reply = self
            .get(&format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.assert_page_headers();
        assert_eq!(hidden(&reply.body, "oauth_token"), token);
        let csrf = hidden(&reply.body, "csrf_token");
        (reply, csrf)
    }

    pub(crate) async fn answer(&mut self, token: &str, csrf: &str, decision: &str) -> Reply {
        self.post(
            "/_ah/OAuthAuthorizeToken",
            &format!("oauth_token={token}&csrf_token={csrf}&decision={decision}"),
        )
        .await
    }
}

pub(crate) struct Demo {
    pub(crate) router: Router,
    pub(crate) provider: Arc<Provider<MemoryStore>>,
}

pub(crate) fn demo() -> Demo {
    let mut config = demo_app::DemoConfig::new(8080);
    config.consumers =
        vec![demo_app::ConsumerSpec::parse("client-key:client-secret:Client App").unwrap()];
    config.callback_prefixes = vec!["https://client.example/cb".into()];
    // The same Argon2id, cheaper: the tests run unoptimized.
    config.password_hashing = argon2::Params::new(64, 1, 1, None).unwrap();
    let app = demo_app::build(&config, MemoryStore::new()).unwrap();
    Demo {
        router: app.router,
        provider: app.provider,
    }
}

impl Demo {
    /// A request token for the test client, with the usual callback.
    pub(crate) async fn request_token(&self) -> (String, String) {
        let client = Client::new(&self.router, CLIENT);
        client.request_token(HOME, CALLBACK, "").await
    }

    /// A browser on `HOME`, signed in as `email` (form-encoded).
    pub(crate) async fn signed_in(&self, email: &str) -> Browser<'_> {
        let mut browser = Browser::new(&self.router, HOME);
        browser.login(email).await;
        browser
    }

    pub(crate) async fn state(&self, token: &str) -> RequestTokenState {
        self.provider
            .store()
            .get_request_token(token)
            .await
            .unwrap()
            .unwrap()
            .state
    }
}

// ------------------------------------------------------------ the demo app

#[tokio::test]
async fn three_legged_flow_through_the_demo_app() {
    let demo = demo();
    let client = Client::new(&demo.router, CLIENT);
    let (token, secret) = client.request_token(HOME, CALLBACK, "").await;

    // Not signed in: the consent page sends the browser to log in, and back.
    let mut browser = Browser::new(&demo.router, HOME);
    let consent_path = format!("/_ah/OAuthAuthorizeToken?oauth_token={token}");
    let reply = browser.get(&consent_path).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let login = reply.location().to_owned();
    assert!(login.starts_with("/login?next="), "{login}");
    assert_eq!(
        param(&login, "next").as_deref(),
        Some(consent_path.as_str())
    );
    let reply = browser.get(&login).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.assert_page_headers();
    assert_eq!(hidden(&reply.body, "next"), consent_path);
    let form = |password: &str| {
        format!(
            "email=test%40example.com&password={password}&next={}",
            oauth1_provider::protocol::percent_encode(&consent_path)
        )
    };
    let reply = browser.post("/login", &form("wrong")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("Wrong email or password"));
    assert!(browser.cookie.is_none());
    let reply = browser.post("/login", &form("password")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), consent_path);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // The consent page names the registered app; Allow goes to the callback.
    let (page, csrf) = browser.consent(&token).await;
    assert!(page.body.contains("Client App"), "{}", page.body);
    assert!(page.body.contains("test@example.com"));
    assert!(!page.body.contains("Unverified"));
    assert!(page.body.contains("https://client.example"));
    let reply = browser.answer(&token, &csrf, "allow").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let callback = reply.location().to_owned();
    assert!(
        callback.starts_with("https://client.example/cb?state=1&oauth_token="),
        "{callback}"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(param(&callback, "oauth_token").unwrap(), token);
    let verifier = param(&callback, "oauth_verifier").unwrap();

    // Exchange, then signed calls: GET with `+`, UTF-8 and repeated names;
    // POST with a form body.
    let access = client.access(HOME, &token, &secret, &verifier).await;
    let access = (access.0.as_str(), access.1.as_str());
    let reply = client
        .api(
            Method::GET,
            HOME,
            "/api/whoami?q=a+b&q=%C3%BC&empty=",
            access,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let me: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(me["email"], "test@example.com");
    assert_eq!(me["admin"], false);
    assert_eq!(me["consumer_key"], CLIENT.0);
    assert!(me["user_id"].as_str().is_some_and(|id| !id.is_empty()));
    let reply = client
        .api(
            Method::POST,
            HOME,
            "/api/whoami?draft=1",
            access,
            Some("status=hello+world&tag=%E2%9C%93&tag=x"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reply.body).unwrap()["email"],
        "test@example.com"
    );
    let reply = client
        .api(Method::GET, HOME, "/api/admin", access, None)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // The account page lists the app; revoking needs the CSRF token.
    let reply = browser.get("/account").await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.assert_page_headers();
    assert!(reply.body.contains("Client App"), "{}", reply.body);
    let account_csrf = hidden(&reply.body, "csrf_token");
    let reply = browser
        .post("/account/revoke", "consumer_key=client-key")
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = browser
        .post(
            "/account/revoke",
            "consumer_key=client-key&csrf_token=forged",
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = client
        .api(Method::GET, HOME, "/api/whoami", access, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "still authorized");
    let reply = browser
        .post(
            "/account/revoke",
            &format!("consumer_key=client-key&csrf_token={account_csrf}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/account");
    client
        .api(Method::GET, HOME, "/api/whoami", access, None)
        .await
        .assert_problem(401, "token_revoked");
    let reply = browser.get("/account").await;
    assert!(!reply.body.contains("Client App"), "{}", reply.body);
    assert!(reply.body.contains("No app has access"));

    // Signing out ends the session.
    let reply = browser
        .post("/logout", &format!("csrf_token={account_csrf}"))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(browser.cookie.is_none());
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
}

/// The audit trail on the demo: `/account` shows the signed-in user's own
/// recent events (newest first, a token by its prefix), `/admin/events`
/// everyone's to administrators only, a client's values escaped.
#[tokio::test]
async fn the_account_page_shows_recent_activity_and_admins_see_every_event() {
    let demo = demo();
    let client = Client::new(&demo.router, CLIENT);
    let (token, secret) = client.request_token(HOME, CALLBACK, "").await;
    let mut browser = demo.signed_in("test@example.com").await;
    let (_, csrf) = browser.consent(&token).await;
    let reply = browser.answer(&token, &csrf, "allow").await;
    let verifier = param(reply.location(), "oauth_verifier").unwrap();
    let (access, access_secret) = client.access(HOME, &token, &secret, &verifier).await;
    // A client whose key is markup, refused; the server knows its address.
    let evil = Signer::new(SignatureMethod::HmacSha1, "<b>evil</b>", "secret")
        .token("tok<i>en", "s")
        .authorization_header("GET", &format!("{HOME}/api/whoami"), None)
        .unwrap();
    let peer: std::net::SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let call = request(Method::GET, HOME, "/api/whoami")
        .header(header::AUTHORIZATION, evil)
        .extension(axum::extract::ConnectInfo(peer))
        .body(Body::empty())
        .unwrap();
    send(&demo.router, call)
        .await
        .assert_problem(401, "signature_invalid");

    let reply = browser.get("/account").await;
    assert_eq!(reply.status, StatusCode::OK);
    let activity = reply
        .body
        .split_once("<h2>Recent activity</h2>")
        .expect("a recent activity section")
        .1;
    let rows: Vec<&str> = activity
        .split("<tr>")
        .skip(2)
        .map(|row| row.split("</td>").nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        rows,
        [
            "<td>Access granted",
            "<td>Approval used by the app",
            "<td>Access approved"
        ]
    );
    assert!(
        activity.contains(&format!("<code>{}…</code>", &access[..6])),
        "{activity}"
    );
    for secret in [&access, &access_secret, &token, &secret, &verifier] {
        assert!(!reply.body.contains(secret.as_str()), "{secret} shown");
    }
    assert!(!reply.body.contains("/admin/events"), "not for users");
    assert_eq!(
        browser.get("/admin/events").await.status,
        StatusCode::FORBIDDEN
    );

    let mut admin = demo.signed_in("admin@example.com").await;
    let reply = admin.get("/account").await;
    assert!(
        reply.body.contains("Nothing recorded yet."),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("/admin/events"));
    let reply = admin.get("/admin/events").await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.assert_page_headers();
    assert_eq!(reply.body.matches("<tr>").count(), 1 + 5, "{}", reply.body);
    assert!(reply.body.contains(
        "<td>Request refused<br><span class=\"muted\">\
         protected_resource signature_invalid UnknownConsumer</span></td>"
    ));
    assert!(reply.body.contains("<code>&lt;b&gt;evil&lt;/b&gt;</code>"));
    assert!(
        reply
            .body
            .contains("<code>tok&lt;i&gt;…</code></td><td><code>192.0.2.7</code></td>")
    );
    assert!(!reply.body.contains("<b>evil"));
    assert!(reply.body.contains("An app asked for access"));
    let mut stranger = Browser::new(&demo.router, HOME);
    assert_eq!(
        stranger.get("/admin/events").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn deny_sends_user_refused_to_the_callback() {
    let demo = demo();
    let client = Client::new(&demo.router, CLIENT);
    let (token, secret) = client.request_token(HOME, CALLBACK, "").await;
    let mut browser = Browser::new(&demo.router, HOME);
    browser.login("test%40example.com").await;
    let (_, csrf) = browser.consent(&token).await;
    let reply = browser.answer(&token, &csrf, "deny").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let callback = reply.location();
    assert!(
        callback.starts_with("https://client.example/cb?state=1&"),
        "{callback}"
    );
    assert_eq!(
        param(callback, "oauth_problem").as_deref(),
        Some("user_refused")
    );
    assert_eq!(param(callback, "oauth_token").unwrap(), token);
    assert!(param(callback, "oauth_verifier").is_none());
    assert_eq!(demo.state(&token).await, RequestTokenState::Denied);
    client
        .exchange(HOME, &token, &secret, "anything")
        .await
        .assert_problem(401, "token_rejected");
    // The answered request shows a human error page, not a stack trace.
    let reply = browser
        .get(&format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("already answered"), "{}", reply.body);
    reply.assert_page_headers();
}

#[tokio::test]
async fn forged_consent_answers_are_refused_and_leave_the_token_undecided() {
    let demo = demo();
    let client = Client::new(&demo.router, CLIENT);
    let (token, _) = client.request_token(HOME, CALLBACK, "").await;
    let mut browser = Browser::new(&demo.router, HOME);
    browser.login("test%40example.com").await;
    let (_, csrf) = browser.consent(&token).await;

    for form in [
        format!("oauth_token={token}&decision=allow"),
        format!("oauth_token={token}&decision=allow&csrf_token="),
        format!("oauth_token={token}&decision=allow&csrf_token=x{csrf}"),
        format!("oauth_token={token}&decision=deny&csrf_token=wrong"),
    ] {
        let reply = browser.post("/_ah/OAuthAuthorizeToken", &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{form}");
        reply.assert_page_headers();
        assert_eq!(demo.state(&token).await, RequestTokenState::Issued);
    }
    // Another user's CSRF token does not do either.
    let mut other = Browser::new(&demo.router, HOME);
    other.login("admin%40example.com").await;
    let reply = other.answer(&token, &csrf, "allow").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A link never decides: GET with the answer in the query shows the page.
    let reply = browser
        .get(&format!(
            "/_ah/OAuthAuthorizeToken?oauth_token={token}&decision=allow&csrf_token={csrf}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(demo.state(&token).await, RequestTokenState::Issued);
    // Not signed in: the answer goes to the login page, not through.
    let reply = Browser::new(&demo.router, HOME)
        .answer(&token, &csrf, "allow")
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().starts_with("/login?next="));
    assert_eq!(demo.state(&token).await, RequestTokenState::Issued);
    // An unknown answer is refused too.
    let reply = browser.answer(&token, &csrf, "maybe").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(demo.state(&token).await, RequestTokenState::Issued);
    // The real form still works.
    assert_eq!(
        browser.answer(&token, &csrf, "allow").await.status,
        StatusCode::SEE_OTHER
    );
    assert!(matches!(
        demo.state(&token).await,
        RequestTokenState::Authorized { .. }
    ));
}

#[tokio::test]
async fn oob_shows_the_verifier_and_the_anonymous_app_is_marked_unverified() {
    let demo = demo();
    let client = Client::new(&demo.router, ("anonymous", "anonymous"));
    let (token, secret) = client
        .request_token(HOME, "oob", "?xoauth_displayname=Photo%20%3CPrinter%3E")
        .await;
    let mut browser = Browser::new(&demo.router, HOME);
    browser.login("admin%40example.com").await;
    let (page, csrf) = browser.consent(&token).await;
    assert!(page.body.contains("Unverified app"), "{}", page.body);
    assert!(page.body.contains("Photo &lt;Printer&gt;"));
    assert!(!page.body.contains("<Printer>"));
    assert!(page.body.contains("you will get a code"));
    let reply = browser.answer(&token, &csrf, "allow").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.assert_page_headers();
    let start = reply.body.find("id=\"verifier\">").unwrap() + "id=\"verifier\">".len();
    let verifier = &reply.body[start..start + reply.body[start..].find('<').unwrap()];
    let (access, access_secret) = client.access(HOME, &token, &secret, verifier).await;
    let access = (access.as_str(), access_secret.as_str());
    let reply = client
        .api(Method::GET, HOME, "/api/whoami", access, None)
        .await;
    let me: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        (
            me["email"].as_str(),
            me["admin"].as_bool(),
            me["consumer_key"].as_str()
        ),
        (Some("admin@example.com"), Some(true), Some("anonymous"))
    );
    let reply = client
        .api(Method::POST, HOME, "/api/admin", access, Some("x=1"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Deny with oob says so on a page.
    let (token, _) = client.request_token(HOME, "oob", "").await;
    let (_, csrf) = browser.consent(&token).await;
    let reply = browser.answer(&token, &csrf, "deny").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("You denied"), "{}", reply.body);
}

#[tokio::test]
async fn unknown_and_missing_tokens_get_human_error_pages() {
    let demo = demo();
    let mut browser = Browser::new(&demo.router, HOME);
    for target in [
        "/_ah/OAuthAuthorizeToken?oauth_token=no-such-token",
        "/_ah/OAuthAuthorizeToken",
        "/_ah/OAuthAuthorizeToken?oauth_token=",
    ] {
        let reply = browser.get(target).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(reply.body.contains("<h1>"), "{}", reply.body);
        reply.assert_page_headers();
    }
}

#[tokio::test]
async fn hosts_are_enforced_and_tokens_stay_on_their_host() {
    let demo = demo();
    let client = Client::new(&demo.router, CLIENT);
    // A Host that is none of the public origins is refused everywhere.
    for target in ["/", "/login", "/_ah/OAuthGetRequestToken", "/api/whoami"] {
        let reply = send(
            &demo.router,
            request(Method::GET, "http://evil.example", target)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
    }
    let reply = client
        .call(
            client.signer().callback("oob"),
            Method::POST,
            "http://127.0.0.1:9999",
            "/_ah/OAuthGetRequestToken",
            None,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "another port is another origin"
    );

    // Both public origins work, each for its own tokens.
    let (token, secret) = client.request_token(HOME, CALLBACK, "").await;
    let mut elsewhere = Browser::new(&demo.router, OTHER);
    elsewhere.login("test%40example.com").await;
    let reply = elsewhere
        .get(&format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("another site"), "{}", reply.body);
    let mut browser = Browser::new(&demo.router, HOME);
    browser.login("test%40example.com").await;
    let (_, csrf) = browser.consent(&token).await;
    let reply = browser.answer(&token, &csrf, "allow").await;
    let verifier = param(reply.location(), "oauth_verifier").unwrap();
    client
        .exchange(OTHER, &token, &secret, &verifier)
        .await
        .assert_problem(401, "token_rejected");
    let (access, access_secret) = client.access(HOME, &token, &secret, &verifier).await;
    let access = (access.as_str(), access_secret.as_str());
    client
        .api(Method::GET, OTHER, "/api/whoami", access, None)
        .await
        .assert_problem(401, "token_rejected");
    let reply = client
        .api(Method::GET, HOME, "/api/whoami", access, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// RFC 9112 §3.2: a duplicate `Host` is refused (400); an absolute-form
/// target whose authority disagrees with `Host` is refused too (the
/// library's choice, see `OriginError::ConflictingHost`); one that agrees
/// is served, signed over the origin both name.
#[tokio::test]
async fn ambiguous_hosts_are_refused() {
    let demo = demo();
    let client = Client::new(&demo.router, CLIENT);
    for target in ["/api/whoami", "/_ah/OAuthGetRequestToken", "/login"] {
        let reply = send(
            &demo.router,
            request(Method::GET, HOME, target)
                .header(header::HOST, host_of(HOME))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
        assert!(reply.body.contains("more than one host"), "{}", reply.body);
        let absolute = format!("http://evil.example{target}");
        let reply = send(
            &demo.router,
            request(Method::GET, HOME, &absolute)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{absolute}");
        assert!(reply.body.contains("more than one host"), "{}", reply.body);
    }
    // The absolute form naming the origin `Host` names is no ambiguity.
    let url = format!("{HOME}/_ah/OAuthGetRequestToken");
    let authorization = client
        .signer()
        .callback(CALLBACK)
        .authorization_header("POST", &url, None)
        .unwrap();
    let reply = send(
        &demo.router,
        request(Method::POST, HOME, &url)
            .header(header::AUTHORIZATION, authorization)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.field("oauth_callback_confirmed"), "true");
    // Under a `nest`, which rewrites the URI, the target's authority is
    // still the one received.
    let app = test_app();
    let reply = send(
        &app.router,
        request(Method::GET, API, "http://evil.example/v1/maybe")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("more than one host"), "{}", reply.body);
}

#[tokio::test]
async fn refused_api_calls_carry_oauth_problems() {
    let demo = demo();
    let reply = send(
        &demo.router,
        request(Method::GET, HOME, "/api/whoami")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // No OAuth parameter at all: no credentials, 401 with the challenge.
    reply.assert_unauthenticated();
    // Some but not all of them: a malformed OAuth request, 400.
    let reply = send(
        &demo.router,
        request(Method::GET, HOME, "/api/whoami?oauth_consumer_key=x")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    reply.assert_problem(400, "parameter_absent");
    assert!(reply.body.contains("oauth_signature"), "{}", reply.body);
    let client = Client::new(&demo.router, CLIENT);
    client
        .api(
            Method::GET,
            HOME,
            "/api/whoami",
            ("no-such-token", "x"),
            None,
        )
        .await
        .assert_problem(401, "signature_invalid");
    // A signature over another query is a bad signature.
    let header = client
        .signer()
        .token("t", "s")
        .authorization_header("GET", &format!("{HOME}/api/whoami?a=1"), None)
        .unwrap();
    let reply = send(
        &demo.router,
        request(Method::GET, HOME, "/api/whoami?a=2")
            .header(header::AUTHORIZATION, header)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    reply.assert_problem(401, "signature_invalid");
}

// ------------------------------------------------------------ the adapter

const API: &str = "http://api.test";
const START: i64 = 1_700_000_000;

/// A consent hook that says alice is signed in, with a fixed CSRF token.
struct AlwaysAlice;

impl ConsentUi for AlwaysAlice {
    async fn signed_in(&self, _: &Parts, _: &str) -> Result<SignedIn, AxumResponse> {
        Ok(SignedIn {
            user: User::new("alice@example.com", "1001"),
            csrf_token: "alice-csrf".into(),
        })
    }
}

struct TestApp {
    router: Router,
    clock: ManualClock,
}

/// A host app with its API nested under `/v1` (the layer inside the nest,
/// so it must use the original URI) and a 1 KiB form limit.
fn test_app() -> TestApp {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::new(CLIENT.0, CLIENT.1, "Client App")
            .callback_prefix("https://client.example/cb"),
    );
    consumers.register(Consumer::new("robot", "robot-secret", "Robot").two_legged(true));
    let mut config = ProviderConfig::default();
    config.limits.max_form_body_bytes = 1024;
    let clock = ManualClock::at_unix(START);
    let store = MemoryStore::new();
    let provider = Provider::new(store.clone(), store, consumers, config).with_clock(clock.clone());
    let oauth = OAuth::new(provider).origins(OriginPolicy::public_origins([API]));
    let api = Router::new()
        .route(
            "/echo",
            post(
                |user: OAuthUser, again: Option<OAuthUser>, body: String| async move {
                    let again = again.expect("the same verdict");
                    assert_eq!(again.context(), user.context());
                    format!("{}|{body}", user.get_current_user().email)
                },
            ),
        )
        .route(
            "/maybe",
            get(|user: Option<OAuthUser>| async move {
                user.map_or("nobody".to_owned(), |u| u.get_current_user().email.clone())
            }),
        )
        .route(
            "/robot",
            get(|consumer: OAuthConsumer| async move {
                format!(
                    "{} {}",
                    consumer.get_oauth_consumer_key(),
                    consumer.get_current_user().is_err()
                )
            }),
        )
        .layer(oauth.layer());
    let router = Router::new()
        .nest("/v1", api)
        .route("/unlayered", get(|_: OAuthUser| async { "never" }))
        .merge(oauth.router(AlwaysAlice));
    TestApp { router, clock }
}

impl TestApp {
    fn client(&self) -> Client<'_> {
        let mut client = Client::new(&self.router, CLIENT);
        client.now = Some(START as u64);
        client
    }

    /// The whole flow through the adapter's routes: access token and secret.
    async fn access(&self) -> (String, String) {
        let client = self.client();
        let (token, secret) = client.request_token(API, CALLBACK, "").await;
        let mut browser = Browser::new(&self.router, API);
        let (_, csrf) = browser.consent(&token).await;
        assert_eq!(csrf, "alice-csrf");
        let reply = browser.answer(&token, &csrf, "allow").await;
        let verifier = param(reply.location(), "oauth_verifier").unwrap();
        client.access(API, &token, &secret, &verifier).await
    }
}

#[tokio::test]
async fn the_layer_hands_the_body_back_untouched_under_nest() {
    let app = test_app();
    let (access, secret) = app.access().await;
    let client = app.client();
    let body = "status=hello+world&tag=%E2%9C%93&tag=a%2Bb&empty=";
    let reply = client
        .api(
            Method::POST,
            API,
            "/v1/echo?x=%7E+y",
            (&access, &secret),
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, format!("alice@example.com|{body}"));
    // A body that is not a form is neither signed nor read by the layer.
    let json = r#"{"a": "b c"}"#;
    let header = client
        .signer()
        .token(&access, &secret)
        .authorization_header("POST", &format!("{API}/v1/echo"), None)
        .unwrap();
    let reply = send(
        &app.router,
        request(Method::POST, API, "/v1/echo")
            .header(header::AUTHORIZATION, header)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.body, format!("alice@example.com|{json}"));
    // Past the limit: 413, before any verification.
    let big = format!("a={}", "x".repeat(2000));
    let reply = client
        .api(
            Method::POST,
            API,
            "/v1/echo",
            (&access, &secret),
            Some(&big),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn optional_users_two_legged_consumers_and_a_missing_layer() {
    let app = test_app();
    let (access, secret) = app.access().await;
    let client = app.client();
    let unsigned = send(
        &app.router,
        request(Method::GET, API, "/v1/maybe")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(unsigned.body, "nobody");
    let reply = client
        .api(Method::GET, API, "/v1/maybe", (&access, &secret), None)
        .await;
    assert_eq!(reply.body, "alice@example.com");
    // Signed but refused is a refusal, not `None`.
    client
        .api(Method::GET, API, "/v1/maybe", (&access, "wrong"), None)
        .await
        .assert_problem(401, "signature_invalid");
    let robot = Client {
        router: &app.router,
        key: "robot",
        secret: "robot-secret",
        now: Some(START as u64),
    };
    let reply = robot
        .call(robot.signer(), Method::GET, API, "/v1/robot", None)
        .await;
    assert_eq!(reply.body, "robot true");
    // A two-legged request has no user: OAuthUser refuses it.
    robot
        .call(robot.signer(), Method::GET, API, "/v1/maybe", None)
        .await
        .assert_problem(401, "permission_denied");
    let reply = client
        .api(Method::GET, API, "/unlayered", (&access, &secret), None)
        .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn an_expired_request_token_gets_an_error_page() {
    let app = test_app();
    let (token, _) = app.client().request_token(API, CALLBACK, "").await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let mut browser = Browser::new(&app.router, API);
    let reply = browser
        .get(&format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("expired"), "{}", reply.body);
    let reply = browser.answer(&token, "alice-csrf", "allow").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[test]
fn adapter_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OAuth<MemoryStore>>();
    assert_send_sync::<oauth1_provider::axum::OAuthLayer>();
    assert_send_sync::<OAuthUser>();
    assert_send_sync::<OAuthConsumer>();
    assert_send_sync::<oauth1_provider::axum::OAuthRejection>();
}

#[tokio::test]
async fn sessions_and_authorize_hints_through_the_demo_app() {
    let mut config = demo_app::DemoConfig::new(8080);
    config.consumers =
        vec![demo_app::ConsumerSpec::parse("client-key:client-secret:Client App").unwrap()];
    config.callback_prefixes = vec!["https://client.example/cb".into()];
    config.password_hashing = argon2::Params::new(64, 1, 1, None).unwrap();
    let mut extensions = demo_app::extensions::Extensions::default();
    assert!(extensions.parse_flag("--sessions", "3600").unwrap().is_ok());
    assert!(
        extensions
            .parse_flag("--sessions", "soon")
            .unwrap()
            .is_err()
    );
    assert!(extensions.parse_flag("--no-such-flag", "x").is_none());
    config.extensions = extensions;
    let router = demo_app::build(&config, MemoryStore::new()).unwrap().router;
    let client = Client::new(&router, CLIENT);
    let (token, secret) = client.request_token(HOME, CALLBACK, "").await;
    let mut browser = Browser::new(&router, HOME);
    // Not signed in: the hints survive the trip through the login page.
    let reply = browser
        .get(&format!(
            "/_ah/OAuthAuthorizeToken?oauth_token={token}&hd=corp.example&hl=de"
        ))
        .await;
    let location = reply.location().to_owned();
    assert!(location.contains("hd%3Dcorp.example"), "{location}");
    browser.login("test@example.com").await;
    let next = param(location.split_once('?').unwrap().1, "next").unwrap();
    let page = browser.get(&next).await;
    assert!(page.body.contains("corp.example"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf_token");
    let reply = browser.answer(&token, &csrf, "allow").await;
    let verifier = param(
        reply.location().split_once('?').unwrap().1,
        "oauth_verifier",
    )
    .unwrap();
    let reply = client.exchange(HOME, &token, &secret, &verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.field("oauth_expires_in"), "3600");
    let (access, access_secret, handle) = (
        reply.field("oauth_token"),
        reply.field("oauth_token_secret"),
        reply.field("oauth_session_handle"),
    );
    let refreshed = client
        .call(
            client
                .signer()
                .token(&access, &access_secret)
                .header_param("oauth_session_handle", &handle),
            Method::POST,
            HOME,
            "/_ah/OAuthGetAccessToken",
            None,
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_eq!(refreshed.field("oauth_session_handle"), handle);
    let new = (
        refreshed.field("oauth_token"),
        refreshed.field("oauth_token_secret"),
    );
    let me = client
        .api(Method::GET, HOME, "/api/whoami", (&new.0, &new.1), None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let old = client
        .api(
            Method::GET,
            HOME,
            "/api/whoami",
            (&access, &access_secret),
            None,
        )
        .await;
    old.assert_problem(401, "token_revoked");
}

#[tokio::test]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;

    let consumers = ConsumerRegistry::new();
    consumers.register(Consumer::new(CLIENT.0, CLIENT.1, "Client App"));
    let store = MemoryStore::new();
    let provider = Provider::new(store.clone(), store, consumers, ProviderConfig::default())
        .with_clock(ManualClock::at_unix(START));
    let policy = OriginPolicy::public_origins(["https://www.example.com"])
        .trust_proxy("10.0.0.1".parse().unwrap());
    let oauth = OAuth::new(provider).origins(policy);
    let router: Router = oauth.token_router().layer(oauth.layer());
    let signed = |peer: &str, forwarded_proto: &str| {
        let header = Signer::new(SignatureMethod::HmacSha1, CLIENT.0, CLIENT.1)
            .timestamp(START as u64)
            .callback("oob")
            .authorization_header(
                "POST",
                "https://www.example.com/_ah/OAuthGetRequestToken",
                None,
            )
            .unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        request(
            Method::POST,
            "http://10.0.0.5:8080",
            "/_ah/OAuthGetRequestToken",
        )
        .header("x-forwarded-proto", forwarded_proto)
        .header("x-forwarded-host", "www.example.com")
        .header(header::AUTHORIZATION, header)
        .extension(ConnectInfo(peer))
        .body(Body::empty())
        .unwrap()
    };
    // From the proxy: the public origin https://www.example.com is signed.
    let reply = send(&router, signed("10.0.0.1:40000", "https")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("oauth_token="), "{}", reply.body);
    // The proxy says http: not an origin served here.
    let reply = send(&router, signed("10.0.0.1:40001", "http")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    // The same headers from anyone else are not believed: 10.0.0.5:8080 is
    // not served here either.
    let reply = send(&router, signed("203.0.113.9:40000", "https")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}
