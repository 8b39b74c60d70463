//! [`PostgresStore`]: tokens and nonces in PostgreSQL, shared by every
//! instance of a host app (feature `postgres`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::store::sql::{
    ACCESS_TOKEN_COLUMNS, REQUEST_TOKEN_COLUMNS, SchemaTooNew, from_unix, invalid, state_columns,
    tag_columns, unix,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use time::OffsetDateTime;
use tokio_postgres::{NoTls, Row};

use crate::model::secret::{SessionHandle, TokenSecret, Verifier};
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
};
use crate::model::user::User;
use crate::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};

/// How many inserts between lazy purges of expired request tokens (and,
/// separately, of expired nonces), per store instance.
const PURGE_EVERY: u32 = 1024;

/// The advisory lock every instance takes while it creates or migrates the
/// schema (`pg_advisory_xact_lock`), so two instances starting at once do
/// not race on `CREATE TABLE`. The bytes of "oauth1pv".
const MIGRATION_LOCK: i64 = 0x6f61_7574_6831_7076;

/// The migrations, in order: `MIGRATIONS[n]` takes the schema from version
/// `n` to `n + 1`. Append only; never edit a released one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_tokens.sql"),
    include_str!("migrations/postgres/0002_sessions.sql"),
];

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
///   state = $2 AND failed_attempts = $3` (a racing writer waits for the row
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
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    request_token_inserts: AtomicU32,
    nonce_inserts: AtomicU32,
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
    pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

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
            counters: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
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
        let current: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0)::BIGINT FROM oauth1_schema_version",
                &[],
            )
            .await
            .map_err(db)?
            .get(0);
        let current = usize::try_from(current)
            .ok()
            .filter(|&c| c <= MIGRATIONS.len())
            .ok_or_else(|| {
                StoreError::new(SchemaTooNew {
                    found: current,
                    known: Self::SCHEMA_VERSION,
                })
            })?;
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            tx.batch_execute(sql).await.map_err(db)?;
            let version = i32::try_from(version + 1).map_err(|_| invalid("version"))?;
            tx.execute(
                "INSERT INTO oauth1_schema_version (version, applied_at) VALUES ($1, $2)",
                &[&version, &OffsetDateTime::now_utc().unix_timestamp()],
            )
            .await
            .map_err(db)?;
            tracing::info!(version, "PostgreSQL store schema migrated");
        }
        tx.commit().await.map_err(db)
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        let client = self.client().await?;
        let version: i64 = client
            .query_one(
                "SELECT coalesce(max(version), 0)::BIGINT FROM oauth1_schema_version",
                &[],
            )
            .await
            .map_err(db)?
            .get(0);
        u32::try_from(version).map_err(|_| invalid("version"))
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
        usize::try_from(n).map_err(|_| invalid("count"))
    }

    /// Whether this insert is the one that should purge first.
    fn purge_due(counter: &AtomicU32) -> bool {
        counter.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1
    }
}

fn text(bytes: Option<Vec<u8>>, column: &'static str) -> Result<Option<String>, StoreError> {
    bytes
        .map(|b| String::from_utf8(b).map_err(|_| invalid(column)))
        .transpose()
}

fn callback_column(callback: &Callback) -> Option<&[u8]> {
    match callback {
        Callback::Oob => None,
        Callback::Url(url) => Some(url.as_bytes()),
    }
}

fn request_token_from_row(r: &Row) -> Result<RequestToken, StoreError> {
    let get_err = |e| db(e);
    let state: String = r.try_get(9).map_err(get_err)?;
    let state = match state.as_str() {
        "issued" => RequestTokenState::Issued,
        "authorized" => {
            let user = (|| -> Result<_, tokio_postgres::Error> {
                Ok((
                    r.try_get::<_, Option<String>>(10)?,
                    r.try_get::<_, Option<String>>(11)?,
                    r.try_get::<_, Option<bool>>(12)?,
                    r.try_get::<_, Option<String>>(13)?,
                    r.try_get::<_, Option<String>>(14)?,
                ))
            })()
            .map_err(get_err)?;
            let (Some(email), Some(user_id), Some(admin), Some(auth_domain), Some(verifier)) = user
            else {
                return Err(invalid("user"));
            };
            let failed: i64 = r.try_get(15).map_err(get_err)?;
            RequestTokenState::Authorized {
                user: User {
                    email,
                    user_id,
                    admin,
                    auth_domain,
                },
                verifier: Verifier::new(verifier),
                failed_attempts: u32::try_from(failed).map_err(|_| invalid("failed_attempts"))?,
            }
        }
        "exchanged" => RequestTokenState::Exchanged,
        "denied" => RequestTokenState::Denied,
        "burned" => RequestTokenState::Burned,
        _ => return Err(invalid("state")),
    };
    Ok(RequestToken {
        token: r.try_get(0).map_err(get_err)?,
        secret: TokenSecret::new(r.try_get::<_, String>(1).map_err(get_err)?),
        consumer_key: r.try_get(2).map_err(get_err)?,
        host: r.try_get(3).map_err(get_err)?,
        callback: text(r.try_get(4).map_err(get_err)?, "callback")?
            .map_or(Callback::Oob, Callback::Url),
        scope: text(r.try_get(5).map_err(get_err)?, "scope")?,
        display_name: text(r.try_get(6).map_err(get_err)?, "display_name")?,
        created_at: from_unix(r.try_get(7).map_err(get_err)?, "created_at")?,
        expires_at: from_unix(r.try_get(8).map_err(get_err)?, "expires_at")?,
        state,
    })
}

fn access_token_from_row(r: &Row) -> Result<AccessToken, StoreError> {
    let get_err = |e| db(e);
    let revoked_at: Option<i64> = r.try_get(10).map_err(get_err)?;
    Ok(AccessToken {
        token: r.try_get(0).map_err(get_err)?,
        secret: TokenSecret::new(r.try_get::<_, String>(1).map_err(get_err)?),
        consumer_key: r.try_get(2).map_err(get_err)?,
        host: r.try_get(3).map_err(get_err)?,
        user: User {
            email: r.try_get(4).map_err(get_err)?,
            user_id: r.try_get(5).map_err(get_err)?,
            admin: r.try_get(6).map_err(get_err)?,
            auth_domain: r.try_get(7).map_err(get_err)?,
        },
        scope: text(r.try_get(8).map_err(get_err)?, "scope")?,
        created_at: from_unix(r.try_get(9).map_err(get_err)?, "created_at")?,
        expires_at: r
            .try_get::<_, Option<i64>>(11)
            .map_err(get_err)?
            .map(|at| from_unix(at, "expires_at"))
            .transpose()?,
        session: match r.try_get::<_, Option<String>>(12).map_err(get_err)? {
            None => None,
            Some(handle) => Some(Session {
                handle: SessionHandle::new(handle),
                authorization_expires_at: r
                    .try_get::<_, Option<i64>>(13)
                    .map_err(get_err)?
                    .map(|at| from_unix(at, "authorization_expires_at"))
                    .transpose()?,
            }),
        },
        state: match revoked_at {
            None => AccessTokenState::Active,
            Some(at) => AccessTokenState::Revoked {
                at: from_unix(at, "revoked_at")?,
            },
        },
    })
}

/// Inserts an access token, on a pooled client or inside a transaction (a
/// macro for the reason `cas_request_token!` is one).
macro_rules! insert_access_token {
    ($client:expr, $access:expr) => {{
        let access: &AccessToken = $access;
        let revoked_at = match access.state {
            AccessTokenState::Active => None,
            AccessTokenState::Revoked { at } => Some(unix(at)),
        };
        let session = access.session.as_ref();
        let stmt = $client
            .prepare_cached(&format!(
                "INSERT INTO oauth1_access_tokens ({ACCESS_TOKEN_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .await
            .map_err(db)?;
        $client
            .execute(
                &stmt,
                &[
                    &access.token,
                    &access.secret.secret(),
                    &access.consumer_key,
                    &access.host,
                    &access.user.email,
                    &access.user.user_id,
                    &access.user.admin,
                    &access.user.auth_domain,
                    &access.scope.as_deref().map(str::as_bytes),
                    &unix(access.created_at),
                    &revoked_at,
                    &access.expires_at.map(unix),
                    &session.map(|s| s.handle.secret()),
                    &session.and_then(|s| s.authorization_expires_at).map(unix),
                ],
            )
            .await
            .map_err(db)?;
    }};
}

/// Compare-and-set of a whole request-token record on its state tag, in one
/// statement: a concurrent writer of the same row waits for the row lock and
/// then re-evaluates the `WHERE`, so only one of them matches. A macro
/// because it runs on a pooled client or inside a transaction (deadpool's
/// `GenericClient` futures are not `Send`).
macro_rules! cas_request_token {
    ($client:expr, $expected:expr, $next:expr) => {{
        let (client, next) = ($client, $next);
        let (expected_state, expected_attempts) = tag_columns($expected);
        let s = state_columns(&next.state);
        let stmt = client
            .prepare_cached(
                "UPDATE oauth1_request_tokens SET secret = $3, consumer_key = $4, host = $5, \
                 callback = $6, scope = $7, display_name = $8, created_at = $9, \
                 expires_at = $10, state = $11, user_email = $12, user_id = $13, \
                 user_admin = $14, user_auth_domain = $15, verifier = $16, \
                 failed_attempts = $17 \
                 WHERE token = $1 AND state = $2 AND failed_attempts = $18",
            )
            .await
            .map_err(db)?;
        let changed = client
            .execute(
                &stmt,
                &[
                    &next.token,
                    &expected_state,
                    &next.secret.secret(),
                    &next.consumer_key,
                    &next.host,
                    &callback_column(&next.callback),
                    &next.scope.as_deref().map(str::as_bytes),
                    &next.display_name.as_deref().map(str::as_bytes),
                    &unix(next.created_at),
                    &unix(next.expires_at),
                    &s.name,
                    &s.user.map(|u| u.email.as_str()),
                    &s.user.map(|u| u.user_id.as_str()),
                    &s.user.map(|u| u.admin),
                    &s.user.map(|u| u.auth_domain.as_str()),
                    &s.verifier,
                    &s.failed_attempts,
                    &expected_attempts,
                ],
            )
            .await
            .map_err(db)?;
        changed == 1
    }};
}

impl TokenStore for PostgresStore {
    async fn insert_request_token(&self, t: &RequestToken) -> Result<(), StoreError> {
        let client = self.client().await?;
        if Self::purge_due(&self.counters.request_token_inserts) {
            purge_request_tokens(&client, t.created_at).await?;
        }
        let s = state_columns(&t.state);
        let stmt = client
            .prepare_cached(&format!(
                "INSERT INTO oauth1_request_tokens ({REQUEST_TOKEN_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ))
            .await
            .map_err(db)?;
        client
            .execute(
                &stmt,
                &[
                    &t.token,
                    &t.secret.secret(),
                    &t.consumer_key,
                    &t.host,
                    &callback_column(&t.callback),
                    &t.scope.as_deref().map(str::as_bytes),
                    &t.display_name.as_deref().map(str::as_bytes),
                    &unix(t.created_at),
                    &unix(t.expires_at),
                    &s.name,
                    &s.user.map(|u| u.email.as_str()),
                    &s.user.map(|u| u.user_id.as_str()),
                    &s.user.map(|u| u.admin),
                    &s.user.map(|u| u.auth_domain.as_str()),
                    &s.verifier,
                    &s.failed_attempts,
                ],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_request_token(&self, token: &str) -> Result<Option<RequestToken>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {REQUEST_TOKEN_COLUMNS} FROM oauth1_request_tokens WHERE token = $1"
            ))
            .await
            .map_err(db)?;
        let row = client.query_opt(&stmt, &[&token]).await.map_err(db)?;
        row.as_ref().map(request_token_from_row).transpose()
    }

    async fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(cas_request_token!(&client, expected, next))
    }

    async fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        // Both writes or neither: a transaction dropped without a commit
        // (a refused CAS, a failed insert, a lost connection) rolls back.
        let tx = client.transaction().await.map_err(db)?;
        if !cas_request_token!(&tx, expected, exchanged) {
            tx.rollback().await.map_err(db)?;
            return Ok(false);
        }
        insert_access_token!(&tx, access);
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn get_access_token(&self, token: &str) -> Result<Option<AccessToken>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {ACCESS_TOKEN_COLUMNS} FROM oauth1_access_tokens WHERE token = $1"
            ))
            .await
            .map_err(db)?;
        let row = client.query_opt(&stmt, &[&token]).await.map_err(db)?;
        row.as_ref().map(access_token_from_row).transpose()
    }

    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        // Both writes or neither. A concurrent refresh of the same token
        // waits for the row lock, re-evaluates `revoked_at IS NULL`, and
        // changes nothing.
        let tx = client.transaction().await.map_err(db)?;
        let stmt = tx
            .prepare_cached(
                "UPDATE oauth1_access_tokens SET revoked_at = $2 \
                 WHERE token = $1 AND revoked_at IS NULL",
            )
            .await
            .map_err(db)?;
        if tx.execute(&stmt, &[&old, &unix(at)]).await.map_err(db)? != 1 {
            tx.rollback().await.map_err(db)?;
            return Ok(false);
        }
        insert_access_token!(&tx, next);
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE oauth1_access_tokens SET revoked_at = $2 \
                 WHERE token = $1 AND revoked_at IS NULL",
            )
            .await
            .map_err(db)?;
        let changed = client
            .execute(&stmt, &[&token, &unix(at)])
            .await
            .map_err(db)?;
        Ok(changed == 1)
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE oauth1_access_tokens SET revoked_at = $3 \
                 WHERE user_id = $1 AND consumer_key = $2 AND revoked_at IS NULL",
            )
            .await
            .map_err(db)?;
        let changed = client
            .execute(&stmt, &[&user_id, &consumer_key, &unix(at)])
            .await
            .map_err(db)?;
        usize::try_from(changed).map_err(|_| invalid("count"))
    }

    async fn list_user_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        let client = self.client().await?;
        // Byte order for ties, as the memory store sorts, whatever the
        // database's collation.
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {ACCESS_TOKEN_COLUMNS} FROM oauth1_access_tokens \
                 WHERE user_id = $1 AND revoked_at IS NULL \
                 ORDER BY created_at, token COLLATE \"C\""
            ))
            .await
            .map_err(db)?;
        let rows = client.query(&stmt, &[&user_id]).await.map_err(db)?;
        rows.iter().map(access_token_from_row).collect()
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let client = self.client().await?;
        purge_request_tokens(&client, now).await
    }
}

async fn purge_request_tokens(
    client: &deadpool_postgres::Client,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let stmt = client
        .prepare_cached("DELETE FROM oauth1_request_tokens WHERE expires_at <= $1")
        .await
        .map_err(db)?;
    let n = client.execute(&stmt, &[&unix(now)]).await.map_err(db)?;
    usize::try_from(n).map_err(|_| invalid("count"))
}

async fn purge_nonces(
    client: &deadpool_postgres::Client,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let stmt = client
        .prepare_cached("DELETE FROM oauth1_nonces WHERE expires_at <= $1")
        .await
        .map_err(db)?;
    let n = client.execute(&stmt, &[&unix(now)]).await.map_err(db)?;
    usize::try_from(n).map_err(|_| invalid("count"))
}

impl NonceStore for PostgresStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        let digest = key.digest();
        let client = self.client().await?;
        if Self::purge_due(&self.counters.nonce_inserts) {
            purge_nonces(&client, now).await?;
        }
        // One statement: a new key is inserted; a remembered one is
        // overwritten only if it has expired; otherwise no row changes and the
        // nonce is a replay. Concurrent inserts of one key serialize on it.
        let stmt = client
            .prepare_cached(
                "INSERT INTO oauth1_nonces (key, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at \
                 WHERE oauth1_nonces.expires_at <= $3",
            )
            .await
            .map_err(db)?;
        let changed = client
            .execute(&stmt, &[&&digest[..], &unix(expires_at), &unix(now)])
            .await
            .map_err(db)?;
        Ok(if changed == 1 {
            NonceOutcome::Fresh
        } else {
            NonceOutcome::Replayed
        })
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let client = self.client().await?;
        purge_nonces(&client, now).await
    }
}
