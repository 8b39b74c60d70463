//! Grants on the provider's side: what a consumer may ask for, how a
//! request token's `scope` is read against it, and what the consent page
//! says of each grant (see [`crate::model::Granted`]).

use std::collections::BTreeSet;

use crate::model::consumer::Consumer;
use crate::model::grant::{Grant, Granted, IDENTITY_GRANT, scope_names};
use crate::protocol::error::{Problem, ProtocolError};
use crate::provider::Provider;
use crate::provider::context::{OAuthContext, OAuthError, Reason};
use crate::provider::events::{AuditEvent, Endpoint, EventKind};
use crate::store::{NonceStore, TokenStore};

/// Most unknown names a refusal lists, and most characters of each.
const MAX_NAMES_LISTED: usize = 10;
const MAX_NAME_CHARS_LISTED: usize = 100;

impl<S, N> Provider<S, N> {
    /// The grants `consumer` may ask for: those it was registered with that
    /// this host declares ([`ProviderConfig::declares_grant`]). A grant the
    /// host stopped declaring is no longer asked for or granted.
    ///
    /// [`ProviderConfig::declares_grant`]: crate::ProviderConfig::declares_grant
    pub(crate) fn askable_grants<'c>(&self, consumer: &'c Consumer) -> BTreeSet<&'c str> {
        consumer
            .grants
            .iter()
            .map(String::as_str)
            .filter(|name| self.config.declares_grant(name))
            .collect()
    }

    /// What `consumer` may do with its own credentials (a two-legged
    /// request): its grants, or the whole app when it has none.
    pub(crate) fn consumer_granted(&self, consumer: &Consumer) -> Granted {
        if consumer.grants.is_empty() {
            Granted::WholeApp
        } else {
            with_identity(self.askable_grants(consumer))
        }
    }

    /// `granted` (an access token's grants) narrowed to what `consumer` may
    /// ask for today, or `None` when nothing is taken away: a consumer
    /// registered without grants keeps its tokens as they are; one with
    /// grants has each token's grants cut to them (a whole-app token from
    /// before it had grants, to all of them). No allocation unless
    /// something is taken away.
    pub(crate) fn narrowed_grants(
        &self,
        consumer: &Consumer,
        granted: &Granted,
    ) -> Option<Granted> {
        if consumer.grants.is_empty() {
            return None;
        }
        let may = |name: &str| {
            name == IDENTITY_GRANT
                || (consumer.grants.iter().any(|g| g == name) && self.config.declares_grant(name))
        };
        match granted {
            Granted::Only(names) if names.iter().all(|n| may(n)) => None,
            Granted::Only(names) => Some(Granted::only(names.iter().filter(|n| may(n)).cloned())),
            Granted::WholeApp => Some(self.consumer_granted(consumer)),
        }
    }

    /// What a request token from `consumer` with `scope` asks the user for:
    /// the whole app for a consumer registered without grants (its `scope`
    /// is only recorded); else the names in `scope`, which must all be
    /// among its grants (400 `parameter_rejected` naming the others), or
    /// all its grants when `scope` names none.
    pub(crate) fn requested_grants(
        &self,
        consumer: &Consumer,
        scope: Option<&str>,
    ) -> Result<Granted, OAuthError> {
        if consumer.grants.is_empty() {
            return Ok(Granted::WholeApp);
        }
        let askable = self.askable_grants(consumer);
        let asked: BTreeSet<&str> = scope.map(scope_names).into_iter().flatten().collect();
        if asked.is_empty() {
            return Ok(with_identity(askable));
        }
        let unknown: Vec<&str> = asked
            .iter()
            .copied()
            .filter(|name| *name != IDENTITY_GRANT && !askable.contains(name))
            .collect();
        if !unknown.is_empty() {
            return Err(OAuthError::refused(
                ProtocolError::new(Problem::ParameterRejected)
                    .with_advice(unknown_grants_advice(&unknown, &askable)),
                Reason::GrantNotRegistered,
            ));
        }
        Ok(with_identity(asked))
    }

    /// Each grant of `granted` with its consent-page sentence —
    /// [`IDENTITY_GRANT`] first, always, since every token has it; `None`
    /// for the whole app. A name no longer declared is shown by its name.
    pub(crate) fn describe_grants(&self, granted: &Granted) -> Option<Vec<Grant>> {
        let names = granted.names()?;
        let identity = std::iter::once(IDENTITY_GRANT);
        let others = names
            .iter()
            .map(String::as_str)
            .filter(|n| *n != IDENTITY_GRANT);
        let described = identity
            .chain(others)
            .map(|name| {
                self.config
                    .grant(name)
                    .unwrap_or_else(|| Grant::new(name, name))
            })
            .collect();
        Some(described)
    }
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Records a refusal the adapters answer for a grant the request
    /// lacks (after it authenticated, so the provider never saw it): an
    /// [`EventKind::Refused`] at the protected resource, with the
    /// consumer, user and token of `context` and the client's `peer`.
    pub(crate) fn record_grant_refusal(
        &self,
        error: &OAuthError,
        context: &OAuthContext,
        peer: Option<std::net::IpAddr>,
    ) {
        let OAuthError::Request(e) = error else {
            return;
        };
        let kind = EventKind::Refused {
            endpoint: Endpoint::ProtectedResource,
            problem: e.protocol_error().problem(),
            reason: e.reason(),
        };
        let mut event =
            AuditEvent::new(self.now(), kind).consumer(context.get_oauth_consumer_key());
        if let Some(user) = context.user() {
            event = event.user(&user.user_id);
        }
        if let Some(token) = context.token() {
            event = event.token(token);
        }
        event.peer = peer;
        self.emit(event);
    }
}

/// A token's grants: `names` and [`IDENTITY_GRANT`], which every token
/// has (so that no stored set is ever empty).
fn with_identity<'a>(names: impl IntoIterator<Item = &'a str>) -> Granted {
    Granted::only(std::iter::once(IDENTITY_GRANT).chain(names))
}

/// `scope names grants this consumer was not registered for: a, b (it may
/// ask for: c d)`. The names are the client's own words: each is cut short,
/// and every character but visible ASCII (and `"`, `\`) shown as `?`, so
/// that the advice stays one safe line wherever it is written.
fn unknown_grants_advice(unknown: &[&str], askable: &BTreeSet<&str>) -> String {
    let shown = |name: &str| -> String {
        let mut out: String = name
            .chars()
            .take(MAX_NAME_CHARS_LISTED)
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        if name.chars().nth(MAX_NAME_CHARS_LISTED).is_some() {
            out.push('…');
        }
        out
    };
    let mut listed: Vec<String> = unknown
        .iter()
        .take(MAX_NAMES_LISTED)
        .map(|n| shown(n))
        .collect();
    if unknown.len() > MAX_NAMES_LISTED {
        listed.push(format!("and {} more", unknown.len() - MAX_NAMES_LISTED));
    }
    let mut may: Vec<&str> = askable.iter().copied().collect();
    if !may.contains(&IDENTITY_GRANT) {
        may.insert(0, IDENTITY_GRANT);
    }
    format!(
        "scope names grants this consumer was not registered for: {} (it may ask for: {})",
        listed.join(", "),
        may.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::consumer::ConsumerRegistry;
    use crate::model::grant::Grant;
    use crate::provider::config::ProviderConfig;
    use crate::store::MemoryStore;

    fn provider(declared: &[&str]) -> Provider<MemoryStore> {
        let config = ProviderConfig {
            grants: declared.iter().map(|n| Grant::new(*n, *n)).collect(),
            ..ProviderConfig::default()
        };
        let store = MemoryStore::new();
        Provider::new(store.clone(), store, ConsumerRegistry::new(), config)
    }

    #[test]
    fn a_grant_taken_from_the_consumer_is_taken_from_its_tokens() {
        let p = provider(&["photos.read", "photos.write"]);
        let both = Granted::only(["photos.read", "photos.write"]);
        let reader = Consumer::new("k", "s", "K").grants(["photos.read"]);
        assert_eq!(
            p.narrowed_grants(&reader, &both),
            Some(Granted::only(["photos.read"]))
        );
        let read_with_identity = Granted::only([IDENTITY_GRANT, "photos.read"]);
        let writer = Consumer::new("k", "s", "K").grants(["photos.read", "photos.write"]);
        assert_eq!(p.narrowed_grants(&writer, &both), None, "nothing taken");
        let with_identity = Granted::only([IDENTITY_GRANT, "photos.read"]);
        assert_eq!(p.narrowed_grants(&reader, &with_identity), None);
        // A whole-app token from before the consumer had grants.
        assert_eq!(
            p.narrowed_grants(&reader, &Granted::WholeApp),
            Some(read_with_identity)
        );
        // A consumer without grants keeps its tokens as they are.
        let whole = Consumer::new("k", "s", "K");
        assert_eq!(p.narrowed_grants(&whole, &both), None);
        // A grant the host stopped declaring.
        let fewer = provider(&["photos.read"]);
        assert_eq!(
            fewer.narrowed_grants(&writer, &both),
            Some(Granted::only(["photos.read"]))
        );
    }

    #[test]
    fn scope_is_read_against_the_consumers_grants() {
        let p = provider(&["photos.read", "photos.write"]);
        let reader = Consumer::new("k", "s", "K").grants(["photos.read", "gone"]);
        assert_eq!(
            p.requested_grants(&reader, None).unwrap(),
            Granted::only([IDENTITY_GRANT, "photos.read"]),
            "all its grants the host declares, and identity"
        );
        assert_eq!(
            p.requested_grants(&reader, Some("photos.read")).unwrap(),
            Granted::only([IDENTITY_GRANT, "photos.read"])
        );
        let describe = p.describe_grants(&Granted::only(["photos.read"])).unwrap();
        let names: Vec<&str> = describe.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [IDENTITY_GRANT, "photos.read"],
            "identity is always shown"
        );
        assert_eq!(
            p.requested_grants(&reader, Some("identity,photos.read"))
                .unwrap(),
            Granted::only([IDENTITY_GRANT, "photos.read"])
        );
        let refused = p
            .requested_grants(&reader, Some("photos.read photos.write"))
            .unwrap_err();
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.reason(), Some(Reason::GrantNotRegistered));
        let whole = Consumer::new("k", "s", "K");
        assert_eq!(
            p.requested_grants(&whole, Some("https://x.example/feeds"))
                .unwrap(),
            Granted::WholeApp,
            "App Engine: recorded, not read"
        );
    }

    #[test]
    fn the_advice_names_the_unknown_grants_safely() {
        let askable: BTreeSet<&str> = ["photos.read", "photos.write"].into();
        assert_eq!(
            unknown_grants_advice(&["photos.delete"], &askable),
            "scope names grants this consumer was not registered for: photos.delete \
             (it may ask for: identity photos.read photos.write)"
        );
        let odd = unknown_grants_advice(&["a\"b\\c\u{202e}d"], &askable);
        assert!(odd.contains("a?b?c?d"), "{odd}");
        let long = "x".repeat(300);
        let many: Vec<&str> = std::iter::repeat_n(long.as_str(), 12).collect();
        let advice = unknown_grants_advice(&many, &askable);
        assert!(advice.contains("and 2 more"), "{advice}");
        assert!(advice.len() < 1200, "{}", advice.len());
    }
}
