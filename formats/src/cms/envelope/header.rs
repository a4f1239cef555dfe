//! The parts before the encrypted content: recipient infos (RFC 5652 §6.2), key-transport
//! algorithms (RFC 3370 §4.2, RFC 3560 / RFC 4055 for OAEP) and content-encryption
//! algorithms (RFC 3370 §5.1 3DES, RFC 3565 AES-CBC, RFC 5084 AES-GCM). All DER here: the
//! parser normalised BER first.

use super::{
    dotted_oid, ContentEncryption, EnvelopeError, EnvelopeKind, KeyTransRecipient, KeyTransport, Recipient,
    RecipientIdentifier,
};
use crate::asn1::{self, Reader, Tlv};
use crate::cms::der::{self, tag};
use paraphe_protocol::HashAlgorithm;

pub(super) const ID_ENVELOPED_DATA: &[u128] = &[1, 2, 840, 113_549, 1, 7, 3];
/// `id-ct-authEnvelopedData` (RFC 5083 §1.1).
pub(super) const ID_AUTH_ENVELOPED_DATA: &[u128] = &[1, 2, 840, 113_549, 1, 9, 16, 1, 23];
const RSA_ENCRYPTION: &[u128] = &[1, 2, 840, 113_549, 1, 1, 1];
const RSAES_OAEP: &[u128] = &[1, 2, 840, 113_549, 1, 1, 7];
const MGF1: &[u128] = &[1, 2, 840, 113_549, 1, 1, 8];
const P_SPECIFIED: &[u128] = &[1, 2, 840, 113_549, 1, 1, 9];
const DES_EDE3_CBC: &[u128] = &[1, 2, 840, 113_549, 3, 7];
/// Content octets of `aes` (2.16.840.1.101.3.4.1); one more octet names the mode.
const AES_ARC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01];

fn is(oid: &Tlv<'_>, arcs: &[u128]) -> bool {
    oid.raw == der::oid_arcs(arcs).as_slice()
}

/// An AlgorithmIdentifier: the OID and the parameters, if any.
fn algorithm<'a>(tlv: &Tlv<'a>) -> Result<(Tlv<'a>, Option<Tlv<'a>>), EnvelopeError> {
    if tlv.tag != tag::SEQUENCE {
        return Err(EnvelopeError::Malformed("an AlgorithmIdentifier SEQUENCE was expected"));
    }
    let mut r = Reader::new(tlv.content);
    let oid = r.expect(tag::OID, "an algorithm OID was expected")?;
    let params = if r.is_empty() { None } else { Some(r.element()?) };
    r.finish("data after the algorithm parameters")?;
    Ok((oid, params))
}

/// The RecipientInfos SET (DER, tag included).
pub(super) fn recipients(der: &[u8]) -> Result<Vec<Recipient>, EnvelopeError> {
    let set = asn1::single(der, "data after the recipient infos")?;
    if set.tag != tag::SET {
        return Err(EnvelopeError::Malformed("the recipientInfos SET was expected"));
    }
    let elements = Reader::new(set.content).elements()?;
    if elements.is_empty() {
        return Err(EnvelopeError::Malformed("the pli has no recipient"));
    }
    elements
        .iter()
        .map(|ri| match ri.tag {
            tag::SEQUENCE => key_trans(ri).map(Recipient::KeyTransport),
            0xa1 => Ok(Recipient::Other { kind: "key agreement" }),
            0xa2 => Ok(Recipient::Other { kind: "key encryption key" }),
            0xa3 => Ok(Recipient::Other { kind: "password" }),
            0xa4 => Ok(Recipient::Other { kind: "other" }),
            _ => Err(EnvelopeError::Malformed("unknown kind of RecipientInfo")),
        })
        .collect()
}

/// KeyTransRecipientInfo (RFC 5652 §6.2.1).
fn key_trans(ri: &Tlv<'_>) -> Result<KeyTransRecipient, EnvelopeError> {
    let mut r = Reader::new(ri.content);
    r.expect(tag::INTEGER, "the KeyTransRecipientInfo version was expected")?;
    let rid_tlv = r.element()?;
    let rid = match rid_tlv.tag {
        tag::SEQUENCE => {
            let mut ias = Reader::new(rid_tlv.content);
            let issuer = ias.expect(tag::SEQUENCE, "the issuer Name was expected")?;
            let serial = ias.expect(tag::INTEGER, "the serial number was expected")?;
            ias.finish("data after the serial number")?;
            RecipientIdentifier::IssuerAndSerialNumber { issuer: issuer.raw.to_vec(), serial: serial.content.to_vec() }
        }
        0x80 => RecipientIdentifier::SubjectKeyIdentifier(rid_tlv.content.to_vec()),
        _ => return Err(EnvelopeError::Malformed("unknown RecipientIdentifier")),
    };
    let alg = r.element()?;
    let encrypted_key = r.expect(tag::OCTET_STRING, "the encryptedKey OCTET STRING was expected")?;
    r.finish("data after the encrypted key")?;
    Ok(KeyTransRecipient { rid, key_transport: key_transport(&alg)?, encrypted_key: encrypted_key.content.to_vec() })
}

fn key_transport(alg: &Tlv<'_>) -> Result<KeyTransport, EnvelopeError> {
    let (oid, params) = algorithm(alg)?;
    if is(&oid, RSA_ENCRYPTION) {
        return Ok(KeyTransport::RsaPkcs1);
    }
    if !is(&oid, RSAES_OAEP) {
        return Ok(KeyTransport::Unsupported { oid: dotted_oid(oid.content), reason: "unknown key transport" });
    }
    let unsupported = |reason| KeyTransport::Unsupported { oid: dotted_oid(oid.content), reason };
    // RSAES-OAEP-params (RFC 4055 §4.1), EXPLICIT tags, every field DEFAULT: SHA-1, MGF1
    // with SHA-1, an empty label. Absent (or NULL) parameters mean all defaults.
    let mut hash = Some(HashAlgorithm::Sha1);
    let mut mgf_hash = Some(HashAlgorithm::Sha1);
    if let Some(p) = params.filter(|p| p.tag != tag::NULL) {
        if p.tag != tag::SEQUENCE {
            return Err(EnvelopeError::Malformed("RSAES-OAEP-params must be a SEQUENCE"));
        }
        let mut r = Reader::new(p.content);
        if let Some(h) = r.optional(tag::context(0))? {
            hash = hash_algorithm(&asn1::single(h.content, "hashFunc")?)?;
        }
        if let Some(m) = r.optional(tag::context(1))? {
            let (mgf, mgf_params) = algorithm(&asn1::single(m.content, "maskGenFunc")?)?;
            if !is(&mgf, MGF1) {
                return Ok(unsupported("mask generation other than MGF1"));
            }
            let mgf_params = mgf_params.ok_or(EnvelopeError::Malformed("MGF1 without its hash"))?;
            mgf_hash = hash_algorithm(&mgf_params)?;
        }
        if let Some(s) = r.optional(tag::context(2))? {
            let (source, label) = algorithm(&asn1::single(s.content, "pSourceFunc")?)?;
            let empty = label.is_some_and(|l| l.tag == tag::OCTET_STRING && l.content.is_empty());
            if !is(&source, P_SPECIFIED) || !empty {
                return Ok(unsupported("OAEP with a label"));
            }
        }
        r.finish("data after the RSAES-OAEP parameters")?;
    }
    Ok(match (hash, mgf_hash) {
        (Some(h), Some(m)) if h == m => KeyTransport::RsaOaep { hash: h },
        (Some(_), Some(_)) => unsupported("OAEP with MGF1 over another hash"),
        _ => unsupported("OAEP with an unknown hash"),
    })
}

/// A hash AlgorithmIdentifier (parameters absent or NULL, RFC 4055 §2.1); `None` if unknown.
fn hash_algorithm(alg: &Tlv<'_>) -> Result<Option<HashAlgorithm>, EnvelopeError> {
    let (oid, _) = algorithm(alg)?;
    let arcs: [(&[u128], HashAlgorithm); 4] = [
        (&[1, 3, 14, 3, 2, 26], HashAlgorithm::Sha1),
        (&[2, 16, 840, 1, 101, 3, 4, 2, 1], HashAlgorithm::Sha256),
        (&[2, 16, 840, 1, 101, 3, 4, 2, 2], HashAlgorithm::Sha384),
        (&[2, 16, 840, 1, 101, 3, 4, 2, 3], HashAlgorithm::Sha512),
    ];
    Ok(arcs.iter().find(|(a, _)| is(&oid, a)).map(|(_, h)| *h))
}

/// The contentEncryptionAlgorithm (DER), checked against the envelope: GCM needs
/// AuthEnvelopedData, CBC needs EnvelopedData.
pub(super) fn content_encryption(der: &[u8], kind: EnvelopeKind) -> Result<ContentEncryption, EnvelopeError> {
    let tlv = asn1::single(der, "data after the content-encryption algorithm")?;
    let (oid, params) = algorithm(&tlv)?;
    let unsupported = |what| EnvelopeError::UnsupportedAlgorithm { what, oid: dotted_oid(oid.content) };
    let octets = |len: usize| -> Result<&[u8], EnvelopeError> {
        match params {
            Some(p) if p.tag == tag::OCTET_STRING && p.content.len() == len => Ok(p.content),
            _ => Err(EnvelopeError::Malformed("the CBC parameters must be an IV of one block")),
        }
    };
    let alg = if is(&oid, DES_EDE3_CBC) {
        let mut iv = [0u8; 8];
        iv.copy_from_slice(octets(8)?);
        ContentEncryption::DesEde3Cbc { iv }
    } else if let Some(mode) = oid.content.strip_prefix(AES_ARC) {
        match *mode {
            [m @ (2 | 22 | 42)] => {
                let mut iv = [0u8; 16];
                iv.copy_from_slice(octets(16)?);
                ContentEncryption::AesCbc { key_len: 16 + usize::from(m / 20) * 8, iv }
            }
            [m @ (6 | 26 | 46)] => {
                let (nonce, icv_len) = gcm_parameters(params)?;
                ContentEncryption::AesGcm { key_len: 16 + usize::from(m / 20) * 8, nonce, icv_len }
            }
            _ => return Err(unsupported("content-encryption")),
        }
    } else {
        return Err(unsupported("content-encryption"));
    };
    match (kind, alg.is_authenticated()) {
        (EnvelopeKind::Enveloped, false) | (EnvelopeKind::AuthEnveloped, true) => Ok(alg),
        (EnvelopeKind::Enveloped, true) => Err(unsupported("content-encryption (AES-GCM outside AuthEnvelopedData)")),
        (EnvelopeKind::AuthEnveloped, false) => {
            Err(unsupported("authenticated-encryption (AuthEnvelopedData needs an AEAD such as AES-GCM)"))
        }
    }
}

/// `GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }`
/// (RFC 5084 §3.2): the tag is 12 to 16 bytes.
fn gcm_parameters(params: Option<Tlv<'_>>) -> Result<(Vec<u8>, usize), EnvelopeError> {
    const BAD: EnvelopeError = EnvelopeError::Malformed("bad GCM parameters");
    let p = params.filter(|p| p.tag == tag::SEQUENCE).ok_or(BAD)?;
    let mut r = Reader::new(p.content);
    let nonce = r.expect(tag::OCTET_STRING, "the GCM nonce was expected")?;
    let icv_len = match r.optional(tag::INTEGER)? {
        None => 12,
        Some(i) => match i.content {
            [n @ 12..=16] => usize::from(*n),
            _ => return Err(BAD),
        },
    };
    r.finish("data after the GCM parameters")?;
    if nonce.content.is_empty() || nonce.content.len() > 128 {
        return Err(BAD);
    }
    Ok((nonce.content.to_vec(), icv_len))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn aes_key_lengths_from_the_oid() {
        for (last, key_len) in [(2u8, 16), (22, 24), (42, 32)] {
            let mut oid = AES_ARC.to_vec();
            oid.push(last);
            let alg = der::sequence(&[&der::tlv(tag::OID, &oid), &der::octet_string(&[7; 16])]);
            assert_eq!(
                content_encryption(&alg, EnvelopeKind::Enveloped).unwrap(),
                ContentEncryption::AesCbc { key_len, iv: [7; 16] }
            );
            assert!(content_encryption(&alg, EnvelopeKind::AuthEnveloped).is_err());
        }
        for (last, key_len) in [(6u8, 16), (26, 24), (46, 32)] {
            let mut oid = AES_ARC.to_vec();
            oid.push(last);
            let params = der::sequence(&[&der::octet_string(&[1; 12])]);
            let alg = der::sequence(&[&der::tlv(tag::OID, &oid), &params]);
            assert_eq!(
                content_encryption(&alg, EnvelopeKind::AuthEnveloped).unwrap(),
                ContentEncryption::AesGcm { key_len, nonce: vec![1; 12], icv_len: 12 }
            );
        }
    }

    #[test]
    fn unknown_algorithms_name_their_oid() {
        // rc2-cbc
        let alg = der::sequence(&[&der::oid_arcs(&[1, 2, 840, 113_549, 3, 2]), &der::octet_string(&[0; 8])]);
        assert_eq!(
            content_encryption(&alg, EnvelopeKind::Enveloped),
            Err(EnvelopeError::UnsupportedAlgorithm { what: "content-encryption", oid: "1.2.840.113549.3.2".into() })
        );
    }

    #[test]
    fn oaep_parameters() {
        let sha256 = der::sequence(&[&der::oid_arcs(&[2, 16, 840, 1, 101, 3, 4, 2, 1]), &der::null()]);
        let sha1 = der::sequence(&[&der::oid_arcs(&[1, 3, 14, 3, 2, 26])]);
        let mgf = |h: &[u8]| der::tlv(tag::context(1), &der::sequence(&[&der::oid_arcs(MGF1), h]));
        let oaep = |params: Option<Vec<u8>>| {
            let mut parts = vec![der::oid_arcs(RSAES_OAEP)];
            parts.extend(params);
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let seq = der::sequence(&refs);
            key_transport(&asn1::single(&seq, "x").unwrap()).unwrap()
        };
        assert_eq!(oaep(None), KeyTransport::RsaOaep { hash: HashAlgorithm::Sha1 });
        assert_eq!(oaep(Some(der::sequence(&[]))), KeyTransport::RsaOaep { hash: HashAlgorithm::Sha1 });
        let p = der::sequence(&[&der::tlv(tag::context(0), &sha256), &mgf(&sha256)]);
        assert_eq!(oaep(Some(p)), KeyTransport::RsaOaep { hash: HashAlgorithm::Sha256 });
        let p = der::sequence(&[&der::tlv(tag::context(0), &sha256), &mgf(&sha1)]);
        assert!(matches!(oaep(Some(p)), KeyTransport::Unsupported { .. }));
        let label =
            der::tlv(tag::context(2), &der::sequence(&[&der::oid_arcs(P_SPECIFIED), &der::octet_string(b"label")]));
        assert!(matches!(oaep(Some(der::sequence(&[&label]))), KeyTransport::Unsupported { .. }));
    }
}
