//! [`PostgresStore`]: tokens and nonces in PostgreSQL, shared by every
//! instance of a host app (feature `postgres`).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::store::StoreError;
use crate::store::sealed::{Sealer, ServerKey};
use crate::store::sql::{
    Bound, Col, Decode, LazyPurge, SqlBackend, SqlRow, SqlValue, Statements, invalid, migrations,
    pending_migrations, row_count, schema_version, sql_store, stored_version, unix,
};

/// The advisory lock every instance takes while it creates or migrates the
/// schema (`pg_advisory_xact_lock`), so two instances starting at once do
/// not race on `CREATE TABLE`. The bytes of "oauth1pv".
const MIGRATION_LOCK: i64 = 0x6f61_7574_6831_7076;

/// The migrations, version 1 first (see [`migrations!`]).
const MIGRATIONS: &[&str] = migrations!("postgres": "0001_tokens.sql", "0002_sessions.sql", "0003_consumers.sql", "0004_events.sql", "0005_grants.sql");

/// The shared statements, with PostgreSQL's placeholders; `token` sorts by
/// its bytes in collation `C`, whatever the database's default.
static SQL: LazyLock<Statements> = LazyLock::new(|| Statements::new('$', " COLLATE \"C\""));

/// Tokens and nonces in PostgreSQL: for several instances of a host app
/// behind a load balancer, sharing tokens and replay protection.
///
/// # Behaviour
///
/// - [`connect`](Self::connect) / [`from_pool`](Self::from_pool) create or
///   migrate the schema (tables `oauth1_request_tokens`,
///   `oauth1_access_tokens`, `oauth1_nonces`, versioned in
///   `oauth1_schema_version`) in one transaction under an advisory lock, so
///   instances starting at once are safe. No database is needed at compile
///   time.
/// - Every call takes a connection from a `deadpool-postgres` pool.
/// - The guarantees are the [`MemoryStore`](crate::MemoryStore)'s, across
///   instances: compare-and-set is one `UPDATE … WHERE token = $1 AND
///   state = $17 AND failed_attempts = $18` (a racing writer waits for the row
///   lock and then re-checks the condition, so exactly one wins); an exchange
///   is one transaction that sets the request token `exchanged` and inserts
///   the access token, both or neither; a nonce is one `INSERT … ON CONFLICT
///   (key) DO UPDATE … WHERE expired`, which counts an expired, not yet
///   purged nonce as absent. Any database or pool error is a [`StoreError`]
///   keeping its source; the outcome of a call that failed is unknown, but a
///   transaction is never half applied.
/// - Times are stored as unix seconds (`BIGINT`; sub-second parts dropped).
///
/// # Secrets at rest
///
/// Token secrets and verifiers are stored as issued: HMAC signing needs the
/// secret itself, so it cannot be hashed. Protect the database like a
/// password store (roles, TLS, encrypted backups).
///
/// # Table sizes
///
/// - Nonces: one row per signed request, kept until its timestamp leaves the
///   window: about *request rate × (past window + 1 s)*, e.g. 1 000
///   requests/s with the default 300 s window ≈ 300 000 rows (≈ 30 MB with
///   the index).
/// - Request tokens: *issue rate × TTL* live ones, plus expired ones not
///   purged yet: purged every TTL (10 min by default), at most about
///   *issue rate × 2 × TTL*.
/// - Access tokens: one per grant, kept (revoked ones too) until the host
///   deletes them.
///
/// Expired request tokens and nonces are purged lazily (each instance every
/// 1024 inserts of each) and by [`TokenStore::purge_expired`] /
/// [`NonceStore::purge_nonces`] (or
/// [`Provider::purge_expired`](crate::Provider::purge_expired)), which a
/// host can run on a schedule from one instance.
///
/// [`TokenStore::purge_expired`]: crate::store::TokenStore::purge_expired
/// [`NonceStore::purge_nonces`]: crate::store::NonceStore::purge_nonces
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    purge: Arc<LazyPurge>,
    sealer: Option<Arc<Sealer>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

fn db(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::new(e)
}

impl PostgresStore {
    /// The schema version this library creates and expects.
    pub const SCHEMA_VERSION: u32 = schema_version(MIGRATIONS);

    /// Connects to `url` (`postgres://user:password@host:port/database`, or
    /// key-value form) with a pool of up to 16 connections, **without TLS**
    /// (for a database on a private network or loopback; for TLS, build a
    /// pool with a TLS connector and use [`from_pool`](Self::from_pool)), and
    /// creates or migrates the schema.
    ///
    /// Timeouts: 10 s to connect (unless the URL sets `connect_timeout`),
    /// 30 s waiting for a free pooled connection.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(db)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(db)?;
        Self::from_pool(pool).await
    }

    /// A store on the host's own pool; creates or migrates the schema.
    pub async fn from_pool(pool: Pool) -> Result<Self, StoreError> {
        let store = Self {
            pool,
            purge: Arc::default(),
            sealer: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Seals the secrets this handle writes (consumer and token secrets,
    /// verifiers, session handles) with `key`, opens those it reads, and
    /// refuses a secret that is not sealed (a [`StoreError`]); see
    /// [`ServerKey`]. Every instance on the database needs the same key.
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

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(db)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS oauth1_schema_version (
                version    INTEGER NOT NULL PRIMARY KEY,
                applied_at BIGINT  NOT NULL
            )",
        )
        .await
        .map_err(db)?;
        let current = version(&tx).await?;
        for (version, sql) in pending_migrations(MIGRATIONS, current)? {
            tx.batch_execute(sql).await.map_err(db)?;
            let version = i32::try_from(version).map_err(|_| invalid("version"))?;
            tx.execute(
                "INSERT INTO oauth1_schema_version (version, applied_at) VALUES ($1, $2)",
                &[&version, &unix(OffsetDateTime::now_utc())],
            )
            .await
            .map_err(db)?;
            tracing::info!(version, "PostgreSQL store schema migrated");
        }
        tx.commit().await.map_err(db)
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        stored_version(version(&self.client().await?).await?)
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

    async fn count(&self, sql: &str) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n: i64 = client.query_one(sql, &[]).await.map_err(db)?.get(0);
        row_count(n)
    }
}

/// The schema version recorded in the database, 0 before the first
/// migration.
async fn version(client: &impl GenericClient) -> Result<i64, StoreError> {
    let sql = "SELECT coalesce(max(version), 0)::BIGINT FROM oauth1_schema_version";
    let row = client.query_one(sql, &[]).await.map_err(db)?;
    row.try_get(0).map_err(db)
}

/// The shared mapping's value as a parameter: free text as `BYTEA`.
fn param<'a>(value: &'a SqlValue<'a>) -> &'a (dyn ToSql + Sync) {
    match value {
        SqlValue::Text(v) => v,
        SqlValue::FreeText(v) | SqlValue::Bytes(v) => v,
        SqlValue::Int(v) => v,
        SqlValue::Bool(v) => v,
    }
}

impl SqlRow for Row {
    fn text(&self, col: Col) -> Result<Option<String>, StoreError> {
        self.try_get(col.index).map_err(db)
    }
    /// Free text is `BYTEA` holding UTF-8; anything else is invalid.
    fn free_text(&self, col: Col) -> Result<Option<String>, StoreError> {
        let bytes: Option<Vec<u8>> = self.try_get(col.index).map_err(db)?;
        bytes
            .map(|b| String::from_utf8(b).map_err(|_| invalid(col.name)))
            .transpose()
    }
    fn int(&self, col: Col) -> Result<Option<i64>, StoreError> {
        self.try_get(col.index).map_err(db)
    }
    fn bool(&self, col: Col) -> Result<Option<bool>, StoreError> {
        self.try_get(col.index).map_err(db)
    }
}

/// Runs one cached statement on a pooled client or in a transaction; how
/// many rows it changed.
async fn run(client: &impl GenericClient, (sql, values): Bound<'_>) -> Result<u64, StoreError> {
    let stmt = client.prepare_cached(sql).await.map_err(db)?;
    let params: Vec<_> = values.iter().map(param).collect();
    client.execute(&stmt, &params).await.map_err(db)
}

impl SqlBackend for PostgresStore {
    fn statements(&self) -> &'static Statements {
        &SQL
    }

    fn lazy_purge(&self) -> &LazyPurge {
        &self.purge
    }

    fn sealer(&self) -> Option<&Sealer> {
        self.sealer.as_deref()
    }

    async fn execute(&self, statement: Bound<'_>) -> Result<u64, StoreError> {
        run(&self.client().await?, statement).await
    }

    async fn query<T: Send + 'static>(
        &self,
        (sql, values): Bound<'_>,
        decode: Decode<T>,
    ) -> Result<Vec<T>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        let params: Vec<_> = values.iter().map(param).collect();
        let rows = client.query(&stmt, &params).await.map_err(db)?;
        rows.iter().map(|row| decode(row)).collect()
    }

    /// A concurrent writer of `first`'s row waits for its lock, then
    /// re-evaluates the `WHERE` and changes nothing.
    async fn execute_chain(
        &self,
        first: Bound<'_>,
        then: &[Bound<'_>],
    ) -> Result<Option<Vec<u64>>, StoreError> {
        let mut client = self.client().await?;
        // All writes or none: a transaction dropped without a commit
        // (`first` refused, a later one failed, a lost connection) rolls back.
        let tx = client.transaction().await.map_err(db)?;
        if run(&tx, first).await? != 1 {
            tx.rollback().await.map_err(db)?;
            return Ok(None);
        }
        let mut changed = Vec::with_capacity(then.len());
        for &statement in then {
            changed.push(run(&tx, statement).await?);
        }
        tx.commit().await.map_err(db)?;
        Ok(Some(changed))
    }
}

sql_store!(PostgresStore);
