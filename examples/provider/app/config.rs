//! What the command line configures: the site's origins and proxies, its
//! consumers and users, how passwords are hashed, the extensions; and the
//! grants the site declares.

use std::net::IpAddr;

use oauth1_provider::model::{Grant, IDENTITY_GRANT};

use super::extensions::Extensions;
pub use super::guard::LoginLimits;

/// The grants the demo declares (`ProviderConfig::grants`), each with the
/// sentence its consent page shows; `identity` is the library's, built in.
/// The API's routes each need one of them.
pub const GRANTS: [(&str, &str); 4] = [
    (
        "profile.read",
        "See your email address and whether you are an administrator",
    ),
    ("photos.read", "See your photos"),
    ("photos.write", "Add and delete your photos"),
    ("admin", "Act as a site administrator"),
];

/// [`GRANTS`], as the provider declares them.
pub fn declared_grants() -> Vec<Grant> {
    GRANTS
        .iter()
        .map(|(name, sentence)| Grant::new(*name, *sentence))
        .collect()
}

/// Whether a consumer may be registered with `name`: declared, or `identity`.
pub fn is_declared_grant(name: &str) -> bool {
    name == IDENTITY_GRANT || GRANTS.iter().any(|(declared, _)| *declared == name)
}

/// Argon2id with m = 7 MiB (7168 KiB), t = 5 passes, p = 1: the
/// lowest-memory line of OWASP's Password Storage Cheat Sheet, whose lines
/// (46 MiB × 1, 19 MiB × 2, 12 MiB × 3, 9 MiB × 4, 7 MiB × 5) it deems
/// equally strong. A sign-in page pays the memory once per hash running,
/// and at most as many run as there are cores ([`LoginLimits`]): 14 MiB on
/// two cores, where the argon2 crate's default (19 MiB × 2) let 128
/// concurrent guesses take the demo to 2.5 GB.
pub const PASSWORD_HASHING: argon2::Params = match argon2::Params::new(7 * 1024, 5, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("valid Argon2 parameters"),
};

/// What the demo serves and to whom.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The origins the site is served under; a token is bound to the one it
    /// was obtained on, and a request for any other origin is refused.
    pub public_origins: Vec<String>,
    /// Proxies whose `Forwarded` / `X-Forwarded-*` headers are believed
    /// (behind a load balancer). None by default.
    pub trusted_proxies: Vec<IpAddr>,
    /// Registered consumers (the unregistered `anonymous` one is always on).
    pub consumers: Vec<ConsumerSpec>,
    /// Callback URL prefixes the registered consumers may use besides `oob`.
    pub callback_prefixes: Vec<String>,
    /// The site's users.
    pub users: Vec<UserSpec>,
    /// How passwords are hashed (Argon2id). Defaults to
    /// [`PASSWORD_HASHING`]; tests lower it to run fast.
    pub password_hashing: argon2::Params,
    /// How many sign-in attempts are allowed, and how many hashes run at
    /// once. Defaults to [`LoginLimits::default`].
    pub login_limits: LoginLimits,
    /// Opt-in protocol extensions (RSA consumers, two-legged requests, …).
    pub extensions: Extensions,
    /// Apps registered on `/developers` start approved instead of waiting
    /// for an administrator (`--auto-approve`). Defaults to false.
    pub auto_approve: bool,
}

impl DemoConfig {
    /// The defaults for a server on `port`: served as `http://127.0.0.1:PORT`
    /// and `http://localhost:PORT`, no registered consumer, two users.
    pub fn new(port: u16) -> Self {
        Self {
            public_origins: vec![
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ],
            trusted_proxies: Vec::new(),
            consumers: Vec::new(),
            callback_prefixes: Vec::new(),
            users: vec![
                UserSpec::parse("test@example.com:password").expect("valid"),
                UserSpec::parse("admin@example.com:password:admin").expect("valid"),
            ],
            password_hashing: PASSWORD_HASHING,
            login_limits: LoginLimits::default(),
            extensions: Extensions::default(),
            auto_approve: false,
        }
    }
}

/// A registered consumer: `KEY:SECRET[:NAME[:GRANTS]]`.
#[derive(Clone)]
pub struct ConsumerSpec {
    /// The consumer key.
    pub key: String,
    pub(super) secret: String,
    /// The name users see on the consent page.
    pub name: String,
    /// The grants it may ask for (names from [`GRANTS`], or `identity`);
    /// none: the whole app.
    pub grants: Vec<String>,
}

impl std::fmt::Debug for ConsumerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerSpec")
            .field("key", &self.key)
            .field("name", &self.name)
            .field("grants", &self.grants)
            .finish_non_exhaustive()
    }
}

impl ConsumerSpec {
    /// Parses `KEY:SECRET[:NAME[:GRANTS]]`, GRANTS a comma-separated list of
    /// declared grants (`photos.read,photos.write`, or `identity` for an
    /// app that only signs its users in).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let usage = || "--consumer takes KEY:SECRET[:NAME[:GRANTS]]".to_owned();
        let mut parts = spec.splitn(4, ':');
        let (Some(key), Some(secret)) = (parts.next(), parts.next()) else {
            return Err(usage());
        };
        if key.is_empty() || secret.is_empty() {
            return Err(usage());
        }
        let name = parts.next().filter(|n| !n.is_empty()).unwrap_or(key);
        let grants = match parts.next() {
            Some(list) => parse_grants(list)?,
            None => Vec::new(),
        };
        Ok(Self {
            key: key.into(),
            secret: secret.into(),
            name: name.into(),
            grants,
        })
    }
}

/// The GRANTS of `--consumer`: declared names, comma-separated, at least one.
fn parse_grants(list: &str) -> Result<Vec<String>, String> {
    let known = || {
        let mut names = vec![IDENTITY_GRANT];
        names.extend(GRANTS.iter().map(|(name, _)| *name));
        names.join(", ")
    };
    let names: Vec<&str> = list.split(',').collect();
    if let Some(unknown) = names.iter().find(|name| !is_declared_grant(name)) {
        return Err(format!(
            "--consumer: unknown grant {unknown:?} in {list:?}; GRANTS is a comma-separated \
             list of {}",
            known()
        ));
    }
    Ok(names.into_iter().map(str::to_owned).collect())
}

/// A user: `EMAIL:PASSWORD[:admin]`. The password is hashed at start-up and
/// never printed.
#[derive(Clone)]
pub struct UserSpec {
    /// The email address, which is also the login.
    pub email: String,
    pub(super) password: String,
    /// Whether the user is an admin of the site.
    pub admin: bool,
}

impl std::fmt::Debug for UserSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSpec")
            .field("email", &self.email)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl UserSpec {
    /// Parses `EMAIL:PASSWORD[:admin]` (the password may contain `:`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let usage = || "--user takes EMAIL:PASSWORD[:admin]".to_owned();
        let (email, rest) = spec.split_once(':').ok_or_else(usage)?;
        let (password, admin) = match rest.strip_suffix(":admin") {
            Some(password) => (password, true),
            None => (rest, false),
        };
        if !email.contains('@') || password.is_empty() {
            return Err(usage());
        }
        Ok(Self {
            email: email.to_ascii_lowercase(),
            password: password.into(),
            admin,
        })
    }
}
