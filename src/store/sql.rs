//! What the SQL stores (SQLite, PostgreSQL) share: how tokens, their states
//! and nonces become columns, and the errors for what only an edited or
//! damaged database can hold. Each store keeps its own SQL and row reading.

use time::OffsetDateTime;

use crate::model::token::{RequestTokenState, StateTag};
use crate::model::user::User;
use crate::store::StoreError;

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
pub(crate) struct SchemaTooNew {
    pub(crate) found: i64,
    pub(crate) known: u32,
}

/// A time as stored: whole seconds since the Unix epoch.
pub(crate) fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A stored time, read back; an impossible one is an invalid `column`.
pub(crate) fn from_unix(secs: i64, column: &'static str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| invalid(column))
}

/// A request token's state as columns: (state, user fields, verifier,
/// failed_attempts).
pub(crate) struct StateColumns<'a> {
    pub(crate) name: &'static str,
    pub(crate) user: Option<&'a User>,
    pub(crate) verifier: Option<&'a str>,
    pub(crate) failed_attempts: i64,
}

/// The columns of `state`.
pub(crate) fn state_columns(state: &RequestTokenState) -> StateColumns<'_> {
    let plain = |name| StateColumns {
        name,
        user: None,
        verifier: None,
        failed_attempts: 0,
    };
    match state {
        RequestTokenState::Issued => plain("issued"),
        RequestTokenState::Authorized {
            user,
            verifier,
            failed_attempts,
        } => StateColumns {
            name: "authorized",
            user: Some(user),
            verifier: Some(verifier.secret()),
            failed_attempts: i64::from(*failed_attempts),
        },
        RequestTokenState::Exchanged => plain("exchanged"),
        RequestTokenState::Denied => plain("denied"),
        RequestTokenState::Burned => plain("burned"),
    }
}

/// The columns a compare-and-set compares: state name and failed attempts
/// (0 for every state but `authorized`).
pub(crate) fn tag_columns(tag: StateTag) -> (&'static str, i64) {
    match tag {
        StateTag::Issued => ("issued", 0),
        StateTag::Authorized { failed_attempts } => ("authorized", i64::from(failed_attempts)),
        StateTag::Exchanged => ("exchanged", 0),
        StateTag::Denied => ("denied", 0),
        StateTag::Burned => ("burned", 0),
    }
}

/// The `request_tokens` columns, in the order the stores read them.
pub(crate) const REQUEST_TOKEN_COLUMNS: &str = "token, secret, consumer_key, host, callback, \
    scope, display_name, created_at, expires_at, state, user_email, user_id, user_admin, \
    user_auth_domain, verifier, failed_attempts";

/// The `access_tokens` columns, in the order the stores read them.
pub(crate) const ACCESS_TOKEN_COLUMNS: &str = "token, secret, consumer_key, host, user_email, \
    user_id, user_admin, user_auth_domain, scope, created_at, revoked_at, expires_at, \
    session_handle, authorization_expires_at";
