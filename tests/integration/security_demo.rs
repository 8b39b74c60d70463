//! The demo provider as an outside tester attacks it (issue 17): forged log
//! lines, login CSRF, password guessing and memory, slow sockets.

use std::time::Duration;

use crate::support::demo_client::{Credentials, Site, form_encode};
use crate::support::demo_process::DemoProcess;
use crate::support::reply::hidden_field;

/// A registered consumer and where it calls back (never reached: the
/// client only reads the redirect).
const CONSUMER: (&str, &str) = ("log-key", "log-secret");
const CALLBACK: &str = "http://127.0.0.1:9/cb";

fn demo(extra: &[&str]) -> (DemoProcess, Site) {
    let registration = format!("{}:{}:Log App", CONSUMER.0, CONSUMER.1);
    let mut args = vec![
        "--store",
        "memory",
        "--consumer",
        &registration,
        "--callback-prefix",
        "http://127.0.0.1:9/",
    ];
    args.extend_from_slice(extra);
    let demo = DemoProcess::spawn(&args);
    let site = Site::new(demo.addr, &demo.base_url());
    (demo, site)
}

/// A timestamp no real log line of this run carries, as the demo writes one.
const FORGED_TIME: &str = "2001-02-03T04:05:06.000007Z";

/// Issue 17, finding 7: a revoke whose `consumer_key` holds a newline, a
/// forged log line and terminal escapes is logged on one line, escaped.
#[test]
fn client_values_cannot_forge_log_lines_or_reach_the_terminal() {
    let (demo, site) = demo(&[]);
    let consumer = Credentials::new(CONSUMER.0, CONSUMER.1);
    site.obtain_access_token(&consumer, CALLBACK, "test@example.com", "password");
    let cookie = site.sign_in("test@example.com", "password");
    let account = site.send("GET", "/account", &[("Cookie", &cookie)], b"");
    let csrf = hidden_field(&account.text(), "csrf_token").expect("the account page's CSRF token");
    let forged = format!(
        "x\n{FORGED_TIME}  INFO issued access token consumer=FORGED host=evil.example\r\n\
         \u{1b}[2J\u{1b}[31mred\u{7}"
    );
    let body = format!(
        "consumer_key={}&csrf_token={}",
        form_encode(&forged),
        form_encode(&csrf)
    );
    let reply = site.send(
        "POST",
        "/account/revoke",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &site.origin),
        ],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 303, "{}", reply.text());
    let log = demo.log_with("access revoked by its user", Duration::from_secs(10));
    demo.stop();
    assert!(
        log.contains("access revoked by its user"),
        "the revoke was not logged:\n{log}"
    );
    for line in log.lines() {
        assert!(
            !line.trim_start().starts_with(FORGED_TIME),
            "a forged log line:\n{log}"
        );
    }
    assert!(
        !log.contains(['\u{1b}', '\u{7}']),
        "raw terminal codes:\n{log}"
    );
    assert!(!log.contains('\r'), "a raw carriage return:\n{log:?}");
    assert!(
        log.contains("consumer=\"x\\n2001-02-03"),
        "not escaped:\n{log}"
    );
}
