//! Purging without ceremony: a background task that runs
//! [`Provider::purge_expired`] on a schedule (feature `tokio`, implied by
//! the adapters and the stores).

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::provider::Provider;
use crate::store::{NonceStore, TokenStore};

/// The background purge of expired request tokens and nonces, from
/// [`Provider::spawn_purger`]. It stops when this handle is dropped (or
/// [`Purger::stop`]ped), or when the provider is dropped.
#[derive(Debug)]
#[must_use = "the purger stops when its handle is dropped"]
pub struct Purger(Option<tokio::task::JoinHandle<()>>);

impl Purger {
    /// Stops the purge.
    pub fn stop(self) {
        drop(self);
    }

    /// Leaves the purge running for as long as the provider lives, with no
    /// handle to stop it (a server's whole lifetime).
    pub fn detach(mut self) {
        // Dropping a Tokio task's handle detaches the task.
        drop(self.0.take());
    }
}

impl Drop for Purger {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> Provider<S, N> {
    /// Purges expired request tokens and nonces every `interval` in a Tokio
    /// task ([`Provider::purge_expired`]), logging a failure as a warning
    /// and trying again next time; the first purge runs after one
    /// `interval`. Call it once, inside a Tokio runtime (axum's, or
    /// actix-web's, which runs on Tokio).
    ///
    /// Without a purge, a [`MemoryStore`](crate::MemoryStore) and the SQL
    /// stores still drop expired rows lazily as new ones come (every 1024
    /// inserts), but a host whose traffic stops keeps what expired until
    /// then, and a store of the host's own may keep everything. A minute is
    /// a good interval: request tokens live 10 minutes, nonces about 5.
    ///
    /// # Panics
    ///
    /// If `interval` is zero (here, not later inside the task where the
    /// panic would go unseen).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::{sync::Arc, time::Duration};
    /// use oauth1_provider::{ConsumerRegistry, MemoryStore, Provider, ProviderConfig};
    ///
    /// let store = MemoryStore::new();
    /// let provider = Arc::new(Provider::new(
    ///     store.clone(), store, ConsumerRegistry::new(), ProviderConfig::default(),
    /// ));
    /// provider.spawn_purger(Duration::from_secs(60)).detach();
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn spawn_purger(self: &Arc<Self>, interval: Duration) -> Purger {
        assert!(
            !interval.is_zero(),
            "spawn_purger needs an interval above zero"
        );
        let provider = Arc::downgrade(self);
        Purger(Some(tokio::spawn(purge_every(provider, interval))))
    }
}

async fn purge_every<S: TokenStore, N: NonceStore>(
    provider: Weak<Provider<S, N>>,
    interval: Duration,
) {
    let start = tokio::time::Instant::now() + interval;
    let mut every = tokio::time::interval_at(start, interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // Only a live provider is purged; the task ends with it.
        let Some(provider) = provider.upgrade() else {
            return;
        };
        match provider.purge_expired().await {
            Ok(purged) => tracing::debug!(
                request_tokens = purged.request_tokens,
                nonces = purged.nonces,
                "purged expired request tokens and nonces"
            ),
            Err(error) => tracing::warn!(%error, "purging expired tokens and nonces failed"),
        }
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::model::{Clock as _, ConsumerRegistry, ManualClock};
    use crate::provider::ProviderConfig;
    use crate::store::MemoryStore;
    use crate::store::conformance::sample_request_token;

    fn provider_on(store: MemoryStore) -> Provider<MemoryStore> {
        Provider::new(
            store.clone(),
            store,
            ConsumerRegistry::new(),
            ProviderConfig::default(),
        )
    }

    /// Tokio's paused clock: the sleeps below advance it at once, no test
    /// waits in real time.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn purges_on_schedule_and_stops_with_its_handle() {
        let clock = ManualClock::at_unix(1_700_000_000);
        let store = MemoryStore::new();
        let provider = Arc::new(provider_on(store.clone()).with_clock(clock.clone()));
        let first = sample_request_token(clock.now());
        store.insert_request_token(&first).await.unwrap();
        clock.advance(Duration::from_secs(11 * 60));

        let purger = provider.spawn_purger(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert!(
            store
                .get_request_token(&first.token)
                .await
                .unwrap()
                .is_some(),
            "nothing is purged before the first interval"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            store
                .get_request_token(&first.token)
                .await
                .unwrap()
                .is_none(),
            "the expired request token is purged after one interval"
        );

        purger.stop();
        let second = sample_request_token(clock.now());
        store.insert_request_token(&second).await.unwrap();
        clock.advance(Duration::from_secs(11 * 60));
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert!(
            store
                .get_request_token(&second.token)
                .await
                .unwrap()
                .is_some(),
            "a stopped purger purges nothing"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    #[should_panic(expected = "spawn_purger needs an interval above zero")]
    async fn a_zero_interval_is_refused_at_once() {
        let provider = Arc::new(provider_on(MemoryStore::new()));
        provider.spawn_purger(Duration::ZERO).detach();
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn the_purge_ends_with_the_provider() {
        let provider = Arc::new(provider_on(MemoryStore::new()));
        let purger = provider.spawn_purger(Duration::from_secs(60));
        drop(provider);
        tokio::time::sleep(Duration::from_secs(61)).await;
        let task = purger.0.as_ref().unwrap();
        assert!(
            task.is_finished(),
            "the task ends once the provider is gone"
        );
    }
}
