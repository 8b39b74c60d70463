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
        /// `model::secret_in_clear`, by name.
        #[cfg(feature = "serde")]
        #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
            }
        }

    };
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
