//! The provider's clock, injectable so that tests set the time instead of
//! sleeping (rustls `TimeProvider`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until moved: for tests. Clones share the time.
///
/// ```
/// use oauth1_provider::model::{Clock, ManualClock};
/// let clock = ManualClock::at_unix(1_700_000_000);
/// clock.advance(std::time::Duration::from_secs(660));
/// assert_eq!(clock.now().unix_timestamp(), 1_700_000_660);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock set to `unix` seconds since the epoch.
    pub fn at_unix(unix: i64) -> Self {
        Self(Arc::new(AtomicI64::new(unix)))
    }

    /// Sets the time to `unix` seconds.
    pub fn set_unix(&self, unix: i64) {
        self.0.store(unix, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, by: std::time::Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl<C: Clock> Clock for Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}
