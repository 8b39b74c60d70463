//! The audit trail on the site: a user's recent activity on `/account`,
//! and everyone's on `/admin/events` (administrators only). The provider
//! records the events ([`StoreAudit`](oauth1_provider::provider::StoreAudit)
//! into the demo's store); these pages only read them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use oauth1_provider::StoreError;
use oauth1_provider::origin::ResolvedOrigin;
use oauth1_provider::store::StoredEvent;

use super::html::{escape_html, page};
use super::pages::{site_line, unavailable, when};
use super::{AppState, Demo, DemoNonces, DemoStore, to_login};

/// How many events a page shows, newest first.
const SHOWN: usize = 50;

/// `/admin/events`.
pub(super) fn routes<S: DemoStore, N: DemoNonces>() -> Router<Arc<Demo<S, N>>> {
    Router::new().route("/admin/events", get(all_events::<S, N>))
}

/// The newest events, of `user_id` if given: every event recorded before
/// this call is shown (the trail is written in the background).
pub(super) async fn recent<S: DemoStore, N: DemoNonces>(
    demo: &Demo<S, N>,
    user_id: Option<&str>,
) -> Result<Vec<StoredEvent>, StoreError> {
    demo.audit.flush().await;
    demo.provider.recent_events(user_id, SHOWN).await
}

/// What an event's kind means, for people.
fn label(kind: &str) -> &str {
    match kind {
        "request_token_issued" => "An app asked for access",
        "authorized" => "Access approved",
        "denied" => "Access denied",
        "exchanged" => "Approval used by the app",
        "burned" => "Approval cancelled after wrong verifiers",
        "access_token_issued" => "Access granted",
        "access_token_refreshed" => "Access renewed",
        "access_token_revoked" => "Access revoked",
        "consumer_registered" => "App registered",
        "consumer_approved" => "App approved",
        "consumer_rejected" => "App rejected",
        "consumer_disabled" => "App disabled",
        "consumer_enabled" => "App re-enabled",
        "consumer_updated" => "App details changed",
        "consumer_secret_rotated" => "App secret rotated",
        "consumer_deleted" => "App deleted",
        "refused" => "Request refused",
        other => other,
    }
}

/// The events as a table (with the user's and the refused request's
/// address on the administrators' page), or a line saying there are none. Every value is escaped: a
/// refused request's consumer key and token are what a client sent.
pub(super) fn table(events: &[StoredEvent], with_user: bool) -> String {
    if events.is_empty() {
        return "<p class=\"muted\">Nothing recorded yet.</p>".to_owned();
    }
    let mut html = String::from("<table class=\"events\"><tr><th>When</th><th>What</th>");
    if with_user {
        html.push_str("<th>User</th>");
    }
    html.push_str("<th>App</th><th>Token</th>");
    if with_user {
        html.push_str("<th>From</th>");
    }
    html.push_str("</tr>");
    for event in events {
        let cell = |value: &Option<String>| {
            value.as_deref().map_or(String::new(), |v| {
                format!("<code>{}</code>", escape_html(v))
            })
        };
        let detail = if event.detail.is_empty() {
            String::new()
        } else {
            format!(
                "<br><span class=\"muted\">{}</span>",
                escape_html(&event.detail)
            )
        };
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}{detail}</td>",
            escape_html(&when(event.at)),
            escape_html(label(&event.kind)),
        ));
        if with_user {
            html.push_str(&format!("<td>{}</td>", cell(&event.user_id)));
        }
        let token = event.token_prefix.as_ref().map(|t| format!("{t}…"));
        html.push_str(&format!(
            "<td>{}</td><td>{}</td>",
            cell(&event.consumer_key),
            cell(&token)
        ));
        if with_user {
            let peer = event.peer.map(|p| p.to_string());
            html.push_str(&format!("<td>{}</td>", cell(&peer)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

async fn all_events<S: DemoStore, N: DemoNonces>(
    State(demo): AppState<S, N>,
    Extension(origin): Extension<ResolvedOrigin>,
    headers: HeaderMap,
) -> Response {
    let Some((_, _, user)) = demo.signed_in(&headers) else {
        return to_login(&origin.prefix, &format!("{}/admin/events", origin.prefix));
    };
    if !user.admin {
        return page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "<h1>Not allowed</h1><p class=\"error\">Only administrators may see every event.</p>",
        );
    }
    let events = match recent(&demo, None).await {
        Ok(events) => events,
        Err(e) => {
            tracing::error!(error = %e, "cannot list events");
            return unavailable();
        }
    };
    let body = format!(
        "{}<h1>Recent events</h1><p class=\"muted\">The newest {SHOWN}, newest first.</p>{}",
        site_line(&origin),
        table(&events, true)
    );
    page(StatusCode::OK, "Recent events", &body)
}
