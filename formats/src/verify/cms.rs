//! Reading a CMS SignedData (RFC 5652 §5) for verification, and checking its signer's
//! signature: the signed attributes (DER SET OF, §5.4), `messageDigest` against the content,
//! the signature over them with the signer's public key (RSA PKCS#1 v1.5, RSA-PSS with
//! SHA-2, ECDSA P-256/P-384).

use crate::asn1::{single, Reader, Tlv};
use crate::hash::digest;
use paraphe_protocol::HashAlgorithm;
use x509_parser::oid_registry::Oid;

use super::VerifyError;

const SEQ: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const INT: u8 = 0x02;
const OCTETS: u8 = 0x04;

pub(crate) const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const ATTR_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
const ATTR_SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";
const ATTR_SIGNING_CERTIFICATE: &str = "1.2.840.113549.1.9.16.2.12";
const ATTR_TIMESTAMP_TOKEN: &str = "1.2.840.113549.1.9.16.2.14";

fn err(what: &str) -> VerifyError {
    VerifyError(what.to_owned())
}

fn tlv<'a>(r: &mut Reader<'a>, tag: u8, what: &'static str) -> Result<Tlv<'a>, VerifyError> {
    r.expect(tag, what).map_err(|_| err(what))
}

pub(crate) fn oid_of(content: &[u8]) -> String {
    crate::x509::oid_string(&Oid::new(std::borrow::Cow::Borrowed(content)))
}

pub(crate) fn hash_of_oid(oid: &str) -> Option<HashAlgorithm> {
    Some(match oid {
        "1.3.14.3.2.26" => HashAlgorithm::Sha1,
        "2.16.840.1.101.3.4.2.1" => HashAlgorithm::Sha256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithm::Sha384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithm::Sha512,
        _ => return None,
    })
}

pub(crate) fn hash_name(h: HashAlgorithm) -> &'static str {
    match h {
        HashAlgorithm::Sha1 => "SHA-1",
        HashAlgorithm::Sha256 => "SHA-256",
        HashAlgorithm::Sha384 => "SHA-384",
        HashAlgorithm::Sha512 => "SHA-512",
    }
}

/// One SignerInfo, as read.
#[derive(Debug)]
pub(crate) struct Signer {
    /// `issuerAndSerialNumber`: the issuer Name's DER and the serial's content octets.
    pub issuer_serial: Option<(Vec<u8>, Vec<u8>)>,
    /// `subjectKeyIdentifier`.
    pub ski: Option<Vec<u8>>,
    pub digest: HashAlgorithm,
    /// The signed attributes re-tagged as `SET OF` (what the signature covers), if any.
    pub signed_attrs: Option<Vec<u8>>,
    pub content_type_ok: bool,
    pub message_digest: Option<Vec<u8>>,
    pub signing_time: Option<String>,
    /// ESSCertIDv2/ESSCertID: (hash algorithm, certHash).
    pub signing_certificate: Option<(HashAlgorithm, Vec<u8>)>,
    /// signatureAlgorithm: OID and parameters (DER).
    pub signature_algorithm: (String, Vec<u8>),
    pub signature: Vec<u8>,
    pub timestamped: bool,
}

/// A SignedData: certificates (DER) and signers.
#[derive(Debug)]
pub(crate) struct SignedData {
    pub certificates: Vec<Vec<u8>>,
    pub signers: Vec<Signer>,
    /// Encapsulated content, when the signature is not detached.
    pub content: Option<Vec<u8>>,
}

/// Parses a ContentInfo holding a SignedData (DER or BER; trailing zero padding, as in a
/// PDF's `/Contents`, is ignored).
pub(crate) fn parse(input: &[u8]) -> Result<SignedData, VerifyError> {
    let der = first_element_der(input)?;
    let ci = single(&der, "data after the signature").map_err(|_| err("not a CMS signature"))?;
    let mut r = Reader::new(ci.content);
    let ct = tlv(&mut r, OID, "not a CMS ContentInfo")?;
    if oid_of(ct.content) != SIGNED_DATA {
        return Err(err("not a CMS SignedData"));
    }
    let explicit = tlv(&mut r, 0xa0, "no SignedData content")?;
    let sd = single(explicit.content, "data after the SignedData").map_err(|_| err("bad SignedData"))?;
    let mut r = Reader::new(sd.content);
    tlv(&mut r, INT, "SignedData version")?;
    tlv(&mut r, SET, "SignedData digestAlgorithms")?;
    let encap = tlv(&mut r, SEQ, "SignedData encapContentInfo")?;
    let mut er = Reader::new(encap.content);
    tlv(&mut er, OID, "encapContentInfo type")?;
    let content = match er.optional(0xa0).map_err(|_| err("encapContentInfo content"))? {
        Some(c) => {
            let oct = single(c.content, "encapsulated content").map_err(|_| err("encapsulated content"))?;
            Some(oct.content.to_vec())
        }
        None => None,
    };
    let mut certificates = Vec::new();
    if let Some(certs) = r.optional(0xa0).map_err(|_| err("SignedData certificates"))? {
        for c in Reader::new(certs.content).elements().map_err(|_| err("SignedData certificates"))? {
            if c.tag == SEQ {
                certificates.push(c.raw.to_vec());
            }
        }
    }
    r.optional(0xa1).map_err(|_| err("SignedData crls"))?;
    let infos = tlv(&mut r, SET, "SignedData signerInfos")?;
    let mut signers = Vec::new();
    for si in Reader::new(infos.content).elements().map_err(|_| err("SignerInfo"))? {
        signers.push(signer(si.content)?);
    }
    if signers.is_empty() {
        return Err(err("the signature has no signer"));
    }
    Ok(SignedData { certificates, signers, content })
}

/// The DER form of the first BER element of `input`: PDF `/Contents` are padded with zeros
/// after it. An indefinite-length element ends in end-of-contents octets, which are zeros
/// too: the padding is trimmed and as many of them given back as make the element whole.
fn first_element_der(input: &[u8]) -> Result<Vec<u8>, VerifyError> {
    use crate::asn1::{Codec, Header, Length};
    let mut head = Reader::new(input);
    let h = Header::read(&mut head).map_err(|_| err("not a CMS signature"))?;
    let bad = |e: crate::cms::der::DerError| VerifyError(format!("not a CMS signature: {e}"));
    match h.length {
        Length::Definite(len) => {
            let end = usize::try_from(len).ok().and_then(|l| l.checked_add(h.size())).filter(|e| *e <= input.len());
            let end = end.ok_or_else(|| err("the signature is truncated"))?;
            crate::cms::ber::to_der(&input[..end]).map_err(bad)
        }
        Length::Indefinite => {
            let trimmed = input.len() - input.iter().rev().take_while(|b| **b == 0).count();
            let mut last = err("not a CMS signature");
            for eocs in 1..=crate::asn1::MAX_DEPTH {
                let Some(end) = trimmed.checked_add(2 * eocs).filter(|e| *e <= input.len()) else { break };
                match crate::cms::ber::to_der(&input[..end]) {
                    Ok(der) => return Ok(der),
                    Err(e) => last = bad(e),
                }
            }
            Err(last)
        }
    }
}

fn algorithm(t: &Tlv<'_>) -> Result<(String, Vec<u8>), VerifyError> {
    let mut r = Reader::new(t.content);
    let oid = tlv(&mut r, OID, "algorithm identifier")?;
    Ok((oid_of(oid.content), r.rest().to_vec()))
}

fn signer(content: &[u8]) -> Result<Signer, VerifyError> {
    let mut r = Reader::new(content);
    tlv(&mut r, INT, "SignerInfo version")?;
    let sid = r.element().map_err(|_| err("SignerInfo sid"))?;
    let (issuer_serial, ski) = if sid.tag == SEQ {
        let mut s = Reader::new(sid.content);
        let issuer = tlv(&mut s, SEQ, "sid issuer")?;
        let serial = tlv(&mut s, INT, "sid serial")?;
        (Some((issuer.raw.to_vec(), serial.content.to_vec())), None)
    } else if sid.tag == 0x80 {
        (None, Some(sid.content.to_vec()))
    } else {
        return Err(err("SignerInfo sid"));
    };
    let dig = tlv(&mut r, SEQ, "SignerInfo digestAlgorithm")?;
    let (dig_oid, _) = algorithm(&dig)?;
    let digest =
        hash_of_oid(&dig_oid).ok_or_else(|| VerifyError(format!("digest algorithm {dig_oid} not supported")))?;
    let mut out = Signer {
        issuer_serial,
        ski,
        digest,
        signed_attrs: None,
        content_type_ok: false,
        message_digest: None,
        signing_time: None,
        signing_certificate: None,
        signature_algorithm: (String::new(), Vec::new()),
        signature: Vec::new(),
        timestamped: false,
    };
    if let Some(attrs) = r.optional(0xa0).map_err(|_| err("signed attributes"))? {
        let mut set = attrs.raw.to_vec();
        set[0] = SET;
        out.signed_attrs = Some(set);
        for a in Reader::new(attrs.content).elements().map_err(|_| err("signed attributes"))? {
            let mut ar = Reader::new(a.content);
            let id = oid_of(tlv(&mut ar, OID, "attribute type")?.content);
            let values = tlv(&mut ar, SET, "attribute values")?;
            let first = Reader::new(values.content).element().map_err(|_| err("attribute value"))?;
            match id.as_str() {
                ATTR_CONTENT_TYPE => out.content_type_ok = true,
                ATTR_MESSAGE_DIGEST if first.tag == OCTETS => out.message_digest = Some(first.content.to_vec()),
                ATTR_SIGNING_TIME => out.signing_time = time(&first),
                ATTR_SIGNING_CERTIFICATE_V2 | ATTR_SIGNING_CERTIFICATE => {
                    out.signing_certificate = ess_cert_id(&first, id == ATTR_SIGNING_CERTIFICATE_V2);
                }
                _ => {}
            }
        }
    }
    let sig_alg = tlv(&mut r, SEQ, "SignerInfo signatureAlgorithm")?;
    out.signature_algorithm = algorithm(&sig_alg)?;
    out.signature = tlv(&mut r, OCTETS, "SignerInfo signature")?.content.to_vec();
    if let Some(unsigned) = r.optional(0xa1).map_err(|_| err("unsigned attributes"))? {
        for a in Reader::new(unsigned.content).elements().map_err(|_| err("unsigned attributes"))? {
            let mut ar = Reader::new(a.content);
            if oid_of(tlv(&mut ar, OID, "attribute type")?.content) == ATTR_TIMESTAMP_TOKEN {
                out.timestamped = true;
            }
        }
    }
    Ok(out)
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, … }`,
/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, … }`
/// (RFC 5035); v1 (RFC 2634) has SHA-1 and no algorithm.
fn ess_cert_id(value: &Tlv<'_>, v2: bool) -> Option<(HashAlgorithm, Vec<u8>)> {
    let certs = Reader::new(value.content).element().ok()?;
    let first = Reader::new(certs.content).element().ok()?;
    let mut r = Reader::new(first.content);
    let mut hash = if v2 { HashAlgorithm::Sha256 } else { HashAlgorithm::Sha1 };
    if v2 && r.peek_tag() == Some(SEQ) {
        let alg = r.element().ok()?;
        hash = hash_of_oid(&algorithm(&alg).ok()?.0)?;
    }
    let h = r.expect(OCTETS, "certHash").ok()?;
    Some((hash, h.content.to_vec()))
}

/// UTCTime or GeneralizedTime → RFC 3339 (`Z` only, as CMS requires).
pub(crate) fn time(t: &Tlv<'_>) -> Option<String> {
    let s = std::str::from_utf8(t.content).ok()?;
    let s = s.strip_suffix('Z')?;
    let (year, rest) = match t.tag {
        0x17 if s.len() >= 10 => {
            let yy: u32 = s[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &s[2..])
        }
        0x18 if s.len() >= 12 => (s[..4].parse().ok()?, &s[4..]),
        _ => return None,
    };
    let part = |i: usize| rest.get(i..i + 2).and_then(|p| p.parse::<u32>().ok());
    let sec = part(8).unwrap_or(0);
    Some(format!("{year:04}-{:02}-{:02}T{:02}:{:02}:{sec:02}Z", part(0)?, part(2)?, part(4)?, part(6)?))
}

/// The hash a signature is computed with: RSA-PSS's parameters, else the one the signature
/// algorithm names, else the signer's digest algorithm.
pub(crate) fn effective_hash(alg: &(String, Vec<u8>), hash: HashAlgorithm) -> HashAlgorithm {
    match alg.0.as_str() {
        "1.2.840.113549.1.1.10" => pss_hash(&alg.1).unwrap_or(HashAlgorithm::Sha1),
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => HashAlgorithm::Sha1,
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => HashAlgorithm::Sha256,
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => HashAlgorithm::Sha384,
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => HashAlgorithm::Sha512,
        _ => hash,
    }
}

/// Checks `signature` over `data` with the SubjectPublicKeyInfo `spki` (DER), for the
/// signature algorithm `alg` (OID, DER parameters) and the signer's digest `hash`.
pub(crate) fn check_signature(
    spki: &[u8],
    alg: &(String, Vec<u8>),
    hash: HashAlgorithm,
    data: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let hash = effective_hash(alg, hash);
    check_prehashed(spki, alg, hash, &digest(hash, data), signature)
}

/// Checks `signature` over data whose `hash` digest is `hashed`.
pub(crate) fn check_prehashed(
    spki: &[u8],
    alg: &(String, Vec<u8>),
    hash: HashAlgorithm,
    hashed: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    use rsa::pkcs8::DecodePublicKey;
    let bad = || err("the signature does not match the signed data");
    let rsa_key = || rsa::RsaPublicKey::from_public_key_der(spki).map_err(|_| err("the signer's key is not RSA"));
    match alg.0.as_str() {
        "1.2.840.113549.1.1.1"
        | "1.2.840.113549.1.1.5"
        | "1.2.840.113549.1.1.11"
        | "1.2.840.113549.1.1.12"
        | "1.2.840.113549.1.1.13" => {
            let info = crate::pkcs1::digest_info(hash, hashed);
            rsa_key()?.verify(rsa::Pkcs1v15Sign::new_unprefixed(), &info, signature).map_err(|_| bad())
        }
        "1.2.840.113549.1.1.10" => {
            let salt = pss_salt_length(&alg.1);
            let scheme = match hash {
                HashAlgorithm::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
                HashAlgorithm::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                HashAlgorithm::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
                HashAlgorithm::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
            };
            rsa_key()?.verify(scheme, hashed, signature).map_err(|_| bad())
        }
        "1.2.840.10045.2.1"
        | "1.2.840.10045.4.1"
        | "1.2.840.10045.4.3.2"
        | "1.2.840.10045.4.3.3"
        | "1.2.840.10045.4.3.4" => match ecdsa(spki, hashed, signature)? {
            true => Ok(()),
            false => Err(bad()),
        },
        other => Err(VerifyError(format!("signature algorithm {other} not supported"))),
    }
}

/// RSASSA-PSS-params' hash algorithm (`[0] HashAlgorithm DEFAULT sha1`, RFC 4055 §3.1).
fn pss_hash(params: &[u8]) -> Option<HashAlgorithm> {
    let seq = Reader::new(params).element().ok()?;
    let mut r = Reader::new(seq.content);
    let h = r.optional(0xa0).ok()??;
    let alg = single(h.content, "").ok()?;
    hash_of_oid(&algorithm(&alg).ok()?.0)
}

/// RSASSA-PSS-params' `[2] saltLength INTEGER DEFAULT 20` (RFC 4055 §3.1).
fn pss_salt_length(params: &[u8]) -> usize {
    let salt = || -> Option<usize> {
        let seq = Reader::new(params).element().ok()?;
        let mut r = Reader::new(seq.content);
        r.optional(0xa0).ok()?;
        r.optional(0xa1).ok()?;
        let s = r.optional(0xa2).ok()??;
        let int = single(s.content, "").ok()?;
        (int.tag == INT && int.content.len() <= 4)
            .then(|| int.content.iter().fold(0usize, |acc, b| acc * 256 + usize::from(*b)))
    };
    salt().unwrap_or(20)
}

fn ecdsa(spki: &[u8], prehash: &[u8], signature: &[u8]) -> Result<bool, VerifyError> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let mut r = Reader::new(spki);
    let outer = tlv(&mut r, SEQ, "SubjectPublicKeyInfo")?;
    let mut r = Reader::new(outer.content);
    let alg = tlv(&mut r, SEQ, "SubjectPublicKeyInfo algorithm")?;
    let (_, params) = algorithm(&alg)?;
    let curve = single(&params, "").ok().filter(|t| t.tag == OID).map(|t| oid_of(t.content)).unwrap_or_default();
    let bits = tlv(&mut r, 0x03, "SubjectPublicKeyInfo key")?;
    let point = bits.content.get(1..).ok_or_else(|| err("empty EC key"))?;
    let ok = match curve.as_str() {
        "1.2.840.10045.3.1.7" => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| err("bad P-256 key"))?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| err("bad ECDSA signature"))?;
            key.verify_prehash(prehash, &sig).is_ok()
        }
        "1.3.132.0.34" => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| err("bad P-384 key"))?;
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| err("bad ECDSA signature"))?;
            key.verify_prehash(prehash, &sig).is_ok()
        }
        other => return Err(VerifyError(format!("elliptic curve {other} not supported"))),
    };
    Ok(ok)
}
