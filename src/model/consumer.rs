//! Consumers (RFC 5849 "clients"): the third-party apps the host has
//! registered, their lifecycle ([`ConsumerState`]), and App Engine's
//! unregistered `anonymous` consumer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use crate::model::callback_url::callback_href;
use crate::model::secret::ConsumerSecret;
use crate::protocol::encoding::percent_encode;
use crate::protocol::signature::SignatureMethod;

/// The key of App Engine's unregistered consumer.
pub const ANONYMOUS_CONSUMER_KEY: &str = "anonymous";

/// Where a consumer is in its lifecycle (MediaWiki's stages):
///
/// ```text
/// Proposed ──approve──▶ Approved ──disable──▶ Disabled
///    │                     ▲                     │
///    └──reject──▶ Rejected └──────enable─────────┘
/// ```
///
/// Only an `Approved` consumer may obtain or use tokens; a request from one
/// in any other state is refused exactly like one from an unknown consumer
/// (401 `signature_invalid`, after the same work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConsumerState {
    /// Registered, waiting for an administrator.
    Proposed,
    /// In service.
    Approved,
    /// Refused by an administrator (final).
    Rejected,
    /// Suspended by an administrator; [`ConsumerAction::Enable`] returns it
    /// to `Approved`.
    Disabled,
}

/// A change of [`ConsumerState`] an administrator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConsumerAction {
    /// `Proposed → Approved`.
    Approve,
    /// `Proposed → Rejected`.
    Reject,
    /// `Approved → Disabled`.
    Disable,
    /// `Disabled → Approved`.
    Enable,
}

impl ConsumerState {
    /// Every state, in lifecycle order.
    pub const ALL: [Self; 4] = [
        Self::Proposed,
        Self::Approved,
        Self::Rejected,
        Self::Disabled,
    ];

    /// The state's name, as stored: `proposed`, `approved`, `rejected`,
    /// `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Disabled => "disabled",
        }
    }

    /// The state named `name` ([`ConsumerState::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The state `action` leads to from this one, or `None` when the
    /// lifecycle does not allow it here.
    pub fn after(self, action: ConsumerAction) -> Option<Self> {
        match (self, action) {
            (Self::Proposed, ConsumerAction::Approve) => Some(Self::Approved),
            (Self::Proposed, ConsumerAction::Reject) => Some(Self::Rejected),
            (Self::Approved, ConsumerAction::Disable) => Some(Self::Disabled),
            (Self::Disabled, ConsumerAction::Enable) => Some(Self::Approved),
            _ => None,
        }
    }
}

impl std::fmt::Display for ConsumerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered consumer: its credentials and what it may do.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// The consumer key (`oauth_consumer_key`).
    pub key: String,
    /// The shared secret.
    pub secret: ConsumerSecret,
    /// The secret it had before its last rotation, still accepted until
    /// [`Consumer::grace_until`] (see
    /// [`Provider::rotate_consumer_secret`](crate::Provider::rotate_consumer_secret)).
    /// Defaults to none.
    pub grace_secret: Option<ConsumerSecret>,
    /// When [`Consumer::grace_secret`] stops working.
    pub grace_until: Option<time::OffsetDateTime>,
    /// The name shown to users on the consent page.
    pub display_name: String,
    /// What the app does, in its developer's words (for administrators and
    /// the developer's pages). Defaults to empty.
    pub description: String,
    /// The app's home page, if it gave one. Defaults to none.
    pub homepage: Option<String>,
    /// The user id of the user who registered it, if a user did (a
    /// consumer configured in code has none).
    pub owner: Option<String>,
    /// Where it is in its lifecycle. Defaults to
    /// [`ConsumerState::Approved`] (a consumer configured in code is in
    /// service); [`Provider::register_consumer`](crate::Provider::register_consumer)
    /// starts one `Proposed` unless told otherwise.
    pub state: ConsumerState,
    /// How many times the stored record was changed: what a store's
    /// compare-and-set compares, so that two racing changes cannot both
    /// win. Starts at 0; stores count it.
    pub revision: u64,
    /// Callback URLs this consumer may use: an `oauth_callback` must start
    /// with one of these, at a boundary (`https://app.example/cb` allows
    /// `https://app.example/cb?x=1` and `https://app.example/cb/done`, not
    /// `https://app.example/cbx`). `oob` is always allowed. Empty means `oob`
    /// only.
    pub callback_prefixes: Vec<String>,
    /// Signature methods this consumer may use. Defaults to HMAC-SHA1,
    /// HMAC-SHA256 and HMAC-SHA512; PLAINTEXT must be added explicitly (and
    /// is only accepted over TLS unless configured otherwise).
    pub signature_methods: Vec<SignatureMethod>,
    /// Whether this consumer may make two-legged requests (signed with its
    /// own credentials only, no token): the handler sees the consumer and no
    /// user. Defaults to false.
    pub two_legged: bool,
    /// Domains whose users this consumer may act for without their token, by
    /// naming one in `xoauth_requestor_id=user@domain` on a two-legged
    /// request (Google Apps' trusted two-legged OAuth). Exact, case-insensitive
    /// matches of the part after the last `@`; the host's requestor lookup
    /// (`Provider::with_requestor_lookup`) must still know the user.
    /// Independent of [`Consumer::two_legged`]. Defaults to none.
    pub requestor_domains: Vec<String>,
    /// Whether every request from this consumer without a form-encoded body
    /// must carry `oauth_body_hash` (the Request Body Hash extension), as
    /// LTI and payment APIs require. Without it, a request is refused with
    /// 400 `parameter_absent`. A hash that is sent is always checked.
    /// Defaults to false.
    pub body_hash_required: bool,
    /// Whether this is the unregistered `anonymous` consumer, whose consent
    /// page warns that the app is unverified.
    pub unverified: bool,
    /// The grants it may ask for in `scope` (names the host declared in
    /// [`ProviderConfig::grants`](crate::ProviderConfig::grants), or
    /// [`IDENTITY_GRANT`](crate::model::IDENTITY_GRANT)); a request token
    /// without `scope` asks for all of them. Empty: App Engine's whole-app
    /// tokens, with `scope` recorded as sent. `[identity]` alone: a
    /// "Sign in with …" app. Defaults to empty.
    pub grants: Vec<String>,
    /// The consumer's registered RSA public key (feature `rsa`). A consumer
    /// with a key signs with RSA-SHA1 / RSA-SHA256 only: HMAC and PLAINTEXT
    /// requests are refused whatever its `secret` and `signature_methods`
    /// say. Defaults to none.
    #[cfg(feature = "rsa")]
    pub rsa_key: Option<crate::protocol::rsa::ConsumerPublicKey>,
}

impl Consumer {
    /// A consumer with the defaults above.
    pub fn new(
        key: impl Into<String>,
        secret: impl Into<String>,
        display_name: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            secret: ConsumerSecret::new(secret),
            grace_secret: None,
            grace_until: None,
            display_name: display_name.into(),
            description: String::new(),
            homepage: None,
            owner: None,
            state: ConsumerState::Approved,
            revision: 0,
            callback_prefixes: Vec::new(),
            signature_methods: vec![
                SignatureMethod::HmacSha1,
                SignatureMethod::HmacSha256,
                SignatureMethod::HmacSha512,
            ],
            two_legged: false,
            requestor_domains: Vec::new(),
            body_hash_required: false,
            unverified: false,
            grants: Vec::new(),
            #[cfg(feature = "rsa")]
            rsa_key: None,
        }
    }

    /// A consumer that signs with RSA (RFC 5849 §3.4.3; feature `rsa`), as
    /// Google's registrations did: `public_key` verifies its signatures,
    /// RSA-SHA1 and RSA-SHA256 are its only methods, and it has no shared
    /// secret at all (none is derived from the key).
    #[cfg(feature = "rsa")]
    pub fn rsa(
        key: impl Into<String>,
        public_key: crate::protocol::rsa::ConsumerPublicKey,
        display_name: impl Into<String>,
    ) -> Self {
        Self {
            signature_methods: SignatureMethod::RSA.to_vec(),
            rsa_key: Some(public_key),
            ..Self::new(key, "", display_name)
        }
    }

    /// App Engine's unregistered consumer: key and secret `anonymous`, any
    /// `http(s)` callback, shown as unverified with the
    /// `xoauth_displayname` the client sends.
    pub fn anonymous() -> Self {
        Self {
            callback_prefixes: vec!["http://".into(), "https://".into()],
            unverified: true,
            ..Self::new(
                ANONYMOUS_CONSUMER_KEY,
                ANONYMOUS_CONSUMER_KEY,
                "Unverified application",
            )
        }
    }

    /// Allows callbacks starting with `prefix`.
    pub fn callback_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.callback_prefixes.push(prefix.into());
        self
    }

    /// Replaces the allowed signature methods.
    pub fn signature_methods(mut self, methods: impl IntoIterator<Item = SignatureMethod>) -> Self {
        self.signature_methods = methods.into_iter().collect();
        self
    }

    /// Allows or forbids two-legged requests.
    pub fn two_legged(mut self, allowed: bool) -> Self {
        self.two_legged = allowed;
        self
    }

    /// Trusts this consumer to act for the users of `domain` with
    /// `xoauth_requestor_id` (see [`Consumer::requestor_domains`]).
    pub fn act_for_domain(mut self, domain: impl Into<String>) -> Self {
        self.requestor_domains.push(domain.into());
        self
    }

    /// Whether this consumer may act for `requestor` (`user@domain`): the
    /// address is well-formed and its domain is one the host trusts this
    /// consumer for.
    pub fn may_act_for(&self, requestor: &str) -> bool {
        let Some((local, domain)) = requestor.rsplit_once('@') else {
            return false;
        };
        !local.is_empty()
            && !local.contains('@')
            && !domain.is_empty()
            && !requestor.bytes().any(|b| b.is_ascii_control() || b == b' ')
            && self
                .requestor_domains
                .iter()
                .any(|trusted| trusted.eq_ignore_ascii_case(domain))
    }

    /// Requires `oauth_body_hash` on every request without a form body
    /// (see [`Consumer::body_hash_required`]).
    pub fn require_body_hash(mut self, required: bool) -> Self {
        self.body_hash_required = required;
        self
    }

    /// Registers the grants it may ask for (see [`Consumer::grants`]).
    pub fn grants<I, T>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.grants = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the lifecycle state.
    pub fn state(mut self, state: ConsumerState) -> Self {
        self.state = state;
        self
    }

    /// The previous secret, if it is still in its grace period at `now`.
    pub fn grace_secret_at(&self, now: time::OffsetDateTime) -> Option<&ConsumerSecret> {
        match (&self.grace_secret, self.grace_until) {
            (Some(secret), Some(until)) if now < until => Some(secret),
            _ => None,
        }
    }

    /// Whether it signs with a registered RSA key (and has no shared secret
    /// to use, rotate or check against a grace secret).
    pub(crate) fn signs_with_rsa(&self) -> bool {
        #[cfg(feature = "rsa")]
        return self.rsa_key.is_some();
        #[cfg(not(feature = "rsa"))]
        return false;
    }

    /// Whether it may obtain and use tokens: [`ConsumerState::Approved`].
    pub fn is_approved(&self) -> bool {
        self.state == ConsumerState::Approved
    }

    /// Whether `callback` is acceptable for this consumer: `oob` (any case),
    /// or an absolute `http`/`https` URL under a registered prefix that a
    /// browser reads as it is written: no `\`, user-info, whitespace or
    /// control character, and an authority the WHATWG URL Standard reads as
    /// a person does (see [`Callback::origin`]).
    ///
    /// [`Callback::origin`]: crate::model::Callback::origin
    pub fn allows_callback(&self, callback: &str) -> bool {
        if callback.eq_ignore_ascii_case("oob") {
            return true;
        }
        let Some(href) = callback_href(callback) else {
            return false;
        };
        // As sent, or as the browser will request it (`HTTP://App.example:80`
        // is `http://app.example/`): the two agree on scheme and authority.
        let under = |url: &str, prefix: &str| {
            url.starts_with(prefix)
                && (prefix.ends_with('/')
                    || prefix.ends_with("://")
                    || matches!(
                        url.as_bytes().get(prefix.len()),
                        None | Some(b'/' | b'?' | b'#')
                    ))
        };
        self.callback_prefixes
            .iter()
            .any(|prefix| under(callback, prefix) || under(&href, prefix))
    }
}

/// The consumers the provider knows: filled by the host, shareable and
/// changeable while the provider runs (clones share the registry).
#[derive(Debug, Clone, Default)]
pub struct ConsumerRegistry {
    inner: Arc<RwLock<Registered>>,
}

/// Encoded length of the decoy secret while no consumer is registered.
const DEFAULT_DECOY_SECRET_LEN: usize = 32;

#[derive(Default)]
struct Registered {
    by_key: HashMap<String, Arc<Consumer>>,
    /// How many registered consumers' secrets have each encoded length.
    secret_lengths: BTreeMap<usize, usize>,
    /// What an unknown consumer's request is verified with (see
    /// [`ConsumerRegistry::decoy_secret`]).
    decoy: Option<Arc<ConsumerSecret>>,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not even the secrets' lengths.
        f.debug_struct("Registered")
            .field("by_key", &self.by_key)
            .finish_non_exhaustive()
    }
}

impl Registered {
    fn count_secret(&mut self, consumer: &Consumer, added: bool) {
        // The anonymous consumer's secret is public; it is not what a decoy
        // must look like.
        if consumer.unverified {
            return;
        }
        let len = percent_encode(consumer.secret.secret()).len();
        let count = self.secret_lengths.entry(len).or_default();
        if added {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.secret_lengths.remove(&len);
            }
        }
        // The most common length (the longest of equally common ones).
        let len = self
            .secret_lengths
            .iter()
            .max_by_key(|&(len, count)| (count, len))
            .map_or(DEFAULT_DECOY_SECRET_LEN, |(&len, _)| len);
        if self.decoy.as_ref().is_none_or(|d| d.secret().len() != len) {
            self.decoy = Some(Arc::new(ConsumerSecret::new("0".repeat(len))));
        }
    }
}

impl ConsumerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a consumer.
    pub fn register(&self, consumer: Consumer) {
        let mut registered = self.write();
        registered.count_secret(&consumer, true);
        let key = consumer.key.clone();
        if let Some(old) = registered.by_key.insert(key, Arc::new(consumer)) {
            registered.count_secret(&old, false);
        }
    }

    /// Enables App Engine's unregistered `anonymous` consumer.
    pub fn allow_anonymous(&self) {
        self.register(Consumer::anonymous());
    }

    /// Sets a consumer's lifecycle state; false when it is not registered.
    pub fn set_state(&self, key: &str, state: ConsumerState) -> bool {
        let mut registered = self.write();
        match registered.by_key.get(key) {
            Some(existing) => {
                let mut updated = Consumer::clone(existing);
                updated.state = state;
                registered.by_key.insert(key.to_owned(), Arc::new(updated));
                true
            }
            None => false,
        }
    }

    /// Removes a consumer; its tokens stop working (unknown consumer).
    pub fn remove(&self, key: &str) -> bool {
        let mut registered = self.write();
        match registered.by_key.remove(key) {
            Some(old) => {
                registered.count_secret(&old, false);
                true
            }
            None => false,
        }
    }

    /// Looks a consumer up by key.
    pub fn get(&self, key: &str) -> Option<Arc<Consumer>> {
        self.read().by_key.get(key).cloned()
    }

    /// The secret a request from an unknown consumer is verified with, so
    /// that it costs what a bad signature from a registered one does: a
    /// fixed value as long (encoded) as most registered consumers' secrets.
    /// HMAC hashes a key longer than its block first, so a decoy of another
    /// length would take measurably more or less time.
    pub(crate) fn decoy_secret(&self) -> Arc<ConsumerSecret> {
        match &self.read().decoy {
            Some(decoy) => Arc::clone(decoy),
            None => Arc::new(ConsumerSecret::new("0".repeat(DEFAULT_DECOY_SECRET_LEN))),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registered> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registered> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_match_prefixes_at_a_boundary() {
        let c = Consumer::new("k", "s", "App").callback_prefix("https://app.example.com/cb");
        assert!(c.allows_callback("oob"));
        assert!(c.allows_callback("OOB"));
        assert!(c.allows_callback("https://app.example.com/cb"));
        assert!(c.allows_callback("https://app.example.com/cb?x=1"));
        assert!(c.allows_callback("https://app.example.com/cb/done"));
        assert!(!c.allows_callback("https://app.example.com/cbx"));
        assert!(!c.allows_callback("https://app.example.com.evil.com/cb"));
        assert!(!c.allows_callback("http://app.example.com/cb"));
        assert!(!c.allows_callback("javascript:alert(1)//https://app.example.com/cb"));
        let a = Consumer::anonymous();
        assert!(a.allows_callback("http://localhost:9/cb"));
        assert!(!a.allows_callback("data:text/html,x"));
        assert!(!a.allows_callback("javascript://%0Aalert(1)"));
        assert!(!a.allows_callback("https:///nohost"));
        assert!(!Consumer::new("k", "s", "n").allows_callback("https://x.example/"));
    }

    #[test]
    fn requestors_must_be_in_a_trusted_domain() {
        let c = Consumer::new("k", "s", "App").act_for_domain("Example.com");
        assert!(c.may_act_for("alice@example.com"));
        assert!(c.may_act_for("alice@EXAMPLE.COM"));
        assert!(!c.may_act_for("alice@evil.example.com"));
        assert!(!c.may_act_for("alice@example.com.evil"));
        assert!(!c.may_act_for("example.com"));
        assert!(!c.may_act_for("@example.com"));
        assert!(!c.may_act_for("a b@example.com"));
        assert!(!c.may_act_for("a@evil.com@example.com"));
        assert!(!c.may_act_for("a@example.com\n"));
        assert!(!Consumer::new("k", "s", "App").may_act_for("alice@example.com"));
    }

    #[test]
    fn the_lifecycle_allows_only_its_arrows() {
        use ConsumerAction::*;
        use ConsumerState::*;
        for state in ConsumerState::ALL {
            assert_eq!(ConsumerState::parse(state.as_str()), Some(state));
            for action in [Approve, Reject, Disable, Enable] {
                let expected = match (state, action) {
                    (Proposed, Approve) | (Disabled, Enable) => Some(Approved),
                    (Proposed, Reject) => Some(Rejected),
                    (Approved, Disable) => Some(Disabled),
                    _ => None,
                };
                assert_eq!(state.after(action), expected, "{state} {action:?}");
            }
        }
        assert_eq!(ConsumerState::parse("deleted"), None);
    }

    #[test]
    fn registry_sets_states() {
        let r = ConsumerRegistry::new();
        r.register(Consumer::new("k", "s", "App"));
        assert!(r.get("k").unwrap().is_approved());
        assert!(r.set_state("k", ConsumerState::Disabled));
        assert_eq!(r.get("k").unwrap().state, ConsumerState::Disabled);
        assert!(!r.set_state("missing", ConsumerState::Disabled));
        assert!(r.remove("k"));
        assert!(r.get("k").is_none());
    }

    #[test]
    fn the_decoy_secret_is_as_long_as_most_registered_secrets() {
        let r = ConsumerRegistry::new();
        assert_eq!(r.decoy_secret().secret().len(), DEFAULT_DECOY_SECRET_LEN);
        r.allow_anonymous();
        assert_eq!(r.decoy_secret().secret().len(), DEFAULT_DECOY_SECRET_LEN);
        r.register(Consumer::new("a", "13-characters", "A"));
        assert_eq!(r.decoy_secret().secret().len(), 13);
        // Encoded length: `&` is `%26`.
        r.register(Consumer::new("b", "&", "B"));
        r.register(Consumer::new("c", "abc", "C"));
        assert_eq!(r.decoy_secret().secret().len(), 3);
        // Replacing and removing consumers updates the counts.
        r.register(Consumer::new("c", "a-longer-secret-for-c", "C"));
        assert_eq!(r.decoy_secret().secret().len(), 21);
        assert!(r.remove("c"));
        assert!(r.remove("b"));
        assert_eq!(r.decoy_secret().secret().len(), 13);
        assert!(r.set_state("a", ConsumerState::Disabled));
        assert_eq!(r.decoy_secret().secret().len(), 13);
        assert!(r.remove("a"));
        assert_eq!(r.decoy_secret().secret().len(), DEFAULT_DECOY_SECRET_LEN);
        assert!(!format!("{r:?}").contains("13-characters"));
    }
}
