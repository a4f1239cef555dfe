//! `ds:X509IssuerName` and `ds:X509SerialNumber` (XML Signature 1.1 §4.5.4.1): the issuer
//! as an RFC 2253 string, the serial number in decimal.
//!
//! RFC 2253 §2: RDNs last to first, separated by `,`; the values of a multi-valued RDN joined
//! by `+`; the types of §2.3 by keyword, others by dotted OID with the value as `#` and the
//! hex of its BER encoding (§2.4), which is also what Java's `X500Principal.getName(RFC2253)`
//! writes, and what verifiers parse back.

use crate::asn1::{self, Reader};
use crate::cms::der::{self, tag, DerError};

/// RFC 2253 §2.3 keywords.
const KEYWORDS: &[(&[u128], &str)] = &[
    (&[2, 5, 4, 3], "CN"),
    (&[2, 5, 4, 7], "L"),
    (&[2, 5, 4, 8], "ST"),
    (&[2, 5, 4, 10], "O"),
    (&[2, 5, 4, 11], "OU"),
    (&[2, 5, 4, 6], "C"),
    (&[2, 5, 4, 9], "STREET"),
    (&[0, 9, 2342, 19_200_300, 100, 1, 25], "DC"),
    (&[0, 9, 2342, 19_200_300, 100, 1, 1], "UID"),
];

/// The RFC 2253 string of a DER `Name`.
pub(crate) fn rfc2253(name: &[u8]) -> Result<String, DerError> {
    let seq = asn1::single(name, "data after the name")?;
    if seq.tag != tag::SEQUENCE {
        return Err(DerError("a Name is a SEQUENCE"));
    }
    let mut rdns = Vec::new();
    for rdn in Reader::new(seq.content).elements()? {
        if rdn.tag != tag::SET {
            return Err(DerError("an RDN is a SET"));
        }
        let mut values = Vec::new();
        for ava in Reader::new(rdn.content).elements()? {
            let mut r = Reader::new(ava.content);
            let oid = r.expect(tag::OID, "attribute without type")?;
            let value = r.element()?;
            r.finish("attribute with more than a type and a value")?;
            values.push(type_and_value(oid.raw, oid.content, value.tag, value.content, value.raw)?);
        }
        rdns.push(values.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

fn type_and_value(
    oid_der: &[u8],
    oid_content: &[u8],
    value_tag: u8,
    value: &[u8],
    value_der: &[u8],
) -> Result<String, DerError> {
    let keyword = KEYWORDS.iter().find(|(arcs, _)| der::oid_arcs(arcs) == oid_der).map(|(_, k)| *k);
    match (keyword, decode_string(value_tag, value)) {
        (Some(keyword), Some(text)) => Ok(format!("{keyword}={}", escape(&text))),
        (keyword, _) => {
            let attribute_type = match keyword {
                Some(k) => k.to_string(),
                None => dotted(oid_content)?,
            };
            Ok(format!("{attribute_type}=#{}", hex::encode(value_der)))
        }
    }
}

/// The text of the string types names use (X.520 DirectoryString and friends).
fn decode_string(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, IA5String, VisibleString
        0x0c | 0x12 | 0x13 | 0x16 | 0x1a => String::from_utf8(value.to_vec()).ok(),
        // TeletexString: in practice Latin-1.
        0x14 => Some(value.iter().map(|b| char::from(*b)).collect()),
        // BMPString: UTF-16BE.
        0x1e if value.len() % 2 == 0 => {
            char::decode_utf16(value.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])))
                .collect::<Result<_, _>>()
                .ok()
        }
        // UniversalString: UTF-32BE.
        0x1c if value.len() % 4 == 0 => {
            value.chunks_exact(4).map(|q| char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]]))).collect()
        }
        _ => None,
    }
}

/// RFC 2253 §2.4 escaping.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Dotted form of OID content octets (X.690 §8.19).
fn dotted(content: &[u8]) -> Result<String, DerError> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut current: u128 = 0;
    for (i, b) in content.iter().enumerate() {
        if current > u128::MAX >> 7 {
            return Err(DerError("object identifier arc too large"));
        }
        current = (current << 7) | u128::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(current);
            current = 0;
        } else if i + 1 == content.len() {
            return Err(DerError("truncated object identifier"));
        }
    }
    let Some((&first, rest)) = arcs.split_first() else { return Err(DerError("empty object identifier")) };
    let (a, b) = if first < 80 { (first / 40, first % 40) } else { (2, first - 80) };
    let mut parts = vec![a.to_string(), b.to_string()];
    parts.extend(rest.iter().map(u128::to_string));
    Ok(parts.join("."))
}

/// The serial number INTEGER's content octets (two's complement) in decimal.
pub(crate) fn serial_decimal(content: &[u8]) -> String {
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement: invert and add one.
        let mut m: Vec<u8> = content.iter().map(|b| !b).collect();
        for byte in m.iter_mut().rev() {
            let (v, carry) = byte.overflowing_add(1);
            *byte = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        content.to_vec()
    };
    let mut num: Vec<u8> = magnitude.into_iter().skip_while(|b| *b == 0).collect();
    let mut digits = Vec::new();
    while !num.is_empty() {
        let mut remainder = 0u32;
        let mut quotient = Vec::with_capacity(num.len());
        for b in &num {
            let cur = (remainder << 8) | u32::from(*b);
            if !(quotient.is_empty() && cur / 10 == 0) {
                quotient.push((cur / 10) as u8);
            }
            remainder = cur % 10;
        }
        digits.push(char::from(b'0' + remainder as u8));
        num = quotient;
    }
    if digits.is_empty() {
        digits.push('0');
    }
    let sign = if negative { "-" } else { "" };
    format!("{sign}{}", digits.iter().rev().collect::<String>())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cms::der::{sequence, set_of, tlv};

    fn ava(oid: &[u128], tag: u8, value: &[u8]) -> Vec<u8> {
        set_of(tag::SET, vec![sequence(&[&der::oid_arcs(oid), &tlv(tag, value)])])
    }

    #[test]
    fn reversed_escaped_and_unknown_types_in_hex() {
        let name = sequence(&[
            &ava(&[2, 5, 4, 6], 0x13, b"FR"),
            &ava(&[2, 5, 4, 10], 0x0c, "Mairie de Testville, Hôtel de ville".as_bytes()),
            &ava(&[2, 5, 4, 97], 0x0c, b"NTRFR-123"),
            &ava(&[1, 2, 840, 113_549, 1, 9, 1], 0x16, b"a@b.fr"),
            &ava(&[2, 5, 4, 3], 0x0c, b"#1 <CA> "),
        ]);
        assert_eq!(
            rfc2253(&name).unwrap(),
            "CN=\\#1 \\<CA\\>\\ ,1.2.840.113549.1.9.1=#16066140622e6672,2.5.4.97=#0c094e545246522d313233,\
             O=Mairie de Testville\\, Hôtel de ville,C=FR"
        );
    }

    #[test]
    fn multi_valued_rdn() {
        let rdn = set_of(
            tag::SET,
            vec![
                sequence(&[&der::oid_arcs(&[2, 5, 4, 3]), &tlv(0x0c, b"A")]),
                sequence(&[&der::oid_arcs(&[2, 5, 4, 11]), &tlv(0x0c, b"B")]),
            ],
        );
        assert_eq!(rfc2253(&sequence(&[&rdn])).unwrap(), "CN=A+OU=B");
    }

    #[test]
    fn string_types() {
        assert_eq!(decode_string(0x1e, &[0, b'A', 0, 0xe9]).as_deref(), Some("Aé"));
        assert_eq!(decode_string(0x14, &[b'A', 0xe9]).as_deref(), Some("Aé"));
        assert_eq!(decode_string(0x1c, &[0, 0, 0, b'A']).as_deref(), Some("A"));
        assert_eq!(decode_string(0x0c, &[0xff]), None);
    }

    #[test]
    fn garbage_names_are_errors() {
        assert!(rfc2253(&[0x30, 0x03, 0x31, 0x01]).is_err());
        assert!(rfc2253(&[0x31, 0x00]).is_err());
        assert!(rfc2253(&[]).is_err());
    }

    #[test]
    fn serials() {
        assert_eq!(serial_decimal(&[0x00]), "0");
        assert_eq!(serial_decimal(&[0x01, 0x00]), "256");
        assert_eq!(serial_decimal(&[0x00, 0xc5, 0xdb, 0xdb, 0x0c, 0x30, 0x11, 0xf2, 0x2d]), "14257229890764010029");
        assert_eq!(serial_decimal(&[0xff]), "-1");
        assert_eq!(serial_decimal(&[0x80]), "-128");
        assert_eq!(serial_decimal(&[0xff, 0x7f]), "-129");
    }

    #[test]
    fn dotted_oids() {
        assert_eq!(dotted(&[0x55, 0x04, 0x61]).unwrap(), "2.5.4.97");
        assert_eq!(dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 9, 1]).unwrap(), "1.2.840.113549.1.9.1");
        assert!(dotted(&[0x86]).is_err());
        assert!(dotted(&[]).is_err());
    }
}
