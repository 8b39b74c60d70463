//! Unguessable values from the operating system's CSPRNG.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng as _;
use rand::rngs::SysRng;

/// The OS random source failed; nothing unguessable can be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub(crate) struct RandomError;

/// `bytes` random bytes from the OS CSPRNG as URL-safe base64 without padding
/// (`A–Z a–z 0–9 - _`, all RFC 3986 unreserved, so never percent-encoded).
pub(crate) fn random_token(bytes: usize) -> Result<String, RandomError> {
    let mut buf = [0u8; 64];
    let buf = &mut buf[..bytes.min(64)];
    SysRng.try_fill_bytes(buf).map_err(|_| RandomError)?;
    let out = URL_SAFE_NO_PAD.encode(&*buf);
    zeroize::Zeroize::zeroize(buf);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let a = random_token(24).unwrap();
        let b = random_token(24).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.bytes().all(crate::protocol::encoding::is_unreserved));
    }
}
