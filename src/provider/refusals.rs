//! Signature-mismatch help for a consumer's developer: the provider's view
//! of the last few requests it refused with `signature_invalid`, per
//! registered consumer, bounded in count and age — what it computed (the
//! base string URI, the normalized parameters, the base string), never a
//! secret, signature, verifier or session handle.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::protocol::encoding::percent_encode;
use crate::protocol::signed_request::SignedRequest;
use crate::provider::Provider;
use crate::provider::context::Reason;
use crate::store::{NonceStore, TokenStore};

/// Parameters whose values are secrets the client holds: shown as this.
const REDACTED: &str = "REDACTED";
const SECRET_PARAMETERS: [&str; 2] = ["oauth_verifier", "oauth_session_handle"];

/// A request the provider refused with `signature_invalid`, as the
/// provider saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedRequest {
    /// When (the provider's clock).
    pub at: OffsetDateTime,
    /// The HTTP method, upper-case, as in the base string.
    pub method: String,
    /// The base string URI (RFC 5849 §3.4.1.2) the provider computed.
    pub base_string_uri: String,
    /// The normalized parameters (§3.4.1.3.2), with the values of
    /// `oauth_verifier` and `oauth_session_handle` replaced by `REDACTED`.
    pub normalized_parameters: String,
    /// The signature base string (§3.4.1.1) built from these.
    pub base_string: String,
    /// Why: a bad signature, or a token the provider does not know.
    pub reason: Reason,
}

impl RefusedRequest {
    /// The provider's view of `signed`, or `None` when its URI cannot be
    /// built (it was refused before the signature then).
    fn of(signed: &SignedRequest<'_>, reason: Reason, at: OffsetDateTime) -> Option<Self> {
        let base_string_uri = signed.base_string_uri().ok()?;
        let normalized_parameters = signed
            .normalized_parameters()
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if SECRET_PARAMETERS.contains(&name) => {
                    format!("{name}={REDACTED}")
                }
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        let method = signed.method().to_ascii_uppercase();
        let base_string = format!(
            "{method}&{}&{}",
            percent_encode(&base_string_uri),
            percent_encode(&normalized_parameters)
        );
        Some(Self {
            at,
            method,
            base_string_uri,
            normalized_parameters,
            base_string,
            reason,
        })
    }
}

/// The last refusals per consumer.
pub(crate) struct RefusalLog {
    per_consumer: usize,
    max_age: Duration,
    by_consumer: Mutex<HashMap<String, VecDeque<RefusedRequest>>>,
}

impl RefusalLog {
    /// Keeps `refused` for `consumer_key` (the oldest goes past the bound).
    fn keep(&self, consumer_key: &str, refused: RefusedRequest) {
        let mut log = self
            .by_consumer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let kept = log.entry(consumer_key.to_owned()).or_default();
        kept.push_back(refused);
        while kept.len() > self.per_consumer {
            kept.pop_front();
        }
    }
}

impl<S: TokenStore, N: NonceStore> Provider<S, N> {
    /// Keeps, per approved consumer, the provider's view of its last
    /// `per_consumer` requests refused with `signature_invalid` (a bad
    /// signature, or an unknown token), for `max_age`, in this process:
    /// what [`Provider::recent_refusals`] shows its developer. Requests
    /// naming an unknown or unapproved consumer are not kept, but the view
    /// is built for them too, so that every such refusal costs the same.
    pub fn with_refusal_log(mut self, per_consumer: usize, max_age: Duration) -> Self {
        self.refusals = Some(RefusalLog {
            per_consumer,
            max_age,
            by_consumer: Mutex::new(HashMap::new()),
        });
        self
    }

    /// The requests of `consumer_key` refused with `signature_invalid`
    /// within the log's age, oldest first (empty without
    /// [`Provider::with_refusal_log`]). Show them to the consumer's owner
    /// only.
    pub fn recent_refusals(&self, consumer_key: &str) -> Vec<RefusedRequest> {
        let Some(log) = &self.refusals else {
            return Vec::new();
        };
        let now = self.now();
        let mut by_consumer = log
            .by_consumer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(kept) = by_consumer.get_mut(consumer_key) else {
            return Vec::new();
        };
        kept.retain(|r| now - r.at < log.max_age);
        kept.iter().cloned().collect()
    }

    /// Notes a `signature_invalid` refusal: its view is built whatever the
    /// consumer (the same work), and kept for an approved one (`known`).
    pub(crate) fn note_refusal(
        &self,
        signed: &SignedRequest<'_>,
        known: Option<&str>,
        reason: Reason,
        now: OffsetDateTime,
    ) {
        let Some(log) = &self.refusals else {
            return;
        };
        let Some(refused) = RefusedRequest::of(signed, reason, now) else {
            return;
        };
        if let Some(consumer_key) = known {
            log.keep(consumer_key, refused);
        }
    }
}
