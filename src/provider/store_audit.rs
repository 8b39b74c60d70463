//! Keeping the audit trail in a store: [`StoreAudit`], an [`AuditSink`]
//! that hands each event to a background task appending to an
//! [`EventStore`] (feature `tokio`).
//!
//! The hook stays synchronous and cheap on the request path: recording is
//! a `try_send` on a bounded channel, never a database round trip, and a
//! burst of refused requests can neither slow the requests down nor grow
//! memory without bound — past the channel's capacity, events are dropped
//! and counted ([`StoreAudit::dropped`]) but still logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::provider::events::{AuditEvent, AuditSink, TracingAudit};
use crate::store::{EventStore, StoredEvent};

/// Most events appended in one batch.
const BATCH: usize = 256;

enum Message {
    Event(StoredEvent),
    Flush(oneshot::Sender<()>),
}

/// An [`AuditSink`] that logs each event as [`TracingAudit`] does and
/// keeps it in an [`EventStore`] (the SQLite or PostgreSQL store's
/// `oauth1_events` table, or a [`MemoryStore`](crate::MemoryStore)),
/// appended in batches by a background task.
///
/// ```
/// use oauth1_provider::provider::StoreAudit;
/// use oauth1_provider::{ConsumerRegistry, MemoryStore, Provider, ProviderConfig};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = MemoryStore::new();
/// let audit = StoreAudit::spawn(store.clone());
/// let provider = Provider::new(store.clone(), store, ConsumerRegistry::new(), ProviderConfig::default())
///     .with_audit(audit.clone());
/// audit.flush().await;
/// assert!(provider.recent_events(None, 10).await.unwrap().is_empty());
/// # }
/// ```
#[derive(Clone)]
pub struct StoreAudit {
    sender: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for StoreAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreAudit")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl StoreAudit {
    /// Events waiting to be stored, at most, unless
    /// [`StoreAudit::spawn_with_capacity`] says otherwise.
    pub const DEFAULT_CAPACITY: usize = 4096;

    /// Starts the background task appending to `store` on the current Tokio
    /// runtime (call it from within one). The task ends when the last clone
    /// of this sink is dropped, after storing what it was given.
    pub fn spawn<E: EventStore + 'static>(store: E) -> Self {
        Self::spawn_with_capacity(store, Self::DEFAULT_CAPACITY)
    }

    /// [`StoreAudit::spawn`] with at most `capacity` events waiting (at
    /// least 1).
    pub fn spawn_with_capacity<E: EventStore + 'static>(store: E, capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        tokio::spawn(append(store, receiver));
        Self {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Waits until every event recorded before this call is stored (or its
    /// append failed and was logged).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// How many events were not stored because too many were waiting
    /// (they were still logged).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AuditSink for StoreAudit {
    fn record(&self, event: &AuditEvent) {
        TracingAudit.record(event);
        if self
            .sender
            .try_send(Message::Event(StoredEvent::from(event)))
            .is_err()
        {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(
                target: "oauth1_provider::audit",
                dropped,
                "audit event not stored: too many waiting"
            );
        }
    }
}

/// The background task: appends what arrives, in batches, and answers
/// flushes once everything before them is appended.
async fn append<E: EventStore>(store: E, mut receiver: mpsc::Receiver<Message>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Event(event) => batch.push(event),
                Message::Flush(done) => flushes.push(done),
            }
            if batch.len() < BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            if let Err(error) = store.append_events(&batch).await {
                tracing::warn!(
                    target: "oauth1_provider::audit",
                    error = %error,
                    lost = batch.len(),
                    "could not store audit events"
                );
            }
            batch.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}
