//! The grant scenarios, each a test of both adapters (see [`grant_tests!`]).

use oauth1_provider::provider::{JWT_CONTENT_TYPE, Reason};

use super::{
    ANONYMOUS, AUTHENTICATE, AUTHORIZE, App, IDENTIFY, Jwt, ORIGIN, PRINTER, ROBOT, SIGN_IN, Site,
    Token, Transport, WHOLE_APP, callback_verifier, listed_grants,
};
use crate::support::harness::{START, alice};
use crate::support::reply::param;

/// What a sign-in-only app's consent page says instead of a list.
const SIGN_IN_ONLY: &str = "will only learn who you are";
/// What the page says of a whole-app token.
const WHOLE_ACCOUNT: &str = "use your whole account";

/// Each refused write is 403 `permission_denied` (challenge included),
/// naming the grant it lacks.
#[track_caller]
fn assert_lacks_write(reply: &super::Reply) {
    reply.assert_problem(403, "permission_denied");
    let advice = param(&reply.body, "oauth_problem_advice").expect("advice");
    assert!(advice.contains("photos.write"), "{advice}");
}

/// A `photos.read` token lists the photos; uploading and deleting are
/// refused before the handler runs: nothing changed, no handler call.
pub(crate) async fn a_read_token_reads_and_is_refused_writes<T: Transport>(site: Site<T>) {
    let token = site.access(&PRINTER, Some("photos.read")).await;
    let [list, upload, delete] = site
        .photo_calls(&PRINTER, &token, "sunset.jpg", "beach.jpg")
        .await;
    list.assert_status(200);
    assert_eq!(list.body, "beach.jpg");
    assert_lacks_write(&upload);
    assert_lacks_write(&delete);
    assert_eq!(site.photos.state(), (vec!["beach.jpg".to_owned()], 1));
}

/// A refused write was authentic: its nonce is spent, and the very same
/// request again is a replay (401 `nonce_used`), still without a handler
/// call.
pub(crate) async fn a_refused_write_spends_its_nonce<T: Transport>(site: Site<T>) {
    let token = site.access(&PRINTER, Some("photos.read")).await;
    let upload = site.api_call(&PRINTER, &token, "POST", "/api/photos", Some("name=x.jpg"));
    let delete = site.api_call(&PRINTER, &token, "DELETE", "/api/photos/beach.jpg", None);
    for call in [upload, delete] {
        assert_lacks_write(&site.send(&call).await);
        site.send(&call).await.assert_problem(401, "nonce_used");
    }
    assert_eq!(site.photos.state(), (vec!["beach.jpg".to_owned()], 0));
}

/// A consumer registered without grants gets App Engine's whole-app token
/// (its `scope` only recorded): the page says so, and every route is open.
pub(crate) async fn a_whole_app_token_does_everything<T: Transport>(site: Site<T>) {
    let (token, secret) = site.issued(&WHOLE_APP, Some("photos.read")).await;
    let page = site.consent(AUTHORIZE, &token).await;
    assert!(page.body.contains(WHOLE_ACCOUNT), "{}", page.body);
    assert_eq!(listed_grants(&page.body), Vec::<String>::new());
    let verifier = site.allow(AUTHORIZE, &token).await;
    let token = site.exchanged(&WHOLE_APP, &token, &secret, &verifier).await;
    let replies = site
        .photo_calls(&WHOLE_APP, &token, "sunset.jpg", "beach.jpg")
        .await;
    for reply in &replies {
        reply.assert_status(200);
    }
    assert_eq!(replies[0].body, "beach.jpg");
    assert_eq!(site.photos.state(), (vec!["sunset.jpg".to_owned()], 3));
}

/// `scope` names some of the consumer's grants (space- or comma-separated,
/// `identity` always allowed) or none (then it asks for all of them); a
/// name it was not registered for is refused with 400 `parameter_rejected`
/// naming it. The consent page lists each grant asked for, with its
/// sentence.
pub(crate) async fn scope_is_read_against_the_consumers_grants<T: Transport>(site: Site<T>) {
    for scope in ["photos.delete", "photos.read photos.delete"] {
        let reply = site.request_token(&PRINTER, Some(scope)).await;
        reply.assert_problem(400, "parameter_rejected");
        let advice = param(&reply.body, "oauth_problem_advice").expect("advice");
        assert!(
            advice.contains("not registered for: photos.delete ("),
            "{advice}"
        );
    }
    // Every limited token knows who the user is: `identity` comes first.
    let both = ["identity", "photos.read", "photos.write"];
    for (scope, asked) in [
        (Some("photos.read,photos.write"), &both[..]),
        (Some("photos.write photos.read"), &both[..]),
        (None, &both[..]),
        (Some("photos.read"), &both[..2]),
        (Some("identity, photos.read"), &both[..2]),
    ] {
        let (token, _) = site.issued(&PRINTER, scope).await;
        let page = site.consent(AUTHORIZE, &token).await;
        assert_eq!(listed_grants(&page.body), asked, "{scope:?}");
        assert!(!page.body.contains(WHOLE_ACCOUNT), "{}", page.body);
    }
    let (token, _) = site.issued(&PRINTER, None).await;
    let page = site.consent(AUTHORIZE, &token).await;
    for sentence in [
        r#"<li class="grant" data-grant="photos.read">See your photos</li>"#,
        r#"<li class="grant" data-grant="photos.write">Add and delete your photos</li>"#,
    ] {
        assert!(page.body.contains(sentence), "{}", page.body);
    }
    // The comma-separated scope's token may write.
    let token = site
        .access(&PRINTER, Some("photos.read,photos.write"))
        .await;
    let replies = site
        .photo_calls(&PRINTER, &token, "sunset.jpg", "beach.jpg")
        .await;
    for reply in &replies {
        reply.assert_status(200);
    }
}

/// Under the Session extension, a refreshed token keeps what the user
/// granted: it still reads, and is still refused writes.
pub(crate) async fn refresh_keeps_the_grants<T: Transport>(site: Site<T>) {
    let old = site.access(&PRINTER, Some("photos.read")).await;
    let handle = old.handle.as_deref().expect("a session handle");
    let signer = site
        .signer(&PRINTER)
        .token(&old.token, &old.secret)
        .header_param("oauth_session_handle", handle);
    let call = site.signed(signer, "POST", "/_ah/OAuthGetAccessToken", None);
    let reply = site.send(&call).await;
    reply.assert_status(200);
    let new = Token {
        token: reply.field("oauth_token"),
        secret: reply.field("oauth_token_secret"),
        handle: None,
    };
    assert_ne!(new.token, old.token);
    let [list, upload, delete] = site
        .photo_calls(&PRINTER, &new, "sunset.jpg", "beach.jpg")
        .await;
    list.assert_status(200);
    assert_lacks_write(&upload);
    assert_lacks_write(&delete);
    let old_list = site.api_call(&PRINTER, &old, "GET", "/api/photos", None);
    site.send(&old_list)
        .await
        .assert_problem(401, "token_revoked");
    assert_eq!(site.photos.state(), (vec!["beach.jpg".to_owned()], 1));
}

/// The identity endpoint answers an HS256 JWT for the consumer: who the
/// user is, what was granted, tied to the request's nonce; signed with the
/// consumer's secret and nothing else. A request without a user, or
/// without credentials, gets none.
pub(crate) async fn the_identity_endpoint_answers_a_signed_jwt<T: Transport>(site: Site<T>) {
    let token = site.access(&PRINTER, Some("photos.read")).await;
    let signer = site
        .signer(&PRINTER)
        .token(&token.token, &token.secret)
        .nonce("identify-nonce-1");
    let call = site.signed(signer, "GET", IDENTIFY, None);
    let reply = site.send(&call).await;
    reply.assert_status(200);
    assert_eq!(reply.header("content-type"), Some(JWT_CONTENT_TYPE));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let jwt = Jwt::decode(&reply.body);
    assert_eq!(
        jwt.header,
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    let user = alice();
    assert_eq!(
        jwt.claims,
        serde_json::json!({
            "iss": ORIGIN,
            "sub": user.user_id,
            "aud": PRINTER.key,
            "iat": START,
            "exp": START + 300,
            "nonce": "identify-nonce-1",
            "email": user.email,
            "admin": true,
            "grants": ["identity", "photos.read"],
        })
    );
    assert!(jwt.verifies_with(PRINTER.secret));
    assert!(!jwt.verifies_with(WHOLE_APP.secret));
    assert!(!jwt.verifies_with(""));
    // The request was authentic: its nonce is spent.
    site.send(&call).await.assert_problem(401, "nonce_used");

    // A whole-app token's grants are `*`.
    let whole = site.access(&WHOLE_APP, None).await;
    let call = site.api_call(&WHOLE_APP, &whole, "POST", IDENTIFY, None);
    let reply = site.send(&call).await;
    reply.assert_status(200);
    let jwt = Jwt::decode(&reply.body);
    assert_eq!(jwt.claims["grants"], serde_json::json!(["*"]));
    assert_eq!(jwt.claims["aud"], WHOLE_APP.key);
    assert!(jwt.verifies_with(WHOLE_APP.secret));

    // Two-legged: no user to name.
    let call = site.signed(site.signer(&ROBOT), "GET", IDENTIFY, None);
    site.send(&call)
        .await
        .assert_problem(401, "permission_denied");
    // `anonymous`'s secret is public: a token signed with it proves nothing.
    let anonymous = site.access(&ANONYMOUS, None).await;
    let call = site.api_call(&ANONYMOUS, &anonymous, "GET", IDENTIFY, None);
    site.send(&call)
        .await
        .assert_problem(403, "permission_denied");
    // No credentials at all.
    site.browse("GET", IDENTIFY, None)
        .await
        .assert_unauthenticated();
}

/// A route that names no grant (no `RequireGrant`, an `OAuthUser`
/// extractor) is for whole-app tokens only: a limited token gets 403
/// `permission_denied` however much it was granted, and the handler never
/// runs. A `RequireGrant` naming a grant the host does not declare is the
/// host's bug: 500 for every token.
pub(crate) async fn a_route_naming_no_grant_is_for_whole_app_tokens_only<T: Transport>(
    site: Site<T>,
) {
    let limited = site.access(&PRINTER, None).await;
    let whole = site.access(&WHOLE_APP, None).await;
    let me = |app, token| site.api_call(app, token, "GET", "/api/me", None);
    let refused = site.send(&me(&PRINTER, &limited)).await;
    refused.assert_problem(403, "permission_denied");
    let advice = param(&refused.body, "oauth_problem_advice").expect("advice");
    assert!(advice.contains("only whole-app tokens"), "{advice}");
    assert_eq!(site.photos.state().1, 0);
    let reply = site.send(&me(&WHOLE_APP, &whole)).await;
    reply.assert_status(200);
    assert_eq!(reply.body, alice().email);
    for (app, token) in [(&PRINTER, &limited), (&WHOLE_APP, &whole)] {
        let call = site.api_call(app, token, "GET", "/api/undeclared", None);
        site.send(&call).await.assert_status(500);
    }
    assert_eq!(site.photos.state().1, 1);
    // A sign-in-only token may use what needs `identity` alone, not more.
    let sign_in = site.access(&SIGN_IN, None).await;
    let list = site.api_call(&SIGN_IN, &sign_in, "GET", "/api/photos", None);
    site.send(&list)
        .await
        .assert_problem(403, "permission_denied");
    let identify = site.api_call(&SIGN_IN, &sign_in, "GET", IDENTIFY, None);
    site.send(&identify).await.assert_status(200);
    assert_eq!(site.photos.state().1, 1);
}

/// The whole sign-in flow of `app` at the authenticate endpoint, alice
/// allowing on the page: the access token.
async fn first_sign_in<T: Transport>(site: &Site<T>, app: &App) -> Token {
    let (token, secret) = site.issued(app, None).await;
    let page = site.consent(AUTHENTICATE, &token).await;
    assert!(page.body.contains(SIGN_IN_ONLY), "{}", page.body);
    assert_eq!(listed_grants(&page.body), Vec::<String>::new());
    let verifier = site.allow(AUTHENTICATE, &token).await;
    site.exchanged(app, &token, &secret, &verifier).await
}

/// A new request token of `app` (asking for `scope`) at the authenticate
/// endpoint: the page (which must be shown), or `None` when alice was sent
/// straight back (and the exchange worked).
async fn sign_in_again<T: Transport>(
    site: &Site<T>,
    app: &App,
    scope: Option<&str>,
) -> Option<String> {
    let (token, secret) = site.issued(app, scope).await;
    let reply = site.open(AUTHENTICATE, &token).await;
    if reply.status == 200 {
        return Some(site.consent(AUTHENTICATE, &token).await.body);
    }
    reply.assert_page_headers();
    let verifier = callback_verifier(&reply, &token);
    site.exchanged(app, &token, &secret, &verifier).await;
    None
}

/// A sign-in-only app (registered for `identity` alone): the first sign-in
/// asks; once alice allowed it on this host and holds its token, the next
/// one goes straight back to the callback (and the exchange works) — on a
/// top-level navigation only; the authorize endpoint still always asks; revoking the token or the whole
/// authorization makes the next sign-in ask again.
pub(crate) async fn authenticate_signs_a_returning_user_in_without_a_page<T: Transport>(
    site: Site<T>,
) {
    let user = alice();
    first_sign_in(&site, &SIGN_IN).await;
    assert_eq!(sign_in_again(&site, &SIGN_IN, None).await, None);
    assert_eq!(sign_in_again(&site, &SIGN_IN, None).await, None);
    // Only a top-level navigation signs in without a page: another site
    // embedding the endpoint (a frame, an image, a fetch) gets the page.
    for dest in ["iframe", "image", "script", "empty"] {
        let (token, _) = site.issued(&SIGN_IN, None).await;
        let reply = site.open_for(AUTHENTICATE, &token, Some(dest)).await;
        reply.assert_status(200);
        assert!(reply.body.contains(SIGN_IN_ONLY), "{dest}: {}", reply.body);
    }
    let (token, secret) = site.issued(&SIGN_IN, None).await;
    let reply = site.open_for(AUTHENTICATE, &token, Some("document")).await;
    let verifier = callback_verifier(&reply, &token);
    site.exchanged(&SIGN_IN, &token, &secret, &verifier).await;
    let (token, _) = site.issued(&SIGN_IN, None).await;
    let page = site.consent(AUTHORIZE, &token).await;
    assert!(page.body.contains(SIGN_IN_ONLY), "{}", page.body);

    // Revoking every token of the app: asked again.
    let revoked = site
        .provider
        .revoke_authorization(&user.user_id, SIGN_IN.key)
        .await
        .unwrap();
    assert!(revoked >= 1, "{revoked}");
    let page = sign_in_again(&site, &SIGN_IN, None)
        .await
        .expect("the page again");
    assert!(page.contains(SIGN_IN_ONLY), "{page}");

    // Revoking the one token alice holds: asked again too.
    let token = first_sign_in(&site, &SIGN_IN).await;
    assert_eq!(sign_in_again(&site, &SIGN_IN, None).await, None);
    for held in site.provider.authorizations(&user.user_id).await.unwrap() {
        assert!(site.provider.revoke_token(&held.token).await.unwrap());
    }
    let old = site.api_call(&SIGN_IN, &token, "GET", IDENTIFY, None);
    site.send(&old).await.assert_problem(401, "token_revoked");
    assert!(sign_in_again(&site, &SIGN_IN, None).await.is_some());
}

/// Any app that is not sign-in-only is asked every time at the
/// authenticate endpoint, even once allowed: an app with other grants
/// (whatever its `scope`), a whole-app one, and the unregistered
/// `anonymous` consumer.
pub(crate) async fn authenticate_asks_every_other_app<T: Transport>(site: Site<T>) {
    for app in [&PRINTER, &WHOLE_APP, &ANONYMOUS] {
        site.access(app, None).await;
        let page = sign_in_again(&site, app, None).await;
        let page = page.unwrap_or_else(|| panic!("{} signed in without a page", app.key));
        assert!(!page.contains(SIGN_IN_ONLY), "{page}");
    }
    // Asking for `identity` alone does not make the printer a sign-in app,
    // even once allowed so.
    let (token, secret) = site.issued(&PRINTER, Some("identity")).await;
    let verifier = site.allow(AUTHENTICATE, &token).await;
    site.exchanged(&PRINTER, &token, &secret, &verifier).await;
    let page = sign_in_again(&site, &PRINTER, Some("identity")).await;
    let page = page.expect("the page for the printer");
    assert!(page.contains(SIGN_IN_ONLY), "{page}");
}

/// A grant refusal is in the provider's audit trail (the adapters answer
/// it, after the provider authenticated the request), with the consumer,
/// the user and the token; and a route marked `or_unsigned` serves
/// visitors (no OAuth at all) beside tokens with its grant, while a
/// limited token without it is still refused.
pub(crate) async fn grant_refusals_are_audited_and_a_route_may_let_visitors_in<T: Transport>(
    site: Site<T>,
) {
    let reader = site.access(&PRINTER, Some("photos.read")).await;
    let upload = site.api_call(&PRINTER, &reader, "POST", "/api/photos", Some("name=x.jpg"));
    assert_lacks_write(&site.send(&upload).await);
    let me = site.api_call(&PRINTER, &reader, "GET", "/api/me", None);
    site.send(&me)
        .await
        .assert_problem(403, "permission_denied");
    let printer = Some(PRINTER.key.to_owned());
    let user = Some(alice().user_id);
    assert_eq!(
        site.events.refusals(),
        [
            (Reason::GrantMissing, printer.clone(), user.clone(), true),
            (Reason::GrantMissing, printer, user, true),
        ]
    );

    let visitor = site.browse("GET", "/api/public", None).await;
    visitor.assert_status(200);
    assert_eq!(visitor.body, "visitor");
    let call = site.api_call(&PRINTER, &reader, "GET", "/api/public", None);
    let reply = site.send(&call).await;
    reply.assert_status(200);
    assert_eq!(reply.body, alice().email);
    let sign_in = site.access(&SIGN_IN, None).await;
    let call = site.api_call(&SIGN_IN, &sign_in, "GET", "/api/public", None);
    site.send(&call)
        .await
        .assert_problem(403, "permission_denied");
    assert_eq!(
        site.photos.state().1,
        2,
        "the visitor's and the reader's calls ran"
    );
}
