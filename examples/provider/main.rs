//! A complete OAuth 1.0a provider to try clients against:
//!
//! ```text
//! cargo run --example provider [-- OPTIONS]
//!
//!   --bind ADDR                  listen here (default 127.0.0.1:8080)
//!   --public-origin URL          an origin the site is served under; repeatable
//!                                (default http://127.0.0.1:PORT and http://localhost:PORT)
//!   --trusted-proxy IP           believe this peer's Forwarded / X-Forwarded-*; repeatable
//!   --consumer KEY:SECRET[:NAME] register a consumer; repeatable
//!                                (the unregistered anonymous/anonymous is always on)
//!   --callback-prefix URL        a callback prefix registered consumers may use
//!                                besides `oob`; repeatable (default: oob only)
//!   --user EMAIL:PASSWORD[:admin] a user; repeatable (default test@example.com:password
//!                                and admin@example.com:password:admin)
//!   --store memory|sqlite:PATH   where tokens and nonces live (default
//!                                sqlite:data/provider.sqlite3, which keeps
//!                                tokens across restarts)
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
//! ```
//!
//! Then run `cargo run --example consumer` in another terminal, or point any
//! OAuth 1.0a client at the endpoints the home page lists.

mod app;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use app::{ConsumerSpec, DemoConfig, DemoStore, UserSpec};
use oauth1_provider::{MemoryStore, SqliteStore};

/// Where tokens and nonces live. Adding a store is one variant here and one
/// arm in `main`.
enum StoreChoice {
    Memory,
    Sqlite(std::path::PathBuf),
}

impl StoreChoice {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "memory" => Ok(Self::Memory),
            _ => match value.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Ok(Self::Sqlite(path.into())),
                _ => Err(format!(
                    "--store {value:?} is not available: use `memory` or `sqlite:PATH`"
                )),
            },
        }
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
    extensions: app::Extensions,
}

const USAGE: &str = "usage: provider [--bind ADDR] [--public-origin URL]... [--trusted-proxy IP]... \
    [--consumer KEY:SECRET[:NAME]]... [--callback-prefix URL]... \
    [--user EMAIL:PASSWORD[:admin]]... [--store memory|sqlite:PATH]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
        origins: Vec::new(),
        trusted_proxies: Vec::new(),
        consumers: Vec::new(),
        callback_prefixes: Vec::new(),
        users: Vec::new(),
        store: StoreChoice::Sqlite(DEFAULT_SQLITE_PATH.into()),
        extensions: app::Extensions::default(),
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(format!("{USAGE} {}", app::Extensions::USAGE));
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
            "--public-origin" => parsed.origins.push(value.trim_end_matches('/').to_owned()),
            "--trusted-proxy" => parsed.trusted_proxies.push(
                value
                    .parse()
                    .map_err(|_| "--trusted-proxy takes an IP address".to_owned())?,
            ),
            "--consumer" => parsed.consumers.push(ConsumerSpec::parse(&value)?),
            "--callback-prefix" => parsed.callback_prefixes.push(value),
            "--user" => parsed.users.push(UserSpec::parse(&value)?),
            "--store" => parsed.store = StoreChoice::parse(&value)?,
            other => match parsed.extensions.parse_flag(other, &value) {
                Some(result) => result?,
                None => {
                    let extensions = app::Extensions::USAGE;
                    return Err(format!("unknown option {other}\n{USAGE} {extensions}"));
                }
            },
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
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
    config.extensions = args.extensions;
    let served = match args.store {
        StoreChoice::Memory => serve(listener, &config, MemoryStore::new()).await,
        StoreChoice::Sqlite(path) => match SqliteStore::open(&path).await {
            Ok(store) => serve(listener, &config, store).await,
            Err(e) => Err(format!("cannot open {}: {e}", path.display())),
        },
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve<S: DemoStore>(
    listener: tokio::net::TcpListener,
    config: &DemoConfig,
    store: S,
) -> Result<(), String> {
    let demo = app::build(config, store)?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("OAuth 1.0a demo provider listening on {local}");
    for origin in &config.public_origins {
        println!("  open {origin}/");
    }
    println!("  consumers: anonymous (unverified)");
    for consumer in &config.consumers {
        println!("             {} ({})", consumer.key, consumer.name);
    }
    for user in &config.users {
        let role = if user.admin { " (admin)" } else { "" };
        println!("  user: {}{role}", user.email);
    }
    let provider = demo.provider.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(e) = provider.purge_expired().await {
                tracing::warn!(error = %e, "purging expired tokens failed");
            }
        }
    });
    axum::serve(
        listener,
        demo.router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .map_err(|e| format!("server failed: {e}"))
}
