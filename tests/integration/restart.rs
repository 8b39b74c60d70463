//! The demo provider keeps its tokens across a restart: on its default store
//! (`data/provider.sqlite3` under its working directory, here a temp dir)
//! and on PostgreSQL. An access token obtained before the restart works
//! after it, a request token approved before it can be exchanged after it,
//! and a request sent before it cannot be replayed after it.
//!
//! Both runs serve the same `--public-origin`: tokens are bound to the
//! origin they were obtained on, and a restarted process gets a new port.

use crate::support::demo_client::{Site, oauth_problem};
use crate::support::demo_process::DemoProcess;
use crate::support::instances::{CALLBACK, ORIGIN, consumer, instance_args, signed_whoami};
use crate::support::services::PgSchema;
use crate::support::temp::{TempDir, temp_db_path};

const USER: &str = "admin@example.com";
const PASSWORD: &str = "password";

/// Obtains tokens on a first process, stops it, starts a second with the
/// same arguments, and checks what it remembers.
fn tokens_survive_a_restart(start: impl Fn() -> DemoProcess) {
    let consumer = consumer();
    let first = start();
    let site = Site::new(first.addr, ORIGIN);
    let token = site.obtain_access_token(&consumer, CALLBACK, USER, PASSWORD);
    // Approved but not exchanged yet when the process stops.
    let cookie = site.sign_in(USER, PASSWORD);
    let pending = site
        .request_token(&consumer, CALLBACK)
        .expect("request token");
    let verifier = site.approve(&cookie, &pending.key);
    // Used once before the restart.
    let authorization = signed_whoami(&site, &token);
    let headers = [("Authorization", authorization.as_str())];
    let used = site.send("GET", "/api/whoami", &headers, b"");
    assert_eq!(used.status, 200, "{}", used.text());
    first.stop();

    let second = start();
    let site = Site::new(second.addr, ORIGIN);
    let whoami = site.whoami(&consumer, &token);
    assert_eq!(whoami.status, 200, "after the restart: {}", whoami.text());
    let json: serde_json::Value = serde_json::from_slice(&whoami.body).expect("JSON");
    assert_eq!(json["email"], USER);
    assert_eq!(json["admin"], true);

    let exchanged = site
        .access_token(&consumer, &pending, &verifier)
        .expect("a request token approved before the restart is exchanged after it");
    assert_eq!(site.whoami(&consumer, &exchanged).status, 200);

    let replayed = site.send("GET", "/api/whoami", &headers, b"");
    assert_eq!(replayed.status, 401, "{}", replayed.text());
    assert_eq!(oauth_problem(&replayed).as_deref(), Some("nonce_used"));

    let log = second.log();
    second.stop();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn demo_keeps_tokens_across_a_restart_on_its_default_store() {
    let db = temp_db_path("default-store");
    let _cleanup = TempDir::of(&db);
    let dir = db.parent().expect("the temp dir").to_owned();
    std::fs::create_dir_all(&dir).expect("create the temp dir");
    // No --store: the default, `data/provider.sqlite3` in the working directory.
    let args = [
        "--public-origin",
        ORIGIN,
        "--consumer",
        "lb-key:lb-secret:Restarted",
        "--callback-prefix",
        CALLBACK,
    ];
    tokens_survive_a_restart(|| DemoProcess::spawn_in(&dir, &args));
    assert!(
        dir.join("data/provider.sqlite3").is_file(),
        "the default store is data/provider.sqlite3"
    );
}

#[test]
fn demo_keeps_tokens_across_a_restart_on_postgres() {
    let Some(pg) = PgSchema::create() else { return };
    let args = instance_args(&pg.url, None);
    tokens_survive_a_restart(|| DemoProcess::spawn(&args));
    assert_eq!(pg.count("oauth1_access_tokens"), 2);
}
