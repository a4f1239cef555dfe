//! BER to DER, as far as CMS needs it (X.690 §8 in, §10 out).
//!
//! `openssl cms -sign -stream` and many Java and Windows tools write SignedData with
//! indefinite lengths, and attached content as a constructed OCTET STRING in chunks. This
//! rewrites such input with definite, shortest lengths and joins the chunks, and copies
//! everything else byte for byte. It does not sort SET OF elements or re-encode primitive
//! values (BOOLEAN, INTEGER…): what a signer signed (the signed attributes, the certificates)
//! was DER to begin with, or no verifier could have checked it, so its bytes stay as they are.

use super::der::{push_len, tag, DerError};
use crate::asn1::{check_depth, Codec, Header, Length, Reader};

/// The DER form of the single BER element `input` consists of.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut out = Vec::with_capacity(input.len());
    let used = element(input, 0, &mut out)?;
    if used != input.len() {
        return Err(DerError("data after the end of the structure"));
    }
    Ok(out)
}

const TRUNCATED: DerError = DerError("truncated: the element is longer than the data");

/// Writes the DER form of the element at the start of `input` to `out`; returns how many
/// input bytes it took.
fn element(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, DerError> {
    check_depth(depth)?;
    let h = Header::read(&mut Reader::new(input))?;
    let identifier = &input[..h.tag_octets];
    let body = &input[h.size()..];
    // The header reader refuses an indefinite length on a primitive element.
    let definite = match h.length {
        Length::Definite(len) => Some(usize::try_from(len).map_err(|_| TRUNCATED)?),
        Length::Indefinite => None,
    };
    if !h.constructed() {
        let len = definite.unwrap_or_default();
        let content = body.get(..len).ok_or(TRUNCATED)?;
        out.extend_from_slice(identifier);
        push_len(out, len);
        out.extend_from_slice(content);
        return Ok(h.size() + len);
    }

    // Constructed: normalise the children, then write them under a definite length.
    let mut children = Vec::new();
    let used = match definite {
        Some(len) => {
            let content = body.get(..len).ok_or(TRUNCATED)?;
            let mut pos = 0;
            while pos < content.len() {
                pos += element(&content[pos..], depth + 1, &mut children)?;
            }
            h.size() + len
        }
        None => {
            let mut pos = 0;
            loop {
                let rest = &body[pos..];
                if rest.starts_with(&[0, 0]) {
                    break h.size() + pos + 2;
                }
                if rest.is_empty() {
                    return Err(DerError("truncated: end-of-contents missing"));
                }
                pos += element(rest, depth + 1, &mut children)?;
            }
        }
    };

    if h.tag() == Some(tag::OCTET_STRING | 0x20) {
        // A chunked OCTET STRING becomes one primitive OCTET STRING (X.690 §10.2).
        let joined = octet_string_chunks(&children)?;
        out.push(tag::OCTET_STRING);
        push_len(out, joined.len());
        out.extend_from_slice(&joined);
    } else if h.first & 0xc0 == 0 && is_string_type(h.first & 0x1f) {
        return Err(DerError("constructed string types other than OCTET STRING are not supported"));
    } else {
        out.extend_from_slice(identifier);
        push_len(out, children.len());
        out.extend_from_slice(&children);
    }
    Ok(used)
}

/// The content of already normalised OCTET STRING chunks, joined.
fn octet_string_chunks(children: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut reader = Reader::new(children);
    let mut joined = Vec::with_capacity(children.len());
    while !reader.is_empty() {
        let chunk = reader.element()?;
        if chunk.tag != tag::OCTET_STRING {
            return Err(DerError("a chunk of an OCTET STRING is not an OCTET STRING"));
        }
        joined.extend_from_slice(chunk.content);
    }
    Ok(joined)
}

/// Universal string types that BER allows in constructed form (X.690 §8.21).
fn is_string_type(number: u8) -> bool {
    matches!(number, 3 | 12 | 18..=22 | 25..=28 | 30)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn der_is_unchanged() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xaa];
        assert_eq!(to_der(&der).unwrap(), der);
    }

    #[test]
    fn indefinite_lengths_become_definite() {
        // SEQUENCE (indefinite) { [0] (indefinite) { INTEGER 1 } }
        let ber = [0x30, 0x80, 0xa0, 0x80, 0x02, 0x01, 0x01, 0, 0, 0, 0];
        assert_eq!(to_der(&ber).unwrap(), [0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x01]);
    }

    #[test]
    fn chunked_octet_strings_are_joined() {
        // [0] { OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let ber = [0xa0, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0];
        assert_eq!(to_der(&ber).unwrap(), [0xa0, 0x05, 0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn long_form_lengths_are_shortened() {
        assert_eq!(to_der(&[0x04, 0x82, 0x00, 0x01, 0xff]).unwrap(), [0x04, 0x01, 0xff]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x80, 0x02, 0x01],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x05, 0x02, 0x01],
            &[0x04, 0x85, 1, 1, 1, 1, 1],
            &[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00],
            &[0x23, 0x80, 0x03, 0x01, 0x00, 0, 0],
            &[0x24, 0x03, 0x02, 0x01, 0x00],
            &[0x04, 0x00, 0x00],
        ] {
            assert!(to_der(bad).is_err(), "{bad:02x?}");
        }
        // Deep nesting is refused rather than overflowing the stack.
        let mut deep = [0x30, 0x80].repeat(10_000);
        deep.extend(vec![0u8; 20_000]);
        assert!(to_der(&deep).is_err());
    }
}
