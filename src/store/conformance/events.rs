//! The [`EventStore`] cases: every field round trips (client text as
//! sent), lists are newest first, per user, limited; a purge deletes only
//! what is older than its bound.
//!
//! A database may be shared with other runs: each case files its events
//! under users of its own, at times of its own (in 1990, at a random
//! second), and asserts only about those.

use time::{Duration, OffsetDateTime};

use super::{broken, ok, unique};
use crate::protocol::random::random_token;
use crate::store::{EventStore, StoredEvent};

mod m {
    pub(super) const APPEND: &str = "EventStore::append_events";
    pub(super) const LIST: &str = "EventStore::list_events";
    pub(super) const PURGE: &str = "EventStore::purge_events";
}

mod c {
    pub(super) const ROUND_TRIP: &str = "an appended event reads back with every field as it \
        was appended (times to the whole second)";
    pub(super) const ORDER: &str = "list_events answers the newest first: by `at`, then the \
        last appended first; at most `limit`; only the given user's when one is given";
    pub(super) const PURGE: &str = "purge_events(before) deletes the events older than \
        `before`, and no other, and says how many (at least those)";
}

/// A second of 1990 no other run is likely to use.
fn own_time() -> OffsetDateTime {
    let random = random_token(8).unwrap_or_else(|_| panic!("OS random source failed"));
    let offset = random
        .bytes()
        .fold(0i64, |n, b| (n * 31 + i64::from(b)) % 30_000_000);
    OffsetDateTime::from_unix_timestamp(631_152_000 + offset).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn event(at: OffsetDateTime, kind: &str, user: Option<&str>) -> StoredEvent {
    StoredEvent {
        at,
        kind: kind.to_owned(),
        detail: String::new(),
        consumer_key: None,
        user_id: user.map(str::to_owned),
        token_prefix: None,
        peer: None,
    }
}

async fn list<S: EventStore>(store: &S, user: Option<&str>, limit: usize) -> Vec<StoredEvent> {
    ok(
        store.list_events(user, limit).await,
        m::LIST,
        "listing events",
    )
}

async fn append<S: EventStore>(store: &S, events: &[StoredEvent]) {
    ok(
        store.append_events(events).await,
        m::APPEND,
        "appending events",
    );
}

/// Runs every [`EventStore`] case.
pub async fn run_event_store_suite<S: EventStore>(store: &S) {
    events_round_trip_newest_first(store).await;
    purging_events_deletes_only_older_ones(store).await;
}

/// Every field round trips; a user's list is hers only, newest first,
/// limited; everyone's list holds them in the same order.
pub async fn events_round_trip_newest_first<S: EventStore>(store: &S) {
    let (user, other) = (unique("event-user"), unique("event-user"));
    let at = own_time();
    let full = StoredEvent {
        at,
        kind: "refused".to_owned(),
        detail: "request_token signature_invalid UnknownConsumer".to_owned(),
        // As a client may send it: markup, non-ASCII, a NUL.
        consumer_key: Some("<b>k\u{e9}y\u{0}</b>".to_owned()),
        user_id: Some(user.clone()),
        token_prefix: Some("tok\"en".to_owned()),
        peer: Some(std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])),
    };
    let second = event(at + Duration::seconds(1), "authorized", Some(&user));
    let same_second = event(at + Duration::seconds(1), "exchanged", Some(&user));
    let others = event(at + Duration::seconds(2), "denied", Some(&other));
    append(store, std::slice::from_ref(&full)).await;
    append(
        store,
        &[second.clone(), same_second.clone(), others.clone()],
    )
    .await;

    let mine = list(store, Some(&user), 10).await;
    let expected = [same_second.clone(), second.clone(), full.clone()];
    // In the right order but not as written: a field did not round trip.
    let kinds: Vec<&str> = mine.iter().map(|e| e.kind.as_str()).collect();
    let contract = if kinds == ["exchanged", "authorized", "refused"] {
        c::ROUND_TRIP
    } else {
        c::ORDER
    };
    ensure!(
        mine == expected,
        m::LIST,
        contract,
        "listed {mine:?} for a user who has {expected:?}"
    );
    let newest = list(store, Some(&user), 2).await;
    ensure!(
        newest == expected[..2],
        m::LIST,
        c::ORDER,
        "listed {newest:?} as the user's 2 newest events"
    );
    let everyone: Vec<StoredEvent> = list(store, None, 100_000)
        .await
        .into_iter()
        .filter(|e| [&user, &other].contains(&e.user_id.as_ref().unwrap_or(&String::new())))
        .collect();
    let expected_all = [others, same_second, second, full];
    ensure!(
        everyone == expected_all,
        m::LIST,
        c::ORDER,
        "listed {everyone:?} among everyone's events, where {expected_all:?} were appended"
    );
}

/// A purge deletes what is older than its bound, keeps the rest.
pub async fn purging_events_deletes_only_older_ones<S: EventStore>(store: &S) {
    let user = unique("event-user");
    let at = own_time();
    let old = event(at, "authorized", Some(&user));
    let boundary = event(at + Duration::seconds(10), "exchanged", Some(&user));
    append(store, &[old, boundary.clone()]).await;
    let purged = ok(
        store.purge_events(at + Duration::seconds(10)).await,
        m::PURGE,
        "purging events",
    );
    let left = list(store, Some(&user), 10).await;
    ensure!(
        purged >= 1 && left == [boundary.clone()],
        m::PURGE,
        c::PURGE,
        "said {purged} and left {left:?} of an event 10 s before the bound and one at it"
    );
    ok(
        store.purge_events(at + Duration::seconds(11)).await,
        m::PURGE,
        "purging events",
    );
    let left = list(store, Some(&user), 10).await;
    ensure!(
        left.is_empty(),
        m::PURGE,
        c::PURGE,
        "left {left:?} older than the bound"
    );
}
