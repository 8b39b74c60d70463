//! Load: a bounded burst of signed requests from [`CLIENTS`] concurrent
//! clients against a demo provider process on loopback — valid ones,
//! replays (the same request, nonce and timestamp included, sent again) and
//! tampered ones (changed after signing), across several access tokens,
//! with concurrent exchanges of approved request tokens mixed in.
//!
//! Every valid request gets 200 and its own token's user, every replay 401
//! `nonce_used`, every tampered request 401 `signature_invalid`; no 5xx, no
//! I/O error; each request token is exchanged exactly once (every other
//! attempt 401 `token_used`) and every token issued works afterwards. The
//! requests per second are printed, never asserted (the test binary and the
//! demo are debug builds on a shared machine).
//!
//! Each client keeps one HTTP/1.1 connection alive. The memory store takes
//! 20,000 requests; the SQL stores, which do a few round trips per request,
//! 4,000. The load tests run one at a time (each takes both cores); on an
//! otherwise idle 2-core machine a burst lasts about 10 s.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Barrier, Mutex, PoisonError};
use std::time::Instant;

use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;

use crate::support::demo_client::{Credentials, Site, credentials_in, oauth_problem};
use crate::support::demo_process::DemoProcess;
use crate::support::http::{Connection, HttpResponse};
use crate::support::instances::{
    CALLBACK, CONSUMER_KEY, CONSUMER_SECRET, ORIGIN, consumer, instance_args,
};
use crate::support::services::{PgSchema, RedisPrefix};
use crate::support::temp::{TempDir, temp_db_path};

/// Concurrent clients, each on its own thread and connection.
const CLIENTS: usize = 64;
/// Access tokens the valid, replayed and tampered requests use (half
/// `test@example.com`'s, half `admin@example.com`'s).
const ACCESS_TOKENS: usize = 8;
/// Approved request tokens exchanged during the burst.
const PENDING: usize = 16;
/// Exchange attempts per client: every pending token is tried
/// `CLIENTS * EXCHANGES_PER_CLIENT / PENDING` times, 4 at a time.
const EXCHANGES_PER_CLIENT: usize = 4;

const USERS: [&str; 2] = ["test@example.com", "admin@example.com"];

/// What a request was, so what its answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Correctly signed, first use: 200 with its token's user.
    Valid,
    /// A valid request sent a second time: 401 `nonce_used`.
    Replayed,
    /// Changed after signing: 401 `signature_invalid`.
    Tampered,
    /// An exchange of a pending request token: 200 once per token, else
    /// 401 `token_used`.
    Exchange,
}

/// The answer to one request, as counted.
type Answer = (Kind, u16, Option<String>);

/// One client's record of the burst.
#[derive(Default)]
struct Tally {
    answers: BTreeMap<Answer, usize>,
    /// Valid requests answered 200 for another user or consumer.
    wrong_user: usize,
    /// Transport failures (a dropped connection, an unparsable response).
    errors: Vec<String>,
    /// Exchanges won: the pending token's index and the access token.
    won: Vec<(usize, Credentials)>,
}

impl Tally {
    fn count(&mut self, kind: Kind, reply: &HttpResponse) {
        let problem = (reply.status != 200)
            .then(|| oauth_problem(reply))
            .flatten();
        *self
            .answers
            .entry((kind, reply.status, problem))
            .or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        for (answer, n) in other.answers {
            *self.answers.entry(answer).or_default() += n;
        }
        self.wrong_user += other.wrong_user;
        self.errors.extend(other.errors);
        self.won.extend(other.won);
    }

    fn sent(&self, kind: Kind) -> usize {
        self.answers
            .iter()
            .filter(|((k, _, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum()
    }
}

/// An access token and the user it speaks for.
struct Grant {
    token: Credentials,
    email: &'static str,
}

/// An approved request token waiting to be exchanged.
struct Pending {
    temporary: Credentials,
    verifier: String,
}

/// A signed request as it goes on the wire.
struct Wire {
    method: &'static str,
    target: String,
    authorization: String,
    form: Option<String>,
}

impl Wire {
    /// Signs `method target` (with `form` as the body) for `grant`'s token.
    fn signed(method: &'static str, target: String, form: Option<String>, signer: &Signer) -> Self {
        let authorization = signer
            .authorization_header(
                method,
                &format!("{ORIGIN}{target}"),
                form.as_deref().map(str::as_bytes),
            )
            .expect("sign");
        Self {
            method,
            target,
            authorization,
            form,
        }
    }

    fn send(&self, connection: &mut Connection) -> std::io::Result<HttpResponse> {
        let mut headers = vec![("Authorization", self.authorization.as_str())];
        if self.form.is_some() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        let host = ORIGIN.trim_start_matches("http://");
        let body = self.form.as_deref().map(str::as_bytes).unwrap_or_default();
        connection.send(self.method, host, &self.target, &headers, body)
    }
}

fn signer(token: &Credentials) -> Signer<'_> {
    Signer::new(SignatureMethod::HmacSha1, CONSUMER_KEY, CONSUMER_SECRET)
        .token(&token.key, &token.secret)
}

/// A valid request of round `round` for `grant`: a GET with a query or a
/// POST with a form body, both signed.
fn valid_request(client: usize, round: usize, grant: &Grant) -> Wire {
    let signer = signer(&grant.token);
    if round.is_multiple_of(2) {
        let target = format!("/api/whoami?client={client}&round={round}");
        Wire::signed("GET", target, None, &signer)
    } else {
        let form = format!("client={client}&round={round}&note=hello+world");
        Wire::signed("POST", "/api/whoami".to_owned(), Some(form), &signer)
    }
}

/// A request signed for `grant`, then changed: the query, the form body,
/// the token (another grant's), or the method.
fn tampered_request(client: usize, round: usize, grant: &Grant, other: &Grant) -> Wire {
    let signer = signer(&grant.token);
    match round % 4 {
        0 => {
            let mut wire = Wire::signed(
                "GET",
                format!("/api/whoami?client={client}&round={round}"),
                None,
                &signer,
            );
            wire.target = format!("/api/whoami?client={client}&round={}", round + 1);
            wire
        }
        1 => {
            let mut wire = Wire::signed(
                "POST",
                "/api/whoami".to_owned(),
                Some(format!("client={client}&amount=10")),
                &signer,
            );
            wire.form = Some(format!("client={client}&amount=1000"));
            wire
        }
        2 => {
            let mut wire = Wire::signed("GET", "/api/whoami".to_owned(), None, &signer);
            wire.authorization = wire.authorization.replace(
                &format!("oauth_token=\"{}\"", grant.token.key),
                &format!("oauth_token=\"{}\"", other.token.key),
            );
            assert_ne!(grant.token.key, other.token.key);
            wire
        }
        _ => {
            let mut wire = Wire::signed("GET", "/api/whoami".to_owned(), None, &signer);
            wire.method = "POST";
            wire
        }
    }
}

fn exchange_request(pending: &Pending) -> Wire {
    let signer = Signer::new(SignatureMethod::HmacSha1, CONSUMER_KEY, CONSUMER_SECRET)
        .token(&pending.temporary.key, &pending.temporary.secret)
        .verifier(&pending.verifier);
    Wire::signed("POST", "/_ah/OAuthGetAccessToken".to_owned(), None, &signer)
}

/// Whether a whoami answer is `email`'s, through our consumer.
fn answers_for(reply: &HttpResponse, email: &str) -> bool {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .is_ok_and(|json| json["email"] == email && json["consumer_key"] == CONSUMER_KEY)
}

/// One client's connection and record.
struct Client {
    connection: Connection,
    sent: usize,
    tally: Tally,
}

impl Client {
    /// Sends `wire` and counts its answer as one to a `kind` request.
    fn send(&mut self, kind: Kind, wire: &Wire) -> Option<HttpResponse> {
        self.sent += 1;
        match wire.send(&mut self.connection) {
            Ok(reply) => {
                self.tally.count(kind, &reply);
                Some(reply)
            }
            Err(e) => {
                let error = format!("{kind:?} {} {}: {e}", wire.method, wire.target);
                self.tally.errors.push(error);
                None
            }
        }
    }
}

/// One client: its share of the exchanges, then valid requests with a
/// replay and a tampered request every third round, until `budget`
/// requests are sent.
fn client(
    id: usize,
    site: &Site,
    grants: &[Grant],
    pending: &[Pending],
    budget: usize,
    start: &Barrier,
) -> Tally {
    let mut client = Client {
        connection: Connection::new(site.addr),
        sent: 0,
        tally: Tally::default(),
    };
    start.wait();
    for k in 0..EXCHANGES_PER_CLIENT {
        let index = (id + k * (PENDING / EXCHANGES_PER_CLIENT)) % PENDING;
        let reply = client.send(Kind::Exchange, &exchange_request(&pending[index]));
        if let Some(reply) = reply.filter(|r| r.status == 200) {
            let token = credentials_in(reply).expect("token credentials");
            client.tally.won.push((index, token));
        }
    }
    let mut round = 0;
    while client.sent < budget {
        let grant = &grants[(id + round) % grants.len()];
        let valid = valid_request(id, round, grant);
        let reply = client.send(Kind::Valid, &valid);
        if reply.is_some_and(|r| r.status == 200 && !answers_for(&r, grant.email)) {
            client.tally.wrong_user += 1;
        }
        if round % 3 == 0 {
            client.send(Kind::Replayed, &valid);
        }
        if round % 3 == 1 {
            let other = &grants[(id + round + 1) % grants.len()];
            client.send(
                Kind::Tampered,
                &tampered_request(id, round / 3, grant, other),
            );
        }
        round += 1;
    }
    client.tally
}

/// Held through each burst: the load tests run one at a time, so that each
/// measures its own store and not another burst competing for the cores.
static ONE_BURST_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs the burst of about `requests` against a fresh demo started with
/// `args`; `tokens_stored` counts the access tokens in the store afterwards
/// when it can (PostgreSQL).
fn burst(
    store_name: &str,
    args: &[&str],
    requests: usize,
    tokens_stored: impl Fn() -> Option<i64>,
) -> Tally {
    let _alone = ONE_BURST_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let demo = DemoProcess::spawn(args);
    let site = Site::new(demo.addr, ORIGIN);
    let consumer = consumer();
    let cookies = USERS.map(|email| site.sign_in(email, "password"));
    let approve = |i: usize| {
        let temporary = site
            .request_token(&consumer, CALLBACK)
            .unwrap_or_else(|r| panic!("request token: {} {}", r.status, r.text()));
        let verifier = site.approve(&cookies[i % USERS.len()], &temporary.key);
        Pending {
            temporary,
            verifier,
        }
    };
    let grants: Vec<Grant> = (0..ACCESS_TOKENS)
        .map(|i| {
            let pending = approve(i);
            let token = site
                .access_token(&consumer, &pending.temporary, &pending.verifier)
                .unwrap_or_else(|r| panic!("access token: {} {}", r.status, r.text()));
            Grant {
                token,
                email: USERS[i % USERS.len()],
            }
        })
        .collect();
    let pending: Vec<Pending> = (0..PENDING).map(approve).collect();

    let budget = requests / CLIENTS;
    let start = Barrier::new(CLIENTS + 1);
    let (tally, elapsed) = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let (site, grants, pending, start) = (&site, &grants, &pending, &start);
                scope.spawn(move || client(id, site, grants, pending, budget, start))
            })
            .collect();
        start.wait();
        let began = Instant::now();
        let mut tally = Tally::default();
        for c in clients {
            tally.merge(c.join().expect("a client"));
        }
        (tally, began.elapsed())
    });

    let total: usize = tally.answers.values().sum();
    let per_second = total as f64 / elapsed.as_secs_f64();
    println!(
        "load on {store_name}: {total} requests from {CLIENTS} clients in {:.2} s = {per_second:.0} requests/s \
         (valid {}, replayed {}, tampered {}, exchanges {}); answers {:?}",
        elapsed.as_secs_f64(),
        tally.sent(Kind::Valid),
        tally.sent(Kind::Replayed),
        tally.sent(Kind::Tampered),
        tally.sent(Kind::Exchange),
        tally.answers
    );

    assert!(
        tally.errors.is_empty(),
        "transport errors: {:?}",
        tally.errors
    );
    let server_errors: usize = tally
        .answers
        .iter()
        .filter(|((_, status, _), _)| *status >= 500)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(server_errors, 0, "5xx answers: {:?}", tally.answers);
    let exchanges = CLIENTS * EXCHANGES_PER_CLIENT;
    let problem = |p: &str| Some(p.to_owned());
    let expected = BTreeMap::from([
        ((Kind::Valid, 200, None), tally.sent(Kind::Valid)),
        (
            (Kind::Replayed, 401, problem("nonce_used")),
            tally.sent(Kind::Replayed),
        ),
        (
            (Kind::Tampered, 401, problem("signature_invalid")),
            tally.sent(Kind::Tampered),
        ),
        ((Kind::Exchange, 200, None), PENDING),
        (
            (Kind::Exchange, 401, problem("token_used")),
            exchanges - PENDING,
        ),
    ]);
    assert_eq!(tally.answers, expected, "every request its expected answer");
    assert_eq!(
        tally.wrong_user, 0,
        "a valid request answered for another user"
    );
    assert!(
        tally.sent(Kind::Valid) >= requests / 2,
        "a meaningful burst"
    );

    // No lost or duplicated token: one winner per pending request token,
    // all distinct and new, each of which works.
    let mut winners: Vec<usize> = tally.won.iter().map(|(i, _)| *i).collect();
    winners.sort_unstable();
    assert_eq!(
        winners,
        (0..PENDING).collect::<Vec<_>>(),
        "one exchange per request token"
    );
    let mut keys: HashSet<&str> = grants.iter().map(|g| g.token.key.as_str()).collect();
    for (index, token) in &tally.won {
        assert!(keys.insert(&token.key), "token {} issued twice", token.key);
        let whoami = site.whoami(&consumer, token);
        assert_eq!(whoami.status, 200, "{}", whoami.text());
        assert!(answers_for(&whoami, USERS[index % USERS.len()]));
    }
    if let Some(stored) = tokens_stored() {
        assert_eq!(
            stored,
            (ACCESS_TOKENS + PENDING) as i64,
            "access tokens stored"
        );
    }

    let log = demo.log();
    demo.stop();
    assert!(!log.contains("panicked"), "{log}");
    tally
}

#[test]
fn load_burst_on_the_memory_store() {
    burst("memory", &instance_args("memory", None), 20_000, || None);
}

#[test]
fn load_burst_on_sqlite() {
    let db = temp_db_path("load");
    let _cleanup = TempDir::of(&db);
    let store = format!("sqlite:{}", db.display());
    burst("SQLite", &instance_args(&store, None), 4_000, || None);
}

#[test]
fn load_burst_on_postgres() {
    let Some(pg) = PgSchema::create() else { return };
    let tally = burst("PostgreSQL", &instance_args(&pg.url, None), 4_000, || {
        Some(pg.count("oauth1_access_tokens"))
    });
    // One row per request that verified (nothing purged: all are recent).
    let rows = pg.count("oauth1_nonces");
    let verified = tally.sent(Kind::Valid) + tally.sent(Kind::Exchange);
    assert!(
        rows >= verified as i64,
        "{rows} nonce rows for {verified} requests"
    );
}

#[test]
fn load_burst_on_postgres_with_redis_nonces() {
    let (Some(pg), Some(redis)) = (PgSchema::create(), RedisPrefix::create()) else {
        return;
    };
    let tally = burst(
        "PostgreSQL + Redis nonces",
        &instance_args(&pg.url, Some(&redis)),
        4_000,
        || Some(pg.count("oauth1_access_tokens")),
    );
    // Every request that verified recorded its nonce in Redis, none in
    // PostgreSQL.
    let keys = redis.keys().len();
    let verified = tally.sent(Kind::Valid) + tally.sent(Kind::Exchange);
    assert!(
        keys >= verified,
        "{keys} Redis nonces for {verified} requests"
    );
    assert_eq!(pg.count("oauth1_nonces"), 0);
}
