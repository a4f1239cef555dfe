//! AES-GCM decryption that streams (NIST SP 800-38D §7.2), from CTR and GHASH.
//!
//! `aes-gcm` wants the whole ciphertext at once; a pli can be a gigabyte. GCM is CTR
//! encryption (`inc32` counter from J0) plus a GHASH over `A ‖ C ‖ len(A) ‖ len(C)`, so the
//! ciphertext can be hashed and decrypted as it arrives and the tag checked at the end.
//!
//! One twist: in AuthEnvelopedData the additional authenticated data (the `authAttrs`) comes
//! *after* the content (RFC 5083 §2.1), while GHASH takes it first. GHASH is a polynomial in
//! H, so with `a` AAD blocks and `c` ciphertext blocks:
//!
//! ```text
//! GHASH(A ‖ C ‖ L) = GHASH(A) · H^(c+1)  ⊕  GHASH(C ‖ L)
//! ```
//!
//! The ciphertext is hashed as it streams; the AAD term is added at the end.
//!
//! In external mode ([`GcmDecryptor::new_external`], the browser) the caller runs both halves
//! of the bulk with WebCrypto's native AES and carry-less multiply: CTR to decrypt each run
//! of whole blocks handed out, and its GHASH as the tag of an AES-GCM *encryption* of nothing
//! with the run as additional data, under the IV [`GHASH_IV`]. That tag is
//! `E_K(0^96 ‖ 1) ⊕ GHASH(P ‖ [len(P)]_64 ‖ 0^64)`; [`GcmDecryptor::absorb_ghash`] takes
//! the mask and the length block out and chains the runs, so the tag is still computed and
//! compared here, over every byte. (Nothing is encrypted under that IV: the repeated IV
//! exposes no keystream.)

use super::EnvelopeError;
use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{
    BlockCipher, BlockEncrypt, BlockEncryptMut, BlockSizeUser, KeyInit, KeyIvInit, StreamCipher, StreamCipherSeek,
};
use aes::{Aes128, Aes192, Aes256};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;

use super::ghash64::Ghash64;

type Block = [u8; 16];

/// The IV of the caller's AES-GCM calls that compute each run's GHASH (external mode).
pub const GHASH_IV: [u8; 12] = [0; 12];

/// GCM's limit on the plaintext: 2^39 − 256 bits (SP 800-38D §5.2.1.1).
const MAX_CIPHERTEXT: u64 = (1 << 36) - 32;

enum Ctr {
    Aes128(ctr::Ctr32BE<Aes128>),
    Aes192(ctr::Ctr32BE<Aes192>),
    Aes256(ctr::Ctr32BE<Aes256>),
}

impl Ctr {
    fn apply(&mut self, data: &mut [u8]) {
        match self {
            Self::Aes128(c) => c.apply_keystream(data),
            Self::Aes192(c) => c.apply_keystream(data),
            Self::Aes256(c) => c.apply_keystream(data),
        }
    }

    /// Applies the keystream from byte `at` of the content.
    fn apply_at(&mut self, at: u64, data: &mut [u8]) -> Result<(), EnvelopeError> {
        let bad = |_| EnvelopeError::State("GCM counter out of range");
        match self {
            Self::Aes128(c) => c.try_seek(at).map_err(bad)?,
            Self::Aes192(c) => c.try_seek(at).map_err(bad)?,
            Self::Aes256(c) => c.try_seek(at).map_err(bad)?,
        }
        self.apply(data);
        Ok(())
    }
}

/// The GHASH over the streamed ciphertext: the `ghash` crate (carry-less multiply
/// instructions where the CPU has them), or on `wasm32`, which has none, the 64-bit
/// constant-time software one ([`super::ghash64`]: several times faster there than the
/// crate's 32-bit fallback).
enum StreamHash {
    Crate(GHash),
    Soft64(Box<Ghash64>),
}

impl StreamHash {
    fn new(h: &Block) -> Self {
        if cfg!(target_arch = "wasm32") {
            Self::Soft64(Box::new(Ghash64::new(h)))
        } else {
            Self::Crate(GHash::new(&(*h).into()))
        }
    }

    fn update_padded(&mut self, data: &[u8]) {
        match self {
            Self::Crate(g) => g.update_padded(data),
            Self::Soft64(g) => g.update_padded(data),
        }
    }

    fn finalize(self) -> Block {
        match self {
            Self::Crate(g) => g.finalize().into(),
            Self::Soft64(g) => g.finalize(),
        }
    }
}

pub(super) struct GcmDecryptor {
    ctr: Ctr,
    ghash: StreamHash,
    h: Block,
    /// E_K(J0), XORed into the GHASH output to make the tag.
    tag_mask: Block,
    partial: Block,
    partial_len: usize,
    ciphertext_len: u64,
    icv_len: usize,
    /// inc32(J0): the counter block of the first content block.
    first_counter: Block,
    /// E_K(GHASH_IV ‖ 0^31 ‖ 1): the caller's GHASH tags are masked with it (external mode).
    outside_mask: Block,
    /// The caller applies CTR and GHASH to whole blocks itself (see [`Self::new_external`]).
    external: Option<Box<Outside>>,
}

/// External mode's state: the runs of whole blocks handed out, and the GHASH of those whose
/// tag came back.
struct Outside {
    /// Blocks of each run handed out whose tag has not come back yet, oldest first.
    pending: std::collections::VecDeque<u64>,
    /// The last of `pending` still grows: [`GcmDecryptor::end_run`] not called since.
    open: bool,
    /// `H · Y`, Y the GHASH state after the runs absorbed so far (from a zero state).
    z: Block,
    /// The last `H^n` computed (runs are mostly of one size).
    power: (u64, Block),
    /// `H⁻¹`, for [`GcmDecryptor::keystream_iv`], computed on its first call (only some
    /// browsers ask); `None` inside when H = 0 (no inverse).
    h_inverse: std::cell::OnceCell<Option<Block>>,
}

/// H, E_K(J0), inc32(J0), the CTR keystream starting there, and the mask of the caller's
/// GHASH tags (E_K of GHASH_IV's J0).
#[allow(clippy::type_complexity)]
fn init<C>(key: &[u8], nonce: &[u8]) -> Result<(Block, Block, Block, ctr::Ctr32BE<C>, Block), EnvelopeError>
where
    C: KeyInit + BlockCipher + BlockEncrypt + BlockEncryptMut + BlockSizeUser<BlockSize = U16>,
    ctr::Ctr32BE<C>: KeyIvInit,
{
    let bad_key = |_| EnvelopeError::State("bad AES key length");
    let cipher = C::new_from_slice(key).map_err(bad_key)?;
    let mut h = GenericArray::default();
    cipher.encrypt_block(&mut h);
    let h: Block = h.into();
    let j0: Block = if nonce.len() == 12 {
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        j0
    } else {
        // J0 = GHASH(IV ‖ 0^(s+64) ‖ [len(IV)]_64) (SP 800-38D §7.2 step 2).
        let mut g = GHash::new(&h.into());
        g.update_padded(nonce);
        g.update_padded(&lengths(0, nonce.len() as u64));
        g.finalize().into()
    };
    let mut mask = GenericArray::from(j0);
    cipher.encrypt_block(&mut mask);
    let counter = inc32(&j0, 1);
    let ctr =
        ctr::Ctr32BE::<C>::new_from_slices(key, &counter).map_err(|_| EnvelopeError::State("bad AES key length"))?;
    let mut outside = [0u8; 16];
    outside[..12].copy_from_slice(&GHASH_IV);
    outside[15] = 1;
    let mut outside = GenericArray::from(outside);
    cipher.encrypt_block(&mut outside);
    Ok((h, mask.into(), counter, ctr, outside.into()))
}

/// `block` with its last 32 bits (a big-endian counter) plus `n`, wrapping: GCM's inc32
/// applied `n` times (SP 800-38D §6.2).
pub(super) fn inc32(block: &Block, n: u32) -> Block {
    let mut out = *block;
    let low = u32::from_be_bytes([block[12], block[13], block[14], block[15]]).wrapping_add(n);
    out[12..].copy_from_slice(&low.to_be_bytes());
    out
}

/// `[len(A)]_64 ‖ [len(C)]_64` in bits.
fn lengths(aad_bytes: u64, ciphertext_bytes: u64) -> Block {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(aad_bytes.wrapping_mul(8)).to_be_bytes());
    b[8..].copy_from_slice(&(ciphertext_bytes.wrapping_mul(8)).to_be_bytes());
    b
}

/// `a · b` in GCM's field: GHASH keyed with `b` over the single block `a`.
fn mul(a: &Block, b: &Block) -> Block {
    let mut g = GHash::new(&(*b).into());
    g.update_padded(a);
    g.finalize().into()
}

/// `h^e` for `e ≥ 1`, square and multiply.
fn pow(h: &Block, e: u64) -> Block {
    let mut result = *h;
    for bit in (0..63 - e.leading_zeros()).rev() {
        result = mul(&result, &result);
        if e >> bit & 1 == 1 {
            result = mul(&result, h);
        }
    }
    result
}

/// `a⁻¹` for `a ≠ 0`: `a^(2^128 − 2)` (the field has 2^128 elements), and 2^128 − 2 is the
/// sum of 2^i for i = 1 to 127: the product of those 127 successive squares of `a`.
fn inverse(a: &Block) -> Option<Block> {
    if a.iter().all(|&b| b == 0) {
        return None;
    }
    let mut square = mul(a, a);
    let mut result = square;
    for _ in 2..128 {
        square = mul(&square, &square);
        result = mul(&result, &square);
    }
    Some(result)
}

fn xor(a: &mut Block, b: &Block) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x ^= y);
}

impl GcmDecryptor {
    /// `key` of 16, 24 or 32 bytes; `nonce` of any length (12 is the norm); a tag of
    /// `icv_len` bytes (12 to 16).
    pub fn new(key: &[u8], nonce: &[u8], icv_len: usize) -> Result<Self, EnvelopeError> {
        if nonce.is_empty() || !(12..=16).contains(&icv_len) {
            return Err(EnvelopeError::Malformed("bad GCM parameters"));
        }
        let (h, tag_mask, first_counter, ctr, outside) = match key.len() {
            16 => init::<Aes128>(key, nonce).map(|(h, m, j, c, o)| (h, m, j, Ctr::Aes128(c), o))?,
            24 => init::<Aes192>(key, nonce).map(|(h, m, j, c, o)| (h, m, j, Ctr::Aes192(c), o))?,
            32 => init::<Aes256>(key, nonce).map(|(h, m, j, c, o)| (h, m, j, Ctr::Aes256(c), o))?,
            _ => return Err(EnvelopeError::State("bad AES key length")),
        };
        Ok(Self {
            ctr,
            ghash: StreamHash::new(&h),
            h,
            tag_mask,
            partial: [0; 16],
            partial_len: 0,
            ciphertext_len: 0,
            icv_len,
            first_counter,
            outside_mask: outside,
            external: None,
        })
    }

    /// Like [`Self::new`], but the caller runs CTR and GHASH over the bulk of the content
    /// (WebCrypto's AES-CTR and AES-GCM, native where this crate has only software):
    /// [`Self::update`] appends the *ciphertext* of each whole block, to be decrypted with the
    /// 32-bit counter [`Self::first_counter`] plus the block's index, and each non-empty run
    /// it appends must come back, in order, through [`Self::absorb_ghash`] (see the module
    /// docs). The tag, its comparison and the last partial block stay here.
    pub fn new_external(key: &[u8], nonce: &[u8], icv_len: usize) -> Result<Self, EnvelopeError> {
        let mut d = Self::new(key, nonce, icv_len)?;
        d.external = Some(Box::new(Outside {
            pending: std::collections::VecDeque::new(),
            open: false,
            z: [0; 16],
            power: (1, d.h),
            h_inverse: std::cell::OnceCell::new(),
        }));
        Ok(d)
    }

    /// External mode: the 16-byte IV under which an AES-GCM *encryption* (the caller's, of
    /// the ciphertext as if it were plaintext) runs its CTR from the counter of content
    /// block `blocks` on: its output, tag left aside, is then the plaintext, as AES-CTR's
    /// from that counter would be (some browsers' AES-GCM is twice as fast as their AES-CTR).
    /// That encryption starts at inc32(J0), so J0 must be that counter minus one; a 16-byte
    /// IV X gives J0 = GHASH(X ‖ L) = (X·H ⊕ L)·H, L = [0]_64 ‖ [128]_64 (SP 800-38D §7.2
    /// step 2), so X = (J0·H⁻¹ ⊕ L)·H⁻¹. `None` when H = 0 (then AES-CTR).
    pub fn keystream_iv(&self, blocks: u32) -> Option<Block> {
        let inverse = (*self.external.as_ref()?.h_inverse.get_or_init(|| inverse(&self.h)))?;
        let j0 = inc32(&self.first_counter, blocks.wrapping_sub(1));
        let mut x = mul(&j0, &inverse);
        xor(&mut x, &lengths(0, 16));
        Some(mul(&x, &inverse))
    }

    pub fn is_external(&self) -> bool {
        self.external.is_some()
    }

    /// inc32(J0), the counter block of the first block of content (SP 800-38D §7.2 step 3).
    pub fn first_counter(&self) -> Block {
        self.first_counter
    }

    /// External mode: what [`Self::update`] appends from now on is a new run (the caller's
    /// piece: the output of one call of its own, which may have made several updates).
    pub fn end_run(&mut self) {
        if let Some(outside) = &mut self.external {
            outside.open = false;
        }
    }

    /// External mode: the tag of the caller's AES-GCM encryption of nothing, IV
    /// [`GHASH_IV`], with the oldest run handed out and not yet absorbed as its additional
    /// data (16 bytes). Ends the run.
    pub fn absorb_ghash(&mut self, tag: &[u8]) -> Result<(), EnvelopeError> {
        let h = self.h;
        let outside = self.external.as_mut().ok_or(EnvelopeError::State("GHASH is not the caller's"))?;
        let tag: Block = tag.try_into().map_err(|_| EnvelopeError::State("a GHASH tag has 16 bytes"))?;
        let blocks = outside.pending.pop_front().ok_or(EnvelopeError::State("no run of ciphertext to absorb"))?;
        if outside.pending.is_empty() {
            outside.open = false;
        }
        // tag ⊕ mask = GHASH(P ‖ [len(P)]_64 ‖ 0^64) = H · Y(P) ⊕ L · H, Y(P) P's GHASH state.
        let mut s = tag;
        xor(&mut s, &self.outside_mask);
        xor(&mut s, &mul(&lengths(blocks * 16, 0), &h));
        if outside.power.0 != blocks {
            outside.power = (blocks, pow(&h, blocks));
        }
        // H · Y(before ‖ P) = H · Y(before) · H^n ⊕ H · Y(P).
        let mut z = mul(&outside.z, &outside.power.1);
        xor(&mut z, &s);
        outside.z = z;
        Ok(())
    }

    /// Hashes `ciphertext` and appends its decryption to `out`. The plaintext is
    /// provisional until [`Self::finish`] returned `Ok`.
    pub fn update(&mut self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        self.ciphertext_len += ciphertext.len() as u64;
        if self.ciphertext_len > MAX_CIPHERTEXT {
            return Err(EnvelopeError::Malformed("more ciphertext than GCM allows"));
        }
        if let Some(outside) = &mut self.external {
            // Whole blocks out, as one run for the caller's CTR and GHASH; the partial one kept.
            let held = self.partial_len;
            let total = held + ciphertext.len();
            let whole = total / 16 * 16;
            if whole == 0 {
                self.partial[held..total].copy_from_slice(ciphertext);
                self.partial_len = total;
                return Ok(());
            }
            out.extend_from_slice(&self.partial[..held]);
            out.extend_from_slice(&ciphertext[..whole - held]);
            match outside.pending.back_mut() {
                Some(blocks) if outside.open => *blocks += whole as u64 / 16,
                _ => outside.pending.push_back(whole as u64 / 16),
            }
            outside.open = true;
            let rest = &ciphertext[whole - held..];
            self.partial[..rest.len()].copy_from_slice(rest);
            self.partial_len = rest.len();
            return Ok(());
        }
        let mut input = ciphertext;
        if self.partial_len > 0 {
            let n = (16 - self.partial_len).min(input.len());
            self.partial[self.partial_len..self.partial_len + n].copy_from_slice(&input[..n]);
            self.partial_len += n;
            input = &input[n..];
            if self.partial_len == 16 {
                self.ghash.update_padded(&self.partial);
                self.partial_len = 0;
            }
        }
        let whole = input.len() / 16 * 16;
        // A whole number of blocks: update_padded adds no padding.
        self.ghash.update_padded(&input[..whole]);
        let rest = &input[whole..];
        self.partial[..rest.len()].copy_from_slice(rest);
        self.partial_len += rest.len();

        let start = out.len();
        out.extend_from_slice(ciphertext);
        self.ctr.apply(&mut out[start..]);
        Ok(())
    }

    /// Checks the tag over `aad` (which the encoding placed after the content) and the
    /// ciphertext seen; `mac` must be the `icv_len`-byte tag. When the caller runs CTR
    /// ([`Self::new_external`]), the plaintext of the last partial block is appended to
    /// `out` once the tag matched.
    pub fn finish(self, aad: &[u8], mac: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        let mut ctr = self.ctr;
        let length = lengths(aad.len() as u64, self.ciphertext_len);
        let mut s: Block = match &self.external {
            None => {
                let mut ghash = self.ghash;
                if self.partial_len > 0 {
                    ghash.update_padded(&self.partial[..self.partial_len]);
                }
                ghash.update_padded(&length);
                ghash.finalize()
            }
            Some(outside) => {
                if !outside.pending.is_empty() {
                    return Err(EnvelopeError::State("a run of ciphertext was not absorbed"));
                }
                // z = H · Y; Y ⊕ X_partial, then the length block, each times H.
                let mut y = outside.z;
                if self.partial_len > 0 {
                    let mut last = [0u8; 16];
                    last[..self.partial_len].copy_from_slice(&self.partial[..self.partial_len]);
                    xor(&mut y, &mul(&last, &self.h));
                    xor(&mut y, &length);
                    mul(&y, &self.h)
                } else {
                    xor(&mut y, &mul(&length, &self.h));
                    y
                }
            }
        };
        if !aad.is_empty() {
            let mut g = GHash::new(&self.h.into());
            g.update_padded(aad);
            let ghash_aad: Block = g.finalize().into();
            let blocks = self.ciphertext_len.div_ceil(16);
            xor(&mut s, &mul(&ghash_aad, &pow(&self.h, blocks + 1)));
        }
        xor(&mut s, &self.tag_mask);
        if mac.len() != self.icv_len {
            return Err(EnvelopeError::TagMismatch);
        }
        // Constant time: the comparison does not stop at the first difference.
        let diff = s[..self.icv_len].iter().zip(mac).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(EnvelopeError::TagMismatch);
        }
        if self.external.is_some() && self.partial_len > 0 {
            let start = out.len();
            out.extend_from_slice(&self.partial[..self.partial_len]);
            ctr.apply_at(self.ciphertext_len - self.partial_len as u64, &mut out[start..])?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;
    use aes_gcm::aead::{Aead, Payload};
    use aes_gcm::aes::cipher::consts::{U12, U13, U14, U15, U16 as N16, U8};
    use aes_gcm::{AesGcm, KeyInit};

    /// xorshift64: deterministic random inputs.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        /// Feeds `ciphertext` to `d` in pieces of 1 to 70 bytes; returns what `d` gave out.
        /// In external mode, each run handed out goes back to `absorb_ghash` as WebCrypto's
        /// AES-GCM tag would (`key` the content key).
        fn feed(&mut self, d: &mut GcmDecryptor, ciphertext: &[u8], key: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut rest = ciphertext;
            while !rest.is_empty() {
                let n = (1 + self.below(70)).min(rest.len());
                let start = out.len();
                d.update(&rest[..n], &mut out).unwrap();
                d.end_run();
                if d.is_external() && out.len() > start {
                    d.absorb_ghash(&ghash_tag(key, &out[start..])).unwrap();
                }
                rest = &rest[n..];
            }
            out
        }
    }

    /// What the browser's WebCrypto computes for a run: the tag of AES-GCM over nothing,
    /// IV `GHASH_IV`, the run as additional data.
    pub(in crate::cms::envelope) fn ghash_tag(key: &[u8], run: &[u8]) -> Vec<u8> {
        seal(key, &GHASH_IV, run, &[], 16).1
    }

    /// Encrypts with aes-gcm (one shot), returns (ciphertext, tag).
    fn seal(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8], tag_len: usize) -> (Vec<u8>, Vec<u8>) {
        let payload = Payload { msg: plaintext, aad };
        macro_rules! go {
            ($aes:ty, $n:ty, $t:ty) => {
                AesGcm::<$aes, $n, $t>::new_from_slice(key).unwrap().encrypt(nonce.into(), payload).unwrap()
            };
        }
        macro_rules! by_tag {
            ($aes:ty, $n:ty) => {
                match tag_len {
                    12 => go!($aes, $n, U12),
                    13 => go!($aes, $n, U13),
                    14 => go!($aes, $n, U14),
                    15 => go!($aes, $n, U15),
                    _ => go!($aes, $n, N16),
                }
            };
        }
        macro_rules! by_nonce {
            ($aes:ty) => {
                match nonce.len() {
                    8 => by_tag!($aes, U8),
                    16 => by_tag!($aes, N16),
                    _ => by_tag!($aes, U12),
                }
            };
        }
        let mut sealed = match key.len() {
            16 => by_nonce!(Aes128),
            24 => by_nonce!(Aes192),
            _ => by_nonce!(Aes256),
        };
        let tag = sealed.split_off(sealed.len() - tag_len);
        (sealed, tag)
    }

    /// `keystream_iv`: an AES-GCM encryption (aes-gcm's, as WebCrypto's) of a run of
    /// ciphertext under it gives the run's plaintext, from any block on, across the 32-bit
    /// counter's wrap too, for nonces of 12 bytes and others; and `inverse` is one.
    #[test]
    fn keystream_iv_decrypts_runs_like_ctr() {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let mut rng = Rng(0x0bad_5eed_1234_5678);
        for round in 0..60 {
            let key = rng.bytes([16, 24, 32][round % 3]);
            let nonce_len = [12, 16, 8][rng.below(3)];
            let mut nonce = rng.bytes(nonce_len);
            if round % 5 == 0 && nonce.len() == 12 {
                nonce = vec![0xff; 12]; // inc32 wraps from 0xffffffff to 0 within the run
            }
            let d = GcmDecryptor::new_external(&key, &nonce, 16).unwrap();
            assert!(d.external.as_ref().unwrap().h_inverse.get().is_none(), "computed on the first call only");
            let h_inverse = inverse(&d.h).unwrap();
            assert_eq!(
                mul(&d.h, &h_inverse),
                {
                    let mut one = [0u8; 16];
                    one[0] = 0x80;
                    one
                },
                "H · H⁻¹ = 1"
            );
            for blocks in [0u32, 1, 2, 31, 4096, 0xffff_fffe, 0xffff_ffff, rng.next() as u32] {
                let run_len = 16 * (1 + rng.below(8));
                let run = rng.bytes(run_len);
                let iv = d.keystream_iv(blocks).unwrap();
                let (out, _tag) = seal(&key, &iv, &[], &run, 16);
                // AES-CTR from the counter of block `blocks`: first_counter + blocks (inc32).
                let counter = inc32(&d.first_counter(), blocks);
                let mut want = run.clone();
                match key.len() {
                    16 => ctr::Ctr32BE::<Aes128>::new_from_slices(&key, &counter).unwrap().apply_keystream(&mut want),
                    24 => ctr::Ctr32BE::<Aes192>::new_from_slices(&key, &counter).unwrap().apply_keystream(&mut want),
                    _ => ctr::Ctr32BE::<Aes256>::new_from_slices(&key, &counter).unwrap().apply_keystream(&mut want),
                }
                assert_eq!(out, want, "round {round}, block {blocks}");
            }
        }
        assert_eq!(inverse(&[0; 16]), None);
        assert!(GcmDecryptor::new(&[7; 16], &[1; 12], 16).unwrap().keystream_iv(0).is_none(), "external mode only");
    }

    #[test]
    fn streams_like_aes_gcm_on_random_inputs() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..300 {
            let key = rng.bytes([16, 24, 32][round % 3]);
            let nonce_len = [12, 12, 8, 16][rng.below(4)];
            let nonce = rng.bytes(nonce_len);
            let aad_len = if rng.below(3) == 0 { 0 } else { rng.below(100) };
            let aad = rng.bytes(aad_len);
            let len = if round < 20 { round } else { rng.below(5000) };
            let plaintext = rng.bytes(len);
            let tag_len = 12 + rng.below(5);
            let (ciphertext, tag) = seal(&key, &nonce, &aad, &plaintext, tag_len);

            let mut d = GcmDecryptor::new(&key, &nonce, tag_len).unwrap();
            let mut out = rng.feed(&mut d, &ciphertext, &key);
            assert_eq!(out, plaintext, "round {round}");
            d.finish(&aad, &tag, &mut out).unwrap_or_else(|e| panic!("round {round}: {e}"));

            // Any flipped bit in the ciphertext, the AAD or the tag fails.
            let mut bad_tag = tag.clone();
            bad_tag[rng.below(tag_len)] ^= 1 << rng.below(8);
            let mut d = GcmDecryptor::new(&key, &nonce, tag_len).unwrap();
            d.update(&ciphertext, &mut Vec::new()).unwrap();
            assert_eq!(d.finish(&aad, &bad_tag, &mut Vec::new()), Err(EnvelopeError::TagMismatch));
            if !ciphertext.is_empty() {
                let mut bad = ciphertext.clone();
                let at = rng.below(bad.len());
                bad[at] ^= 0x80;
                let mut d = GcmDecryptor::new(&key, &nonce, tag_len).unwrap();
                d.update(&bad, &mut Vec::new()).unwrap();
                assert_eq!(d.finish(&aad, &tag, &mut Vec::new()), Err(EnvelopeError::TagMismatch));
            }
            if !aad.is_empty() {
                let mut d = GcmDecryptor::new(&key, &nonce, tag_len).unwrap();
                d.update(&ciphertext, &mut Vec::new()).unwrap();
                assert_eq!(d.finish(&aad[1..], &tag, &mut Vec::new()), Err(EnvelopeError::TagMismatch));
            }
        }
    }

    fn d_absorbs_nothing_more(key: &[u8], nonce: &[u8]) -> bool {
        let mut d = GcmDecryptor::new_external(key, nonce, 16).unwrap();
        d.absorb_ghash(&[0; 16]) == Err(EnvelopeError::State("no run of ciphertext to absorb"))
            && GcmDecryptor::new(key, nonce, 16).unwrap().absorb_ghash(&[0; 16])
                == Err(EnvelopeError::State("GHASH is not the caller's"))
    }

    /// The `wasm32` configuration (the 64-bit software GHASH), and the external mode (the
    /// caller's CTR, here the `ctr` crate with the counter it is given, and the caller's
    /// GHASH, here `aes-gcm`'s tags as WebCrypto's), natively.
    #[test]
    fn soft_ghash_and_external_ctr() {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..200 {
            let key = rng.bytes(32);
            let nonce = rng.bytes([12, 8, 16][round % 3]);
            let aad_len = rng.below(60);
            let aad = rng.bytes(aad_len);
            let len = if round < 40 { round } else { rng.below(3000) };
            let plaintext = rng.bytes(len);
            let (ciphertext, tag) = seal(&key, &nonce, &aad, &plaintext, 16);
            for external in [false, true] {
                let mut d = if external {
                    GcmDecryptor::new_external(&key, &nonce, 16).unwrap()
                } else {
                    GcmDecryptor::new(&key, &nonce, 16).unwrap()
                };
                d.ghash = StreamHash::Soft64(Box::new(Ghash64::new(&d.h)));
                let mut out = rng.feed(&mut d, &ciphertext, &key);
                if external {
                    assert_eq!(out.len() % 16, 0);
                    assert_eq!(out[..], ciphertext[..out.len()], "whole blocks of ciphertext");
                    ctr::Ctr32BE::<Aes256>::new_from_slices(&key, &d.first_counter())
                        .unwrap()
                        .apply_keystream(&mut out);
                }
                d.finish(&aad, &tag, &mut out).unwrap_or_else(|e| panic!("round {round}: {e}"));
                assert_eq!(out, plaintext, "round {round}, external {external}");
                if !ciphertext.is_empty() {
                    let mut bad_tag = tag.clone();
                    bad_tag[0] ^= 1;
                    let mut d = GcmDecryptor::new_external(&key, &nonce, 16).unwrap();
                    let mut run = Vec::new();
                    d.update(&ciphertext, &mut run).unwrap();
                    if !run.is_empty() {
                        d.absorb_ghash(&ghash_tag(&key, &run)).unwrap();
                    }
                    let mut nothing = Vec::new();
                    assert_eq!(d.finish(&aad, &bad_tag, &mut nothing), Err(EnvelopeError::TagMismatch));
                    assert!(nothing.is_empty(), "no plaintext when the tag fails");
                    // A run whose GHASH never came back, or a wrong one: refused.
                    if ciphertext.len() >= 16 {
                        let mut d = GcmDecryptor::new_external(&key, &nonce, 16).unwrap();
                        d.update(&ciphertext, &mut Vec::new()).unwrap();
                        assert_eq!(
                            d.finish(&aad, &tag, &mut Vec::new()),
                            Err(EnvelopeError::State("a run of ciphertext was not absorbed"))
                        );
                        let mut d = GcmDecryptor::new_external(&key, &nonce, 16).unwrap();
                        let mut run = Vec::new();
                        d.update(&ciphertext, &mut run).unwrap();
                        run[0] ^= 1;
                        d.absorb_ghash(&ghash_tag(&key, &run)).unwrap();
                        assert_eq!(d.finish(&aad, &tag, &mut Vec::new()), Err(EnvelopeError::TagMismatch));
                        assert!(d_absorbs_nothing_more(&key, &nonce));
                    }
                }
            }
        }
    }

    #[test]
    fn nist_test_case_4() {
        // SP 800-38D test vectors (gcm-revised-spec), test case 4: AES-128, 60-byte
        // plaintext, 20-byte AAD.
        let hex = |s: &str| hex::decode(s).unwrap();
        let key = hex("feffe9928665731c6d6a8f9467308308");
        let iv = hex("cafebabefacedbaddecaf888");
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let ct = hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091");
        let tag = hex("5bc94fbc3221a5db94fae95ae7121a47");
        let pt = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
        let mut d = GcmDecryptor::new(&key, &iv, 16).unwrap();
        let mut out = Vec::new();
        d.update(&ct, &mut out).unwrap();
        assert_eq!(out, pt);
        d.finish(&aad, &tag, &mut out).unwrap();
    }

    #[test]
    fn powers() {
        let h = [0x42u8; 16];
        let mut expected = h;
        for e in 1..40u64 {
            assert_eq!(pow(&h, e), expected, "h^{e}");
            expected = mul(&expected, &h);
        }
    }
}
