//! Apps as managed data: `/developers`, where a signed-in user registers an
//! app, sees its key and secret once, rotates the secret and deletes the
//! app; and `/admin/consumers`, where an administrator approves, rejects,
//! disables and re-enables apps. Every form carries the session's CSRF
//! token; each operation is the provider's, atomic in the store.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use oauth1_provider::consent::csrf_matches;
use oauth1_provider::model::{ConsumerAction, IDENTITY_GRANT};
use oauth1_provider::origin::ResolvedOrigin;
use oauth1_provider::protocol::{common_prefix_chars, first_difference, percent_encode};
use oauth1_provider::provider::{ConsumerError, ConsumerRegistration, Reason};
use oauth1_provider::{Consumer, ConsumerState, ProviderConfig, User};
use serde::Deserialize;

use super::config::GRANTS;
use super::html::{escape_html, page};
use super::pages::{forged, registered_grants_html, site_line, unavailable};
use super::sessions::Session;
use super::{AppState, Demo, DemoNonces, DemoStore, to_login};

/// `/developers` (and its forms) and `/admin/consumers`.
pub(super) fn routes<S: DemoStore, N: DemoNonces>() -> Router<Arc<Demo<S, N>>> {
    Router::new()
        .route(
            "/developers",
            get(developers::<S, N>).post(register::<S, N>),
        )
        .route("/developers/rotate", post(rotate::<S, N>))
        .route("/developers/delete", post(delete::<S, N>))
        .route("/developers/refusals", get(refusals::<S, N>))
        .route(
            "/admin/consumers",
            get(admin::<S, N>).post(moderate::<S, N>),
        )
}

fn developers_path(origin: &ResolvedOrigin) -> String {
    format!("{}/developers", origin.prefix)
}

fn admin_path(origin: &ResolvedOrigin) -> String {
    format!("{}/admin/consumers", origin.prefix)
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape_html(value)
    )
}

/// A one-button form posting `fields` and the CSRF token to `action`.
fn button(action: &str, label: &str, fields: &[(&str, &str)], session: &Session) -> String {
    let fields: String = fields.iter().map(|(n, v)| hidden(n, v)).collect();
    format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\">{fields}{}\
         <button type=\"submit\">{}</button></form>",
        escape_html(action),
        hidden("csrf_token", &session.csrf),
        escape_html(label)
    )
}

/// An app's name, isolated from the text around it (`<bdi>`).
fn name(consumer: &Consumer) -> String {
    format!("<bdi>{}</bdi>", escape_html(&consumer.display_name))
}

fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Not done",
        &format!(
            "<h1>Not done</h1><p class=\"error\">{}</p><p>Nothing was changed.</p>",
            escape_html(message)
        ),
    )
}

/// The answer to a consumer operation that failed.
fn refusal(e: &ConsumerError) -> Response {
    match e {
        ConsumerError::Store(error) => {
            tracing::error!(error = %error, "consumer store failed");
            unavailable()
        }
        ConsumerError::NotFound => error_page(StatusCode::NOT_FOUND, &e.to_string()),
        ConsumerError::NotOwner => error_page(StatusCode::FORBIDDEN, &e.to_string()),
        ConsumerError::Conflict => error_page(StatusCode::CONFLICT, &e.to_string()),
        _ => error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

/// The signed-in user and session, or the answer to give instead.
fn signed_in<S, N>(
    demo: &Demo<S, N>,
    origin: &ResolvedOrigin,
    headers: &HeaderMap,
    back_to: String,
) -> Result<(Session, User), Response> {
    match demo.signed_in(headers) {
        Some((_, session, user)) => Ok((session, user)),
        None => Err(to_login(&origin.prefix, &back_to)),
    }
}

async fn developers<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    let (session, user) = match signed_in(&demo, &origin, &headers, developers_path(&origin)) {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let apps = match demo.provider.consumers_owned_by(&user.user_id).await {
        Ok(apps) => apps,
        Err(e) => return refusal(&ConsumerError::Store(e)),
    };
    let path = developers_path(&origin);
    let mut body = format!("{}<h1>Your apps</h1>", site_line(&origin));
    if apps.is_empty() {
        body.push_str("<p class=\"muted\">You have not registered an app.</p>");
    } else {
        body.push_str("<table><tr class=\"words\"><th>App</th><th>State</th><th></th></tr>");
        for app in &apps {
            let rotate = button(
                &format!("{path}/rotate"),
                "New secret",
                &[("consumer_key", &app.key)],
                &session,
            );
            let delete = button(
                &format!("{path}/delete"),
                "Delete",
                &[("consumer_key", &app.key)],
                &session,
            );
            let refused = format!(
                "<br><a href=\"{path}/refusals?consumer_key={}\">Refused requests</a>",
                escape_html(&percent_encode(&app.key))
            );
            body.push_str(&format!(
                "<tr><td><strong>{}</strong><br><span class=\"muted\">key <code>{}</code></span>\
                 {}{refused}</td><td class=\"words\">{}</td><td>{rotate}{delete}</td></tr>",
                name(app),
                escape_html(&app.key),
                registered_grants_html(demo.provider.config(), &app.grants),
                app.state,
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(&format!(
        "<h2>Register an app</h2>\
         <form method=\"post\" action=\"{}\">{}\
         <label for=\"name\">Name (shown to users)</label>\
         <input id=\"name\" name=\"name\" maxlength=\"80\" required>\
         <label for=\"description\">What it does</label>\
         <input id=\"description\" name=\"description\" maxlength=\"1000\">\
         <label for=\"homepage\">Home page</label>\
         <input id=\"homepage\" name=\"homepage\" type=\"url\" placeholder=\"https://\">\
         <label for=\"callback\">Callback URL prefix</label>\
         <input id=\"callback\" name=\"callback\" type=\"url\" placeholder=\"https://\">\
         {}\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Register</button></div>\
         </form>",
        escape_html(&path),
        hidden("csrf_token", &session.csrf),
        grant_choices(),
    ));
    if user.admin {
        body.push_str(&format!(
            "<p><a href=\"{}\">Review apps (administrators)</a></p>",
            escape_html(&admin_path(&origin))
        ));
    }
    page(StatusCode::OK, "Your apps", &body)
}

/// The registration form's choice of grants: a checkbox for each one the
/// site declares, and "sign in only" (`identity`); at least one (the
/// library refuses a registration that chooses none on a site with grants).
fn grant_choices() -> String {
    let choice = |name: &str, label: &str| {
        format!(
            "<label class=\"choice\"><input type=\"checkbox\" name=\"grant\" value=\"{}\">\
             <span>{label} <code>{}</code></span></label>",
            escape_html(name),
            escape_html(name)
        )
    };
    let grants: String = GRANTS
        .iter()
        .map(|(name, sentence)| choice(name, &escape_html(sentence)))
        .collect();
    format!(
        "<fieldset id=\"grants\"><legend>What it may ask users for</legend>{grants}{}\
         <p class=\"muted\">Choose at least one. Fixed once registered.</p></fieldset>",
        choice(
            IDENTITY_GRANT,
            "<strong>Sign in only</strong>: who the user is, nothing else"
        )
    )
}

/// The registration form (its grants are repeated `grant` fields).
#[derive(Default)]
struct RegisterForm {
    name: String,
    description: String,
    homepage: String,
    callback: String,
    grants: Vec<String>,
    csrf_token: Option<String>,
}

impl RegisterForm {
    fn from_fields(fields: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in fields {
            match name.as_str() {
                "name" => form.name = value,
                "description" => form.description = value,
                "homepage" => form.homepage = value,
                "callback" => form.callback = value,
                "grant" => form.grants.push(value),
                "csrf_token" => form.csrf_token = Some(value),
                _ => {}
            }
        }
        form
    }
}

/// The page that shows an app's key and secret, once.
fn credentials_page(
    origin: &ResolvedOrigin,
    config: &ProviderConfig,
    app: &Consumer,
    what: &str,
) -> Response {
    page(
        StatusCode::OK,
        "Your app's credentials",
        &format!(
            "{}<h1>{what}</h1>\
             <p>Copy the secret now: it is not shown again.</p>\
             <table><tr><th>App</th><td>{}</td></tr>\
             <tr><th>Consumer key</th><td><code id=\"consumer-key\">{}</code></td></tr>\
             <tr><th>Consumer secret</th><td><code id=\"consumer-secret\">{}</code></td></tr>\
             <tr><th>State</th><td id=\"consumer-state\">{}</td></tr>\
             <tr><th>May ask for</th><td id=\"consumer-grants\">{}</td></tr></table>\
             <p><a href=\"{}\">Back to your apps</a></p>",
            site_line(origin),
            name(app),
            escape_html(&app.key),
            escape_html(app.secret.secret()),
            app.state,
            registered_grants_html(config, &app.grants),
            escape_html(&developers_path(origin)),
        ),
    )
}

async fn register<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let mut form = RegisterForm::from_fields(fields);
    let (session, user) = match signed_in(&demo, &origin, &headers, developers_path(&origin)) {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    if !csrf_matches(&session.csrf, form.csrf_token.as_deref()) {
        return forged();
    }
    form.grants.sort();
    form.grants.dedup();
    if form.grants.iter().any(|g| g == IDENTITY_GRANT) && form.grants.len() > 1 {
        return error_page(
            StatusCode::BAD_REQUEST,
            "“Sign in only” cannot be combined with other grants.",
        );
    }
    let mut registration = ConsumerRegistration::new(form.name)
        .description(form.description)
        .owner(user.user_id.clone())
        .grants(form.grants);
    if !form.homepage.trim().is_empty() {
        registration = registration.homepage(form.homepage.trim());
    }
    if !form.callback.trim().is_empty() {
        registration = registration.callback_prefix(form.callback.trim());
    }
    if demo.auto_approve {
        registration = registration.approved();
    }
    match demo.provider.register_consumer(registration).await {
        Ok(app) => {
            tracing::info!(consumer = ?app.key, owner = ?user.user_id, state = %app.state, "app registered");
            credentials_page(
                &origin,
                demo.provider.config(),
                &app,
                "Your app is registered",
            )
        }
        Err(e) => refusal(&e),
    }
}

#[derive(Deserialize)]
struct AppForm {
    consumer_key: String,
    csrf_token: Option<String>,
    /// Rotation: how long the old secret keeps working, in seconds; absent
    /// on the first click, which asks.
    grace: Option<i64>,
    /// Deletion: `yes` once confirmed; absent on the first click, which asks.
    confirm: Option<String>,
}

/// A page that asks before an operation that breaks a live app, with the
/// form that does it.
fn confirm_page(origin: &ResolvedOrigin, title: &str, question: &str, form: &str) -> Response {
    page(
        StatusCode::OK,
        title,
        &format!(
            "{}<h1>{}</h1><p>{question}</p>{form}<p><a href=\"{}\">Cancel</a></p>",
            site_line(origin),
            escape_html(title),
            escape_html(&developers_path(origin)),
        ),
    )
}

/// The owner's app named by the form, checked: its CSRF token and that
/// the signed-in user owns it.
async fn owned_app<S: DemoStore, N: DemoNonces>(
    demo: &Demo<S, N>,
    origin: &ResolvedOrigin,
    headers: &HeaderMap,
    form: &AppForm,
) -> Result<(Consumer, Session), Response> {
    let (session, user) = signed_in(demo, origin, headers, developers_path(origin))?;
    if !csrf_matches(&session.csrf, form.csrf_token.as_deref()) {
        return Err(forged());
    }
    let app = demo
        .provider
        .stored_consumer(&form.consumer_key)
        .await
        .map_err(|e| refusal(&e))?;
    if app.owner.as_deref() != Some(user.user_id.as_str()) {
        // Another user's app is answered as a missing one.
        return Err(refusal(&ConsumerError::NotFound));
    }
    Ok((app, session))
}

/// The form of a confirmation page: posts the app's key, the CSRF token and
/// `fields_html` to `/developers/{action}`.
fn confirm_form(
    origin: &ResolvedOrigin,
    action: &str,
    app: &Consumer,
    session: &Session,
    fields_html: &str,
    label: &str,
) -> String {
    format!(
        "<form method=\"post\" action=\"{}/{action}\">{}{}{fields_html}\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">{label}</button></div>\
         </form>",
        escape_html(&developers_path(origin)),
        hidden("consumer_key", &app.key),
        hidden("csrf_token", &session.csrf),
    )
}

/// The rotation's choices: how long the old secret keeps working.
const GRACE_CHOICES: [(&str, &str); 3] = [
    ("0", "stops now (it leaked)"),
    ("3600", "works 1 more hour"),
    ("86400", "works 1 more day"),
];

async fn rotate<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(form): Form<AppForm>,
) -> Response {
    let (app, session) = match owned_app(&demo, &origin, &headers, &form).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let Some(grace) = form.grace.filter(|g| (0..=86_400).contains(g)) else {
        let choices: String = GRACE_CHOICES
            .iter()
            .map(|(value, label)| {
                let checked = if *value == "3600" { " checked" } else { "" };
                format!(
                    "<label><input type=\"radio\" name=\"grace\" value=\"{value}\"{checked}> \
                     The old secret {label}</label>"
                )
            })
            .collect();
        let form = confirm_form(&origin, "rotate", &app, &session, &choices, "New secret");
        let question = format!(
            "A new secret for <strong>{}</strong>. Your app must switch to it; until then, requests \
             signed with the old one are refused, unless you let it work a little longer.",
            name(&app)
        );
        return confirm_page(&origin, "Give your app a new secret", &question, &form);
    };
    let grace = oauth1_provider::time::Duration::seconds(grace);
    match demo.provider.rotate_consumer_secret(&app.key, grace).await {
        Ok(app) => {
            tracing::info!(consumer = ?app.key, "app secret rotated");
            credentials_page(
                &origin,
                demo.provider.config(),
                &app,
                "Your app has a new secret",
            )
        }
        Err(e) => refusal(&e),
    }
}

async fn delete<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(form): Form<AppForm>,
) -> Response {
    let (app, session) = match owned_app(&demo, &origin, &headers, &form).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    if form.confirm.as_deref() != Some("yes") {
        let tokens = match demo.provider.consumer_tokens(&app.key).await {
            Ok(tokens) => tokens.len(),
            Err(e) => return refusal(&ConsumerError::Store(e)),
        };
        let confirm = hidden("confirm", "yes");
        let form = confirm_form(&origin, "delete", &app, &session, &confirm, "Delete");
        let question = format!(
            "Delete <strong>{}</strong>? Its {tokens} active access token(s) stop working at once, \
             and its key can never be used again.",
            name(&app)
        );
        return confirm_page(&origin, "Delete your app", &question, &form);
    }
    match demo.provider.delete_consumer(&app.key).await {
        Ok(revoked) => {
            tracing::info!(consumer = ?app.key, revoked, "app deleted with its tokens");
            Redirect::to(&developers_path(&origin)).into_response()
        }
        Err(e) => refusal(&e),
    }
}

/// The actions an administrator may take on an app in `state`.
fn actions(state: ConsumerState) -> &'static [(ConsumerAction, &'static str, &'static str)] {
    match state {
        ConsumerState::Proposed => &[
            (ConsumerAction::Approve, "approve", "Approve"),
            (ConsumerAction::Reject, "reject", "Reject"),
        ],
        ConsumerState::Approved => &[(ConsumerAction::Disable, "disable", "Disable")],
        ConsumerState::Disabled => &[(ConsumerAction::Enable, "enable", "Re-enable")],
        _ => &[],
    }
}

/// The signed-in administrator, or the answer to give instead.
fn administrator<S, N>(
    demo: &Demo<S, N>,
    origin: &ResolvedOrigin,
    headers: &HeaderMap,
) -> Result<Session, Response> {
    let (session, user) = signed_in(demo, origin, headers, admin_path(origin))?;
    if !user.admin {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Only administrators may review apps.",
        ));
    }
    Ok(session)
}

async fn admin<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    let session = match administrator(&demo, &origin, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let apps = match demo.provider.list_consumers(None).await {
        Ok(apps) => apps,
        Err(e) => return refusal(&ConsumerError::Store(e)),
    };
    let path = admin_path(&origin);
    let mut body = format!("{}<h1>Apps</h1>", site_line(&origin));
    for state in ConsumerState::ALL {
        let listed: Vec<&Consumer> = apps.iter().filter(|a| a.state == state).collect();
        body.push_str(&format!(
            "<h2 id=\"{state}\">{state} ({})</h2>",
            listed.len()
        ));
        if listed.is_empty() {
            continue;
        }
        body.push_str("<table><tr><th>App</th><th>Callbacks</th><th></th></tr>");
        for app in listed {
            let buttons: String = actions(state)
                .iter()
                .map(|(_, action, label)| {
                    button(
                        &path,
                        label,
                        &[("consumer_key", &app.key), ("action", action)],
                        &session,
                    )
                })
                .collect();
            body.push_str(&format!(
                "<tr><td><strong>{}</strong><br><span class=\"muted\">key <code>{}</code><br>{}\
                 </span>{}</td><td><code>{}</code></td><td>{buttons}</td></tr>",
                name(app),
                escape_html(&app.key),
                escape_html(&app.description),
                registered_grants_html(demo.provider.config(), &app.grants),
                escape_html(&app.callback_prefixes.join(" ")),
            ));
        }
        body.push_str("</table>");
    }
    page(StatusCode::OK, "Apps", &body)
}

#[derive(Deserialize)]
struct ModerateForm {
    consumer_key: String,
    action: String,
    csrf_token: Option<String>,
}

async fn moderate<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Form(form): Form<ModerateForm>,
) -> Response {
    let session = match administrator(&demo, &origin, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if !csrf_matches(&session.csrf, form.csrf_token.as_deref()) {
        return forged();
    }
    let action = match form.action.as_str() {
        "approve" => ConsumerAction::Approve,
        "reject" => ConsumerAction::Reject,
        "disable" => ConsumerAction::Disable,
        "enable" => ConsumerAction::Enable,
        _ => return error_page(StatusCode::BAD_REQUEST, "Unknown action."),
    };
    match demo
        .provider
        .change_consumer_state(&form.consumer_key, action)
        .await
    {
        Ok(app) => {
            tracing::info!(consumer = ?app.key, state = %app.state, "app reviewed");
            Redirect::to(&admin_path(&origin)).into_response()
        }
        Err(e) => refusal(&e),
    }
}

#[derive(Deserialize)]
struct RefusalsQuery {
    consumer_key: String,
    /// The base string the developer's client signed, to compare.
    base_string: Option<String>,
}

/// `text` with everything from character `from` on in `<mark>`.
fn marked_from(text: &str, from: usize) -> String {
    let split = text.char_indices().nth(from).map_or(text.len(), |(i, _)| i);
    let (same, rest) = text.split_at(split);
    if rest.is_empty() {
        return escape_html(same);
    }
    format!("{}<mark>{}</mark>", escape_html(same), escape_html(rest))
}

/// An app's requests refused with `signature_invalid`, as the provider saw
/// them, for its owner only; with a base string pasted, the first component
/// that differs from the provider's, highlighted.
async fn refusals<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
    Query(query): Query<RefusalsQuery>,
) -> Response {
    let back = format!("{}/refusals", developers_path(&origin));
    let (_, user) = match signed_in(&demo, &origin, &headers, back) {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let app = match demo.provider.stored_consumer(&query.consumer_key).await {
        Ok(app) if app.owner.as_deref() == Some(user.user_id.as_str()) => app,
        // Another user's app is answered as a missing one.
        Ok(_) => return refusal(&ConsumerError::NotFound),
        Err(e) => return refusal(&e),
    };
    let refused = demo.provider.recent_refusals(&app.key);
    let mut body = format!(
        "{}<h1>Refused requests</h1><p>The last requests of <strong>{}</strong> refused with \
         <code>signature_invalid</code>, as this site saw them (kept an hour; secrets shown as \
         REDACTED).</p>",
        site_line(&origin),
        name(&app)
    );
    let Some(last) = refused.last() else {
        body.push_str("<p class=\"muted\" id=\"no-refusals\">None.</p>");
        return page(StatusCode::OK, "Refused requests", &body);
    };
    body.push_str("<h2>What this site signed</h2>");
    for r in refused.iter().rev() {
        let why = match r.reason {
            Reason::BadSignature => "the signature does not match",
            _ => "the token is not known",
        };
        body.push_str(&format!(
            "<p><strong>{:02}:{:02}:{:02} UTC</strong> · {why}<br>\
             <code class=\"base-string\">{}</code></p>",
            r.at.hour(),
            r.at.minute(),
            r.at.second(),
            escape_html(&r.base_string)
        ));
    }
    if let Some(client) = query
        .base_string
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        let verdict = match first_difference(&last.base_string, client) {
            None => "The same base string: check the secrets your client signs with.".to_owned(),
            Some(difference) => format!("First difference: {difference}."),
        };
        let from = common_prefix_chars(&last.base_string, client);
        body.push_str(&format!(
            "<h2>Compared with the last one</h2><p id=\"difference\">{}</p>\
             <p>This site:<br><code>{}</code></p><p>Your client:<br><code id=\"client\">{}</code></p>",
            escape_html(&verdict),
            marked_from(&last.base_string, from),
            marked_from(client, from),
        ));
    }
    body.push_str(&format!(
        "<form method=\"get\" action=\"{}/refusals\">{}\
         <label for=\"base_string\">Your client's base string</label>\
         <textarea id=\"base_string\" name=\"base_string\" rows=\"4\"></textarea>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Compare</button></div></form>",
        escape_html(&developers_path(&origin)),
        hidden("consumer_key", &app.key),
    ));
    page(StatusCode::OK, "Refused requests", &body)
}
