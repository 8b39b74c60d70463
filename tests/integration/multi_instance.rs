//! Several instances behind a load balancer: two demo provider processes on
//! different ports, one PostgreSQL store, the same `--public-origin`. A token
//! obtained through one works on the other, a nonce used on one is refused
//! by the other, and 200 concurrent exchanges of one authorized request
//! token split across both yield exactly one access token. Then the same
//! with nonces in Redis (`--nonces`).
//!
//! Sign-in sessions live in each process's memory, so a user signs in and
//! consents on one instance (as with sticky sessions); everything OAuth is
//! shared.
//!
//! Reads `OAUTH1_TEST_POSTGRES_URL` / `OAUTH1_TEST_REDIS_URL`; each test runs
//! in a fresh PostgreSQL schema ([`PgSchema`]) and Redis key prefix
//! ([`RedisPrefix`]), both removed at its end.

use std::collections::BTreeMap;
use std::sync::Barrier;

use crate::support::demo_client::{Credentials, Site, oauth_problem};
use crate::support::demo_process::{DemoProcess, demo_binary};
use crate::support::instances::{
    CALLBACK, CONSUMER_KEY, ORIGIN, consumer, instance_args, signed_whoami,
};
use crate::support::ports::ClosedPort;
use crate::support::reply::hidden_field;
use crate::support::services::{PgSchema, RedisPrefix};

const USER: &str = "test@example.com";
const PASSWORD: &str = "password";

/// How many racing exchanges of one request token.
const RACING_EXCHANGES: usize = 200;

/// Starts `n` instances at once (their start-up, password hashing included,
/// overlaps).
fn spawn_instances(n: usize, args: &[&str]) -> Vec<DemoProcess> {
    std::thread::scope(|scope| {
        let starting: Vec<_> = (0..n)
            .map(|_| scope.spawn(|| DemoProcess::spawn(args)))
            .collect();
        starting
            .into_iter()
            .map(|s| s.join().expect("an instance starts"))
            .collect()
    })
}

fn assert_whoami(site: &Site, token: &Credentials, email: &str, which: &str) {
    let reply = site.whoami(&consumer(), token);
    assert_eq!(reply.status, 200, "{which}: {}", reply.text());
    let json: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON");
    assert_eq!(json["email"], email, "{which}");
    assert_eq!(json["consumer_key"], CONSUMER_KEY, "{which}");
}

/// The outcome of [`RACING_EXCHANGES`] concurrent exchanges of one request
/// token: the access tokens issued and how the others were answered.
struct Race {
    winners: Vec<Credentials>,
    refusals: BTreeMap<(u16, Option<String>), usize>,
}

/// Races `racers` exchanges of `temporary` with `verifier`, alternating
/// between `sites`, all released at once.
fn race_exchanges(sites: &[Site], temporary: &Credentials, verifier: &str, racers: usize) -> Race {
    let consumer = consumer();
    let start = Barrier::new(racers);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..racers)
            .map(|i| {
                let (site, start, consumer) = (&sites[i % sites.len()], &start, &consumer);
                scope.spawn(move || {
                    start.wait();
                    site.access_token(consumer, temporary, verifier)
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|r| r.join().expect("a racer"))
            .collect()
    });
    let mut race = Race {
        winners: Vec::new(),
        refusals: BTreeMap::new(),
    };
    for outcome in outcomes {
        match outcome {
            Ok(token) => race.winners.push(token),
            Err(reply) => {
                *race
                    .refusals
                    .entry((reply.status, oauth_problem(&reply)))
                    .or_default() += 1;
            }
        }
    }
    race
}

/// Revokes the signed-in user's grants to [`CONSUMER_KEY`] from `/account`.
fn revoke_on(site: &Site, cookie: &str) {
    let account = site.send("GET", "/account", &[("Cookie", cookie)], b"");
    assert_eq!(account.status, 200, "{}", account.text());
    let csrf = hidden_field(&account.text(), "csrf_token").expect("the revoke form's CSRF token");
    let body = format!("consumer_key={CONSUMER_KEY}&csrf_token={csrf}");
    let revoked = site.send(
        "POST",
        "/account/revoke",
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    );
    assert!(
        revoked.status == 303 || revoked.status == 200,
        "revoke: {} {}",
        revoked.status,
        revoked.text()
    );
}

/// Everything two instances on `pg` (and `nonces`) must share.
fn two_instances_behave_as_one(pg: &PgSchema, nonces: Option<&RedisPrefix>) {
    let args = instance_args(&pg.url, nonces);
    let instances = spawn_instances(2, &args);
    let a = Site::new(instances[0].addr, ORIGIN);
    let b = Site::new(instances[1].addr, ORIGIN);
    let consumer = consumer();

    // A token obtained through A works on B (and on A).
    let token = a.obtain_access_token(&consumer, CALLBACK, USER, PASSWORD);
    assert_whoami(&b, &token, USER, "A's token on B");
    assert_whoami(&a, &token, USER, "A's token on A");

    // A request token issued by B, approved on A (where the user is signed
    // in), exchanged on B.
    let cookie = a.sign_in(USER, PASSWORD);
    let temporary = b.request_token(&consumer, CALLBACK).expect("request token");
    let verifier = a.approve(&cookie, &temporary.key);
    let crossed = b
        .access_token(&consumer, &temporary, &verifier)
        .expect("B exchanges what A approved");
    assert_whoami(&a, &crossed, USER, "B's token on A");

    // A nonce used on A is refused on B, and one used on B is refused on A.
    for (first, second, which) in [(&a, &b, "A then B"), (&b, &a, "B then A")] {
        let authorization = signed_whoami(first, &token);
        let headers = [("Authorization", authorization.as_str())];
        let used = first.send("GET", "/api/whoami", &headers, b"");
        assert_eq!(used.status, 200, "{which}: {}", used.text());
        let replayed = second.send("GET", "/api/whoami", &headers, b"");
        assert_eq!(replayed.status, 401, "{which}: {}", replayed.text());
        assert_eq!(
            oauth_problem(&replayed).as_deref(),
            Some("nonce_used"),
            "{which}"
        );
    }

    // 200 concurrent exchanges of one approved request token, half on each
    // instance: exactly one access token.
    let temporary = a.request_token(&consumer, CALLBACK).expect("request token");
    let verifier = a.approve(&cookie, &temporary.key);
    let race = race_exchanges(
        &[a.clone(), b.clone()],
        &temporary,
        &verifier,
        RACING_EXCHANGES,
    );
    println!(
        "{RACING_EXCHANGES} racing exchanges across 2 instances (nonces in {}): \
         {} access token(s), refusals {:?}",
        if nonces.is_some() {
            "Redis"
        } else {
            "PostgreSQL"
        },
        race.winners.len(),
        race.refusals
    );
    assert_eq!(
        race.winners.len(),
        1,
        "exactly one winner: {:?}",
        race.refusals
    );
    assert_eq!(
        race.refusals,
        BTreeMap::from([((401, Some("token_used".to_owned())), RACING_EXCHANGES - 1)]),
        "every other exchange is refused as used"
    );
    let winner = &race.winners[0];
    assert_whoami(&a, winner, USER, "the race's token on A");
    assert_whoami(&b, winner, USER, "the race's token on B");

    // Wrong verifiers spread over both instances count together: the third
    // burns the request token (`max_verifier_attempts` defaults to 3).
    let temporary = a.request_token(&consumer, CALLBACK).expect("request token");
    let verifier = a.approve(&cookie, &temporary.key);
    for (site, which) in [(&a, "A"), (&b, "B"), (&a, "A")] {
        let wrong = site
            .access_token(&consumer, &temporary, "not-the-verifier")
            .expect_err("a wrong verifier is refused");
        assert_eq!(wrong.status, 401, "{which}");
        assert_eq!(
            oauth_problem(&wrong).as_deref(),
            Some("verifier_invalid"),
            "{which}"
        );
    }
    let burned = b
        .access_token(&consumer, &temporary, &verifier)
        .expect_err("three wrong verifiers burned the token");
    assert_eq!(oauth_problem(&burned).as_deref(), Some("token_rejected"));

    // The nonces went where they were configured to.
    let nonce_rows = pg.count("oauth1_nonces");
    if let Some(redis) = nonces {
        assert_eq!(nonce_rows, 0, "with --nonces, PostgreSQL keeps no nonce");
        let keys = redis.keys().len();
        assert!(keys > RACING_EXCHANGES, "{keys} nonces in Redis");
    } else {
        assert!(nonce_rows > RACING_EXCHANGES as i64, "{nonce_rows} nonces");
    }
    assert_eq!(pg.count("oauth1_access_tokens"), 3, "three grants, no more");

    // Revoked on A: refused on B.
    revoke_on(&a, &cookie);
    let refused = b.whoami(&consumer, winner);
    assert_eq!(refused.status, 401, "{}", refused.text());

    for instance in instances {
        let log = instance.log();
        instance.stop();
        assert!(!log.contains("panicked"), "{log}");
    }
}

/// Wrong verifiers sent at once, half to each instance: exactly
/// `max_verifier_attempts` (3) of them are answered `verifier_invalid` —
/// every later one finds the token burned. (Before the exchange re-read a
/// token whose compare-and-set it lost, 4, 21 and 35 of 40 were compared.)
#[test]
fn concurrent_wrong_verifiers_across_instances_are_all_counted() {
    const GUESSES: usize = 40;
    let Some(pg) = PgSchema::create() else { return };
    let instances = spawn_instances(2, &instance_args(&pg.url, None));
    let a = Site::new(instances[0].addr, ORIGIN);
    let b = Site::new(instances[1].addr, ORIGIN);
    let consumer = consumer();
    let cookie = a.sign_in(USER, PASSWORD);
    let temporary = a.request_token(&consumer, CALLBACK).expect("request token");
    let verifier = a.approve(&cookie, &temporary.key);
    let race = race_exchanges(&[a, b.clone()], &temporary, "not-the-verifier", GUESSES);
    println!("{GUESSES} concurrent wrong verifiers: {:?}", race.refusals);
    assert!(race.winners.is_empty());
    let compared = race
        .refusals
        .get(&(401, Some("verifier_invalid".to_owned())))
        .copied()
        .unwrap_or(0);
    assert_eq!(
        compared, 3,
        "wrong verifiers compared, the limit is 3: {:?}",
        race.refusals
    );
    let burned = b
        .access_token(&consumer, &temporary, &verifier)
        .expect_err("the wrong verifiers burned the token");
    assert_eq!(oauth_problem(&burned).as_deref(), Some("token_rejected"));
}

#[test]
fn two_instances_on_postgres_behave_as_one() {
    let Some(pg) = PgSchema::create() else { return };
    two_instances_behave_as_one(&pg, None);
}

#[test]
fn two_instances_on_postgres_with_redis_nonces_behave_as_one() {
    let (Some(pg), Some(redis)) = (PgSchema::create(), RedisPrefix::create()) else {
        return;
    };
    two_instances_behave_as_one(&pg, Some(&redis));
}

/// The store flags refuse what they cannot use, and a connection failure
/// says what failed without printing the URL's password.
#[test]
fn demo_store_flags_refuse_what_they_cannot_use() {
    let run = |args: &[&str]| {
        let output = std::process::Command::new(demo_binary())
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .output()
            .expect("run the demo");
        assert!(!output.status.success(), "{args:?} must fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // A port nothing listens on, held so that nothing can: connecting fails
    // at once.
    let closed = ClosedPort::reserve();
    let store = format!("postgres://oauth1:sekrit@{}/app", closed.addr());
    let nonces = format!("redis://:sekrit@{}/0", closed.addr());

    let unknown = run(&["--store", "mysql://oauth1:sekrit@db/app"]);
    assert!(unknown.contains("--store takes"), "{unknown}");
    assert!(!unknown.contains("sekrit"), "{unknown}");
    let lone_prefix = run(&["--store", "memory", "--nonce-key-prefix", "app:"]);
    assert!(lone_prefix.contains("needs --nonces"), "{lone_prefix}");
    let not_redis = run(&["--store", "memory", "--nonces", &store]);
    assert!(not_redis.contains("--nonces takes"), "{not_redis}");
    assert!(!not_redis.contains("sekrit"), "{not_redis}");

    let postgres_down = run(&["--store", &store]);
    assert!(
        postgres_down.contains("cannot use the PostgreSQL store"),
        "{postgres_down}"
    );
    assert!(!postgres_down.contains("sekrit"), "{postgres_down}");
    let redis_down = run(&["--store", "memory", "--nonces", &nonces]);
    assert!(
        redis_down.contains("cannot use the Redis nonce store"),
        "{redis_down}"
    );
    assert!(!redis_down.contains("sekrit"), "{redis_down}");
}
