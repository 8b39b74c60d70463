//! [`RequireGrant`], one type for every adapter: a route that needs a
//! grant, in one line. axum uses it as a tower `Layer`
//! (`adapters/axum/grant.rs`), actix-web as a middleware `Transform`
//! (`adapters/actix/grant.rs`); both run the check in `verdict.rs`.

use std::sync::Arc;

/// Lets a request through only when its token was granted `grant` (see
/// [`OAuthContext::require_grant`](crate::OAuthContext::require_grant)):
/// otherwise 403 `permission_denied` (or the provider's refusal of a
/// request that does not authenticate), and the handler is never called.
///
/// A whole-app token passes every check, and every token passes
/// `RequireGrant::new("identity")` — the mark of a route open to any app the
/// user allowed, whose handler checks grants itself: without a
/// `RequireGrant`, the extractors refuse a token limited to grants (see
/// `OAuthUser`). A grant the provider does not declare is a
/// misconfiguration: 500, and an error in the log. Needs the adapter's
/// verifying layer or middleware around the route.
///
/// # Panics
///
/// [`RequireGrant::new`] panics on a name no grant can have
/// ([`is_valid_grant_name`](crate::model::is_valid_grant_name)): a typo
/// caught when the app is built.
#[cfg_attr(
    feature = "axum",
    doc = r#"
# In axum

A tower layer: on a whole route with `route_layer`, or on one method's
handler with `Handler::layer`.

```
use axum::{Router, handler::Handler, routing::get};
use oauth1_provider::axum::RequireGrant;

async fn list() {}
async fn upload() {}
async fn delete() {}

let api: Router = Router::new()
    .route(
        "/api/photos",
        get(list.layer(RequireGrant::new("photos.read")))
            .post(upload.layer(RequireGrant::new("photos.write"))),
    )
    .route(
        "/api/photos/{id}",
        axum::routing::delete(delete).route_layer(RequireGrant::new("photos.write")),
    );
# let _ = api;
```
"#
)]
#[cfg_attr(
    feature = "actix",
    doc = r#"
# In actix-web

A middleware: `wrap` it on a route, a resource or a scope.

```
use actix_web::{App, web};
use oauth1_provider::actix::RequireGrant;

async fn list() -> &'static str { "[]" }
async fn upload() -> &'static str { "{}" }

let app = App::new().service(
    web::resource("/api/photos")
        .route(web::get().to(list).wrap(RequireGrant::new("photos.read")))
        .route(web::post().to(upload).wrap(RequireGrant::new("photos.write"))),
);
# let _ = app;
```
"#
)]
#[derive(Clone, Debug)]
pub struct RequireGrant {
    pub(crate) grant: Arc<str>,
    pub(crate) or_unsigned: bool,
}

impl RequireGrant {
    /// Requires `grant`.
    pub fn new(grant: &str) -> Self {
        assert!(
            crate::model::is_valid_grant_name(grant),
            "RequireGrant: {grant:?} is not a valid grant name \
             (1 to 200 visible ASCII characters, no comma, not `*`)"
        );
        Self {
            grant: grant.into(),
            or_unsigned: false,
        }
    }

    /// Also lets through a request carrying no OAuth credentials at all,
    /// for a route that serves visitors too: its handler takes
    /// `Option<OAuthUser>` (axum) or `MaybeOAuthUser` (actix-web), which is
    /// `None` for them. Without it such a request is refused with 401, as
    /// a handler that reads no OAuth extractor would otherwise run for
    /// anyone.
    pub fn or_unsigned(mut self) -> Self {
        self.or_unsigned = true;
        self
    }

    /// The grant required.
    pub fn grant(&self) -> &str {
        &self.grant
    }
}
