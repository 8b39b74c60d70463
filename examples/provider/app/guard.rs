//! What the demo refuses before a handler runs: form posts a browser says
//! come from another site (login CSRF and its kin), and password guessing —
//! sign-in attempts limited per account and per client address, and at most
//! as many password hashes at once as there are cores.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use oauth1_provider::origin::ResolvedOrigin;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Refuses (403) a `POST` that a browser marks as sent from another site:
/// `Sec-Fetch-Site` other than `same-origin` or `none`, or, from a browser
/// too old to send that, an `Origin` that is not the site's own. Requests
/// with neither header are not a browser's form posts (consumers' signed
/// calls, scripts) and pass. Every form of the demo posts — sign-in,
/// sign-out, revoke, the consent answer — so every one is covered; the
/// forms with a session carry a CSRF token besides, and the sign-in form,
/// which has no session yet, relies on this alone.
pub(super) async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !same_origin(&request) {
        tracing::info!(path = ?request.uri().path(), "cross-site form post refused");
        return super::pages::forged();
    }
    next.run(request).await
}

fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    request
        .extensions()
        .get::<ResolvedOrigin>()
        .is_some_and(|ours| {
            let ours = format!("{}://{}", ours.scheme, ours.authority);
            origin.as_bytes().eq_ignore_ascii_case(ours.as_bytes())
        })
}

/// How many sign-in attempts are allowed, and how many hashes run at once.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failed (and in-flight) sign-ins per account per window. Defaults to 10.
    pub per_account: u32,
    /// Failed (and in-flight) sign-ins per client address per window.
    /// Defaults to 50.
    pub per_address: u32,
    /// How long failures are remembered. Defaults to 15 minutes.
    pub window: Duration,
    /// Password hashes running at once; more wait for a turn. Defaults to
    /// the number of cores.
    pub concurrent_hashes: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account: 10,
            per_address: 50,
            window: Duration::from_secs(15 * 60),
            concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// Sign-in attempts by account and by address, and the hashing turns.
pub(super) struct LoginGuard {
    limits: LoginLimits,
    /// Peers whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    trusted_proxies: Vec<IpAddr>,
    counts: Mutex<Counts>,
    hashing: Semaphore,
}

#[derive(Default)]
struct Counts {
    accounts: HashMap<String, Window>,
    addresses: HashMap<IpAddr, Window>,
}

/// Attempts counted since `start`.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

/// Most remembered accounts and addresses each, past which windows that
/// ended are dropped (bounded memory whatever the emails tried).
const MAX_REMEMBERED: usize = 4096;

/// An attempt let through: counted against its account and address until
/// [`LoginGuard::succeeded`] refunds it.
pub(super) struct Attempt {
    email: String,
    address: Option<IpAddr>,
}

impl LoginGuard {
    pub(super) fn new(limits: LoginLimits, trusted_proxies: Vec<IpAddr>) -> Self {
        let permits = limits.concurrent_hashes.max(1);
        Self {
            limits,
            trusted_proxies,
            counts: Mutex::default(),
            hashing: Semaphore::new(permits),
        }
    }

    /// The client's address: the peer's, or, from a trusted proxy, the
    /// last address its `X-Forwarded-For` names (the one that proxy saw;
    /// those before it are the client's to write). Without this, every
    /// client behind the proxy would share one address's allowance, and
    /// one of them guessing would lock the others out.
    pub(super) fn client_address(
        &self,
        peer: Option<IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|last| last.trim().parse().ok());
        Some(forwarded.unwrap_or(peer))
    }

    /// Counts an attempt for `email` from `address`, or refuses it: the
    /// seconds until the account or the address may try again. Counted
    /// before the password is checked, so that concurrent guesses are
    /// counted as they arrive, not as they finish.
    pub(super) fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<Attempt, u64> {
        let now = Instant::now();
        let window = self.limits.window;
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let Counts {
            accounts,
            addresses,
        } = &mut *counts;
        let (per_account, per_address) = (self.limits.per_account, self.limits.per_address);
        let account = current(accounts, email.to_owned(), now, window, per_account);
        let by_address = address.map(|a| current(addresses, a, now, window, per_address));
        let wait = |w: &Window| (w.start + window).saturating_duration_since(now).as_secs() + 1;
        if account.count >= per_account {
            return Err(wait(account));
        }
        if let Some(w) = by_address.as_deref().filter(|w| w.count >= per_address) {
            return Err(wait(w));
        }
        account.count += 1;
        if let Some(w) = by_address {
            w.count += 1;
        }
        Ok(Attempt {
            email: email.to_owned(),
            address,
        })
    }

    /// The attempt signed in: it does not count against anyone.
    pub(super) fn succeeded(&self, attempt: Attempt) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = counts.accounts.get_mut(&attempt.email) {
            w.count = w.count.saturating_sub(1);
        }
        if let Some(w) = attempt.address.and_then(|a| counts.addresses.get_mut(&a)) {
            w.count = w.count.saturating_sub(1);
        }
    }

    /// A turn to hash a password: at most `concurrent_hashes` at once.
    pub(super) async fn hashing_turn(&self) -> Option<SemaphorePermit<'_>> {
        self.hashing.acquire().await.ok()
    }
}

/// `key`'s window, restarted if it ended. When the map holds too many,
/// windows that ended are dropped, then those below `limit`: a flood of
/// new keys never frees a key that reached its limit.
fn current<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Window>,
    key: K,
    now: Instant,
    window: Duration,
    limit: u32,
) -> &mut Window {
    if map.len() >= MAX_REMEMBERED {
        map.retain(|_, w| w.start + window > now);
    }
    if map.len() >= MAX_REMEMBERED {
        map.retain(|_, w| w.count >= limit);
    }
    let entry = map.entry(key).or_insert(Window {
        start: now,
        count: 0,
    });
    if entry.start + window <= now {
        *entry = Window {
            start: now,
            count: 0,
        };
    }
    entry
}
