//! [`SqliteStore`]: tokens and nonces in one SQLite file, the embedded
//! default (feature `sqlite`; `sqlite-bundled` compiles SQLite in).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::store::sql::{
    ACCESS_TOKEN_COLUMNS, REQUEST_TOKEN_COLUMNS, SchemaTooNew, from_unix, invalid, state_columns,
    tag_columns, unix,
};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::model::secret::{SessionHandle, TokenSecret, Verifier};
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
};
use crate::model::user::User;
use crate::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};

/// How long a statement waits for another process's write lock before it
/// fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many inserts between lazy purges of expired request tokens (and,
/// separately, of expired nonces).
const PURGE_EVERY: u32 = 1024;

/// The migrations, in order: `MIGRATIONS[n]` takes the schema from version
/// `n` to `n + 1`. Append only; never edit a released one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_tokens.sql"),
    include_str!("migrations/sqlite/0002_sessions.sql"),
];

/// Tokens and nonces in an SQLite database: the embedded default store, for
/// one process (or a few on one machine) whose tokens must survive a restart.
///
/// # Behaviour
///
/// - [`open`](Self::open) creates the file (and its parent directories),
///   creates or migrates the schema (recorded in `oauth1_schema_version`),
///   and switches the database to WAL mode with `synchronous = NORMAL` (a
///   power cut may lose the last transactions, never corrupt the file) and
///   a 5 s busy timeout for other processes' locks.
/// - Every call runs on Tokio's blocking pool
///   ([`tokio::task::spawn_blocking`]), never on the async worker threads, on
///   one connection behind a mutex: SQLite has a single writer anyway.
///   Call it from inside a Tokio runtime.
/// - The guarantees are the [`MemoryStore`](crate::MemoryStore)'s, also
///   across processes sharing the file: compare-and-set is one
///   `UPDATE … WHERE token = ? AND state = ? AND failed_attempts = ?`; an
///   exchange is one `IMMEDIATE` transaction that sets the request token
///   `exchanged` and inserts the access token, both or neither; a nonce is
///   one `INSERT … ON CONFLICT DO UPDATE … WHERE expired` (an expired,
///   not yet purged nonce counts as absent). Any SQLite error is a
///   [`StoreError`] keeping the `rusqlite` error as its source.
/// - Times are stored as unix seconds (sub-second parts are dropped).
///
/// # Secrets at rest
///
/// Token secrets and verifiers are stored as issued: HMAC signing needs the
/// secret itself, so it cannot be hashed. Protect the file like a password
/// database (file permissions, encrypted backups).
///
/// # Table sizes
///
/// - Nonces: one row per signed request, kept until its timestamp leaves the
///   window: about *request rate × (past window + 1 s)*, e.g. 100 requests/s
///   with the default 300 s window ≈ 30 000 rows (≈ 2 MB).
/// - Request tokens: *issue rate × TTL* live ones, plus the expired ones
///   not purged yet: purged every TTL (10 min by default), at most about
///   *issue rate × 2 × TTL*.
/// - Access tokens: one per grant, kept (revoked ones too) until deleted by
///   the host.
///
/// Expired request tokens and nonces are purged lazily (every 1024 inserts
/// of each) and by [`TokenStore::purge_expired`] / [`NonceStore::purge_nonces`]
/// (or [`Provider::purge_expired`](crate::Provider::purge_expired)), which a
/// host can run on a schedule.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    request_token_inserts: AtomicU32,
    nonce_inserts: AtomicU32,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::new(e)
}

impl SqliteStore {
    /// The schema version this library creates and expects.
    pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

    /// Opens (creating if needed) the database at `path`, creating its
    /// parent directories, and creates or migrates the schema.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let for_open = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(parent) = for_open.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(StoreError::new)?;
            }
            let mut conn = Connection::open(&for_open).map_err(db)?;
            prepare(&mut conn, true)?;
            Ok(conn)
        })
        .await
        .map_err(StoreError::new)??;
        Ok(Self::from_connection(conn, Some(path)))
    }

    /// A private in-memory database (gone when the last clone is dropped),
    /// for tests.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let conn = tokio::task::spawn_blocking(|| -> Result<Connection, StoreError> {
            let mut conn = Connection::open_in_memory().map_err(db)?;
            prepare(&mut conn, false)?;
            Ok(conn)
        })
        .await
        .map_err(StoreError::new)??;
        Ok(Self::from_connection(conn, None))
    }

    fn from_connection(conn: Connection, path: Option<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                path,
                request_token_inserts: AtomicU32::new(0),
                nonce_inserts: AtomicU32::new(0),
            }),
        }
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        self.call(|conn| {
            let version: Option<i64> = conn
                .query_row("SELECT max(version) FROM oauth1_schema_version", [], |r| {
                    r.get(0)
                })
                .map_err(db)?;
            u32::try_from(version.unwrap_or(0)).map_err(|_| invalid("version"))
        })
        .await
    }

    /// How many nonces are remembered, expired ones not yet purged included
    /// (for tests and capacity planning).
    pub async fn nonce_count(&self) -> Result<usize, StoreError> {
        self.count("SELECT count(*) FROM oauth1_nonces").await
    }

    /// How many request tokens are stored, in any state.
    pub async fn request_token_count(&self) -> Result<usize, StoreError> {
        self.count("SELECT count(*) FROM oauth1_request_tokens")
            .await
    }

    async fn count(&self, sql: &'static str) -> Result<usize, StoreError> {
        self.call(move |conn| {
            let n: i64 = conn.query_row(sql, [], |r| r.get(0)).map_err(db)?;
            usize::try_from(n).map_err(|_| invalid("count"))
        })
        .await
    }

    /// Runs `f` on the connection on Tokio's blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` unwinds through any open transaction, which
            // rolls back on drop: the connection is still consistent.
            let mut conn = inner.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(StoreError::new)?
    }

    /// Whether this insert is the one that should purge first.
    fn purge_due(counter: &AtomicU32) -> bool {
        counter.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1
    }
}

/// Pragmas and migrations on a freshly opened connection.
fn prepare(conn: &mut Connection, file: bool) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    if file {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite store could not switch to WAL mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
    }
    migrate(conn)
}

/// Creates or migrates the schema in one `IMMEDIATE` transaction, so two
/// processes opening the same new file cannot both create it.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS oauth1_schema_version (
            version    INTEGER NOT NULL PRIMARY KEY,
            applied_at INTEGER NOT NULL
        )",
    )
    .map_err(db)?;
    let current: i64 = tx
        .query_row(
            "SELECT coalesce(max(version), 0) FROM oauth1_schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    let known = SqliteStore::SCHEMA_VERSION;
    let current = usize::try_from(current)
        .ok()
        .filter(|&c| c <= MIGRATIONS.len())
        .ok_or_else(|| {
            StoreError::new(SchemaTooNew {
                found: current,
                known,
            })
        })?;
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO oauth1_schema_version (version, applied_at) VALUES (?1, ?2)",
            params![
                version as i64 + 1,
                OffsetDateTime::now_utc().unix_timestamp()
            ],
        )
        .map_err(db)?;
        tracing::info!(version = version + 1, "SQLite store schema migrated");
    }
    tx.commit().map_err(db)
}

/// A request-token row as read, before validation.
struct RequestTokenRow {
    token: String,
    secret: String,
    consumer_key: String,
    host: String,
    callback: Option<String>,
    scope: Option<String>,
    display_name: Option<String>,
    created_at: i64,
    expires_at: i64,
    state: String,
    user_email: Option<String>,
    user_id: Option<String>,
    user_admin: Option<bool>,
    user_auth_domain: Option<String>,
    verifier: Option<String>,
    failed_attempts: i64,
}

impl RequestTokenRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            token: r.get(0)?,
            secret: r.get(1)?,
            consumer_key: r.get(2)?,
            host: r.get(3)?,
            callback: r.get(4)?,
            scope: r.get(5)?,
            display_name: r.get(6)?,
            created_at: r.get(7)?,
            expires_at: r.get(8)?,
            state: r.get(9)?,
            user_email: r.get(10)?,
            user_id: r.get(11)?,
            user_admin: r.get(12)?,
            user_auth_domain: r.get(13)?,
            verifier: r.get(14)?,
            failed_attempts: r.get(15)?,
        })
    }

    fn into_token(self) -> Result<RequestToken, StoreError> {
        let state = match self.state.as_str() {
            "issued" => RequestTokenState::Issued,
            "authorized" => {
                let (Some(email), Some(user_id), Some(admin), Some(auth_domain), Some(verifier)) = (
                    self.user_email,
                    self.user_id,
                    self.user_admin,
                    self.user_auth_domain,
                    self.verifier,
                ) else {
                    return Err(invalid("user"));
                };
                RequestTokenState::Authorized {
                    user: User {
                        email,
                        user_id,
                        admin,
                        auth_domain,
                    },
                    verifier: Verifier::new(verifier),
                    failed_attempts: u32::try_from(self.failed_attempts)
                        .map_err(|_| invalid("failed_attempts"))?,
                }
            }
            "exchanged" => RequestTokenState::Exchanged,
            "denied" => RequestTokenState::Denied,
            "burned" => RequestTokenState::Burned,
            _ => return Err(invalid("state")),
        };
        Ok(RequestToken {
            token: self.token,
            secret: TokenSecret::new(self.secret),
            consumer_key: self.consumer_key,
            host: self.host,
            callback: self.callback.map_or(Callback::Oob, Callback::Url),
            scope: self.scope,
            display_name: self.display_name,
            created_at: from_unix(self.created_at, "created_at")?,
            expires_at: from_unix(self.expires_at, "expires_at")?,
            state,
        })
    }
}

fn callback_column(callback: &Callback) -> Option<&str> {
    match callback {
        Callback::Oob => None,
        Callback::Url(url) => Some(url),
    }
}

struct AccessTokenRow {
    token: String,
    secret: String,
    consumer_key: String,
    host: String,
    user: User,
    scope: Option<String>,
    created_at: i64,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    session_handle: Option<String>,
    authorization_expires_at: Option<i64>,
}

impl AccessTokenRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            token: r.get(0)?,
            secret: r.get(1)?,
            consumer_key: r.get(2)?,
            host: r.get(3)?,
            user: User {
                email: r.get(4)?,
                user_id: r.get(5)?,
                admin: r.get(6)?,
                auth_domain: r.get(7)?,
            },
            scope: r.get(8)?,
            created_at: r.get(9)?,
            revoked_at: r.get(10)?,
            expires_at: r.get(11)?,
            session_handle: r.get(12)?,
            authorization_expires_at: r.get(13)?,
        })
    }

    fn into_token(self) -> Result<AccessToken, StoreError> {
        Ok(AccessToken {
            token: self.token,
            secret: TokenSecret::new(self.secret),
            consumer_key: self.consumer_key,
            host: self.host,
            user: self.user,
            scope: self.scope,
            created_at: from_unix(self.created_at, "created_at")?,
            expires_at: self
                .expires_at
                .map(|at| from_unix(at, "expires_at"))
                .transpose()?,
            session: match self.session_handle {
                None => None,
                Some(handle) => Some(Session {
                    handle: SessionHandle::new(handle),
                    authorization_expires_at: self
                        .authorization_expires_at
                        .map(|at| from_unix(at, "authorization_expires_at"))
                        .transpose()?,
                }),
            },
            state: match self.revoked_at {
                None => AccessTokenState::Active,
                Some(at) => AccessTokenState::Revoked {
                    at: from_unix(at, "revoked_at")?,
                },
            },
        })
    }
}

fn insert_access_token(conn: &Connection, t: &AccessToken) -> Result<(), StoreError> {
    let revoked_at = match t.state {
        AccessTokenState::Active => None,
        AccessTokenState::Revoked { at } => Some(unix(at)),
    };
    conn.prepare_cached(&format!(
        "INSERT INTO oauth1_access_tokens ({ACCESS_TOKEN_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            t.token,
            t.secret.secret(),
            t.consumer_key,
            t.host,
            t.user.email,
            t.user.user_id,
            t.user.admin,
            t.user.auth_domain,
            t.scope,
            unix(t.created_at),
            revoked_at,
            t.expires_at.map(unix),
            t.session.as_ref().map(|s| s.handle.secret()),
            t.session
                .as_ref()
                .and_then(|s| s.authorization_expires_at)
                .map(unix),
        ])
    })
    .map_err(db)?;
    Ok(())
}

/// Revokes one active access token; how many rows changed (0 or 1).
fn revoke_one(conn: &Connection, token: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
    conn.prepare_cached(
        "UPDATE oauth1_access_tokens SET revoked_at = ?2 \
         WHERE token = ?1 AND revoked_at IS NULL",
    )
    .and_then(|mut s| s.execute(params![token, unix(at)]))
    .map_err(db)
}

/// Compare-and-set of a whole request-token record on its state tag.
fn cas_request_token(
    conn: &Connection,
    expected: StateTag,
    next: &RequestToken,
) -> Result<bool, StoreError> {
    let (expected_state, expected_attempts) = tag_columns(expected);
    let s = state_columns(&next.state);
    let changed = conn
        .prepare_cached(
            "UPDATE oauth1_request_tokens SET secret = ?3, consumer_key = ?4, host = ?5, \
             callback = ?6, scope = ?7, display_name = ?8, created_at = ?9, expires_at = ?10, \
             state = ?11, user_email = ?12, user_id = ?13, user_admin = ?14, \
             user_auth_domain = ?15, verifier = ?16, failed_attempts = ?17 \
             WHERE token = ?1 AND state = ?2 AND failed_attempts = ?18",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                next.token,
                expected_state,
                next.secret.secret(),
                next.consumer_key,
                next.host,
                callback_column(&next.callback),
                next.scope,
                next.display_name,
                unix(next.created_at),
                unix(next.expires_at),
                s.name,
                s.user.map(|u| &u.email),
                s.user.map(|u| &u.user_id),
                s.user.map(|u| u.admin),
                s.user.map(|u| &u.auth_domain),
                s.verifier,
                s.failed_attempts,
                expected_attempts,
            ])
        })
        .map_err(db)?;
    Ok(changed == 1)
}

impl TokenStore for SqliteStore {
    async fn insert_request_token(&self, token: &RequestToken) -> Result<(), StoreError> {
        let t = token.clone();
        let purge = Self::purge_due(&self.inner.request_token_inserts);
        self.call(move |conn| {
            if purge {
                purge_request_tokens(conn, t.created_at)?;
            }
            let s = state_columns(&t.state);
            conn.prepare_cached(&format!(
                "INSERT INTO oauth1_request_tokens ({REQUEST_TOKEN_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    t.token,
                    t.secret.secret(),
                    t.consumer_key,
                    t.host,
                    callback_column(&t.callback),
                    t.scope,
                    t.display_name,
                    unix(t.created_at),
                    unix(t.expires_at),
                    s.name,
                    s.user.map(|u| &u.email),
                    s.user.map(|u| &u.user_id),
                    s.user.map(|u| u.admin),
                    s.user.map(|u| &u.auth_domain),
                    s.verifier,
                    s.failed_attempts,
                ])
            })
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn get_request_token(&self, token: &str) -> Result<Option<RequestToken>, StoreError> {
        let token = token.to_owned();
        self.call(move |conn| {
            let row = conn
                .prepare_cached(&format!(
                    "SELECT {REQUEST_TOKEN_COLUMNS} FROM oauth1_request_tokens WHERE token = ?1"
                ))
                .and_then(|mut s| s.query_row([&token], RequestTokenRow::read).optional())
                .map_err(db)?;
            row.map(RequestTokenRow::into_token).transpose()
        })
        .await
    }

    async fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> Result<bool, StoreError> {
        let next = next.clone();
        self.call(move |conn| cas_request_token(conn, expected, &next))
            .await
    }

    async fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Result<bool, StoreError> {
        let (exchanged, access) = (exchanged.clone(), access.clone());
        self.call(move |conn| {
            // Both writes or neither: the transaction rolls back when it is
            // dropped without a commit (a refused CAS, a failed insert).
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            if !cas_request_token(&tx, expected, &exchanged)? {
                return Ok(false);
            }
            insert_access_token(&tx, &access)?;
            tx.commit().map_err(db)?;
            Ok(true)
        })
        .await
    }

    async fn get_access_token(&self, token: &str) -> Result<Option<AccessToken>, StoreError> {
        let token = token.to_owned();
        self.call(move |conn| {
            let row = conn
                .prepare_cached(&format!(
                    "SELECT {ACCESS_TOKEN_COLUMNS} FROM oauth1_access_tokens WHERE token = ?1"
                ))
                .and_then(|mut s| s.query_row([&token], AccessTokenRow::read).optional())
                .map_err(db)?;
            row.map(AccessTokenRow::into_token).transpose()
        })
        .await
    }

    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Result<bool, StoreError> {
        let (old, next) = (old.to_owned(), next.clone());
        self.call(move |conn| {
            // Both writes or neither, as for the exchange.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            if revoke_one(&tx, &old, at)? != 1 {
                return Ok(false);
            }
            insert_access_token(&tx, &next)?;
            tx.commit().map_err(db)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let token = token.to_owned();
        self.call(move |conn| Ok(revoke_one(conn, &token, at)? == 1))
            .await
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let (user_id, consumer_key) = (user_id.to_owned(), consumer_key.to_owned());
        self.call(move |conn| {
            conn.prepare_cached(
                "UPDATE oauth1_access_tokens SET revoked_at = ?3 \
                 WHERE user_id = ?1 AND consumer_key = ?2 AND revoked_at IS NULL",
            )
            .and_then(|mut s| s.execute(params![user_id, consumer_key, unix(at)]))
            .map_err(db)
        })
        .await
    }

    async fn list_user_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        let user_id = user_id.to_owned();
        self.call(move |conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT {ACCESS_TOKEN_COLUMNS} FROM oauth1_access_tokens \
                     WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY created_at, token"
                ))
                .and_then(|mut s| {
                    s.query_map([&user_id], AccessTokenRow::read)?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(db)?;
            rows.into_iter().map(AccessTokenRow::into_token).collect()
        })
        .await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.call(move |conn| purge_request_tokens(conn, now)).await
    }
}

fn purge_request_tokens(conn: &Connection, now: OffsetDateTime) -> Result<usize, StoreError> {
    conn.prepare_cached("DELETE FROM oauth1_request_tokens WHERE expires_at <= ?1")
        .and_then(|mut s| s.execute([unix(now)]))
        .map_err(db)
}

fn purge_nonces(conn: &Connection, now: OffsetDateTime) -> Result<usize, StoreError> {
    conn.prepare_cached("DELETE FROM oauth1_nonces WHERE expires_at <= ?1")
        .and_then(|mut s| s.execute([unix(now)]))
        .map_err(db)
}

impl NonceStore for SqliteStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        let digest = key.digest();
        let purge = Self::purge_due(&self.inner.nonce_inserts);
        self.call(move |conn| {
            if purge {
                purge_nonces(conn, now)?;
            }
            // One statement: a new key is inserted; a remembered one is
            // overwritten only if it has expired (its timestamp left the
            // window); otherwise nothing changes and the nonce is a replay.
            let changed = conn
                .prepare_cached(
                    "INSERT INTO oauth1_nonces (key, expires_at) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
                     WHERE oauth1_nonces.expires_at <= ?3",
                )
                .and_then(|mut s| s.execute(params![&digest[..], unix(expires_at), unix(now)]))
                .map_err(db)?;
            Ok(if changed == 1 {
                NonceOutcome::Fresh
            } else {
                NonceOutcome::Replayed
            })
        })
        .await
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.call(move |conn| purge_nonces(conn, now)).await
    }
}
