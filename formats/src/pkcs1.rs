//! RSASSA-PKCS1-v1_5 DigestInfo (RFC 8017 §9.2, note 1).
//!
//! PKCS#11 `CKM_RSA_PKCS` signs its input as is, so to sign a digest the caller must
//! prefix it with the DER `DigestInfo` header of its hash algorithm.

use paraphe_protocol::HashAlgorithm;

/// DER header of `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest
/// OCTET STRING }` up to and including the OCTET STRING length (RFC 8017 §9.2 note 1).
pub const fn digest_info_prefix(hash: HashAlgorithm) -> &'static [u8] {
    match hash {
        HashAlgorithm::Sha1 => {
            &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]
        }
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    }
}

/// `DigestInfo` for `digest`. The caller has checked the digest's length.
pub fn digest_info(hash: HashAlgorithm, digest: &[u8]) -> Vec<u8> {
    let prefix = digest_info_prefix(hash);
    let mut out = Vec::with_capacity(prefix.len() + digest.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(digest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_announce_the_digest() {
        for h in HashAlgorithm::ALL {
            let p = digest_info_prefix(h);
            // Outer SEQUENCE length covers the rest of the prefix plus the digest.
            assert_eq!(usize::from(p[1]), p.len() - 2 + h.digest_len(), "{h:?}");
            assert_eq!(usize::from(p[p.len() - 1]), h.digest_len(), "{h:?}");
        }
    }
}
