//! The grant scenarios through the actix-web adapter: the photo API with
//! `RequireGrant` wrapped on a route and on a resource, the whole app under
//! the verifying middleware, beside the adapter's endpoints.

use actix_web::http::{Method, header};
use actix_web::test::TestRequest;
use actix_web::{App, HttpRequest, HttpResponse, web};
use oauth1_provider::actix::{ConsentUi, MaybeOAuthUser, OAuth, OAuthUser, RequireGrant, SignedIn};
use oauth1_provider::{OriginPolicy, ProviderConfig};

use super::{Call, FORM, HOST, ORIGIN, Reply, Site, Transport, parts, signed_in};
use crate::actix_flow::{Sender, serve};

/// Alice is always signed in.
struct Alice;

impl ConsentUi for Alice {
    async fn signed_in(&self, _: &HttpRequest, _: &str) -> Result<SignedIn, HttpResponse> {
        Ok(signed_in())
    }
}

impl Transport for Sender {
    async fn send(&self, call: &Call) -> Reply {
        let mut request = TestRequest::default()
            .method(Method::from_bytes(call.method.as_bytes()).unwrap())
            .uri(&call.target)
            .insert_header((header::HOST, HOST));
        if let Some(authorization) = &call.authorization {
            request = request.insert_header((header::AUTHORIZATION, authorization.as_str()));
        }
        if let Some(dest) = call.fetch_dest {
            request = request.insert_header(("sec-fetch-dest", dest));
        }
        if let Some(form) = &call.form {
            request = request
                .insert_header((header::CONTENT_TYPE, FORM))
                .set_payload(form.clone());
        }
        self(request).await.numeric()
    }
}

async fn site(config: ProviderConfig) -> Site<Sender> {
    let (provider, clock, photos, events) = parts(config);
    let oauth = OAuth::new(provider.clone()).origins(OriginPolicy::public_origins([ORIGIN]));
    let (list, upload, remove) = (photos.clone(), photos.clone(), photos.clone());
    let (me, undeclared, public) = (photos.clone(), photos.clone(), photos.clone());
    let transport = serve!(
        App::new()
            .service(oauth.endpoints(Alice))
            .service(
                web::resource("/api/photos")
                    .route(
                        web::get()
                            .to(move |_: OAuthUser| {
                                let photos = list.clone();
                                async move { photos.list() }
                            })
                            .wrap(RequireGrant::new("photos.read")),
                    )
                    .route(
                        web::post()
                            .to(move |form: web::Bytes| {
                                let photos = upload.clone();
                                async move { photos.upload(&form) }
                            })
                            .wrap(RequireGrant::new("photos.write")),
                    ),
            )
            .service(
                web::resource("/api/photos/{name}")
                    .route(web::delete().to(move |name: web::Path<String>| {
                        let photos = remove.clone();
                        async move { photos.delete(&name) }
                    }))
                    .wrap(RequireGrant::new("photos.write")),
            )
            .route(
                "/api/me",
                web::get().to(move |user: OAuthUser| {
                    let photos = me.clone();
                    async move { photos.who(user.get_current_user()) }
                }),
            )
            .route(
                "/api/public",
                web::get()
                    .to(move |user: MaybeOAuthUser| {
                        let photos = public.clone();
                        async move { photos.visit(user.0.as_ref().map(OAuthUser::get_current_user)) }
                    })
                    .wrap(RequireGrant::new("photos.read").or_unsigned()),
            )
            .route(
                "/api/undeclared",
                web::get()
                    .to(move |user: OAuthUser| {
                        let photos = undeclared.clone();
                        async move { photos.who(user.get_current_user()) }
                    })
                    .wrap(RequireGrant::new("photos.delete")),
            )
            .wrap(oauth.middleware())
    );
    Site {
        transport,
        provider,
        clock,
        photos,
        events,
    }
}

grant_tests!(actix_web::test, site);
