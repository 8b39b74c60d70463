//! The [`ConsumerStore`] cases: every field round trips, keys are never
//! reused, compare-and-set on the revision, delete atomic with its tokens —
//! also against 1,000 racing exchanges — listing, and racing updates.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{
    base_time, broken, exchanged, insert_and_approve, ok, sample_access_token,
    sample_request_token, sample_user, unique,
};
use crate::model::consumer::{Consumer, ConsumerState};
use crate::model::token::AccessTokenState;
use crate::protocol::signature::SignatureMethod;
use crate::store::{ConsumerStore, TokenStore};

mod m {
    pub(super) const INSERT: &str = "ConsumerStore::insert_consumer";
    pub(super) const GET: &str = "ConsumerStore::get_consumer";
    pub(super) const UPDATE: &str = "ConsumerStore::update_consumer";
    pub(super) const DELETE: &str = "ConsumerStore::delete_consumer";
    pub(super) const LIST: &str = "ConsumerStore::list_consumers";
    pub(super) const LIST_TOKENS: &str = "ConsumerStore::list_consumer_tokens";
    pub(super) const REVOKE_TOKENS: &str = "ConsumerStore::revoke_consumer_tokens";
}

mod c {
    pub(super) const ROUND_TRIP: &str = "a stored consumer reads back with every field as it \
        was written, at revision 0";
    pub(super) const NEVER_REUSED: &str = "insert_consumer refuses (Ok(false), nothing written) \
        a key that is stored or was ever deleted";
    pub(super) const CAS: &str = "update_consumer(expected, next) replaces the record only if \
        its stored revision is `expected`, and stores it at revision expected + 1";
    pub(super) const CAS_ATOMIC: &str = "update_consumer is one atomic compare-and-set: of racing \
        updates with the same expected revision exactly one wins";
    pub(super) const DELETE: &str = "delete_consumer removes the consumer, deletes its request \
        tokens and revokes its active access tokens, atomically, and returns how many it revoked \
        (Ok(None) for no such consumer)";
    pub(super) const DELETE_RACE: &str = "no access token of a deleted consumer stays active: \
        an exchange racing the delete either finishes before it (and is revoked) or fails";
    pub(super) const LIST: &str = "list_consumers lists the stored consumers in the state and of \
        the owner asked (any when None), sorted by key, never a deleted one";
    pub(super) const TOKENS: &str = "list_consumer_tokens lists the consumer's active access \
        tokens and revoke_consumer_tokens revokes them, no other consumer's";
}

/// How many delete-versus-exchange races [`deleting_races_exchanges`] runs.
pub const DELETE_RACES: usize = 1000;

/// A consumer with every field set away from its default.
pub fn sample_consumer(owner: &str) -> Consumer {
    Consumer {
        description: "Prints your photos.\nOn paper.".to_owned(),
        homepage: Some("https://printer.example/".to_owned()),
        owner: Some(owner.to_owned()),
        state: ConsumerState::Proposed,
        callback_prefixes: vec![
            "https://printer.example/cb".to_owned(),
            "http://localhost:8080/".to_owned(),
        ],
        signature_methods: vec![SignatureMethod::HmacSha256, SignatureMethod::Plaintext],
        two_legged: true,
        requestor_domains: vec!["example.com".to_owned()],
        body_hash_required: true,
        unverified: true,
        grace_secret: Some(crate::model::secret::ConsumerSecret::new(unique("grace"))),
        grace_until: Some(base_time() + time::Duration::hours(1)),
        grants: vec![
            "https://photos.example/read".to_owned(),
            "identity".to_owned(),
        ],
        ..Consumer::new(unique("ck"), unique("cs"), "Photo printer ü")
    }
}

/// The fields that differ between two consumers (secrets compared, never
/// shown).
fn differences(a: &Consumer, b: &Consumer) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |same: bool, name| {
        if !same {
            fields.push(name);
        }
    };
    check(a.key == b.key, "key");
    check(a.secret == b.secret, "secret");
    check(a.grace_secret == b.grace_secret, "grace_secret");
    check(a.grace_until == b.grace_until, "grace_until");
    check(a.display_name == b.display_name, "display_name");
    check(a.description == b.description, "description");
    check(a.homepage == b.homepage, "homepage");
    check(a.owner == b.owner, "owner");
    check(a.state == b.state, "state");
    check(a.revision == b.revision, "revision");
    check(
        a.callback_prefixes == b.callback_prefixes,
        "callback_prefixes",
    );
    check(
        a.signature_methods == b.signature_methods,
        "signature_methods",
    );
    check(a.two_legged == b.two_legged, "two_legged");
    check(
        a.requestor_domains == b.requestor_domains,
        "requestor_domains",
    );
    check(
        a.body_hash_required == b.body_hash_required,
        "body_hash_required",
    );
    check(a.unverified == b.unverified, "unverified");
    check(a.grants == b.grants, "grants");
    #[cfg(feature = "rsa")]
    check(
        a.rsa_key.as_ref().map(|k| k.to_pem()) == b.rsa_key.as_ref().map(|k| k.to_pem()),
        "rsa_key",
    );
    fields
}

#[track_caller]
fn expect_consumer(method: &str, contract: &str, read: Option<Consumer>, expected: &Consumer) {
    let Some(read) = read else {
        broken(
            method,
            format_args!("lost consumer {}", expected.key),
            contract,
        )
    };
    let differ = differences(&read, expected);
    ensure!(
        differ.is_empty(),
        method,
        contract,
        "consumer {} read back with different {}",
        expected.key,
        differ.join(", ")
    );
}

async fn get<S: ConsumerStore>(store: &S, key: &str) -> Option<Consumer> {
    ok(store.get_consumer(key).await, m::GET, "reading a consumer")
}

/// Whether the access token `token` is stored and active.
async fn is_active<S: TokenStore>(store: &S, token: &str) -> bool {
    let read = ok(
        store.get_access_token(token).await,
        "TokenStore::get_access_token",
        "reading an access token",
    );
    read.is_some_and(|t| t.is_active())
}

async fn insert<S: ConsumerStore>(store: &S, consumer: &Consumer) -> bool {
    ok(
        store.insert_consumer(consumer).await,
        m::INSERT,
        "inserting a consumer",
    )
}

/// Runs every [`ConsumerStore`] case. Panics on a current-thread runtime.
pub async fn run_consumer_store_suite<S: ConsumerStore + 'static>(store: Arc<S>) {
    super::require_multi_thread_runtime("run_consumer_store_suite");
    consumers_round_trip(&*store).await;
    keys_are_never_reused(&*store).await;
    updates_compare_and_set_the_revision(&*store).await;
    delete_takes_the_tokens_with_it(&*store).await;
    consumers_are_listed_by_state_and_owner(&*store).await;
    consumer_tokens_are_listed_and_revoked(&*store).await;
    racing_updates_have_one_winner(store.clone()).await;
    deleting_races_refreshes(store.clone()).await;
    deleting_races_exchanges(store).await;
}

/// Every field round trips, in every state, at revision 0.
pub async fn consumers_round_trip<S: ConsumerStore>(store: &S) {
    for state in ConsumerState::ALL {
        let consumer = Consumer {
            state,
            revision: 7, // the store starts it at 0
            ..sample_consumer(&unique("owner"))
        };
        ensure!(
            insert(store, &consumer).await,
            m::INSERT,
            c::NEVER_REUSED,
            "refused a new key"
        );
        let expected = Consumer {
            revision: 0,
            ..consumer.clone()
        };
        expect_consumer(
            m::GET,
            c::ROUND_TRIP,
            get(store, &consumer.key).await,
            &expected,
        );
    }
    let bare = Consumer::new(unique("ck"), "", "Bare");
    ensure!(
        insert(store, &bare).await,
        m::INSERT,
        c::NEVER_REUSED,
        "refused a new key"
    );
    expect_consumer(m::GET, c::ROUND_TRIP, get(store, &bare.key).await, &bare);
    ensure!(
        get(store, &unique("ck")).await.is_none(),
        m::GET,
        c::ROUND_TRIP,
        "answered a consumer for a key never stored"
    );
}

/// A stored key and a deleted key are refused, and nothing is written.
pub async fn keys_are_never_reused<S: ConsumerStore>(store: &S) {
    let first = sample_consumer("owner-a");
    assert!(insert(store, &first).await);
    let again = Consumer {
        display_name: "Impostor".to_owned(),
        ..sample_consumer("owner-b")
    };
    let again = Consumer {
        key: first.key.clone(),
        ..again
    };
    ensure!(
        !insert(store, &again).await,
        m::INSERT,
        c::NEVER_REUSED,
        "accepted a stored key"
    );
    expect_consumer(
        m::INSERT,
        c::NEVER_REUSED,
        get(store, &first.key).await,
        &first,
    );
    let deleted = ok(
        store.delete_consumer(&first.key, base_time()).await,
        m::DELETE,
        "deleting",
    );
    ensure!(
        deleted == Some(0),
        m::DELETE,
        c::DELETE,
        "answered {deleted:?} for a consumer with no token"
    );
    ensure!(
        !insert(store, &again).await,
        m::INSERT,
        c::NEVER_REUSED,
        "accepted a deleted key"
    );
    ensure!(
        get(store, &first.key).await.is_none(),
        m::GET,
        c::DELETE,
        "still answers a deleted consumer"
    );
    let twice = ok(
        store.delete_consumer(&first.key, base_time()).await,
        m::DELETE,
        "deleting twice",
    );
    ensure!(
        twice.is_none(),
        m::DELETE,
        c::DELETE,
        "deleted a consumer twice"
    );
}

/// The revision decides: the right one wins and counts up, a stale one
/// changes nothing.
pub async fn updates_compare_and_set_the_revision<S: ConsumerStore>(store: &S) {
    let consumer = sample_consumer("owner");
    assert!(insert(store, &consumer).await);
    let approved = Consumer {
        state: ConsumerState::Approved,
        display_name: "Renamed".to_owned(),
        ..consumer.clone()
    };
    let won = ok(
        store.update_consumer(0, &approved).await,
        m::UPDATE,
        "updating",
    );
    ensure!(won, m::UPDATE, c::CAS, "refused the stored revision");
    let expected = Consumer {
        revision: 1,
        ..approved.clone()
    };
    expect_consumer(
        m::UPDATE,
        c::CAS,
        get(store, &consumer.key).await,
        &expected,
    );
    let stale = Consumer {
        state: ConsumerState::Disabled,
        ..consumer.clone()
    };
    let won = ok(
        store.update_consumer(0, &stale).await,
        m::UPDATE,
        "updating",
    );
    ensure!(!won, m::UPDATE, c::CAS, "accepted a stale revision");
    expect_consumer(
        m::UPDATE,
        c::CAS,
        get(store, &consumer.key).await,
        &expected,
    );
    let missing = sample_consumer("owner");
    let won = ok(
        store.update_consumer(0, &missing).await,
        m::UPDATE,
        "updating",
    );
    ensure!(!won, m::UPDATE, c::CAS, "updated a consumer never stored");
    ensure!(
        get(store, &missing.key).await.is_none(),
        m::UPDATE,
        c::CAS,
        "created a consumer"
    );
}

/// Stores a consumer and an access token and a pending request token for it.
async fn consumer_with_tokens<S: ConsumerStore>(
    store: &S,
    now: OffsetDateTime,
) -> (
    Consumer,
    crate::model::token::RequestToken,
    crate::model::token::AccessToken,
) {
    let consumer = sample_consumer("owner");
    assert!(insert(store, &consumer).await);
    let user = sample_user();
    let request = crate::model::token::RequestToken {
        consumer_key: consumer.key.clone(),
        ..sample_request_token(now)
    };
    let approved = insert_and_approve(store, &request, &user).await;
    let access = sample_access_token(&approved, &user, now);
    let won = ok(
        store
            .exchange_request_token(approved.state.tag(), &exchanged(&approved), &access)
            .await,
        "TokenStore::exchange_request_token",
        "exchanging",
    );
    assert!(won, "the exchange of a fresh token must win");
    let pending = crate::model::token::RequestToken {
        consumer_key: consumer.key.clone(),
        ..sample_request_token(now)
    };
    ok(
        store.insert_request_token(&pending).await,
        "TokenStore::insert_request_token",
        "inserting",
    );
    (consumer, pending, access)
}

/// Delete revokes the consumer's access tokens and deletes its request
/// tokens, and leaves other consumers' alone.
pub async fn delete_takes_the_tokens_with_it<S: ConsumerStore>(store: &S) {
    let now = base_time();
    let (gone, pending, access) = consumer_with_tokens(store, now).await;
    let (kept, kept_pending, kept_access) = consumer_with_tokens(store, now).await;
    let at = now + time::Duration::minutes(1);
    let revoked = ok(
        store.delete_consumer(&gone.key, at).await,
        m::DELETE,
        "deleting",
    );
    ensure!(
        revoked == Some(1),
        m::DELETE,
        c::DELETE,
        "answered {revoked:?}, not Some(1)"
    );
    let read = ok(
        store.get_access_token(&access.token).await,
        "TokenStore::get_access_token",
        "reading",
    );
    ensure!(
        read.map(|t| t.state) == Some(AccessTokenState::Revoked { at }),
        m::DELETE,
        c::DELETE,
        "left the deleted consumer's access token unrevoked (or revoked it at another time)"
    );
    let read = ok(
        store.get_request_token(&pending.token).await,
        "TokenStore::get_request_token",
        "reading",
    );
    ensure!(
        read.is_none(),
        m::DELETE,
        c::DELETE,
        "kept the deleted consumer's request token"
    );
    ensure!(
        get(store, &kept.key).await.is_some(),
        m::DELETE,
        c::DELETE,
        "deleted another consumer"
    );
    ensure!(
        is_active(store, &kept_access.token).await,
        m::DELETE,
        c::DELETE,
        "revoked another consumer's token"
    );
    let read = ok(
        store.get_request_token(&kept_pending.token).await,
        "TokenStore::get_request_token",
        "reading",
    );
    ensure!(
        read.is_some(),
        m::DELETE,
        c::DELETE,
        "deleted another consumer's request token"
    );
}

/// Filters by state and owner, sorted by key, without deleted consumers.
pub async fn consumers_are_listed_by_state_and_owner<S: ConsumerStore>(store: &S) {
    let owner = unique("owner");
    let mut mine: Vec<Consumer> = Vec::new();
    for state in [
        ConsumerState::Proposed,
        ConsumerState::Approved,
        ConsumerState::Approved,
    ] {
        let consumer = Consumer {
            state,
            ..sample_consumer(&owner)
        };
        assert!(insert(store, &consumer).await);
        mine.push(consumer);
    }
    let deleted = Consumer {
        state: ConsumerState::Approved,
        ..sample_consumer(&owner)
    };
    assert!(insert(store, &deleted).await);
    ok(
        store.delete_consumer(&deleted.key, base_time()).await,
        m::DELETE,
        "deleting",
    );
    mine.sort_by(|a, b| a.key.cmp(&b.key));
    let keys = |list: &[Consumer]| list.iter().map(|c| c.key.clone()).collect::<Vec<_>>();
    let listed = ok(
        store.list_consumers(None, Some(&owner)).await,
        m::LIST,
        "listing",
    );
    ensure!(
        keys(&listed) == keys(&mine),
        m::LIST,
        c::LIST,
        "listed {:?} for the owner, not {:?}",
        keys(&listed),
        keys(&mine)
    );
    let approved: Vec<Consumer> = mine
        .iter()
        .filter(|c| c.state == ConsumerState::Approved)
        .cloned()
        .collect();
    let listed = ok(
        store
            .list_consumers(Some(ConsumerState::Approved), Some(&owner))
            .await,
        m::LIST,
        "listing",
    );
    ensure!(
        keys(&listed) == keys(&approved),
        m::LIST,
        c::LIST,
        "listed {:?} as approved, not {:?}",
        keys(&listed),
        keys(&approved)
    );
    let all = ok(store.list_consumers(None, None).await, m::LIST, "listing");
    ensure!(
        mine.iter().all(|c| all.iter().any(|a| a.key == c.key)),
        m::LIST,
        c::LIST,
        "left a consumer out of the full list"
    );
    ensure!(
        !all.iter().any(|a| a.key == deleted.key),
        m::LIST,
        c::LIST,
        "listed a deleted consumer"
    );
    ensure!(
        all.windows(2).all(|w| w[0].key < w[1].key),
        m::LIST,
        c::LIST,
        "did not sort by key"
    );
    for consumer in &listed {
        expect_consumer(
            m::LIST,
            c::LIST,
            Some(consumer.clone()),
            mine.iter()
                .find(|c| c.key == consumer.key)
                .unwrap_or(consumer),
        );
    }
}

/// A consumer's tokens are listed and revoked, and only its.
pub async fn consumer_tokens_are_listed_and_revoked<S: ConsumerStore>(store: &S) {
    let now = base_time();
    let (consumer, _, access) = consumer_with_tokens(store, now).await;
    let (_, _, other) = consumer_with_tokens(store, now).await;
    let listed = ok(
        store.list_consumer_tokens(&consumer.key).await,
        m::LIST_TOKENS,
        "listing",
    );
    ensure!(
        listed.iter().map(|t| &t.token).collect::<Vec<_>>() == vec![&access.token],
        m::LIST_TOKENS,
        c::TOKENS,
        "listed {} tokens, not its one",
        listed.len()
    );
    let revoked = ok(
        store.revoke_consumer_tokens(&consumer.key, now).await,
        m::REVOKE_TOKENS,
        "revoking",
    );
    ensure!(
        revoked == 1,
        m::REVOKE_TOKENS,
        c::TOKENS,
        "revoked {revoked}, not 1"
    );
    let listed = ok(
        store.list_consumer_tokens(&consumer.key).await,
        m::LIST_TOKENS,
        "listing",
    );
    ensure!(
        listed.is_empty(),
        m::LIST_TOKENS,
        c::TOKENS,
        "still lists a revoked token"
    );
    ensure!(
        is_active(store, &other.token).await,
        m::REVOKE_TOKENS,
        c::TOKENS,
        "revoked another consumer's token"
    );
}

/// Racing updates (rotations) with the same expected revision: one wins.
pub async fn racing_updates_have_one_winner<S: ConsumerStore + 'static>(store: Arc<S>) {
    for _ in 0..20 {
        let consumer = sample_consumer("owner");
        assert!(insert(&*store, &consumer).await);
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                let next = Consumer {
                    secret: crate::model::secret::ConsumerSecret::new(unique("rotated")),
                    ..consumer.clone()
                };
                tokio::spawn(async move { (store.update_consumer(0, &next).await, next) })
            })
            .collect();
        let mut winners = Vec::new();
        for racer in racers {
            let (won, next) = racer
                .await
                .unwrap_or_else(|e| panic!("a racer panicked: {e}"));
            if ok(won, m::UPDATE, "racing") {
                winners.push(next);
            }
        }
        ensure!(
            winners.len() == 1,
            m::UPDATE,
            c::CAS_ATOMIC,
            "let {} of 8 racing updates win",
            winners.len()
        );
        let expected = Consumer {
            revision: 1,
            ..winners.remove(0)
        };
        expect_consumer(
            m::UPDATE,
            c::CAS_ATOMIC,
            get(&*store, &consumer.key).await,
            &expected,
        );
    }
}

/// 200 deletes, each racing a refresh (OAuth Session extension) of the
/// consumer's access token: afterwards neither the old token nor the new
/// one is active.
pub async fn deleting_races_refreshes<S: ConsumerStore + 'static>(store: Arc<S>) {
    let now = base_time();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (consumer, _, access) = consumer_with_tokens(&*store, now).await;
        let next = crate::model::token::AccessToken {
            token: unique("at"),
            ..access.clone()
        };
        let (deleter, refresher) = (store.clone(), store.clone());
        let key = consumer.key.clone();
        let delete = tokio::spawn(async move { deleter.delete_consumer(&key, now).await });
        let (old, fresh) = (access.token.clone(), next.token.clone());
        let refresh = tokio::spawn(async move {
            // Losing to the delete may be Ok(false) or an error.
            let _ = refresher.refresh_access_token(&old, now, &next).await;
        });
        tasks.push((consumer.key, access.token, fresh, delete, refresh));
    }
    for (key, old, fresh, delete, refresh) in tasks {
        let deleted = delete
            .await
            .unwrap_or_else(|e| panic!("a delete panicked: {e}"));
        refresh
            .await
            .unwrap_or_else(|e| panic!("a refresh panicked: {e}"));
        ok(deleted, m::DELETE, "deleting while a refresh races");
        for token in [&old, &fresh] {
            ensure!(
                !is_active(&*store, token).await,
                m::DELETE,
                c::DELETE_RACE,
                "left access token {token} of deleted consumer {key} active after a racing refresh"
            );
        }
    }
}

/// [`DELETE_RACES`] deletes, each racing an exchange for the same consumer:
/// afterwards no access token of the consumer is active.
pub async fn deleting_races_exchanges<S: ConsumerStore + 'static>(store: Arc<S>) {
    let now = base_time();
    let mut races = Vec::with_capacity(DELETE_RACES);
    for _ in 0..DELETE_RACES {
        let consumer = Consumer {
            state: ConsumerState::Approved,
            ..sample_consumer("owner")
        };
        assert!(insert(&*store, &consumer).await);
        let user = sample_user();
        let request = crate::model::token::RequestToken {
            consumer_key: consumer.key.clone(),
            ..sample_request_token(now)
        };
        let approved = insert_and_approve(&*store, &request, &user).await;
        races.push((consumer.key, approved, user));
    }
    let mut tasks = Vec::with_capacity(DELETE_RACES);
    for (key, approved, user) in races {
        let (deleter, exchanger) = (store.clone(), store.clone());
        let access = sample_access_token(&approved, &user, now);
        let token = access.token.clone();
        let delete_key = key.clone();
        let delete = tokio::spawn(async move { deleter.delete_consumer(&delete_key, now).await });
        let exchange = tokio::spawn(async move {
            let next = exchanged(&approved);
            // Losing to the delete may be Ok(false) or an error.
            let _ = exchanger
                .exchange_request_token(approved.state.tag(), &next, &access)
                .await;
        });
        tasks.push((key, token, delete, exchange));
    }
    for (key, token, delete, exchange) in tasks {
        let deleted = delete
            .await
            .unwrap_or_else(|e| panic!("a delete panicked: {e}"));
        exchange
            .await
            .unwrap_or_else(|e| panic!("an exchange panicked: {e}"));
        let deleted = ok(deleted, m::DELETE, "deleting while an exchange races");
        ensure!(
            deleted.is_some(),
            m::DELETE,
            c::DELETE,
            "lost consumer {key}"
        );
        let read = ok(
            store.get_access_token(&token).await,
            "TokenStore::get_access_token",
            "reading",
        );
        ensure!(
            !read.is_some_and(|t| t.is_active()),
            m::DELETE,
            c::DELETE_RACE,
            "left access token {token} of deleted consumer {key} active"
        );
        let listed = ok(
            store.list_consumer_tokens(&key).await,
            m::LIST_TOKENS,
            "listing",
        );
        ensure!(
            listed.is_empty(),
            m::LIST_TOKENS,
            c::DELETE_RACE,
            "lists an active token of deleted consumer {key}"
        );
    }
}
