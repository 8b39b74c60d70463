//! A test's own corner of the shared PostgreSQL and Redis servers: a fresh
//! schema, a key prefix, removed at its end, so that a test leaves nothing
//! behind and sees nothing of others.
//!
//! The servers come from `OAUTH1_TEST_POSTGRES_URL` / `OAUTH1_TEST_REDIS_URL`
//! (`source .ci/services.sh && start_services` sets both).

use oauth1_provider::store::PostgresStore;
use oauth1_provider::testing::sample_request_token;
use time::OffsetDateTime;

use crate::support::env::service_env;

/// A fresh schema in the test database, as `search_path`, for the length
/// of a test: migrations run on an empty database there.
pub struct TempSchema {
    pub admin: PostgresStore,
    pub name: String,
}

impl TempSchema {
    pub async fn create(url: &str) -> (Self, String) {
        let admin = PostgresStore::connect(url).await.expect("connect");
        let name = format!(
            "oauth1_test_{}",
            sample_request_token(OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time"))
                .token
                .to_lowercase()
                .replace(['-', '_'], "")
        );
        let client = admin.pool().get().await.expect("client");
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .expect("create schema");
        let sep = if url.contains('?') { '&' } else { '?' };
        let scoped = format!("{url}{sep}options=-csearch_path%3D{name}");
        (Self { admin, name }, scoped)
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(self) {
        let client = self.admin.pool().get().await.expect("client");
        client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name))
            .await
            .expect("drop schema");
    }
}

/// A fresh PostgreSQL schema in the test database, for demo processes
/// (`--store` [`url`](Self::url)); dropped with everything in it when this
/// is dropped, so a test leaves nothing behind and sees nothing of others.
pub struct PgSchema {
    runtime: tokio::runtime::Runtime,
    schema: Option<TempSchema>,
    /// The test database URL with this schema as its `search_path`.
    pub url: String,
}

impl PgSchema {
    /// `None` (after saying why) when `OAUTH1_TEST_POSTGRES_URL` is unset
    /// outside CI.
    pub fn create() -> Option<Self> {
        let base = service_env("OAUTH1_TEST_POSTGRES_URL")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (schema, url) = runtime.block_on(TempSchema::create(&base));
        Some(Self {
            runtime,
            schema: Some(schema),
            url,
        })
    }

    /// How many rows `table` of this schema holds.
    pub fn count(&self, table: &str) -> i64 {
        let schema = self.schema.as_ref().expect("the schema");
        self.runtime.block_on(async {
            let client = schema.admin.pool().get().await.expect("a client");
            client
                .query_one(
                    &format!("SELECT count(*) FROM {}.{table}", schema.name),
                    &[],
                )
                .await
                .expect("count")
                .get(0)
        })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let dropped = self.runtime.block_on(async {
            let client = schema.admin.pool().get().await.map_err(|e| e.to_string())?;
            client
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", schema.name))
                .await
                .map_err(|e| e.to_string())
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test schema {}: {e}", schema.name);
        }
    }
}

/// A Redis key prefix of a test's own for demo processes' nonces
/// (`--nonces URL --nonce-key-prefix PREFIX`); its keys are deleted when
/// this is dropped.
pub struct RedisPrefix {
    client: redis::Client,
    /// The Redis server's URL.
    pub url: String,
    /// The key prefix, e.g. `oauth1-test:1234-5678:`.
    pub prefix: String,
}

impl RedisPrefix {
    /// `None` (after saying why) when `OAUTH1_TEST_REDIS_URL` is unset
    /// outside CI.
    pub fn create() -> Option<Self> {
        let url = service_env("OAUTH1_TEST_REDIS_URL")?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Some(Self {
            client: redis::Client::open(url.as_str()).expect("a Redis URL"),
            prefix: format!("oauth1-test:{}-{nanos}:", std::process::id()),
            url,
        })
    }

    /// The keys under the prefix.
    pub fn keys(&self) -> Vec<String> {
        let mut connection = self.client.get_connection().expect("connect to Redis");
        redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .expect("KEYS")
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let deleted = self.client.get_connection().and_then(|mut connection| {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.prefix))
                .query(&mut connection)?;
            keys.chunks(1000).try_for_each(|chunk| {
                redis::cmd("DEL")
                    .arg(chunk)
                    .query::<i64>(&mut connection)
                    .map(drop)
            })
        });
        if let Err(e) = deleted {
            eprintln!("could not delete Redis keys {}*: {e}", self.prefix);
        }
    }
}
