//! The audit trail: what the provider did and refused, as [`AuditEvent`]s
//! handed to the host's [`AuditSink`] ([`Provider::with_audit`]) — by
//! default [`TracingAudit`], one structured `tracing` line per event.
//!
//! An event never carries a secret, a verifier, a signature, a session
//! handle or a whole token: a token is named by its first
//! [`TOKEN_PREFIX_CHARS`] characters, enough to match it against a user's
//! list and far too few to use it.
//!
//! [`Provider::with_audit`]: crate::Provider::with_audit

use std::fmt;
use std::net::IpAddr;

use time::OffsetDateTime;

use crate::protocol::error::Problem;
use crate::provider::context::Reason;
use crate::store::StoredEvent;

/// How many characters of a token an event keeps.
pub const TOKEN_PREFIX_CHARS: usize = 6;

/// The first [`TOKEN_PREFIX_CHARS`] characters of `token`.
pub(crate) fn token_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX_CHARS).collect()
}

/// Where the host's audit trail goes: the provider calls
/// [`AuditSink::record`] once for each event, on the request's task, after
/// the change it reports was stored.
///
/// Keep `record` cheap and non-blocking (hand the event to a channel or a
/// buffer); it cannot fail the request.
///
/// ```
/// use std::sync::Mutex;
/// use oauth1_provider::provider::{AuditEvent, AuditSink};
///
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<AuditEvent>>);
///
/// impl AuditSink for Recorder {
///     fn record(&self, event: &AuditEvent) {
///         self.0.lock().unwrap().push(event.clone());
///     }
/// }
/// # let _ = Recorder::default();
/// ```
pub trait AuditSink: Send + Sync + 'static {
    /// Records one event.
    fn record(&self, event: &AuditEvent);
}

impl<T: AuditSink> AuditSink for std::sync::Arc<T> {
    fn record(&self, event: &AuditEvent) {
        T::record(self, event);
    }
}

/// The default [`AuditSink`]: each event as one `tracing` line at `INFO`
/// (target `oauth1_provider::audit`), its values as structured fields
/// escaped by `Debug` (a consumer key or token prefix sent by a client
/// cannot forge a log line).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAudit;

impl AuditSink for TracingAudit {
    fn record(&self, event: &AuditEvent) {
        let message = event.kind.message();
        match &event.kind {
            EventKind::Refused {
                endpoint,
                problem,
                reason,
            } => tracing::info!(
                target: "oauth1_provider::audit",
                event = event.kind.name(),
                endpoint = endpoint.name(),
                problem = problem.code(),
                reason = ?reason,
                consumer = ?event.consumer_key,
                token = ?event.token_prefix,
                peer = ?event.peer,
                "{message}"
            ),
            kind => tracing::info!(
                target: "oauth1_provider::audit",
                event = kind.name(),
                consumer = ?event.consumer_key,
                user = ?event.user_id,
                token = ?event.token_prefix,
                details = ?kind,
                "{message}"
            ),
        }
    }
}

/// One thing the provider did or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent {
    /// When, on the provider's clock.
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: EventKind,
    /// The consumer concerned; for a refusal, the key the client sent
    /// (which may be unknown).
    pub consumer_key: Option<String>,
    /// The user concerned, when known.
    pub user_id: Option<String>,
    /// The token concerned: its first [`TOKEN_PREFIX_CHARS`] characters.
    pub token_prefix: Option<String>,
    /// For a refusal, the address the request came from, when the
    /// [`Request`](crate::Request) says (the adapters fill it in: the TCP
    /// peer, behind a reverse proxy the proxy).
    pub peer: Option<IpAddr>,
}

impl AuditEvent {
    /// An event of `kind` at `at`, concerning nobody yet.
    pub(crate) fn new(at: OffsetDateTime, kind: EventKind) -> Self {
        Self {
            at,
            kind,
            consumer_key: None,
            user_id: None,
            token_prefix: None,
            peer: None,
        }
    }

    pub(crate) fn consumer(mut self, key: &str) -> Self {
        self.consumer_key = Some(key.to_owned());
        self
    }

    pub(crate) fn user(mut self, user_id: &str) -> Self {
        self.user_id = Some(user_id.to_owned());
        self
    }

    pub(crate) fn token(mut self, token: &str) -> Self {
        self.token_prefix = Some(token_prefix(token));
        self
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.name())?;
        if let EventKind::Refused {
            endpoint,
            problem,
            reason,
        } = &self.kind
        {
            write!(f, " {} {} {reason:?}", endpoint.name(), problem.code())?;
        }
        if let Some(consumer) = &self.consumer_key {
            write!(f, " consumer={consumer:?}")?;
        }
        if let Some(user) = &self.user_id {
            write!(f, " user={user:?}")?;
        }
        if let Some(token) = &self.token_prefix {
            write!(f, " token={token:?}…")?;
        }
        if let Some(peer) = &self.peer {
            write!(f, " peer={peer}")?;
        }
        Ok(())
    }
}

impl From<&AuditEvent> for StoredEvent {
    fn from(event: &AuditEvent) -> Self {
        let detail = match &event.kind {
            EventKind::Refused {
                endpoint,
                problem,
                reason,
            } => format!("{} {} {reason:?}", endpoint.name(), problem.code()),
            EventKind::AccessTokenRevoked { by, count } => {
                format!("by={} count={count}", by.name())
            }
            _ => String::new(),
        };
        Self {
            at: event.at,
            kind: event.kind.name().to_owned(),
            detail,
            consumer_key: event.consumer_key.clone(),
            user_id: event.user_id.clone(),
            token_prefix: event.token_prefix.clone(),
            peer: event.peer,
        }
    }
}

/// What an [`AuditEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A request token was issued (RFC 5849 §2.1).
    RequestTokenIssued,
    /// The user approved a request token (§2.2).
    Authorized,
    /// The user denied a request token.
    Denied,
    /// An approved request token was exchanged for an access token (§2.3).
    Exchanged,
    /// Too many wrong verifiers: the request token can no longer be exchanged.
    Burned,
    /// An access token was issued (by an exchange, or by
    /// [`Provider::issue_access_token`](crate::Provider::issue_access_token)).
    AccessTokenIssued,
    /// An access token was refreshed (OAuth Session extension): the event
    /// names the new token.
    AccessTokenRefreshed,
    /// Access tokens were revoked.
    AccessTokenRevoked {
        /// Who revoked them.
        by: RevokedBy,
        /// How many.
        count: usize,
    },
    /// A consumer was registered (stored).
    ConsumerRegistered,
    /// A consumer was approved.
    ConsumerApproved,
    /// A consumer was rejected.
    ConsumerRejected,
    /// A consumer was disabled.
    ConsumerDisabled,
    /// A consumer was enabled again.
    ConsumerEnabled,
    /// A consumer's details (name, description, home page, callbacks) changed.
    ConsumerUpdated,
    /// A consumer's secret was rotated.
    ConsumerSecretRotated,
    /// A consumer was deleted (its access tokens revoked: see the
    /// [`RevokedBy::ConsumerDeleted`] event that follows when it had any).
    ConsumerDeleted,
    /// A request was refused.
    Refused {
        /// The endpoint that refused it.
        endpoint: Endpoint,
        /// The `oauth_problem` the client was told.
        problem: Problem,
        /// The precise reason, which the client was not told.
        reason: Reason,
    },
}

impl EventKind {
    /// A stable `snake_case` name, for logs and storage.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RequestTokenIssued => "request_token_issued",
            Self::Authorized => "authorized",
            Self::Denied => "denied",
            Self::Exchanged => "exchanged",
            Self::Burned => "burned",
            Self::AccessTokenIssued => "access_token_issued",
            Self::AccessTokenRefreshed => "access_token_refreshed",
            Self::AccessTokenRevoked { .. } => "access_token_revoked",
            Self::ConsumerRegistered => "consumer_registered",
            Self::ConsumerApproved => "consumer_approved",
            Self::ConsumerRejected => "consumer_rejected",
            Self::ConsumerDisabled => "consumer_disabled",
            Self::ConsumerEnabled => "consumer_enabled",
            Self::ConsumerUpdated => "consumer_updated",
            Self::ConsumerSecretRotated => "consumer_secret_rotated",
            Self::ConsumerDeleted => "consumer_deleted",
            Self::Refused { .. } => "refused",
        }
    }

    /// The log message for the default sink.
    fn message(&self) -> &'static str {
        match self {
            Self::RequestTokenIssued => "issued request token",
            Self::Authorized => "request token approved",
            Self::Denied => "request token denied",
            Self::Exchanged => "request token exchanged",
            Self::Burned => "request token burned by wrong verifiers",
            Self::AccessTokenIssued => "issued access token",
            Self::AccessTokenRefreshed => "refreshed access token",
            Self::AccessTokenRevoked { .. } => "revoked access tokens",
            Self::ConsumerRegistered => "consumer registered",
            Self::ConsumerApproved => "consumer approved",
            Self::ConsumerRejected => "consumer rejected",
            Self::ConsumerDisabled => "consumer disabled",
            Self::ConsumerEnabled => "consumer enabled",
            Self::ConsumerUpdated => "consumer updated",
            Self::ConsumerSecretRotated => "consumer secret rotated",
            Self::ConsumerDeleted => "consumer deleted",
            Self::Refused { .. } => "OAuth request refused",
        }
    }
}

/// Who revoked access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokedBy {
    /// The user, revoking her grant to an app
    /// ([`Provider::revoke_authorization`](crate::Provider::revoke_authorization)).
    User,
    /// The host or an administrator
    /// ([`Provider::revoke_token`](crate::Provider::revoke_token),
    /// [`Provider::revoke_consumer_tokens`](crate::Provider::revoke_consumer_tokens)).
    Host,
    /// The consumer was deleted.
    ConsumerDeleted,
    /// A newer grant by the same user to the same app replaced them
    /// ([`ProviderConfig::replace_earlier_grants`](crate::ProviderConfig::replace_earlier_grants)).
    Replaced,
}

impl RevokedBy {
    /// A stable `snake_case` name, for logs and storage.
    pub fn name(&self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Host => "host",
            Self::ConsumerDeleted => "consumer_deleted",
            Self::Replaced => "replaced",
        }
    }
}

/// The endpoint that refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// The temporary-credentials request (RFC 5849 §2.1).
    RequestToken,
    /// The token-credentials request (§2.3), or a refresh.
    AccessToken,
    /// A request to a protected resource (§3).
    ProtectedResource,
    /// The identity endpoint ([`Provider::identify`](crate::Provider::identify)).
    Identify,
}

impl Endpoint {
    /// A stable `snake_case` name, for logs and storage.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RequestToken => "request_token",
            Self::AccessToken => "access_token",
            Self::ProtectedResource => "protected_resource",
            Self::Identify => "identify",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_named_by_its_prefix() {
        assert_eq!(token_prefix("abcdefghijkl"), "abcdef");
        assert_eq!(token_prefix("abc"), "abc");
        assert_eq!(token_prefix("ééééééé"), "éééééé");
    }

    #[test]
    fn display_escapes_what_a_client_sent() {
        let event = AuditEvent::new(
            OffsetDateTime::UNIX_EPOCH,
            EventKind::Refused {
                endpoint: Endpoint::RequestToken,
                problem: Problem::SignatureInvalid,
                reason: Reason::UnknownConsumer,
            },
        )
        .consumer("evil\nINFO forged")
        .token("tok\"en-rest");
        assert_eq!(
            event.to_string(),
            "refused request_token signature_invalid UnknownConsumer \
             consumer=\"evil\\nINFO forged\" token=\"tok\\\"en\"…"
        );
    }
}
