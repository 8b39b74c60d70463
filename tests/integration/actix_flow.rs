//! The actix-web adapter end to end, in process (`actix_web::test`): a small
//! host app with a session-less consent hook (a header names the signed-in
//! user) runs the whole three-legged flow — request token, consent with
//! CSRF, approve / deny, exchange, signed API calls through `OAuthUser`,
//! revoke — and every refusal path the adapter adds or passes on.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::support::reply::{hidden, param};
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, read_body};
use actix_web::{App, HttpRequest, HttpResponse, web};
use oauth1_provider::actix::{
    ConsentUi, EndpointPaths, MaybeOAuthUser, OAuth, OAuthConsumer, OAuthUser, SignedIn,
};
use oauth1_provider::store::TokenStore;

pub(crate) type Reply = crate::support::reply::Reply<StatusCode>;

use oauth1_provider::client::Signer;
use oauth1_provider::model::{ManualClock, RequestTokenState};
use oauth1_provider::origin::ResolvedOrigin;
use oauth1_provider::protocol::percent_encode;
use oauth1_provider::{
    Consumer, ConsumerRegistry, MemoryStore, OriginPolicy, Provider, ProviderConfig,
    SignatureMethod, User,
};

const API: &str = "http://api.test";
const OTHER: &str = "http://other.test";
const CLIENT: (&str, &str) = ("client-key", "client-secret");
const CALLBACK: &str = "https://client.example/cb?state=1";
const FORM: &str = "application/x-www-form-urlencoded";
const START: i64 = 1_700_000_000;
/// The header the test host's "login" puts on every request of a signed-in
/// browser.
const SIGNED_IN_AS: &str = "x-signed-in-as";

// A store that fails every call while `failing` is set: the one the core tests use.
use crate::support::flaky_store::FlakyStore;

// ------------------------------------------------------------ the host app

/// Session-less consent hook: the `x-signed-in-as` header names the user;
/// without it, the browser is sent to log in.
struct HeaderLogin;

impl ConsentUi for HeaderLogin {
    async fn signed_in(
        &self,
        request: &HttpRequest,
        return_to: &str,
    ) -> Result<SignedIn, HttpResponse> {
        match request
            .headers()
            .get(SIGNED_IN_AS)
            .and_then(|v| v.to_str().ok())
        {
            Some(email) => Ok(SignedIn {
                user: User::new(email, format!("id-{email}")).admin(email.starts_with("admin@")),
                csrf_token: format!("csrf-of-{email}"),
            }),
            None => Err(HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/login?next={}", percent_encode(return_to)),
                ))
                .finish()),
        }
    }
}

async fn whoami(user: OAuthUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "email": user.get_current_user().email,
        "user_id": user.get_current_user().user_id,
        "admin": user.is_current_user_admin(),
        "consumer_key": user.get_oauth_consumer_key(),
    }))
}

/// The extractor first, then the raw body: the handler sees it untouched.
async fn echo(user: OAuthUser, body: web::Bytes) -> String {
    format!(
        "{}|{}",
        user.get_current_user().email,
        String::from_utf8_lossy(&body)
    )
}

/// The extractor first, then actix's own form extractor.
async fn form(user: OAuthUser, form: web::Form<Vec<(String, String)>>) -> String {
    let fields: Vec<String> = form.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
    format!("{}|{}", user.get_current_user().email, fields.join(","))
}

/// Three extractors in one handler share one verdict: a second
/// verification would find the nonce used.
async fn thrice(user: OAuthUser, maybe: MaybeOAuthUser, consumer: OAuthConsumer) -> String {
    let maybe = maybe.into_inner().expect("signed");
    assert_eq!(maybe.context(), user.context());
    assert_eq!(consumer.context(), user.context());
    format!(
        "{} {}",
        user.get_current_user().email,
        consumer.get_oauth_consumer_key()
    )
}

async fn maybe(user: MaybeOAuthUser) -> String {
    user.0
        .map_or("nobody".to_owned(), |u| u.get_current_user().email.clone())
}

async fn option(user: Option<OAuthUser>) -> String {
    user.map_or("nobody".to_owned(), |u| u.get_current_user().email.clone())
}

async fn robot(consumer: OAuthConsumer) -> String {
    format!(
        "{} {}",
        consumer.get_oauth_consumer_key(),
        consumer.get_current_user().is_err()
    )
}

async fn origin(origin: web::ReqData<ResolvedOrigin>) -> String {
    format!("{}://{}", origin.scheme, origin.authority)
}

pub(crate) type Sender = Rc<dyn Fn(TestRequest) -> Pin<Box<dyn Future<Output = Reply>>>>;

/// `init_service` an app and wrap it as a type-erased sender (paths in
/// full: `grants` serves its apps with it too).
macro_rules! serve {
    ($app:expr) => {{
        let service = ::std::rc::Rc::new(::actix_web::test::init_service($app).await);
        let send: $crate::actix_flow::Sender =
            ::std::rc::Rc::new(move |request: ::actix_web::test::TestRequest| {
                let service = service.clone();
                Box::pin(async move {
                    let response =
                        ::actix_web::test::call_service(&*service, request.to_request()).await;
                    $crate::actix_flow::read_reply(response).await
                })
            });
        send
    }};
}
pub(crate) use serve;

struct TestApp {
    send: Sender,
    provider: Arc<Provider<FlakyStore>>,
    clock: ManualClock,
    store: FlakyStore,
}

fn provider(store: &FlakyStore, clock: &ManualClock) -> Arc<Provider<FlakyStore>> {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::new(CLIENT.0, CLIENT.1, "Client <App>")
            .callback_prefix("https://client.example/cb"),
    );
    consumers.register(Consumer::new("robot", "robot-secret", "Robot").two_legged(true));
    consumers.allow_anonymous();
    let mut config = ProviderConfig::default();
    config.limits.max_form_body_bytes = 1024;
    Arc::new(
        Provider::new(store.clone(), store.clone(), consumers, config).with_clock(clock.clone()),
    )
}

/// The host app: the endpoints at the default paths and its API under a
/// scope, the whole app wrapped in the middleware (so the token endpoints
/// run under it too), served at two public origins.
async fn test_app() -> TestApp {
    test_app_with(OriginPolicy::public_origins([API, OTHER])).await
}

/// [`test_app`] serving the origins `policy` says.
async fn test_app_with(policy: OriginPolicy) -> TestApp {
    let store = FlakyStore::default();
    let clock = ManualClock::at_unix(START);
    let provider = provider(&store, &clock);
    let oauth = OAuth::new(provider.clone()).origins(policy);
    let send = serve!(
        App::new()
            .service(oauth.endpoints(HeaderLogin))
            .service(
                web::scope("/api")
                    .route("/whoami", web::get().to(whoami))
                    .route("/whoami", web::post().to(whoami))
                    .route("/echo", web::post().to(echo))
                    .route("/form", web::post().to(form))
                    .route("/thrice", web::get().to(thrice))
                    .route("/maybe", web::get().to(maybe))
                    .route("/option", web::get().to(option))
                    .route("/robot", web::get().to(robot))
                    .route("/origin", web::get().to(origin)),
            )
            .wrap(oauth.middleware())
    );
    TestApp {
        send,
        provider,
        clock,
        store,
    }
}

// ------------------------------------------------------------ harness

pub(crate) async fn read_reply<B: MessageBody>(response: ServiceResponse<B>) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_body(response).await;
    Reply::new(
        status,
        headers.iter().map(|(n, v)| (n.as_str(), v.to_str().ok())),
        &body,
    )
}

fn host_of(origin: &str) -> &str {
    origin.split_once("://").unwrap().1
}

/// A request to `origin` (its Host header) for `target`.
fn request(method: Method, origin: &str, target: &str) -> TestRequest {
    TestRequest::default()
        .method(method)
        .uri(target)
        .insert_header((header::HOST, host_of(origin)))
}

/// A consumer, signing with the crate's `Signer` at the app's clock.
struct Client<'a> {
    send: &'a Sender,
    key: &'a str,
    secret: &'a str,
}

impl<'a> Client<'a> {
    fn new(app: &'a TestApp, (key, secret): (&'a str, &'a str)) -> Self {
        Self {
            send: &app.send,
            key,
            secret,
        }
    }

    fn signer(&self) -> Signer<'a> {
        Signer::new(SignatureMethod::HmacSha1, self.key, self.secret).timestamp(START as u64)
    }

    /// The signed request, not sent.
    fn signed(
        &self,
        signer: Signer<'_>,
        method: Method,
        origin: &str,
        target: &str,
        form: Option<&str>,
    ) -> TestRequest {
        let url = format!("{origin}{target}");
        let authorization = signer
            .authorization_header(method.as_str(), &url, form.map(str::as_bytes))
            .unwrap();
        let mut request =
            request(method, origin, target).insert_header((header::AUTHORIZATION, authorization));
        if let Some(form) = form {
            request = request
                .insert_header((header::CONTENT_TYPE, FORM))
                .set_payload(form.to_owned());
        }
        request
    }

    async fn call(
        &self,
        signer: Signer<'_>,
        method: Method,
        origin: &str,
        target: &str,
        form: Option<&str>,
    ) -> Reply {
        (self.send)(self.signed(signer, method, origin, target, form)).await
    }

    async fn request_token(&self, origin: &str, callback: &str) -> (String, String) {
        let reply = self
            .call(
                self.signer().callback(callback),
                Method::POST,
                origin,
                "/_ah/OAuthGetRequestToken",
                None,
            )
            .await;
        reply.assert_status(200);
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
        reply.assert_status(200);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        )
    }

    async fn api(
        &self,
        method: Method,
        target: &str,
        (token, secret): (&str, &str),
        form: Option<&str>,
    ) -> Reply {
        self.call(
            self.signer().token(token, secret),
            method,
            API,
            target,
            form,
        )
        .await
    }
}

/// A browser on one origin, signed in as `user` (or not).
struct Browser<'a> {
    send: &'a Sender,
    origin: &'a str,
    user: Option<&'a str>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp, origin: &'a str, user: Option<&'a str>) -> Self {
        Self {
            send: &app.send,
            origin,
            user,
        }
    }

    async fn go(&self, method: Method, target: &str, form: Option<&str>) -> Reply {
        let mut request = request(method, self.origin, target);
        if let Some(user) = self.user {
            request = request.insert_header((SIGNED_IN_AS, user));
        }
        if let Some(form) = form {
            request = request
                .insert_header((header::CONTENT_TYPE, FORM))
                .set_payload(form.to_owned());
        }
        (self.send)(request).await
    }

    /// Opens the consent page for `token`: the page and its CSRF token.
    async fn consent(&self, token: &str) -> (Reply, String) {
        let reply = self
            .go(
                Method::GET,
                &format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"),
                None,
            )
            .await;
        reply.assert_status(200);
        reply.assert_page_headers();
        assert_eq!(hidden(&reply.body, "oauth_token"), token);
        let csrf = hidden(&reply.body, "csrf_token");
        (reply, csrf)
    }

    async fn answer(&self, token: &str, csrf: &str, decision: &str) -> Reply {
        self.go(
            Method::POST,
            "/_ah/OAuthAuthorizeToken",
            Some(&format!(
                "oauth_token={token}&csrf_token={csrf}&decision={decision}"
            )),
        )
        .await
    }
}

impl TestApp {
    async fn state(&self, token: &str) -> RequestTokenState {
        self.provider
            .store()
            .get_request_token(token)
            .await
            .unwrap()
            .unwrap()
            .state
    }

    /// The whole flow for alice: access token and secret.
    async fn access(&self) -> (String, String) {
        let client = Client::new(self, CLIENT);
        let (token, secret) = client.request_token(API, CALLBACK).await;
        let browser = Browser::new(self, API, Some("alice@example.com"));
        let (_, csrf) = browser.consent(&token).await;
        let reply = browser.answer(&token, &csrf, "allow").await;
        let verifier = param(reply.location(), "oauth_verifier").unwrap();
        client.access(API, &token, &secret, &verifier).await
    }
}

// ------------------------------------------------------------ the flow

#[actix_web::test]
async fn three_legged_flow_through_an_actix_app() {
    let app = test_app().await;
    let client = Client::new(&app, CLIENT);
    let (token, secret) = client.request_token(API, CALLBACK).await;
    assert_eq!(app.state(&token).await, RequestTokenState::Issued);

    // Not signed in: the consent page sends the browser to log in, and back.
    let consent_path = format!("/_ah/OAuthAuthorizeToken?oauth_token={token}");
    let stranger = Browser::new(&app, API, None);
    let reply = stranger.go(Method::GET, &consent_path, None).await;
    reply.assert_status(303);
    assert_eq!(
        param(reply.location(), "next").as_deref(),
        Some(consent_path.as_str())
    );
    reply.assert_page_headers();

    // Signed in: the page names the app (escaped), the user and the callback.
    let browser = Browser::new(&app, API, Some("alice@example.com"));
    let (page, csrf) = browser.consent(&token).await;
    assert!(page.body.contains("Client &lt;App&gt;"), "{}", page.body);
    assert!(!page.body.contains("Client <App>"));
    assert!(page.body.contains("alice@example.com"));
    assert!(page.body.contains("https://client.example"));
    assert!(!page.body.contains("Unverified"));
    assert_eq!(csrf, "csrf-of-alice@example.com");

    // An answer without the session's CSRF token is refused and changes nothing.
    let forged = browser
        .go(
            Method::POST,
            "/_ah/OAuthAuthorizeToken",
            Some(&format!("oauth_token={token}&decision=allow")),
        )
        .await;
    forged.assert_status(403);
    forged.assert_page_headers();
    let wrong = browser.answer(&token, "csrf-of-mallory", "allow").await;
    wrong.assert_status(403);
    assert_eq!(app.state(&token).await, RequestTokenState::Issued);

    // Allow: a 303 to the callback, its own query kept.
    let reply = browser.answer(&token, &csrf, "allow").await;
    reply.assert_status(303);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let callback = reply.location().to_owned();
    assert!(
        callback.starts_with("https://client.example/cb?state=1&oauth_token="),
        "{callback}"
    );
    assert_eq!(param(&callback, "oauth_token").unwrap(), token);
    let verifier = param(&callback, "oauth_verifier").unwrap();
    assert!(matches!(
        app.state(&token).await,
        RequestTokenState::Authorized { ref user, .. } if user.email == "alice@example.com"
    ));
    // Answered once: a second answer gets an error page.
    browser
        .answer(&token, &csrf, "allow")
        .await
        .assert_status(400);

    // Exchange: a wrong verifier is refused, the right one works once.
    client
        .exchange(API, &token, &secret, "not-the-verifier")
        .await
        .assert_problem(401, "verifier_invalid");
    let (access, access_secret) = client.access(API, &token, &secret, &verifier).await;
    assert_eq!(app.state(&token).await, RequestTokenState::Exchanged);
    let access = (access.as_str(), access_secret.as_str());

    // GET with `+`, UTF-8, repeated and empty parameters.
    let reply = client
        .api(
            Method::GET,
            "/api/whoami?q=a+b&q=%C3%BC&empty=&tilde=%7E",
            access,
            None,
        )
        .await;
    reply.assert_status(200);
    let me: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["user_id"], "id-alice@example.com");
    assert_eq!(me["admin"], false);
    assert_eq!(me["consumer_key"], CLIENT.0);

    // POST with a form body (signed) to a handler that reads the raw bytes
    // after `OAuthUser`, and to one that uses `web::Form`.
    let body = "status=hello+world&tag=%E2%9C%93&tag=a%2Bb&empty=";
    let reply = client
        .api(Method::POST, "/api/echo?draft=1", access, Some(body))
        .await;
    reply.assert_status(200);
    assert_eq!(reply.body, format!("alice@example.com|{body}"));
    let reply = client
        .api(Method::POST, "/api/form", access, Some(body))
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.body,
        "alice@example.com|status=hello world,tag=✓,tag=a+b,empty="
    );
    let reply = client
        .api(Method::POST, "/api/whoami", access, Some("a=1"))
        .await;
    reply.assert_status(200);

    // A body signed as another body is a bad signature.
    let mut tampered = client
        .signed(
            client.signer().token(access.0, access.1),
            Method::POST,
            API,
            "/api/echo",
            Some("amount=1"),
        )
        .set_payload("amount=1000");
    tampered = tampered.insert_header((header::CONTENT_TYPE, FORM));
    (app.send)(tampered)
        .await
        .assert_problem(401, "signature_invalid");

    // A replay of the same signed request is refused.
    let signer = client
        .signer()
        .token(access.0, access.1)
        .nonce("fixed-nonce");
    let first = client.signed(signer.clone(), Method::GET, API, "/api/whoami", None);
    (app.send)(first).await.assert_status(200);
    let again = client.signed(signer, Method::GET, API, "/api/whoami", None);
    (app.send)(again).await.assert_problem(401, "nonce_used");

    // Revoke: the next call is a 401 `token_revoked`.
    assert!(app.provider.revoke_token(access.0).await.unwrap());
    client
        .api(Method::GET, "/api/whoami", access, None)
        .await
        .assert_problem(401, "token_revoked");
}

#[actix_web::test]
async fn deny_sends_user_refused_to_the_callback() {
    let app = test_app().await;
    let client = Client::new(&app, CLIENT);
    let (token, secret) = client.request_token(API, CALLBACK).await;
    let browser = Browser::new(&app, API, Some("alice@example.com"));
    let (_, csrf) = browser.consent(&token).await;
    let reply = browser.answer(&token, &csrf, "deny").await;
    reply.assert_status(303);
    let callback = reply.location();
    assert!(callback.starts_with("https://client.example/cb?state=1&"));
    assert_eq!(
        param(callback, "oauth_problem").as_deref(),
        Some("user_refused")
    );
    assert_eq!(param(callback, "oauth_token").unwrap(), token);
    assert!(param(callback, "oauth_verifier").is_none());
    assert_eq!(app.state(&token).await, RequestTokenState::Denied);
    client
        .exchange(API, &token, &secret, "anything")
        .await
        .assert_problem(401, "token_rejected");
    // An unknown decision is not a decision.
    let (token, _) = client.request_token(API, CALLBACK).await;
    browser
        .answer(&token, &csrf, "maybe")
        .await
        .assert_status(400);
    assert_eq!(app.state(&token).await, RequestTokenState::Issued);
}

#[actix_web::test]
async fn oob_shows_the_verifier_and_anonymous_apps_are_unverified() {
    let app = test_app().await;
    let client = Client::new(&app, ("anonymous", "anonymous"));
    let reply = client
        .call(
            client.signer().callback("oob"),
            Method::GET,
            API,
            "/_ah/OAuthGetRequestToken?xoauth_displayname=Photo%20%3CPrinter%3E",
            None,
        )
        .await;
    reply.assert_status(200);
    let (token, secret) = (
        reply.field("oauth_token"),
        reply.field("oauth_token_secret"),
    );
    let browser = Browser::new(&app, API, Some("admin@example.com"));
    let (page, csrf) = browser.consent(&token).await;
    assert!(page.body.contains("Unverified app"), "{}", page.body);
    assert!(page.body.contains("Photo &lt;Printer&gt;"));
    let reply = browser.answer(&token, &csrf, "allow").await;
    reply.assert_status(200);
    reply.assert_page_headers();
    let start = reply.body.find("id=\"verifier\">").unwrap() + "id=\"verifier\">".len();
    let verifier = &reply.body[start..start + reply.body[start..].find('<').unwrap()];
    let (access, access_secret) = client.access(API, &token, &secret, verifier).await;
    let reply = client
        .api(Method::GET, "/api/whoami", (&access, &access_secret), None)
        .await;
    let me: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(me["admin"], true);
    assert_eq!(me["consumer_key"], "anonymous");
}

// ------------------------------------------------------------ refusals

#[actix_web::test]
async fn hosts_are_enforced_and_tokens_stay_on_their_host() {
    let app = test_app().await;
    // A Host that is none of the public origins is refused everywhere,
    // before any provider work.
    for target in [
        "/_ah/OAuthGetRequestToken",
        "/_ah/OAuthAuthorizeToken?oauth_token=x",
        "/_ah/OAuthGetAccessToken",
        "/api/whoami",
    ] {
        let reply = (app.send)(request(Method::GET, "http://evil.example", target)).await;
        reply.assert_status(400);
        assert!(
            reply.body.contains("not served at this address"),
            "{target}"
        );
    }
    let client = Client::new(&app, CLIENT);
    client
        .call(
            client.signer().callback("oob"),
            Method::POST,
            "http://api.test:8080",
            "/_ah/OAuthGetRequestToken",
            None,
        )
        .await
        .assert_status(400);

    // Both public origins work, each for its own tokens.
    let (token, secret) = client.request_token(API, CALLBACK).await;
    let elsewhere = Browser::new(&app, OTHER, Some("alice@example.com"));
    let reply = elsewhere
        .go(
            Method::GET,
            &format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"),
            None,
        )
        .await;
    reply.assert_status(400);
    assert!(reply.body.contains("another site"), "{}", reply.body);
    let browser = Browser::new(&app, API, Some("alice@example.com"));
    let (_, csrf) = browser.consent(&token).await;
    let verifier = param(
        browser.answer(&token, &csrf, "allow").await.location(),
        "oauth_verifier",
    )
    .unwrap();
    client
        .exchange(OTHER, &token, &secret, &verifier)
        .await
        .assert_problem(401, "token_rejected");
    let (access, access_secret) = client.access(API, &token, &secret, &verifier).await;
    client
        .call(
            client.signer().token(&access, &access_secret),
            Method::GET,
            OTHER,
            "/api/whoami",
            None,
        )
        .await
        .assert_problem(401, "token_rejected");
}

/// Mounted under `/app` by a proxy that strips it: requests are verified
/// against the public URL (prefix + the target received), and the consent
/// form posts to the public path.
#[actix_web::test]
async fn a_path_prefix_stripped_by_a_proxy_is_part_of_what_is_signed() {
    const MOUNTED: &str = "http://mounted.test";
    let app = test_app_with(OriginPolicy::public_origins(["http://mounted.test/app"])).await;
    // Signed over `url`, sent to `target` on the mounted host.
    let signed_over = |signer: Signer<'_>, method: Method, url: &str, target: &str| {
        let header = signer
            .authorization_header(method.as_str(), url, None)
            .unwrap();
        request(method, MOUNTED, target).insert_header((header::AUTHORIZATION, header))
    };
    let robot = Client::new(&app, ("robot", "robot-secret"));
    let reply = (app.send)(signed_over(
        robot.signer(),
        Method::GET,
        "http://mounted.test/app/api/robot",
        "/api/robot",
    ))
    .await;
    reply.assert_status(200);
    assert_eq!(reply.body, "robot true");
    // Signed over the URL the app itself received: not what the client sees.
    (app.send)(signed_over(
        robot.signer().nonce("other"),
        Method::GET,
        "http://mounted.test/api/robot",
        "/api/robot",
    ))
    .await
    .assert_problem(401, "signature_invalid");

    let client = Client::new(&app, CLIENT);
    let reply = (app.send)(signed_over(
        client.signer().callback(CALLBACK),
        Method::POST,
        "http://mounted.test/app/_ah/OAuthGetRequestToken",
        "/_ah/OAuthGetRequestToken",
    ))
    .await;
    reply.assert_status(200);
    let token = reply.field("oauth_token");
    let browser = Browser::new(&app, MOUNTED, Some("alice@example.com"));
    let (page, _) = browser.consent(&token).await;
    assert!(
        page.body
            .contains("action=\"/app/_ah/OAuthAuthorizeToken\""),
        "{}",
        page.body
    );
}

/// RFC 9112 §3.2: a duplicate `Host` is refused (400); an absolute-form
/// target whose authority disagrees with `Host` is refused too (the
/// library's choice, see `OriginError::ConflictingHost`); one that agrees
/// (case and default port aside) is served, signed over that origin.
#[actix_web::test]
async fn ambiguous_hosts_are_refused() {
    let app = test_app().await;
    let client = Client::new(&app, CLIENT);
    for target in [
        "/_ah/OAuthGetRequestToken",
        "/_ah/OAuthAuthorizeToken?oauth_token=x",
        "/api/whoami",
    ] {
        let reply = (app.send)(
            request(Method::GET, API, target).append_header((header::HOST, host_of(API))),
        )
        .await;
        reply.assert_status(400);
        assert!(reply.body.contains("more than one host"), "{}", reply.body);
        let absolute = format!("http://evil.example{target}");
        let reply = (app.send)(request(Method::GET, API, &absolute)).await;
        reply.assert_status(400);
        assert!(reply.body.contains("more than one host"), "{}", reply.body);
    }
    let url = format!("{API}/_ah/OAuthGetRequestToken");
    let authorization = client
        .signer()
        .callback(CALLBACK)
        .authorization_header("POST", &url, None)
        .unwrap();
    let reply = (app.send)(
        request(
            Method::POST,
            API,
            "http://API.test:80/_ah/OAuthGetRequestToken",
        )
        .insert_header((header::AUTHORIZATION, authorization)),
    )
    .await;
    reply.assert_status(200);
    assert_eq!(reply.field("oauth_callback_confirmed"), "true");
}

#[actix_web::test]
async fn missing_and_invalid_signatures_carry_oauth_problems() {
    let app = test_app().await;
    let (access, secret) = app.access().await;
    let client = Client::new(&app, CLIENT);
    // No credentials at all: 401 with the challenge.
    (app.send)(request(Method::GET, API, "/api/whoami"))
        .await
        .assert_unauthenticated();
    // Credentials without a signature.
    let unsigned = format!(
        "OAuth oauth_consumer_key=\"{}\", oauth_token=\"{access}\", \
         oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"{START}\", \
         oauth_nonce=\"n1\", oauth_version=\"1.0\"",
        CLIENT.0
    );
    let reply = (app.send)(
        request(Method::GET, API, "/api/whoami").insert_header((header::AUTHORIZATION, unsigned)),
    )
    .await;
    reply.assert_problem(400, "parameter_absent");
    assert!(reply.body.contains("oauth_signature"), "{}", reply.body);
    // A wrong token secret, an unknown token, an unknown consumer.
    client
        .api(Method::GET, "/api/whoami", (&access, "wrong"), None)
        .await
        .assert_problem(401, "signature_invalid");
    client
        .api(Method::GET, "/api/whoami", ("no-such-token", &secret), None)
        .await
        .assert_problem(401, "signature_invalid");
    let stranger = Client::new(&app, ("stranger", "secret"));
    stranger
        .api(Method::GET, "/api/whoami", (&access, &secret), None)
        .await
        .assert_problem(401, "signature_invalid");
    // A signature over another query: the adapter signs the target as received.
    let header = client
        .signer()
        .token(&access, &secret)
        .authorization_header("GET", &format!("{API}/api/whoami?a=1"), None)
        .unwrap();
    (app.send)(
        request(Method::GET, API, "/api/whoami?a=2").insert_header((header::AUTHORIZATION, header)),
    )
    .await
    .assert_problem(401, "signature_invalid");
    // Out of the timestamp window.
    app.clock.advance(Duration::from_secs(3600));
    client
        .api(Method::GET, "/api/whoami", (&access, &secret), None)
        .await
        .assert_problem(401, "timestamp_refused");
    // The token endpoints answer the same way.
    (app.send)(request(Method::POST, API, "/_ah/OAuthGetRequestToken"))
        .await
        .assert_problem(400, "parameter_absent");
}

#[actix_web::test]
async fn a_failing_store_is_a_503() {
    let app = test_app().await;
    let (access, secret) = app.access().await;
    let client = Client::new(&app, CLIENT);
    let (token, _) = client.request_token(API, CALLBACK).await;
    app.store.failing.store(true, Ordering::SeqCst);

    let reply = client
        .api(Method::GET, "/api/whoami", (&access, &secret), None)
        .await;
    reply.assert_status(503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(reply.header("www-authenticate").is_none());
    client
        .call(
            client.signer().callback(CALLBACK),
            Method::POST,
            API,
            "/_ah/OAuthGetRequestToken",
            None,
        )
        .await
        .assert_status(503);
    let browser = Browser::new(&app, API, Some("alice@example.com"));
    let reply = browser
        .go(
            Method::GET,
            &format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"),
            None,
        )
        .await;
    reply.assert_status(503);
    reply.assert_page_headers();
    assert!(
        reply.body.contains("temporarily unavailable"),
        "{}",
        reply.body
    );

    // Back up: the same token works (the failed call used no nonce).
    app.store.failing.store(false, Ordering::SeqCst);
    client
        .api(Method::GET, "/api/whoami", (&access, &secret), None)
        .await
        .assert_status(200);
}

// ------------------------------------------------------------ the middleware

#[actix_web::test]
async fn bodies_are_handed_back_untouched_and_limited() {
    let app = test_app().await;
    let (access, secret) = app.access().await;
    let client = Client::new(&app, CLIENT);
    // A body that is not a form is neither signed nor read by the middleware.
    let json = r#"{"a": "b c"}"#;
    let signed = client.signed(
        client.signer().token(&access, &secret),
        Method::POST,
        API,
        "/api/echo",
        None,
    );
    let reply = (app.send)(
        signed
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(json),
    )
    .await;
    reply.assert_status(200);
    assert_eq!(reply.body, format!("alice@example.com|{json}"));
    // Past the limit (1 KiB here): 413, before any verification.
    let big = format!("a={}", "x".repeat(2000));
    client
        .api(Method::POST, "/api/echo", (&access, &secret), Some(&big))
        .await
        .assert_status(413);
    // Also when the client lies about the length by omitting it: the limit
    // is enforced on the bytes read.
    let unsigned = request(Method::POST, API, "/api/echo")
        .insert_header((header::CONTENT_TYPE, FORM))
        .set_payload(big.clone());
    (app.send)(unsigned).await.assert_status(413);
    // A form body at the token endpoint under the middleware is read twice:
    // once to be kept for extractors, once by the endpoint itself.
    let reply = client
        .call(
            client.signer().callback("oob"),
            Method::POST,
            API,
            "/_ah/OAuthGetRequestToken",
            Some("scope=photos&x=%E2%9C%93"),
        )
        .await;
    reply.assert_status(200);
}

#[actix_web::test]
async fn optional_users_consumers_and_one_verdict_per_request() {
    let app = test_app().await;
    let (access, secret) = app.access().await;
    let access = (access.as_str(), secret.as_str());
    let client = Client::new(&app, CLIENT);

    // Three extractors, one verification (a second would be a replay).
    let reply = client.api(Method::GET, "/api/thrice", access, None).await;
    reply.assert_status(200);
    assert_eq!(reply.body, format!("alice@example.com {}", CLIENT.0));

    // MaybeOAuthUser: `None` only for a request with no OAuth credentials.
    let unsigned = (app.send)(request(Method::GET, API, "/api/maybe")).await;
    assert_eq!(unsigned.body, "nobody");
    let reply = client.api(Method::GET, "/api/maybe", access, None).await;
    assert_eq!(reply.body, "alice@example.com");
    client
        .api(Method::GET, "/api/maybe", (access.0, "wrong"), None)
        .await
        .assert_problem(401, "signature_invalid");

    // Option<OAuthUser> follows actix's rule: `None` on any failure.
    let unsigned = (app.send)(request(Method::GET, API, "/api/option")).await;
    assert_eq!(unsigned.body, "nobody");
    let reply = client
        .api(Method::GET, "/api/option", (access.0, "wrong"), None)
        .await;
    reply.assert_status(200);
    assert_eq!(reply.body, "nobody");
    let reply = client.api(Method::GET, "/api/option", access, None).await;
    assert_eq!(reply.body, "alice@example.com");

    // A two-legged request has a consumer but no user.
    let robot = Client::new(&app, ("robot", "robot-secret"));
    let reply = robot
        .call(robot.signer(), Method::GET, API, "/api/robot", None)
        .await;
    assert_eq!(reply.body, "robot true");
    robot
        .call(robot.signer(), Method::GET, API, "/api/whoami", None)
        .await
        .assert_problem(401, "permission_denied");

    // The origin the middleware resolved is in the request's extensions.
    let reply = (app.send)(request(Method::GET, OTHER, "/api/origin")).await;
    assert_eq!(reply.body, OTHER);
}

#[actix_web::test]
async fn a_route_without_the_middleware_is_a_500() {
    let store = FlakyStore::default();
    let clock = ManualClock::at_unix(START);
    let oauth = OAuth::new(provider(&store, &clock));
    let send = serve!(
        App::new()
            .service(oauth.endpoints(HeaderLogin))
            .route("/unwrapped", web::get().to(whoami))
    );
    let reply = send(request(Method::GET, API, "/unwrapped")).await;
    reply.assert_status(500);
    // The endpoints themselves need no middleware.
    let app = TestApp {
        send,
        provider: oauth.provider().clone(),
        clock,
        store,
    };
    Client::new(&app, CLIENT).request_token(API, "oob").await;
}

#[actix_web::test]
async fn configurable_paths_in_a_scope_and_trusted_proxies() {
    let store = FlakyStore::default();
    let clock = ManualClock::at_unix(START);
    let proxy = "10.0.0.1".parse().unwrap();
    let oauth = OAuth::new(provider(&store, &clock))
        .origins(OriginPolicy::public_origins(["https://www.example.com"]).trust_proxy(proxy))
        .paths(EndpointPaths {
            request_token: "/request".into(),
            authorize: "/authorize".into(),
            access_token: "/access".into(),
            authenticate: "/authenticate".into(),
            identify: "/identify".into(),
        });
    let send = serve!(
        App::new()
            .service(web::scope("/oauth").service(oauth.token_endpoints()))
            .wrap(oauth.middleware())
    );
    let signed = |peer: &str| {
        let header = Signer::new(SignatureMethod::HmacSha1, CLIENT.0, CLIENT.1)
            .timestamp(START as u64)
            .callback("oob")
            .authorization_header("POST", "https://www.example.com/oauth/request", None)
            .unwrap();
        TestRequest::post()
            .uri("/oauth/request")
            .insert_header((header::HOST, "10.0.0.5:8080"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-host", "www.example.com"))
            .insert_header((header::AUTHORIZATION, header))
            .peer_addr(peer.parse().unwrap())
    };
    // From the proxy: the public origin is https://www.example.com, the
    // target the full path in the scope.
    let reply = send(signed("10.0.0.1:40000")).await;
    reply.assert_status(200);
    assert!(reply.body.contains("oauth_token="), "{}", reply.body);
    // The same headers from anyone else are ignored: not served here.
    send(signed("203.0.113.9:40000")).await.assert_status(400);
    // Only the token endpoints were mounted, and the defaults are not.
    let reply = send(
        TestRequest::get()
            .uri("/oauth/authorize")
            .insert_header((header::HOST, "www.example.com"))
            .insert_header(("x-forwarded-proto", "https"))
            .peer_addr("10.0.0.1:1".parse().unwrap()),
    )
    .await;
    reply.assert_status(404);
}

#[actix_web::test]
async fn an_expired_request_token_gets_an_error_page() {
    let app = test_app().await;
    let (token, _) = Client::new(&app, CLIENT).request_token(API, CALLBACK).await;
    app.clock.advance(Duration::from_secs(11 * 60));
    let browser = Browser::new(&app, API, Some("alice@example.com"));
    let reply = browser
        .go(
            Method::GET,
            &format!("/_ah/OAuthAuthorizeToken?oauth_token={token}"),
            None,
        )
        .await;
    reply.assert_status(400);
    assert!(reply.body.contains("expired"), "{}", reply.body);
    reply.assert_page_headers();
    for target in [
        "/_ah/OAuthAuthorizeToken",
        "/_ah/OAuthAuthorizeToken?oauth_token=",
    ] {
        browser
            .go(Method::GET, target, None)
            .await
            .assert_status(400);
    }
}

#[test]
fn adapter_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OAuth<MemoryStore>>();
    assert_send_sync::<oauth1_provider::actix::OAuthEndpoints<MemoryStore>>();
    assert_send_sync::<oauth1_provider::actix::OAuthMiddleware>();
    assert_send_sync::<OAuthUser>();
    assert_send_sync::<OAuthConsumer>();
    assert_send_sync::<oauth1_provider::actix::OAuthRejection>();
}
