//! Consumers as managed data: how the provider finds a consumer (the
//! host's [`ConsumerRegistry`] first, then the store, through a short
//! cache), and the lifecycle operations on stored consumers — register,
//! approve, reject, disable, enable, update, rotate the secret, delete with
//! its tokens.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::model::callback_url::callback_origin;
use crate::model::consumer::{Consumer, ConsumerAction, ConsumerState};
use crate::model::grant::is_valid_grant_name;
use crate::model::secret::ConsumerSecret;
use crate::model::secret::{TokenSecret, Verifier};
use crate::model::text::is_hidden_character;
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState,
};
use crate::model::user::User;
use crate::protocol::random::{RandomError, random_token};
use crate::provider::Provider;
use crate::provider::events::{AuditEvent, EventKind, RevokedBy};
use crate::provider::request_token::TOKEN_BYTES;
use crate::store::{ConsumerStore, NonceStore, StoreError, TokenStore};

/// How long a stored consumer read by one instance is trusted before it is
/// read again, unless [`Provider::with_stored_consumers_cached`] says
/// otherwise: the longest a change made on another instance can take to be
/// seen here. Changes made through this provider are seen at once.
pub const DEFAULT_CONSUMER_CACHE_TTL: Duration = Duration::seconds(2);

/// At most this many consumers are cached; past it the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

/// Longest display name, in characters.
const MAX_NAME_CHARS: usize = 80;
/// Longest description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// Longest URL (home page, callback prefix), in bytes.
const MAX_URL_BYTES: usize = 2_048;
/// Most callback prefixes per consumer.
const MAX_CALLBACK_PREFIXES: usize = 10;
/// Longest host-chosen consumer key, in bytes.
const MAX_KEY_BYTES: usize = 128;

type Lookup<S> = for<'a> fn(
    &'a S,
    &'a str,
) -> Pin<
    Box<dyn Future<Output = Result<Option<Consumer>, StoreError>> + Send + 'a>,
>;

/// The stored consumers, as the request path reads them: the store's
/// lookup (erased, so that the request path needs only [`TokenStore`]) and
/// a cache of recent answers.
pub(crate) struct Managed<S> {
    lookup: Lookup<S>,
    ttl: Duration,
    cache: Mutex<Cache>,
}

/// Approved consumers read recently, and how many changes this instance
/// made: a read that a change overtook is not cached (it may be older than
/// the change).
#[derive(Default)]
struct Cache {
    entries: HashMap<String, (Arc<Consumer>, OffsetDateTime)>,
    changes: u64,
}

impl<S> Managed<S> {
    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// After a change to `key` through this instance: no cached copy, and
    /// no read still in flight will be cached.
    fn forget(&self, key: &str) {
        let mut cache = self.cache();
        cache.changes += 1;
        cache.entries.remove(key);
    }
}

fn lookup<'a, S: ConsumerStore>(
    store: &'a S,
    key: &'a str,
) -> Pin<Box<dyn Future<Output = Result<Option<Consumer>, StoreError>> + Send + 'a>> {
    Box::pin(store.get_consumer(key))
}

/// A consumer operation that could not be done; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerError {
    /// No stored consumer has this key (never registered, or deleted).
    #[error("no such consumer")]
    NotFound,
    /// The key is taken: stored, deleted (keys are never reused), or
    /// configured in the host's code.
    #[error("this consumer key is already in use")]
    KeyTaken,
    /// The lifecycle does not allow `action` from `state`.
    #[error("a consumer that is {state} cannot be {}", action_past(*.action))]
    NotAllowed {
        /// The consumer's state.
        state: ConsumerState,
        /// What was asked.
        action: ConsumerAction,
    },
    /// The consumer changed under this operation (another instance or
    /// request changed it first); read it again and retry.
    #[error("the consumer was changed concurrently; try again")]
    Conflict,
    /// A value the host passed on is not acceptable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// Why, for the person who typed it.
        reason: &'static str,
    },
    /// The store failed (nothing is known of the outcome).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Only the consumer's owner or an administrator may do this.
    #[error("only the app's owner or an administrator may do this")]
    NotOwner,
    /// Consumers are not read from the store: call
    /// [`Provider::with_stored_consumers`] first, or a registered consumer
    /// would never be found.
    #[error(
        "stored consumers are off: call Provider::with_stored_consumers() so that they are read"
    )]
    NotStored,
    /// The random source failed.
    #[error("the random source failed")]
    Random,
}

impl From<RandomError> for ConsumerError {
    fn from(_: RandomError) -> Self {
        Self::Random
    }
}

fn action_past(action: ConsumerAction) -> &'static str {
    match action {
        ConsumerAction::Approve => "approved",
        ConsumerAction::Reject => "rejected",
        ConsumerAction::Disable => "disabled",
        ConsumerAction::Enable => "enabled",
    }
}

/// An app a user (or an administrator) registers: what it says about
/// itself. The provider generates its key and secret.
///
/// ```
/// use oauth1_provider::provider::ConsumerRegistration;
///
/// let app = ConsumerRegistration::new("Photo printer")
///     .description("Prints your photos on paper")
///     .homepage("https://printer.example")
///     .callback_prefix("https://printer.example/oauth/callback")
///     .owner("user-42");
/// # let _ = app;
/// ```
#[derive(Debug, Clone)]
pub struct ConsumerRegistration {
    details: ConsumerDetails,
    owner: Option<String>,
    state: ConsumerState,
    grants: Vec<String>,
}

/// What a consumer's developer may change: its name, description, home page
/// and callback prefixes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerDetails {
    /// Shown to users on the consent page: 1 to 80 characters, no control,
    /// bidirectional-override or zero-width characters.
    pub display_name: String,
    /// Up to 1,000 characters (newlines allowed).
    pub description: String,
    /// An `http(s)` URL.
    pub homepage: Option<String>,
    /// Up to 10 `http(s)` URLs its callbacks must start with.
    pub callback_prefixes: Vec<String>,
}

impl ConsumerRegistration {
    /// A registration for an app shown as `display_name`, `Proposed` until
    /// an administrator approves it.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            details: ConsumerDetails {
                display_name: display_name.into(),
                ..ConsumerDetails::default()
            },
            owner: None,
            state: ConsumerState::Proposed,
            grants: Vec::new(),
        }
    }

    /// The grants the app may ask for (see
    /// [`Consumer::grants`](crate::Consumer::grants)): each one the host
    /// declares, or [`IDENTITY_GRANT`](crate::model::IDENTITY_GRANT) alone
    /// for a "Sign in with …" app. None: the whole app, on a site that
    /// declares no grants. They are fixed at
    /// registration, for the administrator who approves the app to review;
    /// [`Provider::update_consumer`] does not change them. On a site that
    /// declares grants ([`ProviderConfig::grants`](crate::ProviderConfig::grants)),
    /// a registration must choose at least one; a whole-app consumer is for
    /// the host to add ([`Provider::add_consumer`]).
    pub fn grants<I, T>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.grants = names.into_iter().map(Into::into).collect();
        self
    }

    /// What the app does.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.details.description = description.into();
        self
    }

    /// The app's home page.
    pub fn homepage(mut self, url: impl Into<String>) -> Self {
        self.details.homepage = Some(url.into());
        self
    }

    /// Allows callbacks under `prefix`.
    pub fn callback_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.details.callback_prefixes.push(prefix.into());
        self
    }

    /// The user id of the user registering it.
    pub fn owner(mut self, user_id: impl Into<String>) -> Self {
        self.owner = Some(user_id.into());
        self
    }

    /// Starts it `Approved` (a site that trusts its developers, or an
    /// administrator registering an app), not `Proposed`.
    pub fn approved(mut self) -> Self {
        self.state = ConsumerState::Approved;
        self
    }
}

fn invalid(field: &'static str, reason: &'static str) -> ConsumerError {
    ConsumerError::Invalid { field, reason }
}

fn check_url(field: &'static str, url: &str) -> Result<(), ConsumerError> {
    if url.len() > MAX_URL_BYTES {
        return Err(invalid(field, "longer than 2,048 bytes"));
    }
    // Read as callbacks are (one parser): what a browser reads as written.
    if callback_origin(url).is_none() {
        return Err(invalid(field, "not an absolute http(s) URL"));
    }
    Ok(())
}

impl ConsumerDetails {
    /// Checks every value; the first problem found.
    pub fn validate(&self) -> Result<(), ConsumerError> {
        let name = self.display_name.trim();
        if name.is_empty() {
            return Err(invalid("display name", "empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid("display name", "longer than 80 characters"));
        }
        if name.chars().any(is_hidden_character) {
            return Err(invalid(
                "display name",
                "contains control, bidirectional or invisible characters",
            ));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(invalid("description", "longer than 1,000 characters"));
        }
        let hidden = |c: char| c != '\n' && c != '\r' && is_hidden_character(c);
        if self.description.chars().any(hidden) {
            return Err(invalid(
                "description",
                "contains control, bidirectional or invisible characters",
            ));
        }
        if let Some(homepage) = &self.homepage {
            check_url("home page", homepage)?;
        }
        if self.callback_prefixes.len() > MAX_CALLBACK_PREFIXES {
            return Err(invalid("callback prefixes", "more than 10"));
        }
        for prefix in &self.callback_prefixes {
            check_url("callback prefix", prefix)?;
        }
        Ok(())
    }

    fn apply(&self, consumer: &mut Consumer) {
        consumer.display_name = self.display_name.trim().to_owned();
        consumer.description = self.description.clone();
        consumer.homepage = self.homepage.clone();
        consumer.callback_prefixes = self.callback_prefixes.clone();
    }
}

impl<S, N> Provider<S, N> {
    /// A consumer's grants as stored: each declared by this host (or
    /// `identity`), once, sorted; at most [`MAX_CONSUMER_GRANTS`].
    fn checked_grants(&self, names: &[String]) -> Result<Vec<String>, ConsumerError> {
        if let Some(name) = names.iter().find(|n| !self.config.declares_grant(n)) {
            return Err(if is_valid_grant_name(name) {
                invalid("grants", "names a grant this site does not declare")
            } else {
                invalid("grants", "holds a malformed grant name")
            });
        }
        let mut grants = names.to_vec();
        grants.sort();
        grants.dedup();
        if grants.len() > MAX_CONSUMER_GRANTS {
            return Err(invalid("grants", "more than 50"));
        }
        Ok(grants)
    }
}

/// Most grants one consumer may be registered with.
const MAX_CONSUMER_GRANTS: usize = 50;

/// A new consumer secret: 24 random bytes, 32 characters (as long as the
/// decoy an unknown consumer is verified with).
fn new_secret() -> Result<String, RandomError> {
    random_token(24)
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// The consumer `key` names, as the request path sees it: the host's
    /// registry first, then the store (when consumers are stored), through
    /// the cache. In whatever state; the caller checks it is approved.
    pub(crate) async fn find_consumer(
        &self,
        key: &str,
    ) -> Result<Option<Arc<Consumer>>, StoreError> {
        if let Some(consumer) = self.consumers.get(key) {
            return Ok(Some(consumer));
        }
        let Some(managed) = &self.managed else {
            return Ok(None);
        };
        let now = self.now();
        let changes = {
            let cache = managed.cache();
            if let Some((consumer, read_at)) = cache.entries.get(key)
                && now >= *read_at
                && now - *read_at < managed.ttl
            {
                return Ok(Some(Arc::clone(consumer)));
            }
            cache.changes
        };
        // Only approved consumers are cached. An unknown key, or one not
        // approved, reads the store every time — the same work for both, so
        // that they cannot be told apart; a consumer registered or approved
        // on another instance is seen at once; random keys cannot fill the
        // cache.
        let Some(consumer) = (managed.lookup)(&self.store, key).await? else {
            return Ok(None);
        };
        let consumer = Arc::new(consumer);
        if managed.ttl > Duration::ZERO && consumer.is_approved() {
            let mut cache = managed.cache();
            if cache.changes == changes {
                if cache.entries.len() >= CACHE_CAPACITY {
                    cache.entries.clear();
                }
                cache
                    .entries
                    .insert(key.to_owned(), (Arc::clone(&consumer), now));
            }
        }
        Ok(Some(consumer))
    }
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Issues an access token of the consumer `consumer_key` for `user` on
    /// `host` without the redirect dance (MediaWiki's owner-only consumers,
    /// NetSuite's token issuing): `by` must be an administrator, or the
    /// consumer's owner issuing a token for themself (never with
    /// administrator rights they do not have), and the consumer approved. The token is listed and
    /// revocable like any other; the answer holds its secret — show it
    /// once. It replaces `user`'s earlier grants to the consumer as an
    /// exchange does ([`ProviderConfig::replace_earlier_grants`](crate::ProviderConfig::replace_earlier_grants)).
    pub async fn issue_access_token(
        &self,
        consumer_key: &str,
        user: User,
        by: &User,
        host: &str,
    ) -> Result<AccessToken, ConsumerError> {
        let consumer = self
            .find_consumer(consumer_key)
            .await?
            .filter(|c| c.is_approved())
            .ok_or(ConsumerError::NotFound)?;
        // An owner issues tokens for themself only, and never with more
        // rights than they have; an administrator for anyone.
        let owner = consumer.owner.as_deref() == Some(by.user_id.as_str());
        let for_themself = owner && user.user_id == by.user_id;
        if !(by.admin || for_themself) {
            return Err(ConsumerError::NotOwner);
        }
        let user = if by.admin { user } else { user.admin(false) };
        let now = self.now();
        let grants = self.consumer_granted(&consumer);
        let request = RequestToken {
            token: random_token(TOKEN_BYTES)?,
            secret: TokenSecret::new(random_token(TOKEN_BYTES)?),
            consumer_key: consumer.key.clone(),
            host: host.to_owned(),
            callback: Callback::Oob,
            scope: None,
            grants: grants.clone(),
            display_name: None,
            created_at: now,
            expires_at: now + Duration::minutes(1),
            state: RequestTokenState::Issued,
        };
        // The authorize step and the exchange, done here by the provider.
        let verifier = Verifier::new(random_token(TOKEN_BYTES)?);
        let approved = request
            .approve(user, verifier.clone(), now)
            .map_err(|_| ConsumerError::Conflict)?;
        let Ok(Ok((exchanged, user))) = approved.exchange(verifier.secret(), 1, now) else {
            return Err(ConsumerError::Conflict);
        };
        let (expires_at, session) = self
            .session_terms(now, None)
            .map_err(|_| ConsumerError::Random)?;
        let access = AccessToken {
            token: random_token(TOKEN_BYTES)?,
            secret: TokenSecret::new(random_token(TOKEN_BYTES)?),
            consumer_key: consumer.key.clone(),
            host: host.to_owned(),
            user,
            scope: None,
            grants,
            created_at: now,
            expires_at,
            session,
            state: AccessTokenState::Active,
        };
        self.store.insert_request_token(&request).await?;
        let tag = request.state.tag();
        if !self.store.update_request_token(tag, &approved).await?
            || !self
                .store
                .exchange_request_token(approved.state.tag(), &exchanged, &access)
                .await?
        {
            return Err(ConsumerError::Conflict);
        }
        tracing::info!(consumer = ?access.consumer_key, by = ?by.user_id, "issued an owner-only access token");
        self.emit_issued(&access);
        if self.config.replace_earlier_grants && !consumer.unverified {
            self.revoke_earlier_grants(&access, now).await;
        }
        Ok(access)
    }
}

impl<S: ConsumerStore, N: NonceStore> Provider<S, N> {
    /// Reads consumers from the store as well as from the registry (whose
    /// consumers, configured in code, come first). Required for the
    /// operations below to matter: without it stored consumers are never
    /// read, and [`Provider::register_consumer`] refuses.
    ///
    /// An approved consumer read from the store is cached for
    /// [`DEFAULT_CONSUMER_CACHE_TTL`]: one registered or approved on another
    /// instance is seen at once (nothing else is cached), one disabled,
    /// rotated or deleted there within that time; a change made through this
    /// instance at once.
    pub fn with_stored_consumers(self) -> Self {
        self.with_stored_consumers_cached(DEFAULT_CONSUMER_CACHE_TTL)
    }

    /// [`Provider::with_stored_consumers`] with the cache kept for `ttl`
    /// (`Duration::ZERO`: no cache, the store is read on every request).
    pub fn with_stored_consumers_cached(mut self, ttl: Duration) -> Self {
        self.managed = Some(Managed {
            lookup: lookup::<S>,
            ttl,
            cache: Mutex::new(Cache::default()),
        });
        self
    }

    /// Registers an app: generates its key and secret (from the operating
    /// system's random source) and stores it, `Proposed` unless the
    /// registration says `approved()`. The answer holds the secret: show it
    /// to its developer once.
    pub async fn register_consumer(
        &self,
        registration: ConsumerRegistration,
    ) -> Result<Consumer, ConsumerError> {
        // A site with grants has every app it lets register say what it
        // asks for: none chosen is not the whole app by omission.
        if registration.grants.is_empty() && !self.config.grants.is_empty() {
            return Err(invalid(
                "grants",
                "none chosen: choose what the app may ask for (identity alone to only sign \
                 users in)",
            ));
        }
        // `add_consumer` validates the details and the key.
        let mut consumer = Consumer::new(random_token(16)?, new_secret()?, "");
        registration.details.apply(&mut consumer);
        consumer.owner = registration.owner;
        consumer.state = registration.state;
        consumer.grants = registration.grants;
        self.add_consumer(consumer).await
    }

    /// Stores a consumer whose key and secret the host chose (a consumer
    /// configured at start-up, say). Its key must be new to the store and
    /// the registry.
    pub async fn add_consumer(&self, consumer: Consumer) -> Result<Consumer, ConsumerError> {
        if self.managed.is_none() {
            return Err(ConsumerError::NotStored);
        }
        let details = ConsumerDetails {
            display_name: consumer.display_name.clone(),
            description: consumer.description.clone(),
            homepage: consumer.homepage.clone(),
            callback_prefixes: consumer.callback_prefixes.clone(),
        };
        details.validate()?;
        let grants = self.checked_grants(&consumer.grants)?;
        if consumer.secret.secret().is_empty() && !consumer.signs_with_rsa() {
            // Anyone who knows the key could sign as it.
            return Err(invalid("secret", "empty"));
        }
        let key_ok = !consumer.key.is_empty()
            && consumer.key.len() <= MAX_KEY_BYTES
            && consumer.key.bytes().all(|b| b.is_ascii_graphic());
        if !key_ok {
            return Err(invalid("key", "not 1 to 128 visible ASCII characters"));
        }
        if self.consumers.get(&consumer.key).is_some() {
            return Err(ConsumerError::KeyTaken);
        }
        let consumer = Consumer {
            revision: 0,
            grants,
            ..consumer
        };
        if !self.store.insert_consumer(&consumer).await? {
            return Err(ConsumerError::KeyTaken);
        }
        self.forget_consumer(&consumer.key);
        let mut event =
            AuditEvent::new(self.now(), EventKind::ConsumerRegistered).consumer(&consumer.key);
        if let Some(owner) = &consumer.owner {
            event = event.user(owner);
        }
        self.emit(event);
        Ok(consumer)
    }

    /// The stored consumer `key` (not the registry's), in whatever state.
    pub async fn stored_consumer(&self, key: &str) -> Result<Consumer, ConsumerError> {
        self.store
            .get_consumer(key)
            .await?
            .ok_or(ConsumerError::NotFound)
    }

    /// Moves a stored consumer along its lifecycle (approve, reject,
    /// disable, enable); the consumer as it now is.
    pub async fn change_consumer_state(
        &self,
        key: &str,
        action: ConsumerAction,
    ) -> Result<Consumer, ConsumerError> {
        let kind = match action {
            ConsumerAction::Approve => EventKind::ConsumerApproved,
            ConsumerAction::Reject => EventKind::ConsumerRejected,
            ConsumerAction::Disable => EventKind::ConsumerDisabled,
            ConsumerAction::Enable => EventKind::ConsumerEnabled,
        };
        self.change_consumer(key, kind, |consumer| {
            consumer.state = consumer
                .state
                .after(action)
                .ok_or(ConsumerError::NotAllowed {
                    state: consumer.state,
                    action,
                })?;
            Ok(())
        })
        .await
    }

    /// Replaces what a stored consumer's developer may change.
    pub async fn update_consumer(
        &self,
        key: &str,
        details: ConsumerDetails,
    ) -> Result<Consumer, ConsumerError> {
        details.validate()?;
        self.change_consumer(key, EventKind::ConsumerUpdated, |consumer| {
            details.apply(consumer);
            Ok(())
        })
        .await
    }

    /// Gives a stored consumer a new secret. The old one keeps working for
    /// `grace` (`Duration::ZERO`: it stops at once — on other instances,
    /// within the cache time), so that the app's developer can deploy the
    /// new one; a secret still in an earlier grace period stops now. The
    /// answer holds the new secret: show it to the developer once. An RSA
    /// consumer has no secret to rotate.
    ///
    /// While consumers are read from the store, every HMAC or PLAINTEXT
    /// request is checked against both the secret and the grace secret (a
    /// decoy when there is none): the same work whether or not a rotation is
    /// under way.
    pub async fn rotate_consumer_secret(
        &self,
        key: &str,
        grace: Duration,
    ) -> Result<Consumer, ConsumerError> {
        if grace < Duration::ZERO {
            return Err(invalid("grace period", "negative"));
        }
        let secret = new_secret()?;
        let now = self.now();
        self.change_consumer(key, EventKind::ConsumerSecretRotated, |consumer| {
            if consumer.signs_with_rsa() {
                return Err(invalid("secret", "an RSA consumer signs with its key"));
            }
            let old = std::mem::replace(&mut consumer.secret, ConsumerSecret::new(secret));
            (consumer.grace_secret, consumer.grace_until) = if grace > Duration::ZERO {
                (Some(old), Some(now + grace))
            } else {
                (None, None)
            };
            Ok(())
        })
        .await
    }

    /// Deletes a stored consumer, deleting its request tokens and revoking
    /// its access tokens in the same transaction; how many access tokens
    /// were revoked. Its key is never registered again.
    pub async fn delete_consumer(&self, key: &str) -> Result<usize, ConsumerError> {
        let now = self.now();
        let revoked = self.store.delete_consumer(key, now).await?;
        self.forget_consumer(key);
        let count = revoked.ok_or(ConsumerError::NotFound)?;
        self.emit(AuditEvent::new(now, EventKind::ConsumerDeleted).consumer(key));
        if count > 0 {
            self.emit(
                AuditEvent::new(
                    now,
                    EventKind::AccessTokenRevoked {
                        by: RevokedBy::ConsumerDeleted,
                        count,
                    },
                )
                .consumer(key),
            );
        }
        Ok(count)
    }

    /// The stored consumers in `state` (any if `None`), by key.
    pub async fn list_consumers(
        &self,
        state: Option<ConsumerState>,
    ) -> Result<Vec<Consumer>, StoreError> {
        self.store.list_consumers(state, None).await
    }

    /// The stored consumers `user_id` registered, by key.
    pub async fn consumers_owned_by(&self, user_id: &str) -> Result<Vec<Consumer>, StoreError> {
        self.store.list_consumers(None, Some(user_id)).await
    }

    /// A consumer's active access tokens, oldest first.
    pub async fn consumer_tokens(&self, key: &str) -> Result<Vec<AccessToken>, StoreError> {
        self.store.list_consumer_tokens(key).await
    }

    /// Revokes every active access token of a consumer (audited as
    /// [`RevokedBy::Host`]); how many.
    pub async fn revoke_consumer_tokens(&self, key: &str) -> Result<usize, StoreError> {
        let now = self.now();
        let count = self.store.revoke_consumer_tokens(key, now).await?;
        if count > 0 {
            self.emit(
                AuditEvent::new(
                    now,
                    EventKind::AccessTokenRevoked {
                        by: RevokedBy::Host,
                        count,
                    },
                )
                .consumer(key),
            );
        }
        Ok(count)
    }

    /// Reads, changes and writes back a stored consumer with a
    /// compare-and-set on its revision: a racing change makes this one a
    /// [`ConsumerError::Conflict`] (or `NotFound` after a delete), never a
    /// lost update.
    async fn change_consumer(
        &self,
        key: &str,
        kind: EventKind,
        change: impl FnOnce(&mut Consumer) -> Result<(), ConsumerError>,
    ) -> Result<Consumer, ConsumerError> {
        let current = self.stored_consumer(key).await?;
        let mut next = current.clone();
        change(&mut next)?;
        let written = self.store.update_consumer(current.revision, &next).await?;
        self.forget_consumer(key);
        if !written {
            return match self.store.get_consumer(key).await? {
                None => Err(ConsumerError::NotFound),
                Some(_) => Err(ConsumerError::Conflict),
            };
        }
        next.revision = current.revision + 1;
        self.emit(AuditEvent::new(self.now(), kind).consumer(key));
        Ok(next)
    }

    fn forget_consumer(&self, key: &str) {
        if let Some(managed) = &self.managed {
            managed.forget(key);
        }
    }
}
