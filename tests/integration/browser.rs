//! The authorize step in a real browser: Debian's chromium, driven through
//! chromedriver with fantoccini, against the demo process. The consumer's
//! side is [`Site`] (signed with our `Signer`); the callback is a listener in
//! the test.
//!
//! Needs `OAUTH1_TEST_CHROMEDRIVER` and `OAUTH1_TEST_CHROMIUM` (`.ci/browser.sh`
//! sets both). Each test starts its own chromedriver, which binds a loopback
//! port of its own choosing (`--port=0`) and says which, in its own process
//! group, and kills the group when it ends, pass or fail; the tests take
//! turns (one browser at a time on a small machine).
//! Every wait is for an element or a callback, bounded by [`TIMEOUT`].

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;

use crate::support::demo_client::{
    Credentials, Site, assert_problem, credentials_in, demo_with_consumer_and, form_encode,
    oauth_problem,
};
use crate::support::demo_process::DemoProcess;
use crate::support::env::service_env;
use crate::support::reply::{hidden_field, param as query_param};
use crate::support::temp::TempDir;

/// The longest any one wait may take (a page, an element, the callback).
const TIMEOUT: Duration = Duration::from_secs(30);
/// How the registered consumer is called on the consent page.
const APP_NAME: &str = "Browser Test App";
/// What the anonymous consumer calls itself.
const ANONYMOUS_NAME: &str = "Sketchy Photo App";
/// The endpoints the browser is sent to.
const AUTHORIZE: &str = "/_ah/OAuthAuthorizeToken";
const AUTHENTICATE: &str = "/_ah/OAuthAuthenticate";

/// One browser at a time: chromium is heavy for a shared two-core machine.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// chromedriver, in its own process group (with the chromium it starts);
/// the group is killed on drop.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// Starts chromedriver on a port it binds itself (`--port=0`) and reads
    /// the port from the line that says it started. (A port chosen here and
    /// passed in would be free only until some other test bound port 0.)
    fn start(binary: &str) -> Self {
        // On a loaded machine chromedriver now and then exits before it
        // says its port; a second start has always worked.
        for _ in 1..3 {
            if let Ok(driver) = std::panic::catch_unwind(|| Self::start_once(binary)) {
                return driver;
            }
        }
        Self::start_once(binary)
    }

    fn start_once(binary: &str) -> Self {
        let mut child = Command::new(binary)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut said = String::new();
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let port = lines.find_map(|line| {
                said.push_str(&line);
                said.push('\n');
                started_on(&line)
            });
            let _ = tx.send(port.filter(|&port| port != 0).ok_or(said));
            lines.for_each(drop);
        });
        // Built before waiting, so that a failed start still kills the group.
        let mut driver = Self { child, port: 0 };
        match rx.recv_timeout(TIMEOUT) {
            Ok(Ok(port)) => {
                driver.port = port;
                driver
            }
            Ok(Err(said)) => panic!(
                "chromedriver --port=0 did not say which port it listens on \
                 (\"started successfully on port N\", N not 0); it said:\n{said}"
            ),
            Err(e) => panic!("chromedriver did not start within {TIMEOUT:?}: {e}"),
        }
    }
}

/// The port in chromedriver's start-up line, "ChromeDriver was started
/// successfully on port 40123."
fn started_on(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("started successfully on port ")?;
    rest.trim().trim_end_matches('.').parse().ok()
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any chromium it left behind.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// A local listener standing in for the consumer's callback URL: records
/// the `Host` and the request target of each request to `/callback`.
struct CallbackListener {
    addr: SocketAddr,
    targets: mpsc::Receiver<String>,
}

impl CallbackListener {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a callback listener");
        let addr = listener.local_addr().expect("its address");
        let (tx, targets) = mpsc::channel();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                let _ = stream.set_read_timeout(Some(TIMEOUT));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let host = head
                    .lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
                    })
                    .map_or("", |(_, v)| v.trim())
                    .to_owned();
                let page = "<!doctype html><title>Back in the app</title><h1>Back in the app</h1>";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{page}",
                    page.len()
                );
                if target.starts_with("/callback")
                    && tx.send(format!("http://{host}{target}")).is_err()
                {
                    return;
                }
            }
        });
        Self { addr, targets }
    }

    /// The prefix the consumer registers.
    fn prefix(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The callback URL the consumer sends.
    fn url(&self) -> String {
        format!("http://{}/callback", self.addr)
    }

    /// The next callback the browser was sent to, as an absolute URL with
    /// the host the browser named in `Host`.
    fn next(&self) -> String {
        self.targets
            .recv_timeout(TIMEOUT)
            .expect("the browser to reach the callback")
    }
}

/// What a browser test works with.
struct Ctx {
    browser: Client,
    site: Site,
    demo: DemoProcess,
    callback: CallbackListener,
    consumer: Credentials,
}

/// Runs `test` with a demo process, a callback listener and a fresh
/// chromium; skips without chromedriver and chromium.
fn browser_test(test: impl AsyncFnOnce(&Ctx)) {
    browser_test_with(&[], test);
}

/// [`browser_test`] with more command-line `args` for the demo (their
/// consumers may call back to the listener too).
fn browser_test_with(args: &[&str], test: impl AsyncFnOnce(&Ctx)) {
    let (Some(chromedriver), Some(chromium)) = (
        service_env("OAUTH1_TEST_CHROMEDRIVER"),
        service_env("OAUTH1_TEST_CHROMIUM"),
    ) else {
        return;
    };
    let callback = CallbackListener::start();
    let consumer = Credentials::new("browser-key", "browser-secret");
    let demo = demo_with_consumer_and(&consumer, APP_NAME, &callback.prefix(), args);
    let site = Site::new(demo.addr, &demo.base_url());
    // The demos start side by side; the browsers take turns.
    let _turn = ONE_BROWSER.lock().unwrap_or_else(PoisonError::into_inner);
    // Declared before the driver, so removed after chromium is gone.
    let profile = TempDir::new("chromium-profile");
    let driver = ChromeDriver::start(&chromedriver);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        // Starting chromium is the slowest step on a busy machine.
        let starting = connect(driver.port, &chromium, &profile.0);
        let browser = tokio::time::timeout(2 * TIMEOUT, starting)
            .await
            .expect("chromium to start within the timeout");
        let ctx = Ctx {
            browser,
            site,
            demo,
            callback,
            consumer,
        };
        test(&ctx).await;
        let _ = tokio::time::timeout(TIMEOUT, ctx.browser.close()).await;
    });
}

/// A WebDriver session on a new headless chromium with an empty profile.
async fn connect(port: u16, chromium: &str, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=900,1000",
        // Every `*.test` host is this machine, where the callback listens;
        // plain http stays plain http (no HTTPS upgrade attempt first).
        "--host-resolver-rules=MAP *.test 127.0.0.1, MAP *.test. 127.0.0.1, MAP localhost 127.0.0.1",
        "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
    ]
    .map(str::to_owned)
    .into_iter()
    .chain([format!("--user-data-dir={}", profile.display())]);
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args.collect::<Vec<_>>() },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("an object")
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(TIMEOUT),
            Some(TIMEOUT),
            None,
        ))
        .await
        .expect("set the timeouts");
    client
}

impl Ctx {
    /// The element `css`, once it is on the page.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.browser
            .wait()
            .at_most(TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// The element at `xpath`, once it is on the page.
    async fn xpath(&self, xpath: &str) -> fantoccini::elements::Element {
        self.browser
            .wait()
            .at_most(TIMEOUT)
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("waiting for {xpath}: {e}"))
    }

    /// The page's visible text once an `h1` containing `heading` is shown.
    async fn page_with_heading(&self, heading: &str) -> String {
        self.xpath(&format!("//h1[contains(., '{heading}')]")).await;
        self.text("main").await
    }

    async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.expect("its text")
    }

    async fn click(&self, css: &str) {
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Temporary credentials for the registered consumer, calling back to
    /// the listener.
    fn request_token(&self) -> Credentials {
        self.site
            .request_token(&self.consumer, &self.callback.url())
            .unwrap_or_else(|r| panic!("request token: {} {}", r.status, r.text()))
    }

    /// Opens the authorize page for `token`; when the browser is not signed
    /// in yet, signs in on the login page it is sent to. Returns once the
    /// consent page shows.
    async fn open_consent(&self, token: &str) {
        self.open_consent_at(AUTHORIZE, token).await;
    }

    /// [`Ctx::open_consent`] at `endpoint` (the authorize or the
    /// authenticate endpoint).
    async fn open_consent_at(&self, endpoint: &str, token: &str) {
        let url = self
            .site
            .url(&format!("{endpoint}?oauth_token={}", form_encode(token)));
        self.browser
            .goto(&url)
            .await
            .expect("open the authorize URL");
        let login_or_consent = self
            .browser
            .wait()
            .at_most(TIMEOUT)
            .for_element(Locator::Css("#email, button[value=allow]"))
            .await
            .expect("the login or the consent page");
        if login_or_consent.attr("id").await.expect("id").as_deref() == Some("email") {
            login_or_consent
                .send_keys("test@example.com")
                .await
                .expect("type the email");
            self.element("#password")
                .await
                .send_keys("password")
                .await
                .expect("type the password");
            self.click("button[type=submit]").await;
        }
        self.element("button[value=allow]").await;
    }

    /// Temporary credentials for `anonymous`, calling itself `name`.
    fn anonymous_request_token(&self, anonymous: &Credentials, name: &str) -> Credentials {
        self.anonymous_request_token_to(anonymous, name, &self.callback.url())
    }

    /// [`Ctx::anonymous_request_token`] calling back to `callback`.
    fn anonymous_request_token_to(
        &self,
        anonymous: &Credentials,
        name: &str,
        callback: &str,
    ) -> Credentials {
        let signer = Signer::new(SignatureMethod::HmacSha1, &anonymous.key, &anonymous.secret)
            .callback(callback);
        let target = format!(
            "/_ah/OAuthGetRequestToken?xoauth_displayname={}",
            form_encode(name)
        );
        credentials_in(self.site.signed(&signer, "POST", &target, None))
            .unwrap_or_else(|r| panic!("request token: {} {}", r.status, r.text()))
    }

    /// Asserts the page does not scroll sideways, the card is inside the
    /// window, and nothing sticks out of the card's content box (into the
    /// padding or beyond).
    async fn assert_fits(&self, what: &str) {
        let overflow = self
            .browser
            .execute(
                "const card = document.querySelector('main'); \
                 const box = card.getBoundingClientRect(); \
                 const edge = box.right - parseFloat(getComputedStyle(card).paddingRight); \
                 const page = document.documentElement; \
                 let worst = Math.max(0, -box.left, box.right - page.clientWidth, \
                     page.scrollWidth - page.clientWidth); \
                 let culprit = worst > 0 ? 'the card, out of the window' : ''; \
                 for (const e of card.querySelectorAll('*')) { \
                     const out = e.getBoundingClientRect().right - edge; \
                     if (out > worst) { worst = out; culprit = e.outerHTML.slice(0, 120); } \
                 } \
                 return [worst, culprit];",
                Vec::new(),
            )
            .await
            .expect("the card's overflow");
        let pixels = overflow[0].as_f64().expect("a number");
        assert!(
            pixels < 1.0,
            "in {what}, {pixels} px stick out of the card: {}",
            overflow[1]
        );
    }

    /// Saves a screenshot as `target/NAME.png`; its path.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.browser.screenshot().await.expect("a screenshot");
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target dir")
            .join(format!("{name}.png"));
        std::fs::write(&target, png).expect("write the screenshot");
        target
    }

    /// Clicks Allow on the consent page for `temporary`; the callback must
    /// get its verifier, and the exchange must work: token credentials.
    async fn allow(&self, consumer: &Credentials, temporary: &Credentials) -> Credentials {
        self.click("button[value=allow]").await;
        let callback = self.callback.next();
        assert_eq!(
            query_param(&callback, "oauth_token").as_deref(),
            Some(temporary.key.as_str()),
            "{callback}"
        );
        let verifier = query_param(&callback, "oauth_verifier")
            .unwrap_or_else(|| panic!("no verifier in {callback}"));
        self.site
            .access_token(consumer, temporary, &verifier)
            .unwrap_or_else(|r| panic!("access token: {} {}", r.status, r.text()))
    }
}

#[test]
fn browser_sign_in_then_allow_sends_the_verifier_to_the_callback_and_the_exchange_works() {
    browser_test(async |ctx: &Ctx| {
        let temporary = ctx.request_token();
        ctx.open_consent(&temporary.key).await;
        let page = ctx.text("main").await;
        assert!(
            page.contains(&format!("Allow {APP_NAME} to access your account?")),
            "{page}"
        );
        assert!(page.contains("Signed in as test@example.com"), "{page}");
        assert!(!page.contains("Unverified app"), "{page}");
        let shot = ctx.screenshot("browser-consent").await;
        eprintln!("consent page screenshot: {}", shot.display());

        let token = ctx.allow(&ctx.consumer, &temporary).await;
        let whoami = ctx.site.whoami(&ctx.consumer, &token);
        assert_eq!(whoami.status, 200, "{}", whoami.text());
        assert_eq!(whoami.json()["email"], "test@example.com");
        // The browser landed on the consumer's page.
        ctx.xpath("//h1[contains(., 'Back in the app')]").await;
    });
}

#[test]
fn browser_deny_sends_no_verifier_and_the_exchange_is_refused() {
    browser_test(async |ctx: &Ctx| {
        let temporary = ctx.request_token();
        ctx.open_consent(&temporary.key).await;
        ctx.click("button[value=deny]").await;
        let callback = ctx.callback.next();
        assert_eq!(query_param(&callback, "oauth_verifier"), None, "{callback}");
        assert_eq!(
            query_param(&callback, "oauth_problem").as_deref(),
            Some("user_refused"),
            "{callback}"
        );
        // Whatever verifier the consumer tries, a denied token is refused.
        let exchange = ctx
            .site
            .access_token(&ctx.consumer, &temporary, "guessed")
            .expect_err("a denied request token cannot be exchanged");
        assert_eq!(
            (exchange.status, oauth_problem(&exchange).as_deref()),
            (401, Some("token_rejected")),
            "{}",
            exchange.text()
        );
    });
}

#[test]
fn browser_consent_for_the_anonymous_consumer_warns_that_the_app_is_unverified() {
    browser_test(async |ctx: &Ctx| {
        let anonymous = Credentials::new("anonymous", "anonymous");
        let temporary = ctx.anonymous_request_token(&anonymous, ANONYMOUS_NAME);
        ctx.open_consent(&temporary.key).await;
        let warning = ctx.text(".warn").await;
        assert!(warning.contains("Unverified app"), "{warning}");
        assert!(warning.contains(ANONYMOUS_NAME), "{warning}");
        let heading = ctx.text("h1").await;
        assert_eq!(
            heading,
            format!("Allow the unverified app “{ANONYMOUS_NAME}” to access your account?")
        );
        ctx.assert_fits("the anonymous consent page").await;
        let shot = ctx.screenshot("browser-consent-anonymous").await;
        eprintln!("anonymous consent page screenshot: {}", shot.display());

        // Allowing works as for a registered consumer.
        let token = ctx.allow(&anonymous, &temporary).await;
        let whoami = ctx.site.whoami(&anonymous, &token);
        assert_eq!(whoami.json()["consumer_key"], "anonymous");

        // A name of any length, without a place to break, is cut and wrapped
        // and leaves the buttons on the page.
        let long = format!("Photos_{}", "x".repeat(121));
        let temporary = ctx.anonymous_request_token(&anonymous, &long);
        ctx.open_consent(&temporary.key).await;
        let heading = ctx.text("h1").await;
        assert!(
            heading.contains("Photos_xxx") && heading.contains('…'),
            "{heading}"
        );
        assert!(!heading.contains(&long), "{heading}");
        ctx.assert_fits("a consent page for a long app name").await;
        ctx.screenshot("browser-consent-long-name").await;

        // And on a phone.
        ctx.browser
            .set_window_size(390, 844)
            .await
            .expect("a phone-sized window");
        ctx.assert_fits("a consent page for a long app name on a phone")
            .await;
        ctx.screenshot("browser-consent-phone").await;
    });
}

#[test]
fn browser_consent_answer_without_the_csrf_token_is_refused() {
    browser_test(async |ctx: &Ctx| {
        let temporary = ctx.request_token();
        ctx.open_consent(&temporary.key).await;

        // The same form, posted by the signed-in browser, minus the CSRF token.
        ctx.browser
            .execute(
                "document.querySelector('input[name=csrf_token]').remove()",
                Vec::new(),
            )
            .await
            .expect("remove the CSRF field");
        ctx.click("button[value=allow]").await;
        let page = ctx.page_with_heading("did not come from").await;
        assert!(page.contains("Nothing was changed"), "{page}");
        ctx.screenshot("browser-forged").await;

        // Its status, with the browser's own session cookie.
        let session = ctx
            .browser
            .get_named_cookie("demo_session")
            .await
            .expect("the session cookie");
        let cookie = format!("demo_session={}", session.value());
        let body = format!("oauth_token={}&decision=allow", form_encode(&temporary.key));
        let forged = ctx.site.send(
            "POST",
            "/_ah/OAuthAuthorizeToken",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        );
        assert_eq!(forged.status, 403, "{}", forged.text());
        assert!(forged.text().contains("did not come from the consent page"));
        // A wrong token is as good as none.
        let wrong = ctx.site.send(
            "POST",
            "/_ah/OAuthAuthorizeToken",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            format!("{body}&csrf_token=not-the-session-token").as_bytes(),
        );
        assert_eq!(wrong.status, 403, "{}", wrong.text());

        // Nothing was decided: the real page still asks, and its answer counts.
        ctx.open_consent(&temporary.key).await;
        let page_html = ctx.browser.source().await.expect("the page source");
        assert!(hidden_field(&page_html, "csrf_token").is_some());
        ctx.allow(&ctx.consumer, &temporary).await;
        assert!(!ctx.demo.log().contains("panicked"));
    });
}

#[test]
fn browser_revoke_on_the_account_page_ends_the_access_token() {
    browser_test(async |ctx: &Ctx| {
        let temporary = ctx.request_token();
        ctx.open_consent(&temporary.key).await;
        let token = ctx.allow(&ctx.consumer, &temporary).await;
        assert_eq!(ctx.site.whoami(&ctx.consumer, &token).status, 200);

        ctx.browser
            .goto(&ctx.site.url("/account"))
            .await
            .expect("open the account page");
        let row = ctx.text("table").await;
        assert!(row.contains(APP_NAME), "{row}");
        // The user's recent activity, newest first: granted, used, approved.
        let activity = ctx.text("table.events").await;
        let granted = activity.find("Access granted").expect("granted");
        let used = activity.find("Approval used by the app").expect("used");
        let approved = activity.find("Access approved").expect("approved");
        assert!(granted < used && used < approved, "{activity}");
        ctx.assert_fits("the account page").await;
        ctx.screenshot("browser-account").await;
        ctx.click("form[action='/account/revoke'] button").await;
        // Back on the account page, without the app, the revocation listed.
        ctx.xpath("//p[contains(., 'No app has access')]").await;
        let activity = ctx.text("table.events").await;
        assert!(activity.starts_with("When"), "{activity}");
        assert!(
            activity.find("Access revoked") < activity.find("Access granted"),
            "{activity}"
        );
        ctx.assert_fits("the account page after revoking").await;

        ctx.browser
            .goto(&ctx.site.url("/"))
            .await
            .expect("open the home page");
        ctx.page_with_heading("Welcome").await;
        ctx.assert_fits("the home page").await;
        ctx.screenshot("browser-home").await;

        let refused = ctx.site.whoami(&ctx.consumer, &token);
        assert_eq!(
            (refused.status, oauth_problem(&refused).as_deref()),
            (401, Some("token_revoked")),
            "{}",
            refused.text()
        );
    });
}

/// Issue 17, finding 4: for every callback the provider accepts, the host
/// the consent page names is the host Chromium then sends the verifier to
/// (`*.test` resolves to the listener here), and the look-alikes are
/// refused before any page shows them.
#[test]
fn browser_the_consent_page_names_the_host_chromium_sends_the_verifier_to() {
    browser_test(async |ctx: &Ctx| {
        let anonymous = Credentials::new("anonymous", "anonymous");
        let port = ctx.callback.addr.port();
        let accepted = [
            format!("http://127.0.0.1:{port}/callback"),
            format!("http://LocalHost:{port}/callback?x=1"),
            format!("http://App.Test:{port}/callback#fragment"),
            format!("http://b\u{fc}cher.test:{port}/callback/r\u{e9}"),
            format!("http://app.test.:{port}/callback"),
            format!("http://app.test:{port}/callback?next=http://evil.test/"),
        ];
        for callback in &accepted {
            let temporary = ctx.anonymous_request_token_to(&anonymous, "Host Check", callback);
            ctx.open_consent(&temporary.key).await;
            let shown = ctx.text(".callback").await;
            ctx.click("button[value=allow]").await;
            let reached = ctx.callback.next();
            let visited =
                reached[..reached.find("/callback").expect("the callback path")].to_owned();
            assert_eq!(
                shown, visited,
                "{callback}: shown {shown}, Chromium went to {reached}"
            );
        }
        for callback in [
            format!("http://127.0.0.1:{port}\\@good.test/callback"),
            format!("http://good.test@127.0.0.1:{port}/callback"),
            format!("http://good.te\tst:{port}/callback"),
        ] {
            let signer = Signer::new(SignatureMethod::HmacSha1, &anonymous.key, &anonymous.secret)
                .callback(&callback);
            let reply = ctx
                .site
                .signed(&signer, "POST", "/_ah/OAuthGetRequestToken", None);
            assert_eq!(
                (reply.status, oauth_problem(&reply).as_deref()),
                (400, Some("parameter_rejected")),
                "{callback}: {}",
                reply.text()
            );
        }
    });
}

impl Ctx {
    /// Signs the browser in as `email` (password `password`) on the login
    /// page, to land on `next`.
    async fn sign_in_as(&self, email: &str, next: &str) {
        self.browser
            .delete_all_cookies()
            .await
            .expect("sign out first");
        let url = self.site.url(&format!("/login?next={}", form_encode(next)));
        self.browser.goto(&url).await.expect("open the login page");
        self.element("#email")
            .await
            .send_keys(email)
            .await
            .expect("type the email");
        self.element("#password")
            .await
            .send_keys("password")
            .await
            .expect("type the password");
        self.click("button[type=submit]").await;
        // Signed in once the next page shows (not the sign-in form again).
        self.xpath("//h1[not(contains(., 'Sign in'))]").await;
    }

    /// Checks the page fits on a desktop and on a phone, with a screenshot
    /// of each (`NAME.png`, `NAME-phone.png`).
    async fn assert_fits_both(&self, what: &str, name: &str) {
        self.browser
            .set_window_size(1280, 900)
            .await
            .expect("a desktop window");
        self.assert_fits(what).await;
        self.screenshot(name).await;
        self.browser
            .set_window_size(390, 844)
            .await
            .expect("a phone-sized window");
        self.assert_fits(&format!("{what} on a phone")).await;
        self.screenshot(&format!("{name}-phone")).await;
        self.browser
            .set_window_size(1280, 900)
            .await
            .expect("a desktop window");
    }
}

#[test]
fn browser_an_app_is_registered_on_developers_and_approved_on_admin_consumers() {
    browser_test(async |ctx: &Ctx| {
        ctx.sign_in_as("test@example.com", "/developers").await;
        ctx.page_with_heading("Your apps").await;
        let long = format!("Printer_{}", "x".repeat(60));
        ctx.element("#name")
            .await
            .send_keys(&long)
            .await
            .expect("name");
        ctx.element("#description")
            .await
            .send_keys("Prints your photos")
            .await
            .expect("description");
        ctx.element("#callback")
            .await
            .send_keys(&ctx.callback.prefix())
            .await
            .expect("callback");
        ctx.click("input[name=grant][value='photos.read']").await;
        ctx.browser
            .execute(
                "document.getElementById('grants').scrollIntoView()",
                Vec::new(),
            )
            .await
            .expect("scroll to the grants");
        ctx.assert_fits_both("the registration form", "browser-developers-form")
            .await;
        ctx.click("form[action='/developers'] button[type=submit]")
            .await;
        let page = ctx.page_with_heading("Your app is registered").await;
        assert!(page.contains("not shown again"), "{page}");
        assert_eq!(ctx.text("#consumer-grants").await, "See your photos");
        let key = ctx.text("#consumer-key").await;
        let secret = ctx.text("#consumer-secret").await;
        assert_eq!(ctx.text("#consumer-state").await, "proposed");
        ctx.assert_fits_both(
            "the new app's credentials",
            "browser-developers-credentials",
        )
        .await;
        let app = Credentials::new(&key, &secret);
        let refused = ctx
            .site
            .request_token(&app, &ctx.callback.url())
            .expect_err("a proposed app is refused");
        assert_eq!(refused.status, 401);

        ctx.browser
            .goto(&ctx.site.url("/developers"))
            .await
            .expect("open /developers");
        let listed = ctx.text("table").await;
        assert!(
            listed.contains(&key) && !listed.contains(&secret),
            "{listed}"
        );
        ctx.assert_fits_both("the developer page", "browser-developers")
            .await;

        // An administrator approves it.
        ctx.sign_in_as("admin@example.com", "/admin/consumers")
            .await;
        ctx.page_with_heading("Apps").await;
        let row = format!("//tr[contains(., '{key}')]");
        let proposed = ctx.xpath(&row).await.text().await.expect("its row");
        assert!(proposed.contains("See your photos"), "{proposed}");
        ctx.assert_fits_both("the review page", "browser-admin-consumers")
            .await;
        let approve = format!(
            "//tr[contains(., '{key}')]//form[.//input[@name='action' and @value='approve']]//button"
        );
        ctx.xpath(&approve).await.click().await.expect("approve");
        ctx.xpath("//h2[contains(., 'approved (1)')]").await;
        let temporary = ctx
            .site
            .request_token(&app, &ctx.callback.url())
            .unwrap_or_else(|r| panic!("approved: {} {}", r.status, r.text()));
        assert!(!temporary.key.is_empty());
        // A user who is not an administrator is refused the review page.
        ctx.sign_in_as("test@example.com", "/admin/consumers").await;
        ctx.page_with_heading("Not done").await;
    });
}

#[test]
fn browser_an_apps_owner_sees_its_refused_request_and_the_highlighted_difference() {
    browser_test(async |ctx: &Ctx| {
        // Registered by its owner, approved by an administrator.
        ctx.sign_in_as("test@example.com", "/developers").await;
        ctx.element("#name")
            .await
            .send_keys("Mismatch")
            .await
            .expect("name");
        ctx.click("input[name=grant][value='profile.read']").await;
        ctx.click("form[action='/developers'] button[type=submit]")
            .await;
        let key = ctx.text("#consumer-key").await;
        ctx.sign_in_as("admin@example.com", "/admin/consumers")
            .await;
        let approve = format!(
            "//tr[contains(., '{key}')]//form[.//input[@name='action' and @value='approve']]//button"
        );
        ctx.xpath(&approve).await.click().await.expect("approve");
        ctx.xpath("//h2[contains(., 'approved (1)')]").await;

        // Its client signs with the wrong secret.
        let wrong = Credentials::new(&key, "not-the-secret");
        let refused = ctx
            .site
            .request_token(&wrong, &ctx.callback.url())
            .expect_err("a bad signature");
        assert_eq!(refused.status, 401);

        // The owner sees it, pastes what the client signed, and is shown
        // the first difference.
        ctx.sign_in_as("test@example.com", "/developers").await;
        let page = format!("/developers/refusals?consumer_key={}", form_encode(&key));
        ctx.browser
            .goto(&ctx.site.url(&page))
            .await
            .expect("open the refused requests");
        let base_string = ctx.text("code.base-string").await;
        assert!(base_string.starts_with("POST&"), "{base_string}");
        let client = base_string.replacen("POST", "GET", 1);
        ctx.element("#base_string")
            .await
            .send_keys(&client)
            .await
            .expect("paste the base string");
        ctx.click("form[action='/developers/refusals'] button[type=submit]")
            .await;
        let difference = ctx.text("#difference").await;
        assert!(difference.contains("the method"), "{difference}");
        let marked = ctx.text("#client mark").await;
        assert!(marked.starts_with("GET"), "{marked}");
        ctx.assert_fits_both("the refused requests", "browser-developers-refusals")
            .await;

        // Nobody else sees them.
        ctx.sign_in_as("admin@example.com", "/developers").await;
        ctx.browser
            .goto(&ctx.site.url(&page))
            .await
            .expect("open another's refused requests");
        ctx.page_with_heading("Not done").await;
    });
}

/// The sentences of the grants listed on the page (`li.grant`), in order,
/// with their names.
async fn listed_grants(ctx: &Ctx) -> Vec<(String, String)> {
    let mut listed = Vec::new();
    for item in ctx
        .browser
        .find_all(Locator::Css("li.grant"))
        .await
        .expect("the listed grants")
    {
        let name = item.attr("data-grant").await.expect("data-grant");
        let sentence = item.text().await.expect("its sentence");
        listed.push((name.unwrap_or_default(), sentence));
    }
    listed
}

#[test]
fn browser_the_consent_page_lists_the_sentences_of_the_grants_asked_for() {
    let app = Credentials::new("photos-key", "photos-secret");
    let registration =
        "photos-key:photos-secret:Photo Printer:photos.read,photos.write,profile.read";
    browser_test_with(&["--consumer", registration], async |ctx: &Ctx| {
        let temporary = ctx
            .site
            .scoped_request_token(&app, &ctx.callback.url(), Some("photos.read photos.write"))
            .unwrap_or_else(|r| panic!("request token: {} {}", r.status, r.text()));
        ctx.open_consent(&temporary.key).await;
        let page = ctx.text("main").await;
        assert!(
            page.contains("Allow Photo Printer to access your account?"),
            "{page}"
        );
        let asked = [
            (
                "identity",
                oauth1_provider::model::IDENTITY_GRANT_DESCRIPTION,
            ),
            ("photos.read", "See your photos"),
            ("photos.write", "Add and delete your photos"),
        ]
        .map(|(name, sentence)| (name.to_owned(), sentence.to_owned()));
        assert_eq!(listed_grants(ctx).await, asked);
        // Only what was asked for (and who you are, which every app
        // learns): not the profile it is registered for, nor the whole
        // account.
        assert!(!page.contains("See your email address"), "{page}");
        assert!(!page.contains("whole account"), "{page}");
        ctx.assert_fits_both("the consent page for two grants", "browser-consent-grants")
            .await;

        let token = ctx.allow(&app, &temporary).await;
        let listed = ctx.site.call(&app, &token, "GET", "/api/photos", None);
        assert_eq!(listed.status, 200, "{}", listed.text());
        assert_problem(&ctx.site.whoami(&app, &token), 403, "permission_denied");

        // The account page says the same of the app.
        ctx.browser
            .goto(&ctx.site.url("/account"))
            .await
            .expect("open the account page");
        ctx.page_with_heading("Apps with access").await;
        assert_eq!(listed_grants(ctx).await, asked);
        ctx.assert_fits_both("the account page with grants", "browser-account-grants")
            .await;
    });
}

#[test]
fn browser_a_sign_in_only_app_asks_once_then_signs_in_at_once_until_revoked() {
    let app = Credentials::new("signin-key", "signin-secret");
    let registration = "signin-key:signin-secret:Sign-in App:identity";
    browser_test_with(&["--consumer", registration], async |ctx: &Ctx| {
        let request_token = || {
            ctx.site
                .request_token(&app, &ctx.callback.url())
                .unwrap_or_else(|r| panic!("request token: {} {}", r.status, r.text()))
        };
        // The first sign-in asks, in sign-in words.
        let first = request_token();
        ctx.open_consent_at(AUTHENTICATE, &first.key).await;
        let heading = ctx.text("h1").await;
        assert!(
            heading.starts_with("Sign in to Sign-in App with your"),
            "{heading}"
        );
        let page = ctx.text("main").await;
        assert!(page.contains("will only learn who you are"), "{page}");
        assert!(listed_grants(ctx).await.is_empty(), "{page}");
        ctx.assert_fits_both("the sign-in page", "browser-sign-in")
            .await;
        let token = ctx.allow(&app, &first).await;
        // Its token tells who the user is, and nothing else.
        let identity = ctx
            .site
            .call(&app, &token, "GET", "/_ah/OAuthIdentify", None);
        assert_eq!(identity.status, 200, "{}", identity.text());
        assert_eq!(identity.header("content-type"), Some("application/jwt"));
        assert_problem(&ctx.site.whoami(&app, &token), 403, "permission_denied");

        // The next sign-in goes straight back to the app, with no page.
        let second = request_token();
        let url = ctx.site.url(&format!(
            "{AUTHENTICATE}?oauth_token={}",
            form_encode(&second.key)
        ));
        ctx.browser.goto(&url).await.expect("open the sign-in URL");
        let callback = ctx.callback.next();
        assert_eq!(
            query_param(&callback, "oauth_token").as_deref(),
            Some(second.key.as_str()),
            "{callback}"
        );
        let verifier = query_param(&callback, "oauth_verifier").expect("a verifier");
        ctx.xpath("//h1[contains(., 'Back in the app')]").await;
        let landed = ctx.browser.current_url().await.expect("the URL");
        assert!(landed.as_str().starts_with(&ctx.callback.url()), "{landed}");
        ctx.site
            .access_token(&app, &second, &verifier)
            .unwrap_or_else(|r| panic!("access token: {} {}", r.status, r.text()));

        // Revoked on the account page: the next sign-in asks again.
        ctx.browser
            .goto(&ctx.site.url("/account"))
            .await
            .expect("open the account page");
        let row = ctx.text("table").await;
        assert!(row.contains("Sign-in App"), "{row}");
        ctx.click("form[action='/account/revoke'] button").await;
        ctx.xpath("//p[contains(., 'No app has access')]").await;
        let third = request_token();
        ctx.open_consent_at(AUTHENTICATE, &third.key).await;
        let heading = ctx.text("h1").await;
        assert!(heading.starts_with("Sign in to Sign-in App"), "{heading}");
        ctx.allow(&app, &third).await;
    });
}
