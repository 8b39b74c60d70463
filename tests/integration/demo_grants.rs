//! Grants in the demo, over HTTP against its process: `--consumer
//! KEY:SECRET:NAME:GRANTS`, the photo API's routes each behind its grant
//! (403 `permission_denied` before anything changes), a token of the whole
//! app passing them all, the photo API's own refusals, and what the account
//! page says each app may do.

use crate::support::demo_client::{Credentials, Site, assert_problem};
use crate::support::demo_process::{DemoProcess, demo_binary};
use crate::support::http::HttpResponse;

const CALLBACK: &str = "http://client.test/done";
const USER: (&str, &str) = ("test@example.com", "password");
const ADMIN: (&str, &str) = ("admin@example.com", "password");
/// Registered for the photo grants and the profile.
const PHOTOS: (&str, &str) = ("photos-key", "photos-secret");
/// Registered without grants: the whole app.
const WHOLE: (&str, &str) = ("whole-key", "whole-secret");

/// A demo with [`PHOTOS`] and [`WHOLE`] registered.
fn demo() -> (DemoProcess, Site) {
    let photos = format!(
        "{}:{}:Photo App:photos.read,photos.write,profile.read",
        PHOTOS.0, PHOTOS.1
    );
    let whole = format!("{}:{}:Whole App", WHOLE.0, WHOLE.1);
    let demo = DemoProcess::spawn(&[
        "--store",
        "memory",
        "--consumer",
        &photos,
        "--consumer",
        &whole,
        "--callback-prefix",
        "http://client.test/",
    ]);
    let site = Site::new(demo.addr, &demo.base_url());
    (demo, site)
}

/// A consumer and one of its access tokens, calling the demo.
struct App<'a> {
    site: &'a Site,
    consumer: Credentials,
    token: Credentials,
}

impl<'a> App<'a> {
    /// `consumer`'s token for `user`, asking for `scope` when given.
    fn authorized(
        site: &'a Site,
        (key, secret): (&str, &str),
        scope: Option<&str>,
        (email, password): (&str, &str),
    ) -> Self {
        let consumer = Credentials::new(key, secret);
        let token = site.obtain_scoped_access_token(&consumer, CALLBACK, scope, email, password);
        Self {
            site,
            consumer,
            token,
        }
    }

    fn call(&self, method: &str, target: &str, form: Option<&str>) -> HttpResponse {
        self.site
            .call(&self.consumer, &self.token, method, target, form)
    }

    fn list(&self) -> HttpResponse {
        self.call("GET", "/api/photos", None)
    }

    /// The titles `GET /api/photos` lists (it must answer 200).
    fn titles(&self) -> Vec<String> {
        let listed = self.list();
        assert_eq!(listed.status, 200, "{}", listed.text());
        let photos = listed.json()["photos"].as_array().expect("photos").clone();
        photos
            .iter()
            .map(|p| p["title"].as_str().expect("a title").to_owned())
            .collect()
    }

    fn add(&self, title: &str) -> HttpResponse {
        let form = format!("title={}", crate::support::demo_client::form_encode(title));
        self.call("POST", "/api/photos", Some(&form))
    }

    /// Adds a photo (it must answer 201); its id.
    fn added(&self, title: &str) -> u64 {
        let added = self.add(title);
        assert_eq!(added.status, 201, "{}", added.text());
        let id = added.json()["id"].as_u64().expect("an id");
        assert_eq!(
            added.header("location"),
            Some(&*format!("/api/photos/{id}"))
        );
        assert_eq!(added.json()["title"], title.trim());
        id
    }

    fn delete(&self, id: u64) -> HttpResponse {
        self.call("DELETE", &format!("/api/photos/{id}"), None)
    }
}

/// Asserts `reply` is the grant refusal: 403 `permission_denied`, naming
/// `grant`.
#[track_caller]
fn assert_not_granted(reply: &HttpResponse, grant: &str) {
    assert_problem(reply, 403, "permission_denied");
    assert!(reply.text().contains(grant), "{}", reply.text());
}

#[test]
fn a_photos_read_token_lists_photos_and_is_refused_adding_and_deleting_them() {
    let (demo, site) = demo();
    let writer = App::authorized(&site, PHOTOS, Some("photos.write"), USER);
    let id = writer.added("Lake at dawn");
    let reader = App::authorized(&site, PHOTOS, Some("photos.read"), USER);
    assert_eq!(reader.titles(), ["Lake at dawn"]);

    assert_not_granted(&reader.add("Sneaked in"), "photos.write");
    assert_not_granted(&reader.delete(id), "photos.write");
    // The profile was not asked for either.
    assert_not_granted(&reader.call("GET", "/api/whoami", None), "profile.read");
    // Nothing changed.
    assert_eq!(reader.titles(), ["Lake at dawn"]);
    assert!(!demo.log().contains("panicked"));
}

#[test]
fn a_photos_write_token_adds_and_deletes_but_does_not_list() {
    let (_demo, site) = demo();
    let writer = App::authorized(&site, PHOTOS, Some("photos.write"), USER);
    let first = writer.added("Harbour");
    writer.added("  Market  ");
    assert_not_granted(&writer.list(), "photos.read");
    let deleted = writer.delete(first);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    // Gone: a second delete finds nothing.
    assert_eq!(writer.delete(first).status, 404);

    let reader = App::authorized(&site, PHOTOS, Some("photos.read,profile.read"), USER);
    assert_eq!(reader.titles(), ["Market"]);
    let whoami = reader.call("GET", "/api/whoami", None);
    assert_eq!(whoami.status, 200, "{}", whoami.text());
    assert_eq!(
        whoami.json()["grants"],
        serde_json::json!(["identity", "photos.read", "profile.read"])
    );
}

#[test]
fn a_whole_app_token_does_everything_and_only_to_its_own_users_photos() {
    let (_demo, site) = demo();
    let whole = App::authorized(&site, WHOLE, None, USER);
    let whoami = whole.call("GET", "/api/whoami", None);
    assert_eq!(whoami.status, 200, "{}", whoami.text());
    assert_eq!(whoami.json()["grants"], serde_json::Value::Null);
    let id = whole.added("Everything");
    assert_eq!(whole.titles(), ["Everything"]);
    // Past the grant, /api/admin still wants an administrator.
    let admin = whole.call("GET", "/api/admin", None);
    assert_eq!(admin.status, 403, "{}", admin.text());
    assert_eq!(admin.json()["error"], "admin_required");

    // Another user's app sees none of it and cannot delete it.
    let other = App::authorized(&site, WHOLE, None, ADMIN);
    assert!(other.titles().is_empty());
    assert_eq!(other.delete(id).status, 404);
    assert_eq!(other.call("GET", "/api/admin", None).status, 200);
    assert_eq!(whole.titles(), ["Everything"]);
    let deleted = whole.delete(id);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert!(whole.titles().is_empty());
}

#[test]
fn the_photo_api_refuses_bad_titles_and_unknown_photos() {
    let (_demo, site) = demo();
    let writer = App::authorized(&site, PHOTOS, Some("photos.write photos.read"), USER);
    let long = "x".repeat(101);
    for (title, error) in [
        ("", "title_required"),
        ("   ", "title_required"),
        (long.as_str(), "title_too_long"),
        ("Cat\u{202e}gpj.exe", "title_has_hidden_characters"),
        ("two\nlines", "title_has_hidden_characters"),
        ("zero\u{200b}width", "title_has_hidden_characters"),
    ] {
        let refused = writer.add(title);
        assert_eq!(refused.status, 400, "{title:?}: {}", refused.text());
        assert_eq!(refused.json()["error"], error, "{title:?}");
    }
    let untitled = writer.call("POST", "/api/photos", Some("name=x"));
    assert_eq!(untitled.json()["error"], "title_required");
    assert_eq!(writer.call("POST", "/api/photos", None).status, 400);
    // 100 characters are fine, and so is any visible script.
    writer.added(&"x".repeat(100));
    writer.added("Zürich — 夜景 🦀");
    assert_eq!(writer.titles().len(), 2);
    // A user keeps at most 100 photos (the demo keeps them in memory).
    for n in 3..=100 {
        writer.added(&format!("Photo {n}"));
    }
    let full = writer.add("One too many");
    assert_eq!(full.status, 409, "{}", full.text());
    assert_eq!(full.json()["error"], "too_many_photos");
    assert_eq!(writer.titles().len(), 100);
    for unknown in ["/api/photos/999", "/api/photos/not-a-number"] {
        let reply = writer.call("DELETE", unknown, None);
        assert_eq!(reply.status, 404, "{unknown}: {}", reply.text());
    }
    // Unsigned: the provider's own refusal, before any grant is looked at.
    let unsigned = site.send("GET", "/api/photos", &[], b"");
    assert_eq!(unsigned.status, 401, "{}", unsigned.text());
}

#[test]
fn scope_may_only_name_the_consumers_grants() {
    let (_demo, site) = demo();
    let photos = Credentials::new(PHOTOS.0, PHOTOS.1);
    let refused = site
        .scoped_request_token(&photos, CALLBACK, Some("photos.read admin"))
        .expect_err("admin is not among its grants");
    assert_problem(&refused, 400, "parameter_rejected");
    assert!(refused.text().contains("admin"), "{}", refused.text());
    // The anonymous consumer may ask for any declared grant.
    let anonymous = App::authorized(
        &site,
        ("anonymous", "anonymous"),
        Some("admin photos.read"),
        ADMIN,
    );
    assert_eq!(anonymous.call("GET", "/api/admin", None).status, 200);
    assert_not_granted(&anonymous.call("GET", "/api/whoami", None), "profile.read");
}

#[test]
fn the_account_page_says_what_each_app_may_do() {
    let (_demo, site) = demo();
    App::authorized(&site, PHOTOS, Some("photos.read"), USER);
    App::authorized(&site, WHOLE, None, USER);
    let cookie = site.sign_in(USER.0, USER.1);
    let account = site.send("GET", "/account", &[("Cookie", &cookie)], b"");
    assert_eq!(account.status, 200);
    let html = account.text();
    let row = |app: &str| {
        let start = html.find(app).unwrap_or_else(|| panic!("{app} in {html}"));
        html[start..html[start..].find("</tr>").expect("its row end") + start].to_owned()
    };
    let photos = row("Photo App");
    assert!(
        photos.contains("<li class=\"grant\" data-grant=\"photos.read\">See your photos</li>"),
        "{photos}"
    );
    assert!(!photos.contains("photos.write"), "{photos}");
    assert!(row("Whole App").contains("Your whole account"));
}

#[test]
fn consumer_flags_take_grants_and_refuse_unknown_ones() {
    let demo = DemoProcess::spawn(&[
        "--store",
        "memory",
        "--consumer",
        "k:s:Name:photos.read",
        "--consumer",
        "signin:s2:Sign-in App:identity",
    ]);
    let log = demo.log_with("grants: identity", std::time::Duration::from_secs(10));
    assert!(log.contains("k (Name; photos.read)"), "{log}");
    assert!(log.contains("signin (Sign-in App; identity)"), "{log}");
    demo.stop();

    for (value, complaint) in [
        ("k:s:Name:photos.raed", "unknown grant \"photos.raed\""),
        ("k:s:Name:photos.read,", "unknown grant \"\""),
        ("k:s:Name:", "unknown grant \"\""),
        ("k:s:Name:photos.read admin", "unknown grant"),
        ("k:s:Name:*", "unknown grant \"*\""),
        ("k", "--consumer takes KEY:SECRET[:NAME[:GRANTS]]"),
    ] {
        let output = std::process::Command::new(demo_binary())
            .args(["--bind", "127.0.0.1:0", "--store", "memory"])
            .args(["--consumer", value])
            .output()
            .expect("run the demo");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{value} must fail");
        assert!(stderr.contains(complaint), "{value}: {stderr}");
    }
}
