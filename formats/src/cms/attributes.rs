//! The signed attributes of a CAdES-BES / CAdES-EPES signer (RFC 5652 §5.3, §11; RFC 5035;
//! ETSI EN 319 122-1 §5.1, §5.2.9).

use super::algorithm::{self as alg, hash_oid_der};
use super::certificate::SignerCertificate;
use super::der::{self, oid_arcs, sequence, tag};
use super::{CmsError, SignaturePolicy};
use sha2::{Digest, Sha256};

/// Everything the signed attributes are made of.
pub(crate) struct Attributes<'a> {
    /// The OBJECT IDENTIFIER element of `eContentType` (id-data, or the existing
    /// SignedData's when co-signing): the content-type attribute must repeat it.
    pub content_type: &'a [u8],
    pub message_digest: &'a [u8],
    /// Absent for PAdES, whose CMS must not have the signing-time attribute.
    pub signing_time: Option<i64>,
    pub signer: &'a SignerCertificate<'a>,
    pub policy: Option<&'a SignaturePolicy>,
}

/// `SignedAttributes` as the DER `SET OF Attribute` that is hashed and signed (RFC 5652
/// §5.4: the explicit SET OF tag, not the `[0]` that replaces it inside SignerInfo).
pub(crate) fn encode(a: &Attributes<'_>) -> Result<Vec<u8>, CmsError> {
    let mut attributes = vec![attribute(alg::ID_CONTENT_TYPE, a.content_type.to_vec())];
    if let Some(time) = a.signing_time {
        attributes.push(attribute(alg::ID_SIGNING_TIME, signing_time(time)?));
    }
    attributes.push(attribute(alg::ID_MESSAGE_DIGEST, der::octet_string(a.message_digest)));
    attributes.push(attribute(alg::ID_AA_SIGNING_CERTIFICATE_V2, signing_certificate_v2(a.signer)));
    if let Some(policy) = a.policy {
        attributes.push(attribute(alg::ID_AA_ETS_SIG_POLICY_ID, signature_policy_id(policy)?));
    }
    Ok(der::set_of(tag::SET, attributes))
}

/// `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }`
/// with one value.
fn attribute(oid: &[u128], value: Vec<u8>) -> Vec<u8> {
    sequence(&[&oid_arcs(oid), &der::set_of(tag::SET, vec![value])])
}

/// `SigningTime ::= Time`: UTCTime for 1950 to 2049, GeneralizedTime otherwise (RFC 5652
/// §11.3), both in UTC to the second.
fn signing_time(unix: i64) -> Result<Vec<u8>, CmsError> {
    // 1950-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    if !(-631_152_000..=253_402_300_799).contains(&unix) {
        return Err(CmsError::SigningTime(unix));
    }
    // "YYYY-MM-DDTHH:MM:SSZ" → digits only.
    let digits: String = crate::x509::rfc3339(unix).chars().filter(char::is_ascii_digit).collect();
    let year: u32 = digits[..4].parse().map_err(|_| CmsError::SigningTime(unix))?;
    Ok(if year < 2050 {
        der::tlv(tag::UTC_TIME, format!("{}Z", &digits[2..]).as_bytes())
    } else {
        der::tlv(tag::GENERALIZED_TIME, format!("{digits}Z").as_bytes())
    })
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }` with the signer's
/// certificate: `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT id-sha256 (left out),
/// certHash OCTET STRING, issuerSerial IssuerSerial }` (RFC 5035 §4). SHA-256 whatever hash
/// signs, as CAdES-BES asks even of legacy SHA-1 signatures.
fn signing_certificate_v2(signer: &SignerCertificate<'_>) -> Vec<u8> {
    let issuer_serial = issuer_serial(signer);
    let cert_hash = der::octet_string(&Sha256::digest(signer.der));
    let ess_cert_id_v2 = sequence(&[&cert_hash, &issuer_serial]);
    sequence(&[&sequence(&[&ess_cert_id_v2])])
}

/// `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }` (RFC 5035 §4) where
/// GeneralNames is a SEQUENCE OF GeneralName and the issuer a directoryName `[4]` (EXPLICIT:
/// Name is a CHOICE). Also XAdES's `IssuerSerialV2` (ETSI EN 319 132-1 §5.2.2), base64.
pub(crate) fn issuer_serial(signer: &SignerCertificate<'_>) -> Vec<u8> {
    let general_names = sequence(&[&der::tlv(tag::context(4), signer.issuer)]);
    sequence(&[&general_names, &der::tlv(tag::INTEGER, signer.serial)])
}

/// `SignaturePolicyIdentifier ::= CHOICE { signaturePolicyId SignaturePolicyId, … }` with
/// `SignaturePolicyId ::= SEQUENCE { sigPolicyId, sigPolicyHash OtherHashAlgAndValue,
/// sigPolicyQualifiers SEQUENCE OF SigPolicyQualifierInfo OPTIONAL }` and the SPURI as an
/// `id-spq-ets-uri` qualifier (ETSI EN 319 122-1 §5.2.9).
fn signature_policy_id(policy: &SignaturePolicy) -> Result<Vec<u8>, CmsError> {
    let oid =
        der::oid(&policy.oid).map_err(|_| CmsError::Policy(format!("{:?} is not an object identifier", policy.oid)))?;
    let expected = policy.hash_algorithm.digest_len();
    if policy.hash.len() != expected {
        return Err(CmsError::Policy(format!(
            "the policy hash has {} bytes, {} takes {expected}",
            policy.hash.len(),
            policy.hash_algorithm.name()
        )));
    }
    let hash = sequence(&[&sequence(&[&hash_oid_der(policy.hash_algorithm)]), &der::octet_string(&policy.hash)]);
    let mut fields = vec![oid, hash];
    if let Some(uri) = &policy.uri {
        if uri.is_empty() || !uri.is_ascii() || uri.bytes().any(|b| b.is_ascii_control()) {
            return Err(CmsError::Policy("the policy URI must be printable ASCII (IA5String)".into()));
        }
        let qualifier = sequence(&[&oid_arcs(alg::ID_SPQ_ETS_URI), &der::tlv(tag::IA5_STRING, uri.as_bytes())]);
        fields.push(sequence(&[&qualifier]));
    }
    let parts: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    Ok(sequence(&parts))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signing_time_switches_to_generalized_time_in_2050() {
        assert_eq!(signing_time(0).unwrap(), der::tlv(tag::UTC_TIME, b"700101000000Z"));
        // 2049-12-31T23:59:59Z and 2050-01-01T00:00:00Z.
        assert_eq!(signing_time(2_524_607_999).unwrap(), der::tlv(tag::UTC_TIME, b"491231235959Z"));
        assert_eq!(signing_time(2_524_608_000).unwrap(), der::tlv(tag::GENERALIZED_TIME, b"20500101000000Z"));
        assert_eq!(signing_time(-631_152_000).unwrap(), der::tlv(tag::UTC_TIME, b"500101000000Z"));
        assert!(signing_time(-631_152_001).is_err());
        assert!(signing_time(i64::MAX).is_err());
    }
}
