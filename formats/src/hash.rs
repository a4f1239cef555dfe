//! The digests the formats use (SHA-1 for reading old signatures, SHA-2), one-shot or over
//! several pieces.

use paraphe_protocol::HashAlgorithm;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A digest over several pieces (a PDF and the update around `/Contents`, the two byte ranges
/// of a signed PDF); cloned to read a digest of what it has hashed so far.
#[derive(Clone)]
pub enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(hash: HashAlgorithm) -> Self {
        match hash {
            HashAlgorithm::Sha1 => Self::Sha1(Sha1::new()),
            HashAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
            HashAlgorithm::Sha384 => Self::Sha384(Sha384::new()),
            HashAlgorithm::Sha512 => Self::Sha512(Sha512::new()),
        }
    }

    pub fn algorithm(&self) -> HashAlgorithm {
        match self {
            Self::Sha1(_) => HashAlgorithm::Sha1,
            Self::Sha256(_) => HashAlgorithm::Sha256,
            Self::Sha384(_) => HashAlgorithm::Sha384,
            Self::Sha512(_) => HashAlgorithm::Sha512,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// Digest of `data` with `hash`.
pub fn digest(hash: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut hasher = Hasher::new(hash);
    hasher.update(data);
    hasher.finish()
}
