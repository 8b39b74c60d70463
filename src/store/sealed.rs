//! Secrets at rest: with a [`ServerKey`], the SQL stores write every
//! secret a client holds — consumer secrets, token secrets, verifiers,
//! session handles — sealed with XChaCha20-Poly1305 (random 192-bit nonce,
//! the column and the row's key as associated data), so that a copy of the
//! database alone cannot forge a signature, and a sealed value moved to
//! another row or column does not open.
//!
//! Why encryption and not MediaWiki's derivation (the secret in use is
//! HMAC(server key, stored value)): a derived secret cannot be a secret the
//! host chose (a consumer configured with its own secret), and the provider
//! needs each secret itself to verify an HMAC or PLAINTEXT signature, so a
//! one-way hash cannot do either. Sealing covers every secret alike and
//! costs one AEAD opening per record read — nothing next to the database
//! round trip that read it.
//!
//! A value is written as `sealed:v1:` and the base64url of nonce ‖
//! ciphertext ‖ tag. Reading, a sealed value needs the key (else a
//! [`StoreError`]). A plain value is refused too: whoever can write to the
//! database could otherwise plant a token or consumer with a secret they
//! know. A database written before the key was configured is opened with
//! `with_server_key_accepting_unsealed`, which reads plain values as they
//! are and seals each record the next time it is written.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::TryRng as _;
use rand::rngs::SysRng;
use zeroize::{Zeroize, Zeroizing};

use crate::model::consumer::Consumer;
use crate::model::secret::{ConsumerSecret, SessionHandle, TokenSecret, Verifier};
use crate::model::token::{AccessToken, RequestToken, RequestTokenState};
use crate::store::StoreError;

/// What every sealed value starts with.
const PREFIX: &str = "sealed:v1:";

/// The key the SQL stores seal secrets with: 32 random bytes, kept out of
/// the database (a file readable by the app only, a secret manager, an
/// environment variable). Losing it loses every sealed secret: every
/// client must be registered and authorized again.
///
/// `Debug` shows nothing of it; it is wiped from memory on drop.
#[derive(Clone)]
pub struct ServerKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey([redacted])")
    }
}

/// A server key that is not 64 hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a server key is 64 hexadecimal digits (32 bytes)")]
pub struct InvalidServerKey;

impl ServerKey {
    /// A key of these bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A key from 64 hexadecimal digits (surrounding whitespace ignored, as
    /// in a key file ending with a newline).
    pub fn from_hex(hex: &str) -> Result<Self, InvalidServerKey> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return Err(InvalidServerKey);
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks(2)) {
            let digit = |c: u8| (c as char).to_digit(16).ok_or(InvalidServerKey);
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?)
                .map_err(|_| InvalidServerKey)?;
        }
        Ok(Self(bytes))
    }

    /// A new random key from the operating system's random source.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SysRng
            .try_fill_bytes(&mut *bytes)
            .map_err(|_| StoreError::new("the operating system's random source failed"))?;
        Ok(Self(bytes))
    }

    /// The key as 64 lowercase hexadecimal digits, to save it.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut hex = Zeroizing::new(String::with_capacity(64));
        for byte in self.0.iter() {
            hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
            hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
        }
        hex
    }
}

/// Seals and opens a store's secrets with its [`ServerKey`].
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
    /// Whether a value that is not sealed is refused (else read as it is:
    /// a database written before the key was configured).
    strict: bool,
}

impl Sealer {
    /// A sealer that refuses unsealed values when `strict`.
    pub(crate) fn new(key: &ServerKey, strict: bool) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&(*key.0).into()),
            strict,
        }
    }

    /// `secret` sealed for `column` of the row `row`.
    fn seal(&self, column: &str, row: &str, secret: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; 24];
        SysRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| StoreError::new("the operating system's random source failed"))?;
        let aad = associated_data(column, row);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: &aad,
        };
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| StoreError::new("sealing a secret failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes)))
    }
}

fn associated_data(column: &str, row: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(column.len() + row.len() + 1);
    aad.extend_from_slice(column.as_bytes());
    aad.push(0);
    aad.extend_from_slice(row.as_bytes());
    aad
}

/// A sealed value that does not open: another key, another row or column,
/// or damage.
#[derive(Debug, thiserror::Error)]
#[error(
    "the sealed secret in column {column} does not open with this store's server key (another \
     key, or a value moved or damaged)"
)]
struct DoesNotOpen {
    column: &'static str,
}

/// A plain value read by a store that requires every secret sealed.
#[derive(Debug, thiserror::Error)]
#[error(
    "column {column} holds a secret that is not sealed, and this store requires sealed secrets \
     (open it with_server_key_accepting_unsealed while a database written without a key is \
     sealed row by row)"
)]
struct NotSealed {
    column: &'static str,
}

/// A sealed value read by a store with no server key.
#[derive(Debug, thiserror::Error)]
#[error("column {column} holds a sealed secret, and this store has no server key to open it")]
struct NoServerKey {
    column: &'static str,
}

/// `stored`, opened if it is sealed.
fn open(
    sealer: Option<&Sealer>,
    column: &'static str,
    row: &str,
    stored: &str,
) -> Result<Option<Zeroizing<String>>, StoreError> {
    let Some(sealed) = stored.strip_prefix(PREFIX) else {
        // A plain value in a strict store was written by someone else than
        // this library: one who can write to the database and wants a
        // secret they know to be used.
        if sealer.is_some_and(|s| s.strict) && !stored.is_empty() {
            return Err(StoreError::new(NotSealed { column }));
        }
        return Ok(None);
    };
    let sealer = sealer.ok_or_else(|| StoreError::new(NoServerKey { column }))?;
    let fail = || StoreError::new(DoesNotOpen { column });
    let mut bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| fail())?;
    if bytes.len() < 24 {
        return Err(fail());
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let nonce = XNonce::try_from(nonce).map_err(|_| fail())?;
    let aad = associated_data(column, row);
    let payload = Payload {
        msg: ciphertext,
        aad: &aad,
    };
    let opened = sealer.cipher.decrypt(&nonce, payload).map_err(|_| fail());
    bytes.zeroize();
    let opened = Zeroizing::new(opened?);
    let text = std::str::from_utf8(&opened).map_err(|_| fail())?;
    Ok(Some(Zeroizing::new(text.to_owned())))
}

/// The secret types, as this module replaces their values.
trait SecretValue {
    fn value(&self) -> &str;
    fn wrap(value: &str) -> Self;
}

macro_rules! secret_value {
    ($($name:ident),*) => {$(
        impl SecretValue for $name {
            fn value(&self) -> &str {
                self.secret()
            }
            fn wrap(value: &str) -> Self {
                Self::new(value)
            }
        }
    )*};
}

secret_value!(ConsumerSecret, TokenSecret, Verifier, SessionHandle);

/// Replaces `field` with its value sealed for `column` of the row `row`.
fn seal_in<T: SecretValue>(
    sealer: &Sealer,
    column: &'static str,
    row: &str,
    field: &mut T,
) -> Result<(), StoreError> {
    *field = T::wrap(&sealer.seal(column, row, field.value())?);
    Ok(())
}

/// Replaces `field`, if sealed, with its opened value.
fn open_in<T: SecretValue>(
    sealer: Option<&Sealer>,
    column: &'static str,
    row: &str,
    field: &mut T,
) -> Result<(), StoreError> {
    if let Some(opened) = open(sealer, column, row, field.value())? {
        *field = T::wrap(opened.as_str());
    }
    Ok(())
}

const RT_SECRET: &str = "oauth1_request_tokens.secret";
const RT_VERIFIER: &str = "oauth1_request_tokens.verifier";
const AT_SECRET: &str = "oauth1_access_tokens.secret";
const AT_HANDLE: &str = "oauth1_access_tokens.session_handle";
const CT_SECRET: &str = "oauth1_consumers.secret";
const CT_GRACE: &str = "oauth1_consumers.grace_secret";

/// The request token as written: its secret and verifier sealed.
pub(crate) fn seal_request_token<'a>(
    sealer: Option<&Sealer>,
    t: &'a RequestToken,
) -> Result<Cow<'a, RequestToken>, StoreError> {
    let Some(sealer) = sealer else {
        return Ok(Cow::Borrowed(t));
    };
    let mut t = t.clone();
    seal_in(sealer, RT_SECRET, &t.token, &mut t.secret)?;
    if let RequestTokenState::Authorized { verifier, .. } = &mut t.state {
        seal_in(sealer, RT_VERIFIER, &t.token, verifier)?;
    }
    Ok(Cow::Owned(t))
}

/// The request token as read, its sealed values opened.
pub(crate) fn open_request_token(
    sealer: Option<&Sealer>,
    mut t: RequestToken,
) -> Result<RequestToken, StoreError> {
    open_in(sealer, RT_SECRET, &t.token, &mut t.secret)?;
    if let RequestTokenState::Authorized { verifier, .. } = &mut t.state {
        open_in(sealer, RT_VERIFIER, &t.token, verifier)?;
    }
    Ok(t)
}

/// The access token as written: its secret and session handle sealed.
pub(crate) fn seal_access_token<'a>(
    sealer: Option<&Sealer>,
    t: &'a AccessToken,
) -> Result<Cow<'a, AccessToken>, StoreError> {
    let Some(sealer) = sealer else {
        return Ok(Cow::Borrowed(t));
    };
    let mut t = t.clone();
    seal_in(sealer, AT_SECRET, &t.token, &mut t.secret)?;
    if let Some(session) = &mut t.session {
        seal_in(sealer, AT_HANDLE, &t.token, &mut session.handle)?;
    }
    Ok(Cow::Owned(t))
}

/// The access token as read, its sealed values opened.
pub(crate) fn open_access_token(
    sealer: Option<&Sealer>,
    mut t: AccessToken,
) -> Result<AccessToken, StoreError> {
    open_in(sealer, AT_SECRET, &t.token, &mut t.secret)?;
    if let Some(session) = &mut t.session {
        open_in(sealer, AT_HANDLE, &t.token, &mut session.handle)?;
    }
    Ok(t)
}

/// The consumer as written: its secret and grace secret sealed (an RSA
/// consumer's empty secret stays empty).
pub(crate) fn seal_consumer<'a>(
    sealer: Option<&Sealer>,
    c: &'a Consumer,
) -> Result<Cow<'a, Consumer>, StoreError> {
    let Some(sealer) = sealer else {
        return Ok(Cow::Borrowed(c));
    };
    let mut c = c.clone();
    if !c.secret.secret().is_empty() {
        seal_in(sealer, CT_SECRET, &c.key, &mut c.secret)?;
    }
    if let Some(grace) = &mut c.grace_secret {
        seal_in(sealer, CT_GRACE, &c.key, grace)?;
    }
    Ok(Cow::Owned(c))
}

/// The consumer as read, its secret and grace secret opened.
pub(crate) fn open_consumer(
    sealer: Option<&Sealer>,
    mut c: Consumer,
) -> Result<Consumer, StoreError> {
    open_in(sealer, CT_SECRET, &c.key, &mut c.secret)?;
    if let Some(grace) = &mut c.grace_secret {
        open_in(sealer, CT_GRACE, &c.key, grace)?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ServerKey {
        ServerKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_row_and_column() {
        let sealer = Sealer::new(&key(1), false);
        let sealed = sealer.seal("t.secret", "row-1", "s3cret ü").unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("s3cret"));
        let opened = open(Some(&sealer), "t.secret", "row-1", &sealed).unwrap();
        assert_eq!(opened.as_deref().map(String::as_str), Some("s3cret ü"));
        // Random nonces: the same secret seals differently each time.
        assert_ne!(
            sealed,
            sealer.seal("t.secret", "row-1", "s3cret ü").unwrap()
        );
        let other = Sealer::new(&key(2), false);
        for (sealer, column, row) in [
            (&other, "t.secret", "row-1"),
            (&sealer, "t.secret", "row-2"),
            (&sealer, "t.verifier", "row-1"),
        ] {
            let err = open(Some(sealer), column, row, &sealed).unwrap_err();
            assert!(
                std::error::Error::source(&err)
                    .unwrap()
                    .to_string()
                    .contains("does not open")
            );
        }
        let err = open(None, "t.secret", "row-1", &sealed).unwrap_err();
        assert!(
            std::error::Error::source(&err)
                .unwrap()
                .to_string()
                .contains("no server key")
        );
        // A plain value (written before the key) reads as it is.
        assert!(
            open(Some(&sealer), "t.secret", "row-1", "plain")
                .unwrap()
                .is_none()
        );
        let mut damaged = sealed.clone();
        damaged.push('A');
        assert!(open(Some(&sealer), "t.secret", "row-1", &damaged).is_err());
    }

    #[test]
    fn keys_read_from_hex_and_never_show() {
        let key = ServerKey::generate().unwrap();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        let back = ServerKey::from_hex(&format!("{}\n", hex.as_str())).unwrap();
        assert_eq!(back.to_hex().as_str(), hex.as_str());
        assert_eq!(format!("{key:?}"), "ServerKey([redacted])");
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(66)] {
            assert_eq!(ServerKey::from_hex(bad).unwrap_err(), InvalidServerKey);
        }
    }
}
