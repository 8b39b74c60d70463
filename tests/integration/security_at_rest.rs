//! Secrets at rest: with a server key, a dump of every table of SQLite (and
//! its files on disk) and of PostgreSQL after a full flow holds none of the
//! secrets handed to the client — consumer secret, request- and
//! access-token secrets, verifier, session handle — and the flow still
//! works. Without a key the same dump finds them (the test can fail).

use oauth1_provider::client::Signer;
use oauth1_provider::provider::ConsumerRegistration;
use oauth1_provider::provider::SessionConfig;
use oauth1_provider::store::{PostgresStore, ServerKey, SqliteStore};
use oauth1_provider::{ConsumerStore, NonceStore, Provider, ProviderConfig, SignatureMethod};

use crate::support::env::service_env;
use crate::support::harness::{ORIGIN, alice, approve_for_verifier, field, harness_on};
use crate::support::services::TempSchema;
use crate::support::temp::{TempDir, temp_db_path};

/// Runs a full flow with sessions on `store` (a consumer registered in the
/// store, an access token, a refresh, and a request token left authorized
/// with its verifier); every secret the client was handed.
async fn flow<S: ConsumerStore + NonceStore + Clone + 'static>(store: S) -> Vec<String> {
    let mut h = harness_on(store.clone());
    let mut config = ProviderConfig::default();
    config.sessions = Some(SessionConfig::default());
    h.provider = Provider::new(store.clone(), store, Default::default(), config)
        .with_clock(h.clock.clone())
        .with_stored_consumers();
    let app = h
        .provider
        .register_consumer(
            ConsumerRegistration::new("Vault test")
                .callback_prefix("https://client.example/cb")
                .approved(),
        )
        .await
        .unwrap();
    // Rotated with a grace period: the old secret is kept (sealed) too.
    let grace = oauth1_provider::time::Duration::hours(1);
    let rotated = h
        .provider
        .rotate_consumer_secret(&app.key, grace)
        .await
        .unwrap();
    let mut handed = vec![
        app.secret.secret().to_owned(),
        rotated.secret.secret().to_owned(),
    ];
    let app = rotated;
    let signer = || Signer::new(SignatureMethod::HmacSha1, &app.key, app.secret.secret());
    let request_token = || async {
        let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
        let request = h.signed(signer().callback("https://client.example/cb"), "POST", &url);
        let response = h.provider.request_token(&request.view()).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let (token, secret) = (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        );
        let verifier = approve_for_verifier(&h.provider, ORIGIN, &token, alice()).await;
        (token, secret, verifier)
    };
    // One left authorized, its verifier stored.
    let (_, pending_secret, pending_verifier) = request_token().await;
    handed.extend([pending_secret, pending_verifier]);
    let (token, secret, verifier) = request_token().await;
    let url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
    let exchange = h.signed(
        signer().token(&token, &secret).verifier(&verifier),
        "POST",
        &url,
    );
    let response = h.provider.access_token(&exchange.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let (access, access_secret, handle) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
        field(&response, "oauth_session_handle"),
    );
    handed.extend([secret, verifier, access_secret.clone(), handle.clone()]);
    // Refreshed: a new token secret, the same handle.
    let refresh = h.signed(
        signer()
            .token(&access, &access_secret)
            .header_param("oauth_session_handle", &handle),
        "POST",
        &url,
    );
    let response = h.provider.access_token(&refresh.view()).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let (fresh, fresh_secret) = (
        field(&response, "oauth_token"),
        field(&response, "oauth_token_secret"),
    );
    handed.push(fresh_secret.clone());
    // The sealed secrets open again: the refreshed token works.
    let call = h.signed(
        signer().token(&fresh, &fresh_secret),
        "GET",
        &format!("{ORIGIN}/api/whoami"),
    );
    h.provider.authenticate(&call.view()).await.unwrap();
    handed
}

/// The secrets of `handed` found in `dump`.
fn found<'a>(handed: &'a [String], dump: &str) -> Vec<&'a str> {
    handed
        .iter()
        .filter(|s| dump.contains(s.as_str()))
        .map(String::as_str)
        .collect()
}

/// Every byte of the database's files, as text.
fn sqlite_files(path: &std::path::Path) -> String {
    let mut dump = String::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(bytes) = std::fs::read(&file) {
            dump.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    dump
}

/// Every row of every table, as text.
fn sqlite_rows(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    let tables: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut dump = String::new();
    for table in tables {
        let mut rows = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = rows.column_count();
        let mut rows = rows.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i).unwrap();
                dump.push_str(&format!("{value:?}\n"));
            }
        }
    }
    dump
}

async fn sqlite_dump(key: Option<&ServerKey>) -> (Vec<String>, String) {
    let path = temp_db_path("at-rest");
    let _dir = TempDir::of(&path);
    let store = SqliteStore::open(&path).await.unwrap();
    let store = match key {
        Some(key) => store.with_server_key(key),
        None => store,
    };
    let handed = flow(store.clone()).await;
    drop(store);
    let dump = format!("{}{}", sqlite_rows(&path), sqlite_files(&path));
    (handed, dump)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holds_no_usable_secret_with_a_server_key() {
    let key = ServerKey::generate().unwrap();
    let (handed, dump) = sqlite_dump(Some(&key)).await;
    assert_eq!(handed.len(), 9);
    assert_eq!(found(&handed, &dump), Vec::<&str>::new());
    assert!(dump.contains("sealed:v1:"));
    // The control: without a key, the same dump holds them all but the
    // exchanged token's verifier, which is not kept once used.
    let (handed, dump) = sqlite_dump(None).await;
    let exchanged_verifier = handed[5].as_str();
    let missing: Vec<&str> = handed
        .iter()
        .map(String::as_str)
        .filter(|s| !found(&handed, &dump).contains(s))
        .collect();
    assert_eq!(missing, vec![exchanged_verifier]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_the_key_cannot_read_sealed_secrets() {
    let path = temp_db_path("at-rest-keyless");
    let _dir = TempDir::of(&path);
    let key = ServerKey::generate().unwrap();
    let sealed = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_server_key(&key);
    flow(sealed).await;
    let keyless = SqliteStore::open(&path).await.unwrap();
    let consumers = keyless.list_consumers(None, None).await;
    let err = consumers.expect_err("a sealed secret without the key is an error");
    let chain = std::error::Error::source(&err).unwrap().to_string();
    assert!(chain.contains("no server key"), "{chain}");
    let other = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_server_key(&ServerKey::generate().unwrap());
    let err = other.list_consumers(None, None).await.unwrap_err();
    let chain = std::error::Error::source(&err).unwrap().to_string();
    assert!(chain.contains("does not open"), "{chain}");
    assert!(!format!("{err:?}{key:?}").contains("sealed:v1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holds_no_usable_secret_with_a_server_key() {
    let Some(url) = service_env("OAUTH1_TEST_POSTGRES_URL") else {
        return;
    };
    let (schema, url) = TempSchema::create(&url).await;
    let key = ServerKey::generate().unwrap();
    let store = PostgresStore::connect(&url)
        .await
        .unwrap()
        .with_server_key(&key);
    let handed = flow(store.clone()).await;
    let client = store.pool().get().await.unwrap();
    let tables = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema.name],
        )
        .await
        .unwrap();
    assert!(tables.len() >= 5, "{} tables", tables.len());
    let mut dump = String::new();
    for table in tables {
        let name: String = table.get(0);
        for row in client
            .query(&format!("SELECT row_to_json(t)::text FROM {name} t"), &[])
            .await
            .unwrap()
        {
            dump.push_str(row.get::<_, &str>(0));
            dump.push('\n');
        }
    }
    assert_eq!(found(&handed, &dump), Vec::<&str>::new());
    assert!(dump.contains("sealed:v1:"));
    drop(client);
    schema.drop_schema().await;
}

/// A secret planted in the clear by whoever can write to the database is
/// refused by a store with a server key; a database written before the key
/// is opened with `with_server_key_accepting_unsealed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_store_refuses_secrets_planted_in_the_clear() {
    let path = temp_db_path("at-rest-planted");
    let _dir = TempDir::of(&path);
    let keyless = SqliteStore::open(&path).await.unwrap();
    let planted = oauth1_provider::Consumer::new("planted", "attacker-chosen", "Planted");
    assert!(keyless.insert_consumer(&planted).await.unwrap());
    let key = ServerKey::generate().unwrap();
    let strict = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_server_key(&key);
    let err = strict.get_consumer("planted").await.unwrap_err();
    let chain = std::error::Error::source(&err).unwrap().to_string();
    assert!(chain.contains("not sealed"), "{chain}");
    assert!(!chain.contains("attacker-chosen"), "{chain}");
    let migrating = SqliteStore::open(&path)
        .await
        .unwrap()
        .with_server_key_accepting_unsealed(&key);
    let read = migrating.get_consumer("planted").await.unwrap().unwrap();
    assert!(read.secret.ct_eq("attacker-chosen"));
    // Written again, it is sealed, and the strict store reads it.
    assert!(migrating.update_consumer(0, &read).await.unwrap());
    let read = strict.get_consumer("planted").await.unwrap().unwrap();
    assert!(read.secret.ct_eq("attacker-chosen"));
}
