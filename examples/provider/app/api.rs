//! The protected API: JSON about the user behind a signed request.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use oauth1_provider::axum::OAuthUser;

/// The API's routes: `/api/whoami` and `/api/admin`, GET or POST.
pub(super) fn routes<T: Clone + Send + Sync + 'static>() -> Router<T> {
    Router::new()
        .route("/api/whoami", get(whoami).post(whoami))
        .route("/api/admin", get(admin).post(admin))
}

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
