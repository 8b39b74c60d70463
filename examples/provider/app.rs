//! The demo host app: a small site with its own login that lends its users'
//! accounts to OAuth 1.0a consumers through the library's axum adapter.
//!
//! Shared by `main.rs` (the command line) and the integration tests, which
//! drive [`build`]'s router in process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Form, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use oauth1_provider::adapter::{csrf_matches, escape_html, html_document, html_response};
use oauth1_provider::axum::{ConsentUi, OAuth, OAuthUser, SignedIn};
use oauth1_provider::store::{NonceStore, TokenStore};
use oauth1_provider::{
    Consumer, ConsumerRegistry, OriginPolicy, Provider, ProviderConfig, ResolvedOrigin, User,
    percent_encode,
};
use rand::TryRngCore as _;
use serde::Deserialize;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "demo_session";
const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// What the demo serves and to whom.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The origins the site is served under; a token is bound to the one it
    /// was obtained on, and a request for any other origin is refused.
    pub public_origins: Vec<String>,
    /// Proxies whose `Forwarded` / `X-Forwarded-*` headers are believed
    /// (behind a load balancer). None by default.
    pub trusted_proxies: Vec<IpAddr>,
    /// Registered consumers (the unregistered `anonymous` one is always on).
    pub consumers: Vec<ConsumerSpec>,
    /// Callback URL prefixes the registered consumers may use besides `oob`.
    pub callback_prefixes: Vec<String>,
    /// The site's users.
    pub users: Vec<UserSpec>,
    /// How passwords are hashed (Argon2id). Defaults to the argon2 crate's
    /// defaults (19 MiB, 2 passes); tests lower it to run fast.
    pub password_hashing: argon2::Params,
    /// Opt-in protocol extensions (RSA consumers, two-legged requests, …).
    pub extensions: Extensions,
}

impl DemoConfig {
    /// The defaults for a server on `port`: served as `http://127.0.0.1:PORT`
    /// and `http://localhost:PORT`, no registered consumer, two users.
    pub fn new(port: u16) -> Self {
        Self {
            public_origins: vec![
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ],
            trusted_proxies: Vec::new(),
            consumers: Vec::new(),
            callback_prefixes: Vec::new(),
            users: vec![
                UserSpec::parse("test@example.com:password").expect("valid"),
                UserSpec::parse("admin@example.com:password:admin").expect("valid"),
            ],
            password_hashing: argon2::Params::DEFAULT,
            extensions: Extensions::default(),
        }
    }
}

/// A registered consumer: `KEY:SECRET[:NAME]`.
#[derive(Clone)]
pub struct ConsumerSpec {
    /// The consumer key.
    pub key: String,
    secret: String,
    /// The name users see on the consent page.
    pub name: String,
}

impl std::fmt::Debug for ConsumerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerSpec")
            .field("key", &self.key)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ConsumerSpec {
    /// Parses `KEY:SECRET[:NAME]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut parts = spec.splitn(3, ':');
        let (Some(key), Some(secret)) = (parts.next(), parts.next()) else {
            return Err("--consumer takes KEY:SECRET[:NAME]".into());
        };
        if key.is_empty() || secret.is_empty() {
            return Err("--consumer takes KEY:SECRET[:NAME]".into());
        }
        Ok(Self {
            key: key.into(),
            secret: secret.into(),
            name: parts.next().filter(|n| !n.is_empty()).unwrap_or(key).into(),
        })
    }
}

/// A user: `EMAIL:PASSWORD[:admin]`. The password is hashed at start-up and
/// never printed.
#[derive(Clone)]
pub struct UserSpec {
    /// The email address, which is also the login.
    pub email: String,
    password: String,
    /// Whether the user is an admin of the site.
    pub admin: bool,
}

impl std::fmt::Debug for UserSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSpec")
            .field("email", &self.email)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl UserSpec {
    /// Parses `EMAIL:PASSWORD[:admin]` (the password may contain `:`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let usage = || "--user takes EMAIL:PASSWORD[:admin]".to_owned();
        let (email, rest) = spec.split_once(':').ok_or_else(usage)?;
        let (password, admin) = match rest.strip_suffix(":admin") {
            Some(password) => (password, true),
            None => (rest, false),
        };
        if !email.contains('@') || password.is_empty() {
            return Err(usage());
        }
        Ok(Self {
            email: email.to_ascii_lowercase(),
            password: password.into(),
            admin,
        })
    }
}

/// Stores the demo can run on: any token store that is also a nonce store.
pub trait DemoStore: TokenStore + Clone + 'static {}
impl<S: TokenStore + Clone + 'static> DemoStore for S {}

/// Where the demo remembers nonces (the token store itself, or Redis).
pub trait DemoNonces: NonceStore + 'static {}
impl<N: NonceStore + 'static> DemoNonces for N {}

/// The built app: its router, and the provider behind it.
pub struct DemoApp<S, N> {
    /// Serve this (with `into_make_service_with_connect_info::<SocketAddr>()`).
    pub router: Router,
    /// The provider, for housekeeping (`purge_expired`) and tests.
    pub provider: Arc<Provider<S, N>>,
}

/// Builds the app on `store`.
pub fn build<S: DemoStore + NonceStore>(
    config: &DemoConfig,
    store: S,
) -> Result<DemoApp<S, S>, String> {
    build_split(config, store.clone(), store)
}

/// [`build`] with nonces kept apart from the tokens (`--nonces redis://…`).
pub fn build_split<S: DemoStore, N: DemoNonces>(
    config: &DemoConfig,
    store: S,
    nonces: N,
) -> Result<DemoApp<S, N>, String> {
    let consumers = ConsumerRegistry::new();
    consumers.allow_anonymous();
    let registered = config
        .consumers
        .iter()
        .map(|spec| Consumer::new(&spec.key, &spec.secret, &spec.name));
    for consumer in registered.chain(config.extensions.rsa_consumers()?) {
        let consumer = config
            .callback_prefixes
            .iter()
            .fold(consumer, |c, prefix| c.callback_prefix(prefix));
        consumers.register(config.extensions.configure(consumer));
    }
    let provider_config = config.extensions.provider_config();
    let provider = Provider::new(store, nonces, consumers, provider_config);
    let directory: HashMap<String, User> = config
        .users
        .iter()
        .map(|u| {
            let user = User::new(&u.email, user_id(&u.email)).admin(u.admin);
            (u.email.clone(), user)
        })
        .collect();
    let provider =
        Arc::new(provider.with_requestor_lookup(move |email| directory.get(email).cloned()));
    let origins = config.trusted_proxies.iter().fold(
        OriginPolicy::public_origins(config.public_origins.iter().cloned()),
        |policy, proxy| policy.trust_proxy(*proxy),
    );
    let oauth = OAuth::new(provider.clone()).origins(origins);
    let demo = Arc::new(Demo {
        provider: provider.clone(),
        users: Users::new(&config.users, config.password_hashing.clone())?,
        sessions: Sessions::default(),
        paths: oauth.endpoint_paths().clone(),
    });
    let router = Router::new()
        .route("/", get(home::<S, N>))
        .route("/login", get(login_page::<S, N>).post(login::<S, N>))
        .route("/logout", get(logout_page::<S, N>).post(logout::<S, N>))
        .route("/account", get(account::<S, N>))
        .route("/account/revoke", post(revoke::<S, N>))
        .route("/api/whoami", get(whoami).post(whoami))
        .route("/api/admin", get(admin).post(admin))
        .fallback(not_found)
        .with_state(demo.clone())
        .merge(oauth.router(Consent(demo)))
        .layer(oauth.layer());
    Ok(DemoApp { router, provider })
}

struct Demo<S, N> {
    provider: Arc<Provider<S, N>>,
    users: Users,
    sessions: Sessions,
    paths: oauth1_provider::axum::EndpointPaths,
}

type AppState<S, N> = State<Arc<Demo<S, N>>>;

impl<S, N> Demo<S, N> {
    /// The session named by the request's cookie, with its id and user.
    fn signed_in(&self, headers: &HeaderMap) -> Option<(String, Session, User)> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let session = self.sessions.get(id)?;
        let user = self.users.get(&session.email)?.clone();
        Some((id.to_owned(), session, user))
    }
}

/// The consent page's question to the host: who is signed in?
struct Consent<S, N>(Arc<Demo<S, N>>);

impl<S: DemoStore, N: DemoNonces> ConsentUi for Consent<S, N> {
    async fn signed_in(&self, request: &Parts, return_to: &str) -> Result<SignedIn, Response> {
        match self.0.signed_in(&request.headers) {
            Some((_, session, user)) => Ok(SignedIn {
                user,
                csrf_token: session.csrf,
            }),
            None => Err(to_login(return_to)),
        }
    }
}

fn to_login(next: &str) -> Response {
    Redirect::to(&format!("/login?next={}", percent_encode(next))).into_response()
}

// ---------------------------------------------------------------- extensions

/// The opt-in protocol extensions, from the command line: all of them in
/// one place.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// `--rsa-consumer KEY:PEM_FILE[:NAME]`: (key, PEM text, name).
    pub rsa_consumers: Vec<(String, String, String)>,
    /// `--two-legged KEY`: consumers allowed two-legged requests.
    pub two_legged: Vec<String>,
    /// `--requestor-domain KEY:DOMAIN`: whose users a consumer may act for
    /// with `xoauth_requestor_id`.
    pub requestor_domains: Vec<(String, String)>,
    /// `--require-body-hash KEY`: consumers whose non-form requests must
    /// carry `oauth_body_hash`.
    pub body_hash_required: Vec<String>,
    /// `--sessions SECONDS`: the OAuth Session extension, access tokens
    /// living this long (refreshable for 30 days).
    pub session_ttl: Option<std::time::Duration>,
}

impl Extensions {
    /// The flags, for the usage line.
    pub const USAGE: &'static str = "[--rsa-consumer KEY:PEM_FILE[:NAME]]... [--two-legged KEY]... \
        [--requestor-domain KEY:DOMAIN]... [--require-body-hash KEY]... [--sessions SECONDS]";

    /// Takes one extension flag and its value; `None` when `flag` is not one.
    pub fn parse_flag(&mut self, flag: &str, value: &str) -> Option<Result<(), String>> {
        let pair = |usage: &str| {
            value
                .split_once(':')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .ok_or_else(|| format!("{flag} takes {usage}"))
        };
        Some(match flag {
            "--rsa-consumer" => pair("KEY:PEM_FILE[:NAME]").and_then(|(key, rest)| {
                let (file, name) = rest.split_once(':').unwrap_or((&rest, &key));
                let pem = std::fs::read_to_string(file)
                    .map_err(|e| format!("--rsa-consumer: cannot read {file}: {e}"))?;
                self.rsa_consumers.push((key.clone(), pem, name.to_owned()));
                Ok(())
            }),
            "--two-legged" => {
                self.two_legged.push(value.to_owned());
                Ok(())
            }
            "--sessions" => match value.parse::<u64>() {
                Ok(secs) if secs > 0 => {
                    self.session_ttl = Some(std::time::Duration::from_secs(secs));
                    Ok(())
                }
                _ => Err("--sessions takes a number of seconds".to_owned()),
            },
            "--require-body-hash" => {
                self.body_hash_required.push(value.to_owned());
                Ok(())
            }
            "--requestor-domain" => pair("KEY:DOMAIN").map(|p| self.requestor_domains.push(p)),
            _ => return None,
        })
    }

    /// The RSA consumers, their keys read.
    fn rsa_consumers(&self) -> Result<Vec<Consumer>, String> {
        self.rsa_consumers
            .iter()
            .map(|(key, pem, name)| {
                let public = oauth1_provider::ConsumerPublicKey::from_pem(pem)
                    .map_err(|e| format!("--rsa-consumer {key}: {e}"))?;
                Ok(Consumer::rsa(key, public, name))
            })
            .collect()
    }

    /// The provider configuration these extensions ask for.
    fn provider_config(&self) -> ProviderConfig {
        let mut config = ProviderConfig::default();
        if let Some(ttl) = self.session_ttl {
            let mut sessions = oauth1_provider::SessionConfig::default();
            sessions.access_token_ttl = ttl;
            config.sessions = Some(sessions);
        }
        config
    }

    /// Applies the per-consumer switches to `consumer`.
    fn configure(&self, consumer: Consumer) -> Consumer {
        let two_legged = self.two_legged.contains(&consumer.key);
        let body_hash = self.body_hash_required.contains(&consumer.key);
        let domains: Vec<&String> = self
            .requestor_domains
            .iter()
            .filter(|(key, _)| *key == consumer.key)
            .map(|(_, domain)| domain)
            .collect();
        domains.into_iter().fold(
            consumer.two_legged(two_legged).require_body_hash(body_hash),
            |c, d| c.act_for_domain(d),
        )
    }
}

// ---------------------------------------------------------------- users

struct Account {
    user: User,
    password_hash: String,
}

struct Users {
    accounts: HashMap<String, Account>,
    /// Verified against for unknown emails, so that they take as long.
    dummy_hash: String,
}

impl Users {
    fn new(specs: &[UserSpec], params: argon2::Params) -> Result<Self, String> {
        let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut accounts = HashMap::new();
        for spec in specs {
            let user = User::new(&spec.email, user_id(&spec.email)).admin(spec.admin);
            let password_hash = hash_password(&hasher, &spec.password)?;
            accounts.insert(
                spec.email.clone(),
                Account {
                    user,
                    password_hash,
                },
            );
        }
        Ok(Self {
            accounts,
            dummy_hash: hash_password(&hasher, "not anyone's password")?,
        })
    }

    fn get(&self, email: &str) -> Option<&User> {
        self.accounts.get(email).map(|a| &a.user)
    }

    /// The user, if the password is hers. Always verifies one hash.
    fn verify(&self, email: &str, password: &str) -> Option<User> {
        let account = self.accounts.get(&email.trim().to_ascii_lowercase());
        let hash = account.map_or(self.dummy_hash.as_str(), |a| &a.password_hash);
        let ok = PasswordHash::new(hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        account.filter(|_| ok).map(|a| a.user.clone())
    }
}

/// Argon2id with a random salt, as a PHC string (which records the
/// parameters, so verifying needs no configuration).
fn hash_password(hasher: &Argon2<'_>, password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| e.to_string())?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// A stable numeric user id derived from the email, like App Engine's.
fn user_id(email: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(email.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 1).to_string()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| format!("the OS random source failed: {e}"))?;
    Ok(bytes)
}

fn random_id() -> Result<String, String> {
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

// ---------------------------------------------------------------- sessions

#[derive(Clone)]
struct Session {
    email: String,
    csrf: String,
    expires: Instant,
}

#[derive(Default)]
struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn create(&self, email: &str) -> Result<String, String> {
        let id = random_id()?;
        let session = Session {
            email: email.to_owned(),
            csrf: random_id()?,
            expires: Instant::now() + SESSION_TTL,
        };
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        map.insert(id.clone(), session);
        Ok(id)
    }

    fn get(&self, id: &str) -> Option<Session> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(id).filter(|s| s.expires > Instant::now()).cloned()
    }

    fn remove(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

/// The value of cookie `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn session_cookie(id: &str, origin: &ResolvedOrigin) -> String {
    let secure = if origin.scheme == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// A same-site path to go back to after login; anything else goes home.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.bytes().any(|b| b.is_ascii_control()) =>
        {
            p
        }
        _ => "/",
    }
}

// ---------------------------------------------------------------- pages

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    html_response(status.as_u16(), html_document(title, body)).into_response()
}

fn site_line(origin: &ResolvedOrigin) -> String {
    format!(
        "<p class=\"site\">{} · OAuth 1.0a demo provider</p>",
        escape_html(&origin.authority)
    )
}

fn sign_out_form(csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf_token\" \
         value=\"{}\"><button type=\"submit\">Sign out</button></form>",
        escape_html(csrf)
    )
}

async fn home<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    let base = format!("{}://{}", origin.scheme, origin.authority);
    let mut body = site_line(&origin);
    body.push_str("<h1>Welcome</h1>");
    match demo.signed_in(&headers) {
        Some((_, session, user)) => {
            body.push_str(&format!(
                "<p>Signed in as <strong>{}</strong>{}.</p>\
                 <p><a href=\"/account\">Apps with access to your account</a></p>{}",
                escape_html(&user.email),
                if user.admin { " (admin)" } else { "" },
                sign_out_form(&session.csrf)
            ));
        }
        None => body.push_str(
            "<p>This site lends your account to apps you approve, with OAuth 1.0a.</p>\
             <p><a class=\"button\" href=\"/login\">Sign in</a></p>",
        ),
    }
    let row = |name: &str, value: &str| {
        format!(
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            escape_html(name),
            escape_html(value)
        )
    };
    body.push_str(&format!(
        "<p class=\"muted\">For app developers: consumer key and secret \
         <code>anonymous</code> / <code>anonymous</code>.</p><table>{}{}{}{}</table>",
        row(
            "Request token",
            &format!("{base}{}", demo.paths.request_token)
        ),
        row("Authorize", &format!("{base}{}", demo.paths.authorize)),
        row(
            "Access token",
            &format!("{base}{}", demo.paths.access_token)
        ),
        row("Who am I", &format!("{base}/api/whoami")),
    ));
    page(StatusCode::OK, "OAuth 1.0a demo provider", &body)
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn login_form(origin: &ResolvedOrigin, next: &str, email: &str, error: Option<&str>) -> String {
    format!(
        "{}<h1>Sign in</h1>{}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label for=\"email\">Email</label>\
         <input type=\"email\" id=\"email\" name=\"email\" value=\"{}\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div></form>",
        site_line(origin),
        error.map_or_else(String::new, |e| format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape_html(e)
        )),
        escape_html(next),
        escape_html(email),
    )
}

async fn login_page<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    Query(query): Query<NextQuery>,
    headers: HeaderMap,
) -> Response {
    let next = local_path(query.next.as_deref());
    if demo.signed_in(&headers).is_some() {
        return Redirect::to(next).into_response();
    }
    page(
        StatusCode::OK,
        "Sign in",
        &login_form(&origin, next, "", None),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref()).to_owned();
    // Hashing is deliberately slow: keep it off the async workers.
    let checking = demo.clone();
    let (email, password) = (form.email.clone(), form.password);
    let user = tokio::task::spawn_blocking(move || checking.users.verify(&email, &password))
        .await
        .ok()
        .flatten();
    let Some(user) = user else {
        tracing::info!("failed sign-in");
        let html = login_form(
            &origin,
            &next,
            &form.email,
            Some("Wrong email or password."),
        );
        return page(StatusCode::UNAUTHORIZED, "Sign in", &html);
    };
    // A new session id at every sign-in (no fixation).
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        demo.sessions.remove(old);
    }
    match demo.sessions.create(&user.email) {
        Ok(id) => (
            [(header::SET_COOKIE, session_cookie(&id, &origin))],
            Redirect::to(&next),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot create a session");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "<h1>Try again</h1><p>Signing in failed; please try again.</p>",
            )
        }
    }
}

async fn logout_page<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    match demo.signed_in(&headers) {
        Some((_, session, user)) => {
            let body = format!(
                "{}<h1>Sign out?</h1><p>You are signed in as <strong>{}</strong>.</p>\
                 <div class=\"actions\">{}</div>",
                site_line(&origin),
                escape_html(&user.email),
                sign_out_form(&session.csrf)
            );
            page(StatusCode::OK, "Sign out", &body)
        }
        None => Redirect::to("/").into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: Option<String>,
}

async fn logout<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some((id, session, _)) = demo.signed_in(&headers) {
        if !csrf_matches(&session.csrf, form.csrf_token.as_deref()) {
            return forged();
        }
        demo.sessions.remove(&id);
    }
    ([(header::SET_COOKIE, clear_cookie())], Redirect::to("/")).into_response()
}

fn forged() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Request refused",
        "<h1>This request did not come from this site</h1>\
         <p>Nothing was changed. Reload the page and try again.</p>",
    )
}

async fn account<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    let Some((_, session, user)) = demo.signed_in(&headers) else {
        return to_login("/account");
    };
    let grants = match demo.provider.authorizations(&user.user_id).await {
        Ok(grants) => grants,
        Err(e) => {
            tracing::error!(error = %e, "cannot list authorizations");
            return unavailable();
        }
    };
    // One row per app, however many tokens it holds.
    let mut apps: Vec<(String, String, time::OffsetDateTime, Vec<String>)> = Vec::new();
    for grant in grants {
        match apps.iter_mut().find(|a| a.0 == grant.consumer_key) {
            Some(app) => {
                if !app.3.contains(&grant.host) {
                    app.3.push(grant.host);
                }
            }
            None => apps.push((
                grant.consumer_key,
                grant.consumer_name,
                grant.granted_at,
                vec![grant.host],
            )),
        }
    }
    let mut body = format!(
        "{}<h1>Apps with access to your account</h1><p>Signed in as <strong>{}</strong>.</p>",
        site_line(&origin),
        escape_html(&user.email)
    );
    if apps.is_empty() {
        body.push_str("<p class=\"muted\">No app has access to your account.</p>");
    } else {
        body.push_str("<table><tr><th>App</th><th>Allowed</th><th></th></tr>");
        for (key, name, granted_at, hosts) in &apps {
            body.push_str(&format!(
                "<tr><td><strong>{}</strong><br><span class=\"muted\">on {}</span></td>\
                 <td>{}</td><td>\
                 <form method=\"post\" action=\"/account/revoke\">\
                 <input type=\"hidden\" name=\"consumer_key\" value=\"{}\">\
                 <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
                 <button type=\"submit\">Revoke</button></form></td></tr>",
                escape_html(name),
                escape_html(&hosts.join(", ")),
                escape_html(&when(*granted_at)),
                escape_html(key),
                escape_html(&session.csrf),
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(&format!(
        "<div class=\"actions\"><a class=\"button\" href=\"/\">Home</a>{}</div>",
        sign_out_form(&session.csrf)
    ));
    page(StatusCode::OK, "Your apps", &body)
}

fn when(t: time::OffsetDateTime) -> String {
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn unavailable() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "<h1>Try again</h1><p>The service is temporarily unavailable.</p>",
    )
}

#[derive(Deserialize)]
struct RevokeForm {
    consumer_key: String,
    csrf_token: Option<String>,
}

async fn revoke<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let Some((_, session, user)) = demo.signed_in(&headers) else {
        return to_login("/account");
    };
    if !csrf_matches(&session.csrf, form.csrf_token.as_deref()) {
        return forged();
    }
    match demo
        .provider
        .revoke_authorization(&user.user_id, &form.consumer_key)
        .await
    {
        Ok(n) => {
            tracing::info!(consumer = %form.consumer_key, tokens = n, "access revoked by its user");
            Redirect::to("/account").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke");
            unavailable()
        }
    }
}

async fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "<h1>Not found</h1><p><a href=\"/\">Home</a></p>",
    )
}

// ---------------------------------------------------------------- API

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        value.to_string(),
    )
        .into_response()
}

/// Who is behind this signed request (GET or POST, any parameters).
async fn whoami(user: OAuthUser) -> Response {
    let me = user.get_current_user();
    json(
        StatusCode::OK,
        &serde_json::json!({
            "email": me.email,
            "user_id": me.user_id,
            "admin": user.is_current_user_admin(),
            "consumer_key": user.get_oauth_consumer_key(),
        }),
    )
}

/// Only for the site's admins.
async fn admin(user: OAuthUser) -> Response {
    if user.is_current_user_admin() {
        json(
            StatusCode::OK,
            &serde_json::json!({ "admin": true, "email": user.get_current_user().email }),
        )
    } else {
        json(
            StatusCode::FORBIDDEN,
            &serde_json::json!({ "error": "admin_required" }),
        )
    }
}
