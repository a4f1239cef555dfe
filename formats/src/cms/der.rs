//! A minimal DER writer (X.690 §8, §10, §11).
//!
//! CMS here is assembled from pieces, most of them copied verbatim: the certificates, the
//! signer's issuer name and serial, and in a co-signature every byte of the signers already
//! there. Nothing anyone signed is ever decoded into types and re-encoded, so nothing can be
//! re-encoded differently. What remains to write is a handful of SEQUENCEs, SETs and
//! primitives, which this module does. Reading is [`crate::asn1`]'s: it walks DER (as
//! [`super::ber::to_der`] leaves it) without copying.

use crate::asn1::{Codec, Header, Length};
use std::fmt;

/// Universal and context-specific tags used by CMS (X.680 §8.4, RFC 5652).
pub(crate) mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const IA5_STRING: u8 = 0x16;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    /// `[n]` constructed (EXPLICIT, or IMPLICIT over a constructed type).
    pub const fn context(n: u8) -> u8 {
        0xa0 | n
    }
}

/// Why bytes are not the DER (or BER) that was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerError(pub &'static str);

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DerError {}

// --- Writing -------------------------------------------------------------------------------

/// Appends a definite length in its shortest form (X.690 §10.1).
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    Length::Definite(len as u64).encode(out);
}

/// One element: `tag` (one identifier octet), length, `content`.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 10);
    Header::definite(tag, content.len()).encode(&mut out);
    out.extend_from_slice(content);
    out
}

/// An element whose content is the concatenation of already encoded `parts`.
pub(crate) fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    constructed(tag::SEQUENCE, parts)
}

/// `SET OF` (or any constructed `tag` holding one) with its elements in DER order: ascending
/// as octet strings, a shorter one padded with zeros at its end (X.690 §11.6).
pub(crate) fn set_of(tag: u8, mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort_by(|a, b| der_set_order(a, b));
    let parts: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    constructed(tag, &parts)
}

fn der_set_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let len = a.len().max(b.len());
    let pad = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    (0..len).map(|i| pad(a, i).cmp(&pad(b, i))).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
}

pub(crate) fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, bytes)
}

pub(crate) fn null() -> Vec<u8> {
    vec![tag::NULL, 0]
}

/// The content of a DER INTEGER holding the unsigned big-endian number `bytes` (not empty):
/// leading zero bytes dropped (one kept for zero), a 0x00 put first when the high bit is set
/// (INTEGER is signed). ECDSA's `r` and `s`, a time-stamp request's nonce.
pub(crate) fn unsigned_integer_content(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    let trimmed = &bytes[start..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    content
}

/// A non-negative INTEGER small enough for a version number or a salt length.
pub(crate) fn small_integer(value: u8) -> Vec<u8> {
    if value & 0x80 == 0 {
        vec![tag::INTEGER, 1, value]
    } else {
        vec![tag::INTEGER, 2, 0, value]
    }
}

/// OBJECT IDENTIFIER from its dotted form (X.690 §8.19), for OIDs that come from outside
/// (a signature policy). Arcs may exceed 64 bits (X.667 UUID arcs under `2.25`), up to 128.
pub(crate) fn oid(dotted: &str) -> Result<Vec<u8>, DerError> {
    const BAD: DerError = DerError("not a dotted object identifier");
    let arcs: Vec<u128> = dotted
        .split('.')
        .map(|a| {
            if a.is_empty() || a.len() > 39 || !a.bytes().all(|b| b.is_ascii_digit()) {
                Err(BAD)
            } else {
                a.parse().map_err(|_| BAD)
            }
        })
        .collect::<Result<_, _>>()?;
    match arcs.as_slice() {
        [first, second, ..] if *first <= 2 && (*first == 2 || *second < 40) && *second <= u128::MAX - 80 => {
            Ok(oid_arcs(&arcs))
        }
        _ => Err(BAD),
    }
}

/// OBJECT IDENTIFIER from its arcs, for the OIDs this crate knows. The first two arcs must be
/// valid (`0..=2`, then below 40 unless the first is 2).
pub(crate) fn oid_arcs(arcs: &[u128]) -> Vec<u8> {
    let mut content = Vec::new();
    let (head, rest) = match arcs {
        [first, second, rest @ ..] => (first.saturating_mul(40).saturating_add(*second), rest),
        _ => return tlv(tag::OID, &content),
    };
    for arc in std::iter::once(head).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            groups.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        content.extend(groups.iter().rev());
    }
    tlv(tag::OID, &content)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_shortest() {
        assert_eq!(tlv(0x04, &[0; 3])[..2], [0x04, 3]);
        assert_eq!(tlv(0x04, &[0; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(tlv(0x04, &[0; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn oids() {
        // sha256 and id-signedData, from RFC 5754 and RFC 5652.
        assert_eq!(oid("2.16.840.1.101.3.4.2.1").unwrap(), [6, 9, 0x60, 0x86, 0x48, 1, 0x65, 3, 4, 2, 1]);
        assert_eq!(oid("1.2.840.113549.1.7.2").unwrap(), [6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 7, 2]);
        // A UUID arc (X.667) does not fit 64 bits.
        assert!(oid("2.25.329800735698586629295641978511506172918").is_ok());
        for bad in ["", "1", "1.", "3.1", "1.40", "1.2.x", "1..2", "-1.2"] {
            assert!(oid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_order_pads_with_zeros() {
        let set = set_of(tag::SET, vec![vec![2, 1, 5], vec![2, 1, 1], vec![1, 1, 0]]);
        assert_eq!(set, [0x31, 9, 1, 1, 0, 2, 1, 1, 2, 1, 5]);
    }

    #[test]
    fn read_back() {
        use crate::asn1::{single, Reader};
        let seq = sequence(&[&small_integer(1), &octet_string(&[0; 200])]);
        let top = single(&seq, "trailing").unwrap();
        assert_eq!(top.tag, tag::SEQUENCE);
        let inner = Reader::new(top.content).elements().unwrap();
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[1].content.len(), 200);

        assert!(single(&[0x30, 0x80, 0, 0], "x").is_err(), "indefinite");
        assert!(single(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], "x").is_err(), "long form for a short length");
        assert!(single(&[0x04, 0x05, 1], "x").is_err(), "truncated");
        assert!(single(&[0x04, 0x00, 0x00], "x").is_err(), "trailing");
        assert!(single(&[0x04, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1], "x").is_err(), "huge length");
        assert!(single(&[], "x").is_err());
    }
}
