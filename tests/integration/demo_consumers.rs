//! Apps as managed data in the demo, over HTTP: a user registers an app on
//! `/developers` and sees its key and secret once; it is refused like an
//! unknown consumer until an administrator approves it on
//! `/admin/consumers`; its owner rotates its secret and deletes it (its
//! tokens die with it); nobody else can; every form needs its CSRF token.
//! Then two instances on one PostgreSQL: registered and approved on A, the
//! flow completes on B; disabled on B, refused on A (within the cache
//! time); deleted on A, its token fails on B.

use crate::support::demo_client::{Credentials, Site, assert_problem, oauth_problem};
use crate::support::demo_process::DemoProcess;
use crate::support::reply::hidden_field;
use crate::support::services::PgSchema;

const CALLBACK: &str = "https://printer.example/cb";
const USER: (&str, &str) = ("test@example.com", "password");
const ADMIN: (&str, &str) = ("admin@example.com", "password");

fn form(site: &Site, cookie: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: Vec<String> = fields
        .iter()
        .map(|(n, v)| format!("{n}={}", crate::support::demo_client::form_encode(v)))
        .collect();
    let reply = site.send(
        "POST",
        path,
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.join("&").as_bytes(),
    );
    (reply.status, reply.text())
}

/// The CSRF token of the page at `path` for the signed-in `cookie`.
fn csrf(site: &Site, cookie: &str, path: &str) -> String {
    let page = site.send("GET", path, &[("Cookie", cookie)], b"");
    assert_eq!(page.status, 200, "{path}: {}", page.text());
    hidden_field(&page.text(), "csrf_token").expect("a CSRF token")
}

/// The text of the element with `id` in `html`.
fn element(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Registers an app that may read the user's profile (`/api/whoami`) as
/// the signed-in `cookie`: its credentials and state.
fn register(site: &Site, cookie: &str, name: &str) -> (Credentials, String) {
    let (app, html) = register_with_grants(site, cookie, name, &["profile.read"]);
    (app, element(&html, "consumer-state"))
}

/// Posts the registration form for an app that may ask for `grants`: the
/// answer's status and page.
fn post_registration(site: &Site, cookie: &str, name: &str, grants: &[&str]) -> (u16, String) {
    let token = csrf(site, cookie, "/developers");
    let mut fields = vec![
        ("name", name),
        ("callback", CALLBACK),
        ("csrf_token", &token),
    ];
    fields.extend(grants.iter().map(|grant| ("grant", *grant)));
    form(site, cookie, "/developers", &fields)
}

/// Registers an app that may ask for `grants`:
/// its credentials and the page that shows them.
fn register_with_grants(
    site: &Site,
    cookie: &str,
    name: &str,
    grants: &[&str],
) -> (Credentials, String) {
    let (status, html) = post_registration(site, cookie, name, grants);
    assert_eq!(status, 200, "{html}");
    let app = Credentials::new(
        &element(&html, "consumer-key"),
        &element(&html, "consumer-secret"),
    );
    (app, html)
}

fn moderate(site: &Site, admin: &str, key: &str, action: &str) -> u16 {
    let token = csrf(site, admin, "/admin/consumers");
    let fields = [
        ("consumer_key", key),
        ("action", action),
        ("csrf_token", &token),
    ];
    form(site, admin, "/admin/consumers", &fields).0
}

#[test]
fn apps_are_registered_reviewed_rotated_and_deleted_on_the_demo() {
    let demo = DemoProcess::spawn(&["--store", "memory"]);
    let site = Site::new(demo.addr, &format!("http://{}", demo.addr));
    let user = site.sign_in(USER.0, USER.1);
    let admin = site.sign_in(ADMIN.0, ADMIN.1);

    let (app, state) = register(&site, &user, "Photo printer");
    assert_eq!(state, "proposed");
    assert_eq!(app.secret.len(), 32);
    let page = site.send("GET", "/developers", &[("Cookie", &user)], b"");
    assert!(page.text().contains(&app.key), "listed for its owner");
    assert!(
        !page.text().contains(&app.secret),
        "the secret is shown once"
    );
    let refused = site.request_token(&app, CALLBACK).expect_err("proposed");
    assert_eq!(
        (refused.status, oauth_problem(&refused).as_deref()),
        (401, Some("signature_invalid"))
    );

    // Only an administrator reviews apps; a form without its token is refused.
    let forbidden = site.send("GET", "/admin/consumers", &[("Cookie", &user)], b"");
    assert_eq!(forbidden.status, 403);
    let (status, _) = form(
        &site,
        &admin,
        "/admin/consumers",
        &[("consumer_key", &app.key), ("action", "approve")],
    );
    assert_eq!(status, 403);
    assert_eq!(moderate(&site, &admin, &app.key, "approve"), 303);
    let listing = site.send("GET", "/admin/consumers", &[("Cookie", &admin)], b"");
    assert!(
        listing.text().contains("approved (1)"),
        "{}",
        listing.text()
    );

    let token = site.obtain_access_token(&app, CALLBACK, USER.0, USER.1);
    assert_eq!(site.whoami(&app, &token).status, 200);
    assert_eq!(moderate(&site, &admin, &app.key, "disable"), 303);
    assert_eq!(site.whoami(&app, &token).status, 401);
    assert_eq!(moderate(&site, &admin, &app.key, "enable"), 303);
    assert_eq!(site.whoami(&app, &token).status, 200);
    assert_eq!(moderate(&site, &admin, &app.key, "reject"), 400);

    // Another user can neither rotate nor delete it.
    let other = site.sign_in(ADMIN.0, ADMIN.1);
    for path in ["/developers/rotate", "/developers/delete"] {
        let token = csrf(&site, &other, "/developers");
        let (status, _) = form(
            &site,
            &other,
            path,
            &[("consumer_key", &app.key), ("csrf_token", &token)],
        );
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(site.whoami(&app, &token).status, 200);

    // The owner rotates: the old secret stops working, the new one works.
    let csrf_token = csrf(&site, &user, "/developers");
    let fields = [
        ("consumer_key", app.key.as_str()),
        ("csrf_token", &csrf_token),
    ];
    // The first click asks how long the old secret may keep working.
    let (status, html) = form(&site, &user, "/developers/rotate", &fields);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("name=\"grace\""), "{html}");
    assert_eq!(site.whoami(&app, &token).status, 200, "nothing changed yet");
    let now = [
        ("consumer_key", app.key.as_str()),
        ("csrf_token", &csrf_token),
        ("grace", "0"),
    ];
    let (status, html) = form(&site, &user, "/developers/rotate", &now);
    assert_eq!(status, 200, "{html}");
    let rotated = Credentials::new(&app.key, &element(&html, "consumer-secret"));
    assert_ne!(rotated.secret, app.secret);
    assert_eq!(site.whoami(&app, &token).status, 401);
    assert_eq!(site.whoami(&rotated, &token).status, 200);

    // The owner deletes it, once confirmed: its token dies with it.
    let (status, html) = form(&site, &user, "/developers/delete", &fields);
    assert_eq!(status, 200);
    assert!(html.contains("Its 1 active access token(s) stop"), "{html}");
    assert_eq!(
        site.whoami(&rotated, &token).status,
        200,
        "nothing changed yet"
    );
    let confirmed = [
        ("consumer_key", app.key.as_str()),
        ("csrf_token", &csrf_token),
        ("confirm", "yes"),
    ];
    let (status, _) = form(&site, &user, "/developers/delete", &confirmed);
    assert_eq!(status, 303);
    assert_eq!(site.whoami(&rotated, &token).status, 401);
    let page = site.send("GET", "/developers", &[("Cookie", &user)], b"");
    assert!(!page.text().contains(&app.key));

    // Bad input is refused with its reason.
    let csrf_token = csrf(&site, &user, "/developers");
    let (status, html) = form(
        &site,
        &user,
        "/developers",
        &[
            ("name", "App"),
            ("callback", "javascript:alert(1)"),
            ("grant", "profile.read"),
            ("csrf_token", &csrf_token),
        ],
    );
    assert_eq!(status, 400);
    assert!(html.contains("invalid callback prefix"), "{html}");
    demo.stop();
}

#[test]
fn auto_approve_starts_apps_approved() {
    let demo = DemoProcess::spawn(&["--store", "memory", "--auto-approve"]);
    let site = Site::new(demo.addr, &format!("http://{}", demo.addr));
    let user = site.sign_in(USER.0, USER.1);
    let (app, state) = register(&site, &user, "Trusted");
    assert_eq!(state, "approved");
    let token = site.obtain_access_token(&app, CALLBACK, USER.0, USER.1);
    assert_eq!(site.whoami(&app, &token).status, 200);
    demo.stop();
}

/// The page's `li.grant` items: (name, sentence).
fn listed_grants(html: &str) -> Vec<(String, String)> {
    html.split("<li class=\"grant\" data-grant=\"")
        .skip(1)
        .map(|item| {
            let (name, rest) = item.split_once("\">").expect("a grant item");
            let sentence = rest.split('<').next().unwrap_or_default();
            (name.to_owned(), sentence.to_owned())
        })
        .collect()
}

#[test]
fn apps_choose_their_grants_when_registered_and_the_admin_sees_them() {
    let demo = DemoProcess::spawn(&["--store", "memory", "--auto-approve"]);
    let site = Site::new(demo.addr, &format!("http://{}", demo.addr));
    let user = site.sign_in(USER.0, USER.1);
    let form_page = site.send("GET", "/developers", &[("Cookie", &user)], b"");
    for choice in [
        "profile.read",
        "photos.read",
        "photos.write",
        "admin",
        "identity",
    ] {
        let checkbox = format!("name=\"grant\" value=\"{choice}\"");
        assert!(form_page.text().contains(&checkbox), "{choice}");
    }

    let (app, html) = register_with_grants(&site, &user, "Album", &["photos.read", "profile.read"]);
    let expected = [
        ("photos.read", "See your photos"),
        (
            "profile.read",
            "See your email address and whether you are an administrator",
        ),
    ]
    .map(|(name, sentence)| (name.to_owned(), sentence.to_owned()));
    assert_eq!(listed_grants(&html), expected);
    let listing = site.send("GET", "/developers", &[("Cookie", &user)], b"");
    assert_eq!(listed_grants(&listing.text()), expected);
    let admin = site.sign_in(ADMIN.0, ADMIN.1);
    let review = site.send("GET", "/admin/consumers", &[("Cookie", &admin)], b"");
    assert_eq!(listed_grants(&review.text()), expected);

    // Without a scope, its token has every grant it was registered for,
    // and nothing else.
    let token = site.obtain_access_token(&app, CALLBACK, USER.0, USER.1);
    let whoami = site.whoami(&app, &token);
    assert_eq!(whoami.status, 200, "{}", whoami.text());
    assert_eq!(
        whoami.json()["grants"],
        serde_json::json!(["identity", "photos.read", "profile.read"])
    );
    let add = site.call(&app, &token, "POST", "/api/photos", Some("title=x"));
    assert_problem(&add, 403, "permission_denied");

    // None checked: refused, never the whole account by omission.
    let (status, html) = post_registration(&site, &user, "Everything", &[]);
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("none chosen"), "{html}");

    // Sign in only: its consent page says it will only learn who you are.
    let (sign_in, _) = register_with_grants(&site, &user, "Badge", &["identity"]);
    let temporary = site
        .request_token(&sign_in, CALLBACK)
        .expect("a request token");
    let target = format!("/_ah/OAuthAuthenticate?oauth_token={}", temporary.key);
    let consent = site.send("GET", &target, &[("Cookie", &user)], b"");
    assert_eq!(consent.status, 200, "{}", consent.text());
    assert!(consent.text().contains("will only learn who you are"));

    // Refused: sign-in only with more, and a grant the site does not declare.
    let (status, html) = post_registration(&site, &user, "Both", &["identity", "photos.read"]);
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("cannot be combined"), "{html}");
    let (status, html) = post_registration(&site, &user, "Unknown", &["photos.delete"]);
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("does not declare"), "{html}");
    let listing = site.send("GET", "/developers", &[("Cookie", &user)], b"");
    assert!(!listing.text().contains("Both") && !listing.text().contains("Unknown"));
    demo.stop();
}

#[test]
fn two_instances_on_postgres_share_apps() {
    let Some(pg) = PgSchema::create() else { return };
    const ORIGIN: &str = "http://provider.test";
    let args = ["--store", pg.url.as_str(), "--public-origin", ORIGIN];
    let (a, b) = (DemoProcess::spawn(&args), DemoProcess::spawn(&args));
    let (site_a, site_b) = (Site::new(a.addr, ORIGIN), Site::new(b.addr, ORIGIN));
    let user = site_a.sign_in(USER.0, USER.1);
    let admin_a = site_a.sign_in(ADMIN.0, ADMIN.1);
    let admin_b = site_b.sign_in(ADMIN.0, ADMIN.1);
    let (app, _) = register(&site_a, &user, "Shared");
    assert_eq!(moderate(&site_a, &admin_a, &app.key, "approve"), 303);
    // Registered and approved on A: the whole flow on B.
    let token = site_b.obtain_access_token(&app, CALLBACK, USER.0, USER.1);
    assert_eq!(site_a.whoami(&app, &token).status, 200);
    // Disabled on B: refused on A once A's cached copy is older than 2 s.
    assert_eq!(moderate(&site_b, &admin_b, &app.key, "disable"), 303);
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    assert_eq!(site_a.whoami(&app, &token).status, 401);
    assert_eq!(moderate(&site_b, &admin_b, &app.key, "enable"), 303);
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    assert_eq!(site_a.whoami(&app, &token).status, 200);
    // Deleted on A: its token fails on B at once.
    let csrf_token = csrf(&site_a, &user, "/developers");
    let fields = [
        ("consumer_key", app.key.as_str()),
        ("csrf_token", &csrf_token),
        ("confirm", "yes"),
    ];
    assert_eq!(form(&site_a, &user, "/developers/delete", &fields).0, 303);
    let refused = site_b.whoami(&app, &token);
    assert_eq!(refused.status, 401, "{}", refused.text());
    a.stop();
    b.stop();
}

/// The base string in the first `class="base-string"` element of `html`.
fn shown_base_string(html: &str) -> String {
    let start = html.find("class=\"base-string\">").expect("a base string") + 20;
    let shown = html[start..].split('<').next().unwrap_or_default();
    shown.replace("&amp;", "&")
}

#[test]
fn an_apps_owner_sees_its_refused_requests_and_what_differs() {
    let demo = DemoProcess::spawn(&["--store", "memory", "--auto-approve"]);
    let site = Site::new(demo.addr, &format!("http://{}", demo.addr));
    let user = site.sign_in(USER.0, USER.1);
    let (app, _) = register(&site, &user, "Signer");
    let page = |cookie: &str, extra: &str| {
        let target = format!("/developers/refusals?consumer_key={}{extra}", app.key);
        site.send("GET", &target, &[("Cookie", cookie)], b"")
    };
    assert!(page(&user, "").text().contains("id=\"no-refusals\""));

    // The developer's client signs with a wrong secret.
    let wrong = Credentials::new(&app.key, "not-the-secret");
    let refused = site
        .request_token(&wrong, CALLBACK)
        .expect_err("a bad signature");
    assert_eq!(refused.status, 401);
    let html = page(&user, "").text();
    let base_string = shown_base_string(&html);
    assert!(
        base_string.starts_with("POST&http%3A%2F%2F127.0.0.1"),
        "{base_string}"
    );
    assert!(!html.contains("not-the-secret"));

    // Pasting the base string the client signed names the first difference.
    let client = base_string.replacen("POST", "GET", 1);
    let extra = format!(
        "&base_string={}",
        crate::support::demo_client::form_encode(&client)
    );
    let compared = page(&user, &extra).text();
    assert!(
        compared.contains("First difference: the method"),
        "{compared}"
    );
    assert!(compared.contains("<mark>"), "{compared}");
    let same = format!(
        "&base_string={}",
        crate::support::demo_client::form_encode(&base_string)
    );
    assert!(page(&user, &same).text().contains("check the secrets"));

    // Nobody else sees them.
    let other = site.sign_in(ADMIN.0, ADMIN.1);
    assert_eq!(page(&other, "").status, 404);
    let anonymous = site.send(
        "GET",
        &format!("/developers/refusals?consumer_key={}", app.key),
        &[],
        b"",
    );
    assert_eq!(anonymous.status, 303);
    demo.stop();
}
