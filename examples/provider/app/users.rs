//! The site's user accounts: passwords hashed with Argon2id at start-up,
//! verified in constant work whether or not the email is known.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use oauth1_provider::User;

use super::config::UserSpec;
use super::random_bytes;

struct Account {
    user: User,
    password_hash: String,
}

pub(super) struct Users {
    accounts: HashMap<String, Account>,
    /// Verified against for unknown emails, so that they take as long.
    dummy_hash: String,
}

impl Users {
    pub(super) fn new(specs: &[UserSpec], params: argon2::Params) -> Result<Self, String> {
        let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut accounts = HashMap::new();
        for spec in specs {
            let user = User::new(&spec.email, user_id(&spec.email)).admin(spec.admin);
            let password_hash = hash_password(&hasher, &spec.password)?;
            accounts.insert(
                spec.email.clone(),
                Account {
                    user,
                    password_hash,
                },
            );
        }
        Ok(Self {
            accounts,
            dummy_hash: hash_password(&hasher, "not anyone's password")?,
        })
    }

    pub(super) fn get(&self, email: &str) -> Option<&User> {
        self.accounts.get(email).map(|a| &a.user)
    }

    /// The user, if the password is hers. Always verifies one hash.
    pub(super) fn verify(&self, email: &str, password: &str) -> Option<User> {
        let account = self.accounts.get(&normalized_email(email));
        let hash = account.map_or(self.dummy_hash.as_str(), |a| &a.password_hash);
        let ok = PasswordHash::new(hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        account.filter(|_| ok).map(|a| a.user.clone())
    }
}

/// An email as accounts are keyed: trimmed, lower-cased.
pub(super) fn normalized_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// Argon2id with a random salt, as a PHC string (which records the
/// parameters, so verifying needs no configuration).
fn hash_password(hasher: &Argon2<'_>, password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| e.to_string())?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// A stable numeric user id derived from the email, like App Engine's.
pub(super) fn user_id(email: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(email.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 1).to_string()
}
