//! Signature algorithms the host can be asked for.

use serde::{Deserialize, Serialize};

/// Hash function that produced a digest. The digest length must match
/// [`HashAlgorithm::digest_len`]; SHA-1 survives only for legacy CMS/PES flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    /// Length in bytes of a digest made by this function.
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Wire name, as used in JSON and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        let wanted = name.replace('-', "").to_ascii_lowercase();
        Self::ALL.into_iter().find(|h| h.name() == wanted)
    }
}

/// How the key turns a digest into a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2); the host wraps the digest in a DigestInfo.
    RsaPkcs1,
    /// RSASSA-PSS (RFC 8017 §8.1), MGF1 with the same hash, salt length = digest length.
    RsaPss,
    /// ECDSA over the digest (FIPS 186-4); see [`EcdsaEncoding`] for the output form.
    Ecdsa,
}

impl SignatureScheme {
    pub const fn name(self) -> &'static str {
        match self {
            Self::RsaPkcs1 => "rsa-pkcs1",
            Self::RsaPss => "rsa-pss",
            Self::Ecdsa => "ecdsa",
        }
    }
}

/// Output form of an ECDSA signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EcdsaEncoding {
    /// `r || s`, each left-padded to the curve size, as PKCS#11 `CKM_ECDSA` returns it and
    /// as JWS (ES256…) and XML-DSig expect.
    #[default]
    Raw,
    /// DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3), as CMS
    /// and X.509 expect.
    Der,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for h in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::from_name(h.name()), Some(h));
            let json = serde_json::to_string(&h).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", h.name()));
        }
        assert_eq!(HashAlgorithm::from_name("SHA-256"), Some(HashAlgorithm::Sha256));
        assert_eq!(HashAlgorithm::from_name("md5"), None);
    }
}
