//! [`MemoryStore`]: tokens and nonces in process memory, the reference
//! implementation of the store traits.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::model::consumer::{Consumer, ConsumerState};
use crate::model::token::{AccessToken, RequestToken, StateTag};
use crate::store::{
    ConsumerStore, EventStore, NonceKey, NonceOutcome, NonceStore, StoreError, StoredEvent,
    TokenStore,
};

/// How many request-token inserts at least between lazy purges of expired
/// request tokens in [`MemoryStore`].
const PURGE_EVERY: usize = 1024;

#[derive(Debug, Default)]
struct MemoryInner {
    request_tokens: HashMap<String, RequestToken>,
    request_token_inserts: usize,
    /// Shared with the requests that use them ([`TokenStore::get_access_token_shared`]);
    /// a change replaces the `Arc`.
    access_tokens: HashMap<String, Arc<AccessToken>>,
    nonces: MemoryNonces,
    consumers: HashMap<String, Consumer>,
    /// The keys of deleted consumers: never reused, and never issued a
    /// token again.
    deleted_consumers: HashSet<String>,
    /// Audit events, oldest first.
    events: VecDeque<StoredEvent>,
}

/// Tokens and nonces in process memory, behind one mutex: for tests and
/// single-process demos. Clones share the same data.
///
/// Memory stays bounded. A nonce is remembered as a 64-bit keyed
/// fingerprint of its [`NonceKey`] (the strings themselves are not kept),
/// filed by its timestamp: about 10.6 bytes each in a steady stream of
/// 3,500 requests a second, 18.9 when a million share one second (`cargo
/// bench --bench nonces`; `docs/performance.md`). A second's nonces are
/// forgotten together on the first insert after they expire, at a cost
/// proportional to what expired, never to what is stored. Expired request
/// tokens are purged lazily by a scan after as many inserts as there are
/// stored tokens (at least 1024), so the scan costs O(1) per insert; and by
/// [`TokenStore::purge_expired`] / [`NonceStore::purge_nonces`]. Access
/// tokens live until revoked.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<MemoryInner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemoryInner> {
        // Every critical section leaves the maps consistent, so a panic in
        // another thread does not make the data unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many nonces are remembered (for tests and capacity planning).
    pub fn nonce_count(&self) -> usize {
        self.lock().nonces.remembered
    }

    /// How many request tokens are stored, in any state.
    pub fn request_token_count(&self) -> usize {
        self.lock().request_tokens.len()
    }
}

impl MemoryInner {
    /// Purges expired request tokens once as many tokens were inserted since
    /// the last purge as are stored (at least [`PURGE_EVERY`]): the scan is
    /// paid for by the inserts, and at most half the tokens can be expired
    /// leftovers (plus `PURGE_EVERY`).
    fn maybe_purge_request_tokens(&mut self, now: OffsetDateTime) {
        self.request_token_inserts += 1;
        if self.request_token_inserts >= PURGE_EVERY.max(self.request_tokens.len()) {
            self.request_token_inserts = 0;
            self.request_tokens.retain(|_, t| t.expires_at > now);
        }
    }
}

/// Fingerprints of nonces, hashed as they are (see [`Spread`]).
type FingerprintSet = HashSet<Fingerprint, Spread>;

/// The nonces a [`MemoryStore`] remembers.
///
/// Each is kept as a [`Fingerprint`] — 8 bytes, where the key's strings
/// would take a hundred or more — filed by the key's timestamp, then by the
/// second it expires.
///
/// Why by timestamp: a replay repeats the timestamp (it is part of the key),
/// so a nonce is only ever looked for among those of its own timestamp, and
/// nearly every request carries a timestamp within seconds of now. So each
/// request touches one small, recently used set, where a single table of
/// every live nonce (a million at 3,500 requests a second) costs a cache
/// miss on every insert and on every expiry; and a whole second of nonces is
/// forgotten by dropping its set, without scanning the live ones.
#[derive(Debug, Default)]
struct MemoryNonces {
    /// For each timestamp, its nonces by the second they expire (rounded
    /// up): one set per (timestamp, expiry second) — one per timestamp as
    /// the provider files them (a nonce expires a fixed time after its
    /// timestamp).
    ///
    /// The timestamps are hashed with a keyed SipHash: with a window
    /// stretched wide, a client could otherwise choose many that share a
    /// slot of the table.
    by_timestamp: HashMap<u64, Vec<(i64, FingerprintSet)>>,
    /// The (expiry second, timestamp) of every set, earliest expiry first:
    /// purging reads only the front, and nearly every new set goes to the
    /// back.
    expiring: VecDeque<(i64, u64)>,
    /// How many fingerprints the sets hold.
    remembered: usize,
    /// The secret SipHash key of the fingerprints.
    fingerprint_key: RandomState,
}

impl MemoryNonces {
    /// Forgets the nonces expired at `now`; returns how many.
    fn purge(&mut self, now: OffsetDateTime) -> usize {
        let now = now.unix_timestamp();
        let mut purged = 0;
        while self
            .expiring
            .front()
            .is_some_and(|(second, _)| *second <= now)
        {
            let Some((second, timestamp)) = self.expiring.pop_front() else {
                break;
            };
            let Some(sets) = self.by_timestamp.get_mut(&timestamp) else {
                continue;
            };
            if let Some(i) = sets.iter().position(|(s, _)| *s == second) {
                purged += sets.swap_remove(i).1.len();
            }
            if sets.is_empty() {
                self.by_timestamp.remove(&timestamp);
            }
        }
        self.remembered -= purged;
        purged
    }

    /// Remembers `key` until `expires_at` unless it is remembered already.
    fn insert(
        &mut self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> NonceOutcome {
        // Expired nonces go first: their timestamps have left the window, so
        // seeing one again is a fresh use, as a purge-then-insert store says.
        self.purge(now);
        let fingerprint = Fingerprint(self.fingerprint_key.hash_one(key));
        let sets = self.by_timestamp.entry(key.timestamp).or_default();
        if sets.iter().any(|(_, set)| set.contains(&fingerprint)) {
            return NonceOutcome::Replayed;
        }
        // Rounded up, so that a nonce is never forgotten early.
        let second = expires_at.unix_timestamp() + i64::from(expires_at.nanosecond() > 0);
        match sets.iter_mut().find(|(s, _)| *s == second) {
            Some((_, set)) => {
                set.insert(fingerprint);
            }
            None => {
                let mut set = FingerprintSet::with_hasher(Spread);
                set.insert(fingerprint);
                sets.push((second, set));
                let at = self.expiring.partition_point(|&(s, _)| s <= second);
                self.expiring.insert(at, (second, key.timestamp));
            }
        }
        self.remembered += 1;
        NonceOutcome::Fresh
    }
}

/// 64 bits of a keyed hash (SipHash, a random key) of a [`NonceKey`].
///
/// Equal keys have equal fingerprints, so a replay is always caught. A
/// fingerprint is only compared with those of the same timestamp (see
/// [`MemoryNonces`]): at 3,500 requests a second, a fresh nonce shares one
/// with a remembered nonce of its second with probability under 2⁻⁵², once
/// in some 50,000 years of such traffic. The key is secret, so a client
/// cannot aim for a collision, and the only effect of one would be a fresh
/// nonce refused as replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint(u64);

impl Hash for Fingerprint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a keyed hash: the set uses it as it is.
        state.write_u64(self.0);
    }
}

/// Hashes a [`Fingerprint`] with one multiplication by an odd constant
/// (Fibonacci hashing): a bijection, so the fingerprint — already a keyed
/// hash, uniformly distributed and unpredictable — stays so (hashing it
/// again would be wasted work), with its bits carried up into the top ones
/// the table's control bytes are made of.
#[derive(Debug, Clone, Copy, Default)]
struct Spread;

impl BuildHasher for Spread {
    type Hasher = SpreadHasher;

    fn build_hasher(&self) -> SpreadHasher {
        SpreadHasher(0)
    }
}

struct SpreadHasher(u64);

impl Hasher for SpreadHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (`Fingerprint`'s `Hash`); fold anything
        // else in rather than ignore it.
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // 2⁶⁴ / φ, odd: a bijection that carries every input bit upwards,
        // into the top bits the table's control bytes are made of.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl TokenStore for MemoryStore {
    async fn insert_request_token(&self, token: &RequestToken) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.maybe_purge_request_tokens(token.created_at);
        if inner.request_tokens.contains_key(&token.token) {
            return Err(StoreError::new("duplicate request token"));
        }
        if inner.deleted_consumers.contains(&token.consumer_key) {
            return Err(StoreError::new("the consumer was deleted"));
        }
        inner
            .request_tokens
            .insert(token.token.clone(), token.clone());
        Ok(())
    }

    async fn count_request_tokens(
        &self,
        consumer_key: &str,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let inner = self.lock();
        Ok(inner
            .request_tokens
            .values()
            .filter(|t| t.consumer_key == consumer_key && t.expires_at > now)
            .count())
    }

    async fn get_request_token(&self, token: &str) -> Result<Option<RequestToken>, StoreError> {
        Ok(self.lock().request_tokens.get(token).cloned())
    }

    async fn update_request_token(
        &self,
        expected: StateTag,
        next: &RequestToken,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.request_tokens.get_mut(&next.token) {
            Some(current) if current.state.tag() == expected => {
                *current = next.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn exchange_request_token(
        &self,
        expected: StateTag,
        exchanged: &RequestToken,
        access: &AccessToken,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.access_tokens.contains_key(&access.token) {
            return Err(StoreError::new("duplicate access token"));
        }
        let deleted = inner.deleted_consumers.contains(&access.consumer_key);
        match inner.request_tokens.get_mut(&exchanged.token) {
            Some(current) if current.state.tag() == expected && !deleted => {
                *current = exchanged.clone();
                inner
                    .access_tokens
                    .insert(access.token.clone(), Arc::new(access.clone()));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get_access_token(&self, token: &str) -> Result<Option<AccessToken>, StoreError> {
        Ok(self.lock().access_tokens.get(token).map(|t| (**t).clone()))
    }

    async fn get_access_token_shared(
        &self,
        token: &str,
    ) -> Result<Option<Arc<AccessToken>>, StoreError> {
        Ok(self.lock().access_tokens.get(token).cloned())
    }

    async fn refresh_access_token(
        &self,
        old: &str,
        at: OffsetDateTime,
        next: &AccessToken,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.access_tokens.contains_key(&next.token) {
            return Err(StoreError::new("duplicate access token"));
        }
        match inner.access_tokens.get_mut(old) {
            Some(current) if current.is_active() => {
                *current = Arc::new(current.revoke(at));
                inner
                    .access_tokens
                    .insert(next.token.clone(), Arc::new(next.clone()));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_access_token(
        &self,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.access_tokens.get_mut(token) {
            Some(t) if t.is_active() => {
                *t = Arc::new(t.revoke(at));
                true
            }
            _ => false,
        })
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        Ok(revoke_where(&mut self.lock(), at, |t| {
            t.user.user_id == user_id && t.consumer_key == consumer_key
        }))
    }

    async fn list_user_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        Ok(active_tokens(&self.lock(), |t| t.user.user_id == user_id))
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let before = inner.request_tokens.len();
        inner.request_tokens.retain(|_, t| t.expires_at > now);
        Ok(before - inner.request_tokens.len())
    }
}

impl ConsumerStore for MemoryStore {
    async fn insert_consumer(&self, consumer: &Consumer) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let taken = inner.consumers.contains_key(&consumer.key)
            || inner.deleted_consumers.contains(&consumer.key);
        if !taken {
            let stored = Consumer {
                revision: 0,
                ..consumer.clone()
            };
            inner.consumers.insert(consumer.key.clone(), stored);
        }
        Ok(!taken)
    }

    async fn get_consumer(&self, key: &str) -> Result<Option<Consumer>, StoreError> {
        Ok(self.lock().consumers.get(key).cloned())
    }

    async fn update_consumer(&self, expected: u64, next: &Consumer) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.consumers.get_mut(&next.key) {
            Some(current) if current.revision == expected => {
                *current = Consumer {
                    revision: expected + 1,
                    ..next.clone()
                };
                true
            }
            _ => false,
        })
    }

    async fn delete_consumer(
        &self,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<Option<usize>, StoreError> {
        let mut inner = self.lock();
        if inner.consumers.remove(key).is_none() {
            return Ok(None);
        }
        inner.deleted_consumers.insert(key.to_owned());
        inner.request_tokens.retain(|_, t| t.consumer_key != key);
        Ok(Some(revoke_where(&mut inner, at, |t| {
            t.consumer_key == key
        })))
    }

    async fn list_consumers(
        &self,
        state: Option<ConsumerState>,
        owner: Option<&str>,
    ) -> Result<Vec<Consumer>, StoreError> {
        let inner = self.lock();
        let mut consumers: Vec<Consumer> = inner
            .consumers
            .values()
            .filter(|c| state.is_none_or(|s| c.state == s))
            .filter(|c| owner.is_none_or(|o| c.owner.as_deref() == Some(o)))
            .cloned()
            .collect();
        consumers.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(consumers)
    }

    async fn list_consumer_tokens(
        &self,
        consumer_key: &str,
    ) -> Result<Vec<AccessToken>, StoreError> {
        Ok(active_tokens(&self.lock(), |t| {
            t.consumer_key == consumer_key
        }))
    }

    async fn revoke_consumer_tokens(
        &self,
        consumer_key: &str,
        at: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        Ok(revoke_where(&mut self.lock(), at, |t| {
            t.consumer_key == consumer_key
        }))
    }
}

/// Revokes at `at` every active access token `which` picks; how many.
fn revoke_where(
    inner: &mut MemoryInner,
    at: OffsetDateTime,
    which: impl Fn(&AccessToken) -> bool,
) -> usize {
    let mut revoked = 0;
    for t in inner.access_tokens.values_mut() {
        if t.is_active() && which(t) {
            *t = Arc::new(t.revoke(at));
            revoked += 1;
        }
    }
    revoked
}

/// The active access tokens `which` picks, oldest first.
fn active_tokens(inner: &MemoryInner, which: impl Fn(&AccessToken) -> bool) -> Vec<AccessToken> {
    let mut tokens: Vec<AccessToken> = inner
        .access_tokens
        .values()
        .filter(|t| t.is_active() && which(t))
        .map(|t| (**t).clone())
        .collect();
    tokens.sort_by(|a, b| (a.created_at, &a.token).cmp(&(b.created_at, &b.token)));
    tokens
}

impl EventStore for MemoryStore {
    async fn append_events(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        // Whole seconds, as the SQL stores keep them.
        let events = events.iter().map(|e| StoredEvent {
            at: e.at.replace_nanosecond(0).unwrap_or(e.at),
            ..e.clone()
        });
        self.lock().events.extend(events);
        Ok(())
    }

    async fn list_events(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let inner = self.lock();
        let mut events: Vec<&StoredEvent> = inner
            .events
            .iter()
            .filter(|e| user_id.is_none() || e.user_id.as_deref() == user_id)
            .collect();
        // Newest first by time; among equal times, the last appended first.
        events.reverse();
        events.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(events.into_iter().take(limit).cloned().collect())
    }

    async fn purge_events(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let count = inner.events.len();
        inner.events.retain(|e| e.at >= before);
        Ok(count - inner.events.len())
    }
}

impl NonceStore for MemoryStore {
    async fn insert_nonce(
        &self,
        key: &NonceKey<'_>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<NonceOutcome, StoreError> {
        Ok(self.lock().nonces.insert(key, now, expires_at))
    }

    async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        Ok(self.lock().nonces.purge(now))
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn key(nonce: &str) -> NonceKey<'_> {
        NonceKey {
            consumer_key: "c",
            token: "t",
            timestamp: 100,
            nonce,
        }
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    #[test]
    fn nonces_are_remembered_until_they_expire_and_then_forgotten() {
        let mut nonces = MemoryNonces::default();
        let half = time::Duration::milliseconds(500);
        assert_eq!(
            nonces.insert(&key("a"), at(100), at(110)),
            NonceOutcome::Fresh
        );
        assert_eq!(
            nonces.insert(&key("b"), at(100), at(110) + half),
            NonceOutcome::Fresh
        );
        assert_eq!(
            nonces.insert(&key("a"), at(109), at(120)),
            NonceOutcome::Replayed
        );
        // Each part of the key counts.
        let other_token = NonceKey {
            token: "u",
            ..key("a")
        };
        let other_time = NonceKey {
            timestamp: 101,
            ..key("a")
        };
        for other in [other_token, other_time] {
            assert_eq!(nonces.insert(&other, at(109), at(200)), NonceOutcome::Fresh);
        }
        // `a` expires at 110 exactly; `b` at 110.5 is kept until 111.
        assert_eq!(
            nonces.insert(&key("a"), at(110), at(120)),
            NonceOutcome::Fresh
        );
        assert_eq!(
            nonces.insert(&key("b"), at(110) + half, at(120)),
            NonceOutcome::Replayed
        );
        assert_eq!(nonces.purge(at(111)), 1, "b");
        assert_eq!(nonces.purge(at(1000)), 3);
        assert_eq!(nonces.remembered, 0);
        assert!(nonces.by_timestamp.is_empty() && nonces.expiring.is_empty());
    }

    #[test]
    fn nonces_of_skewed_clocks_are_each_caught_and_forgotten_on_time() {
        // Clients' clocks disagree: timestamps, and with them expiry seconds,
        // arrive in any order, before, at and after the latest ones.
        let mut nonces = MemoryNonces::default();
        let mut expected = Vec::new();
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let names: Vec<String> = (0..2000).map(|i| format!("n{i}")).collect();
        for name in &names {
            let timestamp = 900 + next() % 60;
            // As the provider files them, and now and then another expiry
            // for the same timestamp.
            let expires = timestamp as i64 + 101 + i64::from(next() % 8 == 0);
            let key = NonceKey {
                timestamp,
                ..key(name)
            };
            let outcome = nonces.insert(&key, at(900), at(expires));
            assert_eq!(outcome, NonceOutcome::Fresh);
            expected.push((key, expires));
        }
        let seconds: Vec<i64> = nonces.expiring.iter().map(|(s, _)| *s).collect();
        assert!(seconds.windows(2).all(|w| w[0] <= w[1]), "{seconds:?}");
        // A replay is caught whatever expiry it is filed with.
        for (key, expires) in expected.iter().step_by(7) {
            let outcome = nonces.insert(key, at(900), at(expires + 50));
            assert_eq!(outcome, NonceOutcome::Replayed);
        }
        for now in 995..1070 {
            let due = expected.iter().filter(|(_, e)| *e == now).count();
            assert_eq!(nonces.purge(at(now)), due, "at {now}");
            let remembered = expected.iter().filter(|(_, e)| *e > now).count();
            assert_eq!(nonces.remembered, remembered, "at {now}");
            let held: usize = (nonces.by_timestamp.values().flatten())
                .map(|(_, set)| set.len())
                .sum();
            assert_eq!(held, remembered, "at {now}");
        }
        assert_eq!(nonces.remembered, 0);
        assert!(nonces.by_timestamp.is_empty() && nonces.expiring.is_empty());
    }

    /// The output of a future that is ready at once, as the memory store's are.
    fn ready<F: Future>(future: F) -> F::Output {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the memory store never waits"),
        }
    }

    #[test]
    fn expired_request_tokens_are_purged_lazily() {
        let store = MemoryStore::new();
        let now = at(1_000_000);
        let token = |i: usize, expires_at| RequestToken {
            token: format!("t{i}"),
            secret: crate::model::secret::TokenSecret::new("s"),
            consumer_key: "c".into(),
            host: "h".into(),
            callback: crate::model::token::Callback::Oob,
            scope: None,
            grants: crate::model::Granted::WholeApp,
            display_name: None,
            created_at: now,
            expires_at,
            state: crate::model::token::RequestTokenState::Issued,
        };
        for i in 0..PURGE_EVERY - 1 {
            ready(store.insert_request_token(&token(i, now))).unwrap();
        }
        assert_eq!(store.request_token_count(), PURGE_EVERY - 1);
        // The next insert pays for the scan, and is kept.
        let live = token(PURGE_EVERY, now + time::Duration::minutes(10));
        ready(store.insert_request_token(&live)).unwrap();
        assert_eq!(store.request_token_count(), 1);
    }
}
