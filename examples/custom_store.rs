//! A store a host might write: tokens and nonces in memory, saved to a JSON
//! file on every change. `cargo run --example custom_store` runs the
//! conformance suite on it (so does CI). What makes it correct: one writer
//! at a time, so each check-and-write is atomic; the writer changes a copy,
//! saves it (a new file renamed over the old), then publishes it, in one
//! task on Tokio's blocking pool, so a failed save changes nothing and a
//! dropped future cannot stop a change half way; a nonce is kept as its
//! `NonceKey::digest`. The file holds token secrets in the clear
//! (`model::secret_in_clear`): only its owner may read it.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use oauth1_provider::model::{AccessToken, RequestToken, StateTag, secret_in_clear};
use oauth1_provider::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};
use oauth1_provider::time::OffsetDateTime;

type Res<T> = Result<T, StoreError>;

/// Everything the store keeps, as the file holds it.
#[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Data {
    #[serde(with = "secret_in_clear")]
    requests: HashMap<String, RequestToken>,
    #[serde(with = "secret_in_clear")]
    access: HashMap<String, AccessToken>,
    /// Hex `NonceKey::digest` → the unix second from which it is forgotten.
    nonces: HashMap<String, i64>,
}

impl Data {
    /// Compare-and-set: replaces the request token if its state has `tag`.
    fn swap(&mut self, tag: StateTag, next: RequestToken) -> bool {
        let current = self.requests.get_mut(&next.token);
        let won = current.is_some_and(|t| t.state.tag() == tag);
        if won {
            self.requests.insert(next.token.clone(), next);
        }
        won
    }

    /// Revokes the access token if it is active.
    fn revoke(&mut self, token: &str, at: OffsetDateTime) -> bool {
        let token = self.access.get_mut(token).filter(|t| t.is_active());
        token.map(|t| *t = t.revoke(at)).is_some()
    }

    /// Adds the access token if `won`: the second half of an exchange or a
    /// refresh.
    fn add_if(&mut self, won: bool, token: AccessToken) -> Res<bool> {
        if won {
            add(&mut self.access, token.token.clone(), token)?;
        }
        Ok(won)
    }
}

/// Adds a token; one already stored is an error that writes nothing (the
/// `TokenStore` contract: tokens are random, so it means a bug or an attack).
fn add<V>(map: &mut HashMap<String, V>, key: String, value: V) -> Res<()> {
    if map.contains_key(&key) {
        return Err(StoreError::new(format!("token {key} is already stored")));
    }
    map.insert(key, value);
    Ok(())
}

/// Keeps what `keep` accepts; answers how many went.
fn purge<V>(map: &mut HashMap<String, V>, keep: impl Fn(&V) -> bool) -> usize {
    let before = map.len();
    map.retain(|_, v| keep(v));
    before - map.len()
}

/// Tokens and nonces saved to a JSON file. Clones share the same data.
#[derive(Clone)]
pub struct FileStore(Arc<(Mutex<PathBuf>, Mutex<Data>)>);

/// Locks, even after a panic elsewhere: the data is only replaced whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FileStore {
    /// Opens the store saved at `path`, empty if there is no file yet
    /// (blocking: call it at start-up).
    pub fn open(path: impl Into<PathBuf>) -> Res<Self> {
        let path = path.into();
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(StoreError::new)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Data::default(),
            Err(e) => return Err(StoreError::new(e)),
        };
        Ok(Self(Arc::new((Mutex::new(path), Mutex::new(data)))))
    }

    /// The data as last saved (held briefly: readers never wait for disk).
    fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.0.1)
    }

    /// Runs `f` on a copy of the data as the only writer (holding the file),
    /// on Tokio's blocking pool; if `f` changed the copy, saves it, then
    /// publishes it. An error writes nothing.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Data) -> Res<R> + Send + 'static,
    ) -> Res<R> {
        let store = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            let path = lock(&store.0.0);
            let mut next = store.data().clone();
            let answer = f(&mut next)?;
            if next != *store.data() {
                save(&path, &next).map_err(StoreError::new)?;
                *store.data() = next;
            }
            Ok(answer)
        });
        task.await.map_err(StoreError::new)?
    }
}

/// Writes a new file beside `path`, flushed to disk, and renames it over
/// `path`: the file always holds one whole snapshot.
fn save(path: &Path, data: &Data) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(&serde_json::to_vec(data)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl TokenStore for FileStore {
    async fn insert_request_token(&self, token: &RequestToken) -> Res<()> {
        let token = token.clone();
        self.write(|d| add(&mut d.requests, token.token.clone(), token))
            .await
    }

    async fn count_request_tokens(&self, consumer_key: &str, now: OffsetDateTime) -> Res<usize> {
        let data = self.data();
        let mine = data
            .requests
            .values()
            .filter(|t| t.consumer_key == consumer_key);
        Ok(mine.filter(|t| t.expires_at > now).count())
    }

    async fn get_request_token(&self, token: &str) -> Res<Option<RequestToken>> {
        Ok(self.data().requests.get(token).cloned())
    }

    async fn update_request_token(&self, tag: StateTag, next: &RequestToken) -> Res<bool> {
        let next = next.clone();
        self.write(move |d| Ok(d.swap(tag, next))).await
    }

    async fn exchange_request_token(
        &self,
        tag: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Res<bool> {
        let (exchanged, access) = (exchanged.clone(), access.clone());
        self.write(move |d| {
            let won = d.swap(tag, exchanged);
            d.add_if(won, access)
        })
        .await
    }

    async fn get_access_token(&self, token: &str) -> Res<Option<AccessToken>> {
        Ok(self.data().access.get(token).cloned())
    }

    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Res<bool> {
        let (old, next) = (old.to_owned(), next.clone());
        self.write(move |d| {
            let won = d.revoke(&old, at);
            d.add_if(won, next)
        })
        .await
    }

    async fn revoke_access_token(&self, token: &str, at: OffsetDateTime) -> Res<bool> {
        let token = token.to_owned();
        self.write(move |d| Ok(d.revoke(&token, at))).await
    }

    async fn revoke_user_tokens(
        &self,
        user: &str,
        consumer: &str,
        at: OffsetDateTime,
    ) -> Res<usize> {
        let (user, consumer) = (user.to_owned(), consumer.to_owned());
        self.write(move |d| {
            let mine = d.access.values_mut().filter(|t| t.is_active());
            let mine = mine.filter(|t| t.user.user_id == user && t.consumer_key == consumer);
            Ok(mine.map(|t| *t = t.revoke(at)).count())
        })
        .await
    }

    async fn list_user_tokens(&self, user_id: &str) -> Res<Vec<AccessToken>> {
        let data = self.data();
        let mine = data.access.values().filter(|t| t.user.user_id == user_id);
        let mut mine: Vec<_> = mine.filter(|t| t.is_active()).cloned().collect();
        mine.sort_by(|a, b| (a.created_at, &a.token).cmp(&(b.created_at, &b.token)));
        Ok(mine)
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Res<usize> {
        self.write(move |d| Ok(purge(&mut d.requests, |t| !t.is_expired(now))))
            .await
    }
}

impl NonceStore for FileStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Res<NonceOutcome> {
        let digest: String = key.digest().iter().map(|b| format!("{b:02x}")).collect();
        // Rounded up: a nonce is never forgotten early.
        let until = expires_at.unix_timestamp() + i64::from(expires_at.nanosecond() > 0);
        let now = now.unix_timestamp();
        self.write(move |d| {
            purge(&mut d.nonces, |&second| second > now); // the expired go first
            let fresh = !d.nonces.contains_key(&digest);
            d.nonces.entry(digest).or_insert(until);
            Ok(if fresh {
                NonceOutcome::Fresh
            } else {
                NonceOutcome::Replayed
            })
        })
        .await
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Res<usize> {
        let now = now.unix_timestamp();
        self.write(move |d| Ok(purge(&mut d.nonces, |&second| second > now)))
            .await
    }
}

/// Runs the conformance suite on the store, reopening it from its file as
/// after a restart.
#[tokio::main]
async fn main() {
    let path = std::env::temp_dir().join(format!("custom_store-{}.json", std::process::id()));
    let reopen = || std::future::ready(FileStore::open(&path));
    oauth1_provider::testing::run_conformance_suite_with_reopen(reopen).await;
    let _ = std::fs::remove_file(&path);
    println!("FileStore passes the conformance suite");
}
