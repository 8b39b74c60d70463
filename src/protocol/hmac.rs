//! HMAC (RFC 2104) for the HMAC-SHA1, HMAC-SHA256 and HMAC-SHA512 signature
//! methods (RFC 5849 §3.4.2), written over the hash functions' safe public
//! compression functions: `sha1::block_api::compress` and
//! `sha2::block_api::{compress256, compress512}`.
//!
//! Why not the `hmac` crate: here a key's inner and outer states are plain
//! arrays ([`HmacKey`]) that are wiped on drop — RustCrypto's are only with
//! their `zeroize` features — and the base string streams into the blocks
//! being hashed, with no second buffer in front of them: the same
//! instructions per verification as the `hmac` crate behind a buffer
//! (callgrind), and the building block of a pre-keyed HMAC (see
//! `docs/performance.md`). It is checked against
//! the `hmac` crate on random keys and messages (unit proptests and the
//! `hmac` fuzz target) and against the RFC 2202 and RFC 4231 vectors.

use zeroize::Zeroize;

use crate::protocol::base_string::Sink;

/// A Merkle–Damgård hash by its compression function: what HMAC needs of it.
pub(crate) trait Compression {
    /// The chaining state.
    type State: Copy + Zeroize;
    /// One input block.
    type Block: Copy + AsRef<[u8]> + AsMut<[u8]> + Zeroize;
    /// The state before any block.
    const INITIAL: Self::State;
    /// A block of zeros.
    const ZERO_BLOCK: Self::Block;
    /// Bytes in a block.
    const BLOCK_BYTES: usize;
    /// Bytes of the message length (in bits, big-endian) that end the padding.
    const LENGTH_BYTES: usize;
    /// Bytes of the digest.
    const OUTPUT_BYTES: usize;
    /// Hashes `blocks` into `state`.
    fn compress(state: &mut Self::State, blocks: &[Self::Block]);
    /// `bytes` as whole blocks, and what is left over.
    fn split_blocks(bytes: &[u8]) -> (&[Self::Block], &[u8]);
    /// `blocks` as bytes.
    fn bytes_mut(blocks: &mut [Self::Block]) -> &mut [u8];
    /// Writes the digest (the state's words, big-endian) into
    /// `out[..OUTPUT_BYTES]`.
    fn digest(state: &Self::State, out: &mut [u8]);
}

macro_rules! compression {
    ($(#[$doc:meta])* $name:ident, $word:ty, $words:literal, $block:literal, $length:literal,
     $output:literal, $compress:path, $initial:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $name;

        impl Compression for $name {
            type State = [$word; $words];
            type Block = [u8; $block];
            const INITIAL: Self::State = $initial;
            const ZERO_BLOCK: Self::Block = [0; $block];
            const BLOCK_BYTES: usize = $block;
            const LENGTH_BYTES: usize = $length;
            const OUTPUT_BYTES: usize = $output;

            #[inline]
            fn compress(state: &mut Self::State, blocks: &[Self::Block]) {
                $compress(state, blocks);
            }

            #[inline]
            fn split_blocks(bytes: &[u8]) -> (&[Self::Block], &[u8]) {
                bytes.as_chunks::<$block>()
            }

            #[inline]
            fn bytes_mut(blocks: &mut [Self::Block]) -> &mut [u8] {
                blocks.as_flattened_mut()
            }

            #[inline]
            fn digest(state: &Self::State, out: &mut [u8]) {
                let size = std::mem::size_of::<$word>();
                for (bytes, word) in out[..$output].chunks_exact_mut(size).zip(state) {
                    bytes.copy_from_slice(&word.to_be_bytes());
                }
            }
        }
    };
}

compression!(
    /// SHA-1 (FIPS 180-4 §6.1).
    Sha1, u32, 5, 64, 8, 20, sha1::block_api::compress,
    [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
);

compression!(
    /// SHA-256 (FIPS 180-4 §6.2).
    Sha256, u32, 8, 64, 8, 32, sha2::block_api::compress256,
    [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
        0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
);

compression!(
    /// SHA-512 (FIPS 180-4 §6.4).
    Sha512, u64, 8, 128, 16, 64, sha2::block_api::compress512,
    [
        0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1, 0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
    ]
);

/// The longest digest: SHA-512's.
pub(crate) const MAX_OUTPUT_BYTES: usize = 64;

/// Blocks a [`Hasher`] gathers before it hashes them, in one call of the
/// compression function: the base string arrives in many small pieces.
const BUFFERED_BLOCKS: usize = 4;

/// A hash being computed: the state, the blocks being filled, and how many
/// bytes went into the state before them. Wipes its state on drop (for an
/// HMAC it starts as the keyed inner state).
pub(crate) struct Hasher<C: Compression> {
    state: C::State,
    buffer: [C::Block; BUFFERED_BLOCKS],
    /// Bytes of `buffer` filled; always less than all of it.
    filled: usize,
    /// Bytes hashed into `state`: whole blocks.
    hashed: u64,
}

impl<C: Compression> Hasher<C> {
    /// A hash from `state`, after `hashed` bytes (whole blocks).
    fn resume(state: C::State, hashed: u64) -> Self {
        Self {
            state,
            buffer: [C::ZERO_BLOCK; BUFFERED_BLOCKS],
            filled: 0,
            hashed,
        }
    }

    /// Completes the buffer with `bytes`, hashes it and the whole blocks
    /// that follow, and keeps the rest. Out of line, so that `put` stays
    /// small.
    #[inline(never)]
    fn put_across(&mut self, bytes: &[u8]) {
        let buffered = C::BLOCK_BYTES * BUFFERED_BLOCKS;
        let (head, tail) = bytes.split_at(buffered - self.filled);
        C::bytes_mut(&mut self.buffer)[self.filled..].copy_from_slice(head);
        C::compress(&mut self.state, &self.buffer);
        let (blocks, rest) = C::split_blocks(tail);
        if !blocks.is_empty() {
            C::compress(&mut self.state, blocks);
        }
        self.hashed += (buffered + blocks.len() * C::BLOCK_BYTES) as u64;
        C::bytes_mut(&mut self.buffer)[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// Pads the message (a `0x80` byte, zeros, its length in bits) and
    /// writes the digest into `out[..C::OUTPUT_BYTES]`.
    fn finish(&mut self, out: &mut [u8]) {
        let block_bytes = C::BLOCK_BYTES;
        let bits = u128::from(self.hashed + self.filled as u64) * 8;
        // The whole blocks buffered, then the last, partial one (perhaps
        // empty) with the padding: one block, or two when the length does
        // not fit after the `0x80`.
        let (whole, partial) = (self.filled / block_bytes, self.filled % block_bytes);
        let padding = if partial + 1 + C::LENGTH_BYTES > block_bytes {
            2
        } else {
            1
        };
        let start = if whole + padding > BUFFERED_BLOCKS {
            // No room after them: hash the whole blocks first.
            C::compress(&mut self.state, &self.buffer[..whole]);
            C::bytes_mut(&mut self.buffer).copy_within(whole * block_bytes..self.filled, 0);
            0
        } else {
            whole
        };
        let blocks = start + padding;
        let (end, last) = (start * block_bytes + partial, blocks * block_bytes);
        let bytes = C::bytes_mut(&mut self.buffer);
        bytes[end] = 0x80;
        bytes[end + 1..last].fill(0);
        let length = bits.to_be_bytes();
        bytes[last - C::LENGTH_BYTES..last].copy_from_slice(&length[16 - C::LENGTH_BYTES..]);
        C::compress(&mut self.state, &self.buffer[..blocks]);
        C::digest(&self.state, out);
    }
}

impl<C: Compression> Sink for Hasher<C> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.filled + bytes.len();
        match C::bytes_mut(&mut self.buffer).get_mut(self.filled..end) {
            Some(space) if end < C::BLOCK_BYTES * BUFFERED_BLOCKS => {
                space.copy_from_slice(bytes);
                self.filled = end;
            }
            _ => self.put_across(bytes),
        }
    }
}

impl<C: Compression> Drop for Hasher<C> {
    fn drop(&mut self) {
        self.state.zeroize();
    }
}

/// An HMAC key, keyed once: the hash states after the key's inner and outer
/// pad blocks, as plain arrays wiped on drop. Signing a message from it
/// hashes only the message and the outer block.
pub(crate) struct HmacKey<C: Compression> {
    inner: C::State,
    outer: C::State,
}

impl<C: Compression> HmacKey<C> {
    /// Keys the hash with `key` (RFC 2104 §2: a key longer than a block is
    /// hashed first, a shorter one padded with zeros).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = C::ZERO_BLOCK;
        if key.len() > C::BLOCK_BYTES {
            let mut hasher = Hasher::<C>::resume(C::INITIAL, 0);
            hasher.put(key);
            hasher.finish(block.as_mut());
            // The buffer held the end of the key.
            C::bytes_mut(&mut hasher.buffer).zeroize();
        } else {
            block.as_mut()[..key.len()].copy_from_slice(key);
        }
        let mut pad = |byte: u8| {
            block.as_mut().iter_mut().for_each(|b| *b ^= byte);
            let mut state = C::INITIAL;
            C::compress(&mut state, std::slice::from_ref(&block));
            state
        };
        let inner = pad(0x36);
        // `block` is now the key XOR 0x36: XOR 0x36 ^ 0x5c makes it XOR 0x5c.
        let outer = pad(0x36 ^ 0x5c);
        block.zeroize();
        Self { inner, outer }
    }

    /// A hash of the message to sign, from the keyed inner state: put the
    /// message into it, then [`HmacKey::finish`] it.
    #[inline]
    pub(crate) fn message(&self) -> Hasher<C> {
        Hasher::resume(self.inner, C::BLOCK_BYTES as u64)
    }

    /// The HMAC of the message hashed into `message`, in
    /// `out[..C::OUTPUT_BYTES]`.
    pub(crate) fn finish<'o>(
        &self,
        mut message: Hasher<C>,
        out: &'o mut [u8; MAX_OUTPUT_BYTES],
    ) -> &'o [u8] {
        let mut inner = [0; MAX_OUTPUT_BYTES];
        message.finish(&mut inner);
        let mut outer = Hasher::<C>::resume(self.outer, C::BLOCK_BYTES as u64);
        outer.put(&inner[..C::OUTPUT_BYTES]);
        outer.finish(out);
        &out[..C::OUTPUT_BYTES]
    }

    /// The HMAC of `message`, in `out[..C::OUTPUT_BYTES]`.
    #[cfg(test)]
    fn mac<'o>(&self, message: &[u8], out: &'o mut [u8; MAX_OUTPUT_BYTES]) -> &'o [u8] {
        let mut hasher = self.message();
        hasher.put(message);
        self.finish(hasher, out)
    }
}

/// HMAC-SHA256 of `message` under `key` (RFC 2104): the raw 32 bytes, as
/// JSON Web Signatures' `HS256` signs with them (RFC 7518 §3.2).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let key = HmacKey::<Sha256>::new(key);
    let mut hasher = key.message();
    hasher.put(message);
    let mut out = [0; MAX_OUTPUT_BYTES];
    let mut mac = [0; 32];
    mac.copy_from_slice(key.finish(hasher, &mut out));
    out.zeroize();
    mac
}

impl<C: Compression> Drop for HmacKey<C> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl<C: Compression> std::fmt::Debug for HmacKey<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use ::hmac::Hmac;
    use proptest::prelude::*;

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn ours<C: Compression>(key: &[u8], message: &[u8]) -> String {
        let mut out = [0; MAX_OUTPUT_BYTES];
        hex(HmacKey::<C>::new(key).mac(message, &mut out))
    }

    /// The same, with the message put in pieces of `sizes` (cycled).
    fn ours_in_pieces<C: Compression>(key: &[u8], message: &[u8], sizes: &[usize]) -> String {
        let key = HmacKey::<C>::new(key);
        let mut hasher = key.message();
        let mut rest = message;
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, after) = rest.split_at(size.clamp(1, rest.len()));
            hasher.put(piece);
            rest = after;
        }
        let mut out = [0; MAX_OUTPUT_BYTES];
        hex(key.finish(hasher, &mut out))
    }

    fn theirs<M: ::hmac::Mac + ::hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> String {
        let mut mac = <M as ::hmac::digest::KeyInit>::new_from_slice(key).unwrap();
        mac.update(message);
        hex(&mac.finalize().into_bytes())
    }

    #[test]
    fn rfc_2202_hmac_sha1_vectors() {
        let long = [0xaa; 80];
        let cases: [(&[u8], &[u8], &str); 7] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                &[0xaa; 20],
                &[0xdd; 50],
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
            ),
            (
                &unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                &[0xcd; 50],
                "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
            ),
            (
                &[0x0c; 20],
                b"Test With Truncation",
                "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
            ),
            (
                &long,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
            (
                &long,
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
            ),
        ];
        for (key, message, expected) in cases {
            assert_eq!(ours::<Sha1>(key, message), expected);
        }
    }

    #[test]
    fn rfc_4231_hmac_sha256_and_sha512_vectors() {
        let long_key = [0xaa; 131];
        let cases: [(&[u8], &[u8], &str, &str); 6] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
            (
                &[0xaa; 20],
                &[0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39\
                 bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
            ),
            (
                &unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                &[0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db\
                 a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            ),
            (
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                 6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ),
            (
                &long_key,
                b"This is a test using a larger than block-size key and a larger than \
                  block-size data. The key needs to be hashed before being used by the \
                  HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944\
                 b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
            ),
        ];
        for (key, message, sha256, sha512) in cases {
            assert_eq!(ours::<Sha256>(key, message), sha256);
            assert_eq!(ours::<Sha512>(key, message), sha512);
        }
    }

    #[test]
    fn every_length_around_the_block_and_padding_edges_matches_the_hmac_crate() {
        // Messages that end just before, on and after where the length no
        // longer fits in the last block, and around the end of the buffered
        // blocks (256 bytes for SHA-1 and SHA-256, 512 for SHA-512); keys
        // around the block size.
        for len in 0..=530 {
            let message: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            for key_len in [0, 1, 63, 64, 65, 127, 128, 129, 200] {
                let key: Vec<u8> = (0..key_len).map(|i| (i * 13 + 1) as u8).collect();
                assert_eq!(
                    ours::<Sha1>(&key, &message),
                    theirs::<Hmac<sha1::Sha1>>(&key, &message)
                );
                assert_eq!(
                    ours::<Sha256>(&key, &message),
                    theirs::<Hmac<sha2::Sha256>>(&key, &message)
                );
                assert_eq!(
                    ours::<Sha512>(&key, &message),
                    theirs::<Hmac<sha2::Sha512>>(&key, &message)
                );
            }
        }
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", HmacKey::<Sha1>::new(b"k")),
            "HmacKey([redacted])"
        );
    }

    proptest! {
        #[test]
        fn matches_the_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 0..300),
            message in proptest::collection::vec(any::<u8>(), 0..1200),
            pieces in proptest::collection::vec(1usize..200, 1..8),
        ) {
            let sha1 = theirs::<Hmac<sha1::Sha1>>(&key, &message);
            prop_assert_eq!(ours::<Sha1>(&key, &message), sha1.clone());
            prop_assert_eq!(ours_in_pieces::<Sha1>(&key, &message, &pieces), sha1);
            let sha256 = theirs::<Hmac<sha2::Sha256>>(&key, &message);
            prop_assert_eq!(ours_in_pieces::<Sha256>(&key, &message, &pieces), sha256);
            let sha512 = theirs::<Hmac<sha2::Sha512>>(&key, &message);
            prop_assert_eq!(ours_in_pieces::<Sha512>(&key, &message, &pieces), sha512);
        }
    }
}
