//! Streaming document digests: the caller feeds chunks as it reads them (`Blob.stream()`),
//! so a document is never held whole, neither in JS nor here.

use crate::error::PageError;
use paraphe_formats::hash::Hasher;
use paraphe_protocol::HashAlgorithm;

/// SHA-1 is deliberately absent: new document signatures must not use it.
pub struct StreamingHash(Hasher);

impl StreamingHash {
    pub fn new(algorithm: &str) -> Result<Self, PageError> {
        match HashAlgorithm::from_name(algorithm) {
            Some(h @ (HashAlgorithm::Sha256 | HashAlgorithm::Sha384 | HashAlgorithm::Sha512)) => {
                Ok(Self(Hasher::new(h)))
            }
            _ => Err(PageError::invalid(format!(
                "documents are hashed with sha256, sha384 or sha512, not {algorithm:?}"
            ))),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.finish()
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
