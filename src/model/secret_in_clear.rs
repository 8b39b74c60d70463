//! Serializes secrets **in the clear**: the one way a secret, or a record
//! that holds one, is written out — by name, where a reviewer sees it.
//!
//! The secret types ([`ConsumerSecret`],
//! [`TokenSecret`],
//! [`Verifier`],
//! [`SessionHandle`]) and the records that
//! hold them ([`RequestToken`],
//! [`RequestTokenState`],
//! [`AccessToken`],
//! [`Session`]) implement `Deserialize` but not
//! `Serialize`, so that nothing that merely holds one — a log line, an API
//! response listing a user's tokens, a host's own type with
//! `#[derive(Serialize)]` — can write a secret out by accident: that does
//! not compile. A store that must persist them says so, on the field:
//!
//! ```
//! use std::collections::HashMap;
//!
//! use oauth1_provider::model::{AccessToken, TokenSecret};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Row {
//!     token: String,
//!     #[serde(with = "oauth1_provider::model::secret_in_clear")]
//!     secret: TokenSecret,
//! }
//!
//! let row = Row { token: "t".into(), secret: TokenSecret::new("s3cret") };
//! let json = serde_json::to_string(&row).unwrap();
//! assert_eq!(json, r#"{"token":"t","secret":"s3cret"}"#);
//! let back: Row = serde_json::from_str(&json).unwrap();
//! assert_eq!(format!("{:?}", back.secret), "TokenSecret([redacted])");
//!
//! // Records, and maps, vectors and options of them, the same way:
//! #[derive(Default, serde::Serialize, serde::Deserialize)]
//! struct File {
//!     #[serde(with = "oauth1_provider::model::secret_in_clear")]
//!     access: HashMap<String, AccessToken>,
//! }
//! let json = serde_json::to_string(&File::default()).unwrap();
//! assert_eq!(json, r#"{"access":{}}"#);
//! ```
//!
//! A value on its own (one record per key of a key-value store) is written
//! through [`Clear`]: `serde_json::to_vec(&Clear(&token))`.
//!
//! The provider needs a token's shared secret itself, not a hash of it, to
//! verify an HMAC or PLAINTEXT signature: **whatever a record is serialized
//! into holds its secrets in the clear** — a store's file or rows are
//! credentials, to protect as such (access rights, encryption at rest, no
//! copies in logs). To show a token, pick its fields.
//!
//! Records are written with their field names, times as RFC 3339 strings
//! (to the nanosecond, years 0–9999), enum variants `snake_case`, secrets as
//! plain strings; they read back equal. Deserializing wraps the secrets
//! again (the deserializer's own buffers are not wiped).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::model::grant::Granted;
use crate::model::secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
use crate::model::token::{
    AccessToken, AccessTokenState, Callback, RequestToken, RequestTokenState, Session,
};
use crate::model::user::User;

/// What this module writes in the clear (sealed): the secret types, the
/// records that hold them, and `Option`s, `Vec`s, `HashMap`s and `BTreeMap`s
/// of those.
pub trait InClear: sealed::Sealed + DeserializeOwned {}

pub(crate) mod sealed {
    pub trait Sealed {
        /// Writes the value, its secrets in the clear.
        fn serialize_in_clear<S: serde::Serializer>(
            &self,
            serializer: S,
        ) -> Result<S::Ok, S::Error>;
    }
}

use sealed::Sealed;

/// A value written with its secrets in the clear, for a value serialized on
/// its own: `serde_json::to_vec(&Clear(&token))`.
pub struct Clear<'a, T: ?Sized>(pub &'a T);

impl<T: InClear> Serialize for Clear<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_in_clear(serializer)
    }
}

/// Writes `value` with its secrets in the clear
/// (`#[serde(with = "oauth1_provider::model::secret_in_clear")]`).
pub fn serialize<T: InClear, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    value.serialize_in_clear(serializer)
}

/// Reads a value written by [`serialize`].
pub fn deserialize<'de, T: InClear, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}

macro_rules! secret_in_clear {
    ($($name:ident),*) => {$(
        impl Sealed for $name {
            fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.secret())
            }
        }
        impl InClear for $name {}
    )*};
}

secret_in_clear!(ConsumerSecret, TokenSecret, Verifier, SessionHandle);

impl<T: InClear> Sealed for Option<T> {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_ref().map(Clear).serialize(serializer)
    }
}
impl<T: InClear> InClear for Option<T> {}

impl<T: InClear> Sealed for Vec<T> {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Clear))
    }
}
impl<T: InClear> InClear for Vec<T> {}

impl<K: Serialize + DeserializeOwned + Eq + Hash, T: InClear> Sealed for HashMap<K, T> {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter().map(|(k, v)| (k, Clear(v))))
    }
}
impl<K: Serialize + DeserializeOwned + Eq + Hash, T: InClear> InClear for HashMap<K, T> {}

impl<K: Serialize + DeserializeOwned + Ord, T: InClear> Sealed for BTreeMap<K, T> {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter().map(|(k, v)| (k, Clear(v))))
    }
}
impl<K: Serialize + DeserializeOwned + Ord, T: InClear> InClear for BTreeMap<K, T> {}

// The records' written form: borrowed mirrors of their fields, in the shape
// their derived `Deserialize` reads.

#[derive(Serialize)]
#[serde(rename = "RequestToken")]
struct RequestTokenOut<'a> {
    token: &'a str,
    secret: Clear<'a, TokenSecret>,
    consumer_key: &'a str,
    host: &'a str,
    callback: &'a Callback,
    scope: &'a Option<String>,
    grants: &'a Granted,
    display_name: &'a Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    state: Clear<'a, RequestTokenState>,
}

#[derive(Serialize)]
#[serde(rename = "RequestTokenState", rename_all = "snake_case")]
enum RequestTokenStateOut<'a> {
    Issued,
    Authorized {
        user: &'a User,
        verifier: Clear<'a, Verifier>,
        failed_attempts: u32,
    },
    Exchanged,
    Denied,
    Burned,
}

#[derive(Serialize)]
#[serde(rename = "Session")]
struct SessionOut<'a> {
    handle: Clear<'a, SessionHandle>,
    #[serde(with = "time::serde::rfc3339::option")]
    authorization_expires_at: Option<OffsetDateTime>,
}

#[derive(Serialize)]
#[serde(rename = "AccessToken")]
struct AccessTokenOut<'a> {
    token: &'a str,
    secret: Clear<'a, TokenSecret>,
    consumer_key: &'a str,
    host: &'a str,
    user: &'a User,
    scope: &'a Option<String>,
    grants: &'a Granted,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    session: Option<Clear<'a, Session>>,
    state: &'a AccessTokenState,
}

impl Sealed for RequestToken {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RequestTokenOut {
            token: &self.token,
            secret: Clear(&self.secret),
            consumer_key: &self.consumer_key,
            host: &self.host,
            callback: &self.callback,
            scope: &self.scope,
            grants: &self.grants,
            display_name: &self.display_name,
            created_at: self.created_at,
            expires_at: self.expires_at,
            state: Clear(&self.state),
        }
        .serialize(serializer)
    }
}
impl InClear for RequestToken {}

impl Sealed for RequestTokenState {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Issued => RequestTokenStateOut::Issued,
            Self::Authorized {
                user,
                verifier,
                failed_attempts,
            } => RequestTokenStateOut::Authorized {
                user,
                verifier: Clear(verifier),
                failed_attempts: *failed_attempts,
            },
            Self::Exchanged => RequestTokenStateOut::Exchanged,
            Self::Denied => RequestTokenStateOut::Denied,
            Self::Burned => RequestTokenStateOut::Burned,
        }
        .serialize(serializer)
    }
}
impl InClear for RequestTokenState {}

impl Sealed for Session {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SessionOut {
            handle: Clear(&self.handle),
            authorization_expires_at: self.authorization_expires_at,
        }
        .serialize(serializer)
    }
}
impl InClear for Session {}

impl Sealed for AccessToken {
    fn serialize_in_clear<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AccessTokenOut {
            token: &self.token,
            secret: Clear(&self.secret),
            consumer_key: &self.consumer_key,
            host: &self.host,
            user: &self.user,
            scope: &self.scope,
            grants: &self.grants,
            created_at: self.created_at,
            expires_at: self.expires_at,
            session: self.session.as_ref().map(Clear),
            state: &self.state,
        }
        .serialize(serializer)
    }
}
impl InClear for AccessToken {}

#[cfg(test)]
mod tests {
    use std::marker::PhantomData;

    use super::*;

    /// `Probe::<T>::SERIALIZE` is true exactly when `T: Serialize` (the
    /// inherent constant wins when its bound holds, else the trait's).
    struct Probe<T>(PhantomData<T>);
    trait NotSerialize {
        const SERIALIZE: bool = false;
    }
    impl<T> NotSerialize for Probe<T> {}
    impl<T: Serialize> Probe<T> {
        const SERIALIZE: bool = true;
    }

    // Checked at compile time: a secret, or a record that holds one, is
    // written only through this module, never by a plain `Serialize`.
    const _: () = {
        assert!(Probe::<User>::SERIALIZE, "the probe detects Serialize");
        assert!(Probe::<Clear<'static, AccessToken>>::SERIALIZE);
        assert!(!Probe::<ConsumerSecret>::SERIALIZE);
        assert!(!Probe::<TokenSecret>::SERIALIZE);
        assert!(!Probe::<Verifier>::SERIALIZE);
        assert!(!Probe::<SessionHandle>::SERIALIZE);
        assert!(!Probe::<RequestToken>::SERIALIZE);
        assert!(!Probe::<RequestTokenState>::SERIALIZE);
        assert!(!Probe::<AccessToken>::SERIALIZE);
        assert!(!Probe::<Session>::SERIALIZE);
        assert!(!Probe::<Vec<AccessToken>>::SERIALIZE);
    };

    #[test]
    fn containers_write_each_record_in_the_clear_and_read_back() {
        let token = AccessToken {
            token: "at".into(),
            secret: TokenSecret::new("at-secret"),
            consumer_key: "ck".into(),
            host: "example.com".into(),
            user: User::new("ada@example.com", "u-1"),
            scope: None,
            grants: Granted::WholeApp,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: None,
            session: None,
            state: AccessTokenState::Active,
        };
        let map = HashMap::from([("k".to_owned(), token.clone())]);
        let tree = BTreeMap::from([("k".to_owned(), token.clone())]);
        let (list, some, none) = (
            vec![token.clone()],
            Some(token.clone()),
            None::<AccessToken>,
        );
        let one = serde_json::to_value(Clear(&token)).unwrap();
        assert_eq!(one["secret"], "at-secret");
        assert_eq!(
            serde_json::to_value(Clear(&map)).unwrap(),
            serde_json::json!({"k": one})
        );
        assert_eq!(
            serde_json::to_value(Clear(&tree)).unwrap(),
            serde_json::json!({"k": one})
        );
        assert_eq!(
            serde_json::to_value(Clear(&list)).unwrap(),
            serde_json::json!([one])
        );
        assert_eq!(serde_json::to_value(Clear(&some)).unwrap(), one);
        assert_eq!(
            serde_json::to_value(Clear(&none)).unwrap(),
            serde_json::Value::Null
        );
        let text = serde_json::to_string(&Clear(&map)).unwrap();
        assert_eq!(
            serde_json::from_str::<HashMap<String, AccessToken>>(&text).unwrap(),
            map
        );
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Row {
        #[serde(with = "super")]
        consumer: ConsumerSecret,
        #[serde(with = "super")]
        token: TokenSecret,
        #[serde(with = "super")]
        verifier: Verifier,
        #[serde(with = "super")]
        handle: SessionHandle,
    }

    #[test]
    fn secret_in_clear_round_trips_and_debug_stays_redacted() {
        let row = Row {
            consumer: ConsumerSecret::new("c-secret"),
            token: TokenSecret::new("t-secret ü&="),
            verifier: Verifier::new("v-secret"),
            handle: SessionHandle::new("h-secret"),
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(
            json,
            r#"{"consumer":"c-secret","token":"t-secret ü&=","verifier":"v-secret","handle":"h-secret"}"#
        );
        let back: Row = serde_json::from_str(&json).unwrap();
        assert_eq!(back.consumer, row.consumer);
        assert_eq!(back.token, row.token);
        assert_eq!(back.verifier, row.verifier);
        assert_eq!(back.handle, row.handle);
        assert_eq!(format!("{:?}", back.token), "TokenSecret([redacted])");
        assert_eq!(format!("{:?}", back.handle), "SessionHandle([redacted])");
    }

    #[test]
    fn secrets_deserialize_from_a_plain_string() {
        let secret: ConsumerSecret = serde_json::from_str(r#""from-config""#).unwrap();
        assert!(secret.ct_eq("from-config"));
        assert!(serde_json::from_str::<ConsumerSecret>("42").is_err());
    }
}

#[cfg(test)]
mod round_trips {
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::json;
    use time::{Duration, OffsetDateTime};

    use super::{Clear, InClear};
    use crate::model::grant::Granted;
    use crate::model::secret::{SessionHandle, TokenSecret, Verifier};
    use crate::model::token::*;
    use crate::model::user::User;

    /// Serializes `value`, checks the JSON is `expected`, and reads it back
    /// equal (through a string, as a store would).
    fn round_trip<T>(value: &T, expected: serde_json::Value)
    where
        T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        round_trip_as(value, value, expected);
    }

    /// [`round_trip`] for a record with a secret, written through `Clear`.
    fn round_trip_clear<T>(value: &T, expected: serde_json::Value)
    where
        T: InClear + PartialEq + std::fmt::Debug,
    {
        round_trip_as(&Clear(value), value, expected);
    }

    fn round_trip_as<T>(written: &impl Serialize, value: &T, expected: serde_json::Value)
    where
        T: DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_value(written).unwrap(), expected);
        let text = serde_json::to_string(written).unwrap();
        assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), value);
    }

    /// A time with nanoseconds, which RFC 3339 keeps.
    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
            + Duration::nanoseconds(123_456_789)
    }

    fn user() -> User {
        User::new("ada@example.com", "u-1").admin(true)
    }

    fn user_json() -> serde_json::Value {
        json!({"email": "ada@example.com", "user_id": "u-1", "admin": true, "auth_domain": "example.com"})
    }

    fn request_token(state: RequestTokenState) -> RequestToken {
        RequestToken {
            token: "rt".into(),
            secret: TokenSecret::new("rt-secret"),
            consumer_key: "ck".into(),
            host: "example.com:8080".into(),
            callback: Callback::Url("https://client.example/cb?x=1".into()),
            scope: Some("feeds ü".into()),
            grants: Granted::only(["photos.read"]),
            display_name: None,
            created_at: now(),
            expires_at: now() + Duration::minutes(10),
            state,
        }
    }

    #[test]
    fn user_callback_and_tags_round_trip() {
        round_trip(&user(), user_json());
        round_trip(&Callback::Oob, json!("oob"));
        round_trip(&Callback::Url("oob-not".into()), json!({"url": "oob-not"}));
        // A URL that reads "oob" stays a URL: the enum is written, not `as_str`.
        round_trip(&Callback::Url("oob".into()), json!({"url": "oob"}));
        round_trip(&StateTag::Issued, json!("issued"));
        round_trip(
            &StateTag::Authorized { failed_attempts: 2 },
            json!({"authorized": {"failed_attempts": 2}}),
        );
        round_trip(&StateTag::Exchanged, json!("exchanged"));
        round_trip(&StateTag::Denied, json!("denied"));
        round_trip(&StateTag::Burned, json!("burned"));
    }

    #[test]
    fn a_request_token_round_trips_in_every_state() {
        let issued = request_token(RequestTokenState::Issued);
        round_trip_clear(
            &issued,
            json!({
                "token": "rt",
                "secret": "rt-secret",
                "consumer_key": "ck",
                "host": "example.com:8080",
                "callback": {"url": "https://client.example/cb?x=1"},
                "scope": "feeds ü",
                "grants": {"only": ["photos.read"]},
                "display_name": null,
                "created_at": "2023-11-14T22:13:20.123456789Z",
                "expires_at": "2023-11-14T22:23:20.123456789Z",
                "state": "issued",
            }),
        );
        let authorized = issued
            .approve(user(), Verifier::new("the-verifier"), now())
            .unwrap();
        let counted = authorized.exchange("wrong", 3, now()).unwrap().unwrap_err();
        let (exchanged, _) = authorized
            .exchange("the-verifier", 3, now())
            .unwrap()
            .unwrap();
        let cases = [
            (
                authorized.state.clone(),
                json!({"authorized": {"user": user_json(), "verifier": "the-verifier", "failed_attempts": 0}}),
            ),
            (
                counted.state.clone(),
                json!({"authorized": {"user": user_json(), "verifier": "the-verifier", "failed_attempts": 1}}),
            ),
            (exchanged.state.clone(), json!("exchanged")),
            (issued.deny(now()).unwrap().state, json!("denied")),
            (RequestTokenState::Burned, json!("burned")),
        ];
        for (state, expected) in cases {
            round_trip_clear(&state, expected);
            let token = request_token(state);
            let text = serde_json::to_string(&Clear(&token)).unwrap();
            let back: RequestToken = serde_json::from_str(&text).unwrap();
            assert_eq!(back, token);
            assert_eq!(back.state.tag(), token.state.tag());
        }
    }

    #[test]
    fn an_access_token_round_trips_active_revoked_and_with_a_session() {
        let active = AccessToken {
            token: "at".into(),
            secret: TokenSecret::new("at-secret"),
            consumer_key: "ck".into(),
            host: "example.com".into(),
            user: user(),
            scope: None,
            grants: Granted::WholeApp,
            created_at: now(),
            expires_at: None,
            session: None,
            state: AccessTokenState::Active,
        };
        round_trip_clear(
            &active,
            json!({
                "token": "at",
                "secret": "at-secret",
                "consumer_key": "ck",
                "host": "example.com",
                "user": user_json(),
                "scope": null,
                "grants": "whole_app",
                "created_at": "2023-11-14T22:13:20.123456789Z",
                "expires_at": null,
                "session": null,
                "state": "active",
            }),
        );
        // Written before grants existed: the whole app, as then.
        let mut older = serde_json::to_value(Clear(&active)).unwrap();
        older.as_object_mut().unwrap().remove("grants");
        let older: AccessToken = serde_json::from_value(older).unwrap();
        assert_eq!(older.grants, Granted::WholeApp);
        let revoked = active.revoke(now() + Duration::hours(1));
        round_trip(
            &revoked.state,
            json!({"revoked": {"at": "2023-11-14T23:13:20.123456789Z"}}),
        );
        let text = serde_json::to_string(&Clear(&revoked)).unwrap();
        assert_eq!(serde_json::from_str::<AccessToken>(&text).unwrap(), revoked);

        for authorization_expires_at in [None, Some(now() + Duration::days(1))] {
            let session = Session {
                handle: SessionHandle::new("handle-secret"),
                authorization_expires_at,
            };
            let with_session = AccessToken {
                expires_at: Some(now() + Duration::hours(1)),
                session: Some(session.clone()),
                ..active.clone()
            };
            let value = serde_json::to_value(Clear(&with_session)).unwrap();
            assert_eq!(value["session"]["handle"], "handle-secret");
            assert_eq!(value["expires_at"], "2023-11-14T23:13:20.123456789Z");
            let text = serde_json::to_string(&Clear(&with_session)).unwrap();
            assert_eq!(
                serde_json::from_str::<AccessToken>(&text).unwrap(),
                with_session
            );
            let text = serde_json::to_string(&Clear(&session)).unwrap();
            assert_eq!(serde_json::from_str::<Session>(&text).unwrap(), session);
        }
    }

    #[test]
    fn optional_fields_may_be_absent_and_debug_stays_redacted() {
        let text = r#"{"token":"at","secret":"at-secret","consumer_key":"ck",
            "host":"example.com","user":{"email":"a@b","user_id":"1","admin":false,
            "auth_domain":"b"},"created_at":"2023-11-14T22:13:20Z","state":"active"}"#;
        let token: AccessToken = serde_json::from_str(text).unwrap();
        assert_eq!(
            (
                token.scope.as_deref(),
                token.expires_at,
                token.session.as_ref()
            ),
            (None, None, None)
        );
        assert!(token.secret.ct_eq("at-secret"));
        let debug = format!("{token:?}");
        assert!(debug.contains("TokenSecret([redacted])"), "{debug}");
        assert!(!debug.contains("at-secret"), "{debug}");

        let authorized = request_token(RequestTokenState::Issued)
            .approve(user(), Verifier::new("the-verifier"), now())
            .unwrap();
        let text = serde_json::to_string(&Clear(&authorized)).unwrap();
        let debug = format!("{:?}", serde_json::from_str::<RequestToken>(&text).unwrap());
        assert!(
            !debug.contains("rt-secret") && !debug.contains("the-verifier"),
            "{debug}"
        );
        assert!(debug.contains("Verifier([redacted])"), "{debug}");
    }
}
