//! RFC 3161 time-stamps for the signature-time-stamp attribute of a CAdES signature
//! (`id-aa-signatureTimeStampToken`, RFC 3161 Appendix A; the B-T level of ETSI EN 319 122-1
//! §5.3 and EN 319 142-1 §6.3 PAdES-B-T).
//!
//! The message imprint is the SHA-256 of the SignerInfo's `signature` value (its content
//! octets), so the time-stamp authority learns that hash and nothing else. [`request`] writes
//! the `TimeStampReq` (version 1, certReq true, the caller's random nonce); [`token`] reads the
//! authority's `TimeStampResp` and returns the `TimeStampToken` to add as an unsigned
//! attribute, once it checked that the status grants it, that it is a SignedData over a
//! TSTInfo, and that the TSTInfo's imprint and nonce are those of the request. The response is
//! untrusted bytes from the network: it is read with `asn1.rs` under its limits (BER is
//! accepted and rewritten as DER first), and the `timestamp_response` fuzz target drives it.
//!
//! The authority's signature over the TSTInfo is not checked here (the core carries no
//! signature verification): a verifier checks it, and the nonce and imprint checks make sure
//! this token was made for this request and this signature.

use super::algorithm::{self, ID_SIGNED_DATA};
use super::der::{self, oid_arcs, sequence, tag};
use super::signed_data::SignedData;
use crate::asn1::{self, Reader};
use crate::hash::digest;
use paraphe_protocol::HashAlgorithm;
use std::fmt;

/// `id-ct-TSTInfo` (RFC 3161 §2.4.2).
pub(crate) const ID_CT_TST_INFO: &[u128] = &[1, 2, 840, 113_549, 1, 9, 16, 1, 4];
/// `id-aa-signatureTimeStampToken` (RFC 3161 Appendix A).
pub(crate) const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: &[u128] = &[1, 2, 840, 113_549, 1, 9, 16, 2, 14];

/// The imprint's hash function.
pub const IMPRINT_HASH: HashAlgorithm = HashAlgorithm::Sha256;
/// Nonce lengths accepted from the caller (bytes of randomness).
pub const NONCE_LENGTHS: std::ops::RangeInclusive<usize> = 8..=32;
/// The largest response read (a token with its authority's chain is a few KiB).
pub const MAX_RESPONSE: usize = 64 * 1024;

/// Why a time-stamp response is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimestampError {
    /// The nonce given is not 8 to 32 bytes.
    Nonce,
    /// The response is not a DER or BER `TimeStampResp`, or ends too early.
    Malformed(&'static str),
    /// The response is larger than [`MAX_RESPONSE`].
    TooLarge(usize),
    /// The authority did not grant the time-stamp: its `PKIStatus`, the text it gave, and the
    /// failure bits (RFC 3161 §2.4.2 `PKIFailureInfo`: 0 badAlg, 2 badRequest, 5 badDataFormat,
    /// 14 timeNotAvailable, 15 unacceptedPolicy, 16 unacceptedExtension, 17
    /// addInfoNotAvailable, 25 systemFailure).
    Rejected { status: u64, text: String, fail_info: Vec<u32> },
    /// Granted, but no token.
    NoToken,
    /// The token is not a SignedData over a TSTInfo.
    NotTstInfo(&'static str),
    /// The TSTInfo time-stamps another hash than the request's.
    ImprintMismatch,
    /// The TSTInfo's nonce is not the request's (or is missing).
    NonceMismatch,
    /// The token does not fit in the room reserved for it (bytes).
    NoRoom { token: usize, room: usize },
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nonce => f.write_str("a time-stamp nonce has 8 to 32 bytes"),
            Self::Malformed(why) => write!(f, "the time-stamp authority's answer is not an RFC 3161 response: {why}"),
            Self::TooLarge(n) => write!(f, "the time-stamp authority's answer is too large ({n} bytes)"),
            Self::Rejected { status, text, fail_info } => {
                write!(f, "the time-stamp authority refused (status {status}")?;
                if !fail_info.is_empty() {
                    let bits: Vec<String> = fail_info.iter().map(u32::to_string).collect();
                    write!(f, ", failure {}", bits.join(","))?;
                }
                if !text.is_empty() {
                    write!(f, ": {text}")?;
                }
                f.write_str(")")
            }
            Self::NoToken => f.write_str("the time-stamp authority granted the request but sent no token"),
            Self::NotTstInfo(why) => write!(f, "the time-stamp token is not a signed TSTInfo: {why}"),
            Self::ImprintMismatch => f.write_str("the time-stamp token is for another signature (message imprint)"),
            Self::NonceMismatch => f.write_str("the time-stamp token does not answer this request (nonce)"),
            Self::NoRoom { token, room } => {
                write!(f, "the time-stamp token has {token} bytes, the signature has room for {room}")
            }
        }
    }
}

impl std::error::Error for TimestampError {}

fn malformed(e: impl Into<der::DerError>) -> TimestampError {
    TimestampError::Malformed(e.into().0)
}

/// The DER INTEGER content of a nonce (8 to 32 bytes), read as a positive integer.
fn nonce_integer(nonce: &[u8]) -> Result<Vec<u8>, TimestampError> {
    if !NONCE_LENGTHS.contains(&nonce.len()) {
        return Err(TimestampError::Nonce);
    }
    Ok(der::unsigned_integer_content(nonce))
}

/// `MessageImprint` over `message`.
fn message_imprint(message: &[u8]) -> Vec<u8> {
    sequence(&[&algorithm::digest_algorithm(IMPRINT_HASH), &der::octet_string(&digest(IMPRINT_HASH, message))])
}

/// The DER `TimeStampReq` (RFC 3161 §2.4.1) for `message` (the signature value): version 1,
/// the SHA-256 imprint, no policy, `nonce` (8 to 32 random bytes, read as a positive
/// integer), certReq true.
pub fn request(message: &[u8], nonce: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let nonce = der::tlv(tag::INTEGER, &nonce_integer(nonce)?);
    Ok(sequence(&[&der::small_integer(1), &message_imprint(message), &nonce, &[0x01, 0x01, 0xff]]))
}

/// The `TimeStampToken` (DER `ContentInfo`) of a `TimeStampResp`, checked against the request
/// [`request`] made for `message` with `nonce`.
pub fn token(response: &[u8], message: &[u8], nonce: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let nonce = nonce_integer(nonce)?;
    if response.len() > MAX_RESPONSE {
        return Err(TimestampError::TooLarge(response.len()));
    }
    let response = super::ber::to_der(response).map_err(malformed)?;
    let resp = asn1::single(&response, "data after the TimeStampResp").map_err(malformed)?;
    if resp.tag != tag::SEQUENCE {
        return Err(TimestampError::Malformed("not a SEQUENCE"));
    }
    let mut r = Reader::new(resp.content);
    let status_info = r.expect(tag::SEQUENCE, "no PKIStatusInfo").map_err(malformed)?;
    let token = r.optional(tag::SEQUENCE).map_err(malformed)?;
    r.finish("data after the TimeStampToken").map_err(malformed)?;

    let mut s = Reader::new(status_info.content);
    let status = s.expect(tag::INTEGER, "no PKIStatus").map_err(malformed)?;
    let status = match status.content {
        [v] if *v < 0x80 => u64::from(*v),
        _ => return Err(TimestampError::Malformed("PKIStatus out of range")),
    };
    let text = match s.optional(tag::SEQUENCE).map_err(malformed)? {
        Some(texts) => Reader::new(texts.content)
            .elements()
            .map_err(malformed)?
            .iter()
            .map(|t| String::from_utf8_lossy(t.content).chars().filter(|c| !c.is_control()).take(200).collect())
            .collect::<Vec<String>>()
            .join(" "),
        None => String::new(),
    };
    let fail_info = match s.optional(0x03).map_err(malformed)? {
        Some(bits) => bit_numbers(bits.content)?,
        None => Vec::new(),
    };
    s.finish("data after the PKIStatusInfo").map_err(malformed)?;
    // granted (0) and grantedWithMods (1) carry a token; the others refuse (RFC 3161 §2.4.2).
    if status > 1 {
        return Err(TimestampError::Rejected { status, text, fail_info });
    }
    let token = token.ok_or(TimestampError::NoToken)?;
    check_token(token.raw, message, &nonce)?;
    Ok(token.raw.to_vec())
}

/// The numbers of the bits set in a BIT STRING's content.
fn bit_numbers(content: &[u8]) -> Result<Vec<u32>, TimestampError> {
    let Some((&unused, bits)) = content.split_first() else {
        return Err(TimestampError::Malformed("empty failure information"));
    };
    if unused > 7 || bits.len() > 8 {
        return Err(TimestampError::Malformed("failure information out of range"));
    }
    let mut out = Vec::new();
    for (i, byte) in bits.iter().enumerate() {
        for bit in 0..8u32 {
            if byte & (0x80 >> bit) != 0 {
                out.push(i as u32 * 8 + bit);
            }
        }
    }
    Ok(out)
}

/// Checks a `TimeStampToken`: a SignedData with signers, over an id-ct-TSTInfo whose imprint is
/// the SHA-256 of `message` and whose nonce is `nonce` (DER INTEGER content).
fn check_token(token: &[u8], message: &[u8], nonce: &[u8]) -> Result<(), TimestampError> {
    let not = TimestampError::NotTstInfo;
    let ci = asn1::single(token, "data after the token").map_err(|_| not("not DER"))?;
    let mut ci_reader = Reader::new(ci.content);
    match ci_reader.expect(tag::OID, "no content type") {
        Ok(oid) if oid.raw == oid_arcs(ID_SIGNED_DATA).as_slice() => {}
        _ => return Err(not("not a SignedData")),
    }
    let signed = SignedData::parse(token).map_err(|e| not(e.0))?;
    if signed.signer_infos.is_empty() {
        return Err(not("no signer"));
    }
    let encap = asn1::single(&signed.encap_content_info, "data after encapContentInfo")
        .map_err(|e| not(der::DerError::from(e).0))?;
    let mut e = Reader::new(encap.content);
    let content_type = e.expect(tag::OID, "no eContentType").map_err(|e| not(der::DerError::from(e).0))?;
    if content_type.raw != oid_arcs(ID_CT_TST_INFO).as_slice() {
        return Err(not("the content is not a TSTInfo"));
    }
    let explicit = e.expect(tag::context(0), "no eContent").map_err(|_| not("no eContent"))?;
    e.finish("data after eContent").map_err(|_| not("data after eContent"))?;
    let octets = asn1::single(explicit.content, "data after eContent").map_err(|_| not("eContent"))?;
    if octets.tag != tag::OCTET_STRING {
        return Err(not("eContent is not an OCTET STRING"));
    }
    let tst = asn1::single(octets.content, "data after the TSTInfo").map_err(|_| not("TSTInfo is not DER"))?;
    if tst.tag != tag::SEQUENCE {
        return Err(not("TSTInfo is not a SEQUENCE"));
    }
    let mut t = Reader::new(tst.content);
    let fields = || not("TSTInfo fields");
    match t.expect(tag::INTEGER, "version").map_err(|_| fields())?.content {
        [1] => {}
        _ => return Err(not("TSTInfo version is not 1")),
    }
    t.expect(tag::OID, "policy").map_err(|_| fields())?;
    let imprint = t.expect(tag::SEQUENCE, "messageImprint").map_err(|_| fields())?;
    if !same_imprint(imprint.content, message) {
        return Err(TimestampError::ImprintMismatch);
    }
    t.expect(tag::INTEGER, "serialNumber").map_err(|_| fields())?;
    t.expect(tag::GENERALIZED_TIME, "genTime").map_err(|_| fields())?;
    t.optional(tag::SEQUENCE).map_err(|_| fields())?; // accuracy
    t.optional(0x01).map_err(|_| fields())?; // ordering
    match t.optional(tag::INTEGER).map_err(|_| fields())? {
        Some(n) if n.content == nonce => Ok(()),
        _ => Err(TimestampError::NonceMismatch),
    }
}

/// Whether a `MessageImprint`'s content is SHA-256 (parameters absent or NULL) of `message`.
fn same_imprint(content: &[u8], message: &[u8]) -> bool {
    let mut r = Reader::new(content);
    let (Ok(alg), Ok(hashed)) =
        (r.expect(tag::SEQUENCE, "hashAlgorithm"), r.expect(tag::OCTET_STRING, "hashedMessage"))
    else {
        return false;
    };
    let mut a = Reader::new(alg.content);
    let oid_ok = a.expect(tag::OID, "algorithm").is_ok_and(|o| o.raw == algorithm::hash_oid_der(IMPRINT_HASH));
    let params_ok = a.is_empty() || (a.rest() == [tag::NULL, 0]);
    r.is_empty() && oid_ok && params_ok && hashed.content == digest(IMPRINT_HASH, message).as_slice()
}

/// The `unsignedAttrs [1] IMPLICIT` element holding `token` as the signature-time-stamp.
pub(crate) fn unsigned_attributes(token: &[u8]) -> Vec<u8> {
    let attribute = sequence(&[&oid_arcs(ID_AA_SIGNATURE_TIME_STAMP_TOKEN), &der::constructed(tag::SET, &[token])]);
    der::constructed(tag::context(1), &[&attribute])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nonce_as_positive_integer() {
        assert_eq!(nonce_integer(&[0x80, 0, 0, 0, 0, 0, 0, 1]).unwrap(), [0, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(nonce_integer(&[0, 0, 0x7f, 1, 2, 3, 4, 5]).unwrap(), [0x7f, 1, 2, 3, 4, 5]);
        assert_eq!(nonce_integer(&[0; 8]).unwrap(), [0]);
        assert_eq!(nonce_integer(&[1; 7]), Err(TimestampError::Nonce));
        assert_eq!(nonce_integer(&[1; 33]), Err(TimestampError::Nonce));
    }

    #[test]
    fn failure_bits() {
        assert_eq!(bit_numbers(&[6, 0x80]).unwrap(), [0]);
        assert_eq!(bit_numbers(&[7, 0, 0, 0x80]).unwrap(), [16]);
        assert_eq!(bit_numbers(&[1, 0x20, 0x02]).unwrap(), [2, 14]);
        assert!(bit_numbers(&[]).is_err());
    }
}
