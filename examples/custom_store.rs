//! A store a host might write (`cargo run --example custom_store`): tokens
//! and used nonces in memory, saved to a JSON file on every change (feature
//! `serde`). `tests/integration/custom_store.rs` runs the conformance suite
//! on it. What makes it correct:
//! - one writer at a time, so each check-and-write (compare-and-set on the
//!   `StateTag`, exchange, refresh, insert-if-absent of a nonce) is atomic;
//! - a writer changes a copy, saves it (a new file renamed over the old),
//!   then publishes it, all in one task on Tokio's blocking pool: a failed
//!   save changes nothing, a dropped future cannot stop a change half way,
//!   and readers, who take the published copy, never wait for the disk;
//! - a nonce is kept as its `NonceKey::digest`, not the request's strings.
//!
//! The file holds token secrets in the clear (`model::secret_in_clear`), so
//! only its owner may read it. Each change rewrites it: for a small host.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use oauth1_provider::model::{AccessToken, RequestToken, StateTag, User, Verifier};
use oauth1_provider::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};
use time::{Duration, OffsetDateTime};

type Res<T> = Result<T, StoreError>;

/// Everything the store keeps, as the file holds it.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
struct Data {
    requests: HashMap<String, RequestToken>,
    access: HashMap<String, AccessToken>,
    /// Hex `NonceKey::digest` → the unix second from which it is forgotten.
    nonces: HashMap<String, i64>,
}

impl Data {
    /// Compare-and-set: replaces the request token if its state has `tag`.
    fn swap(&mut self, tag: StateTag, next: RequestToken) -> bool {
        match self.requests.get_mut(&next.token) {
            Some(t) if t.state.tag() == tag => {
                *t = next;
                true
            }
            _ => false,
        }
    }

    /// Revokes the access token if it is active.
    fn revoke(&mut self, token: &str, at: OffsetDateTime) -> bool {
        match self.access.get_mut(token) {
            Some(t) if t.is_active() => {
                *t = t.revoke(at);
                true
            }
            _ => false,
        }
    }
}

/// Keeps what `keep` accepts; answers how many went, if any did.
fn purge<V>(map: &mut HashMap<String, V>, keep: impl Fn(&V) -> bool) -> Option<usize> {
    let before = map.len();
    map.retain(|_, v| keep(v));
    Some(before - map.len()).filter(|&n| n > 0)
}

/// A token string already stored is an error that writes nothing: the
/// `TokenStore` contract (tokens are random, so it means a bug or an attack).
fn unique(stored: bool, token: &str) -> Res<()> {
    match stored {
        true => Err(StoreError::new(format!("token {token} is already stored"))),
        false => Ok(()),
    }
}

/// Tokens and nonces saved to a JSON file. Clones share the same data.
#[derive(Clone)]
pub struct FileStore(Arc<Shared>);

struct Shared {
    /// Held by the writer, until its change is saved.
    file: Mutex<PathBuf>,
    /// The data as last saved, for readers: held only to copy the `Arc`.
    data: Mutex<Arc<Data>>,
}

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
        let (file, data) = (Mutex::new(path), Mutex::new(Arc::new(data)));
        Ok(Self(Arc::new(Shared { file, data })))
    }

    fn data(&self) -> Arc<Data> {
        lock(&self.0.data).clone()
    }

    /// Runs `f` on a copy of the data, as the only writer, on the blocking
    /// pool. `f` answers `Some` if it changed the copy, which is then saved
    /// and published; `None` if not, and the answer is `unchanged`; an error,
    /// and nothing is written.
    async fn write<R, F>(&self, unchanged: R, f: F) -> Res<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Data) -> Res<Option<R>> + Send + 'static,
    {
        let store = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            let path = lock(&store.0.file);
            let mut next = Data::clone(&store.data());
            let Some(answer) = f(&mut next)? else {
                return Ok(unchanged);
            };
            save(&path, &next).map_err(StoreError::new)?;
            *lock(&store.0.data) = Arc::new(next);
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
        self.write((), |d| {
            unique(d.requests.contains_key(&token.token), &token.token)?;
            d.requests.insert(token.token.clone(), token);
            Ok(Some(()))
        })
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
        self.write(false, move |d| Ok(d.swap(tag, next).then_some(true)))
            .await
    }

    async fn exchange_request_token(
        &self,
        tag: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Res<bool> {
        let (exchanged, access) = (exchanged.clone(), access.clone());
        self.write(false, move |d| {
            let won = d.swap(tag, exchanged);
            if won {
                unique(d.access.contains_key(&access.token), &access.token)?;
                d.access.insert(access.token.clone(), access);
            }
            Ok(won.then_some(true))
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
        self.write(false, move |d| {
            let won = d.revoke(&old, at);
            if won {
                unique(d.access.contains_key(&next.token), &next.token)?;
                d.access.insert(next.token.clone(), next);
            }
            Ok(won.then_some(true))
        })
        .await
    }

    async fn revoke_access_token(&self, token: &str, at: OffsetDateTime) -> Res<bool> {
        let token = token.to_owned();
        self.write(false, move |d| Ok(d.revoke(&token, at).then_some(true)))
            .await
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Res<usize> {
        let (user_id, consumer_key) = (user_id.to_owned(), consumer_key.to_owned());
        self.write(0, move |d| {
            let mut revoked = 0;
            for t in d.access.values_mut() {
                if t.is_active() && t.user.user_id == user_id && t.consumer_key == consumer_key {
                    *t = t.revoke(at);
                    revoked += 1;
                }
            }
            Ok((revoked > 0).then_some(revoked))
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
        self.write(0, move |d| {
            Ok(purge(&mut d.requests, |t| !t.is_expired(now)))
        })
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
        self.write(NonceOutcome::Replayed, move |d| {
            purge(&mut d.nonces, |&second| second > now); // the expired go first
            let fresh = d.nonces.insert(digest, until).is_none();
            Ok(fresh.then_some(NonceOutcome::Fresh))
        })
        .await
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Res<usize> {
        let now = now.unix_timestamp();
        self.write(0, move |d| Ok(purge(&mut d.nonces, |&second| second > now)))
            .await
    }
}

/// Takes a token through its life on the store, reopens the file as after a
/// restart, and shows what came back.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use oauth1_provider::testing::{sample_access_token, sample_request_token};
    let path = std::env::temp_dir().join(format!("custom_store-{}.json", std::process::id()));
    let (store, now) = (FileStore::open(&path)?, OffsetDateTime::now_utc());
    let user = User::new("ada@example.com", "ada");
    let issued = sample_request_token(now);
    store.insert_request_token(&issued).await?;
    let approved = issued.approve(user.clone(), Verifier::new("v"), now)?;
    let approve = store.update_request_token(StateTag::Issued, &approved);
    println!("approved: {}", approve.await?);
    let (exchanged, _) = approved.exchange("v", 3, now)?.map_err(|_| "refused")?;
    let access = sample_access_token(&approved, &user, now);
    let exchange = store.exchange_request_token(approved.state.tag(), &exchanged, &access);
    println!("exchanged: {}", exchange.await?);
    let key = NonceKey {
        consumer_key: "key",
        token: "",
        timestamp: 1,
        nonce: "n",
    };
    let window = now + Duration::minutes(5);
    println!(
        "a nonce: {:?}",
        store.insert_nonce(&key, now, window).await?
    );
    let size = std::fs::metadata(&path)?.len();
    println!("saved to {} ({size} bytes)", path.display());

    drop(store); // a restart
    let store = FileStore::open(&path)?;
    let again = store.insert_nonce(&key, now, window).await?;
    println!("reopened: the same nonce again: {again:?}");
    let request = store.get_request_token(&issued.token).await?;
    println!("request token: {:?}", request.map(|t| t.state));
    for token in store.list_user_tokens(&user.user_id).await? {
        println!("{}'s access token: {token:#?}", user.email);
    }
    Ok(std::fs::remove_file(&path)?)
}
