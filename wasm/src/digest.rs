//! Streaming document digests: the caller feeds chunks as it reads them (`Blob.stream()`),
//! so a document is never held whole, neither in JS nor here.

use crate::error::PageError;
use paraphe_protocol::HashAlgorithm;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// SHA-1 is deliberately absent: new document signatures must not use it.
pub enum StreamingHash {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl StreamingHash {
    pub fn new(algorithm: &str) -> Result<Self, PageError> {
        match HashAlgorithm::from_name(algorithm) {
            Some(HashAlgorithm::Sha256) => Ok(Self::Sha256(Sha256::new())),
            Some(HashAlgorithm::Sha384) => Ok(Self::Sha384(Sha384::new())),
            Some(HashAlgorithm::Sha512) => Ok(Self::Sha512(Sha512::new())),
            _ => Err(PageError::invalid(format!(
                "documents are hashed with sha256, sha384 or sha512, not {algorithm:?}"
            ))),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(chunk),
            Self::Sha384(h) => h.update(chunk),
            Self::Sha512(h) => h.update(chunk),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_equals_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for alg in ["sha256", "sha384", "sha512"] {
            let mut whole = StreamingHash::new(alg).expect("known");
            whole.update(&data);
            let mut chunked = StreamingHash::new(alg).expect("known");
            for c in data.chunks(7919) {
                chunked.update(c);
            }
            assert_eq!(whole.finish(), chunked.finish());
        }
    }

    #[test]
    fn known_vector_and_refusals() {
        let mut h = StreamingHash::new("SHA-256").expect("known");
        h.update(b"test");
        assert_eq!(hex::encode(h.finish()), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        assert!(StreamingHash::new("sha1").is_err());
        assert!(StreamingHash::new("md5").is_err());
    }
}
