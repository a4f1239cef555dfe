//! `ContentInfo` / `SignedData` as a list of encoded pieces (RFC 5652 §3, §5.1).
//!
//! A new signature is a SignedData with no piece yet; a co-signature starts from the pieces
//! of an existing one. Either way the new SignerInfo, its digest algorithm and certificates
//! are added and the whole is written again, each existing piece byte for byte.

use super::algorithm::{self as alg, ID_SIGNED_DATA};
use super::der::{self, oid_arcs, sequence, tag, DerError};
use crate::asn1::{self, Reader, Tlv};

/// The pieces of a SignedData.
#[derive(Clone, Debug, Default)]
pub(crate) struct SignedData {
    /// `CMSVersion`.
    pub version: u8,
    /// `DigestAlgorithmIdentifier` elements.
    pub digest_algorithms: Vec<Vec<u8>>,
    /// The whole `EncapsulatedContentInfo` element.
    pub encap_content_info: Vec<u8>,
    /// `CertificateChoices` elements of `certificates [0] IMPLICIT CertificateSet`.
    pub certificates: Vec<Vec<u8>>,
    /// The whole `crls [1]` element, if any.
    pub crls: Option<Vec<u8>>,
    /// `SignerInfo` elements.
    pub signer_infos: Vec<Vec<u8>>,
}

impl SignedData {
    /// A detached SignedData over `id-data` with nothing in it yet.
    pub fn detached() -> Self {
        Self { version: 1, encap_content_info: sequence(&[&oid_arcs(alg::ID_DATA)]), ..Self::default() }
    }

    /// Splits a DER `ContentInfo` holding a SignedData.
    pub fn parse(content_info: &[u8]) -> Result<Self, DerError> {
        let ci = asn1::single(content_info, "data after the ContentInfo")?;
        if ci.tag != tag::SEQUENCE {
            return Err(DerError("not a CMS ContentInfo"));
        }
        let mut ci = Reader::new(ci.content);
        let content_type = ci.expect(tag::OID, "not a CMS ContentInfo")?;
        if content_type.raw != oid_arcs(ID_SIGNED_DATA).as_slice() {
            return Err(DerError("the CMS content is not SignedData"));
        }
        let explicit = ci.expect(tag::context(0), "ContentInfo without content")?;
        ci.finish("unexpected field after the ContentInfo content")?;
        let sd = asn1::single(explicit.content, "data after the SignedData")?;
        if sd.tag != tag::SEQUENCE {
            return Err(DerError("SignedData is not a SEQUENCE"));
        }

        let mut r = Reader::new(sd.content);
        let version = match r.expect(tag::INTEGER, "SignedData without version")?.content {
            [v] if *v <= 5 => *v,
            _ => return Err(DerError("unknown SignedData version")),
        };
        let digest_algorithms = r.expect(tag::SET, "SignedData without digestAlgorithms")?;
        let encap = r.expect(tag::SEQUENCE, "SignedData without encapContentInfo")?;
        Reader::new(encap.content).expect(tag::OID, "encapContentInfo without eContentType")?;
        let certificates = r.optional(tag::context(0))?;
        let crls = r.optional(tag::context(1))?;
        let signer_infos = r.expect(tag::SET, "SignedData without signerInfos")?;
        r.finish("unexpected field at the end of SignedData")?;

        let owned = |tlvs: Vec<Tlv<'_>>| tlvs.iter().map(|t| t.raw.to_vec()).collect::<Vec<_>>();
        Ok(Self {
            version,
            digest_algorithms: owned(Reader::new(digest_algorithms.content).elements()?),
            encap_content_info: encap.raw.to_vec(),
            certificates: match certificates {
                Some(c) => owned(Reader::new(c.content).elements()?),
                None => Vec::new(),
            },
            crls: crls.map(|c| c.raw.to_vec()),
            signer_infos: owned(Reader::new(signer_infos.content).elements()?),
        })
    }

    /// The OBJECT IDENTIFIER element of `eContentType`.
    pub fn content_type(&self) -> Result<Vec<u8>, DerError> {
        let encap = asn1::single(&self.encap_content_info, "data after encapContentInfo")?;
        Ok(Reader::new(encap.content).expect(tag::OID, "encapContentInfo without eContentType")?.raw.to_vec())
    }

    /// Adds a digest algorithm unless one with the same OID is there (with NULL or absent
    /// parameters, RFC 5754 §2).
    pub fn add_digest_algorithm(&mut self, algorithm: Vec<u8>) {
        let oid_of = |a: &[u8]| -> Option<Vec<u8>> {
            let seq = asn1::single(a, "").ok()?;
            Some(Reader::new(seq.content).element().ok()?.raw.to_vec())
        };
        let wanted = oid_of(&algorithm);
        if !self.digest_algorithms.iter().any(|a| oid_of(a) == wanted) {
            self.digest_algorithms.push(algorithm);
        }
    }

    /// Adds a certificate unless the same bytes are there.
    pub fn add_certificate(&mut self, certificate: &[u8]) {
        if !self.certificates.iter().any(|c| c == certificate) {
            self.certificates.push(certificate.to_vec());
        }
    }

    /// The DER `ContentInfo`. SET OF elements are put in DER order (X.690 §11.6), which
    /// moves no byte inside any of them.
    pub fn encode(&self) -> Vec<u8> {
        let mut fields = vec![
            der::small_integer(self.version),
            der::set_of(tag::SET, self.digest_algorithms.clone()),
            self.encap_content_info.clone(),
        ];
        if !self.certificates.is_empty() {
            fields.push(der::set_of(tag::context(0), self.certificates.clone()));
        }
        if let Some(crls) = &self.crls {
            fields.push(crls.clone());
        }
        fields.push(der::set_of(tag::SET, self.signer_infos.clone()));
        let parts: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        let signed_data = sequence(&parts);
        sequence(&[&oid_arcs(ID_SIGNED_DATA), &der::tlv(tag::context(0), &signed_data)])
    }
}

/// What a co-signature checks in a SignerInfo already there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExistingSigner {
    /// The OBJECT IDENTIFIER element of its digest algorithm.
    pub digest_oid: Vec<u8>,
    /// Its message-digest attribute, if it has signed attributes.
    pub message_digest: Option<Vec<u8>>,
}

/// Reads `SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT
/// OPTIONAL, … }` (RFC 5652 §5.3) as far as the message digest.
pub(crate) fn existing_signer(signer_info: &[u8]) -> Result<ExistingSigner, DerError> {
    let si = asn1::single(signer_info, "data after a SignerInfo")?;
    let mut r = Reader::new(si.content);
    r.expect(tag::INTEGER, "SignerInfo without version")?;
    r.element()?; // sid: IssuerAndSerialNumber or [0] SubjectKeyIdentifier
    let digest_algorithm = r.expect(tag::SEQUENCE, "SignerInfo without digestAlgorithm")?;
    let digest_oid =
        Reader::new(digest_algorithm.content).expect(tag::OID, "digestAlgorithm without OID")?.raw.to_vec();
    let mut message_digest = None;
    if let Some(attrs) = r.optional(tag::context(0))? {
        let md_oid = oid_arcs(alg::ID_MESSAGE_DIGEST);
        for attribute in Reader::new(attrs.content).elements()? {
            let mut a = Reader::new(attribute.content);
            if a.expect(tag::OID, "attribute without type")?.raw == md_oid.as_slice() {
                let values = a.expect(tag::SET, "attribute without values")?;
                let value = asn1::single(values.content, "message-digest with several values")?;
                if value.tag != tag::OCTET_STRING {
                    return Err(DerError("message-digest is not an OCTET STRING"));
                }
                message_digest = Some(value.content.to_vec());
            }
        }
    }
    Ok(ExistingSigner { digest_oid, message_digest })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn detached_round_trip() {
        let mut sd = SignedData::detached();
        sd.add_digest_algorithm(alg::digest_algorithm(paraphe_protocol::HashAlgorithm::Sha256));
        sd.add_digest_algorithm(sequence(&[&alg::hash_oid_der(paraphe_protocol::HashAlgorithm::Sha256), &der::null()]));
        assert_eq!(sd.digest_algorithms.len(), 1, "same OID with NULL parameters is the same algorithm");
        sd.add_certificate(&[0x30, 0]);
        sd.add_certificate(&[0x30, 0]);
        sd.signer_infos.push(sequence(&[&der::small_integer(1)]));
        let encoded = sd.encode();
        let back = SignedData::parse(&encoded).unwrap();
        assert_eq!(back.encode(), encoded);
        assert_eq!(back.certificates.len(), 1);
        assert_eq!(back.content_type().unwrap(), oid_arcs(alg::ID_DATA));
    }

    #[test]
    fn not_signed_data() {
        let enveloped =
            sequence(&[&oid_arcs(&[1, 2, 840, 113_549, 1, 7, 3]), &der::tlv(tag::context(0), &sequence(&[]))]);
        assert_eq!(SignedData::parse(&enveloped).unwrap_err(), DerError("the CMS content is not SignedData"));
        assert!(SignedData::parse(&[0x30, 0x00]).is_err());
        assert!(SignedData::parse(b"-----BEGIN PKCS7-----").is_err());
    }
}
