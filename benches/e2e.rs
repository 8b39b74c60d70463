//! End to end: the demo provider's axum router (`examples/provider/app.rs`)
//! with pre-signed requests, each with a unique nonce, to the protected
//! `GET /api/whoami`, against the same handler — the same JSON for the same
//! user — mounted on the same router outside the OAuth layer as
//! `GET /pub/whoami` (`cargo bench --all-features --bench e2e`). The two differ only by
//! what OAuth costs: the layer, the extractor and the verification.
//!
//! Two ways, both in this one process:
//!
//! - `oneshot`: `tower::ServiceExt::oneshot` on the router, no HTTP at all —
//!   the least favourable ratio for the layer, since nothing else is paid;
//! - `HTTP/1.1`: the router served by `axum::serve` on a loopback port,
//!   driven by a minimal keep-alive client on one connection, one request
//!   at a time: what a server pays per request short of the network.
//!
//! Both sides get the same requests (Host, Authorization, 2 query
//! parameters; paths of the same length) and read the whole response body.
//! Batches of about 20 ms (thread CPU time for `oneshot`, wall-clock time
//! over HTTP, where the server runs on another thread) alternate between
//! the two; the table gives the median throughput of each and the median
//! and interquartile range of the per-pair ratio.

#[allow(dead_code)]
#[path = "../examples/provider/app.rs"]
mod demo_app;
mod fixture;

use std::hint::black_box;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use fixture::{CONSUMER_SECRET, TOKEN, TOKEN_SECRET};
use oauth1_provider::client::Signer;
use oauth1_provider::{MemoryStore, SignatureMethod, User};
use time::OffsetDateTime;
use tower::ServiceExt as _;

const ORIGIN: &str = "http://127.0.0.1:8080";
const HOST: &str = "127.0.0.1:8080";
const CONSUMER_KEY: &str = "bench-consumer";
const TARGET: &str = "/api/whoami?maxResults=10&pageToken=abc%20def";
/// The same handler outside the OAuth layer, at a path of the same length.
const OPEN_TARGET: &str = "/pub/whoami?maxResults=10&pageToken=abc%20def";

fn user() -> User {
    User::new("test@example.com", "1")
}

/// The demo app on a `MemoryStore`, with a registered consumer and an
/// access token for it on this host, and the unprotected handler at
/// `/pub/whoami`, added after the OAuth layer (which wraps only the routes
/// before it).
fn router() -> Router {
    let mut config = demo_app::DemoConfig::new(8080);
    let spec = format!("{CONSUMER_KEY}:{CONSUMER_SECRET}:Bench");
    config.consumers = vec![demo_app::ConsumerSpec::parse(&spec).expect("a consumer")];
    config.password_hashing = argon2::Params::new(64, 1, 1, None).expect("params");
    let store = MemoryStore::new();
    let app = demo_app::build(&config, store.clone()).expect("the demo app");
    fixture::store_access_token(
        &store,
        CONSUMER_KEY,
        HOST,
        user(),
        OffsetDateTime::now_utc(),
    );
    let open_path = OPEN_TARGET.split_once('?').expect("a query").0;
    app.router.route(open_path, get(whoami_unprotected))
}

/// The demo's `whoami` answer for the same user, without OAuth.
async fn whoami_unprotected() -> Response {
    let me = user();
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::json!({
            "email": me.email,
            "user_id": me.user_id,
            "admin": me.admin,
            "consumer_key": CONSUMER_KEY,
        })
        .to_string(),
    )
        .into_response()
}

/// `n` Authorization headers signed now, each with a nonce never used
/// before in this process (both ways of driving share the one store).
fn sign(n: u32) -> Vec<String> {
    static NEXT_NONCE: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("1970")
        .as_secs();
    (0..n)
        .map(|_| {
            let nonce = format!("{:042}", NEXT_NONCE.fetch_add(1, Ordering::Relaxed));
            Signer::new(SignatureMethod::HmacSha1, CONSUMER_KEY, CONSUMER_SECRET)
                .token(TOKEN, TOKEN_SECRET)
                .nonce(&nonce)
                .timestamp(now)
                .authorization_header("GET", &format!("{ORIGIN}{TARGET}"), None)
                .expect("signs")
        })
        .collect()
}

/// The target of the protected handler, or of the unprotected one.
fn target(protected: bool) -> &'static str {
    if protected { TARGET } else { OPEN_TARGET }
}

/// Sends one request per header to `target` with `oneshot` and reads every
/// body; returns requests per second.
async fn oneshot(router: &Router, target: &str, headers: Vec<String>) -> f64 {
    let requests: Vec<HttpRequest<Body>> = (headers.into_iter())
        .map(|authorization| {
            HttpRequest::get(target)
                .header(header::HOST, HOST)
                .header(header::AUTHORIZATION, authorization)
                .body(Body::empty())
                .expect("a request")
        })
        .collect();
    let n = requests.len() as f64;
    let start = fixture::CpuClock::now();
    for request in requests {
        let response = router.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        black_box(body.expect("a body"));
    }
    n / start.elapsed().as_secs_f64()
}

/// Serves `router` on a loopback port from a runtime on its own thread.
fn serve(router: Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    listener.set_nonblocking(true).expect("non-blocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            // As production servers do: no Nagle delay on small responses.
            let listener = tokio::net::TcpListener::from_std(listener)
                .expect("a listener")
                .tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
            let app = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serves");
        });
    });
    addr
}

/// A minimal HTTP/1.1 client on one keep-alive connection.
struct Connection(BufReader<TcpStream>);

impl Connection {
    fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connects");
        stream.set_nodelay(true).expect("nodelay");
        Self(BufReader::new(stream))
    }

    /// `GET target` with this Authorization; reads the whole response.
    fn get(&mut self, target: &str, authorization: &str) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {authorization}\r\n\r\n"
        );
        self.0
            .get_mut()
            .write_all(request.as_bytes())
            .expect("sends");
        let mut line = String::new();
        self.0.read_line(&mut line).expect("a status line");
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut length = 0;
        loop {
            line.clear();
            self.0.read_line(&mut line).expect("a header");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).expect("the body");
        black_box(body);
    }

    /// Sends one request per header to `target`; returns requests per second.
    fn drive(&mut self, target: &str, headers: Vec<String>) -> f64 {
        let n = headers.len() as f64;
        let start = Instant::now();
        for authorization in &headers {
            self.get(target, authorization);
        }
        n / start.elapsed().as_secs_f64()
    }
}

fn quartiles(mut samples: Vec<f64>) -> [f64; 3] {
    samples.sort_unstable_by(f64::total_cmp);
    let at = |q: usize| samples[(samples.len() - 1) * q / 4];
    [at(1), at(2), at(3)]
}

/// Alternates batches of about 20 ms on each side, `pairs` times; prints
/// the table. `drive(protected, headers)` returns requests per second.
fn compare(what: &str, pairs: usize, mut drive: impl FnMut(bool, Vec<String>) -> f64) {
    let mut batch = |protected| ((drive(protected, sign(300)) * 0.02) as u32).max(1);
    let (p_calls, u_calls) = (batch(true), batch(false));
    let (mut p, mut u, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs {
        let p_rate = drive(true, sign(p_calls));
        let u_rate = drive(false, sign(u_calls));
        p.push(p_rate);
        u.push(u_rate);
        ratio.push(p_rate / u_rate);
    }
    let ([_, p, _], [_, u, _], [q1, r, q3]) = (quartiles(p), quartiles(u), quartiles(ratio));
    println!(
        "| {what} | {u:.0} /s ({:.2} µs) | {p:.0} /s ({:.2} µs) | {:.1}% ({:.1}–{:.1}%) |",
        1e6 / u,
        1e6 / p,
        r * 100.0,
        q1 * 100.0,
        q3 * 100.0
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: keep it short.
    let pairs = if std::env::args().any(|a| a == "--bench") {
        101
    } else {
        2
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // The demo app starts its audit-trail writer on the runtime it is built in.
    let router = {
        let _runtime = runtime.enter();
        router()
    };
    println!(
        "| GET whoami, demo router | unprotected (outside the OAuth layer) | protected | protected ÷ unprotected throughput (IQR) |"
    );
    println!("|---|---:|---:|---:|");
    compare("oneshot, no HTTP", pairs, |protected, headers| {
        runtime.block_on(oneshot(&router, target(protected), headers))
    });

    let mut connection = Connection::open(serve(router));
    compare("HTTP/1.1 on loopback", pairs, |protected, headers| {
        connection.drive(target(protected), headers)
    });
}
