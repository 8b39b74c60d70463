//! What the SQL stores (SQLite, PostgreSQL) share: the one mapping between
//! tokens and rows, both ways, the statements built from it, lazy purging,
//! migration versioning, and the errors for what only an edited or damaged
//! database can hold.
//!
//! The stores' operations are written once too, in [`sql_store!`], over a
//! [`SqlBackend`]: the driver glue each store keeps (connections, pools,
//! transactions, binding [`SqlValue`]s with its placeholders, reading rows
//! through [`SqlRow`], its error mapping) and its migrations' SQL
//! (`migrations/<backend>/*.sql`).

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use time::OffsetDateTime;

use crate::model::consumer::{Consumer, ConsumerState};
use crate::model::grant::{Granted, is_valid_grant_name};
use crate::model::secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session, StateTag,
};
use crate::model::user::User;
#[cfg(feature = "rsa")]
use crate::protocol::rsa::ConsumerPublicKey;
use crate::protocol::signature::SignatureMethod;
use crate::store::{NonceOutcome, StoreError, StoredEvent};

/// A stored value this library cannot have written: the database was
/// edited or damaged.
#[derive(Debug, thiserror::Error)]
#[error("invalid stored value in column {column}")]
struct InvalidStoredValue {
    column: &'static str,
}

/// The error for an invalid value in `column`.
pub(crate) fn invalid(column: &'static str) -> StoreError {
    StoreError::new(InvalidStoredValue { column })
}

/// The schema in the database is newer than this library knows.
#[derive(Debug, thiserror::Error)]
#[error("the database schema is version {found}; this library knows up to {known}")]
struct SchemaTooNew {
    found: i64,
    known: u32,
}

/// The migrations a schema at version `current` still needs, each with the
/// version it takes the schema to. `migrations[n]` takes it from version `n`
/// to `n + 1`. An error if `current` is newer than `migrations` know.
pub(crate) fn pending_migrations(
    migrations: &'static [&'static str],
    current: i64,
) -> Result<impl Iterator<Item = (u32, &'static str)>, StoreError> {
    let known = schema_version(migrations);
    let done = usize::try_from(current)
        .ok()
        .filter(|&done| done <= migrations.len())
        .ok_or_else(|| {
            StoreError::new(SchemaTooNew {
                found: current,
                known,
            })
        })?;
    Ok((done..migrations.len()).map(|n| (n as u32 + 1, migrations[n])))
}

/// The schema version `migrations` create.
pub(crate) const fn schema_version(migrations: &[&str]) -> u32 {
    migrations.len() as u32
}

/// A version recorded in the database, as a [`u32`].
pub(crate) fn stored_version(version: i64) -> Result<u32, StoreError> {
    u32::try_from(version).map_err(|_| invalid("version"))
}

/// A row count from the database (rows changed, purged or counted), as a
/// [`usize`].
pub(crate) fn row_count(n: impl TryInto<usize>) -> Result<usize, StoreError> {
    n.try_into().map_err(|_| invalid("count"))
}

/// A backend's migrations, in order, from its `.sql` files under
/// `migrations/<backend>/`: the `n`th takes the schema from version `n - 1`
/// to `n` (the versions a database records). Append only; never edit a
/// released one.
macro_rules! migrations {
    ($backend:literal: $($file:literal),+ $(,)?) => {
        &[$(include_str!(concat!("migrations/", $backend, "/", $file))),+]
    };
}
pub(crate) use migrations;

/// How many inserts between lazy purges of expired request tokens (and,
/// separately, of expired nonces), per store instance.
const PURGE_EVERY: u32 = 1024;

/// Lazy purging: counts a store instance's inserts of request tokens and of
/// nonces, and picks every [`PURGE_EVERY`]th of each to purge the expired
/// ones of its kind first.
#[derive(Debug, Default)]
pub(crate) struct LazyPurge {
    request_tokens: AtomicU32,
    nonces: AtomicU32,
}

impl LazyPurge {
    /// Counts a request-token insert; whether it should purge first.
    pub(crate) fn request_token_due(&self) -> bool {
        Self::due(&self.request_tokens)
    }

    /// Counts a nonce insert; whether it should purge first.
    pub(crate) fn nonce_due(&self) -> bool {
        Self::due(&self.nonces)
    }

    fn due(counter: &AtomicU32) -> bool {
        counter.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1
    }
}

/// A nonce insert's outcome from how many rows it changed: the insert (or
/// the overwrite of an expired nonce) changes one; a replay changes none.
pub(crate) fn nonce_outcome(changed: u64) -> NonceOutcome {
    if changed == 1 {
        NonceOutcome::Fresh
    } else {
        NonceOutcome::Replayed
    }
}

/// A column as the stores read it: its position in its table's column list
/// (the `SELECT` list and the encoders' order) and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Col {
    pub(crate) index: usize,
    pub(crate) name: &'static str,
}

/// A table's columns, in order: a module named for the table with its name,
/// its column list and a [`Col`] per column, named as the column. Use them
/// by path (`c::token`), never by a glob import, where a pattern could
/// mistake a binding for one of them.
macro_rules! columns {
    (
        $(#[$doc:meta])*
        $module:ident = $table:literal { $first:ident $(, $col:ident)* $(,)? }
    ) => {
        $(#[$doc])*
        #[allow(non_upper_case_globals)]
        pub(crate) mod $module {
            use super::Col;

            /// Numbers the columns in order.
            #[allow(non_camel_case_types)]
            enum Index {
                $first,
                $($col,)*
            }

            /// The table.
            pub(crate) const TABLE: &str = $table;
            /// The column names, comma-separated, in order.
            pub(crate) const LIST: &str =
                concat!(stringify!($first) $(, ", ", stringify!($col))*);
            /// The columns, in order.
            pub(crate) const ALL: &[Col] = &[$first $(, $col)*];

            pub(crate) const $first: Col = Col {
                index: Index::$first as usize,
                name: stringify!($first),
            };
            $(
                pub(crate) const $col: Col = Col {
                    index: Index::$col as usize,
                    name: stringify!($col),
                };
            )*
        }
    };
}

columns! {
    /// `oauth1_request_tokens`: a request token and its state.
    request_tokens = "oauth1_request_tokens" {
        token, secret, consumer_key, host, callback, scope, display_name, created_at, expires_at,
        state, user_email, user_id, user_admin, user_auth_domain, verifier, failed_attempts,
        grants,
    }
}

columns! {
    /// `oauth1_access_tokens`: an access token, active or revoked.
    access_tokens = "oauth1_access_tokens" {
        token, secret, consumer_key, host, user_email, user_id, user_admin, user_auth_domain,
        scope, created_at, revoked_at, expires_at, session_handle, authorization_expires_at,
        grants,
    }
}

columns! {
    /// `oauth1_consumers`: a consumer, or a deleted one's tombstone.
    consumers = "oauth1_consumers" {
        key, secret, grace_secret, grace_until, rsa_public_key, display_name, description,
        homepage, owner, state, revision,
        callback_prefixes, signature_methods, two_legged, requestor_domains, body_hash_required,
        unverified, grants,
    }
}

columns! {
    /// `oauth1_events`: the audit trail (its `id`, the order appended, is
    /// the database's).
    events = "oauth1_events" {
        at, kind, detail, consumer_key, user_id, token_prefix, peer,
    }
}

/// The statements both stores run, in their SQL dialect; those on tokens built
/// from the column lists, binding the encoders' values in order.
pub(crate) struct Statements {
    /// Binds [`request_token_values`].
    pub(crate) insert_request_token: String,
    /// Binds the token; reads a row for [`decode_request_token`].
    pub(crate) select_request_token: String,
    /// Binds the consumer key and the time: counts the consumer's request
    /// tokens unexpired by then ([`decode_count`]).
    pub(crate) count_request_tokens: String,
    /// The compare-and-set of a whole request-token record on its state
    /// tag, in one statement; binds [`update_request_token_values`].
    pub(crate) update_request_token: String,
    /// Binds [`access_token_values`].
    pub(crate) insert_access_token: String,
    /// Binds the token; reads a row for [`decode_access_token`].
    pub(crate) select_access_token: String,
    /// Binds the user id; reads a user's active access tokens, oldest first
    /// (then by token).
    pub(crate) list_user_tokens: String,
    /// Binds the token and the time: revokes it if active.
    pub(crate) revoke_access_token: String,
    /// Binds the user id, the consumer key and the time: revokes the
    /// user's active tokens for that consumer.
    pub(crate) revoke_user_tokens: String,
    /// Binds the time: deletes the request tokens expired by then.
    pub(crate) purge_request_tokens: String,
    /// Binds the nonce's digest, its expiry and the time: a new nonce is
    /// inserted; a remembered one is overwritten only if it has expired
    /// (its timestamp left the window); otherwise no row changes and the
    /// nonce is a replay ([`nonce_outcome`]).
    pub(crate) insert_nonce: String,
    /// Binds the time: deletes the nonces expired by then.
    pub(crate) purge_nonces: String,
    /// Binds [`consumer_values`]; changes no row when the key is taken.
    pub(crate) insert_consumer: String,
    /// Binds the key; reads a consumer that is not deleted.
    pub(crate) select_consumer: String,
    /// Binds [`consumer_values`] (at the new revision), then the expected
    /// revision: the compare-and-set of a consumer record.
    pub(crate) update_consumer: String,
    /// Binds the key: turns the consumer into a tombstone (state
    /// `deleted`, secret and key wiped). The first statement of a delete.
    pub(crate) delete_consumer: String,
    /// Binds the consumer key: deletes its request tokens (locking their
    /// rows, so an exchange in flight finishes first or finds none).
    pub(crate) delete_consumer_request_tokens: String,
    /// Binds the consumer key and the time: revokes its active tokens.
    pub(crate) revoke_consumer_tokens: String,
    /// Binds a state and an owner, either `NULL` for any: the consumers
    /// that are not deleted, by key.
    pub(crate) list_consumers: String,
    /// Binds the consumer key: its active access tokens, oldest first.
    pub(crate) list_consumer_tokens: String,
    /// Binds [`event_values`].
    pub(crate) insert_event: String,
    /// Binds a user id (`NULL` for anyone's) and a limit: the newest
    /// events, newest first, for [`decode_event`].
    pub(crate) list_events: String,
    /// Binds the time: deletes the events older than it.
    pub(crate) purge_events: String,
}

impl Statements {
    /// The statements with parameters `{placeholder}1, {placeholder}2, …`
    /// (`?1` in SQLite, `$1` in PostgreSQL), whose `ORDER BY` puts
    /// `byte_order` after `token` to sort tokens by their bytes, as the
    /// memory store does, whatever the database's collation.
    pub(crate) fn new(placeholder: char, byte_order: &str) -> Self {
        use access_tokens as at;
        use consumers as ct;
        use events as ev;
        use request_tokens as rt;
        let p = placeholder;
        let insert = |table, list, columns: &[Col]| {
            let values = (1..=columns.len())
                .map(|n| format!("{p}{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("INSERT INTO {table} ({list}) VALUES ({values})")
        };
        // Parameters: the record's columns in order (the token first, the
        // `WHERE`'s key), then the expected state and failed attempts.
        let set = rt::ALL[1..]
            .iter()
            .map(|c| format!("{} = {p}{}", c.name, c.index + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let (expected_state, expected_attempts) = (rt::ALL.len() + 1, rt::ALL.len() + 2);
        let (rt_table, at_table, ct_table) = (rt::TABLE, at::TABLE, ct::TABLE);
        let consumer_set = ct::ALL[1..]
            .iter()
            .map(|c| format!("{} = {p}{}", c.name, c.index + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let expected_revision = ct::ALL.len() + 1;
        Self {
            insert_request_token: insert(rt_table, rt::LIST, rt::ALL),
            select_request_token: format!("SELECT {} FROM {rt_table} WHERE token = {p}1", rt::LIST),
            count_request_tokens: format!(
                "SELECT count(*) FROM {rt_table} WHERE consumer_key = {p}1 AND expires_at > {p}2"
            ),
            // Never for a deleted consumer's token: a racing delete either
            // deleted the row first or waits for this change to commit.
            update_request_token: format!(
                "UPDATE {rt_table} SET {set} \
                 WHERE token = {p}1 AND state = {p}{expected_state} \
                 AND failed_attempts = {p}{expected_attempts} \
                 AND NOT EXISTS (SELECT 1 FROM {ct_table} \
                 WHERE {ct_table}.key = {rt_table}.consumer_key AND {ct_table}.state = 'deleted')"
            ),
            insert_access_token: insert(at_table, at::LIST, at::ALL),
            select_access_token: format!("SELECT {} FROM {at_table} WHERE token = {p}1", at::LIST),
            list_user_tokens: format!(
                "SELECT {} FROM {at_table} WHERE user_id = {p}1 AND revoked_at IS NULL \
                 ORDER BY created_at, token{byte_order}",
                at::LIST,
            ),
            revoke_access_token: format!(
                "UPDATE {at_table} SET revoked_at = {p}2 WHERE token = {p}1 AND revoked_at IS NULL"
            ),
            revoke_user_tokens: format!(
                "UPDATE {at_table} SET revoked_at = {p}3 \
                 WHERE user_id = {p}1 AND consumer_key = {p}2 AND revoked_at IS NULL"
            ),
            purge_request_tokens: format!("DELETE FROM {rt_table} WHERE expires_at <= {p}1"),
            insert_nonce: format!(
                "INSERT INTO oauth1_nonces (key, expires_at) VALUES ({p}1, {p}2) \
                 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE oauth1_nonces.expires_at <= {p}3"
            ),
            purge_nonces: format!("DELETE FROM oauth1_nonces WHERE expires_at <= {p}1"),
            insert_consumer: format!(
                "{} ON CONFLICT (key) DO NOTHING",
                insert(ct_table, ct::LIST, ct::ALL)
            ),
            select_consumer: format!(
                "SELECT {} FROM {ct_table} WHERE key = {p}1 AND state <> 'deleted'",
                ct::LIST
            ),
            update_consumer: format!(
                "UPDATE {ct_table} SET {consumer_set} \
                 WHERE key = {p}1 AND revision = {p}{expected_revision} AND state <> 'deleted'"
            ),
            delete_consumer: format!(
                "UPDATE {ct_table} SET state = 'deleted', secret = '', grace_secret = NULL, \
                 rsa_public_key = NULL, \
                 revision = revision + 1 WHERE key = {p}1 AND state <> 'deleted'"
            ),
            delete_consumer_request_tokens: format!(
                "DELETE FROM {rt_table} WHERE consumer_key = {p}1"
            ),
            revoke_consumer_tokens: format!(
                "UPDATE {at_table} SET revoked_at = {p}2 \
                 WHERE consumer_key = {p}1 AND revoked_at IS NULL"
            ),
            list_consumers: format!(
                "SELECT {} FROM {ct_table} WHERE state <> 'deleted' \
                 AND (CAST({p}1 AS TEXT) IS NULL OR state = {p}1) \
                 AND (CAST({p}2 AS TEXT) IS NULL OR owner = {p}2) \
                 ORDER BY key{byte_order}",
                ct::LIST
            ),
            list_consumer_tokens: format!(
                "SELECT {} FROM {at_table} WHERE consumer_key = {p}1 AND revoked_at IS NULL \
                 ORDER BY created_at, token{byte_order}",
                at::LIST,
            ),
            insert_event: insert(ev::TABLE, ev::LIST, ev::ALL),
            list_events: format!(
                "SELECT {} FROM {} WHERE (CAST({p}1 AS TEXT) IS NULL OR user_id = {p}1) \
                 ORDER BY at DESC, id DESC LIMIT {p}2",
                ev::LIST,
                ev::TABLE
            ),
            purge_events: format!("DELETE FROM {} WHERE at < {p}1", ev::TABLE),
        }
    }
}

/// A value to bind, typed so that a backend can bind a `NULL` of the right
/// type. No `Debug`: it holds secrets.
#[derive(Clone, Copy)]
pub(crate) enum SqlValue<'a> {
    /// `TEXT`.
    Text(Option<&'a str>),
    /// Bytes: `BLOB` in SQLite, `BYTEA` in PostgreSQL.
    Bytes(Option<&'a [u8]>),
    /// Client-supplied free text (callback, scope, display name) as its
    /// UTF-8 bytes: `BYTEA` in PostgreSQL, whose `TEXT` cannot hold the NUL
    /// a client can send; `TEXT` in SQLite. Read back with
    /// [`SqlRow::free_text`].
    FreeText(Option<&'a [u8]>),
    /// A 64-bit integer (times as unix seconds, counts).
    Int(Option<i64>),
    /// A boolean (`INTEGER` 0 or 1 in SQLite).
    Bool(Option<bool>),
}

/// A row as a backend reads it: each value by its [`Col`], `None` for
/// `NULL`. A driver's error (a value of another type) is a [`StoreError`]
/// keeping it as its source.
pub(crate) trait SqlRow {
    /// A text value.
    fn text(&self, col: Col) -> Result<Option<String>, StoreError>;
    /// A [`SqlValue::FreeText`] value; by default stored as text.
    fn free_text(&self, col: Col) -> Result<Option<String>, StoreError> {
        self.text(col)
    }
    /// An integer value.
    fn int(&self, col: Col) -> Result<Option<i64>, StoreError>;
    /// A boolean value.
    fn bool(&self, col: Col) -> Result<Option<bool>, StoreError>;
}

/// A value of a `NOT NULL` column: `NULL` is an invalid `col`.
fn required<T>(value: Option<T>, col: Col) -> Result<T, StoreError> {
    value.ok_or_else(|| invalid(col.name))
}

/// A time as stored: whole seconds since the Unix epoch.
pub(crate) fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A stored time, read back; an impossible one is an invalid `col`.
fn optional_time(r: &dyn SqlRow, col: Col) -> Result<Option<OffsetDateTime>, StoreError> {
    r.int(col)?
        .map(|s| OffsetDateTime::from_unix_timestamp(s).map_err(|_| invalid(col.name)))
        .transpose()
}

/// A text value of a `NOT NULL` column.
fn required_text(r: &dyn SqlRow, col: Col) -> Result<String, StoreError> {
    required(r.text(col)?, col)
}

/// A time of a `NOT NULL` column.
fn required_time(r: &dyn SqlRow, col: Col) -> Result<OffsetDateTime, StoreError> {
    required(optional_time(r, col)?, col)
}

/// A compare-and-set's state tag as columns: the state's name and its
/// failed attempts (0 for every state but `authorized`).
fn tag_values(tag: StateTag) -> (&'static str, i64) {
    match tag {
        StateTag::Issued => ("issued", 0),
        StateTag::Authorized { failed_attempts } => ("authorized", i64::from(failed_attempts)),
        StateTag::Exchanged => ("exchanged", 0),
        StateTag::Denied => ("denied", 0),
        StateTag::Burned => ("burned", 0),
    }
}

/// A text value.
pub(crate) fn text(value: &str) -> SqlValue<'_> {
    SqlValue::Text(Some(value))
}

fn free_text(value: Option<&str>) -> SqlValue<'_> {
    SqlValue::FreeText(value.map(str::as_bytes))
}

fn int(value: i64) -> SqlValue<'static> {
    SqlValue::Int(Some(value))
}

/// A time value, as [`unix`] seconds.
pub(crate) fn time(value: OffsetDateTime) -> SqlValue<'static> {
    int(unix(value))
}

/// A request token's values, in the order of [`request_tokens::ALL`].
pub(crate) fn request_token_values<'a>(
    t: &'a RequestToken,
    grants: &'a Option<String>,
) -> [SqlValue<'a>; 17] {
    let (state, failed_attempts) = tag_values(t.state.tag());
    let (user, verifier) = match &t.state {
        RequestTokenState::Authorized { user, verifier, .. } => {
            (Some(user), Some(verifier.secret()))
        }
        _ => (None, None),
    };
    let grants = grants.as_deref();
    let callback = match &t.callback {
        Callback::Oob => None,
        Callback::Url(url) => Some(url.as_str()),
    };
    [
        text(&t.token),
        text(t.secret.secret()),
        text(&t.consumer_key),
        text(&t.host),
        free_text(callback),
        free_text(t.scope.as_deref()),
        free_text(t.display_name.as_deref()),
        time(t.created_at),
        time(t.expires_at),
        text(state),
        SqlValue::Text(user.map(|u| u.email.as_str())),
        SqlValue::Text(user.map(|u| u.user_id.as_str())),
        SqlValue::Bool(user.map(|u| u.admin)),
        SqlValue::Text(user.map(|u| u.auth_domain.as_str())),
        SqlValue::Text(verifier),
        int(failed_attempts),
        SqlValue::Text(grants),
    ]
}

/// The values [`Statements::update_request_token`] binds: `next`'s, then
/// the `expected` tag's.
pub(crate) fn update_request_token_values<'a>(
    expected: StateTag,
    next: &'a RequestToken,
    grants: &'a Option<String>,
) -> [SqlValue<'a>; 19] {
    let (state, failed_attempts) = tag_values(expected);
    let mut values = [SqlValue::Int(None); 19];
    values[..17].copy_from_slice(&request_token_values(next, grants));
    values[17] = text(state);
    values[18] = int(failed_attempts);
    values
}

/// An access token's values, in the order of [`access_tokens::ALL`].
pub(crate) fn access_token_values<'a>(
    t: &'a AccessToken,
    grants: &'a Option<String>,
) -> [SqlValue<'a>; 15] {
    let revoked_at = match t.state {
        AccessTokenState::Active => None,
        AccessTokenState::Revoked { at } => Some(unix(at)),
    };
    let session = t.session.as_ref();
    [
        text(&t.token),
        text(t.secret.secret()),
        text(&t.consumer_key),
        text(&t.host),
        text(&t.user.email),
        text(&t.user.user_id),
        SqlValue::Bool(Some(t.user.admin)),
        text(&t.user.auth_domain),
        free_text(t.scope.as_deref()),
        time(t.created_at),
        SqlValue::Int(revoked_at),
        SqlValue::Int(t.expires_at.map(unix)),
        SqlValue::Text(session.map(|s| s.handle.secret())),
        SqlValue::Int(session.and_then(|s| s.authorization_expires_at).map(unix)),
        SqlValue::Text(grants.as_deref()),
    ]
}

/// A `grants` column read back: NULL is the whole app; each name must be
/// one a grant can have.
fn decode_grants(r: &dyn SqlRow, col: Col) -> Result<Granted, StoreError> {
    let stored = r.text(col)?;
    let granted = Granted::from_stored(stored.as_deref());
    if granted
        .names()
        .is_some_and(|names| !names.iter().all(|n| is_valid_grant_name(n)))
    {
        return Err(invalid(col.name));
    }
    Ok(granted)
}

/// A request-token row, read back and checked.
pub(crate) fn decode_request_token(r: &dyn SqlRow) -> Result<RequestToken, StoreError> {
    use request_tokens as c;
    let state = match required_text(r, c::state)?.as_str() {
        "issued" => RequestTokenState::Issued,
        "authorized" => {
            let (Some(email), Some(user_id), Some(admin), Some(auth_domain), Some(verifier)) = (
                r.text(c::user_email)?,
                r.text(c::user_id)?,
                r.bool(c::user_admin)?,
                r.text(c::user_auth_domain)?,
                r.text(c::verifier)?,
            ) else {
                return Err(invalid("user"));
            };
            let failed_attempts = required(r.int(c::failed_attempts)?, c::failed_attempts)?;
            RequestTokenState::Authorized {
                user: User {
                    email,
                    user_id,
                    admin,
                    auth_domain,
                },
                verifier: Verifier::new(verifier),
                failed_attempts: u32::try_from(failed_attempts)
                    .map_err(|_| invalid(c::failed_attempts.name))?,
            }
        }
        "exchanged" => RequestTokenState::Exchanged,
        "denied" => RequestTokenState::Denied,
        "burned" => RequestTokenState::Burned,
        _ => return Err(invalid(c::state.name)),
    };
    Ok(RequestToken {
        token: required_text(r, c::token)?,
        secret: TokenSecret::new(required_text(r, c::secret)?),
        consumer_key: required_text(r, c::consumer_key)?,
        host: required_text(r, c::host)?,
        callback: r
            .free_text(c::callback)?
            .map_or(Callback::Oob, Callback::Url),
        scope: r.free_text(c::scope)?,
        display_name: r.free_text(c::display_name)?,
        grants: decode_grants(r, c::grants)?,
        created_at: required_time(r, c::created_at)?,
        expires_at: required_time(r, c::expires_at)?,
        state,
    })
}

/// An access-token row, read back and checked.
pub(crate) fn decode_access_token(r: &dyn SqlRow) -> Result<AccessToken, StoreError> {
    use access_tokens as c;
    let session = match r.text(c::session_handle)? {
        None => None,
        Some(handle) => Some(Session {
            handle: SessionHandle::new(handle),
            authorization_expires_at: optional_time(r, c::authorization_expires_at)?,
        }),
    };
    Ok(AccessToken {
        token: required_text(r, c::token)?,
        secret: TokenSecret::new(required_text(r, c::secret)?),
        consumer_key: required_text(r, c::consumer_key)?,
        host: required_text(r, c::host)?,
        user: User {
            email: required_text(r, c::user_email)?,
            user_id: required_text(r, c::user_id)?,
            admin: required(r.bool(c::user_admin)?, c::user_admin)?,
            auth_domain: required_text(r, c::user_auth_domain)?,
        },
        scope: r.free_text(c::scope)?,
        grants: decode_grants(r, c::grants)?,
        created_at: required_time(r, c::created_at)?,
        expires_at: optional_time(r, c::expires_at)?,
        session,
        state: match optional_time(r, c::revoked_at)? {
            None => AccessTokenState::Active,
            Some(at) => AccessTokenState::Revoked { at },
        },
    })
}

/// A consumer's list and key columns as stored text, which
/// [`consumer_values`] borrows.
pub(crate) struct ConsumerText {
    callback_prefixes: String,
    signature_methods: String,
    requestor_domains: String,
    rsa_public_key: Option<String>,
    grants: Option<String>,
}

impl ConsumerText {
    pub(crate) fn of(c: &Consumer) -> Self {
        let methods: Vec<&str> = c.signature_methods.iter().map(|m| m.name()).collect();
        #[cfg(feature = "rsa")]
        let rsa_public_key = c.rsa_key.as_ref().map(|k| k.to_pem());
        #[cfg(not(feature = "rsa"))]
        let rsa_public_key = None;
        Self {
            callback_prefixes: c.callback_prefixes.join("\n"),
            signature_methods: methods.join("\n"),
            requestor_domains: c.requestor_domains.join("\n"),
            rsa_public_key,
            grants: (!c.grants.is_empty()).then(|| c.grants.join(" ")),
        }
    }
}

/// A consumer's values at `revision`, in the order of [`consumers::ALL`].
pub(crate) fn consumer_values<'a>(
    c: &'a Consumer,
    text_of: &'a ConsumerText,
    revision: u64,
) -> Result<[SqlValue<'a>; 18], StoreError> {
    let revision = i64::try_from(revision).map_err(|_| invalid("revision"))?;
    Ok([
        text(&c.key),
        text(c.secret.secret()),
        SqlValue::Text(c.grace_secret.as_ref().map(|s| s.secret())),
        SqlValue::Int(c.grace_until.map(unix)),
        SqlValue::Text(text_of.rsa_public_key.as_deref()),
        text(&c.display_name),
        text(&c.description),
        SqlValue::Text(c.homepage.as_deref()),
        SqlValue::Text(c.owner.as_deref()),
        text(c.state.as_str()),
        int(revision),
        text(&text_of.callback_prefixes),
        text(&text_of.signature_methods),
        SqlValue::Bool(Some(c.two_legged)),
        text(&text_of.requestor_domains),
        SqlValue::Bool(Some(c.body_hash_required)),
        SqlValue::Bool(Some(c.unverified)),
        SqlValue::Text(text_of.grants.as_deref()),
    ])
}

/// A consumer row, read back and checked.
pub(crate) fn decode_consumer(r: &dyn SqlRow) -> Result<Consumer, StoreError> {
    use consumers as c;
    let lines = |col| -> Result<Vec<String>, StoreError> {
        let all = required_text(r, col)?;
        Ok(all
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    };
    let state = required_text(r, c::state)?;
    let state = ConsumerState::parse(&state).ok_or_else(|| invalid(c::state.name))?;
    let revision = required(r.int(c::revision)?, c::revision)?;
    let signature_methods = lines(c::signature_methods)?
        .iter()
        .map(|name| SignatureMethod::from_name(name).ok_or_else(|| invalid("signature_methods")))
        .collect::<Result<_, _>>()?;
    let rsa_public_key = r.text(c::rsa_public_key)?;
    let consumer = Consumer::new(
        required_text(r, c::key)?,
        required_text(r, c::secret)?,
        required_text(r, c::display_name)?,
    );
    #[cfg(feature = "rsa")]
    let consumer = Consumer {
        rsa_key: rsa_public_key
            .map(|pem| ConsumerPublicKey::from_pem(&pem).map_err(|_| invalid("rsa_public_key")))
            .transpose()?,
        ..consumer
    };
    #[cfg(not(feature = "rsa"))]
    if rsa_public_key.is_some() {
        // Without the `rsa` feature this build cannot verify its requests.
        return Err(invalid("rsa_public_key"));
    }
    Ok(Consumer {
        grace_secret: r.text(c::grace_secret)?.map(ConsumerSecret::new),
        grace_until: optional_time(r, c::grace_until)?,
        description: required_text(r, c::description)?,
        homepage: r.text(c::homepage)?,
        owner: r.text(c::owner)?,
        state,
        revision: u64::try_from(revision).map_err(|_| invalid(c::revision.name))?,
        callback_prefixes: lines(c::callback_prefixes)?,
        signature_methods,
        two_legged: required(r.bool(c::two_legged)?, c::two_legged)?,
        requestor_domains: lines(c::requestor_domains)?,
        body_hash_required: required(r.bool(c::body_hash_required)?, c::body_hash_required)?,
        unverified: required(r.bool(c::unverified)?, c::unverified)?,
        // NULL: the whole app. Never empty: that would read as the whole app.
        grants: match decode_grants(r, c::grants)? {
            Granted::WholeApp => Vec::new(),
            Granted::Only(names) if names.is_empty() => return Err(invalid(c::grants.name)),
            Granted::Only(names) => names.into_iter().collect(),
        },
        ..consumer
    })
}

/// An event's values, in the order of [`events::ALL`]; `peer` is its
/// address as text.
pub(crate) fn event_values<'a>(e: &'a StoredEvent, peer: &'a str) -> [SqlValue<'a>; 7] {
    [
        time(e.at),
        text(&e.kind),
        text(&e.detail),
        free_text(e.consumer_key.as_deref()),
        SqlValue::Text(e.user_id.as_deref()),
        free_text(e.token_prefix.as_deref()),
        SqlValue::Text(e.peer.map(|_| peer)),
    ]
}

/// Reads a row of [`events::LIST`].
pub(crate) fn decode_event(r: &dyn SqlRow) -> Result<StoredEvent, StoreError> {
    use events as c;
    Ok(StoredEvent {
        at: required_time(r, c::at)?,
        kind: required_text(r, c::kind)?,
        detail: required_text(r, c::detail)?,
        consumer_key: r.free_text(c::consumer_key)?,
        user_id: r.text(c::user_id)?,
        token_prefix: r.free_text(c::token_prefix)?,
        peer: r
            .text(c::peer)?
            .map(|p| p.parse().map_err(|_| invalid(c::peer.name)))
            .transpose()?,
    })
}

/// A statement and the values it binds.
pub(crate) type Bound<'a> = (&'static str, &'a [SqlValue<'a>]);

/// A row decoder: [`decode_request_token`] or [`decode_access_token`].
pub(crate) type Decode<T> = fn(&dyn SqlRow) -> Result<T, StoreError>;

/// Reads the single `count(*)` column of a row.
pub(crate) fn decode_count(r: &dyn SqlRow) -> Result<usize, StoreError> {
    let col = Col {
        index: 0,
        name: "count",
    };
    let count = required(r.int(col)?, col)?;
    usize::try_from(count).map_err(|_| invalid(col.name))
}

/// A SQL store's driver glue: what the operations [`sql_store!`] writes once
/// ask of it. Every call may take its own connection; only
/// [`execute_both`](Self::execute_both) is a transaction.
pub(crate) trait SqlBackend: Send + Sync {
    /// The store's statements, in its dialect.
    fn statements(&self) -> &'static Statements;

    /// The store instance's lazy purge counters.
    fn lazy_purge(&self) -> &LazyPurge;

    /// What seals its secrets, when it has a server key.
    fn sealer(&self) -> Option<&crate::store::sealed::Sealer>;

    /// Runs a statement; how many rows it changed.
    fn execute(&self, statement: Bound<'_>)
    -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Runs a query; every row it returns, decoded.
    fn query<T: Send + 'static>(
        &self,
        query: Bound<'_>,
        decode: Decode<T>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send;

    /// Runs a query for one row; the row, decoded, if there is one.
    fn query_opt<T: Send + 'static>(
        &self,
        query: Bound<'_>,
        decode: Decode<T>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> + Send {
        async move { Ok(self.query(query, decode).await?.into_iter().next()) }
    }

    /// In one transaction, runs `first`, then each of `then` in order only
    /// if `first` changed exactly one row: all or nothing. The rows each of
    /// `then` changed, or `None` when `first` changed none (and nothing was
    /// written).
    fn execute_chain(
        &self,
        first: Bound<'_>,
        then: &[Bound<'_>],
    ) -> impl Future<Output = Result<Option<Vec<u64>>, StoreError>> + Send;

    /// [`execute_chain`](Self::execute_chain) with one statement after
    /// `first`: whether both were written.
    fn execute_both(
        &self,
        first: Bound<'_>,
        then: Bound<'_>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move { Ok(self.execute_chain(first, &[then]).await?.is_some()) }
    }
}

/// Implements [`TokenStore`](crate::store::TokenStore) and
/// [`NonceStore`](crate::store::NonceStore) for a [`SqlBackend`]: the one
/// place the SQL stores' operations are written. A macro rather than a
/// blanket impl over a crate-private trait, so that the documentation lists
/// each store as an implementor.
///
/// The guarantees rest on single statements and on
/// [`SqlBackend::execute_both`]: a compare-and-set is one `UPDATE … WHERE
/// state and failed attempts match` (one writer of a row wins); an exchange
/// or a refresh is that one-row change and the new access token's insert in
/// one transaction; a nonce is one `INSERT … ON CONFLICT DO UPDATE … WHERE
/// expired`.
macro_rules! sql_store {
    ($store:ty) => {
        const _: () = {
            use time::OffsetDateTime;

            use crate::model::token::{AccessToken, RequestToken, StateTag};
            use crate::store::sealed::{
                open_access_token, open_consumer, open_request_token, seal_access_token,
                seal_consumer, seal_request_token,
            };
            use crate::store::sql::{
                SqlBackend, SqlValue, access_token_values, decode_access_token, decode_count,
                decode_request_token, nonce_outcome, request_token_values, row_count, text, time,
                update_request_token_values,
            };
            use crate::store::{NonceKey, NonceOutcome, NonceStore, StoreError, TokenStore};

            /// Every record of `read`, its sealed secrets opened.
            fn opened<T>(
                read: Vec<T>,
                open: impl Fn(T) -> Result<T, StoreError>,
            ) -> Result<Vec<T>, StoreError> {
                read.into_iter().map(open).collect()
            }

            impl TokenStore for $store {
                async fn insert_request_token(&self, t: &RequestToken) -> Result<(), StoreError> {
                    let sql = self.statements();
                    if self.lazy_purge().request_token_due() {
                        self.execute((&sql.purge_request_tokens, &[time(t.created_at)]))
                            .await?;
                    }
                    let t = seal_request_token(self.sealer(), t)?;
                    let grants = t.grants.to_stored();
                    let values = request_token_values(&t, &grants);
                    self.execute((&sql.insert_request_token, &values)).await?;
                    Ok(())
                }

                async fn count_request_tokens(
                    &self,
                    consumer_key: &str,
                    now: OffsetDateTime,
                ) -> Result<usize, StoreError> {
                    let sql = &self.statements().count_request_tokens;
                    let values = [text(consumer_key), time(now)];
                    let count = self.query_opt((sql, &values), decode_count).await?;
                    Ok(count.unwrap_or(0))
                }

                async fn get_request_token(
                    &self,
                    token: &str,
                ) -> Result<Option<RequestToken>, StoreError> {
                    let sql = &self.statements().select_request_token;
                    let bound = [text(token)];
                    let read = self.query_opt((sql, &bound), decode_request_token);
                    read.await?
                        .map(|t| open_request_token(self.sealer(), t))
                        .transpose()
                }

                async fn update_request_token(
                    &self,
                    expected: StateTag,
                    next: &RequestToken,
                ) -> Result<bool, StoreError> {
                    let next = seal_request_token(self.sealer(), next)?;
                    let grants = next.grants.to_stored();
                    let values = update_request_token_values(expected, &next, &grants);
                    let sql = &self.statements().update_request_token;
                    Ok(self.execute((sql, &values)).await? == 1)
                }

                async fn exchange_request_token(
                    &self,
                    expected: StateTag,
                    exchanged: &RequestToken,
                    access: &AccessToken,
                ) -> Result<bool, StoreError> {
                    let sql = self.statements();
                    let exchanged = seal_request_token(self.sealer(), exchanged)?;
                    let access = seal_access_token(self.sealer(), access)?;
                    let (exchanged_grants, access_grants) =
                        (exchanged.grants.to_stored(), access.grants.to_stored());
                    let cas = update_request_token_values(expected, &exchanged, &exchanged_grants);
                    let insert = access_token_values(&access, &access_grants);
                    self.execute_both(
                        (&sql.update_request_token, &cas),
                        (&sql.insert_access_token, &insert),
                    )
                    .await
                }

                async fn get_access_token(
                    &self,
                    token: &str,
                ) -> Result<Option<AccessToken>, StoreError> {
                    let sql = &self.statements().select_access_token;
                    let bound = [text(token)];
                    let read = self.query_opt((sql, &bound), decode_access_token);
                    read.await?
                        .map(|t| open_access_token(self.sealer(), t))
                        .transpose()
                }

                async fn refresh_access_token(
                    &self,
                    old: &str,
                    at: OffsetDateTime,
                    next: &AccessToken,
                ) -> Result<bool, StoreError> {
                    // A concurrent refresh of the same token finds it
                    // revoked and changes nothing.
                    let sql = self.statements();
                    let next = seal_access_token(self.sealer(), next)?;
                    let grants = next.grants.to_stored();
                    let insert = access_token_values(&next, &grants);
                    self.execute_both(
                        (&sql.revoke_access_token, &[text(old), time(at)]),
                        (&sql.insert_access_token, &insert),
                    )
                    .await
                }

                async fn revoke_access_token(
                    &self,
                    token: &str,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let sql = &self.statements().revoke_access_token;
                    Ok(self.execute((sql, &[text(token), time(at)])).await? == 1)
                }

                async fn revoke_user_tokens(
                    &self,
                    user_id: &str,
                    consumer_key: &str,
                    at: OffsetDateTime,
                ) -> Result<usize, StoreError> {
                    let sql = &self.statements().revoke_user_tokens;
                    let values = [text(user_id), text(consumer_key), time(at)];
                    row_count(self.execute((sql, &values)).await?)
                }

                async fn list_user_tokens(
                    &self,
                    user_id: &str,
                ) -> Result<Vec<AccessToken>, StoreError> {
                    let sql = &self.statements().list_user_tokens;
                    let bound = [text(user_id)];
                    let read = self.query((sql, &bound), decode_access_token);
                    opened(read.await?, |t| open_access_token(self.sealer(), t))
                }

                async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
                    let sql = &self.statements().purge_request_tokens;
                    row_count(self.execute((sql, &[time(now)])).await?)
                }
            }

            impl crate::store::ConsumerStore for $store {
                async fn insert_consumer(
                    &self,
                    consumer: &crate::model::consumer::Consumer,
                ) -> Result<bool, StoreError> {
                    let consumer = seal_consumer(self.sealer(), consumer)?;
                    let text_of = crate::store::sql::ConsumerText::of(&consumer);
                    let values = crate::store::sql::consumer_values(&consumer, &text_of, 0)?;
                    let sql = &self.statements().insert_consumer;
                    Ok(self.execute((sql, &values)).await? == 1)
                }

                async fn get_consumer(
                    &self,
                    key: &str,
                ) -> Result<Option<crate::model::consumer::Consumer>, StoreError> {
                    let sql = &self.statements().select_consumer;
                    let bound = [text(key)];
                    let read = self.query_opt((sql, &bound), crate::store::sql::decode_consumer);
                    read.await?
                        .map(|c| open_consumer(self.sealer(), c))
                        .transpose()
                }

                async fn update_consumer(
                    &self,
                    expected: u64,
                    next: &crate::model::consumer::Consumer,
                ) -> Result<bool, StoreError> {
                    let next = seal_consumer(self.sealer(), next)?;
                    let text_of = crate::store::sql::ConsumerText::of(&next);
                    let revision = expected
                        .checked_add(1)
                        .ok_or_else(|| crate::store::sql::invalid("revision"))?;
                    let values = crate::store::sql::consumer_values(&next, &text_of, revision)?;
                    let expected = i64::try_from(expected)
                        .map_err(|_| crate::store::sql::invalid("revision"))?;
                    let mut bound = values.to_vec();
                    bound.push(SqlValue::Int(Some(expected)));
                    let sql = &self.statements().update_consumer;
                    Ok(self.execute((sql, &bound)).await? == 1)
                }

                async fn delete_consumer(
                    &self,
                    key: &str,
                    at: OffsetDateTime,
                ) -> Result<Option<usize>, StoreError> {
                    let sql = self.statements();
                    let key = [text(key)];
                    let revoke = [key[0], time(at)];
                    let changed = self
                        .execute_chain(
                            (&sql.delete_consumer, &key),
                            &[
                                (&sql.delete_consumer_request_tokens, &key),
                                (&sql.revoke_consumer_tokens, &revoke),
                                // Again, on a fresh snapshot (PostgreSQL's
                                // READ COMMITTED): the first waited for any
                                // refresh holding a token's row and then
                                // skipped it, but not the token that refresh
                                // inserted.
                                (&sql.revoke_consumer_tokens, &revoke),
                            ],
                        )
                        .await?;
                    changed.map(|rows| row_count(rows[1] + rows[2])).transpose()
                }

                async fn list_consumers(
                    &self,
                    state: Option<crate::model::consumer::ConsumerState>,
                    owner: Option<&str>,
                ) -> Result<Vec<crate::model::consumer::Consumer>, StoreError> {
                    let sql = &self.statements().list_consumers;
                    let values = [
                        SqlValue::Text(state.map(|s| s.as_str())),
                        SqlValue::Text(owner),
                    ];
                    let read = self.query((sql, &values), crate::store::sql::decode_consumer);
                    opened(read.await?, |c| open_consumer(self.sealer(), c))
                }

                async fn list_consumer_tokens(
                    &self,
                    consumer_key: &str,
                ) -> Result<Vec<AccessToken>, StoreError> {
                    let sql = &self.statements().list_consumer_tokens;
                    let bound = [text(consumer_key)];
                    let read = self.query((sql, &bound), decode_access_token);
                    opened(read.await?, |t| open_access_token(self.sealer(), t))
                }

                async fn revoke_consumer_tokens(
                    &self,
                    consumer_key: &str,
                    at: OffsetDateTime,
                ) -> Result<usize, StoreError> {
                    let sql = &self.statements().revoke_consumer_tokens;
                    row_count(self.execute((sql, &[text(consumer_key), time(at)])).await?)
                }
            }

            impl crate::store::EventStore for $store {
                async fn append_events(
                    &self,
                    events: &[crate::store::StoredEvent],
                ) -> Result<(), StoreError> {
                    let sql = &self.statements().insert_event;
                    for event in events {
                        let peer = event.peer.map(|p| p.to_string()).unwrap_or_default();
                        let values = crate::store::sql::event_values(event, &peer);
                        self.execute((sql, &values)).await?;
                    }
                    Ok(())
                }

                async fn list_events(
                    &self,
                    user_id: Option<&str>,
                    limit: usize,
                ) -> Result<Vec<crate::store::StoredEvent>, StoreError> {
                    let sql = &self.statements().list_events;
                    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                    let values = [SqlValue::Text(user_id), SqlValue::Int(Some(limit))];
                    self.query((sql, &values), crate::store::sql::decode_event)
                        .await
                }

                async fn purge_events(&self, before: OffsetDateTime) -> Result<usize, StoreError> {
                    let sql = &self.statements().purge_events;
                    row_count(self.execute((sql, &[time(before)])).await?)
                }
            }

            impl NonceStore for $store {
                async fn insert_nonce(
                    &self,
                    key: &NonceKey<'_>,
                    now: OffsetDateTime,
                    expires_at: OffsetDateTime,
                ) -> Result<NonceOutcome, StoreError> {
                    let sql = self.statements();
                    if self.lazy_purge().nonce_due() {
                        self.execute((&sql.purge_nonces, &[time(now)])).await?;
                    }
                    let digest = key.digest();
                    let values = [SqlValue::Bytes(Some(&digest)), time(expires_at), time(now)];
                    Ok(nonce_outcome(
                        self.execute((&sql.insert_nonce, &values)).await?,
                    ))
                }

                async fn purge_nonces(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
                    let sql = &self.statements().purge_nonces;
                    row_count(self.execute((sql, &[time(now)])).await?)
                }
            }
        };
    };
}
pub(crate) use sql_store;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// A row as a typed database keeps it: free text as bytes (as
    /// PostgreSQL does), a value of another type than asked is an error.
    struct Stored(Vec<Value>);

    #[derive(Clone, Debug, PartialEq)]
    enum Value {
        Null,
        Text(String),
        Bytes(Vec<u8>),
        Int(i64),
        Bool(bool),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wrong type")]
    struct WrongType;

    impl Stored {
        fn of(values: &[SqlValue<'_>]) -> Self {
            Self(
                values
                    .iter()
                    .map(|v| match *v {
                        SqlValue::Text(v) => v.map_or(Value::Null, |s| Value::Text(s.into())),
                        SqlValue::Bytes(v) | SqlValue::FreeText(v) => {
                            v.map_or(Value::Null, |b| Value::Bytes(b.into()))
                        }
                        SqlValue::Int(v) => v.map_or(Value::Null, Value::Int),
                        SqlValue::Bool(v) => v.map_or(Value::Null, Value::Bool),
                    })
                    .collect(),
            )
        }

        fn with(mut self, col: Col, value: Value) -> Self {
            self.0[col.index] = value;
            self
        }

        fn get<T>(&self, col: Col, f: fn(&Value) -> Option<T>) -> Result<Option<T>, StoreError> {
            match &self.0[col.index] {
                Value::Null => Ok(None),
                v => f(v).map(Some).ok_or_else(|| StoreError::new(WrongType)),
            }
        }
    }

    impl SqlRow for Stored {
        fn text(&self, col: Col) -> Result<Option<String>, StoreError> {
            self.get(col, |v| match v {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            })
        }
        fn free_text(&self, col: Col) -> Result<Option<String>, StoreError> {
            let bytes = self.get(col, |v| match v {
                Value::Bytes(b) => Some(b.clone()),
                _ => None,
            })?;
            bytes
                .map(|b| String::from_utf8(b).map_err(|_| invalid(col.name)))
                .transpose()
        }
        fn int(&self, col: Col) -> Result<Option<i64>, StoreError> {
            self.get(col, |v| match v {
                Value::Int(i) => Some(*i),
                _ => None,
            })
        }
        fn bool(&self, col: Col) -> Result<Option<bool>, StoreError> {
            self.get(col, |v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            })
        }
    }

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    fn user() -> User {
        User::new("ana@example.com", "u-1").admin(true)
    }

    fn request_token(state: RequestTokenState) -> RequestToken {
        RequestToken {
            token: "rt".into(),
            secret: TokenSecret::new("rts"),
            consumer_key: "consumer".into(),
            host: "example.com:8080".into(),
            callback: Callback::Url("https://client.example/cb?x=1\0ü".into()),
            scope: Some("feeds ü\0".into()),
            grants: Granted::only(["photos.read", "https://x.example/a"]),
            display_name: Some("App".into()),
            created_at: at(1_700_000_000),
            expires_at: at(1_700_000_600),
            state,
        }
    }

    fn every_request_token() -> Vec<RequestToken> {
        let authorized = |failed_attempts| RequestTokenState::Authorized {
            user: user(),
            verifier: Verifier::new("verifier"),
            failed_attempts,
        };
        let mut tokens: Vec<_> = [
            RequestTokenState::Issued,
            authorized(0),
            authorized(u32::MAX),
            RequestTokenState::Exchanged,
            RequestTokenState::Denied,
            RequestTokenState::Burned,
        ]
        .into_iter()
        .map(request_token)
        .collect();
        tokens.push(RequestToken {
            callback: Callback::Oob,
            scope: None,
            grants: Granted::WholeApp,
            display_name: None,
            ..request_token(RequestTokenState::Issued)
        });
        tokens
    }

    fn access_token() -> AccessToken {
        AccessToken {
            token: "at".into(),
            secret: TokenSecret::new("ats"),
            consumer_key: "consumer".into(),
            host: "example.com".into(),
            user: user(),
            scope: Some("feeds\0".into()),
            grants: Granted::only([crate::model::IDENTITY_GRANT]),
            created_at: at(1_700_000_000),
            expires_at: None,
            session: None,
            state: AccessTokenState::Active,
        }
    }

    fn every_access_token() -> Vec<AccessToken> {
        let session = |authorization_expires_at| {
            Some(Session {
                handle: SessionHandle::new("handle"),
                authorization_expires_at,
            })
        };
        vec![
            access_token(),
            AccessToken {
                scope: None,
                state: AccessTokenState::Revoked {
                    at: at(1_700_000_100),
                },
                ..access_token()
            },
            AccessToken {
                expires_at: Some(at(1_700_003_600)),
                session: session(None),
                ..access_token()
            },
            AccessToken {
                expires_at: Some(at(1_700_003_600)),
                session: session(Some(at(1_800_000_000))),
                state: AccessTokenState::Revoked {
                    at: at(1_700_000_100),
                },
                ..access_token()
            },
        ]
    }

    /// The column a refused value was reported in.
    fn invalid_column(result: Result<impl std::fmt::Debug, StoreError>) -> String {
        let error = result.expect_err("an invalid value must be refused");
        error.source().map(ToString::to_string).unwrap_or_default()
    }

    #[test]
    fn every_token_state_round_trips() {
        for token in every_request_token() {
            let grants = token.grants.to_stored();
            let row = Stored::of(&request_token_values(&token, &grants));
            assert_eq!(row.0.len(), request_tokens::ALL.len());
            assert_eq!(decode_request_token(&row).unwrap(), token);
        }
        for token in every_access_token() {
            let grants = token.grants.to_stored();
            let row = Stored::of(&access_token_values(&token, &grants));
            assert_eq!(row.0.len(), access_tokens::ALL.len());
            assert_eq!(decode_access_token(&row).unwrap(), token);
        }
    }

    #[test]
    fn rows_are_encoded_as_the_schema_expects() {
        use request_tokens as c;
        let issued = Stored::of(&request_token_values(&every_request_token()[6], &None));
        assert_eq!(issued.0[c::state.index], Value::Text("issued".into()));
        assert_eq!(
            issued.0[c::grants.index],
            Value::Null,
            "the whole app is NULL"
        );
        let grants = every_request_token()[0].grants.to_stored();
        let granted = Stored::of(&request_token_values(&every_request_token()[0], &grants));
        assert_eq!(
            granted.0[c::grants.index],
            Value::Text("https://x.example/a photos.read".into())
        );
        assert_eq!(issued.0[c::callback.index], Value::Null, "oob is NULL");
        assert_eq!(issued.0[c::failed_attempts.index], Value::Int(0));
        for col in [c::user_email, c::user_id, c::user_admin, c::verifier] {
            assert_eq!(issued.0[col.index], Value::Null, "{}", col.name);
        }
        let authorized = Stored::of(&request_token_values(&every_request_token()[2], &None));
        assert_eq!(
            authorized.0[c::state.index],
            Value::Text("authorized".into())
        );
        assert_eq!(
            authorized.0[c::failed_attempts.index],
            Value::Int(u32::MAX.into())
        );
        assert_eq!(authorized.0[c::created_at.index], Value::Int(1_700_000_000));
        let revoked = Stored::of(&access_token_values(&every_access_token()[1], &None));
        let revoked_at = revoked.0[access_tokens::revoked_at.index].clone();
        assert_eq!(revoked_at, Value::Int(1_700_000_100));
    }

    #[test]
    fn the_compare_and_set_binds_the_record_then_the_expected_tag() {
        let next = &every_request_token()[1];
        let expected = StateTag::Authorized { failed_attempts: 7 };
        let grants = next.grants.to_stored();
        let values = Stored::of(&update_request_token_values(expected, next, &grants));
        assert_eq!(
            values.0[..17],
            Stored::of(&request_token_values(next, &grants)).0
        );
        assert_eq!(values.0[17], Value::Text("authorized".into()));
        assert_eq!(values.0[18], Value::Int(7));
        let sql = Statements::new('?', "").update_request_token;
        assert!(sql.starts_with("UPDATE oauth1_request_tokens SET secret = ?2, "));
        assert!(sql.contains(", grants = ?17 WHERE token = ?1 AND state = ?18 "));
        assert!(sql.contains(
            " AND failed_attempts = ?19 AND NOT EXISTS (SELECT 1 FROM oauth1_consumers "
        ));
        assert!(sql.ends_with(" AND oauth1_consumers.state = 'deleted')"));
    }

    #[test]
    fn statements_list_the_columns_in_the_encoders_order() {
        assert_eq!(
            request_tokens::LIST,
            "token, secret, consumer_key, host, callback, scope, display_name, created_at, \
             expires_at, state, user_email, user_id, user_admin, user_auth_domain, verifier, \
             failed_attempts, grants"
        );
        assert_eq!(
            access_tokens::LIST,
            "token, secret, consumer_key, host, user_email, user_id, user_admin, \
             user_auth_domain, scope, created_at, revoked_at, expires_at, session_handle, \
             authorization_expires_at, grants"
        );
        let postgres = Statements::new('$', " COLLATE \"C\"");
        assert!(postgres.insert_access_token.ends_with(
            "authorization_expires_at, grants) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                            $9, $10, $11, $12, $13, $14, $15)"
        ));
        assert!(postgres.list_user_tokens.ends_with(
            "WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, token COLLATE \"C\""
        ));
        assert_eq!(
            Statements::new('?', "").select_request_token,
            format!(
                "SELECT {} FROM oauth1_request_tokens WHERE token = ?1",
                request_tokens::LIST
            )
        );
    }

    #[test]
    fn invalid_request_token_rows_are_refused() {
        use request_tokens as c;
        let grants = every_request_token()[0].grants.to_stored();
        let issued = || Stored::of(&request_token_values(&every_request_token()[0], &grants));
        let authorized = || Stored::of(&request_token_values(&every_request_token()[1], &grants));
        let cases = [
            (issued().with(c::state, Value::Text("lost".into())), "state"),
            (issued().with(c::state, Value::Null), "state"),
            (issued().with(c::token, Value::Null), "token"),
            (issued().with(c::secret, Value::Null), "secret"),
            (
                issued().with(c::created_at, Value::Int(i64::MAX)),
                "created_at",
            ),
            (issued().with(c::expires_at, Value::Null), "expires_at"),
            (issued().with(c::scope, Value::Bytes(vec![0xff])), "scope"),
            (
                issued().with(c::grants, Value::Text("a *".into())),
                "grants",
            ),
            (issued().with(c::grants, Value::Text("é".into())), "grants"),
            (
                issued().with(c::callback, Value::Bytes(vec![0xc3])),
                "callback",
            ),
            (authorized().with(c::verifier, Value::Null), "user"),
            (authorized().with(c::user_admin, Value::Null), "user"),
            (
                authorized().with(c::failed_attempts, Value::Int(-1)),
                "failed_attempts",
            ),
            (
                authorized().with(c::failed_attempts, Value::Int(i64::from(u32::MAX) + 1)),
                "failed_attempts",
            ),
        ];
        for (row, column) in cases {
            let message = invalid_column(decode_request_token(&row));
            assert_eq!(message, format!("invalid stored value in column {column}"));
        }
        // A driver's error (a value of another type) is kept as the source.
        let wrong = issued().with(c::created_at, Value::Text("soon".into()));
        assert_eq!(invalid_column(decode_request_token(&wrong)), "wrong type");
    }

    #[test]
    fn invalid_access_token_rows_are_refused() {
        use access_tokens as c;
        let row = || Stored::of(&access_token_values(&every_access_token()[3], &None));
        let cases = [
            (row().with(c::user_id, Value::Null), "user_id"),
            (row().with(c::user_admin, Value::Null), "user_admin"),
            (
                row().with(c::revoked_at, Value::Int(i64::MIN)),
                "revoked_at",
            ),
            (
                row().with(c::expires_at, Value::Int(i64::MAX)),
                "expires_at",
            ),
            (
                row().with(c::authorization_expires_at, Value::Int(i64::MAX)),
                "authorization_expires_at",
            ),
            (
                row().with(c::scope, Value::Bytes(vec![b'a', 0x80])),
                "scope",
            ),
        ];
        for (row, column) in cases {
            let message = invalid_column(decode_access_token(&row));
            assert_eq!(message, format!("invalid stored value in column {column}"));
        }
    }

    #[test]
    fn migrations_pending_from_each_version() {
        const MIGRATIONS: &[&str] = &["one", "two", "three"];
        let pending = |current| pending_migrations(MIGRATIONS, current).map(Vec::from_iter);
        assert_eq!(pending(0).unwrap(), [(1, "one"), (2, "two"), (3, "three")]);
        assert_eq!(pending(2).unwrap(), [(3, "three")]);
        assert_eq!(pending(3).unwrap(), []);
        for newer in [4, -1] {
            let error = pending(newer).expect_err("a newer schema is refused");
            let message = error.source().map(ToString::to_string).unwrap_or_default();
            assert_eq!(
                message,
                format!("the database schema is version {newer}; this library knows up to 3")
            );
        }
    }

    #[test]
    fn lazy_purges_come_every_purge_every_inserts_of_each_kind() {
        let purge = LazyPurge::default();
        let due = |f: fn(&LazyPurge) -> bool| (0..2 * PURGE_EVERY).filter(|_| f(&purge)).count();
        assert_eq!(due(LazyPurge::request_token_due), 2);
        assert!(!purge.nonce_due(), "the counters are separate");
        let purge = LazyPurge::default();
        let first = (1..=PURGE_EVERY).find(|_| purge.nonce_due());
        assert_eq!(first, Some(PURGE_EVERY));
    }

    #[test]
    fn a_nonce_is_fresh_when_its_insert_changed_a_row() {
        assert_eq!(nonce_outcome(1), NonceOutcome::Fresh);
        assert_eq!(nonce_outcome(0), NonceOutcome::Replayed);
    }
}
