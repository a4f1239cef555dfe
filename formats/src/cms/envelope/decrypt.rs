//! Content decryption, chunk by chunk.
//!
//! CBC (AES, RFC 3565; 3DES, RFC 3370 §5.1) pads with PKCS#7 (RFC 5652 §6.3): the last
//! block is only known to be the last at the end, so one block is always held back and
//! unpadded in [`ContentDecryptor::finish`]. GCM (RFC 5084) streams through
//! [`super::gcm`], its tag checked in `finish`.
//!
//! [`ContentDecryptor::new_external`]: the caller runs the AES of the bulk of the content
//! itself (in the browser, WebCrypto's native AES: software AES in WASM runs at a few tens of
//! MB/s; the GHASH too, native carry-less multiply there). This module still keeps every
//! check: the GCM tag (its GHASH chained from the caller's per-piece ones) and its
//! comparison, the last CBC block and its padding, which it decrypts itself once the end is
//! known.

use super::gcm::GcmDecryptor;
use super::{ContentEncryption, EnvelopeError, Trailer};
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecrypt, BlockDecryptMut, BlockEncrypt, KeyInit, KeyIvInit};
use aes::{Aes128, Aes192, Aes256};
use std::fmt;

enum Cbc {
    Aes128(cbc::Decryptor<Aes128>),
    Aes192(cbc::Decryptor<Aes192>),
    Aes256(cbc::Decryptor<Aes256>),
    Tdes(cbc::Decryptor<des::TdesEde3>),
}

/// Decrypts a whole number of blocks in place, carrying the chaining value over calls.
fn blocks<C: BlockDecryptMut>(d: &mut C, data: &mut [u8]) {
    let (blocks, _tail) = InOutBuf::from(data).into_chunks();
    d.decrypt_blocks_inout_mut(blocks);
}

impl Cbc {
    fn decrypt(&mut self, data: &mut [u8]) {
        match self {
            Self::Aes128(d) => blocks(d, data),
            Self::Aes192(d) => blocks(d, data),
            Self::Aes256(d) => blocks(d, data),
            Self::Tdes(d) => blocks(d, data),
        }
    }
}

/// AES for the last block when the caller decrypts the rest (CBC, external).
enum Aes {
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> Result<Self, EnvelopeError> {
        let bad = |_| EnvelopeError::KeyLength { expected: 32, actual: key.len() };
        Ok(match key.len() {
            16 => Self::Aes128(Aes128::new_from_slice(key).map_err(bad)?),
            24 => Self::Aes192(Aes192::new_from_slice(key).map_err(bad)?),
            _ => Self::Aes256(Aes256::new_from_slice(key).map_err(bad)?),
        })
    }

    fn decrypt_block(&self, block: &mut [u8; 16]) {
        let b = block.into();
        match self {
            Self::Aes128(c) => c.decrypt_block(b),
            Self::Aes192(c) => c.decrypt_block(b),
            Self::Aes256(c) => c.decrypt_block(b),
        }
    }

    fn encrypt_block(&self, block: &mut [u8; 16]) {
        let b = block.into();
        match self {
            Self::Aes128(c) => c.encrypt_block(b),
            Self::Aes192(c) => c.encrypt_block(b),
            Self::Aes256(c) => c.encrypt_block(b),
        }
    }
}

/// How the caller decrypts what [`ContentDecryptor::update`] hands out in external mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkCipher {
    /// AES-CBC: the first block chains on `iv`, each later one on the ciphertext block
    /// before it. Each piece handed out ends with one block more, `E_K(16 × 0x10 ⊕ C_last)`
    /// (`C_last` the piece's last block of content), which decrypts to a whole PKCS#7
    /// padding block: WebCrypto's AES-CBC, which insists on padding at the end of every
    /// call, decrypts the piece as it is and strips it. The next piece chains on `C_last`.
    AesCbc { iv: [u8; 16] },
    /// AES-GCM, both halves the caller's: AES-CTR with a 32-bit big-endian counter
    /// (WebCrypto `length: 32`), block `i` of the content (counting every block handed out,
    /// from 0) using `counter` + `i`; and the GHASH of each piece handed out, as the tag of an
    /// AES-GCM encryption of nothing under the IV [`super::gcm::GHASH_IV`] with the piece as
    /// additional data, given back in order to [`ContentDecryptor::absorb_ghash`].
    AesGcm { counter: [u8; 16] },
}

enum Mode {
    Cbc {
        cipher: Box<Cbc>,
        block: usize,
        /// Ciphertext not decrypted yet: 1 to `block` bytes once any arrived.
        held: Vec<u8>,
        seen: u64,
    },
    /// AES-CBC whose whole blocks but the last the caller decrypts.
    CbcExternal {
        aes: Box<Aes>,
        iv: [u8; 16],
        /// The ciphertext block the held one chains on.
        chain: [u8; 16],
        /// Ciphertext not handed out yet: 1 to 16 bytes once any arrived.
        held: Vec<u8>,
        seen: u64,
        /// Blocks were handed out since the last `end_piece` (which appends the padding block).
        open: bool,
    },
    Gcm(Box<GcmDecryptor>),
}

/// Streaming decryption of the encrypted content with the unwrapped key.
pub struct ContentDecryptor {
    mode: Mode,
}

impl fmt::Debug for ContentDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No key material, not even its schedule.
        let mode = match &self.mode {
            Mode::Cbc { block, .. } => format!("CBC ({block}-byte blocks)"),
            Mode::CbcExternal { .. } => "CBC (caller's AES)".to_owned(),
            Mode::Gcm(_) => "GCM".to_owned(),
        };
        f.debug_struct("ContentDecryptor").field("mode", &mode).finish_non_exhaustive()
    }
}

impl ContentDecryptor {
    /// `key` is the content-encryption key the card unwrapped; its length must be the
    /// algorithm's.
    pub fn new(algorithm: &ContentEncryption, key: &[u8]) -> Result<Self, EnvelopeError> {
        let expected = algorithm.key_len();
        if key.len() != expected {
            return Err(EnvelopeError::KeyLength { expected, actual: key.len() });
        }
        let bad = |_| EnvelopeError::KeyLength { expected, actual: key.len() };
        let mode = match algorithm {
            ContentEncryption::AesCbc { key_len, iv } => {
                let cipher = match key_len {
                    16 => Cbc::Aes128(cbc::Decryptor::new_from_slices(key, iv).map_err(bad)?),
                    24 => Cbc::Aes192(cbc::Decryptor::new_from_slices(key, iv).map_err(bad)?),
                    _ => Cbc::Aes256(cbc::Decryptor::new_from_slices(key, iv).map_err(bad)?),
                };
                Mode::Cbc { cipher: Box::new(cipher), block: 16, held: Vec::with_capacity(16), seen: 0 }
            }
            ContentEncryption::DesEde3Cbc { iv } => Mode::Cbc {
                cipher: Box::new(Cbc::Tdes(cbc::Decryptor::new_from_slices(key, iv).map_err(bad)?)),
                block: 8,
                held: Vec::with_capacity(8),
                seen: 0,
            },
            ContentEncryption::AesGcm { nonce, icv_len, .. } => {
                Mode::Gcm(Box::new(GcmDecryptor::new(key, nonce, *icv_len)?))
            }
        };
        Ok(Self { mode })
    }

    /// Like [`Self::new`], but the caller runs the block cipher over the bulk of the
    /// content: [`Self::update`] hands out *ciphertext*, whole blocks only, to be decrypted
    /// as [`Self::bulk_cipher`] says; the GCM tag, the CBC padding (the last block, held back
    /// and decrypted here) and any last partial GCM block stay here, and [`Self::finish`]
    /// appends their plaintext. `None` when the algorithm has no such form here (3DES: no
    /// WebCrypto): use [`Self::new`].
    pub fn new_external(algorithm: &ContentEncryption, key: &[u8]) -> Result<Option<Self>, EnvelopeError> {
        let expected = algorithm.key_len();
        if key.len() != expected {
            return Err(EnvelopeError::KeyLength { expected, actual: key.len() });
        }
        let mode = match algorithm {
            ContentEncryption::AesCbc { iv, .. } => Mode::CbcExternal {
                aes: Box::new(Aes::new(key)?),
                iv: *iv,
                chain: *iv,
                held: Vec::with_capacity(16),
                seen: 0,
                open: false,
            },
            ContentEncryption::AesGcm { nonce, icv_len, .. } => {
                Mode::Gcm(Box::new(GcmDecryptor::new_external(key, nonce, *icv_len)?))
            }
            ContentEncryption::DesEde3Cbc { .. } => return Ok(None),
        };
        Ok(Some(Self { mode }))
    }

    /// In external mode, how the caller decrypts what `update` hands out.
    pub fn bulk_cipher(&self) -> Option<BulkCipher> {
        match &self.mode {
            Mode::CbcExternal { iv, .. } => Some(BulkCipher::AesCbc { iv: *iv }),
            Mode::Gcm(g) if g.is_external() => Some(BulkCipher::AesGcm { counter: g.first_counter() }),
            _ => None,
        }
    }

    /// External mode: what `update` appended since the last call is one piece of the
    /// caller's; what it appends from now on, the next. AES-CBC: appends the piece's padding
    /// block to `out` ([`BulkCipher::AesCbc`]).
    pub fn end_piece(&mut self, out: &mut Vec<u8>) {
        match &mut self.mode {
            Mode::Gcm(g) => g.end_run(),
            Mode::CbcExternal { aes, chain, open, .. } if *open => {
                let mut pad = [16u8; 16];
                pad.iter_mut().zip(chain.iter()).for_each(|(p, c)| *p ^= c);
                aes.encrypt_block(&mut pad);
                out.extend_from_slice(&pad);
                *open = false;
            }
            _ => {}
        }
    }

    /// [`BulkCipher::AesGcm`]: the IV under which the caller's AES-GCM encryption decrypts
    /// from content block `blocks` on, see [`GcmDecryptor::keystream_iv`].
    pub fn gcm_keystream_iv(&self, blocks: u32) -> Option<[u8; 16]> {
        match &self.mode {
            Mode::Gcm(g) => g.keystream_iv(blocks),
            _ => None,
        }
    }

    /// [`BulkCipher::AesGcm`]: the caller's GHASH tag of the oldest piece not yet absorbed.
    pub fn absorb_ghash(&mut self, tag: &[u8]) -> Result<(), EnvelopeError> {
        match &mut self.mode {
            Mode::Gcm(g) => g.absorb_ghash(tag),
            _ => Err(EnvelopeError::State("GHASH is not the caller's")),
        }
    }

    /// Decrypts the next ciphertext bytes (any length) and appends the plaintext that is
    /// ready to `out`. Nothing appended is final before [`Self::finish`] returned `Ok`.
    pub fn update(&mut self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        match &mut self.mode {
            Mode::Gcm(g) => g.update(ciphertext, out),
            Mode::CbcExternal { chain, held, seen, open, .. } => {
                if ciphertext.is_empty() {
                    return Ok(());
                }
                *seen += ciphertext.len() as u64;
                // Hand out all but the last 1..=16 bytes, in whole blocks.
                let total = held.len() + ciphertext.len();
                let ready = (total - 1) / 16 * 16;
                if ready == 0 {
                    held.extend_from_slice(ciphertext);
                    return Ok(());
                }
                let start = out.len();
                out.extend_from_slice(held);
                out.extend_from_slice(&ciphertext[..ready - held.len()]);
                chain.copy_from_slice(&out[start + ready - 16..start + ready]);
                *open = true;
                let rest = &ciphertext[ready - held.len()..];
                held.clear();
                held.extend_from_slice(rest);
                Ok(())
            }
            Mode::Cbc { cipher, block, held, seen } => {
                if ciphertext.is_empty() {
                    return Ok(());
                }
                *seen += ciphertext.len() as u64;
                let start = out.len();
                out.extend_from_slice(held);
                out.extend_from_slice(ciphertext);
                // Keep the last 1..=block bytes: the final block carries the padding.
                let total = out.len() - start;
                let ready = (total - 1) / *block * *block;
                held.clear();
                held.extend_from_slice(&out[start + ready..]);
                out.truncate(start + ready);
                cipher.decrypt(&mut out[start..]);
                Ok(())
            }
        }
    }

    /// End of the content: unpads (CBC) or checks the tag over the trailer's AAD (GCM), and
    /// appends the last plaintext. Only `Ok` makes the plaintext complete and genuine.
    pub fn finish(self, trailer: &Trailer, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        match self.mode {
            Mode::Gcm(g) => {
                let mac = trailer.mac.as_deref().ok_or(EnvelopeError::Malformed("the AuthEnvelopedData has no MAC"))?;
                g.finish(&trailer.aad, mac, out)
            }
            Mode::CbcExternal { aes, chain, held, seen, open, .. } => {
                if open {
                    return Err(EnvelopeError::State("a piece of ciphertext was not ended"));
                }
                let Ok(mut last) = <[u8; 16]>::try_from(held.as_slice()) else { return Err(EnvelopeError::Padding) };
                if seen == 0 {
                    return Err(EnvelopeError::Padding);
                }
                aes.decrypt_block(&mut last);
                last.iter_mut().zip(&chain).for_each(|(x, c)| *x ^= c);
                let pad = usize::from(last[15]);
                if pad == 0 || pad > 16 || last[16 - pad..].iter().any(|b| usize::from(*b) != pad) {
                    return Err(EnvelopeError::Padding);
                }
                out.extend_from_slice(&last[..16 - pad]);
                Ok(())
            }
            Mode::Cbc { mut cipher, block, mut held, seen } => {
                if seen == 0 || held.len() != block {
                    return Err(EnvelopeError::Padding);
                }
                cipher.decrypt(&mut held);
                let pad = usize::from(held[block - 1]);
                if pad == 0 || pad > block || held[block - pad..].iter().any(|b| usize::from(*b) != pad) {
                    return Err(EnvelopeError::Padding);
                }
                out.extend_from_slice(&held[..block - pad]);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::BlockEncryptMut;

    fn cbc_encrypt(key: &[u8], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        buf.resize(plaintext.len() / 16 * 16 + 16, 0);
        let enc = cbc::Encryptor::<Aes192>::new_from_slices(key, iv).unwrap();
        enc.encrypt_padded_mut::<Pkcs7>(&mut buf, plaintext.len()).unwrap().to_vec()
    }

    #[test]
    fn cbc_in_any_chunks() {
        let key = [3u8; 24];
        let iv = [9u8; 16];
        let alg = ContentEncryption::AesCbc { key_len: 24, iv };
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 1000] {
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ciphertext = cbc_encrypt(&key, &iv, &plaintext);
            for chunk in [1, 3, 16, 17, 64, 5000] {
                let mut d = ContentDecryptor::new(&alg, &key).unwrap();
                let mut out = Vec::new();
                for c in ciphertext.chunks(chunk) {
                    d.update(c, &mut out).unwrap();
                    assert!(out.len() < ciphertext.len(), "the last block is held back");
                }
                d.finish(&Trailer::default(), &mut out).unwrap();
                assert_eq!(out, plaintext, "len {len}, chunk {chunk}");
            }
        }
    }

    #[test]
    fn cbc_errors() {
        let key = [3u8; 24];
        let iv = [9u8; 16];
        let alg = ContentEncryption::AesCbc { key_len: 24, iv };
        let ciphertext = cbc_encrypt(&key, &iv, b"bonjour");
        // Not a whole block, no block at all, a wrong key.
        for (ct, k) in [(&ciphertext[..15], key), (&ciphertext[..0], key), (&ciphertext[..], [4u8; 24])] {
            let mut d = ContentDecryptor::new(&alg, &k).unwrap();
            d.update(ct, &mut Vec::new()).unwrap();
            assert_eq!(d.finish(&Trailer::default(), &mut Vec::new()), Err(EnvelopeError::Padding));
        }
        assert_eq!(
            ContentDecryptor::new(&alg, &[0; 16]).map(|_| ()),
            Err(EnvelopeError::KeyLength { expected: 24, actual: 16 })
        );
    }
}
