//! Object identifiers and AlgorithmIdentifiers for CMS signatures.
//!
//! Digest algorithms carry no parameters (RFC 5754 §2, RFC 3370 §2.1). RSA PKCS#1 v1.5
//! signatures are named `sha*WithRSAEncryption` with NULL parameters (RFC 5754 §3.2), RSA-PSS
//! `id-RSASSA-PSS` with its parameters (RFC 4056 §2, RFC 4055 §3.1: MGF1 with the same hash,
//! salt as long as the digest), ECDSA `ecdsa-with-SHA*` without parameters (RFC 5753 §7.1.3,
//! RFC 5758 §3.2).

use super::der::{self, oid_arcs, sequence, tag};
use paraphe_protocol::{HashAlgorithm, SignatureScheme};

pub(crate) const ID_DATA: &[u128] = &[1, 2, 840, 113_549, 1, 7, 1];
pub(crate) const ID_SIGNED_DATA: &[u128] = &[1, 2, 840, 113_549, 1, 7, 2];
pub(crate) const ID_CONTENT_TYPE: &[u128] = &[1, 2, 840, 113_549, 1, 9, 3];
pub(crate) const ID_MESSAGE_DIGEST: &[u128] = &[1, 2, 840, 113_549, 1, 9, 4];
pub(crate) const ID_SIGNING_TIME: &[u128] = &[1, 2, 840, 113_549, 1, 9, 5];
/// `id-aa-ets-sigPolicyId` (ETSI EN 319 122-1 §5.2.9, RFC 5126 §5.8.1).
pub(crate) const ID_AA_ETS_SIG_POLICY_ID: &[u128] = &[1, 2, 840, 113_549, 1, 9, 16, 2, 15];
/// `id-aa-signingCertificateV2` (RFC 5035 §3).
pub(crate) const ID_AA_SIGNING_CERTIFICATE_V2: &[u128] = &[1, 2, 840, 113_549, 1, 9, 16, 2, 47];
/// `id-spq-ets-uri` (RFC 5126 §5.8.1).
pub(crate) const ID_SPQ_ETS_URI: &[u128] = &[1, 2, 840, 113_549, 1, 9, 16, 5, 1];

const RSASSA_PSS: &[u128] = &[1, 2, 840, 113_549, 1, 1, 10];
const MGF1: &[u128] = &[1, 2, 840, 113_549, 1, 1, 8];

fn hash_oid(hash: HashAlgorithm) -> &'static [u128] {
    match hash {
        HashAlgorithm::Sha1 => &[1, 3, 14, 3, 2, 26],
        HashAlgorithm::Sha256 => &[2, 16, 840, 1, 101, 3, 4, 2, 1],
        HashAlgorithm::Sha384 => &[2, 16, 840, 1, 101, 3, 4, 2, 2],
        HashAlgorithm::Sha512 => &[2, 16, 840, 1, 101, 3, 4, 2, 3],
    }
}

/// The OBJECT IDENTIFIER element of a hash function.
pub(crate) fn hash_oid_der(hash: HashAlgorithm) -> Vec<u8> {
    oid_arcs(hash_oid(hash))
}

/// `DigestAlgorithmIdentifier` with absent parameters.
pub(crate) fn digest_algorithm(hash: HashAlgorithm) -> Vec<u8> {
    sequence(&[&hash_oid_der(hash)])
}

/// `SignatureAlgorithmIdentifier` for `scheme` over `hash`.
pub(crate) fn signature_algorithm(scheme: SignatureScheme, hash: HashAlgorithm) -> Vec<u8> {
    match scheme {
        SignatureScheme::RsaPkcs1 => {
            let last = match hash {
                HashAlgorithm::Sha1 => 5,
                HashAlgorithm::Sha256 => 11,
                HashAlgorithm::Sha384 => 12,
                HashAlgorithm::Sha512 => 13,
            };
            sequence(&[&oid_arcs(&[1, 2, 840, 113_549, 1, 1, last]), &der::null()])
        }
        SignatureScheme::Ecdsa => {
            let oid: &[u128] = match hash {
                HashAlgorithm::Sha1 => &[1, 2, 840, 10_045, 4, 1],
                HashAlgorithm::Sha256 => &[1, 2, 840, 10_045, 4, 3, 2],
                HashAlgorithm::Sha384 => &[1, 2, 840, 10_045, 4, 3, 3],
                HashAlgorithm::Sha512 => &[1, 2, 840, 10_045, 4, 3, 4],
            };
            sequence(&[&oid_arcs(oid)])
        }
        SignatureScheme::RsaPss => sequence(&[&oid_arcs(RSASSA_PSS), &pss_parameters(hash)]),
    }
}

/// `RSASSA-PSS-params` (RFC 4055 §3.1). DER leaves out fields equal to their DEFAULT
/// (SHA-1, MGF1 with SHA-1, salt 20, trailer 1), so for SHA-1 the SEQUENCE is empty. Hash
/// identifiers inside take NULL parameters, as RFC 4055 §2.1 requires here.
fn pss_parameters(hash: HashAlgorithm) -> Vec<u8> {
    if hash == HashAlgorithm::Sha1 {
        return sequence(&[]);
    }
    let hash_id = sequence(&[&hash_oid_der(hash), &der::null()]);
    let mgf = sequence(&[&oid_arcs(MGF1), &hash_id]);
    let salt = der::small_integer(hash.digest_len() as u8);
    sequence(&[
        &der::tlv(tag::context(0), &hash_id),
        &der::tlv(tag::context(1), &mgf),
        &der::tlv(tag::context(2), &salt),
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pss_sha256_parameters_match_openssl() {
        // `openssl cms -sign -keyopt rsa_padding_mode:pss` writes these bytes.
        let expected = hex::decode(
            "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120",
        )
        .unwrap();
        assert_eq!(signature_algorithm(SignatureScheme::RsaPss, HashAlgorithm::Sha256), expected);
    }

    #[test]
    fn pss_sha1_parameters_are_all_default() {
        assert_eq!(
            signature_algorithm(SignatureScheme::RsaPss, HashAlgorithm::Sha1),
            [0x30, 0x0d, 6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 10, 0x30, 0]
        );
    }
}
