//! The demo provider (`examples/provider`) as a real process: it starts,
//! answers its home page and refuses a foreign Host.

use crate::support::demo_process::DemoProcess;
use crate::support::http::http;

#[test]
fn demo_process_starts_and_answers_its_home_page() {
    let demo = DemoProcess::spawn(&["--store", "memory"]);
    let host = demo.addr.to_string();
    let home = http(demo.addr, "GET", &host, "/", &[], b"").expect("GET /");
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(home.text().contains("/_ah/OAuthGetRequestToken"));
    assert!(
        home.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(demo.base_url().starts_with("http://127.0.0.1:"));
    // A Host that is none of the public origins is refused.
    let foreign =
        http(demo.addr, "GET", "evil.example", "/api/whoami", &[], b"").expect("GET whoami");
    assert_ne!(foreign.status, 200);
    let log = demo.log();
    demo.stop();
    assert!(!log.contains("panicked"), "{log}");
}
