//! The grant scenarios through the axum adapter: the photo API with
//! `RequireGrant` on one method's handler (`Handler::layer`) and on a whole
//! route (`route_layer`), under the verifying layer, beside the adapter's
//! endpoints.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::handler::Handler as _;
use axum::http::request::Parts;
use axum::http::{Request, header};
use axum::response::Response;
use axum::routing::{delete, get};
use oauth1_provider::axum::{ConsentUi, OAuth, OAuthUser, RequireGrant, SignedIn};
use oauth1_provider::{OriginPolicy, ProviderConfig};

use super::{Call, FORM, HOST, ORIGIN, Reply, Site, Transport, parts, signed_in};

/// Alice is always signed in.
struct Alice;

impl ConsentUi for Alice {
    async fn signed_in(&self, _: &Parts, _: &str) -> Result<SignedIn, Response> {
        Ok(signed_in())
    }
}

impl Transport for Router {
    async fn send(&self, call: &Call) -> Reply {
        let mut request = Request::builder()
            .method(call.method)
            .uri(&call.target)
            .header(header::HOST, HOST);
        if let Some(authorization) = &call.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        if call.form.is_some() {
            request = request.header(header::CONTENT_TYPE, FORM);
        }
        if let Some(dest) = call.fetch_dest {
            request = request.header("sec-fetch-dest", dest);
        }
        let body = Body::from(call.form.clone().unwrap_or_default());
        crate::axum_flow::send(self, request.body(body).unwrap())
            .await
            .numeric()
    }
}

async fn site(config: ProviderConfig) -> Site<Router> {
    let (provider, clock, photos, events) = parts(config);
    let oauth = OAuth::new(provider.clone()).origins(OriginPolicy::public_origins([ORIGIN]));
    let (list, upload, remove) = (photos.clone(), photos.clone(), photos.clone());
    let (me, undeclared, public) = (photos.clone(), photos.clone(), photos.clone());
    let transport = Router::new()
        .route(
            "/api/photos",
            get((move |_: OAuthUser| async move { list.list() })
                .layer(RequireGrant::new("photos.read")))
            .post(
                (move |form: Bytes| async move { upload.upload(&form) })
                    .layer(RequireGrant::new("photos.write")),
            ),
        )
        .route(
            "/api/photos/{name}",
            delete(move |Path(name): Path<String>| async move { remove.delete(&name) })
                .route_layer(RequireGrant::new("photos.write")),
        )
        .route(
            "/api/me",
            get(move |user: OAuthUser| async move { me.who(user.get_current_user()) }),
        )
        .route(
            "/api/public",
            get(move |user: Option<OAuthUser>| async move {
                public.visit(user.as_ref().map(OAuthUser::get_current_user))
            })
            .route_layer(RequireGrant::new("photos.read").or_unsigned()),
        )
        .route(
            "/api/undeclared",
            get(move |user: OAuthUser| async move { undeclared.who(user.get_current_user()) })
                .route_layer(RequireGrant::new("photos.delete")),
        )
        .layer(oauth.layer())
        .merge(oauth.router(Alice));
    Site {
        transport,
        provider,
        clock,
        photos,
        events,
    }
}

grant_tests!(tokio::test, site);
