//! BER to DER, as far as CMS needs it (X.690 §8 in, §10 out).
//!
//! `openssl cms -sign -stream` and many Java and Windows tools write SignedData with
//! indefinite lengths, and attached content as a constructed OCTET STRING in chunks. This
//! rewrites such input with definite, shortest lengths and joins the chunks, and copies
//! everything else byte for byte. It does not sort SET OF elements or re-encode primitive
//! values (BOOLEAN, INTEGER…): what a signer signed (the signed attributes, the certificates)
//! was DER to begin with, or no verifier could have checked it, so its bytes stay as they are.

use super::der::{push_len, tag, DerError};

/// Deeper nesting than this is refused: real CMS stays under 20 levels.
const MAX_DEPTH: usize = 48;

/// The DER form of the single BER element `input` consists of.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut out = Vec::with_capacity(input.len());
    let used = element(input, 0, &mut out)?;
    if used != input.len() {
        return Err(DerError("data after the end of the structure"));
    }
    Ok(out)
}

/// A parsed identifier and length (X.690 §8.1.2, §8.1.3).
struct Header {
    /// The identifier octets, copied to the output as they are.
    tag_len: usize,
    constructed: bool,
    /// First identifier octet; for low tag numbers the whole tag.
    first: u8,
    /// `None` for the indefinite form.
    len: Option<usize>,
    /// Identifier and length octets.
    header_len: usize,
}

fn header(input: &[u8]) -> Result<Header, DerError> {
    let &first = input.first().ok_or(DerError("truncated: an element was expected"))?;
    let mut tag_len = 1;
    if first & 0x1f == 0x1f {
        // High tag number: base-128 octets, the last with bit 8 clear. Four are plenty.
        loop {
            let &b = input.get(tag_len).ok_or(DerError("truncated tag"))?;
            tag_len += 1;
            if b & 0x80 == 0 {
                break;
            }
            if tag_len > 5 {
                return Err(DerError("tag number too large"));
            }
        }
    }
    let &len_first = input.get(tag_len).ok_or(DerError("truncated length"))?;
    let (len, header_len) = if len_first < 0x80 {
        (Some(usize::from(len_first)), tag_len + 1)
    } else if len_first == 0x80 {
        (None, tag_len + 1)
    } else {
        let n = usize::from(len_first & 0x7f);
        if n > 4 {
            return Err(DerError("length too large"));
        }
        let bytes = input.get(tag_len + 1..tag_len + 1 + n).ok_or(DerError("truncated length"))?;
        (Some(bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))), tag_len + 1 + n)
    };
    Ok(Header { tag_len, constructed: first & 0x20 != 0, first, len, header_len })
}

/// Writes the DER form of the element at the start of `input` to `out`; returns how many
/// input bytes it took.
fn element(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, DerError> {
    if depth > MAX_DEPTH {
        return Err(DerError("nested too deeply"));
    }
    let h = header(input)?;
    let body = &input[h.header_len..];
    if !h.constructed {
        let len = h.len.ok_or(DerError("indefinite length on a primitive element"))?;
        let content = body.get(..len).ok_or(DerError("truncated: the element is longer than the data"))?;
        out.extend_from_slice(&input[..h.tag_len]);
        push_len(out, len);
        out.extend_from_slice(content);
        return Ok(h.header_len + len);
    }

    // Constructed: normalise the children, then write them under a definite length.
    let mut children = Vec::new();
    let used = match h.len {
        Some(len) => {
            let content = body.get(..len).ok_or(DerError("truncated: the element is longer than the data"))?;
            let mut pos = 0;
            while pos < content.len() {
                pos += element(&content[pos..], depth + 1, &mut children)?;
            }
            h.header_len + len
        }
        None => {
            let mut pos = 0;
            loop {
                let rest = &body[pos..];
                if rest.starts_with(&[0, 0]) {
                    break h.header_len + pos + 2;
                }
                if rest.is_empty() {
                    return Err(DerError("truncated: end-of-contents missing"));
                }
                pos += element(rest, depth + 1, &mut children)?;
            }
        }
    };

    if h.tag_len == 1 && h.first == (tag::OCTET_STRING | 0x20) {
        // A chunked OCTET STRING becomes one primitive OCTET STRING (X.690 §10.2).
        let joined = octet_string_chunks(&children)?;
        out.push(tag::OCTET_STRING);
        push_len(out, joined.len());
        out.extend_from_slice(&joined);
    } else if h.first & 0xc0 == 0 && is_string_type(h.first & 0x1f) {
        return Err(DerError("constructed string types other than OCTET STRING are not supported"));
    } else {
        out.extend_from_slice(&input[..h.tag_len]);
        push_len(out, children.len());
        out.extend_from_slice(&children);
    }
    Ok(used)
}

/// The content of already normalised OCTET STRING chunks, joined.
fn octet_string_chunks(children: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut reader = super::der::Reader::new(children);
    let mut joined = Vec::with_capacity(children.len());
    while !reader.is_empty() {
        let chunk = reader.read()?;
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
