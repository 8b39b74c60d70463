//! Secret values as newtypes: redacted in `Debug`, no `Display`, read only
//! through an explicit `.secret()`, wiped from memory on drop. With the
//! `serde` feature they deserialize, and serialize only through
//! `secret_in_clear`.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        /// In constant time (for equal lengths), as [`Self::ct_eq`].
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.ct_eq(&other.0)
            }
        }

        impl Eq for $name {}

        impl $name {
            /// Wraps a secret value.
            pub fn new(secret: impl Into<String>) -> Self {
                Self(secret.into())
            }

            /// The secret itself. Every call site is a place a secret leaves
            /// its wrapper: never log or display what it returns.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Compares with `other` in constant time (for equal lengths).
            pub fn ct_eq(&self, other: &str) -> bool {
                bool::from(self.0.as_bytes().ct_eq(other.as_bytes()))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        /// Reads the secret as a string (a configuration file, a store).
        /// There is no `Serialize`: writing a secret out takes
        /// [`secret_in_clear`], by name.
        #[cfg(feature = "serde")]
        #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
            }
        }

        #[cfg(feature = "serde")]
        impl secret_in_clear::sealed::Sealed for $name {
            fn expose(&self) -> &str {
                &self.0
            }
        }

        #[cfg(feature = "serde")]
        impl secret_in_clear::Secret for $name {}
    };
}

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod secret_in_clear {
    //! Serializes a secret **in the clear**: the one way a secret type is
    //! written out, for `#[serde(with = "oauth1_provider::model::secret_in_clear")]`.
    //!
    //! The secret types ([`ConsumerSecret`](crate::model::ConsumerSecret),
    //! [`TokenSecret`](crate::model::TokenSecret),
    //! [`Verifier`](crate::model::Verifier),
    //! [`SessionHandle`](crate::model::SessionHandle)) implement
    //! `Deserialize` but not `Serialize`, so that no struct that merely holds
    //! one — a log line, an API response, a host's own type with
    //! `#[derive(Serialize)]` — can write it out by accident: that does not
    //! compile. A struct that
    //! must persist a secret names this module on the field, where a
    //! reviewer sees it:
    //!
    //! ```
    //! use oauth1_provider::model::TokenSecret;
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
    //! ```
    //!
    //! The token records ([`RequestToken`](crate::model::RequestToken),
    //! [`AccessToken`](crate::model::AccessToken),
    //! [`Session`](crate::model::Session),
    //! [`RequestTokenState`](crate::model::RequestTokenState)) serialize their
    //! secrets through this module: they are what a store persists, and the
    //! provider needs a token's shared secret itself, not a hash of it, to
    //! verify an HMAC or PLAINTEXT signature. **Whatever a token record is
    //! serialized into holds its secrets in the clear** — a store's file or
    //! rows are credentials, to protect as such (access rights, encryption
    //! at rest, no copies in logs), and a record is serialized for the store
    //! only: to show a token, pick its fields.
    //!
    //! The value is written as a plain string; deserializing wraps it again
    //! (the deserializer's own buffers are not wiped).

    /// A secret type of this crate (sealed: implemented by
    /// [`ConsumerSecret`](crate::model::ConsumerSecret),
    /// [`TokenSecret`](crate::model::TokenSecret),
    /// [`Verifier`](crate::model::Verifier) and
    /// [`SessionHandle`](crate::model::SessionHandle) only).
    pub trait Secret: sealed::Sealed + for<'de> serde::Deserialize<'de> {}

    pub(super) mod sealed {
        pub trait Sealed {
            /// The secret, for [`super::serialize`] only.
            fn expose(&self) -> &str;
        }
    }

    /// Writes `secret` as a plain string, in the clear.
    pub fn serialize<T: Secret, S: serde::Serializer>(
        secret: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose())
    }

    /// Reads a secret written by [`serialize`] (a plain string).
    pub fn deserialize<'de, T: Secret, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

secret_type!(
    /// A consumer's shared secret (the client credentials secret, RFC 5849 §1.1).
    ConsumerSecret
);
secret_type!(
    /// A token's shared secret (temporary or token credentials, RFC 5849 §2).
    TokenSecret
);
secret_type!(
    /// The verifier given to the user on approval (RFC 5849 §2.2).
    Verifier
);
secret_type!(
    /// An OAuth Session extension handle (`oauth_session_handle`): with the
    /// expiring access token, it gets a fresh one.
    SessionHandle
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_comparison_exact() {
        let s = ConsumerSecret::new("hunter2");
        assert_eq!(format!("{s:?}"), "ConsumerSecret([redacted])");
        assert!(s.ct_eq("hunter2"));
        assert!(!s.ct_eq("hunter3"));
        assert!(!s.ct_eq("hunter"));
        assert_eq!(s.secret(), "hunter2");
        assert_eq!(s, ConsumerSecret::new("hunter2"));
        assert_ne!(s, ConsumerSecret::new("hunter3"));
        assert_ne!(s, ConsumerSecret::new("hunter22"));
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use std::marker::PhantomData;

    use super::*;

    /// `Probe::<T>::SERIALIZE` is true exactly when `T: Serialize` (the
    /// inherent constant wins when its bound holds, else the trait's).
    struct Probe<T>(PhantomData<T>);
    trait NotSerialize {
        const SERIALIZE: bool = false;
    }
    impl<T> NotSerialize for Probe<T> {}
    impl<T: serde::Serialize> Probe<T> {
        const SERIALIZE: bool = true;
    }

    // Checked at compile time: implementing `Serialize` on a secret type
    // fails the build of the tests.
    const _: () = {
        assert!(Probe::<String>::SERIALIZE, "the probe detects Serialize");
        assert!(!Probe::<ConsumerSecret>::SERIALIZE);
        assert!(!Probe::<TokenSecret>::SERIALIZE);
        assert!(!Probe::<Verifier>::SERIALIZE);
        assert!(!Probe::<SessionHandle>::SERIALIZE);
    };

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Row {
        #[serde(with = "secret_in_clear")]
        consumer: ConsumerSecret,
        #[serde(with = "secret_in_clear")]
        token: TokenSecret,
        #[serde(with = "secret_in_clear")]
        verifier: Verifier,
        #[serde(with = "secret_in_clear")]
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
