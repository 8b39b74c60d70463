//! [`SqliteStore`]: tokens and nonces in one SQLite file, the embedded
//! default (feature `sqlite`; `sqlite-bundled` compiles SQLite in).

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, Row, TransactionBehavior, params, params_from_iter};
use time::OffsetDateTime;
use zeroize::Zeroize as _;

use crate::store::StoreError;
use crate::store::sealed::{Sealer, ServerKey};
use crate::store::sql::{
    Bound, Col, Decode, LazyPurge, SqlBackend, SqlRow, SqlValue, Statements, migrations,
    pending_migrations, row_count, schema_version, sql_store, stored_version, unix,
};

/// How long a statement waits for another process's write lock before it
/// fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations, version 1 first (see [`migrations!`]).
const MIGRATIONS: &[&str] = migrations!("sqlite": "0001_tokens.sql", "0002_sessions.sql", "0003_consumers.sql", "0004_events.sql", "0005_grants.sql");

/// The shared statements, with SQLite's placeholders. Text sorts by its
/// bytes (collation `BINARY`) by default.
static SQL: LazyLock<Statements> = LazyLock::new(|| Statements::new('?', ""));

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
///
/// [`TokenStore::purge_expired`]: crate::store::TokenStore::purge_expired
/// [`NonceStore::purge_nonces`]: crate::store::NonceStore::purge_nonces
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    sealer: Option<Arc<Sealer>>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    purge: LazyPurge,
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
    pub const SCHEMA_VERSION: u32 = schema_version(MIGRATIONS);

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
                purge: LazyPurge::default(),
            }),
            sealer: None,
        }
    }

    /// Seals the secrets this handle writes (consumer and token secrets,
    /// verifiers, session handles) with `key`, opens those it reads, and
    /// refuses a secret that is not sealed (a [`StoreError`]); see
    /// [`ServerKey`]. Every handle on the database needs the same key.
    pub fn with_server_key(mut self, key: &ServerKey) -> Self {
        self.sealer = Some(Arc::new(Sealer::new(key, true)));
        self
    }

    /// [`with_server_key`](Self::with_server_key) for a database written
    /// without a key: secrets that are not sealed are read as they are, and
    /// each record is sealed the next time it is written. Switch to
    /// `with_server_key` once every record has been rewritten (or expired).
    pub fn with_server_key_accepting_unsealed(mut self, key: &ServerKey) -> Self {
        self.sealer = Some(Arc::new(Sealer::new(key, false)));
        self
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        self.call(|conn| {
            let version: Option<i64> = conn
                .query_row("SELECT max(version) FROM oauth1_schema_version", [], |r| {
                    r.get(0)
                })
                .map_err(db)?;
            stored_version(version.unwrap_or(0))
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
            row_count(n)
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
    for (version, sql) in pending_migrations(MIGRATIONS, current)? {
        tx.execute_batch(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO oauth1_schema_version (version, applied_at) VALUES (?1, ?2)",
            params![version, unix(OffsetDateTime::now_utc())],
        )
        .map_err(db)?;
        tracing::info!(version, "SQLite store schema migrated");
    }
    tx.commit().map_err(db)
}

/// A value to bind, owned (it moves to the blocking pool): free text as
/// `TEXT`, bytes as a `BLOB`, a boolean as 0 or 1.
fn owned(value: &SqlValue<'_>) -> Value {
    match *value {
        SqlValue::Text(v) => v.map_or(Value::Null, |s| Value::Text(s.to_owned())),
        // The encoders make free text from a `str`: always UTF-8.
        SqlValue::FreeText(v) => v.map_or(Value::Null, |b| {
            Value::Text(String::from_utf8_lossy(b).into_owned())
        }),
        SqlValue::Bytes(v) => v.map_or(Value::Null, |b| Value::Blob(b.to_vec())),
        SqlValue::Int(v) => v.map_or(Value::Null, Value::Integer),
        SqlValue::Bool(v) => v.map_or(Value::Null, |b| Value::Integer(b.into())),
    }
}

/// A statement and its values, owned. The values hold token secrets and
/// verifiers as plain strings: they are wiped when dropped, as the secret
/// types they were copied from are.
struct Owned(&'static str, Vec<Value>);

impl Drop for Owned {
    fn drop(&mut self) {
        for value in &mut self.1 {
            match value {
                Value::Text(text) => text.zeroize(),
                Value::Blob(bytes) => bytes.zeroize(),
                _ => {}
            }
        }
    }
}

fn owned_statement((sql, values): Bound<'_>) -> Owned {
    Owned(sql, values.iter().map(owned).collect())
}

/// Runs one cached statement; how many rows it changed.
fn run(conn: &Connection, Owned(sql, values): &Owned) -> Result<u64, StoreError> {
    let changed = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.execute(params_from_iter(values)))
        .map_err(db)?;
    Ok(changed as u64)
}

impl SqlRow for Row<'_> {
    fn text(&self, col: Col) -> Result<Option<String>, StoreError> {
        self.get(col.index).map_err(db)
    }
    fn int(&self, col: Col) -> Result<Option<i64>, StoreError> {
        self.get(col.index).map_err(db)
    }
    fn bool(&self, col: Col) -> Result<Option<bool>, StoreError> {
        self.get(col.index).map_err(db)
    }
}

impl SqlBackend for SqliteStore {
    fn statements(&self) -> &'static Statements {
        &SQL
    }

    fn lazy_purge(&self) -> &LazyPurge {
        &self.inner.purge
    }

    fn sealer(&self) -> Option<&Sealer> {
        self.sealer.as_deref()
    }

    async fn execute(&self, statement: Bound<'_>) -> Result<u64, StoreError> {
        let statement = owned_statement(statement);
        self.call(move |conn| run(conn, &statement)).await
    }

    async fn query<T: Send + 'static>(
        &self,
        query: Bound<'_>,
        decode: Decode<T>,
    ) -> Result<Vec<T>, StoreError> {
        let query = owned_statement(query);
        self.call(move |conn| {
            let Owned(sql, values) = &query;
            let mut stmt = conn.prepare_cached(sql).map_err(db)?;
            let mut rows = stmt.query(params_from_iter(values)).map_err(db)?;
            let mut decoded = Vec::new();
            while let Some(row) = rows.next().map_err(db)? {
                decoded.push(decode(row)?);
            }
            Ok(decoded)
        })
        .await
    }

    async fn execute_chain(
        &self,
        first: Bound<'_>,
        then: &[Bound<'_>],
    ) -> Result<Option<Vec<u64>>, StoreError> {
        let first = owned_statement(first);
        let then: Vec<_> = then.iter().map(|&s| owned_statement(s)).collect();
        self.call(move |conn| {
            // All writes or none: the transaction rolls back when it is
            // dropped without a commit (`first` refused, a later one failed).
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            if run(&tx, &first)? != 1 {
                return Ok(None);
            }
            let changed = then
                .iter()
                .map(|statement| run(&tx, statement))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(db)?;
            Ok(Some(changed))
        })
        .await
    }
}

sql_store!(SqliteStore);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TokenStore;

    /// A database file in a fresh directory, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> Self {
            let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
            let dir = std::env::temp_dir()
                .join(format!("oauth1-sqlite-unit-{}-{nanos}", std::process::id()));
            Self(dir.join(name))
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    #[cfg(feature = "test-util")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passes_the_conformance_suite() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        crate::store::conformance::run_conformance_suite(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_version_1_database_is_migrated_and_keeps_its_rows() {
        let file = TempFile::new("v1.db");
        std::fs::create_dir_all(file.0.parent().unwrap()).unwrap();
        let conn = Connection::open(&file.0).unwrap();
        conn.execute_batch(
            "CREATE TABLE oauth1_schema_version (
                version    INTEGER NOT NULL PRIMARY KEY,
                applied_at INTEGER NOT NULL
            );
            INSERT INTO oauth1_schema_version VALUES (1, 0);",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "INSERT INTO oauth1_access_tokens (token, secret, consumer_key, host, user_email,
                user_id, user_admin, user_auth_domain, scope, created_at, revoked_at)
             VALUES ('at', 'ats', 'ck', 'example.com', 'ana@example.com', 'u-1', 1,
                'example.com', NULL, 1700000000, 1700000100)",
        )
        .unwrap();
        drop(conn);

        let store = SqliteStore::open(&file.0).await.unwrap();
        assert_eq!(
            store.schema_version().await.unwrap(),
            SqliteStore::SCHEMA_VERSION
        );
        let token = store.get_access_token("at").await.unwrap().unwrap();
        assert!(token.user.admin);
        assert_eq!((token.expires_at, token.session), (None, None));
        assert_eq!(
            token.state,
            crate::model::token::AccessTokenState::Revoked {
                at: OffsetDateTime::from_unix_timestamp(1_700_000_100).unwrap()
            }
        );
        drop(store);

        let conn = Connection::open(&file.0).unwrap();
        conn.execute(
            "INSERT INTO oauth1_schema_version VALUES (?1, 0)",
            [SqliteStore::SCHEMA_VERSION + 1],
        )
        .unwrap();
        drop(conn);
        let error = SqliteStore::open(&file.0).await.unwrap_err();
        let source = std::error::Error::source(&error).unwrap().to_string();
        let known = SqliteStore::SCHEMA_VERSION;
        assert_eq!(
            source,
            format!(
                "the database schema is version {}; this library knows up to {known}",
                known + 1
            )
        );
    }
}
