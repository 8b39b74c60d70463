//! The photo API: each user's photos (titles only, in memory), for apps
//! granted `photos.read` (list them) or `photos.write` (add and delete
//! them). Each route needs its grant in one line ([`RequireGrant`]): a
//! token without it is refused with 403 `permission_denied` before the
//! handler runs, and a token of the whole app passes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::handler::Handler as _;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Extension, Router};
use oauth1_provider::axum::{OAuthUser, RequireGrant};
use oauth1_provider::model::is_hidden_character;
use oauth1_provider::origin::ResolvedOrigin;
use serde::{Deserialize, Serialize};

use super::api::json;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// Most photos one user may keep (the demo keeps them in memory).
pub const MAX_PHOTOS_PER_USER: usize = 100;

/// `GET /api/photos` (`photos.read`), `POST /api/photos` and
/// `DELETE /api/photos/{id}` (`photos.write`).
pub(super) fn routes<T: Clone + Send + Sync + 'static>() -> Router<T> {
    Router::new()
        .route(
            "/api/photos",
            get(list.layer(RequireGrant::new("photos.read")))
                .post(add.layer(RequireGrant::new("photos.write"))),
        )
        .route(
            "/api/photos/{id}",
            delete(remove).route_layer(RequireGrant::new("photos.write")),
        )
        .with_state(Arc::new(Albums::default()))
}

/// A photo: its id (unique on the site) and title.
#[derive(Debug, Clone, Serialize)]
struct Photo {
    id: u64,
    title: String,
}

/// Every user's photos, by user id.
#[derive(Default)]
struct Albums {
    inner: Mutex<AlbumsInner>,
}

#[derive(Default)]
struct AlbumsInner {
    last_id: u64,
    by_user: HashMap<String, Vec<Photo>>,
}

impl Albums {
    fn lock(&self) -> std::sync::MutexGuard<'_, AlbumsInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type AlbumState = State<Arc<Albums>>;

/// A 400 or 404 naming what was wrong.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json(
        status,
        &serde_json::json!({ "error": code, "message": message }),
    )
}

/// The user's photos, oldest first.
async fn list(State(albums): AlbumState, user: OAuthUser) -> Response {
    let albums = albums.lock();
    let photos = albums
        .by_user
        .get(&user.get_current_user().user_id)
        .map_or(&[][..], Vec::as_slice);
    json(StatusCode::OK, &serde_json::json!({ "photos": photos }))
}

#[derive(Deserialize)]
struct NewPhoto {
    title: Option<String>,
}

/// A title as given, checked: 1 to [`MAX_TITLE_CHARS`] characters once
/// trimmed, none of them hidden (controls, bidirectional overrides,
/// zero-width characters…), which would let a title pass for another.
fn checked_title(title: Option<&str>) -> Result<String, Response> {
    let title = title.map(str::trim).unwrap_or_default();
    if title.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "title_required",
            "send the photo's title in the form field `title`",
        ));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "title_too_long",
            &format!("a title has at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    if title.chars().any(is_hidden_character) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "title_has_hidden_characters",
            "a title may not hold control, formatting or invisible characters",
        ));
    }
    Ok(title.to_owned())
}

/// Adds a photo (form field `title`): 201 with it and its `Location`.
async fn add(
    State(albums): AlbumState,
    Extension(origin): Extension<ResolvedOrigin>,
    user: OAuthUser,
    form: Result<Form<NewPhoto>, FormRejection>,
) -> Response {
    let title = match &form {
        Ok(Form(photo)) => checked_title(photo.title.as_deref()),
        Err(rejection) => Err(error(
            StatusCode::BAD_REQUEST,
            "bad_form",
            &rejection.body_text(),
        )),
    };
    let title = match title {
        Ok(title) => title,
        Err(refusal) => return refusal,
    };
    let mut albums = albums.lock();
    let id = albums.last_id + 1;
    let photos = albums
        .by_user
        .entry(user.get_current_user().user_id.clone())
        .or_default();
    if photos.len() >= MAX_PHOTOS_PER_USER {
        return error(
            StatusCode::CONFLICT,
            "too_many_photos",
            &format!("a user keeps at most {MAX_PHOTOS_PER_USER} photos here"),
        );
    }
    let photo = Photo { id, title };
    photos.push(photo.clone());
    albums.last_id = id;
    let mut created = json(StatusCode::CREATED, &serde_json::json!(photo));
    if let Ok(location) = format!("{}/api/photos/{id}", origin.prefix).parse() {
        created.headers_mut().insert(header::LOCATION, location);
    }
    created
}

/// Deletes one of the user's photos: 204; 404 for another user's photo
/// and for one that does not exist, alike.
async fn remove(State(albums): AlbumState, user: OAuthUser, Path(id): Path<String>) -> Response {
    let mut albums = albums.lock();
    let photos = albums.by_user.get_mut(&user.get_current_user().user_id);
    let found = id.parse::<u64>().ok().and_then(|id| {
        let photos = photos?;
        let at = photos.iter().position(|p| p.id == id)?;
        Some(photos.remove(at))
    });
    match found {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such photo of yours"),
    }
}
