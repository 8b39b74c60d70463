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
//!
//! `cargo bench --all-features --bench e2e -- load STORE` instead puts the
//! demo router under load: [`LOAD_CLIENTS`] threads, each on its own
//! keep-alive connection, send pre-signed protected requests as fast as
//! they are answered, to the router served on a two-worker runtime (as the
//! demo's `#[tokio::main]` on two cores) on `STORE`: `memory`, `postgres`
//! (tokens and nonces in PostgreSQL) or `postgres+redis` (nonces in Redis),
//! from `OAUTH1_TEST_POSTGRES_URL` / `OAUTH1_TEST_REDIS_URL`, in a schema of
//! its own. It prints requests/s, p50/p99 latency and the round trips per
//! request each service counted (PostgreSQL's committed transactions — one
//! per statement outside a transaction — and Redis's commands from clients:
//! a script's call, not the `GET` and `SET` it runs).

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
use oauth1_provider::store::{PostgresStore, RedisNonceStore};
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

/// The demo app on `store` (nonces in `nonces`), with a registered
/// consumer and an access token for it on this host.
async fn demo_router<S, N>(store: S, nonces: N) -> Router
where
    S: demo_app::DemoStore,
    N: demo_app::DemoNonces,
{
    let mut config = demo_app::DemoConfig::new(8080);
    let spec = format!("{CONSUMER_KEY}:{CONSUMER_SECRET}:Bench");
    config.consumers = vec![demo_app::ConsumerSpec::parse(&spec).expect("a consumer")];
    config.password_hashing = argon2::Params::new(64, 1, 1, None).expect("params");
    let app = demo_app::build_split(&config, store.clone(), nonces).expect("the demo app");
    let now = OffsetDateTime::now_utc();
    fixture::issue_access_token(&store, CONSUMER_KEY, HOST, user(), now).await;
    app.router
}

/// The demo app on a `MemoryStore` (see [`demo_router`]), and the
/// unprotected handler at `/pub/whoami`, added after the OAuth layer (which
/// wraps only the routes before it).
fn router() -> Router {
    let store = MemoryStore::new();
    let app = fixture::ready(demo_router(store.clone(), store));
    let open_path = OPEN_TARGET.split_once('?').expect("a query").0;
    app.route(open_path, get(whoami_unprotected))
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
            let n = NEXT_NONCE.fetch_add(1, Ordering::Relaxed);
            let nonce = format!("{:08x}{n:034}", std::process::id());
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

/// A loopback port to serve on, and its address.
fn loopback() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    listener.set_nonblocking(true).expect("non-blocking");
    (listener, addr)
}

/// Serves `router` on `listener` (from [`loopback`]).
async fn serve_on(listener: std::net::TcpListener, router: Router) {
    // As production servers do: no Nagle delay on small responses.
    let listener = tokio::net::TcpListener::from_std(listener)
        .expect("a listener")
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await.expect("serves");
}

/// Serves `router` on a loopback port from a runtime on its own thread.
fn serve(router: Router) -> SocketAddr {
    let (listener, addr) = loopback();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(serve_on(listener, router));
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

/// Concurrent keep-alive clients of the load mode.
const LOAD_CLIENTS: usize = 16;
/// Requests each load client sends.
const LOAD_REQUESTS: usize = 500;

/// Round trips the services counted so far: PostgreSQL's committed and
/// rolled-back transactions in the database, Redis's commands.
#[derive(Debug, Clone, Copy, Default)]
struct RoundTrips {
    postgres: i64,
    redis: i64,
}

/// What the services have counted (`admin` on the same database as the
/// store under load; its own queries are a handful against thousands).
async fn round_trips(admin: Option<&PostgresStore>, redis: Option<&str>) -> RoundTrips {
    let mut counted = RoundTrips::default();
    if let Some(admin) = admin {
        let client = admin.pool().get().await.expect("a client");
        // Statistics are flushed when a backend ends or idles: the store
        // under load is dropped first, and this reads a fresh snapshot.
        client
            .batch_execute("SELECT pg_stat_clear_snapshot()")
            .await
            .expect("a snapshot");
        let sql = "SELECT xact_commit + xact_rollback FROM pg_stat_database \
                   WHERE datname = current_database()";
        counted.postgres = client.query_one(sql, &[]).await.expect("stats").get(0);
    }
    if let Some(url) = redis {
        let client = redis::Client::open(url).expect("a Redis URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis");
        // `total_commands_processed` would count the commands a script
        // runs too: count the calls that come from clients (a script call
        // and anything else), not those of scripts.
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await
            .expect("INFO");
        counted.redis = (info.lines())
            .filter_map(|l| l.strip_prefix("cmdstat_"))
            .filter_map(|l| l.split_once(":calls="))
            .filter(|(command, _)| !matches!(*command, "get" | "set" | "info"))
            .filter_map(|(_, rest)| rest.split(',').next()?.parse::<i64>().ok())
            .sum();
    }
    counted
}

/// A PostgreSQL store in a fresh schema of the test database, and a store
/// on the database itself (for statistics and to drop the schema).
async fn postgres_schema() -> (PostgresStore, PostgresStore, String) {
    let url = std::env::var("OAUTH1_TEST_POSTGRES_URL").expect("OAUTH1_TEST_POSTGRES_URL");
    let admin = PostgresStore::connect(&url).await.expect("PostgreSQL");
    let schema = format!("oauth1_e2e_load_{}", std::process::id());
    let client = admin.pool().get().await.expect("a client");
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("a schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let store = PostgresStore::connect(&scoped).await.expect("PostgreSQL");
    (store, admin, schema)
}

/// The load mode (see the module docs) on `kind`.
fn load(kind: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let redis_url = std::env::var("OAUTH1_TEST_REDIS_URL").ok();
    let (router, admin, schema) = runtime.block_on(async {
        match kind {
            "memory" => {
                let store = MemoryStore::new();
                (demo_router(store.clone(), store).await, None, None)
            }
            "postgres" | "postgres+redis" => {
                let (store, admin, schema) = postgres_schema().await;
                let router = if kind == "postgres" {
                    demo_router(store.clone(), store).await
                } else {
                    let url = redis_url.as_deref().expect("OAUTH1_TEST_REDIS_URL");
                    let nonces = RedisNonceStore::connect(url)
                        .await
                        .expect("Redis")
                        .with_key_prefix(format!("oauth1:e2e-load:{schema}:"));
                    demo_router(store, nonces).await
                };
                (router, Some(admin), Some(schema))
            }
            other => panic!("load takes memory, postgres or postgres+redis, not {other}"),
        }
    });
    let redis = (kind == "postgres+redis")
        .then_some(redis_url.as_deref())
        .flatten();
    let headers: Vec<Vec<String>> = (0..LOAD_CLIENTS)
        .map(|_| sign(u32::try_from(LOAD_REQUESTS).expect("fewer")))
        .collect();
    let (listener, addr) = loopback();
    let server = runtime.spawn(serve_on(listener, router));
    // One warm-up request per connection (the pool's connections, the
    // statements each prepares once), not counted.
    let mut connections: Vec<Connection> =
        (0..LOAD_CLIENTS).map(|_| Connection::open(addr)).collect();
    for (connection, warm_up) in connections.iter_mut().zip(sign(LOAD_CLIENTS as u32)) {
        connection.get(TARGET, &warm_up);
    }
    let before = runtime.block_on(round_trips(admin.as_ref(), redis));
    let barrier = std::sync::Barrier::new(LOAD_CLIENTS + 1);
    let (elapsed, mut latencies) = std::thread::scope(|scope| {
        let clients: Vec<_> = (connections.into_iter().zip(headers))
            .map(|(mut connection, headers)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let latencies: Vec<f64> = (headers.iter())
                        .map(|authorization| {
                            let start = Instant::now();
                            connection.get(TARGET, authorization);
                            start.elapsed().as_secs_f64() * 1e6
                        })
                        .collect();
                    latencies
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let latencies: Vec<f64> = (clients.into_iter())
            .flat_map(|c| c.join().expect("a client"))
            .collect();
        (start.elapsed(), latencies)
    });
    // Close the store's connections, so that their statistics are flushed.
    server.abort();
    drop(runtime.block_on(async { server.await.err() }));
    std::thread::sleep(std::time::Duration::from_secs(1));
    let after = runtime.block_on(round_trips(admin.as_ref(), redis));
    if let (Some(admin), Some(schema)) = (&admin, &schema) {
        runtime.block_on(async {
            let client = admin.pool().get().await.expect("a client");
            let drop = format!("DROP SCHEMA {schema} CASCADE");
            client.batch_execute(&drop).await.expect("dropped");
        });
    }
    latencies.sort_unstable_by(f64::total_cmp);
    let n = latencies.len();
    let at = |q: f64| latencies[((n - 1) as f64 * q) as usize];
    let per_request = |a: i64, b: i64| (b - a) as f64 / n as f64;
    println!(
        "| {kind} | {LOAD_CLIENTS} | {n} | {:.0} /s | {:.0} µs | {:.0} µs | {:.2} | {:.2} |",
        n as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.99),
        per_request(before.postgres, after.postgres),
        per_request(before.redis, after.redis),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "load") {
        println!(
            "| store | clients | requests | requests/s | p50 | p99 | PostgreSQL round trips per request | Redis round trips per request |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        // `cargo bench` adds `--bench` after the arguments.
        let kinds = (args.get(i + 1))
            .filter(|a| !a.starts_with('-'))
            .map_or("memory,postgres,postgres+redis", String::as_str);
        for kind in kinds.split(',') {
            load(kind);
        }
        return;
    }
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
