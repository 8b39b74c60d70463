//! The site's HTML pages: home, sign-in and sign-out, the account page
//! (the apps with access, and revoking them), errors.
//!
//! Every link, form and redirect starts with the origin's path prefix
//! ([`ResolvedOrigin::prefix`], empty unless a reverse proxy mounts the site
//! under a path it strips), so that they work from the public URL.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use oauth1_provider::ProviderConfig;
use oauth1_provider::consent::csrf_matches;
use oauth1_provider::model::{
    Grant, IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION, strip_hidden_characters,
};
use oauth1_provider::origin::ResolvedOrigin;
use oauth1_provider::provider::Authorization;

use super::html::{escape_html, page};
use serde::Deserialize;

use super::config::GRANTS;
use super::sessions::{SESSION_COOKIE, clear_cookie, cookie, local_path, session_cookie};
use super::users::normalized_email;
use super::{AppState, Demo, DemoNonces, DemoStore, activity, to_login};

/// The pages' routes: `/`, `/login`, `/logout`, `/account` and
/// `/account/revoke` (the fallback, [`not_found`], is the app's).
pub(super) fn routes<S: DemoStore, N: DemoNonces>() -> Router<Arc<Demo<S, N>>> {
    Router::new()
        .route("/", get(home::<S, N>))
        .route("/login", get(login_page::<S, N>).post(login::<S, N>))
        .route("/logout", get(logout_page::<S, N>).post(logout::<S, N>))
        .route("/account", get(account::<S, N>))
        .route("/account/revoke", post(revoke::<S, N>))
}

pub(super) fn site_line(origin: &ResolvedOrigin) -> String {
    format!(
        "<p class=\"site\">{} · OAuth 1.0a demo provider</p>",
        escape_html(&origin.authority)
    )
}

fn sign_out_form(origin: &ResolvedOrigin, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}/logout\"><input type=\"hidden\" name=\"csrf_token\" \
         value=\"{}\"><button type=\"submit\">Sign out</button></form>",
        escape_html(&origin.prefix),
        escape_html(csrf)
    )
}

/// The site's home page, as a public path.
fn home_path(origin: &ResolvedOrigin) -> String {
    format!("{}/", origin.prefix)
}

async fn home<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    let base = origin.base_url();
    let prefix = escape_html(&origin.prefix);
    let mut body = site_line(&origin);
    body.push_str("<h1>Welcome</h1>");
    match demo.signed_in(&headers) {
        Some((_, session, user)) => {
            body.push_str(&format!(
                "<p>Signed in as <strong>{}</strong>{}.</p>\
                 <p><a href=\"{prefix}/account\">Apps with access to your account</a></p>{}",
                escape_html(&user.email),
                if user.admin { " (admin)" } else { "" },
                sign_out_form(&origin, &session.csrf)
            ));
        }
        None => body.push_str(&format!(
            "<p>This site lends your account to apps you approve, with OAuth 1.0a.</p>\
             <p><a class=\"button\" href=\"{prefix}/login\">Sign in</a></p>",
        )),
    }
    let row = |name: &str, value: &str| {
        format!(
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            escape_html(name),
            escape_html(value)
        )
    };
    let endpoints: String = [
        ("Request token", demo.paths.request_token.as_str()),
        ("Authorize", &demo.paths.authorize),
        ("Sign in only", &demo.paths.authenticate),
        ("Access token", &demo.paths.access_token),
        ("Identity (JWT)", &demo.paths.identify),
        ("Who am I", "/api/whoami"),
        ("Photos", "/api/photos"),
    ]
    .iter()
    .map(|(name, path)| row(name, &format!("{base}{path}")))
    .collect();
    let grants: String = std::iter::once((IDENTITY_GRANT, IDENTITY_GRANT_DESCRIPTION))
        .chain(GRANTS)
        .map(|(name, sentence)| row(sentence, name))
        .collect();
    body.push_str(&format!(
        "<p class=\"muted\">For app developers: consumer key and secret \
         <code>anonymous</code> / <code>anonymous</code>, or register an app on \
         <a href=\"{prefix}/developers\">/developers</a>.</p><table>{endpoints}</table>\
         <h2>Grants</h2><p class=\"muted\">What an app asks for in <code>scope</code> \
         (space-separated); without one, everything it was registered for.</p>\
         <table class=\"grants\">{grants}</table>"
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
         <form method=\"post\" action=\"{}/login\">\
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
        escape_html(&origin.prefix),
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
    let home = home_path(&origin);
    let next = local_path(query.next.as_deref(), &home);
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
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref(), &home_path(&origin)).to_owned();
    let peer = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
    let address = demo.logins.client_address(peer, &headers);
    let attempt = match demo.logins.attempt(&normalized_email(&form.email), address) {
        Ok(attempt) => attempt,
        Err(seconds) => {
            tracing::info!(address = ?address, "sign-in refused: too many attempts");
            return too_many_attempts(seconds);
        }
    };
    // Hashing is deliberately slow and takes memory: a few at a time (a
    // turn per core), off the async workers.
    let Some(turn) = demo.logins.hashing_turn().await else {
        return unavailable();
    };
    let checking = demo.clone();
    let (email, password) = (form.email.clone(), form.password);
    let user = tokio::task::spawn_blocking(move || checking.users.verify(&email, &password))
        .await
        .ok()
        .flatten();
    drop(turn);
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
    demo.logins.succeeded(attempt);
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
                sign_out_form(&origin, &session.csrf)
            );
            page(StatusCode::OK, "Sign out", &body)
        }
        None => Redirect::to(&home_path(&origin)).into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf_token: Option<String>,
}

async fn logout<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some((id, session, _)) = demo.signed_in(&headers) {
        if !csrf_matches(&session.csrf, form.csrf_token.as_deref()) {
            return forged();
        }
        demo.sessions.remove(&id);
    }
    (
        [(header::SET_COOKIE, clear_cookie())],
        Redirect::to(&home_path(&origin)),
    )
        .into_response()
}

/// 429 with `Retry-After`: the account or the address tried too often.
fn too_many_attempts(seconds: u64) -> Response {
    let mut response = page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "<h1>Too many sign-in attempts</h1>\
         <p>Wait a few minutes, then try again.</p>",
    );
    if let Ok(value) = seconds.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The page for a form post that did not come from this site: 403.
pub(super) fn forged() -> Response {
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
        return to_login(&origin.prefix, &account_path(&origin));
    };
    let grants = match demo.provider.authorizations(&user.user_id).await {
        Ok(grants) => grants,
        Err(e) => {
            tracing::error!(error = %e, "cannot list authorizations");
            return unavailable();
        }
    };
    // One row per app, however many tokens it holds.
    let mut apps: Vec<AppAccess> = Vec::new();
    for grant in grants {
        match apps.iter_mut().find(|a| a.key == grant.consumer_key) {
            Some(app) => app.add(grant),
            None => apps.push(AppAccess::new(grant)),
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
        body.push_str("<table><tr class=\"words\"><th>App</th><th>Allowed</th><th></th></tr>");
        for app in &apps {
            body.push_str(&format!(
                "<tr><td><strong><bdi>{}</bdi></strong><br><span class=\"muted\">on {}</span>{}</td>\
                 <td class=\"words\">{}</td><td>\
                 <form method=\"post\" action=\"{}/account/revoke\">\
                 <input type=\"hidden\" name=\"consumer_key\" value=\"{}\">\
                 <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
                 <button type=\"submit\">Revoke</button></form></td></tr>",
                app_name_html(&app.name),
                escape_html(&app.hosts.join(", ")),
                grants_html(app.grants.as_deref(), "Your whole account"),
                escape_html(&when(app.granted_at)),
                escape_html(&origin.prefix),
                escape_html(&app.key),
                escape_html(&session.csrf),
            ));
        }
        body.push_str("</table>");
    }
    match activity::recent(&demo, Some(&user.user_id)).await {
        Ok(events) => {
            body.push_str("<h2>Recent activity</h2>");
            body.push_str(&activity::table(&events, false));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot list events");
            return unavailable();
        }
    }
    if user.admin {
        body.push_str(&format!(
            "<p><a href=\"{}/admin/events\">Every recent event (administrators)</a></p>",
            escape_html(&origin.prefix)
        ));
    }
    body.push_str(&format!(
        "<div class=\"actions\"><a class=\"button\" href=\"{}\">Home</a>{}</div>",
        escape_html(&home_path(&origin)),
        sign_out_form(&origin, &session.csrf)
    ));
    page(StatusCode::OK, "Your apps", &body)
}

/// What one app may do with the user's account: its tokens together.
struct AppAccess {
    key: String,
    name: String,
    /// When the first of its tokens was granted.
    granted_at: time::OffsetDateTime,
    hosts: Vec<String>,
    /// What its tokens were granted together; `None`: the whole account.
    grants: Option<Vec<Grant>>,
}

impl AppAccess {
    fn new(authorization: Authorization) -> Self {
        Self {
            key: authorization.consumer_key,
            name: authorization.consumer_name,
            granted_at: authorization.granted_at,
            hosts: vec![authorization.host],
            grants: authorization.grants,
        }
    }

    /// Another token of the same app: its host and grants added.
    fn add(&mut self, authorization: Authorization) {
        if !self.hosts.contains(&authorization.host) {
            self.hosts.push(authorization.host);
        }
        match (&mut self.grants, authorization.grants) {
            (Some(grants), Some(more)) => {
                for grant in more {
                    if !grants.iter().any(|g| g.name == grant.name) {
                        grants.push(grant);
                    }
                }
            }
            // A token of the whole account covers the others.
            (grants, _) => *grants = None,
        }
    }
}

/// What an app may do, as the consent page said it: each grant's sentence,
/// or `whole` (the whole account).
fn grants_html(grants: Option<&[Grant]>, whole: &str) -> String {
    match grants {
        None => format!("<p class=\"grants muted\">{whole}</p>"),
        Some(grants) => {
            let items: String = grants
                .iter()
                .map(|grant| {
                    format!(
                        "<li class=\"grant\" data-grant=\"{}\">{}</li>",
                        escape_html(&grant.name),
                        escape_html(&grant.description)
                    )
                })
                .collect();
            format!("<ul class=\"grants\">{items}</ul>")
        }
    }
}

/// [`grants_html`] for a consumer registered with `names` (none: the whole
/// account), each described as `config` declares it.
pub(super) fn registered_grants_html(config: &ProviderConfig, names: &[String]) -> String {
    if names.is_empty() {
        return grants_html(None, "Users' whole accounts");
    }
    let described: Vec<Grant> = names
        .iter()
        .map(|name| config.grant(name).unwrap_or_else(|| Grant::new(name, name)))
        .collect();
    grants_html(Some(&described), "")
}

/// An app's name for a page: escaped, without the characters that would
/// reorder or hide the text around it.
fn app_name_html(name: &str) -> String {
    escape_html(&strip_hidden_characters(name))
}

pub(super) fn when(t: time::OffsetDateTime) -> String {
    format!(
        "{}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

pub(super) fn unavailable() -> Response {
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
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let Some((_, session, user)) = demo.signed_in(&headers) else {
        return to_login(&origin.prefix, &account_path(&origin));
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
            tracing::info!(consumer = ?form.consumer_key, tokens = n, "access revoked by its user");
            Redirect::to(&account_path(&origin)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke");
            unavailable()
        }
    }
}

/// The account page, as a public path.
fn account_path(origin: &ResolvedOrigin) -> String {
    format!("{}/account", origin.prefix)
}

pub(super) async fn not_found(Extension(origin): Extension<ResolvedOrigin>) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!(
            "<h1>Not found</h1><p><a href=\"{}\">Home</a></p>",
            escape_html(&home_path(&origin))
        ),
    )
}
