//! The demo behind a real reverse proxy: Debian's nginx
//! (`OAUTH1_TEST_NGINX`, installed by `.ci/nginx.sh`), started here in the
//! foreground on loopback. It terminates TLS with a self-signed test
//! certificate (made with the openssl CLI), mounts the demo under
//! [`PREFIX`], which it strips, and forwards `X-Forwarded-Proto`, `-Host`
//! and `-Prefix`, connecting from [`PROXY_PEER`] — the only peer the demo
//! trusts. The demo is told its public origin with the prefix
//! (`--public-origin https://127.0.0.1:PORT/app`).
//!
//! requests-oauthlib (`tests/clients/behind_proxy.py`, `OAUTH1_TEST_PYTHON`)
//! signs the public URLs through the whole three-legged flow and whoami; a
//! browser that is not signed in goes from the authorization URL to the
//! callback following only the pages' own redirects and forms; then it sends the same signed request straight to the demo from
//! 127.0.0.1 with the proxy's headers forged, which must be refused.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oauth1_provider::protocol::percent_encode;
use serde_json::Value;

use crate::support::demo_client::{Credentials, demo_with_consumer_and};
use crate::support::env::service_env;
use crate::support::ports::ClosedPort;
use crate::support::temp::TempDir;

/// The path prefix nginx mounts the demo under and strips.
const PREFIX: &str = "/app";
/// The address nginx connects to the demo from (`proxy_bind`): any of
/// 127.0.0.0/8 is loopback, so the test's own requests (from 127.0.0.1)
/// are not the proxy's.
const PROXY_PEER: &str = "127.0.0.2";
const SCRIPT: &str = "tests/clients/behind_proxy.py";
const CALLBACK_PREFIX: &str = "http://client.test/";

/// nginx in the foreground (`daemon off`, one process); killed on drop.
struct Nginx {
    child: Child,
    /// Holds the port nginx listens on (`reuseport`) for as long as it runs.
    _port: ClosedPort,
    dir: PathBuf,
}

impl Nginx {
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for 127.0.0.1 and its key, in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl (.ci/nginx.sh installs it)");
    assert!(
        status.success(),
        "openssl could not make a test certificate"
    );
    (cert, key)
}

/// The configuration: TLS on `port`, `PREFIX/` proxied to `upstream` with
/// the prefix stripped and the forwarding headers set.
fn configuration(dir: &Path, port: SocketAddr, upstream: SocketAddr) -> String {
    let (cert, key) = certificate(dir);
    let dir = dir.display();
    format!(
        "daemon off;\n\
         master_process off;\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {dir}/body;\n\
           proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n\
           uwsgi_temp_path {dir}/uwsgi;\n\
           scgi_temp_path {dir}/scgi;\n\
           server {{\n\
             listen {port} ssl reuseport;\n\
             ssl_certificate {cert};\n\
             ssl_certificate_key {key};\n\
             location {PREFIX}/ {{\n\
               proxy_pass http://{upstream}/;\n\
               proxy_bind {PROXY_PEER};\n\
               proxy_redirect off;\n\
               proxy_set_header X-Forwarded-Proto $scheme;\n\
               proxy_set_header X-Forwarded-Host $http_host;\n\
               proxy_set_header X-Forwarded-Prefix {PREFIX};\n\
             }}\n\
           }}\n\
         }}\n",
        cert = cert.display(),
        key = key.display(),
    )
}

/// Starts `nginx` with [`configuration`] on `port` and waits until it
/// accepts connections.
fn start_nginx(nginx: &str, dir: &Path, port: ClosedPort, upstream: SocketAddr) -> Nginx {
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, configuration(dir, port.addr(), upstream)).expect("write nginx.conf");
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let addr = port.addr();
    let mut nginx = Nginx {
        child,
        _port: port,
        dir: dir.to_owned(),
    };
    // Readiness, not timing: the port refuses connections until nginx
    // listens on it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        let exited = nginx.child.try_wait().expect("nginx's status");
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "nginx did not start ({exited:?}); its log:\n{}",
            nginx.error_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nginx
}

/// The script's report, or `None` (the test skips) without nginx or Python.
fn run_behind_nginx() -> Option<Value> {
    let nginx = service_env("OAUTH1_TEST_NGINX")?;
    let python = service_env("OAUTH1_TEST_PYTHON")?;
    let dir = TempDir::new("nginx");
    let port = ClosedPort::reserve();
    let public = format!("https://{}{PREFIX}", port.addr());
    let consumer = Credentials::new("proxied-key", "proxied secret +/=");
    let demo = demo_with_consumer_and(
        &consumer,
        "Proxied client",
        CALLBACK_PREFIX,
        &["--public-origin", &public, "--trusted-proxy", PROXY_PEER],
    );
    let proxy = start_nginx(&nginx, &dir.0, port, demo.addr);
    let script = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(SCRIPT);
    let output = Command::new(&python)
        .arg(&script)
        .arg(&public)
        .args(["--direct", &demo.base_url()])
        .args(["--consumer-key", &consumer.key])
        .args(["--consumer-secret", &consumer.secret])
        .args(["--callback", &format!("{CALLBACK_PREFIX}proxy/done")])
        .args(["--user", "test@example.com:password"])
        .env("REQUESTS_CA_BUNDLE", dir.0.join("cert.pem"))
        .output()
        .unwrap_or_else(|e| panic!("run {python} {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{SCRIPT} failed ({}):\n{}\n{stdout}\nnginx log:\n{}\nprovider log:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        proxy.error_log(),
        demo.log()
    );
    Some(
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{SCRIPT} printed no JSON ({e}): {stdout}")),
    )
}

#[test]
fn the_flow_passes_through_tls_termination_and_a_stripped_prefix_and_spoofing_is_refused() {
    let Some(report) = run_behind_nginx() else {
        return;
    };
    // The three legs, signed over https://127.0.0.1:PORT/app/_ah/…
    let flow = &report["flow"];
    assert_eq!(flow["callback_confirmed"], "true", "{flow}");
    assert_eq!(flow["callback"], format!("{CALLBACK_PREFIX}proxy/done"));
    assert_eq!(flow["access_token"], true, "{flow}");
    // A browser that is not signed in, following only what the pages say:
    // every redirect and form action carries the prefix.
    let browser = &report["browser"];
    let login = browser["login_page"].as_str().unwrap_or_default();
    let authorize = format!("{PREFIX}/_ah/OAuthAuthorizeToken");
    assert!(
        login.starts_with(&format!(
            "{PREFIX}/login?next={}",
            percent_encode(&authorize)
        )),
        "{browser}"
    );
    assert_eq!(
        browser["login_action"],
        format!("{PREFIX}/login"),
        "{browser}"
    );
    assert_eq!(browser["back_to"], authorize, "{browser}");
    assert_eq!(browser["consent_action"], authorize, "{browser}");
    assert_eq!(browser["answer_status"], 303, "{browser}");
    assert_eq!(browser["callback"], format!("{CALLBACK_PREFIX}proxy/done"));
    // whoami, signed over the public URL with query and form parameters.
    for call in ["whoami", "whoami_form_post"] {
        let outcome = &report[call];
        assert_eq!(outcome["status"], 200, "{call}: {outcome}");
        assert_eq!(outcome["json"]["email"], "test@example.com", "{call}");
        assert_eq!(outcome["json"]["consumer_key"], "proxied-key", "{call}");
    }
    // The same request, straight to the demo with the proxy's headers
    // forged by a peer that is not the proxy: the headers are ignored, and
    // the plain http origin it then has is not served.
    for call in ["spoofed", "spoofed_with_host"] {
        let outcome = &report[call];
        assert_eq!(outcome["status"], 400, "{call}: {outcome}");
        assert_eq!(
            outcome["text"], "This site is not served at this address.",
            "{call}"
        );
    }
}
