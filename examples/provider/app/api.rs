//! The protected API: JSON about the user behind a signed request, each
//! route behind the grant it needs (403 `permission_denied` otherwise,
//! before the handler runs; a token of the whole app passes every one).

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use oauth1_provider::axum::{OAuthUser, RequireGrant};

/// The API's routes: `/api/whoami` (`profile.read`) and `/api/admin`
/// (`admin`), GET or POST.
pub(super) fn routes<T: Clone + Send + Sync + 'static>() -> Router<T> {
    Router::new()
        .route(
            "/api/whoami",
            get(whoami)
                .post(whoami)
                .route_layer(RequireGrant::new("profile.read")),
        )
        .route(
            "/api/admin",
            get(admin)
                .post(admin)
                .route_layer(RequireGrant::new("admin")),
        )
}

/// A JSON answer that no cache keeps.
pub(super) fn json(status: StatusCode, value: &serde_json::Value) -> Response {
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

/// Who is behind this signed request (GET or POST, any parameters), and
/// what its token was granted (`null`: the whole app).
async fn whoami(user: OAuthUser) -> Response {
    let me = user.get_current_user();
    let grants = user.context().grants().names();
    json(
        StatusCode::OK,
        &serde_json::json!({
            "email": me.email,
            "user_id": me.user_id,
            "admin": user.is_current_user_admin(),
            "consumer_key": user.get_oauth_consumer_key(),
            "grants": grants,
        }),
    )
}

/// Only for the site's admins, with a token granted `admin`.
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
