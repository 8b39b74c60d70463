//! A complete OAuth 1.0a provider to try clients against:
//!
//! ```text
//! cargo run --example provider [-- OPTIONS]
//!
//!   --bind ADDR                  listen here (default 127.0.0.1:8080)
//!   --public-origin URL          an origin the site is served under; repeatable
//!                                (default http://127.0.0.1:PORT and http://localhost:PORT);
//!                                may end in the path prefix a reverse proxy strips
//!                                (https://example.test/api)
//!   --trusted-proxy IP           believe this peer's Forwarded / X-Forwarded-*; repeatable
//!   --consumer KEY:SECRET[:NAME[:GRANTS]]
//!                                register a consumer; repeatable. GRANTS, a
//!                                comma-separated list, is what it may ask for
//!                                (photos.read,photos.write; identity alone for
//!                                an app that only signs its users in); none:
//!                                the whole account, as on App Engine. The
//!                                unregistered anonymous/anonymous is always
//!                                on and may ask for any grant
//!   --callback-prefix URL        a callback prefix registered consumers may use
//!                                besides `oob`; repeatable (default: oob only)
//!   --user EMAIL:PASSWORD[:admin] a user; repeatable (default test@example.com:password
//!                                and admin@example.com:password:admin)
//!   --store memory|sqlite:PATH|postgres://USER:PASSWORD@HOST:PORT/DB
//!                                where tokens and nonces live (default
//!                                sqlite:data/provider.sqlite3, which keeps
//!                                tokens across restarts; PostgreSQL to share
//!                                them between several instances)
//!   --nonces redis://HOST:PORT/DB
//!                                keep used nonces in Redis instead of the
//!                                --store (for several instances at high rates)
//!   --nonce-key-prefix PREFIX    with --nonces: the Redis key prefix
//!                                (default oauth1:nonce:)
//!   --secret-key-file PATH       the server key that seals secrets in the
//!                                --store (64 hex digits; created when absent).
//!                                Default: $OAUTH1_SECRET_KEY, else with SQLite
//!                                secret.key beside the database; PostgreSQL
//!                                instances must all be given the same one
//!   --auto-approve               apps registered on /developers start approved
//!                                (default: proposed, until an admin approves)
//!
//! Protocol extensions (see the README):
//!   --rsa-consumer KEY:PEM_FILE[:NAME]  a consumer signing with RSA (public key
//!                                or certificate PEM); repeatable
//!   --two-legged KEY             let a consumer make two-legged requests
//!   --requestor-domain KEY:DOMAIN let a consumer act for DOMAIN's users with
//!                                xoauth_requestor_id
//!   --require-body-hash KEY      require oauth_body_hash on a consumer's
//!                                non-form requests
//!   --sessions SECONDS           OAuth Session extension: access tokens expire
//!                                after SECONDS, refreshable with their handle
//!   --earlier-grants replace|keep  whether a user's new grant to an app revokes
//!                                the earlier ones (default replace; keep for
//!                                apps that authorize each device)
//!
//! Slow clients:
//!   --header-read-timeout SECONDS  close a connection that has not sent a whole
//!                                request head this long after it opened or
//!                                after its last response (idle keep-alive
//!                                included; default 10)
//!   --request-timeout SECONDS    answer 408 and close when a request, body
//!                                included, takes longer (default 30)
//! ```
//!
//! Grants (what an app may ask for, with `scope=` on the request-token call;
//! the consent page shows their sentences): `profile.read` (/api/whoami),
//! `photos.read` (GET /api/photos), `photos.write` (POST /api/photos,
//! DELETE /api/photos/ID), `admin` (/api/admin), and the built-in
//! `identity` (/_ah/OAuthIdentify, which every token may call).
//!
//! Several instances behind a load balancer share `--store postgres://…`
//! (and `--nonces redis://…`) and are given the same `--public-origin`s.
//! Sign-in sessions stay in each process's memory: a user signs in and
//! consents on one instance (sticky sessions); tokens work on every one.
//!
//! Then run `cargo run --example consumer` in another terminal, or point any
//! OAuth 1.0a client at the endpoints the home page lists.

mod app;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use app::config::UserSpec;
use app::extensions::Extensions;
use app::{ConsumerSpec, DemoConfig, DemoNonces, DemoStore};
use oauth1_provider::MemoryStore;
use oauth1_provider::origin::is_valid_public_origin;
use oauth1_provider::store::NonceStore;
#[cfg(feature = "postgres")]
use oauth1_provider::store::PostgresStore;
#[cfg(feature = "redis")]
use oauth1_provider::store::RedisNonceStore;
use oauth1_provider::store::{ServerKey, SqliteStore};

/// Where tokens and nonces live. Adding a store is one variant here and one
/// arm in `main`.
enum StoreChoice {
    Memory,
    Sqlite(std::path::PathBuf),
    /// A connection URL (it may hold a password: never printed).
    Postgres(String),
}

impl StoreChoice {
    fn parse(value: &str) -> Result<Self, String> {
        if value == "memory" {
            return Ok(Self::Memory);
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Self::Postgres(value.to_owned()));
        }
        match value.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(Self::Sqlite(path.into())),
            _ => Err(
                "--store takes `memory`, `sqlite:PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`"
                    .to_owned(),
            ),
        }
    }
}

/// `--nonces redis://…` (and `--nonce-key-prefix`): nonces in Redis.
struct RedisNonces {
    /// The server's URL (it may hold a password: never printed).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    url: String,
    key_prefix: Option<String>,
}

fn parse_nonces(value: &str) -> Result<String, String> {
    if value.starts_with("redis://") || value.starts_with("rediss://") {
        Ok(value.to_owned())
    } else {
        Err("--nonces takes `redis://HOST:PORT/DB`".to_owned())
    }
}

/// The embedded default store: survives restarts, needs no set-up.
const DEFAULT_SQLITE_PATH: &str = "data/provider.sqlite3";

struct Args {
    bind: SocketAddr,
    origins: Vec<String>,
    trusted_proxies: Vec<std::net::IpAddr>,
    consumers: Vec<ConsumerSpec>,
    callback_prefixes: Vec<String>,
    users: Vec<UserSpec>,
    store: StoreChoice,
    /// `--nonces`: Redis, else nonces live in the `--store`.
    nonces: Option<RedisNonces>,
    extensions: Extensions,
    /// `--secret-key-file`.
    secret_key_file: Option<std::path::PathBuf>,
    /// `--auto-approve`.
    auto_approve: bool,
    timeouts: Timeouts,
}

/// How long a slow client may hold a connection.
#[derive(Clone, Copy)]
struct Timeouts {
    /// From a connection's opening, or its last response, to a whole
    /// request head: hyper's header-read timeout, which therefore is the
    /// idle timeout of a kept-alive connection too.
    header_read: Duration,
    /// From a request's head to its response, reading the body included.
    request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

fn parse_seconds(flag: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err(format!("{flag} takes a number of seconds (at least 1)")),
    }
}

const USAGE: &str = "usage: provider [--bind ADDR] [--public-origin URL]... [--trusted-proxy IP]... \
    [--consumer KEY:SECRET[:NAME[:GRANTS]]]... [--callback-prefix URL]... \
    [--user EMAIL:PASSWORD[:admin]]... [--store memory|sqlite:PATH|postgres://…] \
    [--nonces redis://… [--nonce-key-prefix PREFIX]] [--secret-key-file PATH] [--auto-approve] \
    [--header-read-timeout SECONDS] [--request-timeout SECONDS]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
        origins: Vec::new(),
        trusted_proxies: Vec::new(),
        consumers: Vec::new(),
        callback_prefixes: Vec::new(),
        users: Vec::new(),
        store: StoreChoice::Sqlite(DEFAULT_SQLITE_PATH.into()),
        nonces: None,
        extensions: Extensions::default(),
        timeouts: Timeouts::default(),
        secret_key_file: None,
        auto_approve: false,
    };
    let mut nonce_key_prefix = None;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(format!("{USAGE} {}", Extensions::USAGE));
        }
        if flag == "--auto-approve" && inline.is_none() {
            parsed.auto_approve = true;
            continue;
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--bind" => {
                parsed.bind = value
                    .parse()
                    .map_err(|_| "--bind takes an address like 127.0.0.1:8080".to_owned())?;
            }
            "--public-origin" => {
                if !is_valid_public_origin(&value) {
                    return Err(
                        "--public-origin takes http(s)://HOST[:PORT][/PREFIX], e.g. \
                         https://example.test/api"
                            .to_owned(),
                    );
                }
                parsed.origins.push(value.trim_end_matches('/').to_owned());
            }
            "--trusted-proxy" => parsed.trusted_proxies.push(
                value
                    .parse()
                    .map_err(|_| "--trusted-proxy takes an IP address".to_owned())?,
            ),
            "--consumer" => parsed.consumers.push(ConsumerSpec::parse(&value)?),
            "--callback-prefix" => parsed.callback_prefixes.push(value),
            "--user" => parsed.users.push(UserSpec::parse(&value)?),
            "--store" => parsed.store = StoreChoice::parse(&value)?,
            "--nonces" => {
                parsed.nonces = Some(RedisNonces {
                    url: parse_nonces(&value)?,
                    key_prefix: None,
                });
            }
            "--nonce-key-prefix" => nonce_key_prefix = Some(value),
            "--secret-key-file" => parsed.secret_key_file = Some(value.into()),
            "--header-read-timeout" => {
                parsed.timeouts.header_read = parse_seconds(&flag, &value)?;
            }
            "--request-timeout" => parsed.timeouts.request = parse_seconds(&flag, &value)?,
            other => match parsed.extensions.parse_flag(other, &value) {
                Some(result) => result?,
                None => {
                    let extensions = Extensions::USAGE;
                    return Err(format!("unknown option {other}\n{USAGE} {extensions}"));
                }
            },
        }
    }
    match (&mut parsed.nonces, nonce_key_prefix) {
        (Some(redis), prefix) => redis.key_prefix = prefix,
        (None, Some(_)) => return Err(format!("--nonce-key-prefix needs --nonces\n{USAGE}")),
        (None, None) => {}
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Client-supplied values are logged as `?value` fields, escaped, so no
    // request can write a line of its own; colours only on a terminal, so
    // that a log file holds no escape codes at all.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map_or(args.bind.port(), |a| a.port());
    let mut config = DemoConfig::new(port);
    if !args.origins.is_empty() {
        config.public_origins = args.origins;
    }
    if !args.users.is_empty() {
        config.users = args.users;
    }
    config.trusted_proxies = args.trusted_proxies;
    config.consumers = args.consumers;
    config.callback_prefixes = args.callback_prefixes;
    let nonces = args.nonces;
    config.extensions = args.extensions;
    config.auto_approve = args.auto_approve;
    let had_database = matches!(&args.store, StoreChoice::Sqlite(path) if path.exists());
    let key_existed = |store: &StoreChoice| match (&args.secret_key_file, store) {
        (Some(file), _) => file.exists(),
        (None, StoreChoice::Sqlite(db)) => {
            std::env::var_os("OAUTH1_SECRET_KEY").is_some()
                || db.with_file_name("secret.key").exists()
        }
        _ => true,
    };
    let fresh_key = !key_existed(&args.store);
    let key = match server_key(args.secret_key_file.as_deref(), &args.store) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = Listener {
        tcp: listener,
        timeouts: args.timeouts,
    };
    let served = match args.store {
        StoreChoice::Memory => serve_with(listener, &config, MemoryStore::new(), nonces).await,
        StoreChoice::Sqlite(path) => match SqliteStore::open(&path).await {
            Ok(store) => {
                let store = match &key {
                    // A database from before the key: its secrets are
                    // sealed as their records are written again.
                    Some(key) if fresh_key && had_database => {
                        tracing::warn!(
                            "the database predates the server key: unsealed secrets are accepted"
                        );
                        store.with_server_key_accepting_unsealed(key)
                    }
                    Some(key) => store.with_server_key(key),
                    None => store,
                };
                serve_with(listener, &config, store, nonces).await
            }
            Err(e) => Err(format!("cannot open {}: {e}", path.display())),
        },
        StoreChoice::Postgres(url) => {
            serve_postgres(listener, &config, &url, key.as_ref(), nonces).await
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// The server key that seals the store's secrets: `--secret-key-file`
/// (created when absent), else `$OAUTH1_SECRET_KEY`, else for SQLite
/// `secret.key` beside the database (created on first run). PostgreSQL
/// without one, and the memory store, run without: warned.
fn server_key(
    file: Option<&std::path::Path>,
    store: &StoreChoice,
) -> Result<Option<ServerKey>, String> {
    let from_env = std::env::var("OAUTH1_SECRET_KEY").ok();
    let file = match (file, from_env, store) {
        (Some(file), _, _) => file.to_owned(),
        (None, Some(hex), _) => {
            let key = ServerKey::from_hex(&hex).map_err(|e| format!("OAUTH1_SECRET_KEY: {e}"))?;
            return Ok(Some(key));
        }
        (None, None, StoreChoice::Sqlite(db)) => db.with_file_name("secret.key"),
        (None, None, StoreChoice::Postgres(_)) => {
            tracing::warn!(
                "no server key (--secret-key-file or OAUTH1_SECRET_KEY): secrets are stored in \
                 the database in the clear"
            );
            return Ok(None);
        }
        (None, None, StoreChoice::Memory) => return Ok(None),
    };
    match std::fs::read_to_string(&file) {
        Ok(hex) => ServerKey::from_hex(&hex)
            .map(Some)
            .map_err(|e| format!("{}: {e}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if matches!(store, StoreChoice::Postgres(_)) {
                // Each instance would make its own, and read none of the
                // others' secrets.
                return Err(format!(
                    "{} does not exist: give every instance the same key file \
                     (64 hex digits, e.g. `openssl rand -hex 32`)",
                    file.display()
                ));
            }
            let key = ServerKey::generate().map_err(|e| e.to_string())?;
            write_private(&file, key.to_hex().as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            tracing::warn!(
                file = %file.display(),
                "generated a new server key: keep it, apart from the database backups; without \
                 it every stored secret is lost"
            );
            Ok(Some(key))
        }
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}

/// Writes `bytes` to a new file only its owner can read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// An error and its sources, `: `-separated (a `StoreError` says little
/// without its source).
#[cfg(any(feature = "postgres", feature = "redis"))]
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Serves on the PostgreSQL store at `url`.
#[cfg(feature = "postgres")]
async fn serve_postgres(
    listener: Listener,
    config: &DemoConfig,
    url: &str,
    key: Option<&ServerKey>,
    nonces: Option<RedisNonces>,
) -> Result<(), String> {
    match PostgresStore::connect(url).await {
        Ok(store) => {
            let store = match key {
                Some(key) => store.with_server_key(key),
                None => store,
            };
            serve_with(listener, config, store, nonces).await
        }
        Err(e) => Err(format!("cannot use the PostgreSQL store: {}", chain(&e))),
    }
}

/// A light build (`cargo run --example provider`) has no PostgreSQL driver.
#[cfg(not(feature = "postgres"))]
async fn serve_postgres(
    _: Listener,
    _: &DemoConfig,
    _: &str,
    _: Option<&ServerKey>,
    _: Option<RedisNonces>,
) -> Result<(), String> {
    Err(not_built("--store postgres://…", "postgres"))
}

/// Why an option of a light build does nothing: the feature it needs.
#[cfg(not(all(feature = "postgres", feature = "redis")))]
fn not_built(option: &str, feature: &str) -> String {
    format!(
        "{option} needs the demo built with it: cargo run --example provider --features {feature}"
    )
}

/// Serves on `tokens`, with nonces in Redis when `nonces` says so.
async fn serve_with<S: DemoStore + NonceStore>(
    listener: Listener,
    config: &DemoConfig,
    tokens: S,
    nonces: Option<RedisNonces>,
) -> Result<(), String> {
    match nonces {
        None => serve(listener, config, app::build(config, tokens)?).await,
        Some(redis) => serve_with_redis(listener, config, tokens, redis).await,
    }
}

/// Serves on `tokens`, with nonces in Redis.
#[cfg(feature = "redis")]
async fn serve_with_redis<S: DemoStore>(
    listener: Listener,
    config: &DemoConfig,
    tokens: S,
    redis: RedisNonces,
) -> Result<(), String> {
    let mut nonces = RedisNonceStore::connect(&redis.url)
        .await
        .map_err(|e| format!("cannot use the Redis nonce store: {}", chain(&e)))?;
    if let Some(prefix) = redis.key_prefix {
        nonces = nonces.with_key_prefix(prefix);
    }
    println!("  nonces: Redis");
    serve(listener, config, app::build_split(config, tokens, nonces)?).await
}

/// A light build (`cargo run --example provider`) has no Redis client.
#[cfg(not(feature = "redis"))]
async fn serve_with_redis<S: DemoStore>(
    _: Listener,
    _: &DemoConfig,
    _: S,
    _: RedisNonces,
) -> Result<(), String> {
    Err(not_built("--nonces redis://…", "redis"))
}

/// How long the demo keeps audit events (`/account`, `/admin/events`).
const EVENT_RETENTION: time::Duration = time::Duration::days(30);

async fn serve<S: DemoStore, N: DemoNonces>(
    listener: Listener,
    config: &DemoConfig,
    demo: app::DemoApp<S, N>,
) -> Result<(), String> {
    let local = listener.tcp.local_addr().map_err(|e| e.to_string())?;
    println!("OAuth 1.0a demo provider listening on {local}");
    for origin in &config.public_origins {
        println!("  open {origin}/");
    }
    println!("  consumers: anonymous (unverified; any grant)");
    for consumer in &config.consumers {
        let grants = match consumer.grants.as_slice() {
            [] => "the whole account".to_owned(),
            grants => grants.join(", "),
        };
        println!(
            "             {} ({}; {grants})",
            consumer.key, consumer.name
        );
    }
    let grants = app::config::GRANTS.map(|(name, _)| name).join(", ");
    println!("  grants: identity, {grants}");
    for user in &config.users {
        let role = if user.admin { " (admin)" } else { "" };
        println!("  user: {}{role}", user.email);
    }
    println!("  apps: register on /developers, review on /admin/consumers");
    // Expired request tokens and nonces go once a minute.
    demo.provider.spawn_purger(Duration::from_secs(60)).detach();
    // Audit events are kept for 30 days; older ones go once an hour.
    let provider = demo.provider.clone();
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            if let Err(e) = provider.purge_events(EVENT_RETENTION).await {
                tracing::warn!(error = %e, "could not purge old audit events");
            }
        }
    });
    let Listener { tcp, timeouts } = listener;
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors, a connection reset before accept…:
            // the listener itself is fine.
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            demo.router.clone(),
            timeouts,
        ));
    }
}

/// Serves one HTTP/1.1 connection with the slow-client timeouts (which
/// `axum::serve` does not set: a client could hold a connection open for
/// ever by sending nothing, or a header line now and then).
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    timeouts: Timeouts,
) {
    use tower::ServiceExt as _;
    let service = hyper::service::service_fn(move |mut request: axum::extract::Request<_>| {
        // What `into_make_service_with_connect_info` would add: the
        // adapters read the peer to decide whether to trust its proxy
        // headers, and the sign-in limits count by it.
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let router = router.clone();
        async move {
            match tokio::time::timeout(timeouts.request, router.oneshot(request)).await {
                Ok(response) => response,
                Err(_) => Ok(request_timed_out()),
            }
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// 408, and the connection closed: the request took too long to arrive.
fn request_timed_out() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        axum::http::StatusCode::REQUEST_TIMEOUT,
        [(axum::http::header::CONNECTION, "close")],
        "The request took too long to arrive.\n",
    )
        .into_response()
}

/// The listening socket and how long slow clients may hold a connection.
struct Listener {
    tcp: tokio::net::TcpListener,
    timeouts: Timeouts,
}
