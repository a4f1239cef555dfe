//! GHASH (NIST SP 800-38D §6.4) in constant time with 64-bit integer multiplications, after
//! BearSSL's `ghash_ctmul64.c` (Thomas Pornin, MIT licence).
//!
//! Why it exists: on `wasm32` the `ghash` crate has no carry-less multiply instruction and
//! picks its 32-bit software backend (`polyval` chooses by pointer width), which ran at
//! ~50 MB/s in V8 and made GHASH the slowest step of opening an AES-GCM pli in the browser.
//! WebAssembly has native 64-bit multiplications, so the 64-bit algorithm is several times
//! faster there. Natively the `ghash` crate (PCLMULQDQ) is used; this one is tested against
//! it.
//!
//! Constant time: no table lookups and no branches on secret data; the carry-less products
//! are integer multiplications of operands with "holes" (one bit in four), which cannot
//! carry into the bits that are kept.

type Block = [u8; 16];

/// The low 64 bits of the carry-less product of `x` and `y`.
fn bmul64(x: u64, y: u64) -> u64 {
    const M0: u64 = 0x1111_1111_1111_1111;
    const M1: u64 = 0x2222_2222_2222_2222;
    const M2: u64 = 0x4444_4444_4444_4444;
    const M3: u64 = 0x8888_8888_8888_8888;
    let (x0, x1, x2, x3) = (x & M0, x & M1, x & M2, x & M3);
    let (y0, y1, y2, y3) = (y & M0, y & M1, y & M2, y & M3);
    let m = u64::wrapping_mul;
    let z0 = m(x0, y0) ^ m(x1, y3) ^ m(x2, y2) ^ m(x3, y1);
    let z1 = m(x0, y1) ^ m(x1, y0) ^ m(x2, y3) ^ m(x3, y2);
    let z2 = m(x0, y2) ^ m(x1, y1) ^ m(x2, y0) ^ m(x3, y3);
    let z3 = m(x0, y3) ^ m(x1, y2) ^ m(x2, y1) ^ m(x3, y0);
    (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3)
}

fn rev64(x: u64) -> u64 {
    x.reverse_bits()
}

/// A running GHASH keyed with `H`.
#[derive(Clone)]
pub(super) struct Ghash64 {
    h0: u64,
    h1: u64,
    h2: u64,
    h0r: u64,
    h1r: u64,
    h2r: u64,
    y0: u64,
    y1: u64,
}

impl Ghash64 {
    pub fn new(h: &Block) -> Self {
        let h1 = u64::from_be_bytes(h[..8].try_into().unwrap_or_default());
        let h0 = u64::from_be_bytes(h[8..].try_into().unwrap_or_default());
        let (h0r, h1r) = (rev64(h0), rev64(h1));
        Self { h0, h1, h2: h0 ^ h1, h0r, h1r, h2r: h0r ^ h1r, y0: 0, y1: 0 }
    }

    fn block(&mut self, b: &Block) {
        let y1 = self.y1 ^ u64::from_be_bytes(b[..8].try_into().unwrap_or_default());
        let y0 = self.y0 ^ u64::from_be_bytes(b[8..].try_into().unwrap_or_default());
        let (y0r, y1r) = (rev64(y0), rev64(y1));
        let (y2, y2r) = (y0 ^ y1, y0r ^ y1r);
        // Karatsuba: low halves from the operands, high halves from their bit reversals.
        let z0 = bmul64(y0, self.h0);
        let z1 = bmul64(y1, self.h1);
        let mut z2 = bmul64(y2, self.h2);
        let mut z0h = bmul64(y0r, self.h0r);
        let mut z1h = bmul64(y1r, self.h1r);
        let mut z2h = bmul64(y2r, self.h2r);
        z2 ^= z0 ^ z1;
        z2h ^= z0h ^ z1h;
        z0h = rev64(z0h) >> 1;
        z1h = rev64(z1h) >> 1;
        z2h = rev64(z2h) >> 1;
        let v0 = z0;
        let mut v1 = z0h ^ z2;
        let mut v2 = z1 ^ z2h;
        let mut v3 = z1h;
        // GHASH's bit order: shift the 256-bit product left by one, then reduce.
        v3 = (v3 << 1) | (v2 >> 63);
        v2 = (v2 << 1) | (v1 >> 63);
        v1 = (v1 << 1) | (v0 >> 63);
        let v0 = v0 << 1;
        v2 ^= v0 ^ (v0 >> 1) ^ (v0 >> 2) ^ (v0 >> 7);
        v1 ^= (v0 << 63) ^ (v0 << 62) ^ (v0 << 57);
        v3 ^= v1 ^ (v1 >> 1) ^ (v1 >> 2) ^ (v1 >> 7);
        v2 ^= (v1 << 63) ^ (v1 << 62) ^ (v1 << 57);
        self.y0 = v2;
        self.y1 = v3;
    }

    /// Hashes `data`, the last partial block padded with zeros (as `ghash`'s `update_padded`).
    pub fn update_padded(&mut self, data: &[u8]) {
        let mut blocks = data.chunks_exact(16);
        for b in &mut blocks {
            self.block(b.try_into().unwrap_or(&[0; 16]));
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 16];
            b[..rest.len()].copy_from_slice(rest);
            self.block(&b);
        }
    }

    pub fn finalize(self) -> Block {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.y1.to_be_bytes());
        out[8..].copy_from_slice(&self.y0.to_be_bytes());
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ghash::universal_hash::{KeyInit, UniversalHash};
    use ghash::GHash;

    #[test]
    fn same_as_the_ghash_crate() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut special: Vec<Block> = vec![[0; 16], [0xff; 16], [0x80; 16], [0x01; 16]];
        special.push({
            let mut b = [0; 16];
            b[0] = 0x80;
            b
        });
        special.push({
            let mut b = [0; 16];
            b[15] = 1;
            b
        });
        for round in 0..400 {
            let h: Block = if round < special.len() { special[round] } else { std::array::from_fn(|_| next() as u8) };
            let len = if round < 40 { round } else { (next() % 3000) as usize };
            let data: Vec<u8> = (0..len).map(|i| if round % 7 == 0 { 0xff } else { next() as u8 ^ i as u8 }).collect();
            let mut ours = Ghash64::new(&h);
            let mut theirs = GHash::new(&h.into());
            // In pieces of whole blocks, as the decryptor feeds it, then a padded tail.
            let cut = (next() as usize % (len + 1)) / 16 * 16;
            ours.update_padded(&data[..cut]);
            theirs.update_padded(&data[..cut]);
            ours.update_padded(&data[cut..]);
            theirs.update_padded(&data[cut..]);
            let theirs: Block = theirs.finalize().into();
            assert_eq!(ours.finalize(), theirs, "round {round}, len {len}");
        }
    }
}
